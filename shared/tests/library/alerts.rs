//! Alerts: each rule firing and not, over reports ingested into a memory
//! store from RFC 8460 JSON and the digests of earlier days; the
//! once-per-condition, reminder and recovery logic; the per-run cap; hostile
//! reporter names.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use stsguard::alerts::run::{run, stored_alerts, AlertPaths, Notifier, NotifyError, Scope};
use stsguard::alerts::{evaluate, step, subject, AlertConfig, Evaluation, Facts, Notice, Rule, State, When};
use stsguard::digest::{Aggregator, DigestConfig, DigestKeys};
use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
use stsguard::keys::Layout;
use stsguard::store::{MemoryStore, ObjectStore};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(day: NaiveDate, hour: i64) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::hours(hour)
}

/// One report in RFC 8460 JSON.
struct Raw<'a> {
    org: &'a str,
    id: String,
    day: NaiveDate,
    domain: &'a str,
    /// `enforce`, `testing`, or `tlsa` for a DANE policy.
    mode: &'a str,
    ok: u64,
    failures: Vec<(&'a str, u64)>,
}

impl Raw<'_> {
    fn json(&self) -> Vec<u8> {
        let failed: u64 = self.failures.iter().map(|f| f.1).sum();
        let policy = if self.mode == "tlsa" {
            serde_json::json!({"policy-type": "tlsa", "policy-string": ["3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
                "policy-domain": self.domain, "mx-host": [format!("mx1.{}", self.domain)]})
        } else {
            serde_json::json!({"policy-type": "sts", "policy-string": ["version: STSv1", format!("mode: {}", self.mode), format!("mx: mx1.{}", self.domain), "max_age: 86400"],
                "policy-domain": self.domain, "mx-host": [format!("mx1.{}", self.domain)]})
        };
        let details: Vec<_> = self
            .failures
            .iter()
            .map(|(t, n)| {
                serde_json::json!({"result-type": t, "sending-mta-ip": "192.0.2.1",
                "receiving-mx-hostname": format!("mx1.{}", self.domain), "failed-session-count": n})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "organization-name": self.org,
            "date-range": {"start-datetime": format!("{}T00:00:00Z", self.day), "end-datetime": format!("{}T23:59:59Z", self.day)},
            "contact-info": "tlsrpt@reporter.example",
            "report-id": self.id,
            "policies": [{"policy": policy, "summary": {"total-successful-session-count": self.ok, "total-failure-session-count": failed}, "failure-details": details}],
        }))
        .unwrap()
    }
}

fn raw<'a>(
    org: &'a str,
    day: NaiveDate,
    domain: &'a str,
    mode: &'a str,
    ok: u64,
    failures: Vec<(&'a str, u64)>,
) -> Raw<'a> {
    Raw {
        org,
        id: format!("{org}-{day}-{domain}-{ok}-{}", failures.len()),
        day,
        domain,
        mode,
        ok,
        failures,
    }
}

fn ingest_raw(store: &MemoryStore, r: &Raw<'_>) {
    let ctx = InputContext {
        channel: "test".into(),
        ..InputContext::default()
    };
    let prepared = ingest::prepare(
        &r.json(),
        InputKind::Payload,
        &ctx,
        &IngestConfig::default(),
        at(r.day, 30),
    );
    let o = block_on(ingest::store_prepared(store, prepared)).unwrap();
    assert!(o.rejected.is_none() && o.written.len() == 1, "{o:?}");
}

/// Stores the digest of `day` (as the digest run would).
fn digest_day(store: &MemoryStore, day: NaiveDate) {
    let mut agg = Aggregator::new(day);
    let keys = block_on(store.list(&Layout::default().report_day_prefix(&day.to_string()))).unwrap();
    for k in keys {
        agg.add_json(&block_on(store.get(&k)).unwrap().unwrap()).unwrap();
    }
    let d = agg.finish(&DigestConfig::default(), &[]);
    let key = DigestKeys::default().key(&day.to_string(), "json");
    block_on(store.put(&key, serde_json::to_vec(&d).unwrap())).unwrap();
}

