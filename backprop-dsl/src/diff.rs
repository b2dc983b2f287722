//! Stage 4: reverse-mode differentiation. A sweep from the outputs back to the
//! inputs appends backward nodes to the graph: one rule per forward op, all in
//! `rule`. Gradients always accumulate: a value used twice gets the sum of
//! both contributions. Only values that depend on an input wanting a gradient,
//! and that reach an output, are differentiated, so no code is generated for
//! gradients nobody needs. Rules stay simple (every broadcast is undone with a
//! `sum_to`); the passes of [`crate::opt`] remove what is not needed.

use std::collections::HashMap;

use backprop_spec::{Compare, Elementwise, Uses};

use crate::ir::{BinOp, GradOp, Graph, Node, Op, ScalarOp, Ty, ValueId};
use crate::ops::Read;

/// Appends the backward pass to `g` and fills `g.grads`.
pub fn differentiate(g: &mut Graph) {
    let forward_len = g.nodes.len();
    let needs = needs_grad(g);
    let mut d = Diff {
        g,
        contributions: HashMap::new(),
        shapes: HashMap::new(),
        grad_of: HashMap::new(),
        call_upstream: HashMap::new(),
    };
    for (k, &out) in d.g.outputs.clone().iter().enumerate() {
        if needs[out] {
            // An array's upstream gradient is checked against the output's shape
            // (the shape analysis of the passes relies on it); a scalar's is a scalar.
            let reads = if d.g.sig.outputs.get(k).is_some_and(|o| o.scalar) {
                vec![]
            } else {
                vec![d.shape_of(out)]
            };
            let seed = d.push(Op::Grad(GradOp::Seed(k)), reads, d.g.ty(out), out);
            d.contribute(out, seed);
        }
    }
    for v in (0..forward_len).rev() {
        if !needs[v] {
            continue;
        }
        // A call returning a tuple gets its results' gradients from their `CallOutput`s.
        if let Op::Call(c) = &d.g.nodes[v].op
            && c.tuple
        {
            if let Some(upstream) = d.call_upstream.remove(&v) {
                call_rule(&mut d, v, upstream, &needs);
            }
            continue;
        }
        let Some(grad) = d.accumulate(v) else {
            continue;
        };
        d.grad_of.insert(v, grad);
        rule(&mut d, v, grad, &needs);
    }
    let grads =
        d.g.inputs
            .clone()
            .iter()
            .map(|input| {
                input.wants_grad.then(|| match d.grad_of.get(&input.node) {
                    Some(&gv) => gv,
                    // An input the outputs do not depend on gets a zero gradient of its shape.
                    None => {
                        let shape = d.shape_of(input.node);
                        d.push(Op::Grad(GradOp::Zeros), vec![shape], input.ty, input.node)
                    }
                })
            })
            .collect();
    d.g.grads = grads;
    let mut grad_of: Vec<(ValueId, ValueId)> = d.grad_of.into_iter().collect();
    grad_of.sort_unstable();
    g.grad_of = grad_of;
}

/// Which forward values a gradient must be computed for: those that depend on an
/// input wanting a gradient and that some output depends on through ops other than
/// `stop_gradient`. The checker uses it too, to reject ops without a derivative there.
pub fn needs_grad(g: &Graph) -> Vec<bool> {
    let n = g.nodes.len();
    let mut from_input = vec![false; n];
    for (id, node) in g.nodes.iter().enumerate() {
        from_input[id] = match node.op {
            Op::Input(i) => g.inputs[i].wants_grad,
            Op::StopGradient | Op::Compare(_) | Op::LenOf(_) => false,
            _ => {
                matches!(node.ty, Ty::Float(_) | Ty::Tuple(_))
                    && node.args.iter().any(|&a| from_input[a])
            }
        };
    }
    let mut to_output = vec![false; n];
    for &o in &g.outputs {
        to_output[o] = true;
    }
    // No gradient flows back through `stop_gradient`.
    for id in (0..n).rev() {
        if to_output[id] && !matches!(g.nodes[id].op, Op::StopGradient) {
            for &a in &g.nodes[id].args {
                to_output[a] = true;
            }
        }
    }
    (0..n).map(|i| from_input[i] && to_output[i]).collect()
}

