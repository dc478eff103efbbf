//! Plans whose DNS zone is managed elsewhere (the records carry only a zone
//! id): the zone inferred from the records' own names, mapped by the user
//! (`[[zone]]`, `--zone`), or, failing both, a warning that says nothing was
//! checked and how to map it. And plans that create their zone: a record the
//! plan lacks does not exist.

use serde_json::{json, Value};
use stsguard::diag::Severity;
use stsguard::lint::{lint_plan_with, Finding, LintConfig};
use stsguard::plan::{read_plan, read_plan_with, PlanOptions, ZoneSource};

const ENFORCE: &str = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n";

/// A plan creating (`action`) each resource: (address, type, values).
fn plan_of(resources: &[(&str, &str, Value)], action: &str, config: Value) -> Vec<u8> {
    let planned: Vec<Value> = resources
        .iter()
        .map(|(address, rtype, values)| {
            json!({"address": address, "mode": "managed", "type": rtype, "name": "x", "values": values})
        })
        .collect();
    let changes: Vec<Value> = resources
        .iter()
        .map(|(address, rtype, values)| {
            json!({"address": address, "mode": "managed", "type": rtype,
                   "change": {"actions": [action], "before": null, "after": values, "after_unknown": {}}})
        })
        .collect();
    serde_json::to_vec(&json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": config,
    }))
    .unwrap()
}

fn policy_object() -> (&'static str, &'static str, Value) {
    (
        "aws_s3_object.policy",
        "aws_s3_object",
        json!({"bucket": "mta-sts.example.com", "key": ".well-known/mta-sts.txt", "content": ENFORCE}),
    )
}

/// Cloudflare v4 records in zone `zone_id` (not in the plan), named as given.
fn cloudflare(names: [&str; 3], zone_id: &str) -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "cloudflare_record.sts",
            "cloudflare_record",
            json!({"zone_id": zone_id, "name": names[0], "type": "TXT", "content": "v=STSv1; id=20240601", "ttl": 60}),
        ),
        (
            "cloudflare_record.tls",
            "cloudflare_record",
            json!({"zone_id": zone_id, "name": names[1], "type": "TXT",
                   "content": "v=TLSRPTv1; rua=mailto:tls@example.com", "ttl": 3600}),
        ),
        (
            "cloudflare_record.mx",
            "cloudflare_record",
            json!({"zone_id": zone_id, "name": names[2], "type": "MX", "content": "mx.example.com",
                   "priority": 10, "ttl": 3600}),
        ),
        policy_object(),
    ]
}

fn rules(findings: &[Finding]) -> Vec<(&'static str, Severity, String)> {
    findings
        .iter()
        .map(|f| (f.rule, f.severity, f.domain.clone()))
        .collect()
}

fn has(findings: &[Finding], rule: &str, domain: &str) -> bool {
    findings.iter().any(|f| f.rule == rule && f.domain == domain)
}

#[test]
fn full_names_sharing_a_zone_id_show_the_zone() {
    let json = plan_of(
        &cloudflare(
            ["_mta-sts.example.com", "_smtp._tls.example.com", "example.com"],
            "cf0001",
        ),
        "create",
        json!({}),
    );
    let plan = read_plan(&json).unwrap();
    assert_eq!(
        plan.zone_ids.get("cf0001"),
        Some(&ZoneSource::Inferred("example.com".into()))
    );
    let fqdns: Vec<&str> = plan.records.iter().map(|r| r.fqdn.as_str()).collect();
    assert_eq!(
        fqdns,
        ["_mta-sts.example.com", "_smtp._tls.example.com", "example.com"]
    );
    let f = lint_plan_with(&plan, &LintConfig::default());
    // The TTL of 60 s on _mta-sts is judged now: the silent pass.
    assert!(has(&f, "STS009", "example.com"), "{:#?}", rules(&f));
    assert!(
        !f.iter().any(|f| f.rule == "PLN003" || f.rule == "PLN001"),
        "{:#?}",
        rules(&f)
    );
}

