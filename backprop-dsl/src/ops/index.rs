//! Indexing with integer arrays: `pick` (one column per row, the DQN case),
//! `rows` (embedding lookup) and `take_along_axis`, the general gather of which
//! both are special cases. Every derivative scatter-adds the gradient back.

use super::prim::{Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax};
use crate::check::Lower;
use crate::ir::{Ty, ValueId};
use crate::messages::{self, Message};

/// `pick(q, &idx)` and `rows(table, &ids)`: a 2-D array and a 1-D index.
fn two_d_and_index(
    l: &mut Lower<'_>,
    c: &Call<'_>,
    prim: &'static Prim,
    not_2d: fn(usize) -> Message,
) -> Option<ValueId> {
    let q = l.array_arg(c.args[0], c.name);
    let idx = l.index_arg(c.args[1], c.name);
    let ((q, r), idx) = (q?, idx?);
    if r != 2 {
        l.diags().error_at(c.args[0], not_2d(r));
        return None;
    }
    l.prim(prim, Attr::None, vec![q, idx], c.span)
}

/// `take_along_axis(x, &idx, Axis(k))`: indices of `x`'s rank.
fn take(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let x = l.array_arg(c.args[0], c.name);
    let idx = l.expr(c.args[1]);
    let ((x, r), idx) = (x?, idx?);
    if l.ty(idx) != Ty::Int(r) {
        let message = messages::take_along_axis_indices(r, l.ty(idx));
        l.diags().error_at(c.args[1], message);
        return None;
    }
    let k = l.axis(c.args[2], r, c.name)?;
    let attr = Attr::Axis(k);
    l.prim(&TAKE_ALONG_AXIS, attr, vec![x, idx], c.span)
}

/// `pick(q, &idx)`: `q[i, idx[i]]` for each row `i`.
pub static PICK: Prim = Prim {
    name: "pick",
    naming: Naming::Prefix("picked"),
    op: "pick",
    doc: "`q[i, idx[i]]` for each row `i` (NumPy's `q[arange(n), idx]`)",
    ty: |args, _| match args {
        [Ty::Float(2), Ty::Int(1)] => Some(Ty::Float(1)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "pick",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // dq = zeros with g[i] added at [i, idx[i]]
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::Arg(1), Read::ShapeOf(0)],
        kernel: Kernel {
            name: "pick_backward",
            args: &[K::Arg(0), K::Arg(1), K::Value(2)],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "q: ArrayView2<T>, a: ArrayView1<usize>",
        ret: "Array1<T>",
        body: "pick(q, &a) * 2.0",
        inputs: &[
            CaseInput::Float(&[4, 3], (-1.0, 1.0)),
            CaseInput::Index(&[4], &[2, 0, 2, 1]),
        ],
    }],
};

/// `rows(table, &ids)`: the rows of `table` at `ids`.
pub static ROWS: Prim = Prim {
    name: "rows",
    naming: Naming::Prefix("rows"),
    op: "rows",
    doc: "the rows of a table at the given ids (an embedding lookup)",
    ty: |args, _| match args {
        [Ty::Float(2), Ty::Int(1)] => Some(Ty::Float(2)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "rows",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // dtable = zeros with row j of g added to row ids[j]: repeated ids accumulate
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::Arg(1), Read::ShapeOf(0)],
        kernel: Kernel {
            name: "rows_backward",
            args: &[K::Arg(0), K::Arg(1), K::Value(2)],
        },
        reshape_only: false,
    }],
    cases: &[Case {
        params: "w: ArrayView2<T>, ids: ArrayView1<usize>",
        ret: "Array2<T>",
        body: "rows(w, &ids).square()",
        inputs: &[
            CaseInput::Float(&[4, 3], (-1.0, 1.0)),
            CaseInput::Index(&[5], &[1, 3, 1, 0, 1]),
        ],
    }],
};

/// `take_along_axis(x, &idx, Axis(k))`: NumPy's `take_along_axis`.
pub static TAKE_ALONG_AXIS: Prim = Prim {
    name: "take_along_axis",
    naming: Naming::Prefix("taken"),
    op: "take_along_axis",
    doc: "the elements of `x` at `idx` along an axis (NumPy's `take_along_axis`; indices of length 1 broadcast)",
    ty: |args, attr| match (args, attr.axis()) {
        ([Ty::Float(r), Ty::Int(ri)], Some(k)) if r == ri && k < *r => Some(Ty::Float(*r)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "take_along_axis",
        args: &[K::Arg(0), K::Arg(1), K::Axis, K::Site],
    },
    // dx = zeros with each g element added where it was taken from
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Grad, Read::Arg(1), Read::ShapeOf(0)],
        kernel: Kernel {
            name: "take_along_axis_backward",
            args: &[K::Arg(0), K::Arg(1), K::Axis, K::Value(2)],
        },
        reshape_only: false,
    }],
    cases: &[
        // pick's case: one index per row, along axis 1
        Case {
            params: "q: ArrayView2<T>, a: ArrayView2<usize>",
            ret: "Array2<T>",
            body: "take_along_axis(q, &a, Axis(1)) * 3.0",
            inputs: &[
                CaseInput::Float(&[4, 3], (-1.0, 1.0)),
                CaseInput::Index(&[4, 1], &[2, 0, 2, 1]),
            ],
        },
        // rows' case: indices broadcast along axis 1, repeated ones accumulate
        Case {
            params: "w: ArrayView2<T>, ids: ArrayView2<usize>",
            ret: "Array2<T>",
            body: "take_along_axis(w, &ids, Axis(0)).square()",
            inputs: &[
                CaseInput::Float(&[4, 3], (-1.0, 1.0)),
                CaseInput::Index(&[5, 1], &[1, 3, 1, 0, 1]),
            ],
        },
        // a 3-D gather along the middle axis, several indices per lane
        Case {
            params: "x: ArrayView3<T>, i: ArrayView3<usize>",
            ret: "Array3<T>",
            body: "tanh(take_along_axis(x, &i, Axis(1)))",
            inputs: &[
                CaseInput::Float(&[2, 3, 2], (-1.0, 1.0)),
                CaseInput::Index(
                    &[2, 4, 2],
                    &[0, 2, 1, 1, 2, 2, 0, 1, 1, 0, 2, 2, 0, 0, 1, 2],
                ),
            ],
        },
    ],
};

/// How they are written.
pub static SYNTAX: &[Syntax] = &[
    Syntax {
        name: "pick",
        usage: "pick(q, &actions)",
        arity: 2,
        check: |l, c| two_d_and_index(l, c, &PICK, messages::pick_rank),
    },
    Syntax {
        name: "rows",
        usage: "rows(table, &ids)",
        arity: 2,
        check: |l, c| two_d_and_index(l, c, &ROWS, messages::rows_rank),
    },
    Syntax {
        name: "take_along_axis",
        usage: "take_along_axis(x, &idx, Axis(1)) with idx a usize array of x's rank",
        arity: 3,
        check: take,
    },
];

/// The IR ops of indexing.
pub static PRIMS: &[&Prim] = &[&PICK, &ROWS, &TAKE_ALONG_AXIS];
