//! The DNS providers the plan reader knows, one entry each: their zone
//! resources, their record resources, and how each record resource writes its
//! name, type and values. Adding a provider is adding an entry to [`PROVIDERS`].

use super::json::{s, Attrs, Field};

/// One DNS provider's Terraform resources.
pub(super) struct Provider {
    /// The provider's name, the key of its zone ids.
    pub name: &'static str,
    /// How a zone id written in a record is made comparable with the zone's.
    pub zone_id: fn(&str) -> String,
    /// Its zone resources and data sources.
    pub zones: &'static [ZoneResource],
    /// Its record resources.
    pub records: &'static [RecordResource],
}

/// A zone resource (or data source of the same type): its name and ids
/// (`zone_id`, `id`) tell the zone of the records that refer to it.
pub(super) struct ZoneResource {
    /// Resource type, e.g. `aws_route53_zone`.
    pub resource: &'static str,
    /// The zone's name attribute.
    pub name: for<'b> fn(&'b Attrs<'_>) -> Option<&'b str>,
}

/// A record resource.
pub(super) struct RecordResource {
    /// Resource type, e.g. `aws_route53_record`.
    pub resource: &'static str,
    /// The record type when the resource type fixes it; `None`: its `type`
    /// attribute.
    pub rtype: Option<&'static str>,
    /// Where the zone of a zone-relative name comes from.
    pub zone: ZoneOf,
    /// A dotted name whose zone is not known.
    pub dotted: Dotted,
    /// The values as the provider writes them (one string per record).
    pub rdata: fn(&Attrs<'_>) -> Vec<String>,
    /// How a TXT value is split into character-strings.
    pub txt: TxtForm,
}

/// Where a record's zone comes from.
#[derive(Clone, Copy)]
pub(super) enum ZoneOf {
    /// The `zone_id` attribute, resolved through the provider's zones (or the
    /// configuration's reference to one).
    Id,
    /// An attribute holding the zone's name.
    Name(for<'b> fn(&'b Attrs<'_>) -> Option<&'b str>),
    /// The `name` attribute is the full name by definition.
    FullName,
}

/// What a dotted name means when its zone is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dotted {
    /// Nothing: the full name stays unknown.
    Unknown,
    /// Taken as fully qualified, with a note saying so.
    AssumedFull,
    /// Fully qualified by the provider's definition.
    Full,
}

/// How a TXT value becomes character-strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TxtForm {
    /// Route 53: one pair of surrounding quotes stripped, `""` splits strings,
    /// `\ooo` octal escapes.
    Route53,
    /// DNS presentation form (quoted strings, `\DDD` decimal escapes).
    Presentation,
    /// Presentation form when the value starts with a quote, else plain text.
    QuotedOrPlain,
    /// Plain text, cut into 255-byte strings.
    Plain,
}

fn route53_zone_id(id: &str) -> String {
    id.trim().trim_start_matches("/hostedzone/").to_owned()
}

fn trimmed(id: &str) -> String {
    id.trim().to_owned()
}

/// The strings of a list attribute.
pub(super) fn strings(f: Option<&Field<'_>>) -> Vec<String> {
    f.map(|f| {
        f.list()
            .iter()
            .filter_map(|x| x.str().map(str::to_owned))
            .collect()
    })
    .unwrap_or_default()
}

fn one(v: Option<&str>) -> Vec<String> {
    v.map(|v| vec![v.to_owned()]).unwrap_or_default()
}

fn records_list(a: &Attrs<'_>) -> Vec<String> {
    strings(a.records.as_ref())
}

fn azure_zone<'b>(a: &'b Attrs<'_>) -> Option<&'b str> {
    s(&a.zone_name)
}

