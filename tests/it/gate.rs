//! The web gate: while a change is pending, every panel page leads to the change form.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;

use crate::helpers::*;

const PANEL_PAGES: [&str; 8] = [
    "/panel/dashboard",
    "/panel",
    "/panel/",
    "/panel/panel_config",
    "/panel/users/new",
    "/panel/edit_user?id=1",
    "/panel/audit",
    "/panel/dashboard/",
];

#[tokio::test]
async fn every_panel_page_redirects_while_flagged_and_none_loops() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    for start in PANEL_PAGES {
        let mut path = start.to_string();
        let mut hops = 0;
        loop {
            let page = browser.get(&path).await;
            if page.status != StatusCode::SEE_OTHER {
                assert_eq!(page.status, StatusCode::OK, "{start} ends on a page");
                assert_eq!(
                    path, "/panel/change_password",
                    "{start} ends at the change form"
                );
                break;
            }
            path = page.location().unwrap().to_string();
            hops += 1;
            assert!(hops <= 3, "{start} redirects in a loop");
        }
    }
    // htmx requests get HX-Redirect instead of a 303.
    let hx = browser.hx_get("/panel/dashboard").await;
    assert_eq!(hx.header("hx-redirect"), Some("/panel/change_password"));
}

#[tokio::test]
async fn flagged_user_can_still_sign_out_and_load_assets() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    let page = browser.get("/panel/change_password").await;
    let css = page
        .body
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with("app.css")))
        .unwrap()
        .to_string();
    let js = page
        .body
        .split("src=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with("htmx.min.js")))
        .unwrap()
        .to_string();
    let css = browser.get(&css).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(browser.get(&js).await.status, StatusCode::OK);
    browser.post("/logout", &[]).await.assert_redirect("/login");
    browser
        .get("/panel/change_password")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_login() {
    let app = spawn_app().await;
    let mut browser = app.client();
    for path in PANEL_PAGES {
        browser.get(path).await.assert_redirect("/login");
    }
    browser
        .get("/panel/change_password")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn flagged_user_cannot_post_elsewhere_in_the_panel() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    browser.get("/panel/change_password").await;
    let page = browser
        .post("/panel/users/new", &[("username", "evil")])
        .await;
    page.assert_redirect("/panel/change_password");
}

/// Every page names its icon (the lock), served like the other assets: the browser does not
/// ask for a missing `/favicon.ico` and log a 404 on each page.
#[tokio::test]
async fn pages_name_an_icon_that_is_served() {
    let app = spawn_app().await;
    let mut browser = app.client();
    let page = browser.get("/login").await;
    let icon = page
        .body
        .split("<link rel=\"icon\" type=\"image/svg+xml\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an icon link")
        .to_string();
    let served = browser.get(&icon).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/svg+xml"));
    assert!(served.body.starts_with("<svg"));
}
