//! A model document as the browser's own JSON parser reads it.
//!
//! The apps show, check and pass on documents without a JSON value type of their own:
//! serde_json's `Value`, its printer and its number formatting were about a tenth of the
//! explorer's wasm (docs/bench/explorer.md). The text the store sent is kept, so a model copied
//! or moved to another store arrives byte for byte (large integers included), and an edit is
//! saved as the user typed it.
use std::{fmt, sync::Arc};

use js_sys::{Array, Object, Reflect, JSON};
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, JsValue};

use crate::json_text::{explain, without_space};

/// A parsed JSON document and its text.
#[derive(Clone)]
pub struct Doc {
    text: Arc<str>,
    root: Node,
}

impl Doc {
    /// Parses `text`. The error says where and why it is not JSON, for people.
    pub fn parse(text: &str) -> Result<Doc, String> {
        match JSON::parse(text) {
            Ok(v) => Ok(Doc {
                text: text.into(),
                root: Node(SendWrapper::new(v)),
            }),
            Err(e) => {
                let msg = e
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_default();
                Err(explain(text, &msg))
            }
        }
    }

    /// Parses a model: a JSON object (the store refuses anything else).
    pub fn parse_model(text: &str) -> Result<Doc, String> {
        if text.trim().is_empty() {
            return Err(
                "The document is empty. A model is a JSON object, e.g. {\"name\": \"My model\"}."
                    .into(),
            );
        }
        let doc = Doc::parse(text)?;
        match doc.root.shape() {
            Shape::Object(_) => Ok(doc),
            _ => Err("A model must be a JSON object: wrap it in { … }.".into()),
        }
    }

    /// The text as it was parsed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Two-space indented, as the editors show it. When the browser's numbers would change
    /// the document (an integer beyond 2^53, `1.0` written as `1`), the text stays as it was,
    /// so saving an untouched document never alters it.
    pub fn pretty(&self) -> String {
        let same = JSON::stringify(&self.root.0)
            .ok()
            .map(String::from)
            .is_some_and(|c| c == without_space(&self.text));
        if !same {
            return self.text.to_string();
        }
        JSON::stringify_with_replacer_and_space(&self.root.0, &JsValue::NULL, &JsValue::from(2))
            .map(String::from)
            .unwrap_or_else(|_| self.text.to_string())
    }

    /// The document's `name` when it is a string, otherwise `id`.
    pub fn display_name(&self, id: &str) -> String {
        match self.root.shape() {
            Shape::Object(_) => Reflect::get(&self.root.0, &JsValue::from_str("name"))
                .ok()
                .and_then(|v| v.as_string()),
            _ => None,
        }
        .unwrap_or_else(|| id.to_string())
    }

    /// The top-level value, for walking the document.
    pub fn root(&self) -> Node {
        self.root.clone()
    }
}

impl PartialEq for Doc {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Doc({} bytes)", self.text.len())
    }
}

/// One value inside a document. Cheap to clone: it refers to the browser's value.
#[derive(Clone)]
pub struct Node(SendWrapper<JsValue>);

/// What a [`Node`] is, as the tree view shows it.
pub enum Shape {
    /// An object and its keys, in document order.
    Object(Vec<String>),
    Array(u32),
    /// A string, number, boolean or null: its CSS class and its JSON text.
    Scalar {
        class: &'static str,
        text: String,
    },
}

impl Node {
    pub fn shape(&self) -> Shape {
        let v = &*self.0;
        if Array::is_array(v) {
            return Shape::Array(v.unchecked_ref::<Array>().length());
        }
        if v.is_object() {
            let keys = Object::keys(v.unchecked_ref::<Object>())
                .iter()
                .filter_map(|k| k.as_string())
                .collect();
            return Shape::Object(keys);
        }
        let class = if v.is_string() {
            "jt-string"
        } else if v.as_f64().is_some() {
            "jt-number"
        } else if v.as_bool().is_some() {
            "jt-bool"
        } else {
            "jt-null"
        };
        let text = JSON::stringify(v)
            .map(String::from)
            .unwrap_or_else(|_| "null".into());
        Shape::Scalar { class, text }
    }

    /// The member `key` of an object.
    pub fn member(&self, key: &str) -> Node {
        Node(SendWrapper::new(
            Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::NULL),
        ))
    }

    /// Element `i` of an array.
    pub fn item(&self, i: u32) -> Node {
        Node(SendWrapper::new(
            Reflect::get_u32(&self.0, i).unwrap_or(JsValue::NULL),
        ))
    }
}
