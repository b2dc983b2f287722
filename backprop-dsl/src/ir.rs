//! The intermediate representation between checking and emission: one arena of
//! typed nodes in evaluation order. Forward nodes come first; the derivative
//! pass appends backward nodes that may read forward nodes. Every node keeps the
//! span of the source expression it comes from.

use std::fmt;

use backprop_spec::{Compare, Elementwise};

use crate::messages;
use crate::ops::{Attr, Prim, Read};
use proc_macro2::{Span, TokenStream};

/// How an array input is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// `ArrayView2<T>`
    View,
    /// `&Array2<T>` or `&ArrayRef2<T>`
    Ref,
    /// `Array2<T>`, moved in
    Owned,
}

/// What an input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A float array of a rank.
    Float(usize, Pass),
    /// A `usize` array of a rank.
    Int(usize, Pass),
    /// A float scalar `T`.
    Scalar,
    /// A `usize` scalar.
    Usize,
}

/// The float type of a function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FloatType {
    /// A type parameter (`T: Real`): literals are `T::lit(..)`.
    #[default]
    Generic,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

/// One input as the signature declares it.
#[derive(Clone, Debug)]
pub struct InputSig {
    /// Its name, with its span.
    pub name: proc_macro2::Ident,
    /// What it is and how it is passed.
    pub kind: InputKind,
    /// Marked `#[no_grad]`.
    pub no_grad: bool,
}

/// One output as the return type declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputSig {
    /// Its rank (0 for a scalar or a 0-d array).
    pub rank: usize,
    /// Declared as a float scalar `T`, rather than an array (`Array0<T>` is an array).
    pub scalar: bool,
}

/// The function's signature as the front end read it: everything emission needs
/// besides the nodes. The user's own tokens (attributes, visibility, the
/// signature itself) are kept as written, to be given back unchanged.
#[derive(Clone, Debug)]
pub struct Signature {
    /// The function's name.
    pub name: proc_macro2::Ident,
    /// Its attributes, as written (without `#[differentiable]` and `#[no_grad]`).
    pub attrs: TokenStream,
    /// Its `#[allow(..)]` attributes, given to every generated item too.
    pub allows: TokenStream,
    /// Its visibility.
    pub vis: TokenStream,
    /// The whole signature, `fn name<T: Real>(...) -> ...`.
    pub sig: TokenStream,
    /// The inputs as written, for `_train`.
    pub params: TokenStream,
    /// The return type as written.
    pub output: TokenStream,
    /// The function's generics, split for an impl: `(impl, type, where)`.
    pub generics: (TokenStream, TokenStream, TokenStream),
    /// The generics of the generated structs: the float type parameter only.
    pub struct_generics: (TokenStream, TokenStream, TokenStream),
    /// The float type (`T`, `f32`, `f64`).
    pub float: TokenStream,
    /// Which kind of float type it is.
    pub float_type: FloatType,
    /// The inputs.
    pub inputs: Vec<InputSig>,
    /// The outputs, one per tuple element.
    pub outputs: Vec<OutputSig>,
    /// Whether the output is a tuple.
    pub tuple: bool,
}

impl Default for Signature {
    fn default() -> Self {
        Signature {
            name: proc_macro2::Ident::new("f", Span::call_site()),
            attrs: TokenStream::new(),
            allows: TokenStream::new(),
            vis: TokenStream::new(),
            sig: TokenStream::new(),
            params: TokenStream::new(),
            output: TokenStream::new(),
            generics: Default::default(),
            struct_generics: Default::default(),
            float: TokenStream::new(),
            float_type: FloatType::Generic,
            inputs: Vec::new(),
            outputs: Vec::new(),
            tuple: false,
        }
    }
}

/// Index of a node in [`Graph::nodes`].
pub type ValueId = usize;

/// What a value is at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A float array of the given rank (rank 0: a 0-d array, the result of a full reduction).
    Float(usize),
    /// A `usize` array (labels, actions, token ids). Never differentiable.
    Int(usize),
    /// A boolean mask from a comparison, for `where_`.
    Mask(usize),
    /// A plain float scalar `T` that takes no gradient: a literal or a `#[no_grad]` scalar input.
    Scalar,
    /// A `usize` scalar (sizes and slice bounds).
    Usize,
    /// The shape of an array of the given rank (saved instead of the array when only its shape is needed).
    Shape(usize),
    /// The results of a call of another `#[differentiable]` function that
    /// returns a tuple of this many values, each taken out by [`Op::CallOutput`].
    Tuple(usize),
    /// A value of a called function's own: what its training forward saved for
    /// its backward, or its gradients by position.
    Opaque,
}

