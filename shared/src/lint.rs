//! Linting one domain's MTA-STS and TLSRPT deployment from its parts: the TXT
//! records at `_mta-sts` and `_smtp._tls`, the `mta-sts.txt` body and the MX set.
//!
//! [`lint_domain`] is pure. It runs the grammar checks of [`crate::records`] and
//! [`crate::policy`], the discovery check (STS001) and the offline cross-checks
//! between the policy and the MX set (XCK001, XCK002, XCK003, XCK009). A part
//! that is not given is not guessed: the checks that need it are skipped.
//!
//! [`lint_plan`] and [`lint_plan_with`] do the same for every domain of a
//! Terraform plan, add the rules that need the plan's names, TTLs and before
//! values (STS008, TLR008, STS009, XCK004, XCK007, XCK008), and turn what the
//! plan cannot tell into info findings of the PLN family (PLN001-PLN005), so
//! that nothing is skipped in silence. [`LintConfig`] maps policy files to
//! domains, limits the domains and overrides severities.

use std::collections::HashMap;

use serde::Serialize;

pub use crate::config::LintConfig;
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

/// One finding, as the `json` output writes it (with `rfc`: [`source`] of the
/// rule, when it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule ID from the catalogue, e.g. `XCK001`.
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The policy domain.
    pub domain: String,
    /// One line naming the offending value.
    pub message: String,
    /// The plan address of the resource that caused it, when linting a plan.
    pub address: Option<String>,
    /// What the rule checks and how to fix it.
    pub help: &'static str,
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let rfc = source(self.rule);
        let mut s = serializer.serialize_struct("Finding", 7)?;
        s.serialize_field("rule", self.rule)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("domain", &self.domain)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("address", &self.address)?;
        s.serialize_field("help", self.help)?;
        if rfc.is_empty() {
            s.skip_field("rfc")?;
        } else {
            s.serialize_field("rfc", rfc)?;
        }
        s.end()
    }
}

/// Lints one domain. Findings are sorted by severity (errors first), then rule.
pub fn lint_domain(input: &DomainInput) -> Vec<Finding> {
    let domain = crate::report::normalize_host(&input.domain);
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
        .map(|d| Finding {
            rule: d.rule,
            severity: d.severity,
            domain: domain.clone(),
            message: d.message,
            address: None,
            help: help(d.rule),
        })
        .collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
    out.into_iter().map(inert).collect()
}

/// Findings quote names, hosts and addresses from plans and records: control
/// characters in them are written as escapes, so no input can move a terminal's
/// cursor or start a new line in an annotation.
pub(crate) fn inert(mut f: Finding) -> Finding {
    fn clean(s: &str) -> String {
        if !s.chars().any(char::is_control) {
            return s.to_owned();
        }
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    }
    f.domain = clean(&f.domain);
    f.message = clean(&f.message);
    f.address = f.address.as_deref().map(clean);
    f
}

/// Lints every domain that a Terraform plan gives an `_mta-sts` or `_smtp._tls`
/// record, or a policy file. Records and files the plan deletes are not linted
/// as deployed; their removal is judged by XCK007 and STS001. A part the plan
/// does not contain is not guessed: the checks that need it are skipped and an
/// info finding (PLN001-PLN005) says so.
pub fn lint_plan(plan: &crate::plan::Plan) -> Vec<Finding> {
    lint_plan_with(plan, &LintConfig::default())
}

/// [`lint_plan`] under a configuration: its policy-file mapping attributes
/// policies first; then only its `domains` (when given) are linted, those of
/// them the plan says nothing about get a PLN004 finding, and its severity
/// overrides and ignores are applied.
pub fn lint_plan_with(plan: &crate::plan::Plan, config: &LintConfig) -> Vec<Finding> {
    lint_plan_extended(plan, config, |_, _, _| Vec::new())
}

/// The policy domains a plan is linted for, under `config`: every domain the
/// plan gives an `_mta-sts` or `_smtp._tls` record or a policy file (after the
/// configuration's policy mapping), limited to the configuration's `domains`.
pub fn plan_domains(plan: &crate::plan::Plan, config: &LintConfig) -> Vec<String> {
    let mut policies = plan.policies.clone();
    config.attribute(&mut policies);
    all_plan_domains(plan, &policies)
        .into_iter()
        .filter(|d| config.wants(d))
        .collect()
}

fn all_plan_domains(plan: &crate::plan::Plan, policies: &[crate::plan::PlannedPolicy]) -> Vec<String> {
    let mut domains: Vec<String> = plan
        .records
        .iter()
        .filter_map(|r| {
            r.fqdn
                .strip_prefix("_mta-sts.")
                .or_else(|| r.fqdn.strip_prefix("_smtp._tls."))
                .map(str::to_owned)
        })
        .chain(policies.iter().filter_map(|p| p.domain.clone()))
        .collect();
    domains.sort();
    domains.dedup();
    domains
}

