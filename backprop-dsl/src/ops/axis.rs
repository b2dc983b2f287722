//! Reductions and the softmax family along one axis: `sum_axis`, `mean_axis`,
//! `max_axis`, `logsumexp`, `softmax`, `log_softmax`. Each reads its axis as a
//! constant; the fused derivatives of the softmax family read the forward output.

use super::prim::{
    Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax, like_first, reduced,
};
use crate::check::Lower;
use crate::ir::{Op, ValueId};

/// `op(x, Axis(k))` or `x.op(Axis(k))`: an array and a constant axis.
fn along_axis(l: &mut Lower<'_>, c: &Call<'_>, prim: &'static Prim) -> Option<ValueId> {
    let (x, rank) = l.array_arg(c.args[0], c.name)?;
    let k = l.axis(c.args[1], rank, c.name)?;
    let attr = Attr::Axis(k);
    let ty = (prim.ty)(&[l.ty(x)], attr)?;
    Some(l.node(Op::Prim(prim, attr), vec![x], ty, c.span))
}

const X_2D: &[CaseInput] = &[CaseInput::Float(&[3, 4], (-2.0, 2.0))];

/// The cases of a reduction: along both axes of a matrix, weighted so that every
/// element's gradient differs.
macro_rules! cases {
    ($($body:literal),*) => {
        &[$(Case { params: "x: ArrayView2<T>", ret: "T", body: $body, inputs: X_2D }),*]
    };
}

/// `sum_axis(x, Axis(k))`: the sum along an axis, which it removes.
pub static SUM_AXIS: Prim = Prim {
    name: "sum_axis",
    naming: Naming::Prefix("sum_axis"),
    op: "sum_axis",
    doc: "the sum along an axis, which it removes",
    ty: reduced,
    keeps_shape: false,
    kernel: Kernel {
        name: "sum_axis",
        args: &[K::Arg(0), K::Axis],
    },
    // dx = g copied back along the axis
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::ShapeOf(0)],
        kernel: Kernel {
            name: "sum_axis_backward",
            args: &[K::Arg(0), K::Axis, K::Value(1)],
        },
        reshape_only: false,
    }],
    cases: cases!(
        "(x.sum_axis(Axis(0)) * x.sum_axis(Axis(0))).sum() + (x.sum_axis(Axis(1)) * 0.5).square().sum()"
    ),
};

/// `mean_axis(x, Axis(k))`: the mean along an axis, which it removes.
pub static MEAN_AXIS: Prim = Prim {
    name: "mean_axis",
    naming: Naming::Prefix("mean_axis"),
    op: "mean_axis",
    doc: "the mean along an axis, which it removes",
    ty: reduced,
    keeps_shape: false,
    kernel: Kernel {
        name: "mean_axis",
        args: &[K::Arg(0), K::Axis],
    },
    // dx = g / n copied back along the axis
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::ShapeOf(0)],
        kernel: Kernel {
            name: "mean_axis_backward",
            args: &[K::Arg(0), K::Axis, K::Value(1)],
        },
        reshape_only: false,
    }],
    cases: cases!(
        "(x * x.mean_axis(Axis(1)).insert_axis(Axis(1))).sum() + x.mean_axis(Axis(0)).square().sum()"
    ),
};

/// `max_axis(x, Axis(k))`: the maximum along an axis, which it removes.
pub static MAX_AXIS: Prim = Prim {
    name: "max_axis",
    naming: Naming::Prefix("max_axis"),
    op: "max_axis",
    doc: "the maximum along an axis, which it removes",
    ty: reduced,
    keeps_shape: false,
    kernel: Kernel {
        name: "max_axis",
        args: &[K::Arg(0), K::Axis],
    },
    // dx = g at the first position of the maximum of each lane, 0 elsewhere
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Arg(0), Read::Out, Read::Grad],
        kernel: Kernel {
            name: "max_axis_backward",
            args: &[K::Arg(0), K::Arg(1), K::Arg(2), K::Axis],
        },
        reshape_only: false,
    }],
    cases: cases!(
        "(max_axis(x, Axis(1)) * max_axis(x, Axis(1))).sum() + max_axis(x, Axis(0)).sum()"
    ),
};

/// `logsumexp(x, Axis(k))`: `ln(sum(exp(x)))` along an axis, without overflow.
pub static LOGSUMEXP: Prim = Prim {
    name: "logsumexp",
    naming: Naming::Prefix("logsumexp"),
    op: "logsumexp",
    doc: "`ln(sum(exp(x)))` along an axis, computed without overflow",
    ty: reduced,
    keeps_shape: false,
    kernel: Kernel {
        name: "logsumexp",
        args: &[K::Arg(0), K::Axis],
    },
    // dx = g * softmax(x) = g * exp(x - y)
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Arg(0), Read::Out, Read::Grad],
        kernel: Kernel {
            name: "logsumexp_backward",
            args: &[K::Arg(0), K::Arg(1), K::Arg(2), K::Axis],
        },
        reshape_only: false,
    }],
    cases: cases!("logsumexp(x, Axis(1)).square().sum() + logsumexp(x * 3.0, Axis(0)).mean()"),
};

/// `softmax(x, Axis(k))`: `exp(x) / sum(exp(x))` along an axis, stable.
pub static SOFTMAX: Prim = Prim {
    name: "softmax",
    naming: Naming::Prefix("softmax"),
    op: "softmax",
    doc: "`exp(x) / sum(exp(x))` along an axis, computed without overflow",
    ty: like_first,
    keeps_shape: true,
    kernel: Kernel {
        name: "softmax",
        args: &[K::Arg(0), K::Axis],
    },
    // dx = y (g - sum(g y)) along the axis, from the output alone
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Out, Read::Grad],
        kernel: Kernel {
            name: "softmax_backward",
            args: &[K::Arg(0), K::Arg(1), K::Axis],
        },
        reshape_only: false,
    }],
    cases: cases!("(softmax(x, Axis(1)) * x).sum() + softmax(x, Axis(0)).square().sum()"),
};

/// `log_softmax(x, Axis(k))`: `x - logsumexp(x)` along an axis.
pub static LOG_SOFTMAX: Prim = Prim {
    name: "log_softmax",
    naming: Naming::Prefix("log_softmax"),
    op: "log_softmax",
    doc: "`x - logsumexp(x)` along an axis, computed without overflow",
    ty: like_first,
    keeps_shape: true,
    kernel: Kernel {
        name: "log_softmax",
        args: &[K::Arg(0), K::Axis],
    },
    // dx = g - exp(y) sum(g) along the axis, from the output alone
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Out, Read::Grad],
        kernel: Kernel {
            name: "log_softmax_backward",
            args: &[K::Arg(0), K::Arg(1), K::Axis],
        },
        reshape_only: false,
    }],
    cases: cases!(
        "(log_softmax(x, Axis(0)) * x).sum_axis(Axis(1)).sum() + log_softmax(x, Axis(1)).square().sum()"
    ),
};

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
