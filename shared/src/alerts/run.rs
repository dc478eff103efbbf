//! Alerts over a store: read the day's reports and the stored digests before
//! it, evaluate, move each alert one [`step`], send the messages through a
//! [`Notifier`] and store the alerts under `alerts/v1/`.
//!
//! A message goes out before its alert is stored, so a failure in between
//! repeats a message rather than losing one. At most
//! [`AlertConfig::max_messages_per_run`] messages go out per run; the rest
//! are named in one summary message and count as sent.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::{
    cleared, evaluate, shown_domain, step, subject, Alert, AlertConfig, AlertKey, Evaluation, Facts, Firing,
    Notice, Rule, State, When, ALERTS_PREFIX,
};
use crate::digest::explain::explain;
use crate::digest::{Digest, DigestKeys};
use crate::keys::Layout;
use crate::store::{ObjectStore, PutOutcome, StoreError};

/// Where messages go (SNS in AWS; a list in tests).
pub trait Notifier {
    /// Publishes one message; returns its id.
    fn publish(&self, subject: &str, body: &str) -> impl Future<Output = Result<String, NotifyError>> + Send;
}

/// A notifier that publishes nothing (alerts are still evaluated and
/// stored).
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Notifier for Silent {
    async fn publish(&self, _subject: &str, _body: &str) -> Result<String, NotifyError> {
        Ok(String::new())
    }
}

/// A message could not be published.
#[derive(Debug, thiserror::Error)]
#[error("publishing the alert message failed: {message}")]
pub struct NotifyError {
    /// What the service said.
    pub message: String,
}

