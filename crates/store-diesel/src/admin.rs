//! The audit log in SQL.

use accueil_domain::admin::{AuditAction, AuditEvent};
use accueil_domain::identity::UserId;
use accueil_ports::StoreError;
use accueil_ports::admin::AuditRepo;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::audit_events;
use crate::tx::{DieselTx, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: String,
    at: NaiveDateTime,
    actor_id: Option<String>,
    action: String,
    subject_id: Option<String>,
    detail: String,
}

impl AuditRepo for DieselTx<'_> {
    fn record(&mut self, e: &AuditEvent) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(audit_events::table)
            .values(AuditRow {
                id: e.id.to_string(),
                at: naive(e.at),
                actor_id: e.actor.map(|a| a.to_string()),
                action: e.action.as_str().to_owned(),
                subject_id: e.subject.map(|s| s.to_string()),
                detail: e.detail.clone(),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn about(&mut self, subject: UserId) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = audit_events::table
            .filter(audit_events::subject_id.eq(subject.to_string()))
            .order((audit_events::at.asc(), audit_events::id.asc()))
            .select(AuditRow::as_select())
            .load(self.conn)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditEvent {
                    id: uuid(&r.id)?,
                    at: utc(r.at),
                    actor: r.actor_id.as_deref().map(uuid).transpose()?.map(UserId),
                    action: AuditAction::parse(&r.action).ok_or_else(|| {
                        StoreError::Internal(format!("unknown audit action {:?}", r.action))
                    })?,
                    subject: r.subject_id.as_deref().map(uuid).transpose()?.map(UserId),
                    detail: r.detail,
                })
            })
            .collect()
    }
}
