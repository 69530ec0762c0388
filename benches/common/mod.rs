//! The benchmarks' history: the labelled fixture varied into any number of incidents with
//! shuffled, dropped and invented words, so the vocabulary grows like a real history's.

#![allow(dead_code)]

use postmortem::domain::SearchDoc;

/// A tiny deterministic generator (xorshift), so every run indexes the same history.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn vary(text: &str, rng: &mut Rng) -> String {
    let mut words: Vec<String> = text.split_whitespace().map(String::from).collect();
    // Drop a word, swap two, and add an invented one (a host, a ticket, a team).
    if words.len() > 3 {
        let i = rng.below(words.len());
        words.remove(i);
        let (a, b) = (rng.below(words.len()), rng.below(words.len()));
        words.swap(a, b);
    }
    words.push(format!("w{}", rng.below(20_000)));
    words.join(" ")
}

pub fn history(n: usize) -> Vec<SearchDoc> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/history/incidents.jsonl"
    ))
    .unwrap();
    let base: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let r = &base[i % base.len()];
            let mut s = |f: &str| r[f].as_str().map(|t| vary(t, &mut rng));
            SearchDoc {
                id: format!("B-{i:06}"),
                title: s("title").unwrap_or_default(),
                service: r["service"].as_str().unwrap_or_default().to_string(),
                summary: s("summary"),
                root_cause: s("root_cause"),
                resolution: s("resolution"),
                action_items: r["action_items"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x["text"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                change_kinds: Vec::new(),
                triggered_at: i as i64,
                drafted: false,
            }
        })
        .collect()
}
