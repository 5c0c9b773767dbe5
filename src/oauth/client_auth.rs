//! Client authentication at the token, revocation and introspection endpoints (RFC 6749
//! §2.3): `client_secret_basic` (the `Authorization: Basic` header, each part form-encoded),
//! `client_secret_post` (`client_id` and `client_secret` in the body) or `none` (a public
//! client's `client_id` alone). One method per request.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sea_orm::DatabaseConnection;

use crate::accounts::oidc::OAuthError;
use crate::accounts::oidc::clients::{self, Client, Presented};
use crate::accounts::secret::Secret;
use crate::oauth::{OAuthForm, OAuthResponse};

/// The client a request authenticates as, or the `invalid_client` / `invalid_request` answer.
pub async fn authenticate(
    db: &DatabaseConnection,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> Result<Client, OAuthResponse> {
    let presented = presented(headers, form)?;
    clients::authenticate(db, &presented)
        .await
        .map_err(|err| OAuthResponse::after_basic(err, presented.basic))
}

fn presented(headers: &HeaderMap, form: &OAuthForm) -> Result<Presented, OAuthResponse> {
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Ok(Presented {
            client_id: body_id.map(str::to_string),
            secret: body_secret.map(|s| Secret::new(s.to_string())),
            basic: false,
        });
    };
    let refused = || OAuthResponse::after_basic(OAuthError::invalid_client(), true);
    let (id, secret) = authorization
        .to_str()
        .ok()
        .and_then(parse_basic)
        .ok_or_else(refused)?;
    if body_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "use one client authentication method, not the header and the body",
        )
        .into());
    }
    if body_id.is_some_and(|body_id| body_id != id) {
        return Err(refused());
    }
    Ok(Presented {
        client_id: Some(id),
        secret: Some(Secret::new(secret)),
        basic: true,
    })
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` → (id, secret).
fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |part: &str| -> Option<String> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={}", part.replace('&', "%26"))).ok()?;
        pairs.into_iter().next().map(|(_, v)| v)
    };
    let id = unescape(id)?;
    let secret = unescape(secret)?;
    (!id.is_empty()).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(
            parse_basic(&basic("wiki:pgs_abc")),
            Some(("wiki".into(), "pgs_abc".into()))
        );
        assert_eq!(
            parse_basic(&basic("a%3Ab:s%2Bx+y")),
            Some(("a:b".into(), "s+x y".into())),
            "RFC 6749 §2.3.1 encodes both parts"
        );
        assert_eq!(
            parse_basic(&basic("wiki:a&b=c")),
            Some(("wiki".into(), "a&b=c".into()))
        );
        assert_eq!(parse_basic(&basic("no-colon")), None);
        assert_eq!(parse_basic(&basic(":secret")), None);
        assert_eq!(parse_basic("Bearer xyz"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }
}
