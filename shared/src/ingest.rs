//! The ingest pipeline: raw input -> normalized reports and rejection records.
//!
//! [`prepare`] is pure: bytes, context and the time of receipt in; the objects to
//! write (with their keys) out. [`store_prepared`] writes them put-if-absent, so
//! redelivery is a no-op. [`ingest`] does both.
//!
//! Error semantics: a mail that can never become a report (no report part, bad
//! gzip, bad JSON, over a cap…) is a *permanent* failure and becomes a rejection
//! record under `rejected/` with a stable [`RejectReason`]; the caller reports
//! success. A storage failure is *transient* and is returned as an error, so the
//! caller can retry; because every write is put-if-absent under a stable key, a
//! retry completes the work without duplicating it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::keys::Layout;
use crate::mail::{self, MailFacts, ReportPart};
use crate::payload::{self, Compression, PayloadError};
use crate::report::{self, NormalizedReport, ReportError, ReportHints, Source, Verdicts, WarningCode};
use crate::store::{ObjectStore, PutOutcome, StoreError};
use crate::Limits;

/// Schema name of rejection records.
pub const REJECTED_SCHEMA: &str = "stsguard/rejected/v1";

/// Everything that shapes how inputs are ingested.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestConfig {
    /// Caps on sizes and counts.
    pub limits: Limits,
    /// Key prefixes.
    pub layout: Layout,
    /// When set, reports for other policy domains are rejected
    /// (`unexpected-domain`). Lower case, no trailing dot.
    pub allowed_domains: Option<Vec<String>>,
    /// Reject reports whose mail has no passing DKIM verdict (`unauthenticated`;
    /// RFC 8460 §3). When off, such reports are stored with a warning.
    pub require_dkim: bool,
}

/// What the raw input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// An RFC 5322 message.
    Mail,
    /// A bare report file: `.json`, `.json.gz`, `.gz` or `.zip`.
    Payload,
}

impl InputKind {
    /// Guesses the kind from a file name: `.json`, `.gz` and `.zip` are payloads,
    /// anything else (`.eml`, no extension) is mail.
    pub fn from_file_name(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if n.ends_with(".json") || n.ends_with(".gz") || n.ends_with(".zip") {
            InputKind::Payload
        } else {
            InputKind::Mail
        }
    }
}

/// Where the input came from; copied into every record's `source`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputContext {
    /// `file`, `ses` or `s3`.
    pub channel: String,
    /// The file name or path.
    pub input: Option<String>,
    /// The SES message id.
    pub ses_message_id: Option<String>,
    /// The object key of the raw mail.
    pub raw_key: Option<String>,
    /// The SMTP envelope sender.
    pub envelope_from: Option<String>,
    /// Verdicts known from outside the mail (the SES event); they take
    /// precedence over the mail's headers.
    pub verdicts: Option<Verdicts>,
    /// The client's address (reports over HTTPS).
    pub client: Option<String>,
    /// The client's `User-Agent` (reports over HTTPS).
    pub user_agent: Option<String>,
}

/// Stable reason codes of rejection records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// The input is not a mail message.
    NotAMail,
    /// The mail has no part that holds a report.
    NoReportPart,
    /// Corrupt or truncated gzip data.
    BadGzip,
    /// Corrupt, encrypted or unsupported zip data.
    BadZip,
    /// A size or count cap was exceeded.
    TooLarge,
    /// The payload is not JSON (or nests deeper than the cap).
    BadJson,
    /// The JSON is not a usable report.
    BadReport,
    /// The report's policy domain is not among the configured domains.
    UnexpectedDomain,
    /// DKIM is required and the mail has no passing DKIM verdict.
    Unauthenticated,
}

