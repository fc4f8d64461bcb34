//! What the integration tests share. Each test file declares `mod support;` and uses the
//! parts it needs; a test binary compiles all of it, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

/// The auth service in-process, with its own data dir.
pub mod auth;
/// The whole stack (`sa-server dev`) and headless Chromium through chromedriver.
pub mod browser;
/// Waiting for a condition, in short steps, with a bound.
pub mod eventually;
/// The explorer tests' world: all three stores and a writer.
pub mod explorer_world;
/// Private Redis and PostgreSQL servers, a test issuer, store instances, SSE reading.
pub mod services;
/// The static role over the fixture `dist/`.
pub mod static_files;

pub use eventually::eventually;
