//! The handlers, one module per feature. Each registers its resources with
//! [`resource`], whose default service answers `405` with an `Allow` header.

pub mod account;
pub mod allowed_ips;
pub mod api_keys;
pub mod auth;
pub mod images;
pub mod invitations;
pub mod me;
pub mod mfa;
pub mod ops;
pub mod org_invitations;
pub mod org_members;
pub mod orgs;
pub mod outbox;
pub mod paging;
pub mod push_tokens;
pub mod security;
pub mod sessions;
pub mod settings;
pub mod user_list;
pub mod users;

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse, Resource};
use roster_domain::service::ClientMeta;

use crate::error::ApiError;

/// A resource whose unsupported methods get `405 method_not_allowed` with
/// `Allow: <allow>`.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path)
        .default_service(web::to(move || async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow)) }))
}

/// The app's default service: `404 not_found` as a problem.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// The caller's user agent and address, recorded on new sessions and
/// counted by rate limits.
pub(crate) fn client_meta(req: &HttpRequest) -> ClientMeta {
    let trusted = req.app_data::<web::Data<crate::AppState>>().map(|s| s.config.trusted_proxies.as_slice());
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    ClientMeta {
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: req.peer_addr().map(|a| client_ip(a.ip(), &forwarded, trusted.unwrap_or_default()).to_string()),
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in
/// which case the nearest `X-Forwarded-For` hop that is not a trusted proxy
/// (hops further left could have been written by the client itself).
fn client_ip(peer: IpAddr, forwarded: &[&str], trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> =
        forwarded.iter().flat_map(|h| h.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
    hops.iter().rev().find(|ip| !is_trusted(ip)).or(hops.first()).copied().unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Not from a proxy: the header is the client's own and ignored.
        assert_eq!(client_ip(ip("203.0.113.9"), &["198.51.100.1"], &trusted), ip("203.0.113.9"));
        // From a proxy: the nearest untrusted hop, not a spoofed one further left.
        assert_eq!(client_ip(ip("10.0.0.2"), &["6.6.6.6, 198.51.100.1, 10.0.0.7"], &trusted), ip("198.51.100.1"));
        assert_eq!(client_ip(ip("10.0.0.2"), &["6.6.6.6", "198.51.100.1"], &trusted), ip("198.51.100.1"));
        // Only proxies, or nothing usable: the leftmost hop, else the peer.
        assert_eq!(client_ip(ip("10.0.0.2"), &["10.1.1.1, 10.2.2.2"], &trusted), ip("10.1.1.1"));
        assert_eq!(client_ip(ip("10.0.0.2"), &["garbage"], &trusted), ip("10.0.0.2"));
        assert_eq!(client_ip(ip("fd00::1"), &["2001:db8::5"], &trusted), ip("2001:db8::5"));
        // No trusted proxies configured: always the peer.
        assert_eq!(client_ip(ip("10.0.0.2"), &["198.51.100.1"], &[]), ip("10.0.0.2"));
    }
}
