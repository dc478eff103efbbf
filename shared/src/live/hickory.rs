//! [`Resolver`] on hickory-resolver.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;

use super::{
    AddrAnswer, DnsError, MxAnswer, MxRecord, Resolver, TxtAnswer, MAX_ANSWER_RECORDS, MAX_CNAME_CHAIN,
    MAX_TXT_BYTES,
};

/// A [`Resolver`] on hickory-resolver: the system's configured servers, or one
/// given server. Every query has a timeout; names are always queried as
/// fully qualified (no search domains).
#[derive(Clone)]
pub struct HickoryResolver {
    inner: TokioResolver,
    timeout: Duration,
}

impl std::fmt::Debug for HickoryResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HickoryResolver")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HickoryResolver {
    /// The system's resolvers (`/etc/resolv.conf` on Unix), each query given at
    /// most `timeout`.
    pub fn system(timeout: Duration) -> Result<Self, DnsError> {
        let mut builder = TokioResolver::builder_tokio().map_err(|e| config_error(&e))?;
        tune(builder.options_mut(), timeout);
        let inner = builder.build().map_err(|e| config_error(&e))?;
        Ok(HickoryResolver { inner, timeout })
    }

    /// Every query to the server at `server` (UDP, and TCP for truncated
    /// answers), each given at most `timeout`. The hosts file is not read.
    pub fn at(server: SocketAddr, timeout: Duration) -> Result<Self, DnsError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let mut config = ResolverConfig::default();
        config.add_name_server(NameServerConfig::new(server.ip(), true, vec![udp, tcp]));
        let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        let opts = builder.options_mut();
        tune(opts, timeout);
        opts.use_hosts_file = ResolveHosts::Never;
        let inner = builder.build().map_err(|e| config_error(&e))?;
        Ok(HickoryResolver { inner, timeout })
    }

    async fn query(&self, name: &str, rtype: RecordType) -> Result<Lookup, DnsError> {
        let fqdn = format!("{}.", crate::names::normalize(name));
        let qname = Name::from_ascii(&fqdn).map_err(|e| DnsError::Other {
            name: crate::names::normalize(name),
            message: format!("invalid name: {e}"),
        })?;
        // The resolver's own timeout is per attempt; this bounds the whole query.
        let whole = self.timeout.saturating_mul(3);
        match tokio::time::timeout(whole, self.inner.lookup(qname, rtype)).await {
            Err(_) => Err(DnsError::Timeout {
                name: crate::names::normalize(name),
            }),
            Ok(Ok(lookup)) => Ok(lookup),
            Ok(Err(e)) => Err(map_error(&crate::names::normalize(name), rtype, &e)),
        }
    }
}

fn tune(opts: &mut hickory_resolver::config::ResolverOpts, timeout: Duration) {
    opts.timeout = timeout;
    opts.attempts = 2;
    opts.ndots = 0;
    opts.edns0 = true;
    // Keep the CNAMEs in the answer so that the chain can be reported.
    opts.preserve_intermediates = true;
    opts.try_tcp_on_error = true;
}

fn config_error(e: &NetError) -> DnsError {
    DnsError::Other {
        name: String::new(),
        message: format!("resolver configuration: {e}"),
    }
}

fn rtype_name(rtype: RecordType) -> &'static str {
    match rtype {
        RecordType::TXT => "TXT",
        RecordType::MX => "MX",
        RecordType::A => "A",
        RecordType::AAAA => "AAAA",
        _ => "other",
    }
}

fn map_error(name: &str, rtype: RecordType, e: &NetError) -> DnsError {
    let name = name.to_owned();
    match e {
        NetError::Dns(HDnsError::NoRecordsFound(no)) => {
            // The resolver follows a CNAME with a query for its target; when
            // that finds nothing, the error carries the query for the last
            // target, not for the name asked (the CNAME records themselves
            // are not kept in it).
            let answered = crate::names::normalize(&no.query.name().to_ascii());
            match no.response_code {
                ResponseCode::NXDomain | ResponseCode::NoError
                    if !answered.is_empty() && answered != name =>
                {
                    DnsError::DanglingCname {
                        name,
                        target: answered,
                    }
                }
                ResponseCode::NXDomain => DnsError::NxDomain { name },
                ResponseCode::NoError => DnsError::NoData {
                    name,
                    rtype: rtype_name(rtype),
                },
                rc => DnsError::ServFail {
                    name,
                    rcode: rc.to_string(),
                },
            }
        }
        NetError::Dns(HDnsError::ResponseCode(rc)) => DnsError::ServFail {
            name,
            rcode: rc.to_string(),
        },
        NetError::Dns(HDnsError::DnssecBogus) => DnsError::ServFail {
            name,
            rcode: "DNSSEC bogus".into(),
        },
        NetError::Timeout => DnsError::Timeout { name },
        other => DnsError::Other {
            name,
            message: other.to_string(),
        },
    }
}

