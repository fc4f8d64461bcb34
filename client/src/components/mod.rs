//! Pieces the pages share: status lines, error notices, modal dialogs and the sign-in gate.
//! The JSON editor is sa-editor's `JsonEditor`.
pub mod modal;
pub mod require_user;

use leptos::prelude::*;
use sa_shared::web::http::ApiError;

pub use modal::Modal;
pub use require_user::RequireUser;

pub use sa_shared::web::mark;

/// A loading line that screen readers announce.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            {format!("Loading {what}…")}
        </p>
    }
}

/// What the user tried, so an error can say what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doing {
    Reading,
    Writing,
    SigningIn,
    Admin,
}

/// The sentence shown for an error: the server's message, sharpened for the cases a user
/// meets most (offline, a reader writing, a store that is down).
pub fn explain(err: &ApiError, doing: Doing, store_name: Option<&str>) -> String {
    sentence(&explain_raw(err, doing, store_name))
}

/// Server messages are written lower-case, to be embedded; shown alone they read as sentences.
fn sentence(s: &str) -> String {
    let s = capitalise(s.trim());
    if s.ends_with(['.', '!', '?', ')']) {
        s
    } else {
        format!("{s}.")
    }
}

fn explain_raw(err: &ApiError, doing: Doing, store_name: Option<&str>) -> String {
    let place = store_name
        .map(|s| format!("the {s} store"))
        .unwrap_or_else(|| "the server".to_string());
    match (err.status, doing) {
        (0, _) if err.is_network() => format!(
            "Could not reach {place}. Check your network connection, then try again. If other sites work, {place} may be down."
        ),
        (401, Doing::SigningIn) => err.message.clone(),
        (401, _) => "Your session has ended. Sign in again to continue.".to_string(),
        (403, Doing::Writing) => {
            "Your account can read models but not change them. Ask an admin to give you the writer role.".to_string()
        }
        (403, Doing::Admin) => "Only admins can manage users.".to_string(),
        (503, _) => format!(
            "{} is unavailable right now. Try again in a minute; the other stores still work. (Details: {})",
            capitalise(&place),
            err.message.trim_end_matches('.')
        ),
        _ => err.to_string(),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // The sentences start with English words ("the server"): no Unicode tables needed.
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// An error notice (`role=alert`, so it is read out when it appears).
#[component]
pub fn ErrorNotice(#[prop(into)] message: String) -> impl IntoView {
    view! { <div class="notice error" role="alert">{message}</div> }
}

/// "3 minutes ago" for an RFC 3339 time, with the exact time as a tooltip.
pub fn relative_time(rfc3339: &str) -> String {
    let then = js_sys::Date::parse(rfc3339);
    if then.is_nan() {
        return rfc3339.to_string();
    }
    let secs = ((js_sys::Date::now() - then) / 1000.0).max(0.0) as u64;
    match secs {
        0..=44 => "just now".to_string(),
        45..=89 => "a minute ago".to_string(),
        90..=3599 => format!("{} minutes ago", secs.div_ceil(60)),
        3600..=86_399 => match secs / 3600 {
            1 => "an hour ago".to_string(),
            h => format!("{h} hours ago"),
        },
        _ => match secs / 86_400 {
            1 => "yesterday".to_string(),
            d if d < 30 => format!("{d} days ago"),
            _ => rfc3339.get(..10).unwrap_or(rfc3339).to_string(),
        },
    }
}
