//! The count cards (each a link to the users table filtered to exactly those users) and the
//! second-factor coverage.

use maud::{Markup, html};

use super::OverviewView;
use super::format::{number, percent};
use crate::i18n::Lang;

/// The label of a state's card (every `?status=` name has one).
fn card_label(lang: Lang, status: &str) -> &'static str {
    let key = match status {
        "pending" => "overview.cardPending",
        "expiring" => "overview.cardExpiring",
        "expired" => "overview.cardExpired",
        "locked" => "overview.cardLocked",
        "link" => "overview.cardLink",
        "mfa_missing" => "overview.cardMfaMissing",
        "no_mfa" => "overview.cardNoMfa",
        "disabled" => "overview.cardDisabled",
        "never" => "overview.cardNever",
        "totp" => "overview.coverageTotp",
        "passkey" => "overview.coveragePasskey",
        _ => return "",
    };
    lang.t(key)
}

/// The label of a state as the users table's filter names it (also for its select box).
pub fn filter_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "no_mfa" => lang.t("overview.filterNoMfa"),
        "totp" => lang.t("overview.filterTotp"),
        "passkey" => lang.t("overview.filterPasskey"),
        _ => card_label(lang, status),
    }
}

/// States that call for action when they are not zero (shown with a warning colour).
fn is_alarm(status: &str) -> bool {
    matches!(status, "expired" | "locked" | "mfa_missing" | "expiring")
}

pub(super) fn cards(lang: Lang, view: &OverviewView) -> Markup {
    let scope = if view.everyone {
        lang.t("overview.scopeEveryone")
    } else {
        lang.t("overview.scopeManaged")
    };
    html! {
        section class="card" aria-labelledby="overview-accounts" {
            h2 id="overview-accounts" { (lang.t("overview.accounts")) }
            p class="hint" { (scope.replace("{time}", &view.as_of)) }
            ul class="stats" {
                @for card in &view.cards {
                    li {
                        a class=(if card.count > 0 && is_alarm(card.status) { "stat stat-alarm" } else if card.count == 0 { "stat stat-zero" } else { "stat" })
                            href=(card.href) {
                            span class="stat-number" { (number(lang, card.count)) }
                            span class="stat-label" { (card_label(lang, card.status)) }
                        }
                    }
                }
            }
            p class="hint" { (lang.t("overview.cardsNote")) }
        }
    }
}

pub(super) fn coverage(lang: Lang, view: &OverviewView) -> Markup {
    html! {
        section class="card" aria-labelledby="overview-coverage" {
            h2 id="overview-coverage" { (lang.t("overview.coverage")) }
            p class="hint" {
                (lang.t("overview.coverageOf").replace("{n}", &number(lang, view.enabled)))
            }
            ul class="coverage" {
                @for part in &view.coverage {
                    @let label = if part.status == "no_mfa" { lang.t("overview.coverageNone") } else { card_label(lang, part.status) };
                    li {
                        a href=(part.href) {
                            span class="coverage-label" { (label) }
                            span class="coverage-number" {
                                (number(lang, part.count)) " (" (percent(lang, part.count, view.enabled)) ")"
                            }
                        }
                        (share_bar(part.count, view.enabled, part.status == "no_mfa"))
                    }
                }
            }
        }
    }
}

/// A bar as long as `part` is of `whole` (decoration: the number beside it says it).
fn share_bar(part: u64, whole: u64, warn: bool) -> Markup {
    let width = if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    };
    html! {
        svg class="share" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" focusable="false" {
            rect class="share-track" x="0" y="0" width="100" height="6" {}
            rect class=(if warn { "share-fill share-warn" } else { "share-fill" }) x="0" y="0"
                width=(format!("{width:.1}")) height="6" {}
        }
    }
}
