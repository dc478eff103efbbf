//! From the raw plan to [`Plan`]: zones and dependencies first, then every
//! record and policy resource with its action, before and after values, and the
//! notes for what cannot be known offline.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::deps::{walk_config, Frame};
use super::json::{module_resources, s, unk, Attrs, Change, Field, RawPlan};
use super::policies::{policy, POLICY_TYPES};
use super::providers::{provider_named, record_resource, zone_resource, Dotted, TxtForm, ZoneOf};
use super::zones::{add_zone, join_name, strip_indexes, Zones};
use super::{
    Action, Note, NoteKind, Plan, PlanOptions, PlannedRecord, ZoneSource, MAX_NOTES,
    MAX_RECORDS_PER_RESOURCE, MAX_STRINGS_PER_RECORD,
};
use crate::records::{character_strings, Escapes};

/// The notes of one plan, capped at [`MAX_NOTES`].
pub(super) struct Notes(pub(super) Vec<Note>, pub(super) usize);

impl Notes {
    pub(super) fn push(&mut self, kind: NoteKind, address: &str, text: String) {
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
    pub(super) fn finish(mut self) -> Vec<Note> {
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

/// One resource of the plan: address, type, values after the change, the change.
type RawItem<'p, 'a> = (&'p str, &'p str, Option<&'p Attrs<'a>>, Option<&'p Change<'a>>);

/// Resolves every zone id a record names: from the plan's zones (or the
/// configuration's reference to one), then the user's mapping, then by
/// inference (the records of one zone id whose names all end in one of them:
/// the apex or the zone's own name). Resolved ids go into `zones`; the result
/// says, per id as written, where its name came from.
fn resolve_zone_ids(
    items: &[RawItem<'_, '_>],
    zones: &mut Zones,
    options: &PlanOptions,
) -> BTreeMap<String, ZoneSource> {
    let mut out = BTreeMap::new();
    // (provider, id) -> (id as written, names of its records)
    let mut groups: BTreeMap<(&'static str, String), (String, Vec<String>)> = BTreeMap::new();
    for (address, rtype, after, change) in items {
        let Some((provider, res)) = record_resource(rtype) else {
            continue;
        };
        if !matches!(res.zone, ZoneOf::Id) {
            continue;
        }
        let attrs = after.or_else(|| change.and_then(|c| c.change.before.as_deref()));
        let Some(a) = attrs else { continue };
        let Some(id) = s(&a.zone_id).map(str::trim).filter(|i| !i.is_empty()) else {
            continue;
        };
        let key = (provider.name, (provider.zone_id)(id));
        if let Some(name) = zones.ids.get(&key) {
            out.insert(id.to_owned(), ZoneSource::Plan(name.clone()));
            continue;
        }
        if let Some(name) = zones.by_config.get(&strip_indexes(address)) {
            out.insert(id.to_owned(), ZoneSource::Plan(name.clone()));
            continue;
        }
        let entry = groups.entry(key).or_insert_with(|| (id.to_owned(), Vec::new()));
        entry
            .1
            .push(crate::names::normalize(s(&a.name).unwrap_or_default()));
    }
    for ((provider, key_id), (written, names)) in groups {
        let same_id = |id: &str| provider_named(provider).is_some_and(|p| (p.zone_id)(id) == key_id);
        let mapped = options.zones.iter().find(|(id, _)| same_id(id));
        let source = if let Some((_, domain)) = mapped {
            ZoneSource::Mapped(crate::names::normalize(domain))
        } else {
            match infer_zone(&names) {
                Some(zone) => ZoneSource::Inferred(zone),
                None => ZoneSource::Unknown,
            }
        };
        if let Some(name) = source.name() {
            zones.ids.insert((provider, key_id), name.to_owned());
        }
        out.insert(written, source);
    }
    out
}

/// The zone of records that share one zone id, from their names: the shortest
/// dotted name that every dotted name equals or ends in (`example.com` for
/// `example.com`, `_mta-sts.example.com`, `mta-sts.example.com`); `None` when
/// no name is that suffix (relative names alone, or unrelated names).
pub(super) fn infer_zone(names: &[String]) -> Option<String> {
    let dotted: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.contains('.'))
        .collect();
    // A zone needs at least two records to show itself. Only the shortest
    // name can be a suffix of all the others: one pass checks it.
    if dotted.len() < 2 {
        return None;
    }
    let zone = dotted.iter().copied().min_by_key(|n| n.len())?;
    let covers_all = dotted
        .iter()
        .all(|n| *n == zone || n.strip_suffix(zone).is_some_and(|p| p.ends_with('.')));
    // The zone's name is no owner name of MTA-STS or TLSRPT.
    let owner = ["_mta-sts.", "_smtp._tls.", "mta-sts."]
        .iter()
        .any(|p| zone.starts_with(p));
    (covers_all && !owner && crate::names::is_valid(zone.as_bytes(), crate::names::Labels::Underscore))
        .then(|| zone.to_owned())
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

pub(super) fn build(raw: &RawPlan<'_>, options: &PlanOptions) -> Plan {
    let mut notes = Notes(Vec::new(), 0);
    let planned = module_resources(raw.planned_values.as_ref());
    let prior = module_resources(raw.prior_state.as_ref().and_then(|p| p.values.as_ref()));
    let changes: &[Change<'_>] = raw.resource_changes.as_deref().unwrap_or_default();
    let by_addr: HashMap<&str, &Change<'_>> = changes.iter().map(|c| (c.address.as_ref(), c)).collect();

    let mut zones = Zones::default();
    // The prior state first, then the plan (as before: a later zone of the
    // same id is the one kept).
    for r in &prior {
        if let Some(v) = &r.values {
            add_zone(&mut zones, &r.address, &r.rtype, v);
        }
    }
    for r in &planned {
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
        let after = Some(r.values.as_deref().unwrap_or(&empty));
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
        items.push((&c.address, &c.rtype, c.change.after.as_deref(), Some(c)));
    }

    let mut plan = Plan::default();
    // Zones the plan creates: every record of theirs is in the plan.
    for (_, rtype, after, change) in &items {
        let created = change.and_then(|c| parse_action(&c.change.actions)) == Some(Action::Create);
        if let (true, Some((_, zone)), Some(a)) = (created, zone_resource(rtype), after) {
            if let Some(name) = (zone.name)(a) {
                plan.created_zones.push(crate::names::normalize(name));
            }
        }
    }
    plan.zone_ids = resolve_zone_ids(&items, &mut zones, options);
    let mut policy_items = Vec::new();
    for (address, rtype, after, change) in items {
        let is_record = record_resource(rtype).is_some();
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
                change.and_then(|c| c.change.before.as_deref())
            }
            _ => None,
        };
        let after = if action == Action::Delete { None } else { after };
        let unknown = change.and_then(|c| c.change.after_unknown.as_deref());
        #[rustfmt::skip]
        let item = Item { address, rtype, after, before, unknown, action };
        if is_record {
            if let Some(r) = record(&item, &zones, &mut notes) {
                plan.records.push(r);
            }
        } else if let Some(p) = policy(&item, &mut notes) {
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

/// One side (before or after) of a record resource.
struct RecordData {
    fqdn: Option<String>,
    rtype: String,
    values: Vec<Vec<Vec<u8>>>,
    mx_hosts: Vec<String>,
    ttl: Option<u64>,
    alias: Option<String>,
}

/// One record or policy resource as the plan shows it.
pub(super) struct Item<'p, 'a> {
    /// Its address.
    pub address: &'p str,
    /// Its resource type.
    pub rtype: &'p str,
    /// Its values after the change (none for a deletion).
    pub after: Option<&'p Attrs<'a>>,
    /// Its values before the change (updates, replacements, deletions).
    pub before: Option<&'p Attrs<'a>>,
    /// Which values are known only after apply.
    pub unknown: Option<&'p Attrs<'a>>,
    /// What the plan does with it.
    pub action: Action,
}

fn record(item: &Item<'_, '_>, zones: &Zones, notes: &mut Notes) -> Option<PlannedRecord> {
    let (address, rtype, action) = (item.address, item.rtype, item.action);
    let (after, before, unknown) = (item.after, item.before, item.unknown);
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
    let written = after.or(before);
    Some(PlannedRecord {
        address: address.to_owned(),
        resource_type: rtype.to_owned(),
        fqdn,
        name: written
            .and_then(|a| s(&a.name))
            .unwrap_or_default()
            .trim()
            .to_owned(),
        zone_id: written
            .and_then(|a| s(&a.zone_id))
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned),
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

fn record_data(address: &str, rtype: &str, a: &Attrs<'_>, zones: &Zones, notes: &mut Notes) -> RecordData {
    let mut d = RecordData {
        fqdn: None,
        rtype: String::new(),
        values: Vec::new(),
        mx_hosts: Vec::new(),
        ttl: a.ttl.as_ref().and_then(Field::uint),
        alias: None,
    };
    let Some((provider, res)) = record_resource(rtype) else {
        return d;
    };
    let name = s(&a.name).unwrap_or_default();
    let computed = s(&a.fqdn)
        .or(s(&a.hostname))
        .filter(|f| !f.trim().is_empty())
        .map(crate::names::normalize);
    d.rtype = match res.rtype {
        Some(t) => t.to_owned(),
        None => s(&a.rtype).unwrap_or_default().to_ascii_uppercase(),
    };
    d.fqdn = match res.zone {
        ZoneOf::FullName => Some(crate::names::normalize(name)).filter(|n| !n.is_empty()),
        ZoneOf::Id => {
            let zone = s(&a.zone_id)
                .and_then(|z| zones.ids.get(&(provider.name, (provider.zone_id)(z))))
                .or_else(|| zones.by_config.get(&strip_indexes(address)))
                .map(String::as_str);
            computed.or_else(|| join_name(name, zone))
        }
        ZoneOf::Name(zone) => {
            computed.or_else(|| join_name(name, zone(a).map(crate::names::normalize).as_deref()))
        }
    };
    if d.fqdn.is_none() && name.contains('.') {
        match res.dotted {
            Dotted::Unknown => {}
            Dotted::Full => d.fqdn = Some(crate::names::normalize(name)),
            Dotted::AssumedFull => {
                notes.push(
                    NoteKind::NotInPlan,
                    address,
                    format!(
                        "{address}: the hosted zone of {name:?} is not in the plan; the name is assumed to be \
                         fully qualified"
                    ),
                );
                d.fqdn = Some(crate::names::normalize(name));
            }
        }
    }
    if let Some(al) = a.alias.as_ref().and_then(|f| f.list().first()) {
        d.alias = al.get("name").and_then(Field::str).map(crate::names::normalize);
    }
    let mut rdatas = (res.rdata)(a);
    let mut priority = a.priority.as_ref().and_then(Field::uint);
    let mut mx_pairs: Vec<(Option<u64>, String)> = Vec::new();
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
                let strings = match res.txt {
                    TxtForm::Route53 => route53_txt(address, v, notes),
                    TxtForm::Presentation => presentation(v, false).unwrap_or_else(|| {
                        notes.push(
                            NoteKind::Lenient,
                            address,
                            format!("{address}: TXT rrdata {v:?} is not valid presentation form"),
                        );
                        vec![v.as_bytes().to_vec()]
                    }),
                    TxtForm::QuotedOrPlain if v.trim_start().starts_with('"') => {
                        presentation(v, false).unwrap_or_else(|| chunks(v))
                    }
                    TxtForm::QuotedOrPlain | TxtForm::Plain => chunks(v),
                };
                d.values.push(cap_strings(address, strings, notes));
            }
        }
        "MX" => {
            for v in &rdatas {
                if priority.is_some() && !v.trim().contains(' ') {
                    mx_pairs.push((priority.take(), crate::names::normalize(v)));
                    continue;
                }
                let mut parts = v.split_whitespace();
                match (parts.next(), parts.next()) {
                    (Some(p), Some(h)) => mx_pairs.push((p.parse().ok(), crate::names::normalize(h))),
                    (Some(h), None) => mx_pairs.push((None, crate::names::normalize(h))),
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
        "CNAME" => {
            d.values = rdatas
                .iter()
                .map(|v| vec![crate::names::normalize(v).into_bytes()])
                .collect()
        }
        _ => {
            d.values = rdatas
                .iter()
                .map(|v| vec![v.trim().as_bytes().to_vec()])
                .collect()
        }
    }
    d
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
pub(super) fn presentation(v: &str, octal: bool) -> Option<Vec<Vec<u8>>> {
    let escapes = if octal { Escapes::Octal } else { Escapes::Decimal };
    character_strings(v, escapes, true)
}
