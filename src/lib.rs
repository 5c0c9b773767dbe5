//! passgate: a self-hosted account panel with temporary passwords and forced password change.

pub mod accounts;
pub mod entities;
