//! Judging what [`gather`](super::gather) learnt about a domain. Pure: no
//! network, no clock.
//!
//! * [`net_findings`]: the NET rules (DNS, the policy over HTTPS, the MX hosts'
//!   STARTTLS, the report destinations);
//! * [`check_findings`]: those plus every offline rule on what is served
//!   (`stsguard check`);
//! * [`describe`]: what was served, one line per part, for a person to read.

use super::cert::{day, expires_soon};
use super::findings::{dns_findings, fetch_findings, smtp_findings};
use super::gather::{LiveDomain, RuaCheck, RuaOutcome};
use super::{DnsError, FetchError, TxtAnswer};
use crate::diag::Severity;
use crate::lint::{lint_domain, sort_findings, DomainInput, Finding, MxSet};
use crate::policy::{parse_policy, Mode};

/// The policy's mode, when a policy was served.
pub fn live_mode(live: &LiveDomain) -> Option<Mode> {
    let body = live.policy_body()?;
    parse_policy(body, Some(&live.domain)).policy.mode
}

/// The NET findings of one domain: NET001 from DNS, NET002-NET006 from the
/// policy fetch, NET007 and NET008 from the MX probes, NET009 from the report
/// destinations.
///
/// The policy fetch is judged only when the domain publishes an `_mta-sts`
/// record (or its lookup failed): without one, senders never fetch, and a
/// host that answers for every name (wildcard DNS, a catch-all web server) is
/// no finding. A policy served without a record is STS001, from the offline
/// rules.
pub fn net_findings(live: &LiveDomain) -> Vec<Finding> {
    net_findings_in_mode(live, live_mode(live).as_ref())
}

/// [`net_findings`] with the MX findings' severity taken from `mode` (the
/// policy that will be in force: `lint --live` passes the planned one).
pub fn net_findings_in_mode(live: &LiveDomain, mode: Option<&Mode>) -> Vec<Finding> {
    let d = &live.domain;
    let mut out = dns_findings(d, &live.sts, &live.policy_host);
    let record = match &live.sts {
        Ok(a) => !a.records.is_empty(),
        Err(e) => e.is_failure(),
    };
    if let (Some(fetched), true) = (&live.policy, record) {
        out.extend(fetch_findings(d, fetched));
    }
    for p in live.mx_probes.iter().flatten() {
        out.extend(smtp_findings(d, &p.host, mode, &p.result));
    }
    out.extend(expiry_findings(live));
    out.extend(rua_findings(d, &live.rua));
    sort_findings(&mut out);
    out
}

/// NET003 and NET008 warnings for certificates that are valid today but end
/// within [`EXPIRY_WARNING`](super::cert::EXPIRY_WARNING) (a failed renewal is
/// the usual way an MTA-STS deployment breaks).
pub fn expiry_findings(live: &LiveDomain) -> Vec<Finding> {
    let d = &live.domain;
    let mut out = Vec::new();
    let soon = |f: &super::CertFacts| expires_soon(f, live.checked_at).map(|n| (n, day(f.not_after)));
    if let Some(Ok(p)) = &live.policy {
        if let Some((n, end)) = p.certificate.as_ref().and_then(soon) {
            out.push(Finding::new("NET003", d, format!("the certificate of mta-sts.{d} expires in {n} day(s), on {end}: renew it before senders refuse the policy host")).with_severity(Severity::Warning));
        }
    }
    for p in live.mx_probes.iter().flatten() {
        if let Ok(r) = &p.result {
            if let Some((n, end)) = r.certificate_facts.as_ref().and_then(soon) {
                out.push(Finding::new("NET008", d, format!("the certificate of MX {} expires in {n} day(s), on {end}: renew it before senders refuse the MX", p.host)).with_severity(Severity::Warning));
            }
        }
    }
    out
}

/// The TXT records as the offline rules take them: `Some(empty)` when DNS says
/// there are none, `None` when the lookup failed.
fn records(answer: &Result<TxtAnswer, DnsError>) -> Option<Vec<Vec<Vec<u8>>>> {
    match answer {
        Ok(a) => Some(a.records.clone()),
        Err(e) if e.is_failure() => None,
        Err(_) => Some(Vec::new()),
    }
}

