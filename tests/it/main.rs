//! The one integration-test binary: every module runs against a fresh app and database.

mod helpers;

mod api_auth;
mod api_gate;
mod api_reset;
mod change_password;
mod cli_and_bootstrap;
mod gate;
mod i18n_keys;
mod login;
mod migration_upgrade;
mod security;
mod throttle;
