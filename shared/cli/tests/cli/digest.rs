//! `stsguard digest` end to end on the real binary: a day of the bundled
//! samples, the files it leaves in the store, its formats and its refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use crate::support::{s3_bucket, samples, stsguard, text};

/// A store holding the ingested samples.
fn sample_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = stsguard(&[
        "ingest",
        "-q",
        "--store",
        dir.path().to_str().unwrap(),
        samples().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

#[test]
fn digests_a_sample_day_into_the_store_and_prints_it() {
    let store = sample_store();
    let s = store.path().to_str().unwrap();
    // The day before first, so the second day has a trend.
    let out = stsguard(&[
        "digest",
        "--store",
        s,
        "--day",
        "2024-11-08",
        "--domain",
        "eden.one",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = stsguard(&[
        "digest",
        "--store",
        s,
        "--day",
        "2024-11-09",
        "--domain",
        "eden.one",
        "--domain",
        "quiet.example",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("TLS report digest 2024-11-09: 2 domains, 87.5% TLS success, 2 need attention\n"),
        "{stdout}"
    );
    assert!(stdout.contains("certificate-host-mismatch 1 (new)"), "{stdout}");
    assert!(stdout.contains("Check first: The SAN list"), "{stdout}");
    assert!(stdout.contains("-12.5 pt vs the day before"), "{stdout}");
    assert!(stdout.contains("quiet.example: no reports"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("1 report in 2 domains"), "{stderr}");
    assert!(stderr.contains("1 earlier digest"), "{stderr}");
    assert!(stderr.contains("not sent"), "{stderr}");
    for ext in ["json", "html", "eml"] {
        assert!(
            store
                .path()
                .join(format!("digests/day=2024-11-09.{ext}"))
                .is_file(),
            "{ext}"
        );
    }
    assert!(!store.path().join("digests/day=2024-11-09.sent").exists());
}

#[test]
fn json_and_html_formats_and_out_file() {
    let store = sample_store();
    let s = store.path().to_str().unwrap();
    let out = stsguard(&["digest", "--store", s, "--day", "2024-11-09", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "stsguard/digest/v1");
    assert_eq!(v["domains"][0]["domain"], "eden.one");
    assert_eq!(v["domains"][0]["result_types"]["certificate-host-mismatch"], 1);
    assert_eq!(v["domains"][0]["organizations"][0]["name"], "Google Inc.");

    let page = store.path().join("page.html");
    let out = stsguard(&[
        "digest",
        "--store",
        s,
        "--day",
        "2024-11-09",
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("data:image/png;base64,"));
}

#[test]
fn refusals_exit_2_with_a_reason() {
    let store = sample_store();
    let s = store.path().to_str().unwrap();
    for (args, needle) in [
        (
            vec!["digest", "--store", s, "--send"],
            "--send needs at least one --to",
        ),
        (
            vec![
                "digest",
                "--store",
                s,
                "--to",
                "ops@example.com\r\nBcc: x@y.example",
            ],
            "--to",
        ),
        (
            vec!["digest", "--store", s, "--from", "Ops <ops@example.com>"],
            "--from",
        ),
        (
            vec!["digest", "--store", s, "--failure-jump=-3"],
            "--failure-jump",
        ),
        (
            vec!["digest", "--store", "s3://", "--day", "2024-11-09"],
            "expected s3://BUCKET/PREFIX",
        ),
    ] {
        let out = stsguard(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = stsguard(&["digest", "--store", s, "--day", "09/11/2024"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a date like 2024-11-08"),
        "{}",
        text(&out.stderr)
    );
    let help = text(&stsguard(&["digest", "--help"]).stdout);
    for needle in [
        "digests/day=DAY.json",
        "--send",
        "Exit status",
        "SendRawEmail",
        "day=DAY.sent",
    ] {
        assert!(help.contains(needle), "digest --help lacks {needle:?}");
    }
}

#[test]
#[ignore = "needs a local S3/SES endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
fn digests_an_s3_store_and_sends_through_ses() {
    let (rt, client, bucket) = s3_bucket("stsguard-digest-cli");
    let url = format!("s3://{bucket}/tenant-b");
    let out = stsguard(&["ingest", "-q", "--store", &url, samples().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let from = format!("digest-cli-{}@example.com", std::process::id());
    let args = [
        "digest",
        "--store",
        &url,
        "--day",
        "2024-11-09",
        "--send",
        "--from",
        &from,
        "--to",
        "ops@example.com",
    ];
    // An unverified sender: SES refuses, the command fails, nothing is marked sent.
    let out = stsguard(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("sending the mail failed"),
        "{}",
        text(&out.stderr)
    );

    let shared = rt.block_on(aws_config::load_defaults(aws_config::BehaviorVersion::latest()));
    let ses = aws_sdk_ses::Client::new(&shared);
    rt.block_on(ses.verify_email_identity().email_address(&from).send())
        .unwrap();
    let out = stsguard(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("sent (message id"),
        "{}",
        text(&out.stderr)
    );
    let out = stsguard(&args);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("already sent"),
        "{}",
        text(&out.stderr)
    );

    use stsguard::store::ObjectStore;
    let store = stsguard::store::s3::S3Store::new(client, &bucket, "tenant-b/");
    let keys = rt.block_on(store.list("digests/")).unwrap();
    assert_eq!(
        keys,
        [
            "digests/day=2024-11-09.eml",
            "digests/day=2024-11-09.html",
            "digests/day=2024-11-09.json",
            "digests/day=2024-11-09.sent"
        ]
    );
}
