//! `postmortem`: turns a resolved incident into a drafted, evidence-cited postmortem, and an
//! incident history into patterns.
//!
//! The rooms read as the pipeline, and imports run one way (README, "Map of the code"):
//! `cli` → `app` → `http` → `draft` / `patterns` / `review` / `notify` → `llm` → `evidence` /
//! `ingest` / `render` → `store` → `config` / `metrics` → `domain`.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod draft;
pub mod evidence;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod ingest;
pub mod llm;
pub mod metrics;
pub mod notify;
pub mod patterns;
pub mod render;
pub mod review;
pub mod store;