impl RejectReason {
    /// The stable code, as written in records and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotAMail => "not-a-mail",
            RejectReason::NoReportPart => "no-report-part",
            RejectReason::BadGzip => "bad-gzip",
            RejectReason::BadZip => "bad-zip",
            RejectReason::TooLarge => "too-large",
            RejectReason::BadJson => "bad-json",
            RejectReason::BadReport => "bad-report",
            RejectReason::UnexpectedDomain => "unexpected-domain",
            RejectReason::Unauthenticated => "unauthenticated",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&PayloadError> for RejectReason {
    fn from(e: &PayloadError) -> Self {
        match e {
            PayloadError::BadGzip(_) => RejectReason::BadGzip,
            PayloadError::BadZip(_) => RejectReason::BadZip,
            PayloadError::TooLarge { .. } => RejectReason::TooLarge,
        }
    }
}

impl From<&ReportError> for RejectReason {
    fn from(e: &ReportError) -> Self {
        match e {
            ReportError::NotJson(_) => RejectReason::BadJson,
            ReportError::TooComplex(report::ShapeError::TooDeep(_)) => RejectReason::BadJson,
            ReportError::TooComplex(report::ShapeError::TooManyItems(_)) | ReportError::TooMany { .. } => {
                RejectReason::TooLarge
            }
            ReportError::NotAnObject(_)
            | ReportError::NoPolicies(_)
            | ReportError::BadCount { .. }
            | ReportError::BadDate { .. } => RejectReason::BadReport,
        }
    }
}

/// A rejection record (schema `stsguard/rejected/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    /// Always [`REJECTED_SCHEMA`].
    pub schema: String,
    /// Why the input (or its first failing part) could not be used.
    pub reason: RejectReason,
    /// A human explanation.
    pub detail: String,
    /// When the input was processed, RFC 3339 UTC.
    pub received_at: String,
    /// Where the raw input is and what it was.
    pub input: RawInput,
    /// Header facts, when the input was a mail.
    pub mail: Option<MailSummary>,
    /// Every report part that failed, with its own reason.
    pub parts: Vec<PartProblem>,
    /// Ids of reports from the same input that were stored.
    pub stored_reports: Vec<String>,
}

/// The raw input of a rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawInput {
    /// `file`, `ses` or `s3`.
    pub channel: String,
    /// The file name or path.
    pub input: Option<String>,
    /// The SES message id.
    pub ses_message_id: Option<String>,
    /// The object key of the raw mail.
    pub raw_key: Option<String>,
    /// The client's address (reports over HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The client's `User-Agent` (reports over HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// SHA-256 of the raw input, lower-case hex.
    pub sha256: String,
    /// Size of the raw input in bytes.
    pub bytes: u64,
}

/// Header facts of a rejected mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailSummary {
    /// `From`.
    pub from: Option<String>,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `TLS-Report-Domain`.
    pub tls_report_domain: Option<String>,
    /// `TLS-Report-Submitter`.
    pub tls_report_submitter: Option<String>,
}

impl From<&MailFacts> for MailSummary {
    fn from(f: &MailFacts) -> Self {
        MailSummary {
            from: f.from.clone(),
            message_id: f.message_id.clone(),
            subject: f.subject.clone(),
            tls_report_domain: f.tls_report_domain.clone(),
            tls_report_submitter: f.tls_report_submitter.clone(),
        }
    }
}

/// One report part that could not be used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartProblem {
    /// The attachment or zip member name.
    pub attachment_name: Option<String>,
    /// The part's media type.
    pub media_type: Option<String>,
    /// Why.
    pub reason: RejectReason,
    /// A human explanation.
    pub detail: String,
}

/// What one input becomes: reports and at most one rejection record.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Normalized reports with their keys.
    pub reports: Vec<(String, NormalizedReport)>,
    /// The rejection record with its key, when anything was unusable.
    pub rejection: Option<(String, RejectedRecord)>,
    /// The key layout: where a conflict record goes when a report's key holds
    /// another content ([`store_prepared`]).
    pub layout: Layout,
}

