//! `/login?return=URL`: sign in, then go back to where the user came from (the explorer sends
//! its users here). Only the configured app hosts are honoured as return targets, so a crafted
//! link can't use this page to bounce a freshly signed-in user to another site.
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
};
use sa_shared::{
    auth::Credentials,
    config::RuntimeConfig,
    web::session::{Session, SessionState},
};

use crate::components::{explain, mark, Doing, ErrorNotice};

/// Where to go after signing in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnTo {
    /// A path in this app.
    Here(String),
    /// A page of another sa app (the explorer).
    App(String),
}

/// Reads `?return=`: a path in this app, or a URL on the client or explorer host. Anything
/// else is ignored.
pub fn return_target(config: &RuntimeConfig, raw: Option<&str>) -> ReturnTo {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return ReturnTo::Here("/".into());
    };
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.starts_with("/\\") {
        return ReturnTo::Here(raw.to_string());
    }
    for origin in [&config.client_url, &config.explorer_url] {
        let under = raw == origin.as_str()
            || raw
                .strip_prefix(origin.as_str())
                .is_some_and(|rest| rest.starts_with(['/', '?', '#']));
        if under {
            return if origin == &config.client_url {
                ReturnTo::Here(raw[origin.len()..].to_string()).normalised()
            } else {
                ReturnTo::App(raw.to_string())
            };
        }
    }
    ReturnTo::Here("/".into())
}

impl ReturnTo {
    fn normalised(self) -> Self {
        match self {
            ReturnTo::Here(p) if !p.starts_with('/') => ReturnTo::Here(format!("/{p}")),
            other => other,
        }
    }
}

#[component]
pub fn LoginPage(session: Session) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let target =
        Memo::new(move |_| return_target(&session.config(), query.read().get_str("return")));

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // Signed in (now, or already through the shared cookie): go on to the target.
    Effect::new(move |_| {
        if matches!(session.state(), SessionState::SignedIn { .. }) {
            match target.get_untracked() {
                ReturnTo::Here(path) => navigate(&path, Default::default()),
                ReturnTo::App(url) => {
                    let _ = window().location().assign(&url);
                }
            }
        }
    });
    Effect::new(move |_| mark("sa:login-form"));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let credentials = Credentials {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if credentials.username.is_empty() || credentials.password.is_empty() {
            error.set(Some("Enter your username and your password.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            mark("sa:login-submit");
            if let Err(e) = session.login(&credentials).await {
                error.set(Some(explain(&e, Doing::SigningIn, None)));
                password.set(String::new());
            }
            busy.set(false);
        });
    };

    let to_explorer = move || matches!(target.get(), ReturnTo::App(_));
    view! {
        <section class="card narrow auth-card">
            <h1>"Sign in"</h1>
            {move || to_explorer().then(|| view! { <p class="hint">"After signing in you go back to the explorer."</p> })}
            <form id="login-form" on:submit=submit novalidate>
                <div class="field">
                    <label for="login-username">"Username"</label>
                    <input id="login-username" name="username" autocomplete="username" required
                        autocapitalize="off" spellcheck="false"
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" name="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                {move || error.get().map(|m| view! { <ErrorNotice message=m /> })}
                <button type="submit" id="login-submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="aside">"New here? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}
