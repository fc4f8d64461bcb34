//! Browser test harness: real headless Chromium (through chromedriver) against `sa-server dev`
//! started in-process on a free port, with the apps from `dist/`.
//!
//! Helpers follow the action / check / find split so a test reads like the user's steps:
//! `b.click(..)`, `b.fill(..)` act; `b.check_text(..)`, `b.check_no_console_errors()` assert;
//! `b.find(..)`, `b.find_text(..)` wait for something to appear (WebDriver waits, no sleeps).
use std::{
    net::{SocketAddr, TcpListener as StdListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::Duration,
};

use fantoccini::{
    elements::Element, wd::WebDriverCompatibleCommand, Client, ClientBuilder, Locator,
};
use sa_server::dev::{self, DevContext};
use serde_json::{json, Value};
use tempfile::TempDir;

/// How long any wait may take before the test fails with a message.
pub const WAIT: Duration = Duration::from_secs(15);

pub const DESKTOP: (u32, u32) = (1280, 800);
pub const PHONE: (u32, u32) = (390, 844);

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ has a parent")
        .to_path_buf()
}

/// The app builds: `SA_DIST` or `<workspace>/dist`, each app in its own folder.
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("SA_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    for app in ["client", "explorer"] {
        let index = dist.join(app).join("index.html");
        assert!(
            index.is_file(),
            "{} is missing: run `cargo xtask test` (it builds the apps), or `trunk build --offline --release` \
             in the workspace root and in explorer/ (set SA_DIST to use another build)",
            index.display()
        );
    }
    dist
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The dev gateway and a chromedriver; browsers (sessions) are opened from it.
pub struct Stack {
    pub ctx: DevContext,
    pub addr: SocketAddr,
    pub data: TempDir,
    driver: Driver,
}

/// What to add to the default dev deployment (file store and auth only).
#[derive(Default)]
pub struct Options {
    pub redis_url: Option<String>,
    pub database_url: Option<String>,
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Stack {
        Stack::start_on(dist_dir(), options).await
    }

    /// [`Stack::start_with`], serving the app builds in `dist` instead of [`dist_dir`] (e.g. a
    /// copy with a file taken out).
    pub async fn start_on(dist: PathBuf, options: Options) -> Stack {
        let data = tempfile::tempdir().expect("temp data dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the dev gateway");
        let addr = listener.local_addr().unwrap();
        let args = dev::Args {
            listen: addr,
            domain: "sa.localhost".into(),
            dist,
            data: data.path().to_path_buf(),
            redis_url: options.redis_url,
            database_url: options.database_url,
            public_port: None,
            layout: sa_shared::config::Layout::Standard,
            canary_weight: 0,
        };
        let ctx = dev::start(args, listener)
            .await
            .expect("start sa-server dev in-process");
        let driver = Driver::spawn().await;
        Stack {
            ctx,
            addr,
            data,
            driver,
        }
    }

    /// `http://{sub}.sa.localhost:PORT{path}`.
    pub fn url(&self, sub: &str, path: &str) -> String {
        format!("{}{path}", self.ctx.url(sub))
    }

    /// A fresh browser (own profile, so its own cookies: a second user or a second device).
    pub async fn browser(&self, size: (u32, u32)) -> Browser {
        Browser::open(&self.driver, size).await
    }

    /// Adds an account directly in auth's data dir, as `sa-server users add` does (the running
    /// file-backed auth service sees it at its next request). Tests use a cheap argon2 cost.
    pub async fn add_user(&self, name: &str, password: &str, roles: &[&str]) {
        let roles = roles
            .iter()
            .map(|r| sa_shared::auth::Role::parse(r).unwrap_or_else(|| panic!("unknown role {r}")))
            .collect();
        let cost = sa_server::auth::passwords::Cost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        sa_server::auth::create_user(
            &self.data.path().join("auth"),
            None,
            name,
            password,
            roles,
            cost,
        )
        .await
        .unwrap_or_else(|e| panic!("add user {name}: {e}"));
    }