/// [`lint_plan_with`] plus the findings `extra` adds for each domain, given the
/// plan's parts of that domain and the findings the plan alone gave it (before
/// the configuration's overrides, which apply to both).
pub(crate) fn lint_plan_extended(
    plan: &crate::plan::Plan,
    config: &LintConfig,
    extra: impl Fn(&str, &PlannedParts<'_>, &[Finding]) -> Vec<Finding>,
) -> Vec<Finding> {
    let mut policies = plan.policies.clone();
    config.attribute(&mut policies);
    let domains = all_plan_domains(plan, &policies);
    let mut out = misplaced_records(plan);
    for d in &domains {
        let parts = planned_parts(plan, &policies, d);
        let found = lint_planned_domain(plan, &parts, d);
        let more = extra(d, &parts, &found);
        out.extend(found);
        out.extend(more);
    }
    out.extend(note_findings(plan, &policies, &domains));
    if let Some(wanted) = &config.domains {
        for w in wanted.iter().filter(|w| !domains.contains(w)) {
            out.push(finding(
                "PLN004",
                Severity::Info,
                w,
                format!(
                    "{w} is listed in the configuration, but this plan has no _mta-sts or _smtp._tls record \
                     and no policy file for it: its deployment was not checked"
                ),
                None,
            ));
        }
    }
    config.apply(out.into_iter().map(inert).collect())
}

fn finding(
    rule: &'static str,
    severity: Severity,
    domain: &str,
    message: String,
    address: Option<String>,
) -> Finding {
    Finding {
        rule,
        severity,
        domain: domain.to_owned(),
        message,
        address,
        help: help(rule),
    }
}

/// Orders findings for output: by domain (findings without one last), then
/// severity (errors first), rule and address. The sort is stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.domain.is_empty(), &a.domain)
            .cmp(&(b.domain.is_empty(), &b.domain))
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.cmp(b.rule))
            .then(a.address.cmp(&b.address))
    });
}

/// What a plan holds for one policy domain.
pub(crate) struct PlannedParts<'p> {
    /// The TXT records at `_mta-sts.<domain>` (deletions too).
    pub sts: Vec<&'p crate::plan::PlannedRecord>,
    /// The TXT records at `_smtp._tls.<domain>` (deletions too).
    pub tlsrpt: Vec<&'p crate::plan::PlannedRecord>,
    /// The MX records of the domain the plan keeps.
    pub mx: Vec<&'p crate::plan::PlannedRecord>,
    /// Every policy file attributed to the domain.
    pub mine: Vec<&'p crate::plan::PlannedPolicy>,
    /// The policy that stays (a file moved to a new address is created under
    /// one and deleted under the other); otherwise the one the plan deletes.
    pub policy: Option<&'p crate::plan::PlannedPolicy>,
    /// The policy in force before this plan: the changed file's old body, a
    /// deleted file's, or the body of a file the plan leaves as it is.
    pub previous: Option<&'p [u8]>,
    /// The parts as DNS and HTTPS will serve them after the apply.
    pub input: DomainInput,
}

fn kept(a: crate::plan::Action) -> bool {
    a != crate::plan::Action::Delete
}

/// The values of planned TXT records after the apply: `None` when unknown or
/// not in the plan, empty when the plan deletes them all.
fn planned_values(rs: &[&crate::plan::PlannedRecord]) -> Option<Vec<Vec<Vec<u8>>>> {
    if rs.iter().any(|r| kept(r.action) && r.unknown) {
        return None;
    }
    let known: Vec<Vec<Vec<u8>>> = rs
        .iter()
        .filter(|r| kept(r.action))
        .flat_map(|r| r.values.clone())
        .collect();
    // Records the plan manages and deletes, with none left: known to be absent.
    let removed = !rs.is_empty() && rs.iter().all(|r| r.action == crate::plan::Action::Delete);
    (!known.is_empty() || removed).then_some(known)
}

fn planned_parts<'p>(
    plan: &'p crate::plan::Plan,
    policies: &'p [crate::plan::PlannedPolicy],
    d: &str,
) -> PlannedParts<'p> {
    use crate::plan::Action;
    let txt_at = |name: String| {
        plan.records
            .iter()
            .filter(move |r| r.rtype == "TXT" && r.fqdn == name)
            .collect::<Vec<_>>()
    };
    let sts = txt_at(format!("_mta-sts.{d}"));
    let tlsrpt = txt_at(format!("_smtp._tls.{d}"));
    let mx: Vec<_> = plan
        .records
        .iter()
        .filter(|r| r.rtype == "MX" && r.fqdn == d && kept(r.action))
        .collect();
    let mine: Vec<_> = policies
        .iter()
        .filter(|p| p.domain.as_deref() == Some(d))
        .collect();
    let policy = mine
        .iter()
        .find(|p| kept(p.action))
        .or_else(|| mine.first())
        .copied();
    let previous = policy
        .and_then(|p| p.before.as_deref())
        .or_else(|| {
            mine.iter()
                .find(|p| p.action == Action::Delete)
                .and_then(|p| p.before.as_deref())
        })
        .or_else(|| {
            policy
                .filter(|p| p.action == Action::NoOp)
                .and_then(|p| p.body.as_deref())
        });
    let input = DomainInput {
        domain: d.to_owned(),
        sts_records: planned_values(&sts),
        tlsrpt_records: planned_values(&tlsrpt),
        policy: policy.filter(|p| kept(p.action)).and_then(|p| p.body.clone()),
        mx: if mx.is_empty() || mx.iter().any(|r| r.unknown) {
            MxSet::Unknown
        } else {
            MxSet::Hosts(mx.iter().flat_map(|r| r.mx_hosts.clone()).collect())
        },
    };
    PlannedParts {
        sts,
        tlsrpt,
        mx,
        mine,
        policy,
        previous,
        input,
    }
}

