//! Shapes written in terms of the inputs' dimensions: `[x.0, w.1]` is an
//! array as long as `x`'s axis 0 and as wide as `w`'s axis 1. The compiler
//! knows only ranks; this follows each op's shape rule symbolically over the
//! graph, so that the memory plan can say what each saved value costs.
//!
//! Where broadcasting meets two different names for one axis (`x.dot(&w) +
//! &b` gives `w.1` and `b.0`, equal at run time or 1), the name of the operand
//! of the higher rank wins, then the first; a literal 1 gives way to the other
//! side. Shapes that no rule here derives are `?`.

use std::collections::BTreeMap;
use std::fmt;

use backprop_dsl::ir::{BinOp, GradOp, Graph, Node, Op, Operand, Ty, UsizeOp, ValueId};

/// One dimension.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dim {
    /// A known length.
    Lit(usize),
    /// An expression over the inputs' dimensions and sizes: `x.0`,
    /// `x.1 * x.2`, `(x.2 - w.2 + 3)`. Atoms print without parentheses.
    Sym(String),
    /// Not derived.
    Unknown,
}

impl Dim {
    fn atom(&self) -> String {
        match self {
            Dim::Lit(n) => n.to_string(),
            Dim::Sym(s) if is_atom(s) => s.clone(),
            Dim::Sym(s) => format!("({s})"),
            Dim::Unknown => "?".to_string(),
        }
    }
}

fn is_atom(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Lit(n) => write!(f, "{n}"),
            Dim::Sym(s) => f.write_str(s),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// A value's shape: its dimensions (none for a scalar or a 0-d array), or
/// `None` when not even the list is known.
pub type Shape = Option<Vec<Dim>>;

/// Prints a shape as `[x.0, w.1]` (`[]` for a scalar, `?` when unknown).
pub fn show(shape: &Shape) -> String {
    match shape {
        Some(dims) => {
            let dims: Vec<String> = dims.iter().map(Dim::to_string).collect();
            format!("[{}]", dims.join(", "))
        }
        None => "?".to_string(),
    }
}

/// What the analysis knows of one value: its shape, and for a `usize` its
/// value as an expression (`x.1`, `n / 2`), for the slices and convolutions
/// that take sizes.
#[derive(Clone, Debug)]
struct Known {
    shape: Shape,
    size: Option<Dim>,
}

/// The shape of every node of `g` (for a `Shape` value, the shape it holds).
pub fn shapes(g: &Graph) -> Vec<Shape> {
    let mut known: Vec<Known> = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        let args: Vec<(Ty, Known)> = n
            .args
            .iter()
            .map(|&a| (g.ty(a), known[a].clone()))
            .collect();
        let k = infer(g, n, &args, &known);
        known.push(k);
    }
    known.into_iter().map(|k| k.shape).collect()
}

fn sym(s: String) -> Dim {
    Dim::Sym(s)
}

fn dims_of(args: &[(Ty, Known)], i: usize) -> Shape {
    args.get(i).and_then(|(_, k)| k.shape.clone())
}

fn size_of(args: &[(Ty, Known)], i: usize) -> Dim {
    args.get(i)
        .and_then(|(_, k)| k.size.clone())
        .unwrap_or(Dim::Unknown)
}

/// `a op b` on sizes, folding literals.
fn arith(a: &Dim, op: &str, b: &Dim) -> Dim {
    match (a, b) {
        (Dim::Unknown, _) | (_, Dim::Unknown) => Dim::Unknown,
        (Dim::Lit(x), Dim::Lit(y)) => {
            let v = match op {
                "+" => x.checked_add(*y),
                "-" => x.checked_sub(*y),
                "*" => x.checked_mul(*y),
                _ => x.checked_div(*y),
            };
            v.map_or(Dim::Unknown, Dim::Lit)
        }
        (_, Dim::Lit(1)) if op == "*" || op == "/" => a.clone(),
        (Dim::Lit(1), _) if op == "*" => b.clone(),
        (_, Dim::Lit(0)) if op == "+" || op == "-" => a.clone(),
        _ => {
            // Keep a product of atoms unparenthesized: `x.1 * x.2 * x.3`.
            let left = match a {
                Dim::Sym(s) if op == "*" && s.contains(" * ") && !s.contains(['+', '-', '/']) => {
                    s.clone()
                }
                Dim::Sym(s) if op == "+" || op == "-" => s.clone(),
                _ => a.atom(),
            };
            sym(format!("{left} {op} {}", b.atom()))
        }
    }
}

