//! Loopback servers for the live tests: an authoritative DNS server
//! (hickory-server) serving a zone parsed from text, and HTTPS responders with a
//! test CA (rcgen, tokio-rustls), and SMTP servers, well-behaved and hostile.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::LowerName;
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use hickory_server::Server;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// Binds `addr`. A fixed address (port 443 on a loopback address of its own) is
/// rarely still held for a moment by the kernel; that is retried for up to a
/// second, any other failure fails the test.
async fn bind_tcp(addr: SocketAddr) -> TcpListener {
    let mut tries = 0;
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("cannot bind {addr}: {e}"),
        }
    }
}

/// Starts the server; keep the returned value alive while querying.
pub async fn start_dns(zone: &str) -> (Server<Catalog>, SocketAddr) {
    let (origin, records) = Parser::new(zone, None, None).parse().unwrap();
    let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )
    .unwrap();
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(origin), vec![Arc::new(handler)]);
    // UDP and TCP on the same port, as a resolver expects: a free UDP port
    // may be taken for TCP by another server of the same test binary, so try
    // again with another port.
    let mut tries = 0;
    let (udp, addr, tcp) = loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        match TcpListener::bind(addr).await {
            Ok(tcp) => break (udp, addr, tcp),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 100 => tries += 1,
            Err(e) => panic!("cannot bind TCP {addr}: {e}"),
        }
    };
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64);
    (server, addr)
}

pub struct Pki {
    pub ca_pem: String,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "stsguard test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki { ca_pem: ca.pem(), ca }
    }

    /// The CA's own certificate (DER), for chains that include it.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A leaf certificate for `name` signed by the CA, with its key.
    pub fn leaf(&self, name: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        let cert = params.signed_by(&key, &*self.ca).unwrap();
        (
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }
}

/// A TLS acceptor that presents `cert` for every name.
fn acceptor(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Serves `response` (the whole HTTP response) to every connection, with
/// `cert` for every name, on `bind` (port 0 for any), and checks that each
/// request is a GET of the policy. Returns the address.
pub async fn serve(
    cert: (CertificateDer<'static>, PrivateKeyDer<'static>),
    response: Vec<u8>,
    bind: SocketAddr,
) -> SocketAddr {
    serve_logged(
        cert,
        response,
        bind,
        Some("GET /.well-known/mta-sts.txt HTTP/1.1\r\n"),
    )
    .await
    .0
}

/// The requests an HTTPS responder saw: each request head and how many bytes
/// of body came with it.
pub type RequestLog = Arc<std::sync::Mutex<Vec<(String, usize)>>>;

/// [`serve`] for any request (checked to start with `expect` when given), with
/// a log of the requests.
pub async fn serve_logged(
    (cert, key): (CertificateDer<'static>, PrivateKeyDer<'static>),
    response: Vec<u8>,
    bind: SocketAddr,
    expect: Option<&'static str>,
) -> (SocketAddr, RequestLog) {
    let acceptor = acceptor(cert, key);
    let listener = bind_tcp(bind).await;
    let addr = listener.local_addr().unwrap();
    let response = Arc::new(response);
    let log = RequestLog::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, response, seen) = (acceptor.clone(), response.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                // Read the request head (one request per connection).
                let mut data = Vec::new();
                let mut buf = [0u8; 1024];
                while !data.windows(4).any(|w| w == b"\r\n\r\n") && data.len() < 16 * 1024 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some(expect) = expect {
                    assert!(text.starts_with(expect), "{text}");
                }
                let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
                seen.lock().unwrap().push((head.to_owned(), body.len()));
                let _ = tls.write_all(&response).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, log)
}

/// A TLS terminator, as a user puts in front of `stsguard receive`: accepts
/// TLS with `cert` on `bind` and pipes each connection to `upstream` in clear.
/// Returns the address.
pub async fn tls_proxy(
    (cert, key): (CertificateDer<'static>, PrivateKeyDer<'static>),
    bind: SocketAddr,
    upstream: SocketAddr,
) -> SocketAddr {
    let acceptor = acceptor(cert, key);
    let listener = bind_tcp(bind).await;
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    addr
}

pub fn response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

impl Pki {
    /// A leaf for `name` signed by the CA that expired in 2020.
    pub fn expired_leaf(&self, name: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        let cert = params.signed_by(&key, &*self.ca).unwrap();
        (
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }
}

impl Pki {
    /// A leaf for `name` signed by the CA, valid from a year ago until the
    /// start of the UTC day `days` days from today.
    pub fn leaf_for_days(&self, name: &str, days: i64) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        use chrono::Datelike;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let ymd = |unix: i64| {
            let t = chrono::DateTime::from_timestamp(unix, 0).unwrap();
            rcgen::date_time_ymd(t.year(), t.month() as u8, t.day() as u8)
        };
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.not_before = ymd(now - 365 * 86_400);
        params.not_after = ymd(now + days * 86_400);
        let cert = params.signed_by(&key, &*self.ca).unwrap();
        (
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }
}

/// A self-signed certificate for `name` (no CA).
pub fn self_signed(name: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

type CertKey = (CertificateDer<'static>, PrivateKeyDer<'static>);

/// How the loopback SMTP server behaves.
pub enum Smtp {
    /// Banner, EHLO with STARTTLS, the upgrade with this certificate, QUIT.
    Tls(CertKey),
    /// Like `Tls`, but a ClientHello without SNI gets no certificate: the
    /// handshake fails.
    SniRequired(CertKey),
    /// Like `Tls` with the first certificate when the client sends SNI and the
    /// second (the fallback) when it does not.
    Fallback(CertKey, CertKey),
    /// Like `Tls` for the first connection; every later one is accepted and
    /// never spoken to.
    OnceThenSilent(CertKey),
    /// Banner, EHLO with STARTTLS, 220 to STARTTLS; then reads the ClientHello
    /// record, answers these bytes and closes.
    TlsReply(Vec<u8>),
    /// Banner and EHLO without STARTTLS, QUIT.
    Plain,
    /// Accepts the connection and never says anything.
    Silent,
    /// Sends these bytes, closes its sending side and waits for the client to
    /// hang up.
    Raw(Vec<u8>),
}

/// A fatal `protocol_version` alert in a TLS 1.0 record: what a server that
/// speaks only TLS 1.0 or 1.1 answers to a ClientHello offering 1.2 and 1.3.
pub const ALERT_PROTOCOL_VERSION: [u8; 7] = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46];

/// A ServerHello choosing TLS 1.0 (TLS_RSA_WITH_AES_128_CBC_SHA, no
/// extensions) in a TLS 1.0 record.
pub fn tls10_server_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x01]; // server_version TLS 1.0
    body.extend_from_slice(&[0x11; 32]); // random
    body.push(0); // empty session id
    body.extend_from_slice(&[0x00, 0x2f]); // cipher suite
    body.push(0); // null compression
    let mut handshake = vec![0x02, 0x00, 0x00, body.len() as u8];
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01, 0x00, handshake.len() as u8];
    record.extend_from_slice(&handshake);
    record
}

