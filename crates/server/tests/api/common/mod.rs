//! The shared harness: a real `accueil` on 127.0.0.1:0 with its own database (a fresh SQLite
//! file or PostgreSQL database per server), a client, and the steps most flows start with.
// Not every flow uses every helper.
#![allow(dead_code)]

pub mod instances;
pub mod photos;
pub mod private_pg;

use std::path::PathBuf;

use accueil_server::config::{Settings, Sources};
use accueil_store_diesel::testing::{self, TestStore};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

pub const SECRET: &str = "e2e-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aEg";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub data_dir: PathBuf,
    pub db: Option<TestStore>,
    pub db_url: String,
    handle: actix_web::dev::ServerHandle,
    pub jobs: accueil_server::JobsRunner,
    shutdown: accueil_server::Shutdown,
    _dir: tempfile::TempDir,
}

pub enum Db {
    Sqlite,
    Postgres,
    /// The database of another test server (to restart "the same" server).
    SameAs(String),
}

pub fn settings(vars: &[(&str, &str)]) -> Settings {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let names: Vec<String> = vars.iter().map(|(k, _)| k.clone()).collect();
    Settings::load(Sources {
        names: &names,
        file: None,
        env: &move |k| {
            vars.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        },
    })
    .unwrap()
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Db::Sqlite, &[]).await.unwrap()
    }

    /// `None` when the database is PostgreSQL and no server answers (and it is not required).
    pub async fn start_with(db: Db, extra: &[(&str, &str)]) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let (db, url) = match db {
            Db::Sqlite => {
                let db = tokio::task::spawn_blocking(testing::sqlite).await.unwrap();
                let url = db.url();
                (Some(db), url)
            }
            Db::Postgres => {
                let db = tokio::task::spawn_blocking(testing::postgres)
                    .await
                    .unwrap()?;
                let url = db.url();
                (Some(db), url)
            }
            Db::SameAs(url) => (None, url),
        };
        let data = dir.path().display().to_string();
        let mut vars = vec![
            ("ACCUEIL_BIND", "127.0.0.1:0"),
            ("ACCUEIL_DATA_DIR", data.as_str()),
            ("DATABASE_URL", url.as_str()),
            ("ACCUEIL_JWT_SECRET", SECRET),
            ("ACCUEIL_BCRYPT_COST", "4"),
            ("ACCUEIL_WORKERS", "2"),
            ("ACCUEIL_PUBLIC_URL", "https://app.test"),
            ("ACCUEIL_JOBS_POLL", "50ms"),
            ("ACCUEIL_OUTBOX_RETRY_BASE", "200ms"),
            // Generous limits; the rate-limit tests set their own.
            ("ACCUEIL_RATE_LOGIN_IP", "1000/1m"),
            ("ACCUEIL_RATE_LOGIN_ACCOUNT", "1000/1m"),
            ("ACCUEIL_RATE_REGISTER_IP", "1000/1m"),
            ("ACCUEIL_RATE_MAIL_IP", "1000/1m"),
            ("ACCUEIL_RATE_MAIL_ACCOUNT", "1000/1m"),
            ("ACCUEIL_RATE_JOIN_USER", "1000/1m"),
            ("ACCUEIL_RATE_JOIN_IP", "1000/1m"),
            ("ACCUEIL_RATE_WS_TICKET_USER", "1000/1m"),
        ];
        vars.extend_from_slice(extra);
        let settings = settings(&vars);
        let running = accueil_server::start(&settings).await.unwrap();
        let handle = running.handle.clone();
        let jobs = running.jobs.clone();
        let shutdown = running.shutdown.clone();
        tokio::spawn(running.server);
        Some(Self {
            base: format!("http://{}", running.addr),
            client: Client::new(),
            data_dir: dir.path().to_owned(),
            db,
            db_url: url,
            handle,
            jobs,
            shutdown,
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str, username: Option<&str>) -> Value {
        let res = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": PASSWORD, "username": username}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    pub async fn login(&self, login: &str) -> Tokens {
        let res = self
            .post(
                "/api/v1/auth/login",
                json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        Tokens::from(res.json::<Value>().await.unwrap())
    }

    /// Stops the server as SIGTERM does: realtime connections first (1001), then HTTP.
    pub async fn stop(&self) {
        self.shutdown.stop().await;
        self.jobs.stop().await;
    }

    /// Stops the server at once, without closing realtime connections first.
    pub async fn kill(&self) {
        self.handle.stop(false).await;
        self.jobs.stop().await;
    }

    /// The store the server uses, for tests that look behind its back.
    pub fn store(&self) -> &TestStore {
        self.db.as_ref().expect("this server owns its database")
    }
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl From<Value> for Tokens {
    fn from(v: Value) -> Self {
        assert_eq!(v["token_type"], "Bearer");
        assert!(v["expires_in"].as_i64().unwrap() > 0);
        Self {
            access: v["access_token"].as_str().unwrap().to_owned(),
            refresh: v["refresh_token"].as_str().unwrap().to_owned(),
        }
    }
}

/// The problem code of an error response, after checking its media type.
pub async fn problem(res: Response) -> (StatusCode, String, Value) {
    let status = res.status();
    let ct = res.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(ct, "application/problem+json", "problem media type");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    (status, body["code"].as_str().unwrap().to_owned(), body)
}

/// A registered, logged-in user's access token.
pub async fn user(s: &TestServer, email: &str) -> String {
    s.register(email, None).await;
    s.login(email).await.access
}

pub async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

pub async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

pub async fn paired(s: &TestServer, a: &str, b: &str) -> (String, String) {
    let ta = user(s, a).await;
    let tb = user(s, b).await;
    pair(s, &ta, &tb).await;
    (ta, tb)
}

/// `ta` makes a couple and invites; `tb` joins with the code.
pub async fn pair(s: &TestServer, ta: &str, tb: &str) {
    json_of(
        call(s, Method::POST, "/api/v1/couple", ta, None).await,
        StatusCode::CREATED,
    )
    .await;
    let invite = json_of(
        call(s, Method::POST, "/api/v1/couple/invite", ta, None).await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        call(
            s,
            Method::POST,
            "/api/v1/couple/join",
            tb,
            Some(json!({"code": invite["code"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// The couple's change feed after `cursor`: its (type, id, op) triples, and the whole answer.
pub async fn feed_after(
    s: &TestServer,
    token: &str,
    cursor: &str,
) -> (Vec<(String, String, String)>, Value) {
    let feed = json_of(
        call(
            s,
            Method::GET,
            &format!("/api/v1/sync/changes?cursor={cursor}"),
            token,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let entries = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("type"), s("id"), s("op"))
        })
        .collect();
    (entries, feed)
}

/// One end-to-end flow `async fn flow(s: &TestServer)` as two tests: on SQLite, and on
/// PostgreSQL (skipped when no server answers, unless REQUIRE_POSTGRES=1).
macro_rules! on_both_backends {
    ($flow:ident => $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            let s = $crate::common::TestServer::start().await;
            $flow(&s).await;
            s.stop().await;
        }

        #[tokio::test]
        async fn $postgres() {
            let Some(s) =
                $crate::common::TestServer::start_with($crate::common::Db::Postgres, &[]).await
            else {
                return;
            };
            $flow(&s).await;
            s.stop().await;
        }
    };
}

/// The user's id, from `/api/v1/users/me`.
pub async fn user_id(s: &TestServer, token: &str) -> String {
    let me = json_of(
        call(s, Method::GET, "/api/v1/users/me", token, None).await,
        StatusCode::OK,
    )
    .await;
    me["id"].as_str().unwrap().to_owned()
}

/// Moves a dissolved couple's dissolution `by` into the past, as if that much time had gone by
/// since a partner left: the server runs on the system clock, which a test cannot move, and
/// what the retention rules compare is the clock against `dissolved_at`.
pub async fn dissolved_earlier(s: &TestServer, couple: &str, by: chrono::Duration) {
    use accueil_ports::StoreExt;
    let id = accueil_domain::couples::CoupleId(couple.parse().unwrap());
    s.store()
        .write(move |tx| -> Result<(), accueil_ports::StoreError> {
            let mut c = tx.pairing().couple(id)?.expect("the couple exists");
            let dissolved = c.dissolved_at.expect("the couple was dissolved");
            c.dissolved_at = Some(dissolved - by);
            tx.pairing().update_couple(&c)
        })
        .await
        .unwrap();
}
