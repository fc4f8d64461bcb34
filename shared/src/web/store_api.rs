//! Typed calls to the store API (list summary page, get with ETag, create, put with If-Match,
//! delete, info) and share links; owned by the explorer.
