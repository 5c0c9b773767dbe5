//! Test harness: a fresh app on a fresh database per test (SQLite, or PostgreSQL when
//! `PASSGATE_TEST_POSTGRES_URL` is set), and a cookie-keeping client.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use passgate::accounts::audit::Actor;
use passgate::accounts::credentials::{ResetOptions, reset_password};
use passgate::accounts::secret::Secret;
use passgate::accounts::users::{self, NewUser};
use passgate::config::{Config, RawConfig};
use passgate::entities::users as user_entity;
use passgate::{AppState, app, db};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tower::ServiceExt;

/// A password that passes the default policy.
pub const STRONG: &str = "Tidal-Marble-Orchard-47";
pub const STRONG_2: &str = "Quiet-Lantern-Harbor-83";
pub const STRONG_3: &str = "Copper-Meadow-Violin-29";

pub struct TestApp {
    pub state: AppState,
    pub db: DatabaseConnection,
    pub database_url: String,
    pub router: axum::Router,
    _dir: std::sync::Arc<tempfile::TempDir>,
    /// The test's own PostgreSQL database (dropped with the last app using it), if any.
    _pg: Option<std::sync::Arc<PgDatabase>>,
}

/// A fresh database (SQLite, or PostgreSQL when `PASSGATE_TEST_POSTGRES_URL` is set),
/// migrated, and the app on it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut RawConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = match postgres_admin_url() {
        Some(admin_url) => Some(std::sync::Arc::new(PgDatabase::create(&admin_url).await)),
        None => None,
    };
    let database_url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}/test.db?mode=rwc", dir.path().display()),
    };
    let mut raw = RawConfig {
        database_url: Some(database_url.clone()),
        ..RawConfig::default()
    };
    customize(&mut raw);
    let config: Config = raw.validate().expect("test config is valid");
    // As in production (`db::open`): migrate on a connection of its own, then open the pool,
    // so no pooled connection keeps statements prepared against the schema before the
    // migration (which made inserts relying on column defaults flaky).
    // (A PostgreSQL test database is a copy of an already migrated template.)
    let db = if pg.is_none() {
        db::open(&database_url, config.max_connections)
            .await
            .expect("migrate and connect")
    } else {
        db::connect(&database_url, config.max_connections)
            .await
            .expect("connect")
    };
    let state = AppState::load(db.clone(), config).await.expect("state");
    let router = app(state.clone());
    TestApp {
        state,
        db,
        database_url,
        router,
        _dir: std::sync::Arc::new(dir),
        _pg: pg,
    }
}

/// The PostgreSQL server the suite runs against (`PASSGATE_TEST_POSTGRES_URL`, a URL whose
/// role may create databases, e.g. `postgres://passgate:passgate@127.0.0.1/postgres`), or
/// `None` for SQLite.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("PASSGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// A fresh, empty PostgreSQL database with a unique name, made through the admin URL and
/// dropped (`WITH (FORCE)`, ending connections still open) when this value is dropped, also
/// when the test panics.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    /// The URL of the new database: the admin URL with its database name replaced.
    pub url: String,
}

impl PgDatabase {
    /// A fresh database, already migrated: a copy of this test process's template.
    pub async fn create(admin_url: &str) -> PgDatabase {
        let template = pg_template(admin_url);
        PgDatabase::create_from(admin_url, Some(&template)).await
    }

    /// A fresh, empty database (no tables at all), e.g. to test migrations themselves.
    pub async fn create_empty(admin_url: &str) -> PgDatabase {
        PgDatabase::create_from(admin_url, None).await
    }

