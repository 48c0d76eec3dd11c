//! One connection type over SQLite and PostgreSQL, and the r2d2 manager that opens it.
//!
//! The backend is chosen from the URL's scheme by us, not by trying each variant in turn (what
//! the derived `establish` does), so an operator sees PostgreSQL's real error ("connection
//! refused", "password authentication failed") instead of "invalid connection url".

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{Error as PoolError, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL.
    Postgresql(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://...` or `postgresql://...`.
    Postgres(String),
    /// `sqlite://path`, `sqlite:path`, or a bare file path.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Reads a URL.
    ///
    /// # Errors
    /// A message when the scheme is neither PostgreSQL nor SQLite, or the SQLite path is
    /// missing or in memory (several pooled connections need one shared file).
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in {:?}: use postgres://... or sqlite://path",
                url.split("://").next().unwrap_or_default()
            ));
        }
        if path.is_empty() || path == ":memory:" || path.contains("mode=memory") {
            return Err("SQLite needs a file path (in-memory databases are not shared between pooled connections)".into());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// Whether this is SQLite.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// A form safe to log: no password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Postgres(u) => redact_password(u),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<database url>".into();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{user}:***@{host}")
        }
        None => authority.to_owned(),
    };
    // The query string may carry a password too (`?password=`): drop it.
    let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
    format!("{scheme}://{authority}/{tail}")
}

/// How SQLite connections are set up.
#[derive(Debug, Clone, Copy)]
pub struct SqliteTuning {
    /// How long a connection waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Read-only connections refuse writes (`PRAGMA query_only`).
    pub read_only: bool,
}

/// Opens connections for r2d2.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    sqlite: SqliteTuning,
}

impl Manager {
    /// A manager for `url`.
    pub fn new(url: DatabaseUrl, sqlite: SqliteTuning) -> Self {
        Self { url, sqlite }
    }
}

/// Opens one connection, with SQLite's pragmas applied.
///
/// # Errors
/// The backend's own connection error.
pub fn establish(url: &DatabaseUrl, tuning: SqliteTuning) -> Result<AnyConnection, PoolError> {
    match url {
        DatabaseUrl::Postgres(u) => PgConnection::establish(u)
            .map(AnyConnection::Postgresql)
            .map_err(PoolError::ConnectionError),
        DatabaseUrl::Sqlite(path) => {
            let mut conn =
                SqliteConnection::establish(&path_str(path)).map_err(PoolError::ConnectionError)?;
            // busy_timeout first, so that switching to WAL waits for another process's lock.
            // WAL lets readers proceed during a write; NORMAL sync is durable across process
            // crashes in WAL mode and loses at most the last commits on power loss.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA journal_size_limit = 67108864;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA query_only = {};",
                tuning.busy_timeout.as_millis(),
                if tuning.read_only { "ON" } else { "OFF" },
            ))
            .map_err(PoolError::QueryError)?;
            Ok(AnyConnection::Sqlite(conn))
        }
    }
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = PoolError;

    fn connect(&self) -> Result<AnyConnection, PoolError> {
        establish(&self.url, self.sqlite)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), PoolError> {
        conn.ping().map_err(PoolError::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        // A connection returned mid-transaction (a panic in a unit of work) is discarded.
        std::thread::panicking() || conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn picks_the_backend_from_the_scheme() {
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/accueil.db").unwrap(),
            DatabaseUrl::Sqlite("data/accueil.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/a.db").unwrap(),
            DatabaseUrl::Sqlite("/abs/a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("./a.db").unwrap(),
            DatabaseUrl::Sqlite("./a.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://:memory:").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn never_shows_a_password() {
        let u = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/accueil?password=x")
            .unwrap();
        let r = u.redacted();
        assert!(!r.contains("s3cret") && !r.contains("password=x"), "{r}");
        assert_eq!(r, "postgres://app:***@db.internal:5432/accueil");
    }
}
