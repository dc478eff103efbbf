//! Alerts: the conditions that need someone the day they appear, not in
//! tomorrow's digest. Pure core: the facts come in as stored report JSON and
//! stored digests, the time as an argument; [`run`] is the thin part over a
//! store.
//!
//! Four rules, each evaluated per domain:
//!
//! | rule | fires when |
//! |---|---|
//! | `stopping-failure` | a result type that stops mail ([`STOPPING_TYPES`]) is reported under an enforcing policy (MTA-STS `enforce`, or DANE), or above [`AlertConfig::testing_share_percent`] of the day's sessions otherwise; one alert per result type |
//! | `failure-jump` | the day's failure rate is more than [`AlertConfig::failure_jump_points`] above the average of the 7 days before (the digest's trend rule) |
//! | `reporter-silent` | an organization that reported the domain on most days of the fortnight before has sent nothing for [`AlertConfig::silence_days`] days; one alert per organization |
//! | `domain-silent` | an expected domain has had no report for [`AlertConfig::silence_days`] days |
//!
//! Reports arrive all day, so evaluation comes in two kinds ([`Evaluation`]):
//! on arrival only the first two rules can open or refresh an alert; the
//! daily run after the day is complete evaluates all four and resolves what
//! no longer fires. [`step`] moves one alert from its stored state to the
//! next and says which message, if any, goes out: one when a condition opens,
//! a reminder after [`AlertConfig::remind_after_hours`], one when it is
//! resolved, and never two for the same domain and rule within
//! [`AlertConfig::min_interval_minutes`].

pub mod run;
#[cfg(feature = "sns")]
pub mod sns;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// Schema of a stored alert.
pub const ALERT_SCHEMA: &str = "stsguard/alert/v1";

/// Result types that mean a sender did not deliver (RFC 8460 §4.3): under an
/// enforcing policy, each is mail that did not arrive.
pub const STOPPING_TYPES: [&str; 10] = [
    "sts-policy-fetch-error",
    "sts-webpki-invalid",
    "sts-policy-invalid",
    "certificate-expired",
    "certificate-not-trusted",
    "certificate-host-mismatch",
    "starttls-not-supported",
    "tlsa-invalid",
    "dnssec-invalid",
    "dane-required",
];

/// How many reporters, MX hosts and report ids an alert's evidence names.
pub const EVIDENCE_ITEMS: usize = 20;

/// The largest number of domains one evaluation follows (the digest's bound).
const MAX_DOMAINS: usize = 10_000;

/// The thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Under a policy in `testing` mode (or with no policy), a stopping result
    /// type alerts above this share of the day's sessions, in percent.
    pub testing_share_percent: f64,
    /// A failure rate this many percentage points above the 7-day average
    /// alerts.
    pub failure_jump_points: f64,
    /// ... when the day has at least this many sessions.
    pub min_sessions_for_jump: u64,
    /// Days without a report that make a reporter or an expected domain
    /// silent.
    pub silence_days: u32,
    /// A reporter counts as regular when it reported the domain on at least
    /// this many of the 14 days before the silence.
    pub reporter_min_days: u32,
    /// Domains expected to report every day.
    pub domains: Vec<String>,
    /// An open alert is announced again after this many hours.
    pub remind_after_hours: u32,
    /// At most one message per domain and rule within this many minutes.
    pub min_interval_minutes: u32,
    /// At most this many messages per evaluation; the rest go in one summary.
    pub max_messages_per_run: usize,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            testing_share_percent: 5.0,
            failure_jump_points: 5.0,
            min_sessions_for_jump: 20,
            silence_days: 2,
            reporter_min_days: 8,
            domains: Vec::new(),
            remind_after_hours: 24,
            min_interval_minutes: 60,
            max_messages_per_run: 20,
        }
    }
}

