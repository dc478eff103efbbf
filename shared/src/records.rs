//! The strict, sans-IO parsers for the two DNS TXT records: `_mta-sts.<domain>`
//! (RFC 8461 §3.1) and `_smtp._tls.<domain>` (RFC 8460 §3).
//!
//! Both take every TXT record found at the name, each as its list of DNS
//! character-strings, and do what a sender does: join each record's strings with
//! no separator, discard the records that do not start with the version tag,
//! require exactly one remaining record, then parse that one by the ABNF. Every
//! departure becomes a [`Diagnostic`] with a rule ID from the catalogue; a record
//! that merely *looks like* an attempt at the tag (wrong case, leading space,
//! spaces around `=`) is diagnosed instead of being silently discarded.
//!
//! Inputs are capped: at most [`MAX_TXT_RECORDS`] records are examined and each
//! record is read up to [`MAX_RECORD_BYTES`]; beyond that a diagnostic is
//! recorded. Nothing here panics on any input.

use serde::Serialize;

use crate::diag::{Diagnostic, Sink};
use crate::names::{is_valid, Labels};
use crate::text::quoted;

/// TXT records examined at one name; the rest are reported and ignored.
pub const MAX_TXT_RECORDS: usize = 64;
/// Bytes of one joined record that are read; a longer record is reported and cut.
pub const MAX_RECORD_BYTES: usize = 4096;
/// The longest DNS character-string (RFC 1035 §3.3).
const MAX_CHARACTER_STRING: usize = 255;

/// An extension (unknown) field of a TXT record, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// The field name.
    pub name: String,
    /// The field value.
    pub value: String,
}

/// The parsed `_mta-sts` record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StsRecord {
    /// The first `id` value, as written (possibly invalid; see the diagnostics).
    pub id: Option<String>,
    /// The other fields, first occurrence of each name, in order.
    pub extensions: Vec<Extension>,
}

/// What [`parse_sts_records`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StsRecordResult {
    /// The one record starting with `v=STSv1`, when there is exactly one.
    pub record: Option<StsRecord>,
    /// Every finding, in input order.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether a sender would discover a policy: exactly one `v=STSv1` record and
    /// no error in it.
    pub discoverable: bool,
}

/// The parsed `_smtp._tls` record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsrptRecord {
    /// The report URIs of every `rua=` field, in order, as written (possibly
    /// invalid; see the diagnostics).
    pub rua: Vec<String>,
    /// The extension fields, in order.
    pub extensions: Vec<Extension>,
}

/// What [`parse_tlsrpt_records`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsrptRecordResult {
    /// The one record starting with `v=TLSRPTv1`, when there is exactly one.
    pub record: Option<TlsrptRecord>,
    /// Every finding, in input order.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether a sender would use the record: exactly one `v=TLSRPTv1` record and
    /// no error in it.
    pub discoverable: bool,
}

/// The rule IDs and tags that differ between the two records.
struct Proto {
    /// `v=STSv1` or `v=TLSRPTv1`.
    tag: &'static [u8],
    /// Substrings (lower case, without whitespace) that mark an attempt at the tag.
    hints: &'static [&'static [u8]],
    /// The start of the tag, lower case: a record starting with another `v=` tag
    /// (`v=spf1`, `v=DMARC1`) is unrelated even when it holds a hint.
    family: &'static [u8],
    /// Wrong or misplaced version tag.
    version: &'static str,
    /// Several records.
    several: &'static str,
    /// General grammar.
    grammar: &'static str,
    /// Whitespace before the first `;`.
    space: &'static str,
}

const STS: Proto = Proto {
    tag: b"v=STSv1",
    hints: &[b"v=sts", b"stsv1"],
    family: b"v=sts",
    version: "STS002",
    several: "STS003",
    grammar: "STS005",
    space: "STS006",
};

const TLSRPT: Proto = Proto {
    tag: b"v=TLSRPTv1",
    hints: &[b"v=tlsrpt", b"tlsrptv", b"rua="],
    family: b"v=tlsrpt",
    version: "TLR002",
    several: "TLR003",
    grammar: "TLR006",
    space: "TLR007",
};

