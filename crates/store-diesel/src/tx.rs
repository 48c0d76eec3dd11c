//! Running one unit of work in one transaction, and the conversions every repository shares.

use accueil_domain::events::Event;
use accueil_domain::identity::UserId;
use accueil_domain::queues::TenantId;
use accueil_ports::scope::{OwnerTx, TenantTx};
use accueil_ports::store::{Boxed, Work};
use accueil_ports::{Access, Committed, StoreError, Tx};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use crate::connection::AnyConnection;

/// The repositories of one open transaction.
pub(crate) struct DieselTx<'a> {
    pub(crate) conn: &'a mut AnyConnection,
    pub(crate) read_only: bool,
    pub(crate) events: Vec<Event>,
}

impl DieselTx<'_> {
    /// Refuses writes in a read unit before they reach the database, with the same error on
    /// every backend.
    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        accueil_ports::store::refuse_writes(self.read_only)
    }
}

/// `$query.one().get_result(conn).optional()` (see [`crate::one`]), with `FOR UPDATE` on
/// PostgreSQL in a write unit: one statement reads the row and locks it until commit, so a read-modify-write cannot lose a
/// concurrent one (READ COMMITTED would let both read the old row and the second write undo
/// the first). SQLite and memory already run write units one at a time. The query is written
/// once and built for each backend, since only PostgreSQL's has a locking clause.
macro_rules! first_for_update {
    ($tx:expr, $query:expr) => {{
        match (&mut *$tx.conn, $tx.read_only) {
            ($crate::connection::AnyConnection::Postgresql(pg), false) => {
                $crate::one::OneRow::one($query.for_update())
                    .get_result(pg)
                    .optional()
            }
            (conn, _) => $crate::one::OneRow::one($query).get_result(conn).optional(),
        }
    }};
}
pub(crate) use first_for_update;

impl Tx for DieselTx<'_> {
    accueil_ports::repositories_by_self!();

    fn events(&mut self) -> &mut Vec<Event> {
        &mut self.events
    }

    fn in_tenant(&mut self, tenant: TenantId) -> Box<dyn TenantTx + '_> {
        Box::new(TenantView {
            conn: &mut *self.conn,
            read_only: self.read_only,
            tenant,
            bound: false,
        })
    }

    fn as_owner(&mut self, owner: UserId) -> Box<dyn OwnerTx + '_> {
        Box::new(OwnerView {
            _conn: &mut *self.conn,
            _read_only: self.read_only,
            owner,
        })
    }
}

/// One tenant's view of the transaction: its repositories add `tenant_id = tenant` to every
/// statement they run, and, on PostgreSQL, set it for row-level security before the first
/// ([`TenantView::bind`]).
pub(crate) struct TenantView<'a> {
    pub(crate) conn: &'a mut AnyConnection,
    pub(crate) read_only: bool,
    pub(crate) tenant: TenantId,
    bound: bool,
}

impl TenantView<'_> {
    /// Sets the tenant for row-level security (PostgreSQL), once per view: the transaction's
    /// `accueil.tenant_id` becomes this tenant and `accueil.user_id` is cleared, so the view
    /// sees this tenant's rows and no one user's rows elsewhere. Every repository method of
    /// the view calls it first.
    pub(crate) fn bind(&mut self) -> Result<(), StoreError> {
        if !self.bound {
            let id = self.tenant.to_string();
            rls_settings(self.conn, Some(&id), None)?;
            self.bound = true;
        }
        Ok(())
    }

    pub(crate) fn writable(&self) -> Result<(), StoreError> {
        accueil_ports::store::refuse_writes(self.read_only)
    }
}

/// Sets the row-level security settings of the transaction (PostgreSQL; nothing on SQLite):
/// `accueil.tenant_id` and `accueil.user_id`, `None` clearing one (and `accueil.invitation`,
/// always cleared: [`rls_invitation`] sets it). Local to the transaction
/// (`set_config(…, true)`), so a pooled connection never carries them into the next unit of
/// work.
pub(crate) fn rls_settings(
    conn: &mut AnyConnection,
    tenant: Option<&str>,
    user: Option<&str>,
) -> Result<(), StoreError> {
    set_rls(conn, tenant.unwrap_or(""), user.unwrap_or(""), "")
}

/// Sets `accueil.invitation` to the digest of an invitation link, alone: the one row the
/// invitations policy admits besides a bound tenant's.
pub(crate) fn rls_invitation(conn: &mut AnyConnection, digest: &str) -> Result<(), StoreError> {
    set_rls(conn, "", "", digest)
}

