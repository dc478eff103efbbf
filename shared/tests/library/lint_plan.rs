//! `lint_plan` over Terraform plans: findings carry the plan address; the
//! before/after rules (XCK004, XCK007) fire on the outage-causing changes and stay
//! quiet on the correct ones.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use serde_json::{json, Value};
use stsguard::lint::lint_plan;
use stsguard::plan::read_plan;

const OLD: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n";
const NEW: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 1209600\r\n";

/// A plan managing `_mta-sts` (id `before_id` -> `after_id`), the policy object
/// (`before` -> `after` content), the MX records and `_smtp._tls`.
fn plan(before_id: &str, after_id: &str, before: Option<&str>, after: Option<&str>, mx: &[&str]) -> Vec<u8> {
    let rec = |id: &str| {
        json!({"zone_id": "Z1", "name": "_mta-sts.example.com", "type": "TXT", "ttl": 300,
               "records": [format!("v=STSv1; id={id}")]})
    };
    let mx_values = json!({"zone_id": "Z1", "name": "example.com", "type": "MX", "ttl": 300,
        "records": mx.iter().enumerate().map(|(i, h)| format!("{} {h}", 10 * (i + 1))).collect::<Vec<_>>()});
    let obj = |content: Option<&str>| {
        content
            .map(|c| json!({"bucket": "mta-sts.example.com", "key": ".well-known/mta-sts.txt", "content": c}))
    };
    let action = |b: &Value, a: &Value| match (b.is_null(), a.is_null()) {
        (true, false) => "create",
        (false, true) => "delete",
        _ if b == a => "no-op",
        _ => "update",
    };
    let mut resources = vec![
        json!({"address": "aws_route53_zone.main", "mode": "managed", "type": "aws_route53_zone", "name": "main",
               "values": {"name": "example.com", "zone_id": "Z1"}}),
        json!({"address": "aws_route53_record.mx", "mode": "managed", "type": "aws_route53_record", "name": "mx",
               "values": mx_values}),
    ];
    let mut changes = vec![
        json!({"address": "aws_route53_record.mx", "mode": "managed", "type": "aws_route53_record",
        "name": "mx", "change": {"actions": ["no-op"], "before": mx_values, "after": mx_values, "after_unknown": {}}}),
    ];
    // TLSRPT is in place (so that a plan without other mistakes has no finding).
    let tls = json!({"zone_id": "Z1", "name": "_smtp._tls.example.com", "type": "TXT", "ttl": 86400,
                     "records": ["v=TLSRPTv1; rua=mailto:tlsrpt@example.com"]});
    resources.push(json!({"address": "aws_route53_record.tlsrpt", "mode": "managed",
        "type": "aws_route53_record", "name": "tlsrpt", "values": tls}));
    changes.push(json!({"address": "aws_route53_record.tlsrpt", "mode": "managed",
        "type": "aws_route53_record", "name": "tlsrpt",
        "change": {"actions": ["no-op"], "before": tls, "after": tls, "after_unknown": {}}}));
    let (rb, ra) = (rec(before_id), rec(after_id));
    resources.push(
        json!({"address": "aws_route53_record.sts", "mode": "managed", "type": "aws_route53_record",
        "name": "sts", "values": ra}),
    );
    changes.push(json!({"address": "aws_route53_record.sts", "mode": "managed", "type": "aws_route53_record",
        "name": "sts", "change": {"actions": [action(&rb, &ra)], "before": rb, "after": ra, "after_unknown": {}}}));
    let (ob, oa) = (
        obj(before).unwrap_or(Value::Null),
        obj(after).unwrap_or(Value::Null),
    );
    if !oa.is_null() {
        resources.push(
            json!({"address": "aws_s3_object.policy", "mode": "managed", "type": "aws_s3_object",
            "name": "policy", "values": oa}),
        );
    }
    let act = action(&ob, &oa);
    changes.push(
        json!({"address": "aws_s3_object.policy", "mode": "managed", "type": "aws_s3_object",
        "name": "policy", "change": {"actions": [act], "before": ob, "after": oa, "after_unknown": {}}}),
    );
    serde_json::to_vec(&json!({
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
    }))
    .unwrap()
}

