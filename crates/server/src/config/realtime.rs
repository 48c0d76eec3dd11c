//! Realtime connections (`GET /api/v1/ws`): heartbeats, how long a handshake may wait for
//! its credential, and what one user or one connection may use.

use accueil_domain::limits::Rate;
use chrono::Duration;

use super::declare::section;

section! {
    /// Realtime connections over WebSocket.
    pub struct Realtime in "realtime" () {
        /// between heartbeats: a `heartbeat` message and a ping frame; a client that answers
        /// nothing for two and a half intervals is closed (4000)
        heartbeat: Duration = "30s", env "ACCUEIL_WS_HEARTBEAT", sample "15s";
        /// how long a handshake without `?ticket=` may wait for its `auth` message (then 4004)
        auth_timeout: Duration = "5s", env "ACCUEIL_WS_AUTH_TIMEOUT", sample "10s";
        /// connections one user may have open on one instance; more are closed with 4008
        max_per_user: usize = "8", env "ACCUEIL_WS_MAX_PER_USER", sample "4",
            check at_least_one;
        /// messages one connection may send (a burst, then evenly); more are answered with an
        /// `error` (`rate_limited`)
        message_rate: Rate = "20/10s", env "ACCUEIL_WS_MESSAGE_RATE", sample "60/1m";
    }
}

/// No connection at all would refuse every client.
fn at_least_one(n: usize) -> Result<usize, String> {
    Ok(n.max(1))
}

impl Realtime {
    /// The transport's settings.
    #[must_use]
    pub fn http(&self) -> accueil_http::RealtimeSettings {
        let std = |d: Duration, fallback: u64| {
            d.to_std()
                .unwrap_or(std::time::Duration::from_secs(fallback))
        };
        accueil_http::RealtimeSettings {
            heartbeat: std(self.heartbeat, 30),
            auth_timeout: std(self.auth_timeout, 5),
            max_per_user: self.max_per_user,
            message_rate: self.message_rate,
            ..accueil_http::RealtimeSettings::default()
        }
    }
}
