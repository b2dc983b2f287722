//! `backprop math`: the backward as math, in the CS231n style:
//!
//! ```text
//! // line 4: let z = x.dot(&w) + &b;
//! db = sum_axis0(dz)
//! dx = dz w^T
//! dw = x^T dz
//! ```
//!
//! An expression printer over the IR's backward nodes (after every pass but
//! fusion, so each op is one node): matrix products are juxtaposition with
//! `^T` for transposes, elementwise products `*`, masks `1[...]`, reductions
//! `sum_axis0(...)`. A statement is printed for each input's gradient, for the
//! gradient of each named value (`dz` for `let z`), and for each backward
//! value read more than once (`t1`, `t2`); everything else is inlined. Forward
//! values are read by their names, the output as `out` (as in the generated
//! code), and unnamed ones as their own expression. A `sum_to` between
//! shapes that [`shape`] finds equal is left out (under its assumption that no
//! broadcast stretches an input's axis of length 1).

use std::collections::HashMap;

use backprop_dsl::ir::{BinOp, GradOp, Graph, Op, ScalarOp, Ty, UsizeOp, ValueId};
use backprop_spec::Compare;

use crate::report::Failure;
use crate::shape;
use crate::source::{Reviewed, SourceFile};

/// The math of the items of `file` (or of the one named `item`), and the
/// lints' warnings (rendered like rustc's) for stderr.
pub fn math_file(file: &SourceFile, item: Option<&str>) -> Result<(String, String), Failure> {
    let mut out = String::new();
    let mut warnings = String::new();
    for (k, it) in file.select(item)?.iter().enumerate() {
        let r = Reviewed::compile(file, it)?;
        warnings.push_str(&r.warnings(file));
        if k > 0 {
            out.push('\n');
        }
        out.push_str(&format!("==== fn {}: the backward as math ====\n", it.name));
        out.push_str(&backward_math(&r.unfused));
    }
    Ok((out, warnings))
}

/// How tightly an expression binds, loosest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// A comparison, inside `1[...]` or `where(...)` only.
    Compare,
    /// `a + b`, `a - b`.
    Sum,
    /// `a * b`, `a / b`, `A B`.
    Product,
    /// `-a`.
    Unary,
    /// A name, a call, `a^T`, `x^2`.
    Atom,
}

/// An expression and how tightly it binds.
type Expr = (String, Prec);

/// The printer over one graph.
pub struct Printer<'g> {
    g: &'g Graph,
    /// The statement name of each backward value that gets a statement.
    stmt_names: HashMap<ValueId, String>,
    /// The name of each output.
    out_names: HashMap<ValueId, String>,
    /// Each value's shape, as [`shape::shapes`] derives it.
    shapes: Vec<shape::Shape>,
}

impl<'g> Printer<'g> {
    /// A printer for `g`: which backward values get statements, and their names.
    pub fn new(g: &'g Graph) -> Self {
        let mut out_names = HashMap::new();
        for (k, &o) in g.outputs.iter().enumerate() {
            let name = if g.outputs.len() == 1 {
                "out".to_string()
            } else {
                format!("out{k}")
            };
            out_names.insert(o, name);
        }
        let mut stmt_names: HashMap<ValueId, String> = HashMap::new();
        let mut taken: std::collections::HashSet<String> = Default::default();
        let mut claim = |v: ValueId, name: String, names: &mut HashMap<ValueId, String>| {
            if names.contains_key(&v) || taken.contains(&name) {
                return;
            }
            taken.insert(name.clone());
            names.insert(v, name);
        };
        // Inputs first, then named values, in graph order.
        for (input, grad) in g.inputs.iter().zip(&g.grads) {
            if let Some(grad) = grad {
                claim(*grad, format!("d{}", input.name), &mut stmt_names);
            }
        }
        for &(fwd, grad) in &g.grad_of {
            if let Some(name) = &g.nodes[fwd].name {
                claim(grad, format!("d{name}"), &mut stmt_names);
            }
        }
        let shapes = shape::shapes(g);
        // A `sum_to` the printer leaves out stands for its argument: its
        // readers read the argument.
        let transparent = |v: ValueId| {
            let n = &g.nodes[v];
            matches!(n.op, Op::Grad(GradOp::SumTo)) && same_shape(&shapes, n.args[0], n.args[1])
        };
        let mut readers = vec![0usize; g.nodes.len()];
        for n in g.nodes.iter().filter(|n| n.backward) {
            for &a in &n.args {
                readers[a] += 1;
            }
        }
        for v in (0..g.nodes.len()).rev() {
            // A named one is a statement of its own, which reads its argument once.
            if transparent(v) && !stmt_names.contains_key(&v) {
                let a = g.nodes[v].args[0];
                readers[a] = (readers[a] + readers[v]).saturating_sub(1);
            }
        }
        let mut t = 0;
        for (v, n) in g.nodes.iter().enumerate() {
            let leafy = matches!(n.op, Op::Grad(GradOp::Seed(_)) | Op::ShapeOf) || transparent(v);
            if n.backward && readers[v] > 1 && !leafy && !stmt_names.contains_key(&v) {
                t += 1;
                claim(v, format!("t{t}"), &mut stmt_names);
            }
        }
        Printer {
            g,
            stmt_names,
            out_names,
            shapes,
        }
    }

