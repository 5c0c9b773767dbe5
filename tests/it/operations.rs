//! Running it as operators expect (SPEC §17), on a real process: JSON logs with the request
//! id, `passgate healthcheck` for images without curl, SIGHUP that ends nothing.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;
use crate::serving::{Server, api_login, free_port, try_http};

fn healthcheck(bind: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_passgate"))
        .arg("healthcheck")
        .env_clear()
        .env("PASSGATE_BIND", bind)
        .output()
        .expect("passgate healthcheck")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_with_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/passgate.db?mode=rwc", dir.path().display());
    let mut server = Server::start_with(
        "json",
        &url,
        dir.path(),
        &[
            ("PASSGATE_LOG_FORMAT", "json".into()),
            ("PASSGATE_LOG", "info,tower_http=debug".into()),
        ],
    );
    server.wait_ready().await;
    let response = api_login(&server, "admin", STRONG).await;
    assert_eq!(response.status, 401);
    let request_id = response
        .header("x-request-id")
        .expect("x-request-id")
        .to_string();
    assert!(server.stop().await.success());
    let log = server.stderr();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON object: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["level"].is_string())
    );
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["id"] == request_id.as_str())
        .collect();
    assert!(
        of_request.len() >= 2,
        "the request's lines carry its id ({request_id}):\n{log}"
    );
    assert!(
        of_request
            .iter()
            .all(|l| l["span"]["path"] == "/api/v2/auth/login")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "passgate stopped")
    );
    assert!(!log.contains(STRONG), "no password in the log");
}

#[tokio::test]
async fn a_bad_log_format_stops_the_start_with_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_passgate"))
        .arg("serve")
        .env_clear()
        .env("PASSGATE_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("PASSGATE_LOG_FORMAT"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_passes_while_it_serves_and_fails_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/passgate.db?mode=rwc", dir.path().display());
    // Bound to every interface, as in the container image: checked through loopback.
    let port = free_port().port();
    let mut server = Server::start_with(
        "health",
        &url,
        dir.path(),
        &[("PASSGATE_BIND", format!("0.0.0.0:{port}"))],
    );
    server.addr = format!("127.0.0.1:{port}").parse().unwrap();
    server.wait_ready().await;
    let passed = healthcheck(&format!("0.0.0.0:{port}"));
    assert_eq!(passed.status.code(), Some(0), "{passed:?}");
    assert!(String::from_utf8_lossy(&passed.stdout).contains("/healthz: ok"));
    // SIGHUP ends nothing (no audit file to reopen here).
    server.signal("HUP");
    let after = try_http(server.addr, "GET", "/healthz", &[], None)
        .await
        .unwrap();
    assert_eq!(after.status, 200);
    assert!(server.is_running());
    assert!(server.stop().await.success());
    let failed = healthcheck(&format!("0.0.0.0:{port}"));
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains(&format!("127.0.0.1:{port}/healthz")),
        "{failed:?}"
    );
    // Something else on the port (not passgate, no 200) fails it too.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let other = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let unavailable = healthcheck(&other.to_string());
    assert_eq!(unavailable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unavailable.stderr).contains("answered 503"));
}
