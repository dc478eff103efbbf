//! The daily digest: one UTC day of normalized reports aggregated per policy
//! domain, compared with the days before, explained and rendered.
//!
//! Everything here is pure. [`Aggregator`] folds the stored JSON of one day's
//! reports (`stsguard/report/v1`) into per-domain counters; [`Aggregator::finish`]
//! turns them, together with the previous days' stored digests, into a
//! [`Digest`] (schema `stsguard/digest/v1`) with a trend and findings.
//! [`explain`] says in plain words what each result type means, [`render`] writes
//! text, HTML and JSON, [`chart`] draws the 14-day success-rate chart and
//! [`message`] builds the MIME mail. [`run`] is the pipeline over an object store
//! and a mailer.

pub mod chart;
pub mod explain;
pub mod message;
pub mod render;
pub mod run;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::report::KNOWN_RESULT_TYPES;

/// Schema name written into every digest.
pub const DIGEST_SCHEMA: &str = "stsguard/digest/v1";

/// Days of history a digest looks back on, besides its own day.
pub const HISTORY_DAYS: u32 = 13;

/// Distinct values kept per counter (organizations, hosts, addresses, result
/// types) and distinct domains per day. What does not fit is counted under
/// [`OTHER`], so a hostile flood of distinct values cannot exhaust memory.
pub const MAX_DISTINCT: usize = 10_000;

/// Entries kept in each top list of a domain (hosts, addresses).
pub const TOP_N: usize = 10;

/// The label under which values beyond [`MAX_DISTINCT`] are counted.
pub const OTHER: &str = "(other)";

/// How the digest judges a day.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestConfig {
    /// Domains expected to report every day; one that did not gets a "no
    /// reports" finding. Lower case, no trailing dot.
    pub domains: Vec<String>,
    /// A failure rate this many percentage points above the 7-day average is a
    /// jump. Default 5.
    pub failure_jump_points: f64,
    /// Sessions a domain needs on the day for a jump to count (a single failed
    /// session out of two is not a trend). Default 20.
    pub min_sessions_for_jump: u64,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            domains: Vec::new(),
            failure_jump_points: 5.0,
            min_sessions_for_jump: 20,
        }
    }
}

/// One day's digest (schema `stsguard/digest/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// Always [`DIGEST_SCHEMA`].
    pub schema: String,
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Sums over all domains.
    pub totals: Totals,
    /// One entry per domain, sorted by name.
    pub domains: Vec<DomainDigest>,
    /// The alerts open when the digest was made (see `alerts`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_alerts: Vec<OpenAlert>,
}

/// An open alert, as the digest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAlert {
    /// The domain.
    pub domain: String,
    /// The rule (`stopping-failure`, `failure-jump`, `reporter-silent`,
    /// `domain-silent`).
    pub rule: String,
    /// The result type or reporter, or empty.
    pub subject: String,
    /// When it opened (RFC 3339).
    pub since: String,
    /// The condition in one sentence.
    pub summary: String,
}

/// Sums over all domains of a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Domains in the digest (with reports, or expected and silent).
    pub domains: u64,
    /// Reports read.
    pub reports: u64,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
    /// Successful sessions in percent of all sessions; `null` without sessions.
    pub success_rate: Option<f64>,
    /// Domains whose status is not `ok`.
    pub needs_attention: u64,
    /// Reports that came without a passing DKIM signature.
    pub unauthenticated_reports: u64,
    /// Reports that needed at least one tolerance.
    pub reports_with_warnings: u64,
    /// Stored objects under the day's prefix that could not be read as reports.
    #[serde(default)]
    pub unreadable_objects: u64,
    /// Reports of domains beyond [`MAX_DISTINCT`], counted here only.
    #[serde(default)]
    pub reports_of_other_domains: u64,
}

/// How a domain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every reported session negotiated TLS.
    Ok,
    /// Sessions failed, or the failure rate jumped.
    Attention,
    /// An expected domain got no reports.
    NoReports,
}

