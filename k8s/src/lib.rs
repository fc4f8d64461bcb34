//! Test-only crate: see `tests/` for the manifest checks.
