#!/usr/bin/env python3
"""A reader of a PathTSDB store written from docs/FORMAT.md alone, to keep that document true.

    docs/read-store.py [--json] DIR...   (a store directory; or segment files FILE.seg...)

For a store directory it reads the catalog (every record), the missed-slot file and the
write-ahead log (every run batch, LZ4 included), then every file in segments/ and rollups/:
header and footer, index block, events block, rollup blocks and chunk blocks (every column, and
the RTT section: rANS symbols, raw bits, escapes and each series' model, for versions 1 to 5),
checking every checksum it reads; the chunks' series need the catalog's paths. It prints what
each holds, and checks that the parts agree: every sketch holds its row's replies, and each
1-hour rollup row is exactly what the chunk's probes of that TTL and hour make (probes sent and
lost, minimum, maximum, sum and sketch; the store builds each file's rollups from exactly the
runs in it, and a rollup-only file has no runs), the end-to-end rows (TTL 0, version 4) included. Pure Python: about 7 s per million RTT samples
on this machine. Exits 1 on any disagreement or damage, naming the file, the offset and the
cause. With --json it prints one JSON object for the store's own files and one per segment
instead (the tests compare them with the store's own figures). Needs the `zstandard` and `lz4`
modules (Debian: python3-zstandard, python3-lz4; scripts/setup installs both).

The store's own code is not used: where this reader and the store agree, the document and the
code agree.
"""
import json
import math
import os
import struct
import sys

try:
    import lz4.block
    import zstandard
except ImportError as e:
    sys.exit(f"read-store.py needs the zstandard and lz4 modules (Debian: python3-zstandard, python3-lz4): {e}")

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


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value (FORMAT.md, Conventions)"


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

    def string(self):
        raw = bytes(self.take(self.varint()))
        try:
            return raw.decode()
        except UnicodeDecodeError as e:
            self.fail(f"string is not UTF-8: {e}")

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
    return zstd_frame(c, bytes(body[c.pos:]), raw_length)


def zstd_frame(c, stored, raw_length):
    """One ZSTD frame that must decompress to exactly raw_length bytes."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(stored, max_output_size=raw_length)
    except zstandard.ZstdError as e:
        c.fail(f"ZSTD: {e}")
    if len(raw) != raw_length:
        c.fail(f"decompresses to {len(raw)} bytes, not {raw_length}")
    return raw


def rollup_rows(raw, what, version):
    """The rollup block's rows (FORMAT.md, "Rollup block body"); version 5 adds stream 10,
    each row's untimed replies."""
    c = Cursor(raw, what)
    n = c.varint()
    streams = [Cursor(c.take(c.varint()), f"{what}, stream {i}") for i in range(11 if version >= 5 else 10)]
    series, gaps, sent_s, lost_s, min_s, max_s, sum_s, head_s, key_s, count_s = streams[:10]
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
                       min=None, max=None, sum=0, bins=[], zeros=0, untimed=0)
            if version >= 5:
                row["untimed"] = streams[10].varint()
                if row["untimed"] > sent - lost:
                    streams[10].fail(f"{row['untimed']} untimed of {sent - lost} replies")
            timed = sent - lost - row["untimed"]
            if timed:
                minimum += min_s.zigzag()
                row["min"] = minimum
                row["max"] = minimum + max_s.varint()
                row["sum"] = sum_s.varint() + minimum * timed
                row["zeros"], bins = head_s.varint(), head_s.varint()
                key = sketch_key(minimum)
                for b in range(bins):
                    key = key + key_s.zigzag() if b == 0 else key + 1 + key_s.varint()
                    row["bins"].append((key, count_s.varint() + 1))
                held = row["zeros"] + sum(in_bin for _, in_bin in row["bins"])
                if held != timed:
                    count_s.fail(f"sketch holds {held} values, the row {timed} timed replies")
            rows.append(row)
    for s in [c] + streams:
        if s.pos != len(s.data):
            s.fail(f"{len(s.data) - s.pos} bytes left over")
    return rows


