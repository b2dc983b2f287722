//! Constant folding and arithmetic identities. Each rewrite replaces a node by a
//! value computed at compile time or by one of its arguments:
//!
//! - `c1 op c2` on constants (scalars and sizes) is the constant it computes;
//! - `x * 1 = x`, `x / 1 = x`, `x + 0 = x`, `x - 0 = x` for an array `x` and a
//!   constant scalar (the result has `x`'s shape, as broadcasting a scalar keeps it);
//! - `-(-x) = x`.
//!
//! Constants that fold to infinity or NaN are left to the program, as Rust would:
//! a literal cannot hold them.

use crate::ir::{Graph, Op, ScalarOp, UsizeOp, ValueId};

pub(crate) fn fold(g: &mut Graph) {
    let n = g.nodes.len();
    let mut replace: Vec<ValueId> = (0..n).collect();
    for id in 0..n {
        let args: Vec<ValueId> = g.nodes[id].args.iter().map(|&a| replace[a]).collect();
        let constant = |v: ValueId| match g.nodes[v].op {
            Op::Const(c) => Some(c),
            _ => None,
        };
        let size = |v: ValueId| match g.nodes[v].op {
            Op::UsizeConst(c) => Some(c),
            _ => None,
        };
        let folded: Option<Op> = match &g.nodes[id].op {
            Op::ScalarArith(op) => match (constant(args[0]), constant(args[1])) {
                (Some(a), Some(b)) => Some(op.apply(a, b))
                    .filter(|c| c.is_finite())
                    .map(Op::Const),
                _ => None,
            },
            // Sizes that would underflow or divide by zero are left to fail at run time.
            Op::UsizeArith(op) => match (size(args[0]), size(args[1])) {
                (Some(a), Some(b)) => match op {
                    UsizeOp::Add => a.checked_add(b),
                    UsizeOp::Sub => a.checked_sub(b),
                    UsizeOp::Mul => a.checked_mul(b),
                    UsizeOp::Div => a.checked_div(b),
                }
                .map(Op::UsizeConst),
                _ => None,
            },
            _ => None,
        };
        if let Some(op) = folded {
            // The node becomes the constant, with no arguments left.
            g.nodes[id].op = op;
            g.nodes[id].args.clear();
            continue;
        }
        let identity = match &g.nodes[id].op {
            Op::WithScalar(ScalarOp::Mul | ScalarOp::Div) if constant(args[1]) == Some(1.0) => {
                Some(args[0])
            }
            Op::WithScalar(ScalarOp::Add | ScalarOp::Sub) if constant(args[1]) == Some(0.0) => {
                Some(args[0])
            }
            Op::Elementwise(e) if e.name == "neg" => match &g.nodes[args[0]].op {
                Op::Elementwise(inner) if inner.name == "neg" => {
                    Some(replace[g.nodes[args[0]].args[0]])
                }
                _ => None,
            },
            _ => None,
        };
        // Only within a phase: a backward node never stands for a forward one here.
        if let Some(v) = identity
            && g.nodes[v].backward == g.nodes[id].backward
        {
            replace[id] = v;
        }
    }
    super::rebuild(g, &replace, &vec![true; n]);
}

#[cfg(test)]
mod tests {
    use crate::opt::tests::{compiled, count};

    #[test]
    fn removes_identities_and_double_negation() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { let a = x * 1.0 + 0.0; -(-tanh(a)) }",
            "",
        );
        assert_eq!(count(&g, "neg"), 2 + 2, "{g}");
        super::fold(&mut g);
        g.verify().expect("verified");
        crate::opt::dce::eliminate_dead_values(&mut g);
        assert_eq!(count(&g, "WithScalar"), 0, "{g}");
        assert_eq!(count(&g, "neg"), 0, "{g}");
    }

    #[test]
    fn folds_sizes() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { x.slice_axis(Axis(1), 2 * 3 - 6..4 / 2) }",
            "",
        );
        assert!(count(&g, "UsizeArith") > 0);
        super::fold(&mut g);
        g.verify().expect("verified");
        crate::opt::dce::eliminate_dead_values(&mut g);
        assert_eq!(count(&g, "UsizeArith"), 0, "{g}");
    }
}