struct Diff<'g> {
    g: &'g mut Graph,
    /// Gradient contributions received so far, per forward value.
    contributions: HashMap<ValueId, Vec<ValueId>>,
    /// One `ShapeOf` node per forward value whose shape the backward needs.
    shapes: HashMap<ValueId, ValueId>,
    /// The accumulated gradient of each differentiated forward value.
    grad_of: HashMap<ValueId, ValueId>,
    /// For a call returning a tuple, the gradient of each of its results met so far.
    call_upstream: HashMap<ValueId, Vec<Option<ValueId>>>,
}

impl Diff<'_> {
    /// Appends a backward node attributed to the statement of forward value `from`.
    fn push(&mut self, op: Op, args: Vec<ValueId>, ty: Ty, from: ValueId) -> ValueId {
        let (span, stmt) = (self.g.nodes[from].span, self.g.nodes[from].stmt);
        let text = self.g.nodes[from].text.clone();
        self.g.push(Node {
            op,
            args,
            ty,
            span,
            text,
            stmt,
            name: None,
            backward: true,
        })
    }

    /// The shape of forward value `v`. It is computed in the forward pass and saved,
    /// so the backward keeps a shape instead of a whole array.
    fn shape_of(&mut self, v: ValueId) -> ValueId {
        if let Some(&s) = self.shapes.get(&v) {
            return s;
        }
        let rank = self.g.ty(v).rank().unwrap_or(0);
        let s = self.forward_of(v, Op::ShapeOf, Ty::Shape(rank));
        self.shapes.insert(v, s);
        s
    }

    /// Appends a forward node reading forward value `v` alone, which only the
    /// backward needs (a shape, a call's saved state).
    fn forward_of(&mut self, v: ValueId, op: Op, ty: Ty) -> ValueId {
        let (span, stmt) = (self.g.nodes[v].span, self.g.nodes[v].stmt);
        let text = self.g.nodes[v].text.clone();
        self.g.push(Node {
            op,
            args: vec![v],
            ty,
            span,
            text,
            stmt,
            name: None,
            backward: false,
        })
    }

    fn contribute(&mut self, to: ValueId, grad: ValueId) {
        self.contributions.entry(to).or_default().push(grad);
    }

    /// The sum of all contributions to `v`, or `None` if it received none.
    fn accumulate(&mut self, v: ValueId) -> Option<ValueId> {
        let parts = self.contributions.remove(&v)?;
        let mut iter = parts.into_iter();
        let first = iter.next()?;
        let ty = self.g.ty(v);
        Some(iter.fold(first, |acc, p| {
            self.push(Op::Binary(BinOp::Add), vec![acc, p], ty, v)
        }))
    }

    /// `sum_to(g, shape of x)`: undoes broadcasting from the op's output back to
    /// operand `x`. The `noop-reshapes` pass removes it where `x` is known to have
    /// the output's shape.
    fn unbroadcast(&mut self, grad: ValueId, x: ValueId, from: ValueId) -> ValueId {
        let shape = self.shape_of(x);
        self.push(
            Op::Grad(GradOp::SumTo),
            vec![grad, shape],
            self.g.ty(x),
            from,
        )
    }

    fn elementwise(
        &mut self,
        e: &'static Elementwise,
        args: Vec<ValueId>,
        ty: Ty,
        from: ValueId,
    ) -> ValueId {
        self.push(Op::Elementwise(e), args, ty, from)
    }

    fn neg(&mut self, v: ValueId, from: ValueId) -> ValueId {
        let ty = self.g.ty(v);
        self.elementwise(crate::ops::neg(), vec![v], ty, from)
    }

    fn binary(&mut self, op: BinOp, a: ValueId, b: ValueId, ty: Ty, from: ValueId) -> ValueId {
        self.push(Op::Binary(op), vec![a, b], ty, from)
    }
}

