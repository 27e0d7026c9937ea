//! The SSRF guard as a pure function over parsed hosts and addresses: no sockets, no DNS.
//!
//! Every URL we are about to request (the first one and every redirect hop) goes through
//! [`AddressPolicy::check_url`]; every address a name resolves to goes through
//! [`AddressPolicy::check_resolved`]. Hosts are judged from `url::Host`, never by string matching
//! on the URL, so alternate spellings (`2130706433`, `0x7f.1`, `①②⑦.0.0.1`) are caught as the
//! address they denote.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::error::FetchError;

/// Which targets may be requested.
///
/// Blocked by default: loopback, private, link-local, CGNAT, multicast, broadcast, 0.0.0.0/8,
/// reserved and documentation ranges, IPv6 outside global unicast, and local-looking names.
/// Loopback (or any blocked address) is reachable only through `allow`, an exact `host:port`
/// list meant for tests and the demo.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: HashSet<String>,
    allow_hosts: HashSet<String>,
    /// TEST-NET and 2001:db8::/32 hold no real hosts; tests turn this on to let them stand in
    /// for "a public address" (a dial filter then refuses to dial them).
    pub allow_documentation: bool,
}

/// Why an address or name is refused; the text ends up in the error message.
pub type Reason = &'static str;

impl AddressPolicy {
    /// A policy whose only exceptions are the given exact `host:port` entries.
    pub fn new<I, S>(allow: I) -> Result<AddressPolicy, FetchError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut policy = AddressPolicy::default();
        for entry in allow {
            let entry = entry.as_ref();
            // Parse through `Url` so the entry is normalised exactly like the URLs it is compared with.
            let url = Url::parse(&format!("http://{entry}/")).map_err(|_| FetchError::BadUrl {
                url: entry.to_owned(),
                reason: "allow-list entries are host:port".to_owned(),
            })?;
            let (Some(host), Some(port)) = (url.host(), url.port()) else {
                return Err(FetchError::BadUrl {
                    url: entry.to_owned(),
                    reason: "allow-list entries need an explicit port".to_owned(),
                });
            };
            let host = normalize_host(&host);
            policy.allow.insert(format!("{host}:{port}"));
            policy.allow_hosts.insert(host);
        }
        Ok(policy)
    }

    /// Whether this exact host and port is on the allow-list.
    pub fn is_allowed(&self, host: &Host<&str>, port: u16) -> bool {
        self.allow
            .contains(&format!("{}:{port}", normalize_host(host)))
    }

    /// Whether a name is on the allow-list with some port: the resolver may then return
    /// loopback for it (the port was already matched exactly by `check_url`).
    pub fn is_allowed_name(&self, name: &str) -> bool {
        self.allow_hosts.contains(&normalize_name(name))
    }

    /// The check of a URL before it is requested: scheme, then host, then the allow-list.
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        // Scheme first: for other schemes `url` gives opaque hosts (`gopher://127.0.0.1` is a Domain).
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadScheme {
                scheme: url.scheme().to_owned(),
            });
        }
        let Some(host) = url.host() else {
            return Err(FetchError::BadUrl {
                url: url.to_string(),
                reason: "no host".to_owned(),
            });
        };
        let port = url.port_or_known_default().unwrap_or(0);
        if self.is_allowed(&host, port) {
            return Ok(());
        }
        let blocked = |reason: Reason| FetchError::BlockedAddress {
            target: format!("{}:{port}", normalize_host(&host)),
            reason: reason.to_owned(),
        };
        match host {
            Host::Ipv4(ip) => self.check_ip(IpAddr::V4(ip)).map_err(blocked),
            Host::Ipv6(ip) => self.check_ip(IpAddr::V6(ip)).map_err(blocked),
            Host::Domain(name) => {
                let name = normalize_name(name);
                if self.allow_hosts.contains(&name) {
                    // Allow-listed for another port only: the resolver would let loopback through.
                    return Err(blocked("host is allow-listed for another port only"));
                }
                check_name(&name).map_err(blocked)
            }
        }
    }

    /// The check of one resolved address of `name`.
    pub fn check_resolved(&self, name: &str, ip: IpAddr) -> Result<(), Reason> {
        if self.is_allowed_name(name) && canonical_ip(ip).is_loopback() {
            return Ok(());
        }
        self.check_ip(ip)
    }

    /// Whether an address may be dialled at all (allow-list aside).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Reason> {
        if let IpAddr::V6(v6) = ip {
            // Prefixes refused outright instead of canonicalised: what they reach is not one IPv4.
            let s = v6.segments();
            if s[0] == 0x2001 && s[1] == 0 {
                return Err("teredo address");
            }
            if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
                return Err("local-use nat64 address");
            }
        }
        match canonical_ip(ip) {
            IpAddr::V4(v4) => self.check_v4(v4),
            IpAddr::V6(v6) => self.check_v6(v6),
        }
    }

    fn check_v4(&self, ip: Ipv4Addr) -> Result<(), Reason> {
        let o = ip.octets();
        let r = match o {
            [0, ..] => "this-network address (0.0.0.0/8)",
            [10, ..] => "private address",
            [100, b, ..] if (64..128).contains(&b) => "shared address space (cgnat)",
            [127, ..] => "loopback address",
            [169, 254, ..] => "link-local address",
            [172, b, ..] if (16..32).contains(&b) => "private address",
            [192, 0, 0, _] => "ietf protocol assignment",
            [192, 88, 99, _] => "6to4 relay anycast",
            [192, 168, ..] => "private address",
            [198, 18 | 19, ..] => "benchmarking address",
            [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => {
                if self.allow_documentation {
                    return Ok(());
                }
                "documentation address"
            }
            [224..=239, ..] => "multicast address",
            [240..=255, ..] => "reserved or broadcast address",
            _ => return Ok(()),
        };
        Err(r)
    }

    fn check_v6(&self, ip: Ipv6Addr) -> Result<(), Reason> {
        let s = ip.segments();
        if ip.is_unspecified() {
            return Err("unspecified address");
        }
        if ip.is_loopback() {
            return Err("loopback address");
        }
        if s[0] == 0x2001 && s[1] == 0x0db8 || s[0] & 0xfff0 == 0x3ff0 {
            if self.allow_documentation {
                return Ok(());
            }
            return Err("documentation address");
        }
        // Only global unicast (2000::/3) is routable on the internet; that one rule covers
        // ULA fc00::/7, link-local fe80::/10, site-local, multicast ff00::/8 and the rest.
        if s[0] & 0xe000 != 0x2000 {
            return Err(match s[0] {
                0xfc00..=0xfdff => "unique local address",
                0xfe80..=0xfebf => "link-local address",
                0xff00..=0xffff => "multicast address",
                _ => "non-global ipv6 address",
            });
        }
        // Special-purpose blocks inside 2000::/3 (RFC 6890 and successors).
        if s[0] == 0x2001 && s[1] < 0x0200 {
            return Err("ietf protocol assignment");
        }
        if s[0] == 0x5f00 {
            return Err("segment routing address");
        }
        Ok(())
    }
}

