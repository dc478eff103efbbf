//! Finding TLSRPT report payloads in a raw message.
//!
//! Real senders wrap reports in many shapes: `multipart/report` with an
//! `application/tlsrpt+gzip` part (RFC 8460 §5.3), generic media types with a
//! telling file name, single-part messages whose body is the report, and reports
//! forwarded inside `message/rfc822` parts. [`extract`] walks every part, nested
//! messages included, and takes each part that is a report by media type, by file
//! name, or by the gzip / zip magic bytes. It also reads the header facts the
//! normalized `source` records.

use std::sync::OnceLock;

use mail_parser::{HeaderName, Message, MessageParser, MimeHeaders, PartType};

use crate::payload::{looks_like_json, sniff, Compression};
use crate::report::Verdicts;
use crate::Limits;

/// Media types that mark a report part on their own.
const REPORT_MEDIA_TYPES: [&str; 8] = [
    "application/tlsrpt+gzip",
    "application/tlsrpt+json",
    "application/tlsrpt+zip",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "application/x-zip-compressed",
    "application/json",
];

/// Longest header value kept in `source` (RFC 5322's line limit).
const MAX_HEADER_CHARS: usize = 998;

/// Header facts of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailFacts {
    /// `From`.
    pub from: Option<String>,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// `Subject` (RFC 2047 decoded).
    pub subject: Option<String>,
    /// `TLS-Report-Domain`.
    pub tls_report_domain: Option<String>,
    /// `TLS-Report-Submitter`.
    pub tls_report_submitter: Option<String>,
}

/// How a part was recognised as a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// Its media type.
    MediaType,
    /// Its file name.
    FileName,
    /// Its first bytes (gzip or zip magic, or a JSON object).
    Content,
}

/// A part that holds (or claims to hold) a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPart {
    /// The decoded part body.
    pub bytes: Vec<u8>,
    /// The attachment file name.
    pub name: Option<String>,
    /// The media type, lower case, without parameters.
    pub media_type: Option<String>,
    /// How the part was recognised.
    pub matched_by: MatchedBy,
    /// Header facts of the message the part sits in (the forwarded message for a
    /// report inside `message/rfc822`).
    pub facts: MailFacts,
}

/// Everything taken from one raw message.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// Header facts of the outer message.
    pub facts: MailFacts,
    /// Verdicts from the receiving service's headers (outer message only).
    pub verdicts: Verdicts,
    /// The report parts, in message order.
    pub parts: Vec<ReportPart>,
}

/// Why no part could be taken from a message.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The bytes are not a message (no header section).
    #[error("not a mail message: no header fields found")]
    NotAMail,
    /// More report parts than the cap.
    #[error("{count} report parts exceed the cap of {cap}")]
    TooManyParts {
        /// How many parts there were.
        count: usize,
        /// The cap.
        cap: usize,
    },
}

/// The parser, built once: MIME headers and `Subject` are parsed; every other
/// header is only located (its raw text is read through `headers_raw`), so
/// `Received`, DKIM and address headers cost nothing.
fn parser() -> &'static MessageParser {
    static PARSER: OnceLock<MessageParser> = OnceLock::new();
    PARSER.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .header_text(HeaderName::Subject)
            .default_header_ignore()
    })
}

/// Finds every report part of a raw message.
pub fn extract(raw: &[u8], limits: &Limits) -> Result<Extracted, MailError> {
    let msg = parser().parse(raw).ok_or(MailError::NotAMail)?;
    if msg.headers().is_empty() {
        return Err(MailError::NotAMail);
    }
    let (facts, verdicts) = header_facts(&msg);
    let mut parts = Vec::new();
    walk(&msg, &facts, &mut parts, limits)?;
    if parts.is_empty() {
        // mox accepts a bare message whose text body is the report JSON.
        if let Some(body) = msg.body_text(0) {
            if looks_like_json(body.as_bytes()) && body.contains("policies") {
                parts.push(ReportPart {
                    bytes: body.as_bytes().to_vec(),
                    name: None,
                    media_type: media_type(msg.root_part()),
                    matched_by: MatchedBy::Content,
                    facts: facts.clone(),
                });
            }
        }
    }
    Ok(Extracted {
        facts,
        verdicts,
        parts,
    })
}

