//! Zone names: which zone a record belongs to, from the zone resources and data
//! sources in the plan and the configuration's references to them.

use std::collections::HashMap;

use super::json::{s, Attrs};
use super::providers::zone_resource;

/// Zone names (lower case, no trailing dot) by zone id per provider family, by the
/// zone's address, and by the address of a record whose configuration refers to it.
#[derive(Default)]
pub(super) struct Zones {
    /// (provider, zone id) -> zone name.
    pub(super) ids: HashMap<(&'static str, String), String>,
    /// Zone address without instance keys → its name (`None` when instances differ).
    pub(super) by_address: HashMap<String, Option<String>>,
    /// Record address without instance keys → the name of the zone its `zone_id`
    /// expression refers to (through module variables if need be).
    pub(super) by_config: HashMap<String, String>,
}

impl Zones {
    pub(super) fn by_address(&mut self, address: &str, name: &str) {
        let name = crate::names::normalize(name);
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
pub(super) fn strip_indexes(addr: &str) -> String {
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

/// Records what a zone resource (or data source) of the plan says: its name by
/// its address and by its ids.
pub(super) fn add_zone(z: &mut Zones, address: &str, rtype: &str, a: &Attrs<'_>) {
    let Some((provider, zone)) = zone_resource(rtype) else {
        return;
    };
    let Some(name) = (zone.name)(a) else {
        return;
    };
    z.by_address(address, name);
    for id in [s(&a.zone_id), s(&a.id)].into_iter().flatten() {
        z.ids.insert(
            (provider.name, (provider.zone_id)(id)),
            crate::names::normalize(name),
        );
    }
}

/// The full name from a (possibly zone-relative) `name` and a zone name.
pub(super) fn join_name(name: &str, zone: Option<&str>) -> Option<String> {
    let trimmed = name.trim();
    if trimmed.ends_with('.') && trimmed != "." {
        return Some(crate::names::normalize(trimmed));
    }
    let n = crate::names::normalize(trimmed);
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