/// One record's character-strings, joined.
struct Joined {
    bytes: Vec<u8>,
    /// Offsets in `bytes` where a character-string after the first begins.
    boundaries: Vec<usize>,
    /// Whether a string was too long for DNS or the record was cut.
    oversize: bool,
}

impl Joined {
    /// A note for messages about `start..end` when that range spans a string boundary.
    fn split_note(&self, start: usize, end: usize) -> &'static str {
        if self.boundaries.iter().any(|&b| b > start && b < end) {
            " (the record's character-strings are joined with no separator)"
        } else {
            ""
        }
    }
}

/// Joins the character-strings of one record, reading at most [`MAX_RECORD_BYTES`].
fn join(strings: &[Vec<u8>], p: &Proto, sink: &mut Sink) -> Joined {
    let mut bytes = Vec::new();
    let mut boundaries = Vec::new();
    let mut total = 0usize;
    let mut oversize = false;
    for (i, s) in strings.iter().enumerate() {
        total = total.saturating_add(s.len());
        if s.len() > MAX_CHARACTER_STRING {
            oversize = true;
            sink.error(
                p.grammar,
                format!(
                    "character-string {show} is {} bytes, longer than the 255 a DNS string can hold",
                    s.len(),
                    show = quoted(s)
                ),
            );
        }
        if i > 0 && bytes.len() < MAX_RECORD_BYTES {
            boundaries.push(bytes.len());
        }
        let room = MAX_RECORD_BYTES - bytes.len();
        bytes.extend_from_slice(&s[..s.len().min(room)]);
    }
    if total > MAX_RECORD_BYTES {
        oversize = true;
        sink.error(
            p.grammar,
            format!(
                "record {} is {total} bytes; only the first {MAX_RECORD_BYTES} were read",
                quoted(&bytes)
            ),
        );
    }
    Joined {
        bytes,
        boundaries,
        oversize,
    }
}

