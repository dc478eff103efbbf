//! Every domain of a Terraform plan: [`lint_plan`] and [`lint_plan_with`] run
//! [`super::lint_domain`] on what DNS and HTTPS will serve after the apply, add
//! the rules that need the plan's names, TTLs and before values (STS008, TLR008,
//! STS009, XCK004, XCK005, XCK007, XCK008), and turn what the plan cannot tell
//! into findings of the PLN family (PLN001-PLN005: info, except PLN001, a
//! warning for a part nothing was checked for), so that nothing is skipped in
//! silence. [`LintConfig`] maps policy files to domains, limits the
//! domains and overrides severities.

use std::collections::HashMap;

use super::config::LintConfig;
use super::domain::{lint_domain, DomainInput, MxSet};
use super::Finding;
use crate::diag::Severity;
use crate::plan::{Action, NoteKind, Plan, PlannedPolicy, PlannedRecord};
use crate::policy::{parse_policy, Mode};
use crate::records::parse_sts_records;

/// Lints every domain that a Terraform plan gives an `_mta-sts` or `_smtp._tls`
/// record, or a policy file. Records and files the plan deletes are not linted
/// as deployed; their removal is judged by XCK007 and STS001. A part the plan
/// does not contain is not guessed: the checks that need it are skipped and a
/// PLN finding (PLN001-PLN005) says so.
pub fn lint_plan(plan: &Plan) -> Vec<Finding> {
    lint_plan_with(plan, &LintConfig::default())
}

/// [`lint_plan`] under a configuration: its policy-file mapping attributes
/// policies first; then only its `domains` (when given) are linted, those of
/// them the plan says nothing about get a PLN004 finding, and its severity
/// overrides and ignores are applied.
pub fn lint_plan_with(plan: &Plan, config: &LintConfig) -> Vec<Finding> {
    lint_plan_extended(plan, config, |_, _, _| Vec::new())
}

/// The policy domains a plan is linted for, under `config`: every domain the
/// plan gives an `_mta-sts` or `_smtp._tls` record or a policy file (after the
/// configuration's policy mapping), limited to the configuration's `domains`.
pub fn plan_domains(plan: &Plan, config: &LintConfig) -> Vec<String> {
    let mut policies = plan.policies.clone();
    config.attribute(&mut policies);
    all_plan_domains(plan, &policies)
        .into_iter()
        .filter(|d| config.wants(d))
        .collect()
}

fn all_plan_domains(plan: &Plan, policies: &[PlannedPolicy]) -> Vec<String> {
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
    plan: &Plan,
    config: &LintConfig,
    extra: impl Fn(&str, &PlannedParts<'_>, &[Finding]) -> Vec<Finding>,
) -> Vec<Finding> {
    let mut policies = plan.policies.clone();
    config.attribute(&mut policies);
    let domains = all_plan_domains(plan, &policies);
    let mut out = misplaced_records(plan);
    out.extend(tlsa_records(plan));
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
            out.push(Finding::new(
                "PLN004",
                w,
                format!(
                    "{w} is listed in the configuration, but this plan has no _mta-sts or _smtp._tls record \
                     and no policy file for it: its deployment was not checked"
                ),
            ));
        }
    }
    config.apply(out)
}

/// What a plan holds for one policy domain.
pub(crate) struct PlannedParts<'p> {
    /// The TXT records at `_mta-sts.<domain>` (deletions too).
    pub sts: Vec<&'p PlannedRecord>,
    /// The TXT records at `_smtp._tls.<domain>` (deletions too).
    pub tlsrpt: Vec<&'p PlannedRecord>,
    /// The MX records of the domain the plan keeps.
    pub mx: Vec<&'p PlannedRecord>,
    /// Every policy file attributed to the domain.
    pub mine: Vec<&'p PlannedPolicy>,
    /// The policy that stays (a file moved to a new address is created under
    /// one and deleted under the other); otherwise the one the plan deletes.
    pub policy: Option<&'p PlannedPolicy>,
    /// The policy in force before this plan: the changed file's old body, a
    /// deleted file's, or the body of a file the plan leaves as it is.
    pub previous: Option<&'p [u8]>,
    /// The parts as DNS and HTTPS will serve them after the apply.
    pub input: DomainInput,
}

fn kept(a: Action) -> bool {
    a != Action::Delete
}

