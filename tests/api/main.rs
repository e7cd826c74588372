//! One integration-test binary (one link step): every test starts the real server
//! on port 0 with its own database file and talks to it over HTTP.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should panic"
)]

mod helpers;

mod admin_identities;
mod attacks;
mod bad_input;
mod binary;
mod courier;
mod crash;
mod csrf;
mod edge;

mod flows;
mod health;
mod login;
mod logout;
mod openapi_fuzz;
mod operations;
mod properties;

mod recovery;
mod registration;
mod schemas;
mod sdk;
mod sessions;
mod settings;
mod ui_browser;
mod ui_pages;
mod upgrade;

mod verification;
