//! Throw-away databases for tests (feature `testing`): a SQLite file in a temporary directory,
//! or a fresh PostgreSQL database created for one test and dropped after it.
//!
//! PostgreSQL is found at `TEST_DATABASE_URL` (default: the local server on 127.0.0.1:5432 as
//! user `postgres`). When it does not answer, PostgreSQL tests are skipped with a message on
//! the terminal, unless `REQUIRE_POSTGRES=1`, when they fail.
//!
//! Each test database is owned by, and used as, an ordinary role ([`APP_ROLE`]: not a
//! superuser, no `BYPASSRLS`), as docs/operations.md tells operators to run the server: the
//! migrations run as that owner, and row-level security applies to everything the tests do
//! through the store, so a statement that forgets its tenant finds nothing. The superuser of
//! `TEST_DATABASE_URL` only creates the role and the databases, and drops them.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::sync::Once;

use accueil_ports::store::{Boxed, Work};
use accueil_ports::{Access, Store, StoreError};
use async_trait::async_trait;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::{DieselStore, PoolOptions};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The ordinary role that owns and uses every test database.
pub const APP_ROLE: &str = "accueil_test_app";
const APP_PASSWORD: &str = "accueil-test-app";

/// Creates [`APP_ROLE`] unless it exists. Test processes run at once, so a concurrent creation
/// may win the race: the role existing afterwards is all that counts.
fn ensure_app_role(admin: &mut PgConnection) {
    let create = format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN \
             CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}' \
               NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; \
           END IF; \
         END $$"
    );
    if let Err(e) = diesel::sql_query(create).execute(admin) {
        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let found: Vec<Found> = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_roles WHERE rolname = '{APP_ROLE}'"
        ))
        .load(admin)
        .expect("look up the test role");
        assert!(
            found.first().is_some_and(|f| f.n == 1),
            "create {APP_ROLE}: {e}"
        );
    }
}

/// A store that deletes its database when dropped.
pub struct TestStore {
    store: DieselStore,
    _guard: Guard,
}

enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Postgres { admin_url, name } = self
            && let Ok(mut c) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut c);
        }
    }
}

impl TestStore {
    /// The store itself.
    pub fn store(&self) -> &DieselStore {
        &self.store
    }

    /// The URL of its PostgreSQL database as the superuser that created it (which skips
    /// row-level security); `None` for SQLite.
    pub fn superuser_url(&self) -> Option<String> {
        match &self._guard {
            Guard::Dir(_) => None,
            Guard::Postgres { admin_url, name } => Some(with_database(admin_url, name)),
        }
    }

    /// The URL of its database (for a server under test).
    pub fn url(&self) -> String {
        match &self._guard {
            Guard::Dir(d) => format!("sqlite://{}", d.path().join("accueil.db").display()),
            Guard::Postgres { admin_url, name } => as_app_role(&with_database(admin_url, name)),
        }
    }
}

#[async_trait]
impl Store for TestStore {
    async fn run(
        &self,
        access: Access,
        work: Work,
    ) -> Result<Result<accueil_ports::Committed, Boxed>, StoreError> {
        self.store.run(access, work).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

/// A migrated SQLite database in a new temporary directory.
pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("accueil.db").display());
    let store = DieselStore::connect(&url, PoolOptions::default()).expect("sqlite store");
    TestStore {
        store,
        _guard: Guard::Dir(dir),
    }
}

/// Whether PostgreSQL tests must run (`REQUIRE_POSTGRES=1`).
pub fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The URL of the server's maintenance database, where test databases are created.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// A fresh, migrated PostgreSQL database, or `None` (after saying so) when no server answers
/// and PostgreSQL is not required.
pub fn postgres() -> Option<TestStore> {
    let admin_url = admin_url();
    let mut admin = match PgConnection::establish(&admin_url) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                !postgres_required(),
                "REQUIRE_POSTGRES=1 but PostgreSQL at {admin_url} does not answer: {e}"
            );
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Straight to the terminal: the test harness captures `eprintln!`.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nSKIPPED PostgreSQL tests: no server at {admin_url} ({e}). \
                     Start one or set TEST_DATABASE_URL; REQUIRE_POSTGRES=1 makes this fatal.\n"
                );
            });
            return None;
        }
    };
    ensure_app_role(&mut admin);
    let name = format!("accueil_test_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE \"{name}\" OWNER {APP_ROLE}"))
        .execute(&mut admin)
        .expect("create test database");
    let guard = Guard::Postgres {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let options = PoolOptions {
        max_connections: 4,
        ..PoolOptions::default()
    };
    let store = DieselStore::connect(&as_app_role(&with_database(&admin_url, &name)), options)
        .expect("migrated PostgreSQL test database");
    Some(TestStore {
        store,
        _guard: guard,
    })
}

/// `url` with [`APP_ROLE`] and its password as the user.
fn as_app_role(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{APP_ROLE}:{APP_PASSWORD}@{host}")
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{as_app_role, with_database};

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn connects_as_the_app_role() {
        assert_eq!(
            as_app_role("postgres://postgres@h:5432/x?sslmode=disable"),
            "postgres://accueil_test_app:accueil-test-app@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            as_app_role("postgres://h/x"),
            "postgres://accueil_test_app:accueil-test-app@h/x"
        );
    }
}
