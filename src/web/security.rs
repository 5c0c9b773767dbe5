//! GET /panel/security: one's second factors — authenticator apps (`web::totp`) and
//! passkeys (`web::passkey`) — with what just happened or why it was refused.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use maud::html;
use serde::Deserialize;

use crate::accounts::secret::Secret;
use crate::auth::{session, throttle};
use crate::entities::users as user_entity;
use crate::error::Error;

use crate::accounts::{self, clock, mfa, passkeys};
use crate::paths;
use crate::state::AppState;
use crate::views::components::alert;
use crate::views::layout::page;
use crate::views::passkeys::{PasskeyRow, PasskeysView, passkeys_section};
use crate::views::totp::{DeviceRow, totp_section};
use crate::web::{PageResult, Viewer};

#[derive(Deserialize, Default)]
pub struct SecurityQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    refused: Option<String>,
    /// Where the sign-in walk goes on once a passkey is added (an application).
    #[serde(default)]
    rd: Option<String>,
}

/// `GET /panel/security`: one's authenticator apps and passkeys.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(query): axum::extract::Query<SecurityQuery>,
) -> PageResult {
    let rows = passkeys::list(&state.db, &viewer.caller, &viewer.user)
        .await
        .map_err(|e| viewer.fail(e))?;
    let rows: Vec<PasskeyRow> = rows
        .into_iter()
        .map(|row| PasskeyRow {
            id: row.id,
            name: row.name,
            created: format!("{} UTC", clock::display(row.created)),
            last_used: row
                .last_used
                .map(|at| format!("{} UTC", clock::display(at))),
            discoverable: row.discoverable,
        })
        .collect();
    let devices = mfa::list_devices(&state.db, &viewer.caller, &viewer.user)
        .await
        .map_err(|e| viewer.fail(e))?;
    let codes_left = mfa::recovery_codes_left(&state.db, viewer.user.user_id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let devices: Vec<DeviceRow> = devices
        .into_iter()
        .map(|d| DeviceRow {
            id: d.id,
            name: d.name,
            created: format!("{} UTC", clock::display(d.created)),
            last_used: d.last_used.map(|at| format!("{} UTC", clock::display(at))),
        })
        .collect();
    let lang = viewer.lang;
    let notice = match query.done.as_deref() {
        Some("added") => Some(lang.t("passkey.added")),
        Some("added_needs_name") => Some(lang.t("passkeyUse.addedNeedsName")),
        Some("registered_again") => Some(lang.t("passkeyUse.registeredAgain")),
        Some("removed") => Some(lang.t("passkey.removed")),
        Some("removed_password_on") => Some(lang.t("passkeyUse.removedPasswordOn")),
        Some("totp") => Some(lang.t("mfa.added")),
        Some("totp_removed") => Some(lang.t("mfa.removed")),
        Some("renamed") => Some(lang.t("mfa.renamed")),
        _ => None,
    };
    let error = match query.refused.as_deref() {
        Some("password") => Some(lang.t("validators.incorrectCurrentPassword")),
        Some("policy") => Some(lang.t("passkey.lastFactor")),
        Some("code") => Some(lang.t("login.incorrectCode")),
        Some("name") => Some(lang.t("mfa.nameInvalid")),
        Some("no_passkey") => Some(lang.t("passkeyUse.offNeedsPasskey")),
        Some(_) => Some(lang.t("error.badRequest")),
        None => None,
    };
    let view = PasskeysView {
        enabled: state.passkeys.enabled(),
        rows: &rows,
        password_off: viewer.user.disable_password_auth,
    };
    let content = passkeys_section(lang, &viewer.csrf, &view);
    // A walk to an application goes on after a passkey is added (`assets/passkey.js` sends
    // the page's `rd` with the new passkey).
    let destination = crate::web::walk::destination(&state, query.rd.as_deref());
    Ok(page(
        &viewer.context(),
        lang.t("passkey.securityTitle"),
        html! {
            h1 { (lang.t("passkey.securityTitle")) }
            @if let Some(notice) = notice {
                div class="alert alert-info" role="status" { (notice) }
            }
            @if let Some(error) = error { (alert("error", "security-error", error)) }
            (crate::views::components::rd_field(destination.rd()))
            (totp_section(lang, &viewer.csrf, &devices, codes_left))
            (content)
        },
    )
    .into_response())
}

/// Removes one of one's factors (an authenticator app or a passkey) after checking the current
/// password — wrong guesses count in the user's throttle bucket — and answers as the security
/// page does: a fresh session for this browser and `?done={done}`, or why it was refused.
pub async fn remove_with_password(
    state: &AppState,
    viewer: &Viewer,
    current_password: String,
    done: &str,
    remove: impl Future<Output = accounts::Result<user_entity::Model>>,
) -> PageResult {
    let removed = with_current_password(state, viewer, current_password, remove).await;
    after_factor_change(viewer, removed, done).await
}

/// Runs `change` (one of the viewer's own credentials) only after the viewer's current
/// password is checked; wrong guesses count in the user's throttle bucket.
pub async fn with_current_password<T>(
    state: &AppState,
    viewer: &Viewer,
    current_password: String,
    change: impl Future<Output = accounts::Result<T>>,
) -> crate::error::Result<T> {
    let password = Secret::new(current_password);
    throttle::counting_current_password(
        &state.db,
        &state.config.throttle,
        &state.signing_key,
        &viewer.user.username,
        async {
            if !state
                .hasher
                .verify(&password, Some(&viewer.user.password))
                .await
            {
                return Err(accounts::Error::IncorrectCurrentPassword);
            }
            change.await
        },
    )
    .await
}

/// The security page's answer to a change of one's factors: a fresh session for this browser
/// (the stamp rotated) and `?done={done}`, or why it was refused.
pub async fn after_factor_change(
    viewer: &Viewer,
    changed: crate::error::Result<user_entity::Model>,
    done: &str,
) -> PageResult {
    let refused = |why: &str| Redirect::to(&format!("{}?refused={why}", paths::SECURITY));
    match changed {
        Ok(updated) => {
            session::establish(&viewer.session, &updated, session::Proof::Kept)
                .await
                .map_err(|e| viewer.fail(e))?;
            Ok(Redirect::to(&format!("{}?done={done}", paths::SECURITY)).into_response())
        }
        Err(Error::IncorrectCurrentPassword) => Ok(refused("password").into_response()),
        Err(Error::MfaRequiredByPolicy) => Ok(refused("policy").into_response()),
        Err(err) => Err(viewer.fail(err)),
    }
}
