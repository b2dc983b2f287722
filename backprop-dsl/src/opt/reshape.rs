//! No-op reshapes: `sum_to(g, shape of x)` and `broadcast_to(g, shape of x)` (the
//! derivative of `sum`, and any derivative marked `reshape_only`) are the
//! identity when `g` is known to have `x`'s shape (`shapes`). The derivative
//! pass undoes every broadcast with `sum_to`; this pass keeps only those that sum.

use crate::ir::{GradOp, Graph, Op};

use super::shapes::shape_classes;

pub(crate) fn remove_noop_reshapes(g: &mut Graph) {
    let class = shape_classes(g);
    let n = g.nodes.len();
    let mut replace: Vec<usize> = (0..n).collect();
    for (id, node) in g.nodes.iter().enumerate() {
        // sum_to(g, shape(g)) = g, and so for every derivative that only reshapes
        // its gradient to the argument's shape (broadcast_to for `sum`); the
        // node's class is that of the shape it reshapes to
        let reshape = match &node.op {
            Op::Grad(GradOp::SumTo) => true,
            Op::Grad(GradOp::PrimGrad(p, i, _)) => p.grads.get(*i).is_some_and(|g| g.reshape_only),
            _ => false,
        };
        if reshape && class[node.args[0]] == class[id] {
            replace[id] = node.args[0];
        }
    }
    super::rebuild(g, &replace, &vec![true; n]);
}

#[cfg(test)]
mod tests {
    use crate::opt::tests::{compiled, count};

    #[test]
    fn keeps_only_the_sums_that_undo_a_broadcast() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> { tanh(x * 2.0) * x + &b }",
            "",
        );
        assert_eq!(count(&g, "SumTo"), 4, "{g}");
        super::remove_noop_reshapes(&mut g);
        g.verify().expect("verified");
        // The product's two sums go: `tanh(x * 2.0)` and `x` have x's shape, and so
        // has their product. The add's two stay: b's undoes a broadcast, and
        // `[n, 1] + [m]` is `[n, m]`, so without the sizes the add's output is not
        // known to have the shape of its larger operand.
        assert_eq!(count(&g, "SumTo"), 2, "{g}");
    }
}
