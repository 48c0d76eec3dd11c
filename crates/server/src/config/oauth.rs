//! Sign-in with other providers: where browser sign-ins end, and the providers themselves.
//!
//! Providers are not a fixed list: each name found in `ACCUEIL_OAUTH_<NAME>_CLIENT_ID` or as an
//! `[oauth.<name>]` table of the file is one, served at `/api/v1/auth/<name>/...`. Their keys
//! are declared once below, with [`provider_keys!`], like the fixed settings are with
//! [`section!`](super::declare::section): the variable of a key is its name in upper case
//! after `ACCUEIL_OAUTH_<NAME>_`, and the environment wins over the file key by key.

use std::collections::BTreeMap;

use super::declare::section;
use super::http::Http;
use super::source::Layers;
use super::values::Value;
use super::{ConfigError, invalid};

section! {
    /// Sign-in with other providers.
    pub struct OAuth in "oauth" (http: &Http) {
        /// the app page browser sign-ins end on, with the result in the URL fragment
        redirect_url: String = { format!("{}/oauth/done", http.public_url) }
            shown "`<public url>/oauth/done`",
            env "ACCUEIL_OAUTH_REDIRECT_URL", sample "https://app.example/signed-in";
    }
    derived {
        /// The configured providers, by name.
        providers: Vec<OAuthProviderSettings> = providers;
    }
}

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

/// One key a provider can have, as the help, the README and the tests see it.
#[derive(Debug)]
pub(crate) struct ProviderKey {
    /// The key in `[oauth.<name>]`; in upper case, the end of the variable.
    pub key: &'static str,
    /// What it means, in Markdown.
    pub doc: &'static str,
    /// Its default, in Markdown.
    pub default: &'static str,
    /// A valid value, in the variable's syntax.
    #[cfg(test)]
    pub sample: &'static str,
    /// The sample as a TOML value.
    #[cfg(test)]
    pub toml_sample: fn(&str) -> toml::Value,
}

impl ProviderKey {
    /// The variable for a provider (`<NAME>` in the help).
    pub(crate) fn env(&self, upper_name: &str) -> String {
        env_name(upper_name, self.key)
    }
}

fn env_name(upper_name: &str, key: &str) -> String {
    format!("ACCUEIL_OAUTH_{upper_name}_{}", key.to_ascii_uppercase())
}

/// The name errors about any provider variable are reported under.
const ANY_PROVIDER_VAR: &str = "ACCUEIL_OAUTH_<NAME>_*";

/// Declares the keys of a provider: a struct of optional values read from `[oauth.<name>]`
/// and then from the environment, and the [`ProviderKey`] list. Defaults depend on the
/// provider (Google's issuer, Facebook's endpoints), so they are applied by [`provider`] and
/// only described here.
macro_rules! provider_keys {
    ($(
        $(#[doc = $doc:literal])+
        $key:ident : $ty:ty, default $default:literal, sample $sample:literal;
    )+) => {
        /// One provider's keys as given, before the defaults.
        #[derive(Default)]
        struct ProviderKeys {
            $($key: Option<$ty>,)+
        }

        impl ProviderKeys {
            const KEYS: &'static [ProviderKey] = &[$(
                ProviderKey {
                    key: stringify!($key),
                    doc: concat!($($doc, "\n"),+),
                    default: $default,
                    #[cfg(test)]
                    sample: $sample,
                    #[cfg(test)]
                    toml_sample: <$ty as Value>::toml_sample,
                },
            )+];

            /// Reads `[oauth.<name>]`, refusing unknown keys.
            fn from_table(
                name: &str,
                table: toml::Table,
                src: &Layers<'_>,
            ) -> Result<Self, ConfigError> {
                let mut keys = Self::default();
                for (key, value) in table {
                    let error = |m: String| src.file_error(format!("oauth.{name}.{key}: {m}"));
                    $(
                        if key == stringify!($key) {
                            keys.$key = Some(<$ty as Value>::from_toml(value).map_err(error)?);
                            continue;
                        }
                    )+
                    return Err(src.file_error(format!(
                        "unknown key oauth.{name}.{key} (see accueil --help)"
                    )));
                }
                Ok(keys)
            }

            /// Overrides the file's keys with `ACCUEIL_OAUTH_<NAME>_<KEY>`.
            fn overlay_env(&mut self, upper_name: &str, src: &Layers<'_>) -> Result<(), ConfigError> {
                $(
                    let var = env_name(upper_name, stringify!($key));
                    if let Some(raw) = src.env(&var) {
                        self.$key = Some(
                            <$ty as Value>::from_env(&raw)
                                .map_err(|m| invalid(ANY_PROVIDER_VAR, format!("{var}: {m}")))?,
                        );
                    }
                )+
                Ok(())
            }
        }
    };
}

provider_keys! {
    /// our client id at the provider; setting it adds the provider, at `/api/v1/auth/<name>/...`
    /// (`GOOGLE` → `google`), whose callback URL is `<public url>/api/v1/auth/<name>/callback`
    client_id: String, default "none", sample "sample-client-id";
    /// our client secret at the provider; required with the client id
    client_secret: String, default "none", sample "sample-client-secret";
    /// OpenID Connect issuer, read by discovery; every name but `FACEBOOK` speaks OpenID
    /// Connect
    issuer: String, default "Google's for `GOOGLE`; required for the others",
        sample "https://idp.example";
    /// scopes, space- or comma-separated
    scopes: Scopes, default "`openid email profile`; Facebook `email public_profile`",
        sample "openid email groups";
    /// Facebook Login dialog (`FACEBOOK` only)
    auth_url: String, default "Facebook's v19.0 URL", sample "https://fb.example/dialog/oauth";
    /// Facebook token endpoint (`FACEBOOK` only)
    token_url: String, default "Facebook's v19.0 URL",
        sample "https://fb.example/oauth/access_token";
    /// Facebook Graph API base (`FACEBOOK` only)
    graph_url: String, default "Facebook's v19.0 URL", sample "https://graph.fb.example";
}

