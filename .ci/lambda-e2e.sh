#!/usr/bin/env bash
# The released Lambda binaries, end to end under a local Lambda Runtime API
# (cargo-lambda, from PyPI) against the local S3 and SES (moto): an SES
# Lambda-action event is delivered twice to ingest and the report must be
# written once, and a second mail's report opens one alert published to SNS
# once; then the digest binary digests the day before and that day, opens
# and publishes a domain-silent alert, lists the open alerts and sends each
# day's mail once;
# then the receive binary answers function URL events (the fixtures) and real
# HTTP requests through cargo-lambda's function URL emulation.
# Expects the AWS_* exports of `.ci/moto.sh start` in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AWS_ENDPOINT_URL:?run: eval \"\$(.ci/moto.sh start)\" first}"
VENV="${STSGUARD_CI_VENV:?}"
PORT="${STSGUARD_LAMBDA_PORT:-9311}"
[ -x "$VENV/bin/cargo-lambda" ] || "$VENV/bin/pip" install --quiet --disable-pip-version-check 'cargo-lambda>=1.8,<2'
export PATH="$VENV/bin:$PATH"

cargo build --release --locked -p stsguard-ingest -p stsguard-digest -p stsguard-receive
BIN=target/release/stsguard-ingest
DIGEST_BIN=target/release/stsguard-digest
RECEIVE_BIN=target/release/stsguard-receive
ls -l "$BIN" "$DIGEST_BIN" "$RECEIVE_BIN"

BUCKET="stsguard-lambda-e2e-$$"
MSG=k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81
MSG2=m3icr0s0ftr3p0rt7m41l2id9x8w7v6u5t4s3r2q
# The bucket, the two mails, the alert topic, and the SES event of the second
# mail (the fixture with its message id).
TOPIC=$("$VENV/bin/python" - "$BUCKET" "$MSG" "$MSG2" <<'PY'
import os, sys, boto3
bucket, msg, msg2 = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
s3.create_bucket(Bucket=bucket)
for name, m in (("google-eden.eml", msg), ("microsoft-eden.eml", msg2)):
    with open("shared/samples/" + name, "rb") as f:
        s3.put_object(Bucket=bucket, Key="incoming/" + m, Body=f.read())
with open("functions/ingest/tests/fixtures/ses-lambda-action.json") as f:
    event = f.read().replace(msg, msg2)
with open("/tmp/stsguard-lambda-e2e-ses2.json", "w") as f:
    f.write(event)
sns = boto3.client("sns", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
print(sns.create_topic(Name=bucket + "-alerts")["TopicArn"])
PY
)
echo "alert topic: $TOPIC"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
cargo lambda watch --only-lambda-apis -A 127.0.0.1 -P "$PORT" >/tmp/stsguard-lambda-watch.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_NAME=_ \
AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_LOG_FORMAT=JSON \
STSGUARD_BUCKET="$BUCKET" STSGUARD_ALERT_TOPIC_ARN="$TOPIC" "$BIN" >/tmp/stsguard-lambda-fn.log 2>&1 &
pids+=($!)

invoke() { cargo lambda invoke -A 127.0.0.1 -P "$PORT" --data-file functions/ingest/tests/fixtures/ses-lambda-action.json; }
first=$(invoke)
second=$(invoke)
third=$(cargo lambda invoke -A 127.0.0.1 -P "$PORT" --data-file /tmp/stsguard-lambda-e2e-ses2.json)
fourth=$(cargo lambda invoke -A 127.0.0.1 -P "$PORT" --data-file /tmp/stsguard-lambda-e2e-ses2.json)
echo "first:  $first"
echo "second: $second"
echo "third:  $third"
echo "fourth: $fourth"

"$VENV/bin/python" - "$BUCKET" "$TOPIC" "$first" "$second" "$third" "$fourth" <<'PY'
import json, os, sys, urllib.request, boto3
bucket, topic = sys.argv[1], sys.argv[2]
first, second, third, fourth = (json.loads(a) for a in sys.argv[3:7])
assert first["items"][0]["written"] and not first["items"][0]["duplicates"], first
assert second["items"][0]["duplicates"] == first["items"][0]["written"], second
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/")["Contents"]]
google = [k for k in keys if k.startswith("reports/v1/day=2024-11-08/domain=eden.one/")]
assert len(keys) == 2 and len(google) == 1, keys
report = json.loads(s3.get_object(Bucket=bucket, Key=google[0])["Body"].read())
assert report["source"]["channel"] == "ses" and report["source"]["verdicts"]["dkim"] == "pass", report["source"]
print("lambda e2e: report", google[0])
# The Microsoft report (2024-11-07, sts-policy-fetch-error on every session in
# testing mode) opens one alert on arrival; its redelivery announces nothing.
assert third["alert_messages"] == 1 and fourth["alert_messages"] == 0, (third, fourth)
state = json.load(urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/data.json"))
sent = [n for t in state["sns"]["Topic"] if t["arn"] == topic for n in t["sent_notifications"]]
assert [n[2] for n in sent] == ["[stsguard] ALERT eden.one: sts-policy-fetch-error failures"], sent
body = json.loads(sent[0][1])
assert body["notice"] == "opened" and body["alert"]["schema"] == "stsguard/alert/v1", body
assert body["alert"]["evidence"]["reporters"] == ["Microsoft Corporation"], body["alert"]["evidence"]
alerts = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="alerts/v1/")["Contents"]]
assert len(alerts) == 1 and alerts[0].startswith("alerts/v1/domain=eden.one/stopping-failure-"), alerts
print("lambda e2e: alert published", sent[0][2])
PY
grep -q '"ReportsWritten":1' /tmp/stsguard-lambda-fn.log || { echo "no EMF metric line"; cat /tmp/stsguard-lambda-fn.log; exit 1; }
grep -q '"level":"INFO"' /tmp/stsguard-lambda-fn.log || { echo "no JSON log line"; cat /tmp/stsguard-lambda-fn.log; exit 1; }

