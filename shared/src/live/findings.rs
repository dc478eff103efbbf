//! Probe results as findings of the NET family. Pure: no network, no clock.
//!
//! * NET001: the `_mta-sts` lookup failed (SERVFAIL, timeout) or is a dangling
//!   CNAME, or a domain that publishes a policy record has no address for
//!   `mta-sts.<domain>` (NXDOMAIN, NODATA, a dangling CNAME);
//! * NET002: the policy host is unreachable or the TLS handshake fails;
//! * NET003: the policy host's certificate is rejected;
//! * NET004: the status is not 200 (a 3xx names its `Location`: redirects are not
//!   followed);
//! * NET005: the `Content-Type` is missing or not `text/plain`;
//! * NET006: a charset other than utf-8 / us-ascii, a body over 64 KiB, a
//!   response slower than 60 s (warnings); a shared cache lifetime over
//!   [`LONG_CACHE_LIFETIME`] (info);
//! * NET007: an MX host does not offer STARTTLS (error in enforce, warning
//!   otherwise), or the upgrade fails for another reason (TLS below 1.2, an
//!   alert) or the probe fails (warning); the handshake without SNI fails, or
//!   sends a fallback certificate that is not valid while the one sent with SNI
//!   is (warning);
//! * NET008: an MX certificate is not valid for the MX host name, untrusted or
//!   expired (error in enforce, warning otherwise).

use std::time::Duration;

use super::{
    AddrAnswer, CertVerdict, DnsError, FetchError, FetchedPolicy, NoSniOutcome, SmtpError, SmtpReport,
    TxtAnswer, MAX_POLICY_BODY, TLS_BELOW_1_2,
};
use crate::diag::Severity;
use crate::lint::{sort_findings, Finding};
use crate::policy::Mode;

/// A response slower than this gets NET006.
pub const SLOW_RESPONSE: Duration = Duration::from_secs(60);

/// A policy response that shared caches (proxies, CDNs) may keep longer than
/// this many seconds (`s-maxage`, else `max-age`) gets NET006 at severity
/// info: RFC 8461 §8.2 suggests about 60 s.
pub const LONG_CACHE_LIFETIME: u64 = 3600;

/// NET001 from the `_mta-sts.<domain>` TXT lookup and the `mta-sts.<domain>`
/// address lookup. NXDOMAIN or NODATA at `_mta-sts` is not a NET finding (the
/// domain publishes no policy record; the offline rules judge that), but a
/// dangling CNAME there is; the policy host's addresses matter only when a
/// record was found, its lookup failed or a CNAME stands in its place.
pub fn dns_findings(
    domain: &str,
    sts: &Result<TxtAnswer, DnsError>,
    policy_host: &Result<AddrAnswer, DnsError>,
) -> Vec<Finding> {
    let d = crate::names::normalize(domain);
    let mut out = Vec::new();
    let host_matters = match sts {
        Ok(_) => true,
        Err(DnsError::DanglingCname { target, .. }) => {
            out.push(Finding::new(
                "NET001",
                &d,
                format!(
                    "_mta-sts.{d} is a CNAME to {target}, which does not exist or has no TXT record: \
                     senders find no MTA-STS record (a dangling CNAME, e.g. left behind by a provider \
                     change)"
                ),
            ));
            true
        }
        Err(e) if e.is_failure() => {
            out.push(Finding::new(
                "NET001",
                &d,
                format!("the _mta-sts.{d} TXT lookup failed: {e}"),
            ));
            true
        }
        Err(_) => false,
    };
    if host_matters {
        if let Err(e) = policy_host {
            let what = match e {
                DnsError::NxDomain { .. } => "does not exist (NXDOMAIN)".to_owned(),
                DnsError::NoData { .. } => "has no A or AAAA record".to_owned(),
                DnsError::DanglingCname { target, .. } => format!(
                    "is a CNAME to {target}, which does not exist or has no A or AAAA record: senders \
                     cannot fetch the policy"
                ),
                other => format!("cannot be resolved: {other}"),
            };
            out.push(Finding::new(
                "NET001",
                &d,
                format!("the policy host mta-sts.{d} {what}"),
            ));
        }
    }
    sort_findings(&mut out);
    out
}

