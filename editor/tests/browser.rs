//! JsonEditor in headless Chromium, with the real style/editor.css.
//!
//! `cargo test -p sa-editor --features web --target wasm32-unknown-unknown` with
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner` and chromedriver on
//! PATH (or `CHROMEDRIVER=/usr/bin/chromedriver`); editor/webdriver.json holds the Chromium flags.
#![cfg(all(target_arch = "wasm32", feature = "web"))]

use leptos::prelude::*;
use sa_editor::JsonEditor;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlElement, HtmlTextAreaElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

/// One mounted editor and what its callbacks received.
struct Fixture {
    root: HtmlElement,
    text: RwSignal<String>,
    changes: RwSignal<Vec<String>>,
    saves: RwSignal<Vec<String>>,
}

impl Fixture {
    fn mount(initial: &str, read_only: bool) -> Fixture {
        let doc = document();
        if doc.get_element_by_id("editor-css").is_none() {
            let style = doc.create_element("style").unwrap();
            style.set_id("editor-css");
            style.set_text_content(Some(include_str!("../../style/editor.css")));
            doc.head().unwrap().append_child(&style).unwrap();
        }
        let root: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
        root.style().set_property("width", "600px").unwrap();
        doc.body().unwrap().append_child(&root).unwrap();
        let text = RwSignal::new(initial.to_string());
        let changes = RwSignal::new(Vec::new());
        let saves = RwSignal::new(Vec::new());
        let handle = leptos::mount::mount_to(root.clone(), move || {
            view! {
                <JsonEditor
                    text=text
                    label="Model"
                    read_only=read_only
                    on_change=move |t: String| changes.update(|v| v.push(t))
                    on_save=move |t: String| saves.update(|v| v.push(t))
                />
            }
        });
        // The editor lives as long as the page of this test.
        std::mem::forget(handle);
        Fixture {
            root,
            text,
            changes,
            saves,
        }
    }

    fn find(&self, selector: &str) -> HtmlElement {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("no {selector}"))
            .unchecked_into()
    }

    fn count(&self, selector: &str) -> u32 {
        self.root.query_selector_all(selector).unwrap().length()
    }

    fn area(&self) -> HtmlTextAreaElement {
        self.find("textarea").unchecked_into()
    }

    fn status(&self) -> String {
        self.find(".sa-editor-status")
            .text_content()
            .unwrap_or_default()
    }

    fn key(&self, key: &str, shift: bool, ctrl: bool) -> bool {
        let init = KeyboardEventInit::new();
        init.set_key(key);
        init.set_shift_key(shift);
        init.set_ctrl_key(ctrl);
        init.set_bubbles(true);
        init.set_cancelable(true);
        let ev = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        self.area().dispatch_event(&ev).unwrap();
        ev.default_prevented()
    }
}

/// Lets the page run for one short timer turn.
async fn turn() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Polls `cond` for up to about 10 s of timer turns.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        turn().await;
    }
    panic!("gave up waiting for {what}");
}

#[wasm_bindgen_test]
async fn pretty_prints_on_load_and_highlights_with_line_numbers() {
    let f = Fixture::mount(r#"{"b":1,"a":[true,null]}"#, false);
    let pretty = "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null\n  ]\n}";
    eventually("the pretty text", || f.area().value() == pretty).await;
    eventually("the highlight", || f.count(".sa-editor-line") == 7).await;
    assert_eq!(f.count(".tok-key"), 2);
    assert_eq!(f.count(".tok-literal"), 2);
    assert_eq!(f.count(".tok-number"), 1);
    assert_eq!(
        f.find(".sa-editor-gutter").text_content().unwrap(),
        "1234567"
    );
    assert_eq!(
        f.find(".sa-editor-layer")
            .get_attribute("aria-hidden")
            .as_deref(),
        Some("true")
    );
    let area = f.area();
    let label = f.find("label");
    assert_eq!(label.get_attribute("for"), Some(area.id()));
    assert_eq!(label.text_content().unwrap(), "Model");
    assert_eq!(
        area.get_attribute("aria-describedby"),
        Some(format!("{}-status", area.id()))
    );
    assert!(f.status().contains("Valid JSON"), "{}", f.status());
}

#[wasm_bindgen_test]
async fn broken_json_shows_line_and_column_and_marks_the_character() {
    let text = "{\n  \"a\": 1,\n  \"b\": x,\n  \"c\": 3\n}";
    let f = Fixture::mount(text, false);
    eventually("the error", || f.status().contains("line 3, column 8")).await;
    assert_eq!(f.area().value(), text, "broken JSON is shown as it is");
    assert_eq!(
        f.area().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    eventually("the marker", || f.count("mark.tok-error") == 1).await;
    let mark = f.find("mark.tok-error");
    assert_eq!(mark.text_content().unwrap(), "x");
    let line = mark.parent_element().unwrap();
    let lines = f.root.query_selector_all(".sa-editor-line").unwrap();
    assert!(
        lines.get(2).unwrap().is_same_node(Some(&line)),
        "the marker is on line 3"
    );

    // Clicking the message puts the caret on the marked character.
    f.find(".sa-editor-error").click();
    let at = f.area().selection_start().unwrap().unwrap() as usize;
    assert_eq!(text.encode_utf16().nth(at), Some('x' as u16));

    // Fixing it clears the error once typing pauses.
    f.area().set_value(&text.replace(": x", ": 2"));
    f.area()
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    eventually("the error to clear", || f.status().contains("Valid JSON")).await;
    assert_eq!(f.count("mark.tok-error"), 0);
    assert_eq!(f.changes.with_untracked(Vec::len), 1);
}

#[wasm_bindgen_test]
async fn a_one_mebibyte_document_draws_only_the_visible_lines() {
    // A compact document just under the store's default limit of 1 MiB.
    let mut layers = Vec::new();
    let mut size = 0;
    while size < 1_000_000 {
        let layer = format!(
            r#"{{"label":"layer {}","units":{},"w":[0.25,0.5,0.75]}}"#,
            layers.len(),
            layers.len() % 512
        );
        size += layer.len() + 1;
        layers.push(layer);
    }
    let doc = format!(
        r#"{{"meta":{{"author":"ann"}},"layers":[{}]}}"#,
        layers.join(",")
    );
    assert!(
        doc.len() > 1_000_000 && doc.len() <= 1 << 20,
        "{}",
        doc.len()
    );
    let start = window().performance().unwrap().now();
    let f = Fixture::mount(&doc, false);
    eventually("the text", || f.area().value().len() > doc.len()).await;
    eventually("the highlight", || f.count(".sa-editor-line") > 0).await;
    let opened = window().performance().unwrap().now() - start;
    let total = f.area().value().lines().count();
    console_log!(
        "{} bytes formatted, {total} lines, open {opened:.0} ms",
        f.area().value().len()
    );
    // Within the line budget Chromium's textarea lays out quickly (see sa_editor::layout),
    // and still spread over many lines rather than one.
    assert!(
        (1_000..=sa_editor::layout::LINE_BUDGET).contains(&total),
        "{total} lines"
    );
    let drawn = f.count(".sa-editor-line");
    assert!(drawn < 100, "{drawn} lines drawn of {total}");
    assert_eq!(f.count(".sa-editor-gutter div"), drawn);

    // Scrolled to line 2,001 (20 px lines), the layer follows.
    f.area().set_scroll_top(2_000 * 20);
    f.area()
        .dispatch_event(&web_sys::Event::new("scroll").unwrap())
        .unwrap();
    eventually("the scrolled gutter", || {
        f.find(".sa-editor-gutter")
            .first_element_child()
            .and_then(|e| e.text_content())
            == Some("1981".into())
    })
    .await;
    assert!(f.count(".sa-editor-line") < 100);
}

#[wasm_bindgen_test]
async fn tab_indents_shift_tab_outdents_and_ctrl_s_saves() {
    let f = Fixture::mount("[1,2]", false);
    let pretty = "[\n  1,\n  2\n]";
    eventually("the pretty text", || f.area().value() == pretty).await;
    let area = f.area();
    // Select from inside line 2 to inside line 3.
    area.set_selection_range(3, 9).unwrap();
    assert!(f.key("Tab", false, false), "Tab is taken for indenting");
    assert_eq!(area.value(), "[\n    1,\n    2\n]");
    assert_eq!(
        f.changes.with_untracked(|v| v.last().cloned()).as_deref(),
        Some("[\n    1,\n    2\n]")
    );
    assert!(f.key("Tab", true, false));
    assert_eq!(area.value(), pretty);

    // The browser's undo still works: it goes back through both edits.
    let html: web_sys::HtmlDocument = document().unchecked_into();
    html.exec_command("undo").unwrap();
    assert_eq!(area.value(), "[\n    1,\n    2\n]");

    assert!(f.key("s", false, true), "Ctrl+S is taken");
    assert_eq!(
        f.saves.get_untracked(),
        vec!["[\n    1,\n    2\n]".to_string()]
    );

    // Escape, then Tab, leaves the field to the browser.
    assert!(!f.key("Escape", false, false));
    assert!(!f.key("Tab", false, false));
}

#[wasm_bindgen_test]
async fn format_pretty_prints_and_a_new_document_replaces_the_text() {
    let f = Fixture::mount("{}", false);
    eventually("the text", || f.area().value() == "{}").await;
    let area = f.area();
    area.set_value(r#"{"z":{"a":1}}"#);
    area.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    f.find(".sa-editor-format").click();
    assert_eq!(
        area.value(),
        "{\n  \"z\": {\n    \"a\": 1\n  }\n}",
        "key order kept"
    );

    f.text.set(r#"[true]"#.into());
    eventually("the new document", || f.area().value() == "[\n  true\n]").await;
}

#[wasm_bindgen_test]
async fn read_only_leaves_tab_to_the_browser_and_disables_format() {
    let f = Fixture::mount("[1]", true);
    eventually("the text", || f.area().value() == "[\n  1\n]").await;
    assert!(f.area().has_attribute("readonly"));
    assert!(f.find(".sa-editor-format").has_attribute("disabled"));
    assert!(!f.key("Tab", false, false));
    assert_eq!(f.area().value(), "[\n  1\n]");
}
