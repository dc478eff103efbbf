//! The Terraform / OpenTofu plan reader: `terraform show -json PLANFILE` in, the
//! planned DNS records and MTA-STS policy files out.
//!
//! [`read_plan`] is pure (bytes in, values out) and never panics. It accepts plan
//! `format_version` 1.x and refuses any other major version. It reads
//! `planned_values` (root module and `child_modules` at any depth),
//! `resource_changes` (actions, `before`, `after`, `after_unknown`) and
//! `prior_state` (data sources read during planning, such as a zone looked up by
//! id). The JSON is parsed into typed, mostly borrowed structs: of each resource
//! only the handful of attributes this module reads is kept, the rest is skipped.
//!
//! Supported resources:
//!
//! * records: `aws_route53_record` (FQDN or zone-relative names, the zone found
//!   through an `aws_route53_zone` resource or data source; Route 53's quoted
//!   `""` split strings; alias records), `cloudflare_record` (v4, `value` or
//!   `content`), `cloudflare_dns_record` (v5), `google_dns_record_set`,
//!   `azurerm_dns_txt_record`, `azurerm_dns_mx_record`, `azurerm_dns_a_record`,
//!   `azurerm_dns_aaaa_record`, `azurerm_dns_cname_record`, `digitalocean_record`;
//! * policy files: `aws_s3_object` / `aws_s3_bucket_object`,
//!   `google_storage_bucket_object`, `azurerm_storage_blob` and `local_file`
//!   whose key, name or path ends in `.well-known/mta-sts.txt`.
//!
//! Anything that cannot be verified offline (values known only after apply, a
//! zone that the plan does not show, a policy body read from a file) becomes a
//! [`Plan::notes`] entry, never an error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::de::IgnoredAny;

mod build;
mod deps;
mod json;
mod policies;
mod providers;
mod zones;

use json::{check_version, version_error, RawPlan};
use zones::strip_indexes;

/// The largest plan accepted, in bytes (512 MiB).
pub const MAX_PLAN_BYTES: usize = 512 << 20;
/// Records (values) read from one resource; the rest are reported in a note.
pub const MAX_RECORDS_PER_RESOURCE: usize = 1000;
/// Character-strings read from one TXT record; the rest are reported in a note.
pub const MAX_STRINGS_PER_RECORD: usize = 1024;
/// Notes kept; beyond this one final note says how many were left out.
pub const MAX_NOTES: usize = 1000;

/// The path suffix that marks a policy file.
const POLICY_SUFFIX: &str = ".well-known/mta-sts.txt";

/// Why a plan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The input is larger than [`MAX_PLAN_BYTES`].
    #[error("the plan is {size} bytes, over the cap of {cap} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The cap.
        cap: usize,
    },
    /// The input is not JSON.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The input is JSON but not the output of `terraform show -json PLANFILE`.
    #[error("not a Terraform plan (expected the output of `terraform show -json PLANFILE`): {reason}")]
    NotAPlan {
        /// What is wrong with it.
        reason: String,
    },
    /// The plan's `format_version` has a major version other than 1.
    #[error(
        "unsupported plan format_version {version:?}: stsguard reads format_version 1.x \
         (Terraform and OpenTofu 1.x); upgrade stsguard"
    )]
    UnsupportedVersion {
        /// The `format_version` found.
        version: String,
    },
}

/// What a plan does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Created.
    Create,
    /// Updated in place.
    Update,
    /// Destroyed.
    Delete,
    /// Left as it is.
    NoOp,
    /// Destroyed and created again (either order).
    Replace,
    /// A data source read during apply.
    Read,
}

