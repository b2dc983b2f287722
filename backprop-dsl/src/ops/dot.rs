//! `a.dot(&b)`: matrix x matrix, matrix x vector, vector x matrix and vector x
//! vector, each a kernel of its own with its own derivatives. Batched products
//! are `matmul` (`matmul.rs`).

use super::prim::{Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax};
use crate::check::Lower;
use crate::ir::{Ty, ValueId};
use crate::messages;

fn dot(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (a, b) = (
        l.array_arg(c.args[0], c.name),
        l.array_arg(c.args[1], c.name),
    );
    let ((a, ra), (b, rb)) = (a?, b?);
    let prim = match (ra, rb) {
        (2, 2) => &DOT_MM,
        (2, 1) => &DOT_MV,
        (1, 2) => &DOT_VM,
        (1, 1) => &DOT_VV,
        _ => {
            let (bad, r) = if !(1..=2).contains(&ra) {
                (c.args[0], ra)
            } else {
                (c.args[1], rb)
            };
            let batched = ra == 3 && (rb == 2 || rb == 3);
            l.diags().error_at(bad, messages::dot_rank(r, batched));
            return None;
        }
    };
    l.prim(prim, Attr::None, vec![a, b], c.span)
}

/// The type rule of a product of these ranks.
macro_rules! product_ty {
    ($ra:literal, $rb:literal => $r:literal) => {
        |args, _| matches!(args, [Ty::Float($ra), Ty::Float($rb)]).then_some(Ty::Float($r))
    };
}

const AB: &[Read] = &[Read::Grad, Read::Arg(1)];
const AG: &[Read] = &[Read::Arg(0), Read::Grad];

/// A derivative kernel of two reads and no site.
const fn grad(wrt: usize, reads: &'static [Read], name: &'static str) -> Grad {
    Grad {
        wrt,
        reads,
        kernel: Kernel {
            name,
            args: &[K::Arg(0), K::Arg(1)],
        },
        reshape_only: false,
    }
}

/// `[n, k] x [k, m]`.
pub static DOT_MM: Prim = Prim {
    name: "dot_mm",
    naming: Naming::Infix("dot"),
    op: "dot",
    doc: "matrix x matrix",
    ty: product_ty!(2, 2 => 2),
    keeps_shape: false,
    kernel: Kernel {
        name: "dot_mm",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // C = A B: dA = G B^T, dB = A^T G
    grads: &[grad(0, AB, "dot_mt"), grad(1, AG, "dot_tm")],
    cases: &[Case {
        params: "a: ArrayView2<T>, b: ArrayView2<T>",
        ret: "Array2<T>",
        body: "tanh(a.dot(&b))",
        inputs: &[
            CaseInput::Float(&[3, 4], (-1.0, 1.0)),
            CaseInput::Float(&[4, 2], (-1.0, 1.0)),
        ],
    }],
};

/// `[n, k] x [k]`.
pub static DOT_MV: Prim = Prim {
    name: "dot_mv",
    naming: Naming::Infix("dot"),
    op: "dot",
    doc: "matrix x vector",
    ty: product_ty!(2, 1 => 1),
    keeps_shape: false,
    kernel: Kernel {
        name: "dot_mv",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // y = A v: dA = g v^T, dv = A^T g (g as a row: g A)
    grads: &[
        grad(0, AB, "outer"),
        Grad {
            wrt: 1,
            reads: &[Read::Grad, Read::Arg(0)],
            kernel: Kernel {
                name: "dot_vm",
                args: &[K::Arg(0), K::Arg(1), K::Site],
            },
            reshape_only: false,
        },
    ],
    cases: &[Case {
        params: "a: ArrayView2<T>, v: ArrayView1<T>",
        ret: "Array1<T>",
        body: "tanh(a.dot(&v))",
        inputs: &[
            CaseInput::Float(&[3, 4], (-1.0, 1.0)),
            CaseInput::Float(&[4], (-1.0, 1.0)),
        ],
    }],
};

/// `[k] x [k, m]`.
pub static DOT_VM: Prim = Prim {
    name: "dot_vm",
    naming: Naming::Infix("dot"),
    op: "dot",
    doc: "vector x matrix",
    ty: product_ty!(1, 2 => 1),
    keeps_shape: false,
    kernel: Kernel {
        name: "dot_vm",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // y = u B: du = B g, dB = u g^T
    grads: &[
        Grad {
            wrt: 0,
            reads: &[Read::Arg(1), Read::Grad],
            kernel: Kernel {
                name: "dot_mv",
                args: &[K::Arg(0), K::Arg(1), K::Site],
            },
            reshape_only: false,
        },
        grad(1, AG, "outer"),
    ],
    cases: &[Case {
        params: "u: ArrayView1<T>, b: ArrayView2<T>",
        ret: "Array1<T>",
        body: "tanh(u.dot(&b))",
        inputs: &[
            CaseInput::Float(&[3], (-1.0, 1.0)),
            CaseInput::Float(&[3, 4], (-1.0, 1.0)),
        ],
    }],
};

/// `[k] x [k]`, a 0-d array.
pub static DOT_VV: Prim = Prim {
    name: "dot_vv",
    naming: Naming::Infix("dot"),
    op: "dot",
    doc: "vector x vector, a 0-d array",
    ty: product_ty!(1, 1 => 0),
    keeps_shape: false,
    kernel: Kernel {
        name: "dot_vv",
        args: &[K::Arg(0), K::Arg(1), K::Site],
    },
    // s = u . v: du = g v, dv = g u (g is 0-d and broadcasts)
    grads: &[
        Grad {
            wrt: 0,
            reads: AB,
            kernel: Kernel {
                name: "mul",
                args: &[K::Arg(0), K::Arg(1), K::Site],
            },
            reshape_only: false,
        },
        Grad {
            wrt: 1,
            reads: &[Read::Grad, Read::Arg(0)],
            kernel: Kernel {
                name: "mul",
                args: &[K::Arg(0), K::Arg(1), K::Site],
            },
            reshape_only: false,
        },
    ],
    cases: &[Case {
        params: "v: ArrayView1<T>, u: ArrayView1<T>",
        ret: "T",
        body: "v.dot(&u) * v.dot(&v)",
        inputs: &[
            CaseInput::Float(&[4], (-1.0, 1.0)),
            CaseInput::Float(&[4], (-1.0, 1.0)),
        ],
    }],
};

/// How it is written.
pub static SYNTAX: &[Syntax] = &[Syntax {
    name: "dot",
    usage: "a.dot(&b)",
    arity: 2,
    check: dot,
}];

/// The IR ops.
pub static PRIMS: &[&Prim] = &[&DOT_MM, &DOT_MV, &DOT_VM, &DOT_VV];
