//! Plan reader tests: one `terraform show -json` fixture per provider family
//! (`tests/fixtures/plans/`), asserting exactly the records and policy files
//! extracted, plus refusals and a property test on arbitrary bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use proptest::prelude::*;
use stsguard::plan::{read_plan, Action, Plan, PlanError, PlannedPolicy, PlannedRecord};

fn load(name: &str) -> Plan {
    let path = format!("{}/tests/fixtures/plans/{name}", env!("CARGO_MANIFEST_DIR"));
    read_plan(&std::fs::read(&path).unwrap()).unwrap()
}

/// Builds a record's values from string slices.
fn v(records: &[&[&str]]) -> Vec<Vec<Vec<u8>>> {
    records
        .iter()
        .map(|r| r.iter().map(|s| s.as_bytes().to_vec()).collect())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn rec(
    address: &str,
    resource_type: &str,
    fqdn: &str,
    rtype: &str,
    values: &[&[&str]],
    mx_hosts: &[&str],
    ttl: Option<u64>,
    action: Action,
    before: Option<&[&[&str]]>,
    unknown: bool,
) -> PlannedRecord {
    PlannedRecord {
        address: address.into(),
        resource_type: resource_type.into(),
        fqdn: fqdn.into(),
        name: String::new(),
        zone_id: None,
        rtype: rtype.into(),
        values: v(values),
        mx_hosts: mx_hosts.iter().map(|s| (*s).to_owned()).collect(),
        ttl,
        alias: None,
        action,
        before: before.map(v),
        unknown,
    }
}

/// The records without the name and zone id as written (the fixtures' expected
/// records name the resolved owner name only; `zones.rs` tests the rest).
fn written_names_aside(records: &[PlannedRecord]) -> Vec<PlannedRecord> {
    records
        .iter()
        .map(|r| PlannedRecord {
            name: String::new(),
            zone_id: None,
            ..r.clone()
        })
        .collect()
}

fn pol(
    address: &str,
    resource_type: &str,
    bucket_or_path: &str,
    domain: Option<&str>,
    body: Option<&str>,
    before: Option<&str>,
    action: Action,
) -> PlannedPolicy {
    PlannedPolicy {
        address: address.into(),
        resource_type: resource_type.into(),
        bucket_or_path: bucket_or_path.into(),
        domain: domain.map(Into::into),
        body: body.map(|b| b.as_bytes().to_vec()),
        before: before.map(|b| b.as_bytes().to_vec()),
        action,
    }
}

const POLICY_COM: &str =
    "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 604800\n";

#[test]
fn aws_route53_and_s3_in_nested_modules() {
    let plan = load("aws.json");
    let mut alias = rec(
        "module.mail.aws_route53_record.mta_sts_host",
        "aws_route53_record",
        "mta-sts.example.com",
        "A",
        &[],
        &[],
        None,
        Action::NoOp,
        None,
        false,
    );
    alias.alias = Some("d111111abcdef8.cloudfront.net".into());
    let expected = vec![
        // Zone-relative name joined with the zone's name; count index kept.
        rec(
            "module.mail.aws_route53_record.sts[0]",
            "aws_route53_record",
            "_mta-sts.example.com",
            "TXT",
            &[&["v=STSv1; id=20240601"]],
            &[],
            Some(300),
            Action::Update,
            Some(&[&["v=STSv1; id=20240101"]]),
            false,
        ),
        // FQDN name, `fqdn` known only after apply.
        rec(
            "module.mail.aws_route53_record.tlsrpt",
            "aws_route53_record",
            "_smtp._tls.example.com",
            "TXT",
            &[&["v=TLSRPTv1; rua=mailto:tls@example.com"]],
            &[],
            Some(3600),
            Action::Create,
            None,
            false,
        ),
        rec(
            "module.mail.aws_route53_record.mx",
            "aws_route53_record",
            "example.com",
            "MX",
            &[&["10 mx1.example.com"], &["20 mx2.example.com"]],
            &["mx1.example.com", "mx2.example.com"],
            Some(3600),
            Action::NoOp,
            None,
            false,
        ),
        alias,
        // Zone from a data source read during planning (prior_state); for_each key;
        // quoted split strings; replacement.
        rec(
            "module.mail.module.org.aws_route53_record.sts[\"example.org\"]",
            "aws_route53_record",
            "_mta-sts.example.org",
            "TXT",
            &[&["v=STSv1; id=2024", "0601"]],
            &[],
            Some(300),
            Action::Replace,
            Some(&[&["v=STSv1; id=1", "9"]]),
            false,
        ),
        // Only in resource_changes: the deletion.
        rec(
            "module.mail.aws_route53_record.old",
            "aws_route53_record",
            "_mta-sts.old.example.com",
            "TXT",
            &[],
            &[],
            None,
            Action::Delete,
            Some(&[&["v=STSv1; id=1"]]),
            false,
        ),
    ];
    assert_eq!(written_names_aside(&plan.records), expected);
    let org = "version: STSv1\r\nmode: testing\r\nmx: mx.example.org\r\nmax_age: 86400\r\n";
    let expected = vec![
        // content_base64, leading slash in the key, bucket not named after the domain,
        // two domains with _mta-sts records: not attributed.
        pol(
            "aws_s3_bucket_object.org_policy",
            "aws_s3_bucket_object",
            "static-assets/org/.well-known/mta-sts.txt",
            None,
            Some(org),
            None,
            Action::Create,
        ),
        pol(
            "module.mail.module.org.aws_s3_object.policy",
            "aws_s3_object",
            "mta-sts.example.com/.well-known/mta-sts.txt",
            Some("example.com"),
            Some(POLICY_COM),
            Some(&POLICY_COM.replace("enforce", "testing")),
            Action::Update,
        ),
    ];
    assert_eq!(plan.policies, expected);
    assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
    assert!(plan.notes[0]
        .text
        .starts_with("aws_s3_bucket_object.org_policy: the policy file"));
    assert!(plan.notes[0].text.contains("could not be attributed"));
}

#[test]
fn aws_route53_txt_split_strings() {
    let plan = load("aws-split.json");
    assert_eq!(plan.records.len(), 1);
    let r = &plan.records[0];
    assert_eq!(r.fqdn, "_mta-sts.example.com");
    assert_eq!(
        r.values,
        v(&[
            &["v=STSv1; id=2024", "0601"], // `""` inside a plain value
            &["v=STSv1; id=20240602"],     // already quoted
            &["a", "b", ""],               // `" "` and a trailing `""`
            &["oct*al"],                   // Route 53's octal escape
            &["say \"hi"],                 // unbalanced: one string, with a note
        ])
    );
    assert_eq!(
        plan.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        vec![r#"aws_route53_record.split: TXT value "say \"hi" has unbalanced quotes; read as one string"#]
    );
}

#[test]
fn values_known_after_apply() {
    let plan = load("unknown.json");
    let expected = vec![
        // The zone is created by this plan: its id, hence the record's full name, is unknown.
        rec(
            "aws_route53_record.sts_new",
            "aws_route53_record",
            "",
            "TXT",
            &[&["v=STSv1; id=1"]],
            &[],
            Some(300),
            Action::Create,
            None,
            true,
        ),
        rec(
            "aws_route53_record.tls_unknown",
            "aws_route53_record",
            "_smtp._tls.example.net",
            "TXT",
            &[],
            &[],
            Some(300),
            Action::Create,
            None,
            true,
        ),
        rec(
            "aws_route53_record.sts_known",
            "aws_route53_record",
            "_mta-sts.example.com",
            "TXT",
            &[&["v=STSv1; id=7"]],
            &[],
            Some(300),
            Action::NoOp,
            None,
            false,
        ),
        // Zone created in this plan, found through the configuration's references:
        // directly, and through a module variable (module instance key ["net"]).
        rec(
            "aws_route53_record.tls_new",
            "aws_route53_record",
            "_smtp._tls.example.net",
            "TXT",
            &[&["v=TLSRPTv1; rua=mailto:tls@example.net"]],
            &[],
            Some(600),
            Action::Create,
            None,
            false,
        ),
        rec(
            "module.dns[\"net\"].aws_route53_record.sts[0]",
            "aws_route53_record",
            "_mta-sts.example.net",
            "TXT",
            &[&["v=STSv1; id=3"]],
            &[],
            Some(600),
            Action::Create,
            None,
            false,
        ),
    ];
    assert_eq!(written_names_aside(&plan.records), expected);
    let expected = vec![
        // Unknown body; an _mta-sts record of unknown name forbids attribution by uniqueness.
        pol(
            "aws_s3_object.policy_unknown",
            "aws_s3_object",
            "web-assets/.well-known/mta-sts.txt",
            None,
            None,
            None,
            Action::Create,
        ),
        pol(
            "aws_s3_object.policy_file",
            "aws_s3_object",
            "mta-sts.example.com/.well-known/mta-sts.txt",
            Some("example.com"),
            None,
            None,
            Action::Create,
        ),
    ];
    assert_eq!(plan.policies, expected);
    let want = [
        "aws_route53_record.sts_new: the record's zone is known only after apply",
        "aws_route53_record.tls_unknown: the hosted zone of \"_smtp._tls.example.net\" is not in the plan",
        "aws_route53_record.tls_unknown: the record's values are known only after apply",
        "aws_s3_object.policy_unknown: the policy body is known only after apply",
        "aws_s3_object.policy_file: the policy body is read from a file (\"files/mta-sts.txt\")",
        "aws_s3_object.policy_unknown: the policy file web-assets/.well-known/mta-sts.txt could not be attributed",
    ];
    assert_eq!(plan.notes.len(), want.len(), "{:#?}", plan.notes);
    for (n, w) in plan.notes.iter().zip(want) {
        assert!(n.text.starts_with(w), "{n:?} should start with {w:?}");
    }
}

#[test]
fn cloudflare_v4_and_v5() {
    let plan = load("cloudflare.json");
    let expected = vec![
        // v4 `value`, zone-relative name, zone name from cloudflare_zone.zone.
        rec(
            "cloudflare_record.sts",
            "cloudflare_record",
            "_mta-sts.example.net",
            "TXT",
            &[&["v=STSv1; id=20240601"]],
            &[],
            Some(1),
            Action::Update,
            Some(&[&["v=STSv1; id=20240101"]]),
            false,
        ),
        // v4 `content` + `priority`, `@`.
        rec(
            "cloudflare_record.mx",
            "cloudflare_record",
            "example.net",
            "MX",
            &[&["10 mx.example.net"]],
            &["mx.example.net"],
            Some(3600),
            Action::NoOp,
            None,
            false,
        ),
        // v5: FQDN names, quoted TXT content.
        rec(
            "cloudflare_dns_record.tls",
            "cloudflare_dns_record",
            "_smtp._tls.example.net",
            "TXT",
            &[&["v=TLSRPTv1; rua=mailto:tls@example.net"]],
            &[],
            Some(1),
            Action::Create,
            None,
            false,
        ),
        rec(
            "cloudflare_dns_record.mx2",
            "cloudflare_dns_record",
            "example.net",
            "MX",
            &[&["20 mx2.example.net"]],
            &["mx2.example.net"],
            Some(1),
            Action::Create,
            None,
            false,
        ),
    ];
    assert_eq!(written_names_aside(&plan.records), expected);
    assert!(plan.policies.is_empty());
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn google_cloud_dns_and_storage() {
    let plan = load("google.json");
    let expected = vec![
        rec(
            "google_dns_record_set.sts",
            "google_dns_record_set",
            "_mta-sts.example.dev",
            "TXT",
            &[&["v=STSv1; id=2024", "0601"]],
            &[],
            Some(300),
            Action::Create,
            None,
            false,
        ),
        // Two records; `\"` and decimal `\059` escapes.
        rec(
            "google_dns_record_set.tls",
            "google_dns_record_set",
            "_smtp._tls.example.dev",
            "TXT",
            &[&["v=TLSRPTv1; rua=mailto:a@example.dev"], &["second\"record;"]],
            &[],
            Some(300),
            Action::Create,
            None,
            false,
        ),
        rec(
            "google_dns_record_set.mx",
            "google_dns_record_set",
            "example.dev",
            "MX",
            &[&["1 aspmx.l.google.com"], &["5 alt1.aspmx.l.google.com"]],
            &["aspmx.l.google.com", "alt1.aspmx.l.google.com"],
            Some(3600),
            Action::NoOp,
            None,
            false,
        ),
    ];
    assert_eq!(written_names_aside(&plan.records), expected);
    assert_eq!(
        plan.policies,
        vec![pol(
            "google_storage_bucket_object.policy",
            "google_storage_bucket_object",
            "mta-sts.example.dev/.well-known/mta-sts.txt",
            Some("example.dev"),
            Some("version: STSv1\nmode: none\nmax_age: 86400\n"),
            None,
            Action::Create,
        )]
    );
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn azure_digitalocean_and_local_file() {
    let plan = load("azure-do.json");
    let c = Action::Create;
    let expected = vec![
        rec(
            "azurerm_dns_txt_record.sts",
            "azurerm_dns_txt_record",
            "_mta-sts.example.io",
            "TXT",
            &[&["v=STSv1; id=42"]],
            &[],
            Some(300),
            c,
            None,
            false,
        ),
        rec(
            "azurerm_dns_mx_record.mx",
            "azurerm_dns_mx_record",
            "example.io",
            "MX",
            &[&["10 mail.example.io"], &["20 backup.example.io"]],
            &["mail.example.io", "backup.example.io"],
            Some(3600),
            c,
            None,
            false,
        ),
        rec(
            "azurerm_dns_a_record.mta_sts",
            "azurerm_dns_a_record",
            "mta-sts.example.io",
            "A",
            &[&["192.0.2.10"]],
            &[],
            Some(300),
            c,
            None,
            false,
        ),
        rec(
            "azurerm_dns_cname_record.www",
            "azurerm_dns_cname_record",
            "www.example.io",
            "CNAME",
            &[&["web.example.io"]],
            &[],
            Some(300),
            c,
            None,
            false,
        ),
        rec(
            "digitalocean_record.sts",
            "digitalocean_record",
            "_mta-sts.example.app",
            "TXT",
            &[&["v=STSv1; id=9"]],
            &[],
            Some(1800),
            c,
            None,
            false,
        ),
        rec(
            "digitalocean_record.mx",
            "digitalocean_record",
            "example.app",
            "MX",
            &[&["10 mx.example.app"]],
            &["mx.example.app"],
            Some(1800),
            c,
            None,
            false,
        ),
    ];
    assert_eq!(written_names_aside(&plan.records), expected);
    let expected = vec![
        pol(
            "azurerm_storage_blob.policy",
            "azurerm_storage_blob",
            "mtastsweb/$web/.well-known/mta-sts.txt",
            None,
            Some("version: STSv1\nmode: enforce\nmx: mail.example.io\nmax_age: 604800\n"),
            None,
            c,
        ),
        // Domain from a path component named mta-sts.<domain>.
        pol(
            "local_file.policy",
            "local_file",
            "site/mta-sts.example.app/.well-known/mta-sts.txt",
            Some("example.app"),
            Some("version: STSv1\nmode: testing\nmx: mx.example.app\nmax_age: 86400\n"),
            None,
            c,
        ),
    ];
    assert_eq!(plan.policies, expected);
    assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
    assert!(plan.notes[0]
        .text
        .starts_with("azurerm_storage_blob.policy: the policy file"));
}

#[test]
fn policy_attributed_to_the_only_sts_domain() {
    let json = br#"{"format_version":"1.2","terraform_version":"1.9.5",
      "planned_values":{"root_module":{"resources":[
        {"address":"aws_route53_record.sts","mode":"managed","type":"aws_route53_record","name":"sts",
         "values":{"name":"_mta-sts.example.com","type":"TXT","records":["v=STSv1; id=1"],"ttl":60,"zone_id":"Z1"}},
        {"address":"aws_route53_record.tls","mode":"managed","type":"aws_route53_record","name":"tls",
         "values":{"name":"_smtp._tls.example.com","type":"TXT","records":["v=TLSRPTv1; rua=mailto:a@example.com"],"zone_id":"Z1"}},
        {"address":"aws_s3_object.p","mode":"managed","type":"aws_s3_object","name":"p",
         "values":{"bucket":"assets","key":".well-known/mta-sts.txt","content_base64":"dmVyc2lvbjogU1RTdjEK"}}]}},
      "resource_changes":[],
      "prior_state":{"values":{"root_module":{"resources":[
        {"address":"data.aws_route53_zone.z","mode":"data","type":"aws_route53_zone","name":"z",
         "values":{"zone_id":"Z1","name":"example.com"}}]}}}}"#;
    let plan = read_plan(json).unwrap();
    assert_eq!(plan.policies.len(), 1);
    assert_eq!(plan.policies[0].domain.as_deref(), Some("example.com"));
    assert_eq!(plan.policies[0].body.as_deref(), Some(&b"version: STSv1\n"[..]));
    assert_eq!(plan.policies[0].action, Action::NoOp);
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn objects_not_named_like_a_policy_and_other_resources_are_ignored() {
    // aws.json holds an `index.html` object and a zone: neither is a record or a policy.
    let plan = load("aws.json");
    assert!(plan
        .policies
        .iter()
        .all(|p| p.bucket_or_path.ends_with(".well-known/mta-sts.txt")));
    assert!(plan
        .records
        .iter()
        .all(|r| r.resource_type == "aws_route53_record"));
}

#[test]
fn refuses_format_version_2() {
    let json = br#"{"format_version":"2.0","terraform_version":"2.0.0","planned_values":{"root_module":{"resources":{"x":1}}}}"#;
    let err = read_plan(json).unwrap_err();
    assert!(
        matches!(&err, PlanError::UnsupportedVersion { version } if version == "2.0"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("unsupported plan format_version \"2.0\""), "{msg}");
    assert!(msg.contains("1.x"), "{msg}");
    // Also when the version comes after the rest.
    let json = br#"{"planned_values":{"root_module":{}},"format_version":"2.1"}"#;
    assert!(matches!(read_plan(json), Err(PlanError::UnsupportedVersion { version }) if version == "2.1"));
}

#[test]
fn accepts_other_1x_versions() {
    for v in ["1.0", "1.1", "1.2", "1.9"] {
        let json = format!(r#"{{"format_version":"{v}","planned_values":{{"root_module":{{}}}}}}"#);
        assert_eq!(read_plan(json.as_bytes()).unwrap(), Plan::default());
    }
}

#[test]
fn refuses_what_is_not_a_plan() {
    for (input, want) in [
        (&b"not json at all"[..], "not JSON"),
        (b"{\"format_version\": \"1.2\", ", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2, 3]", "not a Terraform plan"),
        (b"{\"a\": 1}", "no format_version"),
        (
            b"{\"format_version\": \"1.0\", \"values\": {}}",
            "this is a state, not a plan",
        ),
        (b"{\"format_version\": 12}", "not a Terraform plan"),
        (
            b"{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"resources\": 5}}}",
            "not a Terraform plan",
        ),
    ] {
        let err = read_plan(input).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{:?}: {err}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn every_fixture_is_read() {
    let dir = format!("{}/tests/fixtures/plans", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let plan = read_plan(&bytes).unwrap();
        assert!(!plan.records.is_empty());
        n += 1;
    }
    assert!(n >= 6, "only {n} fixtures");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_plan(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
                                   cut in proptest::option::of(any::<usize>())) {
        const SEED: &[u8] = include_bytes!("../fixtures/plans/aws.json");
        let mut v = SEED.to_vec();
        for (pos, b) in &edits {
            let i = pos % v.len();
            v[i] = *b;
        }
        if let Some(c) = cut {
            v.truncate(c % (SEED.len() + 1));
        }
        let _ = read_plan(&v);
    }
}

/// A 20,000-resource plan of about 120 MB: run by name with
/// `cargo test --release -p stsguard --test plan -- --ignored large_plan`.
#[test]
#[ignore = "performance check; run with --release"]
fn large_plan_is_read_quickly() {
    let mut json = String::from(r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":["#);
    let filler = "x".repeat(650);
    let values = |i: usize| {
        format!(
            r#"{{"ami":"ami-{i}","name":"i{i}","tags":{{"Name":"n{i}","blob":"{filler}"}},"user_data":"{filler}","id":"{i}","ebs":[{{"size":8,"type":"gp3","note":"{filler}"}}]}}"#
        )
    };
    for i in 0..20_000 {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"address":"aws_instance.i[{i}]","mode":"managed","type":"aws_instance","name":"i","index":{i},"values":{}}}"#,
            values(i)
        ));
    }
    json.push_str(r#"]}},"resource_changes":["#);
    for i in 0..20_000 {
        if i > 0 {
            json.push(',');
        }
        let v = values(i);
        json.push_str(&format!(
            r#"{{"address":"aws_instance.i[{i}]","mode":"managed","type":"aws_instance","name":"i","change":{{"actions":["update"],"before":{v},"after":{v},"after_unknown":{{}}}}}}"#
        ));
    }
    json.push_str("]}");
    let start = std::time::Instant::now();
    let plan = read_plan(json.as_bytes()).unwrap();
    let took = start.elapsed();
    println!("{} MB in {took:?}", json.len() >> 20);
    assert!(plan.records.is_empty());
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
}
