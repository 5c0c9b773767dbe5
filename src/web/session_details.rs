//! Keeps what the sessions page shows of a signed-in session (SPEC §11): the address it was
//! last seen from and a short summary of its browser. Written into the session only when they
//! change (a sign-in, a new network), so an ordinary request writes nothing.

use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use crate::auth::client_ip::ClientIp;
use crate::auth::session::{ADDRESS_KEY, BROWSER_KEY};
use crate::auth::session_store::USER_ID_KEY;
use crate::state::AppState;

pub async fn record(
    State(_): State<AppState>,
    session: Session,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let browser = crate::auth::browser::summary(
        request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let response = next.run(request).await;
    // After the handler: it may have just signed in (or out).
    if let Ok(Some(_)) = session.get::<i32>(USER_ID_KEY).await {
        let address = ip.to_string();
        for (key, value) in [(ADDRESS_KEY, address), (BROWSER_KEY, browser)] {
            if session.get::<String>(key).await.ok().flatten().as_deref() != Some(&value) {
                // A failed write only loses this detail; the answer stands.
                let _ = session.insert(key, value).await;
            }
        }
    }
    response
}
