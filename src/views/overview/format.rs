//! How the overview writes numbers and dates in each language.

use crate::i18n::Lang;

/// `1234567` as `1,234,567` (en) or `1.234.567` (de).
pub fn number(lang: Lang, n: u64) -> String {
    let digits = n.to_string();
    let separator = lang.t("overview.thousands");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

pub(super) fn percent(lang: Lang, part: u64, whole: u64) -> String {
    let share = (part * 100 + whole / 2).checked_div(whole).unwrap_or(0);
    lang.t("overview.percent")
        .replace("{n}", &share.to_string())
}

/// `Dec 6` (en) or `6. Dez.` (de).
pub(super) fn short_date(lang: Lang, date: time::Date) -> String {
    let months: Vec<&str> = lang.t("overview.months").split_whitespace().collect();
    let month = months
        .get(usize::from(u8::from(date.month())) - 1)
        .copied()
        .unwrap_or("");
    lang.t("overview.dayMonth")
        .replace("{month}", month)
        .replace("{day}", &date.day().to_string())
}

/// `2026-12-06`: the table's days (unambiguous in both languages).
pub(super) fn iso_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_the_languages_thousands_separator() {
        assert_eq!(number(Lang::En, 0), "0");
        assert_eq!(number(Lang::En, 999), "999");
        assert_eq!(number(Lang::En, 1_000), "1,000");
        assert_eq!(number(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(number(Lang::De, 12_345), "12.345");
    }

    #[test]
    fn shares_are_rounded_and_nothing_of_nothing_is_zero() {
        assert_eq!(percent(Lang::En, 1, 3), "33%");
        assert_eq!(percent(Lang::En, 2, 3), "67%");
        assert_eq!(percent(Lang::En, 0, 0), "0%");
        assert_eq!(percent(Lang::De, 1, 2), "50 %");
    }

    #[test]
    fn short_dates_follow_the_language() {
        let date = time::macros::date!(2026 - 12 - 06);
        assert_eq!(short_date(Lang::En, date), "Dec 6");
        assert_eq!(short_date(Lang::De, date), "6. Dez.");
    }
}