fn facts_of(reports: &[Raw<'_>]) -> Facts {
    let store = MemoryStore::new();
    let mut facts = Facts::new();
    for r in reports {
        ingest_raw(&store, r);
    }
    for k in block_on(store.list("reports/")).unwrap() {
        facts.add_json(&block_on(store.get(&k)).unwrap().unwrap());
    }
    facts
}

fn rules(firing: &[stsguard::alerts::Firing]) -> Vec<(String, Rule, String)> {
    firing
        .iter()
        .map(|f| (f.domain.clone(), f.rule, f.subject.clone()))
        .collect()
}

const D: &str = "2024-11-20";

fn w(day: NaiveDate, kind: Evaluation, now: DateTime<Utc>) -> When {
    When { day, kind, now }
}

#[test]
fn a_stopping_failure_fires_under_enforce_even_once_and_in_testing_only_above_the_share() {
    let day = date(D);
    let config = AlertConfig::default();
    let cases: Vec<(Raw<'_>, bool)> = vec![
        (
            raw(
                "Google",
                day,
                "a.example",
                "enforce",
                999,
                vec![("certificate-expired", 1)],
            ),
            true,
        ),
        (
            raw(
                "Google",
                day,
                "b.example",
                "testing",
                990,
                vec![("certificate-expired", 10)],
            ),
            false,
        ),
        (
            raw(
                "Google",
                day,
                "c.example",
                "testing",
                900,
                vec![("sts-webpki-invalid", 100)],
            ),
            true,
        ),
        (
            raw(
                "Google",
                day,
                "d.example",
                "enforce",
                900,
                vec![("validation-failure", 100)],
            ),
            false,
        ),
        (
            raw("Google", day, "e.example", "tlsa", 999, vec![("tlsa-invalid", 1)]),
            true,
        ),
        (raw("Google", day, "f.example", "enforce", 1000, vec![]), false),
    ];
    for (r, fires) in &cases {
        let facts = facts_of(std::slice::from_ref(r));
        let got = evaluate(day, facts.domains(), &[], &config, Evaluation::Arrival);
        assert_eq!(!got.is_empty(), *fires, "{}: {:?}", r.domain, rules(&got));
        if *fires {
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].rule, Rule::StoppingFailure);
            assert_eq!(got[0].subject, r.failures[0].0);
            let ev = &got[0].evidence;
            assert_eq!(ev.reporters, ["Google"]);
            assert_eq!(ev.mx_hosts, [format!("mx1.{}", r.domain)]);
            assert_eq!(ev.report_ids.len(), 1);
            assert_eq!(ev.day, D);
        }
    }
    // The share is configurable.
    let lenient = AlertConfig {
        testing_share_percent: 20.0,
        ..AlertConfig::default()
    };
    let facts = facts_of(&[raw(
        "Google",
        day,
        "c.example",
        "testing",
        900,
        vec![("sts-webpki-invalid", 100)],
    )]);
    assert!(evaluate(day, facts.domains(), &[], &lenient, Evaluation::Arrival).is_empty());
}

/// Stores `days` of daily reports before `day` with the given failure share.
fn baseline(store: &MemoryStore, day: NaiveDate, days: i64, org: &str, domain: &str) {
    for back in (1..=days).rev() {
        let d = day - Duration::days(back);
        ingest_raw(store, &raw(org, d, domain, "testing", 100, vec![]));
        digest_day(store, d);
    }
}

fn history(store: &MemoryStore, day: NaiveDate) -> Vec<stsguard::digest::Digest> {
    (1..=16)
        .filter_map(|back| {
            let key = DigestKeys::default().key(&(day - Duration::days(back)).to_string(), "json");
            block_on(store.get(&key))
                .unwrap()
                .map(|b| serde_json::from_slice(&b).unwrap())
        })
        .collect()
}

