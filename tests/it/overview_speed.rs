//! The overview read from what the database keeps (SPEC §18, bounded statements): a
//! manager's chart, read from `viewer_activity_days`, always equals the audit entries about
//! the users they see now — through new events, a change of manager, a user leaving their
//! manager and a deletion; and the users table's *locked* badge (SPEC §3a) in both languages.

use std::collections::BTreeMap;

use passgate::accounts::audit::action;
use passgate::accounts::clock;
use passgate::accounts::overview::{self, CHART_DAYS};
use passgate::accounts::permissions::Caller;
use passgate::entities::{audit_log, users as user_entity};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use time::{Duration, PrimitiveDateTime};

use crate::helpers::*;

fn caller_of(user: &user_entity::Model) -> Caller {
    Caller {
        user_id: user.user_id,
        superuser: user.superuser,
        user_config: Some(-1),
        roles_config: None,
        key: None,
        proved_temporary: false,
    }
}

async fn audit_at(
    app: &TestApp,
    created: PrimitiveDateTime,
    what: &str,
    target: i32,
    detail: &str,
) {
    audit_log::ActiveModel {
        created: Set(created),
        actor_id: Set(None),
        actor_name: Set(Some("test".into())),
        target_id: Set(Some(target)),
        target_name: Set(None),
        action: Set(what.into()),
        detail: Set(detail.into()),
        source_ip: Set("10.0.0.1".into()),
        app_id: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("audit entry");
}

/// (signed in, failed, resets) per day: what the chart draws, without the empty days.
type Totals = BTreeMap<time::Date, (u64, u64, u64)>;

async fn chart_of(app: &TestApp, viewer: &user_entity::Model) -> Totals {
    let days = overview::last_days(&app.db, &caller_of(viewer), clock::now().date())
        .await
        .expect("chart");
    assert_eq!(days.len() as i64, CHART_DAYS);
    days.into_iter()
        .filter(|d| (d.signed_in, d.failed, d.resets) != (0, 0, 0))
        .map(|d| (d.date, (d.signed_in, d.failed, d.resets)))
        .collect()
}

/// The same numbers counted straight from the audit log: the entries of the last 30 UTC days
/// about the viewer and the users they manage now (the oracle the rollup must equal).
async fn counted_from_the_audit_log(app: &TestApp, viewer: &user_entity::Model) -> Totals {
    let today = clock::now().date();
    let first = today - Duration::days(CHART_DAYS - 1);
    let seen: Vec<i32> = user_entity::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.user_id == viewer.user_id || u.manager == Some(viewer.user_id))
        .map(|u| u.user_id)
        .collect();
    let mut out = Totals::new();
    for entry in audit_log::Entity::find()
        .filter(audit_log::Column::TargetId.is_in(seen))
        .all(&app.db)
        .await
        .unwrap()
    {
        let day = entry.created.date();
        if day < first || day > today {
            continue;
        }
        let slot = out.entry(day).or_default();
        match entry.action.as_str() {
            action::LOGIN => slot.0 += 1,
            action::LOGIN_FAILED => slot.1 += 1,
            action::PASSWORD_RESET => slot.2 += 1,
            action::RESET_LINK_CREATED if entry.detail.starts_with("purpose=reset ") => slot.2 += 1,
            _ => {}
        }
    }
    out.retain(|_, v| *v != (0, 0, 0));
    out
}

async fn set_manager(app: &TestApp, name: &str, manager: Option<i32>) {
    let mut user = app.find(name).await.into_active_model();
    user.manager = Set(manager);
    user.update(&app.db).await.expect("manager changed");
}

