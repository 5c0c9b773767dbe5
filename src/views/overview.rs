//! The administrator's overview on the dashboard (SPEC §18): the count cards (each a link to
//! the users table filtered to exactly those users), the 30-day chart of sign-ins and resets
//! with its numbers as a table, the second-factor coverage and the applications' users.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::views::chart::{Bar, BarChart, bar_chart};

/// A number of users in one state, and the users table filtered to them.
pub struct CountView {
    /// The state's `?status=` name.
    pub status: &'static str,
    pub count: u64,
    pub href: String,
}

/// One UTC day of the chart.
pub struct DayView {
    pub date: time::Date,
    pub signed_in: u64,
    pub failed: u64,
    pub resets: u64,
}

pub struct AppView {
    pub name: String,
    pub users: u64,
}

pub struct OverviewView {
    /// Everyone (a superuser), or the users the viewer manages.
    pub everyone: bool,
    /// When the numbers were taken (`2026-12-06 10:00`, UTC).
    pub as_of: String,
    pub cards: Vec<CountView>,
    /// The enabled users, and those with TOTP, with a passkey, with none.
    pub enabled: u64,
    pub coverage: Vec<CountView>,
    /// Oldest first.
    pub days: Vec<DayView>,
    pub apps: Vec<AppView>,
}

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