impl AlertConfig {
    /// The thresholds from the functions' environment, read through `get`:
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `STSGUARD_ALERT_TESTING_SHARE` | percent of sessions above which a stopping type alerts in testing mode | 5 |
    /// | `STSGUARD_FAILURE_JUMP` | failure-rate jump, percentage points | 5 |
    /// | `STSGUARD_ALERT_SILENCE_DAYS` | days without reports that make silence (1 to 14) | 2 |
    /// | `STSGUARD_ALERT_REMIND_HOURS` | hours before an open alert is announced again | 24 |
    /// | `STSGUARD_ALERT_MAX_MESSAGES` | messages per run, the rest in one summary | 20 |
    /// | `STSGUARD_DOMAINS` | comma-separated domains expected to report every day | none |
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, crate::envconf::ConfigError> {
        use crate::envconf::ConfigError;
        fn number<T: std::str::FromStr>(
            name: &'static str,
            v: Option<String>,
            ok: impl Fn(&T) -> bool,
            why: &str,
        ) -> Result<Option<T>, ConfigError> {
            match v.filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(v) => {
                    v.trim()
                        .parse::<T>()
                        .ok()
                        .filter(|x| ok(x))
                        .map(Some)
                        .ok_or(ConfigError::Invalid {
                            name,
                            value: v,
                            why: why.into(),
                        })
                }
            }
        }
        let d = AlertConfig::default();
        Ok(AlertConfig {
            testing_share_percent: number(
                "STSGUARD_ALERT_TESTING_SHARE",
                get("STSGUARD_ALERT_TESTING_SHARE"),
                |x: &f64| (0.0..=100.0).contains(x),
                "expected a percentage, 0 to 100",
            )?
            .unwrap_or(d.testing_share_percent),
            failure_jump_points: number(
                "STSGUARD_FAILURE_JUMP",
                get("STSGUARD_FAILURE_JUMP"),
                |x: &f64| x.is_finite() && *x >= 0.0,
                "expected percentage points, a number 0 or more",
            )?
            .unwrap_or(d.failure_jump_points),
            silence_days: number(
                "STSGUARD_ALERT_SILENCE_DAYS",
                get("STSGUARD_ALERT_SILENCE_DAYS"),
                |x: &u32| (1..=14).contains(x),
                "expected a number of days, 1 to 14",
            )?
            .unwrap_or(d.silence_days),
            remind_after_hours: number(
                "STSGUARD_ALERT_REMIND_HOURS",
                get("STSGUARD_ALERT_REMIND_HOURS"),
                |x: &u32| *x >= 1,
                "expected a number of hours, 1 or more",
            )?
            .unwrap_or(d.remind_after_hours),
            max_messages_per_run: number(
                "STSGUARD_ALERT_MAX_MESSAGES",
                get("STSGUARD_ALERT_MAX_MESSAGES"),
                |x: &usize| *x >= 1,
                "expected a number of messages, 1 or more",
            )?
            .unwrap_or(d.max_messages_per_run),
            domains: crate::envconf::domains("STSGUARD_DOMAINS", get("STSGUARD_DOMAINS"))?
                .unwrap_or_default(),
            ..d
        })
    }
}

/// The days before the silence over which a reporter's regularity is judged.
pub const REGULARITY_DAYS: u32 = 14;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A result type that stops mail.
    StoppingFailure,
    /// The failure rate jumped above the 7-day baseline.
    FailureJump,
    /// A regular reporter went silent.
    ReporterSilent,
    /// An expected domain went silent.
    DomainSilent,
}

impl Rule {
    /// The rule's name (`stopping-failure`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::StoppingFailure => "stopping-failure",
            Rule::FailureJump => "failure-jump",
            Rule::ReporterSilent => "reporter-silent",
            Rule::DomainSilent => "domain-silent",
        }
    }
}

/// Open or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The condition holds.
    Open,
    /// The condition cleared.
    Resolved,
}

/// When an evaluation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    /// As reports arrive: the day is not complete, so only what the reports
    /// so far show can open or refresh an alert; nothing is resolved and
    /// silence is not judged.
    Arrival,
    /// Once the day is complete: every rule, and what no longer fires is
    /// resolved.
    Daily,
}

