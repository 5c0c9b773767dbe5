//! The public page a reset link opens: the set-password form, or why the link does not work.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, field};
use crate::views::layout::{PageContext, page};

/// Messages beside the fields after a refused submission.
#[derive(Default)]
pub struct SetPasswordErrors {
    pub new: Option<String>,
    pub confirm: Option<String>,
}

pub struct SetPasswordView<'a> {
    /// Where the form posts: the link's own path.
    pub action: &'a str,
    pub username: &'a str,
    /// A set-up link (a new account's first password) rather than a reset.
    pub setup: bool,
    pub min_length: usize,
    pub errors: SetPasswordErrors,
}

/// The set-password form of a live link.
pub fn set_password_page(lang: Lang, csrf: &str, view: &SetPasswordView) -> Markup {
    let hint = lang
        .t("login.passwordHint")
        .replace("{min}", &view.min_length.to_string());
    let (title, intro) = if view.setup {
        ("login.resetLink.setupTitle", "login.resetLink.setupIntro")
    } else {
        ("login.resetLink.title", "login.resetLink.intro")
    };
    let title = lang.t(title);
    let intro = lang.t(intro).replace("{username}", view.username);
    let mut new = Field::new("new_password", lang.t("login.newPassword"), "password");
    new.autocomplete = "new-password";
    new.hint = Some(&hint);
    new.error = view.errors.new.as_deref();
    new.autofocus = true;
    let mut confirm = Field::new(
        "confirm_password",
        lang.t("login.confirmPassword"),
        "password",
    );
    confirm.autocomplete = "new-password";
    confirm.error = view.errors.confirm.as_deref();
    let content = html! {
        section id="auth-box" class="card narrow" aria-labelledby="auth-title" {
            h1 id="auth-title" { (title) }
            p { (intro) }
            form method="post" action=(view.action) {
                (csrf_field(csrf))
                // Lets password managers file the new password under the right account.
                input type="text" name="username" value=(view.username) autocomplete="username"
                    hidden readonly aria-hidden="true" tabindex="-1";
                (field(&new))
                (field(&confirm))
                button type="submit" { (lang.t("login.resetLink.submit")) }
            }
        }
    };
    let ctx = PageContext {
        lang,
        csrf,
        nav: None,
    };
    page(&ctx, title, content)
}

/// A link that does not work: why, and what to do.
pub fn link_not_valid_page(lang: Lang, problem_code: &str) -> Markup {
    let key = format!("login.resetLink.problem.{problem_code}");
    let content = html! {
        section id="auth-box" class="card narrow" aria-labelledby="auth-title" {
            h1 id="auth-title" { (lang.t("login.resetLink.invalidTitle")) }
            (alert("error", "link-problem", lang.t(&key)))
            p { (lang.t("login.resetLink.askAdmin")) }
            p { a href=(paths::LOGIN) { (lang.t("login.title")) } }
        }
    };
    let ctx = PageContext {
        lang,
        csrf: "",
        nav: None,
    };
    page(&ctx, lang.t("login.resetLink.invalidTitle"), content)
}