def sketch_key(value):
    """⌈log_γ v⌉ with γ = 1.01/0.99; key(0) is taken as 0 for the first bin's hint."""
    if value == 0:
        return 0
    return math.ceil(math.log(value) / math.log(1.01 / 0.99))


def record_log(path, magic, what, versions=(1,)):
    """A catalog or missed-slot file: 8-byte header, then records. Returns the record bodies."""
    c = Cursor(open(path, "rb").read(), what)
    version = file_header(c, magic, versions)
    return version, [body for _, body in framed_records(c, what)]


def file_header(c, magic, versions=(1,)):
    """magic │ version u16 │ reserved u16 = 0, the start of the catalog, missed-slot and WAL
    files. Returns the version."""
    if bytes(c.take(4)) != magic:
        c.fail(f"magic is not {magic.decode()}")
    version = c.fixed("<H")
    if version not in versions:
        c.fail(f"version {version} unknown")
    if c.fixed("<H") != 0:
        c.fail("reserved field is not 0")
    return version


def framed_records(c, what):
    """length u32 │ crc32c u32 of body │ body, to the end of the file: (offset, body cursor) each.
    A damaged tail is an error here; the store cuts it off when it opens."""
    while c.pos < len(c.data):
        at = c.pos
        length, crc = c.fixed("<I"), c.fixed("<I")
        body = c.take(length)
        if crc32c(body) != crc:
            raise FormatError(f"{what} at offset {at}: record checksum mismatch")
        yield at, Cursor(body, f"{what} record", at + 8)


def read_catalog(directory):
    """catalog.ptc: targets, vantage points, addresses and paths (a path: address id per TTL)."""
    kinds = {1: [], 2: [], 3: [], 4: []}
    version, records = record_log(os.path.join(directory, "catalog.ptc"), b"PTCT", "catalog.ptc", (1, 2))
    for r in records:
        kind = r.byte()
        if kind in (1, 2):
            kinds[kind].append(r.string())
        elif kind == 3:
            n = r.byte()
            if n not in (4, 16):
                r.fail(f"address of {n} bytes")
            kinds[3].append(bytes(r.take(n)))
        elif kind == 4 or kind == 5 and version >= 2:
            hops = [r.varint() for _ in range(r.varint())]
            if kind == 5:
                # A load-balanced path: (TTL, address) of each other address that answered, in
                # order, each at a TTL where the path has an answer that is not that address.
                branches = [(r.byte(), r.varint()) for _ in range(r.varint())]
                if not branches or branches != sorted(set(branches)):
                    r.fail("a load-balanced path's branches are missing, repeated or out of order")
                for ttl, address in branches:
                    if not 1 <= ttl <= len(hops) or hops[ttl - 1] in (0, address) or address == 0:
                        r.fail(f"branch at TTL {ttl} (address {address}) does not fit the path")
            kinds[4].append(hops)
        else:
            r.fail(f"unknown record kind {kind}")
        if r.pos != len(r.data):
            r.fail("bytes left over in the record")
    return dict(targets=kinds[1], vantages=kinds[2], addresses=kinds[3], paths=[None] + kinds[4])


def read_missed(directory):
    """missed.ptm: slots that did not start (slot, reason, target, vantage)."""
    path = os.path.join(directory, "missed.ptm")
    if not os.path.exists(path):
        return 0
    count = 0
    version, records = record_log(path, b"PTMS", "missed.ptm", (1, 2, 3))
    for r in records:
        r.fixed("<q")
        reason = r.byte()
        if reason not in {1: (1, 2, 3), 2: (1, 2, 3, 4)}.get(version, (1, 2, 3, 4, 5)):
            r.fail(f"unknown reason {reason}")
        r.string(), r.string()
        if version >= 2 and r.pos < len(r.data):
            r.string()  # the detail
        elif reason == 4:
            r.fail("a failed trace without its detail")
        if r.pos != len(r.data):
            r.fail("bytes left over in the record")
        count += 1
    return count


