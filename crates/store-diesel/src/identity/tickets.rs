//! Realtime tickets in SQL.

use accueil_domain::identity::{SessionId, TokenDigest, UserId, WsTicket};
use accueil_ports::StoreError;
use accueil_ports::identity::WsTicketsRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::schema::ws_tickets;
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = ws_tickets)]
struct TicketRow {
    digest: String,
    user_id: String,
    session_id: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl TryFrom<TicketRow> for WsTicket {
    type Error = StoreError;
    fn try_from(r: TicketRow) -> Result<Self, StoreError> {
        Ok(WsTicket {
            digest: TokenDigest(r.digest),
            user_id: UserId(uuid(&r.user_id)?),
            session_id: SessionId(uuid(&r.session_id)?),
            created_at: utc(r.created_at),
            expires_at: utc(r.expires_at),
        })
    }
}

impl WsTicketsRepo for DieselTx<'_> {
    fn insert_ws_ticket(&mut self, t: &WsTicket) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(ws_tickets::table)
            .values(TicketRow {
                digest: t.digest.0.clone(),
                user_id: t.user_id.to_string(),
                session_id: t.session_id.to_string(),
                created_at: naive(t.created_at),
                expires_at: naive(t.expires_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn take_ws_ticket(&mut self, digest: &TokenDigest) -> Result<Option<WsTicket>, StoreError> {
        self.writable()?;
        // DELETE ... RETURNING: of two redeemers, the second's delete waits for the first's
        // row lock (PostgreSQL) or for the writer (SQLite), then finds no row.
        let rows: Vec<TicketRow> = diesel::delete(ws_tickets::table.find(&digest.0))
            .returning((
                ws_tickets::digest,
                ws_tickets::user_id,
                ws_tickets::session_id,
                ws_tickets::created_at,
                ws_tickets::expires_at,
            ))
            .get_results(self.conn)
            .map_err(store_error)?;
        rows.into_iter().next().map(WsTicket::try_from).transpose()
    }

    fn purge_ws_tickets_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let n = diesel::delete(ws_tickets::table.filter(ws_tickets::expires_at.lt(naive(cutoff))))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(n as u64)
    }
}
