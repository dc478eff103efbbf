//! SARIF 2.1.0, as GitHub code scanning accepts it: one rule entry per rule
//! fired, with the catalogue's help, RFC sections and default severity.

use crate::diag::Severity;
use crate::lint::{rule, Finding};

/// SARIF 2.1.0 log of the findings, with rule metadata, as GitHub code scanning
/// accepts it. `artifact` is the file the findings are reported against (the
/// plan or the policy file; a pseudo path such as `mta-sts/<domain>` otherwise).
pub fn to_sarif(findings: &[Finding], artifact: &str) -> serde_json::Value {
    let mut rule_ids: Vec<&'static str> = findings.iter().map(|f| f.rule).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<serde_json::Value> = rule_ids
        .iter()
        .map(|id| {
            let entry = rule(id);
            let help = entry.map_or("See the rule catalogue.", |r| r.help);
            let full = match entry.map_or("", |r| r.rfc) {
                "" => help.to_owned(),
                rfc => format!("{help} ({rfc})"),
            };
            serde_json::json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": first_sentence(help)},
                "fullDescription": {"text": full},
                "help": {"text": full},
                "defaultConfiguration": {"level": level(entry.map_or(Severity::Warning, |r| r.severity))},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.rule,
                "ruleIndex": rule_ids.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": if f.domain.is_empty() { f.message.clone() } else { format!("{}: {}", f.domain, f.message) }},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [{"name": f.address.clone().unwrap_or_else(|| f.domain.clone()), "kind": "resource"}],
                }],
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "stsguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn first_sentence(text: &str) -> &str {
    text.find(". ").map_or(text, |i| &text[..=i])
}
