//! passgate: a self-hosted account panel with temporary passwords and forced password change.

pub mod accounts;
mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
mod forward_auth;
pub mod i18n;
pub mod malloc;
pub mod metrics;
mod oauth;
pub mod paths;
mod server;
pub mod state;
mod views;
mod web;

pub use server::{app, serve, serve_connections, without_one_trailing_slash};
pub use state::AppState;
