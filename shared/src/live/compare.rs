//! A Terraform plan set against what is live (`stsguard lint PLAN --live`).
//! Pure: the live side comes in as [`LiveDomain`]s.
//!
//! For every domain of the plan, besides the plan's own findings:
//!
//! * the NET rules on what is served today ([`super::assess::net_findings`]),
//!   the MX findings weighed by the mode of the planned policy when the plan
//!   has one (an MX certificate that `enforce` will reject is an error before
//!   the policy that enforces it ships);
//! * XCK004: the policy after the apply differs from the one served today, but
//!   the `_mta-sts` id after the apply is the live one (also when the plan does
//!   not touch the TXT record, or does not contain it);
//! * XCK005: the id moves ahead of the policy: the live id already is the
//!   plan's new id while the host still serves another policy, or the plan
//!   changes the id while it leaves a policy file as it is that the host does
//!   not serve (a stale cache or another origin);
//! * XCK006: a new MX host of the plan is not covered by the policy senders
//!   have cached (the live one, active); XCK001 when the plan does not change
//!   that policy at all;
//! * XCK007: the plan removes the record or the policy while the live mode is
//!   testing or enforce.
//!
//! XCK004 and XCK007 from the plan's before values take precedence: the live
//! variant is added only when the plan alone did not fire the rule.

use std::collections::BTreeSet;

use super::assess::{live_mode, net_findings_in_mode};
use super::gather::LiveDomain;
use crate::diag::Severity;
use crate::lint::{lint_plan_extended, Finding, LintConfig, MxSet, PlannedParts};
use crate::plan::{Action, Plan};
use crate::policy::{mx_matches, parse_policy, Mode, Policy};
use crate::records::parse_sts_records;

/// [`crate::lint::lint_plan_with`] plus, for every domain found in `live`, the
/// NET findings and the plan-versus-live checks. Domains of the plan missing
/// from `live` get only the plan's findings.
pub fn lint_plan_live(plan: &Plan, config: &LintConfig, live: &[LiveDomain]) -> Vec<Finding> {
    lint_plan_extended(plan, config, |d, parts, found| {
        let Some(l) = live.iter().find(|l| l.domain == d) else {
            return Vec::new();
        };
        // The MX findings weigh as the policy after the apply will.
        let planned_mode = parts
            .input
            .policy
            .as_deref()
            .map(|b| parse_policy(b, Some(d)).policy.mode);
        let mode = match planned_mode {
            Some(m) => m,
            None => live_mode(l),
        };
        let mut out = net_findings_in_mode(l, mode.as_ref());
        out.extend(compare_domain(d, parts, l, found));
        out
    })
}

/// What the plan does to one part, as seen from the live side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Planned<T> {
    /// Not in the plan: what is live stays.
    Untouched,
    /// In the plan and left as it is, or changed: the value after the apply.
    Value(T),
    /// Deleted by the plan.
    Removed,
    /// Known only after apply.
    Unknown,
}

fn id_of(values: &[Vec<Vec<u8>>]) -> Option<String> {
    parse_sts_records(values).record.and_then(|r| r.id)
}

/// The parts of a policy senders act on: mode, max_age, version and the mx
/// patterns (as a set; order and case do not matter).
fn essence(p: &Policy) -> (Option<Mode>, Option<u64>, Option<String>, BTreeSet<String>) {
    (
        p.mode.clone(),
        p.max_age,
        p.version.clone(),
        p.mx.iter().map(|m| m.pattern.to_ascii_lowercase()).collect(),
    )
}