    async fn create_from(admin_url: &str, template: Option<&str>) -> PgDatabase {
        let name = unique_pg_name("db");
        let sql = match template {
            Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        let admin = pg_admin(admin_url).await;
        admin
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql} through {admin_url}: {e}"));
        admin.close().await.ok();
        PgDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

/// Names all start with `passgate_test_<pid>_`, so that leftovers of a killed run can be
/// recognised (their process is gone) and dropped by the next run.
fn unique_pg_name(kind: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "passgate_test_{}_{kind}{}_{nanos:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// The migrated template database of this test process, made on first use (migrating once
/// instead of once per test). Databases of earlier runs whose process has gone are dropped
/// at the same time.
fn pg_template(admin_url: &str) -> String {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let admin_url = admin_url.to_string();
            // Its own thread and runtime: connections made here must not belong to the
            // runtime of whichever test came first.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let admin = pg_admin(&admin_url).await;
                    drop_leftovers(&admin).await;
                    let name = unique_pg_name("template");
                    admin
                        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                        .await
                        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                    let url = with_database(&admin_url, &name);
                    let conn = db::migrator_connection(&url).await.expect("connect");
                    db::migrate_locked(&conn)
                        .await
                        .expect("migrate the template");
                    conn.close().await.ok();
                    admin.close().await.ok();
                    name
                })
            })
            .join()
            .expect("template database")
        })
        .clone()
}

async fn drop_leftovers(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'passgate\\_test\\_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let pid = name
            .strip_prefix("passgate_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let gone = pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if gone {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop cannot await: a thread of its own with a small runtime does the work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let admin = pg_admin(&admin_url).await;
                if let Err(err) = admin.execute_unprepared(&sql).await {
                    eprintln!("{sql}: {err}");
                }
                admin.close().await.ok();
            });
        })
        .join();
    }
}

async fn pg_admin(admin_url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(admin_url);
    options
        .max_connections(1)
        .min_connections(0)
        .sqlx_logging(false);
    sea_orm::Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("PASSGATE_TEST_POSTGRES_URL: cannot connect: {e}"))
}

/// `postgres://user:pw@host:port/old?params` with `old` replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| i + authority);
    match query {
        Some(query) => format!("{}/{name}?{query}", &base[..path]),
        None => format!("{}/{name}", &base[..path]),
    }
}

impl TestApp {
    /// An app over a database prepared by the test itself.
    pub fn from_parts(
        state: AppState,
        database_url: String,
        make: fn(AppState) -> axum::Router,
        dir: tempfile::TempDir,
    ) -> TestApp {
        TestApp {
            router: make(state.clone()),
            db: state.db.clone(),
            state,
            database_url,
            _dir: std::sync::Arc::new(dir),
            _pg: None,
        }
    }

    /// Another app on the same database: a restart, or a second instance.
    pub async fn second_instance(&self) -> TestApp {
        let state = AppState::load(self.db.clone(), (*self.state.config).clone())
            .await
            .expect("state");
        TestApp {
            router: app(state.clone()),
            state,
            db: self.db.clone(),
            database_url: self.database_url.clone(),
            _dir: self._dir.clone(),
            _pg: self._pg.clone(),
        }
    }

    /// Another instance on the same database with a changed configuration (a restart after
    /// the administrator edited a setting).
    pub async fn restarted_with(&self, change: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = (*self.state.config).clone();
        change(&mut config);
        let state = AppState::load(self.db.clone(), config)
            .await
            .expect("state");
        TestApp {
            router: app(state.clone()),
            state,
            db: self.db.clone(),
            database_url: self.database_url.clone(),
            _dir: self._dir.clone(),
            _pg: self._pg.clone(),
        }
    }

    /// Creates a user directly through the domain.
    pub async fn user(&self, name: &str, password: &str, superuser: bool) -> user_entity::Model {
        self.user_with(name, password, superuser, None, None).await
    }

    /// Resets `name` to `password` with the given options, as an administrator would.
    pub async fn reset(
        &self,
        name: &str,
        password: &str,
        options: ResetOptions,
    ) -> user_entity::Model {
        let target = self.find(name).await;
        reset_password(
            &self.db,
            &self.state.hasher,
            &self.state.config.policy,
            &Actor::cli(),
            &passgate::accounts::permissions::Caller::operator(),
            &target,
            passgate::accounts::credentials::ResetRequest {
                password: Some(Secret::new(password.into())).into(),
                options,
            },
        )
        .await
        .expect("reset")
        .user
    }

