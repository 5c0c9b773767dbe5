//! The one error type: every failure has a status and a stable code; internals stay in the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::password::PolicyViolation;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way a request or a domain operation can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request body is not valid JSON")]
    InvalidJson,
    #[error("{0}")]
    InvalidJsonSchema(String),
    #[error("a user with this username already exists")]
    UserExists,
    #[error("the password does not meet the policy: {}", .0.code())]
    PasswordPolicy(PolicyViolation),
    #[error("the new password and its confirmation differ")]
    PasswordMismatch,
    #[error("the current password is incorrect")]
    IncorrectCurrentPassword,
    #[error("use the change-password dialog to change your own password")]
    SelfResetNotAllowed,
    #[error("authentication required")]
    Unauthenticated,
    #[error("incorrect username or password")]
    IncorrectCredentials,
    #[error("the temporary password has expired; ask an administrator for a new one")]
    TempPasswordExpired,
    #[error("access denied")]
    AccessDenied,
    #[error("the last enabled superuser cannot be disabled, demoted or deleted")]
    LastSuperuser,
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("no such user")]
    UserNotFound,
    #[error("not found")]
    NotFound,
    #[error("an API key's secret is shown only when the key is created; create a new key")]
    KeyNotRetrievable,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("too many attempts; try again later")]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("the CSRF token is missing or wrong")]
    CsrfRejected,
    #[error("the database is unavailable; try again shortly")]
    DatabaseUnavailable,
    #[error("this account uses two-factor sign-in: send `totp` or `backup_code`")]
    MfaRequired,
    #[error("the two-factor code is incorrect")]
    IncorrectMfa,
    #[error("the two-factor code is incorrect")]
    WrongMfaCode,
    #[error("set up two-factor sign-in first")]
    MfaSetupRequired,
    #[error("two-factor sign-in is required for this account: its last device cannot be removed")]
    MfaRequiredByPolicy,
    #[error("passkeys are not available: the server has no PASSGATE_PUBLIC_URL")]
    PasskeysDisabled,
    #[error("the passkey could not be verified")]
    PasskeyVerificationFailed,
    #[error("password sign-in is turned off for this account: sign in with a passkey")]
    PasswordAuthDisabled,
    /// A passkey that signed nobody in (401 `INCORRECT_CREDENTIALS`, as Crafty answers),
    /// with the likely cause in the message.
    #[error("{0}")]
    PasskeyNotAccepted(crate::accounts::PasskeyRefusal),
    #[error("an application with this name already exists")]
    AppNameExists,
    #[error("{0}")]
    HostTaken(String),
    #[error("no such application")]
    AppNotFound,
    /// A forward-auth request from a peer that is not in `PASSGATE_TRUSTED_PROXIES`.
    #[error("this address is not a trusted proxy (PASSGATE_TRUSTED_PROXIES)")]
    UntrustedProxy,
    /// A forward-auth request without the headers that name its target, or with bad ones.
    #[error("{0}")]
    BadForwardedRequest(String),
    /// Single sign-on is off (no `PASSGATE_SSO_COOKIE_DOMAIN`).
    #[error("single sign-on is off: set PASSGATE_SSO_COOKIE_DOMAIN")]
    SsoDisabled,
    #[error(
        "two-factor codes cannot be checked right now (the server's key changed): use a recovery code, or ask an administrator to reset your two-factor sign-in"
    )]
    MfaUnavailable,
    #[error("no such role")]
    RoleNotFound,
    #[error("a role with this name already exists (names are compared in any case)")]
    RoleNameExists,
    #[error("the role is used by the applications {0}: take it out of them first")]
    RoleInUse(String),
    #[error("roles: {0} is not the id of a role")]
    UnknownRole(i64),
    #[error("roles: you may give only roles you manage, and never change your own roles")]
    RolesNotAssignable { creating: bool },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            InvalidJson
            | InvalidJsonSchema(_)
            | UserExists
            | PasswordPolicy(_)
            | PasswordMismatch
            | IncorrectCurrentPassword
            | SelfResetNotAllowed
            | WrongMfaCode
            | MfaRequiredByPolicy
            | PasskeysDisabled
            | PasskeyVerificationFailed
            | AppNameExists
            | HostTaken(_)
            | BadForwardedRequest(_)
            | RoleNameExists
            | RoleInUse(_)
            | UnknownRole(_)
            | RolesNotAssignable { .. } => StatusCode::BAD_REQUEST,
            Unauthenticated
            | IncorrectCredentials
            | PasskeyNotAccepted(_)
            | TempPasswordExpired
            | MfaRequired
            | IncorrectMfa => StatusCode::UNAUTHORIZED,
            AccessDenied
            | LastSuperuser
            | PasswordChangeRequired
            | AccountDisabled
            | CsrfRejected
            | MfaSetupRequired
            | PasswordAuthDisabled
            | UntrustedProxy => StatusCode::FORBIDDEN,
            UserNotFound | NotFound | AppNotFound | SsoDisabled | RoleNotFound => {
                StatusCode::NOT_FOUND
            }
            KeyNotRetrievable => StatusCode::GONE,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            DatabaseUnavailable | MfaUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code of the JSON envelope (Crafty's names where Crafty has one).
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            InvalidJson => "INVALID_JSON",
            InvalidJsonSchema(_) | PasswordMismatch => "INVALID_JSON_SCHEMA",
            UserExists => "USER_EXISTS",
            PasswordPolicy(_) => "PASSWORD_POLICY",
            IncorrectCurrentPassword => "INCORRECT_CURRENT_PASSWORD",
            SelfResetNotAllowed => "SELF_RESET_NOT_ALLOWED",
            Unauthenticated | AccessDenied | LastSuperuser | CsrfRejected => "ACCESS_DENIED",
            IncorrectCredentials | PasskeyNotAccepted(_) => "INCORRECT_CREDENTIALS",
            TempPasswordExpired => "TEMP_PASSWORD_EXPIRED",
            PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            AccountDisabled => "ACCOUNT_DISABLED",
            UserNotFound => "USER_NOT_FOUND",
            NotFound => "NOT_FOUND",
            KeyNotRetrievable => "KEY_NOT_RETRIEVABLE",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            MfaRequired => "MFA_REQUIRED",
            IncorrectMfa | WrongMfaCode => "INCORRECT_MFA",
            MfaSetupRequired => "MFA_SETUP_REQUIRED",
            MfaRequiredByPolicy => "MFA_REQUIRED_BY_POLICY",
            PasskeysDisabled => "PASSKEY_DISABLED",
            PasskeyVerificationFailed => "VERIFICATION_FAILED",
            PasswordAuthDisabled => "PASSWORD_AUTH_DISABLED",
            AppNameExists => "APP_NAME_EXISTS",
            HostTaken(_) => "HOST_TAKEN",
            AppNotFound => "APP_NOT_FOUND",
            UntrustedProxy => "UNTRUSTED_PROXY",
            BadForwardedRequest(_) => "INVALID_FORWARDED_HEADERS",
            SsoDisabled => "SSO_DISABLED",
            MfaUnavailable => "MFA_UNAVAILABLE",
            RoleNotFound => "ROLE_NOT_FOUND",
            RoleNameExists => "ROLE_NAME_ALREADY_EXISTS",
            RoleInUse(_) => "ROLE_IN_USE",
            UnknownRole(_) => "INVALID_ROLES",
            RolesNotAssignable { creating: true } => "INVALID_ROLES_CREATE",
            RolesNotAssignable { creating: false } => "INVALID_ROLES_MODIFY",
            Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// Logs internal errors (with the request's span) and returns the message safe to show.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
            }
            Error::DatabaseUnavailable => tracing::warn!("the database is unavailable"),
            _ => {}
        }
        self.to_string()
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Error::TooManyAttempts {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// Headers every rendering of this error carries (Retry-After, WWW-Authenticate).
    pub fn apply_headers(&self, response: &mut Response) {
        if let Some(seconds) = self.retry_after()
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if matches!(self, Error::DatabaseUnavailable) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if matches!(self, Error::Unauthenticated) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
    }
}

