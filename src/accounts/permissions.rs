//! Who may do what to whom: pure decisions from plain data, shared by the API and the web UI.

use crate::accounts::error::Error;

/// The permission that lets a non-superuser manage the users whose `manager` they are.
pub const USER_CONFIG: &str = "USER_CONFIG";
/// The permission that lets a non-superuser read roles, create roles and change the roles
/// they manage (SPEC §14); its quantity caps how many roles they manage.
pub const ROLES_CONFIG: &str = "ROLES_CONFIG";
/// Every permission name passgate knows.
pub const KNOWN_PERMISSIONS: [&str; 2] = [USER_CONFIG, ROLES_CONFIG];

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
    /// The quantity of `ROLES_CONFIG` the user holds (-1 = no cap), `None` without it.
    pub roles_config: Option<i32>,
    /// `Some` when acting through an API key, which narrows the user's rights.
    pub key: Option<KeyScope>,
    /// Signed in with a temporary password in this very session or login token (the only
    /// caller a forced change lets skip `current_password`). Never true for an API key.
    pub proved_temporary: bool,
}

impl Caller {
    /// A user signed in by session or login token, with the permissions they hold.
    pub fn signed_in(
        user: &crate::entities::users::Model,
        grants: &[crate::accounts::grants::Grant],
        proved_temporary: bool,
    ) -> Self {
        use crate::accounts::grants::quantity;
        Caller {
            user_id: user.user_id,
            superuser: user.superuser,
            user_config: quantity(grants, USER_CONFIG),
            roles_config: quantity(grants, ROLES_CONFIG),
            key: None,
            proved_temporary,
        }
    }

    /// The operator at the console (the CLI, the bootstrap): a superuser who is no user
    /// (id 0 matches nobody, so no rule about oneself applies).
    pub fn operator() -> Self {
        Caller {
            user_id: 0,
            superuser: true,
            user_config: None,
            roles_config: None,
            key: None,
            proved_temporary: false,
        }
    }

    /// Whether this is the operator at the console.
    pub fn is_operator(&self) -> bool {
        self.user_id == 0 && self.superuser && self.key.is_none()
    }

    /// Superuser rights: the flag, and through a key only with `full_access`.
    pub fn is_superuser(&self) -> bool {
        self.superuser && self.key.as_ref().is_none_or(|k| k.full_access)
    }

    /// `USER_CONFIG` rights: held by the user, and through a key only if the key has it too.
    pub fn has_user_config(&self) -> bool {
        self.user_config.is_some() && self.key.as_ref().is_none_or(|k| k.allows(USER_CONFIG))
    }

    /// `ROLES_CONFIG` rights: held by the user, and through a key only if the key has it too.
    pub fn has_roles_config(&self) -> bool {
        self.roles_config.is_some() && self.key.as_ref().is_none_or(|k| k.allows(ROLES_CONFIG))
    }

    fn manages(&self, target: &Target) -> bool {
        self.has_user_config() && !target.superuser && target.manager == Some(self.user_id)
    }

    fn is(&self, target: &Target) -> bool {
        self.user_id == target.user_id
    }

    /// A key that is not `full_access`: it may use its owner's rights, never change what
    /// proves the owner's identity.
    fn is_limited_key(&self) -> bool {
        self.key.as_ref().is_some_and(|k| !k.full_access)
    }
}

/// The user acted upon.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub user_id: i32,
    pub superuser: bool,
    pub manager: Option<i32>,
}

/// The rule-relevant part of a user.
pub fn target_of(user: &crate::entities::users::Model) -> Target {
    Target {
        user_id: user.user_id,
        superuser: user.superuser,
        manager: user.manager,
    }
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
            Denied::AccessDenied => Error::Denied,
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

/// A change of one's own account that takes over or locks out the account: it needs an
/// interactive sign-in (session or login token) or a `full_access` key (SPEC §3a).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnChange {
    Password,
    Username,
    Email,
    SecondFactors,
    ApiKeys,
    InvalidateTokens,
}

impl OwnChange {
    pub const ALL: [OwnChange; 6] = [
        OwnChange::Password,
        OwnChange::Username,
        OwnChange::Email,
        OwnChange::SecondFactors,
        OwnChange::ApiKeys,
        OwnChange::InvalidateTokens,
    ];
}

/// Whether the caller may make `change` to their own account: anyone signed in, or a key
/// with `full_access`; a narrower key (a monitoring key, say) never.
pub fn can_change_own(caller: &Caller, change: OwnChange) -> Result<(), Denied> {
    let _ = change; // The same rule for each kind today; the kind keeps call sites honest.
    allow(!caller.is_limited_key())
}

/// Whether a change of one's own password may skip `current_password`: only while a change
/// is forced (`target_flagged`), and only for a caller who proved the temporary password in
/// this sign-in. An API key never: it proves nothing about the password, so a key left over
/// from before an admin reset cannot take the account back.
pub fn forced_change_exempt(caller: &Caller, target_flagged: bool) -> bool {
    target_flagged && caller.key.is_none() && caller.proved_temporary
}

