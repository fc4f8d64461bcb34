//! One page per route.
pub mod admin;
pub mod login;
pub mod model;
pub mod new_model;
pub mod not_found;
pub mod register;
pub mod workspace;
