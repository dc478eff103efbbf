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

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::records::{character_strings, Escapes};

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
}

impl Plan {
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
    Ok(build(&raw))
}

// ---------------------------------------------------------------------------
// Raw, borrowed model of the plan JSON.

/// The marker that carries a bad `format_version` out of serde.
const VERSION_MARK: &str = "stsguard-unsupported-format-version:";

fn check_version(v: &str) -> Result<(), String> {
    let major = v.split('.').next().unwrap_or_default();
    if major == "1" {
        Ok(())
    } else {
        Err(v.to_owned())
    }
}

fn version_error(e: &serde_json::Error) -> Option<String> {
    let msg = e.to_string();
    let start = msg.find(VERSION_MARK)? + VERSION_MARK.len();
    let rest = &msg[start..];
    let end = rest.find('\u{1}').unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// A `format_version` that is checked as soon as it is read, so that a plan of
/// another major version is refused before its (possibly different) shape is.
struct Version<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Version<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Cow<'a, str> = match Field::deserialize(d)? {
            Field::Str(s) => s,
            _ => return Err(de::Error::custom("format_version is not a string")),
        };
        check_version(&s)
            .map_err(|v| de::Error::custom(format_args!("{VERSION_MARK}{}\u{1}", v.escape_debug())))?;
        Ok(Version(s))
    }
}

#[derive(Deserialize)]
struct RawPlan<'a> {
    #[serde(borrow, default, deserialize_with = "version")]
    format_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    planned_values: Option<Values<'a>>,
    #[serde(borrow, default)]
    resource_changes: Option<Vec<Change<'a>>>,
    #[serde(borrow, default)]
    prior_state: Option<State<'a>>,
    #[serde(borrow, default)]
    configuration: Option<Config<'a>>,
    /// Present in state files; used only to say "this is a state".
    #[serde(default)]
    values: Option<IgnoredAny>,
}

fn version<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Some(Version::deserialize(d)?.0))
}

#[derive(Deserialize)]
struct Config<'a> {
    #[serde(borrow, default)]
    root_module: Option<ConfigModule<'a>>,
}

#[derive(Deserialize)]
struct ConfigModule<'a> {
    #[serde(borrow, default)]
    resources: Vec<ConfigResource<'a>>,
    #[serde(borrow, default)]
    module_calls: std::collections::BTreeMap<String, ModuleCall<'a>>,
}

#[derive(Deserialize)]
struct ConfigResource<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    rtype: Cow<'a, str>,
    #[serde(borrow, default)]
    expressions: Option<Field<'a>>,
    #[serde(borrow, default)]
    depends_on: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ModuleCall<'a> {
    #[serde(borrow, default)]
    expressions: Option<Field<'a>>,
    #[serde(borrow, default)]
    module: Option<ConfigModule<'a>>,
}

#[derive(Deserialize)]
struct State<'a> {
    #[serde(borrow, default)]
    values: Option<Values<'a>>,
}

#[derive(Deserialize)]
struct Values<'a> {
    #[serde(borrow, default)]
    root_module: Option<Module<'a>>,
}

#[derive(Deserialize)]
struct Module<'a> {
    #[serde(borrow, default)]
    resources: Vec<Resource<'a>>,
    #[serde(borrow, default)]
    child_modules: Vec<Module<'a>>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    rtype: Cow<'a, str>,
    #[serde(borrow, default)]
    values: Option<Attrs<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    rtype: Cow<'a, str>,
    #[serde(borrow)]
    change: ChangeBody<'a>,
}

#[derive(Deserialize)]
struct ChangeBody<'a> {
    #[serde(borrow, default)]
    actions: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    before: Option<Attrs<'a>>,
    #[serde(borrow, default)]
    after: Option<Attrs<'a>>,
    #[serde(borrow, default)]
    after_unknown: Option<Attrs<'a>>,
}