impl Ty {
    /// The rank of an array type, `None` for scalars.
    pub fn rank(self) -> Option<usize> {
        match self {
            Ty::Float(r) | Ty::Int(r) | Ty::Mask(r) | Ty::Shape(r) => Some(r),
            Ty::Scalar | Ty::Usize | Ty::Tuple(_) | Ty::Opaque => None,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Float(0) => write!(f, "0-d float array"),
            Ty::Float(r) => write!(f, "{r}-D float array"),
            Ty::Int(r) => write!(f, "{r}-D integer array"),
            Ty::Mask(r) => write!(f, "{r}-D mask"),
            Ty::Scalar => write!(f, "float scalar"),
            Ty::Usize => write!(f, "usize"),
            Ty::Shape(r) => write!(f, "{r}-D shape"),
            Ty::Tuple(n) => write!(f, "tuple of {n} results"),
            Ty::Opaque => write!(f, "called function's state"),
        }
    }
}

/// Elementwise binary arithmetic between arrays, with broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `maximum(a, b)`
    Maximum,
    /// `minimum(a, b)`
    Minimum,
}

impl BinOp {
    /// The kernel and op name.
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Maximum => "maximum",
            BinOp::Minimum => "minimum",
        }
    }

    /// The word in a generated name (`x_times_w`).
    pub fn word(self) -> &'static str {
        match self {
            BinOp::Add => "plus",
            BinOp::Sub => "minus",
            BinOp::Mul => "times",
            BinOp::Div => "over",
            BinOp::Maximum => "max",
            BinOp::Minimum => "min",
        }
    }

    /// The op a source operator character writes, for the arithmetic ones.
    pub fn of_char(c: char) -> Option<BinOp> {
        match c {
            '+' => Some(BinOp::Add),
            '-' => Some(BinOp::Sub),
            '*' => Some(BinOp::Mul),
            '/' => Some(BinOp::Div),
            _ => None,
        }
    }
}

impl BinOp {
    /// The op on two scalars: what constant folding and the interpreter compute.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
            BinOp::Maximum => a.max(b),
            BinOp::Minimum => a.min(b),
        }
    }
}

/// Arithmetic between an array and a float scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarOp {
    /// `a + c`
    Add,
    /// `a - c`
    Sub,
    /// `c - a`
    RSub,
    /// `a * c`
    Mul,
    /// `a / c`
    Div,
    /// `c / a`
    RDiv,
}

impl ScalarOp {
    /// The kernel name.
    pub fn kernel(self) -> &'static str {
        match self {
            ScalarOp::Add => "add_scalar",
            ScalarOp::Sub => "sub_scalar",
            ScalarOp::RSub => "scalar_sub",
            ScalarOp::Mul => "mul_scalar",
            ScalarOp::Div => "div_scalar",
            ScalarOp::RDiv => "scalar_div",
        }
    }
}

/// Scalar `usize` arithmetic for sizes and bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsizeOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
}

impl UsizeOp {
    /// The op on two sizes, `None` where it underflows, overflows or divides by 0.
    pub fn apply(self, a: usize, b: usize) -> Option<usize> {
        match self {
            UsizeOp::Add => a.checked_add(b),
            UsizeOp::Sub => a.checked_sub(b),
            UsizeOp::Mul => a.checked_mul(b),
            UsizeOp::Div => a.checked_div(b),
        }
    }
}

/// An operation. Forward ops come from the language; backward ops are only
/// created by the derivative pass.
#[derive(Clone, Debug)]
pub enum Op {
    // ---- forward
    /// Input number `i` of the function.
    Input(usize),
    /// A float literal.
    Const(f64),
    /// A `usize` literal.
    UsizeConst(usize),
    /// `len_of(axis)` of an array.
    LenOf(usize),
    /// `usize` arithmetic on args `[a, b]`.
    UsizeArith(UsizeOp),
    /// Scalar arithmetic on args `[a, b]` (both [`Ty::Scalar`]).
    ScalarArith(BinOp),
    /// An elementwise op; args `[x, params...]`, params are [`Ty::Scalar`].
    Elementwise(&'static Elementwise),
    /// Array-array arithmetic with broadcasting; args `[a, b]`.
    Binary(BinOp),
    /// Array-scalar arithmetic; args `[array, scalar]`.
    WithScalar(ScalarOp),
    /// A comparison; args `[a, b]`; gives a mask.
    Compare(Compare),
    /// `where_(mask, a, b)`.
    Where,
    /// An op described by data in [`crate::ops`]: its kernel, type rule and
    /// derivatives are there. Args as its check function lowered them.
    Prim(&'static Prim, Attr),
    /// Concatenation along an axis; args are the parts.
    Concat(usize),
    /// Identity forward, no gradient.
    StopGradient,
    /// A call of another `#[differentiable]` function; args are its arguments.
    /// Its value is its result ([`Ty::Tuple`] for several, each taken out by
    /// [`Op::CallOutput`]); its derivative is the callee's own backward.
    Call(Box<Callee>),
    /// Result `k` of a call returning a tuple; args `[call]`.
    CallOutput(usize),
    /// What a call's training forward saved for its backward; args `[call]`.
    /// Created by differentiation, like [`Op::ShapeOf`].
    CallSaved,
    /// A value that is never computed: the outputs of the stubs generated for a
    /// function with errors, so that code using its items still type-checks.
    Unavailable,

    /// The shape of an array: computed in the forward pass and saved, where the
    /// backward needs only the shape (created by differentiation). With several
    /// arguments, the shape they broadcast to (made by the `shape-of` pass).
    ShapeOf,
    /// An op of the backward pass, created only by differentiation.
    Grad(GradOp),
    /// A loop that computes several elementwise nodes in one pass over the
    /// elements, created only by the fusion pass; args are what the loop reads.
    Fused(Box<Fused>),
}

/// A fused elementwise loop: the nodes it replaced, kept as they were (op, type,
/// span, source text, names), so that emission can write each as one line of
/// per-element Rust under the forward line it comes from.
#[derive(Clone, Debug)]
pub struct Fused {
    /// The loop's nodes in order; the last is its result, and may be a
    /// [`Reduction`] of the one before it. An argument `a` of a
    /// body node is the fused node's argument `a` when `a < arity` (an array read
    /// element by element after broadcasting, or a scalar), and body node
    /// `a - arity` otherwise.
    pub body: Vec<Node>,
    /// How many arguments the fused node has.
    pub arity: usize,
    /// For each body node, whether its array operands may differ in shape, so
    /// that the loop checks at run time that they broadcast (with the error the
    /// op's own kernel gives); operands known to share a shape need no check.
    pub checks: Vec<bool>,
}

/// A reduction a fused loop may end in: its elements are computed a block at a
/// time and added into the result, never made into an array of the loop's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// `sum`: all elements, into a 0-d array.
    Sum,
    /// `mean`: all elements.
    Mean,
    /// `sum_to(g, shape)`: undoing a broadcast.
    SumTo,
    /// `sum_axis(Axis(0))`.
    SumAxis0,
    /// `mean_axis(Axis(0))`.
    MeanAxis0,
}

/// What an argument of a fused body node refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Argument `i` of the fused node.
    Outer(usize),
    /// Body node `j`.
    Local(usize),
}