/// How a record relates to the version tag.
enum Kind {
    /// Starts with the tag followed by WSP, `;` or the end.
    Candidate,
    /// Looks like an attempt at the tag; the reason says what is wrong.
    NearMiss(&'static str),
    /// Something else (SPF, a verification token…).
    Unrelated,
}

fn classify(bytes: &[u8], p: &Proto) -> Kind {
    let tag = p.tag;
    if let Some(after) = bytes.strip_prefix(tag) {
        return match after.first() {
            // `v=STSv10` is another version; `v=STSv1, id=1` is this one, badly delimited.
            Some(b) if b.is_ascii_alphanumeric() => Kind::NearMiss("has another version"),
            _ => Kind::Candidate,
        };
    }
    let squeezed: Vec<u8> = bytes
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(u8::to_ascii_lowercase)
        .collect();
    let other_tag = squeezed.starts_with(b"v=") && !squeezed.starts_with(p.family);
    if other_tag || !p.hints.iter().any(|h| squeezed.windows(h.len()).any(|w| w == *h)) {
        return Kind::Unrelated;
    }
    let reason = if bytes
        .first()
        .is_some_and(|b| b.is_ascii_whitespace() || *b >= 0x80)
    {
        "has whitespace or another character before `v=`"
    } else if bytes.len() >= tag.len() && bytes[..tag.len()].eq_ignore_ascii_case(tag) {
        "has the wrong case (the tag is case-sensitive)"
    } else if bytes.starts_with(b"v ") || bytes.starts_with(b"v\t") || bytes.starts_with(b"v= ") {
        "has whitespace around `=`"
    } else if bytes.starts_with(b"v=") {
        "has another version"
    } else {
        "does not begin with `v=` (the version must be the first field)"
    };
    Kind::NearMiss(reason)
}

/// SP or HTAB.
fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `start..end` of `bytes` without SP/HTAB on either side.
fn trim_range(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && bytes.get(start).copied().is_some_and(is_wsp) {
        start += 1;
    }
    while end > start && bytes.get(end - 1).copied().is_some_and(is_wsp) {
        end -= 1;
    }
    (start, end)
}

/// Checks the characters of the whole record, then splits what follows the tag
/// into fields (`start..end`, trimmed of the delimiter's whitespace).
fn split_fields(j: &Joined, p: &Proto, sink: &mut Sink) -> Vec<(usize, usize)> {
    let bytes = &j.bytes;
    if let Some(pos) = bytes.iter().position(|&b| b >= 0x80) {
        sink.error(
            p.grammar,
            format!(
                "record {} is not US-ASCII (byte {pos} is 0x{:02X})",
                quoted(bytes),
                bytes[pos]
            ),
        );
    }
    if let Some(pos) = bytes.iter().position(|&b| (b < 0x20 && b != b'\t') || b == 0x7F) {
        sink.error(
            p.grammar,
            format!(
                "record {} holds control character 0x{:02X} at byte {pos}",
                quoted(bytes),
                bytes[pos]
            ),
        );
    }
    let tag_len = p.tag.len();
    let mut cuts: Vec<usize> = bytes
        .iter()
        .enumerate()
        .skip(tag_len)
        .filter(|(_, &b)| b == b';')
        .map(|(i, _)| i)
        .collect();
    cuts.push(bytes.len());
    let first_end = cuts.first().copied().unwrap_or(bytes.len());
    let first = bytes.get(tag_len..first_end).unwrap_or_default();
    let tag_text = String::from_utf8_lossy(p.tag);
    if !first.is_empty() {
        if !first.iter().copied().all(is_wsp) {
            sink.error(
                p.grammar,
                format!(
                    "{} follows `{tag_text}`: fields must be separated by `;`",
                    quoted(first)
                ),
            );
        } else if first_end < bytes.len() {
            sink.warn(
                p.space,
                format!(
                    "whitespace before the first `;` (`{tag_text} ;`): grammatical, but it fails the \"begins \
                     with `{tag_text};`\" discard rule (RFC 8461 erratum 6285) that a sender may apply literally"
                ),
            );
        } else {
            sink.error(p.grammar, format!("trailing whitespace after `{tag_text}`"));
        }
    }
    // White space is part of a delimiter (`*WSP ";" *WSP`) only: after the
    // last field it needs a `;` (a final delimiter), else the record fails the
    // ABNF and strict senders (mox) discard it.
    let n = cuts.len();
    if n >= 2 {
        let last = bytes.get(cuts[n - 2] + 1..).unwrap_or_default();
        if last.last().copied().is_some_and(is_wsp) && !last.iter().copied().all(is_wsp) {
            sink.error(
                p.grammar,
                format!(
                    "white space after the last field {} without a `;`: outside the grammar (white space \
                     belongs to a `;` delimiter); strict senders such as mox discard the record",
                    quoted(bytes.get(cuts[n - 2] + 1..).unwrap_or_default())
                ),
            );
        }
    }
    let mut fields = Vec::new();
    for k in 0..n.saturating_sub(1) {
        let (start, end) = trim_range(bytes, cuts[k] + 1, cuts[k + 1]);
        if start == end {
            if k + 2 < n {
                sink.error(
                    p.grammar,
                    format!("empty field (`;;` or `; ;`) in record {}", quoted(bytes)),
                );
            }
        } else {
            fields.push((start, end));
        }
    }
    fields
}

/// `sts-ext-name`: alnum, then up to 31 of alnum, `_`, `-`, `.`.
fn is_ext_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphanumeric()
                && rest.len() <= 31
                && rest
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        }
        None => false,
    }
}

