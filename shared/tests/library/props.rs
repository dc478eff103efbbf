//! Property tests: arbitrary bytes into mail extraction, payload decoding and
//! report parsing never panic, and every input ends as reports or a rejection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use proptest::prelude::*;
use stsguard::ingest::{prepare, IngestConfig, InputContext, InputKind};
use stsguard::report::{parse_report, ReportHints};
use stsguard::{mail, payload, Limits};

const SEED_JSON: &str = include_str!("../fixtures/corpus/rfc8460-example-mxhost-string.json");
const SEED_MAIL: &[u8] = include_bytes!("../fixtures/corpus/google-cardinalhealth.eml");

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_218_400, 0).unwrap()
}

/// Applies byte edits (position, new byte) to a seed.
fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut v = seed.to_vec();
    for (pos, b) in edits {
        if !v.is_empty() {
            let i = pos % v.len();
            v[i] = *b;
        }
    }
    if let Some(c) = cut {
        v.truncate(c % (seed.len() + 1));
    }
    v
}

fn check_total(raw: &[u8], kind: InputKind) {
    let p = prepare(
        raw,
        kind,
        &InputContext::default(),
        &IngestConfig::default(),
        now(),
    );
    // Nothing is lost: an input gives at least one report or a rejection record.
    assert!(!p.reports.is_empty() || p.rejection.is_some());
    for (key, r) in &p.reports {
        assert!(key.starts_with("reports/v1/day="));
        assert!(
            !key.split('/').any(|s| s.is_empty() || s == "." || s == ".."),
            "{key}"
        );
        assert_eq!(r.day.len(), 10);
    }
}

proptest! {
    // 512 cases in CI; `PROPTEST_CASES=100000` for a long run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = mail::extract(&bytes, &Limits::default());
        let _ = payload::decode(&bytes, &Limits::default());
        let _ = parse_report(&bytes, &Limits::default(), &ReportHints::default());
        check_total(&bytes, InputKind::Mail);
        check_total(&bytes, InputKind::Payload);
    }

    #[test]
    fn mutated_reports_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let json = mutate(SEED_JSON.as_bytes(), &edits, cut);
        let _ = parse_report(&json, &Limits::default(), &ReportHints::default());
        check_total(&json, InputKind::Payload);
    }

    #[test]
    fn mutated_json_tokens_never_panic(
        // Replace one value-like token with another JSON value of any type.
        target in prop::sample::select(vec![
            "5326", "303", "\"sts\"", "\"company-y.example\"", "\"2016-04-01T00:00:00Z\"",
            "\"certificate-expired\"", "100", "\"*.mail.company-y.example\"", "\"Company-X\"",
        ]),
        replacement in prop::sample::select(vec![
            "null", "true", "-1", "1.5", "1e400", "18446744073709551616", "\"\"", "\"12\"", "[]",
            "{}", "[[[]]]", "\"\\u0000\"", "\"\\ud800\"", "0.0", "\"2016-04-01\"",
        ]),
    ) {
        let json = SEED_JSON.replacen(target, replacement, 1);
        let _ = parse_report(json.as_bytes(), &Limits::default(), &ReportHints::default());
        check_total(json.as_bytes(), InputKind::Payload);
    }

    #[test]
    fn mutated_mail_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..16),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let raw = mutate(SEED_MAIL, &edits, cut);
        check_total(&raw, InputKind::Mail);
    }
}
