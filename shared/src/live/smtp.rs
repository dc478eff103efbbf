//! [`SmtpProbe`] on tokio and rustls: banner, EHLO, STARTTLS, a verified TLS
//! handshake with SNI = the MX host name, QUIT; then, when that handshake
//! reached the certificate, the same on a second connection without SNI.

// A network edge: it measures elapsed time.
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, PeerIncompatible, RootCertStore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::{
    CertVerdict, NoSniOutcome, SmtpError, SmtpProbe, SmtpReport, MAX_SMTP_LINE, MAX_SMTP_LINES, TLS_BELOW_1_2,
};

/// How [`TokioSmtpProbe`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// PEM certificates to trust besides the platform's roots (a private CA,
    /// e.g. `--ca-file`).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The port connected to when no address is given to
    /// [`SmtpProbe::probe`] (25 for real MX hosts).
    pub port: u16,
    /// The whole probe (connect, dialogue, handshake, QUIT, and the same again
    /// without SNI) must end within this. When the second connection runs out
    /// of time, the report of the first is kept without its outcome.
    pub timeout: Duration,
    /// The name sent with `EHLO`.
    pub ehlo_name: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            extra_roots_pem: None,
            port: 25,
            timeout: Duration::from_secs(30),
            ehlo_name: "stsguard.invalid".to_owned(),
        }
    }
}

/// A [`SmtpProbe`] on tokio with rustls (aws-lc-rs), trusting the platform's
/// roots plus the configured PEM certificates.
#[derive(Debug, Clone)]
pub struct TokioSmtpProbe {
    tls: Arc<ClientConfig>,
    /// The same, without SNI.
    tls_no_sni: Arc<ClientConfig>,
    /// The certificate check of both, wrapped per handshake to record the
    /// chain the server sent.
    verifier: Arc<rustls::client::WebPkiServerVerifier>,
    config: SmtpConfig,
}

impl TokioSmtpProbe {
    /// A probe with `config`. Fails when the PEM holds no usable certificate
    /// or no trust anchor at all is available.
    pub fn new(config: SmtpConfig) -> Result<Self, SmtpError> {
        let mut roots = RootCertStore::empty();
        // Unreadable platform certificates are skipped; the extra PEM may be
        // all there is (air-gapped setups).
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(pem) = &config.extra_roots_pem {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| SmtpError::Config(format!("CA certificates: {e}")))?;
            if certs.is_empty() {
                return Err(SmtpError::Config(
                    "CA certificates: no PEM certificate found".into(),
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| SmtpError::Config(format!("CA certificates: {e}")))?;
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| SmtpError::Config(format!("TLS: {e}")))?;
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SmtpError::Config(format!("TLS: {e}")))?
            .with_webpki_verifier(verifier.clone())
            .with_no_client_auth();
        let mut no_sni = tls.clone();
        no_sni.enable_sni = false;
        Ok(TokioSmtpProbe {
            tls: Arc::new(tls),
            tls_no_sni: Arc::new(no_sni),
            verifier,
            config,
        })
    }