#[test]
fn a_failure_rate_jump_over_the_7_day_baseline_fires_and_a_small_or_steady_one_does_not() {
    let day = date(D);
    let store = MemoryStore::new();
    baseline(&store, day, 7, "Google", "a.example");
    let past = history(&store, day);
    let config = AlertConfig::default();
    // 20% failed (not a stopping type), baseline 0%: fires.
    let jump = facts_of(&[raw(
        "Google",
        day,
        "a.example",
        "testing",
        80,
        vec![("validation-failure", 20)],
    )]);
    let got = evaluate(day, jump.domains(), &past, &config, Evaluation::Arrival);
    assert_eq!(
        rules(&got),
        [("a.example".into(), Rule::FailureJump, String::new())]
    );
    assert!(
        got[0].evidence.summary.contains("20.0%"),
        "{}",
        got[0].evidence.summary
    );
    // 4% failed: within 5 points.
    let steady = facts_of(&[raw(
        "Google",
        day,
        "a.example",
        "testing",
        96,
        vec![("validation-failure", 4)],
    )]);
    assert!(evaluate(day, steady.domains(), &past, &config, Evaluation::Arrival).is_empty());
    // Too few sessions to judge.
    let small = facts_of(&[raw(
        "Google",
        day,
        "a.example",
        "testing",
        8,
        vec![("validation-failure", 2)],
    )]);
    assert!(evaluate(day, small.domains(), &past, &config, Evaluation::Arrival).is_empty());
    // No baseline: nothing to compare with.
    assert!(evaluate(day, jump.domains(), &[], &config, Evaluation::Arrival).is_empty());
}

/// A fortnight: Google reports every day until two days before `day`,
/// Microsoft on three days only, Yahoo every day including the last two.
fn fortnight(store: &MemoryStore, day: NaiveDate) {
    for back in (1..=16).rev() {
        let d = day - Duration::days(back);
        if back >= 2 {
            ingest_raw(store, &raw("Google", d, "a.example", "enforce", 100, vec![]));
        }
        if [5, 9, 12].contains(&back) {
            ingest_raw(store, &raw("Microsoft", d, "a.example", "enforce", 10, vec![]));
        }
        ingest_raw(store, &raw("Yahoo", d, "a.example", "enforce", 10, vec![]));
        digest_day(store, d);
    }
}

#[test]
fn a_regular_reporter_silent_for_two_days_fires_daily_only() {
    let day = date(D);
    let store = MemoryStore::new();
    fortnight(&store, day);
    let past = history(&store, day);
    let config = AlertConfig::default();
    // Today Yahoo reports; Google has been silent on day-1 and today.
    let today = facts_of(&[raw("Yahoo", day, "a.example", "enforce", 10, vec![])]);
    let got = evaluate(day, today.domains(), &past, &config, Evaluation::Daily);
    assert_eq!(
        rules(&got),
        [("a.example".into(), Rule::ReporterSilent, "Google".into())]
    );
    assert!(
        got[0].evidence.summary.starts_with(
            "Google reported this domain on 14 of the 14 days before and has sent nothing for 2 days"
        ),
        "{}",
        got[0].evidence.summary
    );
    // Not judged on arrival.
    assert!(evaluate(day, today.domains(), &past, &config, Evaluation::Arrival).is_empty());
    // Google back today: quiet.
    let back = facts_of(&[raw("Google", day, "a.example", "enforce", 10, vec![])]);
    assert!(evaluate(day, back.domains(), &past, &config, Evaluation::Daily).is_empty());
    // Without the digest of the day before, silence is not judged.
    let gap: Vec<_> = past
        .iter()
        .filter(|d| d.day != (day - Duration::days(1)).to_string())
        .cloned()
        .collect();
    assert!(evaluate(day, today.domains(), &gap, &config, Evaluation::Daily).is_empty());
}

#[test]
fn an_expected_domain_without_reports_for_two_days_fires() {
    let day = date(D);
    let store = MemoryStore::new();
    baseline(&store, day, 3, "Google", "other.example");
    let past = history(&store, day);
    let config = AlertConfig {
        domains: vec!["a.example".into(), "other.example".into()],
        ..AlertConfig::default()
    };
    let none = Facts::new();
    let got = evaluate(day, none.domains(), &past, &config, Evaluation::Daily);
    assert_eq!(
        rules(&got),
        [("a.example".into(), Rule::DomainSilent, String::new())]
    );
    let today = facts_of(&[raw("Google", day, "a.example", "enforce", 10, vec![])]);
    assert!(evaluate(day, today.domains(), &past, &config, Evaluation::Daily).is_empty());
}

