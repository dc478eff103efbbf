//! The strict, sans-IO parser for the MTA-STS policy file `mta-sts.txt`
//! (RFC 8461 §3.2) and the `mx` pattern matcher of §4.1.
//!
//! [`parse_policy`] reads the body exactly by the ABNF and reports every
//! departure as a [`Diagnostic`] with a rule ID from the catalogue. It still
//! recovers as much as it can (a key written `Mode:` or with leading whitespace
//! is read as `mode` after the error is recorded) so that one slip does not hide
//! the findings about the rest. Fields other than `mx` take their first
//! occurrence, as the RFC says.
//!
//! LF and CRLF are both legal terminators, and mixing them is legal (EID 6253).
//! The `max_age` cap of 31557600 is enforced numerically (EID 7282). The body is
//! read up to [`MAX_POLICY_BYTES`]; nothing here panics on any input.

use std::collections::HashSet;

use serde::Serialize;

use crate::diag::{Diagnostic, Sink};
use crate::names::{is_valid, Labels};
use crate::records::Extension;
use crate::text::{is_invisible, quoted};

/// Bytes of a policy body that are read: the 64 KiB senders are told they may cap at.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;
/// The largest legal `max_age`: 365.25 days in seconds.
pub const MAX_MAX_AGE: u64 = 31_557_600;

/// One day, in seconds.
const DAY: u64 = 86_400;
/// One week, in seconds.
const WEEK: u64 = 604_800;

/// A policy `mode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `enforce`: do not deliver to an MX that fails the checks.
    Enforce,
    /// `testing`: report failures, deliver anyway.
    Testing,
    /// `none`: no active policy (the opt-out state).
    None,
    /// Any other value, as written (invalid).
    Other(String),
}

/// One `mx` line of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MxPattern {
    /// The pattern as written (after the `:` and its whitespace).
    pub pattern: String,
    /// Whether it is a valid `["*."] Domain`.
    pub valid: bool,
}

impl MxPattern {
    /// Whether the pattern starts with `*.`.
    pub fn is_wildcard(&self) -> bool {
        self.pattern.starts_with("*.")
    }

    /// Whether a valid pattern matches the MX host `host` (see [`mx_matches`]).
    pub fn matches(&self, host: &str) -> bool {
        self.valid && mx_matches(&self.pattern, host)
    }
}

/// The fields of a policy, as parsed (first occurrence wins, except `mx`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The first `version` value, as written.
    pub version: Option<String>,
    /// The first `mode` value.
    pub mode: Option<Mode>,
    /// The first `max_age` value, when it is 1-10 ASCII digits (even above the cap).
    pub max_age: Option<u64>,
    /// Every `mx` line, in order.
    pub mx: Vec<MxPattern>,
    /// Unknown keys (senders ignore them), first occurrence of each.
    pub extensions: Vec<Extension>,
}

/// What [`parse_policy`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyResult {
    /// The policy as parsed.
    pub policy: Policy,
    /// Every finding, in input order (missing fields and cross-field checks last).
    pub diagnostics: Vec<Diagnostic>,
}

/// Common public suffixes with two labels. Every single-label suffix (a TLD)
/// counts as public too.
const PUBLIC_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "net.uk", "ltd.uk", "plc.uk", "sch.uk", "com.au",
    "net.au", "org.au", "edu.au", "gov.au", "id.au", "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "ad.jp",
    "com.br", "net.br", "org.br", "gov.br", "co.nz", "net.nz", "org.nz", "co.za", "org.za", "com.cn",
    "net.cn", "org.cn", "gov.cn", "com.mx", "org.mx", "com.tr", "org.tr", "co.in", "net.in", "org.in",
    "firm.in", "gen.in", "co.kr", "or.kr", "com.tw", "org.tw", "com.hk", "org.hk", "com.sg", "org.sg",
    "com.ar", "com.co", "co.il", "org.il", "com.pl", "net.pl", "co.id", "or.id", "com.my", "com.ph",
    "com.vn", "com.ua", "co.th", "in.th", "com.pe", "com.ve", "com.ec", "com.ng", "com.eg", "com.sa",
    "com.pk", "com.bd", "co.ke", "co.at", "or.at", "gv.at", "com.es", "com.gr", "com.ru", "co.ua", "com.de",
    "co.com", "eu.com", "uk.com", "us.com", "co.no", "priv.no", "com.mt", "com.cy", "gouv.fr", "asso.fr",
    "ac.be",
];

