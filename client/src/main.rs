#![forbid(unsafe_code)]

mod app;
mod explorer_dialog;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
