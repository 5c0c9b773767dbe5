//! The administrator's overview on the dashboard (SPEC §18): the count cards (each a link to
//! the users table filtered to exactly those users), the 30-day chart of sign-ins and resets
//! with its numbers as a table, the second-factor coverage and the applications' users. One
//! module per section; `format` holds the numbers and dates they share.

mod activity;
mod apps;
mod cards;
mod format;

use maud::{Markup, html};

use crate::i18n::Lang;

pub use cards::filter_label;

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

/// Every section of the overview, in the order the dashboard shows them.
pub fn overview_sections(lang: Lang, view: &OverviewView) -> Markup {
    html! {
        (cards::cards(lang, view))
        (activity::activity(lang, view))
        (cards::coverage(lang, view))
        @if !view.apps.is_empty() { (apps::apps(lang, view)) }
    }
}
