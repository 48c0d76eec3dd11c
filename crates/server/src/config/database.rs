//! The database: which one, and how many connections.

use super::declare::section;
use super::general::General;

section! {
    /// The database.
    pub struct Database in "database" (general: &General) {
        /// `sqlite://path` or `postgres://user:pass@host:5432/db`
        url: String = { format!("sqlite://{}", general.data_dir.join("accueil.db").display()) }
            shown "`sqlite://<data dir>/accueil.db`",
            env "DATABASE_URL", sample "postgres://accueil:pw@db.example:5432/accueil",
            redact credentials;
        /// pool size (SQLite: read connections; writes use one writer connection)
        max_connections: u32 = "8", env "ACCUEIL_DB_MAX_CONNECTIONS", sample "16";
    }
}