/// One planned DNS record set (one resource instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRecord {
    /// The resource instance address, e.g. `module.mail.aws_route53_record.sts[0]`.
    pub address: String,
    /// The resource type, e.g. `aws_route53_record`.
    pub resource_type: String,
    /// The owner name: lower case, no trailing dot; empty when it cannot be resolved
    /// (a note says why).
    pub fqdn: String,
    /// The name as the configuration writes it (zone-relative or full).
    pub name: String,
    /// The zone id the record names, when it names one (Route 53, Cloudflare).
    pub zone_id: Option<String>,
    /// The record type, upper case: `TXT`, `MX`, `A`, `AAAA`, `CNAME`, ….
    pub rtype: String,
    /// After the change, one entry per record: its character-strings for TXT (as DNS
    /// will serve them), one string `PRIORITY HOST` for MX, one string (address or
    /// target) for the other types. Empty for a deletion or an alias.
    pub values: Vec<Vec<Vec<u8>>>,
    /// For MX: the target host names after the change, lower case, no trailing dot.
    pub mx_hosts: Vec<String>,
    /// The TTL after the change, when known.
    pub ttl: Option<u64>,
    /// For a Route 53 alias record: the alias target name, lower case, no trailing dot.
    pub alias: Option<String>,
    /// What the plan does to the record.
    pub action: Action,
    /// The values before the change (same shape as `values`) for an update, a
    /// replacement or a deletion.
    pub before: Option<Vec<Vec<Vec<u8>>>>,
    /// The values (or the name) are known only after apply; `values` then holds what
    /// is known, possibly nothing.
    pub unknown: bool,
}

/// One planned MTA-STS policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPolicy {
    /// The resource instance address.
    pub address: String,
    /// The resource type, e.g. `aws_s3_object`.
    pub resource_type: String,
    /// Where the file goes: `BUCKET/KEY` for object stores,
    /// `ACCOUNT/CONTAINER/NAME` for Azure blobs, the path for `local_file`.
    pub bucket_or_path: String,
    /// The policy domain: from a bucket or path component named `mta-sts.<domain>`,
    /// else the only domain with an `_mta-sts` record in the plan, else `None`.
    pub domain: Option<String>,
    /// The file's bytes after the change; `None` when known only after apply or
    /// read from a file the plan does not contain.
    pub body: Option<Vec<u8>>,
    /// The bytes before the change, for an update, a replacement or a deletion.
    pub before: Option<Vec<u8>>,
    /// What the plan does to the file.
    pub action: Action,
}

/// What kind of thing a [`Note`] says the plan cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteKind {
    /// A policy file could not be attributed to a domain.
    Unattributed,
    /// A value (a record's name, zone or values, a policy body) is known only
    /// after apply.
    AfterApply,
    /// A value the plan does not contain: a hosted zone, a policy body read from
    /// a file at apply time.
    NotInPlan,
    /// A value read leniently or cut at a cap (an unknown action, unbalanced
    /// quotes, invalid base64, too many values), or notes left out.
    Lenient,
}

/// One thing the plan reader could not verify offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What kind of gap it is.
    pub kind: NoteKind,
    /// The resource instance address it is about; empty for the final "notes
    /// left out" note.
    pub address: String,
    /// One line, starting with the address.
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a plan holds for MTA-STS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The DNS records, in plan order (planned values first, then deletions).
    pub records: Vec<PlannedRecord>,
    /// The policy files.
    pub policies: Vec<PlannedPolicy>,
    /// What could not be verified offline (values known after apply, unresolved
    /// zones, unattributed policies, tolerances applied), each naming the address.
    pub notes: Vec<Note>,
    /// What the configuration orders before what: for a resource's address
    /// without instance keys (`module.mail.aws_route53_record.sts`), the
    /// resources and modules it names in `depends_on` or refers to in its
    /// expressions (`module.mail.aws_s3_object.policy`, `module.cdn`). Terraform
    /// applies a resource only after those; anything else may run at the same
    /// time.
    pub dependencies: HashMap<String, Vec<String>>,
    /// The hosted zones this plan creates (names, lower case): every record of
    /// such a zone is in the plan, so a record the plan lacks is absent.
    pub created_zones: Vec<String>,
    /// How each zone id named by a record was resolved, by id as the record
    /// writes it.
    pub zone_ids: BTreeMap<String, ZoneSource>,
}

/// Where the name of a zone that records refer to by id came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneSource {
    /// A zone resource or data source of the plan (or the configuration's
    /// reference to one) names it.
    Plan(String),
    /// The user's mapping (`[[zone]]` in the configuration, `--zone`).
    Mapped(String),
    /// Inferred: the records of the zone share a name that is a suffix of all
    /// of theirs (the apex, the zone's own name).
    Inferred(String),
    /// Not known: the zone is managed elsewhere.
    Unknown,
}

