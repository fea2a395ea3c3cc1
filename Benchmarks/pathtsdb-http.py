#!/usr/bin/env python3
"""PathTSDB measured the way ../shared/bench/anchors measures the other stores: a server on
127.0.0.1, the corpus written to it over HTTP in batches on one keep-alive connection, the
per-hop query timed through the anchors' own HTTP client (common.http_get, common.time_query:
one warm-up, median of five), the server's peak RSS from /proc.

  STBENCH=DIR ANCHORS=DIR pathtsdb-http.py STSERVER CORPUS.jsonl

ANCHORS is the copy of the anchors folder compare.sh made (its common.py, and the counts of this
corpus beside it). Writes $ANCHORS/results/pathtsdb.json.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.environ["ANCHORS"])
import common as C  # noqa: E402

PORT = 18480
BASE = "http://127.0.0.1:%d" % PORT
TOKEN = "compare-sh-token"
# Atlas lines per POST: about 6 MB, under the server's default 8 MiB body limit.
BATCH = int(os.environ.get("PATHTSDB_BATCH", "2000"))


def start(stserver, data, out, log_name):
    log = open(os.path.join(out, log_name), "w")
    srv = subprocess.Popen([stserver, "serve", "--data", data, "--listen", "127.0.0.1:%d" % PORT,
                            "--token-file", os.path.join(out, "tokens")],
                           stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        if srv.poll() is not None:
            raise SystemExit("stserver serve exited with %d: see %s" % (srv.returncode, log.name))
        try:
            C.http_get(BASE + "/api/v1/health", timeout=2)
            return srv
        except OSError:
            time.sleep(0.2)
    raise SystemExit("stserver serve did not answer on %s" % BASE)


def stop(srv):
    srv.send_signal(signal.SIGTERM)
    if srv.wait(120) != 0:
        raise SystemExit("stserver serve exited with %d" % srv.returncode)


def write_corpus(corpus):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
    headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    runs = probes = posts = 0

    def post(lines):
        nonlocal runs, probes, posts
        conn.request("POST", "/api/v1/runs?format=atlas", b"".join(lines), headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit("write failed %s %s" % (r.status, body[:500]))
        d = json.loads(body)
        runs += d["runs"]
        probes += d["probes"]
        posts += 1

    with open(corpus, "rb") as f:
        buf = []
        for line in f:
            buf.append(line)
            if len(buf) == BATCH:
                post(buf)
                buf = []
        if buf:
            post(buf)
    conn.close()
    return runs, probes, posts


def main():
    stserver, corpus = sys.argv[1:3]
    out = os.path.join(C.WORK, "pathtsdb-http")
    data = os.path.join(out, "data")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "tokens"), "w") as f:
        f.write(TOKEN + "\n")
    cnt = C.counts()

    srv = start(stserver, data, out, "serve-write.log")
    try:
        t = time.time()
        runs, probes, posts = write_corpus(corpus)
        t_write = time.time() - t
        rss_write = C.vm_hwm_kb(srv.pid)
    finally:
        stop(srv)
    size_after_write = C.du_bytes(data)

    # Compaction merges the day into one segment per target-day, as VictoriaMetrics' force merge
    # and InfluxDB's full compaction do theirs; the writer must be stopped for it (one writer).
    cmd = ["/usr/bin/time", "-f", "wall=%e maxrss_kb=%M", stserver, "compact", "--data", data, "--all"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("compact failed: " + p.stderr[-2000:])
    tinfo = dict(kv.split("=") for kv in
                 [l for l in p.stderr.splitlines() if l.startswith("wall=")][-1].split())
    size = C.du_bytes(data)

    t0 = cnt["first_ts"] - cnt["first_ts"] % 3600
    day = "from %s to %s" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 86400)))
    queries = {"rollups": "stats p50, p95, loss of %s %s step 1h" % (C.QUERY_TARGET, day),
               "raw": "stats p50, p95, loss of %s %s step 1h using raw" % (C.QUERY_TARGET, day)}
    srv = start(stserver, data, out, "serve-query.log")
    try:
        timed = {}
        for name, q in queries.items():
            def one(q=q):
                return json.loads(C.http_get(BASE + "/api/v1/query", {"q": q, "format": "json"}))
            med, all_t, res = C.time_query(one)
            rows = res if isinstance(res, list) else res.get("rows", [])
            timed[name] = {"q": q, "median_s": med, "all_s": all_t, "rows": len(rows)}
        rss_query = C.vm_hwm_kb(srv.pid)
    finally:
        stop(srv)
    ver = subprocess.run([stserver, "--version"], capture_output=True, text=True).stdout.strip()
    res = {
        "system": "PathTSDB (stserver serve)",
        "version": ver,
        "command": "stserver serve; POST /api/v1/runs?format=atlas, %d lines/batch, 1 connection; "
                   "stserver compact --all" % BATCH,
        "input_bytes": os.path.getsize(corpus),
        "runs_written": runs,
        "probes_written": probes,
        "posts": posts,
        "ingest_wall_s": t_write,
        "compact_wall_s": float(tinfo["wall"]),
        "compact_peak_rss_kb": int(tinfo["maxrss_kb"]),
        "peak_rss_kb_write": rss_write,
        "peak_rss_kb_query": rss_query,
        "peak_rss_kb": max(rss_write, rss_query, int(tinfo["maxrss_kb"])),
        "disk_bytes_after_write": size_after_write,
        "disk_bytes": size,
        "bytes_per_rtt_sample": size / cnt["rtt_samples"],
        "samples_per_s_rtt": cnt["rtt_samples"] / t_write,
        "query": timed["rollups"],
        "query_raw": timed["raw"],
    }
    C.save("pathtsdb", res)


if __name__ == "__main__":
    main()
