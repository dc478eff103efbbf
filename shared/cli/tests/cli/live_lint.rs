//! `stsguard lint PLAN --live` and the report-destination and summary parts of
//! `stsguard check`, against loopback servers: an authoritative DNS server with
//! the live records, an HTTPS responder with a test CA serving the live policy
//! on port 443, pointed at by `--resolver` and `--ca-file` only. Binding port
//! 443 needs root (or a lowered `ip_unprivileged_port_start`); without it the
//! tests say so and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::{IpAddr, SocketAddr};
use std::process::Output;

use serde_json::{json, Value};

use crate::support::{check_args, stsguard_async as stsguard};
use stsguard_test_support::servers::{
    response, serve, serve_logged, serve_smtp, start_dns, Pki, RequestLog, Smtp,
};

/// The live policy: enforce, one MX host.
const LIVE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n";
/// LIVE plus mx2 (a real change).
const WIDER: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 1209600\r\n";
/// LIVE with LF line endings and the keys in another order: the same policy to
/// a sender.
const LIVE_REWRITTEN: &str = "version: STSv1\nmax_age: 1209600\nmode: enforce\nmx: MX1.example.com\n";

/// A loopback address whose port 443 can be bound; `None` without the
/// privilege.
fn free_443() -> Option<SocketAddr> {
    stsguard_test_support::port_443(stsguard_test_support::loopback(10))
}

fn zone(policy_host: IpAddr, id: &str, extra: &str) -> String {
    format!(
        r#"$ORIGIN example.com.
$TTL 7200
@           IN SOA   ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
@           IN NS    ns1.example.com.
ns1         IN A     127.0.0.1
@           IN MX    10 mx1.example.com.
mx1         IN A     192.0.2.1
mta-sts     IN A     {policy_host}
_mta-sts    IN TXT   "v=STSv1; id={id}"
{extra}
"#
    )
}

/// Live side: DNS with `_mta-sts` id `id` (plus `extra` zone lines) and the
/// policy `body` served as text/plain. Returns the DNS server (keep it alive),
/// its address and the CA file's directory.
async fn live(body: &str, id: &str, extra: &str) -> Option<(impl Sized, SocketAddr, tempfile::TempDir)> {
    let pki = Pki::new();
    let addr = free_443()?;
    let https = serve(
        pki.leaf("mta-sts.example.com"),
        response("200 OK", &["Content-Type: text/plain"], body.as_bytes()),
        addr,
    )
    .await;
    let (server, dns) = start_dns(&zone(https.ip(), id, extra)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    Some((server, dns, dir))
}

fn r53(name: &str, typ: &str, records: &[&str]) -> Value {
    json!({"zone_id": "Z1", "name": name, "type": typ, "ttl": 300, "records": records})
}

/// A Route 53 plan. `sts`: the `_mta-sts` record's (before, after) ids (`None`
/// = not in the plan; after `None` = deleted). `policy`: the policy object's
/// (before, after) bodies (`None` = not in the plan). `mx`: (before, after) MX
/// hosts (`None` = not in the plan). The record is applied after the object.
type Change<'a, T> = Option<(Option<T>, Option<T>)>;

fn plan(sts: Change<&str>, policy: Change<&str>, mx: Change<&[&str]>) -> Vec<u8> {
    let mut resources = vec![json!({"address": "aws_route53_zone.main", "mode": "managed",
        "type": "aws_route53_zone", "name": "main", "values": {"name": "example.com", "zone_id": "Z1"}})];
    let mut changes = Vec::new();
    let mut add = |address: &str, typ: &str, before: Option<Value>, after: Option<Value>| {
        let action = match (&before, &after) {
            (None, Some(_)) => "create",
            (Some(_), None) => "delete",
            (Some(b), Some(a)) if b == a => "no-op",
            _ => "update",
        };
        let name = address.rsplit('.').next().unwrap();
        if let Some(a) = &after {
            resources
                .push(json!({"address": address, "mode": "managed", "type": typ, "name": name, "values": a}));
        }
        changes.push(
            json!({"address": address, "mode": "managed", "type": typ, "name": name,
            "change": {"actions": [action], "before": before, "after": after, "after_unknown": {}}}),
        );
    };
    if let Some((b, a)) = sts {
        let rec = |id: &str| r53("_mta-sts.example.com", "TXT", &[&format!("v=STSv1; id={id}")]);
        add(
            "aws_route53_record.sts",
            "aws_route53_record",
            b.map(rec),
            a.map(rec),
        );
    }
    if let Some((b, a)) = policy {
        let obj = |c: &str| json!({"bucket": "mta-sts.example.com", "key": ".well-known/mta-sts.txt", "content": c});
        add("aws_s3_object.policy", "aws_s3_object", b.map(obj), a.map(obj));
    }
    if let Some((b, a)) = mx {
        let rec = |hosts: &[&str]| {
            let values: Vec<String> = hosts
                .iter()
                .enumerate()
                .map(|(i, h)| format!("{} {h}", 10 * (i + 1)))
                .collect();
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            r53("example.com", "MX", &values)
        };
        add(
            "aws_route53_record.mx",
            "aws_route53_record",
            b.map(rec),
            a.map(rec),
        );
    }
    serde_json::to_vec(&json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": [
            {"address": "aws_route53_record.sts", "mode": "managed", "type": "aws_route53_record",
             "name": "sts", "depends_on": ["aws_s3_object.policy"]}
        ]}},
    }))
    .unwrap()
}

