//! The client's address, for rate limits.
//!
//! `X-Forwarded-For` is believed only when the connection comes from a configured proxy
//! (`ACCUEIL_TRUSTED_PROXIES`); then the client is the right-most address in the header that
//! is not itself a trusted proxy. Anyone else could write any address there, and would then
//! escape every per-address limit.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// The client's address (`None` when the connection has none, as in some tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// Resolves the client behind `peer`, given the `X-Forwarded-For` values in order.
fn resolve(peer: IpAddr, forwarded: &[&str], trusted: &TrustedProxies) -> IpAddr {
    if !trusted.trusts(peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded
        .iter()
        .flat_map(|v| v.split(','))
        .map_while(|h| h.trim().parse::<IpAddr>().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !trusted.trusts(**ip))
        .or_else(|| hops.first())
        .copied()
        .unwrap_or(peer)
}

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<web::Data<TrustedProxies>>()
            .map(|d| d.get_ref().clone())
            .unwrap_or_default();
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = req
            .peer_addr()
            .map(|p| resolve(p.ip(), &forwarded, &trusted));
        ready(Ok(ClientIp(ip)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let t = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &t),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("203.0.113.9"), &[], &TrustedProxies::default()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let t = proxies(&["10.0.0.0/8", "192.0.2.1/32"]);
        // The client wrote a fake first hop; the proxies appended what they saw.
        let xff = ["6.6.6.6, 198.51.100.4", "192.0.2.1"];
        assert_eq!(resolve(ip("10.1.2.3"), &xff, &t), ip("198.51.100.4"));
        assert_eq!(
            resolve(ip("10.1.2.3"), &[], &t),
            ip("10.1.2.3"),
            "no header: the proxy itself"
        );
        assert_eq!(
            resolve(ip("10.1.2.3"), &["10.9.9.9"], &t),
            ip("10.9.9.9"),
            "all trusted: the first"
        );
        assert_eq!(resolve(ip("10.1.2.3"), &["garbage"], &t), ip("10.1.2.3"));
    }
}
