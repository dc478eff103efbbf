//! The lint configuration file: parse errors name the key and line, and each
//! option (domains, policy mapping, severities, ignores) fires and stays quiet
//! where it should.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use proptest::prelude::*;
use stsguard::diag::Severity;
use stsguard::lint::config::{LintConfig, Override, PolicySelector, MAX_CONFIG_BYTES};
use stsguard::lint::{lint_plan, lint_plan_with, Finding};
use stsguard::plan::{read_plan, Plan};

fn fixture(name: &str) -> Plan {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(name);
    read_plan(&std::fs::read(path).unwrap()).unwrap()
}

fn err(text: &str) -> stsguard::lint::config::LintConfigError {
    LintConfig::parse(text).unwrap_err()
}

fn summary(f: &[Finding]) -> Vec<(&'static str, Severity, String, Option<String>)> {
    f.iter()
        .map(|f| (f.rule, f.severity, f.domain.clone(), f.address.clone()))
        .collect()
}

#[test]
fn the_example_file_parses_to_what_it_says() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stsguard.toml"),
    )
    .unwrap();
    let c = LintConfig::parse(&text).unwrap();
    assert_eq!(
        c.domains.as_deref(),
        Some(&["example.com".to_owned(), "example.org".to_owned()][..])
    );
    assert_eq!(c.rules.get("STS009"), Some(&Override::Level(Severity::Error)));
    assert_eq!(c.rules.get("POL011"), Some(&Override::Off));
    assert_eq!(
        c.policies[0].select,
        PolicySelector::Address(r#"module.web.aws_s3_object.mta_sts["org"]"#.into())
    );
    assert_eq!(
        c.policies[1].select,
        PolicySelector::Location("static-assets/com/.well-known/mta-sts.txt".into())
    );
    assert_eq!(
        (
            c.zones[0].id.as_str(),
            c.zones[0].domain.as_str(),
            c.zones[0].key.as_str()
        ),
        ("Z0123456789ABCDEFGHIJ", "example.com", "zone[0]")
    );
    assert_eq!(c.ignores.len(), 2);
    assert_eq!(c.ignores[1].rule, None);
    // The [alerts] table states the defaults, and the domains are expected.
    assert_eq!(
        c.alerts,
        stsguard::alerts::AlertConfig {
            domains: vec!["example.com".into(), "example.org".into()],
            ..stsguard::alerts::AlertConfig::default()
        }
    );
    assert_eq!(LintConfig::parse("").unwrap(), LintConfig::default());
}

#[test]
fn alert_thresholds_are_read_and_checked() {
    let c = LintConfig::parse(
        "[alerts]\ntesting_share_percent = 12.5\nsilence_days = 3\nmax_messages_per_run = 5\n",
    )
    .unwrap();
    assert_eq!(
        (
            c.alerts.testing_share_percent,
            c.alerts.silence_days,
            c.alerts.max_messages_per_run
        ),
        (12.5, 3, 5)
    );
    let e = err("[alerts]\nsilence_days = 30\n");
    assert_eq!((e.key.as_str(), e.line), ("alerts.silence_days", Some(2)));
    let e = err("[alerts]\ntesting_share_percent = 150\n");
    assert_eq!(e.key, "alerts.testing_share_percent");
    let e = err("[alerts]\nsilence = 3\n");
    assert!(e.to_string().contains("silence"), "{e}");
}