/// What one result type looked like on one day of one domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeFacts {
    /// Failed sessions of this type.
    pub failed: u64,
    /// Of those, under an enforcing policy (MTA-STS `enforce` or DANE).
    pub enforced: u64,
    /// Who reported them (at most [`EVIDENCE_ITEMS`]).
    pub reporters: BTreeSet<String>,
    /// Receiving MX hosts and their failed sessions.
    pub mx_hosts: BTreeMap<String, u64>,
    /// Ids of the reports (at most [`EVIDENCE_ITEMS`]).
    pub report_ids: BTreeSet<String>,
}

/// One domain's reports of one day, as alerts see them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayFacts {
    /// Reports.
    pub reports: u64,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
    /// Reports per organization (at most [`MAX_REPORTERS`] names).
    pub reporters: BTreeMap<String, u64>,
    /// Per result type.
    pub types: BTreeMap<String, TypeFacts>,
}

/// The most organizations [`DayFacts::reporters`] names.
pub const MAX_REPORTERS: usize = 1_000;

// The slice of a stored report alerts read.
#[derive(Deserialize)]
struct Slim {
    schema: String,
    id: String,
    domain: String,
    organization: String,
    policies: Vec<SlimPolicy>,
}

#[derive(Deserialize)]
struct SlimPolicy {
    policy_type: String,
    #[serde(default)]
    sts: Option<SlimSts>,
    successful: u64,
    failed: u64,
    #[serde(default)]
    failures: Vec<SlimFailure>,
}

#[derive(Deserialize)]
struct SlimSts {
    mode: Option<String>,
}

#[derive(Deserialize)]
struct SlimFailure {
    result_type: String,
    count: u64,
    receiving_mx_hostname: Option<String>,
}

fn capped_insert(set: &mut BTreeSet<String>, v: &str) {
    if set.len() < EVIDENCE_ITEMS || set.contains(v) {
        set.insert(crate::text::escaped(v, 200));
    }
}

/// Folds stored reports into per-domain [`DayFacts`].
#[derive(Debug, Default)]
pub struct Facts {
    domains: BTreeMap<String, DayFacts>,
    unreadable: u64,
}

impl Facts {
    /// Nothing yet.
    pub fn new() -> Self {
        Facts::default()
    }

    /// Adds one stored report (`stsguard/report/v1` JSON); anything else is
    /// counted as unreadable and skipped.
    pub fn add_json(&mut self, bytes: &[u8]) {
        let Ok(r) = serde_json::from_slice::<Slim>(bytes) else {
            self.unreadable += 1;
            return;
        };
        if r.schema != crate::report::REPORT_SCHEMA {
            self.unreadable += 1;
            return;
        }
        if !self.domains.contains_key(&r.domain) && self.domains.len() >= MAX_DOMAINS {
            return;
        }
        let day = self.domains.entry(r.domain).or_default();
        day.reports += 1;
        if day.reporters.len() < MAX_REPORTERS || day.reporters.contains_key(&r.organization) {
            *day.reporters.entry(r.organization.clone()).or_default() += 1;
        }
        for p in &r.policies {
            day.successful = day.successful.saturating_add(p.successful);
            day.failed = day.failed.saturating_add(p.failed);
            let enforcing =
                p.policy_type == "tlsa" || p.sts.as_ref().and_then(|s| s.mode.as_deref()) == Some("enforce");
            for f in &p.failures {
                let t = day.types.entry(f.result_type.to_ascii_lowercase()).or_default();
                t.failed = t.failed.saturating_add(f.count);
                if enforcing {
                    t.enforced = t.enforced.saturating_add(f.count);
                }
                capped_insert(&mut t.reporters, &r.organization);
                capped_insert(&mut t.report_ids, &r.id);
                if let Some(h) = &f.receiving_mx_hostname {
                    if t.mx_hosts.len() < EVIDENCE_ITEMS || t.mx_hosts.contains_key(h) {
                        *t.mx_hosts.entry(crate::text::escaped(h, 200)).or_default() += f.count;
                    }
                }
            }
        }
    }

    /// Objects that were not reports.
    pub fn unreadable(&self) -> u64 {
        self.unreadable
    }

    /// The facts per domain.
    pub fn domains(&self) -> &BTreeMap<String, DayFacts> {
        &self.domains
    }
}