/// The values of planned TXT records after the apply: `None` when unknown or
/// not in the plan, empty when the plan deletes them all.
fn planned_values(rs: &[&PlannedRecord]) -> Option<Vec<Vec<Vec<u8>>>> {
    if rs.iter().any(|r| kept(r.action) && r.unknown) {
        return None;
    }
    let known: Vec<Vec<Vec<u8>>> = rs
        .iter()
        .filter(|r| kept(r.action))
        .flat_map(|r| r.values.clone())
        .collect();
    // Records the plan manages and deletes, with none left: known to be absent.
    let removed = !rs.is_empty() && rs.iter().all(|r| r.action == Action::Delete);
    (!known.is_empty() || removed).then_some(known)
}

fn planned_parts<'p>(plan: &'p Plan, policies: &'p [PlannedPolicy], d: &str) -> PlannedParts<'p> {
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
    // In a zone the plan creates, a record the plan lacks does not exist.
    let zone_created = plan.creates_zone_of(d);
    let absent_if_created = |v: Option<Vec<Vec<Vec<u8>>>>, rs: &[&PlannedRecord]| {
        if v.is_none() && rs.is_empty() && zone_created {
            Some(Vec::new())
        } else {
            v
        }
    };
    let input = DomainInput {
        domain: d.to_owned(),
        sts_records: absent_if_created(planned_values(&sts), &sts),
        tlsrpt_records: absent_if_created(planned_values(&tlsrpt), &tlsrpt),
        policy: policy.filter(|p| kept(p.action)).and_then(|p| p.body.clone()),
        mx: if mx.is_empty() && zone_created {
            MxSet::NoMx
        } else if mx.is_empty() || mx.iter().any(|r| r.unknown) {
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
fn lint_planned_domain(plan: &Plan, parts: &PlannedParts<'_>, d: &str) -> Vec<Finding> {
    let (sts, tlsrpt, mx, mine) = (&parts.sts, &parts.tlsrpt, &parts.mx, &parts.mine);
    let (policy, previous, input) = (parts.policy, parts.previous, &parts.input);
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
        findings.push(Finding::new("PLN004", d, what).with_address(address));
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
        if sts.is_empty() && input.sts_records.is_none() {
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
        if active && tlsrpt.is_empty() && input.tlsrpt_records.is_none() {
            skip(
                format!(
                    "the plan has no _smtp._tls.{d} record, so whether failures get reported (TLR001) was \
                     not checked"
                ),
                Some(p.address.clone()),
            );
        }
        if p.body.is_none() && !sts.is_empty() && input.sts_records.as_ref().is_some_and(Vec::is_empty) {
            findings.push(
                Finding::new(
                    "STS001",
                    d,
                    format!(
                        "the plan removes every TXT record at _mta-sts.{d} but keeps the policy file {}: \
                     senders never discover it",
                        p.address
                    ),
                )
                .with_address(sts.first().map(|r| r.address.clone())),
            );
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
fn note_findings(plan: &Plan, policies: &[PlannedPolicy], domains: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in policies.iter().filter(|p| p.domain.is_none()) {
        out.push(
            Finding::new(
                "PLN001",
                "",
                format!(
                "the policy file {} could not be attributed to a domain (no mta-sts.<domain> bucket or path, \
                 and not exactly one domain with an _mta-sts record in the plan), so it was not checked",
                p.bucket_or_path
            ),
            )
            .with_address(Some(p.address.clone())),
        );
    }
    let records: HashMap<&str, &PlannedRecord> =
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
        // An MTA-STS or TLSRPT record whose zone the plan does not hold: nothing
        // about it was checked, which is worth more than an info line.
        let zone_elsewhere = n.kind == NoteKind::NotInPlan;
        if let Some(r) = records
            .get(n.address.as_str())
            .filter(|r| zone_elsewhere && r.fqdn.is_empty() && is_mta_sts_part(r))
        {
            let how = match &r.zone_id {
                Some(id) => format!(
                    "map its zone: `[[zone]] id = \"{id}\" domain = \"<domain>\"` in the configuration file, or \
                     `--zone {id}=<domain>`"
                ),
                None => "give it a full name (ending in a dot) or a zone the plan holds".to_owned(),
            };
            out.push(
                Finding::new(
                    "PLN001",
                    "",
                    format!(
                        "{} record {:?} cannot be tied to a domain ({text}), so nothing about it was checked; {how}",
                        r.rtype, r.name
                    ),
                )
                .with_address(address),
            );
            continue;
        }
        out.push(Finding::new(rule, &domain, text).with_address(address));
    }
    out
}

/// Whether a record is an `_mta-sts` or `_smtp._tls` record by its written
/// name or its value.
fn is_mta_sts_part(r: &PlannedRecord) -> bool {
    let first = r.name.split('.').next().unwrap_or_default().to_ascii_lowercase();
    let second = r.name.split('.').nth(1).unwrap_or_default().to_ascii_lowercase();
    let value: Vec<u8> = r.values.first().map(|v| v.concat()).unwrap_or_default();
    first == "_mta-sts"
        || (first == "_smtp" && second == "_tls")
        || (r.rtype == "TXT" && (value.starts_with(b"v=STSv1") || value.starts_with(b"v=TLSRPTv1")))
}

/// STS008 and TLR008: records at names senders never look at.
/// The planned TLSA records (DAN001-DAN003): each record's syntax, usages
/// SMTP cannot use, and `_25._tcp` RRsets without a second usable record.
fn tlsa_records(plan: &Plan) -> Vec<Finding> {
    use crate::dane::{parse_tlsa, smtp_host};
    let mut out = Vec::new();
    // Usable records per owner name, with the address of the last resource.
    let mut usable: std::collections::BTreeMap<&str, (usize, &str)> = std::collections::BTreeMap::new();
    for r in plan
        .records
        .iter()
        .filter(|r| r.rtype == "TLSA" && r.action != Action::Delete && !r.unknown && r.fqdn.contains('.'))
    {
        let host = smtp_host(&r.fqdn);
        let domain = host.unwrap_or(&r.fqdn);
        for v in &r.values {
            let text = String::from_utf8_lossy(&v.concat()).into_owned();
            match parse_tlsa(&text) {
                Err(e) => out.push(
                    Finding::new(
                        "DAN001",
                        domain,
                        format!(
                            "TLSA record {} at {}: {e}",
                            crate::text::quoted(text.as_bytes()),
                            r.fqdn
                        ),
                    )
                    .with_address(Some(&r.address)),
                ),
                Ok(t) if host.is_some() && !t.usable_for_smtp() => out.push(
                    Finding::new(
                        "DAN002",
                        domain,
                        format!(
                            "TLSA record {t} at {}: usage {} is not usable for SMTP; DANE senders ignore it",
                            r.fqdn, t.params.0
                        ),
                    )
                    .with_address(Some(&r.address)),
                ),
                Ok(_) => {
                    let e = usable.entry(r.fqdn.as_str()).or_insert((0, r.address.as_str()));
                    e.0 += 1;
                    e.1 = r.address.as_str();
                }
            }
        }
    }
    for (owner, (n, address)) in usable {
        if let (1, Some(host)) = (n, smtp_host(owner)) {
            out.push(
                Finding::new(
                    "DAN003",
                    host,
                    format!(
                        "{owner} has one usable TLSA record: the next key or certificate of {host} breaks DANE delivery until a record for it is published; publish it beside the current one"
                    ),
                )
                .with_address(Some(address)),
            );
        }
    }
    out
}

fn misplaced_records(plan: &Plan) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in plan
        .records
        .iter()
        // A name of unknown or unresolved zone (empty, or one label) is not judged.
        .filter(|r| r.rtype == "TXT" && r.action != Action::Delete && r.fqdn.contains('.'))
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
        out.push(
            Finding::new(
                rule,
                domain,
                format!(
                    "record at {} will never be read: senders look only at {right}.{domain}",
                    r.fqdn
                ),
            )
            .with_address(Some(&r.address)),
        );
    }
    out
}

/// STS009: TTL advice for the planned `_mta-sts` and `_smtp._tls` records.
fn ttl_checks(domain: &str, sts: &[&PlannedRecord], tlsrpt: &[&PlannedRecord]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |r: &PlannedRecord, severity, message: String| {
        out.push(
            Finding::new("STS009", domain, message)
                .with_severity(severity)
                .with_address(Some(&r.address)),
        );
    };
    // Cloudflare's TTL 1 means "automatic" (300 s), not one second.
    let ttl = |r: &PlannedRecord| match r.ttl {
        Some(1) if r.resource_type.starts_with("cloudflare_") => Some(300),
        t => t,
    };
    for r in sts.iter().filter(|r| r.action != Action::Delete) {
        if let Some((severity, message)) = ttl(r).and_then(|t| sts_ttl_advice(domain, t)) {
            push(r, severity, message);
        }
    }
    for r in tlsrpt.iter().filter(|r| r.action != Action::Delete) {
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
    plan: &Plan,
    domain: &str,
    policy: Option<&PlannedPolicy>,
    previous: Option<&[u8]>,
    sts: &[&PlannedRecord],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |rule, severity, message: String| {
        out.push(Finding::new(rule, domain, message).with_severity(severity));
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