/// Turns one raw input into normalized reports and, when anything in it was
/// unusable, a rejection record. Pure: no clock, no I/O.
pub fn prepare(
    raw: &[u8],
    kind: InputKind,
    ctx: &InputContext,
    config: &IngestConfig,
    received_at: DateTime<Utc>,
) -> Prepared {
    let (limits, layout) = (&config.limits, &config.layout);
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    let mut mail_facts = None;
    let mut top_problem: Option<(RejectReason, String)> = None;

    if raw.len() > limits.max_mail_bytes {
        top_problem = Some((
            RejectReason::TooLarge,
            format!(
                "the input is {} bytes, over the cap of {}",
                raw.len(),
                limits.max_mail_bytes
            ),
        ));
    } else {
        match kind {
            InputKind::Payload => {
                let part = ReportPart {
                    bytes: raw.to_vec(),
                    name: ctx.input.as_deref().map(file_name),
                    media_type: None,
                    matched_by: mail::MatchedBy::FileName,
                    facts: MailFacts::default(),
                };
                take_part(&part, ctx, None, config, &mut reports, &mut problems);
            }
            InputKind::Mail => match mail::extract(raw, limits) {
                Err(e) => {
                    let reason = match e {
                        mail::MailError::NotAMail => RejectReason::NotAMail,
                        mail::MailError::TooManyParts { .. } => RejectReason::TooLarge,
                    };
                    top_problem = Some((reason, e.to_string()));
                }
                Ok(x) => {
                    // The event's verdicts win; the mail's headers may add the DKIM domain.
                    let verdicts = match &ctx.verdicts {
                        Some(v) => Verdicts {
                            dkim_domain: v.dkim_domain.clone().or(x.verdicts.dkim_domain.clone()),
                            ..v.clone()
                        },
                        None => x.verdicts.clone(),
                    };
                    for part in &x.parts {
                        take_part(part, ctx, Some(&verdicts), config, &mut reports, &mut problems);
                    }
                    if x.parts.is_empty() {
                        top_problem = Some((
                            RejectReason::NoReportPart,
                            "no part of the mail holds a report (by media type, file name or content)".into(),
                        ));
                    }
                    mail_facts = Some(x.facts);
                }
            },
        }
    }

    let keyed = reports
        .into_iter()
        .map(|r| (layout.report_key(&r.day, &r.domain, &r.id), r))
        .collect::<Vec<_>>();
    let top_problem = top_problem.or_else(|| problems.first().map(|p| (p.reason, p.detail.clone())));
    let rejection = top_problem.map(|(reason, detail)| {
        let sha = crate::sha256_hex(raw);
        let day = received_at.format("%Y-%m-%d").to_string();
        let record = RejectedRecord {
            schema: REJECTED_SCHEMA.into(),
            reason,
            detail,
            received_at: received_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            input: RawInput::of(ctx, &sha, raw.len() as u64),
            mail: mail_facts.as_ref().map(MailSummary::from),
            parts: problems,
            stored_reports: keyed.iter().map(|(_, r)| r.id.clone()).collect(),
        };
        (layout.rejected_key(&day, &sha), record)
    });
    Prepared {
        reports: keyed,
        rejection,
        layout: layout.clone(),
    }
}

impl RawInput {
    /// The raw input of `ctx`: where it came from, its SHA-256 and size.
    fn of(ctx: &InputContext, sha256: &str, bytes: u64) -> Self {
        RawInput {
            channel: ctx.channel.clone(),
            input: ctx.input.clone(),
            ses_message_id: ctx.ses_message_id.clone(),
            raw_key: ctx.raw_key.clone(),
            client: ctx.client.clone(),
            user_agent: ctx.user_agent.clone(),
            sha256: sha256.to_owned(),
            bytes,
        }
    }
}

/// What an input too large to read becomes: only its rejection record
/// ([`oversize_rejection`]).
pub fn prepare_oversize(
    sha256: &str,
    bytes: u64,
    ctx: &InputContext,
    config: &IngestConfig,
    received_at: DateTime<Utc>,
) -> Prepared {
    Prepared {
        reports: Vec::new(),
        rejection: Some(oversize_rejection(sha256, bytes, ctx, config, received_at)),
        layout: config.layout.clone(),
    }
}

/// A rejection record for an input too large to read: only its hash and size
/// are known (computed by streaming).
pub fn oversize_rejection(
    sha256: &str,
    bytes: u64,
    ctx: &InputContext,
    config: &IngestConfig,
    received_at: DateTime<Utc>,
) -> (String, RejectedRecord) {
    let (limits, layout) = (&config.limits, &config.layout);
    let day = received_at.format("%Y-%m-%d").to_string();
    let record = RejectedRecord {
        schema: REJECTED_SCHEMA.into(),
        reason: RejectReason::TooLarge,
        detail: format!(
            "the input is {bytes} bytes, over the cap of {}",
            limits.max_mail_bytes
        ),
        received_at: received_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        input: RawInput::of(ctx, sha256, bytes),
        mail: None,
        parts: Vec::new(),
        stored_reports: Vec::new(),
    };
    (layout.rejected_key(&day, sha256), record)
}

/// The last path component of a file name or path.
fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

