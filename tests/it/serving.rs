//! Real `passgate serve` processes for the tests that need one (two instances, signals,
//! metrics, the audit stream): started on a free loopback port, killed when dropped, and a
//! small HTTP/1.1 client to talk to them. (`process` is the operator tests' harness, for
//! administrative commands.)

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{PgDatabase, cookie_header, csrf_in, postgres_admin_url};

/// A running `passgate serve`, killed when dropped (also when the test panics). Standard
/// output goes to `NAME.out`, standard error (the log) to `NAME.log`.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: std::path::PathBuf,
    out: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(name: &str, database_url: &str, dir: &std::path::Path) -> Server {
        Server::start_with(name, database_url, dir, &[])
    }

    /// With more `PASSGATE_*` settings (the log level is `warn` unless `env` sets it).
    pub fn start_with(
        name: &str,
        database_url: &str,
        dir: &std::path::Path,
        env: &[(&str, String)],
    ) -> Server {
        let addr = free_port();
        let log = dir.join(format!("{name}.log"));
        let out = dir.join(format!("{name}.out"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_passgate"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PASSGATE_DATABASE_URL", database_url)
            .env("PASSGATE_BIND", addr.to_string())
            .env("PASSGATE_LOG", "warn");
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start passgate");
        Server {
            child,
            addr,
            log,
            out,
        }
    }

    /// Standard error (the log) and standard output, for a failure's message.
    pub fn log(&self) -> String {
        format!("{}\n--- stdout:\n{}", self.stderr(), self.stdout())
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The first admin's password, as the first start printed it.
    pub fn admin_password(&self) -> String {
        let out = self.stdout();
        let mut lines = out
            .lines()
            .skip_while(|l| !l.contains("Created the superuser 'admin'"));
        lines
            .nth(1)
            .into_iter()
            .chain(lines)
            .find(|l| l.starts_with("    ") && !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .unwrap_or_else(|| panic!("no admin password printed:\n{}", self.log()))
    }

    /// Sends a signal (`HUP`, `TERM`, …) by the process's id.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGTERM, then the exit status (within 30 s).
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "passgate did not stop:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("passgate exited with {status}:\n{}", self.log());
            }
            if let Ok(response) = try_http(self.addr, "GET", "/healthz", &[], None).await
                && response.status == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "passgate did not come up:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A database for a server process: the test's PostgreSQL database when the suite runs on
/// PostgreSQL, else a SQLite file in `dir`.
pub async fn process_database(dir: &Path) -> (String, Option<PgDatabase>) {
    match postgres_admin_url() {
        Some(admin) => {
            let pg = PgDatabase::create(&admin).await;
            (pg.url.clone(), Some(pg))
        }
        None => (
            format!("sqlite://{}/passgate.db?mode=rwc", dir.display()),
            None,
        ),
    }
}

/// A port nobody listens on right now (bound to :0, then released).
pub fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }
}

/// HTTP/1.1 by hand: one request per connection (`Connection: close`).
pub async fn try_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = match body {
        Some((content_type, body)) => {
            request.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ));
            body
        }
        None if method != "GET" => {
            request.push_str("Content-Length: 0\r\n");
            String::new()
        }
        None => String::new(),
    };
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut decoded = Vec::new();
        let mut at = 0;
        while let Some(end) = rest[at..].windows(2).position(|w| w == b"\r\n") {
            let size_line = String::from_utf8_lossy(&rest[at..at + end]).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            at += end + 2;
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
        rest = decoded;
    }
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&rest).into_owned(),
    })
}

/// A browser for several servers: cookies are per host, not per port, exactly as behind a
/// load balancer that sends each request to any instance.
#[derive(Default)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
}

impl Browser {
    pub async fn request(
        &mut self,
        server: &Server,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> HttpResponse {
        let cookie = cookie_header(&self.cookies);
        let mut headers = Vec::new();
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        let body = form.map(|fields| {
            let mut all = fields.to_vec();
            if let Some(token) = &self.csrf {
                all.push(("csrf_token", token));
            }
            (
                "application/x-www-form-urlencoded",
                serde_urlencoded::to_string(&all).unwrap(),
            )
        });
        let response = try_http(server.addr, method, path, &headers, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", server.log()));
        for (name, value) in &response.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || value.to_ascii_lowercase().contains("max-age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        if let Some(token) = csrf_in(&response.body) {
            self.csrf = Some(token);
        }
        response
    }

    pub async fn login(&mut self, server: &Server, username: &str, password: &str) -> HttpResponse {
        self.request(server, "GET", "/login", None).await;
        self.request(
            server,
            "POST",
            "/login",
            Some(&[("username", username), ("password", password)]),
        )
        .await
    }
}

/// A running server the HTTP helpers can talk to (this module's and `process`'s).
pub trait Served {
    fn addr(&self) -> SocketAddr;
    /// What it logged, for a failure's message.
    fn log(&self) -> String;
}

impl Served for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn log(&self) -> String {
        Server::log(self)
    }
}

/// A JSON API call with an optional bearer token.
pub async fn api(
    server: &impl Served,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> HttpResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    try_http(
        server.addr(),
        method,
        path,
        &headers,
        body.map(|b| ("application/json", b.to_string())),
    )
    .await
    .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", server.log()))
}

pub async fn api_login(server: &impl Served, username: &str, password: &str) -> HttpResponse {
    api(
        server,
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": username, "password": password})),
    )
    .await
}

pub async fn api_token(server: &impl Served, username: &str, password: &str) -> String {
    let response = api_login(server, username, password).await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["data"]["token"]
        .as_str()
        .expect("token")
        .to_string()
}

/// The first admin on a fresh server, past the forced change.
pub struct FirstAdmin {
    /// The password the server printed.
    pub printed: String,
    /// The token of the sign-in with it (before the change).
    pub first_token: String,
    /// The token after the change.
    pub token: String,
}

/// The first admin's walk: signs in with the printed password and changes it to `password`.
pub async fn first_admin(server: &impl Served, printed: String, password: &str) -> FirstAdmin {
    let first_token = api_token(server, "admin", &printed).await;
    let changed = api(
        server,
        "PATCH",
        "/api/v2/users/@me",
        Some(&first_token),
        Some(serde_json::json!({"password": password})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let token = changed.json()["data"]["token"]
        .as_str()
        .expect("a new token after the change")
        .to_string();
    FirstAdmin {
        printed,
        first_token,
        token,
    }
}
