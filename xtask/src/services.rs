//! The private Redis and PostgreSQL servers of `cargo xtask dev`, so that the explorer shows
//! every store without setting anything up.
//!
//! - Data lives under `./data/redis` (append-only file) and `./data/postgres` (a cluster of its
//!   own), and survives restarts, like the file store's `./data/models`.
//! - Both listen on loopback only, on ports picked at start.
//! - Each runs in its own process group: Ctrl-C reaches `sa-server` and xtask, and xtask then
//!   stops the servers in order ([`Services::stop`]), so no process is left behind.
//! - A server that dies is reported; `sa-server` goes on, and only that store's tab shows it as
//!   unavailable.
//!
//! This file uses only std and anyhow, so a test can drive the very code the command runs.
use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

/// Which servers to start. A store whose URL the user gives (`--redis-url`, `--database-url`)
/// or turns off (`--no-redis`, `--no-postgres`) is not started.
#[derive(Clone, Copy, Debug)]
pub struct Wanted {
    pub redis: bool,
    pub postgres: bool,
}

/// The running servers.
pub struct Services {
    redis: Option<Redis>,
    postgres: Option<Postgres>,
}

struct Redis {
    child: Child,
    port: u16,
}

struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    /// `runuser` when we are root: PostgreSQL refuses to run as root.
    runuser: Option<PathBuf>,
    port: u16,
    pid: u32,
}

fn say(msg: &str) {
    println!("==> {msg}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn which(program: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn alive(pid: u32) -> bool {
    // A reaped or vanished process has no /proc entry; a zombie is dead too.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

pub fn wait_until(timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !ok() {
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
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

/// The newest PostgreSQL's bin directory (`/usr/lib/postgresql/N/bin`), if one is installed.
fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| d.join("pg_ctl").is_file() && d.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, d)| d)
}

/// The Debian packages of the servers that are wanted but not installed.
fn missing_packages(wanted: Wanted) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if wanted.redis && which("redis-server", &["/usr/bin", "/usr/sbin"]).is_none() {
        missing.push("redis-server");
    }
    if wanted.postgres && pg_bin_dir().is_none() {
        missing.push("postgresql");
    }
    missing
}

