//! The 30-day chart of sign-ins and resets, drawn as SVG, with the same numbers as a table.

use maud::{Markup, html};

use super::format::{iso_date, number, short_date};
use super::{DayView, OverviewView};
use crate::i18n::Lang;
use crate::views::chart::{Bar, BarChart, bar_chart};

pub(super) fn activity(lang: Lang, view: &OverviewView) -> Markup {
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
