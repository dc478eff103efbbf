//! The ingest Lambda: SES inbound report mail -> normalized reports in S3.
//!
//! Two triggers, both supported:
//!
//! 1. the SES receipt rule's **Lambda action**: the event carries the message id,
//!    headers and verdicts but no body; the raw mail is read from the bucket and
//!    prefix the rule's S3 action wrote (key = prefix + `mail.messageId`);
//! 2. an S3 **`ObjectCreated`** event on the incoming prefix: bucket and
//!    URL-encoded key come from the event (several records per event). Copying a
//!    raw mail into the prefix replays it.
//!
//! [`work_items`] turns an event into work (pure); [`Handler::handle`] fetches each
//! raw mail (capped) from a [`RawSource`], runs the library's pipeline and writes
//! put-if-absent to an [`ObjectStore`] (S3 in the Lambda, memory in tests). A mail
//! that can never become a report is recorded under `rejected/` and counts as
//! done; a storage failure is returned as an error so that Lambda's asynchronous
//! retries and the on-failure destination take over.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use stsguard::alerts::run::{AlertPaths, AlertRunError, Notifier, Scope, Silent};
use stsguard::alerts::{self, AlertConfig, Evaluation};
use stsguard::envconf::{bytes, domains, prefix, switch};
use stsguard::ingest::{self, IngestConfig, InputContext, InputKind, Outcome};
use stsguard::report::Verdicts;
use stsguard::store::s3::{S3RawSource, S3Store};
use stsguard::store::{ErrorChain, Fetched, ObjectStore, RawSource, StoreError};

pub use stsguard::envconf::ConfigError;

/// Configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The bucket SES writes raw mail to and reports are written to.
    pub bucket: String,
    /// Where SES's S3 action writes raw mail (`incoming/`).
    pub incoming_prefix: String,
    /// Prefix under which `reports/` and `rejected/` go (usually empty).
    pub store_prefix: String,
    /// Caps, layout, allowlist and the DKIM policy.
    pub ingest: IngestConfig,
    /// Path-style S3 addressing (S3-compatible endpoints).
    pub path_style: bool,
    /// The alert thresholds (the `STSGUARD_ALERT_*` variables,
    /// `STSGUARD_FAILURE_JUMP` and `STSGUARD_DOMAINS`).
    pub alerts: AlertConfig,
    /// The SNS topic alert messages go to (`STSGUARD_ALERT_TOPIC_ARN`); none:
    /// alerts are evaluated and stored, not published.
    pub alert_topic_arn: Option<String>,
}

