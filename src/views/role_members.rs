//! A role's members on its page: a search (a plain GET form; htmx swaps the list as one
//! types) and checkboxes for the users whose membership the viewer may change.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{alert, csrf_field};

/// A user offered as a checkbox.
pub struct MemberOption {
    pub user_id: i32,
    pub username: String,
    pub member: bool,
}

pub struct MembersView {
    pub role_id: i32,
    pub role_name: String,
    /// Every member of the role.
    pub total: u64,
    pub search: String,
    /// Members first, then users the viewer may add.
    pub options: Vec<MemberOption>,
    /// More users match than are listed.
    pub more: bool,
    /// Members the viewer may not change.
    pub hidden: u64,
    /// The viewer may add members (they manage the role).
    pub can_add: bool,
    pub saved: bool,
    pub error: Option<String>,
}

/// The card: its title, the search and the list.
pub fn members_card(lang: Lang, csrf: &str, view: &MembersView) -> Markup {
    let action = paths::role(view.role_id);
    html! {
        section class="card" aria-labelledby="members-title" {
            h2 id="members-title" {
                (lang.t("roles.membersTitle").replace("{n}", &view.total.to_string()))
            }
            form method="get" action=(action) role="search" class="search" {
                label for="member-q" { (lang.t("roles.findUsers")) }
                input id="member-q" name="q" type="search" value=(view.search) autocomplete="off"
                    hx-get=(action) hx-trigger="input changed delay:300ms, search"
                    hx-target="#members-box" hx-swap="outerHTML";
                button type="submit" class="secondary" { (lang.t("panelConfig.searchSubmit")) }
            }
            (members_box(lang, csrf, view))
        }
    }
}

/// The list of checkboxes and its form: what the search swaps.
pub fn members_box(lang: Lang, csrf: &str, view: &MembersView) -> Markup {
    let none_listed = view.options.is_empty();
    html! {
        div id="members-box" {
            @if view.saved {
                div class="alert alert-ok" role="status" { (lang.t("roles.membersSaved")) }
            }
            @if let Some(error) = &view.error { (alert("error", "members-error", error)) }
            form method="post" action=(paths::role_members(view.role_id)) {
                (csrf_field(csrf))
                input type="hidden" name="q" value=(view.search);
                fieldset {
                    legend { (lang.t("roles.membersLegend").replace("{role}", &view.role_name)) }
                    @if none_listed {
                        p { (if view.search.trim().is_empty() { lang.t("roles.nobodyToOffer") } else { lang.t("roles.noMatch") }) }
                    } @else {
                        ul class="checklist" {
                            @for option in &view.options {
                                li {
                                    input type="checkbox" id=(format!("member-{}", option.user_id))
                                        name="member" value=(option.user_id) checked[option.member];
                                    input type="hidden" name="shown" value=(option.user_id);
                                    label for=(format!("member-{}", option.user_id)) { (option.username) }
                                }
                            }
                        }
                    }
                    @if view.more { p class="hint" { (lang.t("roles.moreMatch")) } }
                    @if !view.can_add { p class="hint" { (lang.t("roles.onlyRemove")) } }
                    @if view.hidden > 0 {
                        p class="hint" { (lang.t("roles.hiddenMembers").replace("{n}", &view.hidden.to_string())) }
                    }
                }
                @if !none_listed {
                    div class="actions" {
                        button type="submit" { (lang.t("roles.saveMembers")) }
                    }
                }
            }
        }
    }
}
