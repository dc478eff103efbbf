//! RFC 8460 reports: the tolerant parser and the normalized schema
//! `stsguard/report/v1`.
//!
//! [`parse_report`] takes the JSON bytes of one report and returns a
//! [`NormalizedReport`] or a [`ReportError`]. It fails hard only where a report
//! cannot be read at all (not JSON, top level not an object, `policies` missing or
//! not a list, a negative or non-integer count, an unparsable date, a cap
//! exceeded); every other departure from the RFC template is tolerated and
//! recorded as a [`Warning`] in the report.

mod datetime;
mod normalize;
pub mod raw;
mod shape;
pub mod sts;

use serde::{Deserialize, Serialize};

pub use normalize::{parse_report, ReportHints};
pub use shape::{check_shape, ShapeError};

/// Schema name written into every normalized report.
pub const REPORT_SCHEMA: &str = "stsguard/report/v1";

/// The result types registered at IANA (`starttls-validation-result-types`).
pub const KNOWN_RESULT_TYPES: [&str; 11] = [
    "starttls-not-supported",
    "certificate-host-mismatch",
    "certificate-expired",
    "certificate-not-trusted",
    "validation-failure",
    "tlsa-invalid",
    "dnssec-invalid",
    "dane-required",
    "sts-policy-fetch-error",
    "sts-policy-invalid",
    "sts-webpki-invalid",
];

/// The policy types of RFC 8460 §4.4.
pub const KNOWN_POLICY_TYPES: [&str; 3] = ["sts", "tlsa", "no-policy-found"];

/// Why a report could not be read at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ReportError {
    /// The bytes are not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The JSON is nested deeper, or has longer arrays, than the caps allow.
    #[error("JSON too complex: {0}")]
    TooComplex(#[from] ShapeError),
    /// The top level is not an object.
    #[error("the top level is a JSON {0}, not an object")]
    NotAnObject(&'static str),
    /// `policies` is missing or is not a list.
    #[error("`policies` is {0}")]
    NoPolicies(String),
    /// A count is negative, fractional or not a number.
    #[error("{path}: {problem}")]
    BadCount {
        /// Where in the report.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A date-time is missing or unparsable.
    #[error("{path}: {problem}")]
    BadDate {
        /// Where in the report.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// More policies or failure details than the caps allow.
    #[error("{what}: {count} exceeds the cap of {cap}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many there were.
        count: usize,
        /// The cap.
        cap: usize,
    },
}

/// One normalized report (schema `stsguard/report/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedReport {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// Stable id: a hash of (organization, report-id); see [`report_key_id`].
    pub id: String,
    /// The sender's `report-id`.
    pub report_id: String,
    /// The sender's `organization-name`.
    pub organization: String,
    /// The sender's `contact-info`.
    pub contact_info: Option<String>,
    /// Start of the reporting period, RFC 3339 UTC.
    pub start: String,
    /// End of the reporting period, RFC 3339 UTC.
    pub end: String,
    /// UTC date of `start` (`YYYY-MM-DD`).
    pub day: String,
    /// The report's policy domain: lower case, no trailing dot.
    pub domain: String,
    /// The other policy domains the same report names (RFC 8460 allows several
    /// policies, each with its own `policy-domain`). Such a report is stored
    /// once per domain ([`by_domain`]), each copy with that domain's policies
    /// only; empty (and not written) for a report of one domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_domains: Vec<String>,
    /// One entry per policy the sender evaluated.
    pub policies: Vec<ReportPolicy>,
    /// Where the report came from.
    pub source: Source,
    /// Every tolerance applied while reading the report.
    pub warnings: Vec<Warning>,
}

/// One evaluated policy with its session counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPolicy {
    /// `sts`, `tlsa`, `no-policy-found`, or an unknown value kept as it came.
    pub policy_type: String,
    /// The policy's domain, lower case, no trailing dot.
    pub policy_domain: Option<String>,
    /// The policy as the sender saw it, one string per line or record.
    pub policy_strings: Vec<String>,
    /// MX host patterns (always a list).
    pub mx_hosts: Vec<String>,
    /// The MTA-STS policy parsed from `policy_strings` when the type is `sts`.
    pub sts: Option<sts::StsSummary>,
    /// Sessions that negotiated TLS successfully.
    pub successful: u64,
    /// Sessions that failed.
    pub failed: u64,
    /// Failure details.
    pub failures: Vec<Failure>,
}

/// One failure detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The result type as sent (lower-cased).
    pub result_type: String,
    /// Whether the result type is in the IANA registry.
    pub known: bool,
    /// Failed sessions of this kind.
    pub count: u64,
    /// The sending MTA's IP address.
    pub sending_mta_ip: Option<String>,
    /// The receiving MX host name.
    pub receiving_mx_hostname: Option<String>,
    /// The receiving MX's HELO name.
    pub receiving_mx_helo: Option<String>,
    /// The receiving IP address.
    pub receiving_ip: Option<String>,
    /// Free-form additional information (a URI per the RFC).
    pub additional_information: Option<String>,
    /// The sender's failure reason code.
    pub failure_reason_code: Option<String>,
}

