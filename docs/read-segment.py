#!/usr/bin/env python3
"""A reader of PathTSDB segment files written from docs/FORMAT.md alone, to keep that document true.

    docs/read-segment.py [--json] FILE.seg...   (or a store directory: its segments/ and rollups/)

It reads what FORMAT.md describes outside the chunk blocks: the header and footer, the index
block, the rollup blocks and the events block, checking every checksum it reads. For each file
it prints the header, the index's totals, the rollup rows by tier (rows, probes sent and lost,
replies, the sum of RTTs) and the event count, then checks that they agree: every sketch holds
its row's replies, and the 1-hour tier counts every probe and every reply the index counts (the
store builds each file's rollups from exactly the runs in it; a rollup-only file has no runs).
Exits 1 on any disagreement. With --json, prints one JSON object per file instead (the tests
compare it with the store's own figures). Needs the `zstandard` module for the ZSTD blocks.

The store's own code is not used: where this reader and `stserver info` agree, the document and
the code agree.
"""
import json
import os
import struct
import sys

try:
    import zstandard
except ImportError:
    sys.exit("read-segment.py needs the zstandard module (pip install zstandard)")

TIERS = {0: "5 min", 1: "1 hour", 2: "1 day"}
TIER_MICROS = {0: 300_000_000, 1: 3_600_000_000, 2: 86_400_000_000}


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    t = CRC_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


class FormatError(Exception):
    pass