    /// Connects and speaks up to the TLS handshake: banner, `EHLO` and, when
    /// offered, `STARTTLS`.
    async fn greet<'h>(&self, host: &'h str, addr: Option<SocketAddr>) -> Result<Greeting<'h>, SmtpError> {
        let connect_err = |e: std::io::Error| SmtpError::Connect {
            host: host.to_owned(),
            message: e.to_string(),
        };
        let tcp = match addr {
            Some(a) => TcpStream::connect(a).await,
            None => TcpStream::connect((host, self.config.port)).await,
        }
        .map_err(connect_err)?;
        let mut conn = Conn::new(host, tcp);
        let (code, banner) = conn.reply().await?;
        if code != 220 {
            return Err(conn.protocol(format!("greeting {code}: {}", banner.join(" "))));
        }
        let banner = banner.join("\n");
        conn.send(&format!("EHLO {}\r\n", self.config.ehlo_name)).await?;
        let (code, ehlo) = conn.reply().await?;
        if code != 250 {
            return Err(conn.protocol(format!("EHLO answered {code}: {}", ehlo.join(" "))));
        }
        // The first line is the greeting; the keywords follow.
        let starttls_offered = ehlo.iter().skip(1).any(|line| {
            line.split_ascii_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
        });
        if !starttls_offered {
            return Ok(Greeting {
                banner,
                upgrade: Upgrade::NotOffered(conn),
            });
        }
        conn.send("STARTTLS\r\n").await?;
        let (code, text) = conn.reply().await?;
        if code != 220 {
            let why = format!("STARTTLS answered {code}: {}", text.join(" "));
            return Ok(Greeting {
                banner,
                upgrade: Upgrade::Refused(conn, why),
            });
        }
        if !conn.buf.is_empty() {
            // Bytes sent before the handshake would be taken as protected
            // (the STARTTLS command injection of CVE-2011-0411).
            return Err(conn.protocol("data after the STARTTLS reply, before the handshake".into()));
        }
        Ok(Greeting {
            banner,
            upgrade: Upgrade::Ready(conn.stream),
        })
    }

    /// The first connection: the dialogue and the handshake with SNI.
    async fn run(&self, host: &str, addr: Option<SocketAddr>) -> Result<SmtpReport, SmtpError> {
        let greeting = self.greet(host, addr).await?;
        let mut report = SmtpReport {
            banner: greeting.banner,
            starttls_offered: !matches!(greeting.upgrade, Upgrade::NotOffered(_)),
            tls_version: None,
            certificate: None,
            tls_error: None,
            without_sni: None,
            certificate_facts: None,
            chain: Vec::new(),
            elapsed: Duration::ZERO,
        };
        let tcp = match greeting.upgrade {
            Upgrade::NotOffered(mut conn) => {
                conn.quit().await;
                return Ok(report);
            }
            Upgrade::Refused(mut conn, why) => {
                report.tls_error = Some(why);
                conn.quit().await;
                return Ok(report);
            }
            Upgrade::Ready(tcp) => tcp,
        };
        let (outcome, chain) = handshake(&self.tls, &self.verifier, host, tcp).await?;
        report.chain = chain;
        match outcome {
            Handshake::Done(tls) => {
                report.tls_version = tls.get_ref().1.protocol_version().map(version_text);
                report.certificate = Some(CertVerdict::Valid);
                report.certificate_facts = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .and_then(|leaf| super::cert::cert_facts(leaf));
                Conn::new(host, *tls).quit().await;
            }
            Handshake::Certificate(verdict) => report.certificate = Some(verdict),
            Handshake::Failed(why) => report.tls_error = Some(why),
        }
        Ok(report)
    }

    /// The second connection: the same dialogue, the handshake without SNI.
    /// Each step gets what is left of the probe's timeout (counted from
    /// `start`); `None` when no handshake verdict was reached.
    async fn run_without_sni(
        &self,
        host: &str,
        addr: Option<SocketAddr>,
        start: Instant,
    ) -> Option<NoSniOutcome> {
        let left = || self.config.timeout.saturating_sub(start.elapsed());
        let greeting = tokio::time::timeout(left(), self.greet(host, addr))
            .await
            .ok()?
            .ok()?;
        let tcp = match greeting.upgrade {
            Upgrade::Ready(tcp) => tcp,
            Upgrade::NotOffered(mut conn) | Upgrade::Refused(mut conn, _) => {
                let _ = tokio::time::timeout(left(), conn.quit()).await;
                return None;
            }
        };
        let (outcome, _) =
            tokio::time::timeout(left(), handshake(&self.tls_no_sni, &self.verifier, host, tcp))
                .await
                .ok()?
                .ok()?;
        Some(match outcome {
            Handshake::Done(tls) => {
                let _ = tokio::time::timeout(left(), Conn::new(host, *tls).quit()).await;
                NoSniOutcome::Accepted {
                    certificate: CertVerdict::Valid,
                }
            }
            Handshake::Certificate(certificate) => NoSniOutcome::Accepted { certificate },
            Handshake::Failed(why) => NoSniOutcome::Refused(why),
        })
    }
}

impl SmtpProbe for TokioSmtpProbe {
    async fn probe(&self, mx_host: &str, addr: Option<SocketAddr>) -> Result<SmtpReport, SmtpError> {
        let host = crate::names::normalize(mx_host);
        let start = Instant::now();
        let mut report = match tokio::time::timeout(self.config.timeout, self.run(&host, addr)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(SmtpError::Timeout {
                    host,
                    seconds: self.config.timeout.as_secs(),
                })
            }
        };
        // Only a handshake that reached the certificate says the server speaks
        // TLS to this client; then see whether it needs SNI for that.
        if report.certificate.is_some() {
            report.without_sni = self.run_without_sni(&host, addr, start).await;
        }
        report.elapsed = start.elapsed();
        Ok(report)
    }
}

/// Where the dialogue before the handshake ended.
struct Greeting<'h> {
    /// The 220 greeting, one line per reply line.
    banner: String,
    upgrade: Upgrade<'h>,
}

