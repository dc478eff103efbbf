//! `stsguard receive` on loopback, driven by a real HTTP client: every answer,
//! what lands in the store, many clients at once, a secret path, and a stop
//! on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Stdio};

use crate::support::bin;

/// A running receiver and the address it listens on.
struct Receiver {
    child: Child,
    url: String,
}

impl Receiver {
    fn start(store: &Path, extra: &[&str]) -> Receiver {
        let mut child = bin()
            .args([
                "receive",
                "--listen",
                "127.0.0.1:0",
                "--store",
                store.to_str().unwrap(),
            ])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .trim_end_matches('/')
            .to_owned();
        // Keep reading the log so that the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Receiver { child, url }
    }

    /// Stops it as a service manager would (SIGTERM) and returns the exit code.
    fn stop(mut self) -> Option<i32> {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().code()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn report(id: &str) -> Vec<u8> {
    std::fs::read_to_string(crate::support::shared_dir().join("tests/fixtures/corpus/seed-google-eden.json"))
        .unwrap()
        .replace("2024-11-08T00:00:00Z_eden.one", id)
        .into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn files(root: &Path, prefix: &str) -> usize {
    let mut n = 0;
    let mut stack = vec![root.join(prefix)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                n += 1;
            }
        }
    }
    n
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn post(client: &reqwest::Client, url: &str, ctype: &str, body: Vec<u8>) -> (u16, String) {
    let r = client
        .post(url)
        .header("content-type", ctype)
        .header("user-agent", "stsguard-test")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[test]
fn receives_reports_answers_each_case_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let rx = Receiver::start(&store, &[]);
    let url = format!("{}/v1", rx.url);
    runtime().block_on(async {
        let c = reqwest::Client::new();
        let gz = gzip(&report("r-1"));
        assert_eq!(
            post(&c, &url, "application/tlsrpt+gzip", gz.clone()).await,
            (201, "stored 1 report\n".into())
        );
        assert_eq!(
            post(&c, &url, "application/tlsrpt+gzip", gz).await,
            (200, "already stored\n".into())
        );
        assert_eq!(
            post(&c, &url, "application/tlsrpt+json", report("r-2")).await.0,
            201
        );
        let (status, text) = post(&c, &url, "application/tlsrpt+json", b"garbage".to_vec()).await;
        assert_eq!((status, text.as_str()), (400, "not a usable report: bad-json\n"));
        // The empty POST `stsguard check` sends to an https rua (NET009).
        assert_eq!(post(&c, &url, "application/tlsrpt+gzip", Vec::new()).await.0, 400);
        // Over the 10 MiB cap: refused without being read whole.
        let big = vec![b' '; stsguard::receive::MAX_BODY_BYTES + 10];
        assert_eq!(post(&c, &url, "application/tlsrpt+json", big).await.0, 413);
        let get = c.get(&url).send().await.unwrap();
        assert_eq!(get.status().as_u16(), 405);
        assert_eq!(get.headers()["allow"], "POST");
    });
    assert_eq!(files(&store, "reports"), 2);
    // The garbage, the empty body and the oversize one are recorded with a reason.
    assert_eq!(files(&store, "rejected"), 3);
    // Every body read was kept first (the two reports, the garbage, the empty one).
    assert_eq!(files(&store, "raw/https"), 4);
    assert_eq!(rx.stop(), Some(0));
}

#[test]
fn many_clients_at_once_store_every_report_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let rx = Receiver::start(&store, &["--quiet"]);
    let url = format!("{}/v1", rx.url);
    let (created, repeated) = runtime().block_on(async {
        // 20 clients, 10 reports each, every report sent twice (a sender's
        // retry racing the first delivery): 400 requests, 200 reports.
        let mut tasks = Vec::new();
        for client in 0..20 {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let c = reqwest::Client::new();
                let mut codes = Vec::new();
                for i in 0..10 {
                    let body = gzip(&report(&format!("c{client}-{i}")));
                    let (a, b) = tokio::join!(
                        post(&c, &url, "application/tlsrpt+gzip", body.clone()),
                        post(&c, &url, "application/tlsrpt+gzip", body)
                    );
                    codes.push((a.0, b.0));
                }
                codes
            }));
        }
        let mut created = 0;
        let mut repeated = 0;
        for t in tasks {
            for (a, b) in t.await.unwrap() {
                let mut pair = [a, b];
                pair.sort();
                assert_eq!(pair, [200, 201], "one delivery stored, the other a duplicate");
                created += 1;
                repeated += 1;
            }
        }
        (created, repeated)
    });
    assert_eq!((created, repeated), (200, 200));
    assert_eq!(files(&store, "reports"), 200);
    assert_eq!(files(&store, "rejected"), 0);
    assert_eq!(rx.stop(), Some(0));
}

