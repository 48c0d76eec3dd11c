//! General settings: the mode, the data directory, the log format; and the two variables that
//! are read before any setting and so cannot be in the file.

use std::path::PathBuf;

use super::declare::section;
use super::values::Value;

/// Development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Convenient defaults: a generated JWT secret.
    Development,
    /// Refuses to start with weak settings.
    Production,
}

impl Value for Environment {
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            other => Err(format!("{other:?}: use development or production")),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

impl Value for LogFormat {
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?}: use text or json")),
        }
    }
}

section! {
    /// The mode, the data directory, the logs.
    pub struct General in "general" () {
        /// `development` or `production`; `production` refuses a missing or weak JWT secret, a
        /// bcrypt cost under 10, and a missing public URL or SMTP server, and turns `/metrics`
        /// off unless `ACCUEIL_METRICS` says otherwise
        env: Environment = "development", env "ACCUEIL_ENV", sample "production";
        /// data directory: the SQLite database, photos, mail written as files and the
        /// development JWT secret
        data_dir: PathBuf = "./data", env "ACCUEIL_DATA_DIR", sample "/var/lib/accueil";
        /// `text` or `json` (one object per line)
        log_format: LogFormat = "text", env "ACCUEIL_LOG_FORMAT", sample "json";
    }
}

/// A variable read outside the settings: `ACCUEIL_CONFIG` names the file itself, and `RUST_LOG`
/// is read by the log filter, which must work before (and without) any settings.
#[derive(Debug)]
pub(crate) struct EnvOnly {
    /// The variable.
    pub env: &'static str,
    /// What it means, in Markdown.
    pub doc: &'static str,
    /// Its default, in Markdown.
    pub default: &'static str,
}

/// The variables that are not settings, for the help and the README.
pub(crate) const ENVIRONMENT_ONLY: &[EnvOnly] = &[
    EnvOnly {
        env: "ACCUEIL_CONFIG",
        doc: "TOML file read before the environment (also `--config FILE`); environment only",
        default: "none",
    },
    EnvOnly {
        env: "RUST_LOG",
        doc: "log filter, e.g. `info,accueil=debug`; environment only",
        default: "`info`",
    },
];
