//! The settings' tests: every declared setting through both sources, the help and README made
//! of the declarations, and the behaviour each setting had before the declarations existed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};

use chrono::Duration;

use super::oauth::provider_keys;
use super::*;

const GOOD_SECRET: &str = "q8Zr1xV3mN7bT2yL5kJ9wC4hF6dS0aEgP3uR8iO1";

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

/// Loads with this file content.
fn load_toml(vars: &[(&str, &str)], toml: &str) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accueil.toml");
    std::fs::write(&path, toml).unwrap();
    load(vars, Some(&path))
}

/// A TOML value as it would be written in the file.
fn literal(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        other => panic!("no sample is a {}", other.type_str()),
    }
}

fn value_of(s: &Settings, env: &str) -> String {
    s.values()
        .into_iter()
        .find(|(e, _)| *e == env)
        .map(|(_, v)| v)
        .unwrap()
}

fn declared() -> impl Iterator<Item = (&'static declare::Section, &'static declare::Info)> {
    Settings::SECTIONS
        .iter()
        .flat_map(|section| section.settings.iter().map(move |s| (section, s)))
}

/// Every declared setting, set to its sample once through the environment, once by its flat
/// TOML key and once in its section, resolves to the same value, and not to the default.
#[test]
fn every_setting_reads_the_same_from_the_environment_and_the_file() {
    // What some samples need to be valid: production needs a good secret, a public URL and an
    // SMTP server, OAuth-only mode a provider. The setting under test is left out of it, so the file is not overridden.
    let base = [
        ("ACCUEIL_JWT_SECRET", GOOD_SECRET),
        ("ACCUEIL_PUBLIC_URL", "https://base.example"),
        ("ACCUEIL_SMTP_URL", "smtp://mail.base.example:25"),
        ("ACCUEIL_OAUTH_GOOGLE_CLIENT_ID", "g-id"),
        ("ACCUEIL_OAUTH_GOOGLE_CLIENT_SECRET", "g-secret"),
    ];
    let mut count = 0;
    for (section, s) in declared() {
        let base: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != s.env).collect();
        let default = value_of(&load(&base, None).unwrap(), s.env);
        let mut with_env = base.clone();
        with_env.push((s.env, s.sample));
        let from_env =
            load(&with_env, None).unwrap_or_else(|e| panic!("{} = {:?}: {e}", s.env, s.sample));
        let from_env = value_of(&from_env, s.env);
        let toml = literal(&(s.toml_sample)(s.sample));
        for file in [
            format!("{} = {toml}\n", s.flat_key()),
            format!("[{}]\n{} = {toml}\n", section.key, s.field),
        ] {
            let from_file = load_toml(&base, &file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(value_of(&from_file, s.env), from_env, "{file}");
        }
        assert_ne!(from_env, default, "{}: the sample is the default", s.env);
        count += 1;
    }
    assert_eq!(count, OPERATORS_RELY_ON.len());
}

/// Each provider key, set once through its variable and once in `[oauth.<name>]`, gives the
/// same provider; and each changes the provider it applies to.
#[test]
fn every_provider_key_reads_the_same_from_the_environment_and_the_file() {
    fn provider(s: &Settings, name: &str) -> String {
        s.oauth
            .providers
            .iter()
            .find(|p| p.name == name)
            .map_or_else(
                || "absent".into(),
                |p| {
                    format!(
                        "{:?} {:?} {} {}",
                        p.kind, p.scopes, p.client_id, p.client_secret
                    )
                },
            )
    }
    for k in provider_keys() {
        let mut changed = false;
        for (name, upper) in [("corp", "CORP"), ("facebook", "FACEBOOK")] {
            let base_vars = [
                (format!("ACCUEIL_OAUTH_{upper}_CLIENT_ID"), "base-id"),
                (
                    format!("ACCUEIL_OAUTH_{upper}_CLIENT_SECRET"),
                    "base-secret",
                ),
                (
                    format!("ACCUEIL_OAUTH_{upper}_ISSUER"),
                    "https://base.example",
                ),
            ];
            let var = k.env(upper);
            let base: Vec<(&str, &str)> = base_vars
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .filter(|(k, _)| *k != var)
                .collect();
            let default =
                load(&base, None).map_or_else(|_| "refused".into(), |s| provider(&s, name));
            let mut with_env = base.clone();
            with_env.push((&var, k.sample));
            let from_env = provider(&load(&with_env, None).unwrap(), name);
            let toml = literal(&(k.toml_sample)(k.sample));
            for file in [
                format!("[oauth.{name}]\n{} = {toml}\n", k.key),
                format!("oauth.{name}.{} = {toml}\n", k.key),
            ] {
                let from_file = load_toml(&base, &file).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(provider(&from_file, name), from_env, "{file}");
            }
            changed |= from_env != default;
        }
        assert!(changed, "{}: the sample changes no provider", k.key);
    }
}

