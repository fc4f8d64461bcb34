//! sa's JSON editing parts, shared by the client and the explorer.
//!
//! - [`merge`]: three-way merge of JSON documents, with conflicts and their resolution.
//! - [`diff`]: a readable per-path diff with `+`/`−`/`~` markers.
//! - [`tokens`]: a tokenizer for highlighting (broken JSON too) and the place of a parse error.
//! - [`edit`]: Format, Tab/Shift-Tab indentation, and textarea (UTF-16) offsets.
//! - [`layout`]: how Format lays out a document within a budget of lines.
//!
//! All of that is plain Rust and tested natively. The `web` feature adds the Leptos
//! component [`JsonEditor`], the
//! [`DiffView`] and [`MergeView`] of documents, and the [`HistoryPanel`] of a model (wasm only);
//! [`lazy`] has the split points both apps load them through.
#![forbid(unsafe_code)]

pub mod diff;
pub mod edit;
pub mod layer;
pub mod layout;
pub mod merge;
pub mod tokens;

#[cfg(feature = "web")]
mod component;
#[cfg(feature = "web")]
mod history;
#[cfg(feature = "web")]
pub mod lazy;
#[cfg(feature = "web")]
mod views;
#[cfg(feature = "web")]
pub use component::JsonEditor;
#[cfg(feature = "web")]
pub use history::HistoryPanel;
#[cfg(feature = "web")]
pub use views::{DiffView, MergeView};
