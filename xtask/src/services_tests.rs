//! The private store servers of `cargo xtask dev`, started by the same code the command runs
//! (`services.rs`): real redis-server, PostgreSQL and sa-server processes, checked by pid.
use std::{
    io::{Read, Write},
    net::TcpStream,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::AtomicBool,
    time::Duration,
};

use crate::services::{alive, free_port, signal, supervise, wait_until, Services, Wanted};

fn data_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("sa-xtask-services-")
        .tempdir()
        .unwrap();
    // The postgres user must reach its cluster through this directory.
    let _ = Command::new("chmod").arg("755").arg(d.path()).status();
    d
}

fn both() -> Wanted {
    Wanted {
        redis: true,
        postgres: true,
    }
}

fn started(data: &Path) -> Services {
    let s = Services::start(data, both());
    assert!(
        s.redis_url().is_some(),
        "redis-server did not start: install it with `apt-get install -y redis-server`"
    );
    assert!(
        s.database_url().is_some(),
        "PostgreSQL did not start: install it with `apt-get install -y postgresql`"
    );
    s
}

fn redis_cmd(port: u16, cmd: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).to_string()
}

fn psql(s: &Services, sql: &str) -> String {
    let out = s
        .psql()
        .expect("PostgreSQL is running")
        .args(["-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn servers_start_answer_and_stop_leaving_no_process() {
    let data = data_dir();
    let mut s = started(data.path());
    let pids = s.pids();
    assert_eq!(pids.len(), 2);
    for (name, pid) in &pids {
        assert!(alive(*pid), "{name} (pid {pid}) is not running");
    }
    assert_eq!(redis_cmd(s.redis_port().unwrap(), "PING"), "+PONG\r\n");
    assert_eq!(psql(&s, "SELECT 1"), "1");
    let args = s.server_args();
    assert_eq!(args[0], "--redis-url");
    assert_eq!(args[2], "--database-url");
    s.stop();
    for (name, pid) in pids {
        assert!(!alive(pid), "{name} (pid {pid}) is still running");
    }
    assert!(s.pids().is_empty());
}

#[test]
fn data_survives_a_restart() {
    let data = data_dir();
    let mut s = started(data.path());
    let port = s.redis_port().unwrap();
    assert_eq!(redis_cmd(port, "SET kept yes"), "+OK\r\n");
    psql(
        &s,
        "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('yes')",
    );
    s.stop();
    let s = started(data.path());
    let port = s.redis_port().unwrap();
    assert_eq!(redis_cmd(port, "GET kept"), "$3\r\nyes\r\n");
    assert_eq!(psql(&s, "SELECT v FROM kept"), "yes");
}

/// `sa-server dev` as `cargo xtask dev` starts it, on these servers (a minimal dist: this is
/// about the stores, not the apps).
fn dev_server(data: &Path, s: &Services) -> (Child, u16) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--quiet", "-p", "sa-server"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(built.success(), "building sa-server failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for app in ["client", "explorer"] {
        let d = data.join("dist").join(app);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    }
    let port = free_port().unwrap();
    let child = Command::new(target.join("debug/sa-server"))
        .arg("dev")
        .args(s.server_args())
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg("--data")
        .arg(data.join("files"))
        .arg("--dist")
        .arg(data.join("dist"))
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    (child, port)
}

/// The status of `GET path` on the dev gateway's store host.
fn store_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: store.sa.localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split(' ').nth(1)?.parse().ok()
}

fn eventually_status(port: u16, path: &str, want: u16) {
    let mut last = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            last = store_status(port, path);
            last == Some(want)
        }),
        "{path}: expected {want}, last answer {last:?}"
    );
}

#[test]
fn interrupting_dev_stops_the_server_and_every_store_process() {
    let data = data_dir();
    let mut s = started(data.path());
    let (mut server, port) = dev_server(data.path(), &s);
    for store in ["file", "redis", "sql"] {
        eventually_status(port, &format!("/{store}/readyz"), 200);
    }
    let mut pids = s.pids();
    pids.push(("sa-server", server.id()));
    // What the Ctrl-C handler does.
    let interrupted = AtomicBool::new(true);
    supervise(&mut server, &mut s, &interrupted).unwrap();
    for (name, pid) in pids {
        assert!(!alive(pid), "{name} (pid {pid}) is still running");
    }
    assert!(store_status(port, "/file/readyz").is_none());
}

#[test]
fn a_crashed_server_marks_only_its_store_unavailable() {
    let data = data_dir();
    let mut s = started(data.path());
    let (mut server, port) = dev_server(data.path(), &s);
    eventually_status(port, "/redis/readyz", 200);
    eventually_status(port, "/sql/readyz", 200);
    let redis_pid = s.pids()[0].1;
    signal(redis_pid, "KILL");
    let mut reported = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            reported.extend(s.reap_crashed());
            !reported.is_empty()
        }),
        "the crash was not noticed"
    );
    assert!(
        reported[0].contains("Redis tab is unavailable"),
        "{reported:?}"
    );
    assert!(s.redis_url().is_none());
    eventually_status(port, "/redis/readyz", 503);
    assert_eq!(store_status(port, "/sql/readyz"), Some(200));
    assert_eq!(store_status(port, "/file/readyz"), Some(200));
    supervise(&mut server, &mut s, &AtomicBool::new(true)).unwrap();
}
