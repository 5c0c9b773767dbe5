//! Who may do what to whom: pure decisions from plain data, shared by the API and the web UI.

use crate::error::Error;

/// The permission that lets a non-superuser manage the users whose `manager` they are.
pub const USER_CONFIG: &str = "USER_CONFIG";
/// Every permission name passgate knows.
pub const KNOWN_PERMISSIONS: [&str; 1] = [USER_CONFIG];

/// What an API key may use of its owner's rights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyScope {
    pub full_access: bool,
    pub permissions: Vec<String>,
}

impl KeyScope {
    fn allows(&self, permission: &str) -> bool {
        self.full_access || self.permissions.iter().any(|p| p == permission)
    }
}

/// The acting user as the rules see them.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: i32,
    /// The user's own `superuser` flag.
    pub superuser: bool,
    /// The quantity of `USER_CONFIG` the user holds (-1 = no cap), `None` without it.
    pub user_config: Option<i32>,
    /// `Some` when acting through an API key, which narrows the user's rights.
    pub key: Option<KeyScope>,
}

impl Caller {
    /// Superuser rights: the flag, and through a key only with `full_access`.
    pub fn is_superuser(&self) -> bool {
        self.superuser && self.key.as_ref().is_none_or(|k| k.full_access)
    }

    /// `USER_CONFIG` rights: held by the user, and through a key only if the key has it too.
    pub fn has_user_config(&self) -> bool {
        self.user_config.is_some() && self.key.as_ref().is_none_or(|k| k.allows(USER_CONFIG))
    }

    fn manages(&self, target: &Target) -> bool {
        self.has_user_config() && !target.superuser && target.manager == Some(self.user_id)
    }

    fn is(&self, target: &Target) -> bool {
        self.user_id == target.user_id
    }
}

/// The user acted upon.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub user_id: i32,
    pub superuser: bool,
    pub manager: Option<i32>,
}

/// Why something is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    AccessDenied,
    SelfReset,
}

impl From<Denied> for Error {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::AccessDenied => Error::AccessDenied,
            Denied::SelfReset => Error::SelfResetNotAllowed,
        }
    }
}

fn allow(ok: bool) -> Result<(), Denied> {
    if ok {
        Ok(())
    } else {
        Err(Denied::AccessDenied)
    }
}

/// Reading a user: oneself, a superuser, or the manager holding `USER_CONFIG`.
pub fn can_view(caller: &Caller, target: &Target) -> Result<(), Denied> {
    allow(caller.is(target) || caller.is_superuser() || caller.manages(target))
}

/// Setting a temporary password: never oneself (that is the change-password dialog); a
/// superuser for anyone else; a `USER_CONFIG` holder for the non-superusers they manage.
pub fn can_reset(caller: &Caller, target: &Target) -> Result<(), Denied> {
    if caller.is(target) {
        return Err(Denied::SelfReset);
    }
    allow(caller.is_superuser() || caller.manages(target))
}

/// Deleting a user: never oneself; a superuser, or the manager holding `USER_CONFIG`.
/// (The last enabled superuser is protected by the domain, which can count them.)
pub fn can_delete(caller: &Caller, target: &Target) -> Result<(), Denied> {
    allow(!caller.is(target) && (caller.is_superuser() || caller.manages(target)))
}

/// Creating a user: a superuser, or a `USER_CONFIG` holder within their quota (`managed` is
/// how many users they manage now). Only superusers create superusers or grant permissions.
pub fn can_create(
    caller: &Caller,
    managed: u64,
    wants_superuser: bool,
    grants_permissions: bool,
) -> Result<(), Denied> {
    if caller.is_superuser() {
        return Ok(());
    }
    if !caller.has_user_config() || wants_superuser || grants_permissions {
        return Err(Denied::AccessDenied);
    }
    match caller.user_config {
        Some(quota) if quota < 0 => Ok(()),
        Some(quota) => allow(managed < quota as u64),
        None => Err(Denied::AccessDenied),
    }
}

/// What an edit touches, for [`can_edit`].
#[derive(Clone, Copy, Debug, Default)]
pub struct EditScope {
    /// Username, email, language: what anyone may change on themselves.
    pub profile: bool,
    pub password: bool,
    /// `Some(false)` disables the user.
    pub enabled: Option<bool>,
    pub superuser: bool,
    pub permissions: bool,
    pub manager: bool,
}

/// Editing a user (Crafty's rules): oneself for profile and password; a superuser for
/// everything on others; a `USER_CONFIG` manager for profile, password and enabled of the
/// users they manage. Only superusers grant superuser or permissions, or move users between
/// managers; nobody disables or demotes themselves.
pub fn can_edit(caller: &Caller, target: &Target, scope: &EditScope) -> Result<(), Denied> {
    if caller.is(target) {
        let own_admin_fields = scope.superuser || scope.permissions || scope.manager;
        let disables_self = scope.enabled == Some(false);
        if disables_self || (own_admin_fields && !caller.is_superuser()) {
            return Err(Denied::AccessDenied);
        }
        // A superuser may set their own permissions or manager, but not drop their own flag.
        return allow(!scope.superuser);
    }
    if caller.is_superuser() {
        return Ok(());
    }
    allow(caller.manages(target) && !scope.superuser && !scope.permissions && !scope.manager)
}

/// Listing, creating and deleting API keys: oneself or a superuser. A key may not mint a key
/// with more than it has itself.
pub fn can_manage_keys(caller: &Caller, target: &Target) -> Result<(), Denied> {
    allow(caller.is(target) || caller.is_superuser())
}

/// Whether a new key's scope stays within what its owner (and the calling key) may use.
pub fn can_grant_key(
    caller: &Caller,
    owner_superuser: bool,
    owner_permissions: &[String],
    requested: &KeyScope,
) -> Result<(), Denied> {
    let within_owner = requested
        .permissions
        .iter()
        .all(|p| owner_superuser || owner_permissions.contains(p));
    let within_caller_key = caller.key.as_ref().is_none_or(|key| {
        key.full_access
            || (!requested.full_access && requested.permissions.iter().all(|p| key.allows(p)))
    });
    allow(within_owner && within_caller_key)
}

#[cfg(test)]
mod tests;