#[test]
fn unknown_keys_are_errors_naming_key_and_line() {
    let e = err("domains = [\"example.com\"]\nseverity = {}\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "severity"), "{e}");
    assert!(e.message.contains("unknown field"), "{e}");
    let e = err("[[policy]]\nadress = \"a.b\"\ndomain = \"example.com\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "adress"), "{e}");
    let e = err("[[ignore]]\nrule = \"STS009\"\ndomian = \"example.com\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "domian"), "{e}");
    assert!(
        e.to_string()
            .starts_with("line 3, column 1: domian: unknown field"),
        "{e}"
    );
}

#[test]
fn unknown_rule_ids_and_severities_are_errors() {
    let e = err("[rules]\nSTS009 = \"error\"\nSTS999 = \"off\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "rules.STS999"), "{e}");
    assert!(e.message.contains("unknown rule ID"), "{e}");
    // Every catalogue ID is known, the NET family too.
    assert!(LintConfig::parse("[rules]\nNET009 = \"off\"\n").is_ok());
    let e = err("[rules]\nNET010 = \"off\"\n");
    assert_eq!(e.key, "rules.NET010", "{e}");
    let e = err("[rules]\nSTS009 = \"fatal\"\n");
    assert_eq!((e.line, e.column), (Some(2), Some(10)), "{e}");
    assert!(e.message.contains("unknown severity \"fatal\""), "{e}");
    let e = err("[rules]\nsts009 = \"off\"\nSTS009 = \"info\"\n");
    assert!(e.message.contains("twice"), "{e}");
    let e = err("[[ignore]]\nrule = \"XCK999\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "ignore[0].rule"), "{e}");
    // The IDs are case-insensitive, like `stsguard explain`.
    let c = LintConfig::parse("[rules]\nxck003 = \"warning\"\n").unwrap();
    assert_eq!(c.rules.get("XCK003"), Some(&Override::Level(Severity::Warning)));
}

#[test]
fn malformed_entries_are_errors() {
    let e = err("[[policy]]\naddress = \"a\"\nlocation = \"b\"\ndomain = \"example.com\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(1), "policy[0]"), "{e}");
    let e = err("[[policy]]\ndomain = \"example.com\"\n");
    assert!(e.message.contains("exactly one of"), "{e}");
    let e = err("[[policy]]\naddress = \"a\"\n");
    assert!(e.message.contains("missing field `domain`"), "{e}");
    let e = err("[[policy]]\naddress = \"a\"\ndomain = \"https://example.com/\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "policy[0].domain"), "{e}");
    let e = err("[[ignore]]\nrule = \"*\"\nreason = \"all of it\"\n");
    assert!(e.message.contains("needs a `domain` or an `address`"), "{e}");
    let e = err("domains = \"example.com\"\n");
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("invalid type"), "{e}");
    let e = err("domains = [\"\"]\n");
    assert_eq!(e.key, "domains[0]", "{e}");
    let e = err("domains = [\"a\\u0007.example\"]\n");
    assert!(e.message.contains("control characters"), "{e}");
    let e = err("[rules\nSTS009 = \"off\"\n");
    assert_eq!(e.line, Some(1), "{e}");
}

#[test]
fn hostile_files_are_refused_without_panicking() {
    let big = "#".repeat(MAX_CONFIG_BYTES + 1);
    assert!(err(&big).message.contains("over the cap"));
    let many = format!(
        "domains = [{}]\n",
        (0..10_001)
            .map(|i| format!("\"d{i}.example\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let e = err(&many);
    assert_eq!(e.key, "domains", "{e}");
    assert!(e.message.contains("more than the 10000"), "{e}");
    // Deep nesting: the TOML parser's recursion limit, not a stack overflow.
    let deep = format!("domains = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(LintConfig::parse(&deep).is_err());
    let deep = format!("x = {}1{}\n", "{a = ".repeat(50_000), "}".repeat(50_000));
    assert!(LintConfig::parse(&deep).is_err());
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = LintConfig::parse(&text);
    }

    #[test]
    fn mutated_valid_files_never_panic(cut in 0usize..600, byte in 0u8..128) {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stsguard.toml"),
        ).unwrap();
        let mut bytes = text.into_bytes();
        let at = cut % bytes.len();
        bytes[at] = byte;
        if let Ok(t) = String::from_utf8(bytes) {
            let _ = LintConfig::parse(&t);
        }
    }
}

#[test]
fn policy_mapping_attributes_the_file_and_silences_pln001() {
    let plan = fixture("aws.json");
    let before = lint_plan(&plan);
    assert!(before.iter().any(|f| f.rule == "PLN001"), "{before:#?}");
    // By address.
    let c = LintConfig::parse(
        "[[policy]]\naddress = \"aws_s3_bucket_object.org_policy\"\ndomain = \"Example.ORG.\"\n",
    )
    .unwrap();
    let after = lint_plan_with(&plan, &c);
    assert!(!after.iter().any(|f| f.rule == "PLN001"), "{after:#?}");
    // The policy is now linted for example.org: the "no mta-sts.txt" PLN004 is gone
    // and its findings carry its address.
    let no_policy = |f: &[Finding]| {
        f.iter()
            .any(|f| f.rule == "PLN004" && f.domain == "example.org" && f.message.contains("no mta-sts.txt"))
    };
    assert!(no_policy(&before), "{before:#?}");
    assert!(!no_policy(&after), "{after:#?}");
    assert!(
        after
            .iter()
            .any(|f| f.domain == "example.org"
                && f.address.as_deref() == Some("aws_s3_bucket_object.org_policy")),
        "{after:#?}"
    );
    // By location: the same result.
    let c = LintConfig::parse(
        "[[policy]]\nlocation = \"static-assets/org/.well-known/mta-sts.txt\"\ndomain = \"example.org\"\n",
    )
    .unwrap();
    assert_eq!(summary(&lint_plan_with(&plan, &c)), summary(&after));
    // An entry that names another object changes nothing.
    let c = LintConfig::parse("[[policy]]\naddress = \"aws_s3_object.other\"\ndomain = \"example.org\"\n")
        .unwrap();
    let mut want = before.clone();
    stsguard::lint::sort_findings(&mut want);
    assert_eq!(summary(&lint_plan_with(&plan, &c)), summary(&want));
}

#[test]
fn domains_limit_the_lint_and_name_what_is_missing() {
    let plan = fixture("many.json");
    let all = lint_plan(&plan);
    let domains = |f: &[Finding]| {
        let mut d: Vec<String> = f.iter().map(|f| f.domain.clone()).collect();
        d.dedup();
        d
    };
    assert_eq!(
        domains(&all),
        ["example.com", "example.io", "example.net", "example.org", ""]
    );
    let c = LintConfig::parse("domains = [\"example.net\", \"example.dev\"]\n").unwrap();
    let some = lint_plan_with(&plan, &c);
    assert_eq!(domains(&some), ["example.dev", "example.net", ""]);
    let dev: Vec<_> = some.iter().filter(|f| f.domain == "example.dev").collect();
    assert_eq!(dev.len(), 1);
    assert_eq!((dev[0].rule, dev[0].severity), ("PLN004", Severity::Info));
    assert!(
        dev[0].message.contains("listed in the configuration"),
        "{:?}",
        dev[0]
    );
    // A listed domain the plan has: no such finding.
    assert!(!some
        .iter()
        .any(|f| f.domain == "example.net" && f.message.contains("listed in the configuration")));
}

#[test]
fn severity_overrides_and_off() {
    let plan = fixture("many.json");
    let base = lint_plan(&plan);
    let sev = |f: &[Finding], rule: &str| {
        f.iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.severity)
            .collect::<Vec<_>>()
    };
    assert_eq!(sev(&base, "STS009"), [Severity::Info]);
    assert_eq!(sev(&base, "XCK001"), [Severity::Error]);
    let c =
        LintConfig::parse("[rules]\nSTS009 = \"error\"\nXCK001 = \"off\"\nPLN001 = \"warning\"\n").unwrap();
    let f = lint_plan_with(&plan, &c);
    assert_eq!(sev(&f, "STS009"), [Severity::Error]);
    assert!(sev(&f, "XCK001").is_empty());
    assert_eq!(sev(&f, "PLN001"), [Severity::Warning]);
    // Everything else as it was.
    let rest = |f: &[Finding]| {
        let mut v = summary(f);
        v.retain(|x| !matches!(x.0, "STS009" | "XCK001" | "PLN001"));
        v.sort();
        v
    };
    assert_eq!(rest(&f), rest(&base));
}

#[test]
fn ignores_by_rule_domain_and_address() {
    let plan = fixture("many.json");
    let base = lint_plan(&plan);
    let count = |f: &[Finding], rule: &str| f.iter().filter(|f| f.rule == rule).count();
    assert_eq!(count(&base, "PLN004"), 2);
    // One rule in one domain.
    let c = LintConfig::parse("[[ignore]]\nrule = \"PLN004\"\ndomain = \"example.org\"\n").unwrap();
    let f = lint_plan_with(&plan, &c);
    assert_eq!(count(&f, "PLN004"), 1);
    assert_eq!(f.len(), base.len() - 1);
    // The same rule in a domain that has none of it: nothing dropped.
    let c = LintConfig::parse("[[ignore]]\nrule = \"PLN004\"\ndomain = \"example.com\"\n").unwrap();
    assert_eq!(lint_plan_with(&plan, &c).len(), base.len());
    // Every rule at an address prefix.
    let c = LintConfig::parse("[[ignore]]\nrule = \"*\"\naddress = \"module.mail.*\"\n").unwrap();
    let f = lint_plan_with(&plan, &c);
    assert!(f.iter().all(|f| !f
        .address
        .as_deref()
        .unwrap_or_default()
        .starts_with("module.mail.")));
    let dropped = base
        .iter()
        .filter(|f| {
            f.address
                .as_deref()
                .unwrap_or_default()
                .starts_with("module.mail.")
        })
        .count();
    assert!(dropped >= 4, "{dropped}");
    assert_eq!(f.len(), base.len() - dropped);
    // An exact address does not match a longer one.
    let c = LintConfig::parse("[[ignore]]\nrule = \"*\"\naddress = \"module.mail\"\n").unwrap();
    assert_eq!(lint_plan_with(&plan, &c).len(), base.len());
}

#[test]
fn two_policy_files_for_one_domain_are_said_not_ignored() {
    let plan = fixture("many.json");
    let several = |f: &[Finding]| {
        f.iter()
            .filter(|f| f.rule == "PLN004" && f.message.contains("several policy files"))
            .map(|f| (f.domain.clone(), f.message.clone()))
            .collect::<Vec<_>>()
    };
    // The legacy object mapped to example.org, which has its own policy file.
    let c = LintConfig::parse(
        "[[policy]]\naddress = \"aws_s3_object.legacy_policy\"\ndomain = \"example.org\"\n",
    )
    .unwrap();
    let got = several(&lint_plan_with(&plan, &c));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "example.org");
    assert!(got[0]
        .1
        .contains("only aws_s3_object.org_policy was checked, not aws_s3_object.legacy_policy"));
    // Mapped to example.io, which has none: one file per domain, nothing to say.
    let c =
        LintConfig::parse("[[policy]]\naddress = \"aws_s3_object.legacy_policy\"\ndomain = \"example.io\"\n")
            .unwrap();
    let f = lint_plan_with(&plan, &c);
    assert!(several(&f).is_empty(), "{f:#?}");
    assert!(
        f.iter()
            .any(|f| f.domain == "example.io" && f.address.as_deref() == Some("aws_s3_object.legacy_policy")),
        "{f:#?}"
    );
}