/// The IPv4 address an IPv6 form embeds (mapped, compatible, NAT64 well-known prefix, 6to4),
/// else the address itself. Judging the embedded IPv4 stops `[::ffff:127.0.0.1]` and friends.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    let s = v6.segments();
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    // ::ffff:a.b.c.d (mapped)
    if s[..5] == [0; 5] && s[5] == 0xffff {
        return IpAddr::V4(tail);
    }
    // ::a.b.c.d (deprecated compatible); :: and ::1 stay themselves
    if s[..6] == [0; 6] && !v6.is_unspecified() && !v6.is_loopback() {
        return IpAddr::V4(tail);
    }
    // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return IpAddr::V4(tail);
    }
    // 2002:AABB:CCDD::/48 (6to4)
    if s[0] == 0x2002 {
        return IpAddr::V4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    ip
}

/// Lower case, no trailing dot: `LOCALHOST.` and `localhost` are one name.
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn normalize_host(host: &Host<&str>) -> String {
    match host {
        Host::Domain(d) => normalize_name(d),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => format!("[{ip}]"),
    }
}

/// Suffixes that name machines on a local network, never on the public internet.
const LOCAL_SUFFIXES: &[&str] = &[
    "localhost",
    "local",
    "internal",
    "localdomain",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
    "home.arpa",
    "in-addr.arpa",
    "ip6.arpa",
];

