//! The administrator's overview (SPEC §18): every card's number and the users table it links
//! to name the same users, created on purpose in each state; a `USER_CONFIG` manager sees
//! only their users in every number and filter; the chart's days are UTC days, empty ones
//! included; the users table's filters combine with search and paging and stay in the URL.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use passgate::accounts::audit::{self, Actor, action};
use passgate::accounts::clock;
use passgate::accounts::credentials::ResetOptions;
use passgate::accounts::overview::{self, CHART_DAYS, UserStatus};
use passgate::accounts::permissions::Caller;
use passgate::accounts::reset_links::{self, LinkOptions};
use passgate::accounts::users::{self, UserFilter};
use passgate::config::MfaPolicy;
use passgate::entities::{
    audit_log, passkeys, reset_links as link_entity, totp_devices, users as user_entity,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::{Duration, PrimitiveDateTime};

use crate::helpers::*;

// --- setting users into states -------------------------------------------------------------

/// Sets `name`'s temporary-password columns as a reset would leave them.
async fn temp_password(
    app: &TestApp,
    name: &str,
    require_change: bool,
    expires: Option<PrimitiveDateTime>,
) {
    let user = app.find(name).await;
    let mut active: user_entity::ActiveModel = user.into();
    active.require_password_change = Set(require_change);
    active.password_expires = Set(expires);
    active.update(&app.db).await.expect("update");
}

async fn set_user(app: &TestApp, name: &str, change: impl FnOnce(&mut user_entity::ActiveModel)) {
    let user = app.find(name).await;
    let mut active: user_entity::ActiveModel = user.into();
    change(&mut active);
    active.update(&app.db).await.expect("update");
}

async fn add_totp(app: &TestApp, name: &str) {
    let user = app.find(name).await;
    totp_devices::ActiveModel {
        user_id: Set(user.user_id),
        name: Set("phone".into()),
        secret: Set("sealed".into()),
        last_step: Set(0),
        created: Set(clock::now()),
        last_used: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("totp device");
}

async fn add_passkey(app: &TestApp, name: &str) {
    let user = app.find(name).await;
    passkeys::ActiveModel {
        user_id: Set(user.user_id),
        credential_id: Set(format!("cred-{name}")),
        name: Set("key".into()),
        credential: Set("{}".into()),
        created: Set(clock::now()),
        last_used: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("passkey");
}

/// A live reset link for `name`, made as an administrator makes one.
async fn live_link(app: &TestApp, name: &str) {
    let user = app.find(name).await;
    reset_links::create(
        &app.db,
        &Actor::cli(),
        &Caller::operator(),
        &user,
        LinkOptions::checked(24, false, false).expect("options"),
    )
    .await
    .expect("link");
}

/// Five wrong passwords from different addresses: the username's bucket locks (SPEC §3a).
async fn lock_out(app: &TestApp, name: &str) {
    for i in 0..5 {
        let page = app
            .client_from(&format!("10.9.0.{i}:1"))
            .login(name, "Wrong-Guess-Number-1")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let page = app.client_from("10.9.1.1:1").login(name, STRONG).await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{name} is locked"
    );
}

/// An audit entry at a chosen time, as the database stores any other (the rollup's trigger
/// sees it like every insert).
async fn audit_at(
    app: &TestApp,
    created: PrimitiveDateTime,
    what: &str,
    target: Option<&user_entity::Model>,
    detail: &str,
    app_id: Option<i32>,
) {
    audit_log::ActiveModel {
        created: Set(created),
        actor_id: Set(None),
        actor_name: Set(Some("test".into())),
        target_id: Set(target.map(|u| u.user_id)),
        target_name: Set(target.map(|u| u.username.clone())),
        action: Set(what.into()),
        detail: Set(detail.into()),
        source_ip: Set("10.0.0.1".into()),
        app_id: Set(app_id),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("audit entry");
}

/// The users of the fixture, each put into its states on purpose; `edge` is how far the
/// expiry cases sit from the 24 h and the now boundaries (zero: exactly on them, for a test
/// that holds the clock; an hour for one through the pages, which read the clock later).
async fn fixture(app: &TestApp, now: PrimitiveDateTime, edge: Duration) {
    for name in [
        "pending_u",
        "edge_in",
        "edge_out",
        "exp_now",
        "expired_u",
        "locked_u",
        "link_u",
        "link_old",
        "link_gone",
        "mfa_req",
        "mfa_req_has",
        "totp_u",
        "passkey_u",
        "both_u",
        "disabled_u",
        "disabled_req",
        "seen_u",
    ] {
        app.user(name, STRONG, false).await;
    }
    temp_password(app, "pending_u", true, None).await;
    // Exactly 24 h ahead is inside "expires within 24 h", a second later is not.
    temp_password(app, "edge_in", true, Some(now + Duration::hours(24) - edge)).await;
    temp_password(
        app,
        "edge_out",
        true,
        Some(now + Duration::hours(24) + Duration::seconds(1) + edge),
    )
    .await;
    // Expiring at this very moment is expired, not pending.
    temp_password(app, "exp_now", true, Some(now - edge)).await;
    temp_password(app, "expired_u", false, Some(now - Duration::hours(30))).await;
    lock_out(app, "locked_u").await;
    live_link(app, "link_u").await;
    // An expired link and a revoked one are no live links.
    live_link(app, "link_old").await;
    live_link(app, "link_gone").await;
    let old = app.find("link_old").await;
    link_entity::Entity::update_many()
        .col_expr(
            link_entity::Column::Expires,
            sea_orm::sea_query::Expr::value(now - Duration::minutes(1)),
        )
        .filter(link_entity::Column::UserId.eq(old.user_id))
        .exec(&app.db)
        .await
        .unwrap();
    let gone = app.find("link_gone").await;
    reset_links::revoke(&app.db, &Actor::cli(), &Caller::operator(), &gone)
        .await
        .expect("revoke");
    set_user(app, "mfa_req", |u| u.require_mfa = Set(true)).await;
    set_user(app, "mfa_req_has", |u| u.require_mfa = Set(true)).await;
    add_totp(app, "mfa_req_has").await;
    add_totp(app, "totp_u").await;
    add_passkey(app, "passkey_u").await;
    add_totp(app, "both_u").await;
    add_passkey(app, "both_u").await;
    set_user(app, "disabled_u", |u| u.enabled = Set(false)).await;
    set_user(app, "disabled_req", |u| {
        u.enabled = Set(false);
        u.require_mfa = Set(true);
    })
    .await;
    app.client()
        .login("seen_u", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
}

/// Who is in each state after [`fixture`], for the superuser `admin` (who signed in, so is
/// not *never*, and has no factor); `policy` decides who must have a second factor.
fn expected(policy: MfaPolicy) -> BTreeMap<UserStatus, BTreeSet<&'static str>> {
    let without_factor = [
        "admin",
        "pending_u",
        "edge_in",
        "edge_out",
        "exp_now",
        "expired_u",
        "locked_u",
        "link_u",
        "link_old",
        "link_gone",
        "mfa_req",
        "seen_u",
    ];
    let never: Vec<&str> = without_factor
        .iter()
        .chain(&[
            "mfa_req_has",
            "totp_u",
            "passkey_u",
            "both_u",
            "disabled_u",
            "disabled_req",
        ])
        .copied()
        .filter(|n| !["admin", "seen_u"].contains(n))
        .collect();
    let mfa_missing: Vec<&str> = match policy {
        MfaPolicy::None => vec!["mfa_req"],
        MfaPolicy::Superusers => vec!["mfa_req", "admin"],
        MfaPolicy::All => without_factor.to_vec(),
    };
    let set = |names: &[&'static str]| names.iter().copied().collect::<BTreeSet<_>>();
    BTreeMap::from([
        (
            UserStatus::Pending,
            set(&["pending_u", "edge_in", "edge_out"]),
        ),
        (UserStatus::Expiring, set(&["edge_in"])),
        (UserStatus::Expired, set(&["exp_now", "expired_u"])),
        (UserStatus::Locked, set(&["locked_u"])),
        (UserStatus::Link, set(&["link_u"])),
        (UserStatus::MfaMissing, mfa_missing.into_iter().collect()),
        (UserStatus::NoMfa, set(&without_factor)),
        (UserStatus::Disabled, set(&["disabled_u", "disabled_req"])),
        (UserStatus::Never, never.into_iter().collect()),
        (UserStatus::Totp, set(&["mfa_req_has", "totp_u", "both_u"])),
        (UserStatus::Passkey, set(&["passkey_u", "both_u"])),
    ])
}

async fn admin(app: &TestApp) -> user_entity::Model {
    let admin = app.user("admin", STRONG, true).await;
    app.client()
        .login("admin", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    admin
}

fn caller_of(user: &user_entity::Model, user_config: Option<i32>) -> Caller {
    Caller {
        user_id: user.user_id,
        superuser: user.superuser,
        user_config,
        roles_config: None,
        key: None,
        proved_temporary: false,
    }
}

/// The usernames the users table lists for `caller` in `status` (every page).
async fn filtered(
    app: &TestApp,
    caller: &Caller,
    status: UserStatus,
    now: PrimitiveDateTime,
    policy: MfaPolicy,
) -> BTreeSet<String> {
    let filter = UserFilter {
        status: Some(status.at(now, policy)),
        ..Default::default()
    };
    let page = users::search_visible(&app.db, caller, &filter, 1, 1_000)
        .await
        .expect("listing");
    assert_eq!(page.total, page.users.len() as u64);
    page.users.into_iter().map(|u| u.username).collect()
}

fn names(set: &BTreeSet<&'static str>) -> BTreeSet<String> {
    set.iter().map(|n| n.to_string()).collect()
}

// --- every card is its filter ----------------------------------------------------------

#[tokio::test]
async fn each_count_is_the_users_its_filter_lists_on_the_edges_of_every_state() {
    for policy in [MfaPolicy::None, MfaPolicy::Superusers, MfaPolicy::All] {
        let app = spawn_app().await;
        let admin = admin(&app).await;
        let now = clock::now();
        fixture(&app, now, Duration::ZERO).await;
        let caller = caller_of(&admin, None);
        let counts = overview::counts(&app.db, &caller, policy, now)
            .await
            .expect("counts");
        for (status, who) in expected(policy) {
            let listed = filtered(&app, &caller, status, now, policy).await;
            assert_eq!(
                listed,
                names(&who),
                "{policy:?} {status:?}: the filter's users"
            );
            assert_eq!(
                counts.of(status),
                who.len() as u64,
                "{policy:?} {status:?}: the count"
            );
        }
        // 18 users (admin and the fixture's 17), 2 disabled.
        assert_eq!(counts.enabled, 16, "{policy:?}");
    }
}

/// The numbers of the cards on a page, by the `?status=` their links carry.
fn cards_in(body: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for piece in body.split("href=\"/panel/panel_config?status=").skip(1) {
        let Some((status, rest)) = piece.split_once('"') else {
            continue;
        };
        let Some(number) = rest
            .split_once("<span class=\"stat-number\">")
            .and_then(|(_, after)| after.split_once("</span>"))
            .map(|(n, _)| n)
        else {
            continue;
        };
        // The coverage links to the same filters with its own markup: cards come first.
        if let Ok(n) = number.replace([',', '.'], "").parse() {
            out.entry(status.to_string()).or_insert(n);
        }
    }
    out
}

/// The usernames of the users table's rows on a page.
fn rows_in(body: &str) -> BTreeSet<String> {
    body.split("<tr id=\"user-row-")
        .skip(1)
        .filter_map(|row| {
            row.split_once("<th scope=\"row\">")
                .and_then(|(_, rest)| rest.split_once("</th>"))
                .map(|(name, _)| name.to_string())
        })
        .collect()
}

#[tokio::test]
async fn every_card_on_the_dashboard_links_to_exactly_its_users() {
    let app = spawn_app().await;
    admin(&app).await;
    let now = clock::now();
    // An hour away from each edge: the page reads the clock a little later than this test.
    fixture(&app, now, Duration::hours(1)).await;
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4000").await;
    let page = browser.get("/panel/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    let cards = cards_in(&page.body);
    let spec = [
        "pending",
        "expiring",
        "expired",
        "locked",
        "link",
        "mfa_missing",
        "no_mfa",
        "disabled",
        "never",
    ];
    assert_eq!(
        cards.keys().filter(|k| spec.contains(&k.as_str())).count(),
        spec.len(),
        "a card for every state of SPEC §18: {cards:?}"
    );
    for (status, who) in expected(MfaPolicy::None) {
        let name = status.as_str();
        if !spec.contains(&name) {
            continue;
        }
        assert_eq!(cards[name], who.len() as u64, "the {name} card");
        let table = browser
            .get(&format!("/panel/panel_config?status={name}"))
            .await;
        assert_eq!(table.status, StatusCode::OK, "{name}");
        assert_eq!(rows_in(&table.body), names(&who), "the {name} link");
        assert!(
            table.body.contains(&format!("{} users", who.len())),
            "the {name} table says how many"
        );
    }
    // The coverage: of the 16 enabled users, 3 with TOTP, 2 with a passkey, 12 with none.
    assert!(page.body.contains("Of 16 enabled users"), "{}", page.body);
    for (status, n) in [("totp", 3), ("passkey", 2), ("no_mfa", 12)] {
        let link = format!("href=\"/panel/panel_config?status={status}\"");
        assert!(page.body.contains(&link), "coverage links to {status}");
        let table = browser
            .get(&format!("/panel/panel_config?status={status}"))
            .await;
        assert_eq!(rows_in(&table.body).len(), n, "coverage {status}");
    }
}

#[tokio::test]
async fn a_password_change_ends_pending_and_expiring_and_an_unlock_ends_locked() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    app.user("carol", STRONG, false).await;
    app.reset(
        "carol",
        STRONG_2,
        ResetOptions {
            expires_hours: 5,
            ..ResetOptions::default()
        },
    )
    .await;
    let caller = caller_of(&admin, None);
    let count = |status: UserStatus| {
        let app = &app;
        let caller = caller.clone();
        async move {
            overview::counts(&app.db, &caller, MfaPolicy::None, clock::now())
                .await
                .unwrap()
                .of(status)
        }
    };
    assert_eq!(count(UserStatus::Pending).await, 1);
    assert_eq!(count(UserStatus::Expiring).await, 1);
    // The forced change on the sign-in page clears both.
    let mut browser = app.client();
    browser
        .login("carol", STRONG_2)
        .await
        .assert_redirect("/panel/change_password");
    browser.get("/panel/change_password").await;
    let changed = browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(count(UserStatus::Pending).await, 0);
    assert_eq!(count(UserStatus::Expiring).await, 0);

    lock_out(&app, "carol").await;
    assert_eq!(count(UserStatus::Locked).await, 1);
    // The operator's recovery lifts the lock: the card follows.
    passgate::auth::throttle::unlock_username(&app.db, &app.state.signing_key, "carol")
        .await
        .unwrap();
    assert_eq!(count(UserStatus::Locked).await, 0);
    // A wrong password typed for a name that is no user locks its bucket, but no user.
    for i in 0..6 {
        app.client_from(&format!("10.8.0.{i}:1"))
            .login("nobody_here", "Wrong-Guess-Number-1")
            .await;
    }
    assert_eq!(count(UserStatus::Locked).await, 0);
}

// --- a manager sees their users only ------------------------------------------------------

#[tokio::test]
async fn a_manager_sees_only_their_users_in_every_number_chart_and_filter() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let boss = app.user_with("boss", STRONG, false, None, Some(-1)).await;
    app.user_with("mine_a", STRONG, false, Some(boss.user_id), None)
        .await;
    app.user_with("mine_b", STRONG, false, Some(boss.user_id), None)
        .await;
    app.user("other_a", STRONG, false).await;
    app.user("other_b", STRONG, false).await;
    // Signed in before boss gets an authenticator app (the page test below needs no code).
    let mut browser = signed_in_browser(&app, "boss", STRONG, "127.0.0.1:4100").await;
    let now = clock::now();
    // The same states on both sides: expired, pending, disabled, TOTP, a live link, locked.
    for (mine, other) in [("mine_a", "other_a"), ("mine_b", "other_b")] {
        temp_password(&app, mine, true, None).await;
        temp_password(&app, other, true, None).await;
        let _ = (mine, other);
    }
    temp_password(&app, "mine_a", true, Some(now - Duration::hours(1))).await;
    temp_password(&app, "other_a", true, Some(now - Duration::hours(1))).await;
    set_user(&app, "mine_b", |u| u.enabled = Set(false)).await;
    set_user(&app, "other_b", |u| u.enabled = Set(false)).await;
    add_totp(&app, "boss").await;
    add_totp(&app, "other_a").await;
    live_link(&app, "mine_a").await;
    live_link(&app, "other_a").await;
    lock_out(&app, "mine_b").await;
    lock_out(&app, "other_b").await;
    let mine = ["boss", "mine_a", "mine_b"];

    let boss_caller = caller_of(&boss, Some(-1));
    let admin_caller = caller_of(&admin, None);
    let boss_counts = overview::counts(&app.db, &boss_caller, MfaPolicy::None, now)
        .await
        .unwrap();
    let admin_counts = overview::counts(&app.db, &admin_caller, MfaPolicy::None, now)
        .await
        .unwrap();
    for status in UserStatus::ALL {
        let listed = filtered(&app, &boss_caller, status, now, MfaPolicy::None).await;
        assert!(
            listed.iter().all(|n| mine.contains(&n.as_str())),
            "{status:?}: the manager's filter lists only their users: {listed:?}"
        );
        assert_eq!(boss_counts.of(status), listed.len() as u64, "{status:?}");
        let everyone = filtered(&app, &admin_caller, status, now, MfaPolicy::None).await;
        assert_eq!(admin_counts.of(status), everyone.len() as u64, "{status:?}");
    }
    for (status, n) in [
        (UserStatus::Expired, 1),
        (UserStatus::Disabled, 1),
        (UserStatus::Link, 1),
        (UserStatus::Locked, 1),
        (UserStatus::Totp, 1),
    ] {
        assert_eq!(boss_counts.of(status), n, "{status:?} for the manager");
        assert_eq!(
            admin_counts.of(status),
            2 * n,
            "{status:?} for the superuser"
        );
    }
    assert_eq!(boss_counts.enabled, 2, "boss and mine_a");

    // The chart: sign-ins and failures of the manager's users only (the lock-outs above,
    // failures of a name that is no user, the admin's sign-in), and the resets of their users.
    app.client().login("mine_a", STRONG).await;
    app.client().login("other_a", STRONG).await;
    app.client().login("no_such_user", STRONG).await;
    let today = now.date();
    let boss_days = overview::last_days(&app.db, &boss_caller, today)
        .await
        .unwrap();
    let admin_days = overview::last_days(&app.db, &admin_caller, today)
        .await
        .unwrap();
    let sum = |days: &[overview::Day]| {
        days.iter().fold((0, 0, 0), |(a, b, c), d| {
            (a + d.signed_in, b + d.failed, c + d.resets)
        })
    };
    // mine_a signed in (expired: refused, a failure) and mine_b failed five times.
    let (_, boss_failed, _) = sum(&boss_days);
    let (_, admin_failed, _) = sum(&admin_days);
    assert_eq!(boss_failed, 5 + 1, "the manager's users' failures");
    assert_eq!(
        admin_failed,
        2 * (5 + 1) + 1,
        "and for everyone, the unknown name too"
    );

    // Through the pages: the manager's dashboard and links.
    let page = browser.get("/panel/dashboard").await;
    let cards = cards_in(&page.body);
    assert_eq!(cards["expired"], 1);
    assert_eq!(cards["locked"], 1);
    assert_eq!(cards["disabled"], 1);
    assert!(page.body.contains("You and the users you manage"));
    for status in ["expired", "locked", "disabled", "link", "never", "no_mfa"] {
        let table = browser
            .get(&format!("/panel/panel_config?status={status}"))
            .await;
        let rows = rows_in(&table.body);
        assert_eq!(rows.len() as u64, cards[status], "{status}");
        assert!(
            rows.iter().all(|n| mine.contains(&n.as_str())),
            "{status}: {rows:?}"
        );
    }
}

#[tokio::test]
async fn a_user_without_rights_keeps_the_greeting_and_sees_no_numbers() {
    let app = spawn_app().await;
    admin(&app).await;
    app.user("plain", STRONG, false).await;
    app.user("expired_x", STRONG, false).await;
    temp_password(
        &app,
        "expired_x",
        true,
        Some(clock::now() - Duration::hours(1)),
    )
    .await;
    let mut browser = signed_in_browser(&app, "plain", STRONG, "127.0.0.1:4200").await;
    let page = browser.get("/panel/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Welcome, plain"));
    assert!(!page.body.contains("stat-number"), "no cards");
    assert!(!page.body.contains("<svg class=\"chart\""), "no chart");
    let plain = app.find("plain").await;
    let refused = overview::overview(
        &app.db,
        &caller_of(&plain, None),
        MfaPolicy::None,
        clock::now(),
    )
    .await;
    assert!(matches!(refused, Err(passgate::accounts::Error::Denied)));
    // Asking the users table for expired users names nobody else.
    let table = browser.get("/panel/panel_config?status=expired").await;
    assert!(!rows_in(&table.body).contains("expired_x"));
}

// --- the chart ---------------------------------------------------------------------------

#[tokio::test]
async fn days_are_utc_days_and_a_day_without_events_is_drawn_as_zero() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let boss = app.user_with("boss", STRONG, false, None, Some(-1)).await;
    let dora = app
        .user_with("dora", STRONG, false, Some(boss.user_id), None)
        .await;
    let today = clock::now().date();
    let midnight = today.midnight();
    // One second before and at midnight UTC: two days. Nothing the day before those.
    let yesterday = midnight - Duration::seconds(1);
    let three_days_ago = midnight - Duration::days(2) - Duration::seconds(1);
    audit_at(&app, yesterday, action::LOGIN, Some(&dora), "", None).await;
    audit_at(&app, midnight, action::LOGIN, Some(&dora), "", None).await;
    audit_at(
        &app,
        midnight,
        action::LOGIN_FAILED,
        Some(&dora),
        "incorrect credentials",
        None,
    )
    .await;
    audit_at(
        &app,
        three_days_ago,
        action::PASSWORD_RESET,
        Some(&dora),
        "",
        None,
    )
    .await;
    // Older than the chart: not shown.
    audit_at(
        &app,
        midnight - Duration::days(CHART_DAYS),
        action::LOGIN,
        Some(&dora),
        "",
        None,
    )
    .await;
    // The admin signed in today too (in `admin()`): only the superuser's chart counts it.
    for (caller, today_ok) in [
        (caller_of(&admin, None), 2),
        (caller_of(&boss, Some(-1)), 1),
    ] {
        let days = overview::last_days(&app.db, &caller, today).await.unwrap();
        assert_eq!(days.len() as i64, CHART_DAYS);
        assert_eq!(
            days.first().unwrap().date,
            today - Duration::days(CHART_DAYS - 1)
        );
        let at = |back: i64| days[days.len() - 1 - back as usize];
        assert_eq!(
            (at(0).signed_in, at(0).failed, at(0).resets),
            (today_ok, 1, 0)
        );
        assert_eq!((at(1).signed_in, at(1).failed, at(1).resets), (1, 0, 0));
        assert_eq!(
            (at(2).signed_in, at(2).failed, at(2).resets),
            (0, 0, 0),
            "an empty day"
        );
        assert_eq!((at(3).signed_in, at(3).failed, at(3).resets), (0, 0, 1));
        let total: u64 = days.iter().map(|d| d.signed_in + d.failed + d.resets).sum();
        assert_eq!(
            total,
            today_ok + 1 + 1 + 1,
            "nothing from before the 30 days"
        );
    }
    // The page states the day boundaries, draws the chart and gives the same numbers.
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4300").await;
    let page = browser.get("/panel/dashboard").await;
    assert!(page.body.contains("Days run from 00:00 to 24:00 UTC"));
    assert!(page.body.contains("<svg class=\"chart\""));
    assert!(
        page.body
            .contains("<title id=\"chart-sign-ins-title\">Sign-ins per day</title>")
    );
    let row = |date: time::Date| {
        let iso = format!("{date}");
        let start = page
            .body
            .find(&format!("<time datetime=\"{iso}\">"))
            .expect(&iso);
        let end = start + page.body[start..].find("</tr>").unwrap();
        page.body[start..end]
            .split("<td>")
            .skip(1)
            .map(|c| c.split('<').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row(today - Duration::days(2)),
        ["0", "0", "0"],
        "the empty day's row"
    );
    assert_eq!(row(today - Duration::days(3)), ["0", "0", "1"]);
    assert_eq!(row(today - Duration::days(1)), ["1", "0", "0"]);
    // German: the same numbers, the boundaries stated in German.
    set_user(&app, "admin", |u| u.lang = Set("de".into())).await;
    let page = browser.get("/panel/dashboard").await;
    assert!(page.body.contains("Tage laufen von 00:00 bis 24:00 UTC"));
    assert!(page.body.contains("Anmeldungen pro Tag"));
}

#[tokio::test]
async fn the_chart_counts_sign_ins_failures_and_resets_as_they_happen() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let boss = app.user_with("boss", STRONG, false, None, Some(-1)).await;
    app.user_with("erin", STRONG, false, Some(boss.user_id), None)
        .await;
    app.user_with("fred", STRONG, false, Some(boss.user_id), None)
        .await;
    let today = clock::now().date();
    let before = overview::last_days(&app.db, &caller_of(&admin, None), today)
        .await
        .unwrap();
    // A sign-in, a wrong password, a temporary password, a reset link — and a set-up link for
    // a new user, which is onboarding, not a reset.
    app.client()
        .login("erin", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    app.client().login("fred", "Wrong-Guess-Number-1").await;
    app.reset("fred", STRONG_2, ResetOptions::default()).await;
    live_link(&app, "erin").await;
    let mut browser = signed_in_browser(&app, "boss", STRONG, "127.0.0.1:4400").await;
    let made = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "gina"),
                ("setup", "link"),
                ("credential", "link"),
                ("expires_hours", "24"),
                ("lang", "en"),
            ],
        )
        .await;
    let _ = made;
    let after = overview::last_days(&app.db, &caller_of(&admin, None), today)
        .await
        .unwrap();
    let (b, a) = (before.last().unwrap(), after.last().unwrap());
    // boss signed in as well (signed_in_browser).
    assert_eq!(a.signed_in - b.signed_in, 2, "erin and boss");
    assert_eq!(a.failed - b.failed, 1);
    assert_eq!(
        a.resets - b.resets,
        2,
        "the temporary password and the reset link"
    );
    // The manager's chart counts the same way from the audit log itself: their users' events.
    let boss_days = overview::last_days(&app.db, &caller_of(&boss, Some(-1)), today)
        .await
        .unwrap();
    let mine = boss_days.last().unwrap();
    assert_eq!(
        (mine.signed_in, mine.failed, mine.resets),
        (2, 1, 2),
        "the manager's count classifies as the trigger does"
    );
}

// --- applications --------------------------------------------------------------------------

#[tokio::test]
async fn applications_show_their_users_of_the_last_seven_days_and_only_when_there_are_any() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4500").await;
    let page = browser.get("/panel/dashboard").await;
    assert!(
        !page.body.contains("overview-apps"),
        "no applications, no section"
    );

    let boss = app.user_with("boss", STRONG, false, None, Some(-1)).await;
    let hana = app
        .user_with("hana", STRONG, false, Some(boss.user_id), None)
        .await;
    let ivan = app.user("ivan", STRONG, false).await;
    let wiki = passgate::accounts::apps::create(
        &app.db,
        &app.state.apps,
        &Actor::cli(),
        &Caller::operator(),
        passgate::accounts::apps::AppFields {
            name: "Team Wiki".into(),
            description: String::new(),
            hosts: vec!["wiki.example.org".into()],
            public_paths: vec![],
            allowed_roles: vec![],
            policy: passgate::accounts::apps::Policy::OneFactor,
            oidc: None,
        },
    )
    .await
    .expect("app")
    .app;
    let now = clock::now();
    // Hana twice (one user), Ivan once; a sign-in eight days ago does not count.
    for (user, when) in [
        (&hana, now - Duration::hours(1)),
        (&hana, now - Duration::days(3)),
        (&ivan, now - Duration::days(6)),
        (&admin, now - Duration::days(8)),
    ] {
        audit_at(
            &app,
            when,
            action::SSO_ISSUED,
            Some(user),
            "app",
            Some(wiki.app_id),
        )
        .await;
    }
    // Through the domain's own recording too.
    audit::record_app_sign_in(
        &app.db,
        &Actor::user(&boss, "10.0.0.1"),
        (boss.user_id, &boss.username),
        wiki.app_id,
        audit::AppSignIn::Oidc,
        String::new(),
    )
    .await
    .unwrap();
    let used = overview::apps_used(
        &app.db,
        &caller_of(&admin, None),
        now + Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(used.len(), 1);
    assert_eq!((used[0].name.as_str(), used[0].users), ("Team Wiki", 3));
    let theirs = overview::apps_used(
        &app.db,
        &caller_of(&boss, Some(-1)),
        now + Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(theirs[0].users, 2, "the manager counts hana and themselves");

    let page = browser.get("/panel/dashboard").await;
    assert!(page.body.contains("overview-apps"));
    assert!(page.body.contains("<th scope=\"row\">Team Wiki</th>"));
    // Deleting a user takes their sign-ins with them.
    passgate::accounts::delete::delete_user(&app.db, &Actor::cli(), &Caller::operator(), &ivan)
        .await
        .expect("delete");
    let used = overview::apps_used(
        &app.db,
        &caller_of(&admin, None),
        now + Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(used[0].users, 2);
}

// --- the users table's filters ---------------------------------------------------------------

#[tokio::test]
async fn filters_combine_with_search_and_paging_and_stay_in_the_url() {
    let app = spawn_app().await;
    admin(&app).await;
    let hash = app.find("admin").await.password;
    let now = clock::now();
    // 55 expired users (two pages of 50), and 5 others matching the same search.
    for i in 0..60 {
        user_entity::ActiveModel {
            username: Set(format!("bulk_{i:02}")),
            password: Set(hash.clone()),
            enabled: Set(true),
            superuser: Set(false),
            lang: Set("en".into()),
            created: Set(now),
            last_update: Set(now),
            last_ip: Set(String::new()),
            security_stamp: Set(users::new_stamp()),
            require_password_change: Set(i < 55),
            password_expires: Set((i < 55).then(|| now - Duration::hours(2))),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("user");
    }
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4600").await;
    let first = browser.get("/panel/panel_config?status=expired").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("55 users"));
    assert_eq!(rows_in(&first.body).len(), 50);
    // The pager keeps the filter; so does the search form (its select).
    let next = "/panel/panel_config?q=&amp;page=2&amp;status=expired";
    assert!(first.body.contains(next), "{}", first.body);
    assert!(first.body.contains("<option value=\"expired\" selected>"));
    let second = browser.get(&next.replace("&amp;", "&")).await;
    assert_eq!(rows_in(&second.body).len(), 5);
    assert!(
        rows_in(&second.body)
            .iter()
            .all(|n| n.starts_with("bulk_") && n < &"bulk_55".to_string())
    );
    // With a search: bulk_5x are 50..59, of which 50..54 are expired.
    let searched = browser
        .get("/panel/panel_config?status=expired&q=bulk_5")
        .await;
    assert_eq!(
        rows_in(&searched.body),
        ["bulk_50", "bulk_51", "bulk_52", "bulk_53", "bulk_54"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    // htmx swaps the table only, with the same rows and links.
    let fragment = browser
        .hx_get("/panel/panel_config?status=expired&q=bulk_5")
        .await;
    assert!(!fragment.body.contains("<html"));
    assert_eq!(rows_in(&fragment.body), rows_in(&searched.body));
    // The note of the filter says what is shown and how to see everyone.
    assert!(
        searched
            .body
            .contains("Only users: Temporary password expired.")
    );
    assert!(searched.body.contains("Show all users"));
}

#[tokio::test]
async fn an_unknown_filter_is_refused_and_lists_nobody() {
    let app = spawn_app().await;
    admin(&app).await;
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4700").await;
    for bad in ["everyone", "EXPIRED", "expired%20", "%3Cscript%3E"] {
        let page = browser
            .get(&format!("/panel/panel_config?status={bad}"))
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            page.body.contains("There is no user filter called"),
            "{bad}"
        );
        assert!(!page.body.contains("<script>"), "never echoed unescaped");
        assert!(rows_in(&page.body).is_empty(), "{bad}: no rows");
    }
}

#[tokio::test]
async fn bulk_actions_take_the_users_of_the_filtered_table() {
    let app = spawn_app().await;
    admin(&app).await;
    app.user("old_1", STRONG, false).await;
    app.user("old_2", STRONG, false).await;
    app.user("fresh", STRONG, false).await;
    for name in ["old_1", "old_2"] {
        temp_password(&app, name, false, Some(clock::now() - Duration::hours(3))).await;
    }
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4800").await;
    let table = browser.get("/panel/panel_config?status=expired").await;
    let boxes: Vec<String> = table
        .body
        .split("name=\"user\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    let mut ids = BTreeSet::new();
    for name in ["old_1", "old_2"] {
        ids.insert(app.find(name).await.user_id.to_string());
    }
    assert_eq!(boxes.iter().cloned().collect::<BTreeSet<_>>(), ids);
    let mut fields: Vec<(&str, &str)> = vec![("action", "require_change")];
    for id in &boxes {
        fields.push(("user", id));
    }
    let done = browser.post("/panel/users/bulk", &fields).await;
    let report = follow_result(&mut browser, done).await;
    assert!(report.body.contains("old_1") && report.body.contains("old_2"));
    assert!(!report.body.contains("fresh"));
    assert!(app.find("old_1").await.require_password_change);
    assert!(!app.find("fresh").await.require_password_change);
}

// --- roles (SPEC §14) ----------------------------------------------------------------------

#[tokio::test]
async fn a_role_that_requires_a_factor_counts_its_members_and_the_role_filter_combines() {
    use passgate::entities::{roles, user_roles};
    let app = spawn_app().await;
    let admin = admin(&app).await;
    for name in ["ops_a", "ops_b", "ops_c", "dev_a"] {
        app.user(name, STRONG, false).await;
    }
    add_totp(&app, "ops_b").await;
    temp_password(&app, "ops_c", true, Some(clock::now() - Duration::hours(1))).await;
    let now = clock::now();
    let ops = roles::ActiveModel {
        role_name: Set("ops".into()),
        created: Set(now),
        last_update: Set(now),
        manager: Set(None),
        mfa_required: Set(true),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("role");
    for name in ["ops_a", "ops_b", "ops_c"] {
        user_roles::ActiveModel {
            user_id: Set(app.find(name).await.user_id),
            role_id: Set(ops.role_id),
        }
        .insert(&app.db)
        .await
        .expect("member");
    }
    let caller = caller_of(&admin, None);
    // Members without a factor must have one: they are *required but missing*; a member with
    // one and a non-member are not.
    let missing = filtered(&app, &caller, UserStatus::MfaMissing, now, MfaPolicy::None).await;
    assert_eq!(missing, names(&["ops_a", "ops_c"].into_iter().collect()));
    let counts = overview::counts(&app.db, &caller, MfaPolicy::None, now)
        .await
        .unwrap();
    assert_eq!(counts.of(UserStatus::MfaMissing), 2);
    // The role filter and the state filter together, with the search, in the URL.
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4900").await;
    let role = ops.role_id.to_string();
    let page = browser
        .get(&format!(
            "/panel/panel_config?role={role}&status=no_mfa&q=ops"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        rows_in(&page.body),
        ["ops_a", "ops_c"].map(String::from).into_iter().collect()
    );
    let expired = browser
        .get(&format!("/panel/panel_config?role={role}&status=expired"))
        .await;
    assert_eq!(
        rows_in(&expired.body),
        ["ops_c".to_string()].into_iter().collect()
    );
    // Clearing the state keeps the role.
    assert!(
        expired
            .body
            .contains(&format!("href=\"/panel/panel_config?role={role}\"")),
        "{}",
        expired.body
    );
}