    /// The statements, in graph order, each group under the forward line it
    /// comes from: `name = expression`.
    pub fn statements(&self) -> String {
        let g = self.g;
        let mut out = String::new();
        let mut last_stmt = usize::MAX;
        for (v, n) in g.nodes.iter().enumerate() {
            let Some(name) = self.stmt_names.get(&v) else {
                continue;
            };
            let rhs = self.node(v).0;
            if &rhs == name {
                continue;
            }
            // The zero gradient of an input nothing reads belongs to no statement.
            let stmt = if matches!(n.op, Op::Grad(GradOp::Zeros)) {
                usize::MAX - 1
            } else {
                n.stmt
            };
            if stmt == usize::MAX - 1 && last_stmt != stmt {
                last_stmt = stmt;
                out.push_str("// not read by any output\n");
            } else if stmt != last_stmt {
                last_stmt = n.stmt;
                let line = g.stmt_line.get(n.stmt).copied().unwrap_or(0);
                let text = g.stmt_text.get(n.stmt).cloned().unwrap_or_default();
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if line > 0 {
                    out.push_str(&format!("// line {line}: {text}\n"));
                } else {
                    out.push_str(&format!("// {text}\n"));
                }
            }
            out.push_str(&format!("{name} = {rhs}\n"));
        }
        out
    }

    /// A value where another expression reads it: its name if it has one,
    /// else its expression.
    fn value(&self, v: ValueId) -> Expr {
        let n = &self.g.nodes[v];
        if let Some(name) = self.stmt_names.get(&v) {
            return (name.clone(), Prec::Atom);
        }
        if !n.backward {
            if let Some(name) = &n.name {
                return (name.clone(), Prec::Atom);
            }
            if let Some(name) = self.out_names.get(&v)
                && !matches!(n.op, Op::Const(_))
            {
                return (name.clone(), Prec::Atom);
            }
        }
        self.node(v)
    }

    /// `v` as an operand that must bind at least as tightly as `min`.
    fn arg(&self, v: ValueId, min: Prec) -> String {
        let (s, p) = self.value(v);
        if p < min { format!("({s})") } else { s }
    }

    fn call(&self, f: &str, args: &[ValueId]) -> Expr {
        let args: Vec<String> = args.iter().map(|&a| self.arg(a, Prec::Sum)).collect();
        (format!("{f}({})", args.join(", ")), Prec::Atom)
    }

    /// The expression that computes node `v` from what it reads (named
    /// values by their names).
    pub fn expression(&self, v: ValueId) -> String {
        self.node(v).0
    }