/// Decodes and normalizes one report part, appending reports or a problem.
fn take_part(
    part: &ReportPart,
    ctx: &InputContext,
    verdicts: Option<&Verdicts>,
    config: &IngestConfig,
    reports: &mut Vec<NormalizedReport>,
    problems: &mut Vec<PartProblem>,
) {
    let limits = &config.limits;
    let problem = |reason: RejectReason, detail: String, name: Option<&str>| PartProblem {
        attachment_name: name.map(str::to_owned).or_else(|| part.name.clone()),
        media_type: part.media_type.clone(),
        reason,
        detail,
    };
    let decoded = match payload::decode(&part.bytes, limits) {
        Ok(d) => d,
        Err(e) => {
            problems.push(problem(RejectReason::from(&e), e.to_string(), None));
            return;
        }
    };
    let payload_sha256 = crate::sha256_hex(&part.bytes);
    for d in decoded {
        let name = d.member.as_deref().or(part.name.as_deref());
        let hints = ReportHints {
            header_domain: part.facts.tls_report_domain.as_deref(),
            header_submitter: part.facts.tls_report_submitter.as_deref(),
            file_name: name,
        };
        let mut r = match report::parse_report(&d.json, limits, &hints) {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(RejectReason::from(&e), e.to_string(), name));
                continue;
            }
        };
        if reports.iter().any(|seen| seen.id == r.id) {
            // The same report twice in one mail: stored once.
            continue;
        }
        if let Some(allowed) = &config.allowed_domains {
            let named = || {
                std::iter::once(&r.domain).chain(r.policies.iter().filter_map(|p| p.policy_domain.as_ref()))
            };
            if !named().any(|d| allowed.contains(d)) {
                problems.push(problem(
                    RejectReason::UnexpectedDomain,
                    format!(
                        "the report is for {:?}, which is not among the configured domains ({})",
                        r.domain,
                        allowed.join(", ")
                    ),
                    name,
                ));
                continue;
            }
        }
        let dkim = verdicts.and_then(|v| v.dkim.as_deref());
        if dkim != Some("pass") {
            let said = dkim.unwrap_or("no verdict");
            if config.require_dkim {
                problems.push(problem(
                    RejectReason::Unauthenticated,
                    format!("DKIM is required and the mail has no passing DKIM signature ({said})"),
                    name,
                ));
                continue;
            }
            // Mail read from a file without SES headers has no verdict to judge.
            // Over HTTPS there is no mail to sign; from a file without SES
            // headers there is no verdict to judge.
            if ctx.channel != "https" && (ctx.channel != "file" || dkim.is_some()) {
                r.warn(
                    WarningCode::Unauthenticated,
                    format!("the mail has no passing DKIM signature ({said}); RFC 8460 §3 says receivers must ignore such reports"),
                );
            }
        }
        packing_warnings(&mut r, part, name, d.compression);
        r.source = Source {
            channel: ctx.channel.clone(),
            input: ctx.input.clone(),
            ses_message_id: ctx.ses_message_id.clone(),
            raw_key: ctx.raw_key.clone(),
            envelope_from: ctx.envelope_from.clone(),
            client: ctx.client.clone(),
            user_agent: ctx.user_agent.clone(),
            from: part.facts.from.clone(),
            message_id: part.facts.message_id.clone(),
            subject: part.facts.subject.clone(),
            tls_report_domain: part.facts.tls_report_domain.clone(),
            tls_report_submitter: part.facts.tls_report_submitter.clone(),
            verdicts: verdicts.cloned().unwrap_or_default(),
            attachment_name: name.map(str::to_owned),
            media_type: part.media_type.clone(),
            compression: d.compression.as_str().to_owned(),
            payload_sha256: payload_sha256.clone(),
            payload_bytes: part.bytes.len() as u64,
        };
        // A report naming several policy domains is stored once per domain;
        // with configured domains, only theirs (the others said in a warning).
        let mut copies = report::by_domain(r);
        if let Some(allowed) = &config.allowed_domains {
            let dropped: Vec<String> = copies
                .iter()
                .filter(|c| !allowed.contains(&c.domain))
                .map(|c| c.domain.clone())
                .collect();
            if !dropped.is_empty() {
                copies.retain(|c| allowed.contains(&c.domain));
                for c in &mut copies {
                    c.warn(
                        WarningCode::PolicyDomainsDiffer,
                        format!(
                            "the report also names {}, not among the configured domains: those policies are not stored",
                            dropped.join(", ")
                        ),
                    );
                }
            }
        }
        reports.extend(copies);
    }
}