/// Installs the missing servers with apt as root (as `cargo xtask test` does); otherwise says
/// the one command to run. Never fails: dev goes on with the stores it has.
fn install_missing(wanted: Wanted) {
    let missing = missing_packages(wanted);
    if missing.is_empty() {
        return;
    }
    let apt = which("apt-get", &["/usr/bin"]);
    if let (Some(apt), true) = (apt, is_root()) {
        say(&format!(
            "installing {} with apt-get (the Redis and PostgreSQL stores)",
            missing.join(" ")
        ));
        let ok = Command::new(&apt)
            .args(["update", "-qq"])
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(&apt)
                .args(["install", "-y", "-qq"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            say("apt-get could not install them; going on without those stores");
        }
    } else {
        say(&format!(
            "{} not installed: run `sudo apt-get install -y {}` for those explorer tabs; going on without them",
            missing.join(" and "),
            missing.join(" ")
        ));
    }
}

impl Services {
    /// Installs what is missing (apt, as root), then starts the wanted servers with their data
    /// under `data`. A server that can't start is left out with a message saying why.
    pub fn start(data: &Path, wanted: Wanted) -> Services {
        install_missing(wanted);
        let mut s = Services {
            redis: None,
            postgres: None,
        };
        if wanted.redis {
            match Redis::start(&data.join("redis")) {
                Ok(r) => {
                    say(&format!(
                        "Redis: private redis-server on 127.0.0.1:{} (data in {})",
                        r.port,
                        data.join("redis").display()
                    ));
                    s.redis = Some(r);
                }
                Err(e) => say(&format!("Redis store left out: {e:#}")),
            }
        }
        if wanted.postgres {
            match Postgres::start(&data.join("postgres")) {
                Ok(p) => {
                    say(&format!(
                        "PostgreSQL: private cluster on 127.0.0.1:{} (data in {})",
                        p.port,
                        p.data.display()
                    ));
                    s.postgres = Some(p);
                }
                Err(e) => say(&format!("PostgreSQL store left out: {e:#}")),
            }
        }
        s
    }

    pub fn redis_url(&self) -> Option<String> {
        self.redis
            .as_ref()
            .map(|r| format!("redis://127.0.0.1:{}/", r.port))
    }

    pub fn database_url(&self) -> Option<String> {
        self.postgres
            .as_ref()
            .map(|p| format!("postgres://postgres@127.0.0.1:{}/postgres", p.port))
    }

    /// The `sa-server dev` arguments that point its stores at these servers.
    pub fn server_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(u) = self.redis_url() {
            a.extend(["--redis-url".to_string(), u]);
        }
        if let Some(u) = self.database_url() {
            a.extend(["--database-url".to_string(), u]);
        }
        a
    }

    #[cfg(test)] // the xtask tests check the servers through these
    pub fn redis_port(&self) -> Option<u16> {
        self.redis.as_ref().map(|r| r.port)
    }

    /// `psql` on the private cluster (trust auth on loopback), for checks and by hand.
    #[cfg(test)] // the xtask tests check the servers through these
    pub fn psql(&self) -> Option<Command> {
        let pg = self.postgres.as_ref()?;
        let mut c = Command::new(pg.bin.join("psql"));
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            "postgres",
        ]);
        c.args(["-d", "postgres"]);
        Some(c)
    }

    /// (name, pid) of each running server.
    #[cfg(test)] // the xtask tests check the servers through these
    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        let mut p = Vec::new();
        if let Some(r) = &self.redis {
            p.push(("redis-server", r.child.id()));
        }
        if let Some(pg) = &self.postgres {
            p.push(("postgres", pg.pid));
        }
        p
    }

    /// Says which server died since the last call and forgets it; the others go on.
    pub fn reap_crashed(&mut self) -> Vec<String> {
        let mut gone = Vec::new();
        if let Some(r) = &mut self.redis {
            if let Ok(Some(status)) = r.child.try_wait() {
                gone.push(format!("redis-server exited ({status}): the Redis tab is unavailable until `cargo xtask dev` starts again"));
                self.redis = None;
            }
        }
        if let Some(p) = &self.postgres {
            if !alive(p.pid) {
                gone.push(format!("PostgreSQL (pid {}) exited: the PostgreSQL tab is unavailable until `cargo xtask dev` starts again", p.pid));
                self.postgres = None;
            }
        }
        gone
    }

    /// Stops the servers cleanly: Redis flushes its append-only file, PostgreSQL does a fast
    /// shutdown (a checkpoint). Returns once their processes are gone.
    pub fn stop(&mut self) {
        if let Some(mut r) = self.redis.take() {
            r.stop();
        }
        if let Some(p) = self.postgres.take() {
            p.stop();
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `sa-server` until it exits or `interrupted` is set (the Ctrl-C handler sets it), then
/// stops the servers. Ctrl-C in a terminal reaches `sa-server` itself; it is also sent here, for
/// a stop that came some other way. Crashed servers are reported meanwhile.
pub fn supervise(
    server: &mut Child,
    services: &mut Services,
    interrupted: &AtomicBool,
) -> Result<ExitStatus> {
    let mut forwarded = false;
    let status = loop {
        if let Some(status) = server.try_wait()? {
            break status;
        }
        if interrupted.load(Ordering::SeqCst) && !forwarded {
            signal(server.id(), "INT");
            forwarded = true;
        }
        for msg in services.reap_crashed() {
            say(&msg);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    services.stop();
    Ok(status)
}

impl Redis {
    fn start(dir: &Path) -> Result<Redis> {
        let bin = which("redis-server", &["/usr/bin", "/usr/sbin"])
            .context("redis-server is not installed")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        stop_stale_redis(dir);
        let port = free_port()?;
        let mut child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--appendonly", "yes", "--appendfsync", "everysec"])
            .args(["--save", "", "--daemonize", "no", "--protected-mode", "yes"])
            .arg("--dir")
            .arg(dir)
            .arg("--pidfile")
            .arg(dir.join("redis.pid"))
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group: the terminal's Ctrl-C goes to xtask, which stops it in order.
            .process_group(0)
            .spawn()
            .context("starting redis-server")?;
        if !wait_until(Duration::from_secs(20), || {
            redis_ping(port) || child.try_wait().ok().flatten().is_some()
        }) || !redis_ping(port)
        {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "redis-server did not answer on port {port}; see {}",
                dir.join("redis.log").display()
            );
        }
        Ok(Redis { child, port })
    }

    fn stop(&mut self) {
        // SIGTERM: Redis writes its append-only file out and exits.
        signal(self.child.id(), "TERM");
        let child = &mut self.child;
        if !wait_until(Duration::from_secs(15), || {
            child.try_wait().ok().flatten().is_some()
        }) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A redis-server of an earlier run on the same data (xtask killed hard) is stopped first: two
/// servers must never share one append-only file.
fn stop_stale_redis(dir: &Path) {
    let Ok(pid) = std::fs::read_to_string(dir.join("redis.pid")) else {
        return;
    };
    let Ok(pid) = pid.trim().parse::<u32>() else {
        return;
    };
    let is_redis = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.contains("redis-server"));
    if is_redis && alive(pid) {
        say(&format!(
            "stopping the redis-server of an earlier run (pid {pid})"
        ));
        signal(pid, "TERM");
        wait_until(Duration::from_secs(15), || !alive(pid));
    }
}

impl Postgres {
    fn tool(&self, name: &str) -> Command {
        pg_tool(&self.bin, self.runuser.as_deref(), name)
    }

    fn start(data: &Path) -> Result<Postgres> {
        let bin = pg_bin_dir().context("PostgreSQL is not installed")?;
        let runuser = if is_root() {
            // runuser lives in /usr/sbin, which a user's PATH often lacks.
            Some(which("runuser", &["/usr/sbin", "/sbin"]).context(
                "PostgreSQL refuses to run as root, and `runuser` (util-linux, in /usr/sbin) was not found to run it as the postgres user: install util-linux or add /usr/sbin to PATH",
            )?)
        } else {
            None
        };
        let mut pg = Postgres {
            bin,
            data: data.to_path_buf(),
            runuser,
            port: 0,
            pid: 0,
        };
        if !data.join("PG_VERSION").is_file() {
            pg.init()?;
        }
        // A server of an earlier run on the same cluster (xtask killed hard) is stopped first.
        let running = pg
            .tool("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if running {
            say("stopping the PostgreSQL of an earlier run");
            pg.pg_ctl_stop();
        }
        pg.port = free_port()?;
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            pg.port
        );
        let out = pg
            .tool("pg_ctl")
            .arg("-D")
            .arg(data)
            .arg("-l")
            .arg(data.join("server.log"))
            .args(["-o", &opts, "-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .context("running pg_ctl start")?;
        if !out.status.success() {
            bail!(
                "pg_ctl start failed: {}{}; see {}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim(),
                data.join("server.log").display()
            );
        }
        let pid = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
            .context("PostgreSQL started but wrote no postmaster.pid")?;
        pg.pid = pid;
        Ok(pg)
    }

    fn init(&self) -> Result<()> {
        say(&format!(
            "creating the PostgreSQL cluster in {}",
            self.data.display()
        ));
        std::fs::create_dir_all(&self.data)?;
        if self.runuser.is_some() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.data)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                bail!(
                    "could not hand {} to the postgres user (chown)",
                    self.data.display()
                );
            }
        }
        let out = self
            .tool("initdb")
            .arg("-D")
            .arg(&self.data)
            // Loopback only, for this user's own dev stack.
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
            .stdin(Stdio::null())
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!(
                "initdb failed: {}{}",
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    fn pg_ctl_stop(&self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "fast", "-w", "-t", "60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }

    fn stop(self) {
        self.pg_ctl_stop();
        let pid = self.pid;
        if !wait_until(Duration::from_secs(15), || !alive(pid)) {
            signal(pid, "QUIT");
        }
    }
}

fn pg_tool(bin: &Path, runuser: Option<&Path>, name: &str) -> Command {
    let mut c = match runuser {
        Some(ru) => {
            let mut c = Command::new(ru);
            c.args(["-u", "postgres", "--"]).arg(bin.join(name));
            c
        }
        None => Command::new(bin.join(name)),
    };
    // pg_ctl makes the postmaster a session leader; the group is for the tool itself.
    c.process_group(0);
    c
}