fn rules(json: &[u8]) -> Vec<(String, String, Option<String>)> {
    let p = read_plan(json).unwrap();
    lint_plan(&p)
        .into_iter()
        .map(|f| (f.rule.to_owned(), format!("{:?}", f.severity), f.address))
        .collect()
}

#[test]
fn rfc8461_3_1_policy_changed_but_id_not_fires_xck004() {
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(NEW),
        &["mx1.example.com", "mx2.example.com"],
    ));
    assert!(
        got.contains(&(
            "XCK004".into(),
            "Error".into(),
            Some("aws_s3_object.policy".into())
        )),
        "{got:?}"
    );
    // The same change with a new id, the record applied after the file, is the
    // correct way: no finding.
    let got = rules(&ordered(&plan(
        "20240601",
        "20240901",
        Some(OLD),
        Some(NEW),
        &["mx1.example.com", "mx2.example.com"],
    )));
    assert!(got.is_empty(), "{got:?}");
}

/// `json` with a configuration in which the `_mta-sts` record's resource
/// `depends_on` `deps`, and `aws_cloudfront_invalidation.policy` refers to the
/// policy object.
fn with_config(json: &[u8], deps: &[&str]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(json).unwrap();
    v["configuration"] = json!({"root_module": {"resources": [
        {"address": "aws_s3_object.policy", "mode": "managed", "type": "aws_s3_object", "name": "policy",
         "expressions": {"content": {"references": ["local.policy"]}}},
        {"address": "aws_cloudfront_invalidation.policy", "mode": "managed", "type": "aws_cloudfront_invalidation",
         "name": "policy", "expressions": {"etag": {"references": ["aws_s3_object.policy.etag", "aws_s3_object.policy"]}}},
        {"address": "aws_route53_record.sts", "mode": "managed", "type": "aws_route53_record", "name": "sts",
         "expressions": {"zone_id": {"references": ["aws_route53_zone.main.zone_id", "aws_route53_zone.main"]}},
         "depends_on": deps},
    ]}});
    serde_json::to_vec(&v).unwrap()
}

fn ordered(json: &[u8]) -> Vec<u8> {
    with_config(json, &["aws_s3_object.policy"])
}

#[test]
fn rfc8461_8_1_id_and_policy_changed_in_one_apply_without_order_fires_xck005() {
    let both = plan(
        "20240601",
        "20240901",
        Some(OLD),
        Some(NEW),
        &["mx1.example.com", "mx2.example.com"],
    );
    let want = vec![(
        "XCK005".to_owned(),
        "Warning".to_owned(),
        Some("aws_route53_record.sts".to_owned()),
    )];
    // No configuration, or one that does not order the record: both at once.
    assert_eq!(rules(&both), want);
    assert_eq!(rules(&with_config(&both, &[])), want);
    assert_eq!(rules(&with_config(&both, &["aws_route53_record.tlsrpt"])), want);
    // Ordered directly, or through the cache invalidation that refers to the file.
    assert!(rules(&with_config(&both, &["aws_s3_object.policy"])).is_empty());
    assert!(rules(&with_config(&both, &["aws_cloudfront_invalidation.policy"])).is_empty());
    // Only the id changes (the policy stays): nothing to race.
    let id_only = plan("20240601", "20240901", Some(OLD), Some(OLD), &["mx1.example.com"]);
    assert!(rules(&id_only).is_empty(), "{:?}", rules(&id_only));
}

#[test]
fn rfc8461_4_1_enforce_with_uncovered_planned_mx_fires_xck001_with_address() {
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com", "mx9.example.com"],
    ));
    assert_eq!(
        got,
        [(
            "XCK001".into(),
            "Error".into(),
            Some("aws_s3_object.policy".into())
        )]
    );
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com"],
    ));
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn rfc8461_8_3_removal_without_none_fires_xck007() {
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        None,
        &["mx1.example.com"],
    ));
    assert!(
        got.iter().any(|(r, s, _)| r == "XCK007" && s == "Warning"),
        "{got:?}"
    );
    let none = "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n";
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(none),
        None,
        &["mx1.example.com"],
    ));
    assert!(!got.iter().any(|(r, _, _)| r == "XCK007"), "{got:?}");
}

