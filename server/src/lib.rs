//! sa's server: one binary, several roles (`static`, `store`, `auth`, `dev`).
#![forbid(unsafe_code)]

pub mod auth;
pub mod bearer;
pub mod cli;
pub mod clock;
pub mod dev;
pub mod durable;
pub mod error;
pub mod header_limit;
pub mod serve;
pub mod static_site;
pub mod store;