    /// The expression that computes node `v`, and how tightly it binds.
    fn node(&self, v: ValueId) -> Expr {
        let g = self.g;
        let n = &g.nodes[v];
        let a = |i: usize| n.args[i];
        let atom = |i: usize| self.arg(a(i), Prec::Atom);
        let prod = |l: String, r: String| (format!("{l} {r}"), Prec::Product);
        match &n.op {
            Op::Input(i) => (g.inputs[*i].name.clone(), Prec::Atom),
            Op::Const(c) => (number(*c), Prec::Atom),
            Op::UsizeConst(c) => (c.to_string(), Prec::Atom),
            Op::LenOf(k) => (format!("len{k}({})", self.arg(a(0), Prec::Sum)), Prec::Atom),
            Op::UsizeArith(op) => {
                let sign = match op {
                    UsizeOp::Add => "+",
                    UsizeOp::Sub => "-",
                    UsizeOp::Mul => "*",
                    UsizeOp::Div => "/",
                };
                self.infix(a(0), sign, a(1))
            }
            Op::ScalarArith(op) | Op::Binary(op) => match shape::bin_sign(*op) {
                Some(sign) => self.infix(a(0), sign, a(1)),
                None if *op == BinOp::Maximum => self.call("max", &n.args),
                None => self.call("min", &n.args),
            },
            Op::WithScalar(op) => match op {
                ScalarOp::Add => self.infix(a(0), "+", a(1)),
                ScalarOp::Sub => self.infix(a(0), "-", a(1)),
                ScalarOp::RSub => self.infix(a(1), "-", a(0)),
                // `0.5 x` for a constant factor, `x * c` for a named one.
                ScalarOp::Mul if matches!(g.nodes[a(1)].op, Op::Const(_)) => {
                    prod(atom(1), self.arg(a(0), Prec::Product))
                }
                ScalarOp::Mul => self.infix(a(0), "*", a(1)),
                ScalarOp::Div => self.infix(a(0), "/", a(1)),
                ScalarOp::RDiv => self.infix(a(1), "/", a(0)),
            },
            Op::Elementwise(e) => match e.name {
                "neg" => (format!("-{}", self.arg(a(0), Prec::Unary)), Prec::Unary),
                "square" => (format!("{}^2", atom(0)), Prec::Atom),
                "powi" | "powf" => (format!("{}^{}", atom(0), atom(1)), Prec::Atom),
                "recip" => (format!("1 / {}", atom(0)), Prec::Product),
                name => self.call(name, &n.args),
            },
            Op::Compare(c) => {
                let l = self.arg(a(0), Prec::Sum);
                let r = self.arg(a(1), Prec::Sum);
                (format!("{l} {} {r}", compare(*c)), Prec::Compare)
            }
            Op::Where => {
                let m = self.value(a(0)).0;
                let (x, y) = (self.arg(a(1), Prec::Sum), self.arg(a(2), Prec::Sum));
                (format!("where({m}, {x}, {y})"), Prec::Atom)
            }
            Op::Concat(k) => self.call(&format!("concat_axis{k}"), &n.args),
            Op::StopGradient => self.call("stop_gradient", &n.args),
            Op::Unavailable => ("unavailable".to_string(), Prec::Atom),
            // A call of another `#[differentiable]` function, and its results.
            Op::Call(c) => self.call(&c.name, &n.args),
            Op::CallOutput(k) => (format!("{}[{k}]", self.arg(a(0), Prec::Atom)), Prec::Atom),
            Op::CallSaved => self.call("saved", &n.args),
            Op::ShapeOf if n.args.len() == 1 => self.call("shape", &n.args),
            Op::ShapeOf => self.call("broadcast_shape", &n.args),
            Op::Prim(p, attr) => {
                let k = attr.axis().unwrap_or(0);
                match p.name {
                    "dot_mm" | "dot_mv" | "dot_vm" | "matmul_batched" | "matmul_shared" => {
                        prod(self.arg(a(0), Prec::Product), self.arg(a(1), Prec::Unary))
                    }
                    "dot_vv" => prod(format!("{}^T", atom(0)), self.arg(a(1), Prec::Unary)),
                    "transpose" => (format!("{}^T", atom(0)), Prec::Atom),
                    "sum" | "mean" | "flatten" | "max_pool2" | "conv2d" | "pick" | "rows" => {
                        self.call(p.name, &n.args)
                    }
                    "slice_axis" => {
                        let (s, e) = (self.arg(a(1), Prec::Sum), self.arg(a(2), Prec::Sum));
                        (format!("{}[axis {k}: {s}..{e}]", atom(0)), Prec::Atom)
                    }
                    name if name.ends_with("_axis") => self.call(&format!("{name}{k}"), &n.args),
                    name => self.call(&format!("{name}_axis{k}"), &n.args),
                }
            }
            Op::Grad(gop) => self.grad(v, gop),
            Op::Fused(_) => self.call("fused", &n.args),
        }
    }