#[test]
fn one_message_per_condition_a_reminder_later_and_one_when_it_clears() {
    let day = date(D);
    let config = AlertConfig::default();
    let facts = facts_of(&[raw(
        "Google",
        day,
        "a.example",
        "enforce",
        90,
        vec![("certificate-expired", 10)],
    )]);
    let firing = evaluate(day, facts.domains(), &[], &config, Evaluation::Arrival);
    let f = &firing[0];

    let (a1, n1) = step(
        None,
        Some(f),
        w(day, Evaluation::Arrival, at(day, 30)),
        true,
        &config,
    );
    let a1 = a1.unwrap();
    assert_eq!((a1.state, n1), (State::Open, Some(Notice::Opened)));
    // The next report of the same condition: stored, no message.
    let (a2, n2) = step(
        Some(&a1),
        Some(f),
        w(day, Evaluation::Arrival, at(day, 31)),
        true,
        &config,
    );
    let a2 = a2.unwrap();
    assert_eq!(n2, None);
    assert_eq!(a2.first_seen, a1.first_seen);
    assert_ne!(a2.last_seen, a1.last_seen);
    // A day later, still holding: a reminder.
    let (a3, n3) = step(
        Some(&a2),
        Some(f),
        w(day, Evaluation::Daily, at(day, 55)),
        true,
        &config,
    );
    assert_eq!(n3, Some(Notice::Reminder));
    let a3 = a3.unwrap();
    // A report without it on arrival changes nothing; the daily run resolves.
    assert_eq!(
        step(
            Some(&a3),
            None,
            w(day, Evaluation::Arrival, at(day, 56)),
            true,
            &config
        ),
        (None, None)
    );
    let (a4, n4) = step(
        Some(&a3),
        None,
        w(day, Evaluation::Daily, at(day, 78)),
        true,
        &config,
    );
    let a4 = a4.unwrap();
    assert_eq!((a4.state, n4), (State::Resolved, Some(Notice::Resolved)));
    assert!(a4.resolved_at.is_some());
    // A resolved alert stays as it is while the condition is absent.
    assert_eq!(
        step(
            Some(&a4),
            None,
            w(day, Evaluation::Daily, at(day, 102)),
            true,
            &config
        ),
        (None, None)
    );
    // A late report of the same day does not reopen what that day resolved.
    assert_eq!(
        step(
            Some(&a4),
            Some(f),
            w(day, Evaluation::Arrival, at(day, 80)),
            false,
            &config
        ),
        (None, None)
    );
    // The next day fires again within the hour after the last message: open,
    // but no message yet; the next evaluation after the hour announces it.
    let next = day + Duration::days(1);
    let mut g = f.clone();
    g.evidence.day = next.to_string();
    let (a5, n5) = step(
        Some(&a4),
        Some(&g),
        w(next, Evaluation::Arrival, at(day, 78) + Duration::minutes(10)),
        false,
        &config,
    );
    let a5 = a5.unwrap();
    assert_eq!((a5.state, n5, a5.announced), (State::Open, None, false));
    assert_ne!(a5.first_seen, a1.first_seen, "a new open period");
    let (a6, n6) = step(
        Some(&a5),
        Some(&g),
        w(next, Evaluation::Arrival, at(day, 79) + Duration::minutes(5)),
        false,
        &config,
    );
    assert_eq!(n6, Some(Notice::Opened));
    assert!(a6.unwrap().announced);
    // A backfill of an earlier day neither resolves nor rewinds it.
    let before = day - Duration::days(1);
    assert_eq!(
        step(
            Some(&a3),
            None,
            w(before, Evaluation::Daily, at(day, 60)),
            true,
            &config
        ),
        (None, None)
    );
    // Without positive evidence (the reporters have not reported the day),
    // nothing is resolved.
    assert_eq!(
        step(
            Some(&a3),
            None,
            w(day, Evaluation::Daily, at(day, 78)),
            false,
            &config
        ),
        (None, None)
    );
    // An alert whose opening was held back is still announced when it clears.
    let (quiet, n7) = step(
        Some(&a5),
        None,
        w(next, Evaluation::Daily, at(day, 80)),
        true,
        &config,
    );
    assert_eq!(
        (quiet.unwrap().state, n7),
        (State::Resolved, Some(Notice::Resolved))
    );
}

