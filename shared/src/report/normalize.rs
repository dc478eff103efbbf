//! Raw report values -> [`NormalizedReport`], recording every tolerance.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::datetime::{self, Read};
use super::raw::{Leaf, Node, RawFailure, RawPolicy, RawPolicyEntry, RawReport, RawSummary, Seq};
use super::{
    report_key_id, sts, Failure, NormalizedReport, ReportError, ReportPolicy, Source, Warning, WarningCode,
    KNOWN_POLICY_TYPES, KNOWN_RESULT_TYPES, REPORT_SCHEMA,
};
use crate::names::{is_valid, normalize, normalize_owned, Labels};
use crate::Limits;

/// Facts from around the report (mail headers, file name) used to fill gaps and
/// cross-check the body. The body always wins; disagreements become warnings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportHints<'a> {
    /// The `TLS-Report-Domain` header.
    pub header_domain: Option<&'a str>,
    /// The `TLS-Report-Submitter` header.
    pub header_submitter: Option<&'a str>,
    /// The attachment or file name, e.g.
    /// `google.com!example.com!1725321600!1725407999!001.json.gz`.
    pub file_name: Option<&'a str>,
}

/// A position in the report, formatted only when a message needs it (building
/// every field's path as a string up front costs more than the rest of the
/// normalization).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'static str),
    Field(&'a Path<'a>, &'static str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

const POLICIES: Path<'static> = Path::Root("policies");

/// Placeholder for a policy or result type the sender did not give.
const UNSPECIFIED: &str = "unspecified";

/// Parses one report's JSON bytes into the normalized schema.
///
/// `source` is left at its default; the caller fills it in.
pub fn parse_report(
    json: &[u8],
    limits: &Limits,
    hints: &ReportHints<'_>,
) -> Result<NormalizedReport, ReportError> {
    let mut cx = Cx {
        warnings: Vec::new(),
        limits,
    };
    let json = match json.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            cx.warn(
                WarningCode::Utf8Bom,
                "the report began with a UTF-8 byte order mark",
            );
            rest
        }
        None => json,
    };
    super::check_shape(json, limits.max_json_depth, limits.max_json_array_items)?;
    let raw: Node<RawReport> =
        serde_json::from_slice(json).map_err(|e| ReportError::NotJson(e.to_string()))?;
    let raw = match raw {
        Node::Obj(r) => r,
        Node::Other(kind) => return Err(ReportError::NotAnObject(kind)),
    };
    cx.duplicates(&Path::Root("report"), &raw.duplicates);

    // Required fields first: the ones whose absence is fatal.
    let entries = match raw.policies {
        Some(Seq::List(entries)) => entries,
        Some(Seq::Other(kind)) => return Err(ReportError::NoPolicies(format!("a {kind}, not a list"))),
        None => return Err(ReportError::NoPolicies("missing".into())),
    };
    if entries.len() > limits.max_policies {
        return Err(ReportError::TooMany {
            what: "policies",
            count: entries.len(),
            cap: limits.max_policies,
        });
    }
    let (start, end) = cx.date_range(raw.date_range)?;

    let organization = cx
        .string(raw.organization_name, &Path::Root("organization-name"), true)
        .unwrap_or_default();
    let original_report_id = match raw.report_id {
        Some(Leaf::Str(s)) if !s.trim().is_empty() => s,
        other => {
            let generated = format!("sha256:{}", crate::sha256_hex(json));
            let what = match other {
                None | Some(Leaf::Null) => "missing".to_owned(),
                Some(Leaf::Str(_)) => "empty".to_owned(),
                Some(l) => format!("a {}", l.kind()),
            };
            cx.warn(
                WarningCode::FieldMissing,
                format!("report-id is {what}; using the payload hash {generated} instead"),
            );
            generated
        }
    };
    let id = report_key_id(&organization, &original_report_id);
    let report_id = cx.truncate(original_report_id, &Path::Root("report-id"));
    let contact_info = match raw.contact_info {
        Some(leaf) => cx.string(Some(leaf), &Path::Root("contact-info"), true),
        None if raw.email_address.is_some() => {
            cx.warn(
                WarningCode::AliasField,
                "contact-info was sent as `email-address` (the RFC prose name)",
            );
            cx.string(raw.email_address, &Path::Root("email-address"), true)
        }
        None => cx.string(None, &Path::Root("contact-info"), true),
    };

    let mut policies = Vec::with_capacity(entries.len());
    let mut failure_total = 0usize;
    let mut missing = MissingFields::default();
    for (i, entry) in entries.into_iter().enumerate() {
        match entry {
            Node::Obj(e) => {
                let p = cx.policy(i, e, &mut missing)?;
                failure_total += p.failures.len();
                if failure_total > limits.max_failure_details {
                    return Err(ReportError::TooMany {
                        what: "failure details",
                        count: failure_total,
                        cap: limits.max_failure_details,
                    });
                }
                policies.push(p);
            }
            Node::Other(kind) => cx.warn(
                WarningCode::ElementSkipped,
                format!("policies[{i}] is a {kind}, not an object; skipped"),
            ),
        }
    }
    missing.report(&mut cx);

    let domain = cx.report_domain(&policies, hints);
    cx.cross_check(hints, &domain, contact_info.as_deref(), &start);

    Ok(NormalizedReport {
        schema: REPORT_SCHEMA.to_owned(),
        id,
        report_id,
        organization,
        contact_info,
        day: datetime::day(&start),
        start: datetime::format(&start),
        end: datetime::format(&end),
        domain,
        other_domains: Vec::new(),
        policies,
        source: Source::default(),
        warnings: cx.warnings,
    })
}

