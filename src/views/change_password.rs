//! The change-password form: forced (after a temporary password) or voluntary.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, field, rd_field};
use crate::views::layout::{PageContext, page};

/// Messages beside the fields after a refused attempt.
#[derive(Default)]
pub struct ChangePasswordErrors {
    pub current: Option<String>,
    pub new: Option<String>,
    pub confirm: Option<String>,
}

pub struct ChangePasswordView<'a> {
    pub username: &'a str,
    /// A change is forced (the reason is shown above the form).
    pub forced: bool,
    /// The current password is asked for: always, except in a forced change by whoever
    /// signed in with the temporary password.
    pub current_required: bool,
    pub min_length: usize,
    pub errors: ChangePasswordErrors,
    /// Where the walk ends (`rd`), carried by the form.
    pub rd: Option<&'a str>,
}

/// The form box; swapped into the sign-in page in place, or shown on its own page.
pub fn change_password_box(lang: Lang, csrf: &str, view: &ChangePasswordView) -> Markup {
    let hint = lang
        .t("login.passwordHint")
        .replace("{min}", &view.min_length.to_string());
    let mut current = Field::new(
        "current_password",
        lang.t("login.currentPassword"),
        "password",
    );
    current.autocomplete = "current-password";
    current.error = view.errors.current.as_deref();
    current.autofocus = view.current_required;
    let mut new = Field::new("new_password", lang.t("login.newPassword"), "password");
    new.autocomplete = "new-password";
    new.hint = Some(&hint);
    new.error = view.errors.new.as_deref();
    new.autofocus = !view.current_required;
    let mut confirm = Field::new(
        "confirm_password",
        lang.t("login.confirmPassword"),
        "password",
    );
    confirm.autocomplete = "new-password";
    confirm.error = view.errors.confirm.as_deref();
    html! {
        section id="auth-box" class="card narrow" aria-labelledby="auth-title" {
            h1 id="auth-title" { (lang.t("login.changePasswordTitle")) }
            @if view.forced { (alert("info", "change-reason", lang.t("login.passwordChangeRequired"))) }
            form method="post" action=(paths::CHANGE_PASSWORD) hx-post=(paths::CHANGE_PASSWORD)
                hx-target="#auth-box" hx-swap="outerHTML" {
                (csrf_field(csrf))
                (rd_field(view.rd))
                // Lets password managers file the new password under the right account.
                input type="text" name="username" value=(view.username) autocomplete="username"
                    hidden readonly aria-hidden="true" tabindex="-1";
                @if view.current_required { (field(&current)) }
                (field(&new))
                (field(&confirm))
                div class="actions" {
                    button type="submit" { (lang.t("login.changePasswordSubmit")) }
                    @if !view.forced {
                        (crate::views::components::close_link(lang.t("userConfig.cancel"), paths::DASHBOARD))
                    }
                }
            }
        }
    }
}

pub fn change_password_page(ctx: &PageContext, view: &ChangePasswordView) -> Markup {
    page(
        ctx,
        ctx.lang.t("login.changePasswordTitle"),
        change_password_box(ctx.lang, ctx.csrf, view),
    )
}

/// The voluntary change form as a dialog (the users table's own row, one's own edit page).
pub fn change_password_dialog(lang: Lang, csrf: &str, view: &ChangePasswordView) -> Markup {
    crate::views::components::dialog(
        "change-password-dialog",
        "auth-title",
        html! { (change_password_box(lang, csrf, view)) },
    )
}