/// Every check of one planned domain.
fn lint_planned_domain(plan: &crate::plan::Plan, parts: &PlannedParts<'_>, d: &str) -> Vec<Finding> {
    use crate::plan::PlannedRecord;
    let PlannedParts {
        sts,
        tlsrpt,
        mx,
        mine,
        policy,
        previous,
        input,
    } = parts;
    let (policy, previous) = (*policy, *previous);
    let body = input.policy.clone();
    let address = |rule: &str| -> Option<String> {
        let first = |rs: &[&PlannedRecord]| rs.first().map(|r| r.address.clone());
        match &rule[..3] {
            "STS" => first(sts).or_else(|| policy.map(|p| p.address.clone())),
            _ if rule == "XCK005" => first(sts).or_else(|| policy.map(|p| p.address.clone())),
            "TLR" => first(tlsrpt).or_else(|| policy.map(|p| p.address.clone())),
            _ => policy.map(|p| p.address.clone()).or_else(|| first(mx)),
        }
    };
    let mut findings = lint_domain(input);
    findings.extend(history_checks(plan, d, policy, previous, sts));
    findings.extend(ttl_checks(d, sts, tlsrpt));

    // What the plan does not hold: PLN004 for the checks skipped, STS001 for a
    // policy whose body is unknown but whose record is known to go away.
    let mode = body.as_deref().map(|b| parse_policy(b, Some(d)).policy.mode);
    let active = matches!(mode, Some(Some(Mode::Enforce | Mode::Testing)));
    let kept_policy = policy.filter(|p| kept(p.action));
    let mut skip = |what: String, address: Option<String>| {
        findings.push(finding("PLN004", Severity::Info, d, what, address));
    };
    let others: Vec<&str> = mine
        .iter()
        .filter(|o| kept(o.action) && kept_policy.is_some_and(|k| k.address != o.address))
        .map(|o| o.address.as_str())
        .collect();
    if let (Some(p), false) = (kept_policy, others.is_empty()) {
        skip(
            format!(
                "several policy files are attributed to {d}; only {} was checked, not {} (only one is \
                 served at https://mta-sts.{d}/.well-known/mta-sts.txt)",
                p.address,
                others.join(", ")
            ),
            Some(p.address.clone()),
        );
    }
    if let Some(p) = kept_policy {
        if sts.is_empty() {
            skip(
                format!(
                    "the plan has no _mta-sts.{d} record: whether senders can discover this policy (STS001) \
                     and the record itself were not checked"
                ),
                Some(p.address.clone()),
            );
        }
        if active && input.mx == MxSet::Unknown {
            let why = if mx.is_empty() {
                format!("the plan has no MX records for {d}")
            } else {
                format!("the MX records of {d} are known only after apply")
            };
            skip(
                format!("{why}, so the MX cross-checks (XCK001-XCK003) were not run"),
                Some(p.address.clone()),
            );
        }
        if active && tlsrpt.is_empty() {
            skip(
                format!(
                    "the plan has no _smtp._tls.{d} record, so whether failures get reported (TLR001) was \
                     not checked"
                ),
                Some(p.address.clone()),
            );
        }
        if p.body.is_none() && input.sts_records.as_ref().is_some_and(Vec::is_empty) {
            findings.push(finding(
                "STS001",
                Severity::Error,
                d,
                format!(
                    "the plan removes every TXT record at _mta-sts.{d} but keeps the policy file {}: \
                     senders never discover it",
                    p.address
                ),
                sts.first().map(|r| r.address.clone()),
            ));
        }
    } else if sts.iter().any(|r| kept(r.action)) {
        skip(
            format!(
                "the plan has no mta-sts.txt for {d} (or none it could attribute): the policy checks \
                 (POL*) and the cross-checks with it (XCK001-XCK004) were not run"
            ),
            sts.first().map(|r| r.address.clone()),
        );
    }
    for f in findings.iter_mut().filter(|f| f.address.is_none()) {
        f.address = address(f.rule);
    }
    findings
}

/// PLN001 for every policy file without a domain; PLN002, PLN003 and PLN005 for
/// the plan reader's notes that concern MTA-STS: policy files, TXT and MX
/// records of unknown name, and records at `_mta-sts`, `_smtp._tls` or
/// `mta-sts` names or at a linted domain's MX.
fn note_findings(
    plan: &crate::plan::Plan,
    policies: &[crate::plan::PlannedPolicy],
    domains: &[String],
) -> Vec<Finding> {
    use crate::plan::NoteKind;
    let mut out = Vec::new();
    for p in policies.iter().filter(|p| p.domain.is_none()) {
        out.push(finding(
            "PLN001",
            Severity::Info,
            "",
            format!(
                "the policy file {} could not be attributed to a domain (no mta-sts.<domain> bucket or path, \
                 and not exactly one domain with an _mta-sts record in the plan), so it was not checked",
                p.bucket_or_path
            ),
            Some(p.address.clone()),
        ));
    }
    let records: HashMap<&str, &crate::plan::PlannedRecord> =
        plan.records.iter().map(|r| (r.address.as_str(), r)).collect();
    for n in &plan.notes {
        let rule = match n.kind {
            NoteKind::Unattributed => continue,
            NoteKind::AfterApply => "PLN002",
            NoteKind::NotInPlan => "PLN003",
            NoteKind::Lenient => "PLN005",
        };
        let domain: String = if let Some(p) = policies.iter().find(|p| p.address == n.address) {
            p.domain.clone().unwrap_or_default()
        } else if let Some(r) = records.get(n.address.as_str()) {
            let owner = ["_mta-sts.", "_smtp._tls.", "mta-sts."]
                .iter()
                .find_map(|pre| r.fqdn.strip_prefix(pre));
            match owner {
                Some(d) => d.to_owned(),
                None if r.fqdn.is_empty() && matches!(r.rtype.as_str(), "TXT" | "MX" | "") => String::new(),
                None if r.rtype == "MX" && domains.contains(&r.fqdn) => r.fqdn.clone(),
                None => continue,
            }
        } else {
            String::new()
        };
        let text = n
            .text
            .strip_prefix(n.address.as_str())
            .and_then(|t| t.strip_prefix(": "))
            .unwrap_or(&n.text);
        let address = (!n.address.is_empty()).then(|| n.address.clone());
        out.push(finding(rule, Severity::Info, &domain, text.to_owned(), address));
    }
    out
}

