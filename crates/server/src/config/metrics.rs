//! `/metrics`: whether it is served, and to whom. The TOML table is `[monitoring]` (its flat
//! keys, `metrics` and `metrics_token`, would otherwise clash with a `[metrics]` table).

use super::declare::section;
use super::general::{Environment, General};
use super::values::Value;

/// Who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsMode {
    /// Not served (404).
    Off,
    /// Served to anyone who reaches the port.
    On,
    /// Served with `Authorization: Bearer <ACCUEIL_METRICS_TOKEN>` only.
    Token,
}

impl Value for MetricsMode {
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "off" => Ok(Self::Off),
            "on" => Ok(Self::On),
            "token" => Ok(Self::Token),
            other => Err(format!("{other:?}: use off, on or token")),
        }
    }
}

section! {
    /// Prometheus metrics.
    pub struct Metrics in "monitoring" (general: &General) {
        /// `GET /metrics` on the main port: `off` (404), `on` (open) or `token` (needs
        /// `Authorization: Bearer` with `ACCUEIL_METRICS_TOKEN`); see docs/operations.md
        mode: MetricsMode = {
            if general.env == Environment::Production { MetricsMode::Off } else { MetricsMode::On }
        } shown "`on` in development, `off` in production",
            env "ACCUEIL_METRICS", sample "off";
        /// the bearer token `ACCUEIL_METRICS=token` asks for (production: at least 32 random
        /// bytes, e.g. `openssl rand -base64 48`)
        token: Option<String> = none, env "ACCUEIL_METRICS_TOKEN",
            sample "m3trics-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aE", redact secret;
    }
}
