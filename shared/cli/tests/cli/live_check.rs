//! `stsguard check` against loopback servers: an authoritative DNS server for the
//! records, the MX set and the policy host's address, and an HTTPS responder
//! with a test CA on that address, port 443. Pointed there by `--resolver` and
//! `--ca-file` only. Binding port 443 needs root (or a lowered
//! `ip_unprivileged_port_start`); without it the tests say so and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::{IpAddr, SocketAddr};
use std::process::Output;

use crate::support::{check_args, stsguard_async as stsguard};
use stsguard_test_support::servers::{response, serve, serve_smtp, start_dns, Pki, Smtp};

const POLICY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 1209600\r\n";

fn zone(policy_host: IpAddr, second_mx: &str) -> String {
    format!(
        r#"$ORIGIN example.com.
$TTL 3600
@           IN SOA   ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
@           IN NS    ns1.example.com.
ns1         IN A     127.0.0.1
@           IN MX    10 mx1.example.com.
@           IN MX    20 {second_mx}
mx1         IN A     192.0.2.1
mx2         IN A     192.0.2.2
mta-sts     IN A     {policy_host}
_mta-sts    IN TXT   "v=STSv1; " "id=20240601T000000"
_smtp._tls  IN TXT   "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
"#
    )
}

fn loopback() -> IpAddr {
    stsguard_test_support::loopback(100)
}

/// Starts the HTTPS responder on a loopback address, port 443; `None` when that
/// port cannot be bound here.
async fn serve_443(pki: &Pki, http_response: Vec<u8>) -> Option<SocketAddr> {
    let addr = stsguard_test_support::port_443(loopback())?;
    Some(serve(pki.leaf("mta-sts.example.com"), http_response, addr).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_domain_has_no_findings() {
    let pki = Pki::new();
    let ok = response("200 OK", &["Content-Type: text/plain"], POLICY.as_bytes());
    let Some(https) = serve_443(&pki, ok).await else {
        return;
    };
    let (_dns, dns) = start_dns(&zone(https.ip(), "mx2.example.com.")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();

    let out = stsguard(check_args(dns, &ca, "text")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no findings"), "{stdout}");
    assert!(out.stderr.is_empty(), "--no-smtp: no note");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_findings_in_json() {
    let pki = Pki::new();
    let ok = response("200 OK", &["Content-Type: text/html"], POLICY.as_bytes());
    let Some(https) = serve_443(&pki, ok).await else {
        return;
    };
    // mx3 is not in the policy: XCK001 from the live MX set.
    let (_dns, dns) = start_dns(&zone(https.ip(), "mx3.example.com.")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();

    let out = stsguard(check_args(dns, &ca, "json")).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["NET005", "XCK001", "XCK003"], "{findings:#}");
    assert!(findings[1]["message"]
        .as_str()
        .unwrap()
        .contains("mx3.example.com"));
    assert_eq!(findings[0]["domain"], "example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_without_the_ca_file() {
    let pki = Pki::new();
    let other = Pki::new();
    let ok = response("200 OK", &["Content-Type: text/plain"], POLICY.as_bytes());
    let Some(https) = serve_443(&pki, ok).await else {
        return;
    };
    let (_dns, dns) = start_dns(&zone(https.ip(), "mx2.example.com.")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("other-ca.pem");
    std::fs::write(&ca, &other.ca_pem).unwrap();

    let out = stsguard(check_args(dns, &ca, "json")).await;
    assert_eq!(out.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["rule"], "NET003", "{findings:#}");
    assert_eq!(findings.as_array().unwrap().len(), 1, "{findings:#}");
}

fn zone_two_mx(policy_host: IpAddr, mx1: IpAddr, mx2: IpAddr) -> String {
    format!(
        r#"$ORIGIN example.com.
$TTL 3600
@           IN SOA   ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
@           IN NS    ns1.example.com.
ns1         IN A     127.0.0.1
@           IN MX    10 mx1.example.com.
@           IN MX    20 mx2.example.com.
mx1         IN A     {mx1}
mx2         IN A     {mx2}
mta-sts     IN A     {policy_host}
_mta-sts    IN TXT   "v=STSv1; " "id=20240601T000000"
_smtp._tls  IN TXT   "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
"#
    )
}

/// Runs `check` with the MX probes against two SMTP servers on loopback (one
/// port, two addresses); `None` when port 443 or the shared port cannot be
/// bound here.
async fn check_two_mx(mx2_cert_name: &str) -> Option<(Output, std::time::Duration)> {
    let pki = Pki::new();
    let ok = response("200 OK", &["Content-Type: text/plain"], POLICY.as_bytes());
    let https = serve_443(&pki, ok).await?;
    let mx1 = serve_smtp(
        Smtp::Tls(pki.leaf("mx1.example.com")),
        SocketAddr::new(loopback(), 0),
    )
    .await;
    let mx2_addr = SocketAddr::new(loopback(), mx1.port());
    if let Err(e) = std::net::TcpListener::bind(mx2_addr) {
        panic!("cannot bind {mx2_addr}: {e}");
    }
    serve_smtp(Smtp::Tls(pki.leaf(mx2_cert_name)), mx2_addr).await;
    let (_dns, dns) = start_dns(&zone_two_mx(https.ip(), mx1.ip(), mx2_addr.ip())).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let mut args = check_args(dns, &ca, "json");
    args.retain(|a| a != "--no-smtp");
    args.extend(["--smtp-port".to_owned(), mx1.port().to_string()]);
    let start = std::time::Instant::now();
    let out = stsguard(args).await;
    Some((out, start.elapsed()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_good_mx_hosts_are_clean_and_quick() {
    let Some((out, elapsed)) = check_two_mx("mx2.example.com").await else {
        return;
    };
    eprintln!("check with two MX probes took {elapsed:?}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 0, "{findings:#}");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // Generous: shared CI machines; the probes run concurrently.
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_mx_certificate_is_net008_in_enforce() {
    let Some((out, _)) = check_two_mx("smtp.example.net").await else {
        return;
    };
    assert_eq!(out.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{findings:#}");
    assert_eq!(findings[0]["rule"], "NET008", "{findings:#}");
    assert_eq!(findings[0]["severity"], "error", "{findings:#}");
    assert!(findings[0]["message"]
        .as_str()
        .unwrap()
        .contains("mx2.example.com"));
}

#[test]
fn net_rules_are_explained() {
    for rule in [
        "NET001", "NET002", "NET003", "NET004", "NET005", "NET006", "NET007", "NET008", "NET009", "XCK005",
        "XCK006",
    ] {
        let out = crate::support::bin().args(["explain", rule]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{rule}");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.starts_with(rule), "{text}");
        assert!(!text.contains("See the rule catalogue"), "{text}");
    }
}

#[test]
fn bad_resolver_is_a_usage_error() {
    let out = crate::support::bin()
        .args(["check", "example.com", "--no-smtp", "--resolver", "not-an-ip"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
