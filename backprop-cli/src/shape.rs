//! Shapes written in terms of the inputs' dimensions: `[x.0, w.1]` is an
//! array as long as `x`'s axis 0 and as wide as `w`'s axis 1. The compiler
//! knows only ranks; this follows each op's shape rule symbolically over the
//! graph, so that the memory plan can say what each saved value costs.
//! A dimension is a polynomial with integer coefficients over the inputs'
//! dimensions and `usize` inputs (`2 * n - n` is `n`); a division that does
//! not come out exact is kept as an opaque factor (`x.2 / 2`).
//!
//! Axes the function makes equal are given one name: the two sides of a
//! broadcast (`x.dot(&w) + &b` makes `b.0` and `w.1` one axis), and the inner
//! axes of a product (`x.1` and `w.0`). The name kept is the first input's,
//! so the batch axis of every input is the first input's axis 0. This assumes
//! that no broadcast stretches an axis of length 1 against a longer one where
//! both are inputs' axes. Shapes no rule here derives are `?`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use backprop_dsl::ir::{BinOp, GradOp, Graph, Node, Op, Operand, Ty, UsizeOp, ValueId};

/// A polynomial with integer coefficients over named dimensions: each term
/// its factors (sorted, repeated for powers) and its coefficient.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Poly {
    terms: BTreeMap<Vec<String>, i64>,
}

impl Poly {
    /// A constant.
    pub fn constant(c: i64) -> Self {
        Self::term(c, Vec::new())
    }

    /// One named dimension.
    pub fn var(name: &str) -> Self {
        Self::term(1, vec![name.to_string()])
    }

    /// `coef` times the product of `factors`.
    pub fn term(coef: i64, mut factors: Vec<String>) -> Self {
        factors.sort();
        let mut terms = BTreeMap::new();
        if coef != 0 {
            terms.insert(factors, coef);
        }
        Poly { terms }
    }

    /// The sum.
    pub fn add(&self, other: &Poly) -> Poly {
        let mut out = self.clone();
        for (f, c) in &other.terms {
            let e = out.terms.entry(f.clone()).or_insert(0);
            *e += c;
            if *e == 0 {
                out.terms.remove(f);
            }
        }
        out
    }

    /// The difference.
    pub fn sub(&self, other: &Poly) -> Poly {
        self.add(&other.scale(-1))
    }

    fn scale(&self, k: i64) -> Poly {
        let mut out = Poly::default();
        for (f, c) in &self.terms {
            out = out.add(&Poly::term(c * k, f.clone()));
        }
        out
    }

    /// The product.
    pub fn mul(&self, other: &Poly) -> Poly {
        let mut out = Poly::default();
        for (fa, ca) in &self.terms {
            for (fb, cb) in &other.terms {
                let mut f = fa.clone();
                f.extend(fb.iter().cloned());
                out = out.add(&Poly::term(ca * cb, f));
            }
        }
        out
    }

    /// The quotient, exact when the divisor is a constant dividing every
    /// coefficient, else an opaque factor named after the division.
    pub fn div(&self, other: &Poly) -> Poly {
        if let Some(d) = other.as_constant()
            && d != 0
            && self.terms.values().all(|c| c % d == 0)
        {
            let mut out = Poly::default();
            for (f, c) in &self.terms {
                out = out.add(&Poly::term(c / d, f.clone()));
            }
            return out;
        }
        Poly::var(&format!("{} / {}", self.factor(), other.factor()))
    }

    /// The value, if it is a constant.
    pub fn as_constant(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => self
                .terms
                .iter()
                .next()
                .and_then(|(f, c)| f.is_empty().then_some(*c)),
            _ => None,
        }
    }

    /// The name, if it is one named dimension.
    pub fn as_var(&self) -> Option<&str> {
        match self.terms.iter().next() {
            Some((f, 1)) if self.terms.len() == 1 && f.len() == 1 => Some(&f[0]),
            _ => None,
        }
    }

    /// Each name replaced by `rename`'s (names it does not have are kept).
    pub fn rename(&self, rename: &HashMap<String, String>) -> Poly {
        let mut out = Poly::default();
        for (f, c) in &self.terms {
            let f = f
                .iter()
                .map(|n| rename.get(n).cloned().unwrap_or_else(|| n.clone()))
                .collect();
            out = out.add(&Poly::term(*c, f));
        }
        out
    }

    /// The terms with factor `name`, divided by it, and the other terms.
    pub fn split_by(&self, name: &str) -> (Poly, Poly) {
        let (mut with, mut without) = (Poly::default(), Poly::default());
        for (f, c) in &self.terms {
            match f.iter().position(|n| n == name) {
                Some(i) => {
                    let mut f = f.clone();
                    f.remove(i);
                    with = with.add(&Poly::term(*c, f));
                }
                None => without = without.add(&Poly::term(*c, f.clone())),
            }
        }
        (with, without)
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// As a factor of a product: parenthesized unless one name or a constant.
    fn factor(&self) -> String {
        let s = self.to_string();
        if self.as_constant().is_some() || self.as_var().is_some_and(|v| !v.contains(' ')) {
            s
        } else {
            format!("({s})")
        }
    }
}

