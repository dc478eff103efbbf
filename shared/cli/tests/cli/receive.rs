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
    let rx = Receiver::start(&store, &["--token", "k9-Secret"]);
    runtime().block_on(async {
        let c = reqwest::Client::new();
        let body = gzip(&report("s-1"));
        for path in ["/v1", "/k9-secret/v1", "/k9-Secret1/v1", "/"] {
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
            &format!("{}/k9-Secret/v1", rx.url),
            "application/tlsrpt+gzip",
            body,
        )
        .await;
        assert_eq!(status, 201);
    });
    assert_eq!(files(&store, "reports"), 1);
    assert_eq!(files(&store, "raw"), 1);
    // A secret with a slash is refused at start.
    let out = bin()
        .args(["receive", "--listen", "127.0.0.1:0", "--token", "a/b", "--store"])
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rx.stop(), Some(0));
}