/// The MX set as the offline rules take it.
pub fn live_mx(live: &LiveDomain) -> MxSet {
    match &live.mx {
        Ok(answer) => answer.to_mx_set(),
        Err(DnsError::NoData { .. } | DnsError::DanglingCname { .. }) => MxSet::NoMx,
        Err(_) => MxSet::Unknown,
    }
}

/// Every finding for `stsguard check`: the NET rules, the offline rules on the
/// records, policy and MX set served, and STS009 for an `_mta-sts` TTL above an
/// hour (a resolver's cache only lowers a TTL, so a high one is certain; a low
/// one is not judged).
pub fn check_findings(live: &LiveDomain) -> Vec<Finding> {
    let d = &live.domain;
    let mut out = net_findings(live);
    let truncated = matches!(&live.policy, Some(Ok(p)) if p.status == 200 && p.truncated);
    let body = match &live.policy {
        Some(Ok(p)) if p.status == 200 => Some(p.body.clone()),
        _ => None,
    };
    let lint = lint_domain(&DomainInput {
        domain: d.clone(),
        sts_records: records(&live.sts),
        tlsrpt_records: records(&live.tlsrpt),
        policy: body,
        mx: live_mx(live),
    });
    // An oversize body is already reported by the fetch (the parser only saw
    // the first 64 KiB + 1 bytes of it).
    out.extend(lint.into_iter().filter(|f| !(truncated && f.rule == "NET006")));
    if let Ok(a) = &live.sts {
        if let Some(ttl) = a.ttl.filter(|t| *t > 3600 && !a.records.is_empty()) {
            if let Some((severity, message)) = crate::lint::sts_ttl_advice(d, u64::from(ttl)) {
                out.push(Finding::new("STS009", d, message).with_severity(severity));
            }
        }
    }
    sort_findings(&mut out);
    out
}

/// NET009: report destinations that cannot receive reports. A `mailto:`
/// domain needs MX records, or, without any, an address (the implicit MX), and
/// no null MX. An `https:` endpoint must answer an empty POST with a 2xx, or
/// with a 4xx that judges the body (400, 411, 413, 415, 422): 404, 405, other
/// 4xx, 3xx (not followed) and 5xx, or no answer, fire.
pub fn rua_findings(domain: &str, checks: &[RuaCheck]) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in checks {
        let why = match &c.outcome {
            RuaOutcome::Unchecked => None,
            RuaOutcome::Mailto { domain: md, mx, implicit } => match (mx, implicit) {
                (Ok(a), _) if a.is_null() => Some(format!("{md} has a null MX: it accepts no mail")),
                (Ok(_), _) => None,
                (Err(DnsError::NxDomain { .. }), _) => Some(format!("{md} does not exist (NXDOMAIN)")),
                (Err(DnsError::NoData { .. }), Some(Ok(a))) if !a.addresses.is_empty() => None,
                (Err(DnsError::NoData { .. }), _) => Some(format!("{md} has no MX record and no address")),
                (Err(e), _) => Some(format!("the MX lookup of {md} failed: {e}")),
            },
            RuaOutcome::Https(Ok(status)) => match status {
                200..=299 | 400 | 411 | 413 | 415 | 422 => None,
                300..=399 => Some(format!(
                    "answers a POST with {status}, a redirect, which reporters do not follow"
                )),
                _ => Some(format!("answers a POST with {status}: reports would be refused")),
            },
            RuaOutcome::Https(Err(FetchError::Certificate { message, .. })) => Some(format!(
                "presents a certificate that is rejected ({message}); reporters may ignore certificate errors, \
                 but many do not"
            )),
            RuaOutcome::Https(Err(e)) => Some(format!("cannot be reached: {e}")),
        };
        if let Some(why) = why {
            out.push(Finding::new(
                "NET009",
                domain,
                format!("report destination {}: {why}", c.uri),
            ));
        }
    }
    out
}

/// Bytes from outside as one line: invalid UTF-8 replaced, control characters
/// escaped, at most 200 characters.
fn shown(bytes: &[u8]) -> String {
    crate::text::escaped_bytes(bytes, 200)
}

fn dnssec(authenticated: bool) -> &'static str {
    if authenticated {
        "DNSSEC-validated"
    } else {
        "not DNSSEC-validated"
    }
}