    pub async fn find(&self, name: &str) -> user_entity::Model {
        users::find_by_username(&self.db, name)
            .await
            .expect("query")
            .expect("user exists")
    }

    pub fn client(&self) -> Client<'_> {
        Client::new(self, "127.0.0.1:50000")
    }

    pub fn client_from(&self, peer: &str) -> Client<'_> {
        Client::new(self, peer)
    }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "body: {}", self.body);
        assert_eq!(self.location(), Some(to));
    }
}

/// A browser: keeps cookies and the last CSRF token it saw in a page.
pub struct Client<'a> {
    app: &'a TestApp,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
    peer: SocketAddr,
    pub extra_headers: Vec<(String, String)>,
}

impl<'a> Client<'a> {
    fn new(app: &'a TestApp, peer: &str) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
            csrf: None,
            peer: peer.parse().expect("peer address"),
            extra_headers: Vec::new(),
        }
    }

    pub fn session_cookie(&self) -> Option<&String> {
        self.cookies.get("passgate_session")
    }

    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
        hx: bool,
    ) -> TestResponse {
        self.request_typed(method, path, body, hx, "application/x-www-form-urlencoded")
            .await
    }

    /// A JSON post as `assets/passkey.js` sends it: the page's CSRF token in the header when
    /// `with_csrf`.
    pub async fn post_json(
        &mut self,
        path: &str,
        body: serde_json::Value,
        with_csrf: bool,
    ) -> TestResponse {
        let token = self.csrf.clone().filter(|_| with_csrf);
        if let Some(token) = &token {
            self.extra_headers
                .push(("x-csrf-token".to_string(), token.clone()));
        }
        let response = self
            .request_typed(
                Method::POST,
                path,
                Some(body.to_string()),
                false,
                "application/json",
            )
            .await;
        if token.is_some() {
            self.extra_headers.pop();
        }
        response
    }

    async fn request_typed(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
        hx: bool,
        content_type: &str,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            builder = builder.header(header::COOKIE, cookie_header(&self.cookies));
        }
        if hx {
            builder = builder.header("hx-request", "true");
        }
        for (k, v) in &self.extra_headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let body = match body {
            Some(form) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                Body::from(form)
            }
            None => Body::empty(),
        };
        let mut request = builder.body(body).expect("request");
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap_or("");
            let pair = set.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                let expired = set.to_ascii_lowercase().contains("max-age=0");
                if expired || value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(token) = csrf_in(&body) {
            self.csrf = Some(token);
        }
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, false).await
    }

    pub async fn hx_get(&mut self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, true).await
    }

    /// Posts a form the way a browser does, with the page's CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = self.form_with_csrf(fields);
        self.request(Method::POST, path, Some(body), false).await
    }

    /// The same post as htmx sends it (`HX-Request: true`).
    pub async fn hx_post(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = self.form_with_csrf(fields);
        self.request(Method::POST, path, Some(body), true).await
    }

    /// A post without any CSRF token.
    pub async fn post_without_csrf(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.request(Method::POST, path, Some(body), false).await
    }

    fn form_with_csrf(&self, fields: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(token) = &self.csrf {
            all.push(("csrf_token", token));
        }
        serde_urlencoded::to_string(&all).expect("form")
    }

    /// Opens the sign-in page (for its CSRF token) and signs in with a plain form post.
    pub async fn login(&mut self, username: &str, password: &str) -> TestResponse {
        self.get("/login").await;
        self.post("/login", &[("username", username), ("password", password)])
            .await
    }

    pub async fn hx_login(&mut self, username: &str, password: &str) -> TestResponse {
        self.get("/login").await;
        self.hx_post("/login", &[("username", username), ("password", password)])
            .await
    }
}

/// A `Cookie` header with every cookie of a jar.
pub fn cookie_header(cookies: &HashMap<String, String>) -> String {
    cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The CSRF token of the first form in a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_string()).filter(|t| !t.is_empty())
}

/// An answer of the JSON API.
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: serde_json::Value,
}