/// A failure of a run: nothing is lost, the next run does it again.
#[derive(Debug, thiserror::Error)]
pub enum AlertRunError {
    /// Reading reports or digests, or storing an alert.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publishing a message.
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

/// Where things are.
#[derive(Debug, Clone, Default)]
pub struct AlertPaths {
    /// The report layout.
    pub layout: Layout,
    /// Where digests are.
    pub digests: DigestKeys,
}

/// The body of a message (JSON): the alert, what it means and what to check.
#[derive(Debug, Clone, Serialize)]
pub struct MessageBody<'a> {
    /// `opened`, `reminder` or `resolved`.
    pub notice: Notice,
    /// The alert as stored.
    pub alert: &'a Alert,
    /// The situation in plain words.
    pub text: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertRun {
    /// Conditions that hold.
    pub firing: usize,
    /// Messages sent (the summary included).
    pub messages: usize,
    /// Alerts named only in the summary message.
    pub summarized: usize,
    /// Alerts stored (opened, refreshed or resolved).
    pub stored: usize,
    /// Open alerts after the run.
    pub open: usize,
}

/// The plain-text explanation of an alert, with the first checks (the
/// digest's explanations for stopping result types).
pub fn text(alert: &Alert, notice: Notice) -> String {
    let mut out = String::new();
    let state = match notice {
        Notice::Opened => "opened",
        Notice::Reminder => "still open",
        Notice::Resolved => "resolved",
    };
    out.push_str(&format!(
        "{} ({}, {state}) for {}, reports of {}.\n{}\n",
        alert.rule.as_str(),
        if alert.subject.is_empty() {
            "the domain".to_owned()
        } else {
            crate::text::escaped(&alert.subject, 200)
        },
        shown_domain(&alert.domain),
        alert.evidence.day,
        alert.evidence.summary
    ));
    if notice == Notice::Resolved {
        out.push_str("The condition no longer holds in the latest complete day of reports.\n");
        return out;
    }
    match alert.rule {
        Rule::StoppingFailure => {
            let e = explain(&alert.subject);
            out.push_str(&format!("What it means: {}\nCheck first: {}\n", e.meaning, e.check_first));
        }
        Rule::FailureJump => out.push_str(
            "Check first: the result types and MX hosts below; a certificate or policy change on the receiving side is the usual cause.\n",
        ),
        Rule::ReporterSilent => out.push_str(
            "Check first: that the _smtp._tls record still names your rua destination and that it accepts reports (stsguard check DOMAIN); a sender may also have paused reporting.\n",
        ),
        Rule::DomainSilent => out.push_str(
            "Check first: the _smtp._tls record of the domain (stsguard check DOMAIN) and the ingest pipeline (rejected/ and the failure queue).\n",
        ),
    }
    let ev = &alert.evidence;
    if !ev.result_types.is_empty() {
        let types: Vec<String> = ev.result_types.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        out.push_str(&format!("Failed sessions: {}\n", types.join(", ")));
    }
    for (label, list) in [
        ("Reporters", &ev.reporters),
        ("MX hosts", &ev.mx_hosts),
        ("Reports", &ev.report_ids),
    ] {
        if !list.is_empty() {
            let shown: Vec<String> = list.iter().map(|v| crate::text::escaped(v, 200)).collect();
            out.push_str(&format!("{label}: {}\n", shown.join(", ")));
        }
    }
    out
}

async fn day_facts<S: ObjectStore>(
    store: &S,
    paths: &AlertPaths,
    day: &str,
    domain: Option<&str>,
    concurrency: usize,
) -> Result<Facts, StoreError> {
    let prefix = match domain {
        Some(d) => format!(
            "{}domain={}/",
            paths.layout.report_day_prefix(day),
            crate::keys::escape_component(d)
        ),
        None => paths.layout.report_day_prefix(day),
    };
    let keys: Vec<String> = store
        .list(&prefix)
        .await?
        .into_iter()
        .filter(|k| k.ends_with(".json"))
        .collect();
    let mut facts = Facts::new();
    for batch in keys.chunks(1024) {
        for body in store.get_many(batch, concurrency).await?.into_iter().flatten() {
            if body.len() <= crate::digest::run::MAX_STORED_REPORT_BYTES {
                facts.add_json(&body);
            }
        }
    }
    Ok(facts)
}

/// The days of digests an evaluation reads: the fortnight of regularity plus
/// the silent days before `day`.
fn history_days(config: &AlertConfig) -> i64 {
    i64::from(super::REGULARITY_DAYS) + i64::from(config.silence_days.max(1))
}

/// The stored digests of the `days` days before `day` (a missing one is
/// skipped: the roles may list `digests/`, so a GET of a missing key is a
/// plain "not found").
async fn history<S: ObjectStore>(
    store: &S,
    paths: &AlertPaths,
    day: NaiveDate,
    days: i64,
) -> Result<Vec<Digest>, StoreError> {
    let keys: Vec<String> = (1..=days)
        .map(|back| {
            paths
                .digests
                .key(&(day - Duration::days(back)).to_string(), "json")
        })
        .collect();
    Ok(store
        .get_many(&keys, 16)
        .await?
        .into_iter()
        .flatten()
        .filter_map(|b| serde_json::from_slice::<Digest>(&b).ok())
        .collect())
}

/// Every stored alert, open and resolved.
pub async fn stored_alerts<S: ObjectStore>(store: &S) -> Result<Vec<Alert>, StoreError> {
    alerts_under(store, ALERTS_PREFIX).await
}

/// The stored alerts of one domain.
pub async fn domain_alerts<S: ObjectStore>(store: &S, domain: &str) -> Result<Vec<Alert>, StoreError> {
    alerts_under(
        store,
        &format!("{ALERTS_PREFIX}domain={}/", crate::keys::escape_component(domain)),
    )
    .await
}

async fn alerts_under<S: ObjectStore>(store: &S, prefix: &str) -> Result<Vec<Alert>, StoreError> {
    let keys = store.list(prefix).await?;
    let mut out = Vec::new();
    for body in store.get_many(&keys, 32).await?.into_iter().flatten() {
        if let Ok(a) = serde_json::from_slice::<Alert>(&body) {
            out.push(a);
        }
    }
    out.sort_by(|a, b| (&a.domain, a.rule, &a.subject).cmp(&(&b.domain, b.rule, &b.subject)));
    Ok(out)
}

/// One alert's move in a run: its key, its stored state, its next state and
/// the message [`step`] says is due.
struct Move<'a> {
    key: AlertKey,
    prev: Option<&'a Alert>,
    next: Option<Alert>,
    notice: Option<Notice>,
}

/// What one run evaluates.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The day of the reports.
    pub day: NaiveDate,
    /// On arrival or daily.
    pub kind: Evaluation,
    /// On arrival, the domain a new report was about: only its reports are
    /// read and only its alerts touched. `None`: every domain.
    pub domain: Option<&'a str>,
}

