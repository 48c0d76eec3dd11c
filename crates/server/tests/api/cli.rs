//! End to end: the `accueil` binary's subcommands and its refusals.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{self, Db, TestServer, problem};

pub(crate) fn accueil(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accueil"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn help_lists_subcommands_and_settings() {
    let out = accueil(&["--help"], &[], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "serve",
        "migrate",
        "create-admin",
        "ACCUEIL_BIND",
        "DATABASE_URL",
        "ACCUEIL_JWT_SECRET",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn production_refuses_a_missing_or_weak_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    for secret in [
        None,
        Some("changeme-changeme-changeme-changeme"),
        Some("short"),
    ] {
        let mut env = vec![
            ("ACCUEIL_ENV", "production"),
            ("ACCUEIL_DATA_DIR", data.as_str()),
        ];
        if let Some(s) = secret {
            env.push(("ACCUEIL_JWT_SECRET", s));
        }
        let out = accueil(&["serve"], &env, "");
        assert_eq!(out.status.code(), Some(2), "{secret:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("ACCUEIL_JWT_SECRET"), "{err}");
        assert!(
            !err.contains("changeme"),
            "the secret is never printed: {err}"
        );
    }
}

#[test]
fn production_refuses_a_missing_public_url_or_smtp_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let base = [
        ("ACCUEIL_ENV", "production"),
        ("ACCUEIL_DATA_DIR", data.as_str()),
        ("ACCUEIL_JWT_SECRET", common::SECRET),
    ];
    for (missing, extra) in [
        (
            "ACCUEIL_PUBLIC_URL",
            ("ACCUEIL_SMTP_URL", "smtp://127.0.0.1:1"),
        ),
        (
            "ACCUEIL_SMTP_URL",
            ("ACCUEIL_PUBLIC_URL", "https://app.test"),
        ),
    ] {
        let mut env = base.to_vec();
        env.push(extra);
        let out = accueil(&["migrate"], &env, "");
        assert_eq!(out.status.code(), Some(2), "{missing}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(missing), "{err}");
    }
}

/// Row-level security does not apply to a superuser or a `BYPASSRLS` role: production refuses
/// to run as one, and runs as the database's ordinary owner.
#[test]
fn production_refuses_a_role_that_skips_row_level_security() {
    let Some(db) = accueil_store_diesel::testing::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let run = |url: &str| {
        let env = [
            ("ACCUEIL_ENV", "production"),
            ("ACCUEIL_DATA_DIR", data.as_str()),
            ("ACCUEIL_JWT_SECRET", common::SECRET),
            ("ACCUEIL_PUBLIC_URL", "https://app.test"),
            ("ACCUEIL_SMTP_URL", "smtp://127.0.0.1:1"),
            ("DATABASE_URL", url),
        ];
        accueil(&["migrate"], &env, "")
    };
    let refused = run(&db.superuser_url().unwrap());
    assert!(!refused.status.success());
    let err = String::from_utf8(refused.stderr).unwrap();
    assert!(
        err.contains("BYPASSRLS") && err.contains("ordinary role"),
        "{err}"
    );
    let ordinary = run(&db.url());
    assert!(
        ordinary.status.success(),
        "{:?}\nstderr: {}\nstdout: {}",
        ordinary.status,
        String::from_utf8_lossy(&ordinary.stderr),
        String::from_utf8_lossy(&ordinary.stdout)
    );
}

#[test]
fn migrate_applies_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let out = accueil(&["migrate"], &[("ACCUEIL_DATA_DIR", &data)], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("20261123000001")
    );
    assert!(dir.path().join("accueil.db").exists());
}

#[test]
fn the_config_file_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-file");
    let config = dir.path().join("accueil.toml");
    std::fs::write(
        &config,
        format!(
            "password_auth = true\n[general]\ndata_dir = {:?}\n[oauth.google]\nclient_id = \"g\"\nclient_secret = \"s\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let path = config.display().to_string();
    let out = accueil(&["migrate", "--config", &path], &[], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("accueil.db").exists());

    std::fs::write(&config, "[http]\nbnid = \"0.0.0.0:1\"\n").unwrap();
    let out = accueil(&["migrate"], &[("ACCUEIL_CONFIG", &path)], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("http.bnid"), "{err}");
}

#[tokio::test]
async fn create_admin_creates_then_promotes() {
    let s = TestServer::start().await;
    let url = s.db_url.clone();
    let data = s.data_dir.display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("ACCUEIL_DATA_DIR", data.as_str()),
        ("ACCUEIL_JWT_SECRET", common::SECRET),
        ("ACCUEIL_BCRYPT_COST", "4"),
    ];
    let run = |args: Vec<&'static str>, stdin: &'static str| {
        let env = env.map(|(k, v)| (k, v.to_owned()));
        async move {
            tokio::task::spawn_blocking(move || {
                let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
                accueil(&args, &env, stdin)
            })
            .await
            .unwrap()
        }
    };

    // No account and no password: refused.
    let out = run(vec!["create-admin", "--email", "root@example.org"], "").await;
    assert!(!out.status.success());
    // Created with a password from stdin.
    let out = run(
        vec![
            "create-admin",
            "--email",
            "root@example.org",
            "--password-stdin",
        ],
        "a long admin passphrase\n",
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "root@example.org", "password": "a long admin passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t: serde_json::Value = res.json().await.unwrap();
    let me: serde_json::Value = s
        .get_auth("/api/v1/users/me", t["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], json!(["user", "admin"]));

    // An existing account is promoted and keeps its password.
    s.register("ann@example.org", None).await;
    let out = run(vec!["create-admin", "--email", "ann@example.org"], "").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("now an administrator")
    );
    let t = s.login("ann@example.org").await;
    let me: serde_json::Value = s
        .get_auth("/api/v1/auth/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], json!(["user", "admin"]));
    s.stop().await;
}

#[tokio::test]
async fn a_disabled_account_can_neither_log_in_nor_refresh() {
    let s = TestServer::start_with(Db::Sqlite, &[]).await.unwrap();
    let user = s.register("ann@example.org", None).await;
    let t = s.login("ann@example.org").await;
    let id = accueil_domain::identity::UserId(user["id"].as_str().unwrap().parse().unwrap());
    use accueil_ports::StoreExt;
    s.store()
        .write(
            move |tx| -> Result<(), accueil_ports::identity::UserWriteError> {
                let mut u = tx.users().user_by_id(id)?.unwrap();
                u.is_active = false;
                tx.users().update_user(&u)
            },
        )
        .await
        .unwrap();
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@example.org", "password": common::PASSWORD}),
        )
        .await;
    assert_eq!(problem(res).await.1, "account_disabled");
    let res = s
        .post("/api/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    let (status, code, _) = problem(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "account_disabled")
    );
    let res = s.get_auth("/api/v1/users/me", &t.access).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "its session was revoked by the refused refresh"
    );
    s.stop().await;
}

#[tokio::test]
async fn outbox_lists_failed_mail_and_retries_it_and_purge_runs() {
    // SMTP points at a closed port and refuses for good: make the failure permanent by hand.
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    use accueil_ports::StoreExt;
    let id = s
        .store()
        .read(|tx| tx.outbox().list(None, 10))
        .await
        .unwrap()[0]
        .id;
    s.store()
        .write(move |tx| tx.outbox().mark_failed(id, "550 mailbox unavailable"))
        .await
        .unwrap();
    s.stop().await;
    let url = s.db_url.clone();
    let data = s.data_dir.display().to_string();
    let env = vec![
        ("DATABASE_URL".to_owned(), url),
        ("ACCUEIL_DATA_DIR".to_owned(), data),
        ("ACCUEIL_JWT_SECRET".to_owned(), common::SECRET.to_owned()),
        ("ACCUEIL_BCRYPT_COST".to_owned(), "4".to_owned()),
    ];
    let run = move |args: Vec<String>| {
        let env = env.clone();
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            accueil(&args, &env, "")
        })
    };
    let out = run(vec!["outbox".into()]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.contains("failed (1)") && listing.contains(&id.to_string()),
        "{listing}"
    );
    assert!(listing.contains("550 mailbox unavailable"), "{listing}");
    let out = run(vec!["outbox".into(), "retry".into(), id.to_string()])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(vec![
        "outbox".into(),
        "list".into(),
        "--state".into(),
        "pending".into(),
    ])
    .await
    .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains(&id.to_string())
    );
    let out = run(vec!["outbox".into(), "retry".into(), id.to_string()])
        .await
        .unwrap();
    assert!(!out.status.success(), "only failed mail can be retried");
    let out = run(vec!["purge-deleted".into()]).await.unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("purged 0"));
}