/// STS008 and TLR008: records at names senders never look at.
fn misplaced_records(plan: &crate::plan::Plan) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in plan
        .records
        .iter()
        // A name of unknown or unresolved zone (empty, or one label) is not judged.
        .filter(|r| r.rtype == "TXT" && r.action != crate::plan::Action::Delete && r.fqdn.contains('.'))
    {
        let text: Vec<u8> = r.values.first().map(|v| v.concat()).unwrap_or_default();
        let (rule, right, domain) = if let Some(d) = r
            .fqdn
            .strip_prefix("_mta_sts.")
            .or_else(|| r.fqdn.strip_prefix("mta-sts."))
        {
            ("STS008", "_mta-sts", d)
        } else if let Some(d) = r
            .fqdn
            .strip_prefix("_smtp-tlsrpt.")
            .or_else(|| r.fqdn.strip_prefix("_smtp._tcp."))
        {
            ("TLR008", "_smtp._tls", d)
        } else if text.starts_with(b"v=STSv1") && !r.fqdn.starts_with("_mta-sts.") {
            ("STS008", "_mta-sts", r.fqdn.as_str())
        } else if text.starts_with(b"v=TLSRPTv1") && !r.fqdn.starts_with("_smtp._tls.") {
            ("TLR008", "_smtp._tls", r.fqdn.as_str())
        } else {
            continue;
        };
        let looks_like = if rule == "STS008" {
            b"v=STSv1".as_slice()
        } else {
            b"v=TLSRPTv1".as_slice()
        };
        if !text.starts_with(looks_like) {
            continue;
        }
        out.push(Finding {
            rule,
            severity: Severity::Warning,
            domain: domain.to_owned(),
            message: format!(
                "record at {} will never be read: senders look only at {right}.{domain}",
                r.fqdn
            ),
            address: Some(r.address.clone()),
            help: help(rule),
        });
    }
    out
}

/// STS009: TTL advice for the planned `_mta-sts` and `_smtp._tls` records.
fn ttl_checks(
    domain: &str,
    sts: &[&crate::plan::PlannedRecord],
    tlsrpt: &[&crate::plan::PlannedRecord],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |r: &crate::plan::PlannedRecord, severity, message: String| {
        out.push(Finding {
            rule: "STS009",
            severity,
            domain: domain.to_owned(),
            message,
            address: Some(r.address.clone()),
            help: help("STS009"),
        });
    };
    // Cloudflare's TTL 1 means "automatic" (300 s), not one second.
    let ttl = |r: &crate::plan::PlannedRecord| match r.ttl {
        Some(1) if r.resource_type.starts_with("cloudflare_") => Some(300),
        t => t,
    };
    for r in sts.iter().filter(|r| r.action != crate::plan::Action::Delete) {
        if let Some((severity, message)) = ttl(r).and_then(|t| sts_ttl_advice(domain, t)) {
            push(r, severity, message);
        }
    }
    for r in tlsrpt.iter().filter(|r| r.action != crate::plan::Action::Delete) {
        if let Some(t) = ttl(r).filter(|t| *t < 3600) {
            push(
                r,
                Severity::Info,
                format!("_smtp._tls.{domain} TTL {t} s is below 3600 s; RFC 8460 §7 advises a large TTL (or DNSSEC)"),
            );
        }
    }
    out
}

/// STS009 for an `_mta-sts` TTL of `ttl` seconds: below 300 s a warning, above
/// 3600 s an info.
pub(crate) fn sts_ttl_advice(domain: &str, ttl: u64) -> Option<(Severity, String)> {
    match ttl {
        t if t < 300 => Some((
            Severity::Warning,
            format!("_mta-sts.{domain} TTL {t} s is below 300 s: every DNS hiccup hides the policy from senders without a cache"),
        )),
        t if t > 3600 => Some((
            Severity::Info,
            format!("_mta-sts.{domain} TTL {t} s is above 3600 s: id changes spread slowly"),
        )),
        _ => None,
    }
}

