//! Handlers of the admin API.

pub mod courier;
pub mod identities;
pub mod metrics;

pub mod recovery;
pub mod sessions;