/// Records what was published.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

impl Notifier for Recorder {
    async fn publish(&self, subject: &str, body: &str) -> Result<String, NotifyError> {
        let mut v = self.0.lock().unwrap();
        v.push((subject.to_owned(), body.to_owned()));
        Ok(format!("m{}", v.len()))
    }
}

#[test]
fn runs_over_a_store_send_once_resolve_the_next_day_and_bound_a_storm() {
    let day = date(D);
    let store = MemoryStore::new();
    let config = AlertConfig::default();
    let paths = AlertPaths::default();
    let notifier = Recorder::default();
    ingest_raw(
        &store,
        &raw(
            "Google",
            day,
            "a.example",
            "enforce",
            90,
            vec![("certificate-expired", 10)],
        ),
    );
    let arrival = Scope {
        day,
        kind: Evaluation::Arrival,
        domain: Some("a.example"),
    };
    let r1 = block_on(run(&store, &notifier, &paths, &config, arrival, at(day, 30))).unwrap();
    assert_eq!((r1.firing, r1.messages, r1.stored, r1.open), (1, 1, 1, 1));
    let r2 = block_on(run(&store, &notifier, &paths, &config, arrival, at(day, 31))).unwrap();
    assert_eq!((r2.firing, r2.messages, r2.open), (1, 0, 1));
    {
        let sent = notifier.0.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].0,
            "[stsguard] ALERT a.example: certificate-expired failures"
        );
        let body: serde_json::Value = serde_json::from_str(&sent[0].1).unwrap();
        assert_eq!(body["notice"], "opened");
        assert_eq!(body["alert"]["schema"], "stsguard/alert/v1");
        assert_eq!(
            body["alert"]["evidence"]["result_types"]["certificate-expired"],
            10
        );
        assert!(
            body["text"].as_str().unwrap().contains("Check first:"),
            "{}",
            body["text"]
        );
    }
    // The next day is clean: the daily run resolves and says so.
    let next = day + Duration::days(1);
    ingest_raw(&store, &raw("Google", next, "a.example", "enforce", 100, vec![]));
    digest_day(&store, day);
    let daily = Scope {
        day: next,
        kind: Evaluation::Daily,
        domain: None,
    };
    let r3 = block_on(run(&store, &notifier, &paths, &config, daily, at(next, 30))).unwrap();
    assert_eq!((r3.firing, r3.messages, r3.open), (0, 1, 0));
    assert!(notifier.0.lock().unwrap()[1]
        .0
        .starts_with("[stsguard] RESOLVED a.example"));
    let all = block_on(stored_alerts(&store)).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, State::Resolved);

    // A storm: 30 domains fail at once; 20 messages and one summary.
    let storm = MemoryStore::new();
    let names: Vec<String> = (0..30).map(|i| format!("d{i:02}.example")).collect();
    for n in &names {
        ingest_raw(
            &storm,
            &raw(
                "Google",
                day,
                n,
                "enforce",
                1,
                vec![("starttls-not-supported", 1)],
            ),
        );
    }
    let notifier = Recorder::default();
    let all_domains = Scope {
        day,
        kind: Evaluation::Daily,
        domain: None,
    };
    let r = block_on(run(&storm, &notifier, &paths, &config, all_domains, at(day, 30))).unwrap();
    assert_eq!((r.firing, r.messages, r.summarized, r.open), (30, 21, 10, 30));
    let sent = notifier.0.lock().unwrap();
    assert_eq!(sent[20].0, "[stsguard] 10 more alerts (see stsguard alerts)");
    let summary: serde_json::Value = serde_json::from_str(&sent[20].1).unwrap();
    assert_eq!(summary["alerts"].as_array().unwrap().len(), 10);
    drop(sent);
    // All 30 count as told: the next run sends nothing.
    let again = block_on(run(&storm, &notifier, &paths, &config, all_domains, at(day, 31))).unwrap();
    assert_eq!(again.messages, 0);
}

