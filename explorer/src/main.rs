fn main() {
    // Debug builds (trunk serve) print panics; release builds abort at once (xtask/src/apps.rs).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(sa_explorer::App);
}