/// What an alert rests on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Evidence {
    /// The day of the reports (their period's start, as stored).
    pub day: String,
    /// Sessions that day.
    pub sessions: u64,
    /// Failed sessions that day.
    pub failed: u64,
    /// Failed sessions per result type.
    pub result_types: BTreeMap<String, u64>,
    /// Reporting organizations.
    pub reporters: Vec<String>,
    /// Receiving MX hosts with failed sessions.
    pub mx_hosts: Vec<String>,
    /// Stored report ids.
    pub report_ids: Vec<String>,
    /// The condition in one plain sentence.
    pub summary: String,
}

/// A condition that holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// The domain.
    pub domain: String,
    /// The rule.
    pub rule: Rule,
    /// What within the rule: the result type, the organization, or empty.
    pub subject: String,
    /// What it rests on.
    pub evidence: Evidence,
}

impl Firing {
    /// The alert's identity: domain, rule and subject.
    pub fn key(&self) -> AlertKey {
        AlertKey::new(&self.domain, self.rule, &self.subject)
    }
}

/// Where an alert is stored: `alerts/v1/domain=D/RULE-HASH.json`, the hash
/// being of the subject (a reporter's name is not fit for a key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlertKey(pub String);

impl AlertKey {
    /// The key of an alert.
    pub fn new(domain: &str, rule: Rule, subject: &str) -> AlertKey {
        let h = crate::sha256_hex(subject.as_bytes());
        AlertKey(format!(
            "{ALERTS_PREFIX}domain={}/{}-{}.json",
            crate::keys::escape_component(domain),
            rule.as_str(),
            &h[..16]
        ))
    }
}

/// Where alerts are stored.
pub const ALERTS_PREFIX: &str = "alerts/v1/";

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn failure_rate(d: &crate::digest::DomainDigest) -> Option<f64> {
    let all = d.successful.saturating_add(d.failed);
    (all > 0).then(|| pct(d.failed, all))
}

/// The conditions that hold for `day`, from that day's facts and the
/// stored digests of earlier days (`history`; for the daily evaluation,
/// `history` may also hold `day`'s own digest, which is then ignored).
/// Sorted by domain, rule and subject.
pub fn evaluate(
    day: NaiveDate,
    facts: &BTreeMap<String, DayFacts>,
    history: &[Digest],
    config: &AlertConfig,
    kind: Evaluation,
) -> Vec<Firing> {
    let day_s = day.to_string();
    let earlier: BTreeMap<NaiveDate, &Digest> = history
        .iter()
        .filter_map(|d| {
            let date = NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?;
            (date < day).then_some((date, d))
        })
        .collect();
    let mut out = Vec::new();
    for (domain, f) in facts {
        let sessions = f.successful.saturating_add(f.failed);
        for stopping in STOPPING_TYPES {
            let Some(t) = f.types.get(stopping) else { continue };
            if t.failed == 0 {
                continue;
            }
            let share = pct(t.failed, sessions);
            let fires = t.enforced > 0 || share > config.testing_share_percent;
            if !fires {
                continue;
            }
            let summary = if t.enforced > 0 {
                format!(
                    "{} failed session{} of type {stopping} under an enforcing policy: that mail was not delivered.",
                    t.enforced,
                    if t.enforced == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "{stopping}: {:.1}% of the day's sessions failed without an enforcing policy (MTA-STS testing, or none); under enforce that mail would not be delivered.",
                    share
                )
            };
            out.push(Firing {
                domain: domain.clone(),
                rule: Rule::StoppingFailure,
                subject: stopping.to_owned(),
                evidence: type_evidence(&day_s, f, Some(stopping), summary),
            });
        }
        // The trend: today's failure rate against the average of the up to 7
        // days before that had sessions.
        let baseline: Vec<f64> = earlier
            .range(day - Duration::days(7)..day)
            .filter_map(|(_, d)| d.domains.iter().find(|x| &x.domain == domain))
            .filter_map(failure_rate)
            .collect();
        if sessions >= config.min_sessions_for_jump && !baseline.is_empty() {
            let avg = baseline.iter().sum::<f64>() / baseline.len() as f64;
            let today = pct(f.failed, sessions);
            if today - avg > config.failure_jump_points {
                let summary = format!(
                    "The failure rate is {today:.1}%, {:.1} points above the {avg:.1}% average of the {} day{} before.",
                    today - avg,
                    baseline.len(),
                    if baseline.len() == 1 { "" } else { "s" }
                );
                out.push(Firing {
                    domain: domain.clone(),
                    rule: Rule::FailureJump,
                    subject: String::new(),
                    evidence: type_evidence(&day_s, f, None, summary),
                });
            }
        }
    }
    if kind == Evaluation::Daily {
        out.extend(silences(day, facts, &earlier, config));
    }
    out.sort_by(|a, b| (&a.domain, a.rule, &a.subject).cmp(&(&b.domain, b.rule, &b.subject)));
    out
}

