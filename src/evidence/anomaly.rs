//! Anomaly detection on one metric series, with a robust baseline from the pre-incident window:
//! the median and the MAD (scaled to a standard deviation). The onset is the first point of the
//! first sustained excursion (several points in a row beyond the threshold), the peak is the
//! largest excursion after it, and the return is the first sustained stretch back within bounds.

use serde::{Deserialize, Serialize};

use crate::domain::FrozenSeries;
use crate::domain::Millis;

/// Robust z-score beyond which a point is an excursion.
const THRESHOLD: f64 = 6.0;
/// Points in a row that make an excursion (or a return) sustained.
const SUSTAIN: usize = 3;
/// The baseline ends this long before the first trigger (alerts lag their metrics).
const BASELINE_GAP: Millis = 10 * 60_000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Detected {
    pub baseline: f64,
    /// The spread the threshold is measured in (1.4826 × MAD, with a floor).
    pub scale: f64,
    pub direction: Direction,
    pub onset: Millis,
    pub peak: f64,
    pub peak_at: Millis,
    pub recovered_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Finds the anomaly in `series` around an incident first triggered at `trigger`, if any.
pub fn detect(series: &FrozenSeries, trigger: Millis) -> Option<Detected> {
    let points = &series.points;
    let mut base: Vec<f64> = points
        .iter()
        .filter(|(t, _)| *t <= trigger - BASELINE_GAP)
        .map(|(_, v)| *v)
        .collect();
    if base.len() < 10 {
        return None;
    }
    let baseline = median(&mut base)?;
    let mut dev: Vec<f64> = base.iter().map(|v| (v - baseline).abs()).collect();
    let mad = median(&mut dev)?;
    // A flat baseline has no spread: fall back to 5 % of its level, or a tiny absolute floor.
    let scale = (1.4826 * mad).max(baseline.abs() * 0.05).max(1e-9);
    let z = |v: f64| (v - baseline) / scale;
    let out = |v: f64| z(v).abs() > THRESHOLD;
    let start = points
        .iter()
        .position(|(t, _)| *t > trigger - BASELINE_GAP)
        .unwrap_or(0);
    // The first sustained excursion that reaches past the baseline window.
    let mut onset_idx = (0..points.len())
        .filter(|&i| i + SUSTAIN <= points.len() && i + SUSTAIN > start)
        .find(|&i| points[i..i + SUSTAIN].iter().all(|(_, v)| out(*v)))?;
    // A slow burn may have begun inside the baseline window: walk back to where it began.
    while onset_idx > 0 && out(points[onset_idx - 1].1) {
        onset_idx -= 1;
    }
    let direction = if z(points[onset_idx].1) > 0.0 {
        Direction::Up
    } else {
        Direction::Down
    };
    let same_way = |v: f64| match direction {
        Direction::Up => z(v) > THRESHOLD,
        Direction::Down => z(v) < -THRESHOLD,
    };
    // The excursion lasts until SUSTAIN points in a row are back within bounds.
    let mut end_idx = points.len();
    let mut i = onset_idx;
    while i + SUSTAIN <= points.len() {
        if points[i..i + SUSTAIN].iter().all(|(_, v)| !out(*v)) {
            end_idx = i;
            break;
        }
        i += 1;
    }
    let (peak_at, peak) = points[onset_idx..end_idx]
        .iter()
        .filter(|(_, v)| same_way(*v))
        .max_by(|a, b| (a.1 - baseline).abs().total_cmp(&(b.1 - baseline).abs()))
        .copied()?;
    Some(Detected {
        baseline,
        scale,
        direction,
        onset: points[onset_idx].0,
        peak,
        peak_at,
        recovered_at: (end_idx < points.len()).then(|| points[end_idx].0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    fn series(values: impl Fn(i64) -> f64) -> FrozenSeries {
        FrozenSeries {
            name: "error_ratio".into(),
            query: "q".into(),
            labels: Default::default(),
            step_secs: 60,
            start: 0,
            end: 240 * MIN,
            points: (0..240).map(|m| (m * MIN, values(m))).collect(),
        }
    }

    fn noise(m: i64) -> f64 {
        ((m * 7919) % 13) as f64 / 13.0 * 0.0002
    }

    #[test]
    fn a_sustained_rise_has_an_onset_peak_and_return() {
        // trigger at 122 min; errors rise at 120 and fall back at 165
        let s = series(|m| {
            if (120..165).contains(&m) {
                0.12 + if m == 140 { 0.01 } else { 0.0 }
            } else {
                0.001 + noise(m)
            }
        });
        let d = detect(&s, 122 * MIN).unwrap();
        assert_eq!(d.direction, Direction::Up);
        assert_eq!(d.onset, 120 * MIN, "onset before the trigger");
        assert_eq!(d.peak_at, 140 * MIN);
        assert!((d.peak - 0.13).abs() < 1e-9);
        assert_eq!(d.recovered_at, Some(165 * MIN));
        assert!((d.baseline - 0.0011).abs() < 0.0002);
    }

    #[test]
    fn a_single_spike_is_not_an_anomaly() {
        let s = series(|m| if m == 130 { 0.5 } else { 0.001 + noise(m) });
        assert!(detect(&s, 122 * MIN).is_none());
    }

    #[test]
    fn a_flat_series_stays_quiet_and_a_drop_is_found() {
        assert!(detect(&series(|_| 5.0), 122 * MIN).is_none());
        let d = detect(&series(|m| if m >= 125 { 1.0 } else { 5.0 }), 122 * MIN).unwrap();
        assert_eq!(d.direction, Direction::Down);
        assert_eq!(d.onset, 125 * MIN);
        assert_eq!(d.recovered_at, None);
    }

    #[test]
    fn too_little_history_gives_no_verdict() {
        let mut s = series(|m| m as f64);
        s.points.truncate(5);
        assert!(detect(&s, 122 * MIN).is_none());
    }
}
