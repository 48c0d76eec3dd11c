//! Embedded migrations, one set per backend with the same version names.

use diesel::RunQueryDsl;
use diesel::r2d2::Pool;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::{AnyConnection, Manager};
use accueil_ports::StoreError;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// An arbitrary constant naming our advisory lock on PostgreSQL.
const MIGRATION_LOCK: i64 = 0x0061_6363_7565_696c; // "accueil"

/// Applies pending migrations.
pub(crate) fn run(pool: &Pool<Manager>) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    apply(&mut conn)
}

fn apply(conn: &mut AnyConnection) -> Result<(), String> {
    match conn {
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        AnyConnection::Postgresql(c) => {
            // Instances starting together take turns; the second finds nothing pending.
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| e.to_string())?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|_| ())
                .map_err(|e| e.to_string());
            let unlock = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(c)
                .map_err(|e| e.to_string());
            result.and(unlock.map(|_| ()))
        }
    }
}

/// The applied versions, oldest first.
pub(crate) fn applied(pool: &Pool<Manager>) -> Result<Vec<String>, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let versions = match &mut *conn {
        AnyConnection::Sqlite(c) => c.applied_migrations(),
        AnyConnection::Postgresql(c) => c.applied_migrations(),
    }
    .map_err(|e| e.to_string())?;
    let mut names: Vec<String> = versions.iter().map(ToString::to_string).collect();
    names.sort();
    Ok(names)
}

/// `Ok` when the database answers and nothing is pending.
pub(crate) fn check_current(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let pending = match conn {
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE),
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES),
    }
    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    if pending {
        Err(StoreError::Internal("migrations pending".into()))
    } else {
        Ok(())
    }
}
