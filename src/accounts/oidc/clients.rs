//! Clients: the OpenID Connect settings of an application (SPEC §15.1, §16) — a generated
//! `client_id`; confidential (a secret shown once, kept as a hash, regenerable) or public
//! (no secret, PKCE required); registered redirect URIs, matched exactly except for a
//! loopback URI's port (RFC 8252 §7.3); the ID token's algorithm. The application's use
//! cases call these inside their own transaction and audit the change.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use subtle::ConstantTimeEq;

use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::oidc::{Alg, OAuthError, grants, hash_secret, new_secret};
use crate::accounts::secret::Secret;
use crate::entities::oidc_clients;

/// The prefix of every client secret (recognisable in a leaked file).
pub const SECRET_PREFIX: &str = "pgs_";
/// Longest redirect URI accepted (bytes).
pub const URI_MAX: usize = 2048;
/// Most redirect URIs of one kind a client may register.
pub const URIS_MAX: usize = 20;

/// What an administrator sets (the API's `oidc` object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (a native or browser app) has no secret and must use PKCE.
    pub public: bool,
    pub alg: Alg,
}

/// An application's client as its administrators see it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    pub client_id: String,
    pub settings: ClientSettings,
}

/// What an administrator gives of a client's settings: on creation every field not given
/// takes its default (confidential, RS256, no post-logout URI; redirect URIs are required),
/// on a change it keeps its value.
#[derive(Clone, Debug, Default)]
pub struct ClientChanges {
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub public: Option<bool>,
    pub alg: Option<Alg>,
}

impl ClientChanges {
    /// The settings these changes make of `current` (`None`: a new client), checked: the
    /// redirect URIs by [`check_uris`], at least one of them.
    pub fn apply(self, current: Option<&ClientSettings>) -> Result<ClientSettings> {
        let redirect_uris = match (self.redirect_uris, current) {
            (Some(uris), _) => check_uris("redirect_uris", &uris)?,
            (None, Some(current)) => current.redirect_uris.clone(),
            (None, None) => Vec::new(),
        };
        if redirect_uris.is_empty() {
            return Err(Error::invalid(
                "redirect_uris",
                "redirect_uris: an OpenID Connect client needs at least one redirect URI",
            ));
        }
        let post_logout_redirect_uris = match (self.post_logout_redirect_uris, current) {
            (Some(uris), _) => check_uris("post_logout_redirect_uris", &uris)?,
            (None, Some(current)) => current.post_logout_redirect_uris.clone(),
            (None, None) => Vec::new(),
        };
        Ok(ClientSettings {
            redirect_uris,
            post_logout_redirect_uris,
            public: self.public.or(current.map(|c| c.public)).unwrap_or(false),
            alg: self.alg.or(current.map(|c| c.alg)).unwrap_or(Alg::Rs256),
        })
    }
}

/// A registered client, as the protocol endpoints read it.
#[derive(Clone, Debug)]
pub struct Client {
    pub app_id: i32,
    pub client_id: String,
    secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub alg: Alg,
}

impl Client {
    pub(crate) fn from_row(row: oidc_clients::Model) -> Self {
        Client {
            app_id: row.app_id,
            client_id: row.client_id,
            secret_hash: row.secret_hash,
            redirect_uris: serde_json::from_str(&row.redirect_uris).unwrap_or_default(),
            post_logout_redirect_uris: serde_json::from_str(&row.post_logout_redirect_uris)
                .unwrap_or_default(),
            alg: Alg::parse(&row.id_token_alg).unwrap_or(Alg::Rs256),
        }
    }

    /// A confidential client has a secret and must prove it.
    pub fn is_confidential(&self) -> bool {
        self.secret_hash.is_some()
    }

    /// The settings as an administrator sees them (never the secret).
    pub fn settings(&self) -> ClientSettings {
        ClientSettings {
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            public: !self.is_confidential(),
            alg: self.alg,
        }
    }

    /// The client as its administrators see it.
    pub fn info(&self) -> ClientInfo {
        ClientInfo {
            client_id: self.client_id.clone(),
            settings: self.settings(),
        }
    }