impl ApiResponse {
    /// The envelope's error code (`None` on success).
    pub fn code(&self) -> Option<&str> {
        self.json.get("error").and_then(|v| v.as_str())
    }

    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.json);
        assert_eq!(self.json["status"], "error", "{}", self.json);
        assert_eq!(self.code(), Some(code), "{}", self.json);
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &serde_json::Value {
        assert!(self.status.is_success(), "{}: {}", self.status, self.json);
        assert_eq!(self.json["status"], "ok", "{}", self.json);
        &self.json["data"]
    }
}

impl TestApp {
    /// A raw API call: any method, path, headers and body bytes.
    pub async fn api_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> ApiResponse {
        let method_value = Method::from_bytes(method.as_bytes()).expect("method");
        let request = api_request(method_value, path, headers, body).expect("request");
        let (status, headers, bytes) = self.send(request).await;
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{method} {path}: not JSON ({status}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        ApiResponse {
            status,
            headers,
            json,
        }
    }

    /// A JSON API call with an optional bearer token.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> ApiResponse {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.api_raw(method, path, &headers, body).await
    }

    /// `POST /auth/login` with a username and password.
    pub async fn api_login(&self, username: &str, password: &str) -> ApiResponse {
        self.api(
            "POST",
            "/api/v2/auth/login",
            None,
            Some(serde_json::json!({"username": username, "password": password})),
        )
        .await
    }

    /// `PATCH /users/@me` with `body`, as the holder of `token`.
    pub async fn patch_me(&self, token: &str, body: serde_json::Value) -> ApiResponse {
        self.api("PATCH", "/api/v2/users/@me", Some(token), Some(body))
            .await
    }

    /// Logs in through the API and returns the token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let response = self.api_login(username, password).await;
        response.assert_ok()["token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    /// Creates a user with permissions and a manager directly through the domain.
    pub async fn user_with(
        &self,
        name: &str,
        password: &str,
        superuser: bool,
        manager: Option<i32>,
        user_config: Option<i32>,
    ) -> user_entity::Model {
        let new = NewUser {
            require_mfa: false,
            username: name.into(),
            password: Some(Secret::new(password.into())),
            email: None,
            superuser,
            manager,
            lang: "en".into(),
            require_password_change: false,
            expires_hours: -1,
            enabled: true,
            permissions: user_config
                .map(|quantity| {
                    vec![passgate::accounts::grants::Grant {
                        name: "USER_CONFIG".into(),
                        quantity,
                    }]
                })
                .unwrap_or_default(),
            preferences: Default::default(),
            setup_link: None,
            roles: Vec::new(),
        };
        users::create(
            &self.db,
            &self.state.hasher,
            &self.state.config.policy,
            &Actor::cli(),
            &passgate::accounts::permissions::Caller::operator(),
            new,
        )
        .await
        .expect("create user")
        .user
    }

    /// Creates an API key for `owner` directly through the domain and returns its token.
    pub async fn api_key(
        &self,
        owner: &user_entity::Model,
        permissions: &[&str],
        full_access: bool,
    ) -> String {
        let caller = passgate::accounts::permissions::Caller {
            user_id: owner.user_id,
            superuser: owner.superuser,
            user_config: None,
            roles_config: None,
            key: None,
            proved_temporary: false,
        };
        let scope = passgate::accounts::permissions::KeyScope {
            full_access,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        };
        let (_, token) = passgate::accounts::api_keys::create(
            &self.db,
            &Actor::cli(),
            &caller,
            owner,
            "test key",
            scope,
        )
        .await
        .expect("create key");
        token.expose().to_string()
    }
}

impl TestApp {
    /// Like `api_raw`, but answers (status, whether the body is the JSON envelope) instead of
    /// panicking on anything unexpected: for generated requests.
    pub async fn api_raw_lenient(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, bool) {
        let Ok(method) = Method::from_bytes(method.as_bytes()) else {
            return (StatusCode::BAD_REQUEST, true);
        };
        let Some(request) = api_request(method.clone(), path, headers, body) else {
            // Not a valid request line at all: no server would see it.
            return (StatusCode::BAD_REQUEST, true);
        };
        let (status, _, bytes) = self.send(request).await;
        let envelope = serde_json::from_slice::<serde_json::Value>(&bytes)
            .map(|v| v.get("status").is_some() || v.get("openapi").is_some())
            .unwrap_or(false);
        // HEAD answers carry no body.
        (status, envelope || method == Method::HEAD)
    }
}

/// A request as the API sees it from 127.0.0.1; `None` when it cannot be a request at all.
fn api_request(
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Option<Request<Body>> {
    let mut builder = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let mut request = builder.body(Body::from(body)).ok()?;
    let peer: SocketAddr = "127.0.0.1:40000".parse().ok()?;
    request.extensions_mut().insert(ConnectInfo(peer));
    Some(request)
}

impl TestApp {
    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, axum::body::Bytes) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, bytes)
    }
}

