//! The raw, borrowed model of `terraform show -json` output: of each resource
//! only the attributes the reader needs are kept ([`Attrs`]); everything else
//! is skipped while parsing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

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
    #[serde(borrow, default)]
    pub(super) values: Option<Values<'a>>,
}

#[derive(Deserialize)]
pub(super) struct Values<'a> {
    #[serde(borrow, default)]
    pub(super) root_module: Option<Module<'a>>,
}

#[derive(Deserialize)]
pub(super) struct Module<'a> {
    #[serde(borrow, default)]
    pub(super) resources: Vec<Resource<'a>>,
    #[serde(borrow, default)]
    pub(super) child_modules: Vec<Module<'a>>,
}

#[derive(Deserialize)]
pub(super) struct Resource<'a> {
    #[serde(borrow)]
    pub(super) address: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) mode: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    pub(super) rtype: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) values: Option<Attrs<'a>>,
}

#[derive(Deserialize)]
pub(super) struct Change<'a> {
    #[serde(borrow)]
    pub(super) address: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) mode: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "type")]
    pub(super) rtype: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) change: ChangeBody<'a>,
}

#[derive(Deserialize)]
pub(super) struct ChangeBody<'a> {
    #[serde(borrow, default)]
    pub(super) actions: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) before: Option<Attrs<'a>>,
    #[serde(borrow, default)]
    pub(super) after: Option<Attrs<'a>>,
    #[serde(borrow, default)]
    pub(super) after_unknown: Option<Attrs<'a>>,
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

pub(super) fn s<'b>(f: &'b Option<Field<'_>>) -> Option<&'b str> {
    f.as_ref().and_then(Field::str)
}

pub(super) fn unk(f: &Option<Field<'_>>) -> bool {
    f.as_ref().is_some_and(Field::any_true)
}

pub(super) fn walk<'p, 'a>(m: &'p Module<'a>, out: &mut Vec<&'p Resource<'a>>) {
    out.extend(m.resources.iter());
    for c in &m.child_modules {
        walk(c, out);
    }
}

pub(super) fn module_resources<'p, 'a>(v: Option<&'p Values<'a>>) -> Vec<&'p Resource<'a>> {
    let mut out = Vec::new();
    if let Some(m) = v.and_then(|v| v.root_module.as_ref()) {
        walk(m, &mut out);
    }
    out
}