/// Warns when the media type or file name says one packing and the bytes another.
fn packing_warnings(r: &mut NormalizedReport, part: &ReportPart, name: Option<&str>, got: Compression) {
    let outer = match got {
        Compression::ZipGzip => Compression::Zip,
        c => c,
    };
    let said_by_type = part.media_type.as_deref().and_then(|t| match t {
        "application/tlsrpt+gzip" | "application/gzip" | "application/x-gzip" => Some(Compression::Gzip),
        "application/tlsrpt+json" | "application/json" => Some(Compression::None),
        "application/tlsrpt+zip" | "application/zip" | "application/x-zip-compressed" => {
            Some(Compression::Zip)
        }
        _ => None,
    });
    if let Some(said) = said_by_type {
        if said != outer {
            r.warn(
                WarningCode::MediaTypeMismatch,
                format!(
                    "the media type {} says {}, the content is {}",
                    part.media_type.as_deref().unwrap_or(""),
                    said.describe(),
                    outer.describe()
                ),
            );
        }
    }
    // Zip members carry their own names; judge the outer attachment name only.
    let outer_name = if matches!(got, Compression::Zip | Compression::ZipGzip) {
        part.name.as_deref()
    } else {
        name
    };
    if let Some(n) = outer_name.map(str::to_ascii_lowercase) {
        let said = if n.ends_with(".gz") {
            Some(Compression::Gzip)
        } else if n.ends_with(".zip") {
            Some(Compression::Zip)
        } else if n.ends_with(".json") {
            Some(Compression::None)
        } else {
            None
        };
        if let Some(said) = said.filter(|s| *s != outer) {
            r.warn(
                WarningCode::MediaTypeMismatch,
                format!(
                    "the file name {n:?} says {}, the content is {}",
                    said.describe(),
                    outer.describe()
                ),
            );
        }
    }
}

/// What storing one input did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Ids of reports written.
    pub written: Vec<String>,
    /// Ids of reports that were already stored, with the same content (an
    /// exact redelivery).
    pub duplicates: Vec<String>,
    /// Ids of reports already stored with another content under the same
    /// organization and report-id: the first is kept, and a conflict record
    /// (its key here) names both.
    pub conflicts: Vec<(String, String)>,
    /// The rejection, when any: reason, key, and whether it was already stored.
    pub rejected: Option<(RejectReason, String, bool)>,
    /// Warnings carried by the reports written.
    pub warnings: usize,
}

/// Serializes and writes a [`Prepared`] put-if-absent. Reports are written
/// before the rejection record; a storage error stops at once and is returned
/// (what was written stays, and a retry skips it as a duplicate).
pub async fn store_prepared<S: ObjectStore>(store: &S, prepared: Prepared) -> Result<Outcome, StoreError> {
    let mut outcomes = store_batch(store, vec![prepared.serialize()], 8).await?;
    Ok(outcomes.pop().unwrap_or_default())
}

/// A [`Prepared`] input with its records serialized: what the writer needs,
/// and far smaller to hold than the reports themselves (a backfill holds
/// thousands of inputs between the threads that prepare them and the one
/// that stores them). Made by [`Prepared::serialize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Serialized {
    /// The reports: key, id, warnings carried, and the stored JSON.
    pub reports: Vec<SerializedReport>,
    /// The rejection: key, reason and the stored JSON.
    pub rejection: Option<(String, RejectReason, Vec<u8>)>,
    /// Where conflict records go.
    pub layout: Layout,
}

/// One report of a [`Serialized`] input.
#[derive(Debug, Clone, PartialEq)]
pub struct SerializedReport {
    /// The report's key.
    pub key: String,
    /// The report's stable id.
    pub id: String,
    /// Its day (`YYYY-MM-DD`).
    pub day: String,
    /// How many warnings it carries.
    pub warnings: usize,
    /// The JSON stored under the key ([`to_json`]).
    pub body: Vec<u8>,
}

impl Prepared {
    /// Serializes the records (as [`store_prepared`] stores them).
    pub fn serialize(self) -> Serialized {
        Serialized {
            reports: self
                .reports
                .into_iter()
                .map(|(key, r)| SerializedReport {
                    body: to_json(&r),
                    key,
                    id: r.id,
                    day: r.day,
                    warnings: r.warnings.len(),
                })
                .collect(),
            rejection: self.rejection.map(|(key, record)| {
                let body = to_json(&record);
                (key, record.reason, body)
            }),
            layout: self.layout,
        }
    }
}