/// One domain's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDigest {
    /// The policy domain.
    pub domain: String,
    /// The verdict on the day.
    pub status: Status,
    /// Reports.
    pub reports: u64,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
    /// Successful sessions in percent; `null` without sessions.
    pub success_rate: Option<f64>,
    /// Failed sessions by result type (from the failure details).
    pub result_types: BTreeMap<String, u64>,
    /// Reporting organizations, most failures first.
    pub organizations: Vec<Organization>,
    /// Receiving MX hosts named in failure details, most failures first.
    pub receiving_mx_hosts: Vec<Count>,
    /// Sending MTA addresses with failures, most failures first.
    pub sending_ips: Vec<Count>,
    /// Receiving addresses with failures, most failures first.
    pub receiving_ips: Vec<Count>,
    /// Policies evaluated, by policy type.
    pub policy_types: BTreeMap<String, u64>,
    /// MTA-STS policies evaluated, by the mode the sender saw.
    pub sts_modes: BTreeMap<String, u64>,
    /// Reports without a passing DKIM signature.
    pub unauthenticated_reports: u64,
    /// Reports that needed at least one tolerance.
    pub reports_with_warnings: u64,
    /// Comparison with the previous days.
    pub trend: Trend,
    /// What needs saying, most important first.
    pub findings: Vec<DigestFinding>,
}

/// One reporting organization's sessions for a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// `organization-name` as reported.
    pub name: String,
    /// Reports from it.
    pub reports: u64,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
}

/// A value with its failed-session count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Host name or address as reported.
    pub value: String,
    /// Failed sessions.
    pub failed: u64,
}

/// A domain's day against the previous days (from stored digests).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Up to 14 days, oldest first, ending with this day; days without a stored
    /// digest are left out.
    pub history: Vec<DayPoint>,
    /// Success rate change against the day before, in percentage points.
    pub change_vs_previous_day: Option<f64>,
    /// Success rate over the 7 days before (sessions weighted), in percent.
    pub average_7d: Option<f64>,
    /// Success rate change against [`Trend::average_7d`], in percentage points.
    pub change_vs_7d: Option<f64>,
    /// Result types seen today and on none of the previous 13 days (empty when
    /// there is no earlier digest to compare with).
    pub new_result_types: Vec<String>,
    /// Whether the failure rate rose more than the configured threshold above
    /// the 7-day average.
    pub failure_rate_jump: bool,
}

/// One day of a domain's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    /// The day.
    pub day: String,
    /// Reports.
    pub reports: u64,
    /// Successful sessions.
    pub successful: u64,
    /// Failed sessions.
    pub failed: u64,
    /// Success rate in percent; `null` without sessions.
    pub success_rate: Option<f64>,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing.
    Info,
    /// Needs someone to look.
    Warning,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// An expected domain got no reports.
    NoReports,
    /// Sessions failed.
    Failures,
    /// A result type appeared that the previous 13 days did not have.
    NewResultType,
    /// The failure rate rose above the threshold.
    FailureRateJump,
    /// A result type outside the IANA registry.
    UnknownResultType,
    /// Reports without a passing DKIM signature.
    Unauthenticated,
    /// Reports that needed tolerances.
    ReportWarnings,
}

/// One thing the digest says about a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestFinding {
    /// What it is about.
    pub code: FindingCode,
    /// How much it matters.
    pub level: Level,
    /// One plain sentence or two.
    pub message: String,
}

/// A stored object that could not be added to the digest.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AddError {
    /// Not a normalized report of a schema this version reads.
    #[error("not a stsguard/report/v1 object: {0}")]
    NotAReport(String),
}

/// Counts per distinct value, at most [`MAX_DISTINCT`] values.
#[derive(Debug, Default)]
struct Counter {
    map: HashMap<String, u64>,
}

impl Counter {
    fn add(&mut self, value: &str, n: u64) {
        if let Some(c) = self.map.get_mut(value) {
            *c = c.saturating_add(n);
            return;
        }
        let key = if self.map.len() < MAX_DISTINCT {
            value
        } else {
            OTHER
        };
        let c = self.map.entry(key.to_owned()).or_default();
        *c = c.saturating_add(n);
    }

    /// The `n` largest, ties by value.
    fn top(&self, n: usize) -> Vec<Count> {
        let mut v: Vec<Count> = self
            .map
            .iter()
            .filter(|(_, &c)| c > 0)
            .map(|(k, &c)| Count {
                value: k.clone(),
                failed: c,
            })
            .collect();
        v.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| a.value.cmp(&b.value)));
        v.truncate(n);
        v
    }
}