/// Every key a provider can have.
pub(crate) fn provider_keys() -> &'static [ProviderKey] {
    ProviderKeys::KEYS
}

/// Scopes: separated by spaces or commas in the environment, an array (or the same text) in
/// TOML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Scopes(Vec<String>);

impl Value for Scopes {
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(Self(
            raw.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(ToOwned::to_owned)
                .collect(),
        ))
    }

    fn from_toml(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Array(items) => items
                .into_iter()
                .map(String::from_toml)
                .collect::<Result<_, _>>()
                .map(Self),
            toml::Value::String(s) => Self::from_env(&s),
            other => Err(format!(
                "expected an array of scopes, not {}",
                other.type_str()
            )),
        }
    }

    #[cfg(test)]
    fn toml_sample(raw: &str) -> toml::Value {
        toml::Value::Array(
            raw.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        )
    }
}

/// The providers of the file's `[oauth.<name>]` tables and of the `ACCUEIL_OAUTH_<NAME>_CLIENT_ID`
/// variables, sorted by name.
fn providers(src: &mut Layers<'_>) -> Result<Vec<OAuthProviderSettings>, ConfigError> {
    // By lower-case name: the name as the variables spell it, and the file's keys.
    let mut found: BTreeMap<String, (String, ProviderKeys)> = BTreeMap::new();
    for (name, value) in src.take_rest("oauth")? {
        let toml::Value::Table(table) = value else {
            return Err(src.file_error(format!(
                "oauth.{name}: expected a provider's table, not {}",
                value.type_str()
            )));
        };
        let keys = ProviderKeys::from_table(&name, table, src)?;
        let lower = name.to_ascii_lowercase();
        if found
            .insert(lower, (name.to_ascii_uppercase(), keys))
            .is_some()
        {
            return Err(src.file_error(format!("oauth.{name}: given twice")));
        }
    }
    let from_env: Vec<String> = src
        .names()
        .iter()
        .filter_map(|n| {
            n.strip_prefix("ACCUEIL_OAUTH_")?
                .strip_suffix("_CLIENT_ID")
                .map(ToOwned::to_owned)
        })
        .filter(|upper| src.env(&env_name(upper, "client_id")).is_some())
        .collect();
    for upper in from_env {
        let lower = upper.to_ascii_lowercase();
        found
            .entry(lower)
            .or_insert_with(|| (String::new(), ProviderKeys::default()))
            .0 = upper;
    }
    found
        .into_iter()
        .map(|(name, (upper, mut keys))| {
            keys.overlay_env(&upper, src)?;
            provider(name, &upper, keys)
        })
        .collect()
}

/// One provider from its keys, with the defaults of its kind.
fn provider(
    name: String,
    upper: &str,
    keys: ProviderKeys,
) -> Result<OAuthProviderSettings, ConfigError> {
    let var = |key: &str| env_name(upper, key);
    if accueil_domain::identity::ProviderName::parse(&name).is_err() {
        return Err(invalid(
            "ACCUEIL_OAUTH_<NAME>_CLIENT_ID",
            format!("{upper}: a name is letters, digits and _"),
        ));
    }
    let client_id = keys.client_id.ok_or_else(|| {
        invalid(
            "ACCUEIL_OAUTH_<NAME>_CLIENT_ID",
            format!(
                "{} (or [oauth.{name}] client_id) is required",
                var("client_id")
            ),
        )
    })?;
    let client_secret = keys.client_secret.ok_or_else(|| {
        invalid(
            "ACCUEIL_OAUTH_<NAME>_CLIENT_SECRET",
            format!(
                "{} (or [oauth.{name}] client_secret) is required with {}",
                var("client_secret"),
                var("client_id")
            ),
        )
    })?;
    let kind = if name == "facebook" {
        let or = |v: Option<String>, default: &str| v.unwrap_or_else(|| default.to_owned());
        OAuthKind::Facebook {
            auth_url: or(keys.auth_url, accueil_oauth::facebook::DEFAULT_AUTH_URL),
            token_url: or(keys.token_url, accueil_oauth::facebook::DEFAULT_TOKEN_URL),
            graph_url: or(keys.graph_url, accueil_oauth::facebook::DEFAULT_GRAPH_URL),
        }
    } else {
        let issuer = match (keys.issuer, name.as_str()) {
            (Some(i), _) => i,
            (None, "google") => "https://accounts.google.com".to_owned(),
            (None, _) => {
                return Err(invalid(
                    "ACCUEIL_OAUTH_<NAME>_ISSUER",
                    format!(
                        "{} (or [oauth.{name}] issuer) is required for an OpenID Connect provider",
                        var("issuer")
                    ),
                ));
            }
        };
        OAuthKind::Oidc { issuer }
    };
    Ok(OAuthProviderSettings {
        name,
        kind,
        client_id,
        client_secret,
        scopes: keys.scopes.map(|s| s.0).unwrap_or_default(),
    })
}