#[test]
fn hostile_reporter_names_stay_out_of_subjects_and_keys() {
    let day = date(D);
    let store = MemoryStore::new();
    let config = AlertConfig::default();
    let evil = "Evil\r\nBcc: victim@example.com <script>alert(1)</script> \u{202e}gnp.exe";
    for back in (2..=16).rev() {
        let d = day - Duration::days(back);
        ingest_raw(
            &store,
            &raw(
                evil,
                d,
                "a.example",
                "enforce",
                100,
                vec![("certificate-expired", 1)],
            ),
        );
        digest_day(&store, d);
    }
    digest_day(&store, day - Duration::days(1));
    let notifier = Recorder::default();
    let scope = Scope {
        day,
        kind: Evaluation::Daily,
        domain: None,
    };
    block_on(run(
        &store,
        &notifier,
        &AlertPaths::default(),
        &config,
        scope,
        at(day, 30),
    ))
    .unwrap();
    let sent = notifier.0.lock().unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (subj, body) = &sent[0];
    assert_eq!(subj, "[stsguard] ALERT a.example: a regular reporter went silent");
    assert!(subj.len() <= 100 && subj.is_ascii());
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(!text.contains('\r') && !text.contains('\u{202e}'), "{text:?}");
    for key in block_on(store.list("alerts/")).unwrap() {
        assert!(!key.contains("Evil") && !key.contains(' '), "{key}");
    }
    let a = &block_on(stored_alerts(&store)).unwrap()[0];
    assert_eq!(subject(a, Notice::Opened), *subj);
}

#[test]
fn the_digest_lists_open_alerts_with_report_text_inert() {
    let day = date(D);
    let mut digest = Aggregator::new(day).finish(&DigestConfig::default(), &[]);
    digest.open_alerts = vec![stsguard::digest::OpenAlert {
        domain: "a.example".into(),
        rule: "reporter-silent".into(),
        subject: "Evil\r\n<script>alert(1)</script>".into(),
        since: "2024-11-20T06:00:00Z".into(),
        summary: "Evil reported this domain on 14 of the 14 days before.".into(),
    }];
    let text = stsguard::digest::render::text(&digest);
    assert!(
        text.contains("Open alerts (1):\n- a.example reporter-silent (Evil\\u{d}\\u{a}<script>"),
        "{text}"
    );
    let html = stsguard::digest::render::html_page(&digest, &[]);
    assert!(html.contains("Open alerts (1)"), "{html}");
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "{html}"
    );
    // Without open alerts there is no such section.
    digest.open_alerts.clear();
    assert!(!stsguard::digest::render::text(&digest).contains("Open alerts"));
}

#[test]
fn thresholds_come_from_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    };
    assert_eq!(
        AlertConfig::from_lookup(env(&[])).unwrap(),
        AlertConfig::default()
    );
    let c = AlertConfig::from_lookup(env(&[
        ("STSGUARD_FAILURE_JUMP", "7.5"),
        ("STSGUARD_ALERT_SILENCE_DAYS", "1"),
    ]))
    .unwrap();
    assert_eq!((c.failure_jump_points, c.silence_days), (7.5, 1));
    assert!(AlertConfig::from_lookup(env(&[("STSGUARD_ALERT_SILENCE_DAYS", "0")])).is_err());
}

