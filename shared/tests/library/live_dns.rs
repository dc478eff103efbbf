//! The DNS probe against an in-process authoritative server (hickory-server) on
//! loopback, UDP and TCP, serving a zone parsed from text. No outside network.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use stsguard::diag::Severity;
use stsguard::lint::MxSet;
use stsguard::live::findings::dns_findings;
use stsguard::live::{DnsError, HickoryResolver, MxRecord, Resolver};

use stsguard_test_support::servers::start_dns;

const ZONE: &str = r#"
$ORIGIN example.com.
$TTL 3600
@           IN SOA   ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300
@           IN NS    ns1.example.com.
ns1         IN A     127.0.0.1
@       300 IN MX    20 mx2.example.com.
@       300 IN MX    10 mx1.example.com.
mx1         IN A     192.0.2.1
mx2         IN A     192.0.2.2
mx2         IN AAAA  2001:db8::2
mta-sts     IN A     127.0.0.1
_mta-sts    600 IN TXT "v=STSv1; " "id=20240601T000000"
_smtp._tls  IN TXT   "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
alias       IN CNAME alias2.example.com.
alias2      IN CNAME target.example.com.
target  900 IN TXT   "v=STSv1; id=2"
nomail      IN MX    0 .
dangling    IN CNAME gone.example.com.
; A policy domain whose provider is gone: both names point at nothing.
_mta-sts.lost   IN CNAME _mta-sts.departed-provider.example.com.
mta-sts.lost    IN CNAME mta-sts.departed-provider.example.com.
; Targets that exist without the records asked for: mx1 has no TXT, target
; has no address.
_mta-sts.bare   IN CNAME mx1.example.com.
mta-sts.bare    IN CNAME target.example.com.
; Two hops, the last one dangling.
_mta-sts.hops   IN CNAME hop.example.com.
hop             IN CNAME nothere.example.com.
"#;

