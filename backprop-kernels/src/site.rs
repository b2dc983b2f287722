//! Where an op comes from in the user's source, so a runtime shape error can name it.

use std::fmt;

/// The source of one op in a `#[differentiable]` function: the op, the expression
/// as written, and its location. Generated code passes one to every kernel whose
/// operands can disagree in shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    /// The op (`"add"`, `"dot"`, `"pick"`, ...).
    pub op: &'static str,
    /// The source expression the op comes from.
    pub expr: &'static str,
    /// The source file.
    pub file: &'static str,
    /// The 1-based line.
    pub line: u32,
    /// The 1-based column.
    pub column: u32,
}

impl Site {
    /// A site at a source location (what generated code passes).
    pub const fn new(
        op: &'static str,
        expr: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
    ) -> Site {
        Site {
            op,
            expr,
            file,
            line,
            column,
        }
    }

    /// A site for code that is not generated from a source expression (tests, hand-written layers).
    pub const fn internal(op: &'static str) -> Site {
        Site {
            op,
            expr: op,
            file: "<backprop>",
            line: 0,
            column: 0,
        }
    }

    /// Panics with a message that names the op, the expression, the location and
    /// both shapes.
    #[track_caller]
    pub fn shape_mismatch(&self, lhs: &[usize], rhs: &[usize], why: &str) -> ! {
        panic!(
            "{}",
            ShapeMismatch {
                site: *self,
                lhs: lhs.to_vec(),
                rhs: rhs.to_vec(),
                why: why.to_string()
            }
        )
    }
}

/// A runtime shape error in generated code: the op, the source expression and
/// location, both shapes, and what was expected of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeMismatch {
    /// Where the op comes from.
    pub site: Site,
    /// Shape of the first operand.
    pub lhs: Vec<usize>,
    /// Shape of the second operand.
    pub rhs: Vec<usize>,
    /// What the op needs of the shapes.
    pub why: String,
}

impl fmt::Display for ShapeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.site;
        write!(
            f,
            "shape mismatch in `{}` at {}:{}:{}: `{}`: shapes {:?} and {:?}: {}",
            s.op, s.file, s.line, s.column, s.expr, self.lhs, self.rhs, self.why
        )
    }
}

impl std::error::Error for ShapeMismatch {}

/// A value of any type that is never computed: generated code calls it where a
/// `#[differentiable]` function with compile errors would have computed its
/// outputs, so that code using the generated items still type-checks while the
/// errors are fixed.
///
/// # Panics
///
/// Always; it cannot run, since the crate that calls it does not compile.
#[track_caller]
pub fn unavailable<A>() -> A {
    panic!("this #[differentiable] function did not compile")
}

/// Refuses, in `NAME_backward`, the `Saved` of a layer's `forward_train`, which
/// keeps empty arrays in place of the layer's parameters (the layer lends them
/// to its own backward instead of copying them).
///
/// # Panics
/// If `lent` is set, naming the function and what to call instead.
#[track_caller]
pub fn check_not_lent(lent: bool, function: &str) {
    if lent {
        panic!(
            "`{function}_backward` was given the `Saved` of a layer's `forward_train`, which does not copy the layer's parameters into it: give it to the layer's `backward` (or `backward_params`), or get it from `{function}_train`"
        );
    }
}

/// Checks that an upstream gradient has the shape of the output it is the
/// gradient of. Generated backward passes call it first: a gradient of another
/// shape would otherwise broadcast into gradients of the wrong shape.
///
/// # Panics
///
/// If the shapes differ, naming the function, the output and both shapes.
#[track_caller]
pub fn check_upstream<T, D: ndarray::Dimension>(
    g: &ndarray::ArrayRef<T, D>,
    shape: &D,
    function: &str,
    output: &str,
) {
    if g.shape() != shape.slice() {
        panic!(
            "the upstream gradient `{output}` given to `{function}_backward` has shape {:?}, but the output has shape {:?}",
            g.shape(),
            shape.slice()
        );
    }
}