/// The variables operators and scripts set; renaming one breaks their deployments.
const OPERATORS_RELY_ON: &[&str] = &[
    "ACCUEIL_ENV",
    "ACCUEIL_BIND",
    "ACCUEIL_DATA_DIR",
    "DATABASE_URL",
    "ACCUEIL_DB_MAX_CONNECTIONS",
    "ACCUEIL_JWT_SECRET",
    "ACCUEIL_JWT_ISSUER",
    "ACCUEIL_JWT_AUDIENCE",
    "ACCUEIL_ACCESS_TTL",
    "ACCUEIL_REFRESH_TTL",
    "ACCUEIL_BCRYPT_COST",
    "ACCUEIL_CORS_ORIGINS",
    "ACCUEIL_JSON_LIMIT",
    "ACCUEIL_WORKERS",
    "ACCUEIL_LOG_FORMAT",
    "ACCUEIL_PUBLIC_URL",
    "ACCUEIL_SMTP_URL",
    "ACCUEIL_MAIL_FROM",
    "ACCUEIL_SMTP_TIMEOUT",
    "ACCUEIL_OUTBOX_POLL",
    "ACCUEIL_OUTBOX_RETRY_BASE",
    "ACCUEIL_REQUIRE_VERIFIED_EMAIL",
    "ACCUEIL_DELETION_GRACE",
    "ACCUEIL_RATE_LOGIN_IP",
    "ACCUEIL_RATE_LOGIN_ACCOUNT",
    "ACCUEIL_RATE_REGISTER_IP",
    "ACCUEIL_RATE_MAIL_IP",
    "ACCUEIL_RATE_MAIL_ACCOUNT",
    "ACCUEIL_RATE_JOIN_USER",
    "ACCUEIL_RATE_JOIN_IP",
    "ACCUEIL_TRUSTED_PROXIES",
    "ACCUEIL_MAX_PHOTO_BYTES",
    "ACCUEIL_MAX_PHOTO_PIXELS",
    "ACCUEIL_UPLOAD_CONCURRENCY",
    "ACCUEIL_HASH_CONCURRENCY",
    "ACCUEIL_MAX_ACTIVE_SHARES",
    "ACCUEIL_PHOTO_URL_TTL",
    "ACCUEIL_PASSWORD_AUTH",
    "ACCUEIL_OAUTH_REDIRECT_URL",
    "ACCUEIL_METRICS",
    "ACCUEIL_METRICS_TOKEN",
    "ACCUEIL_JOBS_RUNNER",
    "ACCUEIL_JOBS_POLL",
    "ACCUEIL_JOBS_LEASE",
    "ACCUEIL_JOBS_ZONE",
    "ACCUEIL_JOBS_HISTORY",
    "ACCUEIL_EVENTS",
    "ACCUEIL_RATE_WS_TICKET_USER",
    "ACCUEIL_RATE_INVITE_USER",
    "ACCUEIL_WS_HEARTBEAT",
    "ACCUEIL_WS_AUTH_TIMEOUT",
    "ACCUEIL_WS_MAX_PER_USER",
    "ACCUEIL_WS_MESSAGE_RATE",
];