#[test]
#[ignore = "needs a local S3/SNS endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
fn sns_endpoint_alert_messages_are_published_to_the_topic() {
    use stsguard::alerts::sns::{client_from_env, SnsNotifier};
    stsguard_test_support::s3::endpoint();
    let day = date(D);
    let store = MemoryStore::new();
    ingest_raw(
        &store,
        &raw(
            "Google",
            day,
            "a.example",
            "enforce",
            90,
            vec![("certificate-expired", 10)],
        ),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(client_from_env());
    let topic = rt
        .block_on(
            client
                .create_topic()
                .name(stsguard_test_support::s3::unique("stsguard-alerts"))
                .send(),
        )
        .unwrap()
        .topic_arn
        .unwrap();
    let notifier = SnsNotifier::new(client, topic.clone());
    let scope = Scope {
        day,
        kind: Evaluation::Arrival,
        domain: Some("a.example"),
    };
    let paths = AlertPaths::default();
    let config = AlertConfig::default();
    let r = rt
        .block_on(run(&store, &notifier, &paths, &config, scope, at(day, 30)))
        .unwrap();
    assert_eq!(r.messages, 1);
    let published = stsguard_test_support::s3::sns_published(&topic);
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(
        published[0].0,
        "[stsguard] ALERT a.example: certificate-expired failures"
    );
    let body: serde_json::Value = serde_json::from_str(&published[0].1).unwrap();
    assert_eq!(body["alert"]["rule"], "stopping-failure");
    assert_eq!(body["alert"]["evidence"]["mx_hosts"][0], "mx1.a.example");
    // A second run announces nothing new.
    rt.block_on(run(&store, &notifier, &paths, &config, scope, at(day, 31)))
        .unwrap();
    assert_eq!(stsguard_test_support::s3::sns_published(&topic).len(), 1);
}

#[test]
fn one_message_per_domain_and_rule_per_hour_across_result_types() {
    let day = date(D);
    let store = MemoryStore::new();
    let config = AlertConfig::default();
    let notifier = Recorder::default();
    ingest_raw(
        &store,
        &raw(
            "Google",
            day,
            "a.example",
            "enforce",
            80,
            vec![("certificate-expired", 10), ("starttls-not-supported", 10)],
        ),
    );
    let scope = Scope {
        day,
        kind: Evaluation::Arrival,
        domain: Some("a.example"),
    };
    let paths = AlertPaths::default();
    let r = block_on(run(&store, &notifier, &paths, &config, scope, at(day, 30))).unwrap();
    assert_eq!((r.firing, r.messages, r.open), (2, 1, 2));
    // Half an hour later: still within the hour, nothing.
    let r = block_on(run(
        &store,
        &notifier,
        &paths,
        &config,
        scope,
        at(day, 30) + Duration::minutes(30),
    ))
    .unwrap();
    assert_eq!(r.messages, 0);
    // After the hour the second result type is announced, once.
    let r = block_on(run(
        &store,
        &notifier,
        &paths,
        &config,
        scope,
        at(day, 31) + Duration::minutes(5),
    ))
    .unwrap();
    assert_eq!(r.messages, 1);
    let r = block_on(run(&store, &notifier, &paths, &config, scope, at(day, 33))).unwrap();
    assert_eq!(r.messages, 0);
    let subjects: Vec<String> = notifier
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert_eq!(
        subjects,
        [
            "[stsguard] ALERT a.example: certificate-expired failures",
            "[stsguard] ALERT a.example: starttls-not-supported failures"
        ]
    );
}

#[test]
fn a_daily_run_resolves_only_once_the_reporters_have_reported_the_day() {
    let day = date(D);
    let next = day + Duration::days(1);
    let store = MemoryStore::new();
    let config = AlertConfig::default();
    let notifier = Recorder::default();
    let paths = AlertPaths::default();
    ingest_raw(
        &store,
        &raw(
            "Google",
            day,
            "a.example",
            "enforce",
            90,
            vec![("certificate-expired", 10)],
        ),
    );
    let arrival = Scope {
        day,
        kind: Evaluation::Arrival,
        domain: Some("a.example"),
    };
    block_on(run(&store, &notifier, &paths, &config, arrival, at(day, 30))).unwrap();
    // The next day only Microsoft has reported: Google, who saw the failure,
    // has not; the alert stays open.
    ingest_raw(
        &store,
        &raw("Microsoft", next, "a.example", "enforce", 50, vec![]),
    );
    let daily = Scope {
        day: next,
        kind: Evaluation::Daily,
        domain: None,
    };
    let r = block_on(run(&store, &notifier, &paths, &config, daily, at(next, 30))).unwrap();
    assert_eq!((r.messages, r.open), (0, 1));
    // Google's report of that day comes, clean: now it clears.
    ingest_raw(&store, &raw("Google", next, "a.example", "enforce", 100, vec![]));
    let r = block_on(run(&store, &notifier, &paths, &config, daily, at(next, 36))).unwrap();
    assert_eq!((r.messages, r.open), (1, 0));
    // A late report of the first day, with the failure, does not reopen it.
    ingest_raw(
        &store,
        &Raw {
            id: "late".into(),
            ..raw(
                "Google",
                day,
                "a.example",
                "enforce",
                1,
                vec![("certificate-expired", 1)],
            )
        },
    );
    let r = block_on(run(&store, &notifier, &paths, &config, arrival, at(next, 40))).unwrap();
    assert_eq!((r.messages, r.open), (0, 0));
}

/// Publishes `ok` messages, then fails.
struct Flaky {
    ok: std::sync::atomic::AtomicUsize,
    sent: Mutex<Vec<String>>,
}

impl Notifier for Flaky {
    async fn publish(&self, subject: &str, _body: &str) -> Result<String, NotifyError> {
        use std::sync::atomic::Ordering;
        if self
            .ok
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            return Err(NotifyError {
                message: "SNS unavailable".into(),
            });
        }
        self.sent.lock().unwrap().push(subject.to_owned());
        Ok("m".into())
    }
}