fn type_evidence(day: &str, f: &DayFacts, only: Option<&str>, summary: String) -> Evidence {
    let mut reporters = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let mut mx: BTreeMap<&str, u64> = BTreeMap::new();
    let mut result_types = BTreeMap::new();
    for (name, t) in &f.types {
        if only.is_some_and(|o| o != name) || t.failed == 0 {
            continue;
        }
        result_types.insert(name.clone(), t.failed);
        reporters.extend(t.reporters.iter().cloned());
        ids.extend(t.report_ids.iter().cloned());
        for (h, n) in &t.mx_hosts {
            *mx.entry(h).or_default() += n;
        }
    }
    let mut mx: Vec<(&str, u64)> = mx.into_iter().collect();
    mx.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Evidence {
        day: day.to_owned(),
        sessions: f.successful.saturating_add(f.failed),
        failed: f.failed,
        result_types,
        reporters: reporters.into_iter().take(EVIDENCE_ITEMS).collect(),
        mx_hosts: mx
            .into_iter()
            .take(EVIDENCE_ITEMS)
            .map(|(h, _)| h.to_owned())
            .collect(),
        report_ids: ids.into_iter().take(EVIDENCE_ITEMS).collect(),
        summary,
    }
}

fn silences(
    day: NaiveDate,
    facts: &BTreeMap<String, DayFacts>,
    earlier: &BTreeMap<NaiveDate, &Digest>,
    config: &AlertConfig,
) -> Vec<Firing> {
    let day_s = day.to_string();
    let silence = i64::from(config.silence_days.max(1));
    // The silent days: `day` and the ones just before it. Silence is judged
    // only when every earlier one of them has a digest (stsguard ran then).
    let silent_days: Vec<NaiveDate> = (1..silence).map(|n| day - Duration::days(n)).collect();
    if silent_days.iter().any(|d| !earlier.contains_key(d)) {
        return Vec::new();
    }
    let window_end = day - Duration::days(silence - 1);
    let window = earlier.range(window_end - Duration::days(i64::from(REGULARITY_DAYS))..window_end);
    let mut out = Vec::new();

    // Regular reporters per domain, from the digests of the fortnight before.
    let mut regular: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    for (_, d) in window {
        for dd in &d.domains {
            for o in &dd.organizations {
                if o.reports > 0 {
                    *regular
                        .entry(dd.domain.as_str())
                        .or_default()
                        .entry(o.name.as_str())
                        .or_default() += 1;
                }
            }
        }
    }
    let reported_by = |domain: &str, org: &str| {
        silent_days.iter().any(|d| {
            earlier[d].domains.iter().any(|dd| {
                dd.domain == domain && dd.organizations.iter().any(|o| o.name == org && o.reports > 0)
            })
        })
    };
    for (domain, orgs) in &regular {
        for (org, days) in orgs {
            if *days < config.reporter_min_days || reported_by(domain, org) {
                continue;
            }
            // Today: from the facts (every report of the day).
            if facts.get(*domain).is_some_and(|f| f.reporters.contains_key(*org)) {
                continue;
            }
            out.push(Firing {
                domain: (*domain).to_owned(),
                rule: Rule::ReporterSilent,
                subject: (*org).to_owned(),
                evidence: Evidence {
                    day: day_s.clone(),
                    reporters: vec![crate::text::escaped(org, 200)],
                    summary: format!(
                        "{} reported this domain on {days} of the {REGULARITY_DAYS} days before and has sent nothing for {silence} days.",
                        crate::text::escaped(org, 200)
                    ),
                    ..Evidence::default()
                },
            });
        }
    }
    for domain in &config.domains {
        let today = facts.get(domain).map_or(0, |f| f.reports);
        let before: u64 = silent_days
            .iter()
            .flat_map(|d| earlier[d].domains.iter())
            .filter(|dd| &dd.domain == domain)
            .map(|dd| dd.reports)
            .sum();
        if today == 0 && before == 0 {
            out.push(Firing {
                domain: domain.clone(),
                rule: Rule::DomainSilent,
                subject: String::new(),
                evidence: Evidence {
                    day: day_s.clone(),
                    summary: format!("No report for this domain for {silence} days."),
                    ..Evidence::default()
                },
            });
        }
    }
    out
}

