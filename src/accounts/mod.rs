//! The domain: users, passwords, credential changes and audit, with no HTTP in sight.

pub mod audit;
pub mod bootstrap;
pub mod clock;
pub mod credentials;
pub mod login;
pub mod password;
pub mod secret;
pub mod users;
