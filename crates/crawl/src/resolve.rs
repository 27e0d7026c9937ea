//! Name resolution through the SSRF guard.
//!
//! reqwest dials exactly the addresses its resolver returns, so checking them here (and nowhere
//! else) means the addresses validated are the addresses connected to: there is no separate
//! pre-check lookup a rebinding DNS server could answer differently. IP-literal hosts never reach
//! a resolver; `Fetcher` checks those itself.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::policy::{AddressPolicy, normalize_name};

/// A last look at every address before it is handed to the connector. Production leaves it
/// unset; tests install one that refuses anything but loopback, so no test can send a packet
/// off the machine even if the policy were wrong.
pub type DialFilter = Arc<dyn Fn(SocketAddr) -> bool + Send + Sync>;

/// Refused by the guard: carried through reqwest's error chain and recognised by type.
#[derive(Debug, thiserror::Error)]
#[error("blocked address {host} -> {ip}: {reason}")]
pub struct BlockedByResolver {
    pub host: String,
    pub ip: std::net::IpAddr,
    pub reason: String,
}

/// A name that did not resolve (or resolved to nothing).
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {host}: {reason}")]
pub struct ResolveFailed {
    pub host: String,
    pub reason: String,
}

/// The operating system's resolver (`getaddrinfo` on tokio's blocking pool).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| ResolveFailed {
                    host: host.clone(),
                    reason: e.to_string(),
                })?;
            let addrs: Vec<SocketAddr> = addrs.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Wraps any resolver: refuses the whole answer if ANY address in it is not allowed (an
/// attacker's name that returns one public and one private address must not get a chance to
/// be dialled on the private one after the public one fails).
pub struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    policy: Arc<AddressPolicy>,
    dial_filter: Option<DialFilter>,
}

impl GuardedResolver {
    pub fn new(
        inner: Arc<dyn Resolve>,
        policy: Arc<AddressPolicy>,
        dial_filter: Option<DialFilter>,
    ) -> GuardedResolver {
        GuardedResolver {
            inner,
            policy,
            dial_filter,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = normalize_name(name.as_str());
        let policy = Arc::clone(&self.policy);
        let filter = self.dial_filter.clone();
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            // Any failure of the inner resolver is a DNS failure, whatever its error type.
            let addrs: Vec<SocketAddr> = match lookup.await {
                Ok(addrs) => addrs.collect(),
                Err(e) => {
                    return Err(Box::new(ResolveFailed {
                        host,
                        reason: e.to_string(),
                    }) as _);
                }
            };
            if addrs.is_empty() {
                return Err(Box::new(ResolveFailed {
                    host,
                    reason: "no addresses".to_owned(),
                }) as _);
            }
            for addr in &addrs {
                if let Err(reason) = policy.check_resolved(&host, addr.ip()) {
                    tracing::warn!(%host, ip = %addr.ip(), reason, "resolved address refused");
                    return Err(Box::new(BlockedByResolver {
                        host,
                        ip: addr.ip(),
                        reason: reason.to_owned(),
                    }) as _);
                }
                if let Some(filter) = &filter
                    && !filter(*addr)
                {
                    return Err(Box::new(BlockedByResolver {
                        host,
                        ip: addr.ip(),
                        reason: "refused by the dial filter".to_owned(),
                    }) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