/// Chooses the certificate by whether the ClientHello carries SNI.
#[derive(Debug)]
struct BySni {
    with_sni: Arc<CertifiedKey>,
    without_sni: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match hello.server_name() {
            Some(_) => Some(self.with_sni.clone()),
            None => self.without_sni.clone(),
        }
    }
}

fn certified((cert, key): &CertKey, provider: &rustls::crypto::CryptoProvider) -> Arc<CertifiedKey> {
    Arc::new(CertifiedKey::from_der(vec![cert.clone()], key.clone_key(), provider).unwrap())
}

/// The TLS side of an SMTP server mode, when it has one.
fn smtp_acceptor(mode: &Smtp) -> Option<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (with_sni, without_sni) = match mode {
        Smtp::Tls(c) | Smtp::OnceThenSilent(c) => (certified(c, &provider), Some(certified(c, &provider))),
        Smtp::SniRequired(c) => (certified(c, &provider), None),
        Smtp::Fallback(c, fallback) => (certified(c, &provider), Some(certified(fallback, &provider))),
        _ => return None,
    };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(BySni {
            with_sni,
            without_sni,
        }));
    Some(TlsAcceptor::from(Arc::new(config)))
}

/// Reads one TLS record (header and body); `None` on a closed or broken
/// connection.
async fn read_record<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header).await.ok()?;
    let len = u16::from_be_bytes([header[3], header[4]]) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.ok()?;
    Some([header.to_vec(), body].concat())
}

async fn read_cmd<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        match s.read(&mut b).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => line.push(b[0]),
        }
    }
    Some(String::from_utf8_lossy(&line).trim_end().to_ascii_uppercase())
}

async fn dialogue<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    starttls: bool,
) -> Option<()> {
    while let Some(cmd) = read_cmd(s).await {
        let reply: &[u8] = if cmd.starts_with("EHLO") {
            if starttls {
                b"250-mx.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
            } else {
                b"250-mx.test greets you\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
            }
        } else if cmd == "STARTTLS" && starttls {
            s.write_all(b"220 2.0.0 go ahead\r\n").await.ok()?;
            return Some(());
        } else if cmd == "QUIT" {
            s.write_all(b"221 2.0.0 bye\r\n").await.ok()?;
            return None;
        } else {
            b"502 5.5.2 no\r\n"
        };
        s.write_all(reply).await.ok()?;
    }
    None
}

/// An SMTP server on `bind` (port 0 for any); returns its address.
pub async fn serve_smtp(mode: Smtp, bind: SocketAddr) -> SocketAddr {
    let listener = bind_tcp(bind).await;
    let addr = listener.local_addr().unwrap();
    let acceptor = smtp_acceptor(&mode);
    let silent = matches!(mode, Smtp::Silent);
    let once = matches!(mode, Smtp::OnceThenSilent(_));
    let tls_reply = match &mode {
        Smtp::TlsReply(bytes) => Some(Arc::new(bytes.clone())),
        _ => None,
    };
    let raw = match mode {
        Smtp::Raw(bytes) => Some(Arc::new(bytes)),
        _ => None,
    };
    tokio::spawn(async move {
        let mut accepted = 0usize;
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            accepted += 1;
            let silent = silent || (once && accepted > 1);
            let acceptor = acceptor.clone();
            let raw = raw.clone();
            let tls_reply = tls_reply.clone();
            tokio::spawn(async move {
                if let Some(raw) = raw {
                    let _ = tcp.write_all(&raw).await;
                    let _ = tcp.shutdown().await;
                    let mut sink = [0u8; 1024];
                    while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
                    return;
                }
                if silent {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
                let _ = tcp.write_all(b"220-mx.test ESMTP\r\n220 no UCE\r\n").await;
                let starttls = acceptor.is_some() || tls_reply.is_some();
                if dialogue(&mut tcp, starttls).await.is_none() {
                    return;
                }
                if let Some(reply) = tls_reply {
                    if read_record(&mut tcp).await.is_some() {
                        let _ = tcp.write_all(&reply).await;
                    }
                    let _ = tcp.shutdown().await;
                    return;
                }
                let Some(acceptor) = acceptor else { return };
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = dialogue(&mut tls, false).await;
            });
        }
    });
    addr
}