/// Reading a user: oneself, a superuser, or the manager holding `USER_CONFIG`.
pub fn can_view(caller: &Caller, target: &Target) -> Result<(), Denied> {
    allow(caller.is(target) || caller.is_superuser() || caller.manages(target))
}

/// Ending every session and login token of a user (SPEC §11): oneself (not through a narrow
/// key), a superuser, or the user's manager.
pub fn can_end_sessions(caller: &Caller, target: &Target) -> Result<(), Denied> {
    if caller.is(target) {
        return can_change_own(caller, OwnChange::InvalidateTokens);
    }
    allow(caller.is_superuser() || caller.manages(target))
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
    /// Username or email (also counted in `profile`): on oneself, not through a narrow key.
    pub identity: bool,
    pub password: bool,
    /// `Some(false)` disables the user.
    pub enabled: Option<bool>,
    pub superuser: bool,
    pub permissions: bool,
    pub manager: bool,
    /// `Some(false)` lifts the user's own two-factor requirement.
    pub require_mfa: Option<bool>,
    /// The user's roles (SPEC §14; which roles, [`roles::can_give_role`] decides).
    pub roles: bool,
}

/// Editing a user (Crafty's rules): oneself for profile and password; a superuser for
/// everything on others; a `USER_CONFIG` manager for profile, password, enabled and roles of
/// the users they manage. Only superusers grant superuser or permissions, move users between
/// managers or change their own roles; nobody disables or demotes themselves.
pub fn can_edit(caller: &Caller, target: &Target, scope: &EditScope) -> Result<(), Denied> {
    if caller.is(target) {
        let own_admin_fields = scope.superuser || scope.permissions || scope.manager || scope.roles;
        // Anyone may require a second factor of themselves; only a superuser lifts it.
        let disables_self = scope.enabled == Some(false)
            || (scope.require_mfa == Some(false) && !caller.is_superuser());
        if disables_self || (own_admin_fields && !caller.is_superuser()) {
            return Err(Denied::AccessDenied);
        }
        if scope.password {
            can_change_own(caller, OwnChange::Password)?;
        }
        if scope.identity {
            can_change_own(caller, OwnChange::Username)?;
        }
        // A superuser may set their own permissions or manager, but not drop their own flag.
        return allow(!scope.superuser);
    }
    if caller.is_superuser() {
        return Ok(());
    }
    allow(caller.manages(target) && !scope.superuser && !scope.permissions && !scope.manager)
}

/// Turning one's password sign-in off (with a passkey): oneself only, not through a narrow
/// key; turning it on again: oneself, or whoever may reset the user (a lost passkey).
pub fn can_set_password_sign_in(
    caller: &Caller,
    target: &Target,
    disable: bool,
) -> Result<(), Denied> {
    if caller.is(target) {
        can_change_own(caller, OwnChange::SecondFactors)
    } else if disable {
        Err(Denied::AccessDenied)
    } else {
        can_reset(caller, target)
    }
}

/// Starting or finishing an enrolment, renewing recovery codes: oneself only (no
/// administrator reads or creates another user's factors), and not through a narrow key.
pub fn can_enrol(caller: &Caller, target: &Target) -> Result<(), Denied> {
    allow(caller.is(target))?;
    can_change_own(caller, OwnChange::SecondFactors)
}

/// Listing a user's devices (names and dates, never secrets): whoever may view the user.
pub fn can_list_factors(caller: &Caller, target: &Target) -> Result<(), Denied> {
    can_view(caller, target)
}

/// Removing a device: its owner (not through a narrow key), or whoever may reset the user
/// (a lost phone).
pub fn can_remove_factor(caller: &Caller, target: &Target) -> Result<(), Denied> {
    if caller.is(target) {
        can_change_own(caller, OwnChange::SecondFactors)
    } else {
        can_reset(caller, target)
    }
}

/// Listing, creating, changing and deleting applications (SPEC §15.1): superusers only (a
/// key only with `full_access`).
pub fn can_manage_apps(caller: &Caller) -> Result<(), Denied> {
    allow(caller.is_superuser())
}

/// Listing API keys: oneself or a superuser.
pub fn can_manage_keys(caller: &Caller, target: &Target) -> Result<(), Denied> {
    allow(caller.is(target) || caller.is_superuser())
}

/// Creating and deleting API keys: as for listing, and one's own only when signed in or
/// through a `full_access` key. A key may not mint a key with more than it has itself
/// ([`can_grant_key`]).
pub fn can_change_keys(caller: &Caller, target: &Target) -> Result<(), Denied> {
    can_manage_keys(caller, target)?;
    if caller.is(target) {
        can_change_own(caller, OwnChange::ApiKeys)?;
    }
    Ok(())
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

pub mod roles;

#[cfg(test)]
mod tests;