fn txt_line(answer: &Result<TxtAnswer, DnsError>) -> String {
    match answer {
        Ok(a) => {
            let texts: Vec<String> = a.records.iter().map(|r| shown(&r.concat())).collect();
            let mut line = texts.join(" | ");
            if line.is_empty() {
                line = "(no records)".into();
            }
            if !a.cname_chain.is_empty() {
                line.push_str(&format!(
                    " (via CNAME {})",
                    shown(a.cname_chain.join(" -> ").as_bytes())
                ));
            }
            let ttl = a.ttl.map_or(String::new(), |t| format!("TTL {t} s, "));
            format!("{line}  [{ttl}{}]", dnssec(a.authenticated))
        }
        Err(e) => shown(e.to_string().as_bytes()),
    }
}

/// What was served, as `(label, text)` lines for a person: the records with
/// their TTL (as the resolver gave it: at most the configured one) and DNSSEC
/// state, the MX set, the policy host and the policy, each MX host's STARTTLS
/// and the report destinations. Outside text is made inert.
pub fn describe(live: &LiveDomain) -> Vec<(String, String)> {
    let d = &live.domain;
    let mut out = vec![
        (format!("_mta-sts.{d} TXT"), txt_line(&live.sts)),
        (format!("_smtp._tls.{d} TXT"), txt_line(&live.tlsrpt)),
    ];
    let mx = match &live.mx {
        Ok(a) if a.is_null() => "null MX (accepts no mail)".to_owned(),
        Ok(a) => {
            let hosts: Vec<String> = a
                .records
                .iter()
                .map(|r| format!("{} {}", r.preference, shown(r.exchange.as_bytes())))
                .collect();
            let ttl = a.ttl.map_or(String::new(), |t| format!("TTL {t} s, "));
            format!("{}  [{ttl}{}]", hosts.join(", "), dnssec(a.authenticated))
        }
        Err(e) => shown(e.to_string().as_bytes()),
    };
    out.push((format!("{d} MX"), mx));
    let host = match &live.policy_host {
        Ok(a) => {
            let ips: Vec<String> = a.addresses.iter().map(ToString::to_string).collect();
            let via = if a.cname_chain.is_empty() {
                String::new()
            } else {
                format!(" (via CNAME {})", shown(a.cname_chain.join(" -> ").as_bytes()))
            };
            format!("{}{via}", ips.join(", "))
        }
        Err(e) => shown(e.to_string().as_bytes()),
    };
    out.push((format!("mta-sts.{d}"), host));
    let policy = match &live.policy {
        None => "not fetched (the policy host does not resolve)".to_owned(),
        Some(Err(e)) => shown(e.to_string().as_bytes()),
        Some(Ok(p)) => {
            let ct = p
                .content_type
                .as_deref()
                .map_or("no Content-Type".to_owned(), |c| shown(c.as_bytes()));
            let size = if p.truncated {
                format!("over {} bytes", super::MAX_POLICY_BODY)
            } else {
                format!("{} bytes", p.body.len())
            };
            let mut line = format!("{} {ct}, {size}, {} ms", p.status, p.elapsed.as_millis());
            if let Some(v) = &p.tls_version {
                line.push_str(&format!(", {v}"));
            }
            if let Some(c) = &p.certificate {
                line.push_str(&format!(", {}", cert_line(c)));
            }
            if let Some(body) = live.policy_body() {
                let parsed = parse_policy(body, Some(d)).policy;
                let mode = match &parsed.mode {
                    Some(Mode::Enforce) => "enforce".to_owned(),
                    Some(Mode::Testing) => "testing".to_owned(),
                    Some(Mode::None) => "none".to_owned(),
                    Some(Mode::Other(m)) => shown(m.as_bytes()),
                    None => "(none given)".to_owned(),
                };
                let max_age = parsed
                    .max_age
                    .map_or("(none given)".to_owned(), |m| m.to_string());
                let mx: Vec<String> = parsed.mx.iter().map(|m| shown(m.pattern.as_bytes())).collect();
                line.push_str(&format!("; mode {mode}, max_age {max_age}, mx {}", mx.join(", ")));
            } else if let Some(location) = &p.location {
                line.push_str(&format!("; Location: {}", shown(location.as_bytes())));
            }
            line
        }
    };
    out.push((super::policy_url(d), policy));
    match &live.mx_probes {
        None => out.push(("MX hosts".into(), "not probed (--no-smtp)".into())),
        Some(probes) => {
            for p in probes {
                let text = match &p.result {
                    Ok(r) => {
                        let mut parts = Vec::new();
                        parts.push(
                            if r.starttls_offered {
                                "STARTTLS"
                            } else {
                                "no STARTTLS"
                            }
                            .to_owned(),
                        );
                        if let Some(v) = &r.tls_version {
                            parts.push(v.clone());
                        }
                        if let Some(c) = &r.certificate {
                            let facts = r
                                .certificate_facts
                                .as_ref()
                                .map_or(String::new(), |f| format!(" ({})", cert_line(f)));
                            parts.push(format!("certificate {}{facts}", cert_word(c)));
                        }
                        if let Some(e) = &r.tls_error {
                            parts.push(shown(e.as_bytes()));
                        }
                        match &r.without_sni {
                            Some(super::NoSniOutcome::Accepted { certificate }) => {
                                parts.push(format!("without SNI: certificate {}", cert_word(certificate)));
                            }
                            Some(super::NoSniOutcome::Refused(why)) => {
                                parts.push(format!("without SNI: refused ({})", shown(why.as_bytes())));
                            }
                            None => {}
                        }
                        parts.push(format!("{} ms", r.elapsed.as_millis()));
                        parts.join(", ")
                    }
                    Err(e) => shown(e.to_string().as_bytes()),
                };
                out.push((format!("MX {}", shown(p.host.as_bytes())), text));
            }
        }
    }
    for c in &live.rua {
        let text = match &c.outcome {
            RuaOutcome::Unchecked => "not checked".to_owned(),
            RuaOutcome::Mailto { domain, mx, .. } => match mx {
                Ok(a) if a.is_null() => format!("{domain}: null MX"),
                Ok(a) => format!("{domain}: {} MX record(s)", a.records.len()),
                Err(e) => shown(e.to_string().as_bytes()),
            },
            RuaOutcome::Https(Ok(status)) => format!("POST answered {status}"),
            RuaOutcome::Https(Err(e)) => shown(e.to_string().as_bytes()),
        };
        out.push((format!("report to {}", shown(c.uri.as_bytes())), text));
    }
    out
}

