//! End-to-end tests across the stsguard crates live in `tests/tests/`; this
//! library is empty.
