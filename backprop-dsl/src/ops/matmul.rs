//! `matmul(a, &b)`: the batched matrix product, `[b, n, k] x [b, k, m]` (one
//! product per batch) and `[b, n, k] x [k, m]` (one weight for every batch), as
//! multi-head attention needs. Products of 1-D and 2-D arrays are `a.dot(&b)`.

use super::prim::{Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax};
use crate::check::Lower;
use crate::ir::{Ty, ValueId};
use crate::messages;

fn matmul(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (a, b) = (
        l.array_arg(c.args[0], c.name),
        l.array_arg(c.args[1], c.name),
    );
    let ((a, ra), (b, rb)) = (a?, b?);
    let prim = match (ra, rb) {
        (3, 3) => &MATMUL_BATCHED,
        (3, 2) => &MATMUL_SHARED,
        _ => {
            let (bad, r) = if ra != 3 {
                (c.args[0], ra)
            } else {
                (c.args[1], rb)
            };
            let small = ra <= 2 && rb <= 2;
            l.diags().error_at(bad, messages::matmul_rank(r, small));
            return None;
        }
    };
    l.prim(prim, Attr::None, vec![a, b], c.span)
}

/// `[b, n, k] x [b, k, m] -> [b, n, m]`.
pub static MATMUL_BATCHED: Prim = Prim {
    name: "matmul_batched",
    naming: Naming::Infix("matmul"),
    op: "matmul",
    doc: "one matrix product per batch: `[b, n, k] x [b, k, m] -> [b, n, m]`",
    ty: |args, _| match args {
        [Ty::Float(3), Ty::Float(3)] => Some(Ty::Float(3)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "matmul_batched",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // C_i = A_i B_i: dA_i = G_i B_i^T, dB_i = A_i^T G_i
    grads: &[
        Grad {
            wrt: 0,
            reads: &[Read::Grad, Read::Arg(1)],
            kernel: Kernel {
                name: "matmul_batched_backward_a",
                args: &[K::Arg(0), K::Arg(1)],
            },
            reshape_only: false,
        },
        Grad {
            wrt: 1,
            reads: &[Read::Arg(0), Read::Grad],
            kernel: Kernel {
                name: "matmul_batched_backward_b",
                args: &[K::Arg(0), K::Arg(1)],
            },
            reshape_only: false,
        },
    ],
    cases: &[Case {
        params: "q: ArrayView3<T>, k: ArrayView3<T>",
        ret: "T",
        body: "(softmax(matmul(q, &k), Axis(2)) * 2.0).square().sum()",
        inputs: &[
            CaseInput::Float(&[2, 3, 4], (-1.0, 1.0)),
            CaseInput::Float(&[2, 4, 3], (-1.0, 1.0)),
        ],
    }],
};

/// `[b, n, k] x [k, m] -> [b, n, m]`.
pub static MATMUL_SHARED: Prim = Prim {
    name: "matmul_shared",
    naming: Naming::Infix("matmul"),
    op: "matmul",
    doc: "the same matrix for every batch: `[b, n, k] x [k, m] -> [b, n, m]`",
    ty: |args, _| match args {
        [Ty::Float(3), Ty::Float(2)] => Some(Ty::Float(3)),
        _ => None,
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "matmul_shared",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // C_i = A_i W: dA_i = G_i W^T, dW = sum_i A_i^T G_i
    grads: &[
        Grad {
            wrt: 0,
            reads: &[Read::Grad, Read::Arg(1)],
            kernel: Kernel {
                name: "matmul_shared_backward_a",
                args: &[K::Arg(0), K::Arg(1)],
            },
            reshape_only: false,
        },
        Grad {
            wrt: 1,
            reads: &[Read::Arg(0), Read::Grad],
            kernel: Kernel {
                name: "matmul_shared_backward_w",
                args: &[K::Arg(0), K::Arg(1)],
            },
            reshape_only: false,
        },
    ],
    cases: &[Case {
        params: "x: ArrayView3<T>, w: ArrayView2<T>",
        ret: "Array3<T>",
        body: "tanh(matmul(x, &w))",
        inputs: &[
            CaseInput::Float(&[2, 3, 4], (-1.0, 1.0)),
            CaseInput::Float(&[4, 5], (-1.0, 1.0)),
        ],
    }],
};

/// How it is written.
pub static SYNTAX: &[Syntax] = &[Syntax {
    name: "matmul",
    usage: "matmul(a, &b) with a [b, n, k] and b [b, k, m] or [k, m]",
    arity: 2,
    check: matmul,
}];

/// The IR ops of the batched product.
pub static PRIMS: &[&Prim] = &[&MATMUL_BATCHED, &MATMUL_SHARED];