def read_alerts(directory):
    """alerts.pta: records by kind (transition, notification, delivery, silence, acknowledgement)."""
    path = os.path.join(directory, "alerts.pta")
    names = {1: "transitions", 2: "notifications", 3: "deliveries", 4: "silences", 5: "acknowledgements"}
    counts = {n: 0 for n in names.values()}
    if not os.path.exists(path):
        return counts

    def string_map(r):
        keys = [(r.string(), r.string())[0] for _ in range(r.varint())]
        if keys != sorted(keys, key=lambda k: k.encode()):
            r.fail("map keys out of order")

    _, records = record_log(path, b"PTAL", "alerts.pta", (1, 1))
    for r in records:
        kind = r.byte()
        if kind == 1:
            r.fixed("<Q"), r.fixed("<q")
            state = r.byte()
            if state > 4:
                r.fail(f"unknown alert state {state}")
            r.string(), r.string(), r.byte(), r.string(), r.fixed("<d")
            string_map(r), string_map(r)
            evidence = r.string()
            if evidence:
                json.loads(evidence)
        elif kind == 2:
            r.fixed("<Q"), r.fixed("<q"), r.string(), r.fixed("<q")
            for _ in range(r.varint()):
                r.fixed("<Q")
            json.loads(r.string())
        elif kind == 3:
            r.fixed("<Q"), r.fixed("<q")
            result = r.byte()
            if result > 2:
                r.fail(f"unknown delivery result {result}")
            r.varint(), r.string()
        elif kind == 4:
            r.fixed("<Q"), r.fixed("<q"), r.fixed("<q"), r.fixed("<q")
            string_map(r)
            r.string(), r.string()
            if r.byte() > 1:
                r.fail("silence removed flag is not 0 or 1")
        elif kind == 5:
            r.fixed("<Q"), r.fixed("<q"), r.string(), r.string()
        else:
            r.fail(f"unknown record kind {kind}")
        if r.pos != len(r.data):
            r.fail("bytes left over in the record")
        counts[names[kind]] += 1
    return counts


def read_wal(directory):
    """wal/*.wal: every run batch, totalled (records, runs, probes, replies, RTT sum)."""
    totals = dict(files=0, records=0, runs=0, probes=0, replies=0, sum=0)
    wal = os.path.join(directory, "wal")
    previous = None
    for name in sorted(os.listdir(wal)) if os.path.isdir(wal) else []:
        if not name.endswith(".wal"):
            continue
        data = open(os.path.join(wal, name), "rb").read()
        what = f"wal/{name}"
        c = Cursor(data, what)
        wal_version = file_header(c, b"PTWL", (1, 2))
        first = c.fixed("<Q")
        if int(name[:-4]) != first:
            c.fail(f"first sequence {first}, the name says {name[:-4]}")
        totals["files"] += 1
        for at, b in framed_records(c, what):
            body = b.data
            if b.byte() != 1:
                b.fail("record type is not 1 (run batch)")
            sequence = b.fixed("<Q")
            expected = first if previous is None or previous < first else previous + 1
            if sequence != expected:
                b.fail(f"sequence {sequence}, {expected} expected")
            previous = sequence
            compression, raw_length = b.byte(), b.fixed("<I")
            payload = bytes(body[b.pos:])
            if compression == 1:
                try:
                    payload = lz4.block.decompress(payload, uncompressed_size=raw_length)
                except lz4.block.LZ4BlockError as e:
                    b.fail(f"LZ4: {e}")
            elif compression != 0:
                b.fail(f"compression {compression}")
            if len(payload) != raw_length:
                b.fail(f"payload of {len(payload)} bytes, not {raw_length}")
            totals["records"] += 1
            batch = Cursor(payload, f"{what} record at {at}, batch")
            for _ in range(batch.varint()):
                batch.string(), batch.string()
                batch.byte(), batch.varint(), batch.zigzag(), batch.varint()
                n = batch.byte()
                if n not in (4, 16):
                    batch.fail(f"destination of {n} bytes")
                batch.take(n)
                run_flags = batch.byte()
                if run_flags & ~(7 if wal_version >= 2 else 1):
                    batch.fail(f"run flags {run_flags}")
                totals["runs"] += 1
                for _ in range(batch.varint()):
                    batch.byte()
                    flags = batch.byte()
                    totals["probes"] += 1
                    if flags & 1:
                        batch.take(16 if flags & 2 else 4)
                        rtt = batch.varint()
                        batch.take(3)
                        if flags & 4:
                            batch.take(4 * batch.varint())
                        # A report's replies are untimed (2^32 - 1), the others timed.
                        if (rtt == 0xFFFFFFFF) != bool(run_flags & 4):
                            batch.fail("a reply's time does not match its run (a report's are untimed, a trace's timed)")
                        if rtt != 0xFFFFFFFF:
                            totals["replies"] += 1
                            totals["sum"] += rtt
                if run_flags & 4:
                    figures(batch)
            if batch.pos != len(payload):
                batch.fail("bytes left over after the last run")
    return totals