class Cursor:
    """Reads varints, zigzags and fixed-width integers from bytes, naming the offset of a fault."""

    def __init__(self, data, what, base=0):
        self.data, self.pos, self.what, self.base = data, 0, what, base

    def fail(self, why):
        raise FormatError(f"{self.what} at offset {self.base + self.pos}: {why}")

    def byte(self):
        if self.pos >= len(self.data):
            self.fail("cut short")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self):
        value = shift = 0
        for _ in range(10):
            b = self.byte()
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7
        self.fail("varint longer than 10 bytes")

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def fixed(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            self.fail("cut short")
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v

    def take(self, n):
        if self.pos + n > len(self.data):
            self.fail(f"{n} bytes wanted, {len(self.data) - self.pos} left")
        self.pos += n
        return self.data[self.pos - n:self.pos]


def block(data, offset, length, what):
    """block: length u32 │ crc32c u32 of body │ body. Returns the body."""
    if offset + 8 > len(data) or offset + length > len(data):
        raise FormatError(f"{what} at offset {offset}: runs past the end of the file")
    body_length, crc = struct.unpack_from("<II", data, offset)
    if body_length + 8 != length:
        raise FormatError(f"{what} at offset {offset}: body length {body_length}, the index says {length - 8}")
    body = data[offset + 8:offset + 8 + body_length]
    if crc32c(body) != crc:
        raise FormatError(f"{what} at offset {offset}: checksum mismatch")
    return body


def compressed(body, what, offset):
    """compression u8 (2 = ZSTD) │ varint raw length │ stored bytes."""
    c = Cursor(body, what, offset + 8)
    kind = c.byte()
    if kind != 2:
        c.fail(f"compression {kind}, not 2 (ZSTD)")
    raw_length = c.varint()
    raw = zstandard.ZstdDecompressor().decompress(bytes(body[c.pos:]), max_output_size=raw_length)
    if len(raw) != raw_length:
        c.fail(f"decompresses to {len(raw)} bytes, not {raw_length}")
    return raw


def rollup_rows(raw, what):
    """The rollup block's rows (FORMAT.md, "Rollup block body")."""
    c = Cursor(raw, what)
    n = c.varint()
    streams = [Cursor(c.take(c.varint()), f"{what}, stream {i}") for i in range(10)]
    series, gaps, sent_s, lost_s, min_s, max_s, sum_s, head_s, key_s, count_s = streams
    rows = []
    while len(rows) < n:
        tier, ttl, count = series.byte(), series.byte(), series.varint()
        if tier not in TIERS:
            series.fail(f"unknown tier {tier}")
        if count == 0 or count > n - len(rows):
            series.fail(f"series of {count} rows with {n - len(rows)} left")
        bucket = series.zigzag()
        sent = minimum = 0
        for k in range(count):
            if k:
                bucket += 1 + gaps.varint()
            sent += sent_s.zigzag()
            lost = lost_s.varint()
            if lost > sent:
                lost_s.fail(f"{lost} lost of {sent} sent")
            row = dict(tier=tier, ttl=ttl, bucket=bucket * TIER_MICROS[tier], sent=sent, lost=lost,
                       min=None, max=None, sum=0, bins=[], zeros=0)
            if sent > lost:
                minimum += min_s.zigzag()
                row["min"] = minimum
                row["max"] = minimum + max_s.varint()
                row["sum"] = sum_s.varint() + minimum * (sent - lost)
                row["zeros"], bins = head_s.varint(), head_s.varint()
                key = sketch_key(minimum)
                for b in range(bins):
                    key = key + key_s.zigzag() if b == 0 else key + 1 + key_s.varint()
                    row["bins"].append((key, count_s.varint() + 1))
                held = row["zeros"] + sum(n for _, n in row["bins"])
                if held != sent - lost:
                    count_s.fail(f"sketch holds {held} values, the row {sent - lost} replies")
            rows.append(row)
    for s in streams:
        if s.pos != len(s.data):
            s.fail(f"{len(s.data) - s.pos} bytes left over")
    return rows


def sketch_key(value):
    """⌈log_γ v⌉ with γ = 1.01/0.99; key(0) is taken as 0 for the first bin's hint."""
    import math
    if value == 0:
        return 0
    return math.ceil(math.log(value) / math.log(1.01 / 0.99))


def read_segment(path):
    data = memoryview(open(path, "rb").read())
    if len(data) < 56:
        raise FormatError(f"{path}: {len(data)} bytes, shorter than a header and a footer")
    head = Cursor(data[:32], f"{path} header")
    if bytes(head.take(4)) != b"PTSG":
        head.fail("magic is not PTSG")
    version = head.fixed("<H")
    if version not in (1, 2, 3):
        head.fail(f"version {version} unknown")
    level, _, seg_id = head.byte(), head.byte(), head.fixed("<Q")
    min_start, max_start = head.fixed("<q"), head.fixed("<q")
    foot = Cursor(data[-24:], f"{path} footer", len(data) - 24)
    index_offset, index_length, index_crc = foot.fixed("<Q"), foot.fixed("<I"), foot.fixed("<I")
    foot.fixed("<I")
    if bytes(foot.take(4)) != b"PTSE":
        foot.fail("magic is not PTSE")
    index_body = block(data, index_offset, index_length, f"{path} index block")
    if crc32c(index_body) != index_crc:
        raise FormatError(f"{path} footer: index checksum differs from the footer's")

    ix = Cursor(index_body, f"{path} index", index_offset + 8)
    wal_high = ix.fixed("<Q")
    sources = [ix.varint() for _ in range(ix.varint())]
    ev_off, ev_len, st_off, st_len = ix.varint(), ix.varint(), ix.varint(), ix.varint()
    event_count, target_count = ix.varint(), ix.varint()
    entries, target = [], 0
    for _ in range(target_count):
        target += ix.varint()
        lo = ix.zigzag()
        entries.append(dict(target=target, min=lo, max=lo + ix.varint(), runs=ix.varint(),
                            probes=ix.varint(), samples=ix.varint(), chunk=(ix.varint(), ix.varint()),
                            rollup=(ix.varint(), ix.varint())))
    if ix.pos != len(index_body):
        ix.fail("bytes left over after the last target")

    events = Cursor(compressed(block(data, ev_off, ev_len, f"{path} events block"), f"{path} events", ev_off),
                    f"{path} events")
    if events.varint() != event_count:
        raise FormatError(f"{path}: the events block and the index count different events")
    block(data, st_off, st_len, f"{path} detector state block")

    tiers = {}
    for e in entries:
        off, length = e["rollup"]
        what = f"{path} rollup block of target {e['target']}"
        for r in rollup_rows(compressed(block(data, off, length, what), what, off), what):
            t = tiers.setdefault(r["tier"], dict(rows=0, sent=0, lost=0, sum=0))
            t["rows"] += 1
            t["sent"] += r["sent"]
            t["lost"] += r["lost"]
            t["sum"] += r["sum"]
    return dict(version=version, level=level, id=seg_id, min=min_start, max=max_start, wal=wal_high,
                sources=sources, events=event_count, entries=entries, tiers=tiers)


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    paths = []
    for arg in (a for a in args if a != "--json"):
        if os.path.isdir(arg):
            for sub in ("segments", "rollups"):
                d = os.path.join(arg, sub)
                if os.path.isdir(d):
                    paths += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".seg"))
        else:
            paths.append(arg)
    if not paths:
        sys.exit(__doc__)
    failed = False
    for path in paths:
        try:
            s = read_segment(path)
        except FormatError as e:
            print(json.dumps({"file": path, "error": str(e)}) if as_json else f"error: {e}")
            failed = True
            continue
        runs = sum(e["runs"] for e in s["entries"])
        probes = sum(e["probes"] for e in s["entries"])
        samples = sum(e["samples"] for e in s["entries"])
        hourly = s["tiers"].get(1)
        agrees = not runs or (hourly is not None and hourly["sent"] == probes
                              and hourly["sent"] - hourly["lost"] == samples)
        failed = failed or not agrees
        if as_json:
            print(json.dumps({"file": path, "version": s["version"], "level": s["level"], "id": s["id"],
                              "targets": len(s["entries"]), "runs": runs, "probes": probes,
                              "samples": samples, "events": s["events"], "sources": s["sources"],
                              "tiers": {TIERS[t]: v for t, v in sorted(s["tiers"].items())},
                              "rollupsAgree": agrees}))
            continue
        print(f"{path}: version {s['version']}, level {s['level']}, id {s['id']:x}, "
              f"{len(s['entries'])} targets, {runs} runs, {probes} probes, {samples} RTT samples, "
              f"{s['events']} events, {len(s['sources'])} sources")
        for tier in sorted(s["tiers"]):
            t = s["tiers"][tier]
            print(f"  rollups {TIERS[tier]:>6}: {t['rows']} rows, {t['sent']} sent, {t['lost']} lost, "
                  f"{t['sent'] - t['lost']} replies, RTT sum {t['sum']} us")
        if not agrees:
            print(f"error: {path}: the 1-hour rollups do not count the index's {probes} probes and {samples} replies")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