/// Stores many inputs with the same outcomes as [`store_prepared`] on each
/// in turn, in order, but with the writes grouped: every report of the batch
/// in one [`ObjectStore::put_many_if_absent`] (`concurrency` requests at a time
/// for a remote store; one group of flushes for the directory store), then the
/// stored bodies of the keys that already existed (for duplicates and
/// conflicts), then the conflict and rejection records in a second group. A
/// report key repeated within the batch is written once; the later ones are
/// compared with what is stored, exactly as a later input would be. A storage
/// error stops the batch and is returned; a retry finishes it without
/// duplicates.
pub async fn store_batch<S: ObjectStore>(
    store: &S,
    batch: Vec<Serialized>,
    concurrency: usize,
) -> Result<Vec<Outcome>, StoreError> {
    use std::collections::hash_map::{Entry, HashMap};
    // Phase 1: every distinct report key once, first occurrence first. Each
    // report keeps the index of its write when it is the first occurrence.
    let mut writes: Vec<(String, Vec<u8>)> = Vec::new();
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut inputs = Vec::with_capacity(batch.len());
    for input in batch {
        let mut reports = Vec::with_capacity(input.reports.len());
        for r in input.reports {
            let write = match first.entry(r.key.clone()) {
                Entry::Occupied(_) => None,
                Entry::Vacant(v) => {
                    v.insert(writes.len());
                    writes.push((r.key.clone(), r.body.clone()));
                    Some(writes.len() - 1)
                }
            };
            reports.push((r, write));
        }
        inputs.push((reports, input.rejection, input.layout));
    }
    let put = store.put_many_if_absent(writes, concurrency).await?;
    let created = |write: Option<usize>| write.is_some_and(|w| put.get(w) == Some(&PutOutcome::Created));

    // Phase 2: the stored bodies under the keys that were not written here.
    let mut to_read: Vec<String> = Vec::new();
    let mut read_index: HashMap<String, usize> = HashMap::new();
    for (reports, _, _) in &inputs {
        for (r, write) in reports {
            if !created(*write) && !read_index.contains_key(&r.key) {
                read_index.insert(r.key.clone(), to_read.len());
                to_read.push(r.key.clone());
            }
        }
    }
    let stored = store.get_many(&to_read, concurrency).await?;

    // Phase 3: outcomes, then conflict and rejection records in one group.
    let mut outcomes = Vec::with_capacity(inputs.len());
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    let mut record_keys: HashMap<String, usize> = HashMap::new();
    let mut rejection_at = Vec::with_capacity(inputs.len());
    let mut replacements: Vec<(String, Vec<u8>)> = Vec::new();
    // The index of a record's write; `None` for a key already in the group.
    let mut add_record = |key: String, body: Vec<u8>| -> Option<usize> {
        match record_keys.entry(key) {
            Entry::Occupied(_) => None,
            Entry::Vacant(v) => {
                let i = records.len();
                records.push((v.key().clone(), body));
                v.insert(i);
                Some(i)
            }
        }
    };
    for (reports, rejection, layout) in inputs {
        let mut out = Outcome::default();
        for (r, write) in reports {
            if created(write) {
                out.warnings += r.warnings;
                out.written.push(r.id);
                continue;
            }
            let kept = read_index
                .get(&r.key)
                .and_then(|&i| stored.get(i))
                .and_then(Option::as_deref);
            match conflict_of_body(&r, kept) {
                None => out.duplicates.push(r.id),
                Some(record) => {
                    if let Some(swap) = kept.and_then(|k| displacement(&r.key, k, &r.body)) {
                        // A DKIM-verified mail report takes the place of one
                        // that came over HTTPS; the latter is kept aside.
                        let ckey = layout.conflict_key(&r.day, &r.id, &swap.dropped.content_sha256);
                        add_record(ckey, to_json(&swap));
                        replacements.push((r.key.clone(), r.body.clone()));
                        out.warnings += r.warnings;
                        out.written.push(r.id);
                        continue;
                    }
                    let ckey = layout.conflict_key(&r.day, &r.id, &record.dropped.content_sha256);
                    add_record(ckey.clone(), to_json(&record));
                    out.conflicts.push((r.id, ckey));
                }
            }
        }
        rejection_at.push(rejection.map(|(key, reason, body)| {
            let at = add_record(key.clone(), body);
            (reason, key, at)
        }));
        outcomes.push(out);
    }
    let put = store.put_many_if_absent(records, concurrency).await?;
    // After the records that keep the displaced reports: a failure in
    // between leaves the HTTPS report in place, and a retry does it again.
    for (key, body) in replacements {
        store.put(&key, body).await?;
    }
    for (out, rejection) in outcomes.iter_mut().zip(rejection_at) {
        if let Some((reason, key, at)) = rejection {
            // A key repeated within the batch was stored by its first input.
            let dup = at.is_none_or(|i| put.get(i) != Some(&PutOutcome::Created));
            out.rejected = Some((reason, key, dup));
        }
    }
    Ok(outcomes)
}

