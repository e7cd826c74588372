//! Handlers of the public API.

pub mod health;
pub mod schemas;
