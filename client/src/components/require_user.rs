//! The gate in front of pages that need a signed-in user.
use leptos::prelude::*;
use leptos_router::{hooks::use_location, hooks::use_navigate, NavigateOptions};
use sa_shared::web::{
    encode,
    session::{Session, SessionState},
};

use super::{ErrorNotice, Loading};

/// Shows `children` to a signed-in user; sends anyone else to the login page, which brings
/// them back here afterwards.
#[component]
pub fn RequireUser(session: Session, children: ChildrenFn) -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let children = StoredValue::new(children);
    move || match session.state() {
        SessionState::Restoring => view! { <Loading what="your session" /> }.into_any(),
        SessionState::SignedOut => {
            // The auth host being down is not the same as being signed out: say which.
            if let Some(err) = session.last_error() {
                return view! {
                    <section class="card">
                        <h1>"Cannot check your sign-in"</h1>
                        <ErrorNotice message=format!("{err} The sign-in service may be down; reload the page in a minute.") />
                        <p><a href="/login">"Go to the sign-in page"</a></p>
                    </section>
                }
                .into_any();
            }
            let (path, search) = (
                location.pathname.get_untracked(),
                location.search.get_untracked(),
            );
            let here = if search.is_empty() {
                path
            } else {
                format!("{path}?{search}")
            };
            let target = format!("/login?return={}", encode(&here));
            let navigate = navigate.clone();
            // After this render, not during it: navigating rebuilds the page being rendered.
            leptos::task::spawn_local(async move {
                let replace = NavigateOptions {
                    replace: true,
                    ..Default::default()
                };
                navigate(&target, replace)
            });
            view! { <Loading what="the sign-in page" /> }.into_any()
        }
        SessionState::SignedIn { .. } => children.with_value(|c| c()).into_any(),
    }
}
