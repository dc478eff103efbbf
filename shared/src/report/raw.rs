//! Tolerant, allocation-light deserialization of RFC 8460 report JSON.
//!
//! Real reporters depart from the RFC template (see `rfc-notes.md` §4.5), so this
//! layer never decides what a value *means*; it only records what was there:
//!
//! * every leaf is read as a [`Leaf`] whatever its JSON type, so a count sent as a
//!   string or an `mx-host` sent as a string is kept and judged later;
//! * objects are read by hand-written visitors that match member names against a
//!   fixed table (no allocation per key), keep the **first** of duplicated members
//!   and remember the duplicate, and skip unknown members;
//! * a value that should be an object or an array but is not becomes
//!   [`Node::Other`] / [`Seq::Other`] with the JSON kind it had.
//!
//! [`crate::report::parse_report`] turns these raw values into the normalized schema.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A JSON value in a position where the report template expects a scalar or a
/// list of scalars.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A non-negative integer.
    UInt(u64),
    /// A negative integer.
    NegInt(i64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<Leaf>),
    /// An object (its members are skipped).
    Object,
}

impl Leaf {
    /// The JSON kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Leaf::Null => "null",
            Leaf::Bool(_) => "boolean",
            Leaf::UInt(_) | Leaf::NegInt(_) | Leaf::Float(_) => "number",
            Leaf::Str(_) => "string",
            Leaf::List(_) => "array",
            Leaf::Object => "object",
        }
    }
}

struct LeafVisitor;