#[test]
fn a_failed_publish_leaves_the_alert_to_announce_later_summary_included() {
    let day = date(D);
    let store = MemoryStore::new();
    let config = AlertConfig {
        max_messages_per_run: 2,
        ..AlertConfig::default()
    };
    for n in ["a", "b", "c", "d"] {
        ingest_raw(
            &store,
            &raw(
                "Google",
                day,
                &format!("{n}.example"),
                "enforce",
                1,
                vec![("starttls-not-supported", 1)],
            ),
        );
    }
    let paths = AlertPaths::default();
    let scope = Scope {
        day,
        kind: Evaluation::Daily,
        domain: None,
    };
    // Two messages go out, the summary fails: the run fails.
    let flaky = Flaky {
        ok: 2.into(),
        sent: Mutex::new(Vec::new()),
    };
    assert!(block_on(run(&store, &flaky, &paths, &config, scope, at(day, 30))).is_err());
    // The two announced are stored as such; the two of the summary are not.
    let announced: Vec<bool> = block_on(stored_alerts(&store))
        .unwrap()
        .iter()
        .map(|a| a.announced)
        .collect();
    assert_eq!(announced, [true, true, false, false]);
    // The retry sends the two others (the per-run cap is 2) and nothing twice.
    let again = Recorder::default();
    let r = block_on(run(&store, &again, &paths, &config, scope, at(day, 31))).unwrap();
    assert_eq!(r.messages, 2);
    let subjects: Vec<String> = again.0.lock().unwrap().iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(
        subjects,
        [
            "[stsguard] ALERT c.example: starttls-not-supported failures",
            "[stsguard] ALERT d.example: starttls-not-supported failures"
        ]
    );
}

#[test]
fn a_hostile_domain_never_reaches_a_subject() {
    let day = date(D);
    let config = AlertConfig::default();
    let f = stsguard::alerts::Firing {
        domain: "bank.example: all clear\r\nfoo".into(),
        rule: Rule::DomainSilent,
        subject: String::new(),
        evidence: Default::default(),
    };
    let (a, n) = step(
        None,
        Some(&f),
        w(day, Evaluation::Daily, at(day, 30)),
        false,
        &config,
    );
    assert_eq!(n, Some(Notice::Opened));
    assert_eq!(
        subject(&a.unwrap(), Notice::Opened),
        "[stsguard] ALERT (invalid domain): no reports"
    );
}