/// How the policy `planned` differs from `live`, for a message; `None` when
/// senders would act the same on both.
fn difference(planned: &Policy, live: &Policy) -> Option<String> {
    let (pm, pa, pv, px) = essence(planned);
    let (lm, la, lv, lx) = essence(live);
    let mut parts = Vec::new();
    if pm != lm {
        parts.push(format!(
            "mode {} -> {}",
            mode_word(lm.as_ref()),
            mode_word(pm.as_ref())
        ));
    }
    if pa != la {
        let show = |a: Option<u64>| a.map_or("(none)".to_owned(), |a| a.to_string());
        parts.push(format!("max_age {} -> {}", show(la), show(pa)));
    }
    if pv != lv {
        parts.push("version".to_owned());
    }
    let added: Vec<&String> = px.difference(&lx).collect();
    let removed: Vec<&String> = lx.difference(&px).collect();
    if !added.is_empty() {
        parts.push(format!(
            "mx + {}",
            added.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if !removed.is_empty() {
        parts.push(format!(
            "mx - {}",
            removed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn mode_word(m: Option<&Mode>) -> String {
    match m {
        Some(Mode::Enforce) => "enforce".into(),
        Some(Mode::Testing) => "testing".into(),
        Some(Mode::None) => "none".into(),
        Some(Mode::Other(o)) => o.clone(),
        None => "(none)".into(),
    }
}

fn active(m: Option<&Mode>) -> bool {
    matches!(m, Some(Mode::Enforce | Mode::Testing))
}

/// The plan-versus-live checks of one domain. `found` holds what the plan
/// alone gave the domain.
fn compare_domain(d: &str, parts: &PlannedParts<'_>, live: &LiveDomain, found: &[Finding]) -> Vec<Finding> {
    let mut out = Vec::new();
    let fired = |rule: &str| found.iter().any(|f| f.rule == rule);
    let url = super::policy_url(d);
    let mut push = |rule: &'static str, severity, message: String, address: Option<String>| {
        out.push(
            Finding::new(rule, d, message)
                .with_severity(severity)
                .with_address(address),
        );
    };
    let sts_address = parts.sts.first().map(|r| r.address.clone());
    let policy_address = parts.policy.map(|p| p.address.clone());

    // The live side: the id when the lookup answered, the served policy.
    let live_id: Option<Option<String>> = match &live.sts {
        Ok(a) => Some(id_of(&a.records)),
        Err(e) if !e.is_failure() => Some(None),
        Err(_) => None,
    };
    let live_policy = live.policy_body().map(|b| parse_policy(b, Some(d)).policy);
    let live_mode = live_mode(live);

    // The plan's side.
    let planned_id: Planned<Option<String>> = match &parts.input.sts_records {
        _ if parts.sts.is_empty() => Planned::Untouched,
        None => Planned::Unknown,
        Some(v) if v.is_empty() => Planned::Removed,
        Some(v) => Planned::Value(id_of(v)),
    };
    let planned_policy: Planned<Policy> = match parts.policy {
        None => Planned::Untouched,
        Some(p) if p.action == Action::Delete => Planned::Removed,
        Some(p) => match &p.body {
            Some(b) => Planned::Value(parse_policy(b, Some(d)).policy),
            None => Planned::Unknown,
        },
    };
    // The id after the apply, when known.
    let id_after: Option<Option<String>> = match (&planned_id, &live_id) {
        (Planned::Untouched, Some(l)) => Some(l.clone()),
        (Planned::Value(v), _) => Some(v.clone()),
        _ => None,
    };

    // XCK004 and XCK005 against the served policy.
    if let (Planned::Value(planned), Some(served), Some(Some(live_id))) =
        (&planned_policy, &live_policy, &live_id)
    {
        if let Some(diff) = difference(planned, served) {
            let id_moves_in_plan = parts.sts.iter().any(|r| {
                matches!(r.action, Action::Update | Action::Replace)
                    && r.before.as_deref().map(id_of) != Some(id_of(&r.values))
            });
            match &id_after {
                Some(Some(after)) if after == live_id && id_moves_in_plan => push(
                    "XCK005",
                    Severity::Warning,
                    format!(
                        "the live _mta-sts id is already {after}, the plan's new id, but {url} still serves \
                         another policy ({diff}): senders cache that one under the new id"
                    ),
                    sts_address.clone(),
                ),
                Some(Some(after)) if after == live_id && !fired("XCK004") => push(
                    "XCK004",
                    Severity::Error,
                    format!(
                        "the planned policy differs from the one {url} serves today ({diff}), but the _mta-sts \
                         id stays {after}: senders that cached the live policy keep it"
                    ),
                    policy_address.clone(),
                ),
                Some(Some(after))
                    if after != live_id
                        && parts.policy.is_some_and(|p| p.action == Action::NoOp)
                        && !fired("XCK005") =>
                {
                    push(
                        "XCK005",
                        Severity::Warning,
                        format!(
                            "the plan changes the _mta-sts id to {after} and leaves the policy file as it is, \
                             but {url} serves another policy ({diff}): senders will cache that one under the \
                             new id"
                        ),
                        sts_address.clone(),
                    )
                }
                _ => {}
            }
        }
    }

    // XCK006 (and XCK001 when the live policy stays): new MX hosts.
    if let (MxSet::Hosts(planned_mx), Some(served), Ok(live_mx)) = (&parts.input.mx, &live_policy, &live.mx) {
        if active(served.mode.as_ref()) {
            let live_hosts: BTreeSet<&str> = live_mx.records.iter().map(|r| r.exchange.as_str()).collect();
            let covers =
                |p: &Policy, host: &str| p.mx.iter().any(|m| m.valid && mx_matches(&m.pattern, host));
            let max_age = served
                .max_age
                .map_or("its max_age".to_owned(), |a| format!("max_age {a} s"));
            let mode = mode_word(served.mode.as_ref());
            for host in planned_mx.iter().map(|h| crate::names::normalize(h)) {
                if live_hosts.contains(host.as_str()) || covers(served, &host) {
                    continue;
                }
                match &planned_policy {
                    Planned::Untouched => push(
                        "XCK001",
                        if served.mode == Some(Mode::Enforce) {
                            Severity::Error
                        } else {
                            Severity::Warning
                        },
                        format!(
                            "MX host {host} (new in the plan) matches no mx pattern of the policy {url} serves \
                             (mode {mode}), which this plan does not change"
                        ),
                        parts.mx.first().map(|r| r.address.clone()),
                    ),
                    _ => push(
                        "XCK006",
                        Severity::Warning,
                        format!(
                            "MX host {host} is new in the plan, but the policy senders have cached from {url} \
                             (mode {mode}, {max_age}) does not cover it: publish a policy that does, with a new \
                             id, at least that long before switching the MX records"
                        ),
                        parts.mx.first().map(|r| r.address.clone()),
                    ),
                }
            }
        }
    }

    // XCK007: removal while the live mode is active.
    if active(live_mode.as_ref()) && !fired("XCK007") {
        let what = match (&planned_id, &planned_policy) {
            (Planned::Removed, Planned::Removed) => {
                Some(("the _mta-sts record and the policy", sts_address.clone()))
            }
            (Planned::Removed, _) => Some(("the _mta-sts record", sts_address.clone())),
            (_, Planned::Removed) => Some(("the policy file", policy_address.clone())),
            _ => None,
        };
        if let Some((what, address)) = what {
            let max_age = live_policy
                .as_ref()
                .and_then(|p| p.max_age)
                .map_or(String::new(), |a| format!(", max_age {a} s"));
            push(
                "XCK007",
                Severity::Warning,
                format!(
                    "the plan removes {what} while {url} serves mode {}{max_age}: publish mode none with a short \
                     max_age and a new id first, wait out the old max_age, then remove",
                    mode_word(live_mode.as_ref())
                ),
                address,
            );
        }
    }
    out
}
