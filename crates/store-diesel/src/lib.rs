//! Storage with diesel over SQLite (the embedded default) and PostgreSQL (for scale-out).
//!
//! - One portable [`schema`], per-backend embedded migrations (`migrations/sqlite`,
//!   `migrations/postgres`, same version names), applied by [`DieselStore::connect`] and by
//!   `accueil migrate`.
//! - SQLite: a pool of read-only connections, and one writer connection reached through a FIFO
//!   gate; every write unit is an immediate transaction on it, so writers never race for the
//!   lock and no request sees "database is locked". WAL lets reads go on during writes.
//! - PostgreSQL: one pool; read units run in read-only transactions. Several instances can
//!   share the database; migrations take an advisory lock so instances starting together
//!   apply them once.
//! - Every unit of work runs on tokio's blocking pool, never on the async workers.

mod admin;
mod connection;
mod couples;
mod identity;
mod jobs;
mod memories;
mod migrations;
mod notify;
mod one;
mod queues;
pub mod schema;
mod stats;
mod tx;

#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::{Duration, Instant};

use accueil_ports::store::{Boxed, Work};
use accueil_ports::{Access, Store, StoreError};
use async_trait::async_trait;
use diesel::r2d2::{Pool, PooledConnection};
use tokio::sync::Semaphore;

pub use connection::{AnyConnection, DatabaseUrl};
use connection::{Manager, SqliteTuning};
use stats::WaitTimes;
pub use stats::{PoolState, PoolStats, WAIT_BUCKETS, WaitHistogram};

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// PostgreSQL: connections in the pool. SQLite: read connections (plus one writer).
    pub max_connections: u32,
    /// How long a unit of work waits for a connection before failing as unavailable.
    pub acquire_timeout: Duration,
    /// SQLite: how long to wait for another process's lock.
    pub busy_timeout: Duration,
    /// Connections kept open while idle (the pool opens new ones in its own threads to keep
    /// them). A command-line run asks for none: a connection being opened in the pool's
    /// thread when the process exits races libcrypto's exit-time clean-up, and crashes.
    pub min_idle: u32,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            min_idle: 1,
        }
    }
}

type AnyPool = Pool<Manager>;

enum Backend {
    Sqlite {
        readers: AnyPool,
        writer: AnyPool,
        /// Fair (FIFO) queue for the single writer; waiting happens here, asynchronously,
        /// not on a blocking thread.
        gate: Arc<Semaphore>,
    },
    Postgres {
        pool: AnyPool,
    },
}

/// The diesel store. Cheap to clone.
#[derive(Clone)]
pub struct DieselStore {
    backend: Arc<Backend>,
    url: Arc<DatabaseUrl>,
    /// Waits for a connection: the read (or only) pool's, then the SQLite writer's.
    waits: Arc<[WaitTimes; 2]>,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("url", &self.url.redacted())
            .finish_non_exhaustive()
    }
}

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not one we can use.
    #[error("invalid DATABASE_URL: {0}")]
    Url(String),
    /// The SQLite file's directory could not be created.
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No connection could be opened.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// The backend's message.
        message: String,
    },
    /// Migrations failed.
    #[error("migrations failed: {0}")]
    Migrate(String),
}

