//! Stage 5: the pass pipeline between differentiation and emission. Each pass is
//! a small rewrite of the graph in a file of its own, each rewrite commented with
//! the identity it relies on; [`PIPELINE`] runs them in a fixed order, and
//! [`Graph::verify`] checks the graph after each one (in debug builds of the
//! compiler and in every test). Passes never fail on a verified graph.
//!
//! The performance work adds fusion and memory planning here, as further passes.

mod cse;
mod dce;
mod fold;
mod fuse;
mod remat;
mod reshape;
mod shape_of;
pub mod shapes;

use crate::ir::{Graph, ValueId};

/// One pass: a name (for printing the IR after it) and the rewrite.
pub struct Pass {
    /// Its name.
    pub name: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
    /// The rewrite.
    pub run: fn(&mut Graph),
}

/// The passes, in the order they run.
pub static PIPELINE: &[Pass] = &[
    Pass {
        name: "noop-reshapes",
        doc: "removes `sum_to` and `broadcast_to` between values known to share a shape",
        run: reshape::remove_noop_reshapes,
    },
    Pass {
        name: "shape-of",
        doc: "reads each saved shape from the first value known to have it",
        run: shape_of::read_shapes_early,
    },
    Pass {
        name: "fold",
        doc: "removes arithmetic identities (`x * 1`, `-(-x)`)",
        run: fold::fold,
    },
    Pass {
        name: "cse",
        doc: "merges nodes that compute the same op on the same arguments",
        run: cse::eliminate_common_subexpressions,
    },
    Pass {
        name: "dce",
        doc: "drops nodes that neither an output nor a gradient depends on",
        run: dce::eliminate_dead_values,
    },
    Pass {
        name: "remat",
        doc: "recomputes in the backward the elementwise values that inputs give, instead of saving them",
        run: remat::rematerialize,
    },
    Pass {
        name: "cse-backward",
        doc: "merges the recomputed values with what the backward already computes",
        run: cse::eliminate_common_subexpressions,
    },
    Pass {
        name: "dce-forward",
        doc: "drops forward values that are no longer saved nor read",
        run: dce::eliminate_dead_values,
    },
    Pass {
        name: "fuse",
        doc: "turns each chain of elementwise nodes into one loop",
        run: fuse::fuse,
    },
];

/// Runs the pipeline, verifying after each pass when `verify` is set. A failed
/// verification is a compiler bug, returned with the pass's name.
pub fn optimize(g: &mut Graph, verify: bool) -> Result<(), String> {
    for pass in PIPELINE {
        (pass.run)(g);
        if verify {
            g.verify()
                .map_err(|e| crate::messages::after_pass(pass.name, &e))?;
        }
    }
    Ok(())
}

/// Runs the pipeline up to and including the pass named `last` (for tests of
/// the passes after it).
#[cfg(test)]
pub(crate) fn optimize_until(g: &mut Graph, last: &str) {
    for pass in PIPELINE {
        (pass.run)(g);
        if pass.name == last {
            return;
        }
    }
}

/// Puts the nodes of `g` in a new order: `order[k]` is the old id of the node
/// that becomes node `k` (a permutation in which arguments still come first).
pub(crate) fn reorder(g: &mut Graph, order: &[ValueId]) {
    let mut new_id = vec![usize::MAX; g.nodes.len()];
    for (k, &old) in order.iter().enumerate() {
        new_id[old] = k;
    }
    let mut nodes: Vec<_> = order.iter().map(|&old| g.nodes[old].clone()).collect();
    for node in nodes.iter_mut() {
        for a in node.args.iter_mut() {
            *a = new_id[*a];
        }
    }
    g.nodes = nodes;
    let map = |v: ValueId| new_id[v];
    g.outputs = g.outputs.iter().map(|&o| map(o)).collect();
    g.grads = g.grads.iter().map(|gr| gr.map(map)).collect();
    for input in g.inputs.iter_mut() {
        input.node = map(input.node);
    }
    for b in g.lets.iter_mut() {
        b.value = b.value.map(map);
    }
    g.grad_of = g.grad_of.iter().map(|&(f, b)| (map(f), map(b))).collect();
}