/// The CNAME targets in an answer, in order, capped.
fn cname_chain(lookup: &Lookup) -> Vec<String> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::CNAME(c) => Some(crate::names::normalize(&c.0.to_ascii())),
            _ => None,
        })
        .take(MAX_CNAME_CHAIN)
        .collect()
}

/// An answer without records of the type: NODATA, or a dangling CNAME when
/// it held only CNAMEs.
fn nothing(name: &str, rtype: &'static str, chain: &[String]) -> DnsError {
    match chain.last() {
        Some(target) => DnsError::DanglingCname {
            name: crate::names::normalize(name),
            target: target.clone(),
        },
        None => DnsError::NoData {
            name: crate::names::normalize(name),
            rtype,
        },
    }
}

fn authenticated(lookup: &Lookup) -> bool {
    lookup.message().metadata.authentic_data
}

fn min_ttl(ttls: impl Iterator<Item = u32>) -> Option<u32> {
    ttls.min()
}

impl Resolver for HickoryResolver {
    async fn txt(&self, name: &str) -> Result<TxtAnswer, DnsError> {
        let lookup = self.query(name, RecordType::TXT).await?;
        let mut answer = TxtAnswer {
            cname_chain: cname_chain(&lookup),
            authenticated: authenticated(&lookup),
            ..TxtAnswer::default()
        };
        let mut bytes = 0usize;
        let mut ttls = Vec::new();
        for record in lookup.answers() {
            let RData::TXT(txt) = &record.data else {
                continue;
            };
            let size: usize = txt.txt_data.iter().map(|s| s.len()).sum();
            if answer.records.len() >= MAX_ANSWER_RECORDS || bytes + size > MAX_TXT_BYTES {
                answer.capped = true;
                continue;
            }
            bytes += size;
            ttls.push(record.ttl);
            answer
                .records
                .push(txt.txt_data.iter().map(|s| s.to_vec()).collect());
        }
        answer.ttl = min_ttl(ttls.into_iter());
        if answer.records.is_empty() && !answer.capped {
            // Only CNAMEs (a dangling chain, or a target without TXT).
            return Err(nothing(name, "TXT", &answer.cname_chain));
        }
        Ok(answer)
    }

    async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let lookup = self.query(domain, RecordType::MX).await?;
        let mut ttls = Vec::new();
        let mut records = Vec::new();
        for record in lookup.answers() {
            let RData::MX(mx) = &record.data else {
                continue;
            };
            if records.len() >= MAX_ANSWER_RECORDS {
                break;
            }
            ttls.push(record.ttl);
            records.push(MxRecord {
                preference: mx.preference,
                exchange: crate::names::normalize(&mx.exchange.to_ascii()),
            });
        }
        if records.is_empty() {
            return Err(nothing(domain, "MX", &cname_chain(&lookup)));
        }
        records.sort();
        Ok(MxAnswer {
            records,
            ttl: min_ttl(ttls.into_iter()),
            authenticated: authenticated(&lookup),
        })
    }

    async fn addresses(&self, host: &str) -> Result<AddrAnswer, DnsError> {
        let (v4, v6) = tokio::join!(
            self.query(host, RecordType::A),
            self.query(host, RecordType::AAAA)
        );
        let mut answer = AddrAnswer::default();
        let mut ttls = Vec::new();
        let mut errors = Vec::new();
        for result in [v4, v6] {
            match result {
                Ok(lookup) => {
                    if answer.cname_chain.is_empty() {
                        answer.cname_chain = cname_chain(&lookup);
                    }
                    for record in lookup.answers() {
                        let ip = match &record.data {
                            RData::A(a) => IpAddr::V4(a.0),
                            RData::AAAA(a) => IpAddr::V6(a.0),
                            _ => continue,
                        };
                        if answer.addresses.len() < MAX_ANSWER_RECORDS {
                            ttls.push(record.ttl);
                            answer.addresses.push(ip);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        answer.ttl = min_ttl(ttls.into_iter());
        if !answer.addresses.is_empty() {
            return Ok(answer);
        }
        // No address: NXDOMAIN wins, then a dangling CNAME, then a failure,
        // then NODATA.
        let first = |f: fn(&DnsError) -> bool| errors.iter().find(|e| f(e)).cloned();
        if let Some(e) = first(|e| matches!(e, DnsError::NxDomain { .. }))
            .or_else(|| first(|e| matches!(e, DnsError::DanglingCname { .. })))
            .or_else(|| first(DnsError::is_failure))
        {
            return Err(e);
        }
        Err(nothing(host, "A/AAAA", &answer.cname_chain))
    }
}