fn walk(
    msg: &Message<'_>,
    facts: &MailFacts,
    out: &mut Vec<ReportPart>,
    limits: &Limits,
) -> Result<(), MailError> {
    for part in &msg.parts {
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Message(inner) => {
                let (mut inner_facts, _) = header_facts(inner);
                fill_from(&mut inner_facts, facts);
                walk(inner, &inner_facts, out, limits)?;
            }
            _ => {
                let media_type = media_type(part);
                let Some(matched_by) = classify(part, media_type.as_deref()) else {
                    continue;
                };
                if out.len() >= limits.max_reports_per_mail {
                    return Err(MailError::TooManyParts {
                        count: out.len() + 1,
                        cap: limits.max_reports_per_mail,
                    });
                }
                out.push(ReportPart {
                    bytes: part.contents().to_vec(),
                    name: part.attachment_name().map(clean_header),
                    media_type,
                    matched_by,
                    facts: facts.clone(),
                });
            }
        }
    }
    Ok(())
}

/// A forwarded message's own headers win; the outer ones fill the gaps.
fn fill_from(inner: &mut MailFacts, outer: &MailFacts) {
    let pairs = [
        (&mut inner.from, &outer.from),
        (&mut inner.message_id, &outer.message_id),
        (&mut inner.subject, &outer.subject),
        (&mut inner.tls_report_domain, &outer.tls_report_domain),
        (&mut inner.tls_report_submitter, &outer.tls_report_submitter),
    ];
    for (i, o) in pairs {
        if i.is_none() {
            i.clone_from(o);
        }
    }
}

fn media_type(part: &mail_parser::MessagePart<'_>) -> Option<String> {
    part.content_type().map(|ct| {
        let mut s = String::with_capacity(ct.ctype().len() + ct.subtype().map_or(0, |t| t.len() + 1));
        s.push_str(ct.ctype());
        if let Some(sub) = ct.subtype() {
            s.push('/');
            s.push_str(sub);
        }
        s.make_ascii_lowercase();
        if s.bytes().all(|b| b.is_ascii_graphic()) {
            s
        } else {
            clean_header(&s)
        }
    })
}

fn is_report_file_name(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n.ends_with(".json") || n.ends_with(".gz") || n.ends_with(".zip")
}

/// Decides whether a leaf part is a report part, and why.
fn classify(part: &mail_parser::MessagePart<'_>, mt: Option<&str>) -> Option<MatchedBy> {
    let content = part.contents();
    if content.is_empty() {
        return None;
    }
    let by_name = part.attachment_name().is_some_and(is_report_file_name);
    let by_content = sniff(content) != Compression::None;
    match mt {
        Some(t) if REPORT_MEDIA_TYPES.contains(&t) => Some(MatchedBy::MediaType),
        _ if by_name => Some(MatchedBy::FileName),
        _ if by_content => Some(MatchedBy::Content),
        // A generic binary attachment that holds a JSON object.
        Some("application/octet-stream") if looks_like_json(content) => Some(MatchedBy::Content),
        _ => None,
    }
}