/// Every provider the reader knows.
pub(super) static PROVIDERS: &[Provider] = &[
    Provider {
        name: "route53",
        zone_id: route53_zone_id,
        zones: &[ZoneResource {
            resource: "aws_route53_zone",
            name: |a| s(&a.name),
        }],
        records: &[RecordResource {
            resource: "aws_route53_record",
            rtype: None,
            zone: ZoneOf::Id,
            dotted: Dotted::AssumedFull,
            rdata: records_list,
            txt: TxtForm::Route53,
        }],
    },
    Provider {
        name: "cloudflare",
        zone_id: trimmed,
        // v4 resource: `zone`; v5 resource and data sources: `name`.
        zones: &[ZoneResource {
            resource: "cloudflare_zone",
            name: |a| s(&a.zone).or(s(&a.name)),
        }],
        records: &[
            RecordResource {
                resource: "cloudflare_record",
                rtype: None,
                zone: ZoneOf::Id,
                dotted: Dotted::Unknown,
                rdata: |a| one(s(&a.content).or(s(&a.value))),
                txt: TxtForm::QuotedOrPlain,
            },
            // v5: names are fully qualified.
            RecordResource {
                resource: "cloudflare_dns_record",
                rtype: None,
                zone: ZoneOf::Id,
                dotted: Dotted::Full,
                rdata: |a| one(s(&a.content).or(s(&a.value))),
                txt: TxtForm::QuotedOrPlain,
            },
        ],
    },
    Provider {
        name: "google",
        zone_id: trimmed,
        zones: &[],
        records: &[RecordResource {
            resource: "google_dns_record_set",
            rtype: None,
            zone: ZoneOf::FullName,
            dotted: Dotted::Full,
            rdata: |a| strings(a.rrdatas.as_ref()),
            txt: TxtForm::Presentation,
        }],
    },
    Provider {
        name: "azure",
        zone_id: trimmed,
        zones: &[],
        records: &[
            RecordResource {
                resource: "azurerm_dns_txt_record",
                rtype: Some("TXT"),
                zone: ZoneOf::Name(azure_zone),
                dotted: Dotted::Unknown,
                rdata: |a| {
                    a.record
                        .as_ref()
                        .map(|r| {
                            r.list()
                                .iter()
                                .filter_map(|x| x.get("value")?.str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                },
                txt: TxtForm::Plain,
            },
            RecordResource {
                resource: "azurerm_dns_mx_record",
                rtype: Some("MX"),
                zone: ZoneOf::Name(azure_zone),
                dotted: Dotted::Unknown,
                // `preference exchange`, as the MX values of other providers.
                rdata: |a| {
                    a.record
                        .as_ref()
                        .map(Field::list)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|x| {
                            let host = x.get("exchange")?.str()?;
                            Some(match x.get("preference").and_then(Field::uint) {
                                Some(p) => format!("{p} {}", host.trim()),
                                None => host.trim().to_owned(),
                            })
                        })
                        .collect()
                },
                txt: TxtForm::Plain,
            },
            RecordResource {
                resource: "azurerm_dns_a_record",
                rtype: Some("A"),
                zone: ZoneOf::Name(azure_zone),
                dotted: Dotted::Unknown,
                rdata: records_list,
                txt: TxtForm::Plain,
            },
            RecordResource {
                resource: "azurerm_dns_aaaa_record",
                rtype: Some("AAAA"),
                zone: ZoneOf::Name(azure_zone),
                dotted: Dotted::Unknown,
                rdata: records_list,
                txt: TxtForm::Plain,
            },
            RecordResource {
                resource: "azurerm_dns_cname_record",
                rtype: Some("CNAME"),
                zone: ZoneOf::Name(azure_zone),
                dotted: Dotted::Unknown,
                rdata: |a| one(s(&a.record)),
                txt: TxtForm::Plain,
            },
        ],
    },
    Provider {
        name: "digitalocean",
        zone_id: trimmed,
        zones: &[],
        records: &[RecordResource {
            resource: "digitalocean_record",
            rtype: None,
            zone: ZoneOf::Name(|a| s(&a.domain)),
            dotted: Dotted::Unknown,
            rdata: |a| one(s(&a.value)),
            txt: TxtForm::Plain,
        }],
    },
];

/// The provider and record resource of a resource type.
pub(super) fn record_resource(resource: &str) -> Option<(&'static Provider, &'static RecordResource)> {
    PROVIDERS
        .iter()
        .find_map(|p| p.records.iter().find(|r| r.resource == resource).map(|r| (p, r)))
}

/// The provider called `name`.
pub(super) fn provider_named(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// Whether two zone ids written by records (or by the user) name the same zone
/// for some provider (`Z0ABC` and `/hostedzone/Z0ABC` for Route 53).
pub(super) fn same_zone_id(a: &str, b: &str) -> bool {
    PROVIDERS.iter().any(|p| (p.zone_id)(a) == (p.zone_id)(b))
}

/// The provider and zone resource of a resource type.
pub(super) fn zone_resource(resource: &str) -> Option<(&'static Provider, &'static ZoneResource)> {
    PROVIDERS
        .iter()
        .find_map(|p| p.zones.iter().find(|z| z.resource == resource).map(|z| (p, z)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_type_is_listed_once() {
        let mut seen = Vec::new();
        for p in PROVIDERS {
            for t in p
                .records
                .iter()
                .map(|r| r.resource)
                .chain(p.zones.iter().map(|z| z.resource))
            {
                assert!(!seen.contains(&t), "{t} twice");
                seen.push(t);
            }
        }
        assert_eq!(
            record_resource("azurerm_dns_mx_record").map(|(p, _)| p.name),
            Some("azure")
        );
        assert_eq!(
            zone_resource("cloudflare_zone").map(|(p, _)| p.name),
            Some("cloudflare")
        );
        assert!(record_resource("aws_route53_zone").is_none());
        assert_eq!((route53_zone_id)(" /hostedzone/Z123 "), "Z123");
    }
}