#[test]
fn every_variable_operators_rely_on_is_still_declared() {
    let declared: BTreeSet<&str> = declared().map(|(_, s)| s.env).collect();
    let relied: BTreeSet<&str> = OPERATORS_RELY_ON.iter().copied().collect();
    assert_eq!(declared, relied);
    let keys: Vec<&str> = provider_keys().iter().map(|k| k.key).collect();
    assert_eq!(
        keys,
        [
            "client_id",
            "client_secret",
            "issuer",
            "scopes",
            "auth_url",
            "token_url",
            "graph_url"
        ]
    );
}

#[test]
fn declarations_are_unique_and_documented() {
    let mut envs = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let sections: BTreeSet<&str> = Settings::SECTIONS.iter().map(|s| s.key).collect();
    assert_eq!(sections.len(), Settings::SECTIONS.len());
    for (section, s) in declared() {
        assert!(envs.insert(s.env), "{} declared twice", s.env);
        assert!(
            keys.insert(s.flat_key()),
            "{} is two settings' key",
            s.flat_key()
        );
        assert!(
            !sections.contains(s.flat_key().as_str()),
            "{} is also a section",
            s.flat_key()
        );
        assert!(!s.doc.trim().is_empty(), "{} has no help", s.env);
        assert!(!section.title.trim().is_empty());
        assert!(
            !s.env.ends_with("_CLIENT_ID"),
            "{} would be taken for a provider",
            s.env
        );
    }
    for v in general::ENVIRONMENT_ONLY {
        assert!(envs.insert(v.env), "{} declared twice", v.env);
    }
}

#[test]
fn the_help_names_every_variable() {
    let help = settings_help();
    for (section, s) in declared() {
        assert!(help.contains(s.env), "--help lacks {}", s.env);
        assert!(help.contains(&format!("[{}]", section.key)));
    }
    for v in general::ENVIRONMENT_ONLY {
        assert!(help.contains(v.env), "--help lacks {}", v.env);
    }
    for k in provider_keys() {
        assert!(help.contains(&k.env("<NAME>")), "--help lacks {}", k.key);
    }
    assert!(help.contains("ACCUEIL_BIND               listen address (default: 127.0.0.1:8080)"));
    for line in help.lines() {
        assert!(line.chars().count() <= 100, "too long: {line}");
    }
}

/// The README's table is the generated one; `UPDATE_README=1` rewrites it.
#[test]
fn the_readme_table_is_the_declarations() {
    const BEGIN: &str = "<!-- settings: generated from crates/server/src/config; \
                         UPDATE_README=1 cargo test -p accueil-server --lib readme -->\n";
    const END: &str = "<!-- end of settings -->";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README lacks the settings marker")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README lacks the end marker");
    let table = docs::settings_table();
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, updated).unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        table,
        "the README's settings table is stale: run UPDATE_README=1 cargo test -p accueil-server --lib readme"
    );
    for (_, s) in declared() {
        assert!(
            readme.contains(&format!("`{}`", s.env)),
            "README lacks {}",
            s.env
        );
    }
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
    let p = &s.oauth.providers;
    let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["facebook", "google", "my_idp"]);
    assert_eq!(
        p[1].kind,
        OAuthKind::Oidc {
            issuer: "https://accounts.google.com".into()
        }
    );
    assert!(
        matches!(&p[0].kind, OAuthKind::Facebook { graph_url, .. } if graph_url.starts_with("https://graph.facebook.com"))
    );
    assert_eq!(p[2].scopes, ["openid", "email", "groups"]);
    assert!(!format!("{p:?}").contains("secret\""));
    assert!(format!("{p:?}").contains("<redacted>"));
    assert_eq!(s.oauth.redirect_url, "http://127.0.0.1:8080/oauth/done");

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
    assert!(
        load(&[("ACCUEIL_OAUTH_GOOGLE_CLIENT_SECRET", "s")], None)
            .unwrap()
            .oauth
            .providers
            .is_empty(),
        "a secret alone configures nothing"
    );
}

