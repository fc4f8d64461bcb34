//! `/register`: create an account. The form checks the rules as the user types, so the server
//! (which checks them again) rarely has to refuse.
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate, LazyRoute};
use sa_shared::{
    account::{self, MIN_PASSWORD_CHARS},
    auth::Credentials,
    web::{auth_api, session::Session},
};

use crate::components::{explain, Doing, ErrorNotice};

/// The rules live once in `sa_shared::account`, and auth checks them again.
fn username_problem(name: &str) -> Option<String> {
    account::canonical_username(name)
        .err()
        .map(|p| p.to_string())
}

fn password_problem(password: &str, username: &str) -> Option<String> {
    account::password_problem(password, username).map(|p| p.to_string())
}

/// `/register`, a split point: rare after the first visit, so not in the first download.
pub struct RegisterRoute(Session);

impl LazyRoute for RegisterRoute {
    fn data() -> Self {
        RegisterRoute(expect_context())
    }

    async fn view(this: Self) -> AnyView {
        register_view(this.0).await
    }
}

#[cfg_attr(feature = "split", leptos::lazy)]
async fn register_view(session: Session) -> AnyView {
    view! { <RegisterPage session=session /> }.into_any()
}

#[component]
pub fn RegisterPage(session: Session) -> impl IntoView {
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    // Problems show once a field was left (or on submit), not while the first letter is typed.
    let touched = RwSignal::new([false; 3]);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let user_problem = Memo::new(move |_| username.with(|u| username_problem(u)));
    let pass_problem = Memo::new(move |_| password_problem(&password.get(), &username.get()));
    let confirm_problem = Memo::new(move |_| {
        (confirm.get() != password.get()).then(|| "Does not match the password.".to_string())
    });
    let shown = move |i: usize, p: Memo<Option<String>>| {
        move || if touched.get()[i] { p.get() } else { None }
    };
    let touch = move |i: usize| move |_| touched.update(|t| t[i] = true);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set([true; 3]);
        if user_problem.get_untracked().is_some()
            || pass_problem.get_untracked().is_some()
            || confirm_problem.get_untracked().is_some()
        {
            error.set(Some(
                "Fix the fields marked above, then create the account.".into(),
            ));
            return;
        }
        let credentials = Credentials {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = match auth_api::register(session, &credentials).await {
                Ok(()) => session.login(&credentials).await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match result {
                Ok(()) => navigate("/?welcome=1", Default::default()),
                Err(e) if e.status == 409 => error.set(Some(format!(
                    "The username “{}” is taken. Choose another one.",
                    credentials.username
                ))),
                Err(e) => error.set(Some(explain(&e, Doing::SigningIn, None))),
            }
        });
    };

    view! {
        <section class="card narrow auth-card">
            <h1>"Create an account"</h1>
            <p class="hint">"New accounts can read every model. An admin grants the writer role for creating and editing."</p>
            <form id="register-form" on:submit=submit novalidate>
                <Field id="register-username" label="Username" problem=Signal::derive(shown(0, user_problem))
                    hint="3–32 letters, digits, dots, dashes or underscores, starting with a letter or digit.">
                    <input id="register-username" name="username" autocomplete="username" required
                        autocapitalize="off" spellcheck="false"
                        aria-describedby="register-username-help"
                        aria-invalid=move || shown(0, user_problem)().is_some().to_string()
                        on:blur=touch(0)
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev)) />
                </Field>
                <Field id="register-password" label="Password" problem=Signal::derive(shown(1, pass_problem))
                    hint=format!("At least {MIN_PASSWORD_CHARS} characters, not containing your username.")>
                    <input id="register-password" name="password" type="password" autocomplete="new-password" required
                        aria-describedby="register-password-help"
                        aria-invalid=move || shown(1, pass_problem)().is_some().to_string()
                        on:blur=touch(1)
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </Field>
                <Field id="register-confirm" label="Confirm password" problem=Signal::derive(shown(2, confirm_problem))
                    hint="Type the password again.">
                    <input id="register-confirm" name="confirm" type="password" autocomplete="new-password" required
                        aria-describedby="register-confirm-help"
                        aria-invalid=move || shown(2, confirm_problem)().is_some().to_string()
                        on:blur=touch(2)
                        prop:value=move || confirm.get() on:input=move |ev| { confirm.set(event_target_value(&ev)); touched.update(|t| t[2] = true) } />
                </Field>
                {move || error.get().map(|m| view! { <ErrorNotice message=m /> })}
                <button type="submit" id="register-submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating…" } else { "Create account" }}
                </button>
            </form>
            <p class="aside">"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}

/// A labelled form field with its rule and, when broken, what is wrong.
#[component]
fn Field(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] hint: String,
    problem: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:invalid=move || problem.with(|p| p.is_some())>
            <label for=id.clone()>{label}</label>
            {children()}
            <p class="field-help" id=format!("{id}-help")>
                {move || match problem.get() {
                    Some(p) => view! { <span class="field-error">{p}</span> }.into_any(),
                    None => view! { <span>{hint.clone()}</span> }.into_any(),
                }}
            </p>
        </div>
    }
}
