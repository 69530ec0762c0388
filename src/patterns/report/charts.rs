//! The report's inline SVG charts: the resolve-time trend, families per month and the
//! time-of-day × weekday heatmap. Plain SVG (no script, no external fonts) so the page prints and
//! mails as it is; every text that goes in is escaped here.

use std::fmt::Write;

use crate::domain::report::{Charts, Report};
use crate::render::escape_xml as esc;

/// Colours for series, chosen to stay apart in print and for common colour blindness.
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];
const OTHER: &str = "#bab0ac";

/// The charts of `r`.
pub fn of(r: &Report) -> Charts {
    Charts {
        resolve_trend: resolve_trend(r),
        families_per_month: families_per_month(r),
        heatmap: heatmap(r),
    }
}

fn open(svg: &mut String, w: f64, h: f64, title: &str) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" style="max-width:{w}px;font:11px sans-serif"><title>{t}</title>"#,
        t = esc(title)
    );
}

/// The resolve-time chart's frame: plot margins (left, right, top, bottom), slot per month and
/// the two y scales (minutes on the lines, incidents on the bars).
struct TrendFrame {
    w: f64,
    h: f64,
    l: f64,
    rt: f64,
    t: f64,
    b: f64,
    slot: f64,
    max_minutes: f64,
    max_count: f64,
}

impl TrendFrame {
    fn of(r: &Report) -> Self {
        let (w, h, l, rt, t, b) = (640.0, 220.0, 56.0, 72.0, 16.0, 40.0);
        let max_minutes = r
            .trend
            .iter()
            .filter_map(|p| p.mttr_minutes.p90)
            .fold(0.0f64, f64::max)
            .max(1.0);
        TrendFrame {
            w,
            h,
            l,
            rt,
            t,
            b,
            slot: (w - l - rt) / r.trend.len().max(1) as f64,
            max_minutes,
            max_count: most_incidents(r),
        }
    }

    fn y_minutes(&self, v: f64) -> f64 {
        self.t + (1.0 - v / self.max_minutes) * (self.h - self.t - self.b)
    }

    fn y_count(&self, v: f64) -> f64 {
        self.t + (1.0 - v / self.max_count) * (self.h - self.t - self.b)
    }
}

/// Bars of incidents per month with the median and p90 time to resolve as lines.
fn resolve_trend(r: &Report) -> String {
    let f = TrendFrame::of(r);
    let mut svg = String::new();
    open(
        &mut svg,
        f.w,
        f.h,
        "Time to resolve by month (median and p90) and incident count",
    );
    let _ = write!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#fafbfd" stroke="#dde"/>"##,
        f.l,
        f.t,
        f.w - f.l - f.rt,
        f.h - f.t - f.b
    );
    trend_bars(&mut svg, &f, r);
    trend_lines(&mut svg, &f, r);
    for (v, anchor) in [(f.max_minutes, "hanging"), (0.0, "auto")] {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end" dominant-baseline="{anchor}" fill="#556">{:.0} min</text>"##,
            f.l - 4.0,
            f.y_minutes(v),
            v
        );
    }
    let _ = write!(
        svg,
        r##"<g transform="translate({},{})"><line x1="0" x2="16" y1="0" y2="0" stroke="{}" stroke-width="2"/><text x="20" y="4" fill="#333">median</text><line x1="0" x2="16" y1="14" y2="14" stroke="{}" stroke-width="2" stroke-dasharray="5 3"/><text x="20" y="18" fill="#333">p90</text></g>"##,
        f.w - f.rt + 6.0,
        f.t + 8.0,
        PALETTE[0],
        PALETTE[1]
    );
    svg.push_str("</svg>");
    svg
}

/// One bar of incidents per month, labelled with the month and the count.
fn trend_bars(svg: &mut String, f: &TrendFrame, r: &Report) {
    let (slot, h, b) = (f.slot, f.h, f.b);
    for (i, p) in r.trend.iter().enumerate() {
        let x = f.l + slot * i as f64;
        let bh = h - b - f.y_count(p.incidents as f64);
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#dfe6f0"><title>{}: {} incidents</title></rect>"##,
            x + slot * 0.2,
            h - b - bh,
            slot * 0.6,
            bh,
            esc(&p.month),
            p.incidents
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#556">{}</text>"##,
            x + slot / 2.0,
            h - b + 14.0,
            esc(&p.month)
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#889">{} inc.</text>"##,
            x + slot / 2.0,
            h - b + 28.0,
            p.incidents
        );
    }
}

/// The median (solid) and p90 (dashed) time to resolve, one point per month that has one.
fn trend_lines(svg: &mut String, f: &TrendFrame, r: &Report) {
    type Pick = fn(&crate::domain::report::Durations) -> Option<f64>;
    let lines: [(&str, &str, &str, Pick); 2] = [
        ("median", PALETTE[0], "", |d| d.median),
        ("p90", PALETTE[1], r#" stroke-dasharray="5 3""#, |d| d.p90),
    ];
    for (name, colour, dash, pick) in lines {
        let points: Vec<(f64, f64)> = r
            .trend
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((f.l + f.slot * (i as f64 + 0.5), pick(&p.mttr_minutes)?)))
            .collect();
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(x, v)| format!("{x:.1},{:.1}", f.y_minutes(*v)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
        }
        for (x, v) in &points {
            let _ = write!(
                svg,
                r#"<circle cx="{x:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{name}: {v:.0} min</title></circle>"#,
                f.y_minutes(*v)
            );
        }
    }
}

