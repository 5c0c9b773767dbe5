//! Authentication: sessions (the panel's and single sign-on's) and the one-time results bound
//! to them, the web gate, CSRF, login throttling and client addresses.

pub mod browser;
pub mod client_ip;
pub mod csrf;
pub mod ended;
pub mod login;
pub mod one_time;
pub mod passkey_login;
pub mod pending;
pub mod session;
pub mod session_store;
pub mod sign_in_id;
pub mod sso;
pub mod throttle;
pub mod tokens;
