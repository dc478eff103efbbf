//! What the stsguard tests share, in one place: loopback DNS, HTTPS and SMTP
//! servers with a test CA ([`servers`]), a loopback address of its own for each
//! server ([`loopback`], [`port_443`]), and buckets on the local S3 endpoint
//! ([`s3`]). Tests only: it may panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::new_without_default,
    missing_docs
)]

pub mod s3;
pub mod servers;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};

/// A loopback address of its own for each server, so that port 443 is free:
/// `127.<base + pid-derived>.<pid-derived>.<counter>`; test modules pass
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

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
