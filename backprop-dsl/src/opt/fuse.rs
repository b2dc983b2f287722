//! Fusion: a chain of elementwise nodes becomes one loop. `f(g(x))` computed
//! element by element is the same as computing `g(x)` whole and then `f` of it
//! (each element of an elementwise op depends only on the elements at its own
//! broadcast position), so the arrays between them need not exist.
//!
//! A node joins the loop of its consumers when every consumer is in that one
//! loop, in its own pass (forward or backward), and it has the rank of the
//! loop's result: a value read anywhere else (an output, a gradient, a saved
//! value, a matrix product's operand) is the result of a loop of its own, and a
//! lower-rank value (a mean along an axis) is computed once, not per element of
//! the loop. A loop reads at most [`MAX_ZIPPED`] arrays element by element.

use std::collections::{HashMap, HashSet};

use crate::ir::{Fused, Graph, Op, Ty, ValueId};

use super::shapes::shape_classes;

/// The most arrays one loop zips over (`ndarray::Zip::map_collect` takes five).
pub const MAX_ZIPPED: usize = 5;

/// The rank of the elements loop `root` computes: a reduction's operand's.
fn loop_rank(g: &Graph, root: ValueId) -> Option<usize> {
    let n = &g.nodes[root];
    match n.op.reduction() {
        Some(_) => g.ty(n.args[0]).rank(),
        None => n.ty.rank(),
    }
}

/// Whether node `v` may be computed inside a loop: an elementwise node, or a
/// reduction of an array (which ends its loop).
fn fusible(g: &Graph, v: ValueId) -> bool {
    let n = &g.nodes[v];
    if n.op.reduction().is_some() {
        // The loop runs in blocks of rows, which the reduction must sum away:
        // a `sum_to` of the same rank (often the identity) stays a kernel call.
        return g.ty(n.args[0]).rank() > n.ty.rank();
    }
    let array = matches!(n.ty, Ty::Float(_) | Ty::Mask(_));
    array && n.op.is_elementwise()
}

/// Whether a value is an array the loop reads element by element.
fn zipped(ty: Ty) -> bool {
    matches!(ty, Ty::Float(r) | Ty::Mask(r) | Ty::Int(r) if r > 0)
}

/// Which loop (named by its result) each node among `among` is in, decided from
/// the last node back so that a node's consumers are decided before it. With a
/// `limit`, a node joins only if the loop then reads at most that many arrays.
fn grouping(
    g: &Graph,
    users: &[Vec<ValueId>],
    escapes: &[bool],
    among: &[bool],
    limit: Option<usize>,
) -> Vec<Option<ValueId>> {
    let n = g.nodes.len();
    let mut group: Vec<Option<ValueId>> = vec![None; n];
    // Per loop: the arrays it reads from outside (tracked only with a limit).
    let mut reads: Vec<HashSet<ValueId>> = vec![HashSet::new(); n];
    for v in (0..n).rev() {
        if !among[v] || !fusible(g, v) {
            continue;
        }
        let node = &g.nodes[v];
        let arrays = || node.args.iter().copied().filter(|&a| zipped(g.ty(a)));
        // A reduction only ever ends a loop.
        let joined = match users[v].first().and_then(|&u| group[u]) {
            Some(root)
                if !escapes[v]
                    && node.op.reduction().is_none()
                    && users[v].iter().all(|&u| group[u] == Some(root))
                    && node.backward == g.nodes[root].backward
                    && node.ty.rank() == loop_rank(g, root) =>
            {
                let mut after = reads[root].clone();
                if limit.is_some() {
                    after.remove(&v);
                    after.extend(arrays());
                }
                limit
                    .is_none_or(|l| after.len() <= l)
                    .then_some((root, after))
            }
            _ => None,
        };
        match joined {
            Some((root, after)) => {
                group[v] = Some(root);
                reads[root] = after;
            }
            None => {
                group[v] = Some(v);
                reads[v] = arrays().collect();
            }
        }
    }
    group
}

