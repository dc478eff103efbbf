//! The digest Lambda: once a day, the previous UTC day's reports aggregated per
//! domain, stored as `digests/day=D.{json,html,eml}` and mailed through SES.
//!
//! [`day_for_event`] turns the invocation event into the day to digest (pure):
//! the day before the event's `time` (an EventBridge Scheduler input
//! `{"time": "<aws.scheduler.scheduled-time>"}` or a CloudWatch Events scheduled
//! event), or the `day` of a `{"day": "YYYY-MM-DD"}` backfill. [`Handler::handle`]
//! runs the library's pipeline ([`stsguard::digest::run::run`]); the sent marker
//! keeps a retried invocation from mailing twice. Storage and SES failures are
//! returned as errors, so Lambda's asynchronous retries and the on-failure
//! destination take over.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use stsguard::alerts::run::{run as alert_run, stored_alerts, AlertPaths, AlertRunError, Notifier, Scope};
use stsguard::alerts::{Alert, AlertConfig, Evaluation, State};
use stsguard::digest::message::check_address;
use stsguard::digest::run::{run, RunConfig, RunError, Sending};
use stsguard::digest::{day_before, DigestConfig, DigestKeys};
use stsguard::envconf::{prefix, switch};
use stsguard::keys::Layout;
use stsguard::mailer::Mailer;
use stsguard::store::ObjectStore;

pub use stsguard::envconf::ConfigError;

/// Configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The bucket of reports and digests.
    pub bucket: String,
    /// Prefix under which `reports/` and `digests/` are (usually empty).
    pub store_prefix: String,
    /// What the run needs: domains, threshold, addresses.
    pub run: RunConfig,
    /// Whether to send the mail (`false` stores the digest and the `.eml` only).
    pub send: bool,
    /// The alert thresholds (the `STSGUARD_ALERT_*` variables,
    /// `STSGUARD_FAILURE_JUMP` and `STSGUARD_DOMAINS`).
    pub alerts: AlertConfig,
    /// The SNS topic alert messages go to (`STSGUARD_ALERT_TOPIC_ARN`); none:
    /// alerts are evaluated and stored, not published.
    pub alert_topic_arn: Option<String>,
    /// Path-style S3 addressing (S3-compatible endpoints).
    pub path_style: bool,
}

fn list_value(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    /// Reads the configuration through `get` (the process environment in `main`):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `STSGUARD_BUCKET` | bucket of reports and digests | required |
    /// | `STSGUARD_STORE_PREFIX` | prefix of `reports/` and `digests/` | empty |
    /// | `STSGUARD_DIGEST_FROM` | sender address (verified in SES) | required |
    /// | `STSGUARD_DIGEST_TO` | comma-separated recipients | required |
    /// | `STSGUARD_DOMAINS` | comma-separated domains expected to report daily | none |
    /// | `STSGUARD_FAILURE_JUMP` | failure-rate jump threshold, percentage points | 5 |
    /// | `STSGUARD_READ_CONCURRENCY` | reports read from S3 at once (1 to 1024) | 32 |
    /// | `STSGUARD_DIGEST_SEND` | send the mail (`false`: store it only) | `true` |
    /// | `STSGUARD_ALERT_TOPIC_ARN` | SNS topic of alert messages | none: alerts stored, not published |
    /// | `STSGUARD_ALERT_*` | alert thresholds ([`AlertConfig::from_lookup`]) | see there |
    /// | `STSGUARD_S3_PATH_STYLE` | path-style addressing | `true` when `AWS_ENDPOINT_URL` is set |
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let bucket = required("STSGUARD_BUCKET")?;
        if bucket.contains('/') {
            return Err(ConfigError::Invalid {
                name: "STSGUARD_BUCKET",
                value: bucket,
                why: "a bucket name, without s3:// or a prefix".into(),
            });
        }
        let store_prefix = prefix(&get("STSGUARD_STORE_PREFIX").unwrap_or_default());
        let from = required("STSGUARD_DIGEST_FROM")?;
        check_address("From", &from).map_err(|e| ConfigError::Invalid {
            name: "STSGUARD_DIGEST_FROM",
            value: from.clone(),
            why: e.to_string(),
        })?;
        let to = list_value(Some(required("STSGUARD_DIGEST_TO")?));
        for a in &to {
            check_address("To", a).map_err(|e| ConfigError::Invalid {
                name: "STSGUARD_DIGEST_TO",
                value: a.clone(),
                why: e.to_string(),
            })?;
        }
        let domains: Vec<String> = list_value(get("STSGUARD_DOMAINS"))
            .iter()
            .map(|d| stsguard::names::normalize(d))
            .collect();
        let mut digest = DigestConfig {
            domains,
            ..DigestConfig::default()
        };
        if let Some(v) = get("STSGUARD_FAILURE_JUMP").filter(|v| !v.trim().is_empty()) {
            digest.failure_jump_points = v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or(ConfigError::Invalid {
                    name: "STSGUARD_FAILURE_JUMP",
                    value: v,
                    why: "expected percentage points, a number 0 or more".into(),
                })?;
        }
        let mut concurrency = RunConfig::default().concurrency;
        if let Some(v) = get("STSGUARD_READ_CONCURRENCY").filter(|v| !v.trim().is_empty()) {
            concurrency = v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_READ_CONCURRENCY).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "STSGUARD_READ_CONCURRENCY",
                    value: v,
                    why: format!("expected a whole number of reads in flight, 1 to {MAX_READ_CONCURRENCY}"),
                })?;
        }
        let send = switch(
            "STSGUARD_DIGEST_SEND",
            get("STSGUARD_DIGEST_SEND").as_deref(),
            true,
        )?;
        let path_style = match get("STSGUARD_S3_PATH_STYLE") {
            Some(v) => switch("STSGUARD_S3_PATH_STYLE", Some(&v), false)?,
            None => get("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty()),
        };
        let alerts = AlertConfig::from_lookup(&get)?;
        let alert_topic_arn =
            stsguard::envconf::topic_arn("STSGUARD_ALERT_TOPIC_ARN", get("STSGUARD_ALERT_TOPIC_ARN"))?;
        Ok(Config {
            bucket,
            store_prefix,
            run: RunConfig {
                digest,
                layout: Layout::default(),
                keys: DigestKeys::default(),
                from,
                to,
                concurrency,
                open_alerts: Vec::new(),
            },
            send,
            alerts,
            alert_topic_arn,
            path_style,
        })
    }
}

