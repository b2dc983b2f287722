//! Ops that move elements without computing new ones, and the full reductions:
//! `.t()`/`transpose`, `sum`, `mean`, `slice_axis`, `insert_axis`, `flatten`.

use syn::Expr;

use super::prim::{Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax};
use crate::check::Lower;
use crate::diag::{code, span_range};
use crate::ir::{Ty, ValueId};
use crate::messages;

const X_2D: &[CaseInput] = &[CaseInput::Float(&[3, 4], (-1.0, 1.0))];

/// `a.t()` or `transpose(a)`: a 1-D array is its own transpose, as in ndarray.
fn transpose(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, r) = l.array_arg(c.args[0], c.name)?;
    match r {
        1 => Some(x),
        2 => l.prim(&TRANSPOSE, Attr::None, vec![x], c.span),
        _ => {
            l.diags()
                .error_at(c.args[0], messages::transpose_rank(c.name, r));
            None
        }
    }
}

/// `x.sum()` and `x.mean()`: any array.
fn full_reduction(l: &mut Lower<'_>, c: &Call<'_>, prim: &'static Prim) -> Option<ValueId> {
    let (x, _) = l.array_arg(c.args[0], c.name)?;
    l.prim(prim, Attr::None, vec![x], c.span)
}

/// `x.slice_axis(Axis(k), start..end)` with `usize` bounds.
fn slice_axis(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, r) = l.array_arg(c.args[0], c.name)?;
    let k = l.axis(c.args[1], r, c.name)?;
    let Expr::Range(range) = c.args[2] else {
        l.diags()
            .error_at(c.args[2], messages::SLICE_BOUNDS_NOT_A_RANGE);
        return None;
    };
    let (Some(start), Some(end)) = (&range.start, &range.end) else {
        l.diags().error_at(range, messages::SLICE_OPEN_RANGE);
        return None;
    };
    if matches!(range.limits, syn::RangeLimits::Closed(_)) {
        l.diags().error_at(range, messages::SLICE_INCLUSIVE_RANGE);
        return None;
    }
    let (s, e) = (l.usize_expr(start)?, l.usize_expr(end)?);
    if let (Some(a), Some(b)) = (l.usize_constant(s), l.usize_constant(e))
        && a > b
    {
        l.diags()
            .error_at(range, messages::slice_reversed(&code(range), a, b));
        return None;
    }
    l.prim(&SLICE_AXIS, Attr::Axis(k), vec![x, s, e], c.span)
}

/// `x.insert_axis(Axis(k))`: a new axis of length 1, `k` counted in the result.
fn insert_axis(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, r) = l.array_arg(c.args[0], c.name)?;
    if r >= 6 {
        l.diags()
            .error(span_range(c.args[0]).0, messages::INSERT_AXIS_6D);
        return None;
    }
    let k = l.axis(c.args[1], r + 1, c.name)?;
    l.prim(&INSERT_AXIS, Attr::Axis(k), vec![x], c.span)
}

/// `flatten(x)`: `[n, ...] -> [n, rest]`.
fn flatten(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, r) = l.array_arg(c.args[0], c.name)?;
    if r < 2 {
        l.diags()
            .error(span_range(c.args[0]).0, messages::flatten_rank(r));
        return None;
    }
    l.prim(&FLATTEN, Attr::None, vec![x], c.span)
}

/// The transpose of a matrix.
pub static TRANSPOSE: Prim = Prim {
    name: "transpose",
    naming: Naming::Suffix("t"),
    op: "transpose",
    doc: "the transpose of a matrix",
    ty: |args, _| matches!(args, [Ty::Float(2)]).then_some(Ty::Float(2)),
    keeps_shape: false,
    kernel: Kernel {
        name: "transpose",
        args: &[K::Arg(0)],
    },
    // d(x^T) = g^T
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad],
        kernel: Kernel {
            name: "transpose",
            args: &[K::Arg(0)],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "x: ArrayView2<T>",
        ret: "Array2<T>",
        body: "x.t().dot(&x) + transpose(x).dot(&x) * 0.5",
        inputs: X_2D,
    }],
};

/// The sum of all elements.
pub static SUM: Prim = Prim {
    name: "sum",
    naming: Naming::Prefix("sum"),
    op: "sum",
    doc: "the sum of all elements, a 0-d array",
    ty: |args, _| matches!(args, [Ty::Float(_)]).then_some(Ty::Float(0)),
    keeps_shape: false,
    kernel: Kernel {
        name: "sum",
        args: &[K::Arg(0)],
    },
    // d sum(x) = g everywhere
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::ShapeOf(0)],
        kernel: Kernel {
            name: "broadcast_to",
            args: &[K::Arg(0), K::Value(1)],
        },
        reshape_only: true,
    }],
    cases: &[Case {
        params: "x: ArrayView2<T>",
        ret: "T",
        body: "(x * x).sum() + x.sum()",
        inputs: X_2D,
    }],
};

