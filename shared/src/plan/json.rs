//! The raw, borrowed model of `terraform show -json` output: of each resource
//! only the attributes the reader needs are kept ([`Attrs`]); everything else
//! is skipped while parsing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::policies::{holds_policy, POLICY_TYPES};
use super::providers::{record_resource, zone_resource};

/// The marker that carries a bad `format_version` out of serde.
pub(super) const VERSION_MARK: &str = "stsguard-unsupported-format-version:";

pub(super) fn check_version(v: &str) -> Result<(), String> {
    let major = v.split('.').next().unwrap_or_default();
    if major == "1" {
        Ok(())
    } else {
        Err(v.to_owned())
    }
}

pub(super) fn version_error(e: &serde_json::Error) -> Option<String> {
    let msg = e.to_string();
    let start = msg.find(VERSION_MARK)? + VERSION_MARK.len();
    let rest = &msg[start..];
    let end = rest.find('\u{1}').unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// A `format_version` that is checked as soon as it is read, so that a plan of
/// another major version is refused before its (possibly different) shape is.
pub(super) struct Version<'a>(Cow<'a, str>);

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
pub(super) struct RawPlan<'a> {
    #[serde(borrow, default, deserialize_with = "version")]
    pub(super) format_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) planned_values: Option<Values<'a>>,
    #[serde(borrow, default)]
    pub(super) resource_changes: Option<Vec<Change<'a>>>,
    #[serde(borrow, default)]
    pub(super) prior_state: Option<State<'a>>,
    #[serde(borrow, default)]
    pub(super) configuration: Option<Config<'a>>,
    /// Present in state files; used only to say "this is a state".
    #[serde(default)]
    pub(super) values: Option<IgnoredAny>,
}

pub(super) fn version<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Some(Version::deserialize(d)?.0))
}

#[derive(Deserialize)]
pub(super) struct Config<'a> {
    #[serde(borrow, default)]
    pub(super) root_module: Option<ConfigModule<'a>>,
}

#[derive(Deserialize)]
pub(super) struct ConfigModule<'a> {
    #[serde(borrow, default)]
    pub(super) resources: Vec<ConfigResource<'a>>,
    #[serde(borrow, default)]
    pub(super) module_calls: std::collections::BTreeMap<String, ModuleCall<'a>>,
}

#[derive(Deserialize)]
pub(super) struct ConfigResource<'a> {
    #[serde(borrow)]
    pub(super) address: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    pub(super) rtype: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) expressions: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) depends_on: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(super) struct ModuleCall<'a> {
    #[serde(borrow, default)]
    pub(super) expressions: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) module: Option<ConfigModule<'a>>,
}

#[derive(Deserialize)]
pub(super) struct State<'a> {
    /// Of the prior state only zones are read (a zone looked up by a data
    /// source); the attributes of every other resource are skipped.
    #[serde(borrow, default)]
    pub(super) values: Option<Values<'a, true>>,
}

/// `root_module` of planned values (`PRIOR == false`) or of the prior state.
#[derive(Deserialize)]
pub(super) struct Values<'a, const PRIOR: bool = false> {
    #[serde(borrow, default)]
    pub(super) root_module: Option<Module<'a, PRIOR>>,
}

#[derive(Deserialize)]
pub(super) struct Module<'a, const PRIOR: bool> {
    #[serde(borrow, default)]
    pub(super) resources: Vec<Resource<'a, PRIOR>>,
    #[serde(borrow, default)]
    pub(super) child_modules: Vec<Module<'a, PRIOR>>,
}

/// Which resources keep their attributes: most of a large plan (buckets,
/// roles, functions, objects that are not policies) is skipped while parsing,
/// so the tree held beside the plan's bytes stays small.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Records and zones.
    All,
    /// Object resources: only when they hold a policy file.
    IfPolicy,
    /// Everything else.
    Nothing,
}

fn keep(rtype: &str, prior: bool) -> Keep {
    if zone_resource(rtype).is_some() {
        Keep::All
    } else if prior {
        Keep::Nothing
    } else if record_resource(rtype).is_some() {
        Keep::All
    } else if POLICY_TYPES.contains(&rtype) {
        Keep::IfPolicy
    } else {
        Keep::Nothing
    }
}

/// The attributes kept of one side of a resource: `None` for a kind this
/// reader does not use (see [`Keep`]).
pub(super) type Kept<'a> = Option<Box<Attrs<'a>>>;

