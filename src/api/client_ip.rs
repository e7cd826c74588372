//! The client's IP address: the TCP peer, unless the peer is a trusted proxy, in
//! which case the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy. The same address feeds rate limiting and session devices.

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| parse_hop(h.trim()))
        .collect();
    let first_untrusted = hops.iter().rev().find(|ip| !is_trusted(ip)).copied();
    Some(
        first_untrusted
            .or_else(|| hops.first().copied())
            .unwrap_or(peer),
    )
}

/// `203.0.113.7`, `[2001:db8::1]:443`, `2001:db8::1` or `203.0.113.7:8080`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(xff).unwrap(),
        );
        h
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers("198.51.100.9, 203.0.113.7, 10.0.0.3");
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(Some(proxy), &h, &[]),
            Some(proxy.ip()),
            "untrusted peer: header ignored"
        );
        let stranger: SocketAddr = "192.0.2.1:1".parse().unwrap();
        assert_eq!(client_ip(Some(stranger), &h, &trusted), Some(stranger.ip()));
        assert_eq!(
            client_ip(
                Some(proxy),
                &headers("garbage, [2001:db8::1]:443"),
                &trusted
            ),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            client_ip(Some(proxy), &HeaderMap::new(), &trusted),
            Some(proxy.ip())
        );
    }
}
