// Inlined into each app's index.html by Trunk (`rel="inline"`), so it runs before the wasm
// starts and costs no request of its own; the static server's CSP lists its hash.
// Outside the wasm on purpose: a part of sa that can't be fetched (offline, or sa was
// redeployed under this tab and the old chunk is gone) would otherwise leave a blank page
// or a dead button, because Leptos answers a failed chunk with a panic (a wasm trap).
(() => {
  const show = () => {
    if (document.getElementById("sa-reload")) return;
    const bar = document.createElement("div");
    bar.id = "sa-reload";
    bar.className = "reload-banner";
    bar.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.textContent = "This part of sa could not be loaded (offline, or sa was updated): reload";
    const button = document.createElement("button");
    button.type = "button";
    button.id = "sa-reload-button";
    button.textContent = "Reload";
    button.addEventListener("click", () => location.reload());
    bar.append(text, button);
    // Inside an open modal dialog (the explorer pop-over), or it would sit under the
    // dialog's backdrop, inert.
    (document.querySelector("dialog:modal") || document.body).append(bar);
  };
  const show_when_ready = () =>
    document.body ? show() : addEventListener("DOMContentLoaded", show);
  // Every wasm module (the main one and each chunk) is instantiated through this.
  const instantiate = WebAssembly.instantiateStreaming;
  if (instantiate) {
    WebAssembly.instantiateStreaming = function (...args) {
      return instantiate.apply(this, args).catch((e) => {
        show_when_ready();
        throw e;
      });
    };
  }
  // The trap that follows, or any other: with panic=abort the wasm is dead from here.
  addEventListener("error", (e) => {
    if (e.error instanceof WebAssembly.RuntimeError) show_when_ready();
  });
  // The main module's fetch failing (offline) rejects the start script's promise.
  addEventListener("unhandledrejection", (e) => {
    if (e.reason instanceof TypeError || e.reason instanceof WebAssembly.CompileError) show_when_ready();
  });
})();
