//! The `text` format: findings grouped by domain, each with its severity, rule,
//! message, plan address, help and RFC sections, then the counts.

use std::fmt::Write as _;

use crate::diag::Severity;
use crate::lint::Finding;

/// The findings as text for a person. `label` names what was linted (the plan
/// file or the domain) when there are no findings; `colour` adds ANSI colours
/// to the severities.
pub fn to_text(label: &str, findings: &[Finding], colour: bool) -> String {
    let mut o = String::new();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    if findings.is_empty() {
        let _ = writeln!(
            o,
            "{}\n  no findings",
            crate::text::escaped(label, crate::text::UNCUT)
        );
    }
    let mut domain = None;
    for f in findings {
        if domain != Some(&f.domain) {
            if f.domain.is_empty() {
                let _ = writeln!(o, "(no domain)");
            } else {
                let _ = writeln!(o, "{}", f.domain);
            }
            domain = Some(&f.domain);
        }
        let (sev, code) = match f.severity {
            Severity::Error => ("error", "31"),
            Severity::Warning => ("warning", "33"),
            Severity::Info => ("info", "36"),
        };
        let sev = format!("{sev:<8}");
        let sev = if colour {
            format!("\x1b[1;{code}m{sev}\x1b[0m")
        } else {
            sev
        };
        let _ = writeln!(o, "  {sev}{}  {}", f.rule, f.message);
        if let Some(a) = &f.address {
            let _ = writeln!(o, "          at: {a}");
        }
        let _ = writeln!(o, "          help: {}", f.help());
        let rfc = f.rfc();
        if !rfc.is_empty() {
            let _ = writeln!(o, "          see: {rfc}");
        }
    }
    let _ = writeln!(
        o,
        "{} error(s), {} warning(s), {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    o
}
