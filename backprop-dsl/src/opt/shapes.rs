//! Which values are known to share a shape at run time, forward and backward.
//! Values in one class have equal shapes whatever the inputs, given that each
//! upstream gradient has its output's shape (the contract of `_backward`); a
//! `Shape` value is in the class of the array it is the shape of. The analysis is
//! conservative: values of unknown relation get classes of their own.

use std::collections::HashMap;

use crate::ir::{GradOp, Graph, Op, Ty, ValueId};

/// The class of every node (the id of the first node known to have its shape).
pub fn shape_classes(g: &Graph) -> Vec<ValueId> {
    shape_classes_and_leaves(g).0
}

/// The classes, and for each class that is a broadcast of others, the classes
/// it is the broadcast of (never themselves broadcasts: broadcasting is
/// associative and commutative, so `(x - mu) / s` is the broadcast of the
/// classes of `x`, `mu` and `s`).
pub fn shape_classes_and_leaves(g: &Graph) -> (Vec<ValueId>, HashMap<ValueId, Vec<ValueId>>) {
    let mut class: Vec<ValueId> = Vec::with_capacity(g.nodes.len());
    let mut known: HashMap<Vec<ValueId>, ValueId> = HashMap::new();
    let mut leaves: HashMap<ValueId, Vec<ValueId>> = HashMap::new();
    // Classes known to be another class's shape without its first axis (a
    // reduction along axis 0): `trailing[c]` is that class, and `without_axis0`
    // finds the class of a reduction from its operand's.
    let mut trailing: HashMap<ValueId, ValueId> = HashMap::new();
    let mut without_axis0: HashMap<ValueId, ValueId> = HashMap::new();
    for (id, n) in g.nodes.iter().enumerate() {
        let arg = |i: usize| class[n.args[i]];
        // Array arguments only: scalars broadcast without changing the shape.
        let arrays: Vec<ValueId> = n
            .args
            .iter()
            .filter(|&&a| matches!(g.ty(a), Ty::Float(_) | Ty::Mask(_)))
            .map(|&a| class[a])
            .collect();
        let all_same = || match arrays.first() {
            Some(&first) if arrays.iter().all(|&c| c == first) => Some(first),
            _ => None,
        };
        // Broadcasting ops whose operands differ in shape: the result's shape is
        // the broadcast of the operands' shapes, whatever the op, so two such
        // nodes over the same classes share a class (a value the backward
        // recomputes has the class of the forward value it copies).
        let broadcast = |known: &mut HashMap<Vec<ValueId>, ValueId>,
                         leaves: &mut HashMap<ValueId, Vec<ValueId>>| {
            let mut key: Vec<ValueId> = arrays
                .iter()
                .flat_map(|c| leaves.get(c).cloned().unwrap_or_else(|| vec![*c]))
                .collect();
            key.sort_unstable();
            key.dedup();
            // A shape broadcast with its own trailing dims is itself: `x - mu`
            // with `mu` a mean of `x` along axis 0 has `x`'s shape.
            let covered = |mut c: ValueId| {
                while let Some(&parent) = trailing.get(&c) {
                    if key.binary_search(&parent).is_ok() {
                        return true;
                    }
                    c = parent;
                }
                false
            };
            let kept: Vec<ValueId> = key.iter().copied().filter(|&c| !covered(c)).collect();
            let key = kept;
            if key.len() == 1 {
                return key[0];
            }
            let c = *known.entry(key.clone()).or_insert(id);
            leaves.insert(c, key);
            c
        };
        let c = match &n.op {
            // Ops that keep the shape of their array operands, when those agree.
            Op::Elementwise(_)
            | Op::Grad(GradOp::ElementwiseGrad(_))
            | Op::Grad(GradOp::MaskGrad(_))
            | Op::StopGradient
            | Op::WithScalar(_) => all_same(),
            Op::Binary(_) | Op::Compare(_) | Op::Grad(GradOp::MaskBy(_)) | Op::Where => {
                all_same().or_else(|| Some(broadcast(&mut known, &mut leaves)))
            }
            // The broadcast of several shapes (see `shape_of.rs`).
            Op::ShapeOf if n.args.len() > 1 => Some(broadcast(&mut known, &mut leaves)),
            Op::Prim(p, _) if p.keeps_shape => Some(arg(0)),
            // A reduction along axis 0 has its operand's trailing dims.
            Op::Prim(p, attr)
                if attr.axis() == Some(0)
                    && matches!(p.name, "sum_axis" | "mean_axis" | "max_axis" | "logsumexp") =>
            {
                let parent = arg(0);
                let c = *without_axis0.entry(parent).or_insert(id);
                trailing.insert(c, parent);
                Some(c)
            }
            // A derivative has the shape of its argument: the class of the
            // argument's value or shape among what it reads.
            Op::Grad(GradOp::PrimGrad(p, i, _)) => p.grad_shaped_like(*i).map(arg),
            // The shape of `x` is in `x`'s class.
            Op::ShapeOf => Some(arg(0)),
            // Ops whose result has the shape passed to them.
            Op::Grad(GradOp::SumTo) => Some(arg(1)),
            Op::Grad(GradOp::Zeros) => Some(arg(0)),
            Op::Grad(GradOp::ConcatGrad(_, i)) => Some(arg(1 + i)),
            // The upstream gradient of an output has the output's shape.
            Op::Grad(GradOp::Seed(k)) => g.outputs.get(*k).map(|&o| class[o]),
            _ => None,
        };
        class.push(c.unwrap_or(id));
    }
    (class, leaves)
}

