//! The policy fetcher against HTTPS servers on loopback with a test CA (rcgen)
//! and a tiny HTTP/1.1 responder over tokio-rustls. No outside network.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::time::Duration;

use stsguard::diag::Severity;
use stsguard::live::findings::{fetch_findings, LONG_CACHE_LIFETIME};
use stsguard::live::{FetchError, FetcherConfig, PolicyFetcher, ReqwestFetcher, MAX_POLICY_BODY};
use tokio::net::TcpListener;

use stsguard_test_support::servers::{response, serve, Pki};

const HOST: &str = "mta-sts.example.com";
const POLICY: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 1209600\r\n";

fn fetcher(pki: &Pki, addr: SocketAddr) -> ReqwestFetcher {
    ReqwestFetcher::new(FetcherConfig {
        extra_roots_pem: Some(pki.ca_pem.clone().into_bytes()),
        resolve: vec![(HOST.to_owned(), addr)],
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_policy() {
    let pki = Pki::new();
    let addr = serve(
        pki.leaf(HOST),
        response(
            "200 OK",
            &["Content-Type: text/plain; charset=utf-8"],
            POLICY.as_bytes(),
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    let p = fetched.as_ref().unwrap();
    assert_eq!(p.url, "https://mta-sts.example.com/.well-known/mta-sts.txt");
    assert_eq!(p.status, 200);
    assert_eq!(p.content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(p.location, None);
    assert_eq!(p.cache_control, None);
    assert_eq!(p.body, POLICY.as_bytes());
    assert!(!p.truncated);
    assert!(p.elapsed < Duration::from_secs(5));
    assert!(fetch_findings("example.com", &fetched).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_net004() {
    let pki = Pki::new();
    let addr = serve(
        pki.leaf(HOST),
        response("404 Not Found", &["Content-Type: text/html"], b"<h1>no</h1>"),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    assert_eq!(fetched.as_ref().unwrap().status, 404);
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].severity), ("NET004", Severity::Error));
    assert!(f[0].message.contains("404"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_is_returned_not_followed() {
    let pki = Pki::new();
    let location = "https://www.example.com/.well-known/mta-sts.txt";
    let addr = serve(
        pki.leaf(HOST),
        response("301 Moved Permanently", &[&format!("Location: {location}")], b""),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    // www.example.com is not resolvable here: following it would fail loudly.
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    let p = fetched.as_ref().unwrap();
    assert_eq!(p.status, 301);
    assert_eq!(p.location.as_deref(), Some(location));
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule, "NET004");
    assert!(f[0].message.contains(location), "{}", f[0].message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_is_net005_and_odd_charset_net006() {
    let pki = Pki::new();
    let addr = serve(
        pki.leaf(HOST),
        response("200 OK", &["Content-Type: text/html"], POLICY.as_bytes()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].severity), ("NET005", Severity::Error));
    assert!(f[0].message.contains("text/html"));

    let addr = serve(
        pki.leaf(HOST),
        response(
            "200 OK",
            &["Content-Type: text/plain; charset=iso-8859-1"],
            POLICY.as_bytes(),
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].severity), ("NET006", Severity::Warning));
    assert!(f[0].message.contains("iso-8859-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_long_cache_lifetime_is_net006_info() {
    let pki = Pki::new();
    let addr = serve(
        pki.leaf(HOST),
        response(
            "200 OK",
            &["Content-Type: text/plain", "Cache-Control: max-age=86400"],
            POLICY.as_bytes(),
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    assert_eq!(
        fetched.as_ref().unwrap().cache_control.as_deref(),
        Some("max-age=86400")
    );
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].severity), ("NET006", Severity::Info));
    assert!(f[0].message.contains("86400 s"), "{}", f[0].message);
    assert!(
        f[0].message.contains("shared caches and CDNs"),
        "{}",
        f[0].message
    );

    // Two header lines form one list: the CDN's s-maxage counts, not max-age.
    let addr = serve(
        pki.leaf(HOST),
        response(
            "200 OK",
            &[
                "Content-Type: text/plain",
                "Cache-Control: max-age=60",
                "cache-control: S-MAXAGE=\"604800\"",
            ],
            POLICY.as_bytes(),
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    assert_eq!(
        fetched.as_ref().unwrap().cache_control.as_deref(),
        Some("max-age=60, S-MAXAGE=\"604800\"")
    );
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].message.contains("s-maxage=604800"), "{}", f[0].message);

    // The advised 60 s, no-store, or exactly the limit: nothing.
    for cc in [
        "max-age=60".to_owned(),
        "no-store".to_owned(),
        format!("public, max-age={LONG_CACHE_LIFETIME}"),
    ] {
        let addr = serve(
            pki.leaf(HOST),
            response(
                "200 OK",
                &["Content-Type: text/plain", &format!("Cache-Control: {cc}")],
                POLICY.as_bytes(),
            ),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await;
        let fetched = fetcher(&pki, addr).fetch("example.com").await;
        assert!(fetch_findings("example.com", &fetched).is_empty(), "{cc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_body_is_capped_and_net006() {
    let pki = Pki::new();
    let mut body = POLICY.as_bytes().to_vec();
    body.resize(100 * 1024, b'#');
    let addr = serve(
        pki.leaf(HOST),
        response("200 OK", &["Content-Type: text/plain"], &body),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    let p = fetched.as_ref().unwrap();
    assert!(p.truncated);
    assert_eq!(p.body.len(), MAX_POLICY_BODY + 1);
    assert_eq!(p.body[..], body[..MAX_POLICY_BODY + 1]);
    let f = fetch_findings("example.com", &fetched);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].severity), ("NET006", Severity::Warning));

    // Exactly the cap is fine.
    body.truncate(MAX_POLICY_BODY);
    let addr = serve(
        pki.leaf(HOST),
        response("200 OK", &["Content-Type: text/plain"], &body),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let p = fetcher(&pki, addr).fetch("example.com").await.unwrap();
    assert!(!p.truncated);
    assert_eq!(p.body.len(), MAX_POLICY_BODY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_name_certificate_is_net003() {
    let pki = Pki::new();
    let addr = serve(
        pki.leaf("mta-sts.provider.example"),
        response("200 OK", &["Content-Type: text/plain"], POLICY.as_bytes()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    assert!(
        matches!(fetched, Err(FetchError::Certificate { .. })),
        "{fetched:?}"
    );
    let f = fetch_findings("example.com", &fetched);
    assert_eq!((f[0].rule, f[0].severity), ("NET003", Severity::Error));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_ca_is_net003() {
    let pki = Pki::new();
    let other = Pki::new();
    let addr = serve(
        other.leaf(HOST),
        response("200 OK", &["Content-Type: text/plain"], POLICY.as_bytes()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    assert!(
        matches!(fetched, Err(FetchError::Certificate { .. })),
        "{fetched:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_is_net002() {
    let pki = Pki::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let fetched = fetcher(&pki, addr).fetch("example.com").await;
    assert!(matches!(fetched, Err(FetchError::Connect { .. })), "{fetched:?}");
    let f = fetch_findings("example.com", &fetched);
    assert_eq!((f[0].rule, f[0].severity), ("NET002", Severity::Error));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out() {
    let pki = Pki::new();
    // Accepts TCP and never speaks.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let fetcher = ReqwestFetcher::new(FetcherConfig {
        extra_roots_pem: Some(pki.ca_pem.clone().into_bytes()),
        resolve: vec![(HOST.to_owned(), addr)],
        timeout: Duration::from_millis(500),
    })
    .unwrap();
    let fetched = fetcher.fetch("example.com").await;
    assert!(matches!(fetched, Err(FetchError::Timeout { .. })), "{fetched:?}");
    assert_eq!(fetch_findings("example.com", &fetched)[0].rule, "NET002");
}

#[test]
fn a_pem_without_certificates_is_a_config_error() {
    let e = ReqwestFetcher::new(FetcherConfig {
        extra_roots_pem: Some(b"not a certificate".to_vec()),
        ..FetcherConfig::default()
    })
    .unwrap_err();
    assert!(matches!(e, FetchError::Config(_)), "{e:?}");
}