impl ZoneSource {
    /// The zone's name, when known.
    pub fn name(&self) -> Option<&str> {
        match self {
            ZoneSource::Plan(n) | ZoneSource::Mapped(n) | ZoneSource::Inferred(n) => Some(n),
            ZoneSource::Unknown => None,
        }
    }
}

/// What the user says about a plan that the plan cannot tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Zone id -> domain, for zones managed outside the plan.
    pub zones: Vec<(String, String)>,
}

impl Plan {
    /// How the zone id `id` (as a record or the user writes it) was resolved;
    /// `None` when no record of the plan names it.
    pub fn zone_source(&self, id: &str) -> Option<&ZoneSource> {
        self.zone_ids
            .iter()
            .find(|(written, _)| providers::same_zone_id(written, id))
            .map(|(_, source)| source)
    }

    /// Whether the plan creates the hosted zone that holds `name`.
    pub fn creates_zone_of(&self, name: &str) -> bool {
        self.created_zones
            .iter()
            .any(|z| name == z || name.strip_suffix(z.as_str()).is_some_and(|p| p.ends_with('.')))
    }

    /// Whether the configuration makes Terraform apply `address` only after
    /// `before` (both resource instance addresses): through `depends_on` or a
    /// reference, directly or through other record or policy resources, or
    /// through a dependency on a module that contains `before`.
    pub fn applies_after(&self, address: &str, before: &str) -> bool {
        let target = strip_indexes(before);
        // A resource, or a module that contains it.
        let covers =
            |dep: &str| target == dep || (target.starts_with(dep) && target[dep.len()..].starts_with('.'));
        let mut seen = BTreeSet::new();
        let mut todo = vec![strip_indexes(address)];
        while let Some(a) = todo.pop() {
            if !seen.insert(a.clone()) || seen.len() > MAX_DEPENDENCY_WALK {
                continue;
            }
            for dep in self.dependencies.get(&a).into_iter().flatten() {
                if covers(dep) {
                    return true;
                }
                todo.push(dep.clone());
            }
        }
        false
    }
}

/// The most resources [`Plan::applies_after`] visits.
const MAX_DEPENDENCY_WALK: usize = 10_000;

/// Reads `terraform show -json PLANFILE` output (Terraform or OpenTofu, plan
/// `format_version` 1.x).
///
/// # Errors
///
/// [`PlanError`] when the input is too large, not JSON, not a plan, or of an
/// unsupported `format_version` major version.
pub fn read_plan(json: &[u8]) -> Result<Plan, PlanError> {
    read_plan_with(json, &PlanOptions::default())
}

/// [`read_plan`] with what the user says about zones the plan does not hold.
///
/// # Errors
///
/// As [`read_plan`].
pub fn read_plan_with(json: &[u8], options: &PlanOptions) -> Result<Plan, PlanError> {
    if json.len() > MAX_PLAN_BYTES {
        return Err(PlanError::TooLarge {
            size: json.len(),
            cap: MAX_PLAN_BYTES,
        });
    }
    let first = json.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first != Some(b'{') {
        return Err(match serde_json::from_slice::<IgnoredAny>(json) {
            Ok(_) => PlanError::NotAPlan {
                reason: "the top-level value is not an object".into(),
            },
            Err(e) => PlanError::NotJson(e),
        });
    }
    let raw: RawPlan<'_> = match serde_json::from_slice(json) {
        Ok(r) => r,
        Err(e) => {
            if let Some(v) = version_error(&e) {
                return Err(PlanError::UnsupportedVersion { version: v });
            }
            return Err(match e.classify() {
                serde_json::error::Category::Data => PlanError::NotAPlan {
                    reason: e.to_string(),
                },
                _ => PlanError::NotJson(e),
            });
        }
    };
    let Some(version) = raw.format_version.as_deref() else {
        return Err(PlanError::NotAPlan {
            reason: "no format_version".into(),
        });
    };
    check_version(version).map_err(|version| PlanError::UnsupportedVersion { version })?;
    if raw.planned_values.is_none() && raw.resource_changes.is_none() {
        let reason = if raw.values.is_some() {
            "this is a state, not a plan (no planned_values or resource_changes)"
        } else {
            "no planned_values or resource_changes"
        };
        return Err(PlanError::NotAPlan {
            reason: reason.into(),
        });
    }
    Ok(build::build(&raw, options))
}