/// The derivative rule of forward node `y`, given its accumulated gradient `g`:
/// adds a contribution to each argument that needs one.
fn rule(d: &mut Diff<'_>, y: ValueId, g: ValueId, needs: &[bool]) {
    let node = d.g.nodes[y].clone();
    let args = node.args.clone();
    let wants = |i: usize| needs[args[i]];
    let ty = node.ty;
    match node.op {
        Op::Input(_)
        | Op::Const(_)
        | Op::UsizeConst(_)
        | Op::LenOf(_)
        | Op::UsizeArith(_)
        | Op::ScalarArith(_) => {}
        Op::StopGradient | Op::Compare(_) | Op::Unavailable | Op::CallSaved => {}
        Op::Call(_) => call_rule(d, y, vec![Some(g)], needs),
        // Handed to the call's rule, with its siblings'.
        Op::CallOutput(k) => {
            let call = args[0];
            let n = match &d.g.nodes[call].op {
                Op::Call(c) => c.outputs.len(),
                _ => return,
            };
            let upstream = d.call_upstream.entry(call).or_insert_with(|| vec![None; n]);
            if let Some(slot) = upstream.get_mut(k) {
                *slot = Some(g);
            }
        }
        // d(-x) = -g; otherwise g * dy/dx from the op's derivative kernel.
        Op::Elementwise(e) if e.name == "neg" => {
            let c = d.neg(g, y);
            d.contribute(args[0], c);
        }
        Op::Elementwise(e) => {
            let x = args[0];
            // An op without a derivative has none to give (check rejects it where
            // a gradient would flow through it).
            let Some(uses) = e.uses else { return };
            let mut grad_args = match uses {
                Uses::X => vec![x, g],
                Uses::Y => vec![y, g],
                Uses::XY => vec![x, y, g],
            };
            grad_args.extend_from_slice(&args[1..]);
            let c = d.push(
                Op::Grad(GradOp::ElementwiseGrad(e)),
                grad_args,
                d.g.ty(x),
                y,
            );
            d.contribute(x, c);
        }
        Op::Binary(op) => {
            let (a, b) = (args[0], args[1]);
            let (ta, tb) = (d.g.ty(a), d.g.ty(b));
            // Each contribution is computed at the output's shape, then summed down to the operand's.
            let local = |d: &mut Diff<'_>, for_a: bool| -> ValueId {
                match op {
                    // d(a + b) = g, g
                    BinOp::Add => g,
                    // d(a - b) = g, -g
                    BinOp::Sub if for_a => g,
                    BinOp::Sub => d.neg(g, y),
                    // d(a * b) = g b, g a
                    BinOp::Mul => d.binary(BinOp::Mul, g, if for_a { b } else { a }, ty, y),
                    // d(a / b) = g / b, -g y / b
                    BinOp::Div if for_a => d.binary(BinOp::Div, g, b, ty, y),
                    BinOp::Div => {
                        let yb = d.binary(BinOp::Div, y, b, ty, y);
                        let gyb = d.binary(BinOp::Mul, g, yb, ty, y);
                        d.neg(gyb, y)
                    }
                    // maximum: g goes to a where a >= b, to b where a < b (ties to a)
                    // minimum: g goes to a where a <= b, to b where a > b
                    BinOp::Maximum | BinOp::Minimum => {
                        let cmp = match (op, for_a) {
                            (BinOp::Maximum, true) => Compare::Ge,
                            (BinOp::Maximum, false) => Compare::Lt,
                            (_, true) => Compare::Le,
                            (_, false) => Compare::Gt,
                        };
                        let mask = d.push(Op::Grad(GradOp::MaskBy(cmp)), vec![a, b], ty, y);
                        d.binary(BinOp::Mul, g, mask, ty, y)
                    }
                }
            };
            if wants(0) && matches!(ta, Ty::Float(_)) {
                let c = local(d, true);
                let c = d.unbroadcast(c, a, y);
                d.contribute(a, c);
            }
            if wants(1) && matches!(tb, Ty::Float(_)) {
                let c = local(d, false);
                let c = d.unbroadcast(c, b, y);
                d.contribute(b, c);
            }
        }
        Op::WithScalar(op) => {
            let (a, c) = (args[0], args[1]);
            let contribution = match op {
                // d(a + c) = d(a - c) = g
                ScalarOp::Add | ScalarOp::Sub => g,
                // d(c - a) = -g
                ScalarOp::RSub => d.neg(g, y),
                // d(a * c) = g c, d(a / c) = g / c
                ScalarOp::Mul | ScalarOp::Div => d.push(Op::WithScalar(op), vec![g, c], ty, y),
                // d(c / a) = -g y / a
                ScalarOp::RDiv => {
                    let ya = d.binary(BinOp::Div, y, a, ty, y);
                    let gya = d.binary(BinOp::Mul, g, ya, ty, y);
                    d.neg(gya, y)
                }
            };
            d.contribute(a, contribution);
        }
        Op::Where => {
            let (m, a, b) = (args[0], args[1], args[2]);
            for (i, v, keep) in [(1, a, true), (2, b, false)] {
                if wants(i) && matches!(d.g.ty(v), Ty::Float(_)) {
                    // d where_(m, a, b) = g where m (for a), g where !m (for b)
                    let masked = d.push(Op::Grad(GradOp::MaskGrad(keep)), vec![m, g], ty, y);
                    let c = d.unbroadcast(masked, v, y);
                    d.contribute(v, c);
                }
            }
        }
        // The op's derivatives, as its definition in `crate::ops` gives them.
        Op::Prim(prim, attr) => {
            for (i, rule) in prim.grads.iter().enumerate() {
                let x = args[rule.wrt];
                if !wants(rule.wrt) {
                    continue;
                }
                let reads = rule
                    .reads
                    .iter()
                    .map(|r| match *r {
                        Read::Arg(a) => args[a],
                        Read::Out => y,
                        Read::Grad => g,
                        Read::ShapeOf(a) => d.shape_of(args[a]),
                    })
                    .collect();
                let c = d.push(
                    Op::Grad(GradOp::PrimGrad(prim, i, attr)),
                    reads,
                    d.g.ty(x),
                    y,
                );
                d.contribute(x, c);
            }
        }
        // each part gets its slice of g
        Op::Concat(k) => {
            let shapes: Vec<ValueId> = args.iter().map(|&p| d.shape_of(p)).collect();
            for (i, &p) in args.iter().enumerate() {
                if needs[p] {
                    let mut grad_args = vec![g];
                    grad_args.extend(&shapes);
                    let c = d.push(Op::Grad(GradOp::ConcatGrad(k, i)), grad_args, d.g.ty(p), y);
                    d.contribute(p, c);
                }
            }
        }
        // A shape carries no gradient; backward ops have no rules, since a graph is
        // differentiated once (`verify` keeps them out of the forward pass), and
        // fused loops are made after differentiation.
        Op::ShapeOf | Op::Grad(_) | Op::Fused(_) => {}
    }
}