# The digest function: the ingest function leaves the runtime API to it.
kill "${pids[1]}" 2>/dev/null || true
wait "${pids[1]}" 2>/dev/null || true
FROM="digest-$$@example.com"
"$VENV/bin/python" - "$FROM" <<'PY'
import os, sys, boto3
boto3.client("ses", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1")).verify_email_identity(EmailAddress=sys.argv[1])
PY
AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_NAME=_ \
AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_LOG_FORMAT=JSON \
STSGUARD_BUCKET="$BUCKET" STSGUARD_DIGEST_FROM="$FROM" STSGUARD_DIGEST_TO="ops@example.com" \
STSGUARD_DOMAINS="eden.one,quiet.example" STSGUARD_ALERT_TOPIC_ARN="$TOPIC" "$DIGEST_BIN" >/tmp/stsguard-lambda-digest.log 2>&1 &
pids+=($!)
digest() { cargo lambda invoke -A 127.0.0.1 -P "$PORT" --data-ascii "$1"; }
d0=$(digest '{"day": "2024-11-07"}')
d1=$(digest '{"time": "2024-11-09T06:00:00Z"}')
d2=$(digest '{"day": "2024-11-08"}')
echo "digest 11-07:  $d0"
echo "digest first:  $d1"
echo "digest second: $d2"
"$VENV/bin/python" - "$BUCKET" "$FROM" "$TOPIC" "$d0" "$d1" "$d2" <<'PY'
import json, os, sys, urllib.request, boto3
bucket, sender, topic = sys.argv[1], sys.argv[2], sys.argv[3]
before, first, second = (json.loads(a) for a in sys.argv[4:7])
assert before["day"] == "2024-11-07" and before["mail"] == "sent" and before["alert_messages"] == 0, before
assert first["day"] == "2024-11-08" and first["reports"] == 1 and first["mail"] == "sent", first
# The alert opened on arrival stays open (Microsoft, who reported the failure,
# has not reported 2024-11-08, so nothing shows it gone); quiet.example, an
# expected domain, has had no report on 2024-11-07 (the day before has a
# digest) nor on 2024-11-08: the digest function opens and publishes a
# domain-silent alert. The digest lists both.
assert first["open_alerts"] == 2 and first["alert_messages"] == 1, first
assert second["mail"] == "already-sent" and second["alert_messages"] == 0, second
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="digests/")["Contents"]}
assert keys == {f"digests/day={d}.{e}" for d in ("2024-11-07", "2024-11-08") for e in ("json", "html", "eml", "sent")}, keys
digest = json.loads(s3.get_object(Bucket=bucket, Key="digests/day=2024-11-08.json")["Body"].read())
assert sorted(a["rule"] for a in digest["open_alerts"]) == ["domain-silent", "stopping-failure"], digest["open_alerts"]
state = json.load(urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/data.json"))
sent = [m for m in state["ses"]["RawMessage"] if f"From: {sender}\r\n" in m["raw_data"]]
assert len(sent) == 2 and all("ops@example.com" in m["destinations"] for m in sent), sent
assert any("Subject: TLS report digest 2024-11-08: 2 domains," in m["raw_data"] for m in sent), [m["raw_data"][:300] for m in sent]
published = [n[2] for t in state["sns"]["Topic"] if t["arn"] == topic for n in t["sent_notifications"]]
assert published == [
    "[stsguard] ALERT eden.one: sts-policy-fetch-error failures",
    "[stsguard] ALERT quiet.example: no reports",
], published
print("lambda e2e: digest", sorted(keys), "alerts", published)
PY
grep -q '"DigestSent":1' /tmp/stsguard-lambda-digest.log || { echo "no digest EMF line"; cat /tmp/stsguard-lambda-digest.log; exit 1; }
grep -q '"AlertMessages":1' /tmp/stsguard-lambda-digest.log || { echo "no digest alert EMF line"; cat /tmp/stsguard-lambda-digest.log; exit 1; }

# The receive function, on a bucket that does not exist yet (storage down),
# with a 4 KiB body cap so that an oversize body is cheap to send.
kill "${pids[2]}" 2>/dev/null || true
wait "${pids[2]}" 2>/dev/null || true
RBUCKET="stsguard-lambda-e2e-receive-$$"
AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_NAME=_ \
AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_LOG_FORMAT=JSON \
STSGUARD_BUCKET="$RBUCKET" STSGUARD_MAX_BODY_BYTES=4096 "$RECEIVE_BIN" >/tmp/stsguard-lambda-receive.log 2>&1 &
pids+=($!)
"$VENV/bin/python" .ci/receive-e2e.py "$PORT" "$RBUCKET"
grep -q '"StorageFailures":1' /tmp/stsguard-lambda-receive.log || { echo "no receive EMF line"; cat /tmp/stsguard-lambda-receive.log; exit 1; }
echo "lambda e2e: 3 passed, 0 failed"