/// The attributes read from any resource this module knows; all others are skipped.
/// `after_unknown` is read into the same shape (its leaves are booleans).
#[derive(Deserialize, Default)]
struct Attrs<'a> {
    #[serde(borrow, default)]
    name: Option<Field<'a>>,
    #[serde(borrow, default, rename = "type")]
    rtype: Option<Field<'a>>,
    #[serde(borrow, default)]
    zone_id: Option<Field<'a>>,
    #[serde(borrow, default)]
    id: Option<Field<'a>>,
    #[serde(borrow, default)]
    zone: Option<Field<'a>>,
    #[serde(borrow, default)]
    records: Option<Field<'a>>,
    #[serde(borrow, default)]
    record: Option<Field<'a>>,
    #[serde(borrow, default)]
    ttl: Option<Field<'a>>,
    #[serde(borrow, default)]
    fqdn: Option<Field<'a>>,
    #[serde(borrow, default)]
    hostname: Option<Field<'a>>,
    #[serde(borrow, default)]
    alias: Option<Field<'a>>,
    #[serde(borrow, default)]
    value: Option<Field<'a>>,
    #[serde(borrow, default)]
    content: Option<Field<'a>>,
    #[serde(borrow, default)]
    priority: Option<Field<'a>>,
    #[serde(borrow, default)]
    rrdatas: Option<Field<'a>>,
    #[serde(borrow, default)]
    zone_name: Option<Field<'a>>,
    #[serde(borrow, default)]
    domain: Option<Field<'a>>,
    #[serde(borrow, default)]
    bucket: Option<Field<'a>>,
    #[serde(borrow, default)]
    key: Option<Field<'a>>,
    #[serde(borrow, default)]
    content_base64: Option<Field<'a>>,
    #[serde(borrow, default)]
    source: Option<Field<'a>>,
    #[serde(borrow, default)]
    source_content: Option<Field<'a>>,
    #[serde(borrow, default)]
    storage_account_name: Option<Field<'a>>,
    #[serde(borrow, default)]
    storage_container_name: Option<Field<'a>>,
    #[serde(borrow, default)]
    filename: Option<Field<'a>>,
    #[serde(borrow, default)]
    sensitive_content: Option<Field<'a>>,
}

/// A JSON value with borrowed strings; only built for the attributes in [`Attrs`].
#[derive(Debug, Clone, PartialEq)]
enum Field<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    List(Vec<Field<'a>>),
    Map(Vec<(Cow<'a, str>, Field<'a>)>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor(std::marker::PhantomData))
    }
}

struct FieldVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for FieldVisitor<'a> {
    type Value = Field<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Field::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Field::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Field::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Field::Num(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Field<'a>>()? {
            out.push(v);
        }
        Ok(Field::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Field<'a>>()? {
            let v = map.next_value::<Field<'a>>()?;
            if let Field::Str(k) = k {
                out.push((k, v));
            }
        }
        Ok(Field::Map(out))
    }
}