impl fmt::Display for Poly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        // Higher degrees first, constants last: `4 * x.1 * x.2 + 4 * x.1 + 16`.
        let mut terms: Vec<(&Vec<String>, &i64)> = self.terms.iter().collect();
        terms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        for (k, &(factors, &c)) in terms.iter().enumerate() {
            let sign = if c < 0 { "-" } else { "+" };
            match (k, c < 0) {
                (0, true) => f.write_str("-")?,
                (0, false) => {}
                _ => write!(f, " {sign} ")?,
            }
            let mut parts: Vec<String> = Vec::new();
            if c.abs() != 1 || factors.is_empty() {
                parts.push(c.abs().to_string());
            }
            let alone = parts.is_empty() && factors.len() == 1;
            parts.extend(factors.iter().map(|n| {
                if n.contains(' ') && !alone {
                    format!("({n})")
                } else {
                    n.clone()
                }
            }));
            f.write_str(&parts.join(" * "))?;
        }
        Ok(())
    }
}

/// One dimension: a polynomial, or not derived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    /// A polynomial over the inputs' dimensions and sizes.
    Known(Poly),
    /// Not derived.
    Unknown,
}

impl Dim {
    fn lit(n: i64) -> Dim {
        Dim::Known(Poly::constant(n))
    }

    fn var(name: String) -> Dim {
        Dim::Known(Poly::var(&name))
    }

