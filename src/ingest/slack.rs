//! Slack message text as people read it. Slack escapes `&`, `<` and `>` in message text and wraps
//! links, mentions and channels in `<…>` (<https://api.slack.com/reference/surfaces/formatting>):
//! `<https://x.example|dashboard>` reads "dashboard", `<@U0LEE0001>` "@U0LEE0001",
//! `<#C123|ops>` "#ops", `<!here>` "@here", and `&gt;` ">".

use std::sync::LazyLock;

use regex::{Captures, Regex};

static ANGLED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([^<>|]*)(?:\|([^<>]*))?>").expect("a valid built-in pattern"));

/// The plain text of a Slack message's `text`.
pub fn plain_text(mrkdwn: &str) -> String {
    let replaced = ANGLED.replace_all(mrkdwn, |c: &Captures| {
        let target = &c[1];
        let label = c.get(2).map(|m| m.as_str()).filter(|l| !l.is_empty());
        match (target.chars().next(), label) {
            (Some('@'), Some(l)) => format!("@{}", l.trim_start_matches('@')),
            (Some('@'), None) => target.to_string(),
            (Some('#'), Some(l)) => format!("#{l}"),
            (Some('#'), None) => target.to_string(),
            (Some('!'), Some(l)) => l.to_string(),
            (Some('!'), None) => {
                let special = target.trim_start_matches('!');
                format!("@{}", special.split('^').next().unwrap_or(special))
            }
            (_, Some(l)) => l.to_string(),
            (_, None) => target.to_string(),
        }
    });
    replaced
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_links_and_mentions_read_as_people_wrote_them() {
        assert_eq!(
            plain_text(
                "timeout went 5s -&gt; 30s &amp; pool is full, see \
                 <https://grafana.example.com/d/abc?from=1&amp;to=2|dashboard> cc <@U0LEE0001>"
            ),
            "timeout went 5s -> 30s & pool is full, see dashboard cc @U0LEE0001"
        );
        assert_eq!(
            plain_text("&gt; is it the pgbouncer change?\nno"),
            "> is it the pgbouncer change?\nno"
        );
        assert_eq!(
            plain_text("<https://x.example> in <#C1|ops> <!here> <!subteam^S1|@sre>"),
            "https://x.example in #ops @here @sre"
        );
        assert_eq!(plain_text("&amp;lt; stays literal"), "&lt; stays literal");
    }
}