/// The derivative rule of a call of another `#[differentiable]` function: its
/// own backward, run on what its training forward saved and on the gradient of
/// each result (zeros for a result no output depends on), gives a gradient for
/// each argument by position.
fn call_rule(d: &mut Diff<'_>, call: ValueId, upstream: Vec<Option<ValueId>>, needs: &[bool]) {
    let args = d.g.nodes[call].args.clone();
    let tuple = matches!(d.g.nodes[call].op, Op::Call(ref c) if c.tuple);
    let saved = d.forward_of(call, Op::CallSaved, Ty::Opaque);
    let mut reads = vec![saved];
    for (k, g) in upstream.into_iter().enumerate() {
        let g = match g {
            Some(g) => g,
            None => {
                let result = if tuple {
                    let of_k =
                        |n: &Node| matches!(n.op, Op::CallOutput(j) if j == k) && n.args == [call];
                    match d.g.nodes.iter().position(of_k) {
                        Some(r) => r,
                        None => {
                            let rank = match &d.g.nodes[call].op {
                                Op::Call(c) => c.outputs.get(k).map_or(0, |o| o.rank),
                                _ => 0,
                            };
                            d.forward_of(call, Op::CallOutput(k), Ty::Float(rank))
                        }
                    }
                } else {
                    call
                };
                let shape = d.shape_of(result);
                let ty = d.g.ty(result);
                d.push(Op::Grad(GradOp::Zeros), vec![shape], ty, call)
            }
        };
        reads.push(g);
    }
    let back = d.push(Op::Grad(GradOp::CallBackward), reads, Ty::Opaque, call);
    for (i, &a) in args.iter().enumerate() {
        if needs[a] && matches!(d.g.ty(a), Ty::Float(_)) {
            let c = d.push(Op::Grad(GradOp::CallGrad(i)), vec![back], d.g.ty(a), call);
            d.contribute(a, c);
        }
    }
}