/// [`conflict`] for a serialized report (read back only when the key held
/// something: a redelivery is rare).
fn conflict_of_body(r: &SerializedReport, kept: Option<&[u8]>) -> Option<ConflictRecord> {
    match serde_json::from_slice::<NormalizedReport>(&r.body) {
        Ok(new) => conflict(&r.key, kept, &new),
        // Not expected: the body is this crate's own serialization. Still never
        // counted as a duplicate unless the bytes are the same.
        Err(_) => (kept != Some(r.body.as_slice())).then(|| ConflictRecord {
            schema: CONFLICT_SCHEMA.into(),
            reason: "conflicting-redelivery".into(),
            detail: "stored before with another content; the first delivery is kept".into(),
            id: r.id.clone(),
            organization: String::new(),
            report_id: String::new(),
            day: r.day.clone(),
            domain: String::new(),
            kept: Delivery {
                key: Some(r.key.clone()),
                ..Delivery::default()
            },
            dropped: Delivery {
                content_sha256: crate::sha256_hex(&r.body),
                ..Delivery::default()
            },
        }),
    }
}

/// Whether a report came with its sender authenticated: mail whose DKIM
/// verdict is `pass`.
fn authenticated(r: &NormalizedReport) -> bool {
    r.source.channel != "https" && r.source.verdicts.dkim.as_deref() == Some("pass")
}

/// When the report stored under `key` came over HTTPS (anyone can POST) and
/// `new` is the same report-id from DKIM-verified mail with another content:
/// the record of the HTTPS delivery being replaced (reason
/// `unauthenticated-replaced`). Otherwise `None`: the first delivery stays.
fn displacement(key: &str, kept: &[u8], new: &[u8]) -> Option<ConflictRecord> {
    let kept: NormalizedReport = serde_json::from_slice(kept).ok()?;
    let new: NormalizedReport = serde_json::from_slice(new).ok()?;
    if kept.source.channel != "https" || !authenticated(&new) {
        return None;
    }
    let (kept_content, new_content) = (content_sha256(&kept), content_sha256(&new));
    (kept_content != new_content).then(|| ConflictRecord {
        schema: CONFLICT_SCHEMA.into(),
        reason: "unauthenticated-replaced".into(),
        detail: format!(
            "report-id {:?} of {:?} was stored first from an HTTPS POST (no sender authentication); this DKIM-verified mail delivery replaces it",
            crate::text::escaped(&new.report_id, 200),
            crate::text::escaped(&new.organization, 200)
        ),
        id: new.id.clone(),
        organization: new.organization.clone(),
        report_id: new.report_id.clone(),
        day: new.day.clone(),
        domain: new.domain.clone(),
        kept: Delivery::of(&new, Some(key), new_content),
        dropped: Delivery::of(&kept, None, kept_content),
    })
}

/// Schema of conflict records.
pub const CONFLICT_SCHEMA: &str = "stsguard/conflict/v1";