impl Fused {
    /// What argument `a` of a body node refers to.
    pub fn operand(&self, a: ValueId) -> Operand {
        if a < self.arity {
            Operand::Outer(a)
        } else {
            Operand::Local(a - self.arity)
        }
    }

    /// The body node that is the loop's result (`None` only for an empty
    /// body, which `verify` rejects).
    pub fn result(&self) -> Option<&Node> {
        self.body.last()
    }
}

/// The ops only the backward pass has. A type of their own, so that the
/// derivative rules, which only forward ops have, need no arm for them.
#[derive(Clone, Debug)]
pub enum GradOp {
    /// The upstream gradient of output `k`; args `[shape of the output]` for an
    /// array output, whose gradient the backward checks against it, none for a scalar.
    Seed(usize),
    /// `g * dy/dx` of an elementwise op; args `[x?, y?, g, params...]` as the op's rule reads them.
    ElementwiseGrad(&'static Elementwise),
    /// `sum_to(g, shape)`: undoes broadcasting.
    SumTo,
    /// 1 or 0 by comparison, for `maximum`/`minimum` gradients; args `[a, b]`.
    MaskBy(Compare),
    /// `mask_grad(mask, g, keep)`.
    MaskGrad(bool),
    /// Derivative `i` of an op described by data (`prim.grads[i]`); args are
    /// what that derivative reads, in its order.
    PrimGrad(&'static Prim, usize, Attr),
    /// `concatenate_backward(g, axis, lens, k)`; args `[g, shapes of all parts...]`.
    ConcatGrad(usize, usize),
    /// Zeros of a shape: the gradient of an input the outputs do not depend on; args `[shape]`.
    Zeros,
    /// The backward of a called function; args `[saved, upstream gradient of
    /// each of its results...]`. Its value is the gradients by position.
    CallBackward,
    /// The gradient for argument `i` of a call; args `[call backward]`.
    CallGrad(usize),
}

/// A call of another `#[differentiable]` function, as the caller wrote and
/// declared it: the macro cannot see the callee, so the declared result type
/// is what the caller's graph is typed by, and rustc checks it against the
/// callee's at the declaration.
#[derive(Clone, Debug)]
pub struct Callee {
    /// The path as written (`gru_cell`, `other::gru_cell`).
    pub path: TokenStream,
    /// Its last segment, for generated names and messages.
    pub name: String,
    /// Each result: its rank and whether it is a scalar `T`.
    pub outputs: Vec<OutputSig>,
    /// Whether the result is a tuple.
    pub tuple: bool,
    /// The call's number among the function's calls: names the module-level
    /// alias through which every generated item reaches the callee.
    pub index: usize,
    /// The call's first and last token, where its compile-time check points.
    pub range: (Span, Span),
    /// Each argument's source text, for the check's messages.
    pub arg_texts: Vec<String>,
    /// The call's source text (`dense(x, w)`).
    pub text: String,
}

impl Op {
    /// Whether the op computes each element of its result from the elements of
    /// its operands at the same broadcast position, so that a fused loop can
    /// compute it (`broadcast_to` of a 0-d value too, as [`Op::is_stretch`] says).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Elementwise(_)
                | Op::Binary(_)
                | Op::WithScalar(_)
                | Op::Compare(_)
                | Op::Where
                | Op::StopGradient
                | Op::Grad(GradOp::ElementwiseGrad(_) | GradOp::MaskBy(_) | GradOp::MaskGrad(_))
        ) || self.is_stretch()
    }