/// NumPy broadcasting over symbolic shapes (see the module's note on names).
fn broadcast(shapes: &[Shape]) -> Shape {
    let shapes: Vec<&Vec<Dim>> = shapes.iter().map(|s| s.as_ref()).collect::<Option<_>>()?;
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    // Highest rank first, then in argument order.
    let mut order: Vec<&Vec<Dim>> = shapes.clone();
    order.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let at: Vec<&Dim> = order
            .iter()
            .filter_map(|s| {
                let offset = rank - s.len();
                (i >= offset).then(|| &s[i - offset])
            })
            .collect();
        let not_one = at.iter().find(|d| **d != &Dim::Lit(1));
        out.push(not_one.or(at.first()).map_or(Dim::Unknown, |d| (*d).clone()));
    }
    Some(out)
}

/// The array arguments' shapes (scalars broadcast without changing a shape).
fn array_shapes(args: &[(Ty, Known)]) -> Vec<Shape> {
    args.iter()
        .filter(|(t, _)| matches!(t, Ty::Float(_) | Ty::Mask(_) | Ty::Int(_)))
        .map(|(_, k)| k.shape.clone())
        .collect()
}

fn without(shape: Shape, axis: usize) -> Shape {
    let mut s = shape?;
    if axis < s.len() {
        s.remove(axis);
        Some(s)
    } else {
        None
    }
}

fn dim(shape: &Shape, i: usize) -> Dim {
    shape
        .as_ref()
        .and_then(|s| s.get(i).cloned())
        .unwrap_or(Dim::Unknown)
}

/// The output length of a convolution along one axis.
fn conv_len(len: Dim, kernel: Dim, stride: &Dim, pad: &Dim) -> Dim {
    // (len + 2 pad - kernel) / stride + 1
    let padded = arith(&len, "+", &arith(&Dim::Lit(2), "*", pad));
    let span = arith(&padded, "-", &kernel);
    let steps = arith(&span, "/", stride);
    arith(&steps, "+", &Dim::Lit(1))
}

fn infer(g: &Graph, n: &Node, args: &[(Ty, Known)], all: &[Known]) -> Known {
    let shape = |s: Shape| Known { shape: s, size: None };
    let first = || dims_of(args, 0);
    match &n.op {
        Op::Input(i) => {
            let input = &g.inputs[*i];
            let name = &input.name;
            match input.ty {
                Ty::Float(r) | Ty::Int(r) | Ty::Mask(r) => {
                    shape(Some((0..r).map(|k| sym(format!("{name}.{k}"))).collect()))
                }
                Ty::Usize => Known {
                    shape: Some(Vec::new()),
                    size: Some(sym(name.clone())),
                },
                _ => shape(Some(Vec::new())),
            }
        }
        Op::Const(_) | Op::ScalarArith(_) => shape(Some(Vec::new())),
        Op::UsizeConst(v) => Known {
            shape: Some(Vec::new()),
            size: Some(Dim::Lit(*v)),
        },
        Op::LenOf(k) => Known {
            shape: Some(Vec::new()),
            size: Some(dim(&first(), *k)),
        },
        Op::UsizeArith(op) => {
            let sign = match op {
                UsizeOp::Add => "+",
                UsizeOp::Sub => "-",
                UsizeOp::Mul => "*",
                UsizeOp::Div => "/",
            };
            Known {
                shape: Some(Vec::new()),
                size: Some(arith(&size_of(args, 0), sign, &size_of(args, 1))),
            }
        }
        Op::Elementwise(_)
        | Op::WithScalar(_)
        | Op::StopGradient
        | Op::Unavailable
        | Op::Grad(GradOp::ElementwiseGrad(_)) => {
            if matches!(n.op, Op::Grad(_)) {
                // `[x?, y?, g, params...]`: all of the array arguments share a shape.
                shape(broadcast(&array_shapes(args)))
            } else {
                shape(first())
            }
        }
        Op::Binary(_) | Op::Compare(_) | Op::Where | Op::Grad(GradOp::MaskBy(_)) => {
            shape(broadcast(&array_shapes(args)))
        }
        Op::Grad(GradOp::MaskGrad(_)) => shape(dims_of(args, 1)),
        Op::ShapeOf => shape(broadcast(&array_shapes(args))),
        Op::Concat(k) => {
            let mut s = first();
            if let Some(dims) = s.as_mut() {
                let total = (0..args.len())
                    .map(|i| dim(&dims_of(args, i), *k))
                    .reduce(|a, b| arith(&a, "+", &b))
                    .unwrap_or(Dim::Unknown);
                if *k < dims.len() {
                    dims[*k] = total;
                }
            }
            shape(s)
        }
        Op::Prim(p, attr) => shape(prim(p.name, attr.axis(), args)),
        Op::Grad(GradOp::SumTo) => shape(dims_of(args, 1)),
        Op::Grad(GradOp::Zeros) => shape(dims_of(args, 0)),
        Op::Grad(GradOp::ConcatGrad(_, i)) => shape(dims_of(args, 1 + i)),
        Op::Grad(GradOp::Seed(k)) => shape(
            g.outputs
                .get(*k)
                .and_then(|&o| all.get(o))
                .and_then(|k| k.shape.clone()),
        ),
        Op::Grad(GradOp::PrimGrad(p, i, _)) => {
            let by_read = p.grad_shaped_like(*i).and_then(|k| dims_of(args, k));
            shape(by_read.or_else(|| product_grad(p.name, *i, args)))
        }
        Op::Fused(fused) => {
            // The body, in its own numbering: the loop's arguments, then its nodes.
            let mut local: Vec<(Ty, Known)> = args.to_vec();
            for b in &fused.body {
                let bargs: Vec<(Ty, Known)> = b
                    .args
                    .iter()
                    .map(|&a| match fused.operand(a) {
                        Operand::Outer(i) => args[i].clone(),
                        Operand::Local(j) => local[fused.arity + j].clone(),
                    })
                    .collect();
                let k = infer(g, b, &bargs, all);
                local.push((b.ty, k));
            }
            local
                .pop()
                .map_or_else(|| shape(None), |(_, k)| k)
        }
    }
}

