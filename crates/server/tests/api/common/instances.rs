//! Several real `accueil serve` processes on one database, as a deployment runs them: each on
//! its own free port on 127.0.0.1 (the port the process bound is read from its log) with its
//! own data directory, all sharing one fresh PostgreSQL database.
//!
//! What one instance does and another sees (events across instances, sessions ended
//! elsewhere) is tested on top of this: start a set with [`Instances::postgres`], talk to each
//! over HTTP, look at the database behind their backs with [`Instances::sql`], and end one
//! gracefully ([`Instance::stop`], SIGTERM) or not ([`Instance::kill`], SIGKILL). A process
//! still running when its [`Instance`] is dropped is killed, so a failing test leaks none.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accueil_store_diesel::testing::{self, TestStore};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{PASSWORD, SECRET, Tokens};

/// How long a process may take to start listening, or to become ready.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// One `accueil serve` process.
pub struct Instance {
    /// Its name in failure messages (`a`, `b`, ...).
    pub name: String,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub client: Client,
    child: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
    _data: tempfile::TempDir,
}

/// Processes on one database, in the order they were started.
pub struct Instances {
    pub instances: Vec<Instance>,
    /// The database's URL, for more processes or the command line.
    pub db_url: String,
    /// The database's name, for `pg_stat_activity` and `ALTER DATABASE`.
    pub db_name: String,
    // Dropped after the processes (fields drop in order): the database goes last.
    _db: TestStore,
}

impl std::ops::Index<usize> for Instances {
    type Output = Instance;
    fn index(&self, i: usize) -> &Instance {
        &self.instances[i]
    }
}

impl Instances {
    /// `n` processes on one fresh PostgreSQL database, started one after the other (each
    /// ready before the next starts, so their order is also the order of their connections),
    /// with `extra` settings; `None` when PostgreSQL does not answer and is not required.
    pub async fn postgres(n: usize, extra: &[(&str, &str)]) -> Option<Self> {
        let db = tokio::task::spawn_blocking(testing::postgres)
            .await
            .unwrap()?;
        let db_url = db.url();
        let db_name = db_url
            .rsplit('/')
            .next()
            .and_then(|tail| tail.split('?').next())
            .unwrap()
            .to_owned();
        let mut instances = Vec::with_capacity(n);
        for i in 0..n {
            let name = char::from(b'a' + i as u8).to_string();
            let instance = Instance::spawn(&name, &db_url, extra).await;
            instance.wait_ready().await;
            instances.push(instance);
        }
        Some(Self {
            instances,
            db_url,
            db_name,
            _db: db,
        })
    }

    /// Runs SQL on the server's maintenance database (as the superuser tests connect as), for
    /// what a test does behind the instances' backs; `$1` is the test database's name.
    pub async fn sql(&self, query: &str) {
        let (query, name) = (query.to_owned(), self.db_name.clone());
        tokio::task::spawn_blocking(move || {
            use diesel::{Connection, RunQueryDsl};
            let mut admin = diesel::PgConnection::establish(&testing::admin_url()).unwrap();
            if query.contains("$1") {
                diesel::sql_query(query)
                    .bind::<diesel::sql_types::Text, _>(name)
                    .execute(&mut admin)
                    .unwrap();
            } else {
                diesel::sql_query(query).execute(&mut admin).unwrap();
            }
        })
        .await
        .unwrap();
    }

    /// The backend ids of the database's connections with this `application_name`, oldest
    /// connection first.
    pub async fn backends(&self, application_name: &str) -> Vec<i32> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        let (app, name) = (application_name.to_owned(), self.db_name.clone());
        tokio::task::spawn_blocking(move || {
            use diesel::{Connection, RunQueryDsl};
            let mut admin = diesel::PgConnection::establish(&testing::admin_url()).unwrap();
            diesel::sql_query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 \
                 ORDER BY backend_start, pid",
            )
            .bind::<diesel::sql_types::Text, _>(name)
            .bind::<diesel::sql_types::Text, _>(app)
            .load::<Row>(&mut admin)
            .unwrap()
            .into_iter()
            .map(|r| r.pid)
            .collect()
        })
        .await
        .unwrap()
    }
}