/// The keys the RFC defines.
const KNOWN_KEYS: [&str; 4] = ["version", "mode", "max_age", "mx"];

/// Whether `pattern` (an `mx` value) matches the MX host `host` per RFC 8461
/// §4.1 and Appendix B.
///
/// Case-insensitive; one trailing dot of `host` is removed. A `*.` wildcard
/// matches exactly one whole left-most label: `*.example.com` matches
/// `mail.example.com` but neither `example.com` nor `a.b.example.com`.
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        if suffix.is_empty() || suffix.contains('*') {
            return false;
        }
        return match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest.eq_ignore_ascii_case(suffix),
            None => false,
        };
    }
    !pattern.contains('*') && pattern.eq_ignore_ascii_case(host)
}

/// Why an `mx` value is not `["*."] Domain`, if it is not.
fn mx_problem(v: &str) -> Option<&'static str> {
    let problem = if v.is_empty() {
        "is empty"
    } else if !v.is_ascii() {
        "is not ASCII: write internationalized names as A-labels (`xn--…`)"
    } else if v.contains("://") || v.contains('/') {
        "is a URL; give only the host name"
    } else if v.contains('@') {
        "is a mail address; give only the host name"
    } else if v.starts_with('[') || v.parse::<std::net::IpAddr>().is_ok() {
        "is an IP address; patterns match MX host names"
    } else if v.contains(':') {
        "has a port; give only the host name"
    } else if v == "*" {
        "is a bare `*`"
    } else if v.ends_with('.') {
        "has a trailing dot, so it matches no MX name"
    } else if v.starts_with('.') {
        "starts with a dot (the draft syntax); write `*.` followed by the domain"
    } else if v.strip_prefix("*.").unwrap_or(v).contains('*') {
        "has a wildcard other than one whole left-most `*.` label"
    } else if v.contains('_') {
        "contains `_`, which a host name cannot hold"
    } else if v.chars().any(|c| c == ' ' || c == '\t') {
        "contains whitespace; write one pattern per `mx:` line"
    } else if !is_valid(v.strip_prefix("*.").unwrap_or(v).as_bytes(), Labels::Ldh) {
        "is not a valid host name (labels of 1-63 letters, digits and inner hyphens)"
    } else if v
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        "is an IP address; patterns match MX host names"
    } else {
        return None;
    };
    Some(problem)
}

/// `ext-name`: alnum, then up to 31 of alnum, `_`, `-`, `.`.
fn is_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.len() <= 32
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// `max_age` as 1-10 ASCII digits.
fn parse_max_age(v: &str) -> Result<u64, &'static str> {
    if v.is_empty() {
        return Err("is empty");
    }
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a number of seconds in ASCII digits (no sign, unit or separator)");
    }
    if v.len() > 10 {
        return Err("has more than 10 digits");
    }
    v.parse().map_err(|_| "is not a number")
}

/// Splits the body into lines at LF, CRLF, and (after reporting them, POL007)
/// bare CR and the Unicode line separators. Returns the lines and the counts of
/// LF-only and CRLF terminators.
fn split_lines<'a>(s: &'a str, sink: &mut Sink) -> (Vec<&'a str>, usize, usize) {
    let mut lines = Vec::new();
    let (mut lf, mut crlf) = (0usize, 0usize);
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\n' => {
                lf += 1;
                i + 1
            }
            '\r' if chars.peek().is_some_and(|&(_, n)| n == '\n') => {
                chars.next();
                crlf += 1;
                i + 2
            }
            '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{0B}' | '\u{0C}' => {
                let name = match c {
                    '\r' => "a bare CR",
                    '\u{2028}' => "U+2028 LINE SEPARATOR",
                    '\u{2029}' => "U+2029 PARAGRAPH SEPARATOR",
                    '\u{85}' => "U+0085 NEXT LINE",
                    _ => "a vertical tab or form feed",
                };
                sink.error(
                    "POL007",
                    format!(
                        "line {} ends in {name}; only LF and CRLF end a line",
                        lines.len() + 1
                    ),
                );
                i + c.len_utf8()
            }
            _ => continue,
        };
        lines.push(s.get(start..i).unwrap_or_default());
        start = end;
    }
    lines.push(s.get(start..).unwrap_or_default());
    (lines, lf, crlf)
}

