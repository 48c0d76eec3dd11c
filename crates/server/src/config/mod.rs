//! Settings: defaults, then an optional TOML file, then environment variables.
//!
//! Each concern has its section, in its own file (`http.rs`, `auth.rs`, ...), where each
//! setting is declared once with [`section!`](declare::section): its field, type, default,
//! environment variable, TOML keys and help line all come from that one declaration, so they
//! cannot drift apart. Every variable keeps the name operators and scripts rely on (see
//! [`settings_help`]); in the file a setting is either its variable in lower case without the
//! `ACCUEIL_` prefix (`bind`, `database_url`, `rate_login_ip`) or its field in its section's
//! table (`[http] bind`, `[database] url`, `[limits] login_ip`). Unknown keys are refused, so a
//! typo is an error rather than a silently ignored line.

mod auth;
mod database;
mod declare;
mod docs;
mod events;
mod general;
mod http;
mod jobs;
mod limits;
mod mail;
mod memories;
mod metrics;
mod oauth;
mod realtime;
mod source;
mod values;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use auth::Auth;
pub use database::Database;
pub use docs::settings_help;
pub use events::{Events, EventsMode};
pub use general::{Environment, General, LogFormat};
pub use http::Http;
pub use jobs::Jobs;
pub use limits::Limits;
pub use mail::Mail;
pub use memories::Memories;
pub use metrics::{Metrics, MetricsMode};
pub use oauth::{OAuth, OAuthKind, OAuthProviderSettings};
pub use realtime::Realtime;
pub use values::{parse_duration, parse_rate};

use declare::settings;
use source::Layers;

settings! {
    /// The mode, the data directory, the logs.
    general: General(),
    /// The HTTP server.
    http: Http(),
    /// The database.
    database: Database(&general),
    /// Tokens, passwords and accounts.
    auth: Auth(),
    /// Mail and the outbox.
    mail: Mail(),
    /// Rate limits.
    limits: Limits(),
    /// Photos and share links.
    memories: Memories(),
    /// Sign-in with other providers.
    oauth: OAuth(&http),
    /// Prometheus metrics.
    metrics: Metrics(&general),
    /// Background jobs.
    jobs: Jobs(),
    /// Events between instances.
    events: Events(),
    /// Realtime connections.
    realtime: Realtime(),
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be read or parsed, or has a key or value that cannot be used.
    #[error("cannot read {path}: {message}")]
    File {
        /// Which file.
        path: String,
        /// Why.
        message: String,
    },
    /// A value is malformed.
    #[error("{name}: {message}")]
    Invalid {
        /// The setting's environment name.
        name: &'static str,
        /// Why.
        message: String,
    },
}

/// Whether `url` names a PostgreSQL database (as the store reads it).
fn is_postgres_url(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.into(),
    }
}

/// Where the settings come from: a file path, and a way to read a variable (the process
/// environment in production, a map in tests).
pub struct Sources<'a> {
    /// TOML file, if any.
    pub file: Option<&'a Path>,
    /// Reads one environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The names of the environment variables present (to find `ACCUEIL_OAUTH_<NAME>_*`).
    pub names: &'a [String],
}

impl Settings {
    /// Reads the process environment (and the file it names, or `file`).
    ///
    /// # Errors
    /// See [`ConfigError`].
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        let read = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let named = read("ACCUEIL_CONFIG").map(PathBuf::from);
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        Self::load(Sources {
            file: file.or(named.as_deref()),
            env: &read,
            names: &names,
        })
    }

    /// Resolves settings from these sources.
    ///
    /// # Errors
    /// See [`ConfigError`].
    pub fn load(src: Sources<'_>) -> Result<Self, ConfigError> {
        let mut layers = Layers::open(&src)?;
        let mut settings = Self::resolve(&mut layers)?;
        let sections: Vec<&str> = Self::SECTIONS.iter().map(|s| s.key).collect();
        settings.configured = layers.finish(&sections)?;
        settings.check()?;
        Ok(settings)
    }

    /// Whether the file or the environment gave this variable a value (rather than the
    /// default).
    #[must_use]
    pub fn is_configured(&self, env: &str) -> bool {
        self.configured.contains(&env)
    }

    /// What no single setting can judge alone.
    fn check(&self) -> Result<(), ConfigError> {
        if !self.auth.password_auth && self.oauth.providers.is_empty() {
            return Err(invalid(
                "ACCUEIL_PASSWORD_AUTH",
                "OAuth-only mode needs at least one ACCUEIL_OAUTH_<NAME>_CLIENT_ID",
            ));
        }
        self.check_metrics()?;
        self.check_events()?;
        self.check_production()
    }

    /// `token` mode without a token would refuse every scrape; production wants one that
    /// cannot be guessed.
    fn check_metrics(&self) -> Result<(), ConfigError> {
        if self.metrics.mode != MetricsMode::Token {
            return Ok(());
        }
        let Some(token) = self
            .metrics
            .token
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        else {
            return Err(invalid(
                "ACCUEIL_METRICS_TOKEN",
                "required with ACCUEIL_METRICS=token",
            ));
        };
        if self.general.env == Environment::Production {
            accueil_crypto::check_secret(token.as_bytes())
                .map_err(|e| invalid("ACCUEIL_METRICS_TOKEN", e.to_string()))?;
        }
        Ok(())
    }

    /// `LISTEN`/`NOTIFY` needs PostgreSQL.
    fn check_events(&self) -> Result<(), ConfigError> {
        if self.events.mode == EventsMode::Postgres && !is_postgres_url(&self.database.url) {
            return Err(invalid(
                "ACCUEIL_EVENTS",
                "postgres needs a PostgreSQL DATABASE_URL (postgres://...)",
            ));
        }
        Ok(())
    }

    /// Production refuses what is only acceptable on a developer's machine.
    fn check_production(&self) -> Result<(), ConfigError> {
        if self.general.env != Environment::Production {
            return Ok(());
        }
        let Some(secret) = &self.auth.jwt_secret else {
            return Err(invalid(
                "ACCUEIL_JWT_SECRET",
                "required in production (at least 32 random bytes, e.g. `openssl rand -base64 48`)",
            ));
        };
        accueil_crypto::check_secret(secret.as_bytes())
            .map_err(|e| invalid("ACCUEIL_JWT_SECRET", e.to_string()))?;
        if self.auth.bcrypt_cost < 10 {
            return Err(invalid(
                "ACCUEIL_BCRYPT_COST",
                "production requires at least 10",
            ));
        }
        // The default, http://<bind>, is the listen address: links built on it would point
        // users at an address they cannot reach.
        if !self.is_configured("ACCUEIL_PUBLIC_URL") {
            return Err(invalid(
                "ACCUEIL_PUBLIC_URL",
                "required in production (the address users reach, e.g. https://app.example)",
            ));
        }
        // Without SMTP, verification and reset mail would only be written to files.
        if self.mail.smtp_url.is_none() {
            return Err(invalid(
                "ACCUEIL_SMTP_URL",
                "required in production (mail would only be written to files)",
            ));
        }
        Ok(())
    }
}