/// `certificate for NAMES from ISSUER until DAY`, made inert.
fn cert_line(c: &super::CertFacts) -> String {
    let names = if c.dns_names.is_empty() {
        c.subject.clone().unwrap_or_else(|| "(no name)".into())
    } else {
        c.dns_names.join(" ")
    };
    let issuer = c
        .issuer
        .as_deref()
        .map_or(String::new(), |i| format!(" from {i}"));
    shown(format!("certificate for {names}{issuer} until {}", day(c.not_after)).as_bytes())
}

fn cert_word(c: &super::CertVerdict) -> String {
    match c {
        super::CertVerdict::Valid => "valid".into(),
        super::CertVerdict::NameMismatch => "not valid for the name".into(),
        super::CertVerdict::Untrusted => "untrusted".into(),
        super::CertVerdict::Expired => "expired".into(),
        super::CertVerdict::Other(why) => format!("rejected ({})", shown(why.as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{AddrAnswer, MxAnswer, MxRecord};

    fn mailto(mx: Result<MxAnswer, DnsError>, implicit: Option<Result<AddrAnswer, DnsError>>) -> RuaCheck {
        RuaCheck {
            uri: "mailto:tls@reports.example".into(),
            outcome: RuaOutcome::Mailto {
                domain: "reports.example".into(),
                mx,
                implicit,
            },
        }
    }

    fn mx(hosts: &[&str]) -> MxAnswer {
        MxAnswer {
            records: hosts
                .iter()
                .map(|h| MxRecord {
                    preference: 10,
                    exchange: (*h).to_owned(),
                })
                .collect(),
            ..MxAnswer::default()
        }
    }

    fn rules(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn rua_mailto_fires_only_when_no_mail_can_arrive() {
        let fire = |c: RuaCheck| rules(&rua_findings("example.com", &[c])) == ["NET009"];
        assert!(!fire(mailto(Ok(mx(&["mx.reports.example"])), None)));
        assert!(fire(mailto(Ok(mx(&[""])), None)), "null MX");
        let nx = || {
            Err(DnsError::NxDomain {
                name: "reports.example".into(),
            })
        };
        assert!(fire(mailto(nx(), None)));
        let nodata = || {
            Err(DnsError::NoData {
                name: "reports.example".into(),
                rtype: "MX",
            })
        };
        let addr = AddrAnswer {
            addresses: vec![std::net::Ipv4Addr::new(192, 0, 2, 7).into()],
            ..AddrAnswer::default()
        };
        assert!(!fire(mailto(nodata(), Some(Ok(addr)))), "implicit MX");
        assert!(fire(mailto(
            nodata(),
            Some(Err(DnsError::NoData {
                name: "reports.example".into(),
                rtype: "A/AAAA",
            }))
        )));
    }

    #[test]
    fn rua_https_statuses() {
        let check = |r: Result<u16, FetchError>| {
            rules(&rua_findings(
                "example.com",
                &[RuaCheck {
                    uri: "https://r.example/tlsrpt".into(),
                    outcome: RuaOutcome::Https(r),
                }],
            ))
            .len()
        };
        for ok in [200, 201, 204, 400, 415, 422] {
            assert_eq!(check(Ok(ok)), 0, "{ok}");
        }
        for bad in [301, 401, 403, 404, 405, 500, 503] {
            assert_eq!(check(Ok(bad)), 1, "{bad}");
        }
        assert_eq!(
            check(Err(FetchError::Connect {
                url: "https://r.example/tlsrpt".into(),
                message: "refused".into()
            })),
            1
        );
        let unchecked = RuaCheck {
            uri: "ftp://x".into(),
            outcome: RuaOutcome::Unchecked,
        };
        assert!(rua_findings("example.com", &[unchecked]).is_empty());
    }

    fn domain(sts: Result<TxtAnswer, DnsError>, status: u16) -> LiveDomain {
        LiveDomain {
            domain: "example.com".into(),
            sts,
            tlsrpt: Err(DnsError::NxDomain {
                name: "_smtp._tls.example.com".into(),
            }),
            mx: Ok(mx(&["mx1.example.com"])),
            policy_host: Ok(AddrAnswer::default()),
            policy: Some(Ok(crate::live::FetchedPolicy {
                url: crate::live::policy_url("example.com"),
                status,
                content_type: Some("text/html".into()),
                location: None,
                cache_control: None,
                body: b"<html>not found</html>".to_vec(),
                truncated: false,
                elapsed: std::time::Duration::from_millis(3),
                tls_version: Some("TLS 1.3".into()),
                certificate: None,
            })),
            mx_probes: None,
            rua: Vec::new(),
            checked_at: 1_780_000_000,
        }
    }

    #[test]
    fn the_fetch_is_judged_only_when_a_record_points_at_it() {
        let record = TxtAnswer {
            records: vec![vec![b"v=STSv1; id=1".to_vec()]],
            ..TxtAnswer::default()
        };
        assert_eq!(rules(&net_findings(&domain(Ok(record), 404))), ["NET004"]);
        // No record (a catch-all web server answers for mta-sts.<domain>):
        // senders never fetch, nothing to say.
        let none = || {
            Err(DnsError::NxDomain {
                name: "_mta-sts.example.com".into(),
            })
        };
        assert!(net_findings(&domain(none(), 404)).is_empty());
        assert!(check_findings(&domain(none(), 404)).is_empty());
        // A failed lookup: senders may still hold a record; judged.
        let failed = Err(DnsError::ServFail {
            name: "_mta-sts.example.com".into(),
            rcode: "SERVFAIL".into(),
        });
        assert_eq!(rules(&net_findings(&domain(failed, 404))), ["NET001", "NET004"]);
    }

    #[test]
    fn shown_is_inert_and_short() {
        assert_eq!(shown(b"a\r\nb\x1b[2J"), "a\\u{d}\\u{a}b\\u{1b}[2J");
        assert_eq!(shown(&[b'x'; 300]).chars().count(), 201);
        assert_eq!(shown(&[0xff, b'a']), "\u{fffd}a");
    }
}