    fn is_one(&self) -> bool {
        matches!(self, Dim::Known(p) if p.as_constant() == Some(1))
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(p) => write!(f, "{p}"),
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
/// value (`x.1`, `n - 1`), for the slices and convolutions that take sizes.
#[derive(Clone, Debug)]
pub struct Known {
    /// The shape (for a `Shape` value, the shape it holds).
    pub shape: Shape,
    /// The value of a `usize`.
    pub size: Option<Dim>,
}

/// Names found to be one axis, as a union-find over names.
#[derive(Default)]
struct Axes {
    parent: HashMap<String, String>,
    /// Where each name comes from: (input, axis), for choosing the name kept.
    rank: HashMap<String, (usize, usize)>,
}

impl Axes {
    fn find(&mut self, n: &str) -> String {
        let mut cur = n.to_string();
        while let Some(p) = self.parent.get(&cur).cloned() {
            if p == cur {
                break;
            }
            cur = p;
        }
        cur
    }

    fn unite(&mut self, a: &Dim, b: &Dim) {
        let (Dim::Known(a), Dim::Known(b)) = (a, b) else {
            return;
        };
        let (Some(a), Some(b)) = (a.as_var(), b.as_var()) else {
            return;
        };
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let key = |r: &str| {
            self.rank
                .get(r)
                .copied()
                .unwrap_or((usize::MAX, usize::MAX))
        };
        let (keep, other) = if key(&ra) <= key(&rb) {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent.insert(other, keep);
    }
}

/// The shape and size of every node of `g`, with equal axes under one name.
pub fn analyse(g: &Graph) -> Vec<Known> {
    let mut axes = Axes::default();
    for (i, input) in g.inputs.iter().enumerate() {
        if let Some(r) = input.ty.rank() {
            for k in 0..r {
                axes.rank.insert(format!("{}.{k}", input.name), (i, k));
            }
        }
    }
    let mut known: Vec<Known> = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        let args: Vec<(Ty, Known)> = n
            .args
            .iter()
            .map(|&a| (g.ty(a), known[a].clone()))
            .collect();
        let k = infer(g, n, &args, &known, &mut axes);
        known.push(k);
    }
    let names: Vec<String> = axes.rank.keys().cloned().collect();
    let rename: HashMap<String, String> = names
        .into_iter()
        .map(|n| {
            let r = axes.find(&n);
            (n, r)
        })
        .collect();
    let fix = |d: &Dim| match d {
        Dim::Known(p) => Dim::Known(p.rename(&rename)),
        Dim::Unknown => Dim::Unknown,
    };
    known
        .into_iter()
        .map(|k| Known {
            shape: k.shape.map(|s| s.iter().map(fix).collect()),
            size: k.size.as_ref().map(fix),
        })
        .collect()
}

/// The shape of every node of `g` (for a `Shape` value, the shape it holds).
pub fn shapes(g: &Graph) -> Vec<Shape> {
    analyse(g).into_iter().map(|k| k.shape).collect()
}

fn dims_of(args: &[(Ty, Known)], i: usize) -> Shape {
    args.get(i).and_then(|(_, k)| k.shape.clone())
}

fn size_of(args: &[(Ty, Known)], i: usize) -> Dim {
    args.get(i)
        .and_then(|(_, k)| k.size.clone())
        .unwrap_or(Dim::Unknown)
}

/// `a op b` on sizes.
fn arith(a: &Dim, op: &str, b: &Dim) -> Dim {
    match (a, b) {
        (Dim::Known(x), Dim::Known(y)) => Dim::Known(match op {
            "+" => x.add(y),
            "-" => x.sub(y),
            "*" => x.mul(y),
            _ => x.div(y),
        }),
        _ => Dim::Unknown,
    }
}

/// NumPy broadcasting over symbolic shapes: aligned axes are one axis, unless
/// one of them is a literal 1.
fn broadcast(shapes: &[Shape], axes: &mut Axes) -> Shape {
    let shapes: Vec<&Vec<Dim>> = shapes.iter().map(|s| s.as_ref()).collect::<Option<_>>()?;
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let at: Vec<&Dim> = shapes
            .iter()
            .filter_map(|s| {
                let offset = rank - s.len();
                (i >= offset).then(|| &s[i - offset])
            })
            .filter(|d| !d.is_one())
            .collect();
        for w in at.windows(2) {
            axes.unite(w[0], w[1]);
        }
        out.push(at.first().map_or(Dim::lit(1), |d| (*d).clone()));
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
    let padded = arith(&len, "+", &arith(&Dim::lit(2), "*", pad));
    let span = arith(&padded, "-", &kernel);
    let steps = arith(&span, "/", stride);
    arith(&steps, "+", &Dim::lit(1))
}

fn infer(g: &Graph, n: &Node, args: &[(Ty, Known)], all: &[Known], axes: &mut Axes) -> Known {
    let shape = |s: Shape| Known {
        shape: s,
        size: None,
    };
    let first = || dims_of(args, 0);
    match &n.op {
        Op::Input(i) => {
            let input = &g.inputs[*i];
            let name = &input.name;
            match input.ty {
                Ty::Float(r) | Ty::Int(r) | Ty::Mask(r) => shape(Some(
                    (0..r).map(|k| Dim::var(format!("{name}.{k}"))).collect(),
                )),
                Ty::Usize => Known {
                    shape: Some(Vec::new()),
                    size: Some(Dim::var(name.clone())),
                },
                _ => shape(Some(Vec::new())),
            }
        }
        Op::Const(_) | Op::ScalarArith(_) => shape(Some(Vec::new())),
        Op::UsizeConst(v) => Known {
            shape: Some(Vec::new()),
            size: Some(Dim::lit(*v as i64)),
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
                shape(broadcast(&array_shapes(args), axes))
            } else {
                shape(first())
            }
        }
        Op::Binary(_) | Op::Compare(_) | Op::Where | Op::Grad(GradOp::MaskBy(_)) => {
            shape(broadcast(&array_shapes(args), axes))
        }
        Op::Grad(GradOp::MaskGrad(_)) => shape(dims_of(args, 1)),
        // What a callee returns and saves is its own; the gradient it gives an
        // argument has the argument's shape.
        Op::Call(_) | Op::CallOutput(_) | Op::CallSaved | Op::Grad(GradOp::CallBackward) => {
            shape(None)
        }
        Op::Grad(GradOp::CallGrad(i)) => {
            let call = n.args.first().and_then(|&b| g.call_of(b));
            let arg = call.and_then(|c| g.nodes[c].args.get(*i).copied());
            arg.and_then(|a| all.get(a).cloned()).unwrap_or(shape(None))
        }
        Op::ShapeOf => shape(broadcast(&array_shapes(args), axes)),
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
        Op::Prim(p, attr) => shape(prim(p.name, attr.axis(), args, axes)),
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
                let k = infer(g, b, &bargs, all, axes);
                local.push((b.ty, k));
            }
            local.pop().map_or_else(|| shape(None), |(_, k)| k)
        }
    }
}

