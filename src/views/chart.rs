//! A bar chart drawn on the server as SVG (SPEC §18): no script, no font files, no inline
//! style (the colours are classes of the stylesheet, the geometry SVG attributes), scaled by
//! its `viewBox` to the width it is given. Bars may stack several series; each bar carries a
//! `<title>` (a tooltip on hover), the whole chart a `<title>` and `<desc>` for screen
//! readers, and the page gives the same numbers as a table.

use maud::{Markup, html};

/// The drawing's size in SVG units: about as wide as a phone's card, so that its text stays
/// readable at 360 px, and shown wider (never narrower than it needs) on large screens.
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 150.0;
const LEFT: f64 = 30.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 20.0;
/// The text size, in SVG units.
const FONT: &str = "11";

/// One bar: its stacked values (bottom first, one per series), the tooltip and an axis label
/// (empty: no label under this bar).
pub struct Bar {
    pub values: Vec<u64>,
    pub tooltip: String,
    pub label: String,
}

/// A chart: `id` prefixes the ids of its title and description; `series` are the classes of
/// the stacked parts, bottom first.
pub struct BarChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub series: &'a [&'a str],
    pub bars: &'a [Bar],
    /// How the axis writes a number (thousands separators).
    pub number: &'a dyn Fn(u64) -> String,
}

/// The smallest of 1, 2, 5 × 10ⁿ (at least 1) not below `max`: the top of the axis.
pub fn axis_top(max: u64) -> u64 {
    let mut unit = 1u64;
    loop {
        for step in [1, 2, 5] {
            let top = step * unit;
            if top >= max {
                return top;
            }
        }
        unit = match unit.checked_mul(10) {
            Some(next) => next,
            None => return max,
        };
    }
}

fn fmt(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// One stacked part of a bar, in SVG units.
struct Part<'a> {
    y: f64,
    height: f64,
    class: &'a str,
}

pub fn bar_chart(chart: &BarChart) -> Markup {
    let title_id = format!("{}-title", chart.id);
    let desc_id = format!("{}-desc", chart.id);
    let max = chart
        .bars
        .iter()
        .map(|bar| bar.values.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let top = axis_top(max);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let baseline = TOP + plot_height;
    let slot = plot_width / chart.bars.len().max(1) as f64;
    let bar_width = (slot * 0.7).max(1.0);
    let y_of = |value: u64| baseline - plot_height * value as f64 / top as f64;
    // A middle line only where it is a whole number (not for an axis of 1 or 5).
    let ticks: Vec<u64> = if top >= 2 && top.is_multiple_of(2) {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    };
    let parts = |bar: &Bar| -> Vec<Part> {
        let mut below = 0u64;
        let mut out = Vec::new();
        for (value, class) in bar.values.iter().zip(chart.series) {
            if *value > 0 {
                out.push(Part {
                    y: y_of(below + value),
                    height: y_of(below) - y_of(below + value),
                    class,
                });
            }
            below += value;
        }
        out
    };
    html! {
        svg class="chart" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
            preserveAspectRatio="xMidYMid meet" aria-labelledby=(format!("{title_id} {desc_id}")) {
            title id=(title_id) { (chart.title) }
            desc id=(desc_id) { (chart.description) }
            g class="axis" {
                @for tick in &ticks {
                    line class="grid" x1=(fmt(LEFT)) x2=(fmt(WIDTH - RIGHT))
                        y1=(fmt(y_of(*tick))) y2=(fmt(y_of(*tick))) {}
                    text x=(fmt(LEFT - 4.0)) y=(fmt(y_of(*tick) + 4.0)) text-anchor="end"
                        font-size=(FONT) { ((chart.number)(*tick)) }
                }
            }
            @for (i, bar) in chart.bars.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_width) / 2.0;
                g class="bar" {
                    title { (bar.tooltip) }
                    // Every day has a hover target, also one without events.
                    rect class="hover" x=(fmt(LEFT + slot * i as f64)) y=(fmt(TOP))
                        width=(fmt(slot)) height=(fmt(plot_height)) {}
                    @for part in parts(bar) {
                        rect class=(part.class) x=(fmt(x)) width=(fmt(bar_width))
                            y=(fmt(part.y)) height=(fmt(part.height)) {}
                    }
                }
                @if !bar.label.is_empty() {
                    text class="tick" x=(fmt(LEFT + slot * (i as f64 + 0.5))) y=(fmt(HEIGHT - 5.0))
                        text-anchor=(if i + 1 == chart.bars.len() { "end" } else { "middle" })
                        font-size=(FONT) { (bar.label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_round_number_at_or_above_the_highest_bar() {
        let cases = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 5),
            (7, 10),
            (10, 10),
            (11, 20),
            (199, 200),
            (201, 500),
            (4_999, 5_000),
            (5_001, 10_000),
        ];
        for (max, top) in cases {
            assert_eq!(axis_top(max), top, "max {max}");
        }
    }

    fn chart_of(bars: &[Bar]) -> String {
        let number = |n: u64| n.to_string();
        bar_chart(&BarChart {
            id: "c",
            title: "Sign-ins",
            description: "what it shows",
            series: &["ok", "fail"],
            bars,
            number: &number,
        })
        .into_string()
    }

    #[test]
    fn stacked_parts_are_as_tall_as_their_share_and_empty_parts_are_left_out() {
        let bars = [
            Bar {
                values: vec![6, 4],
                tooltip: "day 1: 6 and 4".into(),
                label: "Day 1".into(),
            },
            Bar {
                values: vec![0, 0],
                tooltip: "day 2: none".into(),
                label: String::new(),
            },
        ];
        let svg = chart_of(&bars);
        // The axis tops at 10: the plot is 122 units high, so 6 is 73.2 and 4 is 48.8.
        assert!(
            svg.contains(r#"class="ok""#) && svg.contains(r#"height="73.2""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"class="fail""#) && svg.contains(r#"height="48.8""#),
            "{svg}"
        );
        assert_eq!(
            svg.matches(r#"<rect class="ok""#).count(),
            1,
            "no part for a zero"
        );
        assert!(
            svg.contains("<title>day 2: none</title>"),
            "an empty day has its tooltip"
        );
        assert!(svg.contains(r#"aria-labelledby="c-title c-desc""#));
        assert!(!svg.contains("style="), "no inline style (CSP)");
        // In HTML, an SVG element without an end tag swallows what follows it.
        assert_eq!(
            svg.matches("<rect").count(),
            svg.matches("</rect>").count(),
            "{svg}"
        );
        assert_eq!(
            svg.matches("<line").count(),
            svg.matches("</line>").count(),
            "{svg}"
        );
    }

    #[test]
    fn a_chart_of_nothing_draws_an_axis_from_zero_to_one() {
        let svg = chart_of(&[Bar {
            values: vec![0, 0],
            tooltip: "none".into(),
            label: "x".into(),
        }]);
        assert!(
            svg.contains(">0</text>") && svg.contains(">1</text>"),
            "{svg}"
        );
    }
}