#[derive(Debug, Default)]
struct OrgAcc {
    reports: u64,
    successful: u64,
    failed: u64,
}

#[derive(Debug, Default)]
struct DomainAcc {
    reports: u64,
    successful: u64,
    failed: u64,
    result_types: Counter,
    orgs: HashMap<String, OrgAcc>,
    mx: Counter,
    sending: Counter,
    receiving: Counter,
    policy_types: Counter,
    sts_modes: Counter,
    unauthenticated: u64,
    warned: u64,
}

// The slice of a stored report the digest reads; serde skips the rest.
#[derive(Deserialize)]
struct Slim {
    schema: String,
    domain: String,
    organization: String,
    policies: Vec<SlimPolicy>,
    #[serde(default)]
    warnings: Vec<SlimWarning>,
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
    sending_mta_ip: Option<String>,
    receiving_mx_hostname: Option<String>,
    receiving_ip: Option<String>,
}

#[derive(Deserialize)]
struct SlimWarning {
    code: String,
}

/// Folds one day's stored reports into per-domain counters.
#[derive(Debug)]
pub struct Aggregator {
    day: NaiveDate,
    domains: HashMap<String, DomainAcc>,
    unreadable: u64,
    other_domains: u64,
}

impl Aggregator {
    /// An empty aggregate for `day`.
    pub fn new(day: NaiveDate) -> Self {
        Aggregator {
            day,
            domains: HashMap::new(),
            unreadable: 0,
            other_domains: 0,
        }
    }

    /// The day being aggregated.
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    /// Counts a stored object that could not be read at all (for example a
    /// truncated object); it shows in [`Totals::unreadable_objects`].
    pub fn count_unreadable(&mut self) {
        self.unreadable += 1;
    }

    /// Adds one stored report (the JSON written by ingest). An object that is
    /// not a `stsguard/report/v1` report is counted as unreadable and its
    /// error returned; the aggregate stays usable.
    pub fn add_json(&mut self, bytes: &[u8]) -> Result<(), AddError> {
        let slim: Slim = match serde_json::from_slice(bytes) {
            Ok(s) => s,
            Err(e) => {
                self.unreadable += 1;
                return Err(AddError::NotAReport(e.to_string()));
            }
        };
        if slim.schema != crate::report::REPORT_SCHEMA {
            self.unreadable += 1;
            return Err(AddError::NotAReport(format!("schema {:?}", slim.schema)));
        }
        self.add_slim(slim);
        Ok(())
    }

    fn add_slim(&mut self, r: Slim) {
        let acc = if let Some(acc) = self.domains.get_mut(&r.domain) {
            acc
        } else if self.domains.len() < MAX_DISTINCT {
            self.domains.entry(r.domain).or_default()
        } else {
            self.other_domains += 1;
            return;
        };
        acc.reports += 1;
        let (mut ok, mut failed) = (0u64, 0u64);
        for p in &r.policies {
            ok = ok.saturating_add(p.successful);
            failed = failed.saturating_add(p.failed);
            acc.policy_types.add(&p.policy_type, 1);
            if let Some(mode) = p.sts.as_ref().and_then(|s| s.mode.as_deref()) {
                acc.sts_modes.add(mode, 1);
            }
            for f in &p.failures {
                acc.result_types.add(&f.result_type, f.count);
                if let Some(h) = &f.receiving_mx_hostname {
                    acc.mx.add(h, f.count);
                }
                if let Some(ip) = &f.sending_mta_ip {
                    acc.sending.add(ip, f.count);
                }
                if let Some(ip) = &f.receiving_ip {
                    acc.receiving.add(ip, f.count);
                }
            }
        }
        acc.successful = acc.successful.saturating_add(ok);
        acc.failed = acc.failed.saturating_add(failed);
        let org_key = if acc.orgs.contains_key(&r.organization) || acc.orgs.len() < MAX_DISTINCT {
            r.organization
        } else {
            OTHER.to_owned()
        };
        let org = acc.orgs.entry(org_key).or_default();
        org.reports += 1;
        org.successful = org.successful.saturating_add(ok);
        org.failed = org.failed.saturating_add(failed);
        if !r.warnings.is_empty() {
            acc.warned += 1;
        }
        if r.warnings.iter().any(|w| w.code == "unauthenticated") {
            acc.unauthenticated += 1;
        }
    }

