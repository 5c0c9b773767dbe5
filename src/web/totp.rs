//! Authenticator apps on the web (SPEC §9): set up (held there while a factor is required and
//! missing), enrol with the QR code, recovery codes shown once, remove, renew. Every change
//! goes through `accounts::mfa`, rotates the stamp and keeps this browser signed in.

use crate::web::form::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::accounts;
use crate::accounts::audit::Actor;
use crate::accounts::mfa::{self, EnrolmentAnswer};
use crate::accounts::sso::{Destination, Step};
use crate::auth::client_ip::ClientIp;
use crate::auth::{session, throttle};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;
use crate::views::totp::{EnrolView, codes_box, enrol_box, enrol_page, setup_box, setup_page};
use crate::web::one_time::{self, EnrolShown, OneTime};
use crate::web::page_or_fragment;
use crate::web::security::remove_with_password;
use crate::web::walk::{self, RdField};
use crate::web::{Hx, PageResult, Viewer};

/// `GET /panel/security/totp/setup` (`?rd=` when the walk goes on to an application).
pub async fn setup(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<RdField>,
) -> PageResult {
    let required = mfa::required_of(&state.db, state.mfa.policy, &viewer.user)
        .await
        .map_err(|e| viewer.fail(e))?;
    let destination = walk::destination(&state, query.rd.as_deref());
    Ok(setup_page(
        &viewer.context(),
        required,
        state.passkeys.enabled(),
        destination.rd(),
    )
    .into_response())
}

/// After an in-place forced change (htmx): the set-up box in place when the user must set up
/// a second factor and has none; `None` otherwise. The address bar follows, so a reload lands
/// on the set-up page.
pub async fn setup_in_place(
    state: &AppState,
    viewer: &Viewer,
    user: &user_entity::Model,
    destination: &Destination,
) -> Result<Option<Response>> {
    if mfa::has_factor(&state.db, user.user_id).await?
        || !mfa::required_of(&state.db, state.mfa.policy, user).await?
    {
        return Ok(None);
    }
    let csrf = crate::auth::csrf::token(&viewer.session).await?;
    let mut response = setup_box(
        viewer.lang,
        &csrf,
        true,
        state.passkeys.enabled(),
        destination.rd(),
    )
    .into_response();
    let url = walk::step_url(Step::Enrol, destination);
    if let Ok(value) = axum::http::HeaderValue::from_str(&url) {
        response.headers_mut().insert("hx-push-url", value);
    }
    Ok(Some(response))
}

/// `POST /panel/security/totp`: a pending device with a new secret, shown once — on the
/// result page (a reload says *already shown*; starting again makes a new secret), or with
/// htmx in place of the set-up box.
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    Form(fields): Form<RdField>,
) -> PageResult {
    let destination = walk::destination(&state, fields.rd.as_deref());
    let enrolment = mfa::start_enrolment(&state.db, &state.mfa, &viewer.caller, &viewer.user)
        .await
        .map_err(|e| viewer.fail(e))?;
    if hx.0 {
        let view = EnrolView {
            enrolment_id: enrolment.id,
            secret_base32: Some(enrolment.secret_base32.expose()),
            otpauth_uri: Some(enrolment.otpauth_uri.expose()),
            name: "",
            error: None,
            rd: destination.rd(),
        };
        return Ok(enrol_box(viewer.lang, &viewer.csrf, &view).into_response());
    }
    let shown = EnrolShown {
        enrolment_id: enrolment.id,
        secret: enrolment.secret_base32.expose().to_string(),
        otpauth_uri: enrolment.otpauth_uri.expose().to_string(),
        rd: destination.rd().map(str::to_string),
    };
    let id = one_time::put(&state, &viewer, OneTime::Enrolment(shown))
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(one_time::redirect_to(
        Hx(false),
        &id,
        one_time::Back::Security,
    ))
}