    fn infix(&self, l: ValueId, sign: &str, r: ValueId) -> Expr {
        // `a + -b` is `a - b`.
        let rn = &self.g.nodes[r];
        let named = self.stmt_names.contains_key(&r) || (!rn.backward && rn.name.is_some());
        let neg = match &rn.op {
            Op::Elementwise(e) if e.name == "neg" => Some(rn.args[0]),
            Op::Grad(GradOp::ElementwiseGrad(e)) if e.name == "neg" => rn.args.last().copied(),
            _ => None,
        };
        if sign == "+"
            && !named
            && let Some(inner) = neg
        {
            return (
                format!(
                    "{} - {}",
                    self.arg(l, Prec::Sum),
                    self.arg(inner, Prec::Product)
                ),
                Prec::Sum,
            );
        }
        if sign == "+"
            && let (right, Prec::Unary) = self.value(r)
            && let Some(negated) = right.strip_prefix('-')
        {
            return (format!("{} - {negated}", self.arg(l, Prec::Sum)), Prec::Sum);
        }
        let (prec, left_min, right_min) = match sign {
            "+" => (Prec::Sum, Prec::Sum, Prec::Sum),
            "-" => (Prec::Sum, Prec::Sum, Prec::Product),
            "*" => (Prec::Product, Prec::Product, Prec::Product),
            _ => (Prec::Product, Prec::Product, Prec::Unary),
        };
        (
            format!(
                "{} {sign} {}",
                self.arg(l, left_min),
                self.arg(r, right_min)
            ),
            prec,
        )
    }

