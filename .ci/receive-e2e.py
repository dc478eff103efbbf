"""The released receive Lambda under cargo-lambda's runtime API, against moto S3.

Run by .ci/lambda-e2e.sh with the function already started on a bucket that
does not exist yet (storage down) and a 4 KiB body cap:

  1. function URL events from functions/receive/tests/fixtures, invoked as
     they are: storage down (no bucket) -> 503 with Retry-After; then,
     with the bucket created: gzip 201, the same again 200, JSON 201, garbage
     400, GET 405;
  2. real HTTP requests through cargo-lambda's function URL emulation
     (/lambda-url/<function>/...), which builds the event from the request:
     gzip 201 then 200, GET 405 with Allow, an oversize body 413, a JSON body
     that is not a report 400;
  3. the bucket holds exactly the raw bodies, reports and rejection records
     those answers promise, and the function's log has no raw control or
     bidirectional characters from the hostile fixture.

Usage: receive-e2e.py PORT BUCKET (with the AWS_* exports of .ci/moto.sh).
"""

import gzip
import json
import os
import sys
import urllib.error
import urllib.request

import boto3

PORT, BUCKET = sys.argv[1], sys.argv[2]
BASE = f"http://127.0.0.1:{PORT}"
FIXTURES = "functions/receive/tests/fixtures"
CORPUS = "shared/tests/fixtures/corpus"
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise SystemExit(f"receive e2e: FAILED: {what}")
    checks += 1


def invoke(fixture):
    """Invokes the function with a function URL event, as the URL would."""
    with open(f"{FIXTURES}/{fixture}", "rb") as f:
        event = f.read()
    req = urllib.request.Request(
        f"{BASE}/2015-03-31/functions/_/invocations", data=event, method="POST"
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.loads(r.read())
    headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
    return out["statusCode"], headers, out.get("body") or ""


def http(method, path, body=None, content_type=None):
    """A real HTTP request through the function URL emulation."""
    req = urllib.request.Request(f"{BASE}/lambda-url/_{path}", data=body, method=method)
    req.add_header("User-Agent", "stsguard-e2e/1.0 (+https://example.invalid)")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def keys(prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


# 1. Storage down: the bucket does not exist.
status, headers, body = invoke("url-post-gzip.json")
check(status == 503, f"storage down: {status} {body!r}")
check(headers.get("retry-after") == "60", f"Retry-After: {headers}")
check(body.startswith("storage unavailable"), body)

s3.create_bucket(Bucket=BUCKET)
for fixture, want in [
    ("url-post-gzip.json", (201, "stored 1 report\n")),
    ("url-post-gzip.json", (200, "already stored\n")),
    ("url-post-json.json", (201, "stored 1 report\n")),
    ("url-post-garbage.json", (400, "not a usable report: bad-gzip\n")),
    ("url-get.json", (405, None)),
]:
    status, headers, body = invoke(fixture)
    check(status == want[0] and (want[1] is None or body == want[1]), f"{fixture}: {status} {body!r}")
    check(headers.get("content-type") == "text/plain; charset=utf-8", f"{fixture}: {headers}")
check(headers.get("allow") == "POST", f"405 Allow: {headers}")

# 2. Real HTTP requests.
with open(f"{CORPUS}/google-week-range.json", "rb") as f:
    week = gzip.compress(f.read(), mtime=0)
status, _, body = http("POST", "/v1", week, "application/tlsrpt+gzip")
check(status == 201, f"http gzip: {status} {body!r}")
status, _, body = http("POST", "/v1", week, "application/tlsrpt+gzip")
check(status == 200, f"http gzip again: {status} {body!r}")
status, headers, body = http("GET", "/v1")
check(status == 405 and headers.get("allow") == "POST", f"http GET: {status} {headers}")
status, _, body = http("POST", "/v1", os.urandom(5000), "application/tlsrpt+gzip")
check(status == 413, f"http oversize: {status} {body!r}")
status, _, body = http("POST", "/v1", b'{"not": "a report"}', "application/tlsrpt+json")
check(status == 400 and body.startswith("not a usable report: "), f"http not a report: {status} {body!r}")

# 3. What the bucket holds.
reports = keys("reports/")
check(len(reports) == 3, f"three reports: {reports}")
check(len(keys("rejected/")) == 3, f"garbage, oversize and not-a-report recorded: {keys('rejected/')}")
check(len(keys("raw/https/")) == 5, f"five raw bodies (not the oversize one): {keys('raw/https/')}")
check(len(keys()) == 11, f"nothing else: {keys()}")
by_agent = {}
for key in reports:
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    src = report["source"]
    check(src["channel"] == "https", f"{key}: {src}")
    check(src["raw_key"].startswith("raw/https/day="), f"{key}: {src}")
    by_agent[src.get("user_agent")] = src
http_src = by_agent.get("stsguard-e2e/1.0 (+https://example.invalid)")
check(http_src is not None, f"the HTTP request's User-Agent is kept: {list(by_agent)}")
check(bool(http_src.get("client")), f"the HTTP client's address is kept: {http_src}")

with open("/tmp/stsguard-lambda-receive.log", encoding="utf-8", errors="replace") as f:
    log = f.read()
check("\u202e" not in log, "no raw bidirectional control in the log")
check("/v1/<img src=x onerror=alert(1)>" in log or "alert(1)" in log, "the hostile request was logged, escaped")
print(f"lambda e2e: receive, {checks} checks, reports {sorted(reports)}")