/// The most reports read at once (`STSGUARD_READ_CONCURRENCY`).
pub const MAX_READ_CONCURRENCY: usize = 1024;

/// The event does not say which day to digest in a usable way.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// `day` is not a `YYYY-MM-DD` date.
    #[error("\"day\": {0:?} is not a date like 2024-11-08")]
    BadDay(String),
    /// `day` lies after the day before `now`: it has not ended yet.
    #[error("\"day\": {day} has not ended yet (it is {today} UTC now)")]
    FutureDay {
        /// The asked day.
        day: NaiveDate,
        /// Today, UTC.
        today: NaiveDate,
    },
    /// `time` is not an RFC 3339 date-time.
    #[error("\"time\": {0:?} is not an RFC 3339 date-time")]
    BadTime(String),
}

/// The day an event asks for, judged at `now`:
///
/// * `{"day": "YYYY-MM-DD"}`: that day (a backfill); it must have ended;
/// * `{"time": "…"}`, as EventBridge Scheduler's `<aws.scheduler.scheduled-time>`
///   input or a CloudWatch Events scheduled event carries it: the UTC day
///   before that time;
/// * anything else (an empty payload, a test event): the day before `now`.
pub fn day_for_event(event: &Value, now: DateTime<Utc>) -> Result<NaiveDate, EventError> {
    let today = now.date_naive();
    if let Some(v) = event.get("day").filter(|v| !v.is_null()) {
        let s = v.as_str().unwrap_or_default();
        let day =
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| EventError::BadDay(v.to_string()))?;
        if day >= today {
            return Err(EventError::FutureDay { day, today });
        }
        return Ok(day);
    }
    if let Some(v) = event.get("time").filter(|v| !v.is_null()) {
        let s = v.as_str().unwrap_or_default();
        let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|_| EventError::BadTime(v.to_string()))?;
        return Ok(day_before(t.with_timezone(&Utc).date_naive()));
    }
    Ok(day_before(today))
}

/// What one invocation did, returned to the runtime (and to `lambda invoke`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    /// The day digested.
    pub day: String,
    /// Reports read.
    pub reports: u64,
    /// Domains in the digest.
    pub domains: u64,
    /// Domains that need attention.
    pub needs_attention: u64,
    /// Failed sessions over all domains.
    pub failed_sessions: u64,
    /// Stored objects that could not be read as reports.
    pub unreadable_objects: u64,
    /// `sent`, `already-sent` or `not-requested`.
    pub mail: &'static str,
    /// SES's message id, when sent now.
    pub message_id: Option<String>,
    /// Keys written.
    pub written: Vec<String>,
    /// Alert messages published.
    pub alert_messages: usize,
    /// Alerts open after the evaluation (listed in the digest).
    pub open_alerts: usize,
}

