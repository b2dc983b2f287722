//! Rematerialization: the backward recomputes an elementwise forward value from
//! what it is made of instead of reading it saved, when what it is made of is at
//! hand anyway (inputs, constants, and smaller arrays such as a mean along an
//! axis). An op is pure, so recomputing it gives the same value; a saved array
//! costs a write, a read and its memory for the time between the passes, while
//! recomputing it inside the backward's fused loop costs a few instructions per
//! element. Values made from larger computations (a matrix product) stay saved.

use std::collections::HashMap;

use crate::ir::{Graph, Node, Op, Ty, ValueId};

/// Whether forward node `v` can be recomputed from values the backward has anyway:
/// an elementwise op whose operands are inputs, scalars, shapes, arrays of a lower
/// rank, or themselves such values (memoized in `memo`).
fn recomputable(g: &Graph, v: ValueId, memo: &mut HashMap<ValueId, bool>) -> bool {
    if let Some(&known) = memo.get(&v) {
        return known;
    }
    let n = &g.nodes[v];
    let rank = match n.ty {
        Ty::Float(r) | Ty::Mask(r) if r > 0 => r,
        _ => return false,
    };
    let ok = !n.backward
        && n.op.is_elementwise()
        && !n.op.is_stretch()
        && n.args.iter().all(|&a| {
            let arg = &g.nodes[a];
            matches!(arg.op, Op::Input(_) | Op::Const(_))
                || !matches!(arg.ty, Ty::Float(_) | Ty::Mask(_))
                || arg.ty.rank() < Some(rank)
                || (arg.ty.rank() == Some(rank) && recomputable(g, a, memo))
        });
    memo.insert(v, ok);
    ok
}

pub(crate) fn rematerialize(g: &mut Graph) {
    let n = g.nodes.len();
    let mut memo = HashMap::new();
    // The copy of each recomputed forward value, appended after the graph.
    let mut copy: HashMap<ValueId, ValueId> = HashMap::new();
    let mut appended: Vec<Node> = Vec::new();
    for id in 0..n {
        if !g.nodes[id].backward {
            continue;
        }
        for k in 0..g.nodes[id].args.len() {
            let a = g.nodes[id].args[k];
            if recomputable(g, a, &mut memo) {
                let c = copy_of(g, a, n, &mut copy, &mut appended, &mut memo);
                g.nodes[id].args[k] = c;
            }
        }
    }
    if appended.is_empty() {
        return;
    }
    // The forward first (it never reads the backward), then the copies, which
    // read only forward values and each other, then the backward, which reads them.
    let count = appended.len();
    let (forward, backward): (Vec<ValueId>, Vec<ValueId>) =
        (0..n).partition(|&v| !g.nodes[v].backward);
    g.nodes.extend(appended);
    let order: Vec<ValueId> = forward
        .into_iter()
        .chain(n..n + count)
        .chain(backward)
        .collect();
    super::reorder(g, &order);
}

/// The backward copy of forward value `v` (made once), whose recomputable
/// operands are copies too.
fn copy_of(
    g: &Graph,
    v: ValueId,
    base: usize,
    copy: &mut HashMap<ValueId, ValueId>,
    appended: &mut Vec<Node>,
    memo: &mut HashMap<ValueId, bool>,
) -> ValueId {
    if let Some(&c) = copy.get(&v) {
        return c;
    }
    let mut node = g.nodes[v].clone();
    node.backward = true;
    let rank = node.ty.rank();
    for a in node.args.iter_mut() {
        if g.ty(*a).rank() == rank && recomputable(g, *a, memo) {
            *a = copy_of(g, *a, base, copy, appended, memo);
        }
    }
    let id = base + appended.len();
    appended.push(node);
    copy.insert(v, id);
    id
}

#[cfg(test)]
mod tests {
    use crate::ir::Graph;
    use crate::opt::tests::compiled;

    /// Forward values the backward reads.
    fn saved(g: &Graph) -> Vec<String> {
        let mut names: Vec<String> = g
            .nodes
            .iter()
            .filter(|n| n.backward)
            .flat_map(|n| n.args.iter().copied())
            .filter(|&a| !g.nodes[a].backward && g.ty(a).rank() > Some(0))
            .map(|a| g.nodes[a].op.name())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn recomputes_what_inputs_give_and_keeps_what_a_product_gives() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>) -> T {
                (sigmoid(x * 1.5) * tanh(x.dot(&w))).sum()
            }",
            "",
        );
        assert!(saved(&g).contains(&"sigmoid".to_string()), "{g}");
        super::rematerialize(&mut g);
        g.verify().expect("verified");
        let s = saved(&g);
        // sigmoid(x * 1.5) is recomputed from x; tanh of a product stays saved.
        assert!(!s.contains(&"sigmoid".to_string()), "{s:?}\n{g}");
        assert!(s.contains(&"tanh".to_string()), "{s:?}\n{g}");
    }
}