    /// A backward op.
    fn grad(&self, v: ValueId, gop: &GradOp) -> Expr {
        let g = self.g;
        let n = &g.nodes[v];
        let a = |i: usize| n.args[i];
        let atom = |i: usize| self.arg(a(i), Prec::Atom);
        let times = |l: String, r: String| (format!("{l} * {r}"), Prec::Product);
        // What a `Shape` argument is the shape of: `x` for `shape(x)`.
        let shape_of = |i: usize| {
            let s = &g.nodes[a(i)];
            match (&s.op, s.args.as_slice()) {
                (Op::ShapeOf, [x]) => self.arg(*x, Prec::Sum),
                _ => self.arg(a(i), Prec::Sum),
            }
        };
        match gop {
            GradOp::Seed(k) => {
                let name = if g.outputs.len() == 1 {
                    "dout".to_string()
                } else {
                    format!("dout{k}")
                };
                (name, Prec::Atom)
            }
            GradOp::Zeros => ("0".to_string(), Prec::Atom),
            // Between shapes the analysis finds equal, `sum_to` is the identity.
            GradOp::SumTo if same_shape(&self.shapes, a(0), a(1)) => self.value(a(0)),
            GradOp::SumTo => {
                let from = match g.ty(a(0)) {
                    Ty::Float(r) => r,
                    _ => 0,
                };
                let to = match g.ty(a(1)) {
                    Ty::Shape(r) => r,
                    _ => 0,
                };
                if from == to + 1 {
                    (
                        format!("sum_axis0({})", self.arg(a(0), Prec::Sum)),
                        Prec::Atom,
                    )
                } else {
                    let x = self.arg(a(0), Prec::Sum);
                    (format!("sum_to({x}, shape({}))", shape_of(1)), Prec::Atom)
                }
            }
            GradOp::MaskBy(c) => {
                let (l, r) = (self.arg(a(0), Prec::Sum), self.arg(a(1), Prec::Sum));
                (format!("1[{l} {} {r}]", compare(*c)), Prec::Atom)
            }
            GradOp::MaskGrad(keep) => {
                let mask = self.mask(a(0), *keep);
                times(self.arg(a(1), Prec::Product), mask)
            }
            // The callee's own backward, and the gradient it gives argument `i`.
            GradOp::CallBackward => self.call("backward", &n.args),
            GradOp::CallGrad(i) => (format!("{}[{i}]", self.arg(a(0), Prec::Atom)), Prec::Atom),
            GradOp::ConcatGrad(axis, i) => (
                format!("split_axis{axis}({})[{i}]", self.arg(a(0), Prec::Sum)),
                Prec::Atom,
            ),
            GradOp::ElementwiseGrad(e) => {
                use backprop_spec::Uses;
                let np = e.params.len();
                let gi = n.args.len() - np - 1;
                let (xi, yi) = match e.uses {
                    Some(Uses::X) => (Some(0), None),
                    Some(Uses::Y) => (None, Some(0)),
                    Some(Uses::XY) => (Some(0), Some(1)),
                    None => (None, None),
                };
                let x = || xi.map_or_else(|| "x".to_string(), atom);
                let y = || yi.map_or_else(|| "y".to_string(), atom);
                // As an argument of a call or inside `1[...]`.
                let xs = || xi.map_or_else(|| "x".to_string(), |i| self.arg(a(i), Prec::Sum));
                let p = |k: usize| atom(gi + 1 + k);
                let gp = self.arg(a(gi), Prec::Product);
                let factor = |f: String| times(f, gp.clone());
                match e.name {
                    "neg" => (format!("-{}", self.arg(a(gi), Prec::Unary)), Prec::Unary),
                    "exp" => factor(y()),
                    "ln" => (format!("{} / {}", gp, x()), Prec::Product),
                    "sqrt" => (format!("{gp} / (2 {})", y()), Prec::Product),
                    "abs" => factor(format!("sign({})", xs())),
                    "square" => factor(format!("2 {}", x())),
                    "powi" | "powf" => factor(format!("{} {}^({} - 1)", p(0), x(), p(0))),
                    "recip" => (format!("-{}^2 * {gp}", y()), Prec::Unary),
                    "sigmoid" => factor(format!("{} (1 - {})", y(), y())),
                    "tanh" => factor(format!("(1 - {}^2)", y())),
                    "relu" => times(gp.clone(), format!("1[{} > 0]", xs())),
                    "leaky_relu" => times(
                        gp.clone(),
                        format!("(1[{x} > 0] + {} 1[{x} <= 0])", p(0), x = xs()),
                    ),
                    "elu" => times(
                        gp.clone(),
                        format!("(1[{x} > 0] + ({} + {}) 1[{x} <= 0])", y(), p(0), x = xs()),
                    ),
                    "softplus" => factor(format!("sigmoid({})", xs())),
                    "sin" => factor(format!("cos({})", xs())),
                    "cos" => (format!("-sin({}) * {gp}", xs()), Prec::Unary),
                    "clip" => times(
                        gp.clone(),
                        format!("1[{} < {x} < {}]", p(0), p(1), x = xs()),
                    ),
                    "huber" => factor(format!("clip({}, -{d}, {d})", xs(), d = p(0))),
                    name => {
                        let at = match (xi, yi) {
                            (Some(_), _) => xs(),
                            (None, Some(i)) => self.arg(a(i), Prec::Sum),
                            (None, None) => "x".to_string(),
                        };
                        factor(format!("{name}'({at})"))
                    }
                }
            }
            GradOp::PrimGrad(p, i, attr) => {
                let k = attr.axis().unwrap_or(0);
                let op = |l: String, r: String| (format!("{l} {r}"), Prec::Product);
                let t = |i: usize| format!("{}^T", atom(i));
                let left = |i: usize| self.arg(a(i), Prec::Product);
                let right = |i: usize| self.arg(a(i), Prec::Unary);
                match (p.name, *i) {
                    // C = A B: dA = G B^T, dB = A^T G (the reads are [g, b] and [a, g]).
                    ("dot_mm" | "matmul_batched" | "matmul_shared", 0) => op(left(0), t(1)),
                    ("dot_mm" | "matmul_batched" | "matmul_shared", 1) => op(t(0), right(1)),
                    // y = A v: dA = g v^T, dv = A^T g (the reads are [g, v] and [g, a]).
                    ("dot_mv", 0) => op(left(0), t(1)),
                    ("dot_mv", 1) => op(t(1), right(0)),
                    // y = v A: dv = A g, dA = v g^T.
                    ("dot_vm", 0) => op(left(0), right(1)),
                    ("dot_vm", 1) => op(left(0), t(1)),
                    // y = u . v: du = g v, dv = g u.
                    ("dot_vv", _) => op(left(0), right(1)),
                    ("transpose", _) => (format!("{}^T", atom(0)), Prec::Atom),
                    ("sum", _) => (
                        format!("broadcast({})", self.arg(a(0), Prec::Sum)),
                        Prec::Atom,
                    ),
                    ("mean", _) => (
                        format!(
                            "broadcast({}) / size({})",
                            self.arg(a(0), Prec::Sum),
                            shape_of(1)
                        ),
                        Prec::Product,
                    ),
                    ("sum_axis", _) => (
                        format!(
                            "broadcast_axis{k}({}, shape({}))",
                            self.arg(a(0), Prec::Sum),
                            shape_of(1)
                        ),
                        Prec::Atom,
                    ),
                    ("mean_axis", _) => (
                        format!(
                            "broadcast_axis{k}({}, shape({x})) / len{k}({x})",
                            self.arg(a(0), Prec::Sum),
                            x = shape_of(1)
                        ),
                        Prec::Product,
                    ),
                    // reads [x, y, g]
                    ("max_axis", _) => times(
                        format!("broadcast_axis{k}({})", self.arg(a(2), Prec::Sum)),
                        format!(
                            "1[{} == {}]",
                            self.arg(a(0), Prec::Sum),
                            self.arg(a(1), Prec::Sum)
                        ),
                    ),
                    ("logsumexp", _) => times(
                        format!("broadcast_axis{k}({})", self.arg(a(2), Prec::Sum)),
                        format!(
                            "exp({} - {})",
                            self.arg(a(0), Prec::Sum),
                            self.arg(a(1), Prec::Product)
                        ),
                    ),
                    // reads [y, g]: dx = y * (g - sum(g * y)) along the axis.
                    ("softmax", _) => times(
                        atom(0),
                        format!(
                            "({g} - sum_axis{k}({g} * {y}))",
                            g = self.arg(a(1), Prec::Product),
                            y = self.arg(a(0), Prec::Product)
                        ),
                    ),
                    // reads [y, g]: dx = g - exp(y) sum(g) along the axis.
                    ("log_softmax", _) => (
                        format!(
                            "{} - exp({}) * sum_axis{k}({})",
                            self.arg(a(1), Prec::Sum),
                            self.arg(a(0), Prec::Sum),
                            self.arg(a(1), Prec::Sum)
                        ),
                        Prec::Sum,
                    ),
                    _ => {
                        let name = p.grads.get(*i).map_or(p.name, |gr| gr.kernel.name);
                        let name = if attr.axis().is_some() {
                            format!("{name}_axis{k}")
                        } else {
                            name.to_string()
                        };
                        self.call(&name, &n.args)
                    }
                }
            }
        }
    }