/// Per loop (by its result), the arrays it reads element by element from outside it.
fn reads_of(g: &Graph, group: &[Option<ValueId>]) -> Vec<HashSet<ValueId>> {
    let mut reads = vec![HashSet::new(); g.nodes.len()];
    for (m, node) in g.nodes.iter().enumerate() {
        if let Some(root) = group[m] {
            for &a in &node.args {
                if group[a] != Some(root) && zipped(g.ty(a)) {
                    reads[root].insert(a);
                }
            }
        }
    }
    reads
}

/// Whether `v` is cheap enough to compute again in every loop that reads it:
/// plain arithmetic, no transcendental function.
fn cheap(g: &Graph, v: ValueId) -> bool {
    match &g.nodes[v].op {
        Op::Binary(_) | Op::WithScalar(_) => true,
        Op::Elementwise(e) => matches!(e.name, "neg" | "square" | "abs"),
        _ => false,
    }
}

/// Marks `free` the cheap values that only loops read, so that each of those
/// loops computes them again element by element instead of reading a whole
/// array (the backward's recomputed `x - mean` and `(x - mean) / std`, read by
/// three loops, are then never made). Decided from the last node back, so a
/// value's readers are settled first; only when every loop that would compute
/// it still zips at most [`MAX_ZIPPED`] arrays.
fn recompute_cheap_values(
    g: &Graph,
    users: &[Vec<ValueId>],
    escapes: &[bool],
    group: &[Option<ValueId>],
    free: &mut [bool],
) {
    let mut reads = reads_of(g, group);
    let mut size = vec![0usize; g.nodes.len()];
    for r in group.iter().flatten() {
        size[*r] += 1;
    }
    for v in (0..g.nodes.len()).rev() {
        let node = &g.nodes[v];
        // A loop of its own, of one node (a loop of several is kept whole).
        let alone = group[v] == Some(v) && size[v] == 1;
        if free[v] || escapes[v] || !alone || !cheap(g, v) || !fusible(g, v) {
            continue;
        }
        // The loops that would compute it: its readers', through free readers.
        let mut roots = HashSet::new();
        let mut seen = HashSet::new();
        let mut stack = users[v].clone();
        let mut ok = !stack.is_empty();
        while let Some(u) = stack.pop() {
            if !seen.insert(u) {
                continue;
            }
            if free[u] {
                stack.extend(users[u].iter().copied());
                continue;
            }
            match group[u] {
                Some(r)
                    if r != v
                        && g.nodes[u].backward == node.backward
                        && loop_rank(g, r) == node.ty.rank() =>
                {
                    roots.insert(r);
                }
                _ => ok = false,
            }
        }
        let arrays: Vec<ValueId> = node
            .args
            .iter()
            .copied()
            .filter(|&a| zipped(g.ty(a)))
            .collect();
        let after: Vec<(ValueId, HashSet<ValueId>)> = roots
            .iter()
            .map(|&r| {
                let mut after = reads[r].clone();
                after.remove(&v);
                after.extend(arrays.iter().copied());
                (r, after)
            })
            .collect();
        if ok && after.iter().all(|(_, a)| a.len() <= MAX_ZIPPED) {
            free[v] = true;
            for (r, a) in after {
                reads[r] = a;
            }
        }
    }
}

/// Adds `v` to loop `root`, after the free values it reads (and theirs), each
/// copied into a loop once.
fn push_member(
    g: &Graph,
    v: ValueId,
    root: ValueId,
    free: &[bool],
    members: &mut [Vec<ValueId>],
    copied: &mut HashSet<(ValueId, ValueId)>,
) {
    for &a in &g.nodes[v].args {
        if free[a] && copied.insert((root, a)) {
            push_member(g, a, root, free, members, copied);
        }
    }
    members[root].push(v);
}