#[test]
fn grammar_findings_point_at_the_record() {
    let got = rules(&plan(
        "2024-06-01",
        "2024-06-01",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com"],
    ));
    assert_eq!(
        got,
        [(
            "STS004".into(),
            "Error".into(),
            Some("aws_route53_record.sts".into())
        )]
    );
}

fn with_record(name: &str, ttl: u64, text: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com"],
    ))
    .unwrap();
    let values = json!({"zone_id": "Z1", "name": name, "type": "TXT", "ttl": ttl, "records": [text]});
    v["planned_values"]["root_module"]["resources"].as_array_mut().unwrap().push(json!({
        "address": "aws_route53_record.extra", "mode": "managed", "type": "aws_route53_record", "name": "extra",
        "values": values}));
    v["resource_changes"].as_array_mut().unwrap().push(json!({
        "address": "aws_route53_record.extra", "mode": "managed", "type": "aws_route53_record", "name": "extra",
        "change": {"actions": ["create"], "before": null, "after": values, "after_unknown": {}}}));
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn rfc8460_3_tlsrpt_record_at_the_wrong_name_fires_tlr008() {
    let got = rules(&with_record(
        "_smtp-tlsrpt.example.com",
        86400,
        "v=TLSRPTv1; rua=mailto:t@example.com",
    ));
    assert!(
        got.contains(&(
            "TLR008".into(),
            "Warning".into(),
            Some("aws_route53_record.extra".into())
        )),
        "{got:?}"
    );
    let got = rules(&with_record(
        "_smtp._tls.example.com",
        86400,
        "v=TLSRPTv1; rua=mailto:t@example.com",
    ));
    assert!(!got.iter().any(|(r, _, _)| r == "TLR008"), "{got:?}");
    let got = rules(&with_record("example.com", 300, "v=STSv1; id=1"));
    assert!(got.iter().any(|(r, _, _)| r == "STS008"), "{got:?}");
}

#[test]
fn rfc8461_8_1_ttl_advice_fires_sts009() {
    let got = rules(&with_record(
        "_smtp._tls.example.com",
        300,
        "v=TLSRPTv1; rua=mailto:t@example.com",
    ));
    assert!(
        got.contains(&(
            "STS009".into(),
            "Info".into(),
            Some("aws_route53_record.extra".into())
        )),
        "{got:?}"
    );
    // The _mta-sts record of the base plan has TTL 300: no finding.
    let got = rules(&with_record(
        "_smtp._tls.example.com",
        86400,
        "v=TLSRPTv1; rua=mailto:t@example.com",
    ));
    assert!(!got.iter().any(|(r, _, _)| r == "STS009"), "{got:?}");
}

/// The base plan (policy unchanged, records as given), changed by `edit`.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com"],
    ))
    .unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// The resource change at `address`.
fn change<'a>(v: &'a mut Value, address: &str) -> &'a mut Value {
    v["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["address"] == address)
        .unwrap()
}

