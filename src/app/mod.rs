//! The running service: start-up (`Application`), the job worker, the report schedule and
//! telemetry. The top of the house: it wires every other room together.

pub mod schedule;
pub mod serve;
pub mod startup;
pub mod telemetry;
pub mod worker;
