//! A clone of the repository is all the program and its tests need: nothing under `src/`, `tests/`,
//! `benches/`, `scripts/`, `fuzz/` or `.ci/` reads the folder beside the checkout that only the
//! developers' machines and CI have. `.ci/run` alone may install tools from it (the prebuilt wheel).

use std::path::{Path, PathBuf};

/// Every file under `dir`, recursively (skipping build output).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("target" | "corpus" | "artifacts")
            ) {
                files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}

#[test]
fn nothing_reads_the_folder_beside_the_checkout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Spelled in two pieces so that this file does not match itself.
    let needle = format!("../{}", "shared");
    let mut all = Vec::new();
    for dir in ["src", "tests", "benches", "scripts", "fuzz", ".ci"] {
        files(&root.join(dir), &mut all);
    }
    assert!(all.len() > 50, "the tree was read ({} files)", all.len());
    let mut offending = Vec::new();
    for path in &all {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            // CI may install the prebuilt wheel from there, and checks that a clone has none.
            let ci_allowed = path.ends_with(".ci/run")
                && (line.contains("wheels") || line.trim_start().starts_with("test ! -e"));
            if line.contains(&needle) && !ci_allowed {
                offending.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "these read a folder a user's clone does not have; copy what they need into fixtures/:\n{}",
        offending.join("\n")
    );
}
