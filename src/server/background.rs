//! The server's background work: pruning what has expired, the audit retention, SIGHUP for the
//! audit stream, and the metrics' upkeep.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tower_sessions::session_store::ExpiredDeletion;

use crate::accounts::audit::stream::AuditStream;
use crate::auth::session_store::DbSessionStore;
use crate::config::Config;

/// Every ten minutes: expired sessions (the panel's and single sign-on's), throttle counters,
/// two-factor enrolments, passkey ceremonies, one-time results, ended OpenID Connect grants and
/// the managers' chart days older than any chart shows go.
pub fn prune_expired(db: &DatabaseConnection, config: &Config) {
    let cleanup = DbSessionStore::new(db.clone());
    let db = db.clone();
    let throttle = config.throttle;
    let max_lifetime = config.session_max_lifetime;
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(600));
        loop {
            interval.tick().await;
            if let Err(err) = cleanup.delete_expired().await {
                tracing::warn!(error = %err, "deleting expired sessions failed");
            }
            if let Err(err) = crate::auth::sso::prune(&db, max_lifetime).await {
                tracing::warn!(error = %err, "deleting expired single sign-on sessions failed");
            }
            if let Err(err) = crate::auth::throttle::prune(&db, &throttle).await {
                tracing::warn!(error = %err, "pruning the login throttle failed");
            }
            if let Err(err) = crate::accounts::mfa::prune_enrolments(&db).await {
                tracing::warn!(error = %err, "pruning expired two-factor enrolments failed");
            }
            if let Err(err) = crate::accounts::passkeys::prune_ceremonies(&db).await {
                tracing::warn!(error = %err, "pruning expired passkey ceremonies failed");
            }
            if let Err(err) = crate::auth::one_time::prune(&db).await {
                tracing::warn!(error = %err, "pruning expired one-time results failed");
            }
            if let Err(err) = crate::accounts::oidc::grants::prune(&db).await {
                tracing::warn!(error = %err, "pruning ended OpenID Connect grants failed");
            }
            let today = crate::accounts::clock::now().date();
            if let Err(err) = crate::accounts::overview::prune_viewer_days(&db, today).await {
                tracing::warn!(error = %err, "pruning the managers' chart days failed");
            }
        }
    });
}

/// `PASSGATE_AUDIT_RETENTION_DAYS`: at start and then once an hour, audit entries older than
/// that go (every instance may do it; the statement is the same).
pub fn audit_retention(db: &DatabaseConnection, days: u32) {
    let db = db.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        loop {
            interval.tick().await;
            match crate::accounts::audit::prune(&db, days).await {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, days, "audit entries past the retention deleted");
                }
                Err(err) => tracing::warn!(error = %err, "pruning the audit log failed"),
            }
        }
    });
}

/// SIGHUP reopens the audit file (logrotate's `postrotate`, systemd's `ExecReload`); without
/// an audit file it only says so. Installed whether or not there is one, so that a stray
/// SIGHUP never ends the server.
pub fn reopen_on_sighup(stream: Option<AuditStream>) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match &stream {
                Some(stream) => {
                    tracing::info!("SIGHUP: reopening the audit file");
                    stream.reopen();
                }
                None => tracing::info!("SIGHUP: no audit file to reopen"),
            }
        }
    });
    Ok(())
}

/// Folds recorded latencies into the histograms every five seconds.
pub fn metrics_upkeep(exporter: crate::metrics::Exporter) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(5));
        loop {
            interval.tick().await;
            exporter.run_upkeep();
        }
    });
}
