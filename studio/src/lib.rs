//! Qiming Studio: the students' desktop lab — lessons, editor, live simulation and "check my work", offline, on the same engine the server grades with.
//!
//! The library holds the whole app ([`Studio::ui`]) so UI tests can drive it
//! headlessly (egui_kittest); `main.rs` only wires it to a window (eframe,
//! glow) and handles `--screenshot`. The studio links the engine crates and
//! `qiming-api`, never the server's (axum, sqlx): it talks to a server over
//! HTTP only.

pub mod ai;
pub mod app;
pub mod arena;
pub mod assess;
pub mod bench;
pub mod connect;
pub mod editor;
pub mod files;
pub mod fonts;
pub mod highlight;
pub mod i18n;
pub mod run;
pub mod world;

pub use app::{Options, Screen, Settings, Studio};
pub use i18n::Lang;