#[test]
fn oauth_providers_come_from_the_file_too() {
    let file = "password_auth = false\n\
                [oauth]\nredirect_url = \"https://app.example/done\"\n\
                [oauth.google]\nclient_id = \"g-id\"\nclient_secret = \"g-secret\"\n\
                [oauth.corp]\nclient_id = \"c-id\"\nclient_secret = \"c-secret\"\n\
                issuer = \"https://idp.example\"\nscopes = [\"openid\", \"groups\"]\n";
    let s = load_toml(&[("ACCUEIL_OAUTH_CORP_CLIENT_SECRET", "from-env")], file).unwrap();
    assert!(!s.auth.password_auth);
    assert_eq!(s.oauth.redirect_url, "https://app.example/done");
    let p = &s.oauth.providers;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].name, "corp");
    assert_eq!(p[0].scopes, ["openid", "groups"]);
    assert_eq!(
        p[0].client_secret, "from-env",
        "the environment wins key by key"
    );
    assert_eq!(p[1].client_id, "g-id");

    for bad in [
        "[oauth.google]\nclient_id = \"g\"\nclient_secert = \"s\"\n",
        "[oauth.google]\nclient_secret = \"s\"\n",
        "[oauth.corp]\nclient_id = \"c\"\nclient_secret = \"s\"\n",
        "[oauth]\ngoogle = \"x\"\n",
        "[oauth.Bad-Name]\nclient_id = \"c\"\nclient_secret = \"s\"\n",
        "oauth_google_client_id = \"g\"\n",
    ] {
        assert!(load_toml(&[], bad).is_err(), "{bad}");
    }
}

#[test]
fn defaults_need_nothing() {
    let s = load(&[], None).unwrap();
    assert_eq!(s.general.env, Environment::Development);
    assert_eq!(s.general.log_format, LogFormat::Text);
    assert_eq!(s.http.bind, "127.0.0.1:8080");
    assert_eq!(s.database.url, "sqlite://./data/accueil.db");
    assert_eq!(s.database.max_connections, 8);
    assert_eq!(s.auth.access_ttl, Duration::minutes(15));
    assert_eq!(s.auth.refresh_ttl, Duration::days(30));
    assert_eq!(s.auth.bcrypt_cost, 12);
    assert!(s.auth.jwt_secret.is_none());
    assert!(s.auth.password_auth);
    assert_eq!(s.http.public_url, "http://127.0.0.1:8080");
    assert!(!s.is_configured("ACCUEIL_PUBLIC_URL"));
    assert_eq!(s.http.json_limit, 65_536);
    assert!(s.http.workers.is_none() && s.http.upload_concurrency >= 2);
    assert!(s.mail.smtp_url.is_none() && !s.auth.require_verified_email);
    assert_eq!(s.mail.from, "Accueil <no-reply@localhost>");
    assert_eq!(s.auth.deletion_grace, Duration::days(30));
    assert_eq!(s.limits.identity().login_ip, parse_rate("30/5m").unwrap());
    assert_eq!(s.limits.couples().join_ip, parse_rate("30/15m").unwrap());
    assert_eq!(s.memories.app().max_photo_bytes, 16 * 1024 * 1024);
    assert_eq!(s.memories.max_photo_pixels, 40_000_000);
    assert_eq!(s.oauth.redirect_url, "http://127.0.0.1:8080/oauth/done");
    assert!(s.oauth.providers.is_empty());
    assert_eq!(s.general.data_dir, PathBuf::from("./data"));
    assert_eq!(
        (s.auth.jwt_issuer.as_str(), s.auth.jwt_audience.as_str()),
        ("accueil", "accueil-api")
    );
    assert!(s.http.cors_origins.is_empty() && s.http.trusted_proxies.is_empty());
    assert_eq!(s.mail.timeout, Duration::seconds(10));
    assert_eq!(s.mail.outbox_retry_base, Duration::seconds(15));
    let rates = [
        (s.limits.login_ip, "30/5m"),
        (s.limits.login_account, "10/15m"),
        (s.limits.register_ip, "10/1h"),
        (s.limits.mail_ip, "20/1h"),
        (s.limits.mail_account, "5/1h"),
        (s.limits.join_user, "10/15m"),
        (s.limits.join_ip, "30/15m"),
    ];
    for (rate, expected) in rates {
        assert_eq!(rate, parse_rate(expected).unwrap(), "{expected}");
    }
    assert_eq!(s.memories.max_active_shares, 50);
    assert!(s.jobs.runner);
    assert_eq!(
        (s.jobs.poll, s.jobs.lease, s.jobs.history),
        (
            Duration::seconds(1),
            Duration::minutes(5),
            Duration::days(30)
        )
    );
    assert_eq!(s.jobs.zone, "UTC");
    assert!(s.jobs.schedules.is_empty());
}

