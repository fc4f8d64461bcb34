//! sa's JSON editing parts, shared by the client and the explorer.
//!
//! - [`merge`]: three-way merge of JSON documents, with conflicts and their resolution.
//! - [`diff`]: a readable per-path diff with `+`/`−`/`~` markers.
//!
//! All of it is plain Rust and tested natively.
#![forbid(unsafe_code)]

pub mod diff;
pub mod merge;
