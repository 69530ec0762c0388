//! What the month's incidents were: their families (new and growing ones called out) and how many
//! followed a change on their own service.

use super::*;

/// The month's families (largest first) and how many of its incidents are in none.
pub(super) fn family_counts(
    inputs: &Inputs,
    month: Month,
    this: &[&ReportIncident],
) -> (Vec<FamilyCount>, usize) {
    let trend_months = month.trailing(TREND_MONTHS);
    let family_of = |i: &ReportIncident| family_of(inputs, i);
    let mut first_seen: HashMap<&str, Millis> = HashMap::new();
    for i in &inputs.incidents {
        if let Some(f) = family_of(i) {
            first_seen.entry(f.as_str()).or_insert(i.triggered_at);
        }
    }
    let mut families: Vec<FamilyCount> = Vec::new();
    let mut unassigned = 0;
    let mut per_family: BTreeMap<&str, Vec<&ReportIncident>> = BTreeMap::new();
    for i in this {
        match family_of(i) {
            Some(f) => per_family.entry(f.as_str()).or_default().push(i),
            None => unassigned += 1,
        }
    }
    for (id, set) in &per_family {
        let by_month: BTreeMap<String, usize> = trend_months
            .iter()
            .map(|&m| {
                let n = inputs
                    .incidents
                    .iter()
                    .filter(|i| {
                        m.contains(i.triggered_at) && family_of(i).map(String::as_str) == Some(*id)
                    })
                    .count();
                (m.to_string(), n)
            })
            .collect();
        let counts: Vec<usize> = trend_months
            .iter()
            .map(|m| by_month[&m.to_string()])
            .collect();
        let now_n = counts[counts.len() - 1];
        let before = counts[counts.len() - 2];
        let earlier = &counts[..counts.len() - 1];
        let average = earlier.iter().sum::<usize>() as f64 / earlier.len().max(1) as f64;
        let new = first_seen.get(id).is_some_and(|&t| month.contains(t));
        let (label, causes) = inputs.families.get(*id).cloned().unwrap_or_default();
        families.push(FamilyCount {
            id: id.to_string(),
            label,
            incidents: set.len(),
            by_month,
            new,
            growing: !new && now_n >= 2 && now_n > before && now_n as f64 > average,
            examples: set.iter().take(3).map(|i| i.id.clone()).collect(),
            typical_causes: causes,
        });
    }
    families.sort_by(|a, b| b.incidents.cmp(&a.incidents).then_with(|| a.id.cmp(&b.id)));
    (families, unassigned)
}

/// How many of the month's incidents followed a change on their service within the lookback.
pub(super) fn change_share(
    inputs: &Inputs,
    this: &[&ReportIncident],
    lookback_hours: f64,
) -> ChangeShare {
    let lookback = (lookback_hours * 3_600_000.0) as i64;
    let mut by_service_changes: HashMap<&str, Vec<(&str, Millis)>> = HashMap::new();
    for (service, kind, at) in &inputs.changes {
        by_service_changes
            .entry(service.as_str())
            .or_default()
            .push((kind.as_str(), *at));
    }
    let mut preceded = 0;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for i in this {
        let before: BTreeSet<&str> = by_service_changes
            .get(i.service.as_str())
            .into_iter()
            .flatten()
            .filter(|(_, at)| *at <= i.triggered_at && *at >= i.triggered_at - lookback)
            .map(|(k, _)| *k)
            .collect();
        if !before.is_empty() {
            preceded += 1;
        }
        for k in before {
            *kinds.entry(k).or_default() += 1;
        }
    }
    let mut by_kind: Vec<KindShare> = kinds
        .into_iter()
        .map(|(kind, n)| KindShare {
            kind: kind.to_string(),
            incidents: n,
            percent: percent(n, this.len()),
        })
        .collect();
    by_kind.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then_with(|| a.kind.cmp(&b.kind))
    });
    ChangeShare {
        lookback_hours,
        incidents_preceded: preceded,
        percent: percent(preceded, this.len()),
        by_kind,
    }
}
