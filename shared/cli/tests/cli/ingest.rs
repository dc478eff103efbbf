//! The `stsguard` binary end to end: arguments, exit codes, summaries and the
//! files it leaves in the store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::json;

use crate::support::{s3_bucket, samples, stsguard, text};

/// Files under `root`, as sorted `/`-separated paths relative to it.
fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn help_teaches_the_layout_and_exit_codes() {
    let out = stsguard(&["--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("ingest"), "{}", text(&out.stdout));
    let out = stsguard(&["ingest", "--help"]);
    let help = text(&out.stdout);
    for needle in [
        "reports/v1/day=YYYY-MM-DD/domain=DOMAIN/ID.json",
        "rejected/",
        "Exit status",
        "--store",
        "./stsguard-data",
    ] {
        assert!(help.contains(needle), "ingest --help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn ingests_the_samples_then_counts_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store_s = store.to_str().unwrap();
    let out = stsguard(&["ingest", "--store", store_s, samples().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        // google-eden.eml's report is also the first of google-eden-two-days.eml.
        summary.starts_with("5 inputs -> 4 reports written, 1 duplicate, 1 rejected (bad-gzip: 1)"),
        "{summary}"
    );
    assert!(
        summary.contains("\n5 warning(s) recorded in the reports written"),
        "{summary}"
    );
    assert!(summary.contains(&format!("store: {store_s}")), "{summary}");

    let files = files_under(&store);
    let reports: Vec<_> = files.iter().filter(|f| f.starts_with("reports/v1/")).collect();
    let rejected: Vec<_> = files.iter().filter(|f| f.starts_with("rejected/day=")).collect();
    assert_eq!(
        (reports.len(), rejected.len(), files.len()),
        (4, 1, 5),
        "{files:#?}"
    );
    assert!(files.contains(
        &"reports/v1/day=2024-09-03/domain=cardinalhealth.ca/9efc58c48406ae720eaa18a4e300dd08.json"
            .to_owned()
    ));
    for f in &reports {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(store.join(f)).unwrap()).unwrap();
        assert_eq!(v["schema"], "stsguard/report/v1");
        assert_eq!(v["source"]["channel"], "file");
    }
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join(rejected[0])).unwrap()).unwrap();
    assert_eq!(rec["reason"], "bad-gzip");
    assert!(rec["input"]["input"]
        .as_str()
        .unwrap()
        .ends_with("broken-truncated-gzip.eml"));

    // Again: nothing new, everything recognised.
    let out = stsguard(&[
        "ingest",
        "--store",
        store_s,
        "--format",
        "json",
        samples().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"], 5);
    assert_eq!(v["reports_written"], 0);
    assert_eq!(v["duplicates"], 5);
    assert_eq!(v["warnings"], 0);
    assert_eq!(v["rejected_already_stored"], 1);
    assert_eq!(v["rejected"], serde_json::json!({}));
    assert_eq!(files_under(&store).len(), 5);
}

#[test]
fn bare_report_files_are_reports() {
    let dir = tempfile::tempdir().unwrap();
    let json =
        std::fs::read(crate::support::shared_dir().join("tests/fixtures/corpus/seed-google-eden.json"))
            .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&json).unwrap();
    let other = String::from_utf8(json.clone())
        .unwrap()
        .replace("2024-11-08T00:00:00Z_eden.one", "zipped");
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zw.start_file("r.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    zw.write_all(other.as_bytes()).unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::write(
        inputs.join("google.com!eden.one!1731024000!1731110399!001.json.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    std::fs::write(inputs.join("r.zip"), zw.finish().unwrap().into_inner()).unwrap();
    std::fs::write(inputs.join(".hidden.json"), b"not even json").unwrap();
    let store = dir.path().join("s");
    let out = stsguard(&[
        "ingest",
        "-q",
        "--store",
        store.to_str().unwrap(),
        inputs.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("2 inputs -> 2 reports written, 0 duplicates, 0 rejected"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_conflicting_redelivery_is_counted_and_recorded_and_the_first_kept() {
    let dir = tempfile::tempdir().unwrap();
    let json = std::fs::read_to_string(
        crate::support::shared_dir().join("tests/fixtures/corpus/seed-google-eden.json"),
    )
    .unwrap();
    let changed = json.replacen(
        "\"total-failure-session-count\": 0",
        "\"total-failure-session-count\": 3",
        1,
    );
    assert_ne!(changed, json, "the fixture changed shape");
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, &json).unwrap();
    std::fs::write(&b, &changed).unwrap();
    let store = dir.path().join("s");
    let ingest = |format: &str, paths: &[&Path]| {
        let mut args = vec![
            "ingest",
            "-q",
            "--store",
            store.to_str().unwrap(),
            "--format",
            format,
        ];
        args.extend(paths.iter().map(|p| p.to_str().unwrap()));
        stsguard(&args)
    };
    let out = ingest("text", &[&a, &b]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .starts_with("2 inputs -> 1 report written, 0 duplicates, 0 rejected\n1 conflicting"),
        "{}",
        text(&out.stdout)
    );
    let conflicts: Vec<String> = files_under(&store)
        .into_iter()
        .filter(|f| f.rsplit('/').next().is_some_and(|n| n.starts_with("conflict-")))
        .collect();
    assert_eq!(conflicts.len(), 1, "{:?}", files_under(&store));
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join(&conflicts[0])).unwrap()).unwrap();
    assert_eq!(rec["schema"], "stsguard/conflict/v1");
    assert_eq!(rec["kept"]["input"], a.to_str().unwrap());
    assert_eq!(rec["dropped"]["input"], b.to_str().unwrap());
    // Again, in JSON: still a conflict (recorded once), and an exact copy of the
    // first is a duplicate.
    let out = ingest("json", &[&b, &a]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["conflicts"].as_u64(), v["duplicates"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(files_under(&store).len(), 2);
}

#[test]
fn oversize_file_is_quarantined_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.eml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((40 << 20) + 1).unwrap();
    let store = dir.path().join("s");
    let out = stsguard(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        big.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rejected"]["too-large"], 1);
    let files = files_under(&store);
    assert_eq!(files.len(), 1);
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join(&files[0])).unwrap()).unwrap();
    assert_eq!(rec["input"]["bytes"], (40u64 << 20) + 1);
    assert!(files[0].ends_with(&format!("{}.json", rec["input"]["sha256"].as_str().unwrap())));
}

#[test]
fn unusable_invocations_exit_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.eml");
    let out = stsguard(&[
        "ingest",
        "--store",
        dir.path().join("s").to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cannot read") && err.contains("nope.eml"), "{err}");

    // A store path that is a file.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let out = stsguard(&[
        "ingest",
        "--store",
        file.to_str().unwrap(),
        samples().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("store"), "{}", text(&out.stderr));

    let out = stsguard(&[
        "ingest",
        "--store",
        "s3://bucket/prefix",
        samples().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));

    // No PATH at all: clap's usage error, also 2.
    let out = stsguard(&["ingest"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
fn ingests_into_an_s3_store() {
    let (rt, client, bucket) = s3_bucket("stsguard-cli");

    let url = format!("s3://{bucket}/tenant-a");
    let out = stsguard(&["ingest", "--store", &url, samples().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("5 inputs -> 4 reports written, 1 duplicate, 1 rejected"),
        "{}",
        text(&out.stdout)
    );

    use stsguard::store::ObjectStore;
    let store = stsguard::store::s3::S3Store::new(client, &bucket, "");
    let keys = rt.block_on(store.list("")).unwrap();
    assert_eq!(keys.len(), 5, "{keys:#?}");
    assert!(keys
        .iter()
        .all(|k| k.starts_with("tenant-a/reports/v1/day=") || k.starts_with("tenant-a/rejected/day=")));

    // A bucket that does not exist: the store is unusable.
    let out = stsguard(&[
        "ingest",
        "--store",
        "s3://stsguard-no-such-bucket/x",
        samples().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unusable"), "{}", text(&out.stderr));
}

#[test]
fn directory_walk_takes_file_links_and_survives_link_loops() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    std::fs::copy(samples().join("google-eden.eml"), inputs.join("sub/a.eml")).unwrap();
    std::os::unix::fs::symlink(samples().join("microsoft-eden.eml"), inputs.join("b.eml")).unwrap();
    std::os::unix::fs::symlink(&inputs, inputs.join("sub/loop")).unwrap();
    let store = dir.path().join("s");
    let out = stsguard(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        inputs.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("2 inputs -> 2 reports written, 0 duplicates, 0 rejected"),
        "{}",
        text(&out.stdout)
    );
}

const POLICY: &[u8] = b"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n";

fn lint_with_policy(policy: &[u8], extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mta-sts.txt");
    std::fs::write(&file, policy).unwrap();
    let mut args = vec![
        "lint",
        "--domain",
        "example.com",
        "--policy",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    stsguard(&args)
}

#[test]
fn lint_domain_catches_an_uncovered_mx_and_passes_a_clean_deployment() {
    let records = [
        "--sts-record",
        "v=STSv1; id=20240601T000000",
        "--tlsrpt-record",
        "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
    ];
    let mut args = records.to_vec();
    args.extend([
        "--mx",
        "mx1.example.com",
        "--mx",
        "mx2.example.com",
        "--format",
        "json",
    ]);
    let out = lint_with_policy(POLICY, &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v.as_array().unwrap()[0];
    assert_eq!(
        (f["rule"].as_str(), f["severity"].as_str(), f["domain"].as_str()),
        (Some("XCK001"), Some("error"), Some("example.com"))
    );
    assert!(f["message"].as_str().unwrap().contains("mx2.example.com"));
    assert!(f["address"].is_null());
    assert!(!f["help"].as_str().unwrap().is_empty());

    let mut clean = records.to_vec();
    clean.extend(["--mx", "MX1.example.com."]);
    let out = lint_with_policy(POLICY, &clean);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("no findings"), "{}", text(&out.stdout));
}

#[test]
fn lint_domain_fail_on_threshold_dig_form_and_null_mx() {
    // A stale pattern is info: exit 0 by default, 1 with --fail-on info.
    let policy = b"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: old.example.com\r\nmax_age: 1209600\r\n";
    let out = lint_with_policy(policy, &["--mx", "mx1.example.com"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("XCK003"));
    let out = lint_with_policy(policy, &["--mx", "mx1.example.com", "--fail-on", "info"]);
    assert_eq!(out.status.code(), Some(1));

    // Character-strings as dig prints them are joined with no separator.
    let out = stsguard(&[
        "lint",
        "--domain",
        "example.com",
        "--sts-record",
        r#""v=STSv1; id=2024" "0601""#,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = stsguard(&[
        "lint",
        "--domain",
        "example.com",
        "--sts-record",
        r#""v=STSv1; id=2024" " 0601""#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("STS005"), "{}", text(&out.stdout));

    // Two records at _mta-sts: no policy for senders.
    let out = stsguard(&[
        "lint",
        "--domain",
        "example.com",
        "--sts-record",
        "v=STSv1; id=a",
        "--sts-record",
        "v=STSv1; id=b",
    ]);
    assert!(text(&out.stdout).contains("STS003"), "{}", text(&out.stdout));

    let out = lint_with_policy(POLICY, &["--mx", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("XCK002"));
    let out = lint_with_policy(POLICY, &["--no-mx"]);
    assert!(text(&out.stdout).contains("XCK002"));
    let out = lint_with_policy(POLICY, &["--no-mx", "--mx", "a.example.com"]);
    assert_eq!(out.status.code(), Some(2), "--no-mx and --mx conflict");
}

#[test]
fn lint_with_an_unreadable_policy_exits_2() {
    let out = stsguard(&[
        "lint",
        "--domain",
        "example.com",
        "--policy",
        "/nonexistent/mta-sts.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read the policy"),
        "{}",
        text(&out.stderr)
    );
    let out = stsguard(&["lint", "--help"]);
    assert!(text(&out.stdout).contains("XCK001") && text(&out.stdout).contains("Exit status"));
}

#[test]
fn lint_sarif_and_github_formats() {
    let out = lint_with_policy(POLICY, &["--mx", "mx2.example.com", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "stsguard");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "XCK001");
    let uri = v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.ends_with("mta-sts.txt"), "{uri}");

    let out = lint_with_policy(POLICY, &["--mx", "mx2.example.com", "--format", "github"]);
    let t = text(&out.stdout);
    assert!(
        t.starts_with("::error file=") && t.contains("title=XCK001 example.com::MX host mx2.example.com"),
        "{t}"
    );
    // Not a terminal: no colour codes in text output.
    let out = lint_with_policy(POLICY, &["--mx", "mx2.example.com"]);
    assert!(!text(&out.stdout).contains('\u{1b}'));
}

fn plans() -> PathBuf {
    crate::support::shared_dir().join("tests/fixtures/plans")
}

#[test]
fn lint_reads_terraform_plans_and_refuses_what_it_cannot_read() {
    let out = stsguard(&[
        "lint",
        plans().join("aws.json").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_rule = |rule: &str| v.as_array().unwrap().iter().find(|f| f["rule"] == rule).unwrap();
    let f = by_rule("POL011");
    assert_eq!(f["address"], "module.mail.module.org.aws_s3_object.policy");
    assert_eq!(f["domain"], "example.com");
    // The id and the policy change in one apply with nothing ordering them.
    assert_eq!(
        by_rule("XCK005")["address"],
        "module.mail.aws_route53_record.sts[0]"
    );
    // What could not be attributed is said, not guessed: a warning (nothing
    // about it was checked) without a domain, at the object's address, and
    // nothing on stderr.
    let pln = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "PLN001")
        .unwrap();
    assert_eq!(
        (&pln["severity"], &pln["domain"], &pln["address"]),
        (
            &json!("warning"),
            &json!(""),
            &json!("aws_s3_bucket_object.org_policy")
        )
    );
    assert!(pln["message"]
        .as_str()
        .unwrap()
        .contains("could not be attributed"));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().unwrap();
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v2, br#"{"format_version":"2.0","planned_values":{}}"#).unwrap();
    let out = stsguard(&["lint", v2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("format_version"),
        "{}",
        text(&out.stderr)
    );

    let out = stsguard(&["lint"]);
    assert_eq!(out.status.code(), Some(2), "neither a plan nor --domain");
    let out = stsguard(&["lint", v2.to_str().unwrap(), "--mx", "a.example.com"]);
    assert_eq!(out.status.code(), Some(2), "--mx belongs to --domain");
}

#[test]
fn explain_teaches_each_rule() {
    let out = stsguard(&["explain", "xck004"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with("XCK004: policy changed but the id did not\n\n")
            && text(&out.stdout).contains("new id")
            && text(&out.stdout).contains("Default severity: error.\nSee RFC 8461 §3.1, §5.1, §8.1."),
        "{}",
        text(&out.stdout)
    );
    let out = stsguard(&["explain", "all"]);
    assert_eq!(text(&out.stdout).lines().count(), stsguard::lint::RULES.len());
    let out = stsguard(&["explain", "STS999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown rule"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn lint_config_is_applied_and_its_errors_name_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plans().join("aws.json");
    let plan = plan.to_str().unwrap();
    let config = dir.path().join("stsguard.toml");
    let cfg = config.to_str().unwrap();

    std::fs::write(&config, "[rules]\nPOL011 = \"error\"\n").unwrap();
    let out = stsguard(&["lint", plan, "--config", cfg, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "POL011" && f["severity"] == "error"));
    // Without the file: the default severity, exit 0.
    let out = stsguard(&["lint", plan]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The --domain form takes the severities and ignores too.
    std::fs::write(
        &config,
        "[[ignore]]\nrule = \"XCK001\"\ndomain = \"example.com\"\nreason = \"migration\"\n",
    )
    .unwrap();
    let out = lint_with_policy(POLICY, &["--mx", "mx2.example.com", "--config", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("XCK001"), "{}", text(&out.stdout));

    for (body, needle) in [
        (
            "[rules]\nSTS009 = \"error\"\nSTS099 = \"off\"\n",
            "line 3, column 1: rules.STS099: unknown rule ID",
        ),
        (
            "domains = [\"example.com\"]\n\n[[policy]]\nadress = \"x\"\n",
            "line 4, column 1: adress: unknown field",
        ),
        (
            "[rules]\nSTS009 = \"loud\"\n",
            "line 2, column 10: rules.STS009: unknown severity \"loud\"",
        ),
    ] {
        std::fs::write(&config, body).unwrap();
        let out = stsguard(&["lint", plan, "--config", cfg]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = text(&out.stderr);
        assert!(err.contains(&format!("{cfg}: {needle}")), "{err}");
        assert!(out.stdout.is_empty());
    }
    std::fs::write(&config, b"domains = [\"\xff\"]\n").unwrap();
    let out = stsguard(&["lint", plan, "--config", cfg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not UTF-8"), "{}", text(&out.stderr));
    let out = stsguard(&["lint", plan, "--config", "/nonexistent/stsguard.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the config /nonexistent/stsguard.toml"));
    // --help documents the format.
    let help = text(&stsguard(&["lint", "--help"]).stdout);
    for needle in [
        "--config",
        "[[policy]]",
        "[[ignore]]",
        "[[zone]]",
        "--zone",
        "[rules]",
        "PLN001",
        "examples/stsguard.toml",
    ] {
        assert!(help.contains(needle), "lint --help lacks {needle:?}");
    }
}

#[test]
fn zones_managed_elsewhere_are_mapped_with_zone_or_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let record = |name: &str, value: &str| {
        json!({"address": format!("cloudflare_record.{}", name.trim_start_matches('_').replace('.', "_")),
               "mode": "managed", "type": "cloudflare_record", "name": "r",
               "values": {"zone_id": "cf-zone-1", "name": name, "type": "TXT", "content": value, "ttl": 60}})
    };
    let plan = json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [
            record("_mta-sts", "v=STSv1; id=20240601"),
            record("_smtp._tls", "v=TLSRPTv1; rua=mailto:tls@example.com"),
        ]}},
    });
    let path = dir.path().join("plan.json");
    std::fs::write(&path, plan.to_string()).unwrap();
    let plan = path.to_str().unwrap();

    // Unmapped: a warning per record that says how to map it (exit 0 with the
    // default --fail-on error), and nothing else was checked.
    let out = stsguard(&["lint", plan, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, ["PLN001", "PLN001"], "{v:#}");
    assert!(
        v[0]["message"]
            .as_str()
            .unwrap()
            .contains("--zone cf-zone-1=<domain>"),
        "{v:#}"
    );

    // Mapped on the command line: the TTL of 60 s on _mta-sts is judged.
    let out = stsguard(&[
        "lint",
        plan,
        "--format",
        "json",
        "--zone",
        "cf-zone-1=Example.COM.",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "STS009" && f["domain"] == "example.com"),
        "{v:#}"
    );
    assert!(!v.to_string().contains("PLN001"), "{v:#}");

    // Mapped in the configuration file: the same.
    let config = dir.path().join("stsguard.toml");
    std::fs::write(
        &config,
        "[[zone]]\nid = \"cf-zone-1\"\ndomain = \"example.com\"\n",
    )
    .unwrap();
    let out = stsguard(&[
        "lint",
        plan,
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(text(&out.stdout).contains("STS009"), "{}", text(&out.stdout));

    // Mappings the plan contradicts or does not use are errors that say where.
    let out = stsguard(&["lint", plan, "--zone", "other-zone=example.org"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--zone #1: zone id \"other-zone\" is used by no record"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(
        &config,
        "domains = [\"example.com\"]\n\n[[zone]]\nid = \"nope\"\ndomain = \"example.com\"\n",
    )
    .unwrap();
    let out = stsguard(&["lint", plan, "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("stsguard.toml: line 3, column 1: zone[0]: zone id \"nope\""),
        "{err}"
    );
    for bad in ["cf-zone-1", "=example.com", "cf-zone-1=not a domain"] {
        let out = stsguard(&["lint", plan, "--zone", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    let out = stsguard(&["lint", plan, "--zone", "a=example.com", "--zone", "a=example.org"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("mapped to example.org here and to example.com by --zone #1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn readme_lint_commands_and_config_are_true_to_the_cli() {
    let readme = std::fs::read_to_string(crate::support::shared_dir().join("../README.md")).unwrap();
    let help = text(&stsguard(&["lint", "--help"]).stdout);
    let mut commands = 0;
    for line in readme.lines().filter(|l| l.contains("stsguard lint ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let flag = w
                .trim_start_matches(['[', '`'])
                .split(['=', ']', '`', ':', ','])
                .next()
                .unwrap();
            if !flag.starts_with("--") || flag.len() < 3 {
                continue;
            }
            assert!(
                help.contains(flag),
                "README uses {flag} (in {line:?}), lint --help has no such flag"
            );
            let value = words.get(i + 1).copied().unwrap_or_default();
            match flag {
                "--format" if !value.contains('|') => {
                    assert!(["text", "json", "sarif", "github"].contains(&value), "{line}")
                }
                "--fail-on" if !value.contains('|') => {
                    assert!(["error", "warning", "info"].contains(&value), "{line}")
                }
                _ => {}
            }
        }
        commands += 1;
    }
    assert!(
        commands >= 8,
        "found only {commands} lint command lines in the README"
    );
    // The configuration example in the README parses.
    let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let config = stsguard::lint::config::LintConfig::parse(&readme[start..end]).unwrap();
    assert_eq!(config.policies.len(), 2);
    // The CI steps lint what `terraform show -json plan.out > plan.json` writes
    // and upload the SARIF the lint step writes.
    assert!(readme.contains("terraform show -json plan.out > plan.json"));
    assert!(readme.contains("--format sarif > lint.sarif") && readme.contains("sarif_file: lint.sarif"));
    assert!(readme.contains("github/codeql-action/upload-sarif"));
}

/// `n` distinct report files over 30 days and 40 domains (about one
/// directory per report, as a year's backfill has), in `dir`.
fn many_reports(dir: &Path, n: usize) -> Vec<String> {
    let json = std::fs::read_to_string(
        crate::support::shared_dir().join("tests/fixtures/corpus/seed-google-eden.json"),
    )
    .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let day = format!("2024-10-{:02}", 1 + i % 30);
            let body = json
                .replace("2024-11-08T00:00:00Z_eden.one", &format!("backfill-{i}"))
                .replace("2024-11-08", &day)
                .replace("\"eden.one\"", &format!("\"d{}.example\"", (i / 30) % 40));
            let p = dir.join(format!("r{i:05}.json"));
            std::fs::write(&p, body).unwrap();
            p.display().to_string()
        })
        .collect()
}

/// The store's files and bodies, with the time of ingestion taken out.
fn store_contents(store: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = files_under(store)
        .into_iter()
        .filter(|f| !f.rsplit('/').next().unwrap_or_default().starts_with(".tmp-"))
        .map(|f| {
            let mut v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(store.join(&f)).unwrap()).unwrap();
            if let Some(src) = v.get_mut("source").and_then(|s| s.as_object_mut()) {
                src.remove("received_at");
            }
            (f, v.to_string())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_backfill_killed_midway_and_run_again_equals_one_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    let n = 6000;
    many_reports(&inputs, n);
    let run = |store: &Path| {
        let mut cmd = crate::support::bin();
        cmd.args([
            "ingest",
            "-q",
            "--format",
            "json",
            "--store",
            store.to_str().unwrap(),
            inputs.to_str().unwrap(),
        ]);
        cmd
    };
    let whole = dir.path().join("whole");
    let out = run(&whole).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want = store_contents(&whole);
    assert_eq!(want.len(), n);

    // Killed (SIGKILL: no chance to tidy up) once some reports are stored.
    let killed = dir.path().join("killed");
    let reports = killed.join("reports");
    let mut child = run(&killed).stdout(std::process::Stdio::null()).spawn().unwrap();
    let start = std::time::Instant::now();
    let stored = |root: &Path| files_under(root).iter().filter(|f| !f.contains(".tmp-")).count();
    while stored(&reports) < n / 10 && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let before = store_contents(&killed)
        .into_iter()
        .filter(|(f, _)| f.starts_with("reports/"))
        .count();
    assert!(status.code().is_none(), "the run ended before it was killed");
    assert!(before > 0 && before < n, "{before} of {n} stored when killed");
    // Every report file present is whole (it parses; store_contents panics otherwise)
    // and is one of the uninterrupted run's.
    for (f, body) in store_contents(&killed) {
        assert!(
            want.contains(&(f.clone(), body)),
            "{f} differs from the uninterrupted run"
        );
    }

    // Run again: the rest is written, what was stored is a duplicate.
    let out = run(&killed).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reports_written"].as_u64(), Some((n - before) as u64), "{v}");
    assert_eq!(v["duplicates"].as_u64(), Some(before as u64), "{v}");
    assert_eq!(store_contents(&killed), want);
}