/// Rebuilds `g` from a plan: `replace[v]` is the node that stands for `v` from now
/// on (`v` itself to keep it), and a node is dropped when `keep[v]` is false or it
/// is replaced. Every reference (arguments, outputs, gradients, inputs, lets) is
/// renumbered; a replacement must come before the nodes that read it.
pub(crate) fn rebuild(g: &mut Graph, replace: &[ValueId], keep: &[bool]) {
    // Follow chains of replacements to the node that stays.
    let resolve = |mut v: ValueId| {
        while replace[v] != v {
            v = replace[v];
        }
        v
    };
    let mut new_id: Vec<Option<ValueId>> = vec![None; g.nodes.len()];
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for (id, node) in g.nodes.iter().enumerate() {
        if !keep[id] || resolve(id) != id {
            continue;
        }
        let mut node = node.clone();
        for a in node.args.iter_mut() {
            // Arguments of a kept node are kept (a pass keeps what is read).
            *a = new_id[resolve(*a)].unwrap_or(usize::MAX);
        }
        new_id[id] = Some(nodes.len());
        nodes.push(node);
    }
    let map = |v: ValueId| new_id[resolve(v)];
    g.nodes = nodes;
    g.outputs = g
        .outputs
        .iter()
        .map(|&o| map(o).unwrap_or(usize::MAX))
        .collect();
    g.grads = g.grads.iter().map(|gr| gr.and_then(map)).collect();
    for input in g.inputs.iter_mut() {
        input.node = map(input.node).unwrap_or(usize::MAX);
    }
    for b in g.lets.iter_mut() {
        b.value = b.value.and_then(map);
    }
    g.grad_of = g
        .grad_of
        .iter()
        .filter_map(|&(f, b)| Some((map(f)?, map(b)?)))
        .collect();
}

#[cfg(test)]
pub(crate) mod tests {
    use proc_macro2::TokenStream;

    use crate::ir::Graph;

    /// The differentiated graph of a function, before any pass.
    pub fn compiled(src: &str, attr: &str) -> Graph {
        let item: TokenStream = src.parse().expect("tokens");
        let attr: TokenStream = attr.parse().expect("tokens");
        match crate::compile_unoptimized(attr, item) {
            Ok(c) => c.graph,
            Err(e) => panic!("{}", e[0].text()),
        }
    }

    /// How many nodes have this op (by its printed name).
    pub fn count(g: &Graph, op: &str) -> usize {
        g.nodes.iter().filter(|n| n.op.name() == op).count()
    }

    /// The whole pipeline keeps the graph verified and computes the same values:
    /// checked through the interpreter on the layer shapes of the snapshots.
    #[test]
    fn the_pipeline_keeps_values_and_gradients() {
        use ndarray::{ArrayD, Dimension, IxDyn};

        use crate::interp::{Value, run};
        let src = "fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> T {
            let z = x.dot(&w) * 1.0 + &b;
            let a = tanh(z) + tanh(z);
            (-(-a)).sum() + sigmoid(z).mean()
        }";
        let before = compiled(src, "");
        let mut after = before.clone();
        super::optimize(&mut after, true).expect("verified after every pass");
        assert!(after.nodes.len() < before.nodes.len(), "{after}");
        let input = |shape: &[usize], k: f64| {
            Value::Float(ArrayD::from_shape_fn(IxDyn(shape), |i| {
                (i.slice().iter().sum::<usize>() as f64 * k).sin()
            }))
        };
        let inputs = [input(&[3, 4], 0.3), input(&[4, 2], 0.7), input(&[2], 1.1)];
        let seed = [ArrayD::from_elem(IxDyn(&[]), 1.0)];
        let a = run(&before, &inputs, Some(&seed)).expect("runs");
        let b = run(&after, &inputs, Some(&seed)).expect("runs");
        assert_eq!(a.outputs, b.outputs);
        for (ga, gb) in a.grads.iter().zip(&b.grads) {
            let (ga, gb) = (
                ga.as_ref().expect("a gradient"),
                gb.as_ref().expect("a gradient"),
            );
            assert!(
                ga.iter().zip(gb).all(|(p, q)| (p - q).abs() < 1e-12),
                "{ga} {gb}"
            );
        }
    }
}