/// Runs `lint PLAN --live` against the live side; the findings as (rule,
/// severity, address).
async fn lint_live(
    plan_json: &[u8],
    dns: SocketAddr,
    dir: &tempfile::TempDir,
) -> (Vec<(String, String)>, Value) {
    lint_live_with(plan_json, dns, dir, &["--no-smtp"]).await
}

/// [`lint_live`] with other flags than `--no-smtp`.
async fn lint_live_with(
    plan_json: &[u8],
    dns: SocketAddr,
    dir: &tempfile::TempDir,
    flags: &[&str],
) -> (Vec<(String, String)>, Value) {
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan_json).unwrap();
    let mut args: Vec<String> = vec!["lint".into(), plan_path.display().to_string(), "--live".into()];
    args.extend(flags.iter().map(|f| (*f).to_owned()));
    args.extend([
        "--resolver".into(),
        dns.to_string(),
        "--ca-file".into(),
        dir.path().join("ca.pem").display().to_string(),
        "--timeout".into(),
        "5".into(),
        "--format".into(),
        "json".into(),
    ]);
    let out = stsguard(args).await;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The plan-side notes (PLN*: parts the plan does not manage) are not what
    // these tests are about.
    let rules = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["rule"].as_str().unwrap().starts_with("PLN"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (rules, findings)
}