def figures(c):
    """A report's figures: count, then per hop TTL u8 and five varints (last, average, best,
    worst, standard deviation), TTLs rising."""
    last = 0
    for _ in range(c.varint()):
        ttl = c.byte()
        if ttl <= last:
            c.fail(f"report figures at TTL {ttl} after TTL {last}")
        last = ttl
        for _ in range(5):
            c.varint()


def columns_of(raw, what, count):
    c = Cursor(raw, what)
    cols = [bytes(c.take(c.varint())) for _ in range(count)]
    if c.pos != len(raw):
        c.fail("bytes left over after the columns")
    return cols


class Bits:
    """Raw bits, packed least significant bit first."""

    def __init__(self, data, what):
        self.value, self.pos, self.size, self.what = int.from_bytes(data, "little"), 0, len(data) * 8, what

    def read(self, n):
        if self.pos + n > self.size:
            raise FormatError(f"{self.what}: raw bits run out")
        v = (self.value >> self.pos) & ((1 << n) - 1)
        self.pos += n
        return v


def rans_symbols(c, count, lanes, what):
    """rANS table, symbol count and stream of an RTT section: the decoded symbols."""
    present, symbol, table = c.varint(), -1, []
    for _ in range(present):
        symbol += 1 + c.varint()
        table.append((symbol, c.varint()))
    if sum(f for _, f in table) != 4096 or (table and table[-1][0] > 255):
        c.fail("rANS table does not sum to 4096 over symbols 0...255")
    slot_symbol, start = [0] * 4096, {}
    cumulative = 0
    for s, f in table:
        start[s] = (cumulative, f)
        for k in range(cumulative, cumulative + f):
            slot_symbol[k] = s
        cumulative += f
    n = c.varint()
    if n != count:
        c.fail(f"{n} symbols, {count} replies")
    stream = c.take(c.varint())
    pos = 0

    def next_byte():
        nonlocal pos
        if pos >= len(stream):
            raise FormatError(f"{what}: rANS stream runs out")
        pos += 1
        return stream[pos - 1]

    states = []
    for _ in range(lanes if n else 0):
        x = 0
        for _ in range(4):
            x = (x << 8) | next_byte()
        states.append(x)
    out = []
    for i in range(n):
        x = states[i % lanes]
        slot = x & 4095
        s = slot_symbol[slot]
        cum, f = start[s]
        x = f * (x >> 12) + slot - cum
        while x < (1 << 23) and pos < len(stream):
            x = (x << 8) | next_byte()
        states[i % lanes] = x
        out.append(s)
    return out


