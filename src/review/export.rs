//! Postmortem-as-code: the latest published revision as a Markdown file with YAML front matter
//! (who wrote and reviewed it, when it was published, its action items), ready for a repository.

use serde_json::Value;

use super::items;
use super::{Desk, ReviewError as Error};
use crate::domain::TrackedActionItem;
use crate::domain::{Incident, IncidentId, fmt_time};
use crate::store::postmortems::StoredPostmortem;
use crate::store::reviews::ReviewEvent;

/// An exported postmortem.
#[derive(Debug, Clone)]
pub struct Export {
    pub filename: String,
    pub revision: i64,
    pub text: String,
}

/// A YAML scalar: JSON's quoting is valid YAML, plus escapes for the characters YAML does not
/// allow unescaped inside double quotes.
fn scalar(v: &Value) -> String {
    let json = v.to_string();
    json.chars()
        .map(|c| match c as u32 {
            0x7f..=0x84 | 0x86..=0x9f | 0xfeff => format!("\\u{:04x}", c as u32),
            _ => c.to_string(),
        })
        .collect()
}

fn text(s: &str) -> String {
    scalar(&Value::String(s.to_string()))
}

fn opt(s: Option<&str>) -> String {
    s.map(text).unwrap_or_else(|| "null".into())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    format!(
        "[{}]",
        items.iter().map(|s| text(s)).collect::<Vec<_>>().join(", ")
    )
}

/// The incident's latest published revision as Markdown with front matter; 409 when no revision
/// is published.
pub async fn export(state: &Desk<'_>, id: &IncidentId) -> Result<Export, Error> {
    let incident = state
        .store
        .incident(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no incident {id}")))?;
    let revs = state.store.postmortem_revisions(id).await?;
    let Some(last) = revs.last() else {
        return Err(Error::NotFound(format!(
            "incident {id} has no postmortem yet"
        )));
    };
    let Some(p) = revs.iter().rev().find(|r| r.header.status == "published") else {
        return Err(Error::Conflict(format!(
            "the postmortem of {id} is not published (revision {} is {}): publish it first",
            last.header.revision, last.header.status
        )));
    };
    let events = state.store.review_events(id).await?;
    let people = People::of(&revs, &events, p.header.revision);
    let items = items::list(state, id).await?;
    let mut text = front_matter(&incident, p, &people, &items);
    text.push_str("---\n\n");
    text.push_str(p.markdown.trim_end());
    text.push('\n');
    Ok(Export {
        filename: format!("postmortem-{id}-r{}.md", p.header.revision),
        revision: p.header.revision,
        text,
    })
}

/// Who wrote a revision and who reviewed and published it.
struct People<'a> {
    /// Everyone who wrote one of the revisions up to it, first writer first.
    authors: Vec<String>,
    /// Everyone who moved its status, in order.
    reviewers: Vec<String>,
    published: Option<&'a ReviewEvent>,
}

impl<'a> People<'a> {
    fn of(revs: &[StoredPostmortem], events: &'a [ReviewEvent], revision: i64) -> Self {
        let mut authors: Vec<String> = Vec::new();
        for a in revs
            .iter()
            .filter(|r| r.header.revision <= revision)
            .filter_map(|r| r.author.as_ref())
        {
            if !authors.contains(a) {
                authors.push(a.clone());
            }
        }
        let mut reviewers: Vec<String> = Vec::new();
        let mut published = None;
        for e in events
            .iter()
            .filter(|e| e.action == "status" && e.revision == Some(revision))
        {
            if !reviewers.contains(&e.actor) {
                reviewers.push(e.actor.clone());
            }
            if e.to_status.as_deref() == Some("published") {
                published = Some(e);
            }
        }
        People {
            authors,
            reviewers,
            published,
        }
    }
}

/// The YAML front matter up to (not including) its closing `---`.
fn front_matter(
    incident: &Incident,
    p: &StoredPostmortem,
    people: &People,
    items: &[TrackedActionItem],
) -> String {
    let h = &p.header;
    let drafted_at = p.body.get("generated_at").and_then(Value::as_str);
    let published = people.published;
    let mut fm = String::from("---\n");
    let mut line = |k: &str, v: String| {
        fm.push_str(k);
        fm.push_str(": ");
        fm.push_str(&v);
        fm.push('\n');
    };
    line("incident_id", text(&h.incident_id));
    line("title", text(&incident.title));
    line("service", text(&incident.service));
    line(
        "severity",
        opt(incident.severity.map(|s| s.to_string()).as_deref()),
    );
    line("status", text(&h.status));
    line("revision", h.revision.to_string());
    line("drafter", text(&h.drafter));
    line("model", opt(h.model.as_deref()));
    line("authors", list(&people.authors));
    line("reviewers", list(&people.reviewers));
    line(
        "published_at",
        opt(published.map(|e| fmt_time(e.at)).as_deref()),
    );
    line("published_by", opt(published.map(|e| e.actor.as_str())));
    line("triggered_at", text(&fmt_time(incident.triggered_at)));
    line(
        "acknowledged_at",
        opt(incident.acknowledged_at.map(fmt_time).as_deref()),
    );
    line(
        "resolved_at",
        opt(incident.resolved_at.map(fmt_time).as_deref()),
    );
    line("drafted_at", opt(drafted_at));
    line("revised_at", text(&fmt_time(p.generated_at)));
    line("evidence_hash", text(&h.evidence_hash));
    if items.is_empty() {
        line("action_items", "[]".into());
        return fm;
    }
    fm.push_str("action_items:\n");
    for a in items {
        fm.push_str(&format!("  - id: {}\n", a.n));
        fm.push_str(&format!("    text: {}\n", text(&a.item.text)));
        fm.push_str(&format!("    owner: {}\n", opt(a.item.owner.as_deref())));
        fm.push_str(&format!("    status: {}\n", text(&a.item.status)));
        fm.push_str(&format!(
            "    done_at: {}\n",
            opt(a.item.done_at.map(fmt_time).as_deref())
        ));
        fm.push_str(&format!(
            "    evidence_ids: {}\n",
            list(&a.item.evidence_ids)
        ));
    }
    fm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_so_yaml_reads_them_back_as_the_same_text() {
        assert_eq!(text("a: b # c"), r#""a: b # c""#);
        assert_eq!(text("line\nnext \"q\""), r#""line\nnext \"q\"""#);
        assert_eq!(text("del\u{7f}"), r#""del\u007f""#);
        assert_eq!(list(&[]), "[]");
        assert_eq!(list(&["x".into(), "y".into()]), r#"["x", "y"]"#);
        assert_eq!(opt(None), "null");
    }
}
