//! `cargo xtask dev` with no store URLs: its services module (the very file the command runs,
//! `xtask/src/services.rs`) starts a private Redis and PostgreSQL, `sa-server dev` gets the
//! URLs it prints, and the explorer shows three available tabs in headless Chromium.
#[allow(dead_code)]
#[path = "../../xtask/src/services.rs"]
mod services;
mod support;

use support::browser::{Options, Stack, DESKTOP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_startup_without_urls_shows_three_available_tabs() {
    let data = tempfile::Builder::new()
        .prefix("sa-dev-startup-")
        .tempdir()
        .unwrap();
    // The postgres user must reach its cluster through this directory.
    let _ = std::process::Command::new("chmod")
        .arg("755")
        .arg(data.path())
        .status();
    let wanted = services::Wanted {
        redis: true,
        postgres: true,
    };
    let mut stores = tokio::task::spawn_blocking({
        let dir = data.path().to_path_buf();
        move || services::Services::start(&dir, wanted)
    })
    .await
    .unwrap();
    let pids = stores.pids();
    assert_eq!(
        pids.len(),
        2,
        "both servers start (apt-get install -y redis-server postgresql)"
    );
    let stack = Stack::start_with(Options {
        redis_url: stores.redis_url(),
        database_url: stores.database_url(),
    })
    .await;
    let b = stack.browser(DESKTOP).await;
    b.goto(&stack.url("explorer", "/")).await;
    for store in ["file", "redis", "sql"] {
        b.wait_js(
            &format!("the {store} tab is available"),
            &format!(
                "document.querySelector('[role=tab][data-store={store}]')?.dataset.health === 'up'"
            ),
        )
        .await;
    }
    b.close().await;
    tokio::task::spawn_blocking(move || stores.stop())
        .await
        .unwrap();
    for (name, pid) in pids {
        assert!(!services::alive(pid), "{name} (pid {pid}) is still running");
    }
}
