//! The HTTP server: where it listens, where it is reached from outside, and what it accepts.

use super::declare::section;

section! {
    /// The HTTP server.
    pub struct Http in "http" () {
        /// listen address
        bind: String = "127.0.0.1:8080", env "ACCUEIL_BIND", sample "0.0.0.0:9000";
        /// the address the server is reached at (the web app's): the base of every link in a
        /// mail and of sign-in callbacks, and `https://` makes cookies secure; required in
        /// production
        public_url: String = { format!("http://{bind}") } shown "`http://<bind>`",
            env "ACCUEIL_PUBLIC_URL", sample "https://app.example/", check base_url;
        /// HTTP worker threads
        workers: Option<usize> = none shown "number of cores",
            env "ACCUEIL_WORKERS", sample "3";
        /// comma-separated browser origins allowed, or `*`; none means no CORS headers. They
        /// may send `Authorization`, `X-API-Key`, `Content-Type`, `Accept`, `If-None-Match`,
        /// `Range`, `If-Range` and `X-Request-Id`, never cookies (see docs/api.md)
        cors_origins: Vec<String> = { Vec::new() } shown "none",
            env "ACCUEIL_CORS_ORIGINS", sample "https://a.example, https://b.example";
        /// largest JSON body in bytes (larger: 413)
        json_limit: usize = "65536", env "ACCUEIL_JSON_LIMIT", sample "131072";
        /// comma-separated proxy addresses or CIDRs whose `X-Forwarded-For` is believed;
        /// otherwise the connection's address is the client
        trusted_proxies: Vec<ipnet::IpNet> = { Vec::new() } shown "none",
            env "ACCUEIL_TRUSTED_PROXIES", sample "10.0.0.0/8, 192.0.2.1, ::1";
        /// photo uploads read and processed at once; more wait their turn before their body is
        /// read (memory stays under this times the photo limit)
        upload_concurrency: usize = { 2 * cores() } shown "2 per core",
            env "ACCUEIL_UPLOAD_CONCURRENCY", sample "3", check at_least_one;
    }
}

/// Links are built by appending paths, so a trailing `/` would double.
fn base_url(url: String) -> Result<String, String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err("must start with https:// (or http://)".into());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Zero permits would make every upload wait forever.
fn at_least_one(n: usize) -> Result<usize, String> {
    Ok(n.max(1))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