/// XCK004 (policy changed, id not), XCK005 (id and policy changed in one apply
/// with nothing ordering the record after the file), XCK007 (removal without the
/// `none` step) and XCK008 (enforce without testing first), from the plan's
/// before and after values and its dependencies. `previous` is the policy body before the change (of this resource, or
/// of one the plan deletes for the same domain).
fn history_checks(
    plan: &crate::plan::Plan,
    domain: &str,
    policy: Option<&crate::plan::PlannedPolicy>,
    previous: Option<&[u8]>,
    sts: &[&crate::plan::PlannedRecord],
) -> Vec<Finding> {
    use crate::plan::Action;
    let mut out = Vec::new();
    let mut push = |rule, severity, message: String| {
        out.push(finding(rule, severity, domain, message, None));
    };
    let id_of = |values: &[Vec<Vec<u8>>]| parse_sts_records(values).record.and_then(|r| r.id);
    let mode_of = |body: &[u8]| parse_policy(body, Some(domain)).policy.mode;
    let before_mode = previous.map(mode_of);
    if let Some(p) = policy {
        if let (Some(before), Some(after)) = (&p.before, &p.body) {
            if before != after && p.action != Action::Delete {
                let sts_changed = sts.iter().any(|r| match (&r.before, r.action) {
                    (_, Action::Create) => true,
                    (Some(b), Action::Update | Action::Replace) => r.unknown || id_of(b) != id_of(&r.values),
                    _ => false,
                });
                if sts.is_empty() {
                    push(
                        "PLN004",
                        Severity::Info,
                        format!(
                            "{} changes the policy, but the _mta-sts record is not in this plan, so whether \
                             its id changes too (XCK004) was not checked",
                            p.address
                        ),
                    );
                } else if !sts_changed {
                    push(
                        "XCK004",
                        Severity::Error,
                        format!("{} changes the policy content, but the _mta-sts id stays the same: senders keep the cached old policy", p.address),
                    );
                } else if let Some(r) = sts.iter().find(|r| {
                    matches!(r.action, Action::Update | Action::Replace)
                        && !plan.applies_after(&r.address, &p.address)
                }) {
                    push(
                        "XCK005",
                        Severity::Warning,
                        format!(
                            "{} changes the _mta-sts id in the same apply as the policy {}, and nothing orders the \
                             record after the file: the new id can be published before the new policy is served",
                            r.address, p.address
                        ),
                    );
                }
            }
        }
        let after_mode = p
            .body
            .as_deref()
            .filter(|_| p.action != Action::Delete)
            .map(mode_of);
        if after_mode == Some(Some(Mode::Enforce)) {
            let how = match (&before_mode, p.action) {
                (Some(Some(Mode::Testing | Mode::Enforce)), _) => None,
                (Some(Some(Mode::None)), _) => Some("straight from mode none"),
                (Some(_), _) => Some("from a policy without a valid mode"),
                (None, Action::Create) => Some("as a new policy"),
                (None, _) => None,
            };
            if let Some(how) = how {
                push(
                    "XCK008",
                    Severity::Info,
                    format!(
                        "{} puts the policy in mode enforce {how}, with no testing period before it",
                        p.address
                    ),
                );
            }
        }
    }
    let active_before = matches!(before_mode, Some(Some(Mode::Enforce | Mode::Testing)));
    let removed =
        policy.is_some_and(|p| p.action == Action::Delete) || sts.iter().any(|r| r.action == Action::Delete);
    if removed && active_before {
        push(
            "XCK007",
            Severity::Warning,
            "the plan removes the MTA-STS record or policy while the last policy is testing or enforce: publish mode none with a short max_age and a new id first, wait out the old max_age, then remove".to_owned(),
        );
    }
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
            let hosts: Vec<String> = hosts.iter().map(|h| crate::report::normalize_host(h)).collect();
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

/// SARIF 2.1.0 log of the findings, with rule metadata, as GitHub code scanning
/// accepts it. `artifact` is the file the findings are reported against (the
/// plan or the policy file; a pseudo path such as `mta-sts/<domain>` otherwise).
pub fn to_sarif(findings: &[Finding], artifact: &str) -> serde_json::Value {
    let mut rule_ids: Vec<&'static str> = findings.iter().map(|f| f.rule).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<serde_json::Value> = rule_ids
        .iter()
        .map(|id| {
            let worst = findings
                .iter()
                .filter(|f| f.rule == *id)
                .map(|f| f.severity)
                .max();
            let full = match source(id) {
                "" => help(id).to_owned(),
                rfc => format!("{} ({rfc})", help(id)),
            };
            serde_json::json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": first_sentence(help(id))},
                "fullDescription": {"text": full},
                "help": {"text": full},
                "defaultConfiguration": {"level": level(worst.unwrap_or(Severity::Warning))},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.rule,
                "ruleIndex": rule_ids.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": if f.domain.is_empty() { f.message.clone() } else { format!("{}: {}", f.domain, f.message) }},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [{"name": f.address.clone().unwrap_or_else(|| f.domain.clone()), "kind": "resource"}],
                }],
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "stsguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn first_sentence(text: &str) -> &str {
    text.find(". ").map_or(text, |i| &text[..=i])
}

/// GitHub Actions workflow commands (`::error file=…,title=…::message`), one per
/// finding; info findings become `::notice`. Values are escaped as the runner
/// requires, so report text cannot inject another command.
pub fn to_github(findings: &[Finding], file: Option<&str>) -> String {
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for f in findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = file {
            props.push(format!("file={}", property(file)));
        }
        props.push(format!(
            "title={}",
            property(format!("{} {}", f.rule, f.domain).trim_end())
        ));
        out.push_str(&format!(
            "::{cmd} {}::{}\n",
            props.join(","),
            data(&format!("{} ({})", f.message, f.help))
        ));
    }
    out
}

/// The rule IDs this version implements, in catalogue order; the PLN family
/// (what a plan cannot tell) comes last.
pub const RULES: [&str; 55] = [
    "STS001", "STS002", "STS003", "STS004", "STS005", "STS006", "STS007", "STS008", "STS009", "STS010",
    "TLR001", "TLR002", "TLR003", "TLR004", "TLR005", "TLR006", "TLR007", "TLR008", "POL001", "POL002",
    "POL003", "POL004", "POL005", "POL006", "POL007", "POL008", "POL009", "POL010", "POL011", "POL012",
    "POL013", "POL014", "XCK001", "XCK002", "XCK003", "XCK004", "XCK005", "XCK006", "XCK007", "XCK008",
    "XCK009", "NET001", "NET002", "NET003", "NET004", "NET005", "NET006", "NET007", "NET008", "NET009",
    "PLN001", "PLN002", "PLN003", "PLN004", "PLN005",
];

