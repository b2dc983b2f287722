//! Shapes read from the first value known to have them: `shape(v)` is
//! `shape(u)` when `u` and `v` are in one shape class (`shapes`). Reading the
//! shape of an input instead of a temporary's lets the temporary be fused away
//! (a loop's result whose only other reader was its `raw_dim()`), and CSE then
//! merges the shapes of one class into one saved value. The shape of a
//! broadcast (`x - &mu`) is read as the broadcast of the shapes it comes from,
//! so that no temporary is kept only for its `raw_dim()`.

use crate::ir::{Graph, Op, Ty};

use super::shapes::shape_classes_and_leaves;

pub(crate) fn read_shapes_early(g: &mut Graph) {
    let (class, leaves) = shape_classes_and_leaves(g);
    // A class's first node is an array of its shape (not a shape value), usable
    // by node `id` if it is of the same pass or before it.
    let usable = |g: &Graph, id: usize, first: usize| {
        matches!(g.ty(first), Ty::Float(_) | Ty::Int(_) | Ty::Mask(_))
            && (g.nodes[id].backward || !g.nodes[first].backward)
    };
    for id in 0..g.nodes.len() {
        if !matches!(g.nodes[id].op, Op::ShapeOf) || g.nodes[id].args.len() != 1 {
            continue;
        }
        let arg = g.nodes[id].args[0];
        let first = class[arg];
        // The shape of a broadcast is the broadcast of its leaves' shapes.
        if let Some(parts) = leaves.get(&first)
            && parts.iter().all(|&p| usable(g, id, p))
        {
            g.nodes[id].args = parts.clone();
        } else if first != arg && usable(g, id, first) {
            g.nodes[id].args[0] = first;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::Op;
    use crate::opt::tests::compiled;

    /// The shape of `x - &mu` is read as the broadcast of the inputs' shapes.
    #[test]
    fn the_shape_of_a_broadcast_is_read_from_what_it_broadcasts() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, mu: ArrayView1<T>) -> T { (tanh(x - &mu) * 2.0).sum() }",
            "",
        );
        super::read_shapes_early(&mut g);
        g.verify().expect("verified");
        let shapes: Vec<_> = g
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::ShapeOf))
            .collect();
        assert!(shapes.iter().any(|n| n.args.len() == 2), "{g}");
        for n in shapes {
            assert!(
                n.args
                    .iter()
                    .all(|&a| matches!(g.nodes[a].op, Op::Input(_))),
                "{g}"
            );
        }
    }

    #[test]
    fn the_shape_of_a_chain_is_read_from_its_input() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>) -> T { (tanh(x) * 2.0).sum() }",
            "",
        );
        super::read_shapes_early(&mut g);
        g.verify().expect("verified");
        for n in g.nodes.iter().filter(|n| matches!(n.op, Op::ShapeOf)) {
            assert!(matches!(g.nodes[n.args[0]].op, Op::Input(_)), "{g}");
        }
    }
}
