//! The confirmations before an action on an application that cannot be undone: deleting it,
//! a new client secret (`client.rs`), and an edit that ends OpenID Connect sign-ins (SPEC §16:
//! the client removed, or its secret dropped), which carries the whole edit so that Confirm
//! applies exactly what was shown.

use maud::{Markup, html};

use crate::paths;
use crate::views::components::{csrf_field, emphasised};
use crate::views::layout::{PageContext, page};

/// A confirmation before an action on application `name` that cannot be undone: `title`
/// and `submit` are translation keys (`title` with `{app}`), `action` where the form posts.
pub(crate) struct Confirm<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    pub submit: &'a str,
    pub action: String,
    /// Where Cancel leads.
    pub back: String,
}

pub(crate) fn confirm_page(ctx: &PageContext, view: &Confirm) -> Markup {
    let lang = ctx.lang;
    let title = lang.t(view.title).replace("{app}", view.name);
    page(
        ctx,
        &title,
        html! {
            section class="card narrow-wide" aria-labelledby="confirm-title" {
                h1 id="confirm-title" { (emphasised(lang.t(view.title), "{app}", view.name)) }
                p { (lang.t(view.text)) }
                form method="post" action=(view.action) {
                    (csrf_field(ctx.csrf))
                    div class="actions" {
                        button type="submit" class="danger" { (lang.t(view.submit)) }
                        a href=(view.back) { (lang.t("apps.cancel")) }
                    }
                }
            }
        },
    )
}

pub fn delete_app_page(ctx: &PageContext, id: i32, name: &str) -> Markup {
    confirm_page(
        ctx,
        &Confirm {
            name,
            title: "apps.deleteTitle",
            text: "apps.deleteConfirm",
            submit: "apps.deleteSubmit",
            action: paths::delete_app(id),
            back: paths::APPS.to_string(),
        },
    )
}

/// An edit of application `app_id` that ends OpenID Connect sign-ins, shown before it applies.
pub struct EditConfirmView<'a> {
    pub app_id: i32,
    /// The application's name as it is now.
    pub name: &'a str,
    pub client_id: &'a str,
    /// OpenID Connect is turned off: the client goes.
    pub ends_client: bool,
    /// The confidential client becomes public: its secret goes.
    pub ends_secret: bool,
    /// Users signed in to the app through its client now (they lose their tokens).
    pub signed_in: u64,
    /// The application changed since the edit was first shown: said first.
    pub changed: bool,
    /// The application's version the confirmation is for.
    pub version: &'a str,
    /// What `ends_*` say, as the form carries them.
    pub ends_words: Vec<&'static str>,
    /// The edit as submitted, carried whole in hidden fields.
    pub fields: &'a [(String, String)],
    /// The application as the edit leaves it: (label, value).
    pub after: Vec<(&'a str, String)>,
}

pub fn edit_confirm_page(ctx: &PageContext, view: &EditConfirmView) -> Markup {
    let lang = ctx.lang;
    let title = lang.t("appsConfirm.title").replace("{app}", view.name);
    let signed_in = match view.signed_in {
        0 => lang.t("appsConfirm.signedInNone").to_string(),
        1 => lang.t("appsConfirm.signedInOne").to_string(),
        n => lang
            .t("appsConfirm.signedInMany")
            .replace("{count}", &n.to_string()),
    };
    page(
        ctx,
        &title,
        html! {
            section class="card narrow-wide" aria-labelledby="confirm-title" {
                h1 id="confirm-title" { (emphasised(lang.t("appsConfirm.title"), "{app}", view.name)) }
                @if view.changed {
                    div class="alert alert-error" role="alert" { (lang.t("appsConfirm.changed")) }
                }
                div class="alert alert-warning consequences" {
                    @if view.ends_client {
                        p { strong { (lang.t("appsConfirm.clientEnds")) } }
                        p { (emphasised(lang.t("appsConfirm.clientEndsDetail"), "{client_id}", view.client_id)) }
                    }
                    @if view.ends_secret {
                        p { strong { (lang.t("appsConfirm.secretEnds")) } }
                        p { (emphasised(lang.t("appsConfirm.secretEndsDetail"), "{client_id}", view.client_id)) }
                    }
                    p { (signed_in) }
                }
                h2 id="after-title" { (lang.t("appsConfirm.after")) }
                dl class="facts" {
                    @for (label, value) in &view.after {
                        dt { (label) }
                        dd { (value) }
                    }
                }
                form method="post" action=(paths::edit_app(view.app_id)) {
                    (csrf_field(ctx.csrf))
                    @for (name, value) in view.fields {
                        input type="hidden" name=(name) value=(value);
                    }
                    input type="hidden" name="review_version" value=(view.version);
                    @for word in &view.ends_words {
                        input type="hidden" name="review_ends" value=(word);
                    }
                    div class="actions" {
                        button type="submit" class="danger" { (lang.t("appsConfirm.submit")) }
                        a href=(paths::edit_app(view.app_id)) { (lang.t("apps.cancel")) }
                    }
                    p class="hint" { (lang.t("appsConfirm.cancelHint")) }
                }
            }
        },
    )
}