    /// The digest of the day: the counters, the expected domains that stayed
    /// silent, and the trend against `previous` (stored digests of earlier days;
    /// those outside the 13 days before are ignored).
    pub fn finish(self, config: &DigestConfig, previous: &[Digest]) -> Digest {
        let day = self.day;
        let day_s = day.to_string();
        let window: BTreeMap<String, &Digest> = previous
            .iter()
            .filter_map(|d| {
                let past = NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?;
                let age = (day - past).num_days();
                (1..=i64::from(HISTORY_DAYS))
                    .contains(&age)
                    .then(|| (d.day.clone(), d))
            })
            .collect();

        let mut names: BTreeSet<String> = self.domains.keys().cloned().collect();
        names.extend(config.domains.iter().cloned());
        let mut domains = self.domains;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let acc = domains.remove(&name).unwrap_or_default();
            out.push(domain_digest(&name, acc, &day_s, day, &window, config));
        }

        let mut totals = Totals {
            domains: out.len() as u64,
            unreadable_objects: self.unreadable,
            reports_of_other_domains: self.other_domains,
            ..Totals::default()
        };
        for d in &out {
            totals.reports += d.reports;
            totals.successful = totals.successful.saturating_add(d.successful);
            totals.failed = totals.failed.saturating_add(d.failed);
            totals.unauthenticated_reports += d.unauthenticated_reports;
            totals.reports_with_warnings += d.reports_with_warnings;
            if d.status != Status::Ok {
                totals.needs_attention += 1;
            }
        }
        totals.success_rate = rate(totals.successful, totals.failed);
        Digest {
            schema: DIGEST_SCHEMA.to_owned(),
            day: day_s,
            totals,
            domains: out,
            open_alerts: Vec::new(),
        }
    }
}

/// Successful sessions in percent, rounded to 3 decimals; `None` without sessions.
pub fn rate(successful: u64, failed: u64) -> Option<f64> {
    let all = successful as f64 + failed as f64;
    (all > 0.0).then(|| round3(successful as f64 * 100.0 / all))
}

