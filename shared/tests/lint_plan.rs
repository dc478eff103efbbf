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
/// (`before` -> `after` content) and the MX records.
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
    // The same change with a new id is the correct way: no XCK004.
    let got = rules(&plan(
        "20240601",
        "20240901",
        Some(OLD),
        Some(NEW),
        &["mx1.example.com", "mx2.example.com"],
    ));
    assert!(got.is_empty(), "{got:?}");
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