/// A database that cannot be reached (pool timeout, refused or dropped connection, server
/// shutting down) is a 503 the client may retry; every other database error is internal.
impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Error::DatabaseUnavailable
        } else {
            Error::Internal(err.into())
        }
    }
}

/// True when `err` says the database could not be reached rather than that a statement
/// failed.
pub fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match err {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        // PostgreSQL: class 08 (connection exception), 57P01–57P03 (shutting down, cannot
        // connect now); SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6) after the busy timeout.
        E::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "5" || code == "6"
        }),
        _ => false,
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

/// The envelope code of each answer of the domain (Crafty's names where Crafty has one).
impl From<crate::accounts::Error> for Error {
    fn from(err: crate::accounts::Error) -> Self {
        use crate::accounts::Error as D;
        match err {
            D::Invalid { reason, .. } => Error::InvalidJsonSchema(reason),
            D::UserExists => Error::UserExists,
            D::Policy(violation) => Error::PasswordPolicy(violation),
            D::PasswordMismatch => Error::PasswordMismatch,
            D::IncorrectCurrentPassword => Error::IncorrectCurrentPassword,
            D::SelfResetNotAllowed => Error::SelfResetNotAllowed,
            D::Denied => Error::AccessDenied,
            D::LastSuperuser => Error::LastSuperuser,
            // Decided on a stamp that has moved: the caller's sign-in no longer stands.
            D::Stale => Error::Unauthenticated,
            D::IncorrectCredentials => Error::IncorrectCredentials,
            D::TempPasswordExpired => Error::TempPasswordExpired,
            D::AccountDisabled => Error::AccountDisabled,
            D::UserNotFound => Error::UserNotFound,
            D::NotFound => Error::NotFound,
            D::MfaRequired => Error::MfaRequired,
            D::IncorrectMfa => Error::IncorrectMfa,
            D::WrongMfaCode => Error::WrongMfaCode,
            D::MfaRequiredByPolicy => Error::MfaRequiredByPolicy,
            D::PasskeysDisabled => Error::PasskeysDisabled,
            D::PasskeyVerificationFailed => Error::PasskeyVerificationFailed,
            D::PasswordAuthDisabled => Error::PasswordAuthDisabled,
            D::PasskeyNotAccepted(why) => Error::PasskeyNotAccepted(why),
            D::AppNameExists => Error::AppNameExists,
            D::HostTaken(host) => Error::HostTaken(if host.is_empty() {
                "another application already has one of these hosts".into()
            } else {
                format!("another application already has the host {host}")
            }),
            D::AppNotFound => Error::AppNotFound,
            // Only the panel sends a review; an API change says exactly what it changes.
            D::EditUnconfirmed(_) => Error::InvalidJsonSchema(
                "the application changed since this edit was reviewed: nothing was saved".into(),
            ),
            D::MfaUnavailable => Error::MfaUnavailable,
            D::Undecryptable => {
                Error::Internal(anyhow::anyhow!("a stored secret does not decrypt"))
            }
            D::RoleNotFound => Error::RoleNotFound,
            D::RoleNameExists => Error::RoleNameExists,
            D::RoleInUse(apps) => Error::RoleInUse(apps),
            D::UnknownRole(id) => Error::UnknownRole(id),
            D::RolesNotAssignable { creating } => Error::RolesNotAssignable { creating },
            D::Db(db) => db.into(),
            D::Internal(err) => Error::Internal(err),
        }
    }
}

impl From<crate::accounts::permissions::Denied> for Error {
    fn from(denied: crate::accounts::permissions::Denied) -> Self {
        crate::accounts::Error::from(denied).into()
    }
}

/// The JSON envelope of the API: `{"status":"error","error":CODE,"error_data":message}`.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = json!({
            "status": "error",
            "error": self.code(),
            "error_data": self.public_message(),
        });
        let mut response = (self.status(), axum::Json(body)).into_response();
        self.apply_headers(&mut response);
        response
    }
}
