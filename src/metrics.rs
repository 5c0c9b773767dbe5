//! Prometheus metrics (SPEC §17): every series' name, a typed recording function for each, and
//! the exposition. Any layer may record (this module imports nothing of the crate); nothing is
//! kept unless `PASSGATE_METRICS_BIND` is set, which installs the recorder ([`install`]):
//! without one every recording function is a no-op.
//!
//! Labels come only from the enums below and from route templates (`/api/v2/users/{id}`),
//! never from a request's text: no username, address or token can reach a label.

use ::metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a recorder is installed: a count that costs a database statement is taken only then.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether metrics are kept (`PASSGATE_METRICS_BIND` is set and the recorder installed).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The series, by name (the README's table lists them with their labels).
pub mod name {
    pub const HTTP_REQUESTS: &str = "passgate_http_requests_total";
    pub const HTTP_DURATION: &str = "passgate_http_request_duration_seconds";
    pub const SIGN_INS: &str = "passgate_sign_ins_total";
    pub const RESETS: &str = "passgate_resets_total";
    pub const RESET_LINKS_USED: &str = "passgate_reset_links_used_total";
    pub const FORCED_CHANGES: &str = "passgate_forced_password_changes_total";
    pub const FORWARD_AUTH: &str = "passgate_forward_auth_decisions_total";
    pub const OIDC_ISSUED: &str = "passgate_oidc_issued_total";
    pub const OIDC_REFRESHED: &str = "passgate_oidc_refreshed_total";
    pub const OIDC_REVOKED: &str = "passgate_oidc_revoked_total";
    pub const ARGON2_QUEUE: &str = "passgate_argon2_queue_depth";
    pub const AUDIT_LINES: &str = "passgate_audit_stream_lines_total";
    pub const AUDIT_FAILURES: &str = "passgate_audit_stream_failures_total";
    pub const AUDIT_PRUNED: &str = "passgate_audit_entries_pruned_total";
    pub const USERS: &str = "passgate_users";
    pub const USERS_ENABLED: &str = "passgate_users_enabled";
    pub const PENDING_CHANGES: &str = "passgate_users_password_change_pending";
    pub const EXPIRED_TEMPORARY: &str = "passgate_users_temporary_password_expired";
    pub const LOCKED_USERNAMES: &str = "passgate_usernames_locked";
    pub const WITH_SECOND_FACTOR: &str = "passgate_users_with_second_factor";
    pub const LIVE_RESET_LINKS: &str = "passgate_reset_links_live";
    pub const SESSIONS: &str = "passgate_sessions";
}

/// Defines a label enum: its variants, their label values, and the list of all of them (every
/// series is shown from the start, at 0).
macro_rules! label_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The label value.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }
    };
}

label_enum! {
    /// How a sign-in attempt ended (`passgate_sign_ins_total{outcome}`), on the web and the API
    /// alike. A right password that still needs its second factor is no outcome yet.
    SignIn {
        /// Signed in with a password (and the second factor, if the user has one).
        Success => "success",
        /// A wrong password for an existing user.
        WrongPassword => "wrong_password",
        /// No such user.
        UnknownUser => "unknown_user",
        /// Refused by the throttle (the username or the address is locked).
        Locked => "locked",
        /// The right password of a disabled account.
        Disabled => "disabled",
        /// The right temporary password, past its expiry.
        TempPasswordExpired => "temp_password_expired",
        /// A wrong, used or replayed TOTP or recovery code.
        SecondFactorWrong => "second_factor_wrong",
        /// The user signs in with passkeys only; a password was tried.
        PasswordNotAllowed => "password_not_allowed",
        /// Signed in with a passkey (no password).
        Passkey => "passkey",
        /// A passkey answer that was not accepted.
        PasskeyRefused => "passkey_refused",
    }
}

label_enum! {
    /// What an administrator (or the command line) issued for a user who cannot or must not
    /// sign in with their password (`passgate_resets_total{kind}`).
    Reset {
        /// A temporary password (generated or chosen).
        TemporaryPassword => "temporary_password",
        /// A single-use reset link.
        ResetLink => "reset_link",
        /// A set-up link for a new account.
        SetupLink => "setup_link",
    }
}

label_enum! {
    /// The kind of a link a user opened and used (`passgate_reset_links_used_total{kind}`).
    LinkUsed {
        ResetLink => "reset_link",
        SetupLink => "setup_link",
    }
}

label_enum! {
    /// A forward-auth decision (SPEC §15.2; `passgate_forward_auth_decisions_total{outcome}`).
    ForwardAuth {
        /// Signed in and allowed: 200 with the identity headers.
        Allow => "allow",
        /// Not signed in (or a step is missing): sent to sign in.
        SignIn => "sign_in",
        /// Signed in but not allowed: 403.
        Deny => "deny",
        /// A public path of the application: allowed without a sign-in.
        Public => "public",
    }
}

