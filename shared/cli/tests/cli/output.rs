//! What every command shares on output: a reader that goes away early (a pipe
//! into `head`) ends the program quietly, as a shell user expects.

use std::process::Stdio;

use crate::support::{bin, shared_dir, text};

/// Runs the binary with standard output a pipe whose reader is already gone.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    bin()
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_each_command_quietly() {
    let plan = shared_dir().join("tests/fixtures/plans/aws.json");
    let plan = plan.display().to_string();
    for args in [
        vec!["explain", "all"],
        vec!["lint", plan.as_str()],
        vec!["lint", plan.as_str(), "--format", "sarif"],
    ] {
        let out = with_closed_stdout(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn an_open_pipe_gets_everything() {
    let out = bin().args(["explain", "all"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), stsguard::lint::RULES.len());
    assert!(lines[0].starts_with("STS001  error"), "{}", lines[0]);
    assert!(
        lines.last().is_some_and(|l| l.starts_with("PLN005  info")),
        "{lines:?}"
    );
}
