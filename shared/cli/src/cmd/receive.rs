//! `stsguard receive`: the HTTPS report receiver as a local server.

// An edge module: it reads the clock for each request by design.
#![allow(clippy::disallowed_methods)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use stsguard::receive::{self, ReceiveConfig};
use stsguard::store::ObjectStore;

use crate::args::{Store, StoreArgs};

pub(crate) const LONG_ABOUT: &str = "\
Receive SMTP TLS reports over HTTPS (RFC 8460: a domain may publish
  _smtp._tls.example.com TXT \"v=TLSRPTv1; rua=https://reports.example.com/v1\"
and senders POST each day's report to that URL).

This serves plain HTTP/1.1 on --listen: put it behind the TLS proxy that holds
your certificate (nginx, Caddy, a load balancer). Each POST body (gzip or JSON,
at most 10 MiB) is kept first under STORE/raw/https/, then ingested as
`stsguard ingest` would: normalized reports under STORE/reports/v1/, anything
unusable recorded under STORE/rejected/ with a reason.

Answers: 201 stored, 200 already stored (a sender's retry), 4xx with a short
reason for a body that is not a usable report, 405 for other methods, 404 for
a path without the secret, 503 when the store fails (the sender retries).
One line per request goes to standard error, request text escaped.

With --token SECRET (or STSGUARD_RECEIVE_TOKEN), only paths whose first
segment is the secret are accepted: publish rua=https://HOST/SECRET/v1. The
comparison takes the same time whatever the path.

Stops on Ctrl-C (or SIGTERM), after the requests in progress.";

/// Arguments of `stsguard receive`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address and port to listen on (port 0: any free port, printed on start).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8460")]
    listen: SocketAddr,

    #[command(flatten)]
    store: StoreArgs,

    /// Accept only paths under /SECRET/ (set it in the environment to keep it out of `ps`).
    #[arg(
        long,
        value_name = "SECRET",
        env = "STSGUARD_RECEIVE_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,

    /// Requests handled at once, at most.
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_concurrent: usize,

    /// Seconds to read a request (headers and body) before answering 408.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,

    /// No line per request on standard error.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if let Some(token) = args.token.as_deref() {
        receive::check_token(token).map_err(|why| anyhow::anyhow!("--token: {why}"))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let config = ReceiveConfig {
        token: args.token.clone(),
        ..ReceiveConfig::default()
    };
    match args.store.open(&rt)? {
        Store::S3(store) => rt.block_on(serve(Arc::new(store), config, &args)),
        Store::Dir(store) => rt.block_on(serve(Arc::new(store), config, &args)),
    }?;
    Ok(ExitCode::SUCCESS)
}

async fn serve<S: ObjectStore + 'static>(store: Arc<S>, config: ReceiveConfig, args: &Args) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    eprintln!(
        "stsguard: receiving reports on http://{local}/ into {}",
        args.store.name()
    );
    let config = Arc::new(config);
    let permits = Arc::new(tokio::sync::Semaphore::new(args.max_concurrent.max(1)));
    let timeout = Duration::from_secs(args.timeout.max(1));
    let quiet = args.quiet;
    let mut tasks = tokio::task::JoinSet::new();
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A connection that failed before it was accepted: the next one.
                Err(_) => continue,
            },
        };
        let (store, config, permits) = (store.clone(), config.clone(), permits.clone());
        tasks.spawn(async move {
            let service = service_fn(move |req| {
                let (store, config, permits) = (store.clone(), config.clone(), permits.clone());
                async move {
                    Ok::<_, Infallible>(answer(&*store, &config, &permits, req, peer, timeout, quiet).await)
                }
            });
            let conn = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(timeout)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away mid-request is its own problem.
            let _ = conn.await;
        });
        // Finished connections are reaped as we go.
        while tasks.try_join_next().is_some() {}
    }
    eprintln!("stsguard: stopping; finishing the requests in progress");
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn answer<S: ObjectStore>(
    store: &S,
    config: &ReceiveConfig,
    permits: &tokio::sync::Semaphore,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    timeout: Duration,
    quiet: bool,
) -> hyper::Response<Full<Bytes>> {
    // Bounded work at once; the others wait here (their senders retry on a timeout).
    let Ok(_permit) = permits.acquire().await else {
        return plain(503, "shutting down\n", None, Some(60));
    };
    let (parts, body) = req.into_parts();
    let header = |name: hyper::header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(hyper::header::CONTENT_TYPE);
    let user_agent = header(hyper::header::USER_AGENT);
    let declared: Option<u64> = header(hyper::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
    let cap = config.max_body_bytes;
    let method = parts.method.as_str().to_owned();
    // Read the body only for a POST, and never more than the cap.
    let (bytes, truncated) = if method != "POST" {
        (Bytes::new(), None)
    } else if declared.is_some_and(|n| n > cap as u64) {
        (Bytes::new(), declared)
    } else {
        match tokio::time::timeout(timeout, Limited::new(body, cap).collect()).await {
            Err(_) => return plain(408, "the request took too long\n", None, None),
            Ok(Ok(collected)) => (collected.to_bytes(), None),
            Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                (Bytes::new(), Some(declared.unwrap_or(cap as u64 + 1)))
            }
            Ok(Err(_)) => return plain(400, "the request body could not be read\n", None, None),
        }
    };
    let client = peer.ip().to_string();
    let request = receive::Request {
        method: &method,
        path: parts.uri.path(),
        content_type: content_type.as_deref(),
        body: &bytes,
        truncated_size: truncated,
        client: Some(&client),
        user_agent: user_agent.as_deref(),
    };
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let r = receive::handle(store, &request, config, now).await;
    if !quiet {
        eprintln!("{}", r.log);
    }
    plain(r.status, &r.body, r.allow, r.retry_after)
}

fn plain(
    status: u16,
    body: &str,
    allow: Option<&str>,
    retry_after: Option<u32>,
) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body.to_owned())));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(a) = allow.and_then(|a| hyper::header::HeaderValue::from_str(a).ok()) {
        headers.insert(hyper::header::ALLOW, a);
    }
    if let Some(s) = retry_after {
        headers.insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from(s));
    }
    resp
}
