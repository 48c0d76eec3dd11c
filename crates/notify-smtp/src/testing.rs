//! An SMTP server for tests (feature `testing`): it speaks real SMTP on a loopback port and
//! keeps what it receives. It can refuse messages with a chosen reply to test failures.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::response::{self, Response};
use mailin_embedded::{Handler, Server, SslConfig};

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and body) as sent.
    pub data: String,
}

impl Received {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        for line in self.data.split("\r\n") {
            if line.is_empty() {
                break;
            }
            if line.to_ascii_lowercase().starts_with(&prefix) {
                return Some(line[prefix.len()..].trim().to_owned());
            }
        }
        None
    }

    /// The message with quoted-printable soft breaks and `=3D` undone, good enough to find a
    /// link in the text part.
    pub fn decoded(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }
}

#[derive(Clone)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    current: Option<Received>,
    refuse_with: Arc<Mutex<Option<(u16, String)>>>,
}

impl Handler for Sink {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        if let Some((code, message)) = self.refuse_with.lock().unwrap().clone() {
            return Response::custom(code, message);
        }
        self.current = Some(Received {
            from: from.to_owned(),
            to: to.to_vec(),
            data: String::new(),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        if let Some(c) = &mut self.current {
            c.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(c) = self.current.take() {
            self.received.lock().unwrap().push(c);
        }
        response::OK
    }
}

/// A running SMTP sink.
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    refuse_with: Arc<Mutex<Option<(u16, String)>>>,
}

impl SmtpSink {
    /// Starts on a free loopback port.
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// A free loopback port with nothing listening on it yet (for "the server is down").
    ///
    /// It is taken below the kernel's ephemeral range (32768 and up on Linux): a port from that
    /// range, once released, can be handed to another test's outgoing connection, or even to
    /// the very client retrying it (a TCP self-connection, which then holds the port), and
    /// [`SmtpSink::start_at`] would find it in use.
    pub fn reserve_port() -> SocketAddr {
        use std::hash::{BuildHasher, Hasher};
        let mut seed = std::collections::hash_map::RandomState::new().build_hasher();
        seed.write_u32(std::process::id());
        let mut n = seed.finish();
        for _ in 0..1_000 {
            n = n
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let port = 20_000 + u16::try_from((n >> 33) % 12_000).unwrap_or(0);
            if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
                return l.local_addr().unwrap();
            }
        }
        panic!("no free loopback port below the ephemeral range");
    }

    /// Starts on `addr` (after [`SmtpSink::reserve_port`]).
    pub fn start_at(addr: SocketAddr) -> Self {
        Self::start_on(TcpListener::bind(addr).unwrap())
    }

    fn start_on(listener: TcpListener) -> Self {
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let refuse_with = Arc::new(Mutex::new(None));
        let mut server = Server::new(Sink {
            received: received.clone(),
            current: None,
            refuse_with: refuse_with.clone(),
        });
        server
            .with_name("sink.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self {
            addr,
            received,
            refuse_with,
        }
    }

    /// `smtp://` URL of this sink.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Refuses every following message with this reply (`None`: accept again).
    pub fn refuse_with(&self, reply: Option<(u16, &str)>) {
        *self.refuse_with.lock().unwrap() = reply.map(|(c, m)| (c, m.to_owned()));
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `timeout`) until `count` messages have arrived, and returns them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= count || Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
