//! [`SmtpProbe`] on tokio and rustls: banner, EHLO, STARTTLS, a verified TLS
//! handshake with SNI = the MX host name, QUIT.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{CertVerdict, SmtpError, SmtpProbe, SmtpReport, MAX_SMTP_LINE, MAX_SMTP_LINES};

/// How [`TokioSmtpProbe`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// PEM certificates to trust besides the platform's roots (a private CA,
    /// e.g. `--ca-file`).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The port connected to when no address is given to
    /// [`SmtpProbe::probe`] (25 for real MX hosts).
    pub port: u16,
    /// The whole probe (connect, dialogue, handshake, QUIT) must end within
    /// this.
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
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SmtpError::Config(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TokioSmtpProbe {
            tls: Arc::new(tls),
            config,
        })
    }

    async fn run(
        &self,
        host: &str,
        addr: Option<SocketAddr>,
        start: Instant,
    ) -> Result<SmtpReport, SmtpError> {
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
        let mut report = SmtpReport {
            banner,
            starttls_offered,
            tls_version: None,
            certificate: None,
            tls_error: None,
            elapsed: Duration::ZERO,
        };
        if !starttls_offered {
            conn.quit().await;
            report.elapsed = start.elapsed();
            return Ok(report);
        }
        conn.send("STARTTLS\r\n").await?;
        let (code, text) = conn.reply().await?;
        if code != 220 {
            report.tls_error = Some(format!("STARTTLS answered {code}: {}", text.join(" ")));
            conn.quit().await;
            report.elapsed = start.elapsed();
            return Ok(report);
        }
        if !conn.buf.is_empty() {
            // Bytes sent before the handshake would be taken as protected
            // (the STARTTLS command injection of CVE-2011-0411).
            return Err(conn.protocol("data after the STARTTLS reply, before the handshake".into()));
        }
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| SmtpError::Config(format!("{host}: not a host name: {e}")))?;
        let connector = TlsConnector::from(self.tls.clone());
        match connector.connect(name, conn.stream).await {
            Ok(tls) => {
                report.tls_version = tls.get_ref().1.protocol_version().map(version_text);
                report.certificate = Some(CertVerdict::Valid);
                let mut conn = Conn::new(host, tls);
                conn.quit().await;
            }
            Err(e) => match rustls_error(&e) {
                Some(rustls::Error::InvalidCertificate(c)) => {
                    report.certificate = Some(cert_verdict(c));
                }
                _ => report.tls_error = Some(format!("TLS handshake failed: {e}")),
            },
        }
        report.elapsed = start.elapsed();
        Ok(report)
    }
}

impl SmtpProbe for TokioSmtpProbe {
    async fn probe(&self, mx_host: &str, addr: Option<SocketAddr>) -> Result<SmtpReport, SmtpError> {
        let host = super::trim_dot(mx_host);
        let start = Instant::now();
        match tokio::time::timeout(self.config.timeout, self.run(&host, addr, start)).await {
            Ok(result) => result,
            Err(_) => Err(SmtpError::Timeout {
                host,
                seconds: self.config.timeout.as_secs(),
            }),
        }
    }
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
