//! The explorer's parts, one per file.
pub mod actions;
pub mod deleted;
pub mod editor;
pub mod live;
pub mod merge;
pub mod model_list;
pub mod model_view;
pub mod tabs;