/// NET002-NET006 from the policy fetch.
pub fn fetch_findings(domain: &str, fetched: &Result<FetchedPolicy, FetchError>) -> Vec<Finding> {
    let d = crate::names::normalize(domain);
    let mut out = Vec::new();
    let policy = match fetched {
        Ok(p) => p,
        Err(e) => {
            let rule = match e {
                FetchError::Certificate { .. } => "NET003",
                FetchError::Config(_) => return out,
                _ => "NET002",
            };
            out.push(Finding::new(rule, &d, e.to_string()).with_severity(Severity::Error));
            return out;
        }
    };
    if policy.status != 200 {
        let message = match (&policy.status, &policy.location) {
            (300..=399, Some(location)) => format!(
                "{} answered {} with Location: {location} (redirects are not followed)",
                policy.url, policy.status
            ),
            (300..=399, None) => format!(
                "{} answered {} (a redirect, not followed)",
                policy.url, policy.status
            ),
            _ => format!("{} answered {}, not 200", policy.url, policy.status),
        };
        out.push(Finding::new("NET004", &d, message));
        return out;
    }
    let (media, charset) = split_content_type(policy.content_type.as_deref());
    if media.as_deref() != Some("text/plain") {
        let message = match &policy.content_type {
            Some(ct) => format!("{} is served as `{ct}`, not text/plain", policy.url),
            None => format!("{} is served without a Content-Type", policy.url),
        };
        out.push(Finding::new("NET005", &d, message));
    }
    if let Some(cs) = charset {
        if !matches!(cs.as_str(), "utf-8" | "utf8" | "us-ascii") {
            out.push(Finding::new(
                "NET006",
                &d,
                format!(
                    "{} is served with charset={cs}, not utf-8 or us-ascii",
                    policy.url
                ),
            ));
        }
    }
    if policy.truncated {
        out.push(Finding::new(
            "NET006",
            &d,
            format!(
                "{} body is over {MAX_POLICY_BODY} bytes (64 KiB); senders read no more",
                policy.url
            ),
        ));
    }
    if let Some((directive, seconds)) = policy.cache_control.as_deref().and_then(shared_cache_lifetime) {
        if seconds > LONG_CACHE_LIFETIME {
            out.push(
                Finding::new(
                    "NET006",
                    &d,
                    format!(
                        "{} is served with Cache-Control {directive}={seconds}: shared caches and CDNs may \
                     serve the old policy for up to {seconds} s after a change; senders then cache the old \
                     body under the new id (about 60 s is advised)",
                        policy.url
                    ),
                )
                .with_severity(Severity::Info),
            );
        }
    }
    if policy.elapsed > SLOW_RESPONSE {
        out.push(Finding::new(
            "NET006",
            &d,
            format!(
                "{} took {} s to answer; senders may give up after 60 s",
                policy.url,
                policy.elapsed.as_secs()
            ),
        ));
    }
    sort_findings(&mut out);
    out
}

