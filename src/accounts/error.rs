//! What a use case of the domain can answer instead of doing what it was asked. It speaks no
//! HTTP: the API maps each variant to its envelope code (the top-level `error` module), the web pages put
//! an [`Error::Invalid`] beside the input its `field` names.

use crate::accounts::password::PolicyViolation;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value breaks a rule. `field` names the input (as the API body and the web form
    /// spell it); `reason` is the whole message, shown as it is.
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a user with this username already exists")]
    UserExists,
    #[error("the password does not meet the policy: {}", .0.code())]
    Policy(PolicyViolation),
    #[error("the new password and its confirmation differ")]
    PasswordMismatch,
    #[error("the current password is incorrect")]
    IncorrectCurrentPassword,
    #[error("use the change-password dialog to change your own password")]
    SelfResetNotAllowed,
    /// The caller may not do this (to this user).
    #[error("access denied")]
    Denied,
    #[error("the last enabled superuser cannot be disabled, demoted or deleted")]
    LastSuperuser,
    /// The user's credentials changed since they were read (the stamp moved): the action was
    /// decided on stale state and did nothing.
    #[error("the account changed meanwhile")]
    Stale,
    #[error("incorrect username or password")]
    IncorrectCredentials,
    #[error("the temporary password has expired; ask an administrator for a new one")]
    TempPasswordExpired,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("no such user")]
    UserNotFound,
    #[error("not found")]
    NotFound,
    #[error("this account uses two-factor sign-in: send `totp` or `backup_code`")]
    MfaRequired,
    #[error("the two-factor code is incorrect")]
    IncorrectMfa,
    #[error("the two-factor code is incorrect")]
    WrongMfaCode,
    #[error("two-factor sign-in is required for this account: its last device cannot be removed")]
    MfaRequiredByPolicy,
    #[error("passkeys are not available: the server has no PASSGATE_PUBLIC_URL")]
    PasskeysDisabled,
    #[error("the passkey could not be verified")]
    PasskeyVerificationFailed,
    #[error("password sign-in is turned off for this account: sign in with a passkey")]
    PasswordAuthDisabled,
    /// A passkey sign-in that signs nobody in, with the likely cause.
    #[error("{0}")]
    PasskeyNotAccepted(PasskeyRefusal),
    /// Another application has this name (in any case).
    #[error("an application with this name already exists")]
    AppNameExists,
    /// Another application has this host (named, when known).
    #[error("another application already has the host {0}")]
    HostTaken(String),
    #[error("no such application")]
    AppNotFound,
    /// An edit reviewed in the panel that would end an application's OpenID Connect sign-ins
    /// (or its client secret) was not confirmed for the application as it is now: nothing
    /// changed. What it would end now, and the version to confirm against.
    #[error(
        "the edit ends OpenID Connect sign-ins and was not confirmed for the application as it is now"
    )]
    EditUnconfirmed(Box<crate::accounts::apps::Unconfirmed>),
    /// A stored secret does not open with the configured key (the key file changed).
    #[error("a stored secret does not decrypt with the configured key")]
    Undecryptable,
    /// The user's TOTP devices cannot be checked: their secrets do not open with the key the
    /// server has (`PASSGATE_SECRET_KEY_FILE` changed). Recovery codes still work.
    #[error(
        "two-factor codes cannot be checked right now (the server's key changed): use a recovery code, or ask an administrator to reset your two-factor sign-in"
    )]
    MfaUnavailable,
    #[error("no such role")]
    RoleNotFound,
    #[error("a role with this name already exists (names are compared in any case)")]
    RoleNameExists,
    /// The role is an application's allowed role (named): deleting it would open the app.
    #[error("the role is used by the applications {0}: take it out of them first")]
    RoleInUse(String),
    /// A role id in a user's `roles` names no role: refused, not dropped.
    #[error("roles: {0} is not the id of a role")]
    UnknownRole(i64),
    /// A role the caller may not give (one they do not manage), or one's own roles: Crafty's
    /// `INVALID_ROLES_CREATE` (creating a user) or `INVALID_ROLES_MODIFY` (editing one).
    #[error("roles: you may give only roles you manage, and never change your own roles")]
    RolesNotAssignable { creating: bool },
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Why a passkey's answer signed nobody in. Each tells only what the answering device
/// already knows; none tells whether an account exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasskeyRefusal {
    /// The ceremony is unknown, expired (five minutes) or already used.
    Expired,
    /// The passkey is not (or no longer) registered for the account signing in.
    Unknown,
    /// The signature, the counter or the user verification did not check out.
    Invalid,
}

impl std::fmt::Display for PasskeyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PasskeyRefusal::Expired => {
                "the passkey sign-in took too long or was already used: start again"
            }
            PasskeyRefusal::Unknown => {
                "this passkey is not registered for this account (it may have been removed)"
            }
            PasskeyRefusal::Invalid => "the passkey's answer could not be verified",
        })
    }
}

impl Error {
    /// A value that breaks a rule: `reason` is the whole message (`"name: 1 to 64 characters"`).
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The input an [`Error::Invalid`] belongs to.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
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
