//! passgate: a self-hosted account panel with temporary passwords and forced password change.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod i18n;
pub mod malloc;
pub mod paths;
pub mod server;
pub mod state;
pub mod views;
pub mod web;

pub use server::{app, serve_connections};
pub use state::AppState;