/// Parses an MTA-STS policy body per RFC 8461 §3.2. `policy_domain` (the
/// recipient domain the policy is for), when given, enables the "wildcard over
/// the domain's own namespace" finding of POL014.
pub fn parse_policy(body: &[u8], policy_domain: Option<&str>) -> PolicyResult {
    let mut sink = Sink::default();
    let mut policy = Policy::default();
    parse_into(body, policy_domain, &mut sink, &mut policy);
    PolicyResult {
        policy,
        diagnostics: sink.into_vec(),
    }
}

fn parse_into(body: &[u8], policy_domain: Option<&str>, sink: &mut Sink, policy: &mut Policy) {
    let truncated = body.len() > MAX_POLICY_BYTES;
    let body = if truncated {
        sink.warn(
            "NET006",
            format!(
                "policy body is {} bytes, over the {MAX_POLICY_BYTES} senders may read; only those were checked",
                body.len()
            ),
        );
        &body[..MAX_POLICY_BYTES]
    } else {
        body
    };
    if let Err(e) = std::str::from_utf8(body) {
        if e.error_len().is_some() || !truncated {
            sink.error(
                "POL001",
                format!(
                    "policy body is not UTF-8 text (bad byte at offset {})",
                    e.valid_up_to()
                ),
            );
        }
    }
    let text = String::from_utf8_lossy(body);
    let rest = text.trim_start_matches(|c: char| is_invisible(c) || c == '\u{00A0}');
    if let Some(c) = text.chars().next().filter(|_| rest.len() != text.len()) {
        let what = if c == '\u{FEFF}' {
            "a UTF-8 byte-order mark (EF BB BF)".to_owned()
        } else {
            format!("the invisible character U+{:04X}", u32::from(c))
        };
        sink.error(
            "POL001",
            format!("{what} comes before the first key; senders then miss that key"),
        );
    }
    let content = rest.trim_start();
    if content.is_empty() {
        sink.error("POL001", "policy body is empty");
        return;
    }
    if content.starts_with('<') {
        sink.error(
            "POL001",
            format!(
                "policy body is HTML or XML, not a key/value policy: {}",
                quoted(content.as_bytes())
            ),
        );
        return;
    }
    if content.starts_with('{') || content.starts_with('[') {
        sink.error(
            "POL001",
            format!(
                "policy body is JSON, not a key/value policy: {}",
                quoted(content.as_bytes())
            ),
        );
        return;
    }
    if !content
        .lines()
        .any(|l| l.split_once(':').is_some_and(|(k, _)| is_key(k.trim())))
    {
        sink.error(
            "POL001",
            format!(
                "policy body has no `key: value` line: {}",
                quoted(content.as_bytes())
            ),
        );
        return;
    }

    let (mut lines, lf, crlf) = split_lines(rest, sink);
    if lf > 0 {
        let what = if crlf > 0 {
            "mixes CRLF and LF-only line endings (legal; some parsers reject it)"
        } else {
            "uses LF-only line endings (legal; CRLF matches the RFC prose)"
        };
        sink.info("POL011", format!("the policy {what}"));
    }
    // One terminator at the end is allowed: it leaves one empty last piece.
    if lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut trailing = lines.len();
    while trailing > 0 && lines[trailing - 1].trim().is_empty() {
        trailing -= 1;
    }
    if trailing < lines.len() {
        sink.warn(
            "POL009",
            format!(
                "the policy ends with {} extra blank line(s) (more than one terminator): outside the grammar, \
                 and mox rejects the policy",
                lines.len() - trailing
            ),
        );
    }

    let mut seen_mx = HashSet::new();
    let mut seen_ext = HashSet::new();
    let mut version_line = None;
    let mut mode_line = None;
    let mut max_age_line = None;
    for (index, &line) in lines.iter().enumerate().take(trailing) {
        let no = index + 1;
        if line.trim().is_empty() {
            sink.warn(
                "POL009",
                format!(
                    "line {no} is blank; blank lines are outside the grammar, and mox rejects the policy"
                ),
            );
            continue;
        }
        if let Some(c) = line.chars().find(|&c| c.is_control() && c != '\t') {
            sink.error(
                "POL007",
                format!(
                    "line {no} holds control character U+{:04X}: {}",
                    u32::from(c),
                    quoted(line.as_bytes())
                ),
            );
        }
        let trimmed = line.trim_start_matches(|c: char| c.is_whitespace() || is_invisible(c));
        if trimmed.starts_with('#') {
            sink.warn(
                "POL009",
                format!(
                    "line {no} is a comment {}; comments are outside the grammar: mox and checkdmarc reject the \
                     policy, and Stalwart reads the next key as part of the comment (a lost `mode` is `none`)",
                    quoted(line.as_bytes())
                ),
            );
            continue;
        }
        if trimmed.len() != line.len() {
            sink.error(
                "POL008",
                format!("line {no} starts with whitespace: {}", quoted(line.as_bytes())),
            );
        }
        let Some((raw_key, raw_value)) = trimmed.split_once(':') else {
            sink.error(
                "POL001",
                format!("line {no} is not `key: value`: {}", quoted(line.as_bytes())),
            );
            continue;
        };
        let key = raw_key.trim_end_matches(|c: char| c.is_whitespace() || is_invisible(c));
        if key.len() != raw_key.len() {
            sink.error(
                "POL008",
                format!("whitespace before `:` in line {no}: {}", quoted(line.as_bytes())),
            );
        }
        let mut value = raw_value.trim_matches(|c| c == ' ' || c == '\t');
        let cleaned: String;
        if value
            .chars()
            .any(|c| !c.is_ascii() && (c.is_whitespace() || is_invisible(c)))
        {
            sink.error(
                "POL008",
                format!(
                    "the value of `{key}` holds a non-ASCII space or zero-width character: {}",
                    quoted(value.as_bytes())
                ),
            );
            cleaned = value
                .chars()
                .filter(|&c| !(c.is_whitespace() && !c.is_ascii() || is_invisible(c)))
                .collect();
            value = cleaned.trim_matches(|c| c == ' ' || c == '\t');
        }
        let lower = key.to_ascii_lowercase();
        let key = if key != lower && KNOWN_KEYS.contains(&lower.as_str()) {
            sink.error(
                "POL008",
                format!("key `{key}` on line {no} must be lower case (`{lower}`)"),
            );
            lower.as_str()
        } else {
            key
        };
        match key {
            "version" => {
                if let Some(first) = version_line {
                    duplicate(sink, "version", first, no, value);
                    continue;
                }
                version_line = Some(no);
                if value != "STSv1" {
                    sink.error(
                        "POL002",
                        format!("`version` is {}, not exactly `STSv1`", quoted(value.as_bytes())),
                    );
                }
                if no != 1 {
                    sink.info("POL011", format!("`version` is on line {no}, not the first line"));
                }
                policy.version = Some(value.to_owned());
            }
            "mode" => {
                if let Some(first) = mode_line {
                    duplicate(sink, "mode", first, no, value);
                    continue;
                }
                mode_line = Some(no);
                policy.mode = Some(match value {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    other => {
                        sink.error(
                            "POL003",
                            format!(
                                "`mode` is {}, not exactly `testing`, `enforce` or `none`",
                                quoted(other.as_bytes())
                            ),
                        );
                        Mode::Other(other.to_owned())
                    }
                });
            }
            "max_age" => {
                if let Some(first) = max_age_line {
                    duplicate(sink, "max_age", first, no, value);
                    continue;
                }
                max_age_line = Some(no);
                match parse_max_age(value) {
                    Ok(age) => {
                        if age > MAX_MAX_AGE {
                            sink.error(
                                "POL004",
                                format!("`max_age` {age} exceeds the maximum {MAX_MAX_AGE}"),
                            );
                        }
                        policy.max_age = Some(age);
                    }
                    Err(why) => sink.error("POL004", format!("`max_age` {} {why}", quoted(value.as_bytes()))),
                }
            }
            "mx" => mx_line(sink, policy, &mut seen_mx, value, policy_domain),
            other => {
                if !is_key(other) {
                    sink.error(
                        "POL008",
                        format!("key {} on line {no} is not a valid key", quoted(other.as_bytes())),
                    );
                    continue;
                }
                sink.info(
                    "STS010",
                    format!("unknown key `{other}: {value}` (senders ignore it)"),
                );
                if seen_ext.insert(other.to_owned()) {
                    policy.extensions.push(Extension {
                        name: other.to_owned(),
                        value: value.to_owned(),
                    });
                }
            }
        }
    }

    if version_line.is_none() {
        sink.error("POL002", "`version` is missing (write `version: STSv1`)");
    }
    if mode_line.is_none() {
        sink.error("POL003", "`mode` is missing");
    }
    if max_age_line.is_none() {
        sink.error("POL004", "`max_age` is missing");
    }
    let mode = policy.mode.clone();
    if matches!(mode, Some(Mode::Testing | Mode::Enforce)) && policy.mx.is_empty() {
        sink.error("POL005", "`mode` is testing or enforce but there is no `mx` line");
    }
    if let Some(age) = policy.max_age.filter(|&a| a <= MAX_MAX_AGE) {
        if age < DAY {
            sink.warn(
                "POL012",
                format!("`max_age` {age} is under one day ({DAY}); the RFC expects weeks"),
            );
        } else if mode == Some(Mode::Enforce) && age < WEEK {
            sink.info(
                "POL012",
                format!("`max_age` {age} is under one week ({WEEK}) for an enforce policy"),
            );
        }
        if mode == Some(Mode::None) && age > DAY {
            sink.warn(
                "POL013",
                format!("`mode: none` with `max_age` {age}: an opt-out should expire within a day"),
            );
        }
    }
}

