//! Dead-value elimination: a node that no output and no gradient depends on is
//! never read, so dropping it changes nothing (every op is pure). Inputs stay, so
//! the signature does not change.

use crate::ir::{Graph, Op};

pub(crate) fn eliminate_dead_values(g: &mut Graph) {
    let n = g.nodes.len();
    let mut live = vec![false; n];
    let roots = g
        .outputs
        .iter()
        .copied()
        .chain(g.grads.iter().flatten().copied());
    for r in roots {
        live[r] = true;
    }
    for id in (0..n).rev() {
        if live[id] || matches!(g.nodes[id].op, Op::Input(_)) {
            live[id] = true;
            for &a in &g.nodes[id].args {
                live[a] = true;
            }
        }
    }
    let same: Vec<usize> = (0..n).collect();
    super::rebuild(g, &same, &live);
}

#[cfg(test)]
mod tests {
    use crate::opt::tests::{compiled, count};

    #[test]
    fn drops_what_nothing_reads() {
        // `unused` is computed by the checker but read by nothing.
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { let unused = sigmoid(x); tanh(x) }",
            "allow(unused_let)",
        );
        assert_eq!(count(&g, "sigmoid"), 1);
        super::eliminate_dead_values(&mut g);
        g.verify().expect("verified");
        assert_eq!(count(&g, "sigmoid"), 0);
        assert_eq!(count(&g, "tanh"), 1);
        assert_eq!(g.lets[0].value, None);
    }
}