label_enum! {
    /// What the OpenID Connect provider hands out (SPEC §16).
    Oidc {
        Code => "code",
        AccessToken => "access_token",
        RefreshToken => "refresh_token",
        IdToken => "id_token",
    }
}

/// One sign-in attempt's outcome.
pub fn sign_in(outcome: SignIn) {
    counter!(name::SIGN_INS, "outcome" => outcome.label()).increment(1);
}

/// A temporary password, reset link or set-up link issued (after its transaction committed).
pub fn reset_issued(kind: Reset) {
    counter!(name::RESETS, "kind" => kind.label()).increment(1);
}

/// A reset or set-up link used to set a password.
pub fn reset_link_used(kind: LinkUsed) {
    counter!(name::RESET_LINKS_USED, "kind" => kind.label()).increment(1);
}

/// A forced password change completed (the user replaced a temporary password, or set one
/// after a required change).
pub fn forced_change_completed() {
    counter!(name::FORCED_CHANGES).increment(1);
}

/// A forward-auth request decided (call once per request of `/auth/…`'s check endpoint).
pub fn forward_auth_decision(outcome: ForwardAuth) {
    counter!(name::FORWARD_AUTH, "outcome" => outcome.label()).increment(1);
}

/// An authorization code or a token issued by the OIDC provider (one call per code or token:
/// a token answer with an access, a refresh and an ID token is three calls).
pub fn oidc_issued(kind: Oidc) {
    counter!(name::OIDC_ISSUED, "kind" => kind.label()).increment(1);
}

/// A refresh-token grant answered (its new tokens are counted by [`oidc_issued`] too).
pub fn oidc_refreshed() {
    counter!(name::OIDC_REFRESHED).increment(1);
}

/// Live tokens revoked (RFC 7009, or a grant ended by a stamp rotation, a sign-out, the
/// sessions page, a replayed code or a reused refresh token).
pub fn oidc_revoked(kind: Oidc, tokens: u64) {
    counter!(name::OIDC_REVOKED, "kind" => kind.label()).increment(tokens);
}

/// A password hash or verification waits for a hashing thread (+1) or got one (-1).
pub fn argon2_queue(change: f64) {
    gauge!(name::ARGON2_QUEUE).increment(change);
}

/// One HTTP request answered: `route` is the route's template (`/api/v2/users/{id}`), or
/// `unmatched` for a path no route knows; never the path itself.
pub fn http_request(route: &str, method: &str, status: u16, seconds: f64) {
    let route = ::metrics::SharedString::from(route.to_owned());
    let method = static_method(method);
    counter!(
        name::HTTP_REQUESTS,
        "route" => route.clone(),
        "method" => method,
        "status" => status_label(status),
    )
    .increment(1);
    ::metrics::histogram!(name::HTTP_DURATION, "route" => route, "method" => method)
        .record(seconds);
}

/// Audit lines written to the stream.
pub fn audit_lines_written(lines: u64) {
    counter!(name::AUDIT_LINES).increment(lines);
}

/// A failed attempt to write (or open) the audit stream; the lines are tried again.
pub fn audit_stream_failed() {
    counter!(name::AUDIT_FAILURES).increment(1);
}

/// Audit entries deleted by the retention prune.
pub fn audit_pruned(rows: u64) {
    counter!(name::AUDIT_PRUNED).increment(rows);
}

/// The gauges computed from the database at each scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountGauges {
    pub users: u64,
    pub enabled: u64,
    pub pending_changes: u64,
    pub expired_temporary_passwords: u64,
    pub locked_usernames: u64,
    pub with_second_factor: u64,
    pub live_reset_links: u64,
    pub sessions: u64,
}

impl AccountGauges {
    fn set(&self) {
        let pairs = [
            (name::USERS, self.users),
            (name::USERS_ENABLED, self.enabled),
            (name::PENDING_CHANGES, self.pending_changes),
            (name::EXPIRED_TEMPORARY, self.expired_temporary_passwords),
            (name::LOCKED_USERNAMES, self.locked_usernames),
            (name::WITH_SECOND_FACTOR, self.with_second_factor),
            (name::LIVE_RESET_LINKS, self.live_reset_links),
            (name::SESSIONS, self.sessions),
        ];
        for (series, value) in pairs {
            gauge!(series).set(value as f64);
        }
    }
}

/// The installed recorder: renders the exposition.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
}