impl Config {
    /// Reads the configuration through `get` (the process environment in `main`):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `STSGUARD_BUCKET` | bucket of raw mail and results | required |
    /// | `STSGUARD_INCOMING_PREFIX` | where SES writes raw mail | `incoming/` |
    /// | `STSGUARD_STORE_PREFIX` | prefix of `reports/` and `rejected/` | empty |
    /// | `STSGUARD_DOMAINS` | comma-separated allowlist of policy domains | any |
    /// | `STSGUARD_REQUIRE_DKIM` | reject mail without a passing DKIM verdict | `false` (flag only) |
    /// | `STSGUARD_MAX_MAIL_BYTES` | raw mail cap | 40 MiB |
    /// | `STSGUARD_MAX_REPORT_BYTES` | decompressed report cap | 20 MiB |
    /// | `STSGUARD_S3_PATH_STYLE` | path-style addressing | `true` when `AWS_ENDPOINT_URL` is set |
    /// | `STSGUARD_ALERT_TOPIC_ARN` | SNS topic of alert messages | none: alerts stored, not published |
    /// | `STSGUARD_ALERT_*`, `STSGUARD_FAILURE_JUMP` | alert thresholds ([`AlertConfig::from_lookup`]) | see there |
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let bucket = stsguard::envconf::bucket(get("STSGUARD_BUCKET"))?;
        let incoming_prefix = prefix(&get("STSGUARD_INCOMING_PREFIX").unwrap_or_else(|| "incoming/".into()));
        let store_prefix = prefix(&get("STSGUARD_STORE_PREFIX").unwrap_or_default());
        let allowed_domains = domains("STSGUARD_DOMAINS", get("STSGUARD_DOMAINS"))?;
        let mut ingest = IngestConfig {
            allowed_domains,
            require_dkim: switch(
                "STSGUARD_REQUIRE_DKIM",
                get("STSGUARD_REQUIRE_DKIM").as_deref(),
                false,
            )?,
            ..IngestConfig::default()
        };
        ingest.limits.max_mail_bytes = bytes(
            "STSGUARD_MAX_MAIL_BYTES",
            get("STSGUARD_MAX_MAIL_BYTES"),
            ingest.limits.max_mail_bytes,
        )?;
        ingest.limits.max_report_bytes = bytes(
            "STSGUARD_MAX_REPORT_BYTES",
            get("STSGUARD_MAX_REPORT_BYTES"),
            ingest.limits.max_report_bytes,
        )?;
        let path_style = stsguard::envconf::path_style(&get)?;
        let alerts = AlertConfig::from_lookup(&get)?;
        let alert_topic_arn =
            stsguard::envconf::topic_arn("STSGUARD_ALERT_TOPIC_ARN", get("STSGUARD_ALERT_TOPIC_ARN"))?;
        Ok(Config {
            bucket,
            incoming_prefix,
            store_prefix,
            ingest,
            path_style,
            alerts,
            alert_topic_arn,
        })
    }
}

/// One raw mail to ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// Bucket of the raw mail.
    pub bucket: String,
    /// Key of the raw mail.
    pub key: String,
    /// What the event said about it.
    pub ctx: InputContext,
}

