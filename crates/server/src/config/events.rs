//! Which bus carries committed events between the instances. The TOML table is `[event_bus]`
//! (the flat key, `events`, would otherwise clash with an `[events]` table).

use super::declare::section;
use super::values::Value;

/// Which event bus an instance uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsMode {
    /// PostgreSQL `LISTEN`/`NOTIFY` on a PostgreSQL database, in-process on SQLite.
    Auto,
    /// In-process only: the instance hears only its own events (one instance per database).
    Local,
    /// PostgreSQL `LISTEN`/`NOTIFY`, shared by every instance on the database.
    Postgres,
}

impl Value for EventsMode {
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "auto" => Ok(Self::Auto),
            "local" => Ok(Self::Local),
            "postgres" => Ok(Self::Postgres),
            other => Err(format!("{other:?}: use auto, local or postgres")),
        }
    }
}

section! {
    /// Events between instances.
    pub struct Events in "event_bus" () {
        /// how committed events reach realtime connections: `postgres` (`LISTEN`/`NOTIFY`:
        /// every instance on the database hears every event; needs a session, not a
        /// transaction-pooled, connection), `local` (this instance only) or `auto` (`postgres`
        /// on a PostgreSQL database, else `local`); see docs/operations.md
        mode: EventsMode = "auto", env "ACCUEIL_EVENTS", sample "local";
    }
}

impl Events {
    /// Whether the instance uses the PostgreSQL bus, for a database that is PostgreSQL or not.
    #[must_use]
    pub fn postgres(&self, database_is_postgres: bool) -> bool {
        match self.mode {
            EventsMode::Auto => database_is_postgres,
            EventsMode::Local => false,
            EventsMode::Postgres => true,
        }
    }
}
