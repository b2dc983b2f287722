//! Common-subexpression elimination: two nodes with the same op and the same
//! arguments compute the same value (every op is pure), so the later one is
//! replaced by the earlier. Forward and backward nodes are merged only within
//! their own pass, so that what the backward saves does not change.

use std::collections::HashMap;

use crate::ir::{GradOp, Graph, Op, ValueId};

pub(crate) fn eliminate_common_subexpressions(g: &mut Graph) {
    let n = g.nodes.len();
    let mut replace: Vec<ValueId> = (0..n).collect();
    let mut seen: HashMap<(String, Vec<ValueId>, bool), ValueId> = HashMap::new();
    // The key holds the type too, so that a merge never changes a node's type.
    for id in 0..n {
        let node = &g.nodes[id];
        // Inputs and upstream gradients are distinct values even when they look alike.
        if matches!(node.op, Op::Input(_) | Op::Grad(GradOp::Seed(_))) {
            continue;
        }
        // Arguments through earlier replacements, so chains merge in one sweep.
        let args: Vec<ValueId> = node.args.iter().map(|&a| replace[a]).collect();
        // The op's printed form is its identity: variants, axes, constants and the
        // elementwise table entry all show in it.
        let key = (format!("{:?} {:?}", node.op, node.ty), args, node.backward);
        match seen.get(&key) {
            Some(&earlier) => replace[id] = earlier,
            None => {
                seen.insert(key, id);
            }
        }
    }
    super::rebuild(g, &replace, &vec![true; n]);
}

#[cfg(test)]
mod tests {
    use crate::opt::tests::{compiled, count};

    #[test]
    fn merges_the_same_computation() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { let a = tanh(x); let b = tanh(x); a * b }",
            "",
        );
        assert_eq!(count(&g, "tanh"), 2);
        super::eliminate_common_subexpressions(&mut g);
        g.verify().expect("verified");
        assert_eq!(count(&g, "tanh"), 1, "{g}");
    }
}
