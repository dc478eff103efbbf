#!/usr/bin/env python3
"""Benchmarks of the released ingest binary (`bootstrap`), as Lambda runs it.

    eval "$(.ci/moto.sh start)"
    cargo build --release -p stsguard-ingest
    "$STSGUARD_CI_VENV/bin/python" functions/ingest/benches/lambda_bench.py [--runs 20] [--mails 300]

A minimal Lambda Runtime API runs in this process on 127.0.0.1: it hands the
binary events and records when each request arrives. Measured:

  startup   process spawn -> first `GET /runtime/invocation/next` (configuration
            read, S3 client built; no network is used before the first event),
            median and max over --runs spawns;
  rss_1mb   peak RSS (VmHWM, read from /proc before the process is stopped) after
            ingesting one mail whose report is 1 MB of JSON;
  handler   reports/s through the handler against the local moto S3: --mails
            report mails, one S3 ObjectCreated event each, events served
            back to back by one process (so moto's speed is part of the figure);
  size      the stripped release binary.

Prints one JSON object with the figures.
"""

import argparse
import gzip
import http.server
import io
import json
import os
import statistics
import subprocess
import threading
import time
import uuid

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BIN = os.path.join(REPO, "target", "release", "stsguard-ingest")
SEED = os.path.join(REPO, "shared", "tests", "fixtures", "corpus", "rfc8460-example-mxhost-string.json")


class RuntimeApi:
    """Just enough of the Lambda Runtime API for one function process."""

    def __init__(self):
        self.events = []  # queue of event dicts
        self.first_next = None
        self.responses = []
        self.errors = []
        self.done = threading.Condition()
        api = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY the
            # second waits for the client's delayed ACK (40 ms) when one event
            # at a time is handed out.
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                with api.done:
                    if api.first_next is None:
                        api.first_next = time.monotonic()
                    while not api.events:
                        api.done.wait()
                    ev = api.events.pop(0)
                body = json.dumps(ev).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4()))
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 300000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(n)
                with api.done:
                    (api.errors if self.path.endswith("/error") else api.responses).append(data)
                    api.done.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        # A function process killed at the end of a measurement resets its
        # connection: not worth a traceback.
        self.server.handle_error = lambda *_: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def push(self, ev):
        with self.done:
            self.events.append(ev)
            self.done.notify_all()

    def wait_for(self, n, timeout=300):
        end = time.monotonic() + timeout
        with self.done:
            while len(self.responses) + len(self.errors) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.responses)} responses, {len(self.errors)} errors")
                self.done.wait(left)


def spawn(api, bucket, binary=BIN):
    """Starts `binary` against `api` and `bucket`; returns it and its start time."""
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "STSGUARD_BUCKET": bucket,
    })
    t0 = time.monotonic()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, t0


def vmhwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def s3_event(bucket, keys):
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2024-11-09T03:12:48.031Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:ses"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"},
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": k, "size": 1}},
    } for k in keys]}


def report_mail(report: dict) -> bytes:
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(json.dumps(report).encode())
    import base64
    b64 = base64.encodebytes(gz.getvalue()).decode()
    return (
        "From: noreply-smtp-tls-reporting@example.net\r\nTo: tlsrpt@example.com\r\n"
        "Subject: Report Domain: company-y.example Submitter: example.net\r\n"
        "TLS-Report-Domain: company-y.example\r\nTLS-Report-Submitter: example.net\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
        "--B\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Disposition: attachment; filename=\"r.json.gz\"\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--B--\r\n"
    ).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--mails", type=int, default=300)
    args = ap.parse_args()
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bucket = f"stsguard-bench-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    seed = json.load(open(SEED))
    out = {"binary": BIN, "size_bytes": os.path.getsize(BIN)}

    # Startup: spawn -> first poll for an event.
    starts = []
    for _ in range(args.runs):
        api = RuntimeApi()
        p, t0 = spawn(api, bucket)
        while api.first_next is None and p.poll() is None:
            time.sleep(0.0005)
        starts.append((api.first_next - t0) * 1000)
        p.kill()
        p.wait()
        api.server.shutdown()
    out["startup_ms_median"] = round(statistics.median(starts), 1)
    out["startup_ms_max"] = round(max(starts), 1)

    # Peak RSS with a 1 MB report (many failure details).
    big = json.loads(json.dumps(seed))
    big["report-id"] = "big-1mb"
    detail = big["policies"][0]["failure-details"][2]
    n = 0
    details = []
    while len(json.dumps(details)) < 1_000_000:
        d = dict(detail)
        d["sending-mta-ip"] = f"198.51.{n // 250 % 250}.{n % 250}"
        details.append(d)
        n += 1
    big["policies"][0]["failure-details"] = details
    big["policies"][0]["summary"]["total-failure-session-count"] = 3 * n
    s3.put_object(Bucket=bucket, Key="incoming/big", Body=report_mail(big))
    api = RuntimeApi()
    p, _ = spawn(api, bucket)
    api.push(s3_event(bucket, ["incoming/big"]))
    api.wait_for(1)
    time.sleep(0.05)
    out["rss_1mb_report_mib"] = round(vmhwm_mib(p.pid), 1)
    out["rss_1mb_report_json_bytes"] = len(json.dumps(big))
    out["rss_1mb_response_ok"] = bool(api.responses) and b'"written":["' in api.responses[0]
    # Baseline: the same process before any event.
    api2 = RuntimeApi()
    p2, _ = spawn(api2, bucket)
    while api2.first_next is None:
        time.sleep(0.001)
    out["rss_idle_mib"] = round(vmhwm_mib(p2.pid), 1)
    for proc, a in ((p, api), (p2, api2)):
        proc.kill()
        proc.wait()
        a.server.shutdown()

    # Throughput through the handler against moto.
    keys = []
    for i in range(args.mails):
        r = json.loads(json.dumps(seed))
        r["report-id"] = f"bench-{i}"
        k = f"incoming/m{i:05d}"
        s3.put_object(Bucket=bucket, Key=k, Body=report_mail(r))
        keys.append(k)
    api = RuntimeApi()
    p, _ = spawn(api, bucket)
    while api.first_next is None:
        time.sleep(0.001)
    t0 = time.monotonic()
    for k in keys:
        api.push(s3_event(bucket, [k]))
    api.wait_for(len(keys))
    secs = time.monotonic() - t0
    p.kill()
    p.wait()
    api.server.shutdown()
    written = sum(1 for r in api.responses if b'"written":["' in r)
    out["handler_mails"] = len(keys)
    out["handler_written"] = written
    out["handler_errors"] = len(api.errors)
    out["handler_reports_per_s"] = round(len(keys) / secs, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