#[test]
fn relative_names_without_a_zone_are_a_warning_that_says_how_to_map() {
    let json = plan_of(
        &cloudflare(["_mta-sts", "_smtp._tls", "@"], "cf0002"),
        "create",
        json!({}),
    );
    let plan = read_plan(&json).unwrap();
    assert_eq!(plan.zone_ids.get("cf0002"), Some(&ZoneSource::Unknown));
    let f = lint_plan_with(&plan, &LintConfig::default());
    let pln1: Vec<&Finding> = f.iter().filter(|f| f.rule == "PLN001").collect();
    // Both MTA-STS records (the policy file goes with no domain either).
    assert!(pln1.len() >= 2, "{:#?}", rules(&f));
    for p in &pln1 {
        assert_eq!(p.severity, Severity::Warning);
    }
    let sts = pln1
        .iter()
        .find(|p| p.address.as_deref() == Some("cloudflare_record.sts"))
        .unwrap();
    assert!(
        sts.message.contains("nothing about it was checked"),
        "{}",
        sts.message
    );
    assert!(sts.message.contains("--zone cf0002=<domain>"), "{}", sts.message);
    assert!(
        sts.message.contains("[[zone]] id = \"cf0002\""),
        "{}",
        sts.message
    );
    // An MX of unknown zone is no MTA-STS part: an info note as before.
    assert!(
        f.iter()
            .any(|x| x.rule == "PLN003" && x.address.as_deref() == Some("cloudflare_record.mx")),
        "{:#?}",
        rules(&f)
    );
}

#[test]
fn a_mapped_zone_makes_relative_names_full_and_every_rule_runs() {
    let json = plan_of(
        &cloudflare(["_mta-sts", "_smtp._tls", "@"], "cf0003"),
        "create",
        json!({}),
    );
    let options = PlanOptions {
        zones: vec![("cf0003".into(), "example.com".into())],
    };
    let plan = read_plan_with(&json, &options).unwrap();
    assert_eq!(
        plan.zone_ids.get("cf0003"),
        Some(&ZoneSource::Mapped("example.com".into()))
    );
    let f = lint_plan_with(&plan, &LintConfig::default());
    assert!(has(&f, "STS009", "example.com"), "{:#?}", rules(&f));
    assert!(
        !f.iter().any(|f| f.rule == "PLN001" || f.rule == "PLN003"),
        "{:#?}",
        rules(&f)
    );
    // The MX set is known too: mx.example.com is covered, no XCK001.
    assert!(!has(&f, "XCK001", "example.com"), "{:#?}", rules(&f));
}

#[test]
fn route53_ids_match_with_or_without_the_hostedzone_prefix() {
    let records = vec![
        (
            "aws_route53_record.sts",
            "aws_route53_record",
            json!({"zone_id": "Z0ABC", "name": "_mta-sts", "type": "TXT", "ttl": 30,
                   "records": ["v=STSv1; id=20240601"]}),
        ),
        policy_object(),
    ];
    let json = plan_of(&records, "create", json!({}));
    let plan = read_plan(&json).unwrap();
    let f = lint_plan_with(&plan, &LintConfig::default());
    assert!(
        f.iter()
            .any(|x| x.rule == "PLN001" && x.message.contains("--zone Z0ABC=<domain>")),
        "{:#?}",
        rules(&f)
    );
    let mapped = read_plan_with(
        &json,
        &PlanOptions {
            zones: vec![("/hostedzone/Z0ABC".into(), "example.com".into())],
        },
    )
    .unwrap();
    assert_eq!(mapped.records[0].fqdn, "_mta-sts.example.com");
    let f = lint_plan_with(&mapped, &LintConfig::default());
    assert!(has(&f, "STS009", "example.com"), "{:#?}", rules(&f));
}

#[test]
fn google_and_azure_records_name_their_zone_by_definition() {
    let records = vec![
        (
            "google_dns_record_set.sts",
            "google_dns_record_set",
            json!({"managed_zone": "example-zone", "name": "_mta-sts.example.com.", "type": "TXT", "ttl": 60,
                   "rrdatas": ["\"v=STSv1; id=20240601\""]}),
        ),
        (
            "azurerm_dns_txt_record.tls",
            "azurerm_dns_txt_record",
            json!({"zone_name": "example.org", "name": "_mta-sts", "ttl": 60,
                   "record": [{"value": "v=STSv1; id=20240601"}]}),
        ),
    ];
    let plan = read_plan(&plan_of(&records, "create", json!({}))).unwrap();
    let fqdns: Vec<&str> = plan.records.iter().map(|r| r.fqdn.as_str()).collect();
    assert_eq!(fqdns, ["_mta-sts.example.com", "_mta-sts.example.org"]);
    let f = lint_plan_with(&plan, &LintConfig::default());
    assert!(
        has(&f, "STS009", "example.com") && has(&f, "STS009", "example.org"),
        "{:#?}",
        rules(&f)
    );
    assert!(!f.iter().any(|x| x.rule == "PLN001"), "{:#?}", rules(&f));
}

