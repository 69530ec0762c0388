//! Inline SVG charts of metric series, with the changes and the incident marked on the time axis.
//! Every text that goes into the SVG is escaped here, so templates may embed it as it is.

use std::fmt::Write;

use crate::domain::{Millis, from_millis};
use crate::render::escape_xml as esc;

const W: f64 = 640.0;
const H: f64 = 180.0;
const PAD_L: f64 = 56.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 14.0;
const PAD_B: f64 = 26.0;

/// A mark on the time axis: a change, the trigger, the onset.
pub struct Mark {
    pub at: Millis,
    pub label: String,
    pub color: &'static str,
}

impl Mark {
    /// The legend entry: marks are grouped by what they are.
    fn kind(&self) -> &'static str {
        match self.label.as_str() {
            "first trigger" => "first trigger",
            "onset" => "onset",
            _ => "change",
        }
    }
}

/// A line chart of `points` between `start` and `end`, values formatted by `fmt`.
pub fn line_chart(
    title: &str,
    points: &[(Millis, f64)],
    start: Millis,
    end: Millis,
    marks: &[Mark],
    fmt: impl Fn(f64) -> String,
) -> String {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo.min(0.0), hi.max(lo + 1e-9))
    } else {
        (0.0, 1.0)
    };
    let span = (end - start).max(1) as f64;
    let x = |t: Millis| PAD_L + (t - start) as f64 / span * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (1.0 - (v - lo) / (hi - lo)) * (H - PAD_T - PAD_B);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{}" style="max-width:{W}px;font:11px sans-serif">"#,
        esc(title)
    );
    let _ = write!(svg, "<title>{}</title>", esc(title));
    let _ = write!(
        svg,
        r##"<rect x="{PAD_L}" y="{PAD_T}" width="{}" height="{}" fill="#fafbfd" stroke="#dde"/>"##,
        W - PAD_L - PAD_R,
        H - PAD_T - PAD_B
    );
    for (v, anchor) in [(hi, "start"), (lo, "end")] {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end" dominant-baseline="{}" fill="#556">{}</text>"##,
            PAD_L - 4.0,
            y(v),
            if anchor == "start" { "hanging" } else { "auto" },
            esc(&fmt(v))
        );
    }
    for (t, anchor) in [(start, "start"), (end, "end")] {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="{anchor}" fill="#556">{}</text>"##,
            x(t),
            H - 8.0,
            from_millis(t).format("%m-%d %H:%M")
        );
    }
    for m in marks.iter().filter(|m| m.at >= start && m.at <= end) {
        let _ = write!(
            svg,
            r#"<line x1="{0:.1}" x2="{0:.1}" y1="{PAD_T}" y2="{1}" stroke="{2}" stroke-dasharray="3 2"><title>{3}</title></line>"#,
            x(m.at),
            H - PAD_B,
            m.color,
            esc(&m.label)
        );
    }
    mark_legend(&mut svg, marks, start, end);
    let path: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#1f5fbf" stroke-width="1.5" points="{}"/>"##,
        path.join(" ")
    );
    svg.push_str("</svg>");
    svg
}

/// A legend of the kinds of mark present in the window, between the two time labels.
fn mark_legend(svg: &mut String, marks: &[Mark], start: Millis, end: Millis) {
    let mut kinds: Vec<(&str, &str)> = Vec::new();
    for m in marks.iter().filter(|m| m.at >= start && m.at <= end) {
        let kind = m.kind();
        if !kinds.iter().any(|(k, _)| *k == kind) {
            kinds.push((kind, m.color));
        }
    }
    let mut lx = W / 2.0 - kinds.len() as f64 * 45.0;
    for (kind, color) in kinds {
        let (x2, tx, ly, ty, label) = (lx + 12.0, lx + 15.0, H - 12.0, H - 8.0, esc(kind));
        let _ = write!(
            svg,
            r#"<line x1="{lx:.1}" x2="{x2:.1}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-dasharray="3 2"/><text x="{tx:.1}" y="{ty}" fill="{color}">{label}</text>"#
        );
        lx += 90.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_marks_outside_the_window_are_dropped() {
        let svg = line_chart(
            "<b>errors</b>",
            &[(0, 0.0), (60_000, 1.0)],
            0,
            60_000,
            &[
                Mark {
                    at: 30_000,
                    label: "deploy \"<x>\"".into(),
                    color: "#c33",
                },
                Mark {
                    at: 90_000,
                    label: "later".into(),
                    color: "#c33",
                },
            ],
            |v| format!("{v:.1}"),
        );
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;x&gt;"));
        assert!(!svg.contains("later"));
        assert_eq!(
            svg.matches("<title>deploy").count(),
            1,
            "one mark in the window"
        );
        assert!(svg.contains(">change</text>"), "with its legend");
    }
}