/// `sts-ext-value`: visible ASCII except `;` and `=`, at least one.
fn is_ext_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value
            .iter()
            .all(|&b| (0x21..=0x7E).contains(&b) && b != b';' && b != b'=')
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Examines every record at a name: joins, classifies, counts. Returns the one
/// candidate record (if exactly one) and the findings about the set.
fn select(records: &[Vec<Vec<u8>>], p: &Proto, unrelated: Option<&'static str>) -> (Option<Joined>, Sink) {
    let mut sink = Sink::default();
    if records.len() > MAX_TXT_RECORDS {
        sink.warn(
            p.several,
            format!(
                "{} TXT records at the name; only the first {MAX_TXT_RECORDS} were examined",
                records.len()
            ),
        );
    }
    let mut candidates = Vec::new();
    for record in records.iter().take(MAX_TXT_RECORDS) {
        let joined = join(record, p, &mut sink);
        match classify(&joined.bytes, p) {
            Kind::Candidate => candidates.push(joined),
            Kind::NearMiss(reason) => sink.error(
                p.version,
                format!(
                    "record {} {reason}; it must start with exactly `{}`, so senders discard it",
                    quoted(&joined.bytes),
                    String::from_utf8_lossy(p.tag)
                ),
            ),
            Kind::Unrelated => {
                if let Some(rule) = unrelated {
                    sink.warn(
                        rule,
                        format!(
                            "unrelated TXT record {} at the name (senders discard it; a sign of a \
                             wildcard or misplaced record)",
                            quoted(&joined.bytes)
                        ),
                    );
                }
            }
        }
    }
    if candidates.len() > 1 {
        let shown: Vec<String> = candidates.iter().take(4).map(|j| quoted(&j.bytes)).collect();
        sink.error(
            p.several,
            format!(
                "{} records start with `{}` ({}): senders then assume there is none",
                candidates.len(),
                String::from_utf8_lossy(p.tag),
                shown.join(", ")
            ),
        );
        return (None, sink);
    }
    (candidates.pop(), sink)
}

/// Parses every TXT record at `_mta-sts.<domain>` (each as its character-strings)
/// per RFC 8461 §3.1.
pub fn parse_sts_records(records: &[Vec<Vec<u8>>]) -> StsRecordResult {
    let (candidate, outer) = select(records, &STS, Some("STS008"));
    let mut diagnostics = outer.into_vec();
    let Some(joined) = candidate else {
        return StsRecordResult {
            record: None,
            diagnostics,
            discoverable: false,
        };
    };
    let mut sink = Sink::default();
    let fields = split_fields(&joined, &STS, &mut sink);
    let bytes = &joined.bytes;
    let mut record = StsRecord::default();
    let mut seen: Vec<&[u8]> = vec![b"v"];
    let mut id_field = false;
    for (start, end) in fields {
        let field = &bytes[start..end];
        let note = joined.split_note(start, end);
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            sink.error(
                "STS005",
                format!("field {} is not `name=value`{note}", quoted(field)),
            );
            continue;
        };
        let spaced = field.iter().copied().any(is_wsp);
        if spaced {
            sink.error(
                "STS005",
                format!("field {} contains whitespace{note}", quoted(field)),
            );
        }
        let (ns, ne) = trim_range(field, 0, eq);
        let (vs, ve) = trim_range(field, eq + 1, field.len());
        let (name, value) = (&field[ns..ne], &field[vs..ve]);
        if seen.contains(&name) {
            let first_value = if name == b"id" { record.id.clone() } else { None };
            sink.warn(
                "STS007",
                format!(
                    "field `{}` appears twice; the first wins per the RFC and mox{}, but postfix-mta-sts-resolver \
                     and Stalwart take the last ({}), and checkdmarc rejects the record",
                    text(name),
                    first_value.map(|v| format!(" (`{v}`)")).unwrap_or_default(),
                    quoted(value)
                ),
            );
            continue;
        }
        seen.push(name);
        if name == b"id" {
            id_field = true;
            if value.is_empty() {
                sink.error("STS004", "`id` is empty; it must be 1-32 letters or digits");
            } else if !spaced && (value.len() > 32 || !value.iter().all(u8::is_ascii_alphanumeric)) {
                sink.error(
                    "STS004",
                    format!(
                        "`id` {} is not 1-32 ASCII letters or digits ({} characters)",
                        quoted(value),
                        value.len()
                    ),
                );
            }
            record.id = Some(text(value));
        } else {
            if !is_ext_name(name) {
                sink.error(
                    "STS005",
                    format!("field name {} is not a valid extension name{note}", quoted(name)),
                );
            } else if !is_ext_value(value) && !spaced {
                sink.error(
                    "STS005",
                    format!(
                        "value {} of field `{}` is empty or has `;`, `=` or non-visible characters",
                        quoted(value),
                        text(name)
                    ),
                );
            }
            sink.info(
                "STS010",
                format!(
                    "unknown field `{}={}` (senders ignore it)",
                    text(name),
                    text(value)
                ),
            );
            record.extensions.push(Extension {
                name: text(name),
                value: text(value),
            });
        }
    }
    if !id_field {
        let hint = if seen.iter().any(|s| s.eq_ignore_ascii_case(b"id")) {
            " (field names are case-sensitive: write `id=`)"
        } else {
            ""
        };
        sink.error(
            "STS004",
            format!("`id` is missing from record {}{hint}", quoted(bytes)),
        );
    }
    let discoverable = !sink.has_error() && !joined.oversize;
    diagnostics.extend(sink.into_vec());
    StsRecordResult {
        record: Some(record),
        diagnostics,
        discoverable,
    }
}