/// Drops `address` from planned_values and plans its deletion.
fn delete(v: &mut Value, address: &str) {
    v["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["address"] != address);
    let c = change(v, address);
    c["change"]["actions"] = json!(["delete"]);
    c["change"]["after"] = Value::Null;
}

fn has(got: &[(String, String, Option<String>)], rule: &str) -> bool {
    got.iter().any(|(r, _, _)| r == rule)
}

#[test]
fn rfc8461_3_1_policy_kept_but_record_deleted_fires_sts001() {
    let got = rules(&edited(|v| delete(v, "aws_route53_record.sts")));
    assert!(
        got.contains(&(
            "STS001".into(),
            "Error".into(),
            Some("aws_route53_record.sts".into())
        )),
        "{got:?}"
    );
    // Deleting only the record while the enforce policy stays is also the unsafe
    // removal of XCK007.
    assert!(has(&got, "XCK007"), "{got:?}");
    // The record replaced by another at the same name: still discoverable.
    let got = rules(&edited(|v| {
        let c = change(v, "aws_route53_record.sts");
        c["change"]["actions"] = json!(["delete", "create"]);
    }));
    assert!(!has(&got, "STS001"), "{got:?}");
    // The policy goes too: no policy left to discover (XCK007 judges the removal).
    let got = rules(&edited(|v| {
        delete(v, "aws_route53_record.sts");
        delete(v, "aws_s3_object.policy");
    }));
    assert!(!has(&got, "STS001") && has(&got, "XCK007"), "{got:?}");
    // A policy in mode none without a record: the end of the opt-out, no STS001.
    let none = "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n";
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(none),
        Some(none),
        &["mx1.example.com"],
    ));
    assert!(got.is_empty(), "{got:?}");
    let mut v: Value = serde_json::from_slice(&plan(
        "20240601",
        "20240601",
        Some(none),
        Some(none),
        &["mx1.example.com"],
    ))
    .unwrap();
    delete(&mut v, "aws_route53_record.sts");
    let got = rules(&serde_json::to_vec(&v).unwrap());
    assert!(!has(&got, "STS001"), "{got:?}");
}

#[test]
fn rfc8461_5_enforce_without_testing_fires_xck008() {
    let testing = OLD.replace("enforce", "testing");
    // A new policy straight in enforce.
    let got = rules(&plan(
        "20240601",
        "20240601",
        None,
        Some(OLD),
        &["mx1.example.com"],
    ));
    assert!(
        got.contains(&(
            "XCK008".into(),
            "Info".into(),
            Some("aws_s3_object.policy".into())
        )),
        "{got:?}"
    );
    // From none to enforce (with a new id after the file, so nothing else fires).
    let none = "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n";
    let got = rules(&ordered(&plan(
        "20240101",
        "20240601",
        Some(none),
        Some(OLD),
        &["mx1.example.com"],
    )));
    assert_eq!(
        got,
        [(
            "XCK008".into(),
            "Info".into(),
            Some("aws_s3_object.policy".into())
        )]
    );
    // From testing to enforce, with a new id: the recommended path.
    let got = rules(&ordered(&plan(
        "20240101",
        "20240601",
        Some(&testing),
        Some(OLD),
        &["mx1.example.com"],
    )));
    assert!(got.is_empty(), "{got:?}");
    // A new policy in testing, and an enforce policy left as it is.
    let got = rules(&plan(
        "20240601",
        "20240601",
        None,
        Some(&testing),
        &["mx1.example.com"],
    ));
    assert!(!has(&got, "XCK008"), "{got:?}");
    let got = rules(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com"],
    ));
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn what_the_plan_cannot_tell_is_an_info_finding() {
    let base = rules(&edited(|_| {}));
    assert!(base.is_empty(), "{base:?}");

    // PLN004: an active policy whose MX records the plan does not manage.
    let got = rules(&edited(|v| {
        v["planned_values"]["root_module"]["resources"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["address"] != "aws_route53_record.mx");
        v["resource_changes"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["address"] != "aws_route53_record.mx");
    }));
    assert_eq!(
        got,
        [(
            "PLN004".into(),
            "Info".into(),
            Some("aws_s3_object.policy".into())
        )]
    );
    // PLN004: a policy change whose _mta-sts record is not in the plan.
    let p = plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(NEW),
        &["mx1.example.com", "mx2.example.com"],
    );
    let mut v: Value = serde_json::from_slice(&p).unwrap();
    v["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["address"] != "aws_route53_record.sts");
    v["resource_changes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["address"] != "aws_route53_record.sts");
    let got = read_plan(&serde_json::to_vec(&v).unwrap()).unwrap();
    let f = lint_plan(&got);
    assert!(
        f.iter()
            .any(|f| f.rule == "PLN004" && f.message.contains("XCK004")),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|f| f.rule == "PLN004" && f.message.contains("STS001")),
        "{f:?}"
    );
    assert!(!f.iter().any(|f| f.rule == "XCK004"), "{f:?}");

    // PLN002: the policy body is known only after apply.
    let got = rules(&edited(|v| {
        let c = change(v, "aws_s3_object.policy");
        c["change"]["after"]["content"] = Value::Null;
        c["change"]["after_unknown"] = json!({"content": true});
        for r in v["planned_values"]["root_module"]["resources"]
            .as_array_mut()
            .unwrap()
        {
            if r["address"] == "aws_s3_object.policy" {
                r["values"]["content"] = Value::Null;
            }
        }
    }));
    assert_eq!(
        got,
        [(
            "PLN002".into(),
            "Info".into(),
            Some("aws_s3_object.policy".into())
        )]
    );

    // PLN005: a lenient read of an MTA-STS record; the same on an unrelated
    // record is not an MTA-STS matter and stays quiet.
    let got = rules(&edited(|v| {
        change(v, "aws_route53_record.sts")["change"]["actions"] = json!(["frobnicate"]);
    }));
    assert_eq!(
        got,
        [(
            "PLN005".into(),
            "Info".into(),
            Some("aws_route53_record.sts".into())
        )]
    );
    let got = rules(&with_record("www.example.com", 300, "hello"));
    let mut v: Value = serde_json::from_slice(&with_record("www.example.com", 300, "hello")).unwrap();
    change(&mut v, "aws_route53_record.extra")["change"]["actions"] = json!(["frobnicate"]);
    assert!(got.is_empty(), "{got:?}");
    let got = rules(&serde_json::to_vec(&v).unwrap());
    assert!(got.is_empty(), "{got:?}");
}

