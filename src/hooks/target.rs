//! Where a webhook may be delivered: the SSRF rule (docs/webhooks.md
//! "SSRF").
//!
//! An endpoint URL is an absolute `http(s)` URL without user name or
//! fragment, at most 2048 bytes. Its host must not be, nor resolve to, an
//! address inside a network: loopback, private, link-local (the cloud
//! metadata address among them), shared, unspecified, broadcast,
//! multicast, documentation, benchmarking or reserved, in IPv4 or IPv6
//! (IPv4-mapped, -compatible and NAT64 forms read as the IPv4 they carry),
//! unless `[hooks] allow_private_targets = true`. Odd IPv4 spellings
//! (`2130706433`, `0x7f.1`, `127.1`) are read the way browsers and HTTP
//! clients read them (the `url` crate's WHATWG parser), so they cannot
//! hide 127.0.0.1. `localhost` and `*.localhost` are refused without
//! asking DNS; any other name is resolved, and refused if any of its
//! addresses is forbidden (or if it has none).
//!
//! [`vet`] returns the checked addresses, and [`client_for`] builds a
//! client that connects to those addresses only, so a name that points
//! elsewhere between the check and the connection (DNS rebinding) cannot
//! reach inside. The worker keeps one such client per host for a minute
//! (`deliver.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// Longest endpoint URL, in bytes.
pub const MAX_URL: usize = 2048;
/// Longest wait for a name's addresses.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// A parsed endpoint URL.
#[derive(Debug, Clone)]
pub struct Target {
    url: Url,
}

/// Why a URL is not a place toktok delivers to (a 422 on `url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("must be an absolute http or https URL")]
    NotHttp,
    #[error("must be at most 2048 bytes")]
    TooLong,
    #[error("must not carry a user name or password")]
    Userinfo,
    #[error("must not have a fragment")]
    Fragment,
    #[error(
        "points to {0}, a loopback, private, link-local or reserved address; toktok delivers \
         there only with [hooks] allow_private_targets = true"
    )]
    Internal(IpAddr),
    #[error(
        "is a local name; toktok delivers there only with [hooks] allow_private_targets = true"
    )]
    LocalName,
    #[error("has a host name that does not resolve")]
    Unresolved,
}

impl Target {
    /// `scheme://host:port`: the key of the worker's client cache.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }
}

/// Reads an endpoint URL (syntax only; [`vet`] checks where it points).
pub fn parse_target(text: &str) -> Result<Target, TargetError> {
    if text.len() > MAX_URL {
        return Err(TargetError::TooLong);
    }
    let url = Url::parse(text).map_err(|_| TargetError::NotHttp)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(TargetError::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Userinfo);
    }
    if url.fragment().is_some() {
        return Err(TargetError::Fragment);
    }
    Ok(Target { url })
}

/// The addresses `target` may be reached at: its IP literal, or every
/// address its name resolves to, each checked unless `allow_private`.
pub async fn vet(target: &Target, allow_private: bool) -> Result<Vec<SocketAddr>, TargetError> {
    let port = target.port();
    let addrs: Vec<SocketAddr> = match target.url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(TargetError::LocalName);
            }
            let found = tokio::time::timeout(
                RESOLVE_TIMEOUT,
                tokio::net::lookup_host((name.as_str(), port)),
            )
            .await
            .map_err(|_| TargetError::Unresolved)?
            .map_err(|_| TargetError::Unresolved)?;
            found.collect()
        }
        None => return Err(TargetError::NotHttp),
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolved);
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip())) {
            return Err(TargetError::Internal(bad.ip()));
        }
    }
    Ok(addrs)
}

/// A client that reaches `target`'s host at `addrs` only, follows no
/// redirect, ignores proxy settings of the environment, and gives up
/// after `timeout`.
pub fn client_for(
    target: &Target,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(64);
    if let Some(Host::Domain(name)) = target.url.host() {
        builder = builder.resolve_to_addrs(name, addrs);
    }
    builder.build()
}

