//! maud views: pure functions from plain data to `Markup`. No database, no `Result`.

pub mod access;
pub mod apps;
pub mod assets;
pub mod audit;
pub mod bulk;
pub mod change_password;
pub mod chart;
pub mod components;
pub mod dashboard;
pub mod error;
pub mod layout;
pub mod link_dialog;
pub mod login;
pub mod oidc;
pub mod overview;
pub mod passkeys;
pub mod qr;
pub mod reset;
pub mod reset_link;
pub mod role_members;
pub mod roles;
pub mod second_factor;
pub mod sessions;
pub mod totp;
pub mod user_form;
pub mod users;
