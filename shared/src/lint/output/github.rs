//! GitHub Actions workflow commands, one annotation per finding.

use crate::diag::Severity;
use crate::lint::Finding;

/// GitHub Actions workflow commands (`::error file=…,title=…::message`), one per
/// finding; info findings become `::notice`. Values are escaped as the runner
/// requires, so report text cannot inject another command.
pub fn to_github(findings: &[Finding], file: Option<&str>) -> String {
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for f in findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = file {
            props.push(format!("file={}", property(file)));
        }
        props.push(format!(
            "title={}",
            property(format!("{} {}", f.rule, f.domain).trim_end())
        ));
        out.push_str(&format!(
            "::{cmd} {}::{}\n",
            props.join(","),
            data(&format!("{} ({})", f.message, f.help()))
        ));
    }
    out
}
