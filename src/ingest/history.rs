//! Incident history import: CONTRACT.md's import record, one JSON object a line. Imported incidents
//! are ordinary incidents (`source = "import"`): they have timelines, changes, root causes and
//! action items, and take part in drafting, similarity, families and reports.
//!
//! Evidence ids: the record's own timeline items are `import:<incident>:<n>` (n from 1, in the
//! record's time order), the trigger, acknowledgement and resolution are
//! `import:<incident>:triggered|acknowledged|resolved`, and changes keep `change:<id>`.

use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::domain::{ActionItem, HistoryRecord, TimelineEntry};
use crate::domain::{IncidentId, Millis, Severity, parse_time, to_millis};
use crate::ingest::changes::ChangeInput;

#[derive(Deserialize)]
#[serde(untagged)]
enum ActionInput {
    Text(String),
    Full(ActionFields),
}

/// An action item object of the import record.
#[derive(Deserialize)]
struct ActionFields {
    text: String,
    #[serde(default)]
    owner: Option<String>,
    /// `open` or `done`.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    closed_at: Option<String>,
}

impl TryFrom<ActionInput> for ActionItem {
    type Error = String;

    fn try_from(a: ActionInput) -> Result<Self, String> {
        let a = match a {
            ActionInput::Text(t) => return Ok(ActionItem::new(t, vec![])),
            ActionInput::Full(a) => a,
        };
        let status = a.status.unwrap_or_else(|| "open".into());
        if !matches!(status.as_str(), "open" | "done") {
            return Err(format!(
                "action item status {status:?} is not `open` or `done`"
            ));
        }
        Ok(ActionItem {
            text: a.text,
            owner: a.owner,
            status,
            evidence_ids: vec![],
            done_at: a
                .closed_at
                .map(|c| time(&c, "action_items[].closed_at"))
                .transpose()?,
        })
    }
}

#[derive(Deserialize)]
struct TimelineInput {
    at: String,
    #[serde(default)]
    source: Option<String>,
    text: String,
    #[serde(default)]
    author: Option<String>,
}

#[derive(Deserialize)]
struct RecordInput {
    id: Option<String>,
    title: Option<String>,
    service: Option<String>,
    triggered_at: Option<String>,
    resolved_at: Option<String>,
    #[serde(default)]
    acknowledged_at: Option<String>,
    #[serde(default)]
    severity: Option<Value>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    root_cause: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    action_items: Vec<ActionInput>,
    #[serde(default)]
    changes: Vec<Value>,
    #[serde(default)]
    timeline: Vec<TimelineInput>,
    #[serde(default)]
    tags: Vec<String>,
}

/// One line of an import file as text: a UTF-8 byte-order mark (first line) and a Windows `\r`
/// line end are dropped; bytes that are not UTF-8 are the line's error, naming where they start
/// (a spreadsheet's Latin-1 export, say), so the other lines still import.
pub fn decode_line(bytes: &[u8], first: bool) -> Result<String, String> {
    let bytes = if first {
        bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
    } else {
        bytes
    };
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        format!(
            "not UTF-8 text (a byte at column {} is not UTF-8; save the file as UTF-8)",
            e.utf8_error().valid_up_to() + 1
        )
    })
}

fn required(v: Option<String>, name: &str) -> Result<String, String> {
    match v.map(|s| s.trim().to_string()) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(format!("`{name}` is required")),
    }
}

fn time(v: &str, name: &str) -> Result<Millis, String> {
    parse_time(v)
        .map(to_millis)
        .map_err(|e| format!("`{name}`: {e}"))
}

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The timeline kind of an imported item: responders' words count as human evidence.
fn kind_of(source: &str) -> &'static str {
    match source {
        "slack" | "chat" | "message" | "teams" | "zoom" => "message",
        "note" | "notes" => "note",
        "status" | "status_update" | "statuspage" => "status_update",
        _ => "event",
    }
}

/// Parses and validates one line.
pub fn parse_record(line: &str, config: &Config) -> Result<HistoryRecord, String> {
    let r: RecordInput = serde_json::from_str(line).map_err(|e| format!("not a record: {e}"))?;
    let id = IncidentId::parse(&required(r.id, "id")?).map_err(|e| e.0)?;
    let title = required(r.title, "title")?;
    let service = config.resolve_service_name(&required(r.service, "service")?);
    let triggered_at = time(&required(r.triggered_at, "triggered_at")?, "triggered_at")?;
    let resolved_at = time(&required(r.resolved_at, "resolved_at")?, "resolved_at")?;
    if resolved_at < triggered_at {
        return Err("`resolved_at` is before `triggered_at`".into());
    }
    let acknowledged_at = match text(r.acknowledged_at) {
        Some(a) => Some(time(&a, "acknowledged_at")?),
        None => None,
    };
    if acknowledged_at.is_some_and(|a| a < triggered_at) {
        return Err("`acknowledged_at` is before `triggered_at`".into());
    }
    let severity = match r.severity {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Severity::parse(&s).map_err(|e| e.0)?),
        Some(Value::Number(n)) => Some(Severity::parse(&n.to_string()).map_err(|e| e.0)?),
        Some(other) => return Err(format!("`severity` {other} is not a severity")),
    };
    let changes = r
        .changes
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let input: ChangeInput =
                serde_json::from_value(v).map_err(|e| format!("changes[{i}]: {e}"))?;
            input
                .into_change(config, "import")
                .map_err(|e| format!("changes[{i}]: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut items = Vec::with_capacity(r.timeline.len());
    for (i, t) in r.timeline.into_iter().enumerate() {
        let at = time(&t.at, &format!("timeline[{i}].at"))?;
        let source = t
            .source
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "note".into());
        items.push((at, i, source, text(t.author), t.text));
    }
    items.sort_by_key(|(at, i, ..)| (*at, *i));
    let timeline = items
        .into_iter()
        .enumerate()
        .map(|(n, (at, _, source, author, text))| TimelineEntry {
            incident_id: id.to_string(),
            thread: None,
            raw: None,
            evidence_id: format!("import:{}:{}", id, n + 1),
            at,
            kind: kind_of(&source).into(),
            source,
            author,
            text,
        })
        .collect();
    let action_items = r
        .action_items
        .into_iter()
        .map(ActionItem::try_from)
        .filter(|a| !a.as_ref().is_ok_and(|a| a.text.trim().is_empty()))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(HistoryRecord {
        id,
        title,
        service,
        triggered_at,
        acknowledged_at,
        resolved_at,
        severity,
        summary: text(r.summary),
        root_cause: text(r.root_cause),
        resolution: text(r.resolution),
        action_items,
        changes,
        timeline,
        tags: r.tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_bom_and_crlf_and_bad_bytes_name_their_column() {
        assert_eq!(
            decode_line(b"\xEF\xBB\xBF{\"id\": 1}\r", true).unwrap(),
            "{\"id\": 1}"
        );
        assert_eq!(decode_line(b"{}\r", false).unwrap(), "{}");
        let e = decode_line(b"{\"t\": \"caf\xE9\"}", false).unwrap_err();
        assert!(e.contains("column 11"), "{e}");
    }
}