fn has(rules: &[(String, String)], rule: &str, severity: &str) -> bool {
    rules.iter().any(|(r, s)| r == rule && s == severity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xck004_policy_changed_while_the_live_id_stays() {
    let Some((_dns, dns, dir)) = live(LIVE, "20240601", "").await else {
        return;
    };
    // The plan changes the file only; the TXT record is managed elsewhere, so
    // the plan alone cannot tell (PLN004); the live id can.
    let changed = plan(None, Some((Some(LIVE), Some(WIDER))), None);
    let (rules, findings) = lint_live(&changed, dns, &dir).await;
    assert_eq!(rules, [("XCK004".to_owned(), "error".to_owned())], "{findings:#}");
    let text = findings.to_string();
    assert!(
        text.contains("mx + mx2.example.com") && text.contains("20240601"),
        "{findings:#}"
    );
    // With the record in the plan, unchanged, the plan alone fires XCK004: the
    // live variant is not added a second time.
    let both = plan(
        Some((Some("20240601"), Some("20240601"))),
        Some((Some(LIVE), Some(WIDER))),
        None,
    );
    let (rules, findings) = lint_live(&both, dns, &dir).await;
    assert_eq!(rules, [("XCK004".to_owned(), "error".to_owned())], "{findings:#}");

    // The plan leaves the file as it is, but its content differs from what is
    // served (e.g. a file changed outside Terraform): only live data shows it.
    let noop = plan(
        Some((Some("20240601"), Some("20240601"))),
        Some((Some(WIDER), Some(WIDER))),
        None,
    );
    let (rules, findings) = lint_live(&noop, dns, &dir).await;
    assert!(has(&rules, "XCK004", "error"), "{findings:#}");

    // Not firing: the planned file is the served policy written differently.
    let same = plan(None, Some((Some(LIVE_REWRITTEN), Some(LIVE_REWRITTEN))), None);
    let (rules, findings) = lint_live(&same, dns, &dir).await;
    assert!(!rules.iter().any(|(r, _)| r == "XCK004"), "{findings:#}");
    // Not firing: the change comes with a new id.
    let bumped = plan(
        Some((Some("20240601"), Some("20240901"))),
        Some((Some(LIVE), Some(WIDER))),
        None,
    );
    let (rules, findings) = lint_live(&bumped, dns, &dir).await;
    assert!(rules.is_empty(), "{findings:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xck005_id_ahead_of_the_policy() {
    // Live: the id is already the plan's new one, the old policy is served.
    let Some((_dns, dns, dir)) = live(LIVE, "20240901", "").await else {
        return;
    };
    let p = plan(
        Some((Some("20240601"), Some("20240901"))),
        Some((Some(LIVE), Some(WIDER))),
        None,
    );
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert!(has(&rules, "XCK005", "warning"), "{findings:#}");
    assert!(!rules.iter().any(|(r, _)| r == "XCK004"), "{findings:#}");
    assert_eq!(findings[0]["address"], "aws_route53_record.sts", "{findings:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xck005_new_id_while_the_host_serves_another_file() {
    let Some((_dns, dns, dir)) = live(LIVE, "20240601", "").await else {
        return;
    };
    // The plan bumps the id for a file it believes is served (no-op), but the
    // host serves another policy.
    let p = plan(
        Some((Some("20240601"), Some("20240901"))),
        Some((Some(WIDER), Some(WIDER))),
        None,
    );
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert!(has(&rules, "XCK005", "warning"), "{findings:#}");
    // Not firing: the host serves the file the plan has.
    let p = plan(
        Some((Some("20240601"), Some("20240901"))),
        Some((Some(LIVE), Some(LIVE))),
        None,
    );
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert!(rules.is_empty(), "{findings:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xck006_mx_migration_not_covered_by_the_cached_policy() {
    let Some((_dns, dns, dir)) = live(LIVE, "20240601", "").await else {
        return;
    };
    let new_mx: &[&str] = &["mx1.example.com", "mx2.example.com"];
    let old_mx: &[&str] = &["mx1.example.com"];
    // Policy widened, id bumped and MX switched in the same plan: senders still
    // hold the live policy for up to its max_age.
    let p = plan(
        Some((Some("20240601"), Some("20240901"))),
        Some((Some(LIVE), Some(WIDER))),
        Some((Some(old_mx), Some(new_mx))),
    );
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert_eq!(
        rules,
        [("XCK006".to_owned(), "warning".to_owned())],
        "{findings:#}"
    );
    assert!(findings[0]["message"]
        .as_str()
        .unwrap()
        .contains("mx2.example.com"));
    assert!(findings[0]["message"].as_str().unwrap().contains("1209600"));
    assert_eq!(findings[0]["address"], "aws_route53_record.mx");

    // MX switched while the policy (managed elsewhere) stays: an outage in
    // enforce, XCK001.
    let same_id = Some((Some("20240601"), Some("20240601")));
    let p = plan(same_id, None, Some((Some(old_mx), Some(new_mx))));
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert!(has(&rules, "XCK001", "error"), "{findings:#}");
    assert!(!rules.iter().any(|(r, _)| r == "XCK006"), "{findings:#}");

    // Not firing: the new MX host is one the live policy covers.
    let p = plan(
        same_id,
        None,
        Some((Some(old_mx), Some(&["mx1.example.com"][..]))),
    );
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert!(rules.is_empty(), "{findings:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xck007_removal_while_the_live_mode_is_active() {
    let Some((_dns, dns, dir)) = live(LIVE, "20240601", "").await else {
        return;
    };
    // The plan deletes only the TXT record; the policy is served elsewhere, so
    // only the live mode tells that it is still enforce.
    let p = plan(Some((Some("20240601"), None)), None, None);
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert!(has(&rules, "XCK007", "warning"), "{findings:#}");
    assert!(findings.to_string().contains("mode enforce"), "{findings:#}");

    // Not firing: the live policy is already mode none.
    let none = "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n";
    let Some((_dns2, dns2, dir2)) = live(none, "20240601", "").await else {
        return;
    };
    let (rules, findings) = lint_live(&p, dns2, &dir2).await;
    assert!(!rules.iter().any(|(r, _)| r == "XCK007"), "{findings:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_live_adds_the_net_rules() {
    // The host serves the policy as text/html: NET005 from the live side.
    let pki = Pki::new();
    let Some(addr) = free_443() else {
        return;
    };
    let https = serve(
        pki.leaf("mta-sts.example.com"),
        response("200 OK", &["Content-Type: text/html"], LIVE.as_bytes()),
        addr,
    )
    .await;
    let (_dns, dns) = start_dns(&zone(https.ip(), "20240601", "")).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    let p = plan(
        Some((Some("20240601"), Some("20240601"))),
        Some((Some(LIVE), Some(LIVE))),
        None,
    );
    let (rules, findings) = lint_live(&p, dns, &dir).await;
    assert_eq!(rules, [("NET005".to_owned(), "error".to_owned())], "{findings:#}");
    assert_eq!(findings[0]["domain"], "example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mx_findings_weigh_as_the_planned_policy() {
    // Live: testing; the MX host's certificate names another host. The plan
    // moves the policy to enforce: senders will then refuse that MX.
    let testing = "version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmax_age: 86400\r\n";
    let pki = Pki::new();
    let Some(addr) = free_443() else {
        return;
    };
    let https = serve(
        pki.leaf("mta-sts.example.com"),
        response("200 OK", &["Content-Type: text/plain"], testing.as_bytes()),
        addr,
    )
    .await;
    let smtp = serve_smtp(
        Smtp::Tls(pki.leaf("smtp.example.net")),
        SocketAddr::new(stsguard_test_support::loopback(10), 0),
    )
    .await;
    let zone = zone(https.ip(), "20240601", "").replace(
        "mx1         IN A     192.0.2.1",
        &format!("mx1         IN A     {}", smtp.ip()),
    );
    let (_dns, dns) = start_dns(&zone).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    let port = smtp.port().to_string();
    let flags = ["--smtp-port", port.as_str()];

    let p = plan(
        Some((Some("20240601"), Some("20240901"))),
        Some((Some(testing), Some(LIVE))),
        None,
    );
    let (rules, findings) = lint_live_with(&p, dns, &dir, &flags).await;
    assert!(has(&rules, "NET008", "error"), "{findings:#}");
    // The plan leaves the policy alone: the live mode (testing) weighs.
    let p = plan(Some((Some("20240601"), Some("20240601"))), None, None);
    let (rules, findings) = lint_live_with(&p, dns, &dir, &flags).await;
    assert!(has(&rules, "NET008", "warning"), "{findings:#}");
    assert!(!has(&rules, "NET008", "error"), "{findings:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_facts_and_an_expiry_warning() {
    let pki = Pki::new();
    let Some(addr) = free_443() else {
        return;
    };
    // Valid today, ends in 6 days (5 full days left at the earliest).
    let https = serve(
        pki.leaf_for_days("mta-sts.example.com", 6),
        response("200 OK", &["Content-Type: text/plain"], LIVE.as_bytes()),
        addr,
    )
    .await;
    let (_dns, dns) = start_dns(&zone(https.ip(), "20240601", "")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let out = stsguard(check_args(dns, &ca, "json")).await;
    assert_eq!(out.status.code(), Some(0), "a warning is below --fail-on error");
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let net003: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NET003")
        .collect();
    assert_eq!(net003.len(), 1, "{findings:#}");
    assert_eq!(net003[0]["severity"], "warning");
    let message = net003[0]["message"].as_str().unwrap();
    assert!(
        message.contains("expires in 5 day(s)") || message.contains("expires in 6 day(s)"),
        "{message}"
    );

    let out = stsguard(check_args(dns, &ca, "text")).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("certificate for mta-sts.example.com from stsguard test CA until 20"),
        "{text}"
    );
    assert!(text.contains("TLS 1.3"), "{text}");

    // Not firing: a certificate with months left.
    let Some(addr) = free_443() else {
        return;
    };
    let https = serve(
        pki.leaf_for_days("mta-sts.example.com", 90),
        response("200 OK", &["Content-Type: text/plain"], LIVE.as_bytes()),
        addr,
    )
    .await;
    let (_dns2, dns2) = start_dns(&zone(https.ip(), "20240601", "")).await;
    let out = stsguard(check_args(dns2, &ca, "json")).await;
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!findings.to_string().contains("NET003"), "{findings:#}");
}

#[test]
fn live_flags_need_live() {
    let out = crate::support::bin()
        .args(["lint", "plan.json", "--resolver", "127.0.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only with --live"));
    let out = crate::support::bin()
        .args(["lint", "--domain", "example.com", "--live"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--live needs a plan");
}

async fn check_with_rua(rua: &str, endpoint_status: &str) -> Option<(Output, RequestLog)> {
    let pki = Pki::new();
    let policy_addr = free_443()?;
    let https = serve(
        pki.leaf("mta-sts.example.com"),
        response("200 OK", &["Content-Type: text/plain"], LIVE.as_bytes()),
        policy_addr,
    )
    .await;
    let reports_addr = free_443()?;
    let (_, seen) = serve_logged(
        pki.leaf("reports.example.com"),
        response(endpoint_status, &[], b""),
        reports_addr,
        None,
    )
    .await;
    let extra = format!(
        "_smtp._tls  IN TXT   \"v=TLSRPTv1; rua={rua}\"\nreports     IN A     {}\nnomail      IN MX    0 .\n",
        reports_addr.ip()
    );
    let (_dns, dns) = start_dns(&zone(https.ip(), "20240601", &extra)).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let mut args = check_args(dns, &ca, "json");
    args.extend(["--fail-on".to_owned(), "warning".to_owned()]);
    let out = stsguard(args).await;
    Some((out, seen))
}

fn net009(out: &Output) -> Vec<String> {
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NET009")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net009_report_destinations() {
    // A mailto: domain that exists and takes mail, and an endpoint that takes
    // the POST: nothing.
    let Some((out, seen)) = check_with_rua(
        "mailto:tls@example.com,https://reports.example.com/v1/tlsrpt",
        "202 Accepted",
    )
    .await
    else {
        return;
    };
    assert!(net009(&out).is_empty(), "{:?}", net009(&out));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let (head, body_len) = &requests[0];
    assert!(head.starts_with("POST /v1/tlsrpt HTTP/1.1\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/tlsrpt+gzip"),
        "{head}"
    );
    assert_eq!(*body_len, 0);

    // A domain that does not exist, a null MX, an endpoint that refuses POST.
    let Some((out, _)) = check_with_rua(
        "mailto:tls@gone.example.com,mailto:tls@nomail.example.com,https://reports.example.com/x",
        "405 Method Not Allowed",
    )
    .await
    else {
        return;
    };
    let got = net009(&out);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].contains("gone.example.com") && got[0].contains("NXDOMAIN"),
        "{got:?}"
    );
    assert!(got[1].contains("null MX"), "{got:?}");
    assert!(got[2].contains("405"), "{got:?}");
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_text_lists_what_is_served() {
    let Some((_dns, dns, dir)) = live(
        LIVE,
        "20240601",
        "_smtp._tls  IN TXT   \"v=TLSRPTv1; rua=mailto:tls@example.com\"",
    )
    .await
    else {
        return;
    };
    let out = stsguard(vec![
        "check".into(),
        "example.com".into(),
        "--no-smtp".into(),
        "--resolver".into(),
        dns.to_string(),
        "--ca-file".into(),
        dir.path().join("ca.pem").display().to_string(),
    ])
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for want in [
        "_mta-sts.example.com TXT",
        "v=STSv1; id=20240601",
        "not DNSSEC-validated",
        "10 mx1.example.com",
        "mode enforce, max_age 1209600, mx mx1.example.com",
        "not probed (--no-smtp)",
        "report to mailto:tls@example.com",
    ] {
        assert!(text.contains(want), "{want:?} missing in:\n{text}");
    }
    // The zone's TTL is 7200 s: above an hour, STS009 info (a resolver's
    // cache only lowers a TTL).
    assert!(text.contains("TTL 7200 s"), "{text}");
    assert!(text.contains("STS009"), "{text}");
}
