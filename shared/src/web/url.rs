//! The page URL as signals, for the apps' few routes.
//!
//! Both apps match their routes with a plain `match` on [`Location::segments`]. A router crate
//! (leptos_router) cost each app about a tenth of its WebAssembly for features they don't use
//! (nested routes, async route data), so this module keeps only what they need: the path and
//! query as signals, `pushState` navigation, the back button, and same-origin link clicks
//! handled without a page load. Measured in docs/bench/client.md.
use leptos::{ev, prelude::*};
use wasm_bindgen::JsCast;

/// The current path and query. `Copy`: it only holds arena ids.
#[derive(Clone, Copy)]
pub struct Location {
    path: RwSignal<String>,
    search: RwSignal<String>,
}

impl Location {
    /// Reads the page URL and follows the back and forward buttons. Provided as context; call
    /// it once, at the top of the app.
    pub fn install() -> Self {
        let (path, search) = current();
        let loc = Location {
            path: RwSignal::new(path),
            search: RwSignal::new(search),
        };
        let pop = window_event_listener(ev::popstate, move |_| loc.sync());
        on_cleanup(move || pop.remove());
        provide_context(loc);
        loc
    }

    /// Same-origin link clicks navigate without a page load. (The standalone explorer, with
    /// one link to its own start page, does without: its budget counts every kilobyte.)
    pub fn follow_links(self) -> Self {
        let click = window_event_listener(ev::click, move |e| self.on_click(&e));
        on_cleanup(move || click.remove());
        self
    }

    /// The path, e.g. `/models/file/abc` (reactive).
    pub fn path(&self) -> String {
        self.path.get()
    }

    pub fn path_untracked(&self) -> String {
        self.path.get_untracked()
    }

    pub fn search_untracked(&self) -> String {
        self.search.get_untracked()
    }

    /// The path's segments, percent-decoded (reactive). `/` has none.
    pub fn segments(&self) -> Vec<String> {
        self.path.with(|p| {
            p.split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    js_sys::decode_uri_component(s)
                        .map(String::from)
                        .unwrap_or_else(|_| s.to_string())
                })
                .collect()
        })
    }

    /// One query parameter, decoded (reactive).
    pub fn query(&self, name: &str) -> Option<String> {
        self.search
            .with(|s| web_sys::UrlSearchParams::new_with_str(s).ok()?.get(name))
    }

    /// Goes to `href` (same origin) and adds a history entry.
    pub fn navigate(&self, href: &str) {
        self.go(href, false);
    }

    /// Goes to `href` (same origin) in place of the current history entry.
    pub fn replace(&self, href: &str) {
        self.go(href, true);
    }

    fn go(&self, href: &str, replace: bool) {
        let Ok(history) = window().history() else {
            let _ = window().location().assign(href);
            return;
        };
        let done = if replace {
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href))
        } else {
            history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href))
        };
        if done.is_err() {
            let _ = window().location().assign(href);
            return;
        }
        if !replace {
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.sync();
    }

    /// Copies the page URL into the signals (only what changed, so pages that depend on the
    /// path alone are not rebuilt by a new query).
    fn sync(&self) {
        let (path, search) = current();
        if self.path.with_untracked(|p| *p != path) {
            self.path.set(path);
        }
        if self.search.with_untracked(|s| *s != search) {
            self.search.set(search);
        }
    }

    /// A plain left click on a same-origin link becomes a `pushState` navigation.
    fn on_click(&self, e: &web_sys::MouseEvent) {
        if e.default_prevented()
            || e.button() != 0
            || e.ctrl_key()
            || e.meta_key()
            || e.shift_key()
            || e.alt_key()
        {
            return;
        }
        let Some(a) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        let target = a.target();
        if a.has_attribute("download") || !(target.is_empty() || target == "_self") {
            return;
        }
        let here = window().location();
        if a.origin() != here.origin().unwrap_or_default() {
            return;
        }
        let (path, search) = (a.pathname(), a.search());
        // `#main` and other in-page anchors stay with the browser.
        if !a.hash().is_empty()
            && path == here.pathname().unwrap_or_default()
            && search == here.search().unwrap_or_default()
        {
            return;
        }
        e.prevent_default();
        self.navigate(&format!("{path}{search}{}", a.hash()));
    }
}

/// The [`Location`] the app installed.
pub fn use_location() -> Location {
    expect_context::<Location>()
}

fn current() -> (String, String) {
    let l = window().location();
    (
        l.pathname().unwrap_or_else(|_| "/".into()),
        l.search().unwrap_or_default(),
    )
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
