//! Realtime tickets in memory.

use accueil_domain::identity::{TokenDigest, WsTicket};
use accueil_ports::StoreError;
use accueil_ports::identity::WsTicketsRepo;
use chrono::{DateTime, Utc};

use crate::MemTx;

impl WsTicketsRepo for MemTx<'_> {
    fn insert_ws_ticket(&mut self, ticket: &WsTicket) -> Result<(), StoreError> {
        self.writable()?;
        let session_known = self
            .state
            .sessions
            .get(&ticket.session_id)
            .is_some_and(|s| s.user_id == ticket.user_id);
        if !self.state.users.contains_key(&ticket.user_id) || !session_known {
            return Err(StoreError::Internal(
                "ticket for an unknown user or session".into(),
            ));
        }
        if self.state.ws_tickets.contains_key(&ticket.digest.0) {
            return Err(StoreError::Conflict("ws_tickets.digest".into()));
        }
        self.state
            .ws_tickets
            .insert(ticket.digest.0.clone(), ticket.clone());
        Ok(())
    }

    fn take_ws_ticket(&mut self, digest: &TokenDigest) -> Result<Option<WsTicket>, StoreError> {
        self.writable()?;
        Ok(self.state.ws_tickets.remove(&digest.0))
    }

    fn purge_ws_tickets_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let before = self.state.ws_tickets.len();
        self.state.ws_tickets.retain(|_, t| t.expires_at >= cutoff);
        Ok((before - self.state.ws_tickets.len()) as u64)
    }
}
