#!/usr/bin/env python3
"""Copies a directory store (or the part of it under a prefix) into an S3
bucket at AWS_ENDPOINT_URL, for timing the digest against a local endpoint.

    python3 s3_load.py STORE_DIR BUCKET [KEY_PREFIX] [--limit N]

Needs boto3 (the CI venv of .ci/moto.sh has it). Creates the bucket if
missing; uploads on 16 threads; prints how many objects it wrote."""
import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("bucket")
    ap.add_argument("prefix", nargs="?", default="")
    ap.add_argument("--limit", type=int, default=0, help="reports of the day at most (0: all)")
    a = ap.parse_args()
    s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    try:
        s3.create_bucket(Bucket=a.bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    files = []
    reports = 0
    for root, dirs, names in os.walk(a.store):
        dirs.sort()
        for n in sorted(names):
            if n.startswith("."):
                continue
            path = os.path.join(root, n)
            key = os.path.relpath(path, a.store).replace(os.sep, "/")
            if key.startswith("reports/"):
                if a.limit and reports >= a.limit:
                    continue
                reports += 1
            files.append((path, key))

    def put(item):
        path, key = item
        with open(path, "rb") as f:
            s3.put_object(Bucket=a.bucket, Key=a.prefix + key, Body=f.read())

    with ThreadPoolExecutor(16) as ex:
        for _ in ex.map(put, files):
            pass
    print(f"{len(files)} objects ({reports} reports) into s3://{a.bucket}/{a.prefix}", file=sys.stderr)


main()