/// Latency buckets of `passgate_http_request_duration_seconds`: a page or an API call takes
/// about a millisecond, a sign-in (argon2) tens of milliseconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process's recorder, describes every series and shows each labelled series at
/// 0 (so `rate()` works from the first scrape). Once per process.
pub fn install() -> Result<Exporter, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(name::HTTP_DURATION.into()), LATENCY_BUCKETS)
        .map_err(|e| format!("metrics: {e}"))?
        .install_recorder()
        .map_err(|e| format!("metrics: {e}"))?;
    describe();
    for outcome in SignIn::ALL {
        counter!(name::SIGN_INS, "outcome" => outcome.label()).absolute(0);
    }
    for kind in Reset::ALL {
        counter!(name::RESETS, "kind" => kind.label()).absolute(0);
    }
    for kind in LinkUsed::ALL {
        counter!(name::RESET_LINKS_USED, "kind" => kind.label()).absolute(0);
    }
    for outcome in ForwardAuth::ALL {
        counter!(name::FORWARD_AUTH, "outcome" => outcome.label()).absolute(0);
    }
    for kind in Oidc::ALL {
        counter!(name::OIDC_ISSUED, "kind" => kind.label()).absolute(0);
    }
    for kind in [Oidc::AccessToken, Oidc::RefreshToken] {
        counter!(name::OIDC_REVOKED, "kind" => kind.label()).absolute(0);
    }
    for series in [
        name::FORCED_CHANGES,
        name::OIDC_REFRESHED,
        name::AUDIT_LINES,
        name::AUDIT_FAILURES,
        name::AUDIT_PRUNED,
    ] {
        counter!(series).absolute(0);
    }
    gauge!(name::ARGON2_QUEUE).set(0.0);
    ENABLED.store(true, Ordering::Relaxed);
    Ok(Exporter { handle })
}

impl Exporter {
    /// The Prometheus text exposition, with the database's gauges as of now.
    pub fn render(&self, gauges: &AccountGauges) -> String {
        gauges.set();
        self.handle.render()
    }

    /// Folds recorded latencies into the histograms (run every few seconds, so that samples
    /// do not pile up between scrapes).
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn describe() {
    describe_counter!(
        name::HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        name::HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route template and method"
    );
    describe_counter!(name::SIGN_INS, "Sign-in attempts, by outcome");
    describe_counter!(
        name::RESETS,
        "Temporary passwords, reset links and set-up links issued, by kind"
    );
    describe_counter!(
        name::RESET_LINKS_USED,
        "Reset and set-up links used to set a password, by kind"
    );
    describe_counter!(name::FORCED_CHANGES, "Forced password changes completed");
    describe_counter!(name::FORWARD_AUTH, "Forward-auth decisions, by outcome");
    describe_counter!(
        name::OIDC_ISSUED,
        "OpenID Connect codes and tokens issued, by kind"
    );
    describe_counter!(
        name::OIDC_REFRESHED,
        "OpenID Connect refresh grants answered"
    );
    describe_counter!(name::OIDC_REVOKED, "OpenID Connect tokens revoked, by kind");
    describe_gauge!(
        name::ARGON2_QUEUE,
        "Password hashes and verifications waiting for a hashing thread"
    );
    describe_counter!(name::AUDIT_LINES, "Audit lines written to the audit stream");
    describe_counter!(
        name::AUDIT_FAILURES,
        "Failed attempts to open or write the audit stream (the lines are tried again)"
    );
    describe_counter!(
        name::AUDIT_PRUNED,
        "Audit entries deleted by PASSGATE_AUDIT_RETENTION_DAYS"
    );
    describe_gauge!(name::USERS, "Users");
    describe_gauge!(name::USERS_ENABLED, "Enabled users");
    describe_gauge!(
        name::PENDING_CHANGES,
        "Users who must change their password at the next sign-in"
    );
    describe_gauge!(
        name::EXPIRED_TEMPORARY,
        "Users whose temporary password has expired"
    );
    describe_gauge!(
        name::LOCKED_USERNAMES,
        "Usernames locked by the sign-in throttle now"
    );
    describe_gauge!(
        name::WITH_SECOND_FACTOR,
        "Users with a second factor (a TOTP device or a passkey)"
    );
    describe_gauge!(
        name::LIVE_RESET_LINKS,
        "Reset and set-up links not yet used, revoked or expired"
    );
    describe_gauge!(name::SESSIONS, "Signed-in web sessions not yet expired");
}

/// The method as a static label (anything unusual is `other`, so a client cannot make new
/// series by inventing methods).
fn static_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The status as a static label.
fn status_label(status: u16) -> ::metrics::SharedString {
    ::metrics::SharedString::from(status.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_prometheus_label_values_and_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for label in SignIn::ALL.iter().map(|o| o.label()) {
            assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(seen.insert(label), "{label} twice");
        }
        assert_eq!(static_method("BREW"), "other");
        assert_eq!(static_method("PATCH"), "PATCH");
    }
}