/// An event this function cannot act on. Lambda retries and then hands it to the
/// on-failure destination, so nothing is lost.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// Neither an SES nor an S3 event.
    #[error("unrecognised event: {0}")]
    Unrecognised(String),
    /// An SES or S3 event whose shape is wrong.
    #[error("malformed {kind} event: {detail}")]
    Malformed {
        /// `SES` or `S3`.
        kind: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Decodes an S3 event key: `+` is a space, `%XX` a byte.
pub fn decode_s3_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn verdict(v: &aws_lambda_events::event::ses::SimpleEmailVerdict) -> Option<String> {
    v.status.as_deref().map(str::to_ascii_lowercase)
}

/// Turns a Lambda event into the raw mails to ingest. Pure.
pub fn work_items(event: &Value, config: &Config) -> Result<Vec<WorkItem>, EventError> {
    let source = event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource").or_else(|| r.get("EventSource")))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match source {
        "aws:ses" => {
            let ev: aws_lambda_events::event::ses::SimpleEmailEvent = serde_json::from_value(event.clone())
                .map_err(|e| EventError::Malformed {
                kind: "SES",
                detail: e.to_string(),
            })?;
            ev.records
                .into_iter()
                .map(|r| {
                    let mail = r.ses.mail;
                    let receipt = r.ses.receipt;
                    let id = mail
                        .message_id
                        .filter(|m| !m.is_empty())
                        .ok_or(EventError::Malformed {
                            kind: "SES",
                            detail: "a record has no mail.messageId".into(),
                        })?;
                    if id.contains('/') || id.contains("..") {
                        return Err(EventError::Malformed {
                            kind: "SES",
                            detail: format!("unexpected messageId {id:?}"),
                        });
                    }
                    Ok(WorkItem {
                        bucket: config.bucket.clone(),
                        key: format!("{}{id}", config.incoming_prefix),
                        ctx: InputContext {
                            channel: "ses".into(),
                            input: None,
                            ses_message_id: Some(id.clone()),
                            raw_key: Some(format!("{}{id}", config.incoming_prefix)),
                            envelope_from: mail.source.filter(|s| !s.is_empty()),
                            verdicts: Some(Verdicts {
                                dkim: verdict(&receipt.dkim_verdict),
                                dkim_domain: None,
                                spf: verdict(&receipt.spf_verdict),
                                dmarc: verdict(&receipt.dmarc_verdict),
                                spam: verdict(&receipt.spam_verdict),
                                virus: verdict(&receipt.virus_verdict),
                            }),
                            ..InputContext::default()
                        },
                    })
                })
                .collect()
        }
        "aws:s3" => {
            let ev: aws_lambda_events::event::s3::S3Event =
                serde_json::from_value(event.clone()).map_err(|e| EventError::Malformed {
                    kind: "S3",
                    detail: e.to_string(),
                })?;
            let mut items = Vec::new();
            for r in ev.records {
                let bucket =
                    r.s3.bucket
                        .name
                        .filter(|b| !b.is_empty())
                        .ok_or(EventError::Malformed {
                            kind: "S3",
                            detail: "a record has no bucket name".into(),
                        })?;
                let key =
                    r.s3.object
                        .key
                        .map(|k| decode_s3_key(&k))
                        .filter(|k| !k.is_empty())
                        .ok_or(EventError::Malformed {
                            kind: "S3",
                            detail: "a record has no object key".into(),
                        })?;
                // Only ObjectCreated events, and (for the configured bucket) only
                // the incoming prefix: a misconfigured notification on the whole
                // bucket must not feed our own output back in.
                let created = r
                    .event_name
                    .as_deref()
                    .is_none_or(|n| n.starts_with("ObjectCreated"));
                let ours = bucket != config.bucket || key.starts_with(&config.incoming_prefix);
                // SES writes this object when a receipt rule's S3 action is
                // created or changed: a notice to the bucket owner, not mail.
                let setup_notice = key.ends_with("AMAZON_SES_SETUP_NOTIFICATION");
                if !created || !ours || setup_notice {
                    continue;
                }
                let ses_message_id = key.rsplit('/').next().map(str::to_owned);
                items.push(WorkItem {
                    ctx: InputContext {
                        channel: "s3".into(),
                        input: None,
                        ses_message_id,
                        raw_key: Some(key.clone()),
                        envelope_from: None,
                        verdicts: None,
                        ..InputContext::default()
                    },
                    bucket,
                    key,
                });
            }
            Ok(items)
        }
        other => Err(EventError::Unrecognised(if other.is_empty() {
            "no Records[].eventSource".into()
        } else {
            format!("eventSource {other:?}")
        })),
    }
}

/// What one invocation did, returned to the runtime (and so to `lambda invoke`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Response {
    /// For SES `RequestResponse` invocations: let the receipt rule go on.
    pub disposition: &'static str,
    /// One entry per raw mail.
    pub items: Vec<ItemResult>,
    /// Alert messages published.
    pub alert_messages: usize,
}

/// What happened to one raw mail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemResult {
    /// Bucket and key of the raw mail.
    pub raw: String,
    /// Ids of reports written.
    pub written: Vec<String>,
    /// Ids of reports already stored (exact redeliveries).
    pub duplicates: Vec<String>,
    /// Ids of reports already stored with another content: the first is
    /// kept, a conflict record names both.
    pub conflicts: Vec<String>,
    /// The rejection reason, when the mail (or a part of it) was unusable.
    pub rejected: Option<String>,
}

/// A failure that should make Lambda retry.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event cannot be acted on.
    #[error(transparent)]
    Event(#[from] EventError),
    /// Reading the raw mail or writing the results failed (S3 in the Lambda).
    /// The message names the raw mail; the store's error, and the backend's
    /// under it, are the sources.
    #[error("storage failed for {raw}")]
    Storage {
        /// The raw mail being processed.
        raw: String,
        /// The cause.
        #[source]
        source: StoreError,
    },
    /// The raw mail named by the event does not exist (yet).
    #[error("raw mail s3://{0} not found")]
    RawMissing(String),
    /// The reports were stored, but evaluating or publishing the alerts
    /// failed; a retry finds the reports stored and evaluates again.
    #[error("alerts for {raw} failed")]
    Alerts {
        /// The raw mail being processed.
        raw: String,
        /// The cause.
        #[source]
        source: AlertRunError,
    },
}