/// NET007 and NET008 from the probe of MX host `mx` of `domain`. `mode` is the
/// policy's mode: a failure that makes senders refuse the MX is an error in
/// `enforce` and a warning otherwise (testing, none, no policy). A probe that
/// could not run (unreachable, timeout, broken dialogue) is a NET007 warning:
/// port 25 is often blocked where the check runs.
pub fn smtp_findings(
    domain: &str,
    mx: &str,
    mode: Option<&Mode>,
    result: &Result<SmtpReport, SmtpError>,
) -> Vec<Finding> {
    let d = crate::names::normalize(domain);
    let mx = crate::names::normalize(mx);
    let strict = if mode == Some(&Mode::Enforce) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut out = Vec::new();
    let report = match result {
        Ok(r) => r,
        Err(SmtpError::Config(_)) => return out,
        Err(e) => {
            out.push(
                Finding::new("NET007", &d, format!("MX {mx} could not be probed: {e}"))
                    .with_severity(Severity::Warning),
            );
            return out;
        }
    };
    if !report.starttls_offered {
        out.push(
            Finding::new(
                "NET007",
                &d,
                format!("MX {mx} does not offer STARTTLS in its EHLO reply"),
            )
            .with_severity(strict),
        );
    } else if let Some(e) = &report.tls_error {
        let (severity, message) = if e.starts_with("STARTTLS answered") {
            (strict, format!("MX {mx}: {e} (TLS 1.2 or later is required)"))
        } else if e == TLS_BELOW_1_2 {
            (
                Severity::Warning,
                format!(
                    "MX {mx} offers only TLS below 1.2 (no common TLS version): senders require TLS 1.2 \
                     or later and cannot start TLS with it"
                ),
            )
        } else {
            (
                Severity::Warning,
                format!("MX {mx}: {e} (TLS 1.2 or later is required)"),
            )
        };
        out.push(Finding::new("NET007", &d, message).with_severity(severity));
    }
    match &report.without_sni {
        Some(NoSniOutcome::Refused(why)) => out.push(
            Finding::new(
                "NET007",
                &d,
                format!(
                "MX {mx} requires SNI: a sender that does not send SNI cannot start TLS with it ({why}); \
                 servers must not require SNI and should send a fallback certificate"
            ),
            )
            .with_severity(Severity::Warning),
        ),
        Some(NoSniOutcome::Accepted { certificate })
            if report.certificate == Some(CertVerdict::Valid) && certificate != &CertVerdict::Valid =>
        {
            let what = cert_problem(&mx, certificate).unwrap_or_default();
            out.push(
                Finding::new(
                    "NET007",
                    &d,
                    format!(
                    "MX {mx} sends a fallback certificate without SNI that {what}: a sender that does not \
                     send SNI rejects it (the certificate sent with SNI is valid)"
                ),
                )
                .with_severity(Severity::Warning),
            );
        }
        _ => {}
    }
    if let Some(what) = report.certificate.as_ref().and_then(|c| cert_problem(&mx, c)) {
        out.push(
            Finding::new("NET008", &d, format!("the certificate of MX {mx} {what}")).with_severity(strict),
        );
    }
    sort_findings(&mut out);
    out
}

/// What is wrong with a certificate judged for MX host `mx`, `None` when it is
/// valid.
fn cert_problem(mx: &str, verdict: &CertVerdict) -> Option<String> {
    match verdict {
        CertVerdict::Valid => None,
        CertVerdict::NameMismatch => Some(format!("is not valid for {mx} (no matching SAN DNS name)")),
        CertVerdict::Untrusted => {
            Some("does not chain to a trusted root (self-signed or unknown issuer)".to_owned())
        }
        CertVerdict::Expired => Some("has expired".to_owned()),
        CertVerdict::Other(why) => Some(format!("is rejected: {why}")),
    }
}

/// How long shared caches may keep a response with this `Cache-Control`
/// (RFC 9111 §5.2.2): `s-maxage`, else `max-age`, with the directive's name;
/// `None` when they must not keep it at all (`no-store`, `no-cache`,
/// `private`) or no lifetime is given. Directive names are case-insensitive,
/// values may be quoted; a value that is not a number is ignored, and of a
/// directive given twice the first counts. A number too large for the cache is
/// taken as 2^31 (RFC 9111 §1.2.2).
fn shared_cache_lifetime(cache_control: &str) -> Option<(&'static str, u64)> {
    let mut s_maxage = None;
    let mut max_age = None;
    for (name, value) in cache_directives(cache_control) {
        match (name.as_str(), value) {
            // With a field list, these only concern those header fields.
            ("no-store", _) | ("no-cache" | "private", None) => return None,
            ("s-maxage", value) => {
                s_maxage.get_or_insert(value.as_deref().and_then(delta_seconds));
            }
            ("max-age", value) => {
                max_age.get_or_insert(value.as_deref().and_then(delta_seconds));
            }
            _ => {}
        }
    }
    match (s_maxage.flatten(), max_age.flatten()) {
        (Some(seconds), _) => Some(("s-maxage", seconds)),
        (None, Some(seconds)) => Some(("max-age", seconds)),
        (None, None) => None,
    }
}

