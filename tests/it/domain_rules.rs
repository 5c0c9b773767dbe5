//! The use cases own their rules: called directly, with no handler in front of them, the
//! domain still refuses what the caller may not do (the API, the web forms and the CLI only
//! pass the caller along), and nothing is written.

use passgate::accounts::audit::Actor;
use passgate::accounts::credentials::{ResetOptions, ResetRequest, reset_password};
use passgate::accounts::permissions::{Caller, KeyScope};
use passgate::accounts::secret::Secret;
use passgate::accounts::users::{self, NewUser};
use passgate::accounts::{Error, api_keys, grants};
use passgate::entities::users as user_entity;
use sea_orm::EntityTrait;

use crate::helpers::*;

fn new_user(name: &str, superuser: bool) -> NewUser {
    NewUser {
        require_mfa: false,
        username: name.into(),
        password: Some(Secret::new(STRONG.into())),
        email: None,
        superuser,
        manager: None,
        lang: "en".into(),
        require_password_change: false,
        expires_hours: -1,
        enabled: true,
        permissions: Vec::new(),
        preferences: Default::default(),
        setup_link: None,
        roles: Vec::new(),
    }
}

async fn caller_of(app: &TestApp, user: &user_entity::Model) -> Caller {
    let held = grants::load(&app.db, user.user_id).await.unwrap();
    Caller::signed_in(user, &held, false)
}

#[tokio::test]
async fn creating_a_user_checks_the_caller_inside_the_domain() {
    let app = spawn_app().await;
    let plain = app.user("plain", STRONG, false).await;
    let manager = app.user_with("manager", STRONG, false, None, Some(1)).await;
    let create = |caller: Caller, new: NewUser| {
        let app = &app;
        async move {
            users::create(
                &app.db,
                &app.state.hasher,
                &app.state.config.policy,
                &Actor::cli(),
                &caller,
                new,
            )
            .await
        }
    };
    // A user without USER_CONFIG creates nobody.
    let refused = create(caller_of(&app, &plain).await, new_user("by_plain", false)).await;
    assert!(matches!(refused, Err(Error::Denied)), "{:?}", refused.err());
    // A manager creates no superuser, and the users they do create are theirs, whatever
    // manager they name.
    let refused = create(caller_of(&app, &manager).await, new_user("wants_su", true)).await;
    assert!(matches!(refused, Err(Error::Denied)), "{:?}", refused.err());
    let mut named = new_user("managed", false);
    named.manager = Some(plain.user_id);
    let made = create(caller_of(&app, &manager).await, named)
        .await
        .expect("within the quota");
    assert_eq!(made.user.manager, Some(manager.user_id));
    // The quota of one is used up.
    let refused = create(caller_of(&app, &manager).await, new_user("second", false)).await;
    assert!(matches!(refused, Err(Error::Denied)), "{:?}", refused.err());
    // A superuser's manager must exist; the error names the field.
    let root = app.user("root", STRONG, true).await;
    let mut orphan = new_user("orphan", false);
    orphan.manager = Some(99_999);
    let refused = create(caller_of(&app, &root).await, orphan).await;
    assert_eq!(refused.err().and_then(|e| e.field()), Some("manager"));
    let names: Vec<String> = user_entity::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    for never in ["by_plain", "wants_su", "second", "orphan"] {
        assert!(!names.contains(&never.to_string()), "{never} was created");
    }
}

#[tokio::test]
async fn a_reset_and_a_key_check_the_caller_inside_the_domain() {
    let app = spawn_app().await;
    let plain = app.user("plain", STRONG, false).await;
    let other = app.user("other", STRONG, false).await;
    let caller = caller_of(&app, &plain).await;
    let reset = reset_password(
        &app.db,
        &app.state.hasher,
        &app.state.config.policy,
        &Actor::user(&plain, "127.0.0.1".to_string()),
        &caller,
        &other,
        ResetRequest {
            password: None.into(),
            options: ResetOptions::default(),
        },
    )
    .await;
    assert!(matches!(reset, Err(Error::Denied)), "{:?}", reset.err());
    let unchanged = app.find("other").await;
    assert_eq!(unchanged.password, other.password);
    assert!(!unchanged.require_password_change);
    // A key for another user: refused, none stored.
    let key = api_keys::create(
        &app.db,
        &Actor::user(&plain, "127.0.0.1".to_string()),
        &caller,
        &other,
        "sneaky",
        KeyScope {
            full_access: false,
            permissions: Vec::new(),
        },
    )
    .await;
    assert!(matches!(key, Err(Error::Denied)), "{:?}", key.err());
    assert!(
        api_keys::list(&app.db, other.user_id)
            .await
            .unwrap()
            .is_empty()
    );
    // The operator at the console may reset anyone.
    let done = reset_password(
        &app.db,
        &app.state.hasher,
        &app.state.config.policy,
        &Actor::cli(),
        &Caller::operator(),
        &other,
        ResetRequest {
            password: None.into(),
            options: ResetOptions::default(),
        },
    )
    .await
    .expect("the operator resets");
    assert!(done.generated.is_some());
}
