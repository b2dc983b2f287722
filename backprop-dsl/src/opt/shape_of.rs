//! Shapes read from the first value known to have them: `shape(v)` is
//! `shape(u)` when `u` and `v` are in one shape class (`shapes`). Reading the
//! shape of an input instead of a temporary's lets the temporary be fused away
//! (a loop's result whose only other reader was its `raw_dim()`), and CSE then
//! merges the shapes of one class into one saved value.

use crate::ir::{Graph, Op, Ty};

use super::shapes::shape_classes;

pub(crate) fn read_shapes_early(g: &mut Graph) {
    let class = shape_classes(g);
    for id in 0..g.nodes.len() {
        if !matches!(g.nodes[id].op, Op::ShapeOf) {
            continue;
        }
        let arg = g.nodes[id].args[0];
        let first = class[arg];
        // The class's first node is an array of that shape (not a shape value),
        // of the same pass or before it.
        let usable = matches!(g.ty(first), Ty::Float(_) | Ty::Int(_))
            && (g.nodes[id].backward || !g.nodes[first].backward);
        if first != arg && usable {
            g.nodes[id].args[0] = first;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::Op;
    use crate::opt::tests::compiled;

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