/// The shape of a forward op described by data, by its name.
fn prim(name: &str, axis: Option<usize>, args: &[(Ty, Known)], axes: &mut Axes) -> Shape {
    let a = dims_of(args, 0);
    let b = dims_of(args, 1);
    // The inner axes of a product are one axis.
    let inner = match name {
        "dot_mm" | "dot_mv" | "matmul_shared" => Some((1, 0)),
        "dot_vm" | "dot_vv" => Some((0, 0)),
        "matmul_batched" => Some((2, 1)),
        _ => None,
    };
    if let Some((i, j)) = inner {
        axes.unite(&dim(&a, i), &dim(&b, j));
    }
    match name {
        // Batches, and one index per row.
        "matmul_batched" | "pick" => axes.unite(&dim(&a, 0), &dim(&b, 0)),
        // The indices have the array's shape but along the axis they pick on.
        "take_along_axis" => {
            let rank = a.as_ref().map_or(0, Vec::len);
            for i in (0..rank).filter(|&i| Some(i) != axis) {
                axes.unite(&dim(&a, i), &dim(&b, i));
            }
        }
        _ => {}
    }
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
            s.insert(axis?.min(s.len()), Dim::lit(1));
            s
        }
        "flatten" => {
            let s = a?;
            let rest = s[1..]
                .iter()
                .cloned()
                .reduce(|x, y| arith(&x, "*", &y))
                .unwrap_or(Dim::lit(1));
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
            arith(&dim(&a, 2), "/", &Dim::lit(2)),
            arith(&dim(&a, 3), "/", &Dim::lit(2)),
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

/// The size in bytes of one element of a value of type `ty`, for `f32` floats
/// (`usize` is 8 bytes, a mask element one).
pub fn element_bytes(ty: Ty) -> i64 {
    match ty {
        Ty::Float(_) | Ty::Scalar => 4,
        Ty::Int(_) | Ty::Usize | Ty::Shape(_) => 8,
        Ty::Mask(_) => 1,
        // A call's results and state are counted where they are arrays.
        Ty::Tuple(_) | Ty::Opaque => 0,
    }
}

/// What a value of type `ty` and shape `shape` takes in bytes, split into
/// what grows with the batch (per sample: the terms with the factor `batch`,
/// divided by it) and what does not. `None` when a dimension is unknown.
pub fn cost(ty: Ty, shape: &Shape, batch: Option<&str>) -> Option<(Poly, Poly)> {
    if let Ty::Shape(r) = ty {
        // A shape is `r` lengths, whatever the array's size.
        return Some((Poly::default(), Poly::constant(8 * r as i64)));
    }
    let mut bytes = Poly::constant(element_bytes(ty));
    for d in shape.as_ref()? {
        match d {
            Dim::Known(p) => bytes = bytes.mul(p),
            Dim::Unknown => return None,
        }
    }
    Some(match batch {
        Some(b) => bytes.split_by(b),
        None => (Poly::default(), bytes),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomials_simplify_and_print_constants_last() {
        let n = Poly::var("n");
        let two_n = Poly::constant(2).mul(&n);
        assert_eq!(two_n.sub(&n), n);
        assert_eq!(Poly::constant(3).mul(&n).sub(&two_n).to_string(), "n");
        let x1 = Poly::var("x.1");
        let bytes = Poly::constant(4).mul(&x1).mul(&n).add(&Poly::constant(16));
        assert_eq!(bytes.to_string(), "4 * n * x.1 + 16");
        assert_eq!(n.sub(&Poly::constant(1)).to_string(), "n - 1");
        // An inexact division is an opaque factor, parenthesized in a product.
        let half = x1.div(&Poly::constant(2));
        assert_eq!(half.to_string(), "x.1 / 2");
        assert_eq!(Poly::constant(4).mul(&half).to_string(), "4 * (x.1 / 2)");
        assert_eq!(two_n.div(&Poly::constant(2)), n);
    }

    #[test]
    fn per_sample_bytes_take_one_batch_factor_out() {
        let shape = Some(vec![Dim::var("x.0".into()), Dim::var("w.1".into())]);
        let (per, fixed) = cost(Ty::Float(2), &shape, Some("x.0")).expect("known");
        assert_eq!(
            (per.to_string(), fixed.to_string()),
            ("4 * w.1".into(), "0".into())
        );
        let (per, fixed) = cost(Ty::Shape(2), &shape, Some("x.0")).expect("known");
        assert_eq!(
            (per.to_string(), fixed.to_string()),
            ("0".into(), "16".into())
        );
        assert!(cost(Ty::Float(1), &Some(vec![Dim::Unknown]), None).is_none());
    }
}
