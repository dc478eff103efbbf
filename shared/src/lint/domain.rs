//! One domain's MTA-STS and TLSRPT deployment from its parts: the TXT records at
//! `_mta-sts` and `_smtp._tls`, the `mta-sts.txt` body and the MX set.
//!
//! [`lint_domain`] is pure. It runs the grammar checks of [`crate::records`] and
//! [`crate::policy`], the discovery check (STS001) and the offline cross-checks
//! between the policy and the MX set (XCK001, XCK002, XCK003, XCK009). A part
//! that is not given is not guessed: the checks that need it are skipped.

use super::Finding;
use crate::diag::{Diagnostic, Severity};
use crate::policy::{mx_matches, parse_policy, Mode};
use crate::records::{parse_sts_records, parse_tlsrpt_records};

/// What is known about a domain's MX records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxSet {
    /// Not known: the MX cross-checks are skipped.
    Unknown,
    /// The domain has no MX records: the implicit MX is the domain itself.
    NoMx,
    /// A null MX (RFC 7505): the domain accepts no mail.
    Null,
    /// These MX targets.
    Hosts(Vec<String>),
}

/// The parts of one domain's deployment, as DNS and HTTPS would serve them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInput {
    /// The policy domain.
    pub domain: String,
    /// TXT records at `_mta-sts.<domain>`, each as its character-strings; `None`
    /// when not given; empty when known to be absent (a served policy then fires
    /// STS001).
    pub sts_records: Option<Vec<Vec<Vec<u8>>>>,
    /// TXT records at `_smtp._tls.<domain>`; `None` when not given.
    pub tlsrpt_records: Option<Vec<Vec<Vec<u8>>>>,
    /// The `mta-sts.txt` body, byte-exact; `None` when not given.
    pub policy: Option<Vec<u8>>,
    /// The MX set.
    pub mx: MxSet,
}

/// Lints one domain. Findings are sorted by severity (errors first), then rule.
pub fn lint_domain(input: &DomainInput) -> Vec<Finding> {
    let domain = crate::names::normalize(&input.domain);
    let mut diags: Vec<Diagnostic> = Vec::new();
    // Given and without any `v=STSv1` record (not even a malformed one): senders
    // find no policy through DNS.
    let mut no_sts_record = false;
    if let Some(records) = &input.sts_records {
        let parsed = parse_sts_records(records);
        no_sts_record = parsed.record.is_none()
            && !parsed
                .diagnostics
                .iter()
                .any(|d| matches!(d.rule, "STS002" | "STS003"));
        diags.extend(parsed.diagnostics);
    }
    let tlsrpt = input.tlsrpt_records.as_ref().map(|r| parse_tlsrpt_records(r));
    if let Some(t) = &tlsrpt {
        diags.extend(t.diagnostics.iter().cloned());
    }
    if let Some(body) = &input.policy {
        let parsed = parse_policy(body, Some(&domain));
        diags.extend(parsed.diagnostics);
        let policy = parsed.policy;
        if no_sts_record && policy.mode != Some(Mode::None) {
            let mode = match &policy.mode {
                Some(Mode::Enforce) => "enforce",
                Some(Mode::Testing) => "testing",
                _ => "without a valid mode",
            };
            diags.push(Diagnostic::new(
                "STS001",
                Severity::Error,
                format!(
                    "a policy ({mode}) is served for {domain}, but there is no v=STSv1 TXT record at \
                     _mta-sts.{domain}: senders never discover the policy"
                ),
            ));
        }
        let active = match policy.mode {
            Some(Mode::Enforce) => Some(Severity::Error),
            Some(Mode::Testing) => Some(Severity::Warning),
            _ => None,
        };
        if active.is_some() && tlsrpt.as_ref().is_some_and(|t| !t.discoverable) {
            diags.push(Diagnostic::new(
                "TLR001",
                Severity::Warning,
                "the policy is active but no usable _smtp._tls record exists: failures go unreported",
            ));
        }
        let patterns: Vec<&str> = policy
            .mx
            .iter()
            .filter(|p| p.valid)
            .map(|p| p.pattern.as_str())
            .collect();
        if let Some(sev) = active {
            mx_checks(&domain, &input.mx, &patterns, sev, &mut diags);
        }
    }
    let mut out: Vec<Finding> = diags
        .into_iter()
        .map(|d| Finding::from_diagnostic(d, &domain))
        .collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
    out
}