fn fixture(name: &str) -> stsguard::plan::Plan {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(name);
    read_plan(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn plan_notes_become_pln_findings_with_their_address() {
    let f = lint_plan(&fixture("unknown.json"));
    let pln: Vec<(&str, &str, Option<&str>)> = f
        .iter()
        .filter(|f| f.rule.starts_with("PLN"))
        .map(|f| (f.rule, f.domain.as_str(), f.address.as_deref()))
        .collect();
    for want in [
        ("PLN001", "", Some("aws_s3_object.policy_unknown")),
        ("PLN002", "", Some("aws_s3_object.policy_unknown")),
        ("PLN002", "", Some("aws_route53_record.sts_new")),
        ("PLN002", "example.net", Some("aws_route53_record.tls_unknown")),
        ("PLN003", "example.net", Some("aws_route53_record.tls_unknown")),
        ("PLN003", "example.com", Some("aws_s3_object.policy_file")),
    ] {
        assert!(pln.contains(&want), "{want:?} not in {pln:#?}");
    }
    // What the plan cannot tell is info, except a part of MTA-STS that could
    // not be tied to a domain at all (nothing about it was checked).
    assert!(
        f.iter()
            .all(|f| f.severity == stsguard::diag::Severity::Info || f.rule == "PLN001"),
        "{f:#?}"
    );
    // A record whose name is unknown is not "misplaced" (it was STS008 before).
    assert!(!f.iter().any(|f| f.rule == "STS008"), "{f:#?}");
    // PLN005 from the split-strings fixture (one value with unbalanced quotes).
    let f = lint_plan(&fixture("aws-split.json"));
    assert!(
        f.iter().any(|f| f.rule == "PLN005" && f.domain == "example.com"),
        "{f:#?}"
    );
    // Messages do not repeat the address.
    assert!(f
        .iter()
        .all(|f| f.address.as_deref().is_none_or(|a| !f.message.starts_with(a))));
}

#[test]
fn a_record_name_without_its_zone_is_not_called_misplaced() {
    // A provider that reports the relative name as the record's full name: the
    // zone is unknown, so the name cannot be judged (it was STS008 "at _mta-sts").
    let mut v: Value =
        serde_json::from_slice(&with_record("_mta-sts.example.com", 300, "v=STSv1; id=1")).unwrap();
    for r in v["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
    {
        if r["address"] == "aws_route53_record.extra" {
            r["values"]["fqdn"] = json!("_mta-sts");
        }
    }
    let got = rules(&serde_json::to_vec(&v).unwrap());
    assert!(!has(&got, "STS008"), "{got:?}");
    // The same record at a known wrong name is.
    let got = rules(&with_record("_mta_sts.example.com", 300, "v=STSv1; id=1"));
    assert!(has(&got, "STS008"), "{got:?}");
}

/// The clean plan plus one TLSA resource at `name` with `records`.
fn with_tlsa(name: &str, records: &[&str]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&plan(
        "20240601",
        "20240601",
        Some(OLD),
        Some(OLD),
        &["mx1.example.com"],
    ))
    .unwrap();
    let values = json!({"zone_id": "Z1", "name": name, "type": "TLSA", "ttl": 3600, "records": records});
    v["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .push(json!({
        "address": "aws_route53_record.tlsa", "mode": "managed", "type": "aws_route53_record", "name": "tlsa",
        "values": values}));
    v["resource_changes"].as_array_mut().unwrap().push(json!({
        "address": "aws_route53_record.tlsa", "mode": "managed", "type": "aws_route53_record", "name": "tlsa",
        "change": {"actions": ["create"], "before": null, "after": values, "after_unknown": {}}}));
    serde_json::to_vec(&v).unwrap()
}

