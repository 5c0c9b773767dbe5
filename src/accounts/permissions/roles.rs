//! Who may do what with roles (SPEC §14): pure decisions over plain data, like the rest of
//! `permissions`. Managing a role is a `ROLES_CONFIG` right: a user set as a role's manager
//! who no longer holds the permission (or calls through a key without it) manages nothing.

use super::{Caller, Denied, Target, allow};

/// The rule-relevant part of a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleTarget {
    pub manager: Option<i32>,
}

/// The rule-relevant part of a stored role.
pub fn role_target(role: &crate::entities::roles::Model) -> RoleTarget {
    RoleTarget {
        manager: role.manager,
    }
}

impl Caller {
    /// Manages `role`: a superuser manages every role; a `ROLES_CONFIG` holder those whose
    /// manager they are.
    pub fn manages_role(&self, role: &RoleTarget) -> bool {
        self.is_superuser() || (self.has_roles_config() && role.manager == Some(self.user_id))
    }
}

/// Listing and reading roles (and their members and servers): a superuser, or a
/// `ROLES_CONFIG` holder.
pub fn can_read_roles(caller: &Caller) -> Result<(), Denied> {
    allow(caller.is_superuser() || caller.has_roles_config())
}

/// Creating a role: a superuser, or a `ROLES_CONFIG` holder within their quantity (`managed`
/// is how many roles they manage now; -1 = no cap), who becomes its manager. Only a
/// superuser names another manager (or none): `names_other_manager`.
pub fn can_create_role(
    caller: &Caller,
    managed: u64,
    names_other_manager: bool,
) -> Result<(), Denied> {
    if caller.is_superuser() {
        return Ok(());
    }
    if !caller.has_roles_config() || names_other_manager {
        return Err(Denied::AccessDenied);
    }
    match caller.roles_config {
        Some(quota) if quota < 0 => Ok(()),
        Some(quota) => allow(managed < quota as u64),
        None => Err(Denied::AccessDenied),
    }
}

/// Renaming a role, setting its `mfa_required` or deleting it: whoever manages it.
pub fn can_change_role(caller: &Caller, role: &RoleTarget) -> Result<(), Denied> {
    allow(caller.manages_role(role))
}

/// Giving a role another manager (or none): superusers only.
pub fn can_set_role_manager(caller: &Caller) -> Result<(), Denied> {
    allow(caller.is_superuser())
}

/// Giving a user `role` (on top of [`can_change_roles_of`]): only a role the caller manages.
/// Taking a role away needs no more than [`can_change_roles_of`].
pub fn can_give_role(caller: &Caller, role: &RoleTarget) -> Result<(), Denied> {
    allow(caller.manages_role(role))
}

/// Changing a user's roles at all: whoever may edit the user (a superuser, or the manager
/// holding `USER_CONFIG`), never one's own roles unless a superuser.
pub fn can_change_roles_of(caller: &Caller, target: &Target) -> Result<(), Denied> {
    if caller.is(target) {
        return allow(caller.is_superuser());
    }
    allow(caller.is_superuser() || caller.manages(target))
}

#[cfg(test)]
mod tests {
    //! Every actor kind against every role kind, as SPEC §14 states the rules.

    use super::*;
    use crate::accounts::permissions::{KeyScope, ROLES_CONFIG, USER_CONFIG};

    const OK: Result<(), Denied> = Ok(());
    const NO: Result<(), Denied> = Err(Denied::AccessDenied);
    const ME: i32 = 1;
    const SOMEONE_ELSE: i32 = 2;

    #[derive(Clone, Copy, Debug)]
    enum Actor {
        Superuser,
        /// Holds `ROLES_CONFIG` (no cap).
        RolesConfig,
        /// Set as a role's manager, but no longer holds `ROLES_CONFIG`.
        Plain,
        /// A `ROLES_CONFIG` holder's key that carries it.
        RolesConfigKey,
        /// A `ROLES_CONFIG` holder's key without it.
        KeyWithoutRolesConfig,
        SuperuserFullKey,
        SuperuserBareKey,
    }

    const ACTORS: [Actor; 7] = [
        Actor::Superuser,
        Actor::RolesConfig,
        Actor::Plain,
        Actor::RolesConfigKey,
        Actor::KeyWithoutRolesConfig,
        Actor::SuperuserFullKey,
        Actor::SuperuserBareKey,
    ];

    fn key(full_access: bool, permissions: &[&str]) -> Option<KeyScope> {
        Some(KeyScope {
            full_access,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        })
    }