/// Refuse names that can only mean something inside a private network. `name` is normalised.
pub fn check_name(name: &str) -> Result<(), Reason> {
    if name.is_empty() {
        return Err("empty host name");
    }
    if !name.contains('.') {
        return Err("single-label host name");
    }
    for suffix in LOCAL_SUFFIXES {
        if name == *suffix
            || name
                .strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.'))
        {
            return Err("local host name");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AddressPolicy {
        AddressPolicy::default()
    }

    fn code(url: &str) -> &'static str {
        match Url::parse(url) {
            Ok(u) => match policy().check_url(&u) {
                Ok(()) => "ok",
                Err(e) => e.code(),
            },
            Err(_) => "unparsable",
        }
    }

    #[test]
    fn a2_literal_metadata_and_private_targets_are_blocked_before_any_dial() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://100.100.100.200/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://198.18.0.1/",
            "http://[ff02::1]/",
        ] {
            assert_eq!(code(url), "blocked_address", "{url}");
        }
    }

    #[test]
    fn a3_alternate_ipv4_spellings_normalise_to_loopback_and_are_blocked() {
        for url in [
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://①②⑦.0.0.1/",
            "http://127.0.0.1%2e/",
            "http://a@127.0.0.1/",
            "http://127.0.0.1./",
        ] {
            // Every spelling is read as 127.0.0.1 by `url` (WHATWG host parsing), then blocked.
            let u = Url::parse(url).unwrap();
            assert_eq!(u.host(), Some(Host::Ipv4(Ipv4Addr::LOCALHOST)), "{url}");
            assert_eq!(code(url), "blocked_address", "{url}");
        }
    }

    #[test]
    fn a4_ipv6_wrappers_are_canonicalised_or_blocked() {
        for url in [
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:a00:1::]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "http://[::ffff:0.0.0.0]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[::]/",
        ] {
            assert_eq!(code(url), "blocked_address", "{url}");
        }
        assert_eq!(
            canonical_ip("::ffff:7f00:1".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            canonical_ip("2002:7f00:1::".parse().unwrap()),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
    }

    #[test]
    fn a5_the_whole_zero_network_is_blocked_not_only_unspecified() {
        for url in ["http://0.0.0.0:8080/", "http://0/", "http://0.1.2.3/"] {
            assert_eq!(code(url), "blocked_address", "{url}");
        }
    }

    #[test]
    fn a10_only_http_and_https_are_accepted_before_host_parsing() {
        for url in [
            "file:///etc/passwd",
            "gopher://127.0.0.1:6379/_",
            "ftp://example.org/",
            "data:text/plain,hi",
            "javascript:alert(1)",
            "jar:http://example.org/x.jar!/",
        ] {
            assert_eq!(code(url), "bad_scheme", "{url}");
        }
    }

    #[test]
    fn a12_local_looking_names_are_blocked_before_dns_with_case_and_trailing_dot_normalised() {
        for url in [
            "http://intranet/",
            "http://printer.local/",
            "http://x.internal/",
            "http://localhost./",
            "http://LOCALHOST/",
            "http://api.localhost/",
            "http://router.home.arpa/",
            "http://Printer.LOCAL./",
        ] {
            assert_eq!(code(url), "blocked_address", "{url}");
        }
    }

    #[test]
    fn public_hosts_and_addresses_pass() {
        for url in [
            "https://example.org/feed.xml",
            "http://93.184.215.14/",
            "http://[2606:4700::1111]/",
            "https://localhost.example.org/",
            "https://events.museum/",
        ] {
            assert_eq!(code(url), "ok", "{url}");
        }
    }

    #[test]
    fn documentation_ranges_are_blocked_unless_switched_on() {
        let ip: IpAddr = "203.0.113.10".parse().unwrap();
        assert!(policy().check_ip(ip).is_err());
        let p = AddressPolicy {
            allow_documentation: true,
            ..AddressPolicy::default()
        };
        assert!(p.check_ip(ip).is_ok());
    }

    #[test]
    fn allow_list_matches_exact_host_and_port_only() {
        let p = AddressPolicy::new(["127.0.0.1:8080", "LocalHost:9000"]).unwrap();
        let ok = |u: &str| p.check_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("http://127.0.0.1:8080/feed"));
        assert!(!ok("http://127.0.0.1:8081/feed"));
        assert!(!ok("http://2130706433:8081/"));
        assert!(
            ok("http://2130706433:8080/"),
            "same address, other spelling"
        );
        assert!(ok("http://localhost:9000/"));
        assert!(!ok("http://localhost:9001/"));
        assert!(
            p.check_resolved("localhost", "127.0.0.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.check_resolved("localhost", "10.0.0.1".parse().unwrap())
                .is_err()
        );
        assert!(
            p.check_resolved("evil.test", "127.0.0.1".parse().unwrap())
                .is_err()
        );
        assert!(AddressPolicy::new(["127.0.0.1"]).is_err(), "port required");
    }
}