const EE: &str = "3 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1";
const TA: &str = "2 1 1 1f2e3d4c5b6a79880f1e2d3c4b5a69780f1e2d3c4b5a69780f1e2d3c4b5a6978";

fn dan(got: &[(String, String, Option<String>)]) -> Vec<(String, String)> {
    got.iter()
        .filter(|(r, _, _)| r.starts_with("DAN"))
        .map(|(r, s, a)| {
            assert_eq!(a.as_deref(), Some("aws_route53_record.tlsa"));
            (r.clone(), s.clone())
        })
        .collect()
}

#[test]
fn rfc6698_2_malformed_tlsa_fires_dan001() {
    for bad in [
        "3 1 1 8cb0fc6c",
        "4 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1",
        "3 1 1",
        "3 1 1 not-hex",
    ] {
        let got = dan(&rules(&with_tlsa("_25._tcp.mx1.example.com", &[bad, EE])));
        assert_eq!(
            got,
            [
                ("DAN001".into(), "Error".into()),
                ("DAN003".into(), "Warning".into())
            ],
            "{bad}"
        );
    }
    // Two well-formed, usable records: nothing.
    assert!(dan(&rules(&with_tlsa("_25._tcp.mx1.example.com", &[EE, TA]))).is_empty());
}

#[test]
fn rfc7672_3_1_3_pkix_usage_at_an_smtp_name_fires_dan002() {
    let pkix = "1 1 1 8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1";
    let got = dan(&rules(&with_tlsa("_25._tcp.mx1.example.com", &[pkix, EE, TA])));
    assert_eq!(got, [("DAN002".into(), "Warning".into())]);
    // The same record for a web server is not an SMTP matter.
    assert!(dan(&rules(&with_tlsa("_443._tcp.www.example.com", &[pkix]))).is_empty());
}

#[test]
fn rfc7671_8_1_a_single_usable_tlsa_record_fires_dan003() {
    let got = rules(&with_tlsa("_25._tcp.mx1.example.com", &[EE]));
    assert_eq!(dan(&got), [("DAN003".into(), "Warning".into())]);
    let p = read_plan(&with_tlsa("_25._tcp.mx1.example.com", &[EE])).unwrap();
    let f = lint_plan(&p).into_iter().find(|f| f.rule == "DAN003").unwrap();
    assert_eq!(f.domain, "mx1.example.com");
    assert!(
        f.message
            .contains("_25._tcp.mx1.example.com has one usable TLSA record"),
        "{}",
        f.message
    );
    // A rollover pair: nothing.
    assert!(dan(&rules(&with_tlsa("_25._tcp.mx1.example.com", &[EE, TA]))).is_empty());
}
