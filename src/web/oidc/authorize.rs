//! `GET /oauth2/authorize` (SPEC §16): the request is checked (`accounts::oidc::request`),
//! the decision taken (`accounts::oidc::authorize`), and the browser sent on — back to the
//! client with a code or an error, to a step of the sign-in walk carrying this very request
//! as its destination (`rd` = this URL, so the walk ends here again), or to a page when the
//! request cannot go back to its client at all.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::accounts::audit::{self, Actor};
use crate::accounts::oidc::authorize::{self, Outcome, SignedIn};
use crate::accounts::oidc::grants::{self, NewGrant};
use crate::accounts::oidc::request::{self, AuthorizationRequest, PageError, Params, Refusal};
use crate::accounts::oidc::{Amr, OAuthError, Oidc, clients};
use crate::accounts::sso::walk::{Standing, Step};
use crate::accounts::{apps, mfa, roles};
use crate::auth::client_ip::ClientIp;
use crate::auth::session::{self as web_session, SIGNED_IN_AT_KEY};
use crate::auth::{session::session_error, sign_in_id};
use crate::error::Result;
use crate::paths;
use crate::state::AppState;
use crate::views::layout::PageContext;
use crate::views::oidc::{Refused, refused_page};
use crate::web::VisitorLang;

pub async fn authorize(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    session: Session,
    ip: ClientIp,
    RawQuery(query): RawQuery,
) -> Response {
    let oidc = match super::provider(&state, lang) {
        Ok(oidc) => oidc.clone(),
        Err(page) => return page.into_response(),
    };
    let query = query.unwrap_or_default();
    match decide(&state, &oidc, &session, ip, &query).await {
        Ok(Answer::Done(response)) => response,
        Ok(Answer::Page(refused)) => {
            let ctx = PageContext {
                lang,
                csrf: "",
                nav: None,
            };
            (StatusCode::BAD_REQUEST, refused_page(&ctx, refused)).into_response()
        }
        Err(err) => err.into_response_html(lang),
    }
}

/// A page that refuses the request at passgate, or the answer as it is.
enum Answer {
    Page(Refused),
    Done(Response),
}