/// The mean of all elements.
pub static MEAN: Prim = Prim {
    name: "mean",
    naming: Naming::Prefix("mean"),
    op: "mean",
    doc: "the mean of all elements, a 0-d array",
    ty: |args, _| matches!(args, [Ty::Float(_)]).then_some(Ty::Float(0)),
    keeps_shape: false,
    kernel: Kernel {
        name: "mean",
        args: &[K::Arg(0)],
    },
    // d mean(x) = g / n everywhere
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::ShapeOf(0)],
        kernel: Kernel {
            name: "mean_backward",
            args: &[K::Arg(0), K::Value(1)],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "x: ArrayView2<T>",
        ret: "T",
        body: "(x * x).mean() * x.mean()",
        inputs: X_2D,
    }],
};

/// `x[.., start..end, ..]` along an axis.
pub static SLICE_AXIS: Prim = Prim {
    name: "slice_axis",
    naming: Naming::Suffix("slice"),
    op: "slice_axis",
    doc: "the elements `start..end` along an axis",
    ty: |args, attr| match (args, attr.axis()) {
        ([Ty::Float(r), Ty::Usize, Ty::Usize], Some(k)) if k < *r => Some(Ty::Float(*r)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "slice_axis",
        args: &[K::Arg(0), K::Axis, K::Value(1), K::Value(2), K::Site],
    },
    // g placed back at the sliced range, zeros elsewhere
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::Arg(1), Read::ShapeOf(0)],
        kernel: Kernel {
            name: "slice_axis_backward",
            args: &[K::Arg(0), K::Axis, K::Value(1), K::Value(2)],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "g: ArrayView2<T>, h: usize",
        ret: "Array2<T>",
        body: "sigmoid(g.slice_axis(Axis(1), 0..h)) * g.slice_axis(Axis(1), h..2 * h)",
        inputs: &[CaseInput::Float(&[3, 4], (-1.0, 1.0)), CaseInput::Size(2)],
    }],
};

/// A new axis of length 1.
pub static INSERT_AXIS: Prim = Prim {
    name: "insert_axis",
    naming: Naming::Suffix("col"),
    op: "insert_axis",
    doc: "a new axis of length 1",
    ty: |args, attr| match (args, attr.axis()) {
        ([Ty::Float(r)], Some(k)) if k <= *r && *r < 6 => Some(Ty::Float(r + 1)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "insert_axis",
        args: &[K::Arg(0), K::Axis],
    },
    // g without the new axis
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad],
        kernel: Kernel {
            name: "insert_axis_backward",
            args: &[K::Arg(0), K::Axis],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "x: ArrayView2<T>",
        ret: "Array2<T>",
        body: "x * x.mean_axis(Axis(1)).insert_axis(Axis(1))",
        inputs: X_2D,
    }],
};

/// `[n, ...] -> [n, rest]`.
pub static FLATTEN: Prim = Prim {
    name: "flatten",
    naming: Naming::Prefix("flat"),
    op: "flatten",
    doc: "the axes after the first merged into one: `[n, ...] -> [n, rest]`",
    ty: |args, _| matches!(args, [Ty::Float(r)] if *r >= 2).then_some(Ty::Float(2)),
    keeps_shape: false,
    kernel: Kernel {
        name: "flatten",
        args: &[K::Arg(0)],
    },
    // the gradient reshaped back
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::ShapeOf(0)],
        kernel: Kernel {
            name: "flatten_backward",
            args: &[K::Arg(0), K::Value(1)],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "x: ArrayView3<T>",
        ret: "Array2<T>",
        body: "tanh(flatten(x * 2.0))",
        inputs: &[CaseInput::Float(&[2, 3, 2], (-1.0, 1.0))],
    }],
};

/// How they are written.
pub static SYNTAX: &[Syntax] = &[
    Syntax {
        name: "t",
        usage: "a.t()",
        arity: 1,
        check: transpose,
    },
    Syntax {
        name: "transpose",
        usage: "transpose(a)",
        arity: 1,
        check: transpose,
    },
    Syntax {
        name: "sum",
        usage: "x.sum()",
        arity: 1,
        check: |l, c| full_reduction(l, c, &SUM),
    },
    Syntax {
        name: "mean",
        usage: "x.mean()",
        arity: 1,
        check: |l, c| full_reduction(l, c, &MEAN),
    },
    Syntax {
        name: "slice_axis",
        usage: "x.slice_axis(Axis(1), 0..h)",
        arity: 3,
        check: slice_axis,
    },
    Syntax {
        name: "insert_axis",
        usage: "x.insert_axis(Axis(1))",
        arity: 2,
        check: insert_axis,
    },
    Syntax {
        name: "flatten",
        usage: "flatten(x): [n, ...] -> [n, rest]",
        arity: 1,
        check: flatten,
    },
];

/// The IR ops.
pub static PRIMS: &[&Prim] = &[&TRANSPOSE, &SUM, &MEAN, &SLICE_AXIS, &INSERT_AXIS, &FLATTEN];