    /// The reduction this op is, if a fused loop can end in it.
    pub fn reduction(&self) -> Option<Reduction> {
        use crate::ops::{axis, shape};
        match self {
            Op::Grad(GradOp::SumTo) => Some(Reduction::SumTo),
            Op::Prim(p, _) if std::ptr::eq(*p, &shape::SUM) => Some(Reduction::Sum),
            Op::Prim(p, _) if std::ptr::eq(*p, &shape::MEAN) => Some(Reduction::Mean),
            Op::Prim(p, attr) if attr.axis() == Some(0) && std::ptr::eq(*p, &axis::SUM_AXIS) => {
                Some(Reduction::SumAxis0)
            }
            Op::Prim(p, attr) if attr.axis() == Some(0) && std::ptr::eq(*p, &axis::MEAN_AXIS) => {
                Some(Reduction::MeanAxis0)
            }
            _ => None,
        }
    }

    /// Whether the op only stretches its first argument to the shape given as its
    /// second, by broadcasting, maybe dividing by the length of axis 0 (see
    /// [`Op::stretch_divides`]): `broadcast_to` (the derivative of `sum`), and
    /// the derivatives of `sum_axis` and `mean_axis` along axis 0 (whose lost
    /// axis is the leading one broadcasting adds).
    pub fn is_stretch(&self) -> bool {
        use crate::ops::axis;
        match self {
            Op::Grad(GradOp::PrimGrad(p, i, attr)) => {
                p.grads.get(*i).is_some_and(|g| g.reshape_only)
                    || (attr.axis() == Some(0)
                        && (std::ptr::eq(*p, &axis::SUM_AXIS)
                            || std::ptr::eq(*p, &axis::MEAN_AXIS)))
            }
            _ => false,
        }
    }

    /// Whether a stretch also divides by the length of axis 0 of its shape (the
    /// derivative of `mean_axis` along axis 0).
    pub fn stretch_divides(&self) -> bool {
        matches!(self, Op::Grad(GradOp::PrimGrad(p, _, attr))
            if attr.axis() == Some(0) && std::ptr::eq(*p, &crate::ops::axis::MEAN_AXIS))
    }

    /// The op's name as the IR printout shows it: the elementwise op's name
    /// (`tanh`, `tanh_backward`), or the variant's (`SumTo`, `Axis`).
    pub fn name(&self) -> String {
        match self {
            Op::Elementwise(e) => e.name.to_string(),
            Op::Grad(GradOp::ElementwiseGrad(e)) => format!("{}_backward", e.name),
            Op::Prim(p, _) => p.name.to_string(),
            Op::Fused(_) => "Fused".to_string(),
            Op::Call(c) => c.name.clone(),
            Op::Grad(GradOp::PrimGrad(p, i, _)) => {
                p.grads.get(*i).map_or("?", |g| g.kernel.name).to_string()
            }
            // The variant's name, without the `Grad(..)` wrapper of backward ops.
            Op::Grad(other) => variant_name(&format!("{other:?}")),
            other => variant_name(&format!("{other:?}")),
        }
    }
}

/// `SumTo` of `SumTo`, `Binary` of `Binary(Add)`.
fn variant_name(debug: &str) -> String {
    debug.split('(').next().unwrap_or_default().to_string()
}

/// One value: an op, its arguments, its type, and where it comes from.
#[derive(Clone, Debug)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Argument values, all earlier in the arena.
    pub args: Vec<ValueId>,
    /// The type of the result.
    pub ty: Ty,
    /// The source span of the expression this node comes from.
    pub span: Span,
    /// The source expression this node comes from, as formatted code (for messages).
    pub text: String,
    /// Index of the source statement this node comes from (for the doc comments).
    pub stmt: usize,
    /// The user's name for this value, when it is bound by `let` or is an input.
    pub name: Option<String>,
    /// True for nodes appended by the derivative pass.
    pub backward: bool,
}

/// One input of the function.
#[derive(Clone, Debug)]
pub struct Input {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Whether a gradient is generated for it.
    pub wants_grad: bool,
    /// Its node.
    pub node: ValueId,
}

/// A `let` binding of the source, for the lints about it.
#[derive(Clone, Debug)]
pub struct LetBinding {
    /// The bound name.
    pub name: String,
    /// The name's span.
    pub span: Span,
    /// Its value, unless the expression had an error.
    pub value: Option<ValueId>,
    /// Whether a later expression reads it.
    pub used: bool,
}

