//! backprop (facade; documentation being written).
#![forbid(unsafe_code)]
pub use backprop_core::*;
