//! The page shown for failures outside a form.

use axum::http::StatusCode;
use maud::{Markup, html};

use crate::i18n::Lang;
use crate::views::layout::{PageContext, page};
use crate::web::paths;

pub fn error_page(lang: Lang, status: StatusCode, message: &str) -> Markup {
    let ctx = PageContext {
        lang,
        csrf: "",
        nav: None,
    };
    page(
        &ctx,
        lang.t("error.title"),
        html! {
            section class="card narrow" {
                h1 { (lang.t("error.title")) " (" (status.as_u16()) ")" }
                p role="alert" { (message) }
                p { a href=(paths::LOGIN) { (lang.t("error.backToStart")) } }
            }
        },
    )
}