/// Reads attributes when `keep` says so (or the type is not known yet), and
/// skips them otherwise.
fn read_attrs<'de: 'a, 'a, A: MapAccess<'de>>(map: &mut A, keep: Option<Keep>) -> Result<Kept<'a>, A::Error> {
    if keep == Some(Keep::Nothing) {
        map.next_value::<IgnoredAny>()?;
        Ok(None)
    } else {
        Ok(map.next_value::<Option<Attrs<'a>>>()?.map(Box::new))
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum ResourceKey {
    Address,
    Mode,
    Type,
    Values,
    Change,
    #[serde(other)]
    Other,
}

pub(super) struct Resource<'a, const PRIOR: bool> {
    pub(super) address: Cow<'a, str>,
    pub(super) mode: Option<Cow<'a, str>>,
    pub(super) rtype: Cow<'a, str>,
    pub(super) values: Kept<'a>,
}

impl<'de: 'a, 'a, const PRIOR: bool> Deserialize<'de> for Resource<'a, PRIOR> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, const PRIOR: bool>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a, const PRIOR: bool> Visitor<'de> for V<'a, PRIOR> {
            type Value = Resource<'a, PRIOR>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a resource")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut address, mut mode, mut rtype, mut values) = (None, None, None::<Cow<'a, str>>, None);
                while let Some(k) = map.next_key::<ResourceKey>()? {
                    match k {
                        ResourceKey::Address => address = Some(map.next_value::<Str<'a>>()?.0),
                        ResourceKey::Mode => mode = map.next_value::<Option<Str<'a>>>()?.map(|m| m.0),
                        ResourceKey::Type => rtype = Some(map.next_value::<Str<'a>>()?.0),
                        ResourceKey::Values => {
                            let keep = rtype.as_deref().map(|t| keep(t, PRIOR));
                            values = read_attrs(&mut map, keep)?;
                        }
                        ResourceKey::Change | ResourceKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let address = address.ok_or_else(|| de::Error::missing_field("address"))?;
                let rtype = rtype.ok_or_else(|| de::Error::missing_field("type"))?;
                let values = match keep(&rtype, PRIOR) {
                    Keep::All => values,
                    Keep::IfPolicy => values.filter(|v| holds_policy(&rtype, v)),
                    Keep::Nothing => None,
                };
                Ok(Resource {
                    address,
                    mode,
                    rtype,
                    values,
                })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A borrowed string (owned only when it has escapes).
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct S<'a>(#[serde(borrow)] Cow<'a, str>);
        Ok(Str(S::deserialize(d)?.0))
    }
}

pub(super) struct Change<'a> {
    pub(super) address: Cow<'a, str>,
    pub(super) mode: Option<Cow<'a, str>>,
    pub(super) rtype: Cow<'a, str>,
    pub(super) change: ChangeBody<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Change<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Change<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a resource change")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut address, mut mode, mut rtype, mut change) = (None, None, None::<Cow<'a, str>>, None);
                while let Some(k) = map.next_key::<ResourceKey>()? {
                    match k {
                        ResourceKey::Address => address = Some(map.next_value::<Str<'a>>()?.0),
                        ResourceKey::Mode => mode = map.next_value::<Option<Str<'a>>>()?.map(|m| m.0),
                        ResourceKey::Type => rtype = Some(map.next_value::<Str<'a>>()?.0),
                        ResourceKey::Change => {
                            let keep = rtype.as_deref().map(|t| keep(t, false));
                            change = Some(map.next_value_seed(BodySeed(keep, std::marker::PhantomData))?);
                        }
                        ResourceKey::Values | ResourceKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let address = address.ok_or_else(|| de::Error::missing_field("address"))?;
                let rtype = rtype.ok_or_else(|| de::Error::missing_field("type"))?;
                let mut change = change.ok_or_else(|| de::Error::missing_field("change"))?;
                let kept = match keep(&rtype, false) {
                    Keep::All => true,
                    Keep::IfPolicy => [&change.before, &change.after]
                        .into_iter()
                        .flatten()
                        .any(|v| holds_policy(&rtype, v)),
                    Keep::Nothing => false,
                };
                if !kept {
                    (change.before, change.after, change.after_unknown) = (None, None, None);
                }
                // An `after_unknown` with no `true` leaf says nothing.
                if !change.after_unknown.as_deref().is_some_and(Attrs::any_unknown) {
                    change.after_unknown = None;
                }
                Ok(Change {
                    address,
                    mode,
                    rtype,
                    change,
                })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

pub(super) struct ChangeBody<'a> {
    pub(super) actions: Vec<Cow<'a, str>>,
    pub(super) before: Kept<'a>,
    pub(super) after: Kept<'a>,
    pub(super) after_unknown: Kept<'a>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum BodyKey {
    Actions,
    Before,
    After,
    AfterUnknown,
    #[serde(other)]
    Other,
}

/// Reads a change's body, keeping the attributes as [`Keep`] says (all of them
/// while the type is not known yet).
struct BodySeed<'a>(Option<Keep>, std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for BodySeed<'a> {
    type Value = ChangeBody<'a>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for BodySeed<'a> {
    type Value = ChangeBody<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a change")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = ChangeBody {
            actions: Vec::new(),
            before: None,
            after: None,
            after_unknown: None,
        };
        while let Some(k) = map.next_key::<BodyKey>()? {
            match k {
                BodyKey::Actions => {
                    body.actions = map
                        .next_value::<Option<Vec<Str<'a>>>>()?
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| a.0)
                        .collect();
                }
                BodyKey::Before => body.before = read_attrs(&mut map, self.0)?,
                BodyKey::After => body.after = read_attrs(&mut map, self.0)?,
                BodyKey::AfterUnknown => body.after_unknown = read_attrs(&mut map, self.0)?,
                BodyKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(body)
    }
}

/// The attributes read from any resource this module knows; all others are skipped.
/// `after_unknown` is read into the same shape (its leaves are booleans).
#[derive(Deserialize, Default)]
pub(super) struct Attrs<'a> {
    #[serde(borrow, default)]
    pub(super) name: Option<Field<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub(super) rtype: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) zone_id: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) id: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) zone: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) records: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) record: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) ttl: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) fqdn: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) hostname: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) alias: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) value: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) content: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) priority: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) rrdatas: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) zone_name: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) domain: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) bucket: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) key: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) content_base64: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) source: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) source_content: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) storage_account_name: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) storage_container_name: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) filename: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub(super) sensitive_content: Option<Field<'a>>,
}

