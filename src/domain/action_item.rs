//! Action items: what is to be done after an incident so it does not happen again. Drafts propose
//! them, imported postmortems bring them, and people track them on the review pages; the report
//! counts them. One shape for all of these, with the tracking details beside it.

use serde::{Deserialize, Serialize};

use super::Millis;

/// An action item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionItem {
    pub text: String,
    #[serde(default)]
    pub owner: Option<String>,
    /// `open` or `done`.
    #[serde(default = "open")]
    pub status: String,
    /// The evidence it rests on (empty for imported items).
    #[serde(default)]
    pub evidence_ids: Vec<String>,
    /// When it was done, where known (ms; RFC 3339 in JSON). Imported postmortems call it
    /// `closed_at`.
    #[serde(default, alias = "closed_at", with = "super::rfc3339::option")]
    pub done_at: Option<Millis>,
}

fn open() -> String {
    "open".into()
}

impl ActionItem {
    /// An open item with no owner.
    pub fn new(text: impl Into<String>, evidence_ids: Vec<String>) -> Self {
        ActionItem {
            text: text.into(),
            owner: None,
            status: open(),
            evidence_ids,
            done_at: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.status == "done"
    }

    /// The items of a stored JSON list whose entries are objects or bare strings (the forms an
    /// import record allows); entries that are neither, or have no text, are skipped.
    pub fn list_from_json(v: &serde_json::Value) -> Vec<ActionItem> {
        let Some(items) = v.as_array() else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|a| match a {
                serde_json::Value::String(s) => Some(ActionItem::new(s.clone(), vec![])),
                v => serde_json::from_value::<ActionItem>(v.clone()).ok(),
            })
            .filter(|a| !a.text.trim().is_empty())
            .collect()
    }
}

/// An action item people track for an incident, numbered per incident from 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackedActionItem {
    pub n: i64,
    #[serde(flatten)]
    pub item: ActionItem,
    /// `draft` (seeded from the draft) or `person`.
    pub origin: String,
    pub created_by: String,
    #[serde(with = "super::rfc3339")]
    pub created_at: Millis,
    pub updated_by: String,
    #[serde(with = "super::rfc3339")]
    pub updated_at: Millis,
}

/// What an update of a tracked item changes; `None` leaves a field as it is. `owner: Some(None)`
/// clears the owner.
#[derive(Debug, Clone, Default)]
pub struct ActionItemChange {
    pub text: Option<String>,
    pub owner: Option<Option<String>>,
    pub status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_lists_take_strings_objects_and_the_import_name_of_done_at() {
        let v = serde_json::json!([
            "Alert on pool saturation",
            {"text": "Cap the timeout", "owner": "dana", "status": "done",
             "closed_at": "2026-03-05T00:00:00Z"},
            {"text": "  "},
            42
        ]);
        let items = ActionItem::list_from_json(&v);
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            ActionItem::new("Alert on pool saturation", vec![])
        );
        assert!(items[1].is_done());
        assert_eq!(items[1].done_at, Some(1_772_668_800_000));
        let back = serde_json::to_value(&items[1]).unwrap();
        assert_eq!(back["done_at"], "2026-03-05T00:00:00Z");
    }
}
