//! Action items people track on the review pages: seeded once from the draft, then added,
//! changed and deleted by people, each step in the review log.

use super::{Desk, ReviewError as Error, person_name, require_incident};
use crate::domain::{
    ActionItem, ActionItemChange, IncidentId, Invalid, TrackedActionItem, now_millis,
};

/// The draft's action items, to seed the tracked ones from.
pub fn seed_from_draft(body: &serde_json::Value) -> Vec<ActionItem> {
    ActionItem::list_from_json(&body["action_items"])
        .into_iter()
        .map(|a| ActionItem {
            status: if a.is_done() { "done" } else { "open" }.into(),
            ..a
        })
        .collect()
}

/// The incident's tracked action items (seeded from the current draft the first time).
pub async fn list(state: &Desk<'_>, id: &IncidentId) -> Result<Vec<TrackedActionItem>, Error> {
    require_incident(state, id).await?;
    let seed = match state.store.current_postmortem(id).await? {
        Some(p) => seed_from_draft(&p.body),
        None => Vec::new(),
    };
    Ok(state.store.action_items(id, &seed, now_millis()).await?)
}

/// An action item's text: 1–2000 characters.
pub fn text(raw: &str) -> Result<String, Invalid> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 2000 {
        return Err(Invalid(
            "action item text must be 1 to 2000 characters".into(),
        ));
    }
    Ok(t.to_string())
}

/// An owner: empty means none, else a person's name.
pub fn owner(raw: &str) -> Result<Option<String>, Invalid> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        person_name(raw)
            .map(Some)
            .map_err(|e| Invalid(format!("owner: {e}")))
    }
}

/// `open` or `done`.
pub fn status(raw: &str) -> Result<String, Invalid> {
    match raw {
        "open" | "done" => Ok(raw.to_string()),
        _ => Err(Invalid(format!(
            "action item status {raw:?} is not one of open, done"
        ))),
    }
}

/// Adds an item for `actor`.
pub async fn add(
    state: &Desk<'_>,
    id: &IncidentId,
    item: ActionItem,
    actor: &str,
) -> Result<TrackedActionItem, Error> {
    // Seed first, so a person's first item does not stop the draft's from being adopted.
    list(state, id).await?;
    Ok(state
        .store
        .add_action_item(id, &item, actor, now_millis())
        .await?)
}

/// Applies `change` to item `n` for `actor`.
pub async fn update(
    state: &Desk<'_>,
    id: &IncidentId,
    n: i64,
    change: &ActionItemChange,
    actor: &str,
) -> Result<TrackedActionItem, Error> {
    list(state, id).await?;
    state
        .store
        .update_action_item(id, n, change, actor, now_millis())
        .await?
        .ok_or_else(|| Error::NotFound(format!("incident {id} has no action item {n}")))
}

/// Deletes item `n` for `actor` (it is only marked, so the draft's never come back).
pub async fn delete(state: &Desk<'_>, id: &IncidentId, n: i64, actor: &str) -> Result<(), Error> {
    list(state, id).await?;
    if state
        .store
        .delete_action_item(id, n, actor, now_millis())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "incident {id} has no action item {n}"
        )))
    }
}