/// Evaluates the scope's day and acts on it (see the module's text).
pub async fn run<S: ObjectStore, N: Notifier>(
    store: &S,
    notifier: &N,
    paths: &AlertPaths,
    config: &AlertConfig,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<AlertRun, AlertRunError> {
    let Scope { day, kind, domain } = scope;
    let day_s = day.to_string();
    let facts = day_facts(store, paths, &day_s, domain, 32).await?;
    // On arrival only the 7-day baseline is needed; daily, the fortnight of
    // regularity and the silent days too.
    let days = match kind {
        Evaluation::Arrival => 7,
        Evaluation::Daily => history_days(config),
    };
    let past = history(store, paths, day, days).await?;
    let firing: Vec<Firing> = evaluate(day, facts.domains(), &past, config, kind);
    let mut by_key: BTreeMap<AlertKey, &Firing> = firing.iter().map(|f| (f.key(), f)).collect();

    let existing = match domain {
        Some(d) => domain_alerts(store, d).await?,
        None => stored_alerts(store).await?,
    };
    // When a message last went out per domain and rule (over all subjects):
    // at most one per [`AlertConfig::min_interval_minutes`].
    let mut last_sent: BTreeMap<(String, Rule), DateTime<Utc>> = BTreeMap::new();
    for a in &existing {
        if let Some(t) = a
            .last_notified
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        {
            let t = t.with_timezone(&Utc);
            let e = last_sent.entry((a.domain.clone(), a.rule)).or_insert(t);
            *e = (*e).max(t);
        }
    }
    let when = When { day, kind, now };
    let mut steps: Vec<Move<'_>> = Vec::new();
    for a in &existing {
        let key = AlertKey::new(&a.domain, a.rule, &a.subject);
        let f = by_key.remove(&key);
        let (next, notice) = step(Some(a), f, when, cleared(a, facts.domains()), config);
        steps.push(Move {
            key,
            prev: Some(a),
            next,
            notice,
        });
    }
    // New ones in the evaluation's order (domain, rule, subject).
    for f in &firing {
        let key = f.key();
        if by_key.remove(&key).is_some() {
            let (next, notice) = step(None, Some(f), when, false, config);
            steps.push(Move {
                key,
                prev: None,
                next,
                notice,
            });
        }
    }
    let interval = Duration::minutes(i64::from(config.min_interval_minutes));

    let mut report = AlertRun {
        firing: firing.len(),
        open: existing.iter().filter(|a| a.state == State::Open).count(),
        ..AlertRun::default()
    };
    let mut summarized: Vec<String> = Vec::new();
    // Alerts named only in the summary: stored once the summary is out.
    let mut deferred: Vec<(AlertKey, Vec<u8>)> = Vec::new();
    for Move {
        key,
        prev,
        next,
        mut notice,
    } in steps
    {
        let Some(mut alert) = next else { continue };
        if notice.is_some() {
            let group = (alert.domain.clone(), alert.rule);
            // The alert's own last message is outside the interval (or [`step`]
            // would have sent none), so a recent one is another alert's.
            let recent = last_sent.get(&group).is_some_and(|t| now - *t < interval);
            if recent {
                // Another alert of this domain and rule was announced within
                // the interval: this one waits for a later run, as it was.
                match notice {
                    Some(Notice::Resolved) => continue,
                    _ => {
                        alert.announced = prev.is_some_and(|p| p.announced && p.state == State::Open);
                        alert.last_notified = prev.and_then(|p| p.last_notified.clone());
                    }
                }
                notice = None;
            } else {
                last_sent.insert(group, now);
            }
        }
        let was_open = prev.is_some_and(|p| p.state == State::Open);
        let is_open = alert.state == State::Open;
        let body = serde_json::to_vec_pretty(&alert).unwrap_or_default();
        if prev.is_none() {
            // A new alert is claimed before anything is sent: of two runs
            // that see it at once (two reports of the domain arriving
            // together), one announces it. Claimed unannounced, so that a
            // failed publish is announced by a later run.
            let mut claim = alert.clone();
            claim.announced = false;
            claim.last_notified = None;
            let claim = serde_json::to_vec_pretty(&claim).unwrap_or_default();
            if store.put_if_absent(&key.0, claim).await? == PutOutcome::AlreadyExists {
                continue;
            }
        }
        match notice {
            Some(notice) if report.messages < config.max_messages_per_run => {
                let message = MessageBody {
                    notice,
                    alert: &alert,
                    text: text(&alert, notice),
                };
                let json = serde_json::to_string_pretty(&message).unwrap_or_default();
                notifier.publish(&subject(&alert, notice), &json).await?;
                report.messages += 1;
                store.put(&key.0, body).await?;
            }
            Some(notice) => {
                summarized.push(format!(
                    "{} {} {}",
                    match notice {
                        Notice::Opened => "opened",
                        Notice::Reminder => "still open",
                        Notice::Resolved => "resolved",
                    },
                    shown_domain(&alert.domain),
                    alert.rule.as_str()
                ));
                deferred.push((key, body));
            }
            None => store.put(&key.0, body).await?,
        }
        report.stored += 1;
        match (was_open, is_open) {
            (false, true) => report.open += 1,
            (true, false) => report.open = report.open.saturating_sub(1),
            _ => {}
        }
    }
    if !summarized.is_empty() {
        report.summarized = summarized.len();
        let body = serde_json::json!({
            "notice": "summary",
            "text": format!(
                "{} more alert messages were held back by the per-run cap ({}); `stsguard alerts` lists them all.",
                summarized.len(),
                config.max_messages_per_run
            ),
            "alerts": summarized,
        });
        notifier
            .publish(
                &format!(
                    "[stsguard] {} more alerts (see stsguard alerts)",
                    summarized.len()
                ),
                &serde_json::to_string_pretty(&body).unwrap_or_default(),
            )
            .await?;
        report.messages += 1;
        for (key, body) in deferred {
            store.put(&key.0, body).await?;
        }
    }
    Ok(report)
}