    /// An access token for `name`, through auth's login endpoint (for set-up calls).
    pub async fn token(&self, name: &str, password: &str) -> String {
        let res = self
            .http()
            .post(self.url("auth", "/api/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .expect("POST /api/login");
        assert!(
            res.status().is_success(),
            "login as {name}: {}",
            res.status()
        );
        let body: sa_shared::auth::TokenResponse = res.json().await.expect("token response");
        body.access_token
    }

    /// `POST /{store}/api/model` with `json` (any JSON text) as `who`; the new id.
    pub async fn create_model(&self, store: &str, who: (&str, &str), json: &str) -> String {
        let res = self
            .http()
            .post(self.url("store", &format!("/{store}/api/model")))
            .bearer_auth(self.token(who.0, who.1).await)
            .header("content-type", "application/json")
            .body(json.to_string())
            .send()
            .await
            .expect("POST a model");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert_eq!(
            status, 201,
            "create a model in {store} as {}: {text}",
            who.0
        );
        let created: sa_shared::model::ModelCreated =
            serde_json::from_str(&text).expect("the created body");
        created.id
    }

    /// The stored document and its ETag, read as `who`.
    pub async fn stored(&self, store: &str, who: (&str, &str), id: &str) -> (Value, String) {
        let res = self
            .http()
            .get(self.url("store", &format!("/{store}/api/model/{id}")))
            .bearer_auth(self.token(who.0, who.1).await)
            .send()
            .await
            .expect("GET a model");
        assert_eq!(res.status(), 200, "read the model {id} in {store}");
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        (res.json().await.expect("a JSON model"), etag)
    }

    /// Saves `doc` over the current version as `who`, as another client would (`If-Match`).
    pub async fn put_model(&self, store: &str, who: (&str, &str), id: &str, doc: &Value) {
        let (_, etag) = self.stored(store, who, id).await;
        let res = self
            .http()
            .put(self.url("store", &format!("/{store}/api/model/{id}")))
            .bearer_auth(self.token(who.0, who.1).await)
            .header("if-match", etag)
            .json(doc)
            .send()
            .await
            .expect("PUT a model");
        assert_eq!(res.status(), 200, "save the model {id} as {}", who.0);
    }

    pub async fn delete_model(&self, store: &str, who: (&str, &str), id: &str) {
        let res = self
            .http()
            .delete(self.url("store", &format!("/{store}/api/model/{id}")))
            .bearer_auth(self.token(who.0, who.1).await)
            .send()
            .await
            .expect("DELETE a model");
        assert_eq!(res.status(), 204, "delete the model {id} as {}", who.0);
    }

    /// An HTTP client for set-up calls that reaches every `*.sa.localhost` host on loopback
    /// (the system resolver doesn't know them).
    pub fn http(&self) -> reqwest::Client {
        let mut b = reqwest::Client::builder().cookie_store(true).timeout(WAIT);
        for sub in ["client", "explorer", "store", "auth"] {
            b = b.resolve(&format!("{sub}.{}", self.ctx.domain), self.addr);
        }
        b.build().expect("reqwest client")
    }
}

/// chromedriver on a free port, stopped when dropped (each [`Browser`] quits its Chromium).
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn spawn() -> Driver {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {bin:?} ({e}): install Chromium and its driver with \
                     `apt-get install -y chromium chromium-driver` (or run `cargo xtask test`, which sets them up), \
                     or point CHROMEDRIVER at a chromedriver binary"
                )
            });
        let url = format!("http://127.0.0.1:{port}/");
        super::eventually::eventually_within(
            &format!("chromedriver to listen on port {port}"),
            WAIT,
            || async move { std::net::TcpStream::connect(("127.0.0.1", port)).ok() },
        )
        .await;
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Only the one process we started, by its id.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ends the Chromium processes that run with this exact profile directory (a test that panics
/// never reaches `Browser::close`). They were started for us by our chromedriver; each is
/// signalled by its own pid.
fn kill_browser_processes(profile: &Path) {
    let marker = format!("--user-data-dir={}", profile.display());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let matches = cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == marker.as_bytes());
        if matches && pid > 1 && pid != std::process::id() {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

/// One entry of Chromium's console/network log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub level: String,
    pub source: String,
    pub message: String,
}

/// A chromedriver endpoint under the session that fantoccini has no call for: the browser log,
/// network conditions (offline), CDP commands.
#[derive(Debug)]
struct Vendor {
    method: http::Method,
    path: &'static str,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for Vendor {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

/// A headless Chromium session.
pub struct Browser {
    pub client: Client,
    _profile: TempDir,
    /// Everything read from the browser log so far (reading drains chromedriver's buffer).
    log: Mutex<Vec<LogEntry>>,
    /// Network failures the test provokes on purpose (e.g. a 412 conflict), as substrings.
    expected: Mutex<Vec<String>>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_browser_processes(self._profile.path());
    }
}

impl Browser {
    async fn open(driver: &Driver, size: (u32, u32)) -> Browser {
        // rustls has two crypto back-ends compiled in here (reqwest's and hyper-rustls');
        // name one, or the first TLS-capable client panics.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let profile = tempfile::Builder::new()
            .prefix("sa-chromium-")
            .tempdir()
            .expect("temp browser profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ]
        .into_iter()
        .map(String::from)
        .chain([
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={},{}", size.0, size.1),
        ])
        .collect::<Vec<_>>();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium ({e}): `apt-get install -y chromium chromium-driver`"));
        let b = Browser {
            client,
            _profile: profile,
            log: Mutex::new(Vec::new()),
            expected: Mutex::new(Vec::new()),
        };
        b.resize(size).await;
        b
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    // ---- actions ----

    /// Signs in on the client's login page as `(name, password)` and waits for the session.
    pub async fn sign_in(&self, stack: &Stack, (name, password): (&str, &str)) {
        self.goto(&stack.url("client", "/login")).await;
        self.fill("#login-username", name).await;
        self.fill("#login-password", password).await;
        self.click("#login-submit").await;
        self.check_text("#session-user", name).await;
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Sets the viewport (not the window) to `size`, so screenshots have exactly that size.
    pub async fn resize(&self, size: (u32, u32)) {
        self.client
            .set_window_size(size.0, size.1)
            .await
            .expect("set window size");
        // Headless windows have no chrome, but correct for it anyway if there is some.
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight]")
            .await;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(size.0 as u64) as i64,
            inner[1].as_u64().unwrap_or(size.1 as u64) as i64,
        );
        let (dw, dh) = (size.0 as i64 - w, size.1 as i64 - h);
        if dw != 0 || dh != 0 {
            let _ = self
                .client
                .set_window_size((size.0 as i64 + dw) as u32, (size.1 as i64 + dh) as u32)
                .await;
        }
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.wait_enabled(&el, css).await;
        if let Err(e) = el.click().await {
            self.fail(&format!("click {css}: {e}")).await;
        }
    }

    /// Clicks the first element matching `css` whose text contains `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        let el = self.find_text(css, text).await;
        if let Err(e) = el.click().await {
            self.fail(&format!("click {css} {text:?}: {e}")).await;
        }
    }

    /// Replaces an input's value by typing, so the app sees real input events.
    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Sets a large value at once (typing a whole JSON document key by key is slow) and fires
    /// the `input` event the app listens to.
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        self.eval_args(
            "const el = document.querySelector(arguments[0]); el.focus(); el.value = arguments[1]; \
             el.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// Presses one key (e.g. `Key::Escape`) on whatever has focus, through WebDriver actions.
    pub async fn press(&self, key: fantoccini::key::Key) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let k: char = key.into();
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
        self.client.perform_actions(keys).await.expect("key press");
        self.client.release_actions().await.expect("release keys");
    }

    /// Shift+Tab, through WebDriver actions.
    pub async fn press_shift_tab(&self) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let (shift, tab): (char, char) = (Key::Shift.into(), Key::Tab.into());
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab })
            .then(KeyAction::Up { value: shift });
        self.client.perform_actions(keys).await.expect("Shift+Tab");
        self.client.release_actions().await.expect("release keys");
    }

    /// Presses a key with Control held, through WebDriver actions (a real chord).
    /// Types `text` on whatever has focus, one real key press per character (WebDriver actions,
    /// so the page sees keydown, input and keyup as from a keyboard).
    pub async fn type_keys(&self, text: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keys = KeyActions::new("keyboard".into());
        for c in text.chars() {
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client
            .perform_actions(keys)
            .await
            .expect("key presses");
        self.client.release_actions().await.expect("release keys");
    }

    pub async fn press_ctrl(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let ctrl: char = Key::Control.into();
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: ctrl })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: ctrl });
        self.client.perform_actions(keys).await.expect("key chord");
        self.client.release_actions().await.expect("release keys");
    }

    pub async fn eval(&self, js: &str) -> Value {
        self.eval_args(js, vec![]).await
    }

    pub async fn eval_args(&self, js: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(js, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Saves a PNG of the viewport as `test-artifacts/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = workspace_root().join("test-artifacts").join("screenshots");
        std::fs::create_dir_all(&dir).expect("create test-artifacts/screenshots");
        // Let fonts and the last frame settle: one animation frame, not a fixed sleep.
        let _ = self
            .client
            .execute_async(
                "requestAnimationFrame(() => requestAnimationFrame(arguments[0]))",
                vec![],
            )
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The same page at desktop and phone size: `{name}-desktop.png`, `{name}-phone.png`.
    pub async fn screenshots(&self, name: &str, after: (u32, u32)) {
        self.resize(DESKTOP).await;
        self.screenshot(&format!("{name}-desktop")).await;
        self.resize(PHONE).await;
        self.screenshot(&format!("{name}-phone")).await;
        self.resize(after).await;
    }

    /// Cuts the browser off the network (as a lost connection would), or reconnects it.
    pub async fn offline(&self, offline: bool) {
        let cmd = if offline {
            Vendor {
                method: http::Method::POST,
                path: "chromium/network_conditions",
                body: Some(
                    json!({"network_conditions": {"offline": true, "latency": 0, "download_throughput": -1, "upload_throughput": -1}}),
                ),
            }
        } else {
            Vendor {
                method: http::Method::DELETE,
                path: "chromium/network_conditions",
                body: None,
            }
        };
        self.client
            .issue_cmd(cmd)
            .await
            .unwrap_or_else(|e| panic!("set network conditions: {e}"));
    }

    /// Emulates `prefers-color-scheme: dark` (or light) through the DevTools protocol.
    pub async fn color_scheme(&self, scheme: &str) {
        let cmd = Vendor {
            method: http::Method::POST,
            path: "goog/cdp/execute",
            body: Some(
                json!({"cmd": "Emulation.setEmulatedMedia", "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}}),
            ),
        };
        self.client
            .issue_cmd(cmd)
            .await
            .unwrap_or_else(|e| panic!("emulate {scheme} mode: {e}"));
    }

    /// Declares a network error the test provokes on purpose (a substring of the log line,
    /// e.g. "status of 412"), so it doesn't count as a console error.
    pub fn expect_network_error(&self, substring: &str) {
        self.expected.lock().unwrap().push(substring.to_string());
    }

    // ---- finds (all wait up to WAIT) ----

    pub async fn find(&self, css: &str) -> Element {
        // Any error (not only "no such element": also "aborted by navigation" while the app
        // reloads a page) means "not there yet" until the bound.
        self.until(
            || format!("no element {css:?} within {WAIT:?}"),
            || async move { self.client.find(Locator::Css(css)).await.ok() },
        )
        .await
    }

    /// The first element matching `css` whose visible text contains `text`.
    pub async fn find_text(&self, css: &str, text: &str) -> Element {
        self.until(
            || format!("no {css:?} containing {text:?} within {WAIT:?}"),
            || async move {
                for el in self.client.find_all(Locator::Css(css)).await.ok()? {
                    if el.text().await.is_ok_and(|t| t.contains(text)) {
                        return Some(el);
                    }
                }
                None
            },
        )
        .await
    }

    /// Waits until no element matches `css`.
    pub async fn find_none(&self, css: &str) {
        self.until(
            || format!("{css:?} is still there after {WAIT:?}"),
            || async move {
                let all = self.client.find_all(Locator::Css(css)).await.ok()?;
                all.is_empty().then_some(())
            },
        )
        .await
    }

    /// Waits until `js` (an expression) is truthy.
    pub async fn wait_js(&self, what: &str, js: &str) -> Value {
        let script = format!("return ({js});");
        let script = script.as_str();
        self.until(
            || format!("{what}: `{js}` stayed falsy for {WAIT:?}"),
            || async move {
                let v = self.eval(script).await;
                let falsy = v.is_null() || v == json!(false) || v == json!("") || v == json!(0);
                (!falsy).then_some(v)
            },
        )
        .await
    }

    pub async fn wait_url(&self, what: &str, contains: &str) {
        let last = std::sync::Mutex::new(String::new());
        let last = &last;
        self.until(
            || {
                format!(
                    "{what}: URL is {}, expected it to contain {contains:?}",
                    last.lock().unwrap()
                )
            },
            || async move {
                let url = self.client.current_url().await.ok()?.to_string();
                let found = url.contains(contains);
                *last.lock().unwrap() = url;
                found.then_some(())
            },
        )
        .await
    }

    async fn wait_enabled(&self, el: &Element, css: &str) {
        self.until(
            || format!("{css:?} stayed disabled for {WAIT:?}"),
            || async move { el.is_enabled().await.unwrap_or(true).then_some(()) },
        )
        .await
    }

    /// The one wait loop of the browser: polls `check` up to [`WAIT`], and fails with a
    /// screenshot and the console (see [`Browser::fail`]) if it never holds.
    async fn until<T, F, Fut>(&self, why: impl FnOnce() -> String, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        match super::eventually::poll_within(WAIT, check).await {
            Some(v) => v,
            None => self.fail(&why()).await,
        }
    }

    // ---- checks ----

    pub async fn check_text(&self, css: &str, text: &str) {
        self.find_text(css, text).await;
    }

    /// The id (or tag) of the focused element, for focus-return checks.
    pub async fn focused(&self) -> String {
        self.eval("const a = document.activeElement; return a ? (a.id || a.getAttribute('aria-label') || a.tagName) : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Reads new browser log entries into the kept log and returns the whole log.
    pub async fn console(&self) -> Vec<LogEntry> {
        let log = Vendor {
            method: http::Method::POST,
            path: "se/log",
            body: Some(json!({"type": "browser"})),
        };
        let fresh = self
            .client
            .issue_cmd(log)
            .await
            .unwrap_or_else(|e| panic!("read the browser log: {e}"));
        let mut log = self.log.lock().unwrap();
        for e in fresh.as_array().into_iter().flatten() {
            log.push(LogEntry {
                level: e["level"].as_str().unwrap_or_default().to_string(),
                source: e["source"].as_str().unwrap_or_default().to_string(),
                message: e["message"].as_str().unwrap_or_default().to_string(),
            });
        }
        log.clone()
    }

    /// Console errors: every SEVERE entry, except network errors the test declared, the
    /// browser's `/favicon.ico` probe, and a signed-out page's 401 from `POST /api/token`
    /// (that is how the auth service answers "no session").
    pub async fn console_errors(&self) -> Vec<LogEntry> {
        let expected = self.expected.lock().unwrap().clone();
        self.console()
            .await
            .into_iter()
            .filter(|e| e.level == "SEVERE")
            .filter(|e| {
                // The browser's own favicon probe is not the app's doing.
                let planned = e.source == "network"
                    && (expected.iter().any(|x| e.message.contains(x.as_str()))
                        || e.message.contains("/favicon.ico ")
                        || (e.message.contains("/api/token")
                            && e.message.contains("status of 401")));
                !planned
            })
            .collect()
    }

    pub async fn check_no_console_errors(&self) {
        let errors = self.console_errors().await;
        assert!(
            errors.is_empty(),
            "console errors:\n{}",
            errors
                .iter()
                .map(|e| format!("  [{}] {}", e.source, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Fails with a screenshot and the console, which is what one needs to see why.
    pub async fn fail(&self, why: &str) -> ! {
        let shot = self.screenshot("FAILED").await;
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let console = self.console().await;
        let body = self
            .eval("return document.body ? document.body.innerText.slice(0, 2000) : ''")
            .await;
        panic!(
            "{why}\n  at {url}\n  screenshot: {}\n  page text: {}\n  console:\n{}",
            shot.display(),
            body.as_str().unwrap_or_default(),
            console
                .iter()
                .map(|e| format!("    {} [{}] {}", e.level, e.source, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

impl Browser {
    /// Runs one DevTools protocol command (e.g. `Network.clearBrowserCache`).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let call = Vendor {
            method: http::Method::POST,
            path: "goog/cdp/execute",
            body: Some(json!({"cmd": cmd, "params": params})),
        };
        self.client
            .issue_cmd(call)
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }

    /// From the next navigation on, every `EventSource` the page opens waits until
    /// [`Browser::open_feeds`]: it is a stand-in that keeps the listeners and opens the real
    /// stream then, passing its events on. `window.__saHeldFeeds` counts the ones asked for.
    /// It lets a test write while a page has its list but no feed yet.
    pub async fn hold_feeds(&self) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": HOLD_FEEDS }),
        )
        .await;
    }

    /// Opens the feeds [`Browser::hold_feeds`] held, and every later one at once.
    pub async fn open_feeds(&self) {
        self.eval("window.__saOpenFeeds(); return true").await;
    }
}

const HOLD_FEEDS: &str = r#"(() => {
  const Real = window.EventSource;
  let release;
  const gate = new Promise((r) => { release = r; });
  window.__saHeldFeeds = 0;
  window.__saOpenFeeds = () => release();
  window.EventSource = function (url, init) {
    window.__saHeldFeeds += 1;
    const self = new EventTarget();
    let real = null;
    let closed = false;
    const kinds = new Set();
    const forward = (kind) => real.addEventListener(kind, (e) => self.dispatchEvent(
      e instanceof MessageEvent
        ? new MessageEvent(kind, { data: e.data, lastEventId: e.lastEventId })
        : new Event(kind)));
    const add = self.addEventListener.bind(self);
    self.addEventListener = (kind, f, o) => {
      add(kind, f, o);
      if (!kinds.has(kind)) { kinds.add(kind); if (real) forward(kind); }
    };
    self.url = url;
    Object.defineProperty(self, "readyState", { get: () => (real ? real.readyState : closed ? 2 : 0) });
    self.close = () => { closed = true; if (real) real.close(); };
    gate.then(() => { if (!closed) { real = new Real(url, init); kinds.forEach(forward); } });
    return self;
  };
})();"#;
