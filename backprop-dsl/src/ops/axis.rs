//! Reductions and the softmax family along one axis: `sum_axis`, `mean_axis`,
//! `max_axis`, `logsumexp`, `softmax`, `log_softmax`. Each reads its axis as a
//! constant; the fused derivatives of the softmax family read the forward output.

use super::prim::{
    Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax, like_first, reduced,
};
use crate::check::Lower;
use crate::ir::ValueId;

/// `op(x, Axis(k))` or `x.op(Axis(k))`: an array and a constant axis.
fn along_axis(l: &mut Lower<'_>, c: &Call<'_>, prim: &'static Prim) -> Option<ValueId> {
    let (x, rank) = l.array_arg(c.args[0], c.name)?;
    let k = l.axis(c.args[1], rank, c.name)?;
    let attr = Attr::Axis(k);
    l.prim(prim, attr, vec![x], c.span)
}

const X_2D: &[CaseInput] = &[CaseInput::Float(&[3, 4], (-2.0, 2.0))];

/// The cases of a reduction: along both axes of a matrix, weighted so that every
/// element's gradient differs.
macro_rules! cases {
    ($($body:literal),*) => {
        &[$(Case { params: "x: ArrayView2<T>", ret: "T", body: $body, inputs: X_2D }),*]
    };
}

/// What each family member's derivative reads, and how its kernel takes it.
/// The gradient and the input's shape: `op_backward(&g, axis, shape)`.
const FROM_SHAPE: (&[Read], &[K]) = (
    &[Read::Grad, Read::ShapeOf(0)],
    &[K::Arg(0), K::Axis, K::Value(1)],
);
/// The input, the output and the gradient: `op_backward(&x, &y, &g, axis)`.
const FROM_X_Y: (&[Read], &[K]) = (
    &[Read::Arg(0), Read::Out, Read::Grad],
    &[K::Arg(0), K::Arg(1), K::Arg(2), K::Axis],
);
/// The output and the gradient (the fused rules): `op_backward(&y, &g, axis)`.
const FROM_Y: (&[Read], &[K]) = (&[Read::Out, Read::Grad], &[K::Arg(0), K::Arg(1), K::Axis]);

/// One op of the family: named `name` in the language, the IR and the kernels,
/// with the derivative kernel `backward` reading `from`.
macro_rules! along_axis_op {
    ($name:literal, $backward:literal, $doc:literal, $ty:expr, $keeps:literal, $from:expr, $($case:literal),*) => {
        Prim {
            name: $name,
            naming: Naming::Prefix($name),
            op: $name,
            doc: $doc,
            ty: $ty,
            keeps_shape: $keeps,
            kernel: Kernel { name: $name, args: &[K::Arg(0), K::Axis] },
            grads: &[Grad {
                wrt: 0,
                reads: $from.0,
                kernel: Kernel { name: $backward, args: $from.1 },
                reshape_only: false,
            }],
            cases: cases!($($case),*),
        }
    };
}

/// `sum_axis(x, Axis(k))`; dx = g copied back along the axis.
pub static SUM_AXIS: Prim = along_axis_op!(
    "sum_axis",
    "sum_axis_backward",
    "the sum along an axis, which it removes",
    reduced,
    false,
    FROM_SHAPE,
    "(x.sum_axis(Axis(0)) * x.sum_axis(Axis(0))).sum() + (x.sum_axis(Axis(1)) * 0.5).square().sum()"
);

/// `mean_axis(x, Axis(k))`; dx = g / n copied back along the axis.
pub static MEAN_AXIS: Prim = along_axis_op!(
    "mean_axis",
    "mean_axis_backward",
    "the mean along an axis, which it removes",
    reduced,
    false,
    FROM_SHAPE,
    "(x * x.mean_axis(Axis(1)).insert_axis(Axis(1))).sum() + x.mean_axis(Axis(0)).square().sum()"
);

/// `max_axis(x, Axis(k))`; dx = g at the first position of each lane's maximum, 0 elsewhere.
pub static MAX_AXIS: Prim = along_axis_op!(
    "max_axis",
    "max_axis_backward",
    "the maximum along an axis, which it removes",
    reduced,
    false,
    FROM_X_Y,
    "(max_axis(x, Axis(1)) * max_axis(x, Axis(1))).sum() + max_axis(x, Axis(0)).sum()"
);

/// `logsumexp(x, Axis(k))`; dx = g * softmax(x) = g * exp(x - y).
pub static LOGSUMEXP: Prim = along_axis_op!(
    "logsumexp",
    "logsumexp_backward",
    "`ln(sum(exp(x)))` along an axis, computed without overflow",
    reduced,
    false,
    FROM_X_Y,
    "logsumexp(x, Axis(1)).square().sum() + logsumexp(x * 3.0, Axis(0)).mean()"
);

/// `softmax(x, Axis(k))`; dx = y (g - sum(g y)) along the axis, from the output alone.
pub static SOFTMAX: Prim = along_axis_op!(
    "softmax",
    "softmax_backward",
    "`exp(x) / sum(exp(x))` along an axis, computed without overflow",
    like_first,
    true,
    FROM_Y,
    "(softmax(x, Axis(1)) * x).sum() + softmax(x, Axis(0)).square().sum()"
);

/// `log_softmax(x, Axis(k))`; dx = g - exp(y) sum(g) along the axis, from the output alone.
pub static LOG_SOFTMAX: Prim = along_axis_op!(
    "log_softmax",
    "log_softmax_backward",
    "`x - logsumexp(x)` along an axis, computed without overflow",
    like_first,
    true,
    FROM_Y,
    "(log_softmax(x, Axis(0)) * x).sum_axis(Axis(1)).sum() + log_softmax(x, Axis(1)).square().sum()"
);

/// How the family is written.
pub static SYNTAX: &[Syntax] = &[
    Syntax {
        name: "sum_axis",
        usage: "x.sum_axis(Axis(1))",
        arity: 2,
        check: |l, c| along_axis(l, c, &SUM_AXIS),
    },
    Syntax {
        name: "mean_axis",
        usage: "x.mean_axis(Axis(1))",
        arity: 2,
        check: |l, c| along_axis(l, c, &MEAN_AXIS),
    },
    Syntax {
        name: "max_axis",
        usage: "max_axis(x, Axis(1))",
        arity: 2,
        check: |l, c| along_axis(l, c, &MAX_AXIS),
    },
    Syntax {
        name: "logsumexp",
        usage: "logsumexp(x, Axis(1))",
        arity: 2,
        check: |l, c| along_axis(l, c, &LOGSUMEXP),
    },
    Syntax {
        name: "softmax",
        usage: "softmax(x, Axis(1))",
        arity: 2,
        check: |l, c| along_axis(l, c, &SOFTMAX),
    },
    Syntax {
        name: "log_softmax",
        usage: "log_softmax(x, Axis(1))",
        arity: 2,
        check: |l, c| along_axis(l, c, &LOG_SOFTMAX),
    },
];

/// The IR ops of the family.
pub static PRIMS: &[&Prim] = &[
    &SUM_AXIS,
    &MEAN_AXIS,
    &MAX_AXIS,
    &LOGSUMEXP,
    &SOFTMAX,
    &LOG_SOFTMAX,
];
