//! Text to terms for search: lower-case word tokens without stop words, lightly stemmed, plus
//! bigrams of neighbouring kept tokens ("connection_pool"), so phrases weigh more than their words.

/// Words too common in incident prose to tell incidents apart.
const STOP: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "me",
    "more",
    "most",
    "my",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "we're",
    "it's",
    "again",
    "seeing",
    "see",
    "saw",
    "got",
    "get",
    "getting",
    "still",
    "like",
    "looks",
    "look",
    "seems",
    "anyone",
    "anything",
    "something",
    "right",
    "around",
    "since",
    "per",
    "via",
    "due",
    "because",
    "incident",
    "issue",
    "problem",
];

fn is_stop(w: &str) -> bool {
    static SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| STOP.iter().copied().collect());
    SET.contains(w)
}

/// A light suffix stemmer: enough that "exhausted", "exhaustion" and "exhausts" meet, or
/// "certificate" and "certificates", without a dictionary. Never leaves fewer than four letters.
pub fn stem(w: &str) -> String {
    if w.len() <= 4 || !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return w.to_string();
    }
    let mut s = w.to_string();
    // Plurals.
    if let Some(b) = s.strip_suffix("ies") {
        s = format!("{b}y");
    } else if s.ends_with("sses") {
        s.truncate(s.len() - 2);
    } else if s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is") {
        s.truncate(s.len() - 1);
    }
    // Verb and noun endings.
    for suffix in ["ations", "ation", "ing", "ion", "ed", "ly", "er"] {
        if let Some(b) = s.strip_suffix(suffix)
            && b.len() >= 4
        {
            s = b.to_string();
            break;
        }
    }
    if s.len() > 4 && s.ends_with('e') {
        s.pop();
    }
    s
}

/// The stemmed, stop-word-free tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| w.len() >= 2 && !is_stop(w) && !w.bytes().all(|b| b.is_ascii_digit()))
        .map(|w| stem(&w))
        .collect()
}

/// Unigrams and bigrams of `text`.
pub fn terms(text: &str) -> Vec<String> {
    let t = tokens(text);
    let mut out = Vec::with_capacity(t.len() * 2);
    for (i, w) in t.iter().enumerate() {
        out.push(w.clone());
        if let Some(next) = t.get(i + 1) {
            out.push(format!("{w}_{next}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_meet() {
        assert_eq!(stem("exhausted"), stem("exhausts"));
        assert_eq!(stem("connections"), stem("connection"));
        assert_eq!(stem("certificates"), stem("certificate"));
        assert_eq!(stem("exhaustion"), stem("exhausted"));
        assert_eq!(stem("stampedes"), stem("stampede"));
        assert_eq!(
            terms("The DB connection pool was exhausted"),
            [
                "db",
                "db_connect",
                "connect",
                "connect_pool",
                "pool",
                "pool_exhaust",
                "exhaust"
            ]
        );
    }
}
