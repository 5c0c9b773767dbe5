//! The states the overview counts and the users table filters by (`?status=`, SPEC §18),
//! each one SQL condition over `users`: a card's number and its filter are the same condition
//! (`users::UserFilter`), so they cannot name different users.

use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use time::PrimitiveDateTime;

use crate::accounts::reset_links;
use crate::config::MfaPolicy;
use crate::entities::{
    login_throttle, passkeys, reset_links as link_entity, roles, totp_devices, user_roles, users,
};

/// How far ahead *expires within 24 h* looks.
pub const EXPIRING_WITHIN: time::Duration = time::Duration::hours(24);

/// A state a user is in (several may hold at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UserStatus {
    /// Must change their password at the next sign-in, and the temporary one still works.
    Pending,
    /// A temporary password that expires within 24 h from now (and has not yet).
    Expiring,
    /// A temporary password whose expiry has passed.
    Expired,
    /// Their username is locked by the sign-in throttle now (SPEC §3a).
    Locked,
    /// A reset or set-up link that can still be used (SPEC §10).
    Link,
    /// Enabled, must have a second factor (their flag, the server's policy or a role) and has
    /// none: they are held at enrolment when they sign in.
    MfaMissing,
    /// Enabled and without a second factor.
    NoMfa,
    Disabled,
    /// Has never signed in.
    Never,
    /// Enabled, with an authenticator app (the second-factor coverage).
    Totp,
    /// Enabled, with a passkey (the second-factor coverage).
    Passkey,
}

impl UserStatus {
    /// Every state, in the order the overview shows them.
    pub const ALL: [UserStatus; 11] = [
        UserStatus::Pending,
        UserStatus::Expiring,
        UserStatus::Expired,
        UserStatus::Locked,
        UserStatus::Link,
        UserStatus::MfaMissing,
        UserStatus::NoMfa,
        UserStatus::Disabled,
        UserStatus::Never,
        UserStatus::Totp,
        UserStatus::Passkey,
    ];

    /// The value of `?status=`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Pending => "pending",
            UserStatus::Expiring => "expiring",
            UserStatus::Expired => "expired",
            UserStatus::Locked => "locked",
            UserStatus::Link => "link",
            UserStatus::MfaMissing => "mfa_missing",
            UserStatus::NoMfa => "no_mfa",
            UserStatus::Disabled => "disabled",
            UserStatus::Never => "never",
            UserStatus::Totp => "totp",
            UserStatus::Passkey => "passkey",
        }
    }

    /// Whether the overview shows this state as a card (SPEC §18's nine; the coverage's
    /// *with TOTP* and *with a passkey* are not cards).
    pub fn is_card(self) -> bool {
        !matches!(self, UserStatus::Totp | UserStatus::Passkey)
    }

    /// The state a `?status=` value names (exactly as [`UserStatus::as_str`] spells it).
    pub fn parse(value: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// This state as of `now`, with the server's two-factor policy.
    pub fn at(self, now: PrimitiveDateTime, policy: MfaPolicy) -> StatusFilter {
        StatusFilter {
            status: self,
            now,
            policy,
        }
    }
}

/// A [`UserStatus`] at a moment, under a two-factor policy: what a filter needs to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusFilter {
    pub status: UserStatus,
    pub now: PrimitiveDateTime,
    pub policy: MfaPolicy,
}

fn col(column: users::Column) -> Expr {
    Expr::col((users::Entity, column))
}

/// `users.user_id IN (SELECT user_id FROM table WHERE …)`.
fn user_in(select: sea_orm::sea_query::SelectStatement) -> SimpleExpr {
    col(users::Column::UserId).in_subquery(select)
}

fn has_factor() -> SimpleExpr {
    user_in(
        Query::select()
            .column(totp_devices::Column::UserId)
            .from(totp_devices::Entity)
            .to_owned(),
    )
    .or(user_in(
        Query::select()
            .column(passkeys::Column::UserId)
            .from(passkeys::Entity)
            .to_owned(),
    ))
}