/// Whether the day's reports show that `alert`'s condition is gone (not
/// merely unreported): for a failure, every reporter named in its evidence
/// reported the domain that day with sessions; for a silent reporter, it
/// reported again; for a silent domain, a report came.
pub fn cleared(alert: &Alert, facts: &BTreeMap<String, DayFacts>) -> bool {
    let Some(f) = facts.get(&alert.domain) else {
        return false;
    };
    match alert.rule {
        Rule::StoppingFailure | Rule::FailureJump => {
            let seen: BTreeSet<String> = f.reporters.keys().map(|r| crate::text::escaped(r, 200)).collect();
            f.successful.saturating_add(f.failed) > 0
                && alert.evidence.reporters.iter().all(|r| seen.contains(r))
        }
        Rule::ReporterSilent => f.reporters.contains_key(&alert.subject),
        Rule::DomainSilent => f.reports > 0,
    }
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Always [`ALERT_SCHEMA`].
    pub schema: String,
    /// The domain.
    pub domain: String,
    /// The rule.
    pub rule: Rule,
    /// What within the rule: the result type, the organization, or empty.
    pub subject: String,
    /// Open or resolved.
    pub state: State,
    /// When the condition was first seen (this time it opened), RFC 3339.
    pub first_seen: String,
    /// When it was last seen holding.
    pub last_seen: String,
    /// When it was resolved.
    #[serde(default)]
    pub resolved_at: Option<String>,
    /// The day of reports whose evaluation resolved it: a firing from that
    /// day or before (a late report, a backfill) does not reopen it.
    #[serde(default)]
    pub resolved_day: Option<String>,
    /// When a message about it last went out.
    #[serde(default)]
    pub last_notified: Option<String>,
    /// Whether the message that it opened went out.
    #[serde(default)]
    pub announced: bool,
    /// The latest evidence.
    pub evidence: Evidence,
}

impl Alert {
    /// The alert as the digest lists it.
    pub fn listed(&self) -> crate::digest::OpenAlert {
        crate::digest::OpenAlert {
            domain: self.domain.clone(),
            rule: self.rule.as_str().to_owned(),
            subject: self.subject.clone(),
            since: self.first_seen.clone(),
            summary: self.evidence.summary.clone(),
        }
    }
}

/// A message to send about an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notice {
    /// The condition opened.
    Opened,
    /// It still holds, a while after the last message.
    Reminder,
    /// It cleared.
    Resolved,
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// When and how an evaluation runs, for [`step`].
#[derive(Debug, Clone, Copy)]
pub struct When {
    /// The day of the reports evaluated.
    pub day: NaiveDate,
    /// On arrival or daily.
    pub kind: Evaluation,
    /// Now.
    pub now: DateTime<Utc>,
}