#[test]
fn job_schedules_come_from_the_file_and_the_environment() {
    let s = load_toml(
        &[("ACCUEIL_JOBS_SCHEDULE_PURGE_DELETED", "0 0 4 * * *")],
        "[jobs]\nzone = \"Europe/Paris\"\n\
         [jobs.schedules]\npurge-deleted = \"0 30 3 * * *\"\nmail-delivery = \"*/5 * * * * *\"\n",
    )
    .unwrap();
    assert_eq!(s.jobs.zone, "Europe/Paris");
    let got: Vec<(&str, &str)> = s
        .jobs
        .schedules
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("mail-delivery", "*/5 * * * * *"),
            ("purge-deleted", "0 0 4 * * *"),
        ],
        "the variable wins over the file for its job"
    );
    for (vars, toml) in [
        (
            vec![("ACCUEIL_JOBS_SCHEDULE_PURGE_DELETED", "every night")],
            "",
        ),
        (vec![], "[jobs.schedules]\npurge-deleted = \"61 * * * *\"\n"),
        (vec![], "[jobs.schedules]\npurge-deleted = 3\n"),
        (vec![], "[jobs]\nschedule = \"x\"\n"),
        (vec![], "[jobs]\nschedules = \"x\"\n"),
        (vec![("ACCUEIL_JOBS_ZONE", "Mars/Olympus")], ""),
        (vec![("ACCUEIL_JOBS_LEASE", "500ms")], ""),
        (vec![("ACCUEIL_JOBS_RUNNER", "sometimes")], ""),
    ] {
        assert!(load_toml(&vars, toml).is_err(), "{vars:?} {toml}");
    }
}