impl DieselStore {
    /// Opens the database named by `url`, creating a SQLite file (and its directory) if needed,
    /// and applies pending migrations.
    ///
    /// Blocking: call it at start-up or from a blocking context.
    ///
    /// # Errors
    /// See [`ConnectError`].
    pub fn connect(url: &str, options: PoolOptions) -> Result<Self, ConnectError> {
        let url = DatabaseUrl::parse(url).map_err(ConnectError::Url)?;
        let connect_err = |e: &dyn std::fmt::Display| ConnectError::Connect {
            url: url.redacted(),
            message: e.to_string(),
        };
        let build = |read_only: bool, size: u32| {
            let manager = Manager::new(
                url.clone(),
                SqliteTuning {
                    busy_timeout: options.busy_timeout,
                    read_only,
                },
            );
            Pool::builder()
                .max_size(size)
                .min_idle(Some(options.min_idle.min(size)))
                // Checking every checkout costs a round trip per unit of work; a broken
                // connection shows up as an error and is dropped by `has_broken`.
                .test_on_check_out(false)
                .connection_timeout(options.acquire_timeout)
                .build(manager)
        };
        let backend = match &url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| ConnectError::Directory {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                // The writer first: it creates the file and switches it to WAL before any
                // read-only connection opens it.
                let writer = build(false, 1).map_err(|e| connect_err(&e))?;
                migrations::run(&writer).map_err(ConnectError::Migrate)?;
                let readers =
                    build(true, options.max_connections.max(1)).map_err(|e| connect_err(&e))?;
                Backend::Sqlite {
                    readers,
                    writer,
                    gate: Arc::new(Semaphore::new(1)),
                }
            }
            DatabaseUrl::Postgres(_) => {
                let pool =
                    build(false, options.max_connections.max(2)).map_err(|e| connect_err(&e))?;
                migrations::run(&pool).map_err(ConnectError::Migrate)?;
                Backend::Postgres { pool }
            }
        };
        Ok(Self {
            backend: Arc::new(backend),
            url: Arc::new(url),
            waits: Arc::default(),
        })
    }

    /// The URL, password removed, for logs.
    pub fn describe(&self) -> String {
        self.url.redacted()
    }

    /// Whether the backend is SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.url.is_sqlite()
    }

    /// Whether the role it connects as skips row-level security (a PostgreSQL superuser, or a
    /// role with `BYPASSRLS`): tenant isolation then rests on the adapter's filters alone.
    /// Always `false` on SQLite, which has no roles. Blocking.
    ///
    /// # Errors
    /// A message when the database cannot be asked.
    pub fn bypasses_row_security(&self) -> Result<bool, String> {
        #[derive(diesel::QueryableByName)]
        struct Attributes {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            skips: bool,
        }
        if self.is_sqlite() {
            return Ok(false);
        }
        let mut conn = self.write_pool().get().map_err(|e| e.to_string())?;
        match &mut *conn {
            connection::AnyConnection::Postgresql(pg) => {
                use diesel::RunQueryDsl;
                diesel::sql_query(
                    "SELECT rolsuper OR rolbypassrls AS skips FROM pg_roles \
                     WHERE rolname = current_user",
                )
                .get_result::<Attributes>(pg)
                .map(|a| a.skips)
                .map_err(|e| e.to_string())
            }
            connection::AnyConnection::Sqlite(_) => Ok(false),
        }
    }

    /// The migration versions applied, oldest first. Blocking.
    ///
    /// # Errors
    /// A message when the database cannot be read.
    pub fn applied_migrations(&self) -> Result<Vec<String>, String> {
        migrations::applied(self.write_pool())
    }

    /// The pools' sizes now and their waits so far. Cheap: no connection is touched.
    pub fn pool_stats(&self) -> PoolStats {
        let one = |name, pool: &AnyPool, waits: &WaitTimes| {
            let state = pool.state();
            PoolState {
                name,
                max: pool.max_size(),
                connections: state.connections,
                idle: state.idle_connections,
                wait: waits.snapshot(),
            }
        };
        let pools = match &*self.backend {
            Backend::Sqlite {
                readers, writer, ..
            } => vec![
                one("read", readers, &self.waits[0]),
                one("write", writer, &self.waits[1]),
            ],
            Backend::Postgres { pool } => vec![one("main", pool, &self.waits[0])],
        };
        PoolStats { pools }
    }

    fn write_pool(&self) -> &AnyPool {
        match &*self.backend {
            Backend::Sqlite { writer, .. } => writer,
            Backend::Postgres { pool } => pool,
        }
    }
}

/// A pooled connection with a transaction begun on it. After a database restart every idle
/// connection in the pool is dead, and each would fail one unit of work: a connection whose
/// `BEGIN` finds it closed is dropped (the pool discards a broken connection when it comes
/// back) and another taken, at most once per connection the pool holds, before any work ran.
fn begun(pool: &AnyPool, access: Access) -> Result<PooledConnection<Manager>, StoreError> {
    let mut dead = 0;
    loop {
        let mut conn = pool.get().map_err(unavailable)?;
        match tx::begin(&mut conn, access) {
            Ok(()) => return Ok(conn),
            Err(e) if tx::closed(&e) && dead < pool.max_size() => {
                dead += 1;
                tracing::debug!(error = %e, "dropping a closed database connection");
            }
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "cannot begin transaction: {e}"
                )));
            }
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait]
impl Store for DieselStore {
    async fn run(
        &self,
        access: Access,
        work: Work,
    ) -> Result<Result<accueil_ports::Committed, Boxed>, StoreError> {
        // The wait counted is the writer's queue plus the pool's checkout, not the time the
        // blocking pool takes to start the task.
        let queued = Instant::now();
        let (pool, permit, slot) = match (&*self.backend, access) {
            (Backend::Sqlite { writer, gate, .. }, Access::Write) => {
                let permit = gate.clone().acquire_owned().await.map_err(unavailable)?;
                (writer.clone(), Some(permit), 1)
            }
            (Backend::Sqlite { readers, .. }, Access::Read) => (readers.clone(), None, 0),
            (Backend::Postgres { pool }, _) => (pool.clone(), None, 0),
        };
        let queued = queued.elapsed();
        let waits = self.waits.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let checkout = Instant::now();
            let conn = begun(&pool, access);
            waits[slot].record(queued + checkout.elapsed());
            let mut conn = conn?;
            tx::run(&mut conn, access, work)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("unit of work panicked or was cancelled: {e}")))?
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let pool = match &*self.backend {
            Backend::Sqlite { readers, .. } => readers.clone(),
            Backend::Postgres { pool } => pool.clone(),
        };
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(unavailable)?;
            migrations::check_current(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}
