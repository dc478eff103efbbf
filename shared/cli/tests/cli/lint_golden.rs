//! Golden outputs of `stsguard lint` in every format: each case under
//! `tests/fixtures/lint-golden/<case>/` lists its arguments in `args` (one a
//! line, paths relative to `tests/fixtures/`, where the binary runs) and holds
//! the reviewed output of each format (`out.text`, `out.json`, `out.sarif`,
//! `out.github`) and the exit status (`exit`). Every SARIF output is validated
//! against the SARIF 2.1.0 JSON schema (`tests/fixtures/sarif-schema-2.1.0.json`)
//! and against what GitHub code scanning requires. Set `STSGUARD_BLESS=1` to
//! rewrite the golden files after an intended change, then review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::PathBuf;

use serde_json::Value;

const FORMATS: [&str; 4] = ["text", "json", "sarif", "github"];

fn fixtures() -> PathBuf {
    crate::support::shared_dir().join("tests/fixtures")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("lint-golden"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("args").is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn args(case: &str) -> Vec<String> {
    std::fs::read_to_string(fixtures().join("lint-golden").join(case).join("args"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs the binary in `tests/fixtures/` with the case's arguments and a format.
fn run(case: &str, format: &str) -> (String, i32) {
    let out = crate::support::bin()
        .current_dir(fixtures())
        .env_remove("NO_COLOR")
        .arg("lint")
        .args(args(case))
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{case} --format {format} wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

/// The file the findings are reported against: the plan, else the policy file,
/// else `mta-sts/<domain>`, as the CLI documents.
fn artifact(case: &str) -> String {
    let a = args(case);
    if !a[0].starts_with("--") {
        return a[0].clone();
    }
    let after = |flag: &str| a.iter().position(|x| x == flag).map(|i| a[i + 1].clone());
    after("--policy").unwrap_or_else(|| format!("mta-sts/{}", after("--domain").unwrap()))
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("sarif-schema-2.1.0.json")).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// SARIF as GitHub code scanning reads it (its documented required properties).
fn github_requirements(case: &str, sarif: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{case}: {what}"));
        }
    };
    need(sarif["version"] == "2.1.0", "version is not 2.1.0");
    need(
        sarif["$schema"]
            .as_str()
            .is_some_and(|s| s.starts_with("https://")),
        "no $schema",
    );
    let runs = sarif["runs"].as_array().cloned().unwrap_or_default();
    need(runs.len() == 1, "not exactly one run");
    for run in &runs {
        let driver = &run["tool"]["driver"];
        need(
            driver["name"] == "stsguard",
            "runs[].tool.driver.name is not stsguard",
        );
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        need(ids.len() == rules.len(), "a rule without id");
        for r in &rules {
            need(
                r["shortDescription"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "a rule without shortDescription.text",
            );
            need(
                r["helpUri"].is_string() || r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "a rule without helpUri or help",
            );
            need(
                stsguard::lint::rule(r["id"].as_str().unwrap_or_default()).is_some(),
                "a rule id outside the catalogue",
            );
        }
        let results = run["results"].as_array().cloned().unwrap_or_default();
        for res in &results {
            let id = res["ruleId"].as_str().unwrap_or_default();
            need(ids.contains(&id), "a result whose ruleId is not among the rules");
            need(
                res["ruleIndex"].as_u64().map(|i| i as usize) == ids.iter().position(|r| *r == id),
                "ruleIndex does not point at its rule",
            );
            need(
                matches!(res["level"].as_str(), Some("error" | "warning" | "note")),
                "level is not error, warning or note",
            );
            need(
                res["message"]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "a result without message.text",
            );
            let locations = res["locations"].as_array().cloned().unwrap_or_default();
            need(!locations.is_empty(), "a result without locations");
            for l in &locations {
                need(
                    l["physicalLocation"]["artifactLocation"]["uri"].as_str()
                        == Some(artifact(case).as_str()),
                    "artifactLocation.uri is not the linted file",
                );
            }
        }
    }
    problems
}

#[test]
fn lint_outputs_match_their_golden_files_in_every_format() {
    let bless = std::env::var_os("STSGUARD_BLESS").is_some();
    let cases = cases();
    assert!(!cases.is_empty(), "no cases in tests/fixtures/lint-golden");
    let validator = sarif_validator();
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut sarif_checked = 0;
    for case in &cases {
        let dir = fixtures().join("lint-golden").join(case);
        let mut exits = Vec::new();
        for format in FORMATS {
            let (out, exit) = run(case, format);
            exits.push(exit);
            if format == "sarif" {
                let v: Value = serde_json::from_str(&out).unwrap();
                let errors: Vec<String> = validator
                    .iter_errors(&v)
                    .map(|e| format!("{case}: schema: {e} at {}", e.instance_path()))
                    .collect();
                failures.extend(errors);
                failures.extend(github_requirements(case, &v));
                sarif_checked += 1;
            }
            if format == "json" {
                // The findings of the json output are exactly those of the SARIF output.
                let n = serde_json::from_str::<Value>(&out)
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .len();
                let sarif: Value = serde_json::from_str(&run(case, "sarif").0).unwrap();
                assert_eq!(n, sarif["runs"][0]["results"].as_array().unwrap().len(), "{case}");
            }
            let golden = dir.join(format!("out.{format}"));
            if bless {
                std::fs::write(&golden, &out).unwrap();
                continue;
            }
            match std::fs::read_to_string(&golden) {
                Ok(want) if want == out => compared += 1,
                Ok(_) => failures.push(format!(
                    "{case}: --format {format} differs from {}",
                    golden.display()
                )),
                Err(e) => failures.push(format!("{case}: no golden file {} ({e})", golden.display())),
            }
        }
        assert!(
            exits.windows(2).all(|w| w[0] == w[1]),
            "{case}: exit status differs by format: {exits:?}"
        );
        let exit = format!("{}\n", exits[0]);
        let golden = dir.join("exit");
        if bless {
            std::fs::write(&golden, &exit).unwrap();
        } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(exit.as_str()) {
            failures.push(format!(
                "{case}: exit status {} differs from {}",
                exits[0],
                golden.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) (run with STSGUARD_BLESS=1 and review the diff if the change is intended):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(sarif_checked, cases.len());
    assert!(bless || compared == cases.len() * FORMATS.len());
}

#[test]
fn the_schema_check_can_fail() {
    // The validator and the GitHub checks reject what GitHub would reject, so the
    // test above cannot pass vacuously.
    let validator = sarif_validator();
    let f = vec![stsguard::lint::Finding::new(
        "XCK001",
        "example.com",
        "MX host mx3.example.com matches no mx pattern",
    )
    .with_address(Some("aws_s3_object.policy"))];
    let good = stsguard::lint::output::to_sarif(&f, "plans/many.json");
    assert!(validator.is_valid(&good));
    assert!(github_requirements("plan-many", &good).is_empty());
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = good.clone();
    bad["version"] = "2.0.0".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = good.clone();
    bad["runs"][0]["tool"]["driver"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("help");
    assert!(!github_requirements("plan-many", &bad).is_empty());
    let mut bad = good;
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        "elsewhere.json".into();
    assert!(!github_requirements("plan-many", &bad).is_empty());
}