impl<'de> Visitor<'de> for LeafVisitor {
    type Value = Leaf;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Leaf, E> {
        Ok(Leaf::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Leaf, E> {
        Ok(Leaf::UInt(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Leaf, E> {
        Ok(if v >= 0 {
            Leaf::UInt(v.unsigned_abs())
        } else {
            Leaf::NegInt(v)
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Leaf, E> {
        Ok(Leaf::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Leaf, E> {
        Ok(Leaf::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Leaf, E> {
        Ok(Leaf::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Leaf, E> {
        Ok(Leaf::Null)
    }
    fn visit_none<E>(self) -> Result<Leaf, E> {
        Ok(Leaf::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Leaf>()? {
            items.push(item);
        }
        Ok(Leaf::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Leaf, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Leaf::Object)
    }
}

impl<'de> Deserialize<'de> for Leaf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LeafVisitor)
    }
}

/// Implements the visitor methods for every JSON kind other than the wanted one,
/// each answering `$other(kind)`.
macro_rules! other_kinds {
    ($other:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other("boolean"))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other("number"))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other("number"))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other("number"))
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($other("string"))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($other("null"))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($other("null"))
        }
    };
}

/// A position where the template expects an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<T> {
    /// It was an object.
    Obj(T),
    /// It was something else; the JSON kind.
    Other(&'static str),
}

/// A position where the template expects an array.
#[derive(Debug, Clone, PartialEq)]
pub enum Seq<T> {
    /// It was an array.
    List(Vec<T>),
    /// It was something else; the JSON kind.
    Other(&'static str),
}

/// The member table and the setter of one raw object type.
pub trait RawObject: Default {
    /// Member names, in field-index order.
    const NAMES: &'static [&'static str];
    /// Reads the value of member `idx` from `map` into the field.
    fn set<'de, A: MapAccess<'de>>(&mut self, idx: usize, map: &mut A) -> Result<(), A::Error>;
    /// Records the name of a member that appeared more than once.
    fn duplicate(&mut self, name: &'static str);
}

/// Seed that maps a member name to its index in a table, without allocating.
struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

struct NodeVisitor<T>(PhantomData<T>);

impl<'de, T: RawObject> Visitor<'de> for NodeVisitor<T> {
    type Value = Node<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    other_kinds!(Node::Other);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Node::Other("array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = T::default();
        let mut seen: u64 = 0;
        while let Some(key) = map.next_key_seed(KeySeed(T::NAMES))? {
            match key {
                Some(idx) if seen & (1 << idx) != 0 => {
                    map.next_value::<IgnoredAny>()?;
                    out.duplicate(T::NAMES[idx]);
                }
                Some(idx) => {
                    seen |= 1 << idx;
                    out.set(idx, &mut map)?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Node::Obj(out))
    }
}

impl<'de, T: RawObject> Deserialize<'de> for Node<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor(PhantomData))
    }
}

struct SeqVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SeqVisitor<T> {
    type Value = Seq<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    other_kinds!(Seq::Other);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            items.push(item);
        }
        Ok(Seq::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Seq::Other("object"))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SeqVisitor(PhantomData))
    }
}

/// Declares a raw object: a struct of optional fields, one per JSON member name,
/// plus the list of duplicated member names.
macro_rules! raw_object {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $idx:literal $field:ident : $ty:ty = $json:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Default, Clone, PartialEq)]
        pub struct $name {
            $($(#[$fm])* pub $field: Option<$ty>,)+
            /// Member names that appeared more than once (the first value was kept).
            pub duplicates: Vec<&'static str>,
        }

        impl RawObject for $name {
            const NAMES: &'static [&'static str] = &[$($json),+];
            fn set<'de, A: MapAccess<'de>>(&mut self, idx: usize, map: &mut A) -> Result<(), A::Error> {
                match idx {
                    $($idx => self.$field = Some(map.next_value()?),)+
                    _ => { map.next_value::<IgnoredAny>()?; }
                }
                Ok(())
            }
            fn duplicate(&mut self, name: &'static str) {
                self.duplicates.push(name);
            }
        }
    };
}

raw_object! {
    /// The top-level report object.
    RawReport {
        /// `organization-name`.
        0 organization_name: Leaf = "organization-name",
        /// `date-range`.
        1 date_range: Node<RawDateRange> = "date-range",
        /// `contact-info`.
        2 contact_info: Leaf = "contact-info",
        /// `report-id`.
        3 report_id: Leaf = "report-id",
        /// `policies`.
        4 policies: Seq<Node<RawPolicyEntry>> = "policies",
        /// `email-address`: the RFC prose name of `contact-info`.
        5 email_address: Leaf = "email-address",
    }
}

raw_object! {
    /// `date-range`.
    RawDateRange {
        /// `start-datetime`.
        0 start: Leaf = "start-datetime",
        /// `end-datetime`.
        1 end: Leaf = "end-datetime",
    }
}

raw_object! {
    /// One element of `policies`.
    RawPolicyEntry {
        /// `policy`.
        0 policy: Node<RawPolicy> = "policy",
        /// `summary`.
        1 summary: Node<RawSummary> = "summary",
        /// `failure-details`.
        2 failure_details: Seq<Node<RawFailure>> = "failure-details",
    }
}

raw_object! {
    /// `policies[].policy`.
    RawPolicy {
        /// `policy-type`.
        0 policy_type: Leaf = "policy-type",
        /// `policy-string`.
        1 policy_string: Leaf = "policy-string",
        /// `policy-domain`.
        2 policy_domain: Leaf = "policy-domain",
        /// `mx-host`.
        3 mx_host: Leaf = "mx-host",
        /// `mx-host-pattern`: the RFC prose name of `mx-host`.
        4 mx_host_pattern: Leaf = "mx-host-pattern",
        /// `domain`: the RFC prose name of `policy-domain`.
        5 domain: Leaf = "domain",
    }
}

raw_object! {
    /// `policies[].summary`.
    RawSummary {
        /// `total-successful-session-count`.
        0 successful: Leaf = "total-successful-session-count",
        /// `total-failure-session-count`.
        1 failed: Leaf = "total-failure-session-count",
    }
}

raw_object! {
    /// One element of `policies[].failure-details`.
    RawFailure {
        /// `result-type`.
        0 result_type: Leaf = "result-type",
        /// `sending-mta-ip`.
        1 sending_mta_ip: Leaf = "sending-mta-ip",
        /// `receiving-mx-hostname`.
        2 receiving_mx_hostname: Leaf = "receiving-mx-hostname",
        /// `receiving-mx-helo`.
        3 receiving_mx_helo: Leaf = "receiving-mx-helo",
        /// `receiving-ip`.
        4 receiving_ip: Leaf = "receiving-ip",
        /// `failed-session-count`.
        5 failed_session_count: Leaf = "failed-session-count",
        /// `additional-information`.
        6 additional_information: Leaf = "additional-information",
        /// `failure-reason-code`.
        7 failure_reason_code: Leaf = "failure-reason-code",
        /// `ip-address`: the RFC prose name of `sending-mta-ip`.
        8 ip_address: Leaf = "ip-address",
        /// `additional-info-uri`: the RFC prose name of `additional-information`.
        9 additional_info_uri: Leaf = "additional-info-uri",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn duplicates_keep_the_first_value() {
        let r: Node<RawReport> =
            serde_json::from_str(r#"{"report-id":"a","report-id":"b","policies":[]}"#).unwrap();
        let Node::Obj(r) = r else { panic!("not an object") };
        assert_eq!(r.report_id, Some(Leaf::Str("a".into())));
        assert_eq!(r.duplicates, vec!["report-id"]);
    }

    #[test]
    fn wrong_shapes_are_kept_as_kinds() {
        let r: Node<RawReport> =
            serde_json::from_str(r#"{"policies":{"x":1},"date-range":"today"}"#).unwrap();
        let Node::Obj(r) = r else { panic!("not an object") };
        assert_eq!(r.policies, Some(Seq::Other("object")));
        assert_eq!(r.date_range, Some(Node::Other("string")));
        let top: Node<RawReport> = serde_json::from_str("[1,2]").unwrap();
        assert_eq!(top, Node::Other("array"));
    }

    #[test]
    fn unknown_members_are_skipped() {
        let r: Node<RawSummary> =
            serde_json::from_str(r#"{"x":{"deep":[1,{"y":2}]},"total-successful-session-count":"7"}"#)
                .unwrap();
        let Node::Obj(r) = r else { panic!("not an object") };
        assert_eq!(r.successful, Some(Leaf::Str("7".into())));
        assert_eq!(r.failed, None);
    }
}
