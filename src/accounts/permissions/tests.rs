//! Table tests of the permission rules: every actor kind against every target kind, as SPEC §4–§5 state them.
//!
//! Each table row is one actor kind and each column one target kind; a cell is what the spec
//! says the decision must be. Expected values are read from the spec, not from the code.
//! Where the spec is silent, the cell follows the decision written in `permissions.rs`'s doc
//! comments (the spec's own rule for silent points) and a comment says so.

use super::*;

type Outcome = Result<(), Denied>;

/// Allowed.
const OK: Outcome = Ok(());
/// 403 `ACCESS_DENIED`.
const NO: Outcome = Err(Denied::AccessDenied);
/// 400 `SELF_RESET_NOT_ALLOWED`.
const SELF: Outcome = Err(Denied::SelfReset);

/// The acting user's id in every case.
const ACTOR_ID: i32 = 1;
/// Another `USER_CONFIG` holder: the manager of the users the actor does not manage.
const OTHER_MANAGER_ID: i32 = 2;

/// Who is acting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    /// A superuser signed in by session or login token (no key).
    Superuser,
    /// A `USER_CONFIG` holder (no cap) who is the `manager` of the users marked as theirs.
    Manager,
    /// A `USER_CONFIG` holder who manages none of the targets: for them, the users that
    /// would be "the actor's" are managed by user 2 instead.
    NonManager,
    /// A user without `USER_CONFIG`. They are still set as `manager` of the users marked as
    /// theirs (e.g. the permission was taken away later): that alone gives no rights.
    Plain,
    /// An API key of a `USER_CONFIG` holder, with `USER_CONFIG` in the key's permissions.
    UserConfigKey,
    /// An API key of a `USER_CONFIG` holder, without `USER_CONFIG` in the key.
    KeyWithoutUserConfig,
    /// A superuser's API key with `full_access`.
    SuperuserFullKey,
    /// A superuser's API key without `full_access` and with no permissions.
    SuperuserBareKey,
}

const ACTORS: [Actor; 8] = [
    Actor::Superuser,
    Actor::Manager,
    Actor::NonManager,
    Actor::Plain,
    Actor::UserConfigKey,
    Actor::KeyWithoutUserConfig,
    Actor::SuperuserFullKey,
    Actor::SuperuserBareKey,
];

