//! What the service says in Slack, built in one place: a drafted postmortem and a monthly report,
//! each as fallback text and Block Kit blocks (user text escaped as Slack's mrkdwn wants).

use crate::domain::report::Report;

/// The Block Kit announcement of a draft: title, top hypothesis with its confidence, a link.
pub fn draft(
    base_url: &str,
    p: &crate::domain::postmortem::Postmortem,
) -> (String, serde_json::Value) {
    let esc = super::slack::esc;
    let link = super::slack::postmortem_link(base_url, &p.header.incident_id);
    let title: String = format!("Postmortem drafted: {}", p.title)
        .chars()
        .take(150)
        .collect();
    let top = p
        .root_cause_hypotheses
        .iter()
        .find(|h| h.supported)
        .map(|h| {
            format!(
                "*Top hypothesis* (confidence {:.2}): {}",
                h.confidence,
                esc(&h.hypothesis)
            )
        })
        .unwrap_or_else(|| "No root-cause hypothesis is supported by the evidence yet.".into());
    let by = match &p.header.model {
        Some(m) => format!("the {} drafter ({})", p.header.drafter, esc(m)),
        None => format!("the {} drafter", p.header.drafter),
    };
    let blocks = serde_json::json!([
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        {"type": "section", "text": {"type": "mrkdwn", "text": format!(
            "*{}* · {} · revision {} by {}\n{}", esc(&p.header.incident_id), esc(&p.service), p.header.revision, by, top)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": format!("<{link}|Open the postmortem>")}}
    ]);
    (format!("{title} ({link})"), blocks)
}

/// The Block Kit announcement of a monthly report: its summary, the top families, a button.
pub fn report(r: &Report) -> (String, serde_json::Value) {
    let esc = super::slack::esc;
    let title = format!("Reliability report: {}", r.month);
    let summary = r.summary();
    let mut lines = vec![format!("*{}*", esc(&title)), esc(&summary)];
    let top: Vec<String> = r
        .families
        .iter()
        .take(3)
        .map(|f| {
            let mut s = format!("• {} ({})", esc(&f.label), f.incidents);
            if f.new {
                s.push_str(" — new");
            } else if f.growing {
                s.push_str(" — growing");
            }
            s
        })
        .collect();
    if !top.is_empty() {
        lines.push(format!("Top families:\n{}", top.join("\n")));
    }
    let link = r.link();
    let blocks = serde_json::json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}},
        {"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open the report"}, "url": link}
        ]}
    ]);
    (format!("{title}: {summary} {link}"), blocks)
}
