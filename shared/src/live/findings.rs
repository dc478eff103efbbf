//! Probe results as findings of the NET family. Pure: no network, no clock.
//!
//! * NET001: the `_mta-sts` lookup failed (SERVFAIL, timeout), or a domain that
//!   publishes a policy record has no address for `mta-sts.<domain>`;
//! * NET002: the policy host is unreachable or the TLS handshake fails;
//! * NET003: the policy host's certificate is rejected;
//! * NET004: the status is not 200 (a 3xx names its `Location`: redirects are not
//!   followed);
//! * NET005: the `Content-Type` is missing or not `text/plain`;
//! * NET006: a charset other than utf-8 / us-ascii, a body over 64 KiB, a
//!   response slower than 60 s.

use std::time::Duration;

use super::{AddrAnswer, DnsError, FetchError, FetchedPolicy, TxtAnswer, MAX_POLICY_BODY};
use crate::diag::Severity;
use crate::lint::{help, inert, sort_findings, Finding};

/// A response slower than this gets NET006.
pub const SLOW_RESPONSE: Duration = Duration::from_secs(60);

fn finding(domain: &str, rule: &'static str, severity: Severity, message: String) -> Finding {
    inert(Finding {
        rule,
        severity,
        domain: super::trim_dot(domain),
        message,
        address: None,
        help: help(rule),
    })
}

/// NET001 from the `_mta-sts.<domain>` TXT lookup and the `mta-sts.<domain>`
/// address lookup. NXDOMAIN or NODATA at `_mta-sts` is not a NET finding (the
/// domain publishes no policy record; the offline rules judge that); the policy
/// host's addresses matter only when a record was found or its lookup failed.
pub fn dns_findings(
    domain: &str,
    sts: &Result<TxtAnswer, DnsError>,
    policy_host: &Result<AddrAnswer, DnsError>,
) -> Vec<Finding> {
    let d = super::trim_dot(domain);
    let mut out = Vec::new();
    let host_matters = match sts {
        Ok(_) => true,
        Err(e) if e.is_failure() => {
            out.push(finding(
                &d,
                "NET001",
                Severity::Error,
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
                other => format!("cannot be resolved: {other}"),
            };
            out.push(finding(
                &d,
                "NET001",
                Severity::Error,
                format!("the policy host mta-sts.{d} {what}"),
            ));
        }
    }
    sort_findings(&mut out);
    out
}

/// NET002-NET006 from the policy fetch.
pub fn fetch_findings(domain: &str, fetched: &Result<FetchedPolicy, FetchError>) -> Vec<Finding> {
    let d = super::trim_dot(domain);
    let mut out = Vec::new();
    let policy = match fetched {
        Ok(p) => p,
        Err(e) => {
            let rule = match e {
                FetchError::Certificate { .. } => "NET003",
                FetchError::Config(_) => return out,
                _ => "NET002",
            };
            out.push(finding(&d, rule, Severity::Error, e.to_string()));
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
        out.push(finding(&d, "NET004", Severity::Error, message));
        return out;
    }
    let (media, charset) = split_content_type(policy.content_type.as_deref());
    if media.as_deref() != Some("text/plain") {
        let message = match &policy.content_type {
            Some(ct) => format!("{} is served as `{ct}`, not text/plain", policy.url),
            None => format!("{} is served without a Content-Type", policy.url),
        };
        out.push(finding(&d, "NET005", Severity::Error, message));
    }
    if let Some(cs) = charset {
        if !matches!(cs.as_str(), "utf-8" | "utf8" | "us-ascii") {
            out.push(finding(
                &d,
                "NET006",
                Severity::Warning,
                format!(
                    "{} is served with charset={cs}, not utf-8 or us-ascii",
                    policy.url
                ),
            ));
        }
    }
    if policy.truncated {
        out.push(finding(
            &d,
            "NET006",
            Severity::Warning,
            format!(
                "{} body is over {MAX_POLICY_BODY} bytes (64 KiB); senders read no more",
                policy.url
            ),
        ));
    }
    if policy.elapsed > SLOW_RESPONSE {
        out.push(finding(
            &d,
            "NET006",
            Severity::Warning,
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

    fn ok(status: u16, ct: Option<&str>) -> Result<FetchedPolicy, FetchError> {
        Ok(FetchedPolicy {
            url: "https://mta-sts.example.com/.well-known/mta-sts.txt".into(),
            status,
            content_type: ct.map(str::to_owned),
            location: None,
            body: b"version: STSv1\n".to_vec(),
            truncated: false,
            elapsed: Duration::from_millis(5),
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
}