/// `1234567` as `1,234,567` (en) or `1.234.567` (de).
pub fn number(lang: Lang, n: u64) -> String {
    let digits = n.to_string();
    let separator = lang.t("overview.thousands");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

fn percent(lang: Lang, part: u64, whole: u64) -> String {
    let share = (part * 100 + whole / 2).checked_div(whole).unwrap_or(0);
    lang.t("overview.percent")
        .replace("{n}", &share.to_string())
}

/// `Dec 6` (en) or `6. Dez.` (de).
fn short_date(lang: Lang, date: time::Date) -> String {
    let months: Vec<&str> = lang.t("overview.months").split_whitespace().collect();
    let month = months
        .get(usize::from(u8::from(date.month())) - 1)
        .copied()
        .unwrap_or("");
    lang.t("overview.dayMonth")
        .replace("{month}", month)
        .replace("{day}", &date.day().to_string())
}

/// `2026-12-06`: the table's days (unambiguous in both languages).
fn iso_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

pub fn overview_sections(lang: Lang, view: &OverviewView) -> Markup {
    html! {
        (cards(lang, view))
        (activity(lang, view))
        (coverage(lang, view))
        @if !view.apps.is_empty() { (apps(lang, view)) }
    }
}

fn cards(lang: Lang, view: &OverviewView) -> Markup {
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

fn activity(lang: Lang, view: &OverviewView) -> Markup {
    let total = |f: fn(&DayView) -> u64| view.days.iter().map(f).sum::<u64>();
    let (signed_in, failed, resets) = (
        total(|d| d.signed_in),
        total(|d| d.failed),
        total(|d| d.resets),
    );
    let first = view
        .days
        .first()
        .map(|d| iso_date(d.date))
        .unwrap_or_default();
    let last = view
        .days
        .last()
        .map(|d| iso_date(d.date))
        .unwrap_or_default();
    let range = lang
        .t("overview.range")
        .replace("{first}", &first)
        .replace("{last}", &last);
    let labelled = |i: usize| -> bool { (view.days.len() - 1 - i).is_multiple_of(7) };
    let n = |v: u64| number(lang, v);
    let sign_in_bars: Vec<Bar> = view
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| Bar {
            values: vec![d.signed_in, d.failed],
            tooltip: lang
                .t("overview.signInTooltip")
                .replace("{day}", &short_date(lang, d.date))
                .replace("{ok}", &n(d.signed_in))
                .replace("{failed}", &n(d.failed)),
            label: if labelled(i) {
                short_date(lang, d.date)
            } else {
                String::new()
            },
        })
        .collect();
    let reset_bars: Vec<Bar> = view
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| Bar {
            values: vec![d.resets],
            tooltip: lang
                .t("overview.resetTooltip")
                .replace("{day}", &short_date(lang, d.date))
                .replace("{resets}", &n(d.resets)),
            label: if labelled(i) {
                short_date(lang, d.date)
            } else {
                String::new()
            },
        })
        .collect();
    let sign_in_title = lang.t("overview.signInChart");
    let sign_in_desc = lang
        .t("overview.signInDesc")
        .replace("{range}", &range)
        .replace("{ok}", &n(signed_in))
        .replace("{failed}", &n(failed));
    let reset_title = lang.t("overview.resetChart");
    let reset_desc = lang
        .t("overview.resetDesc")
        .replace("{range}", &range)
        .replace("{resets}", &n(resets));
    html! {
        section class="card" aria-labelledby="overview-activity" {
            h2 id="overview-activity" { (lang.t("overview.activity")) }
            p class="hint" { (lang.t("overview.daysUtc")) }
            div class="activity" {
                div class="charts" {
                    figure class="chart-box" {
                        figcaption { (sign_in_title) }
                        (bar_chart(&BarChart {
                            id: "chart-sign-ins",
                            title: sign_in_title,
                            description: &sign_in_desc,
                            series: &["s-ok", "s-fail"],
                            bars: &sign_in_bars,
                            number: &n,
                        }))
                        ul class="legend" {
                            li { span class="swatch s-ok" {} (lang.t("overview.succeeded")) ": " (n(signed_in)) }
                            li { span class="swatch s-fail" {} (lang.t("overview.failed")) ": " (n(failed)) }
                        }
                    }
                    figure class="chart-box" {
                        figcaption { (reset_title) }
                        (bar_chart(&BarChart {
                            id: "chart-resets",
                            title: reset_title,
                            description: &reset_desc,
                            series: &["s-reset"],
                            bars: &reset_bars,
                            number: &n,
                        }))
                        ul class="legend" {
                            li { span class="swatch s-reset" {} (lang.t("overview.resets")) ": " (n(resets)) }
                        }
                    }
                }
                div class="table-scroll day-table" role="region" tabindex="0"
                    aria-labelledby="overview-days-caption" {
                    table class="data numbers" {
                        caption id="overview-days-caption" { (lang.t("overview.tableCaption")) }
                        thead {
                            tr {
                                th scope="col" { (lang.t("overview.day")) }
                                th scope="col" { (lang.t("overview.succeeded")) }
                                th scope="col" { (lang.t("overview.failed")) }
                                th scope="col" { (lang.t("overview.resets")) }
                            }
                        }
                        tbody {
                            @for d in view.days.iter().rev() {
                                tr {
                                    th scope="row" { time datetime=(iso_date(d.date)) { (iso_date(d.date)) } }
                                    td { (n(d.signed_in)) }
                                    td { (n(d.failed)) }
                                    td { (n(d.resets)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn coverage(lang: Lang, view: &OverviewView) -> Markup {
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

fn apps(lang: Lang, view: &OverviewView) -> Markup {
    html! {
        section class="card" aria-labelledby="overview-apps" {
            h2 id="overview-apps" { (lang.t("overview.apps")) }
            div class="table-scroll" role="region" tabindex="0" aria-labelledby="overview-apps-caption" {
                table class="data numbers" {
                    caption id="overview-apps-caption" { (lang.t("overview.appsCaption")) }
                    thead {
                        tr {
                            th scope="col" { (lang.t("overview.app")) }
                            th scope="col" { (lang.t("overview.appUsers")) }
                        }
                    }
                    tbody {
                        @for app in &view.apps {
                            tr {
                                th scope="row" { (app.name) }
                                td { (number(lang, app.users)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_the_languages_thousands_separator() {
        assert_eq!(number(Lang::En, 0), "0");
        assert_eq!(number(Lang::En, 999), "999");
        assert_eq!(number(Lang::En, 1_000), "1,000");
        assert_eq!(number(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(number(Lang::De, 12_345), "12.345");
    }

    #[test]
    fn shares_are_rounded_and_nothing_of_nothing_is_zero() {
        assert_eq!(percent(Lang::En, 1, 3), "33%");
        assert_eq!(percent(Lang::En, 2, 3), "67%");
        assert_eq!(percent(Lang::En, 0, 0), "0%");
        assert_eq!(percent(Lang::De, 1, 2), "50 %");
    }

    #[test]
    fn short_dates_follow_the_language() {
        let date = time::macros::date!(2026 - 12 - 06);
        assert_eq!(short_date(Lang::En, date), "Dec 6");
        assert_eq!(short_date(Lang::De, date), "6. Dez.");
    }
}
