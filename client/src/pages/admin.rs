//! `/admin`: users and their roles (admins only; the auth service enforces it too).
use leptos::prelude::*;
use leptos_router::LazyRoute;
use sa_shared::{
    auth::{Role, UserView},
    web::{auth_api, session::Session},
};

use crate::components::{explain, relative_time, Doing, ErrorNotice, Loading, Modal, RequireUser};

/// `/admin`, a split point: only admins ever see it.
pub struct AdminRoute(Session);

impl LazyRoute for AdminRoute {
    fn data() -> Self {
        AdminRoute(expect_context())
    }

    async fn view(this: Self) -> AnyView {
        admin_view(this.0).await
    }
}

#[cfg_attr(feature = "split", leptos::lazy)]
async fn admin_view(session: Session) -> AnyView {
    view! { <AdminPage session=session /> }.into_any()
}

#[component]
pub fn AdminPage(session: Session) -> impl IntoView {
    view! {
        <RequireUser session=session>
            <Show when=move || session.is_admin() fallback=|| view! {
                <section class="card">
                    <h1>"Users"</h1>
                    <ErrorNotice message="Only admins can manage users. Ask an admin if you need a different role." />
                </section>
            }>
                <Users session=session />
            </Show>
        </RequireUser>
    }
}

#[component]
fn Users(session: Session) -> impl IntoView {
    let users = LocalResource::new(move || auth_api::users(session));
    let to_delete = RwSignal::new(None::<UserView>);
    let delete_open = RwSignal::new(false);
    let notice = RwSignal::new(None::<Result<String, String>>);

    let confirm_delete = move |_| {
        delete_open.set(false);
        let Some(user) = to_delete.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match auth_api::delete_user(session, &user.id).await {
                Ok(()) => {
                    notice.set(Some(Ok(format!("Deleted {}.", user.username))));
                    users.refetch();
                }
                Err(e) => notice.set(Some(Err(explain(&e, Doing::Admin, None)))),
            }
        });
    };

    view! {
        <section class="card">
            <div class="section-head">
                <h1>"Users"</h1>
                <button type="button" class="secondary" on:click=move |_| users.refetch()>"Refresh"</button>
            </div>
            <p class="hint">"Readers may read models; writers may also create, edit and delete them; admins may also manage users."</p>
            {move || notice.get().map(|n| match n {
                Ok(m) => view! { <p class="notice ok" role="status">{m}</p> }.into_any(),
                Err(m) => view! { <ErrorNotice message=m /> }.into_any(),
            })}
            // The list stays on screen while it reloads (after a delete or "Refresh").
            <Transition fallback=|| view! { <Loading what="users" /> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty-state">"No users yet. New users appear here after they register."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="users" id="users-table">
                                <thead><tr><th scope="col">"User"</th><th scope="col">"Since"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    <For each=move || list.clone() key=|u| u.id.clone() let:user>
                                        <UserRow session=session user=user notice=notice on_delete=Callback::new(move |u: UserView| { to_delete.set(Some(u)); delete_open.set(true); }) />
                                    </For>
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice message=explain(&e, Doing::Admin, None) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Modal open=delete_open labelled_by="delete-user-title" alert=true>
            <h2 id="delete-user-title">{move || format!("Delete the account “{}”?", to_delete.get().map(|u| u.username).unwrap_or_default())}</h2>
            <p>"They can no longer sign in. Their models stay in the stores."</p>
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| delete_open.set(false)>"Cancel"</button>
                <button type="button" class="danger" id="delete-user-confirm" on:click=confirm_delete>"Delete account"</button>
            </div>
        </Modal>
    }
}

#[component]
fn UserRow(
    session: Session,
    user: UserView,
    notice: RwSignal<Option<Result<String, String>>>,
    on_delete: Callback<UserView>,
) -> impl IntoView {
    let current = RwSignal::new(
        Role::strongest(&user.roles)
            .map_or("no role", Role::as_str)
            .to_string(),
    );
    let saved = RwSignal::new(current.get_untracked());
    let busy = RwSignal::new(false);
    let is_me = session
        .user()
        .map(|me| me.id == user.id || me.name == user.username)
        .unwrap_or(false);
    let select_id = format!("role-{}", user.username);
    let name = user.username.clone();
    let id = user.id.clone();
    let save = move |_| {
        let role = current.get_untracked();
        let (id, name) = (id.clone(), name.clone());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match auth_api::set_roles(session, &id, vec![role.clone()]).await {
                Ok(()) => {
                    saved.set(role.clone());
                    notice.set(Some(Ok(format!("{name} is now {role}. The change applies at their next sign-in or token refresh (within 15 minutes)."))));
                }
                Err(e) => notice.set(Some(Err(explain(&e, Doing::Admin, None)))),
            }
            busy.set(false);
        });
    };
    let u2 = user.clone();
    view! {
        <tr data-user=user.username.clone()>
            <th scope="row">{user.username.clone()}{is_me.then(|| view! { <span class="badge">"you"</span> })}</th>
            <td><time datetime=user.created.clone()>{relative_time(&user.created)}</time></td>
            <td>
                <label for=select_id.clone() class="visually-hidden">{format!("Role of {}", user.username)}</label>
                <select id=select_id disabled=is_me on:change=move |ev| current.set(event_target_value(&ev))>
                    {Role::ALL.iter().map(|r| {
                        let r = r.as_str();
                        view! { <option value=r selected=move || current.get() == r>{r}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td class="row-actions">
                <button type="button" class="save-role" disabled=move || busy.get() || current.get() == saved.get() on:click=save>
                    "Save role"
                </button>
                <button type="button" class="danger secondary" disabled=is_me on:click=move |_| on_delete.run(u2.clone())
                    aria-label=format!("Delete {}", user.username)>"Delete"</button>
            </td>
        </tr>
    }
}