/// Whether a second factor is required of the user: their own flag, the server's policy (SPEC
/// §9), or a role of theirs with `mfa_required` (§14) — `mfa::required` as SQL. The flags are
/// in the index `users (enabled, require_mfa, superuser)` and the role's members a list read
/// once, so a count decides this without reading the table.
fn factor_required(policy: MfaPolicy) -> SimpleExpr {
    let by_policy = match policy {
        MfaPolicy::None => Expr::val(false),
        MfaPolicy::Superusers => col(users::Column::Superuser).eq(true),
        MfaPolicy::All => Expr::val(true),
    };
    col(users::Column::RequireMfa)
        .eq(true)
        .or(by_policy)
        .or(user_in(
            Query::select()
                .column((user_roles::Entity, user_roles::Column::UserId))
                .from(user_roles::Entity)
                .inner_join(
                    roles::Entity,
                    Expr::col((roles::Entity, roles::Column::RoleId))
                        .equals((user_roles::Entity, user_roles::Column::RoleId)),
                )
                .and_where(Expr::col((roles::Entity, roles::Column::MfaRequired)).eq(true))
                .to_owned(),
        ))
}

/// `enabled`, for a condition whose other part names few users (those with a factor): the same
/// truth as `enabled = TRUE` (the column is never NULL), written so that SQLite, which has no
/// statistics, does not read the `enabled` index of every user to test the few (measured:
/// 0.9 ms → 0.3 ms for 2,000 devices among 10,000 users), but the few and their rows.
fn enabled_among_few() -> SimpleExpr {
    Expr::cust("users.enabled IS TRUE")
}

/// The enabled users with a second factor (read from the few with one): the complement, among
/// the enabled, of *no second factor*, which is counted as their difference.
pub(super) fn enabled_with_factor() -> SimpleExpr {
    enabled_among_few().and(has_factor())
}

impl StatusFilter {
    /// The condition on a query of `users`.
    pub fn condition(&self) -> SimpleExpr {
        let now = self.now;
        let expires = || col(users::Column::PasswordExpires);
        let enabled = || col(users::Column::Enabled).eq(true);
        match self.status {
            UserStatus::Pending => col(users::Column::RequirePasswordChange)
                .eq(true)
                .and(expires().is_null().or(expires().gt(now))),
            UserStatus::Expiring => expires().gt(now).and(expires().lte(now + EXPIRING_WITHIN)),
            UserStatus::Expired => expires().lte(now),
            UserStatus::Locked => user_in(
                Query::select()
                    .column(login_throttle::Column::UserId)
                    .from(login_throttle::Entity)
                    .and_where(Expr::col(login_throttle::Column::LockedUntil).gt(now))
                    .and_where(Expr::col(login_throttle::Column::UserId).is_not_null())
                    .to_owned(),
            ),
            UserStatus::Link => user_in(
                Query::select()
                    .column(link_entity::Column::UserId)
                    .from(link_entity::Entity)
                    .and_where(Expr::col(link_entity::Column::State).eq(reset_links::state::LIVE))
                    .and_where(Expr::col(link_entity::Column::Expires).gt(now))
                    .to_owned(),
            ),
            // The requirement before the factors: most users are not required one, and
            // that is decided on the index (see `factor_required`).
            UserStatus::MfaMissing => enabled()
                .and(factor_required(self.policy))
                .and(has_factor().not()),
            UserStatus::NoMfa => enabled().and(has_factor().not()),
            UserStatus::Disabled => col(users::Column::Enabled).eq(false),
            UserStatus::Never => col(users::Column::LastLogin).is_null(),
            UserStatus::Totp => enabled_among_few().and(user_in(
                Query::select()
                    .column(totp_devices::Column::UserId)
                    .from(totp_devices::Entity)
                    .to_owned(),
            )),
            UserStatus::Passkey => enabled_among_few().and(user_in(
                Query::select()
                    .column(passkeys::Column::UserId)
                    .from(passkeys::Entity)
                    .to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name_and_nothing_else_does() {
        for status in UserStatus::ALL {
            assert_eq!(UserStatus::parse(status.as_str()), Some(status));
        }
        for other in [
            "",
            "Pending",
            "pending ",
            "all",
            "mfa-missing",
            "expired,locked",
        ] {
            assert_eq!(UserStatus::parse(other), None, "{other:?}");
        }
    }
}
