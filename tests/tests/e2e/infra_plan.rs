//! The Terraform module's own MTA-STS deployment passes the linter: the plan
//! of `infra/examples/complete` (the `mta-sts` sub-module, as `terraform show
//! -json` prints it) is read by `stsguard::plan::read_plan` and linted by
//! `stsguard::lint::lint_plan` without a warning or an error. The test also
//! checks that the records and the policy file were found, so it fails if the
//! fixture stops being read, and that the `_mta-sts` id is the hash of the
//! policy text, as the sub-module derives it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;

use stsguard::diag::Severity;
use stsguard::lint::lint_plan;
use stsguard::plan::{read_plan, Action, Plan};

const DOMAIN: &str = "example.com";

fn plan() -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/examples/complete/plan.json");
    let json = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_plan(&json).unwrap()
}

/// The one planned TXT record at `name`, as one string.
fn txt(plan: &Plan, name: &str) -> (String, String) {
    let records: Vec<_> = plan
        .records
        .iter()
        .filter(|r| r.rtype == "TXT" && r.fqdn == name)
        .collect();
    assert_eq!(records.len(), 1, "TXT records at {name}: {records:#?}");
    let r = records[0];
    assert_eq!(r.action, Action::Create, "{}", r.address);
    assert!(!r.unknown, "{} is known only after apply", r.address);
    assert_eq!(r.values.len(), 1, "{}", r.address);
    (
        r.address.clone(),
        String::from_utf8(r.values[0].concat()).unwrap(),
    )
}

#[test]
fn complete_example_plan_lints_clean() {
    let plan = plan();
    let findings = lint_plan(&plan);
    let bad: Vec<_> = findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    assert!(bad.is_empty(), "findings at warning or error: {bad:#?}");
}

#[test]
fn complete_example_plan_has_the_records_and_the_policy() {
    let plan = plan();

    let (address, tlsrpt) = txt(&plan, &format!("_smtp._tls.{DOMAIN}"));
    assert_eq!(address, "module.mta_sts.aws_route53_record.tlsrpt[0]");
    assert_eq!(tlsrpt, "v=TLSRPTv1; rua=mailto:reports@tlsrpt.example.com");

    let (address, sts) = txt(&plan, &format!("_mta-sts.{DOMAIN}"));
    assert_eq!(address, "module.mta_sts.aws_route53_record.sts");
    let id = sts.strip_prefix("v=STSv1; id=").expect(&sts);

    assert_eq!(plan.policies.len(), 1, "{:#?}", plan.policies);
    let policy = &plan.policies[0];
    assert_eq!(policy.address, "module.mta_sts.aws_s3_object.policy");
    assert_eq!(
        policy.bucket_or_path,
        format!("mta-sts.{DOMAIN}/.well-known/mta-sts.txt")
    );
    assert_eq!(policy.domain.as_deref(), Some(DOMAIN));
    assert_eq!(policy.action, Action::Create);
    let body = policy.body.as_deref().expect("the policy body is in the plan");

    // The sub-module writes CRLF lines, version first, and derives the id from
    // the first 32 hex digits of the body's SHA-256.
    assert_eq!(
        body,
        b"version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 604800\r\n"
    );
    assert_eq!(id, &stsguard::sha256_hex(body)[..32]);

    // Nothing about these three resources had to be guessed.
    for address in [
        "module.mta_sts.aws_route53_record.sts",
        "module.mta_sts.aws_route53_record.tlsrpt[0]",
        "module.mta_sts.aws_s3_object.policy",
    ] {
        let notes: Vec<_> = plan.notes.iter().filter(|n| n.address == address).collect();
        assert!(notes.is_empty(), "notes on {address}: {notes:#?}");
    }
}
