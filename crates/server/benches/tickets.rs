//! SmartQueue benchmark: agents calling the next ticket of one queue at once, tickets taken at
//! the desk, and ticket status reads, against a real `accueil` over HTTP.
//!
//! Run by `scripts/bench-tickets.sh` (which builds the release binary); by hand:
//! `ACCUEIL_BIN=target/release/accueil cargo bench -p accueil-server --bench tickets`. For each
//! backend (SQLite in a temporary file; PostgreSQL in a fresh database owned by an ordinary
//! role, so row-level security applies, when a server is reachable) it starts its own server
//! (bcrypt cost 4, rate limits lifted, warnings only in the log), then:
//!
//! 1. `take`: `TICKETS` tickets (default 9,000; a service numbers at most 9,999 a day) taken by
//!    the ADMIN at the desk over `TAKERS` connections (8);
//! 2. `call-next`: `AGENTS` agents (50), one connection each, loop `POST …/call-next` then
//!    `POST …/tickets/{id}/no-show` (which frees them) until the queue is empty; the rate is
//!    calls per second (each with its no-show: twice as many writes). Every ticket must be
//!    called exactly once (checked from the answers);
//! 3. `reads`: `READERS` connections (50) `GET …/tickets/{id}` of 500 waiting tickets for
//!    `READ_SECONDS` (5).
//!
//! Client and server share the machine's cores.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: failing loudly is its error handling

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use accueil_domain::identity::UserId;
use accueil_domain::queues::Role;
use accueil_ports::StoreExt;
use accueil_store_diesel::testing::TestStore;
use reqwest::Method;
use serde_json::{Value, json};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(bin: &str, database_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).expect("the log file");
        let lifted = "1000000000/1s";
        let child = Command::new(bin)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ACCUEIL_BIND", format!("127.0.0.1:{port}"))
            .env("ACCUEIL_DATA_DIR", dir.path())
            .env("DATABASE_URL", database_url)
            .env(
                "ACCUEIL_JWT_SECRET",
                "bench-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aEg",
            )
            .env("ACCUEIL_BCRYPT_COST", "4")
            .env("ACCUEIL_ACCESS_TTL", "24h")
            .env("RUST_LOG", "warn")
            .envs(
                [
                    "LOGIN_IP",
                    "LOGIN_ACCOUNT",
                    "REGISTER_IP",
                    "MAIL_IP",
                    "MAIL_ACCOUNT",
                ]
                .map(|r| (format!("ACCUEIL_RATE_{r}"), lifted)),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// The answer's status and body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method, path, token, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body
    }

    /// A registered, signed-in user: their token and id.
    async fn user(&self, email: &str) -> (String, UserId) {
        let password = "bench password 123";
        let register = json!({"email": email, "password": password});
        self.ok(Method::POST, "/api/v1/auth/register", "", Some(register))
            .await;
        let login = json!({"login": email, "password": password});
        let pair = self
            .ok(Method::POST, "/api/v1/auth/login", "", Some(login))
            .await;
        let token = pair["access_token"].as_str().expect("a token").to_owned();
        let me = self.ok(Method::GET, "/api/v1/users/me", &token, None).await;
        (token, UserId(me["id"].as_str().unwrap().parse().unwrap()))
    }
}

