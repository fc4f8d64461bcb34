//! [`JsonEditor`]: a native textarea with a highlighted layer behind it.
//!
//! The textarea does the editing, so the browser's own caret, selection, undo and IME stay.
//! Its text is transparent; behind it an `aria-hidden` layer draws the same text coloured,
//! only for the lines on screen (by scroll position and line height), so a 1 MiB document
//! costs a few dozen lines of DOM. Lines never wrap, which keeps line `n` at `n × height`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlTextAreaElement, KeyboardEvent};

use crate::edit::{byte_to_utf16, indent, outdent, pretty, utf16_to_byte, Edited};
use crate::layer::{
    css_px, gutter_html, line_html, line_of, line_range, line_starts, visible_lines,
};
use crate::tokens::{check_syntax, ParseError};

/// Where the textarea is scrolled, how tall it is, and its line height, in CSS pixels: one
/// signal, since they change together.
#[derive(Clone, Copy, PartialEq)]
struct Geometry {
    top: f64,
    left: f64,
    height: f64,
    line_height: f64,
}

/// Lines drawn above and below the viewport, so fast scrolling shows no blank rows.
const OVERSCAN: usize = 20;
/// Typing pauses this long before the whole document is checked again.
const CHECK_DELAY: Duration = Duration::from_millis(250);