#[test]
fn zone_mappings_are_checked_against_the_plan() {
    let json = plan_of(
        &cloudflare(["_mta-sts", "_smtp._tls", "@"], "cf0004"),
        "create",
        json!({}),
    );
    let config = LintConfig::parse(
        "[[zone]]\nid = \"cf0004\"\ndomain = \"example.com\"\n\n[[zone]]\nid = \"nope\"\ndomain = \"example.org\"\n",
    )
    .unwrap();
    let plan = read_plan_with(&json, &config.plan_options()).unwrap();
    let e = config.check_zones(&plan).unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (Some(5), "zone[1]"), "{e}");
    assert!(
        e.to_string()
            .contains("\"nope\" is used by no record of the plan"),
        "{e}"
    );

    // The same id to two domains: refused where it is said twice.
    let e = LintConfig::parse(
        "[[zone]]\nid = \"a\"\ndomain = \"example.com\"\n[[zone]]\nid = \"a\"\ndomain = \"example.org\"\n",
    )
    .unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (Some(4), "zone[1]"), "{e}");
    assert!(
        e.to_string()
            .contains("mapped to example.org here and to example.com by zone[0]"),
        "{e}"
    );
    // Unknown keys and bad domains are errors too.
    assert!(LintConfig::parse("[[zone]]\nid = \"a\"\ndomain = \"example.com\"\nname = \"x\"\n").is_err());
    assert!(LintConfig::parse("[[zone]]\nid = \"a\"\ndomain = \"not a domain\"\n").is_err());

    // A mapping that contradicts a zone the plan holds.
    let mut with_zone = cloudflare(["_mta-sts", "_smtp._tls", "@"], "cf0005");
    with_zone.push((
        "cloudflare_zone.main",
        "cloudflare_zone",
        json!({"id": "cf0005", "zone": "example.net"}),
    ));
    let json = plan_of(&with_zone, "no-op", json!({}));
    let config = LintConfig::parse("[[zone]]\nid = \"cf0005\"\ndomain = \"example.com\"\n").unwrap();
    let plan = read_plan_with(&json, &config.plan_options()).unwrap();
    let e = config.check_zones(&plan).unwrap_err();
    assert!(e.to_string().contains("is example.net in the plan itself"), "{e}");
}

#[test]
fn in_a_zone_the_plan_creates_a_missing_record_is_absent() {
    let resources = vec![
        (
            "aws_route53_zone.main",
            "aws_route53_zone",
            json!({"name": "example.com"}),
        ),
        (
            "aws_route53_record.sts",
            "aws_route53_record",
            json!({"name": "_mta-sts.example.com", "type": "TXT", "ttl": 300,
                   "records": ["v=STSv1; id=20240601"]}),
        ),
        (
            "aws_route53_record.mx",
            "aws_route53_record",
            json!({"name": "example.com", "type": "MX", "ttl": 300, "records": ["10 mx.example.com"]}),
        ),
        policy_object(),
    ];
    let config = json!({"root_module": {"resources": [
        {"address": "aws_route53_record.sts", "type": "aws_route53_record",
         "expressions": {"zone_id": {"references": ["aws_route53_zone.main.zone_id", "aws_route53_zone.main"]}}},
        {"address": "aws_route53_record.mx", "type": "aws_route53_record",
         "expressions": {"zone_id": {"references": ["aws_route53_zone.main.zone_id", "aws_route53_zone.main"]}}}
    ]}});
    let created = read_plan(&plan_of(&resources, "create", config.clone())).unwrap();
    assert_eq!(created.created_zones, ["example.com"]);
    let f = lint_plan_with(&created, &LintConfig::default());
    // No _smtp._tls record in a zone the plan creates: none will exist.
    assert!(has(&f, "TLR001", "example.com"), "{:#?}", rules(&f));
    assert!(!f.iter().any(|x| x.rule == "PLN004"), "{:#?}", rules(&f));

    // The same records in a zone the plan only reads or keeps: not known.
    let kept = read_plan(&plan_of(&resources, "no-op", config)).unwrap();
    assert!(kept.created_zones.is_empty());
    let f = lint_plan_with(&kept, &LintConfig::default());
    assert!(!has(&f, "TLR001", "example.com"), "{:#?}", rules(&f));
    assert!(
        f.iter()
            .any(|x| x.rule == "PLN004" && x.message.contains("_smtp._tls")),
        "{:#?}",
        rules(&f)
    );
}