/// Runs `f` on `n` tasks at once; returns how long it took.
async fn at_once<F, Fut>(n: usize, f: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

async fn run(label: &str, bin: &str, db: TestStore) {
    let (tickets, takers, agents, readers) = (
        env_or("TICKETS", 9000),
        env_or("TAKERS", 8),
        env_or("AGENTS", 50),
        env_or("READERS", 50),
    );
    let read_for = Duration::from_secs(env_or("READ_SECONDS", 5) as u64);
    let server = Server::start(bin, &db.url());
    let api = Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap(),
        base: server.base.clone(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while api
        .http
        .get(format!("{}/health", api.base))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The ADMIN (verified in the database) and the catalogue.
    let (admin, admin_id) = api.user("admin@bench.example").await;
    db.store()
        .write(move |tx| {
            let mut u = tx.users().user_by_id(admin_id)?.unwrap();
            u.email_verified = true;
            tx.users()
                .update_user(&u)
                .map_err(|e| accueil_ports::StoreError::Internal(e.to_string()))
        })
        .await
        .unwrap();
    let tenant = json!({"slug": "bench", "name": "Bench", "time_zone": "Europe/Paris"});
    api.ok(Method::POST, "/api/v1/tenants", &admin, Some(tenant))
        .await;
    let t = "/api/v1/tenants/bench";
    let site = api
        .ok(
            Method::POST,
            &format!("{t}/sites"),
            &admin,
            Some(json!({"name": "HQ"})),
        )
        .await;
    let service = json!({"site_id": site["id"], "name": "S", "prefix": "A", "range_end": 9999});
    let service = api
        .ok(
            Method::POST,
            &format!("{t}/services"),
            &admin,
            Some(service),
        )
        .await;
    let queue = json!({"service_id": service["id"], "name": "Main"});
    let queue = api
        .ok(Method::POST, &format!("{t}/queues"), &admin, Some(queue))
        .await;
    let q = queue["id"].as_str().unwrap().to_owned();

    // The agents: members, serving the queue.
    let mut tokens = Vec::new();
    for i in 0..agents {
        let (token, id) = api.user(&format!("agent{i}@bench.example")).await;
        db.store()
            .write(move |tx| {
                let tenant = tx.tenants().tenant_by_slug("bench")?.unwrap();
                tx.in_tenant(tenant.id)
                    .members()
                    .add_member(id, Role::Agent, chrono::Utc::now())
            })
            .await
            .unwrap();
        let profile = json!({"status": "AVAILABLE", "queue_ids": [q]});
        api.ok(
            Method::PATCH,
            &format!("{t}/agents/me"),
            &token,
            Some(profile),
        )
        .await;
        tokens.push(token);
    }

    // 1. Taking tickets at the desk.
    let take = format!("{t}/queues/{q}/tickets");
    let next = Arc::new(AtomicU64::new(0));
    let took = at_once(takers, |_| {
        let (api, admin, take, next) = (api.clone(), admin.clone(), take.clone(), next.clone());
        async move {
            while next.fetch_add(1, Ordering::Relaxed) < tickets as u64 {
                api.ok(Method::POST, &take, &admin, None).await;
            }
        }
    })
    .await;
    println!(
        "{label}: take       {tickets} tickets over {takers} connections in {:.2}s: {:.0} tickets/s",
        took.as_secs_f64(),
        tickets as f64 / took.as_secs_f64()
    );

    // 2. Fifty agents calling at once until the queue is empty.
    let called = Arc::new(std::sync::Mutex::new(Vec::with_capacity(tickets)));
    let tokens = Arc::new(tokens);
    let took = at_once(agents, |i| {
        let (api, tokens, called, q) = (api.clone(), tokens.clone(), called.clone(), q.clone());
        async move {
            let token = &tokens[i];
            let mut mine = Vec::new();
            loop {
                let (status, body) = api
                    .send(
                        Method::POST,
                        &format!("{t}/queues/{q}/call-next"),
                        token,
                        None,
                    )
                    .await;
                if status == 409 && body["code"] == "queue_empty" {
                    break;
                }
                assert_eq!(status, 200, "{body}");
                let id = body["id"].as_str().unwrap().to_owned();
                api.ok(
                    Method::POST,
                    &format!("{t}/tickets/{id}/no-show"),
                    token,
                    None,
                )
                .await;
                mine.push(id);
            }
            called.lock().unwrap().extend(mine);
        }
    })
    .await;
    let called = called.lock().unwrap().clone();
    let distinct: HashSet<&String> = called.iter().collect();
    assert_eq!(
        (called.len(), distinct.len()),
        (tickets, tickets),
        "every ticket called once"
    );
    println!(
        "{label}: call-next  {tickets} calls by {agents} agents at once in {:.2}s: {:.0} calls/s (each followed by its no-show)",
        took.as_secs_f64(),
        tickets as f64 / took.as_secs_f64()
    );

    // 3. Status reads of waiting tickets.
    let mut ids = Vec::new();
    for _ in 0..500 {
        ids.push(
            api.ok(Method::POST, &take, &admin, None).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let ids = Arc::new(ids);
    let reads = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + read_for;
    let took = at_once(readers, |i| {
        let (api, admin, ids, reads) = (api.clone(), admin.clone(), ids.clone(), reads.clone());
        async move {
            let mut n = i;
            while Instant::now() < until {
                let path = format!("{t}/tickets/{}", ids[n % ids.len()]);
                api.ok(Method::GET, &path, &admin, None).await;
                reads.fetch_add(1, Ordering::Relaxed);
                n += readers;
            }
        }
    })
    .await;
    let reads = reads.load(Ordering::Relaxed);
    println!(
        "{label}: reads      {reads} GET …/tickets/{{id}} (500 waiting) over {readers} connections in {:.2}s: {:.0} reads/s",
        took.as_secs_f64(),
        reads as f64 / took.as_secs_f64()
    );
    drop(server);
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("ACCUEIL_BIN").unwrap_or_else(|_| "target/release/accueil".into());
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| "sqlite postgres".into());
    for backend in backends.split_whitespace() {
        match backend {
            "sqlite" => run("sqlite", &bin, accueil_store_diesel::testing::sqlite()).await,
            "postgres" => {
                match tokio::task::spawn_blocking(accueil_store_diesel::testing::postgres)
                    .await
                    .unwrap()
                {
                    Some(db) => run("postgres", &bin, db).await,
                    None => println!("postgres: no server reachable, skipped"),
                }
            }
            other => panic!("unknown backend {other}"),
        }
    }
}
