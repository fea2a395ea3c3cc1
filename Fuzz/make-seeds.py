#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target into Fuzz/Corpus/TARGET/ from real inputs:
tracer outputs recorded in the namespace lab (Tests/ProbeTests/Fixtures), the Atlas sample,
the targets sample, the queries of docs/QUERY.md, rules from docs/ALERTS.md, and the block
bodies and records of the committed stores of every format version, cut out with the reference
reader of FORMAT.md (docs/read-store.py). Seeds named ok-* are valid input that FuzzTests
expects read; the rest are starting points. Run from the checkout with Debian's python3 (it
needs python3-zstandard and python3-lz4, which scripts/setup installs)."""

import gzip
import importlib.util
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
FIXTURES = os.path.join(ROOT, "Tests", "ProbeTests", "Fixtures")
STORES = os.path.join(ROOT, "Tests", "PathTSDBTests", "Fixtures")

spec = importlib.util.spec_from_file_location("read_store", os.path.join(ROOT, "docs", "read-store.py"))
rs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rs)


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fixture(name):
    return open(os.path.join(FIXTURES, name), "rb").read()


def tracer_outputs():
    for name in sorted(os.listdir(FIXTURES)):
        data = fixture(name)
        base = name.rsplit(".", 1)[0]
        if name.startswith(("tr-", "tr6-", "tcptr-")):
            # The first byte picks the method: 0 udp, 1 icmp, 2 tcp.
            method = 2 if "tcp" in name else 1 if "icmp" in name else 0
            put("traceroute-text", f"ok-{base}", bytes([method]) + data)
        elif name.startswith(("mtr-raw", "mtr6-raw")):
            put("mtr-raw", f"ok-{base}", data)
        elif name.startswith("mtr-json"):
            put("mtr-json", f"{'' if 'names' in name else 'ok-'}{base}", data)
        elif name.startswith(("mtr-report", "mtr6-report")):
            put("mtr-report", f"{'' if 'names' in name else 'ok-'}{base}", data)
        elif name.startswith(("sc-", "sc6-")) and name.endswith(".json"):
            put("scamper-json", f"ok-{base}", data)
        elif name.startswith(("sc-", "sc6-")) and name.endswith(".warts") and len(data) < 64 << 10:
            put("warts", f"ok-{base}", data)


def atlas():
    lines = gzip.open(os.path.join(ROOT, "samples", "atlas-10targets-2h.jsonl.gz"), "rb").read().split(b"\n")
    lines = [l for l in lines if l.strip()]
    put("atlas", "ok-three-lines.jsonl", b"\n".join(lines[:3]) + b"\n")
    put("atlas", "ok-array.json", b"[" + b",\n".join(lines[3:5]) + b"]")


def icmp_replies():
    """Hand-built datagrams, fields as RFC 792 and RFC 4443 lay them out; the first byte picks
    IPv4 ICMP (0), ICMPv6 (1) or IPv4 TCP (2)."""
    def ipv4(proto, src, dst, payload, ttl=60):
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl, proto, 0, bytes(src), bytes(dst))
        return h + payload
    udp = struct.pack("!HHHH", 40000, 33434, 8, 0x1234)
    probe = ipv4(17, [10, 77, 1, 1], [10, 77, 3, 2], udp, ttl=1)
    exceeded = struct.pack("!BBHI", 11, 0, 0, 0) + probe
    put("icmp-reply", "ok-v4-time-exceeded", b"\x00" + ipv4(1, [10, 77, 1, 2], [10, 77, 1, 1], exceeded))
    unreachable = struct.pack("!BBHI", 3, 3, 0, 0) + probe
    put("icmp-reply", "ok-v4-port-unreachable", b"\x00" + ipv4(1, [10, 77, 3, 2], [10, 77, 1, 1], unreachable))
    echo = struct.pack("!BBHHH", 0, 0, 0, 4242, 7)
    put("icmp-reply", "ok-v4-echo-reply", b"\x00" + ipv4(1, [10, 77, 3, 2], [10, 77, 1, 1], echo))
    # An MPLS label stack as an ICMP extension (RFC 4884: original datagram padded to 128 bytes).
    padded = probe + bytes(128 - len(probe))
    ext = struct.pack("!BBH", 0x20, 0, 0) + struct.pack("!HBB", 8, 1, 1) + struct.pack("!I", (16005 << 12) | (1 << 8) | 1)
    mpls = struct.pack("!BBHBBH", 11, 0, 0, 0, 32, 0) + padded + ext
    put("icmp-reply", "ok-v4-mpls", b"\x00" + ipv4(1, [10, 77, 1, 2], [10, 77, 1, 1], mpls))
    v6probe = struct.pack("!IHBB16s16s", 0x60000000, 8, 17, 1, bytes(15) + b"\x01", bytes(15) + b"\x02") + udp
    put("icmp-reply", "ok-v6-time-exceeded", b"\x01" + struct.pack("!BBHI", 3, 0, 0, 0) + v6probe)
    rst = struct.pack("!HHIIBBHHH", 80, 40000, 0, 0x12340001, 0x50, 0x14, 0, 0, 0)
    put("icmp-reply", "ok-tcp-rst", b"\x02" + ipv4(6, [10, 77, 3, 2], [10, 77, 1, 1], rst))


def dns_answers():
    """Answers to PTR queries as a resolver sends them: a name (with a compression pointer to
    the question), NXDOMAIN, and an answer with a CNAME before the PTR."""
    def name(text):
        return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".")) + b"\x00"
    question = name("4.0.77.10.in-addr.arpa") + struct.pack(">HH", 12, 1)
    header = lambda flags, an: struct.pack(">HHHHHH", 0x1234, flags, 1, an, 0, 0)
    ptr = b"\xc0\x0c" + struct.pack(">HHIH", 12, 1, 3600, len(name("hop4.lab.example"))) + name("hop4.lab.example")
    put("dns-answer", "ok-ptr", b"\x12\x34" + header(0x8580, 1) + question + ptr)
    cname = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, 2) + b"\xc0\x0c"
    put("dns-answer", "ok-cname-then-ptr", b"\x12\x34" + header(0x8180, 2) + question + cname + ptr)
    put("dns-answer", "nxdomain", b"\x12\x34" + header(0x8183, 0) + question)
    put("dns-answer", "pointer-loop", b"\x12\x34" + header(0x8180, 1) + question + b"\xc0\x29\xc0\x27" + b"\x00" * 10)


def queries():
    text = open(os.path.join(ROOT, "docs", "QUERY.md")).read()
    seen = []
    for block in re.findall(r"```(?:\w*)\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "$", "stserver", "curl")) and line not in seen and len(seen) < 60:
                seen.append(line)
    for i, q in enumerate(seen):
        put("query", f"doc-{i:02d}", q.encode())
    # Queries the scratch store answers with rows (FuzzScratch: core/a, core/b, edge/c, 2 h).
    for name, q in [("stats", "stats p50, p95, loss last 3h"), ("by-target", "stats loss by target last 3h"),
                    ("paths", "paths of core/b last 3h"), ("changes", "changes last 3h"),
                    ("hops", "stats count, loss of edge/c hops 1..4 last 3h")]:
        put("query", f"ok-{name}", q.encode())


def yaml_files():
    put("targets-file", "ok-sample.yaml", open(os.path.join(ROOT, "samples", "targets.yaml"), "rb").read())
    put("rules-file", "ok-examples-rules.yaml", open(os.path.join(ROOT, "examples", "rules.yaml"), "rb").read())
    text = open(os.path.join(ROOT, "docs", "ALERTS.md")).read()
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
        # Whole files are read; the rest of the document shows fragments (a condition alone).
        whole = block.lstrip().startswith(("rules:", "receivers:", "routes:")) and "\ntests:" not in block
        name = f"ok-alerts-{i:02d}.yaml" if whole else f"alerts-{i:02d}.yaml"
        put("rules-file", name, block.encode())


def stores():
    for version in range(1, 7):
        store = os.path.join(STORES, f"store-v{version}")
        v = bytes([version])
        for name in sorted(os.listdir(os.path.join(store, "segments"))):
            path = os.path.join(store, "segments", name)
            data = memoryview(open(path, "rb").read())
            # Not ok-: its chunks name paths of their own store's catalog, not the fuzz catalog.
            put("segment-file", f"v{version}-{name}", v + bytes(data))
            index_offset, index_length = struct.unpack_from("<QI", data, len(data) - 24)
            index = rs.block(data, index_offset, index_length, "index")
            put("segment-index", f"ok-v{version}", v + bytes(index))
            ix = rs.Cursor(index, "index")
            ix.fixed("<Q")
            [ix.varint() for _ in range(ix.varint())]
            ev_off, ev_len, st_off, st_len = ix.varint(), ix.varint(), ix.varint(), ix.varint()
            _, target_count = ix.varint(), ix.varint()
            put("events", f"v{version}", v + rs.compressed(rs.block(data, ev_off, ev_len, "events"), "events", ev_off))
            put("detector-state", f"v{version}", v + rs.compressed(rs.block(data, st_off, st_len, "state"), "state", st_off))
            for t in range(target_count):
                ix.varint(), ix.zigzag(), ix.varint(), ix.varint(), ix.varint(), ix.varint()
                chunk = (ix.varint(), ix.varint())
                rollup = (ix.varint(), ix.varint())
                if t < 2 and chunk[1]:
                    put("chunk", f"v{version}-target{t}", v + bytes(rs.block(data, chunk[0], chunk[1], "chunk")))
                if t < 2:
                    put("rollups", f"ok-v{version}-target{t}", v + rs.compressed(rs.block(data, rollup[0], rollup[1], "rollup"), "rollup", rollup[0]))
        for name in sorted(os.listdir(os.path.join(store, "wal"))):
            data = open(os.path.join(store, "wal", name), "rb").read()
            put("wal-file", f"ok-v{version}-{name}", v + data)
            c = rs.Cursor(data[16:], "wal")
            for i, (_, body) in enumerate(rs.framed_records(c, "wal")):
                b = bytes(body.data)
                raw_length = struct.unpack_from("<I", b, 10)[0]
                if b[9] == 2:
                    payload = rs.zstandard.ZstdDecompressor().decompress(b[14:], max_output_size=raw_length)
                elif b[9] == 1:
                    payload = rs.lz4.block.decompress(b[14:], uncompressed_size=raw_length)
                else:
                    payload = b[14:]
                if i < 2:
                    put("wal-batch", f"ok-v{version}-{i}", v + payload)
        for log, target in [("catalog.ptc", "catalog-record"), ("missed.ptm", "missed-record")]:
            if not os.path.exists(os.path.join(store, log)):
                continue
            c = rs.Cursor(open(os.path.join(store, log), "rb").read()[8:], log)
            for i, (_, body) in enumerate(rs.framed_records(c, log)):
                if i < 6:
                    put(target, f"ok-v{version}-{i}", v + bytes(body.data))


def alert_records():
    """One record of each kind of the alert log and the missed-slot file, laid out as FORMAT.md
    says."""
    def s(text):
        b = text.encode()
        return bytes([len(b)]) + b
    def m(pairs):
        return bytes([len(pairs)]) + b"".join(s(k) + s(val) for k, val in sorted(pairs))
    t0 = 1_795_000_000_000_000
    records = {
        "transition": b"\x01" + struct.pack("<Qq", 1, t0) + b"\x01" + s("path-changed") + s("core/gw") + b"\x03" + s("critical")
                      + struct.pack("<d", 2.5) + m([("team", "noc")]) + m([("summary", "path moved")]) + s('{"ttl":3}'),
        "notification": b"\x02" + struct.pack("<Qq", 7, t0) + s("noc-webhook") + struct.pack("<q", t0 + 86_400_000_000)
                        + b"\x01" + struct.pack("<Q", 1) + s('{"version":"1"}'),
        "delivery": b"\x03" + struct.pack("<Qq", 7, t0 + 1000) + b"\x00" + b"\x01" + s("200"),
        "silence": b"\x04" + struct.pack("<Qqqq", 3, t0, t0, t0 + 3_600_000_000) + m([("target", "core/*")]) + s("maintenance")
                   + s("ops") + b"\x00",
        "acknowledgement": b"\x05" + struct.pack("<Qq", 1, t0 + 5000) + s("ops") + s("looking"),
    }
    for name, body in records.items():
        put("alert-record", f"ok-{name}", bytes([6]) + body)
    missed = {"still-running": struct.pack("<qB", t0, 1) + s("core/gw") + s("lab"),
              "failed": struct.pack("<qB", t0, 4) + s("core/gw") + s("lab") + s("traceroute exited with status 2"),
              "stopped": struct.pack("<qB", t0, 5) + s("edge/c") + s("lab")}
    for name, body in missed.items():
        put("missed-record", f"ok-{name}", bytes([6]) + body)


def main():
    tracer_outputs()
    atlas()
    icmp_replies()
    dns_answers()
    queries()
    yaml_files()
    stores()
    alert_records()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    sys.exit(main())
