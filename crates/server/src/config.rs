//! Settings: defaults, then an optional TOML file, then environment variables.
//!
//! Every setting has an environment name that operators and scripts can rely on (see
//! [`SETTINGS_HELP`]); the TOML file uses the same names in lower case without the `ACCUEIL_`
//! prefix (`bind`, `database_url`, `jwt_secret`, ...) and rejects unknown keys, so a typo is an
//! error rather than a silently ignored line.

use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Deserialize;

/// The settings table printed by `accueil --help` and kept in the README.
pub const SETTINGS_HELP: &str = "\
Settings (environment variables; the same names, lower case without ACCUEIL_, in the TOML file):
  ACCUEIL_CONFIG             TOML file to read first (default: none)
  ACCUEIL_ENV                development | production (default: development)
  ACCUEIL_BIND               address to listen on (default: 127.0.0.1:8080)
  ACCUEIL_DATA_DIR           data directory (default: ./data)
  DATABASE_URL               sqlite://path or postgres://... (default: sqlite://<data dir>/accueil.db)
  ACCUEIL_DB_MAX_CONNECTIONS pool size; with SQLite, read connections besides the one writer (default: 8)
  ACCUEIL_JWT_SECRET         HS256 key, at least 32 random bytes; required in production
                             (development: generated once and kept in <data dir>/jwt-secret)
  ACCUEIL_JWT_ISSUER         iss claim (default: accueil)
  ACCUEIL_JWT_AUDIENCE       aud claim (default: accueil-api)
  ACCUEIL_ACCESS_TTL         access-token lifetime: 900, 900s, 15m, 1h (default: 15m)
  ACCUEIL_REFRESH_TTL        refresh-token lifetime (default: 30d)
  ACCUEIL_BCRYPT_COST        bcrypt cost 4..31 (default: 12; production refuses less than 10)
  ACCUEIL_CORS_ORIGINS       comma-separated browser origins allowed, or * (default: none)
  ACCUEIL_JSON_LIMIT         largest JSON body in bytes (default: 65536)
  ACCUEIL_WORKERS            HTTP worker threads (default: number of cores)
  ACCUEIL_PUBLIC_URL         base of every link in a mail, e.g. https://app.example (default: http://<bind>;
                             required in production)
  ACCUEIL_SMTP_URL           smtp://host:25, smtp://user:pass@host:587?tls=required, smtps://user:pass@host:465
                             (default: none, mail is written to <data dir>/mail; required in production)
  ACCUEIL_MAIL_FROM          sender (default: Accueil <no-reply@localhost>)
  ACCUEIL_SMTP_TIMEOUT       SMTP connection and command timeout (default: 10s)
  ACCUEIL_OUTBOX_POLL        how often the mail worker looks for due mail (default: 2s)
  ACCUEIL_OUTBOX_RETRY_BASE  first retry delay after a failed delivery, doubling each time (default: 15s)
  ACCUEIL_REQUIRE_VERIFIED_EMAIL  true: login needs a verified address (default: false)
  ACCUEIL_DELETION_GRACE     how long deleted accounts are kept, anonymised (default: 30d)
  ACCUEIL_RATE_LOGIN_IP      logins per client address (default: 30/5m)
  ACCUEIL_RATE_LOGIN_ACCOUNT logins per account name, existing or not (default: 10/15m)
  ACCUEIL_RATE_REGISTER_IP   registrations per client address (default: 10/1h)
  ACCUEIL_RATE_MAIL_IP       mail-sending requests per client address (default: 20/1h)
  ACCUEIL_RATE_MAIL_ACCOUNT  mail-sending requests per address or account (default: 5/1h)
  ACCUEIL_RATE_JOIN_USER     couple-join attempts per user (default: 10/15m)
  ACCUEIL_RATE_JOIN_IP       couple-join attempts per client address (default: 30/15m)
  ACCUEIL_MAX_PHOTO_BYTES    largest photo upload in bytes, refused with 413 while it streams in (default: 16777216)
  ACCUEIL_MAX_PHOTO_PIXELS   largest photo in pixels, checked before decoding (default: 40000000)
  ACCUEIL_UPLOAD_CONCURRENCY photo uploads read and processed at once; more wait their turn (default: 2 per core)
  ACCUEIL_MAX_ACTIVE_SHARES  share links a couple may have active at once (default: 50)
  ACCUEIL_PASSWORD_AUTH      false: OAuth-only mode, no password registration or login (default: true)
  ACCUEIL_OAUTH_REDIRECT_URL app page that browser sign-ins end on, result in the fragment
                             (default: <public url>/oauth/done)
  ACCUEIL_OAUTH_<NAME>_CLIENT_ID, _CLIENT_SECRET   a sign-in provider, served at /api/v1/auth/<name>/...;
                             GOOGLE and any other name are OpenID Connect, FACEBOOK is Facebook Login
  ACCUEIL_OAUTH_<NAME>_ISSUER  OpenID Connect issuer (discovery; default for GOOGLE: https://accounts.google.com)
  ACCUEIL_OAUTH_FACEBOOK_AUTH_URL, _TOKEN_URL, _GRAPH_URL   Facebook endpoints (default: the public ones)
  ACCUEIL_OAUTH_<NAME>_SCOPES  space- or comma-separated scopes (default: openid email profile; Facebook: email public_profile)
  ACCUEIL_TRUSTED_PROXIES    comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed
                             (default: none: the connection's address is the client)
  ACCUEIL_LOG_FORMAT         text | json (default: text)
  RUST_LOG                   log filter (default: info)";

/// Which protocol a sign-in provider speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthKind {
    /// OpenID Connect, from the issuer's discovery document.
    Oidc {
        /// The issuer URL.
        issuer: String,
    },
    /// Facebook Login and the Graph API.
    Facebook {
        /// The login dialog.
        auth_url: String,
        /// The token endpoint.
        token_url: String,
        /// The Graph API base.
        graph_url: String,
    },
}

/// One sign-in provider.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthProviderSettings {
    /// Its path segment (`google`).
    pub name: String,
    /// Its protocol and endpoints.
    pub kind: OAuthKind,
    /// Our client id.
    pub client_id: String,
    /// Our client secret.
    pub client_secret: String,
    /// Scopes (empty: the adapter's defaults).
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OAuthProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProviderSettings")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The providers configured by `ACCUEIL_OAUTH_<NAME>_CLIENT_ID` and their other variables.
fn oauth_providers(
    names: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<OAuthProviderSettings>, ConfigError> {
    let mut found: Vec<String> = names
        .iter()
        .filter_map(|n| {
            n.strip_prefix("ACCUEIL_OAUTH_")?
                .strip_suffix("_CLIENT_ID")
                .map(ToOwned::to_owned)
        })
        .filter(|upper| env(&format!("ACCUEIL_OAUTH_{upper}_CLIENT_ID")).is_some())
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|upper| {
            let var = |suffix: &str| format!("ACCUEIL_OAUTH_{upper}_{suffix}");
            let get = |suffix: &str| env(&var(suffix));
            let name = upper.to_ascii_lowercase();
            if accueil_domain::identity::ProviderName::parse(&name).is_err() {
                return Err(invalid(
                    "ACCUEIL_OAUTH_<NAME>_CLIENT_ID",
                    format!("{upper}: a name is letters, digits and _"),
                ));
            }
            let client_id = get("CLIENT_ID").unwrap_or_default();
            let client_secret = get("CLIENT_SECRET").ok_or_else(|| ConfigError::Invalid {
                name: "ACCUEIL_OAUTH_<NAME>_CLIENT_SECRET",
                message: format!(
                    "{} is required with {}",
                    var("CLIENT_SECRET"),
                    var("CLIENT_ID")
                ),
            })?;
            let kind = if name == "facebook" {
                OAuthKind::Facebook {
                    auth_url: get("AUTH_URL")
                        .unwrap_or_else(|| accueil_oauth::facebook::DEFAULT_AUTH_URL.to_owned()),
                    token_url: get("TOKEN_URL")
                        .unwrap_or_else(|| accueil_oauth::facebook::DEFAULT_TOKEN_URL.to_owned()),
                    graph_url: get("GRAPH_URL")
                        .unwrap_or_else(|| accueil_oauth::facebook::DEFAULT_GRAPH_URL.to_owned()),
                }
            } else {
                let issuer = match (get("ISSUER"), name.as_str()) {
                    (Some(i), _) => i,
                    (None, "google") => "https://accounts.google.com".to_owned(),
                    (None, _) => {
                        return Err(ConfigError::Invalid {
                            name: "ACCUEIL_OAUTH_<NAME>_ISSUER",
                            message: format!(
                                "{} is required for an OpenID Connect provider",
                                var("ISSUER")
                            ),
                        });
                    }
                };
                OAuthKind::Oidc { issuer }
            };
            let scopes = get("SCOPES")
                .map(|s| {
                    s.split([' ', ','])
                        .filter(|x| !x.is_empty())
                        .map(ToOwned::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Ok(OAuthProviderSettings {
                name,
                kind,
                client_id,
                client_secret,
                scopes,
            })
        })
        .collect()
}

/// Development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Convenient defaults: a generated JWT secret.
    Development,
    /// Refuses to start with weak settings.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// Resolved settings.
#[derive(Clone)]
pub struct Settings {
    /// Development or production.
    pub env: Environment,
    /// Listen address.
    pub bind: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Pool size.
    pub db_max_connections: u32,
    /// JWT key, if configured.
    pub jwt_secret: Option<String>,
    /// `iss`.
    pub jwt_issuer: String,
    /// `aud`.
    pub jwt_audience: String,
    /// Access-token lifetime.
    pub access_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// bcrypt cost.
    pub bcrypt_cost: u32,
    /// Allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// JSON body limit.
    pub json_limit: usize,
    /// HTTP workers.
    pub workers: Option<usize>,
    /// Log format.
    pub log_format: LogFormat,
    /// Base of links in mails.
    pub public_url: String,
    /// Whether `public_url` was configured (production requires it).
    pub public_url_configured: bool,
    /// SMTP server, if any.
    pub smtp_url: Option<String>,
    /// Sender mailbox.
    pub mail_from: String,
    /// SMTP timeout.
    pub smtp_timeout: Duration,
    /// Mail worker poll interval.
    pub outbox_poll: Duration,
    /// First retry delay.
    pub outbox_retry_base: Duration,
    /// Login requires a verified address.
    pub require_verified_email: bool,
    /// Grace period of deleted accounts.
    pub deletion_grace: Duration,
    /// Rate limits.
    pub limits: accueil_app::identity::RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Couples settings (join limits).
    pub couples: accueil_app::couples::CouplesSettings,
    /// Memories settings (photo size, share links).
    pub memories: accueil_app::memories::MemoriesSettings,
    /// The most pixels a photo may have.
    pub max_photo_pixels: u64,
    /// Photo uploads handled at once.
    pub upload_concurrency: usize,
    /// Whether password sign-in is on.
    pub password_auth: bool,
    /// Where browser sign-ins end.
    pub oauth_redirect_url: String,
    /// Configured sign-in providers.
    pub oauth: Vec<OAuthProviderSettings>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("env", &self.env)
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("cors_origins", &self.cors_origins)
            .finish_non_exhaustive()
    }
}

/// The TOML file's shape: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    env: Option<Environment>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    db_max_connections: Option<u32>,
    jwt_secret: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    access_ttl: Option<toml::Value>,
    refresh_ttl: Option<toml::Value>,
    bcrypt_cost: Option<u32>,
    cors_origins: Option<Vec<String>>,
    json_limit: Option<usize>,
    workers: Option<usize>,
    log_format: Option<LogFormat>,
    public_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    smtp_timeout: Option<toml::Value>,
    outbox_poll: Option<toml::Value>,
    outbox_retry_base: Option<toml::Value>,
    require_verified_email: Option<bool>,
    deletion_grace: Option<toml::Value>,
    rate_login_ip: Option<String>,
    rate_login_account: Option<String>,
    rate_register_ip: Option<String>,
    rate_mail_ip: Option<String>,
    rate_mail_account: Option<String>,
    rate_join_user: Option<String>,
    rate_join_ip: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    max_photo_bytes: Option<u64>,
    max_photo_pixels: Option<u64>,
    max_active_shares: Option<u64>,
    upload_concurrency: Option<u64>,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be read or parsed.
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

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.into(),
    }
}

/// Parses a rate: `10/15m` (10 per 15 minutes), `5/1h`, `30/60s`.
///
/// # Errors
/// A message naming the accepted form.
pub fn parse_rate(raw: &str) -> Result<accueil_domain::limits::Rate, String> {
    let (n, period) = raw
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("{raw:?} is not a rate (use 10/15m)"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("{raw:?}: {n:?} is not a count"))?;
    let period = parse_duration(period)?;
    accueil_domain::limits::Rate::new(n, period)
        .ok_or_else(|| format!("{raw:?} must allow at least 1 request"))
}

fn parse_proxies(list: &[String]) -> Result<Vec<ipnet::IpNet>, String> {
    list.iter()
        .map(|p| {
            let p = p.trim();
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{p:?} is neither an address nor a CIDR"))
        })
        .collect()
}

/// Parses `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses `250ms`, `900`, `900s`, `15m`, `12h`, `30d`.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits.parse().map_err(|_| {
        format!("{raw:?} is not a duration (use 250ms, 900, 900s, 15m, 12h or 30d)")
    })?;
    let d = match unit {
        "ms" => Duration::milliseconds(n),
        "" | "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(format!("{raw:?}: unknown unit {unit:?} (use s, m, h or d)")),
    };
    if n == 0 {
        return Err(format!("{raw:?} must be positive"));
    }
    Ok(d)
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
        let file: FileSettings = match src.file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::File {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::File {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?
            }
            None => FileSettings::default(),
        };
        let env = src.env;
        let text = |name: &'static str, from_file: Option<String>, default: &str| {
            env(name)
                .or(from_file)
                .unwrap_or_else(|| default.to_owned())
        };
        let number = |name: &'static str,
                      from_file: Option<u64>,
                      default: u64|
         -> Result<u64, ConfigError> {
            match env(name) {
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| invalid(name, format!("{v:?} is not a number"))),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let duration = |name: &'static str, from_file: Option<toml::Value>, default: &str| {
            let raw = env(name).or_else(|| {
                from_file.map(|v| match v {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    _ => String::from("not a duration"),
                })
            });
            parse_duration(raw.as_deref().unwrap_or(default)).map_err(|m| invalid(name, m))
        };

        let env_name = env("ACCUEIL_ENV");
        let environment = match env_name.as_deref().map(str::trim) {
            Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                return Err(invalid(
                    "ACCUEIL_ENV",
                    format!("{other:?}: use development or production"),
                ));
            }
            None => file.env.unwrap_or(Environment::Development),
        };
        let data_dir = env("ACCUEIL_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("accueil.db").display()));
        let cors_origins = match env("ACCUEIL_CORS_ORIGINS") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(ToOwned::to_owned)
                .collect(),
            None => file.cors_origins.unwrap_or_default(),
        };
        let log_format = match env("ACCUEIL_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(invalid(
                    "ACCUEIL_LOG_FORMAT",
                    format!("{other:?}: use text or json"),
                ));
            }
            None => file.log_format.unwrap_or(LogFormat::Text),
        };
        let workers = match env("ACCUEIL_WORKERS") {
            Some(v) => Some(
                v.trim()
                    .parse()
                    .map_err(|_| invalid("ACCUEIL_WORKERS", format!("{v:?} is not a number")))?,
            ),
            None => file.workers,
        };
        let bcrypt_cost = u32::try_from(number(
            "ACCUEIL_BCRYPT_COST",
            file.bcrypt_cost.map(u64::from),
            12,
        )?)
        .map_err(|_| invalid("ACCUEIL_BCRYPT_COST", "out of range"))?;
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(invalid("ACCUEIL_BCRYPT_COST", "must be between 4 and 31"));
        }
        let bind = text("ACCUEIL_BIND", file.bind, "127.0.0.1:8080");
        let configured_url = env("ACCUEIL_PUBLIC_URL").or(file.public_url);
        let public_url = configured_url
            .clone()
            .unwrap_or_else(|| format!("http://{bind}"));
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(invalid(
                "ACCUEIL_PUBLIC_URL",
                "must start with https:// (or http://)",
            ));
        }
        let require_verified_email = match env("ACCUEIL_REQUIRE_VERIFIED_EMAIL") {
            Some(v) => parse_bool(&v)
                .ok_or_else(|| invalid("ACCUEIL_REQUIRE_VERIFIED_EMAIL", "use true or false"))?,
            None => file.require_verified_email.unwrap_or(false),
        };
        let rate = |name: &'static str, from_file: Option<String>, default: &str| {
            parse_rate(
                &env(name)
                    .or(from_file)
                    .unwrap_or_else(|| default.to_owned()),
            )
            .map_err(|m| invalid(name, m))
        };
        let limits = accueil_app::identity::RateLimits {
            login_ip: rate("ACCUEIL_RATE_LOGIN_IP", file.rate_login_ip, "30/5m")?,
            login_account: rate(
                "ACCUEIL_RATE_LOGIN_ACCOUNT",
                file.rate_login_account,
                "10/15m",
            )?,
            register_ip: rate("ACCUEIL_RATE_REGISTER_IP", file.rate_register_ip, "10/1h")?,
            mail_ip: rate("ACCUEIL_RATE_MAIL_IP", file.rate_mail_ip, "20/1h")?,
            mail_account: rate("ACCUEIL_RATE_MAIL_ACCOUNT", file.rate_mail_account, "5/1h")?,
        };
        let couples = accueil_app::couples::CouplesSettings {
            join_user: rate("ACCUEIL_RATE_JOIN_USER", file.rate_join_user, "10/15m")?,
            join_ip: rate("ACCUEIL_RATE_JOIN_IP", file.rate_join_ip, "30/15m")?,
        };
        let memories = accueil_app::memories::MemoriesSettings {
            max_photo_bytes: usize::try_from(number(
                "ACCUEIL_MAX_PHOTO_BYTES",
                file.max_photo_bytes,
                16 * 1024 * 1024,
            )?)
            .map_err(|_| invalid("ACCUEIL_MAX_PHOTO_BYTES", "out of range"))?,
            max_active_shares: usize::try_from(number(
                "ACCUEIL_MAX_ACTIVE_SHARES",
                file.max_active_shares,
                50,
            )?)
            .map_err(|_| invalid("ACCUEIL_MAX_ACTIVE_SHARES", "out of range"))?,
        };
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let upload_concurrency = usize::try_from(number(
            "ACCUEIL_UPLOAD_CONCURRENCY",
            file.upload_concurrency,
            2 * cores as u64,
        )?)
        .map_err(|_| invalid("ACCUEIL_UPLOAD_CONCURRENCY", "out of range"))?
        .max(1);
        let password_auth = match env("ACCUEIL_PASSWORD_AUTH").as_deref().map(str::trim) {
            None => true,
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                return Err(invalid(
                    "ACCUEIL_PASSWORD_AUTH",
                    format!("{other:?}: use true or false"),
                ));
            }
        };
        let oauth = oauth_providers(src.names, src.env)?;
        let max_photo_pixels = number(
            "ACCUEIL_MAX_PHOTO_PIXELS",
            file.max_photo_pixels,
            40_000_000,
        )?;
        let proxies = match env("ACCUEIL_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(ToOwned::to_owned)
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies =
            parse_proxies(&proxies).map_err(|m| invalid("ACCUEIL_TRUSTED_PROXIES", m))?;
        let settings = Self {
            env: environment,
            bind,
            data_dir,
            database_url,
            db_max_connections: u32::try_from(number(
                "ACCUEIL_DB_MAX_CONNECTIONS",
                file.db_max_connections.map(u64::from),
                8,
            )?)
            .map_err(|_| invalid("ACCUEIL_DB_MAX_CONNECTIONS", "out of range"))?,
            jwt_secret: env("ACCUEIL_JWT_SECRET").or(file.jwt_secret),
            jwt_issuer: text("ACCUEIL_JWT_ISSUER", file.jwt_issuer, "accueil"),
            jwt_audience: text("ACCUEIL_JWT_AUDIENCE", file.jwt_audience, "accueil-api"),
            access_ttl: duration("ACCUEIL_ACCESS_TTL", file.access_ttl, "15m")?,
            refresh_ttl: duration("ACCUEIL_REFRESH_TTL", file.refresh_ttl, "30d")?,
            bcrypt_cost,
            cors_origins,
            json_limit: usize::try_from(number(
                "ACCUEIL_JSON_LIMIT",
                file.json_limit.map(|v| v as u64),
                65_536,
            )?)
            .map_err(|_| invalid("ACCUEIL_JSON_LIMIT", "out of range"))?,
            workers,
            log_format,
            public_url: public_url.trim_end_matches('/').to_owned(),
            public_url_configured: configured_url.is_some(),
            smtp_url: env("ACCUEIL_SMTP_URL").or(file.smtp_url),
            mail_from: text(
                "ACCUEIL_MAIL_FROM",
                file.mail_from,
                "Accueil <no-reply@localhost>",
            ),
            smtp_timeout: duration("ACCUEIL_SMTP_TIMEOUT", file.smtp_timeout, "10s")?,
            outbox_poll: duration("ACCUEIL_OUTBOX_POLL", file.outbox_poll, "2s")?,
            outbox_retry_base: duration(
                "ACCUEIL_OUTBOX_RETRY_BASE",
                file.outbox_retry_base,
                "15s",
            )?,
            require_verified_email,
            deletion_grace: duration("ACCUEIL_DELETION_GRACE", file.deletion_grace, "30d")?,
            limits,
            trusted_proxies,
            couples,
            memories,
            max_photo_pixels,
            upload_concurrency,
            oauth_redirect_url: env("ACCUEIL_OAUTH_REDIRECT_URL")
                .unwrap_or_else(|| format!("{}/oauth/done", public_url.trim_end_matches('/'))),
            password_auth,
            oauth,
        };
        if !settings.password_auth && settings.oauth.is_empty() {
            return Err(invalid(
                "ACCUEIL_PASSWORD_AUTH",
                "OAuth-only mode needs at least one ACCUEIL_OAUTH_<NAME>_CLIENT_ID",
            ));
        }
        settings.check_production()?;
        Ok(settings)
    }

    /// Production refuses what is only acceptable on a developer's machine.
    fn check_production(&self) -> Result<(), ConfigError> {
        if self.env != Environment::Production {
            return Ok(());
        }
        let Some(secret) = &self.jwt_secret else {
            return Err(invalid(
                "ACCUEIL_JWT_SECRET",
                "required in production (at least 32 random bytes, e.g. `openssl rand -base64 48`)",
            ));
        };
        accueil_crypto::check_secret(secret.as_bytes())
            .map_err(|e| invalid("ACCUEIL_JWT_SECRET", e.to_string()))?;
        if self.bcrypt_cost < 10 {
            return Err(invalid(
                "ACCUEIL_BCRYPT_COST",
                "production requires at least 10",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)], file: Option<&Path>) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let names: Vec<String> = map.keys().cloned().collect();
        Settings::load(Sources {
            file,
            env: &move |k| map.get(k).cloned(),
            names: &names,
        })
    }

    #[test]
    fn oauth_providers_come_from_their_variables() {
        let s = load(
            &[
                ("ACCUEIL_OAUTH_GOOGLE_CLIENT_ID", "g-id"),
                ("ACCUEIL_OAUTH_GOOGLE_CLIENT_SECRET", "g-secret"),
                ("ACCUEIL_OAUTH_FACEBOOK_CLIENT_ID", "f-id"),
                ("ACCUEIL_OAUTH_FACEBOOK_CLIENT_SECRET", "f-secret"),
                ("ACCUEIL_OAUTH_MY_IDP_CLIENT_ID", "m-id"),
                ("ACCUEIL_OAUTH_MY_IDP_CLIENT_SECRET", "m-secret"),
                ("ACCUEIL_OAUTH_MY_IDP_ISSUER", "https://idp.example"),
                ("ACCUEIL_OAUTH_MY_IDP_SCOPES", "openid, email groups"),
            ],
            None,
        )
        .unwrap();
        let names: Vec<&str> = s.oauth.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["facebook", "google", "my_idp"]);
        assert_eq!(
            s.oauth[1].kind,
            OAuthKind::Oidc {
                issuer: "https://accounts.google.com".into()
            }
        );
        assert!(
            matches!(&s.oauth[0].kind, OAuthKind::Facebook { graph_url, .. } if graph_url.starts_with("https://graph.facebook.com"))
        );
        assert_eq!(s.oauth[2].scopes, ["openid", "email", "groups"]);
        assert!(!format!("{:?}", s.oauth).contains("secret\""));
        assert!(format!("{:?}", s.oauth).contains("<redacted>"));
        assert_eq!(s.oauth_redirect_url, "http://127.0.0.1:8080/oauth/done");

        let no_issuer = load(
            &[
                ("ACCUEIL_OAUTH_CORP_CLIENT_ID", "c"),
                ("ACCUEIL_OAUTH_CORP_CLIENT_SECRET", "s"),
            ],
            None,
        );
        assert!(no_issuer.is_err(), "another provider needs its issuer");
        assert!(load(&[("ACCUEIL_OAUTH_GOOGLE_CLIENT_ID", "g")], None).is_err());
        assert!(load(&[("ACCUEIL_PASSWORD_AUTH", "maybe")], None).is_err());
        assert!(
            load(&[("ACCUEIL_PASSWORD_AUTH", "false")], None).is_err(),
            "OAuth-only mode without a provider could sign nobody in"
        );
    }

    #[test]
    fn defaults_need_nothing() {
        let s = load(&[], None).unwrap();
        assert_eq!(s.env, Environment::Development);
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://./data/accueil.db");
        assert_eq!(s.access_ttl, Duration::minutes(15));
        assert_eq!(s.refresh_ttl, Duration::days(30));
        assert_eq!(s.bcrypt_cost, 12);
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(s.smtp_url.is_none() && !s.require_verified_email);
        assert_eq!(s.outbox_poll, Duration::seconds(2));
        assert_eq!(s.deletion_grace, Duration::days(30));
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accueil.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\naccess_ttl = \"5m\"\ncors_origins = [\"https://a.example\"]\nbcrypt_cost = 10\n").unwrap();
        let s = load(&[("ACCUEIL_BIND", "127.0.0.1:1")], Some(&path)).unwrap();
        assert_eq!(s.bind, "127.0.0.1:1");
        assert_eq!(s.access_ttl, Duration::minutes(5));
        assert_eq!(s.cors_origins, vec!["https://a.example"]);
        assert_eq!(s.bcrypt_cost, 10);
        let s = load(
            &[(
                "ACCUEIL_CORS_ORIGINS",
                "https://x.example, https://y.example",
            )],
            Some(&path),
        )
        .unwrap();
        assert_eq!(
            s.cors_origins,
            vec!["https://x.example", "https://y.example"]
        );
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accueil.toml");
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        assert!(matches!(
            load(&[], Some(&path)),
            Err(ConfigError::File { .. })
        ));
    }

    #[test]
    fn rates_and_proxies() {
        let r = parse_rate("10/15m").unwrap();
        assert_eq!((r.count, r.period), (10, Duration::minutes(15)));
        for bad in ["10", "0/1m", "x/1m", "10/soon"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        let s = load(
            &[("ACCUEIL_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,::1")],
            None,
        )
        .unwrap();
        assert_eq!(s.trusted_proxies.len(), 3);
        assert!(load(&[("ACCUEIL_TRUSTED_PROXIES", "proxy.internal")], None).is_err());
        assert!(load(&[("ACCUEIL_RATE_LOGIN_IP", "lots")], None).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("250ms").unwrap(),
            Duration::milliseconds(250)
        );
        assert_eq!(parse_duration("900").unwrap(), Duration::seconds(900));
        assert_eq!(parse_duration("15m").unwrap(), Duration::minutes(15));
        assert_eq!(parse_duration("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_duration("30d").unwrap(), Duration::days(30));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("15 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(load(&[("ACCUEIL_ACCESS_TTL", "soon")], None).is_err());
    }

    #[test]
    fn production_refuses_weak_settings() {
        let prod = ("ACCUEIL_ENV", "production");
        assert!(load(&[prod], None).is_err(), "no secret");
        assert!(
            load(&[prod, ("ACCUEIL_JWT_SECRET", "changeme")], None).is_err(),
            "short"
        );
        assert!(
            load(&[prod, ("ACCUEIL_JWT_SECRET", &"a".repeat(40))], None).is_err(),
            "low entropy"
        );
        let good = (
            "ACCUEIL_JWT_SECRET",
            "q8Zr1xV3mN7bT2yL5kJ9wC4hF6dS0aEgP3uR8iO1",
        );
        assert!(load(&[prod, good], None).is_ok());
        assert!(load(&[prod, good, ("ACCUEIL_BCRYPT_COST", "8")], None).is_err());
        assert!(load(&[("ACCUEIL_ENV", "staging")], None).is_err());
        assert!(load(&[("ACCUEIL_BCRYPT_COST", "3")], None).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = load(
            &[(
                "ACCUEIL_JWT_SECRET",
                "q8Zr1xV3mN7bT2yL5kJ9wC4hF6dS0aEgP3uR8iO1",
            )],
            None,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("q8Zr1x"));
    }
}