/// Where the RFCs say what rule `rule` checks, e.g. `RFC 8461 §3.1`; empty for
/// the PLN family (notes about the plan, not about the protocol).
pub fn source(rule: &str) -> &'static str {
    match rule {
        "STS001" => "RFC 8461 §3, §3.1",
        "STS002" => "RFC 8461 §3.1 (ABNF)",
        "STS003" => "RFC 8461 §3.1",
        "STS004" => "RFC 8461 §3.1 (ABNF)",
        "STS005" => "RFC 8461 §3.1",
        "STS006" => "RFC 8461 §3.1, erratum 6285",
        "STS007" => "RFC 8461 §3.2",
        "STS008" => "RFC 8461 §3.1, §3.4",
        "STS009" => "RFC 8461 §8.1; RFC 8460 §7",
        "STS010" => "RFC 8461 §3.2; RFC 8460 §3",
        "POL001" => "RFC 8461 §3.2 (ABNF)",
        "POL002" => "RFC 8461 §3.2",
        "POL003" => "RFC 8461 §3.2, §5",
        "POL004" => "RFC 8461 §3.2, erratum 7282",
        "POL005" => "RFC 8461 §3.2 (ABNF)",
        "POL006" => "RFC 8461 §3.2, §4.1",
        "POL007" => "RFC 8461 §3.2 (ABNF)",
        "POL008" => "RFC 8461 §3.2 (ABNF)",
        "POL009" => "RFC 8461 §3.2 (ABNF)",
        "POL010" => "RFC 8461 §3.2",
        "POL011" => "RFC 8461 §3.2, erratum 6253",
        "POL012" => "RFC 8461 §3.2, §10.2",
        "POL013" => "RFC 8461 §8.3",
        "POL014" => "RFC 8461 §4.1, §10.4",
        "TLR001" => "RFC 8461 §5, §6; RFC 8460 §3",
        "TLR002" => "RFC 8460 §3 (ABNF)",
        "TLR003" => "RFC 8460 §3",
        "TLR004" => "RFC 8460 §3",
        "TLR005" => "RFC 8460 §3",
        "TLR006" => "RFC 8460 §3 (ABNF)",
        "TLR007" => "RFC 8460 §3",
        "TLR008" => "RFC 8460 §3",
        "XCK001" => "RFC 8461 §4, §4.1, §5",
        "XCK002" => "RFC 8461 §4.1; RFC 5321 §5.1; RFC 7505",
        "XCK003" => "RFC 8461 §10.4",
        "XCK004" => "RFC 8461 §3.1, §5.1, §8.1",
        "XCK005" => "RFC 8461 §8.1",
        "XCK006" => "RFC 8461 §5.1, §8.1",
        "XCK007" => "RFC 8461 §3.1, §8.3, §10.2",
        "XCK008" => "RFC 8461 §5, Appendix A",
        "XCK009" => "RFC 8461 §4.1, §4.2; RFC 5321 §5.1",
        "NET001" => "RFC 8461 §3.1, §3.2, §8.2",
        "NET002" => "RFC 8461 §3.3, §7.1, §7.2",
        "NET003" => "RFC 8461 §3.3, §8.2",
        "NET004" => "RFC 8461 §3.3",
        "NET005" => "RFC 8461 §3.2",
        "NET006" => "RFC 8461 §3.2, §3.3, §8.2",
        "NET007" => "RFC 8461 §4, §7.1, §7.2",
        "NET008" => "RFC 8461 §4.2",
        "NET009" => "RFC 8460 §3, §5.3, §5.4",
        _ => "",
    }
}

