//! The rule catalogue against the code, the tests and the docs: every rule the
//! library can fire is catalogued, every catalogued rule is fired by the
//! library and named by a test, and `docs/rules.md` is the catalogue.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` (or, with `all`, every) file under `dir`.
fn files(dir: &Path, all: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, all, out);
        } else if all || p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The rule IDs written as string literals (`"XCK001"`) in `text`.
fn literals(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    for i in 0..b.len().saturating_sub(7) {
        let w = &b[i..i + 8];
        if w[0] == b'"'
            && w[7] == b'"'
            && w[1..4].iter().all(u8::is_ascii_uppercase)
            && w[4..7].iter().all(u8::is_ascii_digit)
        {
            out.insert(String::from_utf8_lossy(&w[1..7]).into_owned());
        }
    }
    out
}

/// The rule IDs anywhere in `text` (golden outputs, JSON, prose).
fn mentions(text: &str) -> BTreeSet<String> {
    stsguard::lint::RULES
        .iter()
        .filter(|r| text.contains(r.id))
        .map(|r| r.id.to_owned())
        .collect()
}

#[test]
fn every_fired_rule_is_catalogued_and_every_rule_is_fired_and_tested() {
    let root = repo();
    let mut src = Vec::new();
    files(&root.join("shared/src"), false, &mut src);
    assert!(
        src.len() > 20,
        "no library sources found under {}",
        root.display()
    );
    let (mut fired, mut tested) = (BTreeSet::new(), BTreeSet::new());
    for f in &src {
        if f.ends_with("lint/catalogue.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests sit at the end of a file, after `#[cfg(test)]`.
        let (code, tests) = text.split_at(text.find("#[cfg(test)]").unwrap_or(text.len()));
        fired.extend(literals(code));
        tested.extend(mentions(tests));
    }
    let mut test_files = Vec::new();
    for dir in [
        "shared/tests",
        "shared/cli/tests",
        "functions/ingest/tests",
        "functions/digest/tests",
        "tests",
    ] {
        files(&root.join(dir), true, &mut test_files);
    }
    for f in &test_files {
        if let Ok(text) = std::fs::read_to_string(f) {
            tested.extend(mentions(&text));
        }
    }
    let catalogued: BTreeSet<String> = stsguard::lint::RULES.iter().map(|r| r.id.to_owned()).collect();
    let uncatalogued: Vec<&String> = fired.difference(&catalogued).collect();
    assert!(
        uncatalogued.is_empty(),
        "fired but not in the catalogue: {uncatalogued:?}"
    );
    let never_fired: Vec<&String> = catalogued.difference(&fired).collect();
    assert!(
        never_fired.is_empty(),
        "in the catalogue but fired nowhere: {never_fired:?}"
    );
    let untested: Vec<&String> = catalogued.difference(&tested).collect();
    assert!(
        untested.is_empty(),
        "in the catalogue but named by no test: {untested:?}"
    );
}

#[test]
fn the_scan_finds_literals_and_only_them() {
    assert_eq!(
        literals(r#"Finding::new("XCK001", d, m); "xck001" "XCK0012" 'STS001'"#),
        BTreeSet::from(["XCK001".to_owned()])
    );
}

#[test]
fn docs_rules_md_is_the_catalogue() {
    let path = repo().join("docs/rules.md");
    let want = stsguard::lint::catalogue::markdown();
    if std::env::var_os("STSGUARD_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is not the catalogue: STSGUARD_BLESS=1 cargo test -p stsguard --test library catalogue"
    );
}

#[test]
fn every_rule_belongs_to_a_family_of_the_docs() {
    for r in stsguard::lint::RULES {
        assert!(
            stsguard::lint::catalogue::FAMILIES
                .iter()
                .any(|(prefix, _)| r.id.starts_with(prefix)),
            "{} has no family in catalogue::FAMILIES, so docs/rules.md would leave it out",
            r.id
        );
    }
}
