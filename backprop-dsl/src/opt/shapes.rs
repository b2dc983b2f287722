//! Which values are known to share a shape at run time, forward and backward.
//! Values in one class have equal shapes whatever the inputs, given that each
//! upstream gradient has its output's shape (the contract of `_backward`); a
//! `Shape` value is in the class of the array it is the shape of. The analysis is
//! conservative: values of unknown relation get classes of their own.

use crate::ir::{GradOp, Graph, Op, Ty, ValueId};

/// The class of every node (the id of the first node known to have its shape).
pub fn shape_classes(g: &Graph) -> Vec<ValueId> {
    let mut class: Vec<ValueId> = Vec::with_capacity(g.nodes.len());
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
        let c = match &n.op {
            // Ops that keep the shape of their array operands, when those agree.
            Op::Elementwise(_)
            | Op::Grad(GradOp::ElementwiseGrad(_))
            | Op::Binary(_)
            | Op::WithScalar(_)
            | Op::Compare(_)
            | Op::Grad(GradOp::MaskBy(_))
            | Op::Grad(GradOp::MaskGrad(_))
            | Op::Where
            | Op::StopGradient => all_same(),
            Op::Prim(p, _) if p.keeps_shape => Some(arg(0)),
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
    class
}
