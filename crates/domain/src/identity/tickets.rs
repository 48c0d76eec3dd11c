//! One-time tickets that open a realtime connection (`GET /api/v1/ws?ticket=`).
//!
//! A browser cannot set a header on a WebSocket handshake, and a long-lived credential in a
//! URL ends up in proxies' and servers' logs. A ticket is the short-lived, single-use
//! alternative: issued to a signed-in session over an authenticated request, valid for
//! [`WS_TICKET_TTL`], and stored as a digest only, so whoever reads the table cannot use one.
//! Redeeming takes the row (whichever instance behind the load balancer receives the
//! handshake), so a ticket opens at most one connection.

use chrono::{DateTime, Duration, Utc};

use super::{SessionId, TokenDigest, UserId};

/// How long a ticket may wait for its handshake.
pub const WS_TICKET_TTL: Duration = Duration::seconds(30);

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsTicket {
    /// Digest of the secret the client received.
    pub digest: TokenDigest,
    /// Whose.
    pub user_id: UserId,
    /// The session the connection will belong to: it closes when that session ends.
    pub session_id: SessionId,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// End of validity.
    pub expires_at: DateTime<Utc>,
}

/// Why a presented ticket opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketProblem {
    /// Never issued, or used already (a used ticket is gone).
    #[error("unknown or already used ticket")]
    Invalid,
    /// Past its validity.
    #[error("ticket expired")]
    Expired,
}

impl WsTicket {
    /// A ticket for `session` of `user`, valid from `now` for [`WS_TICKET_TTL`].
    pub fn issue(
        digest: TokenDigest,
        user_id: UserId,
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            digest,
            user_id,
            session_id,
            created_at: now,
            expires_at: now + WS_TICKET_TTL,
        }
    }

    /// Whether the ticket may still be redeemed at `now`.
    ///
    /// # Errors
    /// [`TicketProblem::Expired`] from its expiry on.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), TicketProblem> {
        if now >= self.expires_at {
            Err(TicketProblem::Expired)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_ticket_works_for_thirty_seconds() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let t = WsTicket::issue(
            TokenDigest("d".into()),
            UserId(Uuid::nil()),
            SessionId(Uuid::nil()),
            t0,
        );
        assert_eq!(t.check(t0), Ok(()));
        assert_eq!(t.check(t0 + Duration::milliseconds(29_999)), Ok(()));
        assert_eq!(
            t.check(t0 + Duration::seconds(30)),
            Err(TicketProblem::Expired)
        );
    }
}
