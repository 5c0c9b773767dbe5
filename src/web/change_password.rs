//! GET/POST /panel/change_password: the forced change after a temporary password, and the
//! voluntary one (also as a dialog). Both go through the domain's `change_password`.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts::audit::Actor;
use crate::accounts::edit::{PasswordChange, change_password};
use crate::accounts::password::PolicyViolation;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::secret::Secret;
use crate::auth::client_ip::ClientIp;
use crate::auth::{csrf, session, throttle};
use crate::entities::users;
use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::change_password::{
    ChangePasswordErrors, ChangePasswordView, change_password_box, change_password_dialog,
    change_password_page,
};
use crate::views::layout::{Nav, PageContext, site_header};
use crate::web::page_or_fragment;
use crate::web::{Hx, PageError, PageResult, Viewer, redirect, walk};

fn view<'a>(
    state: &AppState,
    caller: &Caller,
    user: &'a users::Model,
    errors: ChangePasswordErrors,
    rd: Option<&'a str>,
) -> ChangePasswordView<'a> {
    ChangePasswordView {
        username: &user.username,
        forced: user.require_password_change,
        current_required: !permissions::forced_change_exempt(caller, user.require_password_change),
        min_length: state.config.policy.min_length,
        errors,
        rd,
    }
}

/// `GET /panel/change_password` (`?rd=` when the walk goes on to an application).
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<walk::RdField>,
) -> Response {
    let destination = walk::destination(&state, query.rd.as_deref());
    let view = view(
        &state,
        &viewer.caller,
        &viewer.user,
        Default::default(),
        destination.rd(),
    );
    change_password_page(&viewer.context(), &view).into_response()
}

/// The voluntary change as a dialog for htmx; the page itself without it.
pub async fn dialog(State(state): State<AppState>, viewer: Viewer, hx: Hx) -> Response {
    if !hx.0 {
        return redirect(hx, paths::CHANGE_PASSWORD);
    }
    change_password_dialog(
        viewer.lang,
        &viewer.csrf,
        &view(
            &state,
            &viewer.caller,
            &viewer.user,
            Default::default(),
            None,
        ),
    )
    .into_response()
}

/// The forced-change fragment that replaces the sign-in form after an htmx sign-in
/// (`proved_temporary`: with the temporary password, just proved, so the current one is not
/// asked for), carrying the walk's destination.
pub async fn forced_box(
    session: &Session,
    state: &AppState,
    user: &users::Model,
    proved_temporary: bool,
    rd: Option<&str>,
) -> Response {
    let lang = Lang::from_code(&user.lang);
    let caller = Caller::signed_in(user, &[], proved_temporary);
    match csrf::token(session).await {
        Ok(token) => {
            // The header follows (out of band): who is signed in, and Sign out.
            let ctx = PageContext {
                lang,
                csrf: &token,
                nav: Some(Nav {
                    username: &user.username,
                    restricted: true,
                    users: false,
                    roles: false,
                    audit: false,
                }),
            };
            let view = view(state, &caller, user, Default::default(), rd);
            let mut response = maud::html! {
                (change_password_box(lang, &token, &view))
                (site_header(&ctx, true))
            }
            .into_response();
            // The address bar follows, so a reload lands on the same form.
            if let Ok(url) = HeaderValue::from_str(&paths::with_rd(paths::CHANGE_PASSWORD, rd)) {
                response.headers_mut().insert("hx-push-url", url);
            }
            response
        }
        Err(err) => err.into_response_html(lang),
    }
}

#[derive(Deserialize)]
pub struct ChangeFields {
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
    #[serde(default)]
    rd: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    headers: HeaderMap,
    Form(fields): Form<ChangeFields>,
) -> PageResult {
    let lang = viewer.lang;
    let destination = walk::destination(&state, fields.rd.as_deref());
    // Failures here answer with the small page (the session may just have been replaced).
    let fail = |err| PageError::visitor(lang, err);
    let user = &viewer.user;
    let change = PasswordChange {
        current_password: fields.current_password.map(Secret::new),
        new_password: Secret::new(fields.new_password),
        confirmation: Some(Secret::new(fields.confirm_password)),
    };
    let actor = Actor::user(user, ip.to_string());
    let guesses_current = change.current_password.is_some();
    let change = change_password(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &actor,
        &viewer.caller,
        user,
        change,
    );
    let outcome = if guesses_current {
        throttle::counting_current_password(
            &state.db,
            &state.config.throttle,
            &state.signing_key,
            &user.username,
            change,
        )
        .await
    } else {
        change.await.map_err(Error::from)
    };
    match outcome {
        Ok(updated) => {
            // Every session of the user ended in the change; this browser gets a fresh one.
            session::establish(&viewer.session, &updated, session::Proof::Kept)
                .await
                .map_err(fail)?;
            // The flow goes on in place while a second factor is required and missing.
            if hx.0
                && let Some(response) =
                    crate::web::totp::setup_in_place(&state, &viewer, &updated, &destination)
                        .await
                        .map_err(fail)?
            {
                return Ok(response);
            }
            let to = walk::next_url(
                &state,
                &viewer.session,
                &headers,
                ip,
                &updated,
                &destination,
            )
            .await
            .map_err(fail)?;
            Ok(redirect(hx, &to))
        }
        // The domain's `Stale`: an admin's reset came first and ended this session.
        Err(Error::Unauthenticated) => Ok(redirect(hx, &walk::login_url(&destination))),
        Err(err) => match field_errors(lang, &err) {
            Some(errors) => {
                let view = view(&state, &viewer.caller, user, errors, destination.rd());
                let markup = page_or_fragment(
                    hx,
                    || change_password_box(lang, &viewer.csrf, &view),
                    || change_password_page(&viewer.context(), &view),
                );
                let mut response = (err.status(), markup).into_response();
                err.apply_headers(&mut response);
                Ok(response)
            }
            None => Err(fail(err)),
        },
    }
}

/// The message beside the field a refusal is about.
fn field_errors(lang: Lang, err: &Error) -> Option<ChangePasswordErrors> {
    let mut errors = ChangePasswordErrors::default();
    match err {
        Error::IncorrectCurrentPassword => {
            errors.current = Some(lang.t("validators.incorrectCurrentPassword").to_string())
        }
        Error::PasswordMismatch => {
            errors.confirm = Some(lang.t("validators.passwordMismatch").to_string())
        }
        Error::PasswordPolicy(violation) => errors.new = Some(policy_message(lang, *violation)),
        Error::TooManyAttempts { .. } => {
            errors.current = Some(lang.t(err.message_key()).to_string())
        }
        _ => return None,
    }
    Some(errors)
}

/// The translated text of a policy violation (`validators.<code>`, with its numbers).
pub fn policy_message(lang: Lang, violation: PolicyViolation) -> String {
    violation.message(lang)
}
