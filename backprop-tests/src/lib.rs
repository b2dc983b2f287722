//! The end-to-end tests of `#[differentiable]` live in `tests/`; this crate has no code.
#![forbid(unsafe_code)]
