//! Postern: an identity server that speaks the Ory Kratos API, backed by SQLite.

pub mod api;
pub mod app;
pub mod cleanup;

pub mod cli;
pub mod clock;
pub mod config;
pub mod config_checks;

pub mod courier;
pub mod crypto;
pub mod error;
pub mod flow;
pub mod identity;
pub mod metrics;
pub mod ops;

pub mod password;

pub mod secret_box;
pub mod session;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod timefmt;
pub mod ui;
pub mod workers;
