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
    let browser = browser_summary(
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

/// "Firefox · Linux", "Safari · iOS", … (no words, so any language reads it): enough for a person to recognise a session, without
/// keeping the raw `User-Agent` (a fingerprint). Unknown parts are said as such.
pub fn browser_summary(agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(mark, _)| agent.contains(mark))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(mark, _)| agent.contains(mark))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("? · {s}"),
        (None, None) => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::browser_summary;

    #[test]
    fn summaries_name_the_browser_and_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox · Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge · Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari · iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                "Chrome · Android",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari · macOS",
            ),
            ("curl/8.5.0", "curl"),
            ("", "?"),
            ("<script>", "?"),
        ];
        for (agent, summary) in cases {
            assert_eq!(browser_summary(agent), summary, "{agent}");
        }
    }
}