/// A failure that should make Lambda retry (or, for a bad event, fail visibly).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event cannot be acted on.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The pipeline failed. The message names the day; the store's or SES's
    /// error, and the backend's under it, are the sources.
    #[error("digest of {day} failed")]
    Run {
        /// The day.
        day: NaiveDate,
        /// The cause.
        #[source]
        source: RunError,
    },
    /// The alert evaluation failed (after the digest was made and sent): a
    /// retry evaluates again and does not mail the digest twice.
    #[error("alerts of {day} failed")]
    Alerts {
        /// The day.
        day: NaiveDate,
        /// The cause.
        #[source]
        source: AlertRunError,
    },
}

/// What the Lambda runtime reports for a failed invocation (`errorMessage`):
/// the error with all its causes, so that a storage or SES failure names the
/// backend's error and not just the operation.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: std::any::type_name::<HandlerError>().to_owned(),
            error_message: stsguard::store::ErrorChain(&e).to_string(),
        }
    }
}

/// The handler: store, mailer, alert notifier and configuration, built once
/// per cold start.
#[derive(Debug)]
pub struct Handler<S, M, N> {
    store: S,
    mailer: M,
    notifier: N,
    config: Config,
}

impl<S: ObjectStore, M: Mailer, N: Notifier> Handler<S, M, N> {
    /// A handler over a store, a mailer and where alert messages go.
    pub fn new(store: S, mailer: M, notifier: N, config: Config) -> Self {
        Handler {
            store,
            mailer,
            notifier,
            config,
        }
    }

    /// Handles one event at time `now`: the day's alerts first (so that the
    /// digest lists the open ones), then the digest. An alert failure does
    /// not hold the digest back; it fails the invocation afterwards.
    pub async fn handle(&self, event: Value, now: DateTime<Utc>) -> Result<Response, HandlerError> {
        let day = day_for_event(&event, now)?;
        let paths = AlertPaths {
            layout: self.config.run.layout.clone(),
            digests: self.config.run.keys.clone(),
        };
        let scope = Scope {
            day,
            kind: Evaluation::Daily,
            domain: None,
        };
        let alerts = alert_run(
            &self.store,
            &self.notifier,
            &paths,
            &self.config.alerts,
            scope,
            now,
        )
        .await;
        let mut config = self.config.run.clone();
        // Listing the open alerts may fail like the evaluation: the digest
        // goes out without them, and the invocation fails afterwards.
        let alerts = match alerts {
            Ok(run) => match stored_alerts(&self.store).await {
                Ok(all) => {
                    config.open_alerts = all
                        .iter()
                        .filter(|a| a.state == State::Open)
                        .map(Alert::listed)
                        .collect();
                    Ok(run)
                }
                Err(e) => Err(AlertRunError::Store(e)),
            },
            Err(e) => Err(e),
        };
        let out = run(&self.store, &self.mailer, &config, day, now, self.config.send)
            .await
            .map_err(|source| HandlerError::Run { day, source })?;
        let alerts = alerts.map_err(|source| HandlerError::Alerts { day, source })?;
        let t = &out.digest.totals;
        let (mail, message_id) = match &out.sending {
            Sending::NotRequested => ("not-requested", None),
            Sending::Sent(id) => ("sent", Some(id.clone())),
            Sending::AlreadySent => ("already-sent", None),
        };
        tracing::info!(
            day = %day,
            reports = t.reports,
            domains = t.domains,
            needs_attention = t.needs_attention,
            listed = out.listed,
            history_days = out.history_days,
            mail,
            "digested"
        );
        Ok(Response {
            day: out.digest.day.clone(),
            reports: t.reports,
            domains: t.domains,
            needs_attention: t.needs_attention,
            failed_sessions: t.failed,
            unreadable_objects: t.unreadable_objects,
            mail,
            message_id,
            written: out.written,
            alert_messages: alerts.messages,
            open_alerts: config.open_alerts.len(),
        })
    }
}

/// A CloudWatch Embedded Metric Format line for one invocation. Pure; `main`
/// prints it.
pub fn emf_line(resp: &Response, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "stsguard",
                "Dimensions": [["Function"]],
                "Metrics": [
                    {"Name": "DigestReports", "Unit": "Count"},
                    {"Name": "DomainsNeedingAttention", "Unit": "Count"},
                    {"Name": "FailedSessions", "Unit": "Count"},
                    {"Name": "UnreadableObjects", "Unit": "Count"},
                    {"Name": "DigestSent", "Unit": "Count"},
                    {"Name": "AlertMessages", "Unit": "Count"},
                    {"Name": "OpenAlerts", "Unit": "Count"},
                ],
            }],
        },
        "Function": "digest",
        "Day": resp.day,
        "DigestReports": resp.reports,
        "DomainsNeedingAttention": resp.needs_attention,
        "FailedSessions": resp.failed_sessions,
        "UnreadableObjects": resp.unreadable_objects,
        "DigestSent": u8::from(resp.mail == "sent"),
        "AlertMessages": resp.alert_messages,
        "OpenAlerts": resp.open_alerts,
    })
    .to_string()
}