/// A checked function: inputs, nodes, outputs and (after differentiation) gradients.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// The signature, from the front end.
    pub sig: Signature,
    /// All nodes, forward first.
    pub nodes: Vec<Node>,
    /// The inputs in declaration order.
    pub inputs: Vec<Input>,
    /// The output values (one, or several for a tuple).
    pub outputs: Vec<ValueId>,
    /// For each input, the node holding its gradient, once differentiated.
    pub grads: Vec<Option<ValueId>>,
    /// (forward value, node holding its accumulated gradient), once differentiated.
    pub grad_of: Vec<(ValueId, ValueId)>,
    /// The source text of each statement, for comments and messages.
    pub stmt_text: Vec<String>,
    /// The source line of each statement (0 when unknown).
    pub stmt_line: Vec<usize>,
    /// The `let` bindings in order.
    pub lets: Vec<LetBinding>,
    /// Every call of another `#[differentiable]` function, as lowered (with
    /// its arguments' types), whether or not the passes keep it: each is
    /// checked against its callee at compile time, a dead one too.
    pub calls: Vec<(Callee, Vec<Ty>)>,
}

impl Graph {
    /// Appends a node and returns its id.
    pub fn push(&mut self, node: Node) -> ValueId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The type of a value.
    pub fn ty(&self, v: ValueId) -> Ty {
        self.nodes[v].ty
    }

    /// The call node that node `v` belongs to, if `v` is a call of another
    /// `#[differentiable]` function or one of its results, its saved state,
    /// its backward or a gradient it gives.
    pub fn call_of(&self, v: ValueId) -> Option<ValueId> {
        let up = |v: ValueId| self.nodes.get(v)?.args.first().copied();
        let call = match self.nodes.get(v)?.op {
            Op::Call(_) => Some(v),
            Op::CallOutput(_) | Op::CallSaved => up(v),
            Op::Grad(GradOp::CallBackward) => up(v).and_then(up),
            Op::Grad(GradOp::CallGrad(_)) => up(v).and_then(up).and_then(up),
            _ => None,
        }?;
        matches!(self.nodes.get(call)?.op, Op::Call(_)).then_some(call)
    }

    /// Checks the invariants every stage relies on: arguments come before their
    /// users, forward nodes never read backward nodes nor hold backward ops,
    /// arities match, and every node has the type its op's rule gives.
    pub fn verify(&self) -> Result<(), String> {
        for (id, n) in self.nodes.iter().enumerate() {
            for &a in &n.args {
                if a >= id {
                    return Err(messages::ir_reads_later_node(id, a));
                }
                if !n.backward && self.nodes[a].backward {
                    return Err(messages::ir_forward_reads_backward(id, a));
                }
            }
            // Backward ops only in the backward pass (which also uses arithmetic).
            if matches!(n.op, Op::Grad(_)) && !n.backward {
                return Err(messages::ir_backward_op_in_forward(id, &n.op.name()));
            }
            if let Some(arity) = fixed_arity(&n.op)
                && n.args.len() != arity
            {
                return Err(messages::ir_wrong_arity(id, &n.op, n.args.len(), arity));
            }
            // A loop's own errors say which body node is wrong.
            if let Op::Fused(fused) = &n.op {
                let tys: Vec<Ty> = n.args.iter().map(|&a| self.ty(a)).collect();
                self.check_fused(n, fused, &tys)?;
            }
            self.check_type(id)?;
        }
        for &o in &self.outputs {
            if o >= self.nodes.len() || self.nodes[o].backward {
                return Err(messages::ir_output_not_forward(o));
            }
        }
        // A gradient has its value's type (a scalar input's is a 0-d array):
        // this checks the derivatives whose own type rule only says "a float
        // array" (those of `dot`, `outer`, `matmul`).
        let inputs_grads = self
            .inputs
            .iter()
            .zip(&self.grads)
            .filter_map(|(input, g)| g.map(|g| (input.node, g)));
        for (value, grad) in self.grad_of.iter().copied().chain(inputs_grads) {
            if value >= self.nodes.len() || grad >= self.nodes.len() {
                continue;
            }
            let expected = match self.ty(value) {
                Ty::Float(r) => Ty::Float(r),
                Ty::Scalar => Ty::Float(0),
                _ => continue,
            };
            if self.ty(grad) != expected {
                return Err(messages::ir_gradient_wrong_type(
                    value,
                    grad,
                    self.ty(grad),
                    expected,
                ));
            }
        }
        Ok(())
    }
}