/// The enrolment page of a result (first display only).
pub fn show_enrolment(state: &AppState, viewer: &Viewer, shown: &EnrolShown) -> Response {
    let destination = walk::destination(state, shown.rd.as_deref());
    enrol_page(
        &viewer.context(),
        &EnrolView {
            enrolment_id: shown.enrolment_id,
            secret_base32: Some(&shown.secret),
            otpauth_uri: Some(&shown.otpauth_uri),
            name: "",
            error: None,
            rd: destination.rd(),
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct VerifyFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    rd: Option<String>,
}

/// `POST /panel/security/totp/{id}/verify`: the first code makes the device; the first device
/// brings the recovery codes (shown once). A wrong code shows the form again, not the secret.
pub async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<VerifyFields>,
) -> PageResult {
    let enrolment_id = id
        .parse::<i32>()
        .map_err(|_| viewer.fail(Error::NotFound))?;
    let destination = walk::destination(&state, fields.rd.as_deref());
    let name = match mfa::device_name(Some(&fields.name)) {
        Ok(name) => name,
        Err(_) => {
            return Ok(again(
                &viewer,
                hx,
                enrolment_id,
                &fields.name,
                "mfa.nameInvalid",
                &destination,
            ));
        }
    };
    let enrolled = mfa::verify_enrolment(
        &state.db,
        &state.mfa,
        &Actor::user(&viewer.user, ip.to_string()),
        &viewer.caller,
        &viewer.user,
        EnrolmentAnswer {
            enrolment_id,
            name: &name,
            code: fields.code.trim(),
        },
    )
    .await;
    let enrolled = match enrolled {
        Ok(enrolled) => enrolled,
        Err(accounts::Error::WrongMfaCode) => {
            return Ok(again(
                &viewer,
                hx,
                enrolment_id,
                &fields.name,
                "login.incorrectCode",
                &destination,
            ));
        }
        Err(accounts::Error::NotFound) => {
            return Ok(Redirect::to(&walk::step_url(Step::Enrol, &destination)).into_response());
        }
        Err(err) => return Err(viewer.fail(err)),
    };
    let codes: Vec<String> = enrolled
        .recovery_codes
        .iter()
        .map(|c| c.expose().to_string())
        .collect();
    if hx.0 {
        // In place: the codes in the box (shown by this answer only), or on to the page.
        session::establish(
            &viewer.session,
            &enrolled.user,
            session::Proof::SecondFactor,
        )
        .await
        .map_err(|e| viewer.fail(e))?;
        return Ok(match (codes.is_empty(), &destination) {
            (true, Destination::Dashboard) => crate::web::redirect(hx, paths::SECURITY),
            (true, _) => crate::web::redirect(hx, &walk::resume_url(&destination)),
            (false, _) => {
                codes_box(viewer.lang, &codes, &walk::resume_url(&destination)).into_response()
            }
        });
    }
    keep_signed_in(&state, &viewer, &enrolled.user, codes, &destination)
        .await
        .map_err(|e| viewer.fail(e))
}

fn again(
    viewer: &Viewer,
    hx: Hx,
    enrolment_id: i32,
    name: &str,
    error: &str,
    destination: &Destination,
) -> Response {
    let view = EnrolView {
        enrolment_id,
        secret_base32: None,
        otpauth_uri: None,
        name,
        error: Some(viewer.lang.t(error)),
        rd: destination.rd(),
    };
    let markup = page_or_fragment(
        hx,
        || enrol_box(viewer.lang, &viewer.csrf, &view),
        || enrol_page(&viewer.context(), &view),
    );
    (StatusCode::BAD_REQUEST, markup).into_response()
}

/// After a factor change (the stamp rotated): a fresh session for this browser, then the
/// recovery codes once when there are new ones, else the security page (or, in a walk to an
/// application, its next step).
async fn keep_signed_in(
    state: &AppState,
    viewer: &Viewer,
    updated: &user_entity::Model,
    codes: Vec<String>,
    destination: &Destination,
) -> Result<Response> {
    session::establish(&viewer.session, updated, session::Proof::SecondFactor).await?;
    if codes.is_empty() {
        let to = match destination {
            Destination::Dashboard => format!("{}?done=totp", paths::SECURITY),
            _ => walk::resume_url(destination),
        };
        return Ok(Redirect::to(&to).into_response());
    }
    let rd = destination.rd().map(str::to_string);
    let id = one_time::put(state, viewer, OneTime::RecoveryCodes { codes, rd }).await?;
    Ok(one_time::redirect_to(
        Hx(false),
        &id,
        one_time::Back::Security,
    ))
}

#[derive(Deserialize)]
pub struct RemoveFields {
    #[serde(default)]
    current_password: String,
}

/// `POST /panel/security/totp/{id}/remove`: needs the current password (guesses throttled).
pub async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<RemoveFields>,
) -> PageResult {
    let device_id = id
        .parse::<i32>()
        .map_err(|_| viewer.fail(Error::NotFound))?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    let remove = mfa::remove_device(
        &state.db,
        &state.mfa,
        &actor,
        &viewer.caller,
        &viewer.user,
        device_id,
    );
    remove_with_password(
        &state,
        &viewer,
        fields.current_password,
        "totp_removed",
        remove,
    )
    .await
}

#[derive(Deserialize)]
pub struct RenameFields {
    #[serde(default)]
    name: String,
}

/// `POST /panel/security/totp/{id}/rename`.
pub async fn rename(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<RenameFields>,
) -> PageResult {
    let device_id = id
        .parse::<i32>()
        .map_err(|_| viewer.fail(Error::NotFound))?;
    let Ok(name) = mfa::device_name(Some(&fields.name)) else {
        return Ok(Redirect::to(&format!("{}?refused=name", paths::SECURITY)).into_response());
    };
    let renamed = mfa::rename_device(
        &state.db,
        &Actor::user(&viewer.user, ip.to_string()),
        &viewer.caller,
        &viewer.user,
        device_id,
        &name,
    )
    .await;
    renamed.map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to(&format!("{}?done=renamed", paths::SECURITY)).into_response())
}

#[derive(Deserialize)]
pub struct RenewFields {
    #[serde(default)]
    code: String,
}

/// `POST /panel/security/totp/renew`: ten new recovery codes (shown once) for a current code;
/// wrong codes count in the user's throttle bucket.
pub async fn renew(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Form(fields): Form<RenewFields>,
) -> PageResult {
    let renewed = throttle::counting_code(
        &state.db,
        &state.config.throttle,
        &state.signing_key,
        &viewer.user.username,
        mfa::renew_recovery_codes(
            &state.db,
            &state.mfa,
            &Actor::user(&viewer.user, ip.to_string()),
            &viewer.caller,
            &viewer.user,
            fields.code.trim(),
        ),
    )
    .await;
    match renewed {
        Ok((codes, updated)) => {
            let codes = codes.iter().map(|c| c.expose().to_string()).collect();
            keep_signed_in(&state, &viewer, &updated, codes, &Destination::Dashboard)
                .await
                .map_err(|e| viewer.fail(e))
        }
        Err(Error::WrongMfaCode) => {
            Ok(Redirect::to(&format!("{}?refused=code", paths::SECURITY)).into_response())
        }
        Err(err) => Err(viewer.fail(err)),
    }
}