pub(crate) fn fuse(g: &mut Graph) {
    let n = g.nodes.len();
    let class = shape_classes(g);
    let mut users: Vec<Vec<ValueId>> = vec![Vec::new(); n];
    for (id, node) in g.nodes.iter().enumerate() {
        for &a in &node.args {
            users[a].push(id);
        }
    }
    // Values read outside every loop.
    let mut escapes = vec![false; n];
    for &v in g.outputs.iter().chain(g.grads.iter().flatten()) {
        escapes[v] = true;
    }
    // Loops first without a limit on what they read; a loop that reads too many
    // arrays is then grouped again with the limit applied node by node.
    let mut group = grouping(g, &users, &escapes, &vec![true; n], None);
    let reads = reads_of(g, &group);
    let over: Vec<bool> = (0..n)
        .map(|v| group[v].is_some_and(|r| reads[r].len() > MAX_ZIPPED))
        .collect();
    if over.iter().any(|&o| o) {
        let regrouped = grouping(g, &users, &escapes, &over, Some(MAX_ZIPPED));
        for v in 0..n {
            if over[v] {
                group[v] = regrouped[v];
            }
        }
    }
    // A 0-d value stretched to a shape (the gradient of a sum) is read by every
    // loop that needs it as the scalar it is, never made into an array.
    let mut free: Vec<bool> = (0..n)
        .map(|v| {
            // Only 0-d values: they are no array the loop zips, so copying
            // them never takes a loop past MAX_ZIPPED.
            g.nodes[v].op.is_stretch()
                && g.ty(g.nodes[v].args[0]) == Ty::Float(0)
                && fusible(g, v)
                && !escapes[v]
                && users[v].iter().all(|&u| fusible(g, u))
        })
        .collect();
    recompute_cheap_values(g, &users, &escapes, &group, &mut free);
    let mut members: Vec<Vec<ValueId>> = vec![Vec::new(); n];
    let mut copied: HashSet<(ValueId, ValueId)> = HashSet::new();
    for v in 0..n {
        if let Some(root) = group[v]
            && !free[v]
        {
            push_member(g, v, root, &free, &mut members, &mut copied);
        }
    }
    let mut keep: Vec<bool> = free.iter().map(|&f| !f).collect();
    for (root, body_ids) in members.iter().enumerate() {
        // A loop of one node is its kernel call.
        if body_ids.len() < 2 {
            continue;
        }
        let inside: HashMap<ValueId, usize> =
            body_ids.iter().enumerate().map(|(j, &m)| (m, j)).collect();
        let mut outer: Vec<ValueId> = Vec::new();
        let mut outer_index: HashMap<ValueId, usize> = HashMap::new();
        for &m in body_ids {
            for &a in &g.nodes[m].args {
                if !inside.contains_key(&a) && !outer_index.contains_key(&a) {
                    outer_index.insert(a, outer.len());
                    outer.push(a);
                }
            }
        }
        let arity = outer.len();
        // Every argument of a member is in the loop or was listed just above.
        let local = |a: ValueId| match inside.get(&a) {
            Some(j) => arity + j,
            None => outer_index[&a],
        };
        let mut body = Vec::with_capacity(body_ids.len());
        let mut checks = Vec::with_capacity(body_ids.len());
        for &m in body_ids {
            let mut b = g.nodes[m].clone();
            // Operands that may differ in shape are checked to broadcast.
            let classes: HashSet<ValueId> = b
                .args
                .iter()
                .filter(|&&a| matches!(g.ty(a), Ty::Float(r) | Ty::Mask(r) if r > 0))
                .map(|&a| class[a])
                .collect();
            checks.push(classes.len() > 1 && !b.op.is_stretch());
            b.args = b.args.iter().map(|&a| local(a)).collect();
            body.push(b);
            if m != root && !free[m] {
                keep[m] = false;
            }
        }
        let node = &mut g.nodes[root];
        node.op = Op::Fused(Box::new(Fused {
            body,
            arity,
            checks,
        }));
        node.args = outer;
    }
    let same: Vec<ValueId> = (0..n).collect();
    super::rebuild(g, &same, &keep);
}

#[cfg(test)]
mod tests {
    use crate::ir::Op;
    use crate::opt::tests::{compiled, count};

