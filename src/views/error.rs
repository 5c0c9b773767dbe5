//! The page shown for failures outside a form: inside the normal layout (with the signed-in
//! navigation when there is a viewer), saying what and why.

use axum::http::StatusCode;
use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::layout::{PageContext, page};

/// The heading of a failure, by its status.
pub fn title_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "error.forbiddenTitle",
        StatusCode::NOT_FOUND => "error.notFoundTitle",
        StatusCode::BAD_REQUEST => "error.badRequestTitle",
        _ => "error.title",
    }
}

/// A failure for a visitor who is not signed in (or whose session could not be read).
pub fn error_page(lang: Lang, status: StatusCode, message: &str) -> Markup {
    let ctx = PageContext {
        lang,
        csrf: "",
        nav: None,
    };
    error_page_in(&ctx, status, message)
}

/// A failure inside the layout of `ctx` (a signed-in viewer keeps their navigation).
pub fn error_page_in(ctx: &PageContext, status: StatusCode, message: &str) -> Markup {
    let lang = ctx.lang;
    let (back, back_label) = if ctx.nav.is_some() {
        (paths::DASHBOARD, lang.t("error.backToDashboard"))
    } else {
        (paths::LOGIN, lang.t("error.backToStart"))
    };
    page(
        ctx,
        lang.t(title_key(status)),
        html! {
            section class="card narrow-wide" aria-labelledby="error-title" {
                h1 id="error-title" { (lang.t(title_key(status))) }
                p class="alert alert-error" role="alert" { (message) }
                p class="hint" { (lang.t("error.status").replace("{code}", &status.as_u16().to_string())) }
                p { a href=(back) { (back_label) } }
            }
        },
    )
}
