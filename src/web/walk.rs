//! The end of every web sign-in — "signed in, what next" (SPEC §4, §9, §13). The password
//! form, the code page and the passkey script all finish here, so the way on is decided once:
//! a fresh session, then the forced password change (in place with htmx), or the dashboard —
//! which the panel gate turns into enrolment when a required second factor is missing.

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_sessions::Session;

use crate::accounts::mfa::FactorUsed;
use crate::auth::login::SignIn;
use crate::auth::{pending, session};
use crate::error::Result;
use crate::paths;
use crate::state::AppState;
use crate::web::{Hx, change_password, redirect};

/// How the step that signed the user in expects its answer.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    /// A form: a 303, or for htmx the next step swapped in place (`HX-Redirect` otherwise).
    Page(Hx),
    /// The passkey script: `{"redirect": URL}`, which it follows.
    Script,
}

/// Signs the browser in after `signed_in` — a new session id, the second-factor pending
/// cookie gone — and answers with the next step.
pub async fn signed_in(
    state: &AppState,
    session: &Session,
    reply: Reply,
    signed_in: SignIn,
) -> Result<Response> {
    session::establish_sign_in(session, &signed_in).await?;
    let next = next_page(&signed_in);
    let mut response = match reply {
        Reply::Page(hx) if hx.0 && signed_in.user.require_password_change => {
            // Swap the sign-in form for the change form in place.
            change_password::forced_box(
                session,
                state,
                &signed_in.user,
                signed_in.proved_temporary(),
            )
            .await
        }
        Reply::Page(hx) => redirect(hx, &next),
        Reply::Script => Json(json!({ "redirect": next })).into_response(),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, pending::clear());
    Ok(response)
}

/// Where a user goes right after signing in: the forced change when one is pending, else the
/// dashboard (saying once that a recovery code was spent and how many are left).
fn next_page(signed_in: &SignIn) -> String {
    if signed_in.user.require_password_change {
        return paths::CHANGE_PASSWORD.to_string();
    }
    match signed_in.factor {
        FactorUsed::RecoveryCode { left } => {
            format!("{}?recovery_codes_left={left}", paths::DASHBOARD)
        }
        _ => paths::DASHBOARD.to_string(),
    }
}