/// The shape of a forward op described by data, by its name.
fn prim(name: &str, axis: Option<usize>, args: &[(Ty, Known)]) -> Shape {
    let a = dims_of(args, 0);
    let b = dims_of(args, 1);
    Some(match name {
        "dot_mm" => vec![dim(&a, 0), dim(&b, 1)],
        "dot_mv" => vec![dim(&a, 0)],
        "dot_vm" => vec![dim(&b, 1)],
        "dot_vv" | "sum" | "mean" => Vec::new(),
        "transpose" => {
            let mut s = a?;
            s.reverse();
            s
        }
        "sum_axis" | "mean_axis" | "max_axis" | "logsumexp" => without(a, axis?)?,
        "softmax" | "log_softmax" => a?,
        "insert_axis" => {
            let mut s = a?;
            s.insert(axis?.min(s.len()), Dim::Lit(1));
            s
        }
        "flatten" => {
            let s = a?;
            let rest = s[1..]
                .iter()
                .cloned()
                .reduce(|x, y| arith(&x, "*", &y))
                .unwrap_or(Dim::Lit(1));
            vec![s.first().cloned().unwrap_or(Dim::Unknown), rest]
        }
        "slice_axis" => {
            let mut s = a?;
            let k = axis?;
            if k < s.len() {
                s[k] = arith(&size_of(args, 2), "-", &size_of(args, 1));
            }
            s
        }
        "pick" => vec![dim(&a, 0)],
        "rows" => {
            let mut s = b?;
            s.push(dim(&a, 1));
            s
        }
        "take_along_axis" => b?,
        "conv2d" => {
            let (stride, pad) = (size_of(args, 2), size_of(args, 3));
            vec![
                dim(&a, 0),
                dim(&b, 0),
                conv_len(dim(&a, 2), dim(&b, 2), &stride, &pad),
                conv_len(dim(&a, 3), dim(&b, 3), &stride, &pad),
            ]
        }
        "max_pool2" => vec![
            dim(&a, 0),
            dim(&a, 1),
            arith(&dim(&a, 2), "/", &Dim::Lit(2)),
            arith(&dim(&a, 3), "/", &Dim::Lit(2)),
        ],
        "matmul_batched" => vec![dim(&a, 0), dim(&a, 1), dim(&b, 2)],
        "matmul_shared" => vec![dim(&a, 0), dim(&a, 1), dim(&b, 1)],
        _ => return None,
    })
}