enum Upgrade<'h> {
    /// EHLO did not list STARTTLS.
    NotOffered(Conn<'h, TcpStream>),
    /// STARTTLS was answered with another code than 220: why.
    Refused(Conn<'h, TcpStream>, String),
    /// 220 to STARTTLS: the handshake comes next.
    Ready(TcpStream),
}

enum Handshake {
    /// The handshake succeeded and the certificate is valid.
    Done(Box<TlsStream<TcpStream>>),
    /// The certificate was rejected.
    Certificate(CertVerdict),
    /// The handshake failed otherwise: why.
    Failed(String),
}

/// The web PKI check, recording the chain the server sent (leaf first)
/// whatever the verdict: DANE matches it even when the PKI rejects it.
#[derive(Debug)]
struct Recording {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    chain: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl rustls::client::danger::ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity)
                .chain(intermediates)
                .take(MAX_CHAIN)
                .map(|c| c.as_ref().to_vec())
                .collect();
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The most certificates of a served chain that are kept.
const MAX_CHAIN: usize = 10;

/// A TLS handshake over `tcp` with `config`, the certificate checked for
/// `host` by `verifier`; with the chain the server sent (empty when the
/// handshake ended before it).
async fn handshake(
    config: &Arc<ClientConfig>,
    verifier: &Arc<rustls::client::WebPkiServerVerifier>,
    host: &str,
    tcp: TcpStream,
) -> Result<(Handshake, Vec<Vec<u8>>), SmtpError> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| SmtpError::Config(format!("{host}: not a host name: {e}")))?;
    let recording = Arc::new(Recording {
        inner: verifier.clone(),
        chain: std::sync::Mutex::new(Vec::new()),
    });
    let mut config = (**config).clone();
    config.dangerous().set_certificate_verifier(recording.clone());
    let connector = TlsConnector::from(Arc::new(config));
    let outcome = match connector.connect(name, tcp).await {
        Ok(tls) => Handshake::Done(Box::new(tls)),
        Err(e) => match rustls_error(&e) {
            Some(rustls::Error::InvalidCertificate(c)) => Handshake::Certificate(cert_verdict(c)),
            Some(r) if below_tls_1_2(r) => Handshake::Failed(TLS_BELOW_1_2.to_owned()),
            _ => Handshake::Failed(format!("TLS handshake failed: {e}")),
        },
    };
    let chain = recording.chain.lock().map(|c| c.clone()).unwrap_or_default();
    Ok((outcome, chain))
}

/// Whether the handshake failed because the server speaks only TLS below 1.2:
/// it answered the ClientHello with a `protocol_version` alert, or its
/// ServerHello chose an older version.
fn below_tls_1_2(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
            | rustls::Error::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13)
    )
}

fn version_text(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
        other => format!("{other:?}"),
    }
}

fn cert_verdict(e: &CertificateError) -> CertVerdict {
    match e {
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertVerdict::NameMismatch
        }
        CertificateError::UnknownIssuer => CertVerdict::Untrusted,
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertVerdict::Expired,
        other => CertVerdict::Other(format!("{other:?}")),
    }
}

/// The rustls error inside an `io::Error` from tokio-rustls.
fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A stream with a read buffer, speaking SMTP replies.
struct Conn<'h, S> {
    host: &'h str,
    stream: S,
    buf: Vec<u8>,
}

impl<'h, S: AsyncRead + AsyncWrite + Unpin> Conn<'h, S> {
    fn new(host: &'h str, stream: S) -> Self {
        Conn {
            host,
            stream,
            buf: Vec::new(),
        }
    }

    fn protocol(&self, message: String) -> SmtpError {
        SmtpError::Protocol {
            host: self.host.to_owned(),
            message,
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), SmtpError> {
        let r = self.stream.write_all(line.as_bytes()).await;
        let r = match r {
            Ok(()) => self.stream.flush().await,
            Err(e) => Err(e),
        };
        r.map_err(|e| self.protocol(format!("write failed: {e}")))
    }

    /// One line without its CRLF; at most [`MAX_SMTP_LINE`] bytes.
    async fn line(&mut self) -> Result<String, SmtpError> {
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf) {
                if pos + 1 > MAX_SMTP_LINE {
                    return Err(self.protocol(format!("a line longer than {MAX_SMTP_LINE} bytes")));
                }
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line);
                return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
            }
            if self.buf.len() >= MAX_SMTP_LINE {
                return Err(self.protocol(format!("a line longer than {MAX_SMTP_LINE} bytes")));
            }
            let mut chunk = [0u8; 1024];
            let n = self
                .stream
                .read(&mut chunk)
                .await
                .map_err(|e| self.protocol(format!("read failed: {e}")))?;
            if n == 0 {
                return Err(self.protocol("the server closed the connection".into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// A (possibly multi-line) reply: its code and the text of each line.
    async fn reply(&mut self) -> Result<(u16, Vec<String>), SmtpError> {
        let mut code = None;
        let mut lines = Vec::new();
        for _ in 0..MAX_SMTP_LINES {
            let line = self.line().await?;
            let bytes = line.as_bytes();
            let this: Option<u16> = line.get(..3).and_then(|c| c.parse().ok());
            let Some(this) = this.filter(|c| (200..=599).contains(c)) else {
                return Err(self.protocol(format!("not an SMTP reply: {:?}", clip(&line))));
            };
            if code.is_some_and(|c| c != this) {
                return Err(self.protocol("reply lines with different codes".into()));
            }
            code = Some(this);
            lines.push(line.get(4..).unwrap_or("").to_owned());
            match bytes.get(3) {
                None | Some(b' ') => return Ok((this, lines)),
                Some(b'-') => {}
                Some(_) => return Err(self.protocol(format!("not an SMTP reply: {:?}", clip(&line)))),
            }
        }
        Err(self.protocol(format!("a reply of more than {MAX_SMTP_LINES} lines")))
    }

    /// `QUIT`, reading the answer if there is one; errors do not matter here.
    async fn quit(&mut self) {
        if self.send("QUIT\r\n").await.is_ok() {
            let _ = self.reply().await;
        }
        let _ = self.stream.shutdown().await;
    }
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}
