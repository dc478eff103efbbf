#!/usr/bin/env python3
"""Benchmarks of the released receive binary (`bootstrap`), as Lambda runs it.

    eval "$(.ci/moto.sh start)"
    cargo build --release -p stsguard-receive
    "$STSGUARD_CI_VENV/bin/python" functions/receive/benches/lambda_bench.py [--runs 20] [--requests 500]

The minimal Lambda Runtime API of functions/ingest/benches/lambda_bench.py runs
in this process on 127.0.0.1 and hands the binary function URL events (payload
format 2.0, shaped like functions/receive/tests/fixtures/url-post-gzip.json),
each a POST of a gzip report with its own report-id. Measured:

  startup     process spawn -> first `GET /runtime/invocation/next`
              (configuration read, S3 client built), median and max of --runs;
  cold        process spawn -> the answer to the first POST (startup, plus the
              first S3 connection and the first two writes), median and max;
  request     one process, --requests POSTs one after the other: event handed
              out -> answer posted back (base64 decode, raw body PUT, report
              PUT to the local moto S3), median and p99; so moto's speed is
              part of the figure;
  rss         peak RSS (VmHWM) after those requests;
  largest     peak RSS of a fresh process answering one POST of the largest
              report the caps let through (99,000 failure details; the cap
              is 100,000);
  size        the stripped release binary.

Prints one JSON object with the figures.
"""

import argparse
import base64
import gzip
import json
import os
import statistics
import sys
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "functions", "ingest", "benches"))
import lambda_bench as ingest_bench  # noqa: E402  (RuntimeApi, vmhwm_mib)

BIN = os.path.join(REPO, "target", "release", "stsguard-receive")
FIXTURE = os.path.join(REPO, "functions", "receive", "tests", "fixtures", "url-post-gzip.json")
SEED = os.path.join(REPO, "shared", "tests", "fixtures", "corpus", "seed-google-eden.json")


def spawn(api, bucket):
    return ingest_bench.spawn(api, bucket, BIN)


def padded_seed(target_gzip_bytes=2048):
    """The seed report with failure details added until its gzip is about
    `target_gzip_bytes` (the issue's 2 KB reports)."""
    seed = json.load(open(SEED))
    policy = seed["policies"][0]
    details = policy.setdefault("failure-details", [])
    n = 0
    while len(gzip.compress(json.dumps(seed).encode(), mtime=0)) < target_gzip_bytes:
        details.append({
            "result-type": "certificate-expired",
            "sending-mta-ip": f"198.51.{n // 250 % 250}.{n % 250}",
            "receiving-mx-hostname": f"mx{n % 7}.eden.one",
            "receiving-ip": f"203.0.113.{n % 250}",
            "failed-session-count": 1 + n % 5,
        })
        n += 1
    return seed


def events(n, tag):
    base = json.load(open(FIXTURE))
    seed = padded_seed()
    out = []
    for i in range(n):
        r = json.loads(json.dumps(seed))
        r["report-id"] = f"{tag}-{i}"
        ev = json.loads(json.dumps(base))
        ev["body"] = base64.b64encode(gzip.compress(json.dumps(r).encode(), mtime=0)).decode()
        out.append(ev)
    return out


def largest_event():
    """A POST of the seed report with 99,000 failure details."""
    seed = json.load(open(SEED))
    seed["report-id"] = "largest"
    seed["policies"][0]["failure-details"] = [{
        "result-type": "certificate-expired",
        "sending-mta-ip": f"198.51.{n // 250 % 250}.{n % 250}",
        "receiving-mx-hostname": "mx1.eden.one",
        "receiving-ip": "203.0.113.9",
        "failed-session-count": 1,
    } for n in range(99_000)]
    seed["policies"][0]["summary"]["total-failure-session-count"] = 99_000
    raw = json.dumps(seed).encode()
    ev = json.load(open(FIXTURE))
    ev["body"] = base64.b64encode(gzip.compress(raw, mtime=0)).decode()
    return ev, len(raw)


def wait_answers(api, n):
    api.wait_for(n)
    return [json.loads(r) for r in api.responses]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args()
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bucket = f"stsguard-bench-receive-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    out = {"binary": BIN, "size_bytes": os.path.getsize(BIN)}
    body_bytes = len(base64.b64decode(events(1, "size")[0]["body"]))
    out["body_bytes"] = body_bytes

    starts, colds = [], []
    cold_events = events(args.runs, "cold")
    for ev in cold_events:
        api = ingest_bench.RuntimeApi()
        p, t0 = spawn(api, bucket)
        api.push(ev)
        while api.first_next is None and p.poll() is None:
            time.sleep(0.0002)
        starts.append((api.first_next - t0) * 1000)
        answer = wait_answers(api, 1)[0]
        colds.append((time.monotonic() - t0) * 1000)
        assert answer["statusCode"] == 201, answer
        p.kill()
        p.wait()
        api.server.shutdown()
    out["startup_ms_median"] = round(statistics.median(starts), 1)
    out["startup_ms_max"] = round(max(starts), 1)
    out["cold_first_post_ms_median"] = round(statistics.median(colds), 1)
    out["cold_first_post_ms_max"] = round(max(colds), 1)

    api = ingest_bench.RuntimeApi()
    p, _ = spawn(api, bucket)
    while api.first_next is None:
        time.sleep(0.001)
    times = []
    for i, ev in enumerate(events(args.requests, "warm")):
        t0 = time.monotonic()
        api.push(ev)
        api.wait_for(i + 1)
        times.append((time.monotonic() - t0) * 1000)
    time.sleep(0.05)
    out["rss_after_requests_mib"] = round(ingest_bench.vmhwm_mib(p.pid), 1)
    p.kill()
    p.wait()
    api.server.shutdown()
    statuses = [json.loads(r)["statusCode"] for r in api.responses]
    assert statuses == [201] * args.requests, statuses[:10]
    times.sort()
    out["requests"] = args.requests
    out["request_ms_median"] = round(statistics.median(times), 2)
    out["request_ms_p99"] = round(times[int(len(times) * 0.99) - 1], 2)
    out["requests_per_s_one_process"] = round(1000 / statistics.mean(times), 1)

    ev, json_bytes = largest_event()
    api = ingest_bench.RuntimeApi()
    p, _ = spawn(api, bucket)
    api.push(ev)
    answer = wait_answers(api, 1)[0]
    time.sleep(0.05)
    out["largest_report_json_bytes"] = json_bytes
    out["largest_report_status"] = answer["statusCode"]
    out["largest_report_rss_mib"] = round(ingest_bench.vmhwm_mib(p.pid), 1)
    p.kill()
    p.wait()
    api.server.shutdown()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