/// Parses every TXT record at `_smtp._tls.<domain>` (each as its
/// character-strings) per RFC 8460 §3.
pub fn parse_tlsrpt_records(records: &[Vec<Vec<u8>>]) -> TlsrptRecordResult {
    let (candidate, outer) = select(records, &TLSRPT, None);
    let mut diagnostics = outer.into_vec();
    let Some(joined) = candidate else {
        return TlsrptRecordResult {
            record: None,
            diagnostics,
            discoverable: false,
        };
    };
    let mut sink = Sink::default();
    let fields = split_fields(&joined, &TLSRPT, &mut sink);
    let bytes = &joined.bytes;
    let mut record = TlsrptRecord::default();
    let mut rua_fields = 0usize;
    for (index, (start, end)) in fields.into_iter().enumerate() {
        let field = &bytes[start..end];
        let note = joined.split_note(start, end);
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            sink.error(
                "TLR006",
                format!("field {} is not `name=value`{note}", quoted(field)),
            );
            continue;
        };
        if field[..eq].last().copied().is_some_and(is_wsp) || field.get(eq + 1).copied().is_some_and(is_wsp) {
            sink.error(
                "TLR006",
                format!("whitespace around `=` in {}{note}", quoted(field)),
            );
        }
        let (ns, ne) = trim_range(field, 0, eq);
        let (vs, ve) = trim_range(field, eq + 1, field.len());
        let (name, value) = (&field[ns..ne], &field[vs..ve]);
        if name == b"rua" {
            rua_fields += 1;
            if rua_fields == 2 {
                sink.warn(
                    "TLR007",
                    "several `rua=` fields: legal, but parsers differ (mox and Stalwart keep all, checkdmarc \
                     rejects the record as a duplicate tag); use one comma-separated list",
                );
            }
            if rua_fields == 1 && index > 0 {
                sink.warn(
                    "TLR007",
                    "`rua=` is not the first field after `v=TLSRPTv1`: the internet.nl checker fails on an \
                     extension before it",
                );
            }
            parse_rua(value, note, &mut sink, &mut record.rua);
        } else {
            if !is_ext_name(name) {
                sink.error(
                    "TLR006",
                    format!("field name {} is not a valid extension name{note}", quoted(name)),
                );
            } else if !is_ext_value(value) {
                sink.error(
                    "TLR006",
                    format!("value {} of field `{}` is empty or has `;`, `=`, spaces or non-visible characters{note}", quoted(value), text(name)),
                );
            }
            sink.info(
                "STS010",
                format!(
                    "unknown field `{}={}` (reporters ignore it)",
                    text(name),
                    text(value)
                ),
            );
            record.extensions.push(Extension {
                name: text(name),
                value: text(value),
            });
        }
    }
    if rua_fields == 0 {
        sink.error(
            "TLR004",
            format!("`rua=` is missing from record {}", quoted(bytes)),
        );
    }
    let discoverable = !sink.has_error() && !joined.oversize;
    diagnostics.extend(sink.into_vec());
    TlsrptRecordResult {
        record: Some(record),
        diagnostics,
        discoverable,
    }
}