/// Header facts and SES verdicts of one message, in one pass over its header
/// names; only the values kept are decoded. Verdicts come from the topmost
/// `Authentication-Results` whose authserv-id is `amazonses.com` (SES prepends its
/// own, so one further down could have been written by the sender) and the
/// first `X-SES-*-Verdict`.
fn header_facts(msg: &Message<'_>) -> (MailFacts, Verdicts) {
    let mut f = MailFacts::default();
    let mut v = Verdicts::default();
    let mut seen_ar = false;
    for h in msg.headers() {
        let name = h.name.as_str();
        let raw = || {
            msg.raw_message
                .get(h.offset_start as usize..h.offset_end as usize)
                .map(String::from_utf8_lossy)
                .map(|t| clean_header(&t))
                .filter(|t| !t.is_empty())
        };
        let slot = if name.eq_ignore_ascii_case("from") {
            &mut f.from
        } else if name.eq_ignore_ascii_case("message-id") {
            &mut f.message_id
        } else if name.eq_ignore_ascii_case("tls-report-domain") {
            &mut f.tls_report_domain
        } else if name.eq_ignore_ascii_case("tls-report-submitter") {
            &mut f.tls_report_submitter
        } else if name.eq_ignore_ascii_case("x-ses-spam-verdict") {
            &mut v.spam
        } else if name.eq_ignore_ascii_case("x-ses-virus-verdict") {
            &mut v.virus
        } else {
            if !seen_ar && name.eq_ignore_ascii_case("authentication-results") {
                seen_ar = true;
                if let Some(value) = raw() {
                    parse_authentication_results(&value, &mut v);
                }
            }
            continue;
        };
        if slot.is_none() {
            *slot = raw();
        }
    }
    for verdict in [&mut v.spam, &mut v.virus].into_iter().flatten() {
        verdict.make_ascii_lowercase();
    }
    f.subject = msg.subject().map(clean_header).filter(|v| !v.is_empty());
    (f, v)
}

/// Reads `dkim=`, `spf=` and `dmarc=` results from one `Authentication-Results`
/// value (RFC 8601) when its authserv-id is SES's.
fn parse_authentication_results(value: &str, v: &mut Verdicts) {
    let mut items = value.split(';');
    let authserv = items.next().unwrap_or("").trim().to_ascii_lowercase();
    if authserv != "amazonses.com" && !authserv.ends_with(".amazonses.com") {
        return;
    }
    for item in items {
        let mut words = item.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let result = result.to_ascii_lowercase();
        match method.to_ascii_lowercase().as_str() {
            // Several signatures: one pass is enough.
            "dkim" if v.dkim.as_deref() != Some("pass") => {
                v.dkim = Some(result.clone());
                v.dkim_domain = words.find_map(|w| {
                    let w = w.to_ascii_lowercase();
                    w.strip_prefix("header.d=").map(str::to_owned).or_else(|| {
                        w.strip_prefix("header.i=")
                            .map(|i| i.trim_start_matches('@').to_owned())
                    })
                });
            }
            "spf" if v.spf.is_none() => v.spf = Some(result),
            "dmarc" if v.dmarc.is_none() => v.dmarc = Some(result),
            _ => {}
        }
    }
}

/// Unfolds a header value, turns control characters into spaces, collapses runs
/// of white space and caps the length ([`crate::text::header`]).
pub fn clean_header(value: &str) -> String {
    crate::text::header(value, MAX_HEADER_CHARS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn clean_header_unfolds_and_strips_controls() {
        assert_eq!(clean_header("  a\r\n\tb\u{0}c  "), "a b c");
        assert_eq!(
            clean_header("x\r\nBcc: evil@example.com"),
            "x Bcc: evil@example.com"
        );
        assert_eq!(clean_header(&"y".repeat(5000)).len(), MAX_HEADER_CHARS);
    }

    #[test]
    fn authentication_results_only_from_ses() {
        let mut v = Verdicts::default();
        parse_authentication_results(
            "amazonses.com; spf=pass (spfCheck: ok) smtp.mailfrom=x@google.com; dkim=pass header.i=@google.com; dmarc=pass header.from=google.com;",
            &mut v,
        );
        assert_eq!(v.dkim.as_deref(), Some("pass"));
        assert_eq!(v.dkim_domain.as_deref(), Some("google.com"));
        assert_eq!(v.spf.as_deref(), Some("pass"));
        assert_eq!(v.dmarc.as_deref(), Some("pass"));
        let mut other = Verdicts::default();
        parse_authentication_results("mx.example.net; dkim=pass header.d=evil.example", &mut other);
        assert_eq!(other, Verdicts::default());
    }

    #[test]
    fn not_a_mail() {
        assert_eq!(extract(b"", &Limits::default()), Err(MailError::NotAMail));
    }
}