impl Graph {
    /// Checks a fused loop: its body nodes are elementwise, of its phase, read only
    /// the loop's arguments and earlier body nodes, and each has the type its op's
    /// rule gives; the loop has its result's type, which it returns.
    fn check_fused(&self, n: &Node, fused: &Fused, tys: &[Ty]) -> Result<Ty, String> {
        if fused.arity != tys.len()
            || fused.checks.len() != fused.body.len()
            || fused.body.is_empty()
        {
            return Err(messages::IR_FUSED_MALFORMED.into());
        }
        let mut local: Vec<Ty> = tys.to_vec();
        for (j, b) in fused.body.iter().enumerate() {
            let last = j + 1 == fused.body.len();
            // A loop may end in a reduction that sums away axis 0 (it runs in
            // blocks of rows).
            let reduces_rows = b.op.reduction().is_some()
                && b.args
                    .first()
                    .is_some_and(|&a| local[a].rank() > b.ty.rank());
            let allowed = b.op.is_elementwise() || (last && reduces_rows);
            if !allowed || b.backward != n.backward {
                return Err(messages::ir_fused_not_elementwise(j, &b.op.name()));
            }
            if b.args.iter().any(|&a| a >= fused.arity + j) {
                return Err(messages::ir_fused_reads_later(j));
            }
            let arg_tys: Vec<Ty> = b.args.iter().map(|&a| local[a]).collect();
            match self.expected_type(b, &arg_tys) {
                Some(ty) if ty == b.ty => local.push(ty),
                _ => return Err(messages::ir_fused_wrong_type(j, &b.op.name())),
            }
        }
        fused
            .result()
            .map(|r| r.ty)
            .ok_or_else(|| messages::IR_FUSED_MALFORMED.into())
    }

    /// Checks node `id`'s type against its op's type rule.
    fn check_type(&self, id: ValueId) -> Result<(), String> {
        let n = &self.nodes[id];
        let tys: Vec<Ty> = n.args.iter().map(|&a| self.ty(a)).collect();
        match self.expected_type(n, &tys) {
            Some(ty) if ty == n.ty => Ok(()),
            Some(ty) => Err(messages::ir_wrong_type(id, &n.op.name(), n.ty, ty)),
            None => Err(messages::ir_rejected_arguments(id, &n.op.name())),
        }
    }

    /// The type node `n` must have, from its op and its arguments' types `tys`; `None`
    /// when the arguments are not ones the op takes. Arities are checked first.
    fn expected_type(&self, n: &Node, tys: &[Ty]) -> Option<Ty> {
        let arg = |i: usize| tys.get(i).copied();
        // An array or scalar operand of broadcasting arithmetic, by rank.
        let operand = |t: Ty| match t {
            Ty::Float(r) => Some(r),
            Ty::Scalar => Some(0),
            _ => None,
        };
        let float = |t: Option<Ty>| match t? {
            Ty::Float(r) => Some(r),
            _ => None,
        };
        let shape = |t: Option<Ty>| match t? {
            Ty::Shape(r) => Some(r),
            _ => None,
        };
        Some(match &n.op {
            Op::Input(i) => self.inputs.get(*i)?.ty,
            Op::Const(_) => Ty::Scalar,
            Op::UsizeConst(_) => Ty::Usize,
            Op::LenOf(k) => match arg(0)? {
                Ty::Float(r) | Ty::Int(r) if k < &r => Ty::Usize,
                _ => return None,
            },
            Op::UsizeArith(_) => (tys.iter().all(|&t| t == Ty::Usize)).then_some(Ty::Usize)?,
            Op::ScalarArith(_) => (tys.iter().all(|&t| t == Ty::Scalar)).then_some(Ty::Scalar)?,
            Op::Elementwise(e) => {
                let params_ok = tys[1..]
                    .iter()
                    .zip(e.params)
                    .all(|(&t, p)| t == Ty::Scalar || (p.integer && t == Ty::Usize));
                params_ok.then_some(Ty::Float(float(arg(0))?))?
            }
            Op::Binary(_) => Ty::Float(operand(arg(0)?)?.max(operand(arg(1)?)?)),
            Op::WithScalar(_) => match (arg(0)?, arg(1)?) {
                (Ty::Float(r), Ty::Scalar) => Ty::Float(r),
                _ => return None,
            },
            Op::Compare(_) => Ty::Mask(operand(arg(0)?)?.max(operand(arg(1)?)?)),
            Op::Where => match arg(0)? {
                Ty::Mask(rm) => Ty::Float(rm.max(operand(arg(1)?)?).max(operand(arg(2)?)?)),
                _ => return None,
            },
            Op::Concat(k) => {
                let r = float(arg(0))?;
                let same = tys.iter().all(|&t| t == Ty::Float(r));
                (same && *k < r).then_some(Ty::Float(r))?
            }
            Op::StopGradient => Ty::Float(float(arg(0))?),
            // The callee's argument types are rustc's to check; the result is as declared.
            Op::Call(c) => match c.outputs.as_slice() {
                _ if c.tuple => Ty::Tuple(c.outputs.len()),
                [o] => Ty::Float(o.rank),
                _ => return None,
            },
            Op::CallOutput(k) => match (&self.nodes[*n.args.first()?].op, arg(0)?) {
                (Op::Call(c), Ty::Tuple(_)) => Ty::Float(c.outputs.get(*k)?.rank),
                _ => return None,
            },
            Op::CallSaved => match &self.nodes[*n.args.first()?].op {
                Op::Call(_) => Ty::Opaque,
                _ => return None,
            },
            Op::Unavailable => Ty::Float(float(Some(n.ty))?),
            // The shape of its argument, or the broadcast of its arguments' shapes.
            Op::ShapeOf => {
                let ranks: Option<Vec<usize>> = tys
                    .iter()
                    .map(|t| match t {
                        Ty::Float(r) | Ty::Int(r) | Ty::Mask(r) => Some(*r),
                        _ => None,
                    })
                    .collect();
                Ty::Shape(ranks?.into_iter().max()?)
            }
            Op::Prim(p, attr) => (p.ty)(tys, *attr)?,
            Op::Fused(fused) => self.check_fused(n, fused, tys).ok()?,
            Op::Grad(g) => match g {
                GradOp::Seed(k) => {
                    let out = self.ty(*self.outputs.get(*k)?);
                    match (arg(0), out) {
                        (None, _) => out,
                        (Some(Ty::Shape(r)), Ty::Float(ro)) if r == ro => out,
                        _ => return None,
                    }
                }
                // `[x?, y?, g, params...]`: the gradient has the rank of `g`.
                GradOp::ElementwiseGrad(e) => {
                    let g = n.args.len().checked_sub(e.params.len() + 1)?;
                    Ty::Float(float(arg(g))?)
                }
                GradOp::SumTo => {
                    float(arg(0))?;
                    Ty::Float(shape(arg(1))?)
                }
                GradOp::MaskBy(_) => Ty::Float(operand(arg(0)?)?.max(operand(arg(1)?)?)),
                GradOp::MaskGrad(_) => match arg(0)? {
                    Ty::Mask(_) => Ty::Float(float(arg(1))?),
                    _ => return None,
                },
                GradOp::ConcatGrad(_, i) => {
                    float(arg(0))?;
                    Ty::Float(shape(arg(1 + i))?)
                }
                GradOp::Zeros => Ty::Float(shape(arg(0))?),
                GradOp::CallBackward => match &self.nodes[*n.args.first()?].op {
                    Op::CallSaved if tys[1..].iter().all(|t| matches!(t, Ty::Float(_))) => {
                        Ty::Opaque
                    }
                    _ => return None,
                },
                // The argument's type: the caller accumulates it into the argument's gradient.
                GradOp::CallGrad(i) => {
                    let back = *n.args.first()?;
                    if !matches!(self.nodes[back].op, Op::Grad(GradOp::CallBackward)) {
                        return None;
                    }
                    let call = &self.nodes[self.call_of(back)?];
                    Ty::Float(float(Some(self.ty(*call.args.get(*i)?)))?)
                }
                GradOp::PrimGrad(p, i, _) => {
                    let grad = p.grads.get(*i)?;
                    match p.grad_shaped_like(*i) {
                        Some(k) => match (grad.reads[k], arg(k)?) {
                            (Read::ShapeOf(_), Ty::Shape(r)) => Ty::Float(r),
                            (Read::Arg(_) | Read::Out, ty) => ty,
                            _ => return None,
                        },
                        // Nothing it reads has its shape (a product's derivative): a
                        // float array, whose rank the forward argument fixed.
                        None => Ty::Float(float(Some(n.ty))?),
                    }
                }
            },
        })
    }
}