/// Per-field counts of failure details that lacked a template field, reported as
/// one warning per field rather than one per detail.
#[derive(Default)]
struct MissingFields {
    details: usize,
    by_field: BTreeMap<&'static str, usize>,
}

impl MissingFields {
    fn report(self, cx: &mut Cx<'_>) {
        for (field, n) in self.by_field {
            cx.warn(
                WarningCode::FieldMissing,
                format!(
                    "{field} is missing or empty in {n} of {} failure details",
                    self.details
                ),
            );
        }
    }
}

struct Cx<'a> {
    warnings: Vec<Warning>,
    limits: &'a Limits,
}

impl Cx<'_> {
    fn warn(&mut self, code: WarningCode, message: impl Into<String>) {
        self.warnings.push(Warning {
            code,
            message: message.into(),
        });
    }

    fn duplicates(&mut self, path: &Path<'_>, names: &[&'static str]) {
        for name in names {
            self.warn(
                WarningCode::DuplicateMember,
                format!("{path}: member `{name}` appears more than once; the first value was kept"),
            );
        }
    }

    fn truncate(&mut self, mut s: String, path: &Path<'_>) -> String {
        let cap = self.limits.max_string_bytes;
        if s.len() > cap {
            let mut cut = cap;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            let len = s.len();
            s.truncate(cut);
            self.warn(
                WarningCode::StringTruncated,
                format!("{path} was {len} bytes; cut to {cut}"),
            );
        }
        s
    }

    /// A string field. Missing, `null` and empty give `None` (with a warning when
    /// `template` says the RFC template has the field); numbers and booleans are
    /// turned into their text.
    fn string(&mut self, leaf: Option<Leaf>, path: &Path<'_>, template: bool) -> Option<String> {
        match self.string_quiet(leaf, path) {
            Ok(s) => Some(s),
            Err(Absent::Missing) => {
                if template {
                    self.warn(WarningCode::FieldMissing, format!("{path} is missing or null"));
                }
                None
            }
            Err(Absent::Empty) => {
                if template {
                    self.warn(WarningCode::FieldEmpty, format!("{path} is an empty string"));
                }
                None
            }
        }
    }

    /// Like [`Cx::string`] but leaves the missing/empty warning to the caller.
    fn string_quiet(&mut self, leaf: Option<Leaf>, path: &Path<'_>) -> Result<String, Absent> {
        let s = match leaf {
            None | Some(Leaf::Null) => return Err(Absent::Missing),
            Some(Leaf::Str(s)) => s,
            Some(Leaf::UInt(n)) => self.converted(path, "number", n.to_string()),
            Some(Leaf::NegInt(n)) => self.converted(path, "number", n.to_string()),
            Some(Leaf::Float(n)) => self.converted(path, "number", n.to_string()),
            Some(Leaf::Bool(b)) => self.converted(path, "boolean", b.to_string()),
            Some(other) => {
                self.warn(
                    WarningCode::WrongType,
                    format!("{path} is a {}, not a string; ignored", other.kind()),
                );
                return Err(Absent::Missing);
            }
        };
        if s.trim().is_empty() {
            return Err(Absent::Empty);
        }
        Ok(self.truncate(s, path))
    }

    fn converted(&mut self, path: &Path<'_>, kind: &str, text: String) -> String {
        self.warn(
            WarningCode::WrongType,
            format!("{path} is a {kind}, not a string; read as \"{text}\""),
        );
        text
    }

    /// A list of strings; a lone string becomes a one-element list. Returns the
    /// list and whether it was a lone string.
    fn string_list(&mut self, leaf: Option<Leaf>, path: &Path<'_>) -> Option<(Vec<String>, bool)> {
        match leaf {
            None | Some(Leaf::Null) => None,
            Some(Leaf::Str(s)) => Some((vec![self.truncate(s, path)], true)),
            Some(Leaf::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let p = Path::Index(path, i);
                    if let Ok(s) = self.string_quiet(Some(item), &p) {
                        out.push(s);
                    }
                }
                Some((out, false))
            }
            Some(other) => {
                self.warn(
                    WarningCode::WrongType,
                    format!("{path} is a {}, not a list of strings; ignored", other.kind()),
                );
                None
            }
        }
    }

    /// A session count: a non-negative integer. Missing or `null` is 0 with a
    /// warning; a numeric string or an integral float is read with a warning;
    /// anything else is fatal.
    fn count(&mut self, leaf: Option<Leaf>, path: &Path<'_>) -> Result<u64, ReportError> {
        let bad = |problem: String| ReportError::BadCount {
            path: path.to_string(),
            problem,
        };
        match leaf {
            Some(Leaf::UInt(n)) => Ok(n),
            None | Some(Leaf::Null) => {
                self.warn(WarningCode::FieldMissing, format!("{path} is missing; read as 0"));
                Ok(0)
            }
            Some(Leaf::NegInt(n)) => Err(bad(format!("negative count {n}"))),
            Some(Leaf::Float(f)) => {
                if f.fract() == 0.0 && (0.0..=9.0e15).contains(&f) {
                    self.warn(
                        WarningCode::CountFloat,
                        format!("{path} is {f}, read as an integer"),
                    );
                    // Exact: integral and below 2^53.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(f as u64)
                } else {
                    Err(bad(format!("{f} is not a non-negative integer")))
                }
            }
            Some(Leaf::Str(s)) => match s.trim().parse::<u64>() {
                Ok(n) if s.trim().bytes().all(|b| b.is_ascii_digit()) => {
                    self.warn(
                        WarningCode::CountString,
                        format!("{path} is the string \"{}\", read as {n}", s.trim()),
                    );
                    Ok(n)
                }
                _ => Err(bad(format!(
                    "the string {:?} is not a non-negative integer",
                    cut(&s, 40)
                ))),
            },
            Some(other) => Err(bad(format!("a {} is not a count", other.kind()))),
        }
    }

    fn date(&mut self, leaf: Option<Leaf>, path: &Path<'_>) -> Result<DateTime<Utc>, ReportError> {
        let bad = |problem: String| ReportError::BadDate {
            path: path.to_string(),
            problem,
        };
        let s = match leaf {
            Some(Leaf::Str(s)) => s,
            None | Some(Leaf::Null) => return Err(bad("missing".into())),
            Some(other) => return Err(bad(format!("a {}, not a date-time string", other.kind()))),
        };
        let (dt, how) = datetime::parse(&s)
            .ok_or_else(|| bad(format!("{:?} is not an RFC 3339 date-time", cut(&s, 40))))?;
        match how {
            Read::Utc => {}
            Read::Offset => self.warn(
                WarningCode::DatetimeOffset,
                format!("{path} {s:?} has a non-UTC offset; converted to UTC"),
            ),
            Read::NoOffset => self.warn(
                WarningCode::DatetimeNoOffset,
                format!("{path} {s:?} has no time-zone offset; read as UTC"),
            ),
            Read::DateOnly => self.warn(
                WarningCode::DatetimeDateOnly,
                format!("{path} {s:?} is a date without a time; read as midnight UTC"),
            ),
        }
        Ok(dt)
    }

    fn date_range(
        &mut self,
        node: Option<Node<super::raw::RawDateRange>>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), ReportError> {
        let r = match node {
            Some(Node::Obj(r)) => r,
            Some(Node::Other(kind)) => {
                return Err(ReportError::BadDate {
                    path: "date-range".into(),
                    problem: format!("a {kind}, not an object"),
                })
            }
            None => {
                return Err(ReportError::BadDate {
                    path: "date-range".into(),
                    problem: "missing".into(),
                })
            }
        };
        self.duplicates(&Path::Root("date-range"), &r.duplicates);
        let start = self.date(r.start, &Path::Root("date-range.start-datetime"))?;
        let end = self.date(r.end, &Path::Root("date-range.end-datetime"))?;
        let midnight = start.timestamp().rem_euclid(86_400) == 0 && start.timestamp_subsec_nanos() == 0;
        let span = end.signed_duration_since(start).num_seconds();
        if !(midnight && (span == 86_399 || span == 86_400)) {
            self.warn(
                WarningCode::DateRangeNotOneDay,
                format!(
                    "the date range {} to {} is not one UTC day",
                    datetime::format(&start),
                    datetime::format(&end)
                ),
            );
        }
        Ok((start, end))
    }

    fn policy(
        &mut self,
        i: usize,
        e: RawPolicyEntry,
        missing: &mut MissingFields,
    ) -> Result<ReportPolicy, ReportError> {
        let base = Path::Index(&POLICIES, i);
        self.duplicates(&base, &e.duplicates);
        let p = match e.policy {
            Some(Node::Obj(p)) => p,
            Some(Node::Other(kind)) => {
                self.warn(
                    WarningCode::WrongType,
                    format!("{base}.policy is a {kind}, not an object"),
                );
                RawPolicy::default()
            }
            None => {
                self.warn(WarningCode::FieldMissing, format!("{base}.policy is missing"));
                RawPolicy::default()
            }
        };
        let pb = Path::Field(&base, "policy");
        self.duplicates(&pb, &p.duplicates);

        let policy_type = match self.string(p.policy_type, &Path::Field(&pb, "policy-type"), true) {
            Some(t) => {
                let t = t.trim().to_ascii_lowercase();
                if !KNOWN_POLICY_TYPES.contains(&t.as_str()) {
                    self.warn(
                        WarningCode::UnknownPolicyType,
                        format!("{pb}.policy-type {t:?} is not one of sts, tlsa, no-policy-found; kept"),
                    );
                }
                t
            }
            None => UNSPECIFIED.to_owned(),
        };
        let has_policy = policy_type == "sts" || policy_type == "tlsa";

        let domain_leaf = match (p.policy_domain, p.domain) {
            (Some(l), _) => Some(l),
            (None, Some(l)) => {
                self.warn(
                    WarningCode::AliasField,
                    format!("{pb}: policy-domain was sent as `domain`"),
                );
                Some(l)
            }
            (None, None) => None,
        };
        let policy_domain = self
            .string(domain_leaf, &Path::Field(&pb, "policy-domain"), true)
            .map(|d| self.domain(d, &Path::Field(&pb, "policy-domain")));

        let policy_strings = match self.string_list(p.policy_string, &Path::Field(&pb, "policy-string")) {
            Some((list, lone)) => {
                if lone {
                    self.warn(
                        WarningCode::WrongType,
                        format!("{pb}.policy-string is a string, not a list; read as a one-line list"),
                    );
                }
                list
            }
            None => {
                if has_policy {
                    self.warn(
                        WarningCode::FieldMissing,
                        format!("{pb}.policy-string is missing"),
                    );
                }
                Vec::new()
            }
        };

        let mx_leaf = match (p.mx_host, p.mx_host_pattern) {
            (Some(l), _) => Some(l),
            (None, Some(l)) => {
                self.warn(
                    WarningCode::AliasField,
                    format!("{pb}: mx-host was sent as `mx-host-pattern`"),
                );
                Some(l)
            }
            (None, None) => None,
        };
        let mx_hosts = match self.string_list(mx_leaf, &Path::Field(&pb, "mx-host")) {
            Some((list, lone)) => {
                if lone {
                    self.warn(
                        WarningCode::MxHostString,
                        format!("{pb}.mx-host is a string, not a list (RFC 8460 erratum 6241)"),
                    );
                }
                list.into_iter()
                    .map(normalize_owned)
                    .filter(|h| !h.is_empty())
                    .collect()
            }
            None => {
                if has_policy {
                    self.warn(WarningCode::FieldMissing, format!("{pb}.mx-host is missing"));
                }
                Vec::new()
            }
        };

        let sb = Path::Field(&base, "summary");
        let summary = match e.summary {
            Some(Node::Obj(s)) => s,
            Some(Node::Other(kind)) => {
                self.warn(WarningCode::WrongType, format!("{sb} is a {kind}, not an object"));
                RawSummary::default()
            }
            None => {
                self.warn(WarningCode::FieldMissing, format!("{sb} is missing"));
                RawSummary::default()
            }
        };
        self.duplicates(&sb, &summary.duplicates);
        let successful = self.count(
            summary.successful,
            &Path::Field(&sb, "total-successful-session-count"),
        )?;
        let failed = self.count(summary.failed, &Path::Field(&sb, "total-failure-session-count"))?;

        let fb = Path::Field(&base, "failure-details");
        let raw_failures = match e.failure_details {
            Some(Seq::List(list)) => list,
            Some(Seq::Other(kind)) => {
                self.warn(
                    WarningCode::WrongType,
                    format!("{fb} is a {kind}, not a list; ignored"),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        let mut failures = Vec::with_capacity(raw_failures.len());
        for (j, f) in raw_failures.into_iter().enumerate() {
            match f {
                Node::Obj(f) => failures.push(self.failure(&Path::Index(&fb, j), f, missing)?),
                Node::Other(kind) => self.warn(
                    WarningCode::ElementSkipped,
                    format!("{fb}[{j}] is a {kind}, not an object; skipped"),
                ),
            }
        }
        let detail_sum = failures.iter().fold(0u64, |a, f| a.saturating_add(f.count));
        if detail_sum > failed {
            self.warn(
                WarningCode::FailureDetailsExceedTotal,
                format!("{base}: failure details add up to {detail_sum} sessions, more than the failure total {failed}"),
            );
        }

        let sts =
            (policy_type == "sts" && !policy_strings.is_empty()).then(|| sts::summarize(&policy_strings));
        Ok(ReportPolicy {
            policy_type,
            policy_domain,
            policy_strings,
            mx_hosts,
            sts,
            successful,
            failed,
            failures,
        })
    }

    fn failure(
        &mut self,
        path: &Path<'_>,
        f: RawFailure,
        missing: &mut MissingFields,
    ) -> Result<Failure, ReportError> {
        self.duplicates(path, &f.duplicates);
        missing.details += 1;
        let result_type = match self.string(f.result_type, &Path::Field(path, "result-type"), true) {
            Some(t) => t.trim().to_ascii_lowercase(),
            None => UNSPECIFIED.to_owned(),
        };
        let known = KNOWN_RESULT_TYPES.contains(&result_type.as_str());
        if !known {
            self.warn(
                WarningCode::UnknownResultType,
                format!("{path}.result-type {result_type:?} is not in the IANA registry; kept"),
            );
        }
        let count = self.count(f.failed_session_count, &Path::Field(path, "failed-session-count"))?;

        // Template fields that real senders often omit: one summary warning per field.
        let mut template = |cx: &mut Self, leaf: Option<Leaf>, name: &'static str, host: bool| match cx
            .string_quiet(leaf, &Path::Field(path, name))
        {
            Ok(s) => Some(if host { normalize(&s) } else { s.trim().to_owned() }),
            Err(_) => {
                *missing.by_field.entry(name).or_default() += 1;
                None
            }
        };
        let sending_leaf = match (f.sending_mta_ip, f.ip_address) {
            (Some(l), _) => Some(l),
            (None, Some(l)) => {
                self.warn(
                    WarningCode::AliasField,
                    format!("{path}: sending-mta-ip was sent as `ip-address`"),
                );
                Some(l)
            }
            (None, None) => None,
        };
        let sending_mta_ip = template(self, sending_leaf, "sending-mta-ip", false);
        let receiving_mx_hostname = template(self, f.receiving_mx_hostname, "receiving-mx-hostname", true);
        let receiving_ip = template(self, f.receiving_ip, "receiving-ip", false);

        let receiving_mx_helo = self
            .string_quiet(f.receiving_mx_helo, &Path::Field(path, "receiving-mx-helo"))
            .ok();
        let info_leaf = match (f.additional_information, f.additional_info_uri) {
            (Some(l), _) => Some(l),
            (None, Some(l)) => {
                self.warn(
                    WarningCode::AliasField,
                    format!("{path}: additional-information was sent as `additional-info-uri`"),
                );
                Some(l)
            }
            (None, None) => None,
        };
        let additional_information = self
            .string_quiet(info_leaf, &Path::Field(path, "additional-information"))
            .ok();
        let failure_reason_code = self
            .string_quiet(f.failure_reason_code, &Path::Field(path, "failure-reason-code"))
            .ok();
        Ok(Failure {
            result_type,
            known,
            count,
            sending_mta_ip,
            receiving_mx_hostname,
            receiving_mx_helo,
            receiving_ip,
            additional_information,
            failure_reason_code,
        })
    }

    /// Normalizes a domain and warns when it is not a valid host name.
    fn domain(&mut self, d: String, path: &Path<'_>) -> String {
        let n = normalize_owned(d);
        if !is_valid(n.as_bytes(), Labels::Underscore) {
            self.warn(
                WarningCode::DomainInvalid,
                format!("{path} {:?} is not a valid domain name", cut(&n, 80)),
            );
        }
        n
    }

    fn report_domain(&mut self, policies: &[ReportPolicy], hints: &ReportHints<'_>) -> String {
        let mut domains = policies.iter().filter_map(|p| p.policy_domain.as_deref());
        if let Some(first) = domains.next() {
            if let Some(other) = domains.find(|d| *d != first) {
                self.warn(
                    WarningCode::PolicyDomainsDiffer,
                    format!(
                        "policies name different domains ({first}, {other}); the report is stored once per domain, \
                         each copy with that domain's policies"
                    ),
                );
            }
            return first.to_owned();
        }
        if let Some(h) = hints.header_domain.map(normalize).filter(|h| !h.is_empty()) {
            self.warn(
                WarningCode::DomainNotInReport,
                format!("no policy names a policy-domain; took {h} from the TLS-Report-Domain header"),
            );
            return self.domain(h, &Path::Root("TLS-Report-Domain"));
        }
        if let Some(f) = hints.file_name.and_then(file_name_parts) {
            self.warn(
                WarningCode::DomainNotInReport,
                format!(
                    "no policy names a policy-domain; took {} from the file name",
                    f.domain
                ),
            );
            return self.domain(f.domain, &Path::Root("the file name"));
        }
        self.warn(
            WarningCode::DomainNotInReport,
            "no policy names a policy-domain and no header or file name gives one; filed under _unknown",
        );
        "_unknown".to_owned()
    }

    fn cross_check(
        &mut self,
        hints: &ReportHints<'_>,
        domain: &str,
        contact: Option<&str>,
        start: &DateTime<Utc>,
    ) {
        if let Some(h) = hints.header_domain.map(normalize) {
            if !h.is_empty() && h != domain {
                self.warn(
                    WarningCode::HeaderMismatch,
                    format!(
                        "TLS-Report-Domain header says {:?}, the report says {domain}",
                        cut(&h, 80)
                    ),
                );
            }
        }
        let contact_domain = contact
            .and_then(|c| c.rsplit_once('@'))
            .map(|(_, d)| normalize(d.trim_end_matches('>')));
        if let (Some(sub), Some(cd)) = (hints.header_submitter.map(normalize), contact_domain) {
            if !sub.is_empty() && sub != cd {
                self.warn(
                    WarningCode::HeaderMismatch,
                    format!(
                        "TLS-Report-Submitter header says {:?}, the contact-info domain is {cd:?}",
                        cut(&sub, 80)
                    ),
                );
            }
        }
        if let Some(f) = hints.file_name.and_then(file_name_parts) {
            if f.domain != domain {
                self.warn(
                    WarningCode::FilenameMismatch,
                    format!(
                        "the file name names domain {:?}, the report says {domain}",
                        cut(&f.domain, 80)
                    ),
                );
            }
            if let Some(begin) = f.begin {
                if begin != start.timestamp() {
                    self.warn(
                        WarningCode::FilenameMismatch,
                        format!(
                            "the file name's begin time {begin} differs from start-datetime {}",
                            datetime::format(start)
                        ),
                    );
                }
            }
        }
    }
}

enum Absent {
    Missing,
    Empty,
}

/// The parts of a RECOMMENDED report file name (RFC 8460 §5.2):
/// `sender!policy-domain!begin!end[!unique-id].ext`.
struct FileNameParts {
    domain: String,
    begin: Option<i64>,
}

fn file_name_parts(name: &str) -> Option<FileNameParts> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut parts = base.split('!');
    let _sender = parts.next()?;
    let domain = normalize(parts.next()?);
    let begin = parts.next().and_then(|b| b.parse().ok());
    if domain.is_empty() || parts.next().is_none() {
        return None;
    }
    Some(FileNameParts { domain, begin })
}

/// The first `n` characters of `s`, for messages.
fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