    fn fused_sizes(g: &crate::ir::Graph) -> Vec<usize> {
        g.nodes
            .iter()
            .filter_map(|n| match &n.op {
                Op::Fused(f) => Some(f.body.len()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_chain_becomes_one_loop_and_saved_values_end_loops() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> { tanh(x * 2.0 + &b).square() }",
            "",
        );
        crate::opt::optimize_until(&mut g, "cse");
        super::fuse(&mut g);
        g.verify().expect("verified");
        // Forward: `x * 2.0 + b` feeds tanh, whose output the backward reads, so
        // tanh ends a loop; square is the output. Backward: one loop for d_z.
        assert!(count(&g, "Fused") >= 2, "{g}");
        assert!(fused_sizes(&g).iter().all(|&s| s >= 2), "{g}");
    }

    /// verify looks inside loops: a body node of the wrong type or reading a
    /// later node is caught.
    #[test]
    fn verify_checks_the_body_of_a_loop() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> { tanh(x * 2.0 + 1.0) }",
            "",
        );
        super::fuse(&mut g);
        g.verify().expect("verified");
        let id = g
            .nodes
            .iter()
            .position(|n| matches!(n.op, Op::Fused(_)))
            .expect("a loop");
        let mut bad = g.clone();
        if let Op::Fused(f) = &mut bad.nodes[id].op {
            f.body[0].ty = crate::ir::Ty::Float(5);
        }
        let err = bad.verify().expect_err("a wrong type");
        assert!(err.contains("fused body node 0"), "{err}");
        let mut bad = g.clone();
        if let Op::Fused(f) = &mut bad.nodes[id].op {
            let arity = f.arity;
            f.body[0].args[0] = arity + 1;
        }
        let err = bad.verify().expect_err("a later read");
        assert!(err.contains("later"), "{err}");
    }

    #[test]
    fn cheap_values_read_by_several_loops_are_computed_in_each() {
        let mut g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, gamma: ArrayView1<T>, beta: ArrayView1<T>) -> Array2<T> {
                let mu = x.mean_axis(Axis(0));
                let centered = x - &mu;
                let var = centered.square().mean_axis(Axis(0));
                let x_hat = centered / (var + 1e-5).sqrt();
                x_hat * &gamma + &beta
            }",
            "",
        );
        crate::opt::optimize_until(&mut g, "dce-forward");
        // Before: `x - mu`, `/ std`, `* gamma`, `+ beta` are whole arrays, and
        // `x - mu` and `/ std` again in the backward, which recomputes them.
        let before = count(&g, "Binary");
        assert!(before >= 6, "{g}");
        super::fuse(&mut g);
        g.verify().expect("verified");
        // After: `x - mu` and `x_hat` only inside the loops that read them.
        let sub_outside = g
            .nodes
            .iter()
            .filter(|n| n.op.name() == "Binary" && n.text.contains("x - &mu"))
            .count();
        assert_eq!(sub_outside, 0, "{g}");
        let div_outside = g
            .nodes
            .iter()
            .filter(|n| n.op.name() == "Binary" && n.name.as_deref() == Some("x_hat"))
            .count();
        assert_eq!(div_outside, 0, "{g}");
        for n in &g.nodes {
            if let Op::Fused(_) = &n.op {
                let arrays = n.args.iter().filter(|&&a| super::zipped(g.ty(a))).count();
                assert!(arrays <= super::MAX_ZIPPED, "{g}");
            }
        }
    }

    #[test]
    fn a_loop_zips_at_most_five_arrays() {
        let mut g = compiled(
            "fn f<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, c: ArrayView2<T>, d: ArrayView2<T>, e: ArrayView2<T>, h: ArrayView2<T>, k: ArrayView2<T>) -> Array2<T> {
                let s = stop_gradient(a);
                s + stop_gradient(b) + stop_gradient(c) + stop_gradient(d) + stop_gradient(e) + stop_gradient(h) + stop_gradient(k)
            }",
            "",
        );
        super::fuse(&mut g);
        g.verify().expect("verified");
        for n in &g.nodes {
            if let Op::Fused(_) = &n.op {
                let arrays = n.args.iter().filter(|&&a| g.ty(a).rank() > Some(0)).count();
                assert!(arrays <= super::MAX_ZIPPED, "{g}");
            }
        }
        assert!(count(&g, "Fused") >= 2, "{g}");
    }
}