/// XCK001, XCK002, XCK003 and XCK009 for an active policy (`sev`: error for
/// enforce, warning for testing).
fn mx_checks(domain: &str, mx: &MxSet, patterns: &[&str], sev: Severity, diags: &mut Vec<Diagnostic>) {
    let covered = |host: &str| patterns.iter().any(|p| mx_matches(p, host));
    match mx {
        MxSet::Unknown => {}
        MxSet::Null => diags.push(Diagnostic::new(
            "XCK002",
            Severity::Error,
            format!("{domain} has a null MX (it accepts no mail), yet publishes an active MTA-STS policy"),
        )),
        MxSet::NoMx => {
            if !covered(domain) {
                diags.push(Diagnostic::new(
                    "XCK002",
                    Severity::Error,
                    format!("{domain} has no MX records, so mail goes to {domain} itself, which no mx pattern matches"),
                ));
            }
        }
        MxSet::Hosts(hosts) => {
            let hosts: Vec<String> = hosts.iter().map(|h| crate::names::normalize(h)).collect();
            for host in &hosts {
                if host.parse::<std::net::IpAddr>().is_ok() {
                    diags.push(Diagnostic::new(
                        "XCK009",
                        Severity::Warning,
                        format!("MX target {host} is an IP address; MX targets must be host names"),
                    ));
                } else if !covered(host) {
                    diags.push(Diagnostic::new(
                        "XCK001",
                        sev,
                        format!(
                            "MX host {host} matches no mx pattern of the policy ({})",
                            patterns.join(", ")
                        ),
                    ));
                }
            }
            for p in patterns {
                if !hosts.iter().any(|h| mx_matches(p, h)) {
                    diags.push(Diagnostic::new(
                        "XCK003",
                        Severity::Info,
                        format!(
                            "mx pattern {p} matches none of the MX hosts ({})",
                            hosts.join(", ")
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::diag::Severity;

    #[test]
    fn json_carries_the_rule_s_rfc_section() {
        let f = lint_domain(&input(
            "version: STSv1\nmode: enforce\nmax_age: 86400\n",
            MxSet::Unknown,
        ));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json[0]["rule"], "POL005", "{json:#}");
        assert_eq!(json[0]["rfc"], "RFC 8461 §3.2 (ABNF)", "{json:#}");
    }

    /// example.com with a record, a TLSRPT record, `policy` and `mx`.
    pub(crate) fn input(policy: &str, mx: MxSet) -> DomainInput {
        DomainInput {
            domain: "example.com".into(),
            sts_records: Some(vec![vec![b"v=STSv1; id=20240601".to_vec()]]),
            tlsrpt_records: Some(vec![vec![b"v=TLSRPTv1; rua=mailto:tlsrpt@example.com".to_vec()]]),
            policy: Some(policy.as_bytes().to_vec()),
            mx,
        }
    }

    fn rules(f: &[Finding]) -> Vec<(&'static str, Severity)> {
        f.iter().map(|f| (f.rule, f.severity)).collect()
    }

    pub(crate) const ENFORCE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mail.example.com\r\nmax_age: 1209600\r\n";

    pub(crate) fn hosts(h: &[&str]) -> MxSet {
        MxSet::Hosts(h.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn rfc8461_4_1_uncovered_mx_fires_xck001_by_mode() {
        // (The unused wildcard is also reported, as stale: XCK003.)
        let f = lint_domain(&input(ENFORCE, hosts(&["mx1.example.com.", "mx3.example.com"])));
        assert_eq!(
            rules(&f),
            [("XCK001", Severity::Error), ("XCK003", Severity::Info)]
        );
        assert!(f[0].message.contains("mx3.example.com"));
        let testing = ENFORCE.replace("enforce", "testing");
        let f = lint_domain(&input(&testing, hosts(&["mx1.example.com", "mx3.example.com"])));
        assert_eq!(
            rules(&f),
            [("XCK001", Severity::Warning), ("XCK003", Severity::Info)]
        );
        // Covered: exact name (any case, trailing dot) and a one-label wildcard.
        let f = lint_domain(&input(
            ENFORCE,
            hosts(&["MX1.example.com.", "a.mail.example.com"]),
        ));
        assert!(f.is_empty(), "{f:?}");
        // A wildcard covers one label only.
        let f = lint_domain(&input(
            ENFORCE,
            hosts(&["mx1.example.com", "a.b.mail.example.com"]),
        ));
        assert_eq!(
            rules(&f),
            [("XCK001", Severity::Error), ("XCK003", Severity::Info)]
        );
        // mode none: nothing to enforce, no cross-check.
        let none = "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n";
        assert!(lint_domain(&input(none, hosts(&["elsewhere.example.net"]))).is_empty());
        // Unknown MX set: skipped, not guessed.
        assert!(lint_domain(&input(ENFORCE, MxSet::Unknown)).is_empty());
    }

    #[test]
    fn rfc8461_4_1_no_mx_and_null_mx_fire_xck002() {
        let f = lint_domain(&input(ENFORCE, MxSet::NoMx));
        assert_eq!(rules(&f), [("XCK002", Severity::Error)]);
        let bare = "version: STSv1\r\nmode: enforce\r\nmx: example.com\r\nmax_age: 1209600\r\n";
        assert!(lint_domain(&input(bare, MxSet::NoMx)).is_empty());
        let f = lint_domain(&input(ENFORCE, MxSet::Null));
        assert_eq!(rules(&f), [("XCK002", Severity::Error)]);
    }

    #[test]
    fn stale_pattern_and_ip_targets() {
        let f = lint_domain(&input(ENFORCE, hosts(&["mx1.example.com"])));
        assert_eq!(rules(&f), [("XCK003", Severity::Info)]);
        let f = lint_domain(&input(
            ENFORCE,
            hosts(&["mx1.example.com", "a.mail.example.com", "192.0.2.1"]),
        ));
        assert_eq!(rules(&f), [("XCK009", Severity::Warning)]);
    }

    #[test]
    fn rfc8460_3_active_policy_without_tlsrpt_fires_tlr001() {
        let mut i = input(ENFORCE, MxSet::Unknown);
        i.tlsrpt_records = Some(vec![vec![b"v=spf1 -all".to_vec()]]);
        assert!(rules(&lint_domain(&i)).contains(&("TLR001", Severity::Warning)));
        i.tlsrpt_records = None;
        assert!(
            !rules(&lint_domain(&i)).iter().any(|r| r.0 == "TLR001"),
            "not given: not guessed"
        );
    }

    #[test]
    fn rfc8461_3_1_policy_without_a_discoverable_record_fires_sts001() {
        let mut i = input(ENFORCE, MxSet::Unknown);
        i.sts_records = Some(Vec::new());
        assert_eq!(rules(&lint_domain(&i)), [("STS001", Severity::Error)]);
        // Only an unrelated record at _mta-sts: misplaced, and still no policy record.
        i.sts_records = Some(vec![vec![b"v=spf1 -all".to_vec()]]);
        assert_eq!(
            rules(&lint_domain(&i)),
            [("STS001", Severity::Error), ("STS008", Severity::Warning)]
        );
        // A malformed record is STS002's, two records STS003's: no second finding.
        i.sts_records = Some(vec![vec![b"v=stsv1; id=1".to_vec()]]);
        assert_eq!(rules(&lint_domain(&i)), [("STS002", Severity::Error)]);
        // A record, or no record given at all, or a policy in mode none: quiet.
        i.sts_records = Some(vec![vec![b"v=STSv1; id=1".to_vec()]]);
        assert!(lint_domain(&i).is_empty());
        i.sts_records = None;
        assert!(lint_domain(&i).is_empty());
        let mut none = input(
            "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n",
            MxSet::Unknown,
        );
        none.sts_records = Some(Vec::new());
        assert!(lint_domain(&none).is_empty());
    }

    #[test]
    fn grammar_findings_carry_domain_and_help() {
        let mut i = input(ENFORCE, MxSet::Unknown);
        i.sts_records = Some(vec![vec![b"v=STSv1; id=2024-06-01".to_vec()]]);
        let f = lint_domain(&i);
        assert_eq!(f[0].rule, "STS004");
        assert_eq!(f[0].domain, "example.com");
        assert!(f[0].help().contains("letters or digits"));
    }

    #[test]
    fn control_characters_in_hosts_stay_inert() {
        let f = lint_domain(&input(
            ENFORCE,
            hosts(&["mx1.example.com", "evil\u{1b}[2J\nhost.example.com"]),
        ));
        let xck = f.iter().find(|f| f.rule == "XCK001").unwrap();
        assert!(!xck.message.chars().any(char::is_control), "{:?}", xck.message);
        assert!(xck.message.contains("\\u{1b}"), "{:?}", xck.message);
    }
}