#[cfg(test)]
mod tests {
    use super::build::presentation;
    use super::policies::base64_decode;
    use super::*;

    #[test]
    fn applies_after_follows_depends_on_references_and_modules() {
        let mut plan = Plan::default();
        let deps = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        plan.dependencies.insert(
            "module.mail.aws_route53_record.sts".into(),
            deps(&["module.mail.aws_cloudfront_invalidation.p"]),
        );
        plan.dependencies.insert(
            "module.mail.aws_cloudfront_invalidation.p".into(),
            deps(&["module.mail.aws_s3_object.policy"]),
        );
        plan.dependencies
            .insert("aws_route53_record.other".into(), deps(&["module.cdn"]));
        // Instance keys do not matter; the chain is followed.
        assert!(plan.applies_after(
            "module.mail.aws_route53_record.sts[\"a.b\"]",
            "module.mail.aws_s3_object.policy[0]"
        ));
        assert!(!plan.applies_after(
            "module.mail.aws_s3_object.policy",
            "module.mail.aws_route53_record.sts"
        ));
        // A dependency on a module covers everything in it, and nothing else.
        assert!(plan.applies_after("aws_route53_record.other", "module.cdn.aws_s3_object.policy"));
        assert!(!plan.applies_after("aws_route53_record.other", "module.cdnx.aws_s3_object.policy"));
        // A cycle ends.
        plan.dependencies.insert("a.x".into(), deps(&["a.y"]));
        plan.dependencies.insert("a.y".into(), deps(&["a.x"]));
        assert!(!plan.applies_after("a.x", "a.z"));
    }

    #[test]
    fn dependencies_come_from_depends_on_and_references_in_modules() {
        let json = br#"{"format_version": "1.2", "planned_values": {"root_module": {}},
          "configuration": {"root_module": {"module_calls": {"mail": {"module": {"resources": [
            {"address": "aws_route53_record.sts", "type": "aws_route53_record",
             "depends_on": ["aws_s3_object.policy", "module.cdn"],
             "expressions": {"records": {"references": ["local.record", "data.aws_s3_object.x.body"]},
                             "nested": [{"ttl": {"references": ["var.ttl", "aws_route53_zone.z[0].ttl"]}}]}}
          ]}}}}}}"#;
        let plan = read_plan(json).unwrap_or_default();
        assert_eq!(
            plan.dependencies.get("module.mail.aws_route53_record.sts"),
            Some(&vec![
                "module.mail.aws_route53_zone.z".to_owned(),
                "module.mail.aws_s3_object.policy".to_owned(),
                "module.mail.data.aws_s3_object.x".to_owned(),
                "module.mail.module.cdn".to_owned(),
            ])
        );
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbA==").as_deref(), Some(&b"hell"[..]));
        assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("aGV*"), None);
    }

    #[test]
    fn presentation_form() {
        let p = |s| presentation(s, false);
        assert_eq!(p(r#""a" "b""#), Some(vec![b"a".to_vec(), b"b".to_vec()]));
        assert_eq!(p(r#""a""b""#), Some(vec![b"a".to_vec(), b"b".to_vec()]));
        assert_eq!(p(r#"a b"#), Some(vec![b"a".to_vec(), b"b".to_vec()]));
        assert_eq!(p(r#""a\"b\065""#), Some(vec![b"a\"bA".to_vec()]));
        assert_eq!(p(r#""a"#), None);
        assert_eq!(presentation(r#""\101""#, true), Some(vec![b"A".to_vec()]));
        assert_eq!(presentation(r#""\9""#, true), Some(vec![b"9".to_vec()]));
        assert_eq!(p(r#""\999""#), None);
    }
}
