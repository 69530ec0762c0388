//! What an incident history teaches: similar past incidents, incident families and the monthly
//! report.

pub mod families;
pub mod report;
pub mod similar;