/// Failed sessions in percent of all (0 without sessions).
fn failure_rate(successful: u64, failed: u64) -> f64 {
    let all = successful as f64 + failed as f64;
    if all > 0.0 {
        failed as f64 * 100.0 / all
    } else {
        0.0
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn domain_digest(
    name: &str,
    acc: DomainAcc,
    day_s: &str,
    day: NaiveDate,
    window: &BTreeMap<String, &Digest>,
    config: &DigestConfig,
) -> DomainDigest {
    let success_rate = rate(acc.successful, acc.failed);
    let result_types: BTreeMap<String, u64> =
        acc.result_types.map.into_iter().filter(|(_, c)| *c > 0).collect();
    let mut organizations: Vec<Organization> = acc
        .orgs
        .into_iter()
        .map(|(name, o)| Organization {
            name,
            reports: o.reports,
            successful: o.successful,
            failed: o.failed,
        })
        .collect();
    organizations.sort_by(|a, b| {
        b.failed
            .cmp(&a.failed)
            .then_with(|| (b.successful + b.failed).cmp(&(a.successful + a.failed)))
            .then_with(|| a.name.cmp(&b.name))
    });

    let today = acc_point(day_s, &(acc.reports, acc.successful, acc.failed));
    let trend = trend(name, day, &today, &result_types, window, config);

    let mut d = DomainDigest {
        domain: name.to_owned(),
        status: Status::Ok,
        reports: acc.reports,
        successful: acc.successful,
        failed: acc.failed,
        success_rate,
        result_types,
        organizations,
        receiving_mx_hosts: acc.mx.top(TOP_N),
        sending_ips: acc.sending.top(TOP_N),
        receiving_ips: acc.receiving.top(TOP_N),
        policy_types: acc.policy_types.map.into_iter().collect(),
        sts_modes: acc.sts_modes.map.into_iter().collect(),
        unauthenticated_reports: acc.unauthenticated,
        reports_with_warnings: acc.warned,
        trend,
        findings: Vec::new(),
    };
    d.findings = findings(&d, config);
    d.status = if d.reports == 0 {
        Status::NoReports
    } else if d.failed > 0 || d.trend.failure_rate_jump {
        Status::Attention
    } else {
        Status::Ok
    };
    d
}

fn acc_point(day: &str, (reports, successful, failed): &(u64, u64, u64)) -> DayPoint {
    DayPoint {
        day: day.to_owned(),
        reports: *reports,
        successful: *successful,
        failed: *failed,
        success_rate: rate(*successful, *failed),
    }
}

fn trend(
    name: &str,
    day: NaiveDate,
    today: &DayPoint,
    result_types: &BTreeMap<String, u64>,
    window: &BTreeMap<String, &Digest>,
    config: &DigestConfig,
) -> Trend {
    // The domain's point on each earlier day with a stored digest (zero when the
    // digest exists but the domain had no reports).
    let mut history: Vec<DayPoint> = Vec::new();
    let mut seen_types: BTreeSet<&str> = BTreeSet::new();
    for (d, digest) in window {
        match digest.domains.iter().find(|x| x.domain == name) {
            Some(x) => {
                history.push(acc_point(d, &(x.reports, x.successful, x.failed)));
                seen_types.extend(x.result_types.keys().map(String::as_str));
            }
            None => history.push(acc_point(d, &(0, 0, 0))),
        }
    }
    let prev_day = (day - chrono::Days::new(1)).to_string();
    let change_vs_previous_day = history
        .iter()
        .find(|p| p.day == prev_day)
        .and_then(|p| Some(round3(today.success_rate? - p.success_rate?)));
    let week: Vec<&DayPoint> = history
        .iter()
        .filter(|p| {
            NaiveDate::parse_from_str(&p.day, "%Y-%m-%d")
                .map(|past| (day - past).num_days() <= 7)
                .unwrap_or(false)
        })
        .collect();
    let (wk_ok, wk_failed) = week.iter().fold((0u64, 0u64), |(o, f), p| {
        (o.saturating_add(p.successful), f.saturating_add(p.failed))
    });
    let average_7d = rate(wk_ok, wk_failed);
    let change_vs_7d = match (today.success_rate, average_7d) {
        (Some(t), Some(a)) => Some(round3(t - a)),
        _ => None,
    };
    let new_result_types = if window.is_empty() {
        Vec::new()
    } else {
        result_types
            .keys()
            .filter(|t| !seen_types.contains(t.as_str()))
            .cloned()
            .collect()
    };
    let sessions = today.successful.saturating_add(today.failed);
    let failure_rate_jump = match (today.success_rate, average_7d) {
        (Some(t), Some(a)) => {
            sessions >= config.min_sessions_for_jump && (a - t) > config.failure_jump_points
        }
        _ => false,
    };
    history.push(today.clone());
    Trend {
        history,
        change_vs_previous_day,
        average_7d,
        change_vs_7d,
        new_result_types,
        failure_rate_jump,
    }
}

/// Groups digits by thousands: `12345` -> `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage for people: one decimal, but never rounded up to 100.0 or down
/// to 0.0 when it is not exactly that.
pub fn percent(p: f64) -> String {
    let s = format!("{p:.1}");
    if s == "100.0" && p < 100.0 {
        "99.9".into()
    } else if s == "0.0" && p > 0.0 {
        "0.1".into()
    } else {
        s
    }
}

fn findings(d: &DomainDigest, config: &DigestConfig) -> Vec<DigestFinding> {
    use render::inert;
    let mut out = Vec::new();
    let name = &inert(&d.domain);
    if d.reports == 0 {
        out.push(DigestFinding {
            code: FindingCode::NoReports,
            level: Level::Warning,
            message: format!(
                "No TLS reports arrived for {name}. Likely causes: the _smtp._tls.{name} TXT record \
                 is missing or its rua= does not name the ingest address; the SES receipt rule does \
                 not cover that address; the bucket policy does not let SES write incoming/; or \
                 nobody who sends reports delivered mail to {name} that day."
            ),
        });
        return out;
    }
    if d.trend.failure_rate_jump {
        let avg = d.trend.average_7d.unwrap_or(100.0);
        out.push(DigestFinding {
            code: FindingCode::FailureRateJump,
            level: Level::Warning,
            message: format!(
                "The failure rate jumped to {}% from a 7-day average of {}% (more than {} points).",
                percent(failure_rate(d.successful, d.failed)),
                percent(100.0 - avg),
                config.failure_jump_points
            ),
        });
    }
    for t in &d.trend.new_result_types {
        let n = d.result_types.get(t).copied().unwrap_or(0);
        out.push(DigestFinding {
            code: FindingCode::NewResultType,
            level: Level::Warning,
            message: format!(
                "{} is new: {} today and none in the previous {HISTORY_DAYS} days.",
                inert(t),
                render::count(n, "failed session")
            ),
        });
    }
    if d.failed > 0 {
        let mut parts: Vec<(&String, &u64)> = d.result_types.iter().collect();
        parts.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let listed = parts
            .iter()
            .map(|(t, n)| format!("{} {}", inert(t), thousands(**n)))
            .collect::<Vec<_>>()
            .join(", ");
        let detail = if listed.is_empty() {
            "the reports gave no failure details".to_owned()
        } else {
            listed
        };
        let enforce = d.sts_modes.get("enforce").copied().unwrap_or(0) > 0;
        let consequence = if enforce {
            " Senders that saw the policy in enforce mode did not deliver over the failing path: they retry, try another MX or bounce."
        } else {
            ""
        };
        out.push(DigestFinding {
            code: FindingCode::Failures,
            level: Level::Warning,
            message: format!(
                "{} of {} sessions failed TLS ({}%): {detail}.{consequence}",
                thousands(d.failed),
                thousands(d.successful.saturating_add(d.failed)),
                percent(failure_rate(d.successful, d.failed)),
            ),
        });
    }
    for t in d.result_types.keys() {
        if !KNOWN_RESULT_TYPES.contains(&t.as_str()) {
            out.push(DigestFinding {
                code: FindingCode::UnknownResultType,
                level: Level::Info,
                message: format!(
                    "A sender reported the result type \"{}\", which is not in the IANA registry; \
                     its failure details say more.",
                    inert(t)
                ),
            });
        }
    }
    if d.unauthenticated_reports > 0 {
        out.push(DigestFinding {
            code: FindingCode::Unauthenticated,
            level: Level::Info,
            message: format!(
                "{} came without a passing DKIM signature; RFC 8460 §3 lets receivers ignore such reports, so weigh them with care.",
                render::count(d.unauthenticated_reports, "report")
            ),
        });
    }
    if d.reports_with_warnings > 0 {
        out.push(DigestFinding {
            code: FindingCode::ReportWarnings,
            level: Level::Info,
            message: format!(
                "{} needed tolerances to be read (departures from RFC 8460; see each report's warnings).",
                render::count(d.reports_with_warnings, "report")
            ),
        });
    }
    out
}

/// The day before `day`, the default digest day for a run at `day`.
pub fn day_before(day: NaiveDate) -> NaiveDate {
    day - chrono::Days::new(1)
}

/// The keys under which a day's digest and its companions are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKeys {
    /// Prefix of stored digests. Default `digests/`.
    pub prefix: String,
}

impl Default for DigestKeys {
    fn default() -> Self {
        DigestKeys {
            prefix: "digests/".into(),
        }
    }
}

impl DigestKeys {
    /// `digests/day=D.<ext>` (`json`, `html`, `eml`, `sent`).
    pub fn key(&self, day: &str, ext: &str) -> String {
        format!("{}day={day}.{ext}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_and_percent() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(percent(99.96), "99.9");
        assert_eq!(percent(100.0), "100.0");
        assert_eq!(percent(0.01), "0.1");
        assert_eq!(percent(0.0), "0.0");
        assert_eq!(percent(99.24), "99.2");
    }

    #[test]
    fn counter_caps_distinct_values() {
        let mut c = Counter::default();
        for i in 0..MAX_DISTINCT + 50 {
            c.add(&format!("h{i}"), 1);
        }
        assert_eq!(c.map.len(), MAX_DISTINCT + 1);
        assert_eq!(c.map.get(OTHER), Some(&50));
        c.add("h0", u64::MAX);
        assert_eq!(c.map.get("h0"), Some(&u64::MAX));
    }
}