fn fixed_arity(op: &Op) -> Option<usize> {
    Some(match op {
        Op::Input(_) | Op::Const(_) | Op::UsizeConst(_) | Op::Unavailable => 0,
        Op::LenOf(_)
        | Op::StopGradient
        | Op::Grad(GradOp::Zeros)
        | Op::CallOutput(_)
        | Op::CallSaved
        | Op::Grad(GradOp::CallGrad(_)) => 1,
        Op::UsizeArith(_)
        | Op::ScalarArith(_)
        | Op::Binary(_)
        | Op::WithScalar(_)
        | Op::Compare(_)
        | Op::Grad(GradOp::SumTo)
        | Op::Grad(GradOp::MaskBy(_))
        | Op::Grad(GradOp::MaskGrad(_)) => 2,
        Op::Where => 3,
        Op::Grad(GradOp::PrimGrad(p, i, _)) => p.grads.get(*i).map_or(0, |g| g.reads.len()),
        Op::Elementwise(e) => 1 + e.params.len(),
        Op::Grad(GradOp::Seed(_))
        | Op::Concat(_)
        | Op::Grad(GradOp::ConcatGrad(..))
        | Op::Grad(GradOp::ElementwiseGrad(_))
        | Op::Prim(..)
        | Op::ShapeOf
        | Op::Call(_)
        | Op::Grad(GradOp::CallBackward)
        | Op::Fused(_) => {
            return None;
        }
    })
}

/// How the printout shows an op: `tanh`, `softmax[axis 1]`, `SumTo`, `Binary(Add)`.
fn op_label(op: &Op) -> String {
    match op {
        Op::Elementwise(_) | Op::Grad(GradOp::ElementwiseGrad(_)) | Op::Fused(_) => op.name(),
        // `softmax[axis 1]`, `softmax_backward[axis 1]`
        Op::Prim(_, attr) | Op::Grad(GradOp::PrimGrad(_, _, attr)) => match attr.axis() {
            Some(k) => format!("{}[axis {k}]", op.name()),
            None => op.name(),
        },
        Op::Call(c) => format!("call {}", c.name),
        // Backward ops print without the wrapper: `SumTo(%7, %8)`.
        Op::Grad(gop) => format!("{gop:?}"),
        other => format!("{other:?}"),
    }
}

