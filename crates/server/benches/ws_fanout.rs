//! Realtime benchmark: many WebSocket connections on one instance, events fanned out to them.
//!
//! Run by `scripts/bench-ws.sh` (which builds the release binary and raises the file limit);
//! by hand: `ACCUEIL_BIN=target/release/accueil cargo bench -p accueil-server --bench
//! ws_fanout`. It starts its own `accueil` (SQLite in a temporary directory, bcrypt cost 4,
//! rate limits lifted, warnings only in the log), then runs two scenarios:
//!
//! - `fanout`: one couple, `SOCKETS` connections shared by its two partners (the per-user cap
//!   raised for the run), every one subscribed to the couple; one partner writes `EVENTS`
//!   questions one after the other, each announced to every socket.
//! - `pairs`: `SOCKETS / 2` couples, one connection per partner; `EVENTS` writes by random
//!   partners, each announced to the couple's two sockets.
//!
//! It reports the server's resident memory per open, subscribed socket (from
//! `/proc/<pid>/status`, before and after opening them), and the delivery latency of every
//! (event, socket) pair: from just before the write's request is sent to the notification's
//! arrival, so it includes the write itself (its response time is reported beside it). Writes
//! wait for the previous event's deliveries: the figures are latencies, not a saturation test.
//! Client and server share the machine's cores.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: failing loudly is its error handling

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

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
    fn start(bin: &str, sockets: usize) -> Self {
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
            .env(
                "ACCUEIL_JWT_SECRET",
                "bench-Q8zR1xV3mN7bT2yL5kJ9wC4hF6dS0aEg",
            )
            .env("ACCUEIL_BCRYPT_COST", "4")
            .env("ACCUEIL_ACCESS_TTL", "24h")
            .env("ACCUEIL_WS_MAX_PER_USER", sockets.to_string())
            .env("ACCUEIL_WS_MESSAGE_RATE", lifted)
            .env("RUST_LOG", "warn")
            .envs(
                [
                    "LOGIN_IP",
                    "LOGIN_ACCOUNT",
                    "REGISTER_IP",
                    "MAIL_IP",
                    "MAIL_ACCOUNT",
                    "JOIN_USER",
                    "JOIN_IP",
                    "WS_TICKET_USER",
                ]
                .map(|r| (format!("ACCUEIL_RATE_{r}"), lifted)),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Self {
            child,
            base: format!("127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// Resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut req = self
            .http
            .request(method, format!("http://{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn user(&self, email: &str) -> String {
        let password = "bench password 123";
        self.call(
            reqwest::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
        let pair = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"login": email, "password": password})),
            )
            .await;
        pair["access_token"].as_str().expect("a token").to_owned()
    }

    async fn couple(&self, a: &str, b: &str) {
        self.call(reqwest::Method::POST, "/api/v1/couple", Some(a), None)
            .await;
        let invite = self
            .call(
                reqwest::Method::POST,
                "/api/v1/couple/invite",
                Some(a),
                None,
            )
            .await;
        self.call(
            reqwest::Method::POST,
            "/api/v1/couple/join",
            Some(b),
            Some(json!({"code": invite["code"]})),
        )
        .await;
    }

    async fn write(&self, token: &str, n: usize) {
        self.call(
            reqwest::Method::POST,
            "/api/v1/qna/questions",
            Some(token),
            Some(json!({"text": format!("Question {n}?"), "theme": "travel"})),
        )
        .await;
    }
}

/// Opens a subscribed connection whose `changes` notifications are reported on `arrivals`
/// with its index; resolves once subscribed.
async fn socket(
    api: &Api,
    token: &str,
    index: usize,
    arrivals: mpsc::UnboundedSender<(usize, Instant)>,
) {
    let ticket = api
        .call(
            reqwest::Method::POST,
            "/api/v1/ws/ticket",
            Some(token),
            None,
        )
        .await;
    let url = format!(
        "ws://{}/api/v1/ws?ticket={}",
        api.base,
        ticket["ticket"].as_str().expect("a ticket")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the handshake");
    ws.send(Message::text(
        json!({"action": "subscribe", "events": ["couple"]}).to_string(),
    ))
    .await
    .expect("subscribe");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains("\"subscribed\"") => break,
            Some(Ok(_)) => {}
            other => panic!("socket {index} before subscribing: {other:?}"),
        }
    }
    tokio::spawn(async move {
        while let Some(Ok(frame)) = ws.next().await {
            if let Message::Text(t) = frame
                && t.as_str().contains("\"changes\"")
                && arrivals.send((index, Instant::now())).is_err()
            {
                break;
            }
        }
    });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

struct Outcome {
    latencies: Vec<Duration>,
    writes: Vec<Duration>,
    missing: usize,
    elapsed: Duration,
}

/// Sends `events` writes (by `writer(k)`), each awaited with all `expected(k)` deliveries.
async fn run(
    api: &Api,
    events: usize,
    arrivals: &mut mpsc::UnboundedReceiver<(usize, Instant)>,
    mut write_k: impl FnMut(usize) -> (String, usize),
) -> Outcome {
    let (mut latencies, mut writes, mut missing) = (Vec::new(), Vec::new(), 0);
    let started = Instant::now();
    for k in 0..events {
        let (token, expected) = write_k(k);
        let t0 = Instant::now();
        api.write(&token, k).await;
        writes.push(t0.elapsed());
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while got < expected {
            match tokio::time::timeout_at(deadline, arrivals.recv()).await {
                Ok(Some((_, at))) => {
                    latencies.push(at - t0);
                    got += 1;
                }
                _ => break,
            }
        }
        missing += expected - got;
    }
    Outcome {
        latencies,
        writes,
        missing,
        elapsed: started.elapsed(),
    }
}

fn report(name: &str, sockets: usize, events: usize, mut o: Outcome) {
    o.latencies.sort();
    o.writes.sort();
    println!(
        "| {name} | {sockets} | {events} | {} | {} | {} | {} | {} | {} | {} | {:.0} |",
        o.latencies.len(),
        o.missing,
        ms(percentile(&o.latencies, 0.5)),
        ms(percentile(&o.latencies, 0.99)),
        ms(*o.latencies.last().unwrap_or(&Duration::ZERO)),
        ms(percentile(&o.writes, 0.5)),
        ms(percentile(&o.writes, 0.99)),
        o.latencies.len() as f64 / o.elapsed.as_secs_f64(),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bin = std::env::var("ACCUEIL_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/release/accueil").to_owned()
    });
    let sockets = env_or("SOCKETS", 1000).max(2);
    let events = env_or("EVENTS", 200).max(1);
    let server = Server::start(&bin, sockets);
    let api = Arc::new(Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("a client"),
        base: server.base.clone(),
    });
    let ready = Instant::now();
    while api
        .http
        .get(format!("http://{}/health", api.base))
        .send()
        .await
        .is_err()
    {
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    println!(
        "| scenario | sockets | events | deliveries | missing | p50 ms | p99 ms | max ms | write p50 ms | write p99 ms | deliveries/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");

    // fanout: one couple, every socket subscribed to it.
    let (a, b) = (
        api.user("fan-a@example.org").await,
        api.user("fan-b@example.org").await,
    );
    api.couple(&a, &b).await;
    let before = server.rss_kib();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..sockets {
        let token = if i % 2 == 0 { &a } else { &b };
        socket(&api, token, i, tx.clone()).await;
    }
    // Let the server settle (buffers of the last handshakes) before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = server.rss_kib();
    let fanout = run(&api, events, &mut rx, |_| (b.clone(), sockets)).await;
    report("fanout", sockets, events, fanout);
    let per_socket = (after.saturating_sub(before)) as f64 / sockets as f64;

    // pairs: one couple per two sockets (a new set of users and connections).
    let couples = sockets / 2;
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let mut partners: Vec<(String, String)> = Vec::with_capacity(couples);
    for c in 0..couples {
        let (pa, pb) = (
            api.user(&format!("pair{c}-a@example.org")).await,
            api.user(&format!("pair{c}-b@example.org")).await,
        );
        api.couple(&pa, &pb).await;
        socket(&api, &pa, 2 * c, tx2.clone()).await;
        socket(&api, &pb, 2 * c + 1, tx2.clone()).await;
        partners.push((pa, pb));
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let pairs = run(&api, events, &mut rx2, |k| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (pa, pb) = &partners[(seed as usize) % couples];
        ((if k % 2 == 0 { pa } else { pb }).clone(), 2)
    })
    .await;
    report("pairs", couples * 2, events, pairs);
    let total = server.rss_kib();

    let pairs_per_socket = (total.saturating_sub(after)) as f64 / (couples * 2) as f64;
    println!();
    println!(
        "server RSS: {before} KiB before the sockets; {after} KiB with {sockets} subscribed \
         sockets (fanout): {per_socket:.1} KiB per socket; {total} KiB with {} more (pairs, \
         their users and couples included): {pairs_per_socket:.1} KiB per socket",
        couples * 2
    );
    drop(tx);
    drop(tx2);
}
