//! Review: people take a draft to a published postmortem. A status moves `draft` → `in_review` →
//! `published` (or back to `draft`); an edit adds a revision of the person's own; a regeneration
//! adds an automatic revision after it and never changes one a person edited or moved. The web
//! pages and the workflow API both call in here, so both record who did what and when.

pub mod diff;
pub mod export;
pub mod items;
pub mod markdown;

use tokio::sync::Notify;

use crate::domain::JobKind;
use crate::domain::postmortem::{Postmortem, RevisionHeader};
use crate::domain::{IncidentId, Invalid, now_millis};
use crate::render::Templates;
use crate::store::postmortems::StoredPostmortem;
use crate::store::reviews::{ReviewEvent, Stale};
use crate::store::{Store, StoreError};

/// What the review workflow works with: the store, the templates an untouched draft is rendered
/// with again, and the signal that wakes the job workers when a redraft is queued.
pub struct Desk<'a> {
    pub store: &'a Store,
    pub templates: &'a Templates,
    pub jobs_ready: &'a Notify,
}

/// Why a review step was refused; `http::Error` maps each to its status code.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The request is not what the step takes (400).
    #[error("{0}")]
    BadRequest(String),
    /// No such incident, revision or action item (404).
    #[error("{0}")]
    NotFound(String),
    /// Someone else moved it first, or the workflow does not allow the move (409).
    #[error("{0}")]
    Conflict(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

use ReviewError as Error;

/// The longest Markdown an edit may save.
pub const MAX_MARKDOWN: usize = 256 * 1024;

/// Where a postmortem stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    Draft,
    InReview,
    Published,
}

impl ReviewStatus {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "draft" => Ok(Self::Draft),
            "in_review" => Ok(Self::InReview),
            "published" => Ok(Self::Published),
            _ => Err(Invalid(format!(
                "status {s:?} is not one of draft, in_review, published"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Published => "published",
        }
    }

    /// Why `self` → `to` is not allowed, if it is not. A draft is reviewed before it is published;
    /// anything may go back to `draft`, and a published postmortem may go back to review.
    pub fn refuses(self, to: Self) -> Option<String> {
        use ReviewStatus::*;
        match (self, to) {
            (a, b) if a == b => Some(format!("the postmortem is already {}", a.as_str())),
            (Draft, Published) => Some(
                "a draft is reviewed before it is published: move it to in_review first".into(),
            ),
            _ => None,
        }
    }
}

/// A person's name as recorded on their actions: 1–100 characters, no control characters.
pub fn person_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Invalid(format!(
            "name {:?} must be 1 to 100 characters without control characters",
            name.chars().take(120).collect::<String>()
        )));
    }
    Ok(name.to_string())
}

fn stale(id: &IncidentId, s: Stale) -> Error {
    match s {
        Stale::Revision(n) => Error::Conflict(format!(
            "the postmortem of {id} changed meanwhile: revision {n} is current now; reload and try again"
        )),
        Stale::Status(st) => Error::Conflict(format!(
            "the postmortem of {id} was moved to {st} meanwhile; reload and try again"
        )),
    }
}

async fn current(state: &Desk<'_>, id: &IncidentId) -> Result<StoredPostmortem, Error> {
    state
        .store
        .current_postmortem(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("incident {id} has no postmortem yet")))
}

fn check_base(id: &IncidentId, cur: &StoredPostmortem, base: Option<i64>) -> Result<(), Error> {
    match base {
        Some(b) if b != cur.header.revision => Err(Error::Conflict(format!(
            "revision {b} of {id} is no longer current: revision {} is; reload and try again",
            cur.header.revision
        ))),
        _ => Ok(()),
    }
}

