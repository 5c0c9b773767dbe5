//! The one integration-test binary: every module runs against a fresh app and database.

mod helpers;

mod api_auth;
mod api_envelope;
mod api_gate;
mod api_openapi;
mod api_reset;
mod api_users;
mod apps;
mod bulk;
mod change_password;
mod cli_and_bootstrap;
mod crafty;
mod crafty_keys;
mod domain_rules;
mod forward_auth;
mod gate;
mod hardening;
mod i18n_keys;
mod layers;
mod login;
mod mfa;
mod migration_upgrade;
mod oidc;
mod passkeys;
mod postgres;
mod properties;
mod reset_links;
mod security;
mod sessions;
mod sso_support;
mod sso_walk;
mod throttle;
mod web_admin;
mod web_links;