    fn caller(actor: Actor) -> Caller {
        let (superuser, roles_config, key) = match actor {
            Actor::Superuser => (true, None, None),
            Actor::RolesConfig => (false, Some(-1), None),
            Actor::Plain => (false, None, None),
            Actor::RolesConfigKey => (false, Some(-1), key(false, &[ROLES_CONFIG])),
            Actor::KeyWithoutRolesConfig => (false, Some(-1), key(false, &[USER_CONFIG])),
            Actor::SuperuserFullKey => (true, None, key(true, &[])),
            Actor::SuperuserBareKey => (true, None, key(false, &[])),
        };
        Caller {
            user_id: ME,
            superuser,
            user_config: Some(-1),
            roles_config,
            key,
            proved_temporary: false,
        }
    }

    /// The roles acted upon: managed by the actor, by someone else, by nobody.
    const ROLES: [RoleTarget; 3] = [
        RoleTarget { manager: Some(ME) },
        RoleTarget {
            manager: Some(SOMEONE_ELSE),
        },
        RoleTarget { manager: None },
    ];

    #[test]
    fn reading_roles_needs_roles_config_or_superuser_rights() {
        let expected = [OK, OK, NO, OK, NO, OK, NO];
        for (actor, want) in ACTORS.into_iter().zip(expected) {
            assert_eq!(can_read_roles(&caller(actor)), want, "{actor:?}");
        }
    }

    #[test]
    fn a_role_is_changed_deleted_and_given_only_by_whoever_manages_it() {
        // Columns: managed by the actor, by someone else, by nobody.
        let table = [
            (Actor::Superuser, [OK, OK, OK]),
            (Actor::RolesConfig, [OK, NO, NO]),
            (Actor::Plain, [NO, NO, NO]),
            (Actor::RolesConfigKey, [OK, NO, NO]),
            (Actor::KeyWithoutRolesConfig, [NO, NO, NO]),
            (Actor::SuperuserFullKey, [OK, OK, OK]),
            (Actor::SuperuserBareKey, [NO, NO, NO]),
        ];
        for (actor, row) in table {
            for (role, want) in ROLES.iter().zip(row) {
                assert_eq!(
                    can_change_role(&caller(actor), role),
                    want,
                    "{actor:?} {role:?}"
                );
                assert_eq!(
                    can_give_role(&caller(actor), role),
                    want,
                    "{actor:?} {role:?}"
                );
            }
        }
    }

    #[test]
    fn only_superusers_move_a_role_to_another_manager() {
        let expected = [OK, NO, NO, NO, NO, OK, NO];
        for (actor, want) in ACTORS.into_iter().zip(expected) {
            assert_eq!(can_set_role_manager(&caller(actor)), want, "{actor:?}");
        }
    }

    #[test]
    fn roles_config_quantity_caps_how_many_roles_one_manages() {
        let with_quota = |quota: i32| Caller {
            roles_config: Some(quota),
            ..caller(Actor::RolesConfig)
        };
        assert_eq!(can_create_role(&with_quota(-1), 1000, false), OK);
        assert_eq!(can_create_role(&with_quota(2), 1, false), OK);
        assert_eq!(can_create_role(&with_quota(2), 2, false), NO);
        assert_eq!(can_create_role(&with_quota(0), 0, false), NO);
        // Naming someone else (or nobody) as manager is a superuser's choice.
        assert_eq!(can_create_role(&with_quota(-1), 0, true), NO);
        assert_eq!(can_create_role(&caller(Actor::Superuser), 99, true), OK);
        assert_eq!(can_create_role(&caller(Actor::Plain), 0, false), NO);
        assert_eq!(
            can_create_role(&caller(Actor::KeyWithoutRolesConfig), 0, false),
            NO
        );
        assert_eq!(
            can_create_role(&caller(Actor::RolesConfigKey), 0, false),
            OK
        );
        assert_eq!(
            can_create_role(&caller(Actor::SuperuserBareKey), 0, false),
            NO
        );
    }

    #[test]
    fn own_roles_are_changed_only_by_a_superuser_others_by_whoever_may_edit_them() {
        let me = Target {
            user_id: ME,
            superuser: false,
            manager: None,
        };
        let managed = Target {
            user_id: 3,
            superuser: false,
            manager: Some(ME),
        };
        let unmanaged = Target {
            user_id: 4,
            superuser: false,
            manager: Some(SOMEONE_ELSE),
        };
        let holder = caller(Actor::RolesConfig);
        assert_eq!(can_change_roles_of(&holder, &me), NO);
        assert_eq!(can_change_roles_of(&holder, &managed), OK);
        assert_eq!(can_change_roles_of(&holder, &unmanaged), NO);
        let without_user_config = Caller {
            user_config: None,
            ..holder
        };
        assert_eq!(can_change_roles_of(&without_user_config, &managed), NO);
        let superuser = caller(Actor::Superuser);
        for target in [me, managed, unmanaged] {
            assert_eq!(can_change_roles_of(&superuser, &target), OK);
        }
    }
}
