//! `stsguard alerts` end to end on the real binary: the daily evaluation of
//! the bundled samples, once per condition, and the listing formats.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use crate::support::{samples, stsguard, text};

#[test]
fn evaluates_a_sample_day_announces_once_and_lists_the_open_alert() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().to_str().unwrap();
    let out = stsguard(&["ingest", "-q", "--store", s, samples().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let empty = stsguard(&["alerts", "--store", s]);
    assert!(empty.status.success());
    assert_eq!(text(&empty.stdout), "no open alerts\n");

    let eval = [
        "alerts",
        "--store",
        s,
        "--evaluate",
        "--day",
        "2024-11-09",
        "--domain",
        "eden.one",
    ];
    let first = stsguard(&eval);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let err = text(&first.stderr);
    assert!(
        err.contains("[stsguard] ALERT eden.one: certificate-host-mismatch failures"),
        "{err}"
    );
    assert!(err.contains("Check first:"), "{err}");
    assert!(err.contains("1 message(s)"), "{err}");
    assert!(text(&first.stdout).starts_with("OPEN     eden.one stopping-failure (certificate-host-mismatch)"));

    // The same day again: the condition is known, no second message.
    let again = stsguard(&eval);
    assert!(again.status.success());
    assert!(
        !text(&again.stderr).contains("[stsguard] ALERT"),
        "{}",
        text(&again.stderr)
    );
    assert!(text(&again.stderr).contains("0 message(s)"));

    let json = stsguard(&["alerts", "--store", s, "--all", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let alerts = v.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{v}");
    let a = &alerts[0];
    assert_eq!(a["schema"], "stsguard/alert/v1");
    assert_eq!(
        (a["domain"].as_str(), a["rule"].as_str(), a["state"].as_str()),
        (Some("eden.one"), Some("stopping-failure"), Some("open"))
    );
    assert_eq!(a["evidence"]["day"], "2024-11-09");
    assert_eq!(a["evidence"]["reporters"][0], "Google Inc.");
    assert!(a["first_seen"].is_string() && a["last_seen"].is_string());

    // The digest of the day lists the open alert.
    let digest = stsguard(&["digest", "--store", s, "--day", "2024-11-09"]);
    assert!(digest.status.success(), "{}", text(&digest.stderr));
    assert!(
        text(&digest.stdout).contains(
            "Open alerts (1):\n- eden.one stopping-failure (certificate-host-mismatch), open since "
        ),
        "{}",
        text(&digest.stdout)
    );

    // --day without --evaluate is refused.
    let bad = stsguard(&["alerts", "--store", s, "--day", "2024-11-09"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn thresholds_come_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("store");
    let s = s.to_str().unwrap();
    let out = stsguard(&["ingest", "-q", "--store", s, samples().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = dir.path().join("stsguard.toml");
    // 12.5% of the day's sessions failed in testing mode: under a 20% share.
    std::fs::write(
        &config,
        "domains = [\"eden.one\"]\n[alerts]\ntesting_share_percent = 20\n",
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let out = stsguard(&[
        "alerts",
        "--store",
        s,
        "--evaluate",
        "--day",
        "2024-11-09",
        "--config",
        c,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("0 condition(s) hold"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&config, "[alerts]\nsilence_days = 99\n").unwrap();
    let bad = stsguard(&["alerts", "--store", s, "--evaluate", "--config", c]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("alerts.silence_days"),
        "{}",
        text(&bad.stderr)
    );
}
