#!/usr/bin/env python3
"""The server's memory under a long, mixed and partly hostile load: does it stay flat?

  soak.py STSERVER [--minutes 60] [--scale 10] [--port 18495] [--maintenance-every 1h]

Starts `stserver serve` on 127.0.0.1 with a token and drives it for --minutes with, per second
and times --scale: one POST of 10 new runs (30 hops of three probes; each of --scale workers
has ten targets, one run of each a second, dated now), one query (per-hop stats of
a random target over the last hour, alternating JSON and CSV), and one hostile request, in turn:
a malformed query, a body over the size limit, malformed JSON, a name that is not UTF-8, a
request head never finished (closed by the server's header timeout), an oversized header, a
query that would overflow a duration, a write without a token. Samples the server's RSS every
10 s and prints them; at the end, the RSS after the first tenth of the run (warm-up) against the
highest after it. Exits 1 when a request that should succeed fails or the server dies.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

PORT = 18495  # --port changes it
TOKEN = "soak-token"


def segments(data):
    """The store's segment files now: how many, and their bytes (the soak shows memory beside them)."""
    d = os.path.join(data, "segments")
    try:
        names = [n for n in os.listdir(d) if n.endswith(".seg")]
    except FileNotFoundError:
        return 0, 0
    return len(names), sum(os.path.getsize(os.path.join(d, n)) for n in names)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_document(target, start):
    probes = [{"ttl": ttl, "address": "10.%d.%d.1" % (ttl, p), "rtt_us": ttl * 1000 + p * 37}
              for ttl in range(1, 31) for p in range(3)]
    t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    return {"target": target, "vantage": "soak", "method": "udp-paris", "start": t, "destination": "10.30.0.1", "probes": probes}


class Driver:
    def __init__(self, scale):
        self.scale = scale
        self.errors = []
        self.counts = {"posts": 0, "queries": 0, "hostile": 0}
        self.lock = threading.Lock()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)

    def post(self, c, worker, last_start):
        """Ten runs, one of each of the worker's ten targets, dated now as a monitor would date
        them (a second after the worker's last if the clock has not moved on: a run is stored
        once per target and start). Returns the start used."""
        start = max(int(time.time()), last_start + 1)
        body = json.dumps([run_document("soak/w%d/t%d" % (worker, i), start) for i in range(10)]).encode()
        c.request("POST", "/api/v1/runs", body=body, headers={"Authorization": "Bearer " + TOKEN})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            self.errors.append("POST /runs answered %d" % r.status)
        with self.lock:
            self.counts["posts"] += 1
        return start

    def query(self, c, i, worker):
        # One of the worker's own targets: it has posted them all before it asks (another
        # worker's might not be stored yet in the first second, and answer 404).
        q = "stats count, loss, p50, p95 of soak/w%d/t%d last 1h by ttl" % (worker, random.randrange(10))
        fmt = "json" if i % 2 else "csv"
        c.request("GET", "/api/v1/query?" + urlencode({"q": q, "format": fmt}))
        r = c.getresponse()
        r.read()
        if r.status != 200:
            self.errors.append("query answered %d" % r.status)
        self.counts["queries"] += 1

    def hostile(self, i):
        kind = i % 8
        try:
            if kind == 4:  # a head never finished, given up by the client after 12 s (the server's
                # header timeout, 10 s, closes it first)
                s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
                s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
                threading.Timer(12.0, s.close).start()
                self.counts["hostile"] += 1
                return
            c = self.conn()
            if kind == 0:
                c.request("GET", "/api/v1/query?" + urlencode({"q": "stats p95 where ((("}))
            elif kind == 1:
                c.request("POST", "/api/v1/runs", body=b"[" + b" " * (9 << 20) + b"]", headers={"Authorization": "Bearer " + TOKEN})
            elif kind == 2:
                c.request("POST", "/api/v1/runs", body=b'[{"target": "x", "probes": [', headers={"Authorization": "Bearer " + TOKEN})
            elif kind == 3:
                c.request("POST", "/api/v1/runs", body=b'{"target": "\xff\xfe", "vantage": "v", "probes": []}', headers={"Authorization": "Bearer " + TOKEN})
            elif kind == 5:
                c.putrequest("GET", "/api/v1/health")
                c.putheader("X-Big", "a" * (200 << 10))
                c.endheaders()
            elif kind == 6:
                c.request("GET", "/api/v1/query?" + urlencode({"q": "stats loss last 20000000w"}))
            else:
                c.request("POST", "/api/v1/runs", body=b"[]")
            try:
                r = c.getresponse()
                r.read()
                if r.status < 400:
                    self.errors.append("hostile request %d answered %d" % (kind, r.status))
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                pass  # closed by the server: an answer too
            c.close()
            self.counts["hostile"] += 1
        except (ConnectionError, socket.timeout, OSError):
            self.counts["hostile"] += 1


def urlencode(d):
    import urllib.parse
    return urllib.parse.urlencode(d)


def main():
    global PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("stserver")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--port", type=int, default=18495)
    ap.add_argument("--maintenance-every", default="1h", help="the server's compaction and retention interval (its default: 1h)")
    a = ap.parse_args()
    PORT = a.port
    work = tempfile.mkdtemp(prefix="soak-")
    srv = None
    try:
        with open(os.path.join(work, "tokens"), "w") as f:
            f.write(TOKEN + "\n")
        srv = subprocess.Popen([a.stserver, "serve", "--data", os.path.join(work, "data"), "--listen", "127.0.0.1:%d" % PORT,
                                "--token-file", os.path.join(work, "tokens"), "--maintenance-every", a.maintenance_every],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not srv.stdout.readline().startswith(b"serving "):
            raise SystemExit("stserver serve did not start")
        d = Driver(a.scale)
        stop = time.time() + a.minutes * 60
        samples = []

        def worker(n):
            c = d.conn()
            i = n
            last = 0
            while time.time() < stop and srv.poll() is None:
                t0 = time.time()
                try:
                    last = d.post(c, n, last)
                    d.query(c, i, n)
                except (ConnectionError, http.client.HTTPException, socket.timeout) as e:
                    d.errors.append("request failed: %r" % e)
                    c = d.conn()
                d.hostile(i)
                i += a.scale
                time.sleep(max(0.0, 1.0 - (time.time() - t0)))

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(a.scale)]
        for t in threads:
            t.start()
        t_start = time.time()
        while time.time() < stop and srv.poll() is None:
            samples.append((time.time() - t_start, rss_kib(srv.pid)))
            count, size = segments(os.path.join(work, "data"))
            print("%6.0f s  RSS %7.1f MiB  posts %d  queries %d  hostile %d  segments %d (%.1f MiB)" % (samples[-1][0], samples[-1][1] / 1024,
                  d.counts["posts"], d.counts["queries"], d.counts["hostile"], count, size / 1048576), flush=True)
            time.sleep(10)
        for t in threads:
            t.join(60)
        if srv.poll() is not None:
            raise SystemExit("the server died with %d" % srv.returncode)
        warm = [r for (s, r) in samples if s >= a.minutes * 6]
        if warm:
            print("RSS after warm-up (first tenth): %.1f MiB; highest after: %.1f MiB; last: %.1f MiB (%.2f×)"
                  % (warm[0] / 1024, max(warm) / 1024, warm[-1] / 1024, max(warm) / warm[0]))
        if d.errors:
            print("%d failures, the first: %s" % (len(d.errors), d.errors[0]))
            raise SystemExit(1)
    finally:
        if srv and srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
            srv.wait(60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