    /// The registered redirect URI `given` is (exactly, or a loopback URI on another port).
    pub fn redirect_uri_matches(&self, given: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| uri_matches(registered, given))
    }

    /// Whether `given` is a registered post-logout redirect URI (the same rule).
    pub fn post_logout_uri_matches(&self, given: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| uri_matches(registered, given))
    }

    /// Whether `secret` is this client's secret (constant time); a public client has none.
    fn secret_is(&self, secret: &str) -> bool {
        self.secret_hash.as_ref().is_some_and(|stored| {
            bool::from(stored.as_bytes().ct_eq(hash_secret(secret).as_bytes()))
        })
    }
}

/// Checks a list of redirect URIs (`field` names it in the error) and returns it trimmed,
/// without duplicates: each an absolute `https` URL, or `http` on `localhost`, `127.0.0.1` or
/// `[::1]` (a native app's loopback listener); no user info, fragment, backslash, white
/// space, at most [`URI_MAX`] bytes; at most [`URIS_MAX`] of them.
pub fn check_uris(field: &'static str, uris: &[String]) -> Result<Vec<String>> {
    if uris.len() > URIS_MAX {
        return Err(Error::invalid(
            field,
            format!("{field}: at most {URIS_MAX} URIs"),
        ));
    }
    let mut checked: Vec<String> = Vec::new();
    for uri in uris {
        let uri = uri.trim();
        if !is_registrable(uri) {
            return Err(Error::invalid(
                field,
                format!(
                    "{field}: '{}' is not an https URL (or http on localhost, 127.0.0.1 or [::1]) without user info or fragment",
                    uri.chars().take(80).collect::<String>()
                ),
            ));
        }
        if !checked.iter().any(|c| c == uri) {
            checked.push(uri.to_string());
        }
    }
    Ok(checked)
}

fn is_registrable(uri: &str) -> bool {
    if uri.is_empty()
        || uri.len() > URI_MAX
        || uri
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '\\' | '#'))
    {
        return false;
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') || authority.is_empty() {
        return false;
    }
    let Ok(parsed) = url::Url::parse(uri) else {
        return false;
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return false;
    }
    match scheme {
        "https" => parsed.host().is_some(),
        "http" => is_loopback_host(split_port(authority).0),
        _ => false,
    }
}

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// `host[:port]` → (host, port text); the host of `[::1]:8080` keeps its brackets.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let port_colon = if authority.starts_with('[') {
        authority
            .find(']')
            .and_then(|end| authority[end..].find(':').map(|i| end + i))
    } else {
        authority.rfind(':')
    };
    match port_colon {
        Some(i) => (&authority[..i], Some(&authority[i + 1..])),
        None => (authority, None),
    }
}

/// Exact string equality, except that a registered `http` loopback URI accepts any port at
/// request time (RFC 8252 §7.3): scheme, host, path and query must still be equal.
pub fn uri_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Some(reg), Some(giv)) = (
        registered.strip_prefix("http://"),
        given.strip_prefix("http://"),
    ) else {
        return false;
    };
    let split = |rest: &str| -> (String, String) {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        (rest[..end].to_string(), rest[end..].to_string())
    };
    let (reg_authority, reg_rest) = split(reg);
    let (giv_authority, giv_rest) = split(giv);
    let (reg_host, _) = split_port(&reg_authority);
    let (giv_host, giv_port) = split_port(&giv_authority);
    let port_ok = giv_port
        .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    is_loopback_host(reg_host)
        && reg_host == giv_host
        && port_ok
        && !giv_authority.contains('@')
        && reg_rest == giv_rest
}

