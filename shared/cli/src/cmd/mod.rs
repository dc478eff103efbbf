//! One module per subcommand: its arguments, its `--help` text and `run`.

pub(crate) mod alerts;
pub(crate) mod check;
pub(crate) mod digest;
pub(crate) mod explain;
pub(crate) mod ingest;
pub(crate) mod lint;
pub(crate) mod receive;