impl fmt::Display for Graph {
    /// A compact printout, one node per line: `%3 = add(%1, %2) : 2-D float array  // z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, n) in self.nodes.iter().enumerate() {
            let args: Vec<String> = n.args.iter().map(|a| format!("%{a}")).collect();
            let op = op_label(&n.op);
            let mark = if n.backward { "  " } else { "" };
            write!(f, "{mark}%{id} = {op}({}) : {}", args.join(", "), n.ty)?;
            if let Some(name) = &n.name {
                write!(f, "  // {name}")?;
            }
            writeln!(f)?;
            // A loop's body under it: `.0 = tanh(%2)`, reading its arguments as
            // `%k` and earlier body nodes as `.j`.
            if let Op::Fused(fused) = &n.op {
                for (j, b) in fused.body.iter().enumerate() {
                    let args: Vec<String> = b
                        .args
                        .iter()
                        .map(|&a| match fused.operand(a) {
                            Operand::Outer(i) => format!("%{}", n.args[i]),
                            Operand::Local(j) => format!(".{j}"),
                        })
                        .collect();
                    let check = if fused.checks[j] {
                        " [broadcast checked]"
                    } else {
                        ""
                    };
                    write!(
                        f,
                        "{mark}    .{j} = {}({}) : {}{check}",
                        op_label(&b.op),
                        args.join(", "),
                        b.ty
                    )?;
                    if let Some(name) = &b.name {
                        write!(f, "  // {name}")?;
                    }
                    writeln!(f)?;
                }
            }
        }
        let outs: Vec<String> = self.outputs.iter().map(|o| format!("%{o}")).collect();
        writeln!(f, "return {}", outs.join(", "))?;
        for (input, g) in self.inputs.iter().zip(&self.grads) {
            if let Some(g) = g {
                writeln!(f, "d_{} = %{g}", input.name)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The differentiated graph before the pipeline (whose fusion would put
    /// the nodes the corruptions below look for inside loops).
    fn graph(src: &str) -> Graph {
        let item: TokenStream = src.parse().expect("tokens");
        match crate::compile_unoptimized(TokenStream::new(), item) {
            Ok(c) => c.graph,
            Err(e) => panic!("{}", e[0].text()),
        }
    }

    const SRC: &str = "fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> T {
        (softmax(tanh(x) + &b, Axis(1)) * 2.0).sum()
    }";

    #[test]
    fn a_compiled_graph_verifies() {
        graph(SRC).verify().expect("verified");
        let item: TokenStream = SRC.parse().expect("tokens");
        let optimized = crate::compile(TokenStream::new(), item).map_err(|e| e[0].text());
        optimized
            .expect("compiles")
            .graph
            .verify()
            .expect("verified");
    }

    /// The derivative of a matrix product has the operand's type, which its own
    /// type rule does not say: a wrong rank there is caught through the gradient.
    #[test]
    fn verify_catches_a_gradient_of_another_rank_than_its_value() {
        let mut g =
            graph("fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T { x.dot(&w).sum() }");
        g.verify().expect("verified");
        let d_x = g.grads[0].expect("x takes a gradient");
        g.nodes[d_x].ty = Ty::Float(3);
        let err = g.verify().expect_err("a 3-D gradient of a 2-D input");
        assert!(err.contains("the gradient of node"), "{err}");
    }

    /// verify checks types, not only order: each kind of corruption is caught.
    #[test]
    fn verify_catches_wrong_types_arities_and_phases() {
        let g = graph(SRC);
        let find = |name: &str| {
            g.nodes
                .iter()
                .position(|n| n.op.name() == name)
                .unwrap_or_else(|| panic!("no {name} in\n{g}"))
        };
        // A rank that disagrees with the op's rule, for an arithmetic op and a Prim.
        for name in ["tanh", "Binary", "softmax", "SumTo", "softmax_backward"] {
            let mut bad = g.clone();
            let id = find(name);
            bad.nodes[id].ty = Ty::Float(5);
            let err = bad.verify().expect_err("a wrong type");
            assert!(err.contains("type rule"), "{name}: {err}");
        }
        // An argument of the wrong kind.
        let mut bad = g.clone();
        let id = find("WithScalar");
        bad.nodes[id].args.reverse();
        assert!(bad.verify().is_err());
        // A backward op in the forward pass.
        let mut bad = g.clone();
        let id = find("SumTo");
        bad.nodes[id].backward = false;
        assert!(bad.verify().is_err());
        // A missing argument.
        let mut bad = g.clone();
        let id = find("tanh");
        bad.nodes[id].args.clear();
        assert!(bad.verify().expect_err("an arity").contains("args"));
    }
}
