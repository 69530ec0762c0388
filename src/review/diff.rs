//! Line diffs between two revisions' Markdown, grouped into hunks with context.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

#[derive(Debug, Clone, Serialize)]
pub struct DiffLine {
    /// `equal`, `insert` or `delete`.
    pub kind: &'static str,
    /// 1-based line numbers in the old and the new text.
    pub old_no: Option<usize>,
    pub new_no: Option<usize>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@`
    pub header: String,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineDiff {
    pub hunks: Vec<Hunk>,
    pub inserted: usize,
    pub deleted: usize,
}

/// The line diff from `old` to `new`, with three lines of context around each change.
pub fn line_diff(old: &str, new: &str) -> LineDiff {
    let diff = TextDiff::from_lines(old, new);
    let (mut inserted, mut deleted) = (0, 0);
    for c in diff.iter_all_changes() {
        match c.tag() {
            ChangeTag::Insert => inserted += 1,
            ChangeTag::Delete => deleted += 1,
            ChangeTag::Equal => {}
        }
    }
    let hunks = diff
        .grouped_ops(3)
        .iter()
        .map(|group| {
            let lines: Vec<DiffLine> = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|c| DiffLine {
                    kind: match c.tag() {
                        ChangeTag::Equal => "equal",
                        ChangeTag::Insert => "insert",
                        ChangeTag::Delete => "delete",
                    },
                    old_no: c.old_index().map(|i| i + 1),
                    new_no: c.new_index().map(|i| i + 1),
                    text: c.value().trim_end_matches(['\n', '\r']).to_string(),
                })
                .collect();
            let (first, last) = (group.first(), group.last());
            let (old_range, new_range) = match (first, last) {
                (Some(f), Some(l)) => (
                    f.old_range().start..l.old_range().end,
                    f.new_range().start..l.new_range().end,
                ),
                _ => (0..0, 0..0),
            };
            Hunk {
                header: format!(
                    "@@ -{},{} +{},{} @@",
                    old_range.start + 1,
                    old_range.len(),
                    new_range.start + 1,
                    new_range.len()
                ),
                lines,
            }
        })
        .collect();
    LineDiff {
        hunks,
        inserted,
        deleted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_as_a_deletion_and_an_insertion_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let d = line_diff(old, new);
        assert_eq!((d.inserted, d.deleted), (2, 1));
        let lines: Vec<(&str, &str)> = d
            .hunks
            .iter()
            .flat_map(|h| h.lines.iter().map(|l| (l.kind, l.text.as_str())))
            .collect();
        assert!(lines.contains(&("delete", "e")));
        assert!(lines.contains(&("insert", "E")));
        assert!(lines.contains(&("insert", "i")));
        assert!(
            !lines.iter().any(|(_, t)| *t == "a"),
            "only 3 lines of context"
        );
        assert!(line_diff(old, old).hunks.is_empty());
    }
}