fn resolver(addr: SocketAddr) -> HickoryResolver {
    HickoryResolver::at(addr, Duration::from_secs(2)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txt_keeps_character_strings_and_ttl() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    let sts = r.txt("_mta-sts.example.com").await.unwrap();
    assert_eq!(
        sts.records,
        vec![vec![b"v=STSv1; ".to_vec(), b"id=20240601T000000".to_vec()]]
    );
    assert_eq!(sts.ttl, Some(600));
    assert!(sts.cname_chain.is_empty());
    assert!(!sts.authenticated);
    assert!(!sts.capped);

    let tlsrpt = r.txt("_smtp._tls.example.com.").await.unwrap();
    assert_eq!(
        tlsrpt.records,
        vec![vec![b"v=TLSRPTv1; rua=mailto:tlsrpt@example.com".to_vec()]]
    );
    assert_eq!(tlsrpt.ttl, Some(3600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txt_through_a_cname_chain() {
    let (_server, addr) = start_dns(ZONE).await;
    let t = resolver(addr).txt("ALIAS.example.com").await.unwrap();
    assert_eq!(t.records, vec![vec![b"v=STSv1; id=2".to_vec()]]);
    assert_eq!(t.ttl, Some(900));
    assert_eq!(t.cname_chain, vec!["alias2.example.com", "target.example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nxdomain_and_nodata_are_told_apart() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    assert_eq!(
        r.txt("nope.example.com").await.unwrap_err(),
        DnsError::NxDomain {
            name: "nope.example.com".into()
        }
    );
    // mx1 exists (it has an A record) but has no TXT.
    let e = r.txt("mx1.example.com").await.unwrap_err();
    assert_eq!(
        e,
        DnsError::NoData {
            name: "mx1.example.com".into(),
            rtype: "TXT"
        }
    );
    assert!(!e.is_failure());
    // A name outside the served zone: the server refuses, which is a failure.
    let e = r.txt("_mta-sts.other.test").await.unwrap_err();
    assert!(e.is_failure(), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mx_sorted_and_null_mx() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    let mx = r.mx("example.com").await.unwrap();
    assert_eq!(
        mx.records,
        vec![
            MxRecord {
                preference: 10,
                exchange: "mx1.example.com".into()
            },
            MxRecord {
                preference: 20,
                exchange: "mx2.example.com".into()
            },
        ]
    );
    assert_eq!(mx.ttl, Some(300));
    assert!(!mx.is_null());
    assert_eq!(
        mx.to_mx_set(),
        MxSet::Hosts(vec!["mx1.example.com".into(), "mx2.example.com".into()])
    );

    let null = r.mx("nomail.example.com").await.unwrap();
    assert!(null.is_null());
    assert_eq!(null.to_mx_set(), MxSet::Null);

    assert!(matches!(
        r.mx("mta-sts.example.com").await.unwrap_err(),
        DnsError::NoData { rtype: "MX", .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_v4_and_v6() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    let a = r.addresses("mx2.example.com").await.unwrap();
    assert_eq!(
        a.addresses,
        vec![
            "192.0.2.2".parse::<IpAddr>().unwrap(),
            "2001:db8::2".parse::<IpAddr>().unwrap()
        ]
    );
    assert_eq!(a.ttl, Some(3600));
    let a = r.addresses("mta-sts.example.com").await.unwrap();
    assert_eq!(a.addresses, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
    assert!(matches!(
        r.addresses("mta-sts.nope.example.com").await.unwrap_err(),
        DnsError::NxDomain { .. }
    ));
    assert!(matches!(
        r.addresses("_mta-sts.example.com").await.unwrap_err(),
        DnsError::NoData { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net001_from_live_answers() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    // A published record and a policy host with an address: nothing to report.
    let sts = r.txt("_mta-sts.example.com").await;
    let host = r.addresses("mta-sts.example.com").await;
    assert!(dns_findings("example.com", &sts, &host).is_empty());
    // A record, but the policy host does not exist.
    let host = r.addresses("mta-sts.alias.example.com").await;
    let f = dns_findings("alias.example.com", &sts, &host);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].rule, f[0].severity), ("NET001", Severity::Error));
    assert!(f[0].message.contains("NXDOMAIN"), "{}", f[0].message);
    // No record at all: the domain does not use MTA-STS, not a NET finding.
    let sts = r.txt("_mta-sts.nope.example.com").await;
    let host = r.addresses("mta-sts.nope.example.com").await;
    assert!(dns_findings("nope.example.com", &sts, &host).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_times_out() {
    // A UDP socket that never answers (and no TCP listener behind it).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let r = HickoryResolver::at(addr, Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    let e = r.txt("_mta-sts.example.com").await.unwrap_err();
    assert!(e.is_failure(), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn dangling(name: &str, target: &str) -> DnsError {
    DnsError::DanglingCname {
        name: name.into(),
        target: target.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_cnames_keep_their_target() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    // The target does not exist (NXDOMAIN).
    let e = r.txt("_mta-sts.lost.example.com").await.unwrap_err();
    assert_eq!(
        e,
        dangling(
            "_mta-sts.lost.example.com",
            "_mta-sts.departed-provider.example.com"
        )
    );
    assert!(!e.is_failure());
    assert_eq!(
        e.to_string(),
        "_mta-sts.lost.example.com: CNAME to _mta-sts.departed-provider.example.com, which does not resolve"
    );
    // The target exists but has no TXT (NODATA).
    assert_eq!(
        r.txt("_mta-sts.bare.example.com").await.unwrap_err(),
        dangling("_mta-sts.bare.example.com", "mx1.example.com")
    );
    // The end of a chain is named.
    assert_eq!(
        r.txt("_mta-sts.hops.example.com").await.unwrap_err(),
        dangling("_mta-sts.hops.example.com", "nothere.example.com")
    );
    // Asked again (from the resolver's cache): the same.
    assert_eq!(
        r.txt("_mta-sts.hops.example.com.").await.unwrap_err(),
        dangling("_mta-sts.hops.example.com", "nothere.example.com")
    );
    // Addresses: NXDOMAIN target, and a target with only TXT.
    assert_eq!(
        r.addresses("mta-sts.lost.example.com").await.unwrap_err(),
        dangling(
            "mta-sts.lost.example.com",
            "mta-sts.departed-provider.example.com"
        )
    );
    assert_eq!(
        r.addresses("mta-sts.bare.example.com").await.unwrap_err(),
        dangling("mta-sts.bare.example.com", "target.example.com")
    );
    // MX.
    assert_eq!(
        r.mx("dangling.example.com").await.unwrap_err(),
        dangling("dangling.example.com", "gone.example.com")
    );
    // A CNAME that leads somewhere is still followed.
    assert!(r.txt("alias.example.com").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_cnames_are_net001() {
    let (_server, addr) = start_dns(ZONE).await;
    let r = resolver(addr);
    for domain in ["lost.example.com", "bare.example.com"] {
        let sts = r.txt(&format!("_mta-sts.{domain}")).await;
        let host = r.addresses(&format!("mta-sts.{domain}")).await;
        let f = dns_findings(domain, &sts, &host);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f.iter()
                .all(|f| (f.rule, f.severity) == ("NET001", Severity::Error)),
            "{f:?}"
        );
        assert!(
            f.iter().any(|f| f
                .message
                .starts_with(&format!("_mta-sts.{domain} is a CNAME to "))),
            "{f:?}"
        );
        assert!(
            f.iter().any(|f| f
                .message
                .starts_with(&format!("the policy host mta-sts.{domain} is a CNAME to "))),
            "{f:?}"
        );
    }
}