async fn decide(
    state: &AppState,
    oidc: &Oidc,
    session: &Session,
    ip: ClientIp,
    query: &str,
) -> Result<Answer> {
    // An unreadable query names no client: the page, never a redirect.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let params = Params::new(pairs);
    let client = match request::client_id(&params) {
        Ok(id) => clients::find(&state.db, id).await?,
        Err(_) => None,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let request = match request::check(&params, client.as_ref(), now) {
        Ok(request) => request,
        Err(Refusal::Page(PageError::UnknownClient)) => {
            return Ok(Answer::Page(Refused::UnknownClient));
        }
        Err(Refusal::Page(PageError::UnregisteredRedirectUri)) => {
            return Ok(Answer::Page(Refused::UnregisteredRedirectUri));
        }
        Err(Refusal::Redirect {
            redirect_uri,
            state: client_state,
            error,
        }) => {
            return Ok(Answer::Done(to_client(
                oidc,
                &redirect_uri,
                client_state.as_deref(),
                Err(&error),
            )));
        }
    };
    let Some(app) = apps::for_sign_in(&state.db, request.app_id).await? else {
        return Ok(Answer::Page(Refused::UnknownClient));
    };
    let signed_in =
        web_session::current_user(session, &state.db, state.config.session_max_lifetime).await?;
    let facts = match &signed_in {
        Some(signed_in) => Some(SignedIn {
            signed_in_at: session
                .get::<i64>(SIGNED_IN_AT_KEY)
                .await
                .map_err(session_error)?
                .unwrap_or(0),
            standing: Standing {
                require_password_change: signed_in.user.require_password_change,
                must_have_factor: mfa::required_of(&state.db, state.mfa.policy, &signed_in.user)
                    .await?,
                has_factor: mfa::has_factor(&state.db, signed_in.user.user_id).await?,
                session_passed_factor: web_session::passed_second_factor(session).await?,
            },
            role_ids: roles::of_user(&state.db, signed_in.user.user_id)
                .await?
                .into_iter()
                .map(|role| role.role_id)
                .collect(),
        }),
        None => None,
    };
    let resume = resume_path(query, false);
    let outcome = authorize::decide(&request, &app, facts.as_ref(), now);
    Ok(Answer::Done(match outcome {
        Outcome::Refuse(code, description) => {
            if let Some(signed_in) = &signed_in {
                audit::record(
                    &state.db,
                    &Actor::user(&signed_in.user, ip.to_string()),
                    Some((signed_in.user.user_id, &signed_in.user.username)),
                    grants::action::REFUSED,
                    format!(
                        "app={} client_id={} error={code}",
                        audit::value(&app.name),
                        request.client_id
                    ),
                )
                .await?;
            }
            let error = OAuthError::new(code, description);
            to_client(
                oidc,
                &request.redirect_uri,
                request.state.as_deref(),
                Err(&error),
            )
        }
        Outcome::SignIn { again } => {
            let rd = resume_path(query, again);
            let mut login = paths::with_rd(paths::LOGIN, Some(&rd));
            if again {
                login.push_str("&again=1");
            }
            see_other(&login)
        }
        Outcome::Step(step) => see_other(&step_path(step, &resume)),
        Outcome::Issue => {
            let Some(signed_in) = signed_in else {
                return Err(crate::error::Error::Unauthenticated);
            };
            let facts = facts.as_ref().map_or(now, |f| f.signed_in_at);
            let code = issue(state, session, ip, &request, &signed_in.user, facts).await?;
            to_client(
                oidc,
                &request.redirect_uri,
                request.state.as_deref(),
                Ok(&code),
            )
        }
    }))
}

/// Issues the code of `request` for `user`, signed in at `signed_in_at` in this browser.
async fn issue(
    state: &AppState,
    session: &Session,
    ip: ClientIp,
    request: &AuthorizationRequest,
    user: &crate::entities::users::Model,
    signed_in_at: i64,
) -> Result<String> {
    let sid = sign_in_id::get_or_make(session).await?;
    let amr = session_amr(session).await?;
    let auth_time = time::OffsetDateTime::from_unix_timestamp(signed_in_at)
        .map(|t| time::PrimitiveDateTime::new(t.date(), t.time()))
        .unwrap_or_else(|_| crate::accounts::clock::now());
    let code = grants::issue_code(
        &state.db,
        &Actor::user(user, ip.to_string()),
        NewGrant {
            request,
            user,
            auth_time,
            amr: &amr,
            sid: &sid,
            lifetime: state.config.session_max_lifetime,
        },
    )
    .await?;
    Ok(code.expose().to_string())
}

/// How this browser's sign-in proved who it is (`pwd` when nothing else was recorded).
async fn session_amr(session: &Session) -> Result<Amr> {
    let text = web_session::amr(session).await?;
    let words: Vec<&str> = text.split(' ').collect();
    Ok(Amr::of(&words))
}

/// The origin an authorization request (`/oauth2/authorize?…`) answers to with a redirect:
/// its redirect URI's, when that is registered for its client (else it answers with a page).
pub async fn redirect_origin(state: &AppState, path: &str) -> Option<String> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let params = Params::new(pairs);
    let client_id = request::client_id(&params).ok()?;
    let client = clients::find(&state.db, client_id).await.ok()??;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let redirect_uri = match request::check(&params, Some(&client), now) {
        Ok(request) => request.redirect_uri,
        Err(Refusal::Redirect { redirect_uri, .. }) => redirect_uri,
        Err(Refusal::Page(_)) => return None,
    };
    crate::web::csp::origin_of(&redirect_uri)
}

/// The name of the application an authorization request (`/oauth2/authorize?…`) comes
/// from, for the sign-in page ("Sign in to continue to *Wiki*").
pub async fn app_name(state: &AppState, path: &str) -> Option<String> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let params = Params::new(pairs);
    let client_id = request::client_id(&params).ok()?;
    let client = clients::find(&state.db, client_id).await.ok()??;
    apps::for_sign_in(&state.db, client.app_id)
        .await
        .ok()?
        .map(|app| app.name)
}

/// This request again, as the walk's destination: `/oauth2/authorize?…`. After a forced
/// sign-in (`again`) without `prompt=login` and `max_age`, which that sign-in satisfied.
fn resume_path(query: &str, again: bool) -> String {
    let query = if again {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let kept: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, _)| k != "prompt" && k != "max_age")
            .collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    } else {
        query.to_string()
    };
    format!("{}?{query}", paths::oidc::AUTHORIZE)
}

fn step_path(step: Step, resume: &str) -> String {
    let path = match step {
        Step::ChangePassword => paths::CHANGE_PASSWORD,
        Step::Enrol => paths::TOTP_SETUP,
        Step::SecondFactor => paths::SECOND_FACTOR,
        Step::Arrive => return resume.to_string(),
    };
    paths::with_rd(path, Some(resume))
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// The answer that sends the browser back to the client: `code` or `error` (with
/// `error_description`), `state` as given, and `iss` (RFC 9207).
fn to_client(
    oidc: &Oidc,
    redirect_uri: &str,
    state: Option<&str>,
    outcome: std::result::Result<&str, &OAuthError>,
) -> Response {
    let mut pairs: Vec<(&str, &str)> = match outcome {
        Ok(code) => vec![("code", code)],
        Err(error) => vec![
            ("error", error.code),
            ("error_description", error.description.as_str()),
        ],
    };
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", oidc.issuer.as_str()));
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    see_other(&format!("{redirect_uri}{separator}{query}"))
}