/// Stacked bars: each month's incidents by family (the largest families of the month coloured,
/// the rest grey).
fn families_per_month(r: &Report) -> String {
    let (w, l, rt, t, b) = (640.0, 40.0, 12.0, 16.0, 24.0);
    let shown: Vec<&super::FamilyCount> = r.families.iter().take(PALETTE.len()).collect();
    let legend_rows = shown.len().div_ceil(2) + 1;
    let h = 200.0 + legend_rows as f64 * 16.0;
    let plot_h = 200.0 - t - b;
    let months: Vec<&str> = r.trend.iter().map(|p| p.month.as_str()).collect();
    let max = most_incidents(r);
    let slot = (w - l - rt) / months.len().max(1) as f64;
    let mut svg = String::new();
    open(&mut svg, w, h, "Incidents per month by family");
    for (i, (m, p)) in months.iter().zip(&r.trend).enumerate() {
        let x = l + slot * i as f64 + slot * 0.2;
        let mut y = t + plot_h;
        let mut known = 0;
        for (j, f) in shown.iter().enumerate() {
            let n = f.by_month.get(*m).copied().unwrap_or(0);
            known += n;
            if n == 0 {
                continue;
            }
            let hh = n as f64 / max * plot_h;
            y -= hh;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{hh:.1}" fill="{}"><title>{}: {} — {n}</title></rect>"#,
                slot * 0.6,
                PALETTE[j],
                esc(m),
                esc(&f.label)
            );
        }
        let rest = p.incidents.saturating_sub(known);
        if rest > 0 {
            let hh = rest as f64 / max * plot_h;
            y -= hh;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{hh:.1}" fill="{OTHER}"><title>{}: other families — {rest}</title></rect>"#,
                slot * 0.6,
                esc(m)
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#556">{}</text>"##,
            l + slot * (i as f64 + 0.5),
            t + plot_h + 14.0,
            esc(m)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="end" dominant-baseline="hanging" fill="#556">{}</text>"##,
        l - 4.0,
        t,
        max as usize
    );
    family_legend(&mut svg, &shown, l, w);
    svg.push_str("</svg>");
    svg
}

/// The legend under the family bars: two columns of the coloured families, then "other".
fn family_legend(svg: &mut String, shown: &[&super::FamilyCount], l: f64, w: f64) {
    for (j, f) in shown.iter().enumerate() {
        let x = l + (j % 2) as f64 * (w - l) / 2.0;
        let y = 200.0 + (j / 2) as f64 * 16.0;
        let label: String = f.label.chars().take(44).collect();
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" fill="#333">{} {}</text>"##,
            PALETTE[j],
            x + 14.0,
            y + 9.0,
            esc(&f.id),
            esc(&label)
        );
    }
    let y = 200.0 + (shown.len().div_ceil(2)) as f64 * 16.0;
    let _ = write!(
        svg,
        r##"<rect x="{l}" y="{y:.1}" width="10" height="10" fill="{OTHER}"/><text x="{:.1}" y="{:.1}" fill="#333">other families and unassigned</text>"##,
        l + 14.0,
        y + 9.0
    );
}

/// Weekday × hour of the first trigger (UTC), darker for more incidents.
fn heatmap(r: &Report) -> String {
    let (l, t, cell) = (40.0, 18.0, 24.0);
    let w = l + cell * 24.0 + 8.0;
    let h = t + cell * 7.0 + 20.0;
    let max = r
        .heatmap
        .counts
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = String::new();
    open(
        &mut svg,
        w,
        h,
        "Incidents by weekday and hour of first trigger (UTC)",
    );
    for hour in (0..24).step_by(3) {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#556">{hour:02}h</text>"##,
            l + cell * (hour as f64 + 0.5),
            t - 5.0
        );
    }
    for (d, row) in r.heatmap.counts.iter().enumerate() {
        let day = r.heatmap.weekdays.get(d).map(String::as_str).unwrap_or("");
        let y = t + cell * d as f64;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end" dominant-baseline="middle" fill="#556">{}</text>"##,
            l - 4.0,
            y + cell / 2.0,
            esc(day)
        );
        for (hour, &n) in row.iter().enumerate() {
            let a = if n == 0 {
                0.0
            } else {
                0.15 + 0.85 * n as f64 / max
            };
            let _ = write!(
                svg,
                r##"<rect x="{:.1}" y="{y:.1}" width="{}" height="{}" fill="#4e79a7" fill-opacity="{a:.2}" stroke="#e3e7ee"><title>{} {hour:02}:00 UTC: {n}</title></rect>"##,
                l + cell * hour as f64,
                cell - 1.0,
                cell - 1.0,
                esc(day)
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="{l}" y="{:.1}" fill="#556">darkest: {} incidents in one hour slot</text>"##,
        t + cell * 7.0 + 14.0,
        max as usize
    );
    svg.push_str("</svg>");
    svg
}

/// The largest monthly incident count of the trend (at least 1, for scaling an axis).
fn most_incidents(r: &Report) -> f64 {
    r.trend
        .iter()
        .map(|p| p.incidents)
        .max()
        .unwrap_or(0)
        .max(1) as f64
}
