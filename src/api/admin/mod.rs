//! Handlers of the admin API.

pub mod courier;
pub mod identities;
pub mod recovery;