/// A JSON editor: highlighting, line numbers, Format, Tab/Shift-Tab, Ctrl/Cmd+S, and the place
/// of a syntax error.
///
/// Tab indents the selected lines (Shift-Tab outdents); Escape then Tab moves the focus on, so
/// keyboard users are never trapped. In `read_only` mode Tab moves the focus as usual.
#[component]
pub fn JsonEditor(
    /// The document. Each new value replaces the editor's text, pretty-printed when it is
    /// valid JSON.
    #[prop(into)]
    text: Signal<String>,
    /// The text field's accessible name, also shown as its label.
    #[prop(into)]
    label: String,
    /// Called with the whole text after each edit.
    #[prop(optional, into)]
    on_change: Option<Callback<String>>,
    /// Called with the whole text on Ctrl+S or Cmd+S.
    #[prop(optional, into)]
    on_save: Option<Callback<String>>,
    /// No editing and no Format.
    #[prop(optional, into)]
    read_only: MaybeProp<bool>,
    /// The textarea's id; one is made up when absent.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(next_id);
    let status_id = format!("{id}-status");
    let area = NodeRef::<html::Textarea>::new();
    let read_only = Signal::derive(move || read_only.get().unwrap_or(false));

    // What the textarea is given; typing does not write it back (that would copy the whole
    // text into the DOM on every key).
    let shown = Memo::new(move |_| {
        let raw = text.get();
        pretty(&raw).unwrap_or(raw)
    });
    let current = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ParseError>);
    let checks = StoredValue::new(0u64);
    let geometry = RwSignal::new(Geometry {
        top: 0.0,
        left: 0.0,
        height: 0.0,
        line_height: 20.0,
    });
    let escaped = StoredValue::new(false);

    let run_check = move || error.set(current.with_untracked(|t| check_syntax(t).err()));
    let schedule_check = move || {
        let ticket = checks.get_value() + 1;
        checks.set_value(ticket);
        // The editor may be gone when the timer fires (a save closes it at once).
        set_timeout(
            move || {
                if checks.try_get_value() == Some(ticket) {
                    run_check();
                }
            },
            CHECK_DELAY,
        );
    };

    let measure = move |el: &HtmlTextAreaElement| {
        geometry.update(|g| {
            g.top = f64::from(el.scroll_top());
            g.left = f64::from(el.scroll_left());
            g.height = f64::from(el.client_height());
        });
    };
    Effect::new(move |_| {
        current.set(shown.get());
        run_check();
    });
    Effect::new(move |_| {
        if let Some(el) = area.get() {
            if let Some(px) = window()
                .get_computed_style(&el)
                .ok()
                .flatten()
                .and_then(|style| style.get_property_value("line-height").ok())
                // The browser's `parseFloat`: Rust's own float parser would add its tables
                // (about 10 KB) to the editor's chunk for this one number.
                .map(|v| js_sys::parse_float(&v))
                .filter(|px| px.is_finite() && *px > 0.0)
            {
                geometry.update(|g| g.line_height = px);
            }
            measure(&el);
        }
    });

    let changed = move |value: String| {
        current.set(value.clone());
        if let Some(cb) = on_change {
            cb.run(value);
        }
        schedule_check();
    };

    let starts = Memo::new(move |_| current.with(|t| line_starts(t)));
    let lines = Memo::new(move |_| {
        let g = geometry.get();
        // Before the first layout the height is 0: draw a screenful anyway.
        let height = if g.height > 0.0 { g.height } else { 800.0 };
        visible_lines(
            g.top,
            height,
            g.line_height,
            starts.with(Vec::len),
            OVERSCAN,
        )
    });
    // The visible lines as (number, text, error column): a keystroke changes one of them, and
    // `<For>` redraws only that one. Redrawing all of them on every key (one `innerHTML` of
    // ~80 lines) made each keystroke in a 1 MiB model a long task of 100–160 ms in Chromium;
    // without the layer the same typing took under 50 ms (server/tests/browser_large_model.rs).
    let rows = Memo::new(move |_| {
        let range = lines.get();
        current.with(|t| {
            starts.with(|s| {
                let err = error.with(|e| {
                    e.as_ref()
                        .map(|e| e.byte_offset)
                        .filter(|&o| o <= t.len() && t.is_char_boundary(o))
                });
                let err_line = err.map(|o| line_of(s, o));
                range
                    .map(|n| {
                        let r = line_range(t, s, n);
                        let mark = err.filter(|_| err_line == Some(n)).map(|o| o - r.start);
                        (n, t[r].to_string(), mark)
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let offset_y = move || {
        let g = geometry.get();
        lines.get().start as f64 * g.line_height - g.top
    };

    let apply = move |el: &HtmlTextAreaElement, old: &str, edited: Edited| {
        replace_text(el, old, &edited.text);
        let (s, e) = (
            byte_to_utf16(&edited.text, edited.start),
            byte_to_utf16(&edited.text, edited.end),
        );
        let _ = el.set_selection_range(s as u32, e as u32);
        // The editing command fired `input` already; setting the value directly did not.
        let value = el.value();
        if current.with_untracked(|c| *c != value) {
            changed(value);
        }
    };

    let on_key = move |ev: KeyboardEvent| {
        let key = ev.key();
        if (ev.ctrl_key() || ev.meta_key()) && key.eq_ignore_ascii_case("s") {
            ev.prevent_default();
            if let Some(cb) = on_save {
                cb.run(current.get_untracked());
            }
            return;
        }
        if key == "Escape" {
            escaped.set_value(true);
            return;
        }
        let leave = escaped.get_value();
        escaped.set_value(false);
        if key != "Tab" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || leave {
            return;
        }
        if read_only.get_untracked() {
            return;
        }
        let Some(el) = area.get_untracked() else {
            return;
        };
        ev.prevent_default();
        let text = el.value();
        let start = utf16_to_byte(
            &text,
            el.selection_start().ok().flatten().unwrap_or(0) as usize,
        );
        let end = utf16_to_byte(
            &text,
            el.selection_end().ok().flatten().unwrap_or(0) as usize,
        );
        let edited = if ev.shift_key() {
            outdent(&text, start, end)
        } else {
            indent(&text, start, end)
        };
        apply(&el, &text, edited);
    };

    let format = move |_| {
        let Some(el) = area.get_untracked() else {
            return;
        };
        let text = el.value();
        match pretty(&text) {
            Ok(formatted) => apply(
                &el,
                &text,
                Edited {
                    text: formatted,
                    start: 0,
                    end: 0,
                },
            ),
            Err(e) => error.set(Some(e)),
        }
    };

    let go_to_error = move |_| {
        let (Some(el), Some(err)) = (area.get_untracked(), error.get_untracked()) else {
            return;
        };
        let text = el.value();
        if err.byte_offset <= text.len() && text.is_char_boundary(err.byte_offset) {
            let at = byte_to_utf16(&text, err.byte_offset) as u32;
            let _ = el.focus();
            let _ = el.set_selection_range(at, at);
        }
    };

    view! {
        <div class="sa-editor" class:sa-editor-invalid=move || error.with(Option::is_some)>
            <div class="sa-editor-bar">
                <label class="sa-editor-label" for=id.clone()>{label}</label>
                <button
                    type="button"
                    class="sa-editor-format"
                    on:click=format
                    disabled=move || read_only.get()
                    aria-keyshortcuts="Control+S"
                >
                    "Format"
                </button>
            </div>
            <div class="sa-editor-body">
                <div
                    class="sa-editor-gutter"
                    aria-hidden="true"
                    style:transform=move || format!("translateY({})", css_px(offset_y()))
                    inner_html=move || gutter_html(lines.get())
                ></div>
                <div class="sa-editor-area">
                    <div class="sa-editor-layer" aria-hidden="true">
                        <pre
                            class="sa-editor-highlight"
                            style:transform=move || {
                                format!(
                                    "translate({}, {})",
                                    css_px(-geometry.get().left),
                                    css_px(offset_y())
                                )
                            }
                        >
                            <For each=move || rows.get() key=|row| row.clone() let:row>
                                <div class="sa-editor-line" inner_html=line_html(&row.1, row.2)></div>
                            </For>
                        </pre>
                    </div>
                    <textarea
                        node_ref=area
                        id=id
                        class="sa-editor-input"
                        wrap="off"
                        spellcheck="false"
                        autocomplete="off"
                        autocapitalize="off"
                        aria-describedby=status_id.clone()
                        aria-invalid=move || error.with(Option::is_some).to_string()
                        readonly=move || read_only.get()
                        prop:value=move || shown.get()
                        on:input=move |ev| changed(event_target_value(&ev))
                        on:scroll=move |_| {
                            if let Some(el) = area.get_untracked() {
                                measure(&el);
                            }
                        }
                        on:keydown=on_key
                    ></textarea>
                </div>
            </div>
            <p id=status_id class="sa-editor-status" aria-live="polite">
                {move || match error.get() {
                    None => view! { <span class="sa-editor-ok">"✓ Valid JSON"</span> }.into_any(),
                    Some(e) => view! {
                        <button type="button" class="sa-editor-error" on:click=go_to_error>
                            {format!("✗ {e}")}
                        </button>
                    }
                    .into_any(),
                }}
            </p>
        </div>
    }
}

/// Replaces `old` by `new` in the textarea through the browser's editing, so that Ctrl+Z undoes
/// it: only the changed middle is selected and typed over.
fn replace_text(el: &HtmlTextAreaElement, old: &str, new: &str) {
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    let from = byte_to_utf16(old, prefix) as u32;
    let to = byte_to_utf16(old, old.len() - suffix) as u32;
    let insert = &new[prefix..new.len() - suffix];
    let _ = el.focus();
    let _ = el.set_selection_range(from, to);
    let typed = document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|doc| {
            doc.exec_command_with_show_ui_and_value("insertText", false, insert)
                .ok()
        })
        .unwrap_or(false);
    if !typed || el.value() != new {
        // No editing command (or it did something else): set the text directly, losing undo
        // for this step only.
        el.set_value(new);
    }
}

fn next_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("sa-editor-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
