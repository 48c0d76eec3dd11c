//! A PostgreSQL server of the test's own, in a temporary directory on a free port, so a test
//! can restart it for real (`pg_ctl restart`) without disturbing the machine's server that the
//! other tests share.
//!
//! The binaries are the machine's (`PG_BINDIR`, else the newest `/usr/lib/postgresql/*/bin`).
//! PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user
//! (`runuser`), which owns the directory. When there are no binaries the test is skipped,
//! unless PostgreSQL is required (`REQUIRE_POSTGRES=1`), as in CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use accueil_store_diesel::testing;

/// One private server; stopped (immediately) when dropped.
pub struct PrivatePg {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn bindir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A free port below the kernel's ephemeral range (32768 and up), so that no outgoing
/// connection of another test takes it between this check and the server's start.
fn free_port() -> u16 {
    accueil_notify_smtp::testing::SmtpSink::reserve_port().port()
}

impl PrivatePg {
    /// Creates and starts a server; `None` when the machine has no PostgreSQL binaries and
    /// PostgreSQL is not required.
    pub fn start() -> Option<Self> {
        let Some(bin) = bindir() else {
            assert!(
                !testing::postgres_required(),
                "PostgreSQL is required but no binaries were found (set PG_BINDIR)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let owned = Command::new("chown")
                .args(["postgres:", &dir.path().display().to_string()])
                .status()
                .unwrap();
            assert!(owned.success(), "chown postgres {}", dir.path().display());
        }
        let pg = Self {
            bin,
            data: dir.path().join("data"),
            port: free_port(),
            as_postgres,
            _dir: dir,
        };
        let data = pg.data.display().to_string();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40",
            pg.port,
            pg.socket_dir().display()
        );
        let log = pg.socket_dir().join("log").display().to_string();
        pg.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        );
        Some(pg)
    }

    fn socket_dir(&self) -> &Path {
        self.data.parent().unwrap()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The URL of its `postgres` database, as its superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Restarts it as an operator does (`pg_ctl restart -m fast`): every connection is
    /// terminated, and new ones are refused until it is back. Returns once it accepts them.
    pub fn restart(&self) {
        // The log again: without it the server would write to the pipe this waits on.
        let data = self.data.display().to_string();
        let log = self.socket_dir().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-m", "fast", "-w", "restart"],
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}