/// What the Lambda runtime reports for a failed invocation (the `errorMessage`
/// of the result and of the on-failure destination's record): the error with all
/// its causes, so that a storage failure names the backend's error and not just
/// the operation. (The runtime also logs the error's `Debug` form.)
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: std::any::type_name::<HandlerError>().to_owned(),
            error_message: ErrorChain(&e).to_string(),
        }
    }
}

/// The handler: where reports and rejections go (`S`), where the raw mail an
/// event names is read from (`R`), where alert messages go (`N`; none by
/// default), and the configuration; built once per cold start.
#[derive(Debug, Clone)]
pub struct Handler<S, R, N = Silent> {
    store: S,
    raw: R,
    notifier: N,
    config: Config,
}

impl Handler<S3Store, S3RawSource> {
    /// The Lambda's handler, over one S3 client: results under
    /// `config.store_prefix` in `config.bucket`, raw mail read from the bucket
    /// each event names.
    pub fn s3(client: aws_sdk_s3::Client, config: Config) -> Self {
        let store = S3Store::new(client.clone(), config.bucket.clone(), config.store_prefix.clone());
        Handler::new(store, S3RawSource::new(client), config)
    }
}

impl<S: ObjectStore, R: RawSource> Handler<S, R> {
    /// A handler writing to `store` and reading raw mail from `raw`; alerts
    /// are evaluated and stored, not published ([`Handler::with_notifier`]).
    pub fn new(store: S, raw: R, config: Config) -> Self {
        Handler {
            store,
            raw,
            notifier: Silent,
            config,
        }
    }
}

impl<S: ObjectStore, R: RawSource, N: Notifier> Handler<S, R, N> {
    /// Where reports and rejections are written.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Where raw mail is read from.
    pub fn raw_source(&self) -> &R {
        &self.raw
    }

    /// Where alert messages go.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// The same handler, publishing alert messages through `notifier`.
    pub fn with_notifier<M: Notifier>(self, notifier: M) -> Handler<S, R, M> {
        Handler {
            store: self.store,
            raw: self.raw,
            notifier,
            config: self.config,
        }
    }

