//! End-to-end tests across crates, one binary: the local ingest path through
//! the public API (`local_store`) and the infra example's plan through the
//! linter (`infra_plan`).

mod infra_plan;
mod local_store;