class Series:
    """One RTT series' model (FORMAT.md, "RTT section")."""

    def __init__(self):
        self.window, self.baseline, self.running, self.mean = [], None, 0, 0
        self.run_min, self.count, self.total = None, 0, 0
        self.clamp = 64

    def step(self, version):
        if version < 3:
            return max(1, (self.mean >> 4) // 8)
        t = (181 * self.mean) >> 14
        return 1 << (t.bit_length() - 1) if t >= 1 else 1

    @staticmethod
    def clamp_of(running):
        """The most a value's 16 × residual counts for: min(max(4·running, 64), 2^32 − 1)."""
        return min(max(4 * running, 64), 2**32 - 1)

    def observe(self, v, version):
        self.run_min = v if self.run_min is None else min(self.run_min, v)
        if self.baseline is None:
            return
        c = min(16 * max(0, v - self.baseline), self.clamp if version >= 3 else self.clamp_of(self.running))
        if version >= 3:
            self.count += 1
            self.total += c
        else:
            self.running = (self.running + ((c - self.running) >> 5)) & 0xFFFFFFFF
            if version == 1:
                self.mean = self.running

    def end_run(self, version):
        if self.run_min is None:
            return
        first = self.baseline is None
        if version >= 3 and self.count:
            if self.count >= 32:
                self.running = self.total // self.count
            else:
                self.running = (self.running + ((self.total - self.count * self.running) >> 5)) & 0xFFFFFFFF
        self.window = (self.window + [self.run_min])[-32:]
        self.baseline = min(self.window)
        if first:
            self.running = (self.run_min // 64) * 16
        self.mean = self.running
        self.clamp = self.clamp_of(self.running)
        self.run_min, self.count, self.total = None, 0, 0


UNTIMED = "untimed"


def end_to_end(probes, destination, state, interrupted=False):
    """A run's destination probes as (RTT or None), the target's runs taken in time order with
    `state` (the destination's TTL in the last run that reached it): those at the lowest TTL the
    destination answered from, a reply from another address counting as none; but if nothing
    answered at the last run's destination TTL, below that, its probes there, all None; and if
    the destination never answered, those at the last run's destination TTL or, with none, at
    the highest TTL, all None."""
    ttls = [ttl for ttl, v, address in probes if v is not None and address == destination and destination]
    reached = ttls[0] if ttls else 0
    if interrupted and not reached:
        return []  # stopped before it got there: it says nothing of the destination
    known = state.get("ttl", 0)
    if known and (not reached or known < reached):
        there = [v for ttl, v, _ in probes if ttl == known]
        if there and all(v is None for v in there):
            return [None] * len(there)
    if reached:
        state["ttl"] = reached
        return [v if address == destination else None for ttl, v, address in probes if ttl == reached]
    last = max((ttl for ttl, _, _ in probes), default=None)
    return [None for ttl, _, _ in probes if ttl == last]


def decode_chunk(body, version, paths, what, offset):
    """A chunk block's runs: per run its start, a list of (TTL, RTT or None) per probe, and its
    destination probes (`end_to_end`)."""
    c = Cursor(body, what, offset + 8)
    run_count, probe_count, compression = c.varint(), c.varint(), c.byte()
    if compression != 2:
        c.fail(f"compression {compression}, not 2 (ZSTD)")

    def frame():
        raw_length, stored = c.varint(), c.varint()
        return zstd_frame(c, bytes(c.take(stored)), raw_length)

    if version < 3:
        cols = columns_of(frame(), f"{what}, columns", 19)
    else:
        first = columns_of(frame(), f"{what}, first frame", 14)
        details = columns_of(frame(), f"{what}, reply details frame", 5)
        cols = first[:12] + details + first[12:]
    column = [Cursor(col, f"{what}, column {i}") for i, col in enumerate(cols)]

    starts, probes_per_run, path_ids, destinations, start, delta = [], [], [], [], 0, 0
    reports, interrupted = [], []
    for i in range(run_count):
        if i == 0:
            start = column[0].zigzag()
        else:
            delta += column[0].zigzag()
            start += delta
        starts.append(start)
        # duration, vantage, method, flow: read past (nothing here checks them); the destination
        # for the end-to-end rollup rows; run flags (1 reached, 2 interrupted, 4 report)
        for read in (column[1].varint, column[2].varint, column[3].byte, column[4].zigzag):
            read()
        destinations.append(column[5].varint())
        flags = column[6].byte()
        if flags & ~(7 if version >= 5 else 1):
            column[6].fail(f"run flags {flags}")
        reports.append(bool(flags & 4))
        interrupted.append(bool(flags & 2))
        if flags & 4:
            figures(column[18])
        path_ids.append(column[7].varint())
        probes_per_run.append(column[8].varint())
    if sum(probes_per_run) != probe_count:
        column[8].fail(f"runs hold {sum(probes_per_run)} probes, the chunk {probe_count}")

    # Probes: TTL, and which series each reply belongs to.
    runs, replies = [], 0
    for i in range(run_count):
        if path_ids[i] >= len(paths) or path_ids[i] == 0:
            column[7].fail(f"path {path_ids[i]} not in the catalog")
        path = paths[path_ids[i]]
        ttl, probes = 0, []
        for _ in range(probes_per_run[i]):
            ttl = (ttl + column[9].byte()) & 0xFF
            status = column[10].byte()
            on_path = path[ttl - 1] if 1 <= ttl <= len(path) else 0
            address = column[11].varint() if status == 2 else on_path if status == 0 else 0
            answered = status == 2 or (status == 0 and on_path != 0)
            probes.append([ttl, (ttl, on_path) if answered else None, address])
            # A report's replies have no RTT symbol.
            replies += answered and not reports[i]
        runs.append(probes)

    rtt = Cursor(body[c.pos:], f"{what}, RTT section", offset + 8 + c.pos)
    symbols = rans_symbols(rtt, replies, 2 if version == 1 else 4, f"{what}, RTT section")
    bits = Bits(body[c.pos + rtt.pos:], f"{what}, RTT raw bits")
    escapes = column[17]
    series, k, out, state = {}, 0, [], {}
    for i, probes in enumerate(runs):
        touched = []
        for p in probes:
            if p[1] is None:
                continue
            if reports[i]:
                p[1] = UNTIMED
                continue
            s = series.setdefault(p[1], Series())
            q = symbols[k]
            k += 1
            if s.baseline is None:
                if q != 255:
                    raise FormatError(f"{what}: a series' first value has symbol {q}, not 255")
                v = escapes.varint()
            else:
                step = s.step(version)
                floor = max(0, s.baseline - 2 * step)
                if q < 254:
                    b = step.bit_length() - 1
                    short = (1 << (b + 1)) - step
                    r = bits.read(b)
                    if r >= short:
                        r = 2 * r + bits.read(1) - short
                    v = floor + q * step + r
                elif q == 254:
                    v = floor - escapes.varint() - 1
                else:
                    v = floor + 254 * step + escapes.varint()
            s.observe(v, version)
            touched.append(s)
            p[1] = v
        for s in touched:
            s.end_run(version)
        out.append((starts[i], [(ttl, v) for ttl, v, _ in probes], end_to_end(probes, destinations[i], state, interrupted[i])))
    # Reply details: reply TTL, ICMP type and code, MPLS label count and labels, per reply
    # (untimed ones too).
    for _ in range(sum(1 for probes in runs for p in probes if p[1] is not None)):
        column[12].byte(), column[13].byte(), column[14].byte()
        column[16].take(4 * column[15].byte())
    for i, col in enumerate(column):
        if col.pos != len(col.data):
            col.fail(f"{len(col.data) - col.pos} bytes left over")
    if bits.size - bits.pos >= 8:
        raise FormatError(f"{what}: {bits.size - bits.pos} raw bits left over")
    return out


def read_segment(path, paths):
    data = memoryview(open(path, "rb").read())
    if len(data) < 56:
        raise FormatError(f"{path}: {len(data)} bytes, shorter than a header and a footer")
    head = Cursor(data[:32], f"{path} header")
    if bytes(head.take(4)) != b"PTSG":
        head.fail("magic is not PTSG")
    version = head.fixed("<H")
    if version not in (1, 2, 3, 4, 5, 6):
        head.fail(f"version {version} unknown")
    level, _, seg_id = head.byte(), head.byte(), head.fixed("<Q")
    min_start, max_start = head.fixed("<q"), head.fixed("<q")
    foot = Cursor(data[-24:], f"{path} footer", len(data) - 24)
    index_offset, index_length, index_crc = foot.fixed("<Q"), foot.fixed("<I"), foot.fixed("<I")
    header_crc = foot.fixed("<I")
    if version >= 4 and header_crc != crc32c(data[:32]):
        raise FormatError(f"{path} footer: header checksum differs from the footer's")
    if version < 4 and header_crc != 0:
        raise FormatError(f"{path} footer: reserved field is not 0")
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
    for _ in range(event_count):
        events.varint(), events.varint(), events.zigzag(), events.varint(), events.varint()
        events.byte(), events.byte(), events.byte()
        if version >= 4 and events.byte() & ~0x0F:
            events.fail("event flags outside the four defined")
    if events.pos != len(events.data):
        events.fail("bytes left over after the last event")
    block(data, st_off, st_len, f"{path} detector state block")

    tiers, ends, raw = {}, {}, dict(runs=0, probes=0, replies=0, sum=0)
    for e in entries:
        off, length = e["rollup"]
        what = f"{path} rollup block of target {e['target']}"
        rows = rollup_rows(compressed(block(data, off, length, what), what, off), what, version)
        for r in rows:
            # Hop rows count every probe once; the end-to-end rows (TTL 0) apart.
            t = (ends if r["ttl"] == 0 else tiers).setdefault(r["tier"], dict(rows=0, sent=0, lost=0, sum=0, untimed=0))
            t["untimed"] += r["untimed"]
            t["rows"] += 1
            t["sent"] += r["sent"]
            t["lost"] += r["lost"]
            t["sum"] += r["sum"]
        off, length = e["chunk"]
        if length == 0:
            continue
        what = f"{path} chunk block of target {e['target']}"
        runs = decode_chunk(block(data, off, length, what), version, paths, what, off)
        if len(runs) != e["runs"]:
            raise FormatError(f"{what}: {len(runs)} runs, the index says {e['runs']}")
        # Every 1-hour rollup row is what the chunk's probes of that TTL and hour make.
        hourly = {}
        for start, probes, destination_probes in runs:
            raw["runs"] += 1
            bucket = start // TIER_MICROS[1] * TIER_MICROS[1]
            # Version 4 on: TTL 0, the end-to-end row of each run's destination probes.
            for v in destination_probes if version >= 4 else []:
                h = hourly.setdefault((0, bucket), dict(sent=0, lost=0, untimed=0, values=[]))
                h["sent"] += 1
                if v is None:
                    h["lost"] += 1
                elif v is UNTIMED:
                    h["untimed"] += 1
                else:
                    h["values"].append(v)
            for ttl, v in probes:
                raw["probes"] += 1
                h = hourly.setdefault((ttl, bucket), dict(sent=0, lost=0, untimed=0, values=[]))
                h["sent"] += 1
                if v is None:
                    h["lost"] += 1
                elif v is UNTIMED:
                    h["untimed"] += 1
                else:
                    h["values"].append(v)
                    raw["replies"] += 1
                    raw["sum"] += v
        stored = {(r["ttl"], r["bucket"]): r for r in rows if r["tier"] == 1}
        if set(stored) != set(hourly):
            raise FormatError(f"{what}: the 1-hour rollups cover {len(stored)} (TTL, hour) pairs, the probes {len(hourly)}")
        for key, h in hourly.items():
            r, v = stored[key], h["values"]
            bins = {}
            for x in v:
                if x:
                    bins[sketch_key(x)] = bins.get(sketch_key(x), 0) + 1
            made = (h["sent"], h["lost"], min(v, default=None), max(v, default=None), sum(v),
                    sorted(bins.items()), v.count(0), h["untimed"])
            kept = (r["sent"], r["lost"], r["min"], r["max"], r["sum"], r["bins"], r["zeros"], r["untimed"])
            if made != kept:
                raise FormatError(f"{what}: TTL {key[0]}, hour {key[1]}: the probes give (sent, lost, min, max, "
                                  f"sum) {made[:5]}, the rollup row {kept[:5]}")
    return dict(version=version, level=level, id=seg_id, min=min_start, max=max_start, wal=wal_high,
                sources=sources, events=event_count, entries=entries, tiers=tiers, ends=ends, raw=raw)


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    paths, failed, catalogs = [], False, {}
    for arg in (a for a in args if a != "--json"):
        if os.path.isdir(arg):
            # The store's own files: catalog, missed slots, write-ahead log.
            try:
                store = os.path.abspath(arg)
                catalog = catalogs[store] = read_catalog(store)
                counts = {k: len(catalog[k]) for k in ("targets", "vantages", "addresses")}
                counts["paths"] = len(catalog["paths"]) - 1
                missed, wal, alerts = read_missed(store), read_wal(store), read_alerts(store)
                if as_json:
                    print(json.dumps({"store": arg, "catalog": counts, "missed": missed, "wal": wal, "alerts": alerts}))
                else:
                    print(f"{arg}: catalog {counts}, {missed} missed slots, write-ahead log {wal}, alert log {alerts}")
            except FormatError as e:
                print(json.dumps({"store": arg, "error": str(e)}) if as_json else f"error: {e}")
                failed = True
                continue
            for sub in ("segments", "rollups"):
                d = os.path.join(arg, sub)
                if os.path.isdir(d):
                    paths += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".seg"))
        else:
            paths.append(arg)
    if not paths and not catalogs:
        sys.exit(__doc__)
    for path in paths:
        try:
            store = os.path.dirname(os.path.dirname(os.path.abspath(path)))
            if store not in catalogs:
                catalogs[store] = read_catalog(store)
            s = read_segment(path, catalogs[store]["paths"])
        except FormatError as e:
            print(json.dumps({"file": path, "error": str(e)}) if as_json else f"error: {e}")
            failed = True
            continue
        runs = sum(e["runs"] for e in s["entries"])
        probes = sum(e["probes"] for e in s["entries"])
        samples = sum(e["samples"] for e in s["entries"])
        hourly = s["tiers"].get(1)
        agrees = not runs or (hourly is not None and hourly["sent"] == probes
                              and hourly["sent"] - hourly["lost"] - hourly["untimed"] == samples
                              and (s["raw"]["runs"], s["raw"]["probes"], s["raw"]["replies"]) == (runs, probes, samples))
        failed = failed or not agrees
        if as_json:
            print(json.dumps({"file": path, "version": s["version"], "level": s["level"], "id": s["id"],
                              "targets": len(s["entries"]), "runs": runs, "probes": probes,
                              "samples": samples, "events": s["events"], "sources": s["sources"],
                              "tiers": {TIERS[t]: v for t, v in sorted(s["tiers"].items())},
                              "ends": {TIERS[t]: v for t, v in sorted(s["ends"].items())}, "raw": s["raw"],
                              "rollupsAgree": agrees}))
            continue
        print(f"{path}: version {s['version']}, level {s['level']}, id {s['id']:x}, "
              f"{len(s['entries'])} targets, {runs} runs, {probes} probes, {samples} RTT samples, "
              f"{s['events']} events, {len(s['sources'])} sources")
        for tier in sorted(s["tiers"]):
            t = s["tiers"][tier]
            print(f"  rollups {TIERS[tier]:>6}: {t['rows']} rows, {t['sent']} sent, {t['lost']} lost, "
                  f"{t['sent'] - t['lost']} replies, RTT sum {t['sum']} us")
        r = s["raw"]
        print(f"  chunks: {r['runs']} runs, {r['probes']} probes, {r['replies']} replies, RTT sum {r['sum']} us")
        if not agrees:
            print(f"error: {path}: the 1-hour rollups or the chunks do not count the index's {probes} probes and {samples} replies")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
