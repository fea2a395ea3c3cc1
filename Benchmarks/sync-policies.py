#!/usr/bin/env python3
"""What "acknowledged means synced" costs: POST /api/v1/runs throughput of `stserver serve` under
each --sync policy, from one client and from several at once.

  sync-policies.py STSERVER [--posts N] [--runs-per-post R] [--clients 1,8]

For each policy (always, 1s, never) and each client count, a fresh server on 127.0.0.1 takes N
POSTs of R runs each (30 hops of three probes, every run a new one), the clients each on one
keep-alive connection, every POST waiting for its answer before the next. Prints runs/s and,
for `always`, how many WAL syncs group commit ran (smoketrace_wal_group_syncs_total): fewer
syncs than POSTs means batches shared a sync.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

PORT = 18490
TOKEN = "sync-policies-token"


def run_document(target, start, hops=30):
    probes = []
    for ttl in range(1, hops + 1):
        for p in range(3):
            probes.append({"ttl": ttl, "address": "10.%d.%d.%d" % (ttl, p, 1), "rtt_us": ttl * 1000 + p * 37})
    t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    return {"target": target, "vantage": "bench", "method": "udp-paris", "start": t,
            "destination": "10.%d.0.1" % hops, "probes": probes}


def bodies(client, posts, runs_per_post, base):
    """The POST bodies of one client: its own targets, one run a minute each."""
    out = []
    for i in range(posts):
        docs = [run_document("c%d/t%d" % (client, r), base + i * 60) for r in range(runs_per_post)]
        out.append(json.dumps(docs).encode())
    return out


def metric(name):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def measure(stserver, policy, clients, posts, runs_per_post):
    work = tempfile.mkdtemp(prefix="sync-policies-")
    try:
        with open(os.path.join(work, "tokens"), "w") as f:
            f.write(TOKEN + "\n")
        srv = subprocess.Popen([stserver, "serve", "--data", os.path.join(work, "data"), "--listen", "127.0.0.1:%d" % PORT,
                                "--token-file", os.path.join(work, "tokens"), "--sync", policy],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = srv.stdout.readline().decode()
        if not line.startswith("serving "):
            raise SystemExit("stserver serve did not start: %r" % line)
        try:
            per_client = [bodies(c, posts // clients, runs_per_post, 1_795_284_000) for c in range(clients)]
            failures = []

            def client(mine):
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
                headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
                for body in mine:
                    conn.request("POST", "/api/v1/runs", body=body, headers=headers)
                    r = conn.getresponse()
                    answer = r.read()
                    if r.status != 200 or json.loads(answer)["runs"] != runs_per_post:
                        failures.append((r.status, answer[:200]))
                        return

            threads = [threading.Thread(target=client, args=(b,)) for b in per_client]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
            if failures:
                raise SystemExit("a POST failed: %r" % (failures[0],))
            syncs = metric("smoketrace_wal_group_syncs_total")
            total_posts = len(per_client) * (posts // clients)
            return total_posts * runs_per_post / elapsed, total_posts, syncs
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait(60)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stserver")
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--runs-per-post", type=int, default=10)
    ap.add_argument("--clients", default="1,8")
    a = ap.parse_args()
    print("| --sync | clients | POSTs | runs/s | WAL syncs (group commit) |")
    print("|---|---|---|---|---|")
    for clients in [int(c) for c in a.clients.split(",")]:
        for policy in ["always", "1s", "never"]:
            rate, total, syncs = measure(a.stserver, policy, clients, a.posts, a.runs_per_post)
            shown = "%d" % syncs if policy == "always" else "–"
            print("| %s | %d | %d | %s | %s |" % (policy, clients, total, format(int(rate), ","), shown), flush=True)


if __name__ == "__main__":
    main()