/// The shape of a product's derivative, which reads nothing of its shape:
/// `dA = G B^T` is `[g.0, b.0]`, `dB = A^T G` is `[a.1, g.1]`.
fn product_grad(name: &str, i: usize, args: &[(Ty, Known)]) -> Shape {
    let a = dims_of(args, 0);
    let b = dims_of(args, 1);
    Some(match (name, i) {
        // reads [g, b]
        ("dot_mm", 0) => vec![dim(&a, 0), dim(&b, 0)],
        // reads [a, g]
        ("dot_mm", 1) => vec![dim(&a, 1), dim(&b, 1)],
        // [g, v] -> g v^T; [g, a] -> g a
        ("dot_mv", 0) => vec![dim(&a, 0), dim(&b, 0)],
        ("dot_mv", 1) => vec![dim(&b, 1)],
        // [b, g] -> b g; [g, v] -> v^T g
        ("dot_vm", 0) => vec![dim(&a, 0)],
        ("dot_vm", 1) => vec![dim(&b, 0), dim(&a, 0)],
        ("matmul_batched", 0) => vec![dim(&a, 0), dim(&a, 1), dim(&b, 1)],
        ("matmul_batched", 1) => vec![dim(&a, 0), dim(&a, 2), dim(&b, 2)],
        ("matmul_shared", 0) => vec![dim(&a, 0), dim(&a, 1), dim(&b, 0)],
        ("matmul_shared", 1) => vec![dim(&a, 2), dim(&b, 2)],
        _ => return None,
    })
}

/// Bytes as a polynomial in the inputs' dimensions: each term a coefficient
/// and its factors (sorted), like `4 * x.1 * w.1`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes {
    terms: BTreeMap<Vec<String>, u64>,
}

impl Bytes {
    /// `coef` times the product of `factors`.
    pub fn term(coef: u64, mut factors: Vec<String>) -> Self {
        factors.sort();
        let mut terms = BTreeMap::new();
        if coef > 0 {
            terms.insert(factors, coef);
        }
        Bytes { terms }
    }

    /// Adds `other` to this.
    pub fn add(&mut self, other: &Bytes) {
        for (f, c) in &other.terms {
            *self.terms.entry(f.clone()).or_insert(0) += c;
        }
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        // Constants last: `4 * w.1 + 16`.
        let mut terms: Vec<(&Vec<String>, &u64)> = self.terms.iter().collect();
        terms.sort_by_key(|(fs, _)| (fs.is_empty(), (*fs).clone()));
        let parts: Vec<String> = terms
            .iter()
            .map(|(fs, c)| {
                let mut p = vec![c.to_string()];
                p.extend(fs.iter().cloned());
                p.join(" * ")
            })
            .collect();
        f.write_str(&parts.join(" + "))
    }
}

/// The size in bytes of one element of a value of type `ty`, for `f32` floats
/// (`usize` is 8 bytes, a mask element one).
pub fn element_bytes(ty: Ty) -> u64 {
    match ty {
        Ty::Float(_) | Ty::Scalar => 4,
        Ty::Int(_) | Ty::Usize | Ty::Shape(_) => 8,
        Ty::Mask(_) => 1,
    }
}

/// What a value of type `ty` and shape `shape` takes, split into what grows
/// with the batch (per sample: one factor `batch` taken out) and what does not.
pub fn cost(ty: Ty, shape: &Shape, batch: Option<&str>) -> (Bytes, Bytes) {
    if let Ty::Shape(r) = ty {
        // A shape is `r` lengths, whatever the array's size.
        return (Bytes::default(), Bytes::term(8 * r as u64, Vec::new()));
    }
    let dims = match shape {
        Some(d) => d.clone(),
        None => vec![Dim::Unknown; ty.rank().unwrap_or(0)],
    };
    let mut coef = element_bytes(ty);
    let mut factors = Vec::new();
    for d in &dims {
        match d {
            Dim::Lit(n) => coef *= *n as u64,
            other => factors.push(other.atom()),
        }
    }
    match batch.and_then(|b| factors.iter().position(|f| f == b)) {
        Some(i) => {
            factors.remove(i);
            (Bytes::term(coef, factors), Bytes::default())
        }
        None => (Bytes::default(), Bytes::term(coef, factors)),
    }
}

/// The name of axis 0 of the first input, which layers and losses take as the
/// batch: `x.0`.
pub fn batch_dim(g: &Graph) -> Option<String> {
    let first = g.inputs.first()?;
    matches!(first.ty, Ty::Float(r) | Ty::Int(r) if r > 0).then(|| format!("{}.0", first.name))
}

/// The forward values the backward reads (what `Saved` holds, in its order):
/// every forward node but a constant that a backward node takes as an argument.
pub fn saved_values(g: &Graph) -> Vec<ValueId> {
    let mut saved: Vec<ValueId> = g
        .nodes
        .iter()
        .filter(|n| n.backward)
        .flat_map(|n| n.args.iter().copied())
        .filter(|&a| !g.nodes[a].backward && !matches!(g.nodes[a].op, Op::Const(_)))
        .collect();
    saved.sort_unstable();
    saved.dedup();
    saved
}

/// `BinOp`'s sign, for printers.
pub fn bin_sign(op: BinOp) -> Option<&'static str> {
    Some(match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Maximum | BinOp::Minimum => return None,
    })
}