/// The incident, or `NotFound` naming it.
pub async fn require_incident(
    state: &Desk<'_>,
    id: &IncidentId,
) -> Result<crate::domain::Incident, Error> {
    state
        .store
        .incident(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no incident {id}")))
}

/// Moves the current revision to `to`, recording `actor`. `base`: the revision the person saw.
pub async fn set_status(
    state: &Desk<'_>,
    id: &IncidentId,
    to: ReviewStatus,
    base: Option<i64>,
    actor: &str,
) -> Result<StoredPostmortem, Error> {
    let mut cur = current(state, id).await?;
    check_base(id, &cur, base)?;
    let from = ReviewStatus::parse(&cur.header.status)
        .map_err(|e| Error::Internal(format!("stored postmortem status: {e}")))?;
    if let Some(why) = from.refuses(to) {
        return Err(Error::Conflict(why));
    }
    // An untouched draft's Markdown names its status, so it is rendered again; a person's text is
    // theirs and stays as written.
    let doc = serde_json::from_value::<Postmortem>(cur.body.clone()).ok();
    if cur.author.is_none()
        && let Some(mut doc) = doc
    {
        doc.header.status = to.as_str().into();
        doc.markdown = String::new();
        cur.markdown = state
            .templates
            .markdown(&doc)
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    if let Some(o) = cur.body.as_object_mut() {
        o.insert("status".into(), to.as_str().into());
        o.insert("markdown".into(), cur.markdown.clone().into());
    }
    let mut event = ReviewEvent::new(id.as_str(), "status", actor, now_millis());
    event.revision = Some(cur.header.revision);
    event.from_status = Some(from.as_str().into());
    event.to_status = Some(to.as_str().into());
    state
        .store
        .move_postmortem_status(
            cur.header.revision,
            from.as_str(),
            &cur.body,
            &cur.markdown,
            &event,
        )
        .await?
        .map_err(|s| stale(id, s))?;
    cur.header.status = to.as_str().into();
    Ok(cur)
}

/// Saves `markdown` as a new revision by `actor`, if `base` (when given) is still current.
/// Returns the current revision and whether it is new (saving the same text adds nothing). An
/// edit keeps the status, but an edit of a published postmortem goes back to review.
pub async fn edit(
    state: &Desk<'_>,
    id: &IncidentId,
    markdown: &str,
    base: Option<i64>,
    actor: &str,
) -> Result<(StoredPostmortem, bool), Error> {
    let markdown = markdown.replace("\r\n", "\n");
    if markdown.trim().is_empty() {
        return Err(Error::BadRequest("markdown is empty".into()));
    }
    if markdown.len() > MAX_MARKDOWN {
        return Err(Error::BadRequest(format!(
            "markdown is {} bytes, more than the {MAX_MARKDOWN} an edit may save",
            markdown.len()
        )));
    }
    let cur = current(state, id).await?;
    check_base(id, &cur, base)?;
    if markdown == cur.markdown {
        return Ok((cur, false));
    }
    let status = match cur.header.status.as_str() {
        "published" => "in_review".to_string(),
        s => s.to_string(),
    };
    let now = now_millis();
    let changed = diff::line_diff(&cur.markdown, &markdown);
    let mut body = cur.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.insert("status".into(), status.clone().into());
        o.insert("markdown".into(), markdown.clone().into());
    }
    let mut p = StoredPostmortem {
        header: RevisionHeader {
            status: status.clone(),
            ..cur.header.clone()
        },
        author: Some(actor.to_string()),
        generated_at: now,
        body,
        markdown,
    };
    let mut event = ReviewEvent::new(id.as_str(), "edit", actor, now);
    event.from_status = Some(cur.header.status.clone());
    event.to_status = Some(status);
    event.detail = format!(
        "edited revision {}: +{} -{} lines",
        cur.header.revision, changed.inserted, changed.deleted
    );
    let revision = state
        .store
        .add_edited_revision(&p, cur.header.revision, &event)
        .await?
        .map_err(|s| stale(id, s))?;
    p.header.revision = revision;
    if let Some(o) = p.body.as_object_mut() {
        o.insert("revision".into(), revision.into());
    }
    Ok((p, true))
}

/// Queues a redraft asked for by `actor`; returns the job id. The new draft becomes the next
/// revision; the current one (and any person's edit) stays as it is.
pub async fn regenerate(state: &Desk<'_>, id: &IncidentId, actor: &str) -> Result<String, Error> {
    require_incident(state, id).await?;
    let now = now_millis();
    let job_id = state
        .store
        .enqueue_job(JobKind::Redraft, Some(id.as_str()), now)
        .await?;
    state.jobs_ready.notify_waiters();
    let mut event = ReviewEvent::new(id.as_str(), "regenerate", actor, now);
    event.revision = state
        .store
        .current_postmortem(id)
        .await?
        .map(|c| c.header.revision);
    event.detail = format!("redraft queued as job {job_id}");
    state.store.add_review_event(&event).await?;
    Ok(job_id)
}

/// The diff from revision `from` to revision `to` of the incident's postmortem.
pub async fn revision_diff(
    state: &Desk<'_>,
    id: &IncidentId,
    from: i64,
    to: i64,
) -> Result<(StoredPostmortem, StoredPostmortem, diff::LineDiff), Error> {
    let revs = state.store.postmortem_revisions(id).await?;
    let find = |n: i64| {
        revs.iter()
            .find(|r| r.header.revision == n)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("incident {id} has no revision {n}")))
    };
    let (a, b) = (find(from)?, find(to)?);
    let d = diff::line_diff(&a.markdown, &b.markdown);
    Ok((a, b, d))
}