    /// Handles one event at time `now`.
    pub async fn handle(
        &self,
        event: Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Response, HandlerError> {
        let items = work_items(&event, &self.config)?;
        let mut resp = Response {
            disposition: "CONTINUE",
            items: Vec::with_capacity(items.len()),
            alert_messages: 0,
        };
        for item in items {
            let raw_name = format!("{}/{}", item.bucket, item.key);
            let storage = |source| HandlerError::Storage {
                raw: raw_name.clone(),
                source,
            };
            let fetched = self
                .raw
                .get_capped(&item.bucket, &item.key, self.config.ingest.limits.max_mail_bytes)
                .await
                .map_err(storage)?
                .ok_or_else(|| HandlerError::RawMissing(raw_name.clone()))?;
            let prepared = match fetched {
                Fetched::Whole(raw) => {
                    ingest::prepare(&raw, InputKind::Mail, &item.ctx, &self.config.ingest, now)
                }
                Fetched::TooLarge { sha256, bytes } => {
                    ingest::prepare_oversize(&sha256, bytes, &item.ctx, &self.config.ingest, now)
                }
            };
            // The domains and days of the reports, for the alerts.
            let reports: Vec<(String, String, String)> = prepared
                .reports
                .iter()
                .map(|(_, r)| (r.id.clone(), r.domain.clone(), r.day.clone()))
                .collect();
            let outcome = ingest::store_prepared(&self.store, prepared)
                .await
                .map_err(storage)?;
            // Evaluated for duplicates too: a retry after a failed alert
            // evaluation finds its reports stored and must evaluate again.
            let stored: BTreeSet<&str> = outcome
                .written
                .iter()
                .chain(&outcome.duplicates)
                .map(String::as_str)
                .collect();
            let scopes: BTreeSet<(&str, &str)> = reports
                .iter()
                .filter(|(id, _, _)| stored.contains(id.as_str()))
                .map(|(_, domain, day)| (domain.as_str(), day.as_str()))
                .collect();
            for (domain, day) in scopes {
                let Ok(day) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
                    continue;
                };
                let scope = Scope {
                    day,
                    kind: Evaluation::Arrival,
                    domain: Some(domain),
                };
                let paths = AlertPaths {
                    layout: self.config.ingest.layout.clone(),
                    ..AlertPaths::default()
                };
                let run = alerts::run::run(
                    &self.store,
                    &self.notifier,
                    &paths,
                    &self.config.alerts,
                    scope,
                    now,
                )
                .await
                .map_err(|source| HandlerError::Alerts {
                    raw: raw_name.clone(),
                    source,
                })?;
                resp.alert_messages += run.messages;
            }
            tracing::info!(
                raw = %raw_name,
                ses_message_id = item.ctx.ses_message_id.as_deref().unwrap_or(""),
                written = ?outcome.written,
                duplicates = ?outcome.duplicates,
                conflicts = ?outcome.conflicts,
                rejected = outcome.rejected.as_ref().map(|r| r.0.as_str()).unwrap_or(""),
                "ingested"
            );
            resp.items.push(item_result(raw_name, outcome));
        }
        Ok(resp)
    }
}

fn item_result(raw: String, o: Outcome) -> ItemResult {
    ItemResult {
        raw,
        written: o.written,
        duplicates: o.duplicates,
        conflicts: o.conflicts.into_iter().map(|(id, _)| id).collect(),
        rejected: o.rejected.map(|(r, _, _)| r.as_str().to_owned()),
    }
}

/// CloudWatch Embedded Metric Format lines for one invocation: reports written,
/// duplicates, and rejected mail by reason. Pure; `main` prints them.
pub fn emf_lines(resp: &Response, timestamp_ms: i64) -> Vec<String> {
    let written: usize = resp.items.iter().map(|i| i.written.len()).sum();
    let duplicates: usize = resp.items.iter().map(|i| i.duplicates.len()).sum();
    let conflicts: usize = resp.items.iter().map(|i| i.conflicts.len()).sum();
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for r in resp.items.iter().filter_map(|i| i.rejected.as_deref()) {
        *by_reason.entry(r).or_default() += 1;
    }
    let mut lines = vec![serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "stsguard",
                "Dimensions": [["Function"]],
                "Metrics": [
                    {"Name": "ReportsWritten", "Unit": "Count"},
                    {"Name": "Duplicates", "Unit": "Count"},
                    {"Name": "Conflicts", "Unit": "Count"},
                    {"Name": "MailsProcessed", "Unit": "Count"},
                    {"Name": "AlertMessages", "Unit": "Count"},
                ],
            }],
        },
        "Function": "ingest",
        "ReportsWritten": written,
        "Duplicates": duplicates,
        "Conflicts": conflicts,
        "MailsProcessed": resp.items.len(),
        "AlertMessages": resp.alert_messages,
    })
    .to_string()];
    for (reason, n) in by_reason {
        lines.push(
            serde_json::json!({
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": "stsguard",
                        "Dimensions": [["Function", "Reason"]],
                        "Metrics": [{"Name": "Rejected", "Unit": "Count"}],
                    }],
                },
                "Function": "ingest",
                "Reason": reason,
                "Rejected": n,
            })
            .to_string(),
        );
    }
    lines
}
