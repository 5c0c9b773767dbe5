//! The domain: users, passwords, credential changes and audit, with no HTTP in sight.

pub mod password;
pub mod secret;