/// The value of the first input with `id`.
pub fn input_value(body: &str, id: &str) -> Option<String> {
    let start = body.find(&format!("id=\"{id}\""))?;
    let tag_start = body[..start].rfind('<')?;
    let tag_end = start + body[start..].find('>')?;
    let tag = &body[tag_start..tag_end];
    let value = tag.split("value=\"").nth(1)?.split('"').next()?;
    Some(
        value
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

/// A POST's 303 to its one-time result, followed: the result page.
pub async fn follow_result(browser: &mut Client<'_>, response: TestResponse) -> TestResponse {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let to = response.location().expect("a Location").to_string();
    assert!(to.starts_with("/panel/result/"), "{to}");
    browser.get(&to).await
}

/// A browser from `from` signed in as `name`, holding the CSRF token of a panel page.
pub async fn signed_in_browser<'a>(
    app: &'a TestApp,
    name: &str,
    password: &str,
    from: &str,
) -> Client<'a> {
    let mut browser = app.client_from(from);
    browser
        .login(name, password)
        .await
        .assert_redirect("/panel/dashboard");
    browser.get("/panel/dashboard").await;
    browser
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 decoding (padding and spaces ignored), written here so that tests do not
/// trust the server's encoder.
pub fn decode_base32(text: &str) -> Vec<u8> {
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let value = BASE32
            .iter()
            .position(|a| *a == c)
            .expect("a base32 character") as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// RFC 4648 base32 encoding (upper case, no padding).
pub fn encode_base32(bytes: &[u8]) -> String {
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, String::new());
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Roles (SPEC §14), made directly through the domain as the operator would.
impl TestApp {
    /// Creates a user holding the given permissions (`(name, quantity)`), managed by `manager`.
    pub async fn user_with_grants(
        &self,
        name: &str,
        manager: Option<i32>,
        grants: &[(&str, i32)],
    ) -> user_entity::Model {
        let user = self.user_with(name, STRONG, false, manager, None).await;
        let grants: Vec<passgate::accounts::grants::Grant> = grants
            .iter()
            .map(|(name, quantity)| passgate::accounts::grants::Grant {
                name: name.to_string(),
                quantity: *quantity,
            })
            .collect();
        passgate::accounts::grants::replace(&self.db, user.user_id, &grants)
            .await
            .expect("grants");
        user
    }

    /// Creates a role (managed by `manager`) and returns its id.
    pub async fn role(&self, name: &str, manager: Option<i32>, mfa_required: bool) -> i32 {
        passgate::accounts::roles::create(
            &self.db,
            &Actor::cli(),
            &passgate::accounts::permissions::Caller::operator(),
            passgate::accounts::roles::NewRole {
                name: name.into(),
                manager: Some(manager),
                mfa_required,
            },
        )
        .await
        .expect("create role")
        .role_id
    }

    /// Puts `users` into role `role_id`.
    pub async fn add_to_role(&self, role_id: i32, users: &[&user_entity::Model]) {
        let ids: Vec<i32> = users.iter().map(|u| u.user_id).collect();
        passgate::accounts::roles::put_members(
            &self.db,
            &Actor::cli(),
            &passgate::accounts::permissions::Caller::operator(),
            role_id,
            &ids,
            true,
        )
        .await
        .expect("add members");
    }
}