fn set_rls(
    conn: &mut AnyConnection,
    tenant: &str,
    user: &str,
    invitation: &str,
) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query(
            "SELECT set_config('accueil.tenant_id', $1, true), \
             set_config('accueil.user_id', $2, true), \
             set_config('accueil.invitation', $3, true)",
        )
        .bind::<Text, _>(tenant)
        .bind::<Text, _>(user)
        .bind::<Text, _>(invitation)
        .execute(pg)
        .map_err(store_error)?;
    }
    Ok(())
}

impl TenantTx for TenantView<'_> {
    fn tenant(&self) -> TenantId {
        self.tenant
    }
    fn members(&mut self) -> &mut dyn accueil_ports::queues::MembersRepo {
        self
    }
    fn invitations(&mut self) -> &mut dyn accueil_ports::queues::InvitationsRepo {
        self
    }
    fn catalogue(&mut self) -> &mut dyn accueil_ports::queues::CatalogueRepo {
        self
    }
    fn customers(&mut self) -> &mut dyn accueil_ports::queues::CustomersRepo {
        self
    }
    fn agents(&mut self) -> &mut dyn accueil_ports::queues::AgentsRepo {
        self
    }
    fn tickets(&mut self) -> &mut dyn accueil_ports::queues::TicketsRepo {
        self
    }
}

/// One user's view of their own data: its repositories add `owner_id = owner` to every
/// statement they run.
struct OwnerView<'a> {
    _conn: &'a mut AnyConnection,
    _read_only: bool,
    owner: UserId,
}

impl OwnerTx for OwnerView<'_> {
    fn owner(&self) -> UserId {
        self.owner
    }
}

/// Begins the right kind of transaction on `conn`.
pub(crate) fn begin(conn: &mut AnyConnection, access: Access) -> Result<(), DieselError> {
    match (&mut *conn, access) {
        // IMMEDIATE takes the write lock now: a deferred transaction that reads first could
        // fail with SQLITE_BUSY on its first write if another process wrote meanwhile.
        (AnyConnection::Sqlite(c), Access::Write) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        (AnyConnection::Sqlite(c), Access::Read) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN")
        }
        (AnyConnection::Postgresql(c), Access::Write) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN")
        }
        (AnyConnection::Postgresql(c), Access::Read) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN READ ONLY")
        }
    }
}

/// Whether a failed `BEGIN` says the server closed the connection (a restart, a failover, an
/// idle timeout): nothing ran, so the unit of work may take another connection.
pub(crate) fn closed(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
    )
}

/// Runs the work in the transaction [`begin`] opened on `conn`, and commits on `Ok` or rolls
/// back on `Err`.
pub(crate) fn run(
    conn: &mut AnyConnection,
    access: Access,
    work: Work,
) -> Result<Result<Committed, Boxed>, StoreError> {
    let (outcome, events) = {
        let mut tx = DieselTx {
            conn: &mut *conn,
            read_only: access == Access::Read,
            events: Vec::new(),
        };
        let outcome = work(&mut tx);
        (outcome, tx.events)
    };
    type Tm = <AnyConnection as Connection>::TransactionManager;
    match outcome {
        Ok(value) => match Tm::commit_transaction(conn) {
            Ok(()) => Ok(Ok(Committed { value, events })),
            Err(e) => {
                // Diesel rolls back a failed commit itself; report it as a storage failure.
                Err(StoreError::Internal(format!("commit failed: {e}")))
            }
        },
        Err(e) => {
            Tm::rollback_transaction(conn)
                .map_err(|r| StoreError::Internal(format!("rollback failed: {r}")))?;
            Ok(Err(e))
        }
    }
}

/// Maps a diesel error to the port's error.
pub(crate) fn store_error(e: DieselError) -> StoreError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(constraint(&*info))
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        // Another process held SQLite's lock past busy_timeout: worth retrying, not a bug.
        DieselError::DatabaseError(_, info)
            if info.message().contains("database is locked")
                || info.message().contains("database is busy") =>
        {
            StoreError::Unavailable(info.message().to_owned())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// The violated constraint's name (PostgreSQL) or its message (SQLite: "UNIQUE constraint
/// failed: users.email_canonical").
pub(crate) fn constraint(info: &dyn diesel::result::DatabaseErrorInformation) -> String {
    info.constraint_name()
        .map_or_else(|| info.message().to_owned(), ToOwned::to_owned)
}

/// A stored time (UTC, no zone) as a UTC instant.
pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A UTC instant for storage.
pub(crate) fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

/// A stored id.
pub(crate) fn uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Internal(format!("corrupt id {s:?}: {e}")))
}

/// Converts every row, failing on the first corrupt one.
pub(crate) fn all<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}