/// Where a report came from: the input, the mail around it and the payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// `file`, `ses` or `s3`.
    pub channel: String,
    /// The input file name or path, when read from a file.
    pub input: Option<String>,
    /// The SES message id, when received through SES.
    pub ses_message_id: Option<String>,
    /// The object key of the raw mail, when read from a store.
    pub raw_key: Option<String>,
    /// The SMTP envelope sender, when known.
    pub envelope_from: Option<String>,
    /// The client's address, for a report received over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The client's `User-Agent`, for a report received over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The `From` header.
    pub from: Option<String>,
    /// The `Message-ID` header.
    pub message_id: Option<String>,
    /// The `Subject` header.
    pub subject: Option<String>,
    /// The `TLS-Report-Domain` header.
    pub tls_report_domain: Option<String>,
    /// The `TLS-Report-Submitter` header.
    pub tls_report_submitter: Option<String>,
    /// Authentication and content verdicts.
    pub verdicts: Verdicts,
    /// The attachment (or zip member) file name.
    pub attachment_name: Option<String>,
    /// The part's media type.
    pub media_type: Option<String>,
    /// `none`, `gzip`, `zip` or `zip+gzip`.
    pub compression: String,
    /// SHA-256 of the payload as found (before decompression), lower-case hex.
    pub payload_sha256: String,
    /// Size of the payload as found, in bytes.
    pub payload_bytes: u64,
}

/// Verdicts on the mail, from SES (`Authentication-Results` by `amazonses.com`,
/// `X-SES-Spam-Verdict`, `X-SES-Virus-Verdict`) or from the SES event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    /// DKIM result (`pass`, `fail`, `none`, …).
    pub dkim: Option<String>,
    /// The `header.d`/`header.i` domain of the passing DKIM signature, when given.
    pub dkim_domain: Option<String>,
    /// SPF result.
    pub spf: Option<String>,
    /// DMARC result.
    pub dmarc: Option<String>,
    /// Spam verdict.
    pub spam: Option<String>,
    /// Virus verdict.
    pub virus: Option<String>,
}

/// A tolerance applied while reading a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable code.
    pub code: WarningCode,
    /// Human explanation naming the field and value.
    pub message: String,
}

/// Stable warning codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningCode {
    /// A template field was missing or `null`.
    FieldMissing,
    /// A string field was empty.
    FieldEmpty,
    /// A field had an unexpected JSON type and was converted or ignored.
    WrongType,
    /// A member appeared twice; the first value was kept.
    DuplicateMember,
    /// A member was found under the RFC's prose name rather than the template name.
    AliasField,
    /// `mx-host` was a string rather than a list (RFC 8460 erratum 6241).
    MxHostString,
    /// A count was given as a numeric string.
    CountString,
    /// A count was given as a number with a fraction part of zero.
    CountFloat,
    /// A date-time had no offset; read as UTC.
    DatetimeNoOffset,
    /// A date-time had a non-UTC offset; converted to UTC.
    DatetimeOffset,
    /// A date-time was a bare date; read as midnight UTC.
    DatetimeDateOnly,
    /// The date range is not one UTC day.
    DateRangeNotOneDay,
    /// A result type outside the IANA registry.
    UnknownResultType,
    /// A policy type outside RFC 8460.
    UnknownPolicyType,
    /// Failure-detail counts add up to more than the failure total.
    FailureDetailsExceedTotal,
    /// Policies name different domains.
    PolicyDomainsDiffer,
    /// The report's domain was not in the body and came from elsewhere.
    DomainNotInReport,
    /// A header disagrees with the body (the body wins).
    HeaderMismatch,
    /// The attachment file name disagrees with the body (the body wins).
    FilenameMismatch,
    /// The media type or file name disagrees with the payload's content.
    MediaTypeMismatch,
    /// A string exceeded its length cap and was cut.
    StringTruncated,
    /// The payload began with a UTF-8 byte order mark.
    Utf8Bom,
    /// An element of a list was not an object and was skipped.
    ElementSkipped,
    /// The domain is not a valid host name.
    DomainInvalid,
    /// The mail carries no passing DKIM verdict from SES.
    Unauthenticated,
}

/// The report as it concerns each policy domain it names, first named first:
/// one copy per domain with that domain's policies (policies that name no
/// domain stay with the first) and the other domains in `other_domains`. A
/// report of one domain comes back as it is. Every figure of a copy is then
/// the domain's own, so counting reports and sessions per domain counts a
/// report once for each domain it names and each session once.
pub fn by_domain(mut r: NormalizedReport) -> Vec<NormalizedReport> {
    let mut domains: Vec<String> = Vec::new();
    for d in r.policies.iter().filter_map(|p| p.policy_domain.as_deref()) {
        if !domains.iter().any(|x| x == d) {
            domains.push(d.to_owned());
        }
    }
    if domains.len() <= 1 {
        return vec![r];
    }
    // Each policy moves into its domain's group (no copy of the others), so a
    // report of many domains costs one header per domain, not a whole report.
    let mut groups: Vec<Vec<ReportPolicy>> = domains.iter().map(|_| Vec::new()).collect();
    for p in std::mem::take(&mut r.policies) {
        let i = p
            .policy_domain
            .as_deref()
            .and_then(|d| domains.iter().position(|x| x == d))
            .unwrap_or(0);
        if let Some(group) = groups.get_mut(i) {
            group.push(p);
        }
    }
    domains
        .iter()
        .zip(groups)
        .map(|(d, policies)| NormalizedReport {
            domain: d.clone(),
            other_domains: domains.iter().filter(|o| *o != d).cloned().collect(),
            policies,
            ..r.clone()
        })
        .collect()
}

impl NormalizedReport {
    /// Adds a warning.
    pub fn warn(&mut self, code: WarningCode, message: impl Into<String>) {
        self.warnings.push(Warning {
            code,
            message: message.into(),
        });
    }
}

/// The stable id of a report: the first 128 bits of SHA-256 over
/// `organization`, a NUL byte and `report_id`, as 32 hex digits. The same report
/// delivered twice gets the same id.
pub fn report_key_id(organization: &str, report_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(organization.as_bytes());
    h.update([0u8]);
    h.update(report_id.as_bytes());
    let d = h.finalize();
    crate::hex(&d[..16])
}
