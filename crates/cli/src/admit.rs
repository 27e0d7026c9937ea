//! Who gets a connection slot (HOSTILE D6): a cap sized to the open-file limit, a per-address
//! share of it, and a shorter header deadline for connections accepted under pressure, so
//! clients that connect and say nothing are shed before they starve everyone else.
//!
//! Pure bookkeeping; `serve` asks [`Admission::admit`] after each accept and drops the
//! returned [`Ticket`] when the connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Files kept free beside the connections: the database, the index, outgoing fetches, logs.
const RESERVED_FILES: u64 = 256;

/// The most connections served at once when nothing else bounds them.
pub const AUTO_MAX: usize = 10_000;

/// Raises this process's open-file limit to what it may have and returns the connection caps
/// it allows: `(soft, hard)`. The hard cap is what the limit allows minus a reserve for the
/// service's own files (at most [`AUTO_MAX`]); the soft one is `configured` (0: the hard cap),
/// never above the hard one.
pub fn connection_caps(configured: usize) -> (usize, usize) {
    let files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; assuming 1024");
            1024
        }
    };
    (cap_for(configured, files), cap_for(0, files))
}

fn cap_for(configured: usize, files: u64) -> usize {
    let allowed = usize::try_from(files.saturating_sub(RESERVED_FILES))
        .unwrap_or(AUTO_MAX)
        .max(16);
    let wanted = if configured == 0 {
        AUTO_MAX
    } else {
        configured
    };
    wanted.min(allowed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served comfortably; past three quarters of it new connections get the
    /// pressured header deadline, past it the idle are shed to make room.
    pub cap: usize,
    /// Connections accepted at all (sized to the open-file limit); past it new ones wait in
    /// the kernel's queue.
    pub hard_cap: usize,
    /// Connections one client address may hold (IPv6: per /64).
    pub per_address: usize,
    /// Header deadline of connections accepted past three quarters of the cap.
    pub pressured_header_timeout: Duration,
}

/// How a connection is served.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `pressured`: a short header deadline; `shed`: more are open than the cap, ask the idle
    /// ones to leave.
    Serve { pressured: bool, shed: bool },
    /// This address already holds its share: closed at once.
    TooManyFromAddress,
}

/// Live connections per client address.
#[derive(Debug, Clone)]
pub struct Admission {
    limits: Limits,
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Holds a connection's place in the per-address count until dropped.
#[derive(Debug)]
pub struct Ticket {
    key: IpAddr,
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Ok(mut m) = self.by_address.lock()
            && let Some(n) = m.get_mut(&self.key)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

impl Admission {
    pub fn new(limits: Limits) -> Admission {
        Admission {
            limits,
            by_address: Arc::default(),
        }
    }

    /// Decides for a connection from `peer` while `open` connections (this one included) are.
    pub fn admit(&self, peer: IpAddr, open: usize) -> (Verdict, Option<Ticket>) {
        let key = client_key(peer);
        let pressured = open.saturating_mul(4) > self.limits.cap.saturating_mul(3);
        let shed = open > self.limits.cap;
        let Ok(mut m) = self.by_address.lock() else {
            return (Verdict::Serve { pressured, shed }, None);
        };
        let n = m.entry(key).or_default();
        if *n >= self.limits.per_address {
            return (Verdict::TooManyFromAddress, None);
        }
        *n += 1;
        let ticket = Ticket {
            key,
            by_address: Arc::clone(&self.by_address),
        };
        (Verdict::Serve { pressured, shed }, Some(ticket))
    }
}

/// One client: an IPv4 address, or an IPv6 /64 (one host's usual share).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            cap: 100,
            hard_cap: 1000,
            per_address: 2,
            pressured_header_timeout: Duration::from_secs(2),
        }
    }

    const CALM: Verdict = Verdict::Serve {
        pressured: false,
        shed: false,
    };

    #[test]
    fn the_cap_follows_the_open_file_limit() {
        assert_eq!(cap_for(0, 1_048_576), AUTO_MAX);
        assert_eq!(cap_for(0, 1024), 1024 - 256);
        assert_eq!(cap_for(512, 20_000), 512);
        assert_eq!(cap_for(5000, 1024), 768, "never more than the limit allows");
        assert_eq!(cap_for(0, 100), 16);
    }

    #[test]
    fn an_address_gets_its_share_and_gets_it_back_on_close() {
        let a = Admission::new(limits());
        let ip = IpAddr::from([127, 0, 0, 9]);
        let (v1, t1) = a.admit(ip, 10);
        let (v2, _t2) = a.admit(ip, 11);
        assert_eq!((v1, v2), (CALM, CALM));
        assert_eq!(a.admit(ip, 12).0, Verdict::TooManyFromAddress);
        // Another address is untouched.
        assert_eq!(a.admit(IpAddr::from([127, 0, 0, 10]), 12).0, CALM);
        drop(t1);
        assert_eq!(a.admit(ip, 12).0, CALM);
    }

    #[test]
    fn ipv6_hosts_share_by_64_and_mapped_v4_is_v4() {
        let a = Admission::new(limits());
        let one = IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]);
        let two = IpAddr::from([0x2001, 0xdb8, 0, 1, 0xffff, 0, 0, 2]);
        let _t = a.admit(one, 10);
        let _u = a.admit(two, 10);
        assert_eq!(a.admit(one, 10).0, Verdict::TooManyFromAddress);
        assert_eq!(
            client_key(IpAddr::from([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1])),
            IpAddr::from([127, 0, 0, 1])
        );
    }

    #[test]
    fn past_three_quarters_is_pressure_and_past_the_cap_sheds() {
        let a = Admission::new(limits());
        let at = |open, last: u8| a.admit(IpAddr::from([10, 0, 0, last]), open).0;
        assert_eq!(at(75, 1), CALM);
        let pressured = Verdict::Serve {
            pressured: true,
            shed: false,
        };
        assert_eq!(at(76, 2), pressured);
        let shedding = Verdict::Serve {
            pressured: true,
            shed: true,
        };
        assert_eq!(at(101, 3), shedding);
    }
}