/// Parses the value of one `rua=` field into `out`.
fn parse_rua(value: &[u8], note: &str, sink: &mut Sink, out: &mut Vec<String>) {
    if value.is_empty() {
        sink.error("TLR004", "`rua=` has an empty list");
        return;
    }
    for item in value.split(|&b| b == b',') {
        let (s, e) = trim_range(item, 0, item.len());
        let uri = &item[s..e];
        if uri.is_empty() {
            sink.error("TLR006", format!("empty item in the rua list {}", quoted(value)));
            continue;
        }
        if let Err((rule, why)) = check_uri(uri) {
            sink.error(rule, format!("rua URI {} {why}{note}", quoted(uri)));
        }
        out.push(text(uri));
    }
}

/// Checks one rua URI: `mailto:` (RFC 6068) or `https:` (RFC 3986), with `,`,
/// `!` and `;` percent-encoded.
fn check_uri(uri: &[u8]) -> Result<(), (&'static str, &'static str)> {
    if uri.iter().any(|&b| b >= 0x80) {
        return Err(("TLR006", "is not US-ASCII"));
    }
    if uri.iter().any(|&b| b <= 0x20 || b == 0x7F) {
        return Err(("TLR006", "contains whitespace or control characters"));
    }
    if let Some(bang) = uri.iter().position(|&b| b == b'!') {
        let tail = &uri[bang + 1..];
        let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        let unit = &tail[digits..];
        if digits > 0 && (unit.is_empty() || (unit.len() == 1 && b"kmgtKMGT".contains(&unit[0]))) {
            return Err((
                "TLR006",
                "has a DMARC size suffix (`!10m`), which TLSRPT does not allow",
            ));
        }
        return Err(("TLR006", "contains an unencoded `!` (write %21)"));
    }
    let scheme_end = uri.iter().position(|&b| b == b':');
    let scheme = scheme_end.map(|i| &uri[..i]).unwrap_or_default();
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let Some(colon) = scheme_end.filter(|_| scheme_ok) else {
        return Err(("TLR005", "has no scheme; write `mailto:` or `https:` before it"));
    };
    let rest = &uri[colon + 1..];
    if scheme.eq_ignore_ascii_case(b"mailto") {
        check_mailto(rest)
    } else if scheme.eq_ignore_ascii_case(b"https") {
        check_https(rest)
    } else {
        Err(("TLR005", "uses a scheme other than `mailto:` or `https:`"))
    }
}

/// Whether `%` escapes in `bytes` are all followed by two hex digits.
fn pct_ok(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// A host: an LDH domain, a dotted IPv4 address, or a bracketed literal.
fn is_host(host: &[u8]) -> bool {
    if let Some(inner) = host.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")) {
        return !inner.is_empty()
            && inner
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    }
    is_valid(host, Labels::Ldh)
}

fn check_mailto(rest: &[u8]) -> Result<(), (&'static str, &'static str)> {
    let addr_end = rest.iter().position(|&b| b == b'?').unwrap_or(rest.len());
    let (addr, query) = (&rest[..addr_end], &rest[addr_end..]);
    if addr.is_empty() {
        return Err(("TLR006", "has no address after `mailto:`"));
    }
    let mut parts = addr.split(|&b| b == b'@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(("TLR006", "is not a mailto: address with exactly one `@`"));
    };
    let local_ok = !local.is_empty()
        && pct_ok(local)
        && local
            .iter()
            .all(|&b| b.is_ascii_graphic() && !b"\"(),:;<>@[\\]".contains(&b));
    if !local_ok {
        return Err(("TLR006", "has a malformed local part"));
    }
    if !is_host(domain) {
        return Err(("TLR006", "has a malformed domain after `@`"));
    }
    if !pct_ok(query) || query.iter().any(|&b| b"\"<>\\^`{|}".contains(&b)) {
        return Err(("TLR006", "has a malformed query part"));
    }
    Ok(())
}

