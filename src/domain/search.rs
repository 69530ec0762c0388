//! One incident as similarity search and families see it: its words, by field.

/// One incident as search sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchDoc {
    pub id: String,
    pub title: String,
    pub service: String,
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    pub action_items: Vec<String>,
    pub change_kinds: Vec<String>,
    pub triggered_at: i64,
    /// The summary or root cause is a draft's, not written by people.
    pub drafted: bool,
}