/// Whether toktok refuses to deliver to `ip` by default.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => v6_forbidden(v6),
    }
}

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                   // "this network", 0.0.0.0/8
        || a == 10                           // private
        || a == 127                          // loopback
        || (a == 100 && (64..128).contains(&b)) // shared, CGNAT
        || (a == 169 && b == 254)            // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)    // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)    // documentation
        || (a == 192 && b == 88 && c == 99)  // 6to4 relay anycast
        || (a == 192 && b == 168)            // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113)  // documentation
        || a >= 224 // multicast, reserved 240/4, broadcast
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return v4_forbidden(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID…)
        || s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 // discard-only
        || s[0] == 0x2002 // 6to4: an IPv4 address inside
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = s[..5].iter().all(|x| *x == 0) && s[5] == 0xffff;
    let compatible = s[..6].iter().all(|x| *x == 0) && !(s[6] == 0 && s[7] <= 1);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
    (mapped || compatible || nat64).then(tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn literal(url: &str) -> IpAddr {
        match parse_target(url).unwrap().url.host().unwrap() {
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
            Host::Domain(d) => panic!("{url} read as the name {d}"),
        }
    }

    #[test]
    fn internal_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.1.1.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "100::1",
            "2001::1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "169.253.1.1",
            "192.169.0.1",
            "223.255.255.254",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn odd_spellings_are_read_as_the_address_they_are() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://0177.0.0.1/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        ] {
            assert!(is_forbidden(literal(url)), "{url}");
        }
    }

    #[test]
    fn urls_must_be_plain_http() {
        for (url, why) in [
            ("ftp://8.8.8.8/", TargetError::NotHttp),
            ("file:///etc/passwd", TargetError::NotHttp),
            ("gopher://8.8.8.8:70/", TargetError::NotHttp),
            ("/relative", TargetError::NotHttp),
            ("https://user:pw@8.8.8.8/", TargetError::Userinfo),
            ("https://user@8.8.8.8/", TargetError::Userinfo),
            ("https://8.8.8.8/#frag", TargetError::Fragment),
        ] {
            assert_eq!(parse_target(url).unwrap_err(), why, "{url}");
        }
        let long = format!("https://8.8.8.8/{}", "a".repeat(MAX_URL));
        assert_eq!(parse_target(&long).unwrap_err(), TargetError::TooLong);
        assert_eq!(parse_target("https://8.8.8.8:8443/x").unwrap().port(), 8443);
    }

    #[tokio::test]
    async fn vetting_refuses_local_names_and_literals_unless_allowed() {
        for url in [
            "http://localhost/",
            "http://LOCALHOST./",
            "http://a.localhost:8080/",
        ] {
            let t = parse_target(url).unwrap();
            assert_eq!(
                vet(&t, false).await.unwrap_err(),
                TargetError::LocalName,
                "{url}"
            );
        }
        let t = parse_target("http://127.0.0.1:9/x").unwrap();
        assert!(matches!(
            vet(&t, false).await,
            Err(TargetError::Internal(_))
        ));
        let addrs = vet(&t, true).await.unwrap();
        assert_eq!(addrs, ["127.0.0.1:9".parse().unwrap()]);
        let t = parse_target("https://[2606:4700::1111]/").unwrap();
        assert_eq!(vet(&t, false).await.unwrap()[0].port(), 443);
        // "localhost" with the rule off resolves like any name.
        let t = parse_target("http://localhost:9/").unwrap();
        assert!(vet(&t, true)
            .await
            .unwrap()
            .iter()
            .all(|a| a.ip().is_loopback()));
    }

    /// A name other than "localhost" that resolves to loopback is refused
    /// by its address: the machine's own names from /etc/hosts (skipped
    /// where none resolves to loopback only).
    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_by_its_address() {
        let mut names = vec!["localhost4".to_owned(), "ip6-localhost".to_owned()];
        if let Ok(hosts) = std::fs::read_to_string("/etc/hosts") {
            for line in hosts.lines().filter(|l| l.starts_with("127.")) {
                names.extend(line.split_whitespace().skip(1).map(str::to_owned));
            }
        }
        names.retain(|n| n != "localhost" && !n.ends_with(".localhost"));
        for name in names {
            let Ok(t) = parse_target(&format!("http://{name}:9/")) else {
                continue;
            };
            let Ok(addrs) = vet(&t, true).await else {
                continue;
            };
            if !addrs.iter().all(|a| a.ip().is_loopback()) {
                continue;
            }
            assert!(
                matches!(vet(&t, false).await, Err(TargetError::Internal(_))),
                "{name}"
            );
            return;
        }
        eprintln!("no name other than localhost resolves to loopback here: skipped");
    }

    proptest! {
        /// The IPv4 rule agrees with a plain list of the ranges.
        #[test]
        fn v4_rule_matches_the_range_list(n in any::<u32>()) {
            let ip = Ipv4Addr::from(n);
            let ranges: [(u32, u8); 17] = [
                (0x0000_0000, 8), (0x0a00_0000, 8), (0x7f00_0000, 8), (0x6440_0000, 10),
                (0xa9fe_0000, 16), (0xac10_0000, 12), (0xc000_0000, 24), (0xc000_0200, 24),
                (0xc058_6300, 24), (0xc0a8_0000, 16), (0xc612_0000, 15), (0xc633_6400, 24),
                (0xcb00_7100, 24), (0xe000_0000, 4), (0xf000_0000, 4), (0xffff_ffff, 32),
                (0xe000_0000, 3),
            ];
            let listed = ranges.iter().any(|(base, len)| {
                let mask = if *len == 0 { 0 } else { u32::MAX << (32 - len) };
                n & mask == *base & mask
            });
            prop_assert_eq!(v4_forbidden(ip), listed, "{}", ip);
        }
    }
}
