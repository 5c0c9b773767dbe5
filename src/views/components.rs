//! Small building blocks shared by the pages.

use maud::{Markup, html};

/// A labelled input with its hint and error tied to it (`aria-describedby`, `aria-invalid`).
pub struct Field<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: Option<&'a str>,
    pub error: Option<&'a str>,
    pub hint: Option<&'a str>,
    pub autocomplete: &'a str,
    pub required: bool,
    pub autofocus: bool,
}

impl<'a> Field<'a> {
    pub fn new(id: &'a str, label: &'a str, kind: &'a str) -> Self {
        Self {
            id,
            name: id,
            label,
            kind,
            value: None,
            error: None,
            hint: None,
            autocomplete: "off",
            required: true,
            autofocus: false,
        }
    }
}

pub fn field(f: &Field) -> Markup {
    let error_id = format!("{}-error", f.id);
    let hint_id = format!("{}-hint", f.id);
    let mut described = Vec::new();
    if f.hint.is_some() {
        described.push(hint_id.as_str());
    }
    if f.error.is_some() {
        described.push(error_id.as_str());
    }
    let described = described.join(" ");
    html! {
        div class="field" {
            label for=(f.id) { (f.label) }
            input id=(f.id) name=(f.name) type=(f.kind) autocomplete=(f.autocomplete)
                value=[f.value] required[f.required] autofocus[f.autofocus]
                aria-invalid=[f.error.map(|_| "true")]
                aria-describedby=[(!described.is_empty()).then_some(described.as_str())];
            @if let Some(hint) = f.hint { p id=(hint_id) class="hint" { (hint) } }
            @if let Some(error) = f.error { p id=(error_id) class="field-error" { (error) } }
        }
    }
}

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// A translated sentence with `{placeholder}` replaced by `value` in bold (the name of the
/// thing the sentence is about, "You do not have access to **Wiki**.").
pub fn emphasised(sentence: &str, placeholder: &str, value: &str) -> Markup {
    match sentence.split_once(placeholder) {
        Some((before, after)) => html! { (before) strong { (value) } (after) },
        None => html! { (sentence) },
    }
}

/// The sign-in walk's destination (`rd`), carried by a form to its next step (nothing
/// without one).
pub fn rd_field(rd: Option<&str>) -> Markup {
    html! { @if let Some(rd) = rd { input type="hidden" name="rd" value=(rd); } }
}

/// A message for the whole form, announced to screen readers.
pub fn alert(kind: &str, id: &str, text: &str) -> Markup {
    html! { div id=(id) class=(format!("alert alert-{kind}")) role="alert" { (text) } }
}

/// A read-only value to pass on with its copy button (`copy.js`: hidden without JavaScript,
/// where the field can still be selected and copied by hand) and its hint. The one way every
/// page shows a secret or link once.
pub struct CopyField<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub hint: &'a str,
    pub autofocus: bool,
}

pub fn copy_field(lang: crate::i18n::Lang, f: &CopyField) -> Markup {
    let hint_id = format!("{}-hint", f.id);
    html! {
        div class="field" {
            label for=(f.id) { (f.label) }
            div class="copy-row" {
                input id=(f.id) type="text" value=(f.value) readonly spellcheck="false"
                    aria-describedby=(hint_id) autofocus[f.autofocus];
                button type="button" class="secondary" data-copy=(f.id)
                    data-copied=(lang.t("tempPassword.copied")) hidden { (lang.t("tempPassword.copy")) }
            }
            p id=(hint_id) class="hint" { (f.hint) }
        }
    }
}

/// A dialog shown in place: htmx swaps it into `#dialog-slot` and `dialog.js` opens it modal
/// (`showModal()`: backdrop, Escape, focus kept inside and returned to the opener). Its
/// content carries its own Close/Cancel beside the primary button ([`close_link`]); without
/// JavaScript the same content is a page of its own.
pub fn dialog(id: &str, labelled_by: &str, content: Markup) -> Markup {
    html! {
        dialog id=(id) class="dialog" open aria-labelledby=(labelled_by) {
            (content)
        }
    }
}

/// Close/Cancel: in a dialog `dialog.js` closes it; as a page it leads back to the users.
pub fn close_link(label: &str, href: &str) -> Markup {
    html! { a class="button secondary" href=(href) data-close-dialog { (label) } }
}

/// A dialog that only tells something (a refusal, a missing user).
pub fn message_dialog(lang: crate::i18n::Lang, title: &str, message: &str) -> Markup {
    dialog(
        "message-dialog",
        "message-title",
        html! {
            h2 id="message-title" { (title) }
            div class="alert alert-error" role="alert" { (message) }
            div class="actions" { (close_link(lang.t("base.close"), crate::paths::USERS)) }
        },
    )
}

/// Previous/next links around "page N of M"; `link(n)` is the URL of page n.
pub fn pager(
    lang: crate::i18n::Lang,
    page: u64,
    pages: u64,
    link: impl Fn(u64) -> String,
) -> Markup {
    let position = lang
        .t("panelConfig.pageOf")
        .replace("{page}", &page.to_string())
        .replace("{pages}", &pages.to_string());
    html! {
        @if pages > 1 {
            nav class="pager" aria-label=(lang.t("panelConfig.pages")) {
                @if page > 1 { a href=(link(page - 1)) rel="prev" { (lang.t("panelConfig.previous")) } }
                span { (position) }
                @if page < pages { a href=(link(page + 1)) rel="next" { (lang.t("panelConfig.next")) } }
            }
        }
    }
}
