//! Handlers of the admin API.

pub mod identities;