/// A JSON value with borrowed strings; only built for the attributes in [`Attrs`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field<'a> {
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

pub(super) struct FieldVisitor<'a>(std::marker::PhantomData<&'a ()>);

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
    pub(super) fn str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
    pub(super) fn list(&self) -> &[Field<'a>] {
        match self {
            Field::List(v) => v,
            _ => &[],
        }
    }
    pub(super) fn get(&self, key: &str) -> Option<&Field<'a>> {
        match self {
            Field::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub(super) fn uint(&self) -> Option<u64> {
        match self {
            Field::Num(n) if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1.8e19 => Some(*n as u64),
            Field::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// Whether any leaf is `true` (for `after_unknown`).
    pub(super) fn any_true(&self) -> bool {
        match self {
            Field::Bool(b) => *b,
            Field::List(v) => v.iter().any(Field::any_true),
            Field::Map(m) => m.iter().any(|(_, v)| v.any_true()),
            _ => false,
        }
    }
}

impl Attrs<'_> {
    /// Whether any attribute read has a `true` leaf (for `after_unknown`).
    pub(super) fn any_unknown(&self) -> bool {
        [
            &self.name,
            &self.rtype,
            &self.zone_id,
            &self.id,
            &self.zone,
            &self.records,
            &self.record,
            &self.ttl,
            &self.fqdn,
            &self.hostname,
            &self.alias,
            &self.value,
            &self.content,
            &self.priority,
            &self.rrdatas,
            &self.zone_name,
            &self.domain,
            &self.bucket,
            &self.key,
            &self.content_base64,
            &self.source,
            &self.source_content,
            &self.storage_account_name,
            &self.storage_container_name,
            &self.filename,
            &self.sensitive_content,
        ]
        .into_iter()
        .any(unk)
    }
}

pub(super) fn s<'b>(f: &'b Option<Field<'_>>) -> Option<&'b str> {
    f.as_ref().and_then(Field::str)
}

pub(super) fn unk(f: &Option<Field<'_>>) -> bool {
    f.as_ref().is_some_and(Field::any_true)
}

pub(super) fn walk<'p, 'a, const PRIOR: bool>(
    m: &'p Module<'a, PRIOR>,
    out: &mut Vec<&'p Resource<'a, PRIOR>>,
) {
    out.extend(m.resources.iter());
    for c in &m.child_modules {
        walk(c, out);
    }
}

pub(super) fn module_resources<'p, 'a, const PRIOR: bool>(
    v: Option<&'p Values<'a, PRIOR>>,
) -> Vec<&'p Resource<'a, PRIOR>> {
    let mut out = Vec::new();
    if let Some(m) = v.and_then(|v| v.root_module.as_ref()) {
        walk(m, &mut out);
    }
    out
}