/// The next state of one alert and the message to send, if any: `prev` is
/// the stored alert, `firing` the condition on the evaluated day (`None`: it
/// does not hold on that day). An open alert that does not fire is resolved
/// only by a [`Evaluation::Daily`] run, only when `cleared` (the day's
/// reports show the condition gone: see [`cleared`]), and never from a day
/// before the one it was last seen on. Every change of state is announced,
/// at most once per [`AlertConfig::min_interval_minutes`]; one that cannot be
/// announced yet waits. Returns `None` as the state when nothing is to be
/// stored.
pub fn step(
    prev: Option<&Alert>,
    firing: Option<&Firing>,
    when: When,
    cleared: bool,
    config: &AlertConfig,
) -> (Option<Alert>, Option<Notice>) {
    let When { day, kind, now } = when;
    let day_s = day.to_string();
    let gap_ok = |a: &Alert, min: Duration| {
        a.last_notified
            .as_deref()
            .and_then(time)
            .is_none_or(|t| now - t >= min)
    };
    let interval = Duration::minutes(i64::from(config.min_interval_minutes));
    let remind = Duration::hours(i64::from(config.remind_after_hours.max(1)));
    // An evaluation of a day before the one the alert was last seen on (a
    // backfill) neither resolves nor rewinds it; a resolved alert is not
    // reopened by a day up to the one that resolved it.
    let older = |a: &Alert, day: &str| {
        day < a.evidence.day.as_str()
            || (a.state == State::Resolved && a.resolved_day.as_deref().is_some_and(|r| day <= r))
    };
    match (prev, firing) {
        (None, None) => (None, None),
        (Some(a), None) => {
            if a.state == State::Resolved || kind == Evaluation::Arrival || !cleared {
                return (None, None);
            }
            if older(a, &day_s) {
                return (None, None);
            }
            if !gap_ok(a, interval) {
                // A message went out less than the interval ago: the
                // resolution waits for a later run.
                return (None, None);
            }
            // Announced even when its opening was held back: the message
            // carries the evidence of what happened.
            let mut next = a.clone();
            next.state = State::Resolved;
            next.resolved_at = Some(stamp(now));
            next.resolved_day = Some(day_s);
            next.last_notified = Some(stamp(now));
            (Some(next), Some(Notice::Resolved))
        }
        (Some(a), Some(f)) if older(a, &f.evidence.day) => (None, None),
        (prev, Some(f)) => {
            let reopened = prev.is_none_or(|a| a.state == State::Resolved);
            let mut next = match prev {
                Some(a) if !reopened => a.clone(),
                _ => Alert {
                    schema: ALERT_SCHEMA.into(),
                    domain: f.domain.clone(),
                    rule: f.rule,
                    subject: f.subject.clone(),
                    state: State::Open,
                    first_seen: stamp(now),
                    last_seen: stamp(now),
                    resolved_at: None,
                    resolved_day: None,
                    last_notified: prev.and_then(|a| a.last_notified.clone()),
                    announced: false,
                    evidence: Evidence::default(),
                },
            };
            next.last_seen = stamp(now);
            next.evidence = f.evidence.clone();
            let notice = if !next.announced {
                gap_ok(&next, interval).then_some(Notice::Opened)
            } else {
                gap_ok(&next, remind.max(interval)).then_some(Notice::Reminder)
            };
            if notice.is_some() {
                next.announced = true;
                next.last_notified = Some(stamp(now));
            }
            (Some(next), notice)
        }
    }
}

/// The domain as a subject or message names it: a DNS name of letters,
/// digits, `.`, `-` and `_` as it is; anything else (a report may carry any
/// text there) as `(invalid domain)`.
pub fn shown_domain(domain: &str) -> &str {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        domain
    } else {
        "(invalid domain)"
    }
}

/// The short subject line of a message (ASCII, one line, at most 100
/// characters: what SNS accepts).
pub fn subject(alert: &Alert, notice: Notice) -> String {
    let what = match notice {
        Notice::Opened => "ALERT",
        Notice::Reminder => "STILL",
        Notice::Resolved => "RESOLVED",
    };
    let detail = match alert.rule {
        Rule::StoppingFailure => format!("{} failures", alert.subject),
        Rule::FailureJump => "failure rate jump".to_owned(),
        Rule::ReporterSilent => "a regular reporter went silent".to_owned(),
        Rule::DomainSilent => "no reports".to_owned(),
    };
    let raw = format!("[stsguard] {what} {}: {detail}", shown_domain(&alert.domain));
    let ascii: String = raw
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .take(100)
        .collect();
    ascii
}
