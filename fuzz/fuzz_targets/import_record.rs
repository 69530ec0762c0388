#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| postmortem::fuzzing::run("import_record", data));