impl<'a> Field<'a> {
    fn str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
    fn list(&self) -> &[Field<'a>] {
        match self {
            Field::List(v) => v,
            _ => &[],
        }
    }
    fn get(&self, key: &str) -> Option<&Field<'a>> {
        match self {
            Field::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn uint(&self) -> Option<u64> {
        match self {
            Field::Num(n) if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1.8e19 => Some(*n as u64),
            Field::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// Whether any leaf is `true` (for `after_unknown`).
    fn any_true(&self) -> bool {
        match self {
            Field::Bool(b) => *b,
            Field::List(v) => v.iter().any(Field::any_true),
            Field::Map(m) => m.iter().any(|(_, v)| v.any_true()),
            _ => false,
        }
    }
}

fn s<'b>(f: &'b Option<Field<'_>>) -> Option<&'b str> {
    f.as_ref().and_then(Field::str)
}

fn unk(f: &Option<Field<'_>>) -> bool {
    f.as_ref().is_some_and(Field::any_true)
}

// ---------------------------------------------------------------------------
// Building the plan.

const RECORD_TYPES: &[&str] = &[
    "aws_route53_record",
    "cloudflare_record",
    "cloudflare_dns_record",
    "google_dns_record_set",
    "azurerm_dns_txt_record",
    "azurerm_dns_mx_record",
    "azurerm_dns_a_record",
    "azurerm_dns_aaaa_record",
    "azurerm_dns_cname_record",
    "digitalocean_record",
];

const POLICY_TYPES: &[&str] = &[
    "aws_s3_object",
    "aws_s3_bucket_object",
    "google_storage_bucket_object",
    "azurerm_storage_blob",
    "local_file",
];

struct Notes(Vec<Note>, usize);

impl Notes {
    fn push(&mut self, kind: NoteKind, address: &str, text: String) {
        if self.0.len() < MAX_NOTES {
            self.0.push(Note {
                kind,
                address: address.to_owned(),
                text,
            });
        } else {
            self.1 += 1;
        }
    }
    fn finish(mut self) -> Vec<Note> {
        if self.1 > 0 {
            self.0.push(Note {
                kind: NoteKind::Lenient,
                address: String::new(),
                text: format!("{} more notes left out", self.1),
            });
        }
        self.0
    }
}

/// Zone names (lower case, no trailing dot) by zone id per provider family, by the
/// zone's address, and by the address of a record whose configuration refers to it.
#[derive(Default)]
struct Zones {
    route53: HashMap<String, String>,
    cloudflare: HashMap<String, String>,
    /// Zone address without instance keys → its name (`None` when instances differ).
    by_address: HashMap<String, Option<String>>,
    /// Record address without instance keys → the name of the zone its `zone_id`
    /// expression refers to (through module variables if need be).
    by_config: HashMap<String, String>,
}

impl Zones {
    fn by_address(&mut self, address: &str, name: &str) {
        let name = norm_name(name);
        self.by_address
            .entry(strip_indexes(address))
            .and_modify(|v| {
                if v.as_deref() != Some(name.as_str()) {
                    *v = None;
                }
            })
            .or_insert(Some(name));
    }
}

/// Removes instance keys (`[0]`, `["a.b"]`) from an address.
fn strip_indexes(addr: &str) -> String {
    let mut out = String::with_capacity(addr.len());
    let (mut inside, mut in_str, mut esc) = (false, false, false);
    for c in addr.chars() {
        if inside {
            if in_str {
                if esc {
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
            } else if c == ']' {
                inside = false;
            }
        } else if c == '[' {
            inside = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// One module on the way down the configuration: its address prefix and the
/// expressions of the `module` block that calls it.
struct Frame<'p, 'a> {
    prefix: String,
    call: Option<&'p Field<'a>>,
}

/// Deepest module nesting followed in the configuration.
const MAX_MODULE_DEPTH: usize = 64;

fn walk_config<'p, 'a>(
    m: &'p ConfigModule<'a>,
    stack: &mut Vec<Frame<'p, 'a>>,
    zones: &mut Zones,
    deps: &mut HashMap<String, Vec<String>>,
) {
    let Some(level) = stack.len().checked_sub(1) else {
        return;
    };
    if level > MAX_MODULE_DEPTH {
        return;
    }
    let prefix = stack[level].prefix.clone();
    for r in &m.resources {
        let rtype = r.rtype.as_ref();
        {
            let mut list = Vec::new();
            for d in &r.depends_on {
                push_dependency(&prefix, d, &mut list);
            }
            if let Some(e) = &r.expressions {
                collect_references(e, &prefix, &mut list, 0);
            }
            list.sort();
            list.dedup();
            if !list.is_empty() {
                deps.insert(format!("{prefix}{}", r.address), list);
            }
        }
        if !RECORD_TYPES.contains(&rtype) {
            continue;
        }
        let Some(e) = r.expressions.as_ref().and_then(|e| e.get("zone_id")) else {
            continue;
        };
        if let Some(z) = resolve_ref(e, stack, level, zones) {
            zones.by_config.insert(format!("{prefix}{}", r.address), z);
        }
    }
    for (name, call) in &m.module_calls {
        if let Some(child) = &call.module {
            stack.push(Frame {
                prefix: format!("{prefix}module.{name}."),
                call: call.expressions.as_ref(),
            });
            walk_config(child, stack, zones, deps);
            stack.pop();
        }
    }
}

/// The resource or module a `depends_on` entry or an expression reference names
/// (`aws_s3_object.policy.etag` -> `aws_s3_object.policy`, `module.cdn.id` ->
/// `module.cdn`), prefixed with the module's address; variables, locals and the
/// like are not followed.
fn push_dependency(prefix: &str, reference: &str, out: &mut Vec<String>) {
    let r = strip_indexes(reference);
    let parts: Vec<&str> = r.split('.').collect();
    let n = match parts.first().copied() {
        Some("var" | "local" | "each" | "count" | "path" | "self" | "terraform") | None => return,
        Some("data") => 3,
        _ => 2,
    };
    if let Some(head) = parts.get(..n) {
        if out.len() < MAX_DEPENDENCIES {
            out.push(format!("{prefix}{}", head.join(".")));
        }
    }
}

/// Most dependencies kept per resource.
const MAX_DEPENDENCIES: usize = 256;

/// Every `references` list inside a resource's `expressions` (nested blocks too).
fn collect_references(f: &Field<'_>, prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    match f {
        Field::Map(entries) => {
            for (k, v) in entries {
                if k == "references" {
                    for r in v.list().iter().filter_map(Field::str) {
                        push_dependency(prefix, r, out);
                    }
                } else {
                    collect_references(v, prefix, out, depth + 1);
                }
            }
        }
        Field::List(items) => {
            for v in items {
                collect_references(v, prefix, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The zone name an expression's `references` lead to: a zone resource or data
/// source in the same module, or a module variable set by the calling module.
fn resolve_ref(expr: &Field<'_>, stack: &[Frame<'_, '_>], level: usize, zones: &Zones) -> Option<String> {
    let refs = expr.get("references")?.list();
    for r in refs.iter().filter_map(Field::str) {
        if let Some(var) = r.strip_prefix("var.") {
            let name = var.split(['.', '[']).next().unwrap_or_default();
            let up = level.checked_sub(1);
            let e = stack.get(level).and_then(|f| f.call).and_then(|c| c.get(name));
            if let (Some(up), Some(e)) = (up, e) {
                if let Some(z) = resolve_ref(e, stack, up, zones) {
                    return Some(z);
                }
            }
            continue;
        }
        let r = strip_indexes(r);
        let parts: Vec<&str> = r.split('.').collect();
        let n = if parts.first() == Some(&"data") { 3 } else { 2 };
        let (Some(head), Some(frame)) = (parts.get(..n), stack.get(level)) else {
            continue;
        };
        let key = format!("{}{}", frame.prefix, head.join("."));
        if let Some(Some(z)) = zones.by_address.get(&key) {
            return Some(z.clone());
        }
    }
    None
}

fn walk<'p, 'a>(m: &'p Module<'a>, out: &mut Vec<&'p Resource<'a>>) {
    out.extend(m.resources.iter());
    for c in &m.child_modules {
        walk(c, out);
    }
}

fn module_resources<'p, 'a>(v: Option<&'p Values<'a>>) -> Vec<&'p Resource<'a>> {
    let mut out = Vec::new();
    if let Some(m) = v.and_then(|v| v.root_module.as_ref()) {
        walk(m, &mut out);
    }
    out
}

fn norm_name(n: &str) -> String {
    n.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn route53_zone_id(id: &str) -> String {
    id.trim().trim_start_matches("/hostedzone/").to_owned()
}

fn add_zone(z: &mut Zones, address: &str, rtype: &str, a: &Attrs<'_>) {
    match rtype {
        "aws_route53_zone" => {
            let Some(name) = s(&a.name) else { return };
            z.by_address(address, name);
            for id in [s(&a.zone_id), s(&a.id)].into_iter().flatten() {
                z.route53.insert(route53_zone_id(id), norm_name(name));
            }
        }
        "cloudflare_zone" => {
            // v4 resource: `zone`; v5 resource and data sources: `name`.
            let Some(name) = s(&a.zone).or(s(&a.name)) else {
                return;
            };
            z.by_address(address, name);
            for id in [s(&a.zone_id), s(&a.id)].into_iter().flatten() {
                z.cloudflare.insert(id.trim().to_owned(), norm_name(name));
            }
        }
        _ => {}
    }
}

fn parse_action(actions: &[Cow<'_, str>]) -> Option<Action> {
    let a: Vec<&str> = actions.iter().map(|a| a.as_ref()).collect();
    Some(match a.as_slice() {
        ["create"] => Action::Create,
        ["update"] => Action::Update,
        ["delete"] => Action::Delete,
        ["no-op"] | [] => Action::NoOp,
        ["read"] => Action::Read,
        ["delete", "create"] | ["create", "delete"] => Action::Replace,
        _ => return None,
    })
}

fn build(raw: &RawPlan<'_>) -> Plan {
    let mut notes = Notes(Vec::new(), 0);
    let planned = module_resources(raw.planned_values.as_ref());
    let prior = module_resources(raw.prior_state.as_ref().and_then(|p| p.values.as_ref()));
    let changes: &[Change<'_>] = raw.resource_changes.as_deref().unwrap_or_default();
    let by_addr: HashMap<&str, &Change<'_>> = changes.iter().map(|c| (c.address.as_ref(), c)).collect();

    let mut zones = Zones::default();
    for r in prior.iter().chain(planned.iter()) {
        if let Some(v) = &r.values {
            add_zone(&mut zones, &r.address, &r.rtype, v);
        }
    }
    for c in changes {
        for v in [&c.change.before, &c.change.after].into_iter().flatten() {
            add_zone(&mut zones, &c.address, &c.rtype, v);
        }
    }
    let mut dependencies = HashMap::new();
    if let Some(m) = raw.configuration.as_ref().and_then(|c| c.root_module.as_ref()) {
        walk_config(
            m,
            &mut vec![Frame {
                prefix: String::new(),
                call: None,
            }],
            &mut zones,
            &mut dependencies,
        );
    }

    // (address, type, after, change); planned values first, then changes that
    // planned_values does not show (deletions).
    let empty = Attrs::default();
    let mut items: Vec<(&str, &str, Option<&Attrs<'_>>, Option<&Change<'_>>)> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &planned {
        if r.mode.as_deref() == Some("data") {
            continue;
        }
        seen.insert(r.address.as_ref());
        let after = Some(r.values.as_ref().unwrap_or(&empty));
        items.push((
            &r.address,
            &r.rtype,
            after,
            by_addr.get(r.address.as_ref()).copied(),
        ));
    }
    for c in changes {
        if c.mode.as_deref() == Some("data") || seen.contains(c.address.as_ref()) {
            continue;
        }
        items.push((&c.address, &c.rtype, c.change.after.as_ref(), Some(c)));
    }

    let mut plan = Plan::default();
    let mut policy_items = Vec::new();
    for (address, rtype, after, change) in items {
        let is_record = RECORD_TYPES.contains(&rtype);
        let is_policy = POLICY_TYPES.contains(&rtype);
        if !is_record && !is_policy {
            continue;
        }
        let action = match change {
            None => Action::NoOp,
            Some(c) => match parse_action(&c.change.actions) {
                Some(a) => a,
                None => {
                    let list: Vec<&str> = c.change.actions.iter().map(|a| a.as_ref()).collect();
                    notes.push(
                        NoteKind::Lenient,
                        address,
                        format!("{address}: unknown plan action {list:?}; read as no-op"),
                    );
                    Action::NoOp
                }
            },
        };
        let before = match action {
            Action::Update | Action::Delete | Action::Replace => {
                change.and_then(|c| c.change.before.as_ref())
            }
            _ => None,
        };
        let after = if action == Action::Delete { None } else { after };
        let unknown = change.and_then(|c| c.change.after_unknown.as_ref());
        if is_record {
            if let Some(r) = record(address, rtype, after, before, unknown, action, &zones, &mut notes) {
                plan.records.push(r);
            }
        } else if let Some(p) = policy(address, rtype, after, before, unknown, action, &mut notes) {
            policy_items.push(p);
        }
    }

    // Policy domain attribution.
    let sts_domains: BTreeSet<&str> = plan
        .records
        .iter()
        .filter(|r| r.action != Action::Delete && r.rtype == "TXT")
        .filter_map(|r| r.fqdn.strip_prefix("_mta-sts."))
        .collect();
    // A TXT record whose name is unknown might be another domain's `_mta-sts`.
    let unresolved = plan.records.iter().any(|r| r.rtype == "TXT" && r.fqdn.is_empty());
    let only = if sts_domains.len() == 1 && !unresolved {
        sts_domains.first().map(|d| (*d).to_owned())
    } else {
        None
    };
    for mut p in policy_items {
        if p.domain.is_none() {
            p.domain.clone_from(&only);
        }
        if p.domain.is_none() {
            notes.push(
                NoteKind::Unattributed,
                &p.address,
                format!(
                    "{}: the policy file {} could not be attributed to a domain (no mta-sts.<domain> bucket \
                 or path, and not exactly one domain with an _mta-sts record of known name in the plan)",
                    p.address, p.bucket_or_path
                ),
            );
        }
        plan.policies.push(p);
    }
    plan.notes = notes.finish();
    plan.dependencies = dependencies;
    plan
}

// ---------------------------------------------------------------------------
// Records.

/// One side (before or after) of a record resource.
struct RecordData {
    fqdn: Option<String>,
    rtype: String,
    values: Vec<Vec<Vec<u8>>>,
    mx_hosts: Vec<String>,
    ttl: Option<u64>,
    alias: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn record(
    address: &str,
    rtype: &str,
    after: Option<&Attrs<'_>>,
    before: Option<&Attrs<'_>>,
    unknown: Option<&Attrs<'_>>,
    action: Action,
    zones: &Zones,
    notes: &mut Notes,
) -> Option<PlannedRecord> {
    let u = unknown.unwrap_or(&Attrs::default()).unknown_record();
    let after_data = after.map(|a| record_data(address, rtype, a, zones, notes));
    let before_data = before.map(|b| record_data(address, rtype, b, zones, &mut Notes(Vec::new(), 0)));
    let main = after_data.as_ref().or(before_data.as_ref())?;
    let mut fqdn = main.fqdn.clone();
    if fqdn.is_none() && after_data.is_some() {
        fqdn = before_data.as_ref().and_then(|b| b.fqdn.clone());
    }
    let name_unknown = fqdn.is_none() && (u.name || u.zone);
    let fqdn = fqdn.unwrap_or_else(|| {
        if u.name {
            notes.push(
                NoteKind::AfterApply,
                address,
                format!("{address}: the record's name is known only after apply"),
            );
        } else if u.zone {
            notes.push(
                NoteKind::AfterApply,
                address,
                format!("{address}: the record's zone is known only after apply; its full name is unknown"),
            );
        } else {
            notes.push(
                NoteKind::NotInPlan,
                address,
                format!("{address}: the record's zone is not in the plan; its full name is unknown"),
            );
        }
        String::new()
    });
    if u.values && action != Action::Delete {
        notes.push(
            NoteKind::AfterApply,
            address,
            format!("{address}: the record's values are known only after apply"),
        );
    }
    let rtype_s = main.rtype.clone();
    let (values, mx_hosts, ttl, alias) = match after_data {
        Some(d) => (d.values, d.mx_hosts, d.ttl, d.alias),
        None => (Vec::new(), Vec::new(), None, None),
    };
    Some(PlannedRecord {
        address: address.to_owned(),
        resource_type: rtype.to_owned(),
        fqdn,
        rtype: rtype_s,
        values,
        mx_hosts,
        ttl,
        alias,
        action,
        before: before_data.map(|b| b.values),
        unknown: action != Action::Delete && (u.values || name_unknown),
    })
}

struct UnknownRecord {
    name: bool,
    zone: bool,
    values: bool,
}

impl Attrs<'_> {
    fn unknown_record(&self) -> UnknownRecord {
        UnknownRecord {
            name: unk(&self.name),
            zone: unk(&self.zone_id) || unk(&self.zone_name) || unk(&self.domain),
            values: unk(&self.records)
                || unk(&self.record)
                || unk(&self.value)
                || unk(&self.content)
                || unk(&self.rrdatas)
                || unk(&self.priority)
                || unk(&self.alias),
        }
    }
}

/// The full name from a (possibly zone-relative) `name` and a zone name.
fn join_name(name: &str, zone: Option<&str>) -> Option<String> {
    let trimmed = name.trim();
    if trimmed.ends_with('.') && trimmed != "." {
        return Some(norm_name(trimmed));
    }
    let n = norm_name(trimmed);
    let zone = zone?;
    if n.is_empty() || n == "@" {
        return Some(zone.to_owned());
    }
    if n == zone || n.ends_with(&format!(".{zone}")) {
        Some(n)
    } else {
        Some(format!("{n}.{zone}"))
    }
}

fn record_data(address: &str, rtype: &str, a: &Attrs<'_>, zones: &Zones, notes: &mut Notes) -> RecordData {
    let mut d = RecordData {
        fqdn: None,
        rtype: String::new(),
        values: Vec::new(),
        mx_hosts: Vec::new(),
        ttl: a.ttl.as_ref().and_then(Field::uint),
        alias: None,
    };
    let name = s(&a.name).unwrap_or_default();
    let computed = s(&a.fqdn)
        .or(s(&a.hostname))
        .filter(|f| !f.trim().is_empty())
        .map(norm_name);
    let mut rdatas: Vec<String> = Vec::new();
    let mut priority = a.priority.as_ref().and_then(Field::uint);
    let mut mx_pairs: Vec<(Option<u64>, String)> = Vec::new();
    match rtype {
        "aws_route53_record" => {
            d.rtype = s(&a.rtype).unwrap_or_default().to_ascii_uppercase();
            let zone = s(&a.zone_id)
                .and_then(|z| zones.route53.get(&route53_zone_id(z)))
                .or_else(|| zones.by_config.get(&strip_indexes(address)))
                .map(String::as_str);
            d.fqdn = computed.or_else(|| join_name(name, zone));
            if d.fqdn.is_none() && name.contains('.') {
                notes.push(
                    NoteKind::NotInPlan,
                    address,
                    format!(
                    "{address}: the hosted zone of {name:?} is not in the plan; the name is assumed to be \
                     fully qualified"
                ),
                );
                d.fqdn = Some(norm_name(name));
            }
            rdatas = strings(a.records.as_ref());
            if let Some(al) = a.alias.as_ref().and_then(|f| f.list().first()) {
                d.alias = al.get("name").and_then(Field::str).map(norm_name);
            }
        }
        "cloudflare_record" | "cloudflare_dns_record" => {
            d.rtype = s(&a.rtype).unwrap_or_default().to_ascii_uppercase();
            let zone = s(&a.zone_id)
                .and_then(|z| zones.cloudflare.get(z.trim()))
                .or_else(|| zones.by_config.get(&strip_indexes(address)))
                .map(String::as_str);
            d.fqdn = computed.or_else(|| join_name(name, zone));
            if d.fqdn.is_none() && name.contains('.') && rtype == "cloudflare_dns_record" {
                // v5 names are fully qualified.
                d.fqdn = Some(norm_name(name));
            }
            rdatas = s(&a.content)
                .or(s(&a.value))
                .map(|v| vec![v.to_owned()])
                .unwrap_or_default();
        }
        "google_dns_record_set" => {
            d.rtype = s(&a.rtype).unwrap_or_default().to_ascii_uppercase();
            d.fqdn = Some(norm_name(name)).filter(|n| !n.is_empty());
            rdatas = strings(a.rrdatas.as_ref());
        }
        "digitalocean_record" => {
            d.rtype = s(&a.rtype).unwrap_or_default().to_ascii_uppercase();
            d.fqdn = computed.or_else(|| join_name(name, s(&a.domain).map(norm_name).as_deref()));
            rdatas = s(&a.value).map(|v| vec![v.to_owned()]).unwrap_or_default();
        }
        t if t.starts_with("azurerm_dns_") => {
            d.rtype = t
                .trim_start_matches("azurerm_dns_")
                .trim_end_matches("_record")
                .to_ascii_uppercase();
            d.fqdn = computed.or_else(|| join_name(name, s(&a.zone_name).map(norm_name).as_deref()));
            match t {
                "azurerm_dns_txt_record" => {
                    rdatas = a
                        .record
                        .as_ref()
                        .map(|r| {
                            r.list()
                                .iter()
                                .filter_map(|x| x.get("value")?.str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                }
                "azurerm_dns_mx_record" => {
                    for x in a.record.as_ref().map(Field::list).unwrap_or_default() {
                        let pref = x.get("preference").and_then(Field::uint);
                        if let Some(h) = x.get("exchange").and_then(Field::str) {
                            mx_pairs.push((pref, norm_name(h)));
                        }
                    }
                }
                "azurerm_dns_cname_record" => {
                    rdatas = s(&a.record).map(|v| vec![v.to_owned()]).unwrap_or_default()
                }
                _ => rdatas = strings(a.records.as_ref()),
            }
        }
        _ => {}
    }
    if rdatas.len() > MAX_RECORDS_PER_RESOURCE {
        notes.push(
            NoteKind::Lenient,
            address,
            format!(
                "{address}: {} values, only the first {MAX_RECORDS_PER_RESOURCE} are read",
                rdatas.len()
            ),
        );
        rdatas.truncate(MAX_RECORDS_PER_RESOURCE);
    }
    match d.rtype.as_str() {
        "TXT" | "SPF" => {
            for v in &rdatas {
                let strings = match rtype {
                    "aws_route53_record" => route53_txt(address, v, notes),
                    "google_dns_record_set" => presentation(v, false).unwrap_or_else(|| {
                        notes.push(
                            NoteKind::Lenient,
                            address,
                            format!("{address}: TXT rrdata {v:?} is not valid presentation form"),
                        );
                        vec![v.as_bytes().to_vec()]
                    }),
                    "cloudflare_record" | "cloudflare_dns_record" if v.trim_start().starts_with('"') => {
                        presentation(v, false).unwrap_or_else(|| chunks(v))
                    }
                    _ => chunks(v),
                };
                d.values.push(cap_strings(address, strings, notes));
            }
        }
        "MX" => {
            for v in &rdatas {
                if priority.is_some() && !v.trim().contains(' ') {
                    mx_pairs.push((priority.take(), norm_name(v)));
                    continue;
                }
                let mut parts = v.split_whitespace();
                match (parts.next(), parts.next()) {
                    (Some(p), Some(h)) => mx_pairs.push((p.parse().ok(), norm_name(h))),
                    (Some(h), None) => mx_pairs.push((None, norm_name(h))),
                    _ => {}
                }
            }
            mx_pairs.truncate(MAX_RECORDS_PER_RESOURCE);
            for (pref, host) in mx_pairs {
                let text = match pref {
                    Some(p) => format!("{p} {host}"),
                    None => host.clone(),
                };
                d.values.push(vec![text.into_bytes()]);
                d.mx_hosts.push(host);
            }
        }
        "CNAME" => d.values = rdatas.iter().map(|v| vec![norm_name(v).into_bytes()]).collect(),
        _ => {
            d.values = rdatas
                .iter()
                .map(|v| vec![v.trim().as_bytes().to_vec()])
                .collect()
        }
    }
    d
}

fn strings(f: Option<&Field<'_>>) -> Vec<String> {
    f.map(|f| {
        f.list()
            .iter()
            .filter_map(|x| x.str().map(str::to_owned))
            .collect()
    })
    .unwrap_or_default()
}

fn cap_strings(address: &str, mut v: Vec<Vec<u8>>, notes: &mut Notes) -> Vec<Vec<u8>> {
    if v.len() > MAX_STRINGS_PER_RECORD {
        notes.push(
            NoteKind::Lenient,
            address,
            format!(
                "{address}: a TXT record of {} strings is cut to {MAX_STRINGS_PER_RECORD}",
                v.len()
            ),
        );
        v.truncate(MAX_STRINGS_PER_RECORD);
    }
    v
}

/// A plain TXT value as a provider that splits long text sends it: 255-byte strings.
fn chunks(v: &str) -> Vec<Vec<u8>> {
    if v.is_empty() {
        return vec![Vec::new()];
    }
    v.as_bytes().chunks(255).map(<[u8]>::to_vec).collect()
}

/// A Route 53 TXT value as the AWS provider sends it: it strips one pair of
/// surrounding quotes, then sends `"` + value + `"`, so `a\"\"b` and `a\" \"b`
/// are the two strings `a` and `b`. Route 53 writes other bytes as `\ooo` octal.
fn route53_txt(address: &str, v: &str, notes: &mut Notes) -> Vec<Vec<u8>> {
    let inner = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    };
    presentation(&format!("\"{inner}\""), true).unwrap_or_else(|| {
        notes.push(
            NoteKind::Lenient,
            address,
            format!("{address}: TXT value {v:?} has unbalanced quotes; read as one string"),
        );
        vec![inner.as_bytes().to_vec()]
    })
}

/// Character-strings in DNS presentation form, strictly (`None` on an unbalanced
/// quote or a bad escape); `\DDD` is octal for Route 53, decimal otherwise.
fn presentation(v: &str, octal: bool) -> Option<Vec<Vec<u8>>> {
    let escapes = if octal { Escapes::Octal } else { Escapes::Decimal };
    character_strings(v, escapes, true)
}

// ---------------------------------------------------------------------------
// Policies.

fn policy(
    address: &str,
    rtype: &str,
    after: Option<&Attrs<'_>>,
    before: Option<&Attrs<'_>>,
    unknown: Option<&Attrs<'_>>,
    action: Action,
    notes: &mut Notes,
) -> Option<PlannedPolicy> {
    let main = after.or(before)?;
    let location = policy_location(rtype, main)?;
    let normalized = location.replace('\\', "/");
    if !normalized.trim_end().ends_with(POLICY_SUFFIX) {
        return None;
    }
    let body = after.and_then(|a| policy_body(address, rtype, a, notes));
    let u = unknown.unwrap_or(&Attrs::default()).unknown_body();
    if after.is_some() && body.is_none() {
        if u {
            notes.push(
                NoteKind::AfterApply,
                address,
                format!("{address}: the policy body is known only after apply"),
            );
        } else if s(&main.source).is_some() {
            notes.push(
                NoteKind::NotInPlan,
                address,
                format!(
                    "{address}: the policy body is read from a file ({:?}) that the plan does not contain",
                    s(&main.source).unwrap_or_default()
                ),
            );
        } else {
            notes.push(
                NoteKind::NotInPlan,
                address,
                format!("{address}: the policy body is not in the plan"),
            );
        }
    }
    let before_body = before.and_then(|b| policy_body(address, rtype, b, &mut Notes(Vec::new(), 0)));
    let dir = normalized
        .trim_end()
        .strip_suffix(POLICY_SUFFIX)
        .unwrap_or_default();
    let domain = dir.split('/').find_map(|c| {
        let c = norm_name(c);
        c.strip_prefix("mta-sts.")
            .filter(|d| d.contains('.'))
            .map(str::to_owned)
    });
    Some(PlannedPolicy {
        address: address.to_owned(),
        resource_type: rtype.to_owned(),
        bucket_or_path: location,
        domain,
        body,
        before: before_body,
        action,
    })
}

impl Attrs<'_> {
    fn unknown_body(&self) -> bool {
        unk(&self.content)
            || unk(&self.content_base64)
            || unk(&self.source_content)
            || unk(&self.sensitive_content)
    }
}

fn policy_location(rtype: &str, a: &Attrs<'_>) -> Option<String> {
    let key = |k: &str| k.trim_start_matches('/').to_owned();
    Some(match rtype {
        "aws_s3_object" | "aws_s3_bucket_object" => {
            format!("{}/{}", s(&a.bucket).unwrap_or_default(), key(s(&a.key)?))
        }
        "google_storage_bucket_object" => {
            format!("{}/{}", s(&a.bucket).unwrap_or_default(), key(s(&a.name)?))
        }
        "azurerm_storage_blob" => format!(
            "{}/{}/{}",
            s(&a.storage_account_name).unwrap_or_default(),
            s(&a.storage_container_name).unwrap_or_default(),
            key(s(&a.name)?)
        ),
        "local_file" => s(&a.filename)?.to_owned(),
        _ => return None,
    })
}

fn policy_body(address: &str, rtype: &str, a: &Attrs<'_>, notes: &mut Notes) -> Option<Vec<u8>> {
    let text = match rtype {
        "azurerm_storage_blob" => s(&a.source_content),
        "local_file" => s(&a.content).or(s(&a.sensitive_content)),
        _ => s(&a.content),
    };
    if let Some(t) = text {
        return Some(t.as_bytes().to_vec());
    }
    let b64 = s(&a.content_base64)?;
    let decoded = base64_decode(b64);
    if decoded.is_none() {
        notes.push(
            NoteKind::Lenient,
            address,
            format!("{address}: content_base64 is not valid base64"),
        );
    }
    decoded
}

/// Standard base64 (RFC 4648 §4), padding optional, blanks ignored.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero and fewer than 6 (a lone trailing character is invalid).
    if bits >= 6 || acc != 0 || pad > 2 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
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