#[cfg(test)]
mod tests {
    use crate::ir::Op;
    use crate::opt::tests::compiled;

    /// `x + &b` and `x * &b` broadcast the same shapes, so they share a class;
    /// `x + &c` does not.
    #[test]
    fn broadcasts_of_the_same_shapes_share_a_class() {
        let g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>, c: ArrayView1<T>) -> Array2<T> {
                (x + &b) * (x * &b) + (x + &c)
            }",
            "",
        );
        let class = super::shape_classes(&g);
        let binaries: Vec<usize> = (0..g.nodes.len())
            .filter(|&v| !g.nodes[v].backward && matches!(g.nodes[v].op, Op::Binary(_)))
            .collect();
        let (sum_b, prod_b, sum_c) = (binaries[0], binaries[1], binaries[3]);
        assert_eq!(class[sum_b], class[prod_b], "{g}");
        assert_ne!(class[sum_b], class[sum_c], "{g}");
    }

    /// `x - mu` with `mu` a mean of `x` along axis 0 has `x`'s shape, and so has
    /// `(x - mu) / s` for `s` computed from it the same way; `x * &b` with an
    /// input `b` does not (`b` may stretch `x`).
    #[test]
    fn a_broadcast_with_its_own_trailing_dims_keeps_the_shape() {
        let g = compiled(
            "fn f<T: Real>(x: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
                let mu = x.mean_axis(Axis(0));
                let centered = x - &mu;
                let s = centered.square().mean_axis(Axis(0)).sqrt();
                centered / &s + x * &b
            }",
            "",
        );
        let class = super::shape_classes(&g);
        let forward = |name: &str| {
            (0..g.nodes.len())
                .find(|&v| !g.nodes[v].backward && g.nodes[v].name.as_deref() == Some(name))
                .expect(name)
        };
        let (x, mu, centered, s) = (
            forward("x"),
            forward("mu"),
            forward("centered"),
            forward("s"),
        );
        assert_eq!(class[centered], class[x], "{g}");
        assert_eq!(class[s], class[mu], "{g}");
        let scaled = (0..g.nodes.len())
            .find(|&v| !g.nodes[v].backward && g.nodes[v].text == "x * &b")
            .expect("x * &b");
        assert_ne!(class[scaled], class[x], "{g}");
    }
}
