//! `postmortem`: turns a resolved incident into a drafted, evidence-cited postmortem.
//!
//! The layout follows the data: `ingest` (webhooks in) → `store` → `evidence` → `draft`
//! (ranking, the evidence drafter, rendering); `http` wires routes to these, `worker` runs the
//! durable jobs, `startup` builds the application, `demo` tours it.

pub mod backfill;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod draft;
pub mod eval;
pub mod evidence;
pub mod families;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod import;
pub mod ingest;
pub mod lineage_emit;
pub mod llm;
pub mod metrics;
pub mod report;
pub mod review;
pub mod similar;
pub mod slack_api;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod worker;