/// POL010: a field other than `mx` repeated; the first wins.
fn duplicate(sink: &mut Sink, key: &str, first: usize, no: usize, value: &str) {
    sink.warn(
        "POL010",
        format!(
            "`{key}` appears again on line {no} ({}); the RFC and mox use line {first}, but \
             postfix-mta-sts-resolver and Stalwart use the last, and checkdmarc rejects the policy",
            quoted(value.as_bytes())
        ),
    );
}

/// One `mx` line: POL006, POL011 (duplicate, uppercase) and POL014.
fn mx_line(
    sink: &mut Sink,
    policy: &mut Policy,
    seen: &mut HashSet<String>,
    value: &str,
    policy_domain: Option<&str>,
) {
    let problem = mx_problem(value);
    if let Some(why) = problem {
        sink.error("POL006", format!("`mx` {} {why}", quoted(value.as_bytes())));
    }
    if !seen.insert(value.to_ascii_lowercase()) {
        sink.info(
            "POL011",
            format!("`mx` {} is listed twice", quoted(value.as_bytes())),
        );
    } else if value.bytes().any(|b| b.is_ascii_uppercase()) {
        sink.info(
            "POL011",
            format!(
                "`mx` {} has uppercase letters; write it in lower case",
                quoted(value.as_bytes())
            ),
        );
    }
    let valid = problem.is_none();
    if let Some(suffix) = value.strip_prefix("*.").filter(|_| valid) {
        let suffix = suffix.to_ascii_lowercase();
        if !suffix.contains('.') || PUBLIC_SUFFIXES.contains(&suffix.as_str()) {
            sink.error(
                "POL014",
                format!("`mx` `{value}` is a wildcard over the public suffix `{suffix}`: any host under it would be accepted"),
            );
        } else if let Some(domain) = policy_domain {
            let domain = domain.strip_suffix('.').unwrap_or(domain).to_ascii_lowercase();
            if domain == suffix || domain.ends_with(&format!(".{suffix}")) {
                sink.info(
                    "POL014",
                    format!("`mx` `{value}` accepts any host under `{suffix}`, which covers the policy domain's own namespace"),
                );
            }
        }
    }
    policy.mx.push(MxPattern {
        pattern: value.to_owned(),
        valid,
    });
}
