//! The findings in each output format, one file per format. Each takes the
//! findings (already inert) and returns text; printing is the caller's.

mod github;
mod json;
mod sarif;
mod text;

pub use github::to_github;
pub use json::to_json;
pub use sarif::to_sarif;
pub use text::to_text;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::lint::domain::tests::{hosts, input, ENFORCE};
    use crate::lint::{lint_domain, Finding};

    #[test]
    fn findings_without_a_domain_render_without_an_empty_prefix() {
        let mut f = vec![Finding::new(
            "PLN004",
            "",
            "the policy file b/.well-known/mta-sts.txt could not be attributed",
        )
        .with_address(Some("aws_s3_object.p"))];
        f.push(Finding::new(
            "PLN001",
            "",
            "the policy file c/.well-known/mta-sts.txt could not be attributed",
        ));
        let v = to_sarif(&f, "plan.json");
        let text = v["runs"][0]["results"][0]["message"]["text"].as_str().unwrap();
        assert!(text.starts_with("the policy file"), "{text}");
        let gh = to_github(&f, Some("plan.json"));
        assert!(
            gh.starts_with("::notice file=plan.json,title=PLN004::the policy"),
            "{gh}"
        );
        // A warning-level rule is a warning annotation.
        assert!(
            gh.contains("\n::warning file=plan.json,title=PLN001::the policy"),
            "{gh}"
        );
    }

    #[test]
    fn sarif_has_rule_metadata_and_levels() {
        let f = lint_domain(&input(ENFORCE, hosts(&["mx1.example.com", "mx3.example.com"])));
        let v = to_sarif(&f, "mta-sts.txt");
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["id"], "XCK001");
        assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(
            (results[1]["ruleId"].as_str(), results[1]["level"].as_str()),
            (Some("XCK003"), Some("note"))
        );
        assert_eq!(results[1]["ruleIndex"], 1);
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "mta-sts.txt"
        );
    }

    #[test]
    fn github_annotations_escape_report_text() {
        let mut f = vec![Finding::new("XCK001", "example.com", "")];
        f[0].message = "evil\n::error::injected 100%".into();
        let out = to_github(&f, Some("dir/mta,sts.txt"));
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.starts_with(
                "::error file=dir/mta%2Csts.txt,title=XCK001 example.com::evil%0A::error::injected 100%25 (Every MX host"
            ),
            "{out}"
        );
    }

    #[test]
    fn sarif_default_level_is_the_catalogue_s_not_the_worst_seen() {
        // XCK001 in testing mode is a warning; its catalogue default is error.
        let testing = ENFORCE.replace("enforce", "testing");
        let f = lint_domain(&input(&testing, hosts(&["mx1.example.com", "mx3.example.com"])));
        let v = to_sarif(&f, "mta-sts.txt");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "XCK001");
        assert_eq!(
            run["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"],
            "error"
        );
        assert_eq!(run["results"][0]["level"], "warning");
    }

    #[test]
    fn text_groups_by_domain_and_counts() {
        let f = lint_domain(&input(ENFORCE, hosts(&["mx1.example.com", "mx3.example.com"])));
        let t = to_text("example.com", &f, false);
        assert!(
            t.starts_with("example.com\n  error   XCK001  MX host mx3.example.com"),
            "{t}"
        );
        assert!(t.contains("          see: RFC 8461 §4, §4.1, §5\n"), "{t}");
        assert!(t.ends_with("1 error(s), 0 warning(s), 1 info\n"), "{t}");
        assert!(to_text("x", &f, true).contains("\x1b[1;31merror   \x1b[0m"));
        assert_eq!(
            to_text("plan.json", &[], false),
            "plan.json\n  no findings\n0 error(s), 0 warning(s), 0 info\n"
        );
        let json: serde_json::Value = serde_json::from_str(&to_json(&f)).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(2));
    }
}
