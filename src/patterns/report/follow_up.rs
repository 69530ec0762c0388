//! Whether incidents were followed through: recurrences, action items, and families that came
//! back after one of their action items was closed.

use super::*;

/// Incidents whose family and service saw another within [`RECURRENCE_DAYS`] before.
pub(super) fn recurrences(inputs: &Inputs, month: Month) -> Vec<Recurrence> {
    let family_of = |i: &ReportIncident| family_of(inputs, i);
    let window = Duration::days(RECURRENCE_DAYS).num_milliseconds();
    let mut recurring: BTreeMap<(String, String), Recurrence> = BTreeMap::new();
    let mut last_seen: HashMap<(&str, &str), &ReportIncident> = HashMap::new();
    for i in &inputs.incidents {
        let Some(f) = family_of(i) else { continue };
        let key = (f.as_str(), i.service.as_str());
        if month.contains(i.triggered_at)
            && let Some(before) = last_seen.get(&key)
            && i.triggered_at - before.triggered_at <= window
        {
            let r = recurring
                .entry((f.clone(), i.service.clone()))
                .or_insert_with(|| Recurrence {
                    family_id: f.clone(),
                    label: family_label(inputs, f),
                    service: i.service.clone(),
                    incidents: Vec::new(),
                    previous: Vec::new(),
                });
            r.incidents.push(i.id.clone());
            r.previous.push(before.id.clone());
        }
        last_seen.insert(key, i);
    }
    let mut recurring: Vec<Recurrence> = recurring.into_values().collect();
    recurring.sort_by(|a, b| {
        b.incidents
            .len()
            .cmp(&a.incidents.len())
            .then_with(|| (&a.family_id, &a.service).cmp(&(&b.family_id, &b.service)))
    });
    recurring
}

pub(super) fn action_items(inputs: &Inputs, month: Month, this: &[&ReportIncident]) -> ActionItems {
    let opened = this.iter().map(|i| i.action_items.len()).sum();
    let still_open = this
        .iter()
        .flat_map(|i| &i.action_items)
        .filter(|a| !a.is_done() || a.done_at.is_some_and(|c| c >= month.end()))
        .count();
    let closed = inputs
        .incidents
        .iter()
        .flat_map(|i| &i.action_items)
        .filter(|a| a.is_done() && a.done_at.is_some_and(|c| month.contains(c)))
        .count();
    let open_total = inputs
        .incidents
        .iter()
        .flat_map(|i| &i.action_items)
        .filter(|a| !a.is_done() || a.done_at.is_some_and(|c| c >= month.end()))
        .count();
    ActionItems {
        opened,
        closed,
        still_open,
        open_total,
    }
}

/// Families back after their action items were closed.
pub(super) fn recurred_after_fix(inputs: &Inputs, month: Month) -> Vec<RecurredAfterFix> {
    let family_of = |i: &ReportIncident| family_of(inputs, i);
    let mut recurred_after_fix = Vec::new();
    // Per family, the items closed so far: (closed at, incident, item).
    let mut fixes: HashMap<&str, Vec<(Millis, &ReportIncident, &str)>> = HashMap::new();
    for i in &inputs.incidents {
        let Some(f) = family_of(i) else { continue };
        if month.contains(i.triggered_at)
            && let Some((closed_at, fixed, item)) = fixes
                .get(f.as_str())
                .into_iter()
                .flatten()
                .filter(|(c, _, _)| *c < i.triggered_at)
                .max_by_key(|(c, _, _)| *c)
        {
            match recurred_after_fix
                .iter_mut()
                .find(|r: &&mut RecurredAfterFix| &r.family_id == f)
            {
                Some(r) => r.incidents.push(i.id.clone()),
                None => recurred_after_fix.push(RecurredAfterFix {
                    family_id: f.clone(),
                    label: family_label(inputs, f),
                    incidents: vec![i.id.clone()],
                    fixed_incident: fixed.id.clone(),
                    action_item: item.to_string(),
                    closed_at: fmt_time(*closed_at),
                }),
            }
        }
        for a in &i.action_items {
            if let Some(c) = a.done_at.filter(|_| a.is_done()) {
                fixes
                    .entry(f.as_str())
                    .or_default()
                    .push((c, i, a.text.as_str()));
            }
        }
    }

    recurred_after_fix.sort_by(|a, b| {
        b.incidents
            .len()
            .cmp(&a.incidents.len())
            .then_with(|| a.family_id.cmp(&b.family_id))
    });
    recurred_after_fix
}