impl Instance {
    /// Starts `accueil serve` on `db_url` and waits until it listens (not until it is ready:
    /// see [`Instance::wait_ready`]).
    pub async fn spawn(name: &str, db_url: &str, extra: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let data_dir = data.path().display().to_string();
        let mut vars: Vec<(&str, &str)> = vec![
            ("ACCUEIL_BIND", "127.0.0.1:0"),
            ("ACCUEIL_DATA_DIR", &data_dir),
            ("DATABASE_URL", db_url),
            ("ACCUEIL_JWT_SECRET", SECRET),
            ("ACCUEIL_BCRYPT_COST", "4"),
            ("ACCUEIL_WORKERS", "2"),
            ("ACCUEIL_DB_MAX_CONNECTIONS", "4"),
            ("ACCUEIL_PUBLIC_URL", "https://app.test"),
            ("ACCUEIL_LOG_FORMAT", "json"),
            ("ACCUEIL_RATE_LOGIN_IP", "1000/1m"),
            ("ACCUEIL_RATE_LOGIN_ACCOUNT", "1000/1m"),
            ("ACCUEIL_RATE_REGISTER_IP", "1000/1m"),
            ("ACCUEIL_RATE_MAIL_IP", "1000/1m"),
            ("ACCUEIL_RATE_MAIL_ACCOUNT", "1000/1m"),
            ("RUST_LOG", "info"),
        ];
        vars.extend_from_slice(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_accueil"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(v) = serde_json::from_str::<Value>(&line)
                        && v["message"] == "accueil listening"
                        && let Some(addr) = v["addr"].as_str()
                    {
                        let _ = addr_tx.send(addr.to_owned());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(format!("stderr: {line}"));
                }
            });
        }
        let mut instance = Self {
            name: name.to_owned(),
            base: String::new(),
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            child: Some(child),
            log,
            _data: data,
        };
        let started = Instant::now();
        let addr = loop {
            match addr_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(addr) => break addr,
                Err(_) => {
                    if let Some(status) = instance.exited() {
                        panic!(
                            "instance {name} exited ({status}) before listening:\n{}",
                            instance.logs()
                        );
                    }
                    assert!(
                        started.elapsed() < START_DEADLINE,
                        "instance {name} did not listen within {START_DEADLINE:?}:\n{}",
                        instance.logs()
                    );
                    tokio::task::yield_now().await;
                }
            }
        };
        instance.base = format!("http://{addr}");
        instance
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Everything the process logged so far (for failure messages).
    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The process's exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().unwrap())
    }

    /// `/ready`'s status and body.
    pub async fn ready(&self) -> (StatusCode, Value) {
        let res = self.client.get(self.url("/ready")).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Waits until `/ready` answers 200.
    pub async fn wait_ready(&self) {
        self.wait_ready_within(START_DEADLINE).await;
    }

    /// Waits until `/ready` answers 200, failing after `deadline` with the process's log.
    pub async fn wait_ready_within(&self, deadline: Duration) {
        let started = Instant::now();
        loop {
            let (status, body) = self.ready().await;
            if status == StatusCode::OK {
                return;
            }
            assert!(
                started.elapsed() < deadline,
                "instance {} not ready within {deadline:?}: {status} {body}\n{}",
                self.name,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A metric's value from `/metrics` (a family without labels), 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers `email` (with the shared test password).
    pub async fn register(&self, email: &str) {
        let res = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", self.name);
    }

    pub async fn login(&self, email: &str) -> Tokens {
        let res = self
            .post(
                "/api/v1/auth/login",
                json!({"login": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{}", self.name);
        Tokens::from(res.json::<Value>().await.unwrap())
    }

    /// Asks the process to stop (SIGTERM: a graceful shutdown) and waits for it.
    pub async fn stop(&mut self) -> ExitStatus {
        self.signal("TERM").await
    }

    /// Sends the process the signal `name` (`TERM`, `INT`, ...) and waits for it to exit.
    pub async fn signal(&mut self, name: &str) -> ExitStatus {
        let Some(child) = self.child.as_mut() else {
            panic!("instance {} was already stopped", self.name);
        };
        let pid = child.id().to_string();
        let flag = format!("-{name}");
        let sent = Command::new("kill").args([&flag, &pid]).status().unwrap();
        assert!(sent.success(), "kill {flag} {pid}");
        self.wait_exit().await
    }

    /// Kills the process (SIGKILL: no shutdown at all, as a crash) and waits for it.
    pub async fn kill(&mut self) -> ExitStatus {
        let Some(child) = self.child.as_mut() else {
            panic!("instance {} was already stopped", self.name);
        };
        child.kill().unwrap();
        self.wait_exit().await
    }

    async fn wait_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                self.child = None;
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "instance {} did not exit:\n{}",
                self.name,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
