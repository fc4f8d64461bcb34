//! `sa-server static` as a process: flags, access log lines, and a clean exit on SIGTERM.
mod support;

use std::{
    io::{BufReader, Read},
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use support::static_files::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serves_logs_and_shuts_down_gracefully() {
    let f = fixture();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sa-server"))
        .args(["--log-format", "json", "static", "--app", "client"])
        .arg("--dir")
        .arg(&f.dist)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--domain",
            "sa.example.net",
            "--public-scheme",
            "https",
        ])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sa-server binary runs");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sa-server static did not listen on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (status, response) = raw_get(addr, b"/config.json").await;
    assert_eq!(status, 200);
    assert!(
        response.contains("\"auth_url\":\"https://auth.sa.example.net\""),
        "{response}"
    );
    let (status, _) = raw_get(addr, b"/healthz").await;
    assert_eq!(status, 200);

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "sa-server did not stop within 10 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");

    let mut log = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_to_string(&mut log)
        .unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let access = lines
        .iter()
        .find(|l| l["status"] == 200 && l.to_string().contains("/config.json"))
        .unwrap_or_else(|| panic!("no structured access log line for /config.json in:\n{log}"));
    assert!(access.get("latency").is_some(), "{access}");
    assert!(lines.iter().any(|l| l["message"] == "shut down"), "{log}");
}