fn key(full_access: bool, permissions: &[&str]) -> KeyScope {
    KeyScope {
        full_access,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

fn user(superuser: bool, user_config: Option<i32>, key: Option<KeyScope>) -> Caller {
    Caller {
        user_id: ACTOR_ID,
        superuser,
        user_config,
        roles_config: None,
        key,
        proved_temporary: false,
    }
}

impl Actor {
    fn caller(self) -> Caller {
        match self {
            Actor::Superuser => user(true, None, None),
            Actor::Manager | Actor::NonManager => user(false, Some(-1), None),
            Actor::Plain => user(false, None, None),
            Actor::UserConfigKey => user(false, Some(-1), Some(key(false, &[USER_CONFIG]))),
            Actor::KeyWithoutUserConfig => user(false, Some(-1), Some(key(false, &[]))),
            Actor::SuperuserFullKey => user(true, None, Some(key(true, &[]))),
            Actor::SuperuserBareKey => user(true, None, Some(key(false, &[]))),
        }
    }

    /// The `manager` value of a target that is "managed by the actor".
    fn as_manager(self) -> Option<i32> {
        if self == Actor::NonManager {
            Some(OTHER_MANAGER_ID)
        } else {
            Some(ACTOR_ID)
        }
    }
}

/// Who is acted upon; the order of the table columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    /// The actor's own user.
    Myself,
    /// A non-superuser whose `manager` is the actor.
    Managed,
    /// A non-superuser whose `manager` is another `USER_CONFIG` holder.
    ManagedByAnother,
    /// A non-superuser with no manager.
    Unmanaged,
    /// A superuser with no manager.
    Superuser,
    /// A superuser whose `manager` is set to the actor: it gives a non-superuser no rights.
    SuperuserManagedByActor,
}

const SUBJECTS: [Subject; 6] = [
    Subject::Myself,
    Subject::Managed,
    Subject::ManagedByAnother,
    Subject::Unmanaged,
    Subject::Superuser,
    Subject::SuperuserManagedByActor,
];

impl Subject {
    fn target(self, actor: Actor) -> Target {
        let (user_id, superuser, manager) = match self {
            Subject::Myself => (ACTOR_ID, actor.caller().superuser, None),
            Subject::Managed => (3, false, actor.as_manager()),
            Subject::ManagedByAnother => (4, false, Some(OTHER_MANAGER_ID)),
            Subject::Unmanaged => (5, false, None),
            Subject::Superuser => (6, true, None),
            Subject::SuperuserManagedByActor => (7, true, actor.as_manager()),
        };
        Target {
            user_id,
            superuser,
            manager,
        }
    }
}

/// One row per actor (in `ACTORS` order), one column per subject (in `SUBJECTS` order).
type Table = [(Actor, [Outcome; 6]); 8];

/// Checks every cell of `table` against `decide`, reporting all disagreements at once.
fn check(rule: &str, table: &Table, decide: impl Fn(&Caller, &Target) -> Outcome) {
    let rows: Vec<Actor> = table.iter().map(|(actor, _)| *actor).collect();
    assert_eq!(
        rows, ACTORS,
        "{rule}: the table must list every actor once, in order"
    );
    let mut wrong = Vec::new();
    for (actor, row) in table {
        for (subject, expected) in SUBJECTS.iter().zip(row) {
            let got = decide(&actor.caller(), &subject.target(*actor));
            if got != *expected {
                wrong.push(format!(
                    "  {actor:?} on {subject:?}: spec {expected:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{rule}: {} case(s) disagree with the spec:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// §4 reset-password: superuser (a key needs full_access), or USER_CONFIG (a key needs it in
// its own permissions) for non-superusers they manage; never oneself.

#[rustfmt::skip]
const RESET: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [SELF,  OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [SELF,  OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [SELF,  NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [SELF,  NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [SELF,  OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [SELF,  NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [SELF,  OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [SELF,  NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn reset_password_follows_the_spec_for_every_actor_and_target() {
    check("can_reset", &RESET, can_reset);
}

#[test]
fn nobody_resets_their_own_password_this_way() {
    for actor in ACTORS {
        let me = Subject::Myself.target(actor);
        assert_eq!(can_reset(&actor.caller(), &me), SELF, "{actor:?}");
    }
}

#[test]
fn non_superuser_never_resets_a_superuser_even_one_they_are_set_to_manage() {
    let manager = Actor::Manager.caller();
    let superuser = Subject::SuperuserManagedByActor.target(Actor::Manager);
    assert_eq!(superuser.manager, Some(manager.user_id));
    assert_eq!(can_reset(&manager, &superuser), NO);
}

#[test]
fn api_key_resets_only_with_user_config_in_its_own_permissions() {
    let managed = Subject::Managed.target(Actor::Manager);
    assert_eq!(can_reset(&Actor::UserConfigKey.caller(), &managed), OK);
    assert_eq!(
        can_reset(&Actor::KeyWithoutUserConfig.caller(), &managed),
        NO
    );
}

#[test]
fn key_listing_user_config_gives_nothing_when_its_owner_lacks_it() {
    let caller = user(false, None, Some(key(false, &[USER_CONFIG])));
    let managed = Subject::Managed.target(Actor::Manager);
    assert_eq!(can_reset(&caller, &managed), NO);
}

#[test]
fn superuser_key_resets_only_with_full_access() {
    let someone = Subject::Unmanaged.target(Actor::Superuser);
    assert_eq!(can_reset(&Actor::SuperuserFullKey.caller(), &someone), OK);
    assert_eq!(can_reset(&Actor::SuperuserBareKey.caller(), &someone), NO);
}

// ---------------------------------------------------------------------------------------
// §5 GET /users/{id}: self, superuser, manager. "Manager" means a USER_CONFIG holder (GET
// /users: "USER_CONFIG: self and managed users; others: self"), and a superuser is nobody's
// managed user: a non-superuser never acts on a superuser.

/// Who may see a user is also who may edit their profile or password (§5 PATCH: self,
/// superuser, manager with USER_CONFIG).
#[rustfmt::skip]
const SELF_SUPERUSER_OR_MANAGER: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [OK,    OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [OK,    OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [OK,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn view_is_for_self_superuser_or_managing_user_config_holder() {
    check("can_view", &SELF_SUPERUSER_OR_MANAGER, can_view);
}

// ---------------------------------------------------------------------------------------
// §5 DELETE /users/{id}: superuser, or manager with USER_CONFIG; not oneself. (The last
// enabled superuser is the domain's to protect: it needs a count.)

/// Also who may disable a user: the same people, and nobody disables themselves.
#[rustfmt::skip]
const SUPERUSER_OR_MANAGER_NOT_SELF: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [NO,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [NO,    OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [NO,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn delete_is_for_superuser_or_managing_user_config_holder_never_oneself() {
    check("can_delete", &SUPERUSER_OR_MANAGER_NOT_SELF, can_delete);
}

#[test]
fn nobody_deletes_themselves() {
    for actor in ACTORS {
        let me = Subject::Myself.target(actor);
        assert_eq!(can_delete(&actor.caller(), &me), NO, "{actor:?}");
    }
}

// ---------------------------------------------------------------------------------------
// §5 PATCH /users/{id}: self (limited), superuser, manager with USER_CONFIG; only superusers
// grant superuser or permissions; nobody disables themselves.

const PROFILE: EditScope = EditScope {
    profile: true,
    identity: false,
    password: false,
    enabled: None,
    superuser: false,
    permissions: false,
    manager: false,
    require_mfa: None,
    roles: false,
};
const PASSWORD: EditScope = EditScope {
    password: true,
    profile: false,
    ..PROFILE
};
const DISABLE: EditScope = EditScope {
    enabled: Some(false),
    profile: false,
    ..PROFILE
};
const SUPERUSER_FLAG: EditScope = EditScope {
    superuser: true,
    profile: false,
    ..PROFILE
};
const PERMISSIONS: EditScope = EditScope {
    permissions: true,
    profile: false,
    ..PROFILE
};
const MANAGER: EditScope = EditScope {
    manager: true,
    profile: false,
    ..PROFILE
};
const ROLES: EditScope = EditScope {
    roles: true,
    profile: false,
    ..PROFILE
};

fn check_edit(rule: &str, table: &Table, scope: EditScope) {
    check(rule, table, |caller, target| {
        can_edit(caller, target, &scope)
    });
}

#[test]
fn profile_is_edited_by_self_superuser_or_manager() {
    check_edit("can_edit profile", &SELF_SUPERUSER_OR_MANAGER, PROFILE);
}

/// A password is edited as a profile is, except that one's own needs a sign-in or a
/// `full_access` key (§3a): a narrow key never changes its owner's password.
#[rustfmt::skip]
const EDIT_PASSWORD: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [OK,    OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn password_is_edited_by_self_superuser_or_manager() {
    check_edit("can_edit password", &EDIT_PASSWORD, PASSWORD);
}

#[test]
fn nobody_disables_themselves_and_only_superusers_or_managers_disable_others() {
    check_edit(
        "can_edit enabled=false",
        &SUPERUSER_OR_MANAGER_NOT_SELF,
        DISABLE,
    );
}

/// Only superusers grant superuser. Own row of a superuser: the spec is silent on a
/// superuser changing their own flag; `permissions.rs` documents "nobody ... demotes
/// themselves" (the spec's rule for silent points), so that cell is refused.
#[rustfmt::skip]
const EDIT_SUPERUSER_FLAG: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [NO,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [NO,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn only_superusers_change_the_superuser_flag_and_not_their_own() {
    check_edit("can_edit superuser", &EDIT_SUPERUSER_FLAG, SUPERUSER_FLAG);
}

/// Only superusers (a key: with `full_access`) grant permissions, their own included (Crafty
/// refuses only a non-superuser changing their own). For `manager` the spec is silent;
/// `permissions.rs` documents "only superusers ... move users between managers", which
/// gives the same table.
#[rustfmt::skip]
const SUPERUSER_ONLY: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn only_superusers_grant_permissions() {
    check_edit("can_edit permissions", &SUPERUSER_ONLY, PERMISSIONS);
}

#[test]
fn only_superusers_move_users_between_managers() {
    check_edit("can_edit manager", &SUPERUSER_ONLY, MANAGER);
}

/// SPEC §14: whoever may edit the user changes their roles (which roles they may give is
/// `permissions::roles`' decision), never their own unless a superuser ("superusers
/// everything", as Crafty has it).
#[rustfmt::skip]
const EDIT_ROLES: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [NO,    OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn roles_are_changed_by_whoever_may_edit_the_user_never_ones_own() {
    check_edit("can_edit roles", &EDIT_ROLES, ROLES);
    check(
        "can_change_roles_of",
        &EDIT_ROLES,
        super::roles::can_change_roles_of,
    );
}

#[test]
fn one_forbidden_field_refuses_the_whole_edit() {
    let manager = Actor::Manager.caller();
    let managed = Subject::Managed.target(Actor::Manager);
    let everything_a_manager_may = EditScope {
        profile: true,
        password: true,
        enabled: Some(false),
        ..PROFILE
    };
    assert_eq!(can_edit(&manager, &managed, &everything_a_manager_may), OK);
    for forbidden in [SUPERUSER_FLAG, PERMISSIONS, MANAGER] {
        let scope = EditScope {
            superuser: forbidden.superuser,
            permissions: forbidden.permissions,
            manager: forbidden.manager,
            ..everything_a_manager_may
        };
        assert_eq!(can_edit(&manager, &managed, &scope), NO, "{scope:?}");
    }
    let own_profile_and_disable = EditScope {
        enabled: Some(false),
        ..PROFILE
    };
    let superuser = Actor::Superuser.caller();
    let me = Subject::Myself.target(Actor::Superuser);
    assert_eq!(can_edit(&superuser, &me, &own_profile_and_disable), NO);
}

// ---------------------------------------------------------------------------------------
// §5 GET/POST/DELETE /users/{id}/key: self or superuser (a superuser's key: full_access).
// A USER_CONFIG manager does not manage their users' keys.

#[rustfmt::skip]
const MANAGE_KEYS: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [OK,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn api_keys_are_managed_by_their_owner_or_a_superuser() {
    check("can_manage_keys", &MANAGE_KEYS, can_manage_keys);
}

/// Creating and deleting keys: as listing, but never one's own through a key without
/// `full_access` (§3a).
#[rustfmt::skip]
const CHANGE_KEYS: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn api_keys_are_created_and_deleted_by_their_owner_signed_in_or_a_superuser() {
    check("can_change_keys", &CHANGE_KEYS, can_change_keys);
}

// ---------------------------------------------------------------------------------------
// §5 POST /users: superuser, or USER_CONFIG within quota (-1 = no cap); only superusers
// create superusers or grant permissions.

/// Per actor: [plain create, wants_superuser, grants_permissions], with no users managed yet
/// (the USER_CONFIG holders have no cap).
#[rustfmt::skip]
const CREATE: [(Actor, [Outcome; 3]); 8] = [
    //                            plain  superuser  permissions
    (Actor::Superuser,            [OK,    OK,        OK]),
    (Actor::Manager,              [OK,    NO,        NO]),
    (Actor::NonManager,           [OK,    NO,        NO]),
    (Actor::Plain,                [NO,    NO,        NO]),
    (Actor::UserConfigKey,        [OK,    NO,        NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,        NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,        OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,        NO]),
];

#[test]
fn create_is_for_superusers_or_user_config_holders_without_admin_grants() {
    let rows: Vec<Actor> = CREATE.iter().map(|(actor, _)| *actor).collect();
    assert_eq!(rows, ACTORS);
    let requests = [(false, false), (true, false), (false, true)];
    for (actor, row) in CREATE {
        for ((wants_superuser, grants_permissions), expected) in requests.into_iter().zip(row) {
            let got = can_create(&actor.caller(), 0, wants_superuser, grants_permissions);
            assert_eq!(
                got, expected,
                "{actor:?}, wants_superuser {wants_superuser}, grants_permissions {grants_permissions}"
            );
        }
    }
}

#[test]
fn superuser_always_creates_whatever_their_quota_and_count() {
    let with_zero_quota = user(true, Some(0), None);
    for caller in [
        Actor::Superuser.caller(),
        Actor::SuperuserFullKey.caller(),
        with_zero_quota,
    ] {
        for managed in [0, 2, 10_000] {
            assert_eq!(
                can_create(&caller, managed, true, true),
                OK,
                "{caller:?}, {managed}"
            );
        }
    }
}

#[test]
fn user_config_quantity_caps_how_many_users_one_creates() {
    // (quota, users managed now, outcome)
    #[rustfmt::skip]
    let cases = [
        (-1, 0, OK), (-1, 1, OK), (-1, 10_000, OK),
        (2, 0, OK), (2, 1, OK), (2, 2, NO), (2, 3, NO),
        (1, 0, OK), (1, 1, NO),
        (0, 0, NO),
    ];
    for (quota, managed, expected) in cases {
        let session = user(false, Some(quota), None);
        let api_key = user(false, Some(quota), Some(key(false, &[USER_CONFIG])));
        for caller in [session, api_key] {
            assert_eq!(
                can_create(&caller, managed, false, false),
                expected,
                "quota {quota}, managed {managed}, key {:?}",
                caller.key
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Keys (§3, §4, §5): a key may not mint a key with more than it has; a key's permissions
// stay within its owner's unless the owner is a superuser.

#[test]
fn new_key_stays_within_its_owner_and_the_calling_key() {
    let none: &[&str] = &[];
    let user_config: &[&str] = &[USER_CONFIG];
    let plain_session = Actor::Plain.caller();
    let holder_session = Actor::Manager.caller();
    let superuser_session = Actor::Superuser.caller();
    let holder_full_key = user(false, Some(-1), Some(key(true, &[])));
    // (caller, owner is superuser, owner's permissions, requested scope, outcome)
    #[rustfmt::skip]
    let cases = [
        // Sessions: bounded by the owner only.
        (&holder_session, false, user_config, key(false, user_config), OK),
        (&holder_session, false, user_config, key(false, none), OK),
        // A non-superuser's full_access is all of the owner's rights, nothing more.
        (&holder_session, false, user_config, key(true, none), OK),
        (&plain_session, false, none, key(false, user_config), NO),
        (&plain_session, false, none, key(false, none), OK),
        (&superuser_session, true, none, key(true, none), OK),
        (&superuser_session, true, none, key(false, user_config), OK),
        // A superuser minting for someone else is bounded by that owner.
        (&superuser_session, false, none, key(false, user_config), NO),
        (&superuser_session, false, user_config, key(false, user_config), OK),
        // Keys: bounded by the owner and by the calling key.
        (&Actor::UserConfigKey.caller(), false, user_config, key(false, user_config), OK),
        (&Actor::UserConfigKey.caller(), false, user_config, key(true, none), NO),
        (&Actor::KeyWithoutUserConfig.caller(), false, user_config, key(false, user_config), NO),
        (&Actor::KeyWithoutUserConfig.caller(), false, user_config, key(false, none), OK),
        (&Actor::KeyWithoutUserConfig.caller(), false, user_config, key(true, none), NO),
        (&holder_full_key, false, user_config, key(true, none), OK),
        (&holder_full_key, false, none, key(false, user_config), NO),
        (&Actor::SuperuserFullKey.caller(), true, none, key(true, none), OK),
        (&Actor::SuperuserFullKey.caller(), true, none, key(false, user_config), OK),
        (&Actor::SuperuserFullKey.caller(), false, none, key(false, user_config), NO),
        (&Actor::SuperuserBareKey.caller(), true, none, key(true, none), NO),
        (&Actor::SuperuserBareKey.caller(), true, none, key(false, user_config), NO),
        (&Actor::SuperuserBareKey.caller(), true, none, key(false, none), OK),
    ];
    for (caller, owner_superuser, owner_permissions, requested, expected) in cases {
        let owner_permissions: Vec<String> =
            owner_permissions.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            can_grant_key(caller, owner_superuser, &owner_permissions, &requested),
            expected,
            "caller key {:?}, owner superuser {owner_superuser}, owner {owner_permissions:?}, \
             requested {requested:?}",
            caller.key
        );
    }
}

// ---------------------------------------------------------------------------------------
// §3a: what a credential may do to its own account. Caller kinds × each self-change: a
// session or login token may make every change; a key only with `full_access`.

/// How the caller signed in.
#[derive(Clone, Copy, Debug)]
enum CallerKind {
    Session,
    /// A session or login token from a sign-in with the temporary password.
    SessionWithTemporary,
    LoginToken,
    LoginTokenWithTemporary,
    FullAccessKey,
    /// A key without `full_access`, holding every permission there is.
    KeyWithPermissions,
    /// A key without `full_access` or permissions (a monitoring key).
    BareKey,
}

const CALLER_KINDS: [CallerKind; 7] = [
    CallerKind::Session,
    CallerKind::SessionWithTemporary,
    CallerKind::LoginToken,
    CallerKind::LoginTokenWithTemporary,
    CallerKind::FullAccessKey,
    CallerKind::KeyWithPermissions,
    CallerKind::BareKey,
];

impl CallerKind {
    /// The same person each time (a superuser holding `USER_CONFIG`, the most a key could
    /// borrow), signed in a different way.
    fn caller(self) -> Caller {
        let mut caller = user(true, Some(-1), None);
        match self {
            CallerKind::Session | CallerKind::LoginToken => {}
            CallerKind::SessionWithTemporary | CallerKind::LoginTokenWithTemporary => {
                caller.proved_temporary = true
            }
            CallerKind::FullAccessKey => caller.key = Some(key(true, &[])),
            CallerKind::KeyWithPermissions => caller.key = Some(key(false, &[USER_CONFIG])),
            CallerKind::BareKey => caller.key = Some(key(false, &[])),
        }
        caller
    }

    /// May it change the account's password, username, email, factors or keys, or end its
    /// sessions? (§3a: a session, a login token, or a `full_access` key.)
    fn may_change_own(self) -> bool {
        !matches!(self, CallerKind::KeyWithPermissions | CallerKind::BareKey)
    }

    /// May it set a new password without `current_password` while a change is forced?
    /// (§3a: only whoever proved the temporary password in this sign-in; a key never.)
    fn skips_current_password_when_forced(self) -> bool {
        matches!(
            self,
            CallerKind::SessionWithTemporary | CallerKind::LoginTokenWithTemporary
        )
    }
}

#[test]
fn own_credentials_change_only_through_a_sign_in_or_a_full_access_key() {
    for kind in CALLER_KINDS {
        let caller = kind.caller();
        let expected = if kind.may_change_own() { OK } else { NO };
        for change in OwnChange::ALL {
            assert_eq!(
                can_change_own(&caller, change),
                expected,
                "{kind:?} {change:?}"
            );
        }
        let me = Subject::Myself.target(Actor::Superuser);
        let edits = [
            (
                "password",
                EditScope {
                    password: true,
                    ..Default::default()
                },
            ),
            (
                "username",
                EditScope {
                    profile: true,
                    identity: true,
                    ..Default::default()
                },
            ),
        ];
        for (what, scope) in edits {
            assert_eq!(
                can_edit(&caller, &me, &scope),
                expected,
                "{kind:?} edits own {what}"
            );
        }
        assert_eq!(can_change_keys(&caller, &me), expected, "{kind:?} own keys");
        // Reading stays open to every kind: a key may list its owner's keys and read its
        // profile, and change the language.
        assert_eq!(can_manage_keys(&caller, &me), OK, "{kind:?} lists own keys");
        let lang_only = EditScope {
            profile: true,
            ..Default::default()
        };
        assert_eq!(
            can_edit(&caller, &me, &lang_only),
            OK,
            "{kind:?} own language"
        );
    }
}

#[test]
fn only_a_sign_in_with_the_temporary_password_skips_current_password() {
    for kind in CALLER_KINDS {
        let caller = kind.caller();
        assert_eq!(
            forced_change_exempt(&caller, true),
            kind.skips_current_password_when_forced(),
            "{kind:?}, change forced"
        );
        assert!(
            !forced_change_exempt(&caller, false),
            "{kind:?}, no change forced"
        );
    }
    // A key cannot claim the proof, whatever it carries.
    let mut key_caller = CallerKind::FullAccessKey.caller();
    key_caller.proved_temporary = true;
    assert!(!forced_change_exempt(&key_caller, true));
}

#[test]
fn a_narrow_key_still_acts_on_others_within_its_permissions() {
    // The self-change rule is about the key's owner only: a manager's USER_CONFIG key may
    // set a new password on a user its owner manages.
    let manager_key = Actor::UserConfigKey.caller();
    let managed = Subject::Managed.target(Actor::UserConfigKey);
    let password = EditScope {
        password: true,
        ..Default::default()
    };
    assert_eq!(can_edit(&manager_key, &managed, &password), OK);
    let me = Subject::Myself.target(Actor::UserConfigKey);
    assert_eq!(can_edit(&manager_key, &me, &password), NO);
}

// ---------------------------------------------------------------------------------------
// §9 second factors: only oneself enrols (no administrator reads or creates another user's
// factors), and not through a key without full_access; devices are listed by whoever may
// view the user; removed by the owner or by whoever may reset the user.

#[rustfmt::skip]
const ENROL: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Manager,              [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn only_oneself_enrols_a_factor() {
    check("can_enrol", &ENROL, can_enrol);
}

#[rustfmt::skip]
const LIST_FACTORS: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [OK,    OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [OK,    OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [OK,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn factors_are_listed_by_whoever_may_view_the_user() {
    check("can_list_factors", &LIST_FACTORS, can_list_factors);
}

#[rustfmt::skip]
const REMOVE_FACTOR: Table = [
    //                            myself managed other  unmgd  super  super-managed-by-actor
    (Actor::Superuser,            [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::Manager,              [OK,    OK,     NO,    NO,    NO,    NO]),
    (Actor::NonManager,           [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::Plain,                [OK,    NO,     NO,    NO,    NO,    NO]),
    (Actor::UserConfigKey,        [NO,    OK,     NO,    NO,    NO,    NO]),
    (Actor::KeyWithoutUserConfig, [NO,    NO,     NO,    NO,    NO,    NO]),
    (Actor::SuperuserFullKey,     [OK,    OK,     OK,    OK,    OK,    OK]),
    (Actor::SuperuserBareKey,     [NO,    NO,     NO,    NO,    NO,    NO]),
];

#[test]
fn factors_are_removed_by_the_owner_or_whoever_may_reset_the_user() {
    check("can_remove_factor", &REMOVE_FACTOR, can_remove_factor);
}

#[test]
fn anyone_requires_a_factor_of_themselves_only_a_superuser_lifts_it() {
    let on = EditScope {
        require_mfa: Some(true),
        ..Default::default()
    };
    let off = EditScope {
        require_mfa: Some(false),
        ..Default::default()
    };
    for actor in [Actor::Manager, Actor::Plain] {
        let me = Subject::Myself.target(actor);
        assert_eq!(can_edit(&actor.caller(), &me, &on), OK, "{actor:?}");
        assert_eq!(can_edit(&actor.caller(), &me, &off), NO, "{actor:?}");
    }
    let me = Subject::Myself.target(Actor::Superuser);
    assert_eq!(can_edit(&Actor::Superuser.caller(), &me, &off), OK);
    let managed = Subject::Managed.target(Actor::Manager);
    assert_eq!(can_edit(&Actor::Manager.caller(), &managed, &off), OK);
    let other = Subject::ManagedByAnother.target(Actor::Manager);
    assert_eq!(can_edit(&Actor::Manager.caller(), &other, &on), NO);
}

// ---------------------------------------------------------------------------------------
// §15.1 applications: superusers only; through a key, only a superuser's `full_access` key.

#[test]
fn applications_are_managed_by_superusers_only() {
    for actor in ACTORS {
        let expected = match actor {
            Actor::Superuser | Actor::SuperuserFullKey => OK,
            _ => NO,
        };
        assert_eq!(can_manage_apps(&actor.caller()), expected, "{actor:?}");
    }
    assert_eq!(can_manage_apps(&Caller::operator()), OK);
}