/// What a rule checks and how to fix it, in one or two sentences.
pub fn help(rule: &str) -> &'static str {
    match rule {
        "STS001" => "Senders find a policy only through the TXT record at `_mta-sts.<domain>`; without a `v=STSv1` record there, the policy is never fetched. Publish `v=STSv1; id=<id>` at that name, and keep it until the policy is in mode none and the old max_age has passed. Offline this fires when the record is known to be absent (a plan deleting it, or only other TXT records there) while a testing or enforce policy stays; whether a record published outside the plan exists needs a live lookup.",
        "STS002" => "The _mta-sts TXT record must begin with exactly `v=STSv1` (case-sensitive, nothing before it, no spaces around `=`); otherwise senders discard it. Rewrite it as `v=STSv1; id=<id>`.",
        "STS003" => "Senders need exactly one `v=STSv1` record at _mta-sts; with two or more they treat the domain as having no policy. Delete all but one.",
        "STS004" => "The `id` must be 1 to 32 letters or digits, nothing else (no dashes, dots or colons). Use e.g. a timestamp like 20240601T120000 without punctuation, and change it whenever the policy changes.",
        "STS005" => "The record must be `name=value` fields separated by `;` (spaces only next to `;`), with no empty fields and nothing trailing. Character-strings are joined with no separator, so split values must not gain spaces.",
        "STS006" => "`v=STSv1 ;` is grammatical but fails the `begins with v=STSv1;` test some senders and tools apply. Remove the space before the `;`.",
        "STS007" => "A field appears twice. The RFC takes the first, but some senders take the last, so they can disagree about the id. Keep one.",
        "STS008" => "Senders look for the record only at `_mta-sts.<policy domain>`, and only `v=STSv1` records belong there: move a record from the apex, `_mta_sts` or a parent zone, and move unrelated TXT records (often from a wildcard) away.",
        "STS009" => "DNS TTLs: keep _mta-sts at or below an hour so id changes spread, but at least 300 s (for it and the mta-sts host) so a DNS hiccup does not hide the policy; give _smtp._tls a long TTL (or DNSSEC).",
        "TLR008" => "Senders look for the TLSRPT record only at `_smtp._tls.<domain>` (not `_smtp-tlsrpt`, `_smtp._tcp` or the apex). Move it there.",
        "STS010" => "An unknown field or key: senders ignore it, some checkers complain. Remove it unless you rely on it.",
        "TLR001" => "The MTA-STS policy is active but there is no usable _smtp._tls record, so senders never report failures. Publish `v=TLSRPTv1; rua=mailto:<address>`.",
        "TLR002" => "The _smtp._tls record must begin with exactly `v=TLSRPTv1`. Rewrite it as `v=TLSRPTv1; rua=mailto:<address>`.",
        "TLR003" => "Senders need exactly one `v=TLSRPTv1` record; with more they assume there is none. Merge them into one record with a comma-separated rua list.",
        "TLR004" => "The record needs a non-empty `rua=` list of report destinations.",
        "TLR005" => "Report destinations must be `mailto:` or `https:` URIs. Write `rua=mailto:tlsrpt@example.com`, not a bare address.",
        "TLR006" => "A rua URI is malformed: no spaces around `=`, percent-encode `,` `!` and `;` inside URIs, and no DMARC-style size suffix like `!10m`.",
        "TLR007" => "Legal but poorly supported: put all destinations in one `rua=` field directly after `v=TLSRPTv1`, and no space before the first `;`.",
        "POL001" => "The policy body is not a key/value policy (HTML, JSON, empty, or a byte order mark before the first key). Serve plain `key: value` lines.",
        "POL002" => "`version: STSv1` is required, exactly so.",
        "POL003" => "`mode` is required and must be exactly `testing`, `enforce` or `none`.",
        "POL004" => "`max_age` is required: 1 to 10 digits, at most 31557600 (one year).",
        "POL005" => "A `testing` or `enforce` policy needs at least one `mx:` line naming your MX hosts.",
        "POL006" => "An `mx` value must be a host name or `*.` plus a domain: no trailing dot, port, IP address, URL or non-ASCII (use A-labels).",
        "POL007" => "Lines must end in LF or CRLF; bare CR, U+2028 and control characters break parsers.",
        "POL008" => "Keys are lower-case, start at the beginning of the line and are followed directly by `:`; values must not contain invisible or non-breaking spaces.",
        "POL009" => "Blank lines, `#` comments and extra trailing newlines are outside the grammar; some senders reject the policy or misread the next key. Remove them.",
        "POL010" => "A field appears twice; senders disagree on which one wins (first or last), which can silently downgrade `enforce`. Keep one.",
        "POL011" => "Legal, but some tools and guides expect otherwise: CRLF line endings, `version` on the first line, each `mx` line once, lower-case host names.",
        "POL012" => "`max_age` is short: senders re-fetch often and a DNS or HTTPS hiccup leaves them without a policy. Use weeks (e.g. 1209600) once the policy is stable.",
        "POL013" => "`mode: none` is the opt-out step; pair it with a short `max_age` (about one day) so senders forget the old policy quickly.",
        "POL014" => "A wildcard this broad lets any host with a certificate under that name act as your MX. List your MX hosts or a narrower wildcard.",
        "XCK001" => "Every MX host must match an `mx` pattern, or senders that enforce the policy will not deliver to it. Add the host (or a one-label wildcard) to the policy, publish it, then bump the `_mta-sts` id.",
        "XCK002" => "With no MX records, mail goes to the domain itself, so a pattern must match the bare domain; with a null MX, an MTA-STS policy makes no sense. Fix the MX records or the policy.",
        "XCK003" => "A pattern matches none of the MX hosts; it only widens what senders accept. Remove it once no MX uses it.",
        "XCK004" => "Senders re-fetch the policy only when the _mta-sts id changes. Whenever the policy content changes, publish a new id (after the new policy is served), and never reuse an old id.",
        "XCK005" => "Senders that see a new _mta-sts id fetch the policy and cache what they get under that id. Publish the new policy first, check that the host serves it (CDN caches included), and only then change the id: two applies, or `depends_on` from the TXT record to the policy object (and any cache invalidation).",
        "XCK006" => "Senders keep the policy they cached for up to its max_age. Before moving mail to a new MX host, add it to the policy, bump the id, and wait at least the old max_age; only then change the MX records.",
        "XCK007" => "Removing MTA-STS safely: serve `mode: none` with a short max_age and a new id, wait for the largest max_age ever served to pass, and only then delete the record and the policy.",
        "XCK008" => "Go to `enforce` only after running `mode: testing` with a TLSRPT record for about two weeks and reading the reports: an enforce policy that does not match your MX hosts and certificates makes senders refuse mail. From a plan this compares the policy's mode before and after (a new policy in enforce, or none to enforce); how long testing lasted needs the report history and is not checked offline.",
        "XCK009" => "MX targets must be host names (not IP addresses or CNAMEs): pattern matching and the certificate check use the MX name.",
        "NET001" => "Senders must resolve `_mta-sts.<domain>` (a lookup that fails, rather than answering NXDOMAIN or no records, leaves them unsure) and the policy host `mta-sts.<domain>` (A or AAAA, following CNAMEs). Fix the zone or the delegation, or remove a dangling CNAME.",
        "NET002" => "Senders fetch the policy over HTTPS on port 443 with SNI `mta-sts.<domain>` and TLS 1.2 or later. Make the host reachable there and serve that name on it.",
        "NET003" => "The policy host's certificate must be valid for `mta-sts.<domain>` (a SAN DNS name; a wildcard only as the left-most label), chain to a public root and not be expired. With a CNAME to a provider, the provider must serve a certificate for your name. A warning comes 14 days before it expires: renew it (check the ACME renewal).",
        "NET004" => "The policy must be served with status 200 at `/.well-known/mta-sts.txt`. Senders do not follow redirects: serve the file itself, not a 3xx to another place.",
        "NET005" => "Serve the policy as `Content-Type: text/plain` (optionally with `charset=utf-8`); some senders reject other media types.",
        "NET007" => "Every MX host must offer STARTTLS in its EHLO reply, negotiate TLS 1.2 or later and not require SNI; in enforce mode senders refuse an MX without STARTTLS. Enable STARTTLS on port 25 with a current TLS configuration.",
        "NET008" => "Each MX host's certificate must be valid for the MX host name as a SAN DNS name (a CN alone does not count; a wildcard only as the left-most label), chain to a public root and not be expired; in enforce mode senders refuse the MX otherwise. A warning comes 14 days before it expires.",
        "NET006" => "Response hygiene: keep the body well under the 64 KiB senders read, serve it as utf-8 or us-ascii, answer quickly, and keep shared cache lifetimes short so a new policy is seen.",
        "NET009" => "Report destinations must be able to receive reports: a mailto: domain needs MX records (or an address) and no null MX; an https: endpoint must accept a POST with a 2xx status. Fix the destination or the rua list.",
        "PLN001" => "A planned mta-sts.txt object could not be tied to a domain (its bucket or path has no `mta-sts.<domain>` component, and the plan has not exactly one domain with an _mta-sts record), so its policy was not checked. Map it in the config file: `[[policy]]` with `address` (or `location`) and `domain`.",
        "PLN002" => "A value is known only after apply (a computed record name, zone or value, or a policy body), so the checks that need it were not run on it. Make the value a literal known at plan time, or check the applied value with `stsguard lint --domain`.",
        "PLN003" => "The plan does not contain a value the checks need: a hosted zone managed elsewhere (the record name is then taken as written) or a policy body read from a file at apply time. Check that part separately, e.g. `stsguard lint --domain D --policy FILE`.",
        "PLN004" => "A check was skipped because the plan does not manage what it needs: the MX records, the _mta-sts or _smtp._tls record, the policy file, or anything at all for a domain listed in the config. Records managed elsewhere are not guessed; check them with `stsguard lint --domain`.",
        "PLN005" => "The plan reader applied a tolerance: an unknown plan action read as no-op, a TXT value with unbalanced quotes read as one string, invalid base64, values beyond a cap, or notes left out. Check the value the message names.",
        _ => "See the rule catalogue.",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_protocol_rule_names_its_rfc_section_and_json_carries_it() {
        for r in RULES {
            let rfc = source(r);
            assert_eq!(rfc.is_empty(), r.starts_with("PLN"), "{r}: {rfc:?}");
            assert!(rfc.is_empty() || rfc.starts_with("RFC "), "{r}: {rfc}");
            assert_ne!(help(r), "See the rule catalogue.", "{r}");
        }
        let f = lint_domain(&input(
            "version: STSv1\nmode: enforce\nmax_age: 86400\n",
            MxSet::Unknown,
        ));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json[0]["rule"], "POL005", "{json:#}");
        assert_eq!(json[0]["rfc"], "RFC 8461 §3.2 (ABNF)", "{json:#}");
        let pln = Finding {
            rule: "PLN004",
            severity: Severity::Info,
            domain: String::new(),
            message: String::new(),
            address: None,
            help: help("PLN004"),
        };
        assert!(serde_json::to_value(&pln).unwrap().get("rfc").is_none());
    }

    fn input(policy: &str, mx: MxSet) -> DomainInput {
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

    const ENFORCE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.mail.example.com\r\nmax_age: 1209600\r\n";

    fn hosts(h: &[&str]) -> MxSet {
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
    fn findings_without_a_domain_render_without_an_empty_prefix() {
        let f = vec![Finding {
            rule: "PLN001",
            severity: Severity::Info,
            domain: String::new(),
            message: "the policy file b/.well-known/mta-sts.txt could not be attributed".into(),
            address: Some("aws_s3_object.p".into()),
            help: help("PLN001"),
        }];
        let v = to_sarif(&f, "plan.json");
        let text = v["runs"][0]["results"][0]["message"]["text"].as_str().unwrap();
        assert!(text.starts_with("the policy file"), "{text}");
        let gh = to_github(&f, Some("plan.json"));
        assert!(
            gh.starts_with("::notice file=plan.json,title=PLN001::the policy"),
            "{gh}"
        );
    }

    #[test]
    fn grammar_findings_carry_domain_and_help() {
        let mut i = input(ENFORCE, MxSet::Unknown);
        i.sts_records = Some(vec![vec![b"v=STSv1; id=2024-06-01".to_vec()]]);
        let f = lint_domain(&i);
        assert_eq!(f[0].rule, "STS004");
        assert_eq!(f[0].domain, "example.com");
        assert!(f[0].help.contains("letters or digits"));
        assert!(
            RULES.iter().all(|r| help(r) != help("NOPE")),
            "every implemented rule has help"
        );
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

    #[test]
    fn sarif_has_rule_metadata_and_levels() {
        let f = lint_domain(&input(ENFORCE, hosts(&["mx1.example.com", "mx3.example.com"])));
        let v = to_sarif(&f, "mta-sts.txt");
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["id"], "XCK001");
        assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(
            (results[1]["ruleId"].as_str(), results[1]["level"].as_str()),
            (Some("XCK003"), Some("note"))
        );
        assert_eq!(results[1]["ruleIndex"], 1);
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "mta-sts.txt"
        );
    }

    #[test]
    fn github_annotations_escape_report_text() {
        let f = vec![Finding {
            rule: "XCK001",
            severity: Severity::Error,
            domain: "example.com".into(),
            message: "evil\n::error::injected 100%".into(),
            address: None,
            help: "fix, then: retry",
        }];
        let out = to_github(&f, Some("dir/mta,sts.txt"));
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.starts_with(
                "::error file=dir/mta%2Csts.txt,title=XCK001 example.com::evil%0A::error::injected 100%25"
            ),
            "{out}"
        );
    }
}