#[test]
fn defaults_follow_the_settings_they_depend_on() {
    let s = load(
        &[
            ("ACCUEIL_DATA_DIR", "/srv/accueil"),
            ("ACCUEIL_BIND", "0.0.0.0:80"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(s.database.url, "sqlite:///srv/accueil/accueil.db");
    assert_eq!(s.http.public_url, "http://0.0.0.0:80");
    let s = load(&[("ACCUEIL_PUBLIC_URL", "https://app.example/")], None).unwrap();
    assert_eq!(s.http.public_url, "https://app.example");
    assert!(s.is_configured("ACCUEIL_PUBLIC_URL"));
    assert_eq!(s.oauth.redirect_url, "https://app.example/oauth/done");
    assert!(load(&[("ACCUEIL_PUBLIC_URL", "app.example")], None).is_err());
    assert_eq!(
        load(&[("ACCUEIL_UPLOAD_CONCURRENCY", "0")], None)
            .unwrap()
            .http
            .upload_concurrency,
        1
    );
}

#[test]
fn environment_wins_over_the_file() {
    let file = "bind = \"0.0.0.0:9000\"\naccess_ttl = \"5m\"\ncors_origins = [\"https://a.example\"]\nbcrypt_cost = 10\n";
    let s = load_toml(&[("ACCUEIL_BIND", "127.0.0.1:1")], file).unwrap();
    assert_eq!(s.http.bind, "127.0.0.1:1");
    assert_eq!(s.auth.access_ttl, Duration::minutes(5));
    assert_eq!(s.http.cors_origins, vec!["https://a.example"]);
    assert_eq!(s.auth.bcrypt_cost, 10);
    let s = load_toml(
        &[(
            "ACCUEIL_CORS_ORIGINS",
            "https://x.example, https://y.example",
        )],
        file,
    )
    .unwrap();
    assert_eq!(
        s.http.cors_origins,
        vec!["https://x.example", "https://y.example"]
    );
    // A broken file is an error even where the environment overrides it.
    assert!(load_toml(&[("ACCUEIL_BCRYPT_COST", "10")], "bcrypt_cost = \"ten\"\n").is_err());
}

#[test]
fn file_values_have_their_native_forms() {
    let file = "access_ttl = 900\nrequire_verified_email = true\ntrusted_proxies = [\"10.0.0.0/8\"]\n\
                [database]\nmax_connections = 4\n[limits]\nlogin_ip = \"5/1m\"\n";
    let s = load_toml(&[], file).unwrap();
    assert_eq!(s.auth.access_ttl, Duration::seconds(900));
    assert!(s.auth.require_verified_email);
    assert_eq!(s.http.trusted_proxies.len(), 1);
    assert_eq!(s.database.max_connections, 4);
    assert_eq!(s.limits.login_ip, parse_rate("5/1m").unwrap());
    for bad in [
        "bcrypt_cost = -1\n",
        "bcrypt_cost = 3\n",
        "access_ttl = 0\n",
        "access_ttl = true\n",
        "require_verified_email = 1\n",
        "cors_origins = 5\n",
        "rate_login_ip = \"lots\"\n",
        "env = \"staging\"\n",
    ] {
        assert!(load_toml(&[], bad).is_err(), "{bad}");
    }
}

#[test]
fn unknown_file_keys_are_errors() {
    for bad in [
        "bnid = \"x\"\n",
        "[http]\nbnid = \"x\"\n",
        "[htpp]\nbind = \"x\"\n",
        "http = \"x\"\n",
        "bind = \"a:1\"\n[http]\nbind = \"b:2\"\n",
        "not toml at all",
    ] {
        assert!(
            matches!(load_toml(&[], bad), Err(ConfigError::File { .. })),
            "{bad}"
        );
    }
    let err = load_toml(&[], "bnid = 1\n[mail]\nfrm = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("bnid, mail.frm"), "{err}");
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
    assert_eq!(s.http.trusted_proxies.len(), 3);
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
    let good = ("ACCUEIL_JWT_SECRET", GOOD_SECRET);
    let url = ("ACCUEIL_PUBLIC_URL", "https://app.example");
    let smtp = ("ACCUEIL_SMTP_URL", "smtp://mail.example:25");
    assert!(load(&[prod, good, url, smtp], None).is_ok());
    assert!(load(&[prod, good, url, smtp, ("ACCUEIL_BCRYPT_COST", "8")], None).is_err());
    for (missing, vars) in [
        ("ACCUEIL_PUBLIC_URL", [prod, good, smtp]),
        ("ACCUEIL_SMTP_URL", [prod, good, url]),
    ] {
        let err = load(&vars, None).unwrap_err();
        assert!(err.to_string().starts_with(missing), "{err}");
    }
    assert!(
        load_toml(
            &[prod, good],
            "public_url = \"https://app.example\"\n[mail]\nsmtp_url = \"smtp://mail.example\"\n"
        )
        .is_ok(),
        "the file may give them"
    );
    assert!(load(&[("ACCUEIL_ENV", "staging")], None).is_err());
    assert!(load(&[("ACCUEIL_BCRYPT_COST", "3")], None).is_err());
    assert!(load(&[("ACCUEIL_BCRYPT_COST", "32")], None).is_err());
    assert!(
        load_toml(&[good], "env = \"production\"\nbcrypt_cost = 8\n").is_err(),
        "the file is judged like the environment"
    );
}

#[test]
fn metrics_default_by_mode_and_token_mode_needs_a_token() {
    assert_eq!(load(&[], None).unwrap().metrics.mode, MetricsMode::On);
    let prod = [
        ("ACCUEIL_ENV", "production"),
        ("ACCUEIL_JWT_SECRET", GOOD_SECRET),
        ("ACCUEIL_PUBLIC_URL", "https://app.example"),
        ("ACCUEIL_SMTP_URL", "smtp://mail.example:25"),
    ];
    assert_eq!(load(&prod, None).unwrap().metrics.mode, MetricsMode::Off);
    let token = ("ACCUEIL_METRICS", "token");
    let err = load(&[token], None).unwrap_err();
    assert!(
        err.to_string().starts_with("ACCUEIL_METRICS_TOKEN"),
        "{err}"
    );
    let weak = ("ACCUEIL_METRICS_TOKEN", "changeme");
    assert!(
        load(&[token, weak], None).is_ok(),
        "development takes any token"
    );
    let mut with = prod.to_vec();
    with.extend([token, weak]);
    assert!(load(&with, None).is_err(), "production wants a strong one");
    with.pop();
    with.push(("ACCUEIL_METRICS_TOKEN", GOOD_SECRET));
    assert!(load(&with, None).is_ok());
    assert!(load(&[("ACCUEIL_METRICS", "maybe")], None).is_err());
}

#[test]
fn the_event_bus_follows_the_database_unless_told_and_postgres_needs_postgresql() {
    let pg = ("DATABASE_URL", "postgres://accueil@db.example/accueil");
    let s = load(&[], None).unwrap();
    assert_eq!(s.events.mode, EventsMode::Auto);
    assert!(!s.events.postgres(false) && s.events.postgres(true));
    let local = load(&[pg, ("ACCUEIL_EVENTS", "local")], None).unwrap();
    assert!(!local.events.postgres(true), "one instance on PostgreSQL");
    let shared = load(&[pg, ("ACCUEIL_EVENTS", "postgres")], None).unwrap();
    assert!(shared.events.postgres(true));
    let err = load(&[("ACCUEIL_EVENTS", "postgres")], None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ACCUEIL_EVENTS: postgres needs a PostgreSQL DATABASE_URL"),
        "{err}"
    );
    let err = load_toml(&[], "[event_bus]\nmode = \"postgres\"\n").unwrap_err();
    assert!(err.to_string().starts_with("ACCUEIL_EVENTS"), "{err}");
    assert!(load(&[("ACCUEIL_EVENTS", "redis")], None).is_err());
}

#[test]
fn booleans_take_every_spelling() {
    for (raw, on) in [
        ("true", true),
        ("1", true),
        ("yes", true),
        ("on", true),
        ("false", false),
        ("0", false),
        ("no", false),
        ("off", false),
    ] {
        let s = load(&[("ACCUEIL_REQUIRE_VERIFIED_EMAIL", raw)], None).unwrap();
        assert_eq!(s.auth.require_verified_email, on, "{raw}");
    }
    assert!(load(&[("ACCUEIL_REQUIRE_VERIFIED_EMAIL", "maybe")], None).is_err());
}

#[test]
fn debug_hides_every_secret() {
    let file = "[oauth.corp]\nclient_id = \"c-id\"\nclient_secret = \"file-oauth-s3cret\"\n\
                issuer = \"https://idp.example\"\n";
    let s = load_toml(
        &[
            ("ACCUEIL_JWT_SECRET", GOOD_SECRET),
            (
                "ACCUEIL_SMTP_URL",
                "smtp://mailer:smtp-pa55@mail.example:587",
            ),
            (
                "DATABASE_URL",
                "postgres://accueil:db-pa55@db.example/accueil",
            ),
            ("ACCUEIL_OAUTH_GOOGLE_CLIENT_ID", "g-id"),
            ("ACCUEIL_OAUTH_GOOGLE_CLIENT_SECRET", "env-oauth-s3cret"),
        ],
        file,
    )
    .unwrap();
    let debug = format!("{s:?}");
    for secret in [
        "q8Zr1x",
        "smtp-pa55",
        "db-pa55",
        "mailer",
        "env-oauth-s3cret",
        "file-oauth-s3cret",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    for shown in [
        "mail.example:587",
        "db.example/accueil",
        "g-id",
        "c-id",
        "<redacted>",
    ] {
        assert!(debug.contains(shown), "{shown} missing from {debug}");
    }
}
