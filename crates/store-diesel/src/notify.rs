//! The mail outbox in SQL.

use crate::one::OneRow;
use std::collections::BTreeMap;

use accueil_domain::identity::Email;
use accueil_domain::notify::{DeliveryState, Language, MailTemplate, OutboundMail, OutboxEntry};
use accueil_ports::StoreError;
use accueil_ports::notify::OutboxRepo;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::outbox;
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
struct OutboxRow {
    id: String,
    recipient: String,
    language: String,
    template: String,
    vars: String,
    state: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    lease_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("corrupt outbox {what}: {value:?}"))
}

impl TryFrom<OutboxRow> for OutboxEntry {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        let vars: BTreeMap<String, String> =
            serde_json::from_str(&r.vars).map_err(|_| corrupt("vars", &r.vars))?;
        Ok(OutboxEntry {
            id: uuid(&r.id)?,
            mail: OutboundMail {
                to: Email::from_trusted(r.recipient),
                language: Language::parse(&r.language)
                    .ok_or_else(|| corrupt("language", &r.language))?,
                template: MailTemplate::parse(&r.template)
                    .ok_or_else(|| corrupt("template", &r.template))?,
                vars,
            },
            state: DeliveryState::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            attempts: u32::try_from(r.attempts)
                .map_err(|_| corrupt("attempts", &r.attempts.to_string()))?,
            next_attempt_at: utc(r.next_attempt_at),
            lease_until: r.lease_until.map(utc),
            last_error: r.last_error,
            created_at: utc(r.created_at),
            sent_at: r.sent_at.map(utc),
        })
    }
}

fn rows(rows: Vec<OutboxRow>) -> Result<Vec<OutboxEntry>, StoreError> {
    rows.into_iter().map(OutboxEntry::try_from).collect()
}

impl OutboxRepo for DieselTx<'_> {
    fn enqueue(&mut self, e: &OutboxEntry) -> Result<(), StoreError> {
        self.writable()?;
        let vars = serde_json::to_string(&e.mail.vars)
            .map_err(|err| StoreError::Internal(format!("outbox vars: {err}")))?;
        diesel::insert_into(outbox::table)
            .values(OutboxRow {
                id: e.id.to_string(),
                recipient: e.mail.to.as_str().to_owned(),
                language: e.mail.language.as_str().to_owned(),
                template: e.mail.template.as_str().to_owned(),
                vars,
                state: e.state.as_str().to_owned(),
                attempts: i32::try_from(e.attempts).unwrap_or(i32::MAX),
                next_attempt_at: naive(e.next_attempt_at),
                lease_until: e.lease_until.map(naive),
                last_error: e.last_error.clone(),
                created_at: naive(e.created_at),
                sent_at: e.sent_at.map(naive),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn due(&mut self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let now = naive(now);
        let found = outbox::table
            .filter(outbox::state.eq(DeliveryState::Pending.as_str()))
            .filter(outbox::next_attempt_at.le(now))
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.le(now)),
            )
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .limit(i64::from(limit))
            .select(OutboxRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        rows(found)
    }

    fn claim(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        let now = naive(now);
        let n = diesel::update(
            outbox::table
                .find(id.to_string())
                .filter(outbox::state.eq(DeliveryState::Pending.as_str()))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::lease_until
                        .is_null()
                        .or(outbox::lease_until.le(now)),
                ),
        )
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::lease_until.eq(Some(naive(lease_until))),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn mark_sent(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.writable()?;
        diesel::update(outbox::table.find(id.to_string()))
            .set((
                outbox::state.eq(DeliveryState::Sent.as_str()),
                outbox::sent_at.eq(Some(naive(at))),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                // The values may hold one-time links: once delivered, nobody needs them, and
                // a reader of the database must not find working reset links here.
                outbox::vars.eq("{}"),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn mark_retry(
        &mut self,
        id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.writable()?;
        diesel::update(outbox::table.find(id.to_string()))
            .set((
                outbox::next_attempt_at.eq(naive(next_attempt_at)),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn mark_failed(&mut self, id: Uuid, error: &str) -> Result<(), StoreError> {
        self.writable()?;
        diesel::update(outbox::table.find(id.to_string()))
            .set((
                outbox::state.eq(DeliveryState::Failed.as_str()),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn requeue(&mut self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::update(
            outbox::table
                .find(id.to_string())
                .filter(outbox::state.eq(DeliveryState::Failed.as_str())),
        )
        .set((
            outbox::state.eq(DeliveryState::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(naive(now)),
            outbox::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n == 1)
    }

    fn list(
        &mut self,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut query = outbox::table
            .order((outbox::created_at.desc(), outbox::id.desc()))
            .limit(i64::from(limit))
            .select(OutboxRow::as_select())
            .into_boxed();
        if let Some(s) = state {
            query = query.filter(outbox::state.eq(s.as_str()));
        }
        rows(query.load(self.conn).map_err(store_error)?)
    }

    fn get(&mut self, id: Uuid) -> Result<Option<OutboxEntry>, StoreError> {
        outbox::table
            .find(id.to_string())
            .select(OutboxRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(OutboxEntry::try_from)
            .transpose()
    }

    fn count_by_state(&mut self) -> Result<Vec<(DeliveryState, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = outbox::table
            .group_by(outbox::state)
            .select((outbox::state, diesel::dsl::count_star()))
            .load(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(state, n)| {
                let parsed =
                    DeliveryState::parse(&state).ok_or_else(|| corrupt("state", &state))?;
                Ok((parsed, u64::try_from(n).unwrap_or_default()))
            })
            .collect()
    }
}
