//! Replays every input in `fuzz/regressions/<target>/` through its fuzz target: each must be
//! handled without a panic.

#[test]
fn every_kept_fuzz_input_is_handled_without_a_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for target in postmortem::fuzzing::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| postmortem::fuzzing::run(target, &data));
            assert!(result.is_ok(), "{target} panicked on {}", path.display());
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} kept inputs");
}