fn check_https(rest: &[u8]) -> Result<(), (&'static str, &'static str)> {
    let Some(after) = rest.strip_prefix(b"//") else {
        return Err(("TLR006", "is not `https://host/…`"));
    };
    let auth_end = after
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(after.len());
    let (authority, path) = (&after[..auth_end], &after[auth_end..]);
    let host_port = authority.rsplit(|&b| b == b'@').next().unwrap_or_default();
    let (host, port) = match host_port.iter().rposition(|&b| b == b':') {
        Some(i) if !host_port[i..].contains(&b']') => (&host_port[..i], &host_port[i + 1..]),
        _ => (host_port, &b""[..]),
    };
    if host.is_empty() {
        return Err(("TLR006", "has no host"));
    }
    if !is_host(host) {
        return Err(("TLR006", "has a malformed host"));
    }
    if !port.iter().all(u8::is_ascii_digit) || port.len() > 5 {
        return Err(("TLR006", "has a malformed port"));
    }
    if !pct_ok(path) || path.iter().any(|&b| b"\"<>\\^`{|}".contains(&b)) {
        return Err(("TLR006", "has a malformed path"));
    }
    Ok(())
}

/// Reads the `--sts-record` / `--tlsrpt-record` CLI form into character-strings.
///
/// Text starting with `"` (after leading whitespace) is read as DNS presentation
/// character-strings the way `dig` prints them (`"v=STSv1; id=2024" "0601"`), with
/// `\"`, `\\` and `\DDD` escapes; unquoted words between them are strings too.
/// Any other text is one string, as given.
pub fn parse_presentation(text: &str) -> Vec<Vec<u8>> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('"') {
        return vec![text.as_bytes().to_vec()];
    }
    character_strings(trimmed, Escapes::Decimal, false).unwrap_or_default()
}

/// How `\DDD` escapes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// Decimal, as RFC 1035 and `dig` write them.
    Decimal,
    /// Octal, as Route 53 writes them.
    Octal,
}

/// Character-strings in DNS presentation form: quoted or bare, separated by blanks
/// or adjacent (`"a""b"`); `\X` is `X`, `\DDD` one byte. When `strict`, an
/// unbalanced quote or a bad escape gives `None`; otherwise the reader recovers
/// (an unterminated string runs to the end, a lone `\` or an out-of-range `\DDD`
/// is kept as text) and always answers `Some`.
pub(crate) fn character_strings(v: &str, escapes: Escapes, strict: bool) -> Option<Vec<Vec<u8>>> {
    let b = v.as_bytes();
    let base = match escapes {
        Escapes::Decimal => 10,
        Escapes::Octal => 8,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let quoted = b[i] == b'"';
        if quoted {
            i += 1;
        }
        let mut cur = Vec::new();
        let mut closed = !quoted;
        while let Some(&c) = b.get(i) {
            if quoted && c == b'"' {
                i += 1;
                closed = true;
                break;
            }
            if !quoted && (c.is_ascii_whitespace() || c == b'"') {
                break;
            }
            if c == b'\\' {
                let ddd = b.get(i + 1..i + 4).filter(|d| d.iter().all(u8::is_ascii_digit));
                let value = ddd.and_then(|d| {
                    d.iter()
                        .try_fold(0u32, |n, &x| {
                            let x = u32::from(x - b'0');
                            (x < base).then_some(n * base + x)
                        })
                        .and_then(|n| u8::try_from(n).ok())
                });
                match (value, b.get(i + 1)) {
                    (Some(byte), _) => {
                        cur.push(byte);
                        i += 4;
                    }
                    (None, _) if strict && ddd.is_some() => return None,
                    (None, Some(&next)) => {
                        cur.push(next);
                        i += 2;
                    }
                    (None, None) if strict => return None,
                    (None, None) => {
                        cur.push(c);
                        i += 1;
                    }
                }
                continue;
            }
            cur.push(c);
            i += 1;
        }
        if strict && !closed {
            return None;
        }
        out.push(cur);
    }
    Some(out)
}
