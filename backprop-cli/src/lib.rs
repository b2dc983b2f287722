//! The review tool for `#[differentiable]`: what the macro generates for the
//! items of a source file, shown the ways a reviewer reads a backward pass. It
//! runs the same compiler as the macro, `backprop-dsl`, outside rustc.
//!
//! - [`expand`]: the forward as written, the saved values with their shapes and
//!   bytes (the compile-time memory plan), and the generated backward, each
//!   statement under the forward line it comes from; optionally the IR after
//!   each pass.
//! - [`graph`]: the computational graph, forward in black and backward in red,
//!   as DOT or as an SVG laid out and drawn here.
//! - [`math`]: each backward statement as math, in the CS231n style.
//! - [`report`]: errors in the file, printed like rustc's, and the exit codes.
//!
//! The binary `backprop` (`src/main.rs`) only parses the command line and calls
//! these; the tests call them directly.
#![forbid(unsafe_code)]

pub mod expand;
pub mod graph;
pub mod math;
pub mod report;
pub mod shape;
pub mod source;

pub use report::Failure;
pub use source::{Item, Reviewed, SourceFile};
