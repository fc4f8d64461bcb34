//! Wire types shared by the sa server and the browser apps.
//!
//! Everything that crosses the network between two parts of sa is defined here once:
//! the runtime config, the error body, the store's model messages, its history and change feed,
//! the auth messages and the gateway's route table. The `web` feature adds the browser API clients.
#![forbid(unsafe_code)]

pub mod account;
pub mod auth;
pub mod config;
pub mod error;
pub mod history;
pub mod json_text;
pub mod model;
pub mod routes;

#[cfg(feature = "web")]
pub mod web;
