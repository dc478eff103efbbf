#!/usr/bin/env python3
"""Writes N distinct gzip report bodies for timing `stsguard receive`
(BENCHMARKS.md): the kit corpus's reports whose gzip is 1 KB or more (the
largest 1%), each copied with a fresh report-id, gzipped. With PAD_BYTES,
failure details are added to each until its gzip is at least that size.

    python3 receive_bodies.py CORPUS_DIR OUT_DIR N [PAD_BYTES]"""
import gzip
import json
import os
import sys

corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
gz_dir = os.path.join(corpus, "gz")
picked = []
for name in sorted(os.listdir(gz_dir)):
    size = os.path.getsize(os.path.join(gz_dir, name))
    if size >= 1000:
        with gzip.open(os.path.join(gz_dir, name)) as f:
            picked.append(json.load(f))
if not picked:
    sys.exit("no report of that size in the corpus")
os.makedirs(out, exist_ok=True)
total = 0
for i in range(n):
    report = json.loads(json.dumps(picked[i % len(picked)]))
    report["report-id"] = f"receive-bench-{i}"
    body = gzip.compress(json.dumps(report).encode(), compresslevel=6)
    k = 0
    while len(body) < pad:
        details = report["policies"][0].setdefault("failure-details", [])
        for _ in range(4):
            details.append({
                "result-type": "certificate-expired",
                "sending-mta-ip": f"198.51.{(i + k) // 250 % 250}.{(i + k) % 250}",
                "receiving-mx-hostname": f"mx{k % 7}.example.net",
                "receiving-ip": f"203.0.113.{k % 250}",
                "failed-session-count": 1 + k % 5,
            })
            k += 1
        body = gzip.compress(json.dumps(report).encode(), compresslevel=6)
    total += len(body)
    with open(os.path.join(out, f"{i}.gz"), "wb") as f:
        f.write(body)
print(f"{n} bodies, {total // n} bytes on average, from {len(picked)} reports", file=sys.stderr)
