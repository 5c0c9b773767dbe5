//! The applications (SPEC §15) with how many users signed in to each in the last 7 days.

use maud::{Markup, html};

use super::OverviewView;
use super::format::number;
use crate::i18n::Lang;

pub(super) fn apps(lang: Lang, view: &OverviewView) -> Markup {
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