/// Registers `app_id` as a client; returns the new `client_id` and, for a confidential
/// client, its secret (to show once).
pub async fn create(
    conn: &impl ConnectionTrait,
    app_id: i32,
    settings: &ClientSettings,
) -> Result<(String, Option<Secret>)> {
    let client_id = new_client_id();
    let secret = (!settings.public).then(|| Secret::new(new_secret(SECRET_PREFIX)));
    let now = clock::now();
    oidc_clients::Entity::insert(oidc_clients::ActiveModel {
        app_id: Set(app_id),
        client_id: Set(client_id.clone()),
        secret_hash: Set(secret.as_ref().map(|s| hash_secret(s.expose()))),
        redirect_uris: Set(json_list(&settings.redirect_uris)),
        post_logout_redirect_uris: Set(json_list(&settings.post_logout_redirect_uris)),
        id_token_alg: Set(settings.alg.as_str().into()),
        created: Set(now),
        secret_created: Set(secret.as_ref().map(|_| now)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok((client_id, secret))
}

/// Changes a client's settings. Turning a public client confidential makes its first secret
/// (returned, to show once); turning a confidential one public drops its secret and ends every
/// grant made to it (its tokens were issued to a client that proved a secret: a stolen
/// refresh token must not be redeemable with the client id alone).
pub async fn update(
    conn: &impl ConnectionTrait,
    app_id: i32,
    settings: &ClientSettings,
) -> Result<Option<Secret>> {
    let current = find_by_app(conn, app_id).await?.ok_or(Error::NotFound)?;
    let now = clock::now();
    let mut update = oidc_clients::Entity::update_many()
        .col_expr(
            oidc_clients::Column::RedirectUris,
            Expr::value(json_list(&settings.redirect_uris)),
        )
        .col_expr(
            oidc_clients::Column::PostLogoutRedirectUris,
            Expr::value(json_list(&settings.post_logout_redirect_uris)),
        )
        .col_expr(
            oidc_clients::Column::IdTokenAlg,
            Expr::value(settings.alg.as_str()),
        )
        .filter(oidc_clients::Column::AppId.eq(app_id));
    let mut secret = None;
    if settings.public && current.is_confidential() {
        grants::revoke_all_of_app(conn, app_id).await?;
        update = update
            .col_expr(
                oidc_clients::Column::SecretHash,
                Expr::value(None::<String>),
            )
            .col_expr(
                oidc_clients::Column::SecretCreated,
                Expr::value(None::<time::PrimitiveDateTime>),
            );
    } else if !settings.public && !current.is_confidential() {
        let fresh = Secret::new(new_secret(SECRET_PREFIX));
        update = update
            .col_expr(
                oidc_clients::Column::SecretHash,
                Expr::value(Some(hash_secret(fresh.expose()))),
            )
            .col_expr(oidc_clients::Column::SecretCreated, Expr::value(Some(now)));
        secret = Some(fresh);
    }
    update.exec(conn).await?;
    Ok(secret)
}

/// A new secret for a confidential client; the old one stops working at once. A public
/// client has none to regenerate (`Invalid` naming `public`).
pub async fn regenerate_secret(conn: &impl ConnectionTrait, app_id: i32) -> Result<Secret> {
    let current = find_by_app(conn, app_id).await?.ok_or(Error::NotFound)?;
    if !current.is_confidential() {
        return Err(Error::invalid(
            "public",
            "public: a public client has no secret",
        ));
    }
    let fresh = Secret::new(new_secret(SECRET_PREFIX));
    oidc_clients::Entity::update_many()
        .col_expr(
            oidc_clients::Column::SecretHash,
            Expr::value(Some(hash_secret(fresh.expose()))),
        )
        .col_expr(
            oidc_clients::Column::SecretCreated,
            Expr::value(Some(clock::now())),
        )
        .filter(oidc_clients::Column::AppId.eq(app_id))
        .exec(conn)
        .await?;
    Ok(fresh)
}

/// Ends an application's OpenID Connect: its client settings and every grant made to it.
pub async fn remove(conn: &impl ConnectionTrait, app_id: i32) -> Result<()> {
    grants::revoke_all_of_app(conn, app_id).await?;
    oidc_clients::Entity::delete_by_id(app_id)
        .exec(conn)
        .await?;
    Ok(())
}

/// The client of an application, if it has OpenID Connect settings.
pub async fn find_by_app(conn: &impl ConnectionTrait, app_id: i32) -> Result<Option<Client>> {
    Ok(oidc_clients::Entity::find_by_id(app_id)
        .one(conn)
        .await?
        .map(Client::from_row))
}

/// The clients of these applications (for a list of applications, in one statement).
pub async fn find_by_apps(conn: &impl ConnectionTrait, app_ids: &[i32]) -> Result<Vec<Client>> {
    Ok(oidc_clients::Entity::find()
        .filter(oidc_clients::Column::AppId.is_in(app_ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(Client::from_row)
        .collect())
}

/// The client a request names, read from the database (never from a cache: a regenerated
/// secret or a deletion holds at once on every instance).
pub async fn find(conn: &impl ConnectionTrait, client_id: &str) -> Result<Option<Client>> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Ok(None);
    }
    Ok(oidc_clients::Entity::find()
        .filter(oidc_clients::Column::ClientId.eq(client_id))
        .one(conn)
        .await?
        .map(Client::from_row))
}

/// How a client presented itself at the token, revocation or introspection endpoint.
#[derive(Debug, Default)]
pub struct Presented {
    pub client_id: Option<String>,
    pub secret: Option<Secret>,
    /// Whether the credentials came in an `Authorization: Basic` header.
    pub basic: bool,
}

/// The client behind `presented`: a confidential client must give its secret
/// (`client_secret_basic` or `client_secret_post`), a public client only its id (`none`);
/// anything else is `invalid_client`.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    presented: &Presented,
) -> Result<Client, OAuthError> {
    let Some(client_id) = presented.client_id.as_deref() else {
        return Err(OAuthError::invalid_client());
    };
    let client = find(conn, client_id)
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    let proven = match (&presented.secret, client.is_confidential()) {
        (Some(secret), true) => client.secret_is(secret.expose()),
        (None, false) => true,
        _ => false,
    };
    if proven {
        Ok(client)
    } else {
        Err(OAuthError::invalid_client())
    }
}

fn new_client_id() -> String {
    use rand::RngExt;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_uris_are_https_or_loopback_http() {
        for good in [
            "https://wiki.example.org/oauth2/callback",
            "https://wiki.example.org:8443/cb?tenant=a",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:8400/callback",
            "http://localhost:3000/cb",
            "http://[::1]:9000/cb",
        ] {
            assert!(
                check_uris("redirect_uris", &[good.into()]).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "http://wiki.example.org/cb",
            "http://127.0.0.2/cb",
            "https://user@wiki.example.org/cb",
            "https://wiki.example.org/cb#frag",
            "https://wiki.example.org\\@evil.com/cb",
            "javascript:alert(1)",
            "//evil.example/cb",
            "com.example.app:/cb",
            "https:///cb",
            "https://wiki.example.org/c b",
            "",
        ] {
            assert!(check_uris("redirect_uris", &[bad.into()]).is_err(), "{bad}");
        }
        let long = format!("https://wiki.example.org/{}", "a".repeat(URI_MAX));
        assert!(check_uris("redirect_uris", &[long]).is_err());
        let many: Vec<String> = (0..=URIS_MAX)
            .map(|i| format!("https://a.example/{i}"))
            .collect();
        assert!(check_uris("redirect_uris", &many).is_err());
        assert_eq!(
            check_uris(
                "redirect_uris",
                &[
                    " https://a.example/cb ".into(),
                    "https://a.example/cb".into()
                ]
            )
            .unwrap(),
            ["https://a.example/cb"]
        );
    }

    #[test]
    fn redirect_uris_match_exactly_or_on_another_loopback_port() {
        let reg = "https://wiki.example.org/cb";
        assert!(uri_matches(reg, reg));
        for other in [
            "https://wiki.example.org/cb/",
            "https://wiki.example.org/cbx",
            "https://wiki.example.org/cb?x=1",
            "https://wiki.example.org/cb/../evil",
            "https://WIKI.example.org/cb",
            "https://wiki.example.org:443/cb",
            "https://wiki.example.org.evil.com/cb",
            "http://wiki.example.org/cb",
        ] {
            assert!(!uri_matches(reg, other), "{other}");
        }
        let loopback = "http://127.0.0.1/callback";
        assert!(uri_matches(loopback, "http://127.0.0.1:51234/callback"));
        assert!(uri_matches(
            "http://127.0.0.1:8000/callback",
            "http://127.0.0.1:9/callback"
        ));
        assert!(uri_matches("http://[::1]/cb", "http://[::1]:4000/cb"));
        assert!(uri_matches(
            "http://localhost/cb",
            "http://localhost:4000/cb"
        ));
        for other in [
            "http://127.0.0.1:51234/callback/extra",
            "http://127.0.0.1:51234@evil.com/callback",
            "http://127.0.0.1:x/callback",
            "http://127.0.0.1:/callback",
            "http://127.0.0.1:123456/callback",
            "http://localhost:4000/callback",
            "https://127.0.0.1:4000/callback",
            "http://127.0.0.1.evil.com/callback",
        ] {
            assert!(!uri_matches(loopback, other), "{other}");
        }
        // Only loopback hosts get the port rule.
        assert!(!uri_matches(
            "https://wiki.example.org/cb",
            "https://wiki.example.org:8443/cb"
        ));
    }
}
