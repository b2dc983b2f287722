//! What one op of the language is, in one place: how it is written and checked
//! ([`Syntax`]), and the IR op it lowers to ([`Prim`]) with its type rule, the
//! kernel that computes it, the derivative kernel for each argument that takes a
//! gradient, and its test cases. The derivative pass, the emitter, the
//! interpreter, the shape analysis and `verify` read these descriptions; none of
//! them has an arm of its own for such an op.

use std::fmt;

use proc_macro2::Span;
use syn::Expr;

use crate::check::Lower;
use crate::ir::{Ty, ValueId};

/// A call of an op in the user's source, as its check function sees it.
pub struct Call<'a> {
    /// The op's name as written.
    pub name: &'a str,
    /// The arguments, a method's receiver first.
    pub args: &'a [&'a Expr],
    /// The call's first token.
    pub span: Span,
    /// The call's first and last token, for messages about all of it.
    pub range: (Span, Span),
}

/// A name of the language: how it is called and how a call is checked and lowered.
pub struct Syntax {
    /// The name.
    pub name: &'static str,
    /// How it is called, for messages.
    pub usage: &'static str,
    /// Number of arguments, counting a method's receiver.
    pub arity: usize,
    /// Checks the arguments (kinds, ranks, constants), reports what is wrong at its
    /// token, and lowers the call to IR nodes.
    pub check: fn(&mut Lower<'_>, &Call<'_>) -> Option<ValueId>,
}

/// A static attribute of an IR op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attr {
    /// None.
    None,
    /// The axis the op works along.
    Axis(usize),
}

impl Attr {
    /// The axis, for ops that have one.
    pub fn axis(self) -> Option<usize> {
        match self {
            Attr::Axis(k) => Some(k),
            Attr::None => None,
        }
    }
}

/// One argument of a kernel call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum K {
    /// The node's argument `i`, by reference (an array).
    Arg(usize),
    /// The node's argument `i`, by value (a shape, a size, a scalar).
    Value(usize),
    /// The op's axis, as `Axis(k)`.
    Axis,
    /// The source site, for shape errors that name the op and the expression.
    Site,
}

/// A call of a runtime kernel: `ops::name(args...)`, as generated code and the
/// interpreter make it.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// The kernel's name in `backprop_kernels`.
    pub name: &'static str,
    /// Its arguments.
    pub args: &'static [K],
}

/// What a derivative kernel reads, in order: the node's arguments are these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The forward op's argument `i`.
    Arg(usize),
    /// The forward op's output.
    Out,
    /// The gradient of the output.
    Grad,
    /// The shape of the forward op's argument `i` (saved instead of the array).
    ShapeOf(usize),
}

/// The derivative of an op with respect to one argument: a kernel that returns
/// the gradient's contribution to that argument, of the argument's type and shape.
#[derive(Clone, Copy, Debug)]
pub struct Grad {
    /// Which argument.
    pub wrt: usize,
    /// What the kernel reads (the backward node's arguments, in this order).
    pub reads: &'static [Read],
    /// The kernel, over the reads.
    pub kernel: Kernel,
    /// Whether the kernel only reshapes the gradient (its first read) to the
    /// argument's shape, so that it is the identity when the shapes are known to
    /// be equal (the `noop-reshapes` pass removes it then).
    pub reshape_only: bool,
}

/// An input of a test case.
#[derive(Clone, Copy, Debug)]
pub enum CaseInput {
    /// A float array of this shape, drawn from `(lo, hi)`.
    Float(&'static [usize], (f64, f64)),
    /// Fixed `usize` indices of this shape.
    Index(&'static [usize], &'static [usize]),
    /// A `usize` size.
    Size(usize),
    /// A float array of this shape whose elements are all distinct (for ops
    /// whose derivative jumps where two elements tie, like `max_pool2`).
    Distinct(&'static [usize]),
}

/// A function using the op, for the gradient tests.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The function's inputs, as in a signature (`x: ArrayView2<T>`).
    pub params: &'static str,
    /// Its return type.
    pub ret: &'static str,
    /// Its body.
    pub body: &'static str,
    /// A value for each input.
    pub inputs: &'static [CaseInput],
}

impl Case {
    /// The case as the source of a function named `f`.
    pub fn source(&self) -> String {
        format!(
            "fn f<T: Real>({}) -> {} {{ {} }}",
            self.params, self.ret, self.body
        )
    }
}

/// How a value an op computes is named in generated code, from its arguments'
/// names: `softmax_x` (a prefix), `x_t` (a suffix), `x_dot_w` (between two).
#[derive(Clone, Copy, Debug)]
pub enum Naming {
    /// `{word}_{arg0}`
    Prefix(&'static str),
    /// `{arg0}_{word}`
    Suffix(&'static str),
    /// `{arg0}_{word}_{arg1}`
    Infix(&'static str),
}

/// An IR op described by data: everything each stage needs to know about it.
pub struct Prim {
    /// Its name in the IR printout (unique).
    pub name: &'static str,
    /// How its values are named in generated code.
    pub naming: Naming,
    /// The op of the language it comes from, as shape errors name it.
    pub op: &'static str,
    /// One line on what it computes.
    pub doc: &'static str,
    /// The result's type from the arguments' types and the attribute; `None` for
    /// arguments it does not take (what `verify` reports).
    pub ty: fn(&[Ty], Attr) -> Option<Ty>,
    /// Whether the result always has the shape of argument 0.
    pub keeps_shape: bool,
    /// The forward kernel.
    pub kernel: Kernel,
    /// The derivative with respect to each argument that takes a gradient.
    pub grads: &'static [Grad],
    /// Functions that use it, for the gradient tests.
    pub cases: &'static [Case],
}

impl fmt::Debug for Prim {
    // The name identifies the op: it is what CSE compares and what the IR prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Prim {
    /// Which read of derivative `i` has the shape of its result (the shape
    /// analysis and `verify` use it): the argument's shape or value, or the output
    /// of an op that keeps its argument's shape.
    pub fn grad_shaped_like(&self, i: usize) -> Option<usize> {
        let grad = self.grads.get(i)?;
        grad.reads.iter().position(|r| match r {
            Read::ShapeOf(a) | Read::Arg(a) => *a == grad.wrt,
            Read::Out => self.keeps_shape && grad.wrt == 0,
            Read::Grad => false,
        })
    }
}

/// Type rule: a float array whose rank is argument 0's.
pub fn like_first(args: &[Ty], _: Attr) -> Option<Ty> {
    match args.first()? {
        Ty::Float(r) => Some(Ty::Float(*r)),
        _ => None,
    }
}

/// Type rule: a float array of argument 0's rank less the reduced axis.
pub fn reduced(args: &[Ty], attr: Attr) -> Option<Ty> {
    match (args.first()?, attr.axis()) {
        (Ty::Float(r), Some(k)) if k < *r => Some(Ty::Float(r - 1)),
        _ => None,
    }
}
