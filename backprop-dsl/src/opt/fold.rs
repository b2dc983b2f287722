//! Arithmetic identities. Each rewrite replaces a node by one of its arguments:
//!
//! - `x * 1 = x`, `x / 1 = x`, `x + 0 = x`, `x - 0 = x` for an array `x` and a
//!   constant scalar (the result has `x`'s shape, as broadcasting a scalar keeps it);
//! - `-(-x) = x` (the derivative of `a - (-b)` makes one).
//!
//! Arithmetic on constants is computed by the checker already, where the checks
//! of constant bounds need the values.

use crate::ir::{Graph, Op, ScalarOp, ValueId};

pub(crate) fn fold(g: &mut Graph) {
    let n = g.nodes.len();
    let mut replace: Vec<ValueId> = (0..n).collect();
    for id in 0..n {
        let args: Vec<ValueId> = g.nodes[id].args.iter().map(|&a| replace[a]).collect();
        let constant = |v: ValueId| match g.nodes[v].op {
            Op::Const(c) => Some(c),
            _ => None,
        };
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
}
