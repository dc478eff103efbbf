//! The SMTP STARTTLS probe against SMTP servers on loopback (tokio, with the
//! upgrade over tokio-rustls and rcgen certificates). No outside network.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::time::Duration;

use stsguard::diag::Severity;
use stsguard::live::findings::smtp_findings;
use stsguard::live::{
    CertVerdict, NoSniOutcome, SmtpConfig, SmtpError, SmtpProbe, SmtpReport, TokioSmtpProbe, TLS_BELOW_1_2,
};
use stsguard::policy::Mode;

use stsguard_test_support::servers::{
    self_signed, serve_smtp, tls10_server_hello, Pki, Smtp, ALERT_PROTOCOL_VERSION,
};

const MX: &str = "mx1.example.com";
const LOCAL: &str = "127.0.0.1:0";

async fn probe(pki: &Pki, addr: SocketAddr, timeout: Duration) -> Result<SmtpReport, SmtpError> {
    let probe = TokioSmtpProbe::new(SmtpConfig {
        extra_roots_pem: Some(pki.ca_pem.clone().into_bytes()),
        timeout,
        ..SmtpConfig::default()
    })
    .unwrap();
    probe.probe(MX, Some(addr)).await
}

fn rules(result: &Result<SmtpReport, SmtpError>) -> Vec<(&'static str, Severity)> {
    smtp_findings("example.com", MX, Some(&Mode::Enforce), result)
        .iter()
        .map(|f| (f.rule, f.severity))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_certificate() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Tls(pki.leaf(MX)), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    let report = result.as_ref().unwrap();
    assert_eq!(report.banner, "mx.test ESMTP\nno UCE");
    assert!(report.starttls_offered);
    assert_eq!(report.certificate, Some(CertVerdict::Valid));
    assert_eq!(report.tls_version.as_deref(), Some("TLS 1.3"));
    assert_eq!(report.tls_error, None);
    let facts = report.certificate_facts.as_ref().unwrap();
    assert_eq!(facts.dns_names, [MX]);
    assert_eq!(facts.issuer.as_deref(), Some("stsguard test CA"));
    assert!(facts.not_after > facts.not_before);
    // The same certificate comes without SNI.
    assert_eq!(
        report.without_sni,
        Some(NoSniOutcome::Accepted {
            certificate: CertVerdict::Valid
        })
    );
    assert!(rules(&result).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_name_is_net008() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Tls(pki.leaf("smtp.example.net")), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    assert_eq!(
        result.as_ref().unwrap().certificate,
        Some(CertVerdict::NameMismatch)
    );
    assert_eq!(rules(&result), [("NET008", Severity::Error)]);
    let f = smtp_findings("example.com", MX, Some(&Mode::Testing), &result);
    assert_eq!((f[0].rule, f[0].severity), ("NET008", Severity::Warning));
    assert!(f[0].message.contains(MX), "{}", f[0].message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_is_net008() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Tls(pki.expired_leaf(MX)), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    assert_eq!(result.as_ref().unwrap().certificate, Some(CertVerdict::Expired));
    assert_eq!(rules(&result), [("NET008", Severity::Error)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_is_net008() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Tls(self_signed(MX)), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    assert_eq!(result.as_ref().unwrap().certificate, Some(CertVerdict::Untrusted));
    assert_eq!(rules(&result), [("NET008", Severity::Error)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_starttls_is_net007() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Plain, LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    let report = result.as_ref().unwrap();
    assert!(!report.starttls_offered);
    assert_eq!(report.certificate, None);
    assert_eq!(report.without_sni, None);
    assert_eq!(rules(&result), [("NET007", Severity::Error)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Silent, LOCAL.parse().unwrap()).await;
    let start = std::time::Instant::now();
    let result = probe(&pki, addr, Duration::from_millis(500)).await;
    assert!(matches!(result, Err(SmtpError::Timeout { .. })), "{result:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_is_a_connect_error() {
    let pki = Pki::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    assert!(matches!(result, Err(SmtpError::Connect { .. })), "{result:?}");
}

async fn protocol_error(bytes: Vec<u8>) -> String {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::Raw(bytes), LOCAL.parse().unwrap()).await;
    match probe(&pki, addr, Duration::from_secs(5)).await {
        Err(SmtpError::Protocol { message, .. }) => message,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_are_protocol_errors() {
    let long = [b"220 ".to_vec(), vec![b'x'; 5000], b"\r\n".to_vec()].concat();
    assert!(protocol_error(long).await.contains("longer than 1000"));
    let many = b"220-spam\r\n".repeat(1000);
    assert!(protocol_error(many).await.contains("more than 100 lines"));
    assert!(protocol_error(b"554 go away\r\n".to_vec()).await.contains("554"));
    assert!(protocol_error(b"HTTP/1.1 400 Bad\r\n".to_vec())
        .await
        .contains("not an SMTP reply"));
    assert!(protocol_error(b"220 hi\r\n".to_vec()).await.contains("closed"));
    // Binary garbage without a newline: capped, no panic.
    let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    protocol_error(garbage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_required_is_net007() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::SniRequired(pki.leaf(MX)), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    let report = result.as_ref().unwrap();
    // With SNI all is well.
    assert_eq!(report.certificate, Some(CertVerdict::Valid));
    assert_eq!(report.tls_error, None);
    assert!(
        matches!(&report.without_sni, Some(NoSniOutcome::Refused(why)) if why.contains("TLS handshake failed")),
        "{:?}",
        report.without_sni
    );
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
    let f = smtp_findings("example.com", MX, Some(&Mode::Enforce), &result);
    assert!(f[0].message.contains("requires SNI"), "{}", f[0].message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_name_fallback_certificate_is_net007() {
    let pki = Pki::new();
    let addr = serve_smtp(
        Smtp::Fallback(pki.leaf(MX), pki.leaf("default.hosting.test")),
        LOCAL.parse().unwrap(),
    )
    .await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    let report = result.as_ref().unwrap();
    assert_eq!(report.certificate, Some(CertVerdict::Valid));
    assert_eq!(
        report.without_sni,
        Some(NoSniOutcome::Accepted {
            certificate: CertVerdict::NameMismatch
        })
    );
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
    let f = smtp_findings("example.com", MX, Some(&Mode::Enforce), &result);
    assert!(f[0].message.contains("fallback certificate"), "{}", f[0].message);
    assert!(
        f[0].message.contains("not valid for mx1.example.com"),
        "{}",
        f[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_fallback_certificate_is_net007() {
    let pki = Pki::new();
    let addr = serve_smtp(
        Smtp::Fallback(pki.leaf(MX), self_signed(MX)),
        LOCAL.parse().unwrap(),
    )
    .await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    assert_eq!(
        result.as_ref().unwrap().without_sni,
        Some(NoSniOutcome::Accepted {
            certificate: CertVerdict::Untrusted
        })
    );
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
    let f = smtp_findings("example.com", MX, Some(&Mode::Enforce), &result);
    assert!(f[0].message.contains("trusted root"), "{}", f[0].message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_connections_share_the_timeout() {
    let pki = Pki::new();
    // The second connection (without SNI) is never answered.
    let addr = serve_smtp(Smtp::OnceThenSilent(pki.leaf(MX)), LOCAL.parse().unwrap()).await;
    let start = std::time::Instant::now();
    let result = probe(&pki, addr, Duration::from_millis(1500)).await;
    let took = start.elapsed();
    let report = result.as_ref().unwrap();
    // The first connection's findings are kept; the second reached no verdict.
    assert_eq!(report.certificate, Some(CertVerdict::Valid));
    assert_eq!(report.without_sni, None);
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert!(report.elapsed <= took);
    assert!(rules(&result).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_version_alert_is_tls_below_1_2() {
    let pki = Pki::new();
    let addr = serve_smtp(
        Smtp::TlsReply(ALERT_PROTOCOL_VERSION.to_vec()),
        LOCAL.parse().unwrap(),
    )
    .await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    let report = result.as_ref().unwrap();
    assert!(report.starttls_offered);
    assert_eq!(report.tls_error.as_deref(), Some(TLS_BELOW_1_2));
    assert_eq!(report.certificate, None);
    assert_eq!(report.without_sni, None);
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
    let f = smtp_findings("example.com", MX, Some(&Mode::Enforce), &result);
    assert!(f[0].message.contains("TLS below 1.2"), "{}", f[0].message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_0_server_hello_is_tls_below_1_2() {
    let pki = Pki::new();
    let addr = serve_smtp(Smtp::TlsReply(tls10_server_hello()), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    assert_eq!(result.as_ref().unwrap().tls_error.as_deref(), Some(TLS_BELOW_1_2));
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_handshake_failure_is_not_called_a_version_problem() {
    let pki = Pki::new();
    // A fatal handshake_failure alert.
    let alert = vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
    let addr = serve_smtp(Smtp::TlsReply(alert), LOCAL.parse().unwrap()).await;
    let result = probe(&pki, addr, Duration::from_secs(5)).await;
    let e = result.as_ref().unwrap().tls_error.clone().unwrap();
    assert!(e.starts_with("TLS handshake failed"), "{e}");
    assert_eq!(rules(&result), [("NET007", Severity::Warning)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_chain_is_kept_for_dane_whatever_the_web_pki_says() {
    use stsguard::dane::{match_chain, parse_tlsa, record_for, ChainMatch};
    let pki = Pki::new();
    // A certificate the web PKI accepts, and a self-signed one it refuses:
    // DANE-EE matches both by their key.
    for (cert, verdict) in [
        (pki.leaf(MX), CertVerdict::Valid),
        (self_signed(MX), CertVerdict::Untrusted),
    ] {
        let leaf = cert.0.to_vec();
        let addr = serve_smtp(Smtp::Tls(cert), LOCAL.parse().unwrap()).await;
        let report = probe(&pki, addr, Duration::from_secs(5)).await.unwrap();
        assert_eq!(report.certificate, Some(verdict.clone()));
        assert_eq!(report.chain, std::slice::from_ref(&leaf), "{verdict:?}");
        let ee = parse_tlsa(&record_for(3, 1, 1, &leaf).unwrap()).unwrap();
        assert_eq!(match_chain(&ee, &report.chain), ChainMatch::EndEntity);
        let other = parse_tlsa(&record_for(3, 1, 1, &pki.leaf(MX).0).unwrap()).unwrap();
        assert_eq!(match_chain(&other, &report.chain), ChainMatch::None);
    }
    // No STARTTLS: no chain.
    let addr = serve_smtp(Smtp::Plain, LOCAL.parse().unwrap()).await;
    assert!(probe(&pki, addr, Duration::from_secs(5))
        .await
        .unwrap()
        .chain
        .is_empty());
}