    /// `1[a > b]` for a mask that is a comparison (its negation when not
    /// `keep`), `1[m]` or `1[not m]` for another.
    fn mask(&self, m: ValueId, keep: bool) -> String {
        let n = &self.g.nodes[m];
        if let (Op::Compare(c), [l, r]) = (&n.op, n.args.as_slice()) {
            let c = if keep { *c } else { negate(*c) };
            let (l, r) = (self.arg(*l, Prec::Sum), self.arg(*r, Prec::Sum));
            return format!("1[{l} {} {r}]", compare(c));
        }
        let m = self.value(m).0;
        if keep {
            format!("1[{m}]")
        } else {
            format!("1[not {m}]")
        }
    }
}

/// Whether two values have shapes the analysis derived in full and found equal.
fn same_shape(shapes: &[shape::Shape], a: ValueId, b: ValueId) -> bool {
    match (&shapes[a], &shapes[b]) {
        (Some(x), Some(y)) => x == y && x.iter().all(|d| *d != shape::Dim::Unknown),
        _ => false,
    }
}

/// The backward of a graph as math statements.
pub fn backward_math(g: &Graph) -> String {
    Printer::new(g).statements()
}

fn compare(c: Compare) -> &'static str {
    match c {
        Compare::Gt => ">",
        Compare::Ge => ">=",
        Compare::Lt => "<",
        Compare::Le => "<=",
        Compare::Eq => "==",
        Compare::Ne => "!=",
    }
}

fn negate(c: Compare) -> Compare {
    match c {
        Compare::Gt => Compare::Le,
        Compare::Ge => Compare::Lt,
        Compare::Lt => Compare::Ge,
        Compare::Le => Compare::Gt,
        Compare::Eq => Compare::Ne,
        Compare::Ne => Compare::Eq,
    }
}

/// A float literal as math writes it: `1`, `0.5`, `-2`.
pub fn number(c: f64) -> String {
    if c.fract() == 0.0 && c.abs() < 1e15 {
        format!("{}", c as i64)
    } else {
        format!("{c}")
    }
}