/// The directives of a `Cache-Control` value: each name lower-case, each
/// value unquoted. Commas inside quoted strings do not split; a directive
/// whose name is not a token is dropped.
fn cache_directives(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        // The name, up to `=`, `,` or the end.
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        let mut value = None;
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            let mut v = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => v.extend(chars.next()),
                        other => v.push(other),
                    }
                }
                // Anything between the closing quote and the comma is junk.
                while chars.peek().is_some_and(|c| *c != ',') {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    v.push(c);
                    chars.next();
                }
                v = v.trim().to_owned();
            }
            value = Some(v);
        }
        let name = name.trim();
        if !name.is_empty() && name.bytes().all(is_tchar) {
            out.push((name.to_ascii_lowercase(), value));
        }
        if chars.next().is_none() {
            return out;
        }
    }
}

/// A token character (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Seconds (RFC 9111 §1.2.2): one or more digits, capped at 2^31.
fn delta_seconds(text: &str) -> Option<u64> {
    const CAP: u64 = 1 << 31;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().map_or(CAP, |n| n.min(CAP)))
}

/// The media type (lower-case, without parameters) and the charset parameter
/// (lower-case, unquoted) of a Content-Type.
fn split_content_type(ct: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(ct) = ct else {
        return (None, None);
    };
    let mut parts = ct.split(';');
    let media = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    });
    (media, charset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parts() {
        assert_eq!(
            split_content_type(Some("Text/Plain; Charset=\"UTF-16\"")),
            (Some("text/plain".into()), Some("utf-16".into()))
        );
        assert_eq!(
            split_content_type(Some("text/plain")),
            (Some("text/plain".into()), None)
        );
        assert_eq!(split_content_type(None), (None, None));
    }

    #[test]
    fn shared_cache_lifetime_parses_robustly() {
        let l = shared_cache_lifetime;
        assert_eq!(l("max-age=86400"), Some(("max-age", 86400)));
        assert_eq!(l("public, MAX-AGE=\"600\""), Some(("max-age", 600)));
        assert_eq!(l("Max-Age = 60"), Some(("max-age", 60)));
        // s-maxage wins for shared caches, in either order.
        assert_eq!(l("s-maxage=7200, max-age=60"), Some(("s-maxage", 7200)));
        assert_eq!(l("max-age=60, S-MaxAge=30"), Some(("s-maxage", 30)));
        // The first of two counts.
        assert_eq!(l("max-age=10, max-age=99999"), Some(("max-age", 10)));
        // Shared caches must not keep it.
        assert_eq!(l("max-age=86400, no-store"), None);
        assert_eq!(l("No-Cache, max-age=86400"), None);
        assert_eq!(l("private, max-age=86400"), None);
        // With a field list, private and no-cache concern those fields only;
        // the comma inside the quotes does not split.
        assert_eq!(
            l("private=\"set-cookie, x-a\", max-age=86400"),
            Some(("max-age", 86400))
        );
        assert_eq!(l("no-cache=\"x\", max-age=5000"), Some(("max-age", 5000)));
        // Huge numbers are capped; garbage is ignored.
        assert_eq!(
            l("max-age=99999999999999999999999"),
            Some(("max-age", 2_147_483_648))
        );
        assert_eq!(l("max-age=-1"), None);
        assert_eq!(l("max-age=1e9"), None);
        assert_eq!(l("max-age="), None);
        assert_eq!(l("max-age"), None);
        assert_eq!(l("s-maxage=soon, max-age=7200"), Some(("max-age", 7200)));
        assert_eq!(l("max age=86400"), None);
        assert_eq!(l(""), None);
        assert_eq!(l(",,, ,"), None);
        assert_eq!(l("max-age=\"86400"), Some(("max-age", 86400)));
        assert_eq!(l("\u{e9}\u{0}=\"\\"), None);
    }

    #[test]
    fn long_shared_cache_lifetime_is_net006_info() {
        let with = |cc: &str| {
            let mut p = ok(200, Some("text/plain")).ok();
            if let Some(p) = p.as_mut() {
                p.cache_control = Some(cc.to_owned());
            }
            fetch_findings("example.com", &p.ok_or(FetchError::Config(String::new())))
        };
        let f = with("public, max-age=86400");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].rule, f[0].severity), ("NET006", Severity::Info));
        assert!(f[0].message.contains("up to 86400 s"), "{}", f[0].message);
        let f = with("s-maxage=7200, max-age=60");
        assert!(f[0].message.contains("s-maxage=7200"), "{}", f[0].message);
        assert!(with(&format!("max-age={LONG_CACHE_LIFETIME}")).is_empty());
        assert!(with("max-age=60").is_empty());
        assert!(with("no-store, max-age=86400").is_empty());
        assert!(with("s-maxage=60, max-age=86400").is_empty());
        assert!(with("max-age=forever").is_empty());
    }

    fn ok(status: u16, ct: Option<&str>) -> Result<FetchedPolicy, FetchError> {
        Ok(FetchedPolicy {
            url: "https://mta-sts.example.com/.well-known/mta-sts.txt".into(),
            status,
            content_type: ct.map(str::to_owned),
            location: None,
            cache_control: None,
            body: b"version: STSv1\n".to_vec(),
            truncated: false,
            elapsed: Duration::from_millis(5),
            tls_version: None,
            certificate: None,
        })
    }

    #[test]
    fn good_policy_has_no_findings_and_odd_charset_warns() {
        assert!(fetch_findings("example.com", &ok(200, Some("text/plain; charset=utf-8"))).is_empty());
        let f = fetch_findings("example.com", &ok(200, Some("text/plain; charset=utf-16")));
        assert_eq!((f[0].rule, f[0].severity), ("NET006", Severity::Warning));
        let f = fetch_findings("example.com", &ok(200, None));
        assert_eq!(f[0].rule, "NET005");
    }

    fn report(starttls: bool, cert: Option<CertVerdict>) -> Result<SmtpReport, SmtpError> {
        Ok(smtp_report(starttls, cert))
    }

    fn smtp_report(starttls: bool, cert: Option<CertVerdict>) -> SmtpReport {
        SmtpReport {
            banner: "mx1.example.com ESMTP".into(),
            starttls_offered: starttls,
            tls_version: cert.is_some().then(|| "TLS 1.3".to_owned()),
            // The same certificate with and without SNI.
            without_sni: cert
                .clone()
                .map(|certificate| NoSniOutcome::Accepted { certificate }),
            certificate: cert,
            tls_error: None,
            certificate_facts: None,
            chain: Vec::new(),
            elapsed: Duration::from_millis(5),
        }
    }

    fn rules(f: &[Finding]) -> Vec<(&'static str, Severity)> {
        f.iter().map(|f| (f.rule, f.severity)).collect()
    }

    #[test]
    fn sni_required_or_a_bad_fallback_certificate_is_a_net007_warning() {
        let enforce = Some(&Mode::Enforce);
        let mut r = smtp_report(true, Some(CertVerdict::Valid));
        r.without_sni = Some(NoSniOutcome::Refused("TLS handshake failed: alert".into()));
        let f = smtp_findings("example.com", "mx1.example.com", enforce, &Ok(r.clone()));
        assert_eq!(rules(&f), [("NET007", Severity::Warning)]);
        assert!(
            f[0].message.starts_with("MX mx1.example.com requires SNI"),
            "{}",
            f[0].message
        );

        r.without_sni = Some(NoSniOutcome::Accepted {
            certificate: CertVerdict::NameMismatch,
        });
        let f = smtp_findings("example.com", "mx1.example.com", enforce, &Ok(r.clone()));
        assert_eq!(rules(&f), [("NET007", Severity::Warning)]);
        assert!(f[0].message.contains("fallback certificate"), "{}", f[0].message);
        assert!(
            f[0].message.contains("not valid for mx1.example.com"),
            "{}",
            f[0].message
        );

        // Not tried: nothing to say.
        r.without_sni = None;
        assert!(smtp_findings("example.com", "mx1.example.com", enforce, &Ok(r.clone())).is_empty());

        // The certificate sent with SNI is already bad: NET008 says so, and the
        // same bad one without SNI adds nothing.
        let mut r = smtp_report(true, Some(CertVerdict::Untrusted));
        r.without_sni = Some(NoSniOutcome::Accepted {
            certificate: CertVerdict::NameMismatch,
        });
        let f = smtp_findings("example.com", "mx1.example.com", enforce, &Ok(r));
        assert_eq!(rules(&f), [("NET008", Severity::Error)]);
    }

    #[test]
    fn tls_below_1_2_is_named() {
        let mut r = smtp_report(true, None);
        r.tls_error = Some(TLS_BELOW_1_2.to_owned());
        let f = smtp_findings("example.com", "mx1.example.com", Some(&Mode::Enforce), &Ok(r));
        assert_eq!(rules(&f), [("NET007", Severity::Warning)]);
        assert!(f[0].message.contains("only TLS below 1.2"), "{}", f[0].message);
    }

    #[test]
    fn smtp_severities_follow_the_mode() {
        let enforce = Some(&Mode::Enforce);
        let testing = Some(&Mode::Testing);
        let good = report(true, Some(CertVerdict::Valid));
        assert!(smtp_findings("example.com", "mx1.example.com", enforce, &good).is_empty());
        let f = smtp_findings("example.com", "mx1.example.com", enforce, &report(false, None));
        assert_eq!((f[0].rule, f[0].severity), ("NET007", Severity::Error));
        let f = smtp_findings("example.com", "mx1.example.com", testing, &report(false, None));
        assert_eq!((f[0].rule, f[0].severity), ("NET007", Severity::Warning));
        let bad = report(true, Some(CertVerdict::Expired));
        let f = smtp_findings("example.com", "mx1.example.com", enforce, &bad);
        assert_eq!((f[0].rule, f[0].severity), ("NET008", Severity::Error));
        let f = smtp_findings("example.com", "mx1.example.com", None, &bad);
        assert_eq!((f[0].rule, f[0].severity), ("NET008", Severity::Warning));
        let timeout = Err(SmtpError::Timeout {
            host: "mx1.example.com".into(),
            seconds: 1,
        });
        let f = smtp_findings("example.com", "mx1.example.com", enforce, &timeout);
        assert_eq!((f[0].rule, f[0].severity), ("NET007", Severity::Warning));
    }

    #[test]
    fn nxdomain_at_mta_sts_is_not_net001() {
        let sts = Err(DnsError::NxDomain {
            name: "_mta-sts.example.com".into(),
        });
        let host = Err(DnsError::NxDomain {
            name: "mta-sts.example.com".into(),
        });
        assert!(dns_findings("example.com", &sts, &host).is_empty());
        let sts = Err(DnsError::ServFail {
            name: "_mta-sts.example.com".into(),
            rcode: "SERVFAIL".into(),
        });
        let f = dns_findings("example.com", &sts, &Ok(AddrAnswer::default()));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "NET001");
    }

    #[test]
    fn dangling_cnames_are_net001_errors() {
        let sts = Err(DnsError::DanglingCname {
            name: "_mta-sts.example.com".into(),
            target: "_mta-sts.old-provider.example".into(),
        });
        let host = Err(DnsError::DanglingCname {
            name: "mta-sts.example.com".into(),
            target: "mta-sts.old-provider.example".into(),
        });
        let f = dns_findings("example.com", &sts, &host);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f
            .iter()
            .all(|f| (f.rule, f.severity) == ("NET001", Severity::Error)));
        let messages: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.starts_with(
                "_mta-sts.example.com is a CNAME to _mta-sts.old-provider.example, which does not exist"
            )),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.starts_with(
                "the policy host mta-sts.example.com is a CNAME to mta-sts.old-provider.example"
            )),
            "{messages:?}"
        );
        // A record that resolves, a policy host that dangles.
        let ok = Ok(TxtAnswer::default());
        let f = dns_findings("example.com", &ok, &host);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("no A or AAAA"), "{}", f[0].message);
        // Not a failure: a sender sees no record.
        assert!(matches!(&sts, Err(e) if !e.is_failure()));
    }
}
