//! Running the `stsguard` binary against the loopback servers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Output;
use std::sync::atomic::{AtomicU8, Ordering};

/// A loopback address of its own for each server, so that port 443 is free:
/// `127.<base + pid-derived>.<pid-derived>.<counter>`; test files pass
/// different `base`s so that they never share an address.
pub fn loopback(base: u8) -> IpAddr {
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let pid = std::process::id();
    IpAddr::V4(Ipv4Addr::new(
        127,
        base + (pid % 80) as u8,
        ((pid / 80) % 250) as u8 + 1,
        NEXT.fetch_add(1, Ordering::Relaxed),
    ))
}

/// `ip`:443 when it can be bound here; `None` (said on stderr) when binding
/// needs a privilege the tests lack. Any other failure fails the test.
pub fn port_443(ip: IpAddr) -> Option<SocketAddr> {
    let addr = SocketAddr::new(ip, 443);
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Some(addr),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("skipped: cannot bind {addr} ({e}): port 443 needs root");
            None
        }
        Err(e) => panic!("cannot bind {addr}: {e}"),
    }
}

/// Runs the binary with `args`, off the async runtime.
pub async fn stsguard(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_stsguard"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `check example.com --no-smtp` pointed at `dns` and the CA in `ca`, with a
/// 5 s timeout, in `format`.
pub fn check_args(dns: SocketAddr, ca: &std::path::Path, format: &str) -> Vec<String> {
    [
        "check",
        "example.com",
        "--no-smtp",
        "--resolver",
        &dns.to_string(),
        "--ca-file",
        &ca.display().to_string(),
        "--timeout",
        "5",
        "--format",
        format,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}