#[tokio::test]
async fn disable_user_and_enable_user() {
    let s = TestServer::start().await;
    s.register("ann@example.org", None).await;
    let t = s.login("ann@example.org").await;
    let env = vec![
        ("DATABASE_URL".to_owned(), s.db_url.clone()),
        (
            "ACCUEIL_DATA_DIR".to_owned(),
            s.data_dir.display().to_string(),
        ),
        ("ACCUEIL_JWT_SECRET".to_owned(), common::SECRET.to_owned()),
        ("ACCUEIL_BCRYPT_COST".to_owned(), "4".to_owned()),
    ];
    let run = move |args: Vec<&'static str>| {
        let env = env.clone();
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            accueil(&args, &env, "")
        })
    };
    let out = run(vec!["disable-user", "--email", "ann@example.org"])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        s.get_auth("/api/v1/users/me", &t.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = s
        .post(
            "/api/v1/auth/login",
            json!({"login": "ann@example.org", "password": common::PASSWORD}),
        )
        .await;
    assert_eq!(problem(res).await.1, "account_disabled");
    let out = run(vec!["enable-user", "--email", "ann@example.org"])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.login("ann@example.org").await;
    let out = run(vec!["disable-user", "--email", "nobody@example.org"])
        .await
        .unwrap();
    assert!(!out.status.success());
    s.stop().await;
}