#[tokio::test]
async fn a_managers_chart_is_the_audit_log_of_their_users_through_moves_and_deletions() {
    let app = spawn_app().await;
    let boss = app.user_with("boss", STRONG, false, None, Some(-1)).await;
    let other_boss = app
        .user_with("other_boss", STRONG, false, None, Some(-1))
        .await;
    let anna = app
        .user_with("anna", STRONG, false, Some(boss.user_id), None)
        .await;
    let ben = app
        .user_with("ben", STRONG, false, Some(boss.user_id), None)
        .await;
    let carl = app
        .user_with("carl", STRONG, false, Some(other_boss.user_id), None)
        .await;
    let now = clock::now();
    // Events on several days, about each of them, the managers too; one too old for the chart.
    for (days_ago, what, who, detail) in [
        (0, action::LOGIN, &anna, ""),
        (0, action::LOGIN, &anna, ""),
        (0, action::LOGIN_FAILED, &ben, "incorrect credentials"),
        (1, action::PASSWORD_RESET, &ben, "expires=never"),
        (
            2,
            action::RESET_LINK_CREATED,
            &anna,
            "purpose=reset expires=x",
        ),
        (
            2,
            action::RESET_LINK_CREATED,
            &anna,
            "purpose=setup expires=x",
        ),
        (3, action::LOGIN, &carl, ""),
        (3, action::LOGIN, &boss, ""),
        (5, action::LOGIN, &other_boss, ""),
        (29, action::LOGIN, &ben, ""),
        (30, action::LOGIN, &ben, ""),
        (4, action::USER_UPDATED, &ben, ""),
    ] {
        audit_at(
            &app,
            now - Duration::days(days_ago),
            what,
            who.user_id,
            detail,
        )
        .await;
    }
    let check = |step: &'static str| {
        let app = &app;
        let (boss, other_boss) = (boss.clone(), other_boss.clone());
        async move {
            for viewer in [&boss, &other_boss] {
                let chart = chart_of(app, viewer).await;
                assert_eq!(
                    chart,
                    counted_from_the_audit_log(app, viewer).await,
                    "{step}: the chart of {}",
                    viewer.username
                );
            }
        }
    };
    check("as written").await;
    let boss_chart = chart_of(&app, &boss).await;
    assert_eq!(
        boss_chart
            .values()
            .fold((0, 0, 0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2)),
        (4, 1, 2),
        "anna's two and ben's one sign-in (not the one 30 days ago), boss's own, ben's \
         failure, ben's reset and anna's reset link (not the set-up link): {boss_chart:?}"
    );

    // Ben moves to the other manager: his days go with him, new events follow him.
    set_manager(&app, "ben", Some(other_boss.user_id)).await;
    check("after a change of manager").await;
    audit_at(&app, now, action::LOGIN, ben.user_id, "").await;
    check("after a new event of the moved user").await;

    // Anna leaves her manager; carl is deleted; so is the other manager (ben keeps his rows).
    set_manager(&app, "anna", None).await;
    check("after a user left their manager").await;
    user_entity::Entity::delete_by_id(carl.user_id)
        .exec(&app.db)
        .await
        .unwrap();
    check("after a deletion").await;
    user_entity::Entity::delete_by_id(other_boss.user_id)
        .exec(&app.db)
        .await
        .unwrap();
    check("after the other manager's deletion").await;
    set_manager(&app, "ben", Some(boss.user_id)).await;
    check("after ben came back").await;
    assert_eq!(
        chart_of(&app, &boss).await,
        counted_from_the_audit_log(&app, &boss).await
    );
    assert!(
        !chart_of(&app, &boss).await.is_empty(),
        "ben's and boss's events"
    );

    // The days before any chart go with the background pruning; the chart stays the same.
    let before = chart_of(&app, &boss).await;
    let pruned = overview::prune_viewer_days(&app.db, clock::now().date())
        .await
        .unwrap();
    assert_eq!(
        pruned, 2,
        "ben's sign-in 30 days ago, in his own rows and in boss's"
    );
    assert_eq!(chart_of(&app, &boss).await, before);
}

#[tokio::test]
async fn a_locked_user_has_a_locked_badge_with_its_reason_in_english_and_german() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    app.user("carol", STRONG, false).await;
    app.user("dave", STRONG, false).await;
    for i in 0..5 {
        app.client_from(&format!("10.9.0.{i}:1"))
            .login("carol", "Wrong-Guess-Number-1")
            .await;
    }
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:4300").await;
    let row_of = |body: &str, name: &str| -> String {
        body.split("<tr id=\"user-row-")
            .find(|row| row.contains(&format!("<th scope=\"row\">{name}</th>")))
            .map(|row| row.split("</tr>").next().unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("a row for {name}"))
    };
    let page = browser.get("/panel/panel_config").await;
    let carol = row_of(&page.body, "carol");
    assert!(
        carol.contains("Locked · ") && carol.contains(" min"),
        "{carol}"
    );
    assert!(
        carol.contains("<span class=\"visually-hidden\"> (too many failed sign-ins; unlocks at "),
        "the badge's name says why: {carol}"
    );
    assert!(
        !row_of(&page.body, "dave").contains("Locked"),
        "dave is not"
    );
    // The filter of the overview's card lists the same user with the same badge.
    let locked = browser.get("/panel/panel_config?status=locked").await;
    assert!(row_of(&locked.body, "carol").contains("Locked ·"));

    // In German.
    let mut admin = app.find("admin").await.into_active_model();
    admin.lang = Set("de".into());
    admin.update(&app.db).await.unwrap();
    let page = browser.get("/panel/panel_config").await;
    let carol = row_of(&page.body, "carol");
    assert!(
        carol.contains("Gesperrt · ") && carol.contains(" min"),
        "{carol}"
    );
    assert!(
        carol.contains("zu viele fehlgeschlagene Anmeldungen"),
        "{carol}"
    );

    // The operator's unlock takes the badge away.
    passgate::auth::throttle::unlock_username(&app.db, &app.state.signing_key, "carol")
        .await
        .unwrap();
    let page = browser.get("/panel/panel_config").await;
    assert!(!row_of(&page.body, "carol").contains("Gesperrt"));
}
