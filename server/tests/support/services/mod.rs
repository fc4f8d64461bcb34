//! Real backing services for integration tests: a private `redis-server` and a private
//! PostgreSQL 15 cluster, each on a free loopback port in its own temp dir, with `stop()` and
//! `start()` for outage tests. Nothing is mocked; a missing binary fails the test with a hint.
//!
//! Use from a test file with `mod services;`. Also here: [`TestIssuer`] (real ES256 keys
//! and a JWKS server) and [`serve`] (an axum router on a free port).
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub mod backends;
pub mod issuer;
pub mod sse;
pub mod store;
#[allow(unused_imports)] // not every test file waits on a condition
pub use super::eventually::eventually;
pub use issuer::TestIssuer;

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Serves `router` on a free loopback port in the background; returns its address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    addr
}

fn find_binary(name: &str, extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs.iter().cloned())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < timeout,
            "{what} did not come up within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn temp_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir");
    // The PostgreSQL server runs as another user and must reach its data dir through this one.
    let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
    dir
}

/// A private `redis-server` without persistence.
pub struct Redis {
    port: u16,
    dir: tempfile::TempDir,
    binary: PathBuf,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
        let binary = find_binary("redis-server", &[]).unwrap_or_else(|| {
            panic!("redis-server not found: run `cargo xtask test`, which installs it, or `apt-get install -y redis-server`")
        });
        let mut r = Redis {
            port: free_port(),
            dir: temp_dir("sa-redis-"),
            binary,
            child: None,
        };
        r.resume();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL): clients see connections drop, as in a crash.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port (empty: it keeps no data).
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "redis is already running");
        let child = Command::new(&self.binary)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let port = self.port;
        wait_until("redis-server", Duration::from_secs(10), || redis_ping(port));
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn redis_ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// A private PostgreSQL cluster (trust auth, superuser `postgres`, fsync off: tests only).
pub struct Postgres {
    port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    running: bool,
}

fn pg_bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SA_PG_BIN") {
        return PathBuf::from(d);
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|r| r.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    candidates.sort();
    candidates.into_iter().rev().find(|d| d.join("pg_ctl").is_file()).unwrap_or_else(|| {
        find_binary("pg_ctl", &[]).and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_else(|| {
            panic!("PostgreSQL not found (no pg_ctl in /usr/lib/postgresql/*/bin or PATH): run `cargo xtask test`, which installs it, or `apt-get install -y postgresql`")
        })
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (the server refuses root).
fn pg_command(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn run_ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chown_postgres(path: &Path) {
    let mut c = Command::new("chown");
    c.args(["-R", "postgres:postgres"]).arg(path);
    run_ok(c, "chown to postgres");
}

/// initdb once per machine into a template (seconds), then copy it for each cluster (fast).
fn pg_template(bin: &Path) -> PathBuf {
    let template = std::env::temp_dir().join(format!(
        "sa-test-pg-template-{}",
        bin.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("x")
    ));
    if template.join("PG_VERSION").is_file() {
        return template;
    }
    let staging = temp_dir("sa-pg-initdb-");
    let data = staging.path().join("data");
    std::fs::create_dir(&data).unwrap();
    if is_root() {
        chown_postgres(&data);
    }
    let mut c = pg_command(bin, "initdb");
    c.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    run_ok(c, "initdb");
    // Another test binary may have won the race; either template is good.
    if std::fs::rename(&data, &template).is_err() && !template.join("PG_VERSION").is_file() {
        panic!(
            "could not create the PostgreSQL template at {}",
            template.display()
        );
    }
    template
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = pg_bin_dir();
        let template = pg_template(&bin);
        let dir = temp_dir("sa-pg-");
        let status = Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(dir.path().join("data"))
            .status()
            .expect("cp");
        assert!(status.success(), "copying the PostgreSQL template failed");
        std::fs::create_dir(dir.path().join("sock")).unwrap();
        if is_root() {
            chown_postgres(&dir.path().join("sock"));
        }
        let mut pg = Postgres {
            port: free_port(),
            dir,
            bin,
            running: false,
        };
        pg.resume();
        pg
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of database `db` (create it first with [`Postgres::create_database`]).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn create_database(&self, db: &str) -> String {
        let mut c = pg_command(&self.bin, "psql");
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE DATABASE \"{db}\""),
        ]);
        run_ok(c, "CREATE DATABASE");
        self.url(db)
    }

    /// Immediate shutdown: connections drop, as in a crash.
    pub fn stop(&mut self) {
        if self.running {
            run_ok(self.stop_command(), "pg_ctl stop");
            self.running = false;
        }
    }

    fn stop_command(&self) -> Command {
        let mut c = pg_command(&self.bin, "pg_ctl");
        c.arg("-D").arg(self.dir.path().join("data")).args([
            "stop",
            "-m",
            "immediate",
            "-w",
            "-t",
            "20",
        ]);
        c
    }

    pub fn resume(&mut self) {
        assert!(!self.running, "postgres is already running");
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", self.port, self.dir.path().join("sock").display());
        let mut c = pg_command(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("sock").join("log"))
            .args(["-o", &opts, "-w", "-t", "30", "start"]);
        run_ok(c, "pg_ctl start");
        self.running = true;
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop_command().output();
        }
    }
}