#[test]
fn with_a_secret_only_its_path_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let rx = Receiver::start(&store, &["--token", "k9-Secret-7fQ2xLm4"]);
    runtime().block_on(async {
        let c = reqwest::Client::new();
        let body = gzip(&report("s-1"));
        for path in ["/v1", "/k9-secret-7fQ2xLm4/v1", "/k9-Secret-7fQ2xLm41/v1", "/"] {
            let (status, _) = post(
                &c,
                &format!("{}{path}", rx.url),
                "application/tlsrpt+gzip",
                body.clone(),
            )
            .await;
            assert_eq!(status, 404, "{path}");
        }
        let (status, _) = post(
            &c,
            &format!("{}/k9-Secret-7fQ2xLm4/v1", rx.url),
            "application/tlsrpt+gzip",
            body,
        )
        .await;
        assert_eq!(status, 201);
    });
    assert_eq!(files(&store, "reports"), 1);
    assert_eq!(files(&store, "raw"), 1);
    // A secret with a slash, or a short one, is refused at start.
    for bad in ["k9-Secret/7fQ2xLm4", "k9-Secret"] {
        let out = bin()
            .args(["receive", "--listen", "127.0.0.1:0", "--token", bad, "--store"])
            .arg(dir.path().join("other"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("--token:"));
    }
    assert_eq!(rx.stop(), Some(0));
}

/// `stsguard check` of a domain whose `rua` is this receiver behind a TLS
/// proxy: NET009 (a report destination that cannot receive reports) stays
/// quiet, and the probe's empty POST is answered and recorded like any other
/// unusable body. With the receiver stopped, the same check fires NET009.
#[test]
fn check_finds_the_receiver_a_working_https_destination() {
    use stsguard_test_support::servers::{response, serve, start_dns, tls_proxy, Pki};
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let rx = Receiver::start(&store, &[]);
    let upstream: std::net::SocketAddr = rx.url.trim_start_matches("http://").parse().unwrap();
    runtime().block_on(async move {
        let pki = Pki::new();
        let policy_ip = stsguard_test_support::loopback(100);
        let reports_ip = stsguard_test_support::loopback(110);
        let (Some(policy_addr), Some(reports_addr)) = (
            stsguard_test_support::port_443(policy_ip),
            stsguard_test_support::port_443(reports_ip),
        ) else {
            return;
        };
        let policy = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n";
        serve(
            pki.leaf("mta-sts.example.com"),
            response("200 OK", &["Content-Type: text/plain"], policy.as_bytes()),
            policy_addr,
        )
        .await;
        tls_proxy(pki.leaf("reports.example.com"), reports_addr, upstream).await;
        let zone = format!(
            r#"$ORIGIN example.com.
$TTL 3600
@           IN SOA   ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
@           IN NS    ns1.example.com.
ns1         IN A     127.0.0.1
@           IN MX    10 mx1.example.com.
mx1         IN A     192.0.2.1
mta-sts     IN A     {policy_ip}
reports     IN A     {reports_ip}
_mta-sts    IN TXT   "v=STSv1; id=20240601T000000"
_smtp._tls  IN TXT   "v=TLSRPTv1; rua=https://reports.example.com/v1"
"#
        );
        let (_dns, dns) = start_dns(&zone).await;
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &pki.ca_pem).unwrap();
        let check = || async {
            let out = crate::support::stsguard_async(crate::support::check_args(dns, &ca, "json")).await;
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let rules: Vec<String> = findings
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_owned))
                .collect();
            (rules, stdout)
        };
        let (rules, stdout) = check().await;
        assert!(!rules.iter().any(|r| r == "NET009"), "{stdout}");
        // The probe reached the receiver: its empty POST is recorded.
        assert_eq!(files(&store, "rejected"), 1, "{stdout}");

        // The same check with the receiver stopped: NET009.
        assert_eq!(rx.stop(), Some(0));
        let (rules, stdout) = check().await;
        assert!(rules.iter().any(|r| r == "NET009"), "{stdout}");
    });
}