/// A report delivered again with another content under the same organization
/// and report-id (schema `stsguard/conflict/v1`, stored beside the rejection
/// records). The first delivery stays the report; this records the second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRecord {
    /// Always [`CONFLICT_SCHEMA`].
    pub schema: String,
    /// `conflicting-redelivery` (the first delivery is kept), or
    /// `unauthenticated-replaced` (a DKIM-verified mail delivery took the
    /// place of one that came over HTTPS).
    pub reason: String,
    /// A human explanation.
    pub detail: String,
    /// The report's stable id.
    pub id: String,
    /// The sender's `organization-name`.
    pub organization: String,
    /// The sender's `report-id`.
    pub report_id: String,
    /// The report's day and policy domain.
    pub day: String,
    /// The policy domain.
    pub domain: String,
    /// The delivery that was stored first and stays.
    pub kept: Delivery,
    /// The delivery that was not stored.
    pub dropped: Delivery,
}

/// One delivery of a report, in a [`ConflictRecord`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The stored report's key (for the kept delivery).
    pub key: Option<String>,
    /// SHA-256 of the payload as found (before decompression).
    pub payload_sha256: String,
    /// SHA-256 of the normalized content ([`content_sha256`]).
    pub content_sha256: String,
    /// `file`, `ses` or `s3`.
    pub channel: String,
    /// The file name or path.
    pub input: Option<String>,
    /// The SES message id.
    pub ses_message_id: Option<String>,
    /// The object key of the raw mail.
    pub raw_key: Option<String>,
}

/// SHA-256 (hex) of what a report says, as normalized: organization,
/// report-id, contact, period, policy domain and policies with their counts
/// and failure details; not where it came from (the mail, the payload's
/// compression) nor the warnings of reading it.
pub fn content_sha256(r: &NormalizedReport) -> String {
    #[derive(Serialize)]
    struct Content<'a> {
        organization: &'a str,
        report_id: &'a str,
        contact_info: &'a Option<String>,
        start: &'a str,
        end: &'a str,
        domain: &'a str,
        policies: &'a [crate::report::ReportPolicy],
    }
    crate::sha256_hex(&to_json(&Content {
        organization: &r.organization,
        report_id: &r.report_id,
        contact_info: &r.contact_info,
        start: &r.start,
        end: &r.end,
        domain: &r.domain,
        policies: &r.policies,
    }))
}

impl Delivery {
    fn of(r: &NormalizedReport, key: Option<&str>, content_sha256: String) -> Self {
        Delivery {
            key: key.map(str::to_owned),
            payload_sha256: r.source.payload_sha256.clone(),
            content_sha256,
            channel: r.source.channel.clone(),
            input: r.source.input.clone(),
            ses_message_id: r.source.ses_message_id.clone(),
            raw_key: r.source.raw_key.clone(),
        }
    }
}

/// The conflict between the report stored under `key` (its bytes, `None` when
/// it vanished) and `new`, when their contents differ; `None` for an exact
/// redelivery. A stored object that no longer reads as a report conflicts.
pub fn conflict(key: &str, stored: Option<&[u8]>, new: &NormalizedReport) -> Option<ConflictRecord> {
    let new_content = content_sha256(new);
    let kept = stored.and_then(|b| serde_json::from_slice::<NormalizedReport>(b).ok());
    let kept = match kept {
        Some(k) => {
            let content = content_sha256(&k);
            if content == new_content {
                return None;
            }
            Delivery::of(&k, Some(key), content)
        }
        None => Delivery {
            key: Some(key.to_owned()),
            ..Delivery::default()
        },
    };
    Some(ConflictRecord {
        schema: CONFLICT_SCHEMA.into(),
        reason: "conflicting-redelivery".into(),
        detail: format!(
            "report-id {:?} of {:?} was stored before with another content; the first delivery is kept",
            crate::text::escaped(&new.report_id, 200),
            crate::text::escaped(&new.organization, 200)
        ),
        id: new.id.clone(),
        organization: new.organization.clone(),
        report_id: new.report_id.clone(),
        day: new.day.clone(),
        domain: new.domain.clone(),
        kept,
        dropped: Delivery::of(new, None, new_content),
    })
}

/// [`prepare`] then [`store_prepared`].
pub async fn ingest<S: ObjectStore>(
    store: &S,
    raw: &[u8],
    kind: InputKind,
    ctx: &InputContext,
    config: &IngestConfig,
    received_at: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    store_prepared(store, prepare(raw, kind, ctx, config, received_at)).await
}

/// Compact JSON on one line with a trailing newline: one object per line, as
/// Athena's and Glue's JSON readers expect. Serializing these plain data types
/// cannot fail; should it ever, the error text is stored instead of a panic.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec(value)
        .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()).into_bytes());
    v.push(b'\n');
    v
}
