//! Images laid out `[n, c, h, w]`: `conv2d` (im2col and one matrix product) and
//! `max_pool2` (2x2 windows, stride 2).

use super::prim::{Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax};
use crate::check::Lower;
use crate::diag::span_range;
use crate::ir::{Ty, ValueId};
use crate::messages::{self, Message};

/// `conv2d(x, w, stride, pad)`: images, kernels and two sizes.
fn conv2d(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, w) = (
        l.array_arg(c.args[0], c.name),
        l.array_arg(c.args[1], c.name),
    );
    let (stride, pad) = (l.usize_expr(c.args[2]), l.usize_expr(c.args[3]));
    let ((x, rx), (w, rw)) = (x?, w?);
    let images = messages::conv2d_images_rank as fn(usize) -> Message;
    for (arg, r, message) in [
        (c.args[0], rx, images),
        (c.args[1], rw, messages::conv2d_kernels_rank),
    ] {
        if r != 4 {
            l.diags().error(span_range(arg).0, message(r));
            return None;
        }
    }
    let (stride, pad) = (stride?, pad?);
    if l.usize_constant(stride) == Some(0) {
        l.diags().error_at(c.args[2], messages::CONV2D_STRIDE_ZERO);
        return None;
    }
    l.prim(&CONV2D, Attr::None, vec![x, w, stride, pad], c.span)
}

/// `max_pool2(x)`: images.
fn max_pool2(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, r) = l.array_arg(c.args[0], c.name)?;
    if r != 4 {
        l.diags()
            .error(span_range(c.args[0]).0, messages::max_pool2_rank(r));
        return None;
    }
    l.prim(&MAX_POOL2, Attr::None, vec![x], c.span)
}

/// A 2-D convolution of images `[n, c, h, w]` with kernels `[f, c, kh, kw]`.
pub static CONV2D: Prim = Prim {
    name: "conv2d",
    naming: Naming::Prefix("conv"),
    op: "conv2d",
    doc: "a 2-D convolution of images `[n, c, h, w]` with kernels `[f, c, kh, kw]`",
    ty: |args, _| {
        matches!(args, [Ty::Float(4), Ty::Float(4), Ty::Usize, Ty::Usize]).then_some(Ty::Float(4))
    },
    keeps_shape: false,
    kernel: Kernel {
        name: "conv2d",
        args: &[K::Arg(0), K::Arg(1), K::Value(2), K::Value(3), K::Site],
    },
    // y = conv(x, w): dx = col2im(G W), dw = G^T im2col(x)
    grads: &[
        Grad {
            wrt: 0,
            reads: &[
                Read::Grad,
                Read::Arg(1),
                Read::ShapeOf(0),
                Read::Arg(2),
                Read::Arg(3),
            ],
            kernel: Kernel {
                name: "conv2d_backward_input",
                args: &[K::Arg(0), K::Arg(1), K::Value(2), K::Value(3), K::Value(4)],
            },
            reshape_only: false,
        },
        Grad {
            wrt: 1,
            reads: &[
                Read::Grad,
                Read::Arg(0),
                Read::ShapeOf(1),
                Read::Arg(2),
                Read::Arg(3),
            ],
            kernel: Kernel {
                name: "conv2d_backward_weight",
                args: &[K::Arg(0), K::Arg(1), K::Value(2), K::Value(3), K::Value(4)],
            },
            reshape_only: false,
        },
    ],
    cases: &[Case {
        params: "x: ArrayView4<T>, w: ArrayView4<T>, b: ArrayView3<T>",
        ret: "Array2<T>",
        body: "flatten(tanh(conv2d(x, w, 1, 1) + &b))",
        inputs: &[
            CaseInput::Float(&[2, 2, 4, 4], (-1.0, 1.0)),
            CaseInput::Float(&[3, 2, 3, 3], (-1.0, 1.0)),
            CaseInput::Float(&[3, 1, 1], (-1.0, 1.0)),
        ],
    }],
};

/// The maximum of each 2x2 window, stride 2.
pub static MAX_POOL2: Prim = Prim {
    name: "max_pool2",
    naming: Naming::Prefix("pooled"),
    op: "max_pool2",
    doc: "the maximum of each 2x2 window of images `[n, c, h, w]`, stride 2",
    ty: |args, _| matches!(args, [Ty::Float(4)]).then_some(Ty::Float(4)),
    keeps_shape: false,
    kernel: Kernel {
        name: "max_pool2",
        args: &[K::Arg(0)],
    },
    // each window's gradient to its first maximum
    grads: &[Grad {
        wrt: 0,
        reads: &[Read::Arg(0), Read::Out, Read::Grad],
        kernel: Kernel {
            name: "max_pool2_backward",
            args: &[K::Arg(0), K::Arg(1), K::Arg(2)],
        },
        reshape_only: false,
    }],
    // Distinct values, so that no window has a tie (a kink).
    cases: &[Case {
        params: "x: ArrayView4<T>",
        ret: "Array4<T>",
        body: "max_pool2(x * 2.0)",
        inputs: &[CaseInput::Distinct(&[2, 2, 4, 4])],
    }],
};

/// How they are written.
pub static SYNTAX: &[Syntax] = &[
    Syntax {
        name: "conv2d",
        usage: "conv2d(x, w, stride, pad) with x [n, c, h, w] and w [f, c, kh, kw]",
        arity: 4,
        check: conv2d,
    },
    Syntax {
        name: "max_pool2",
        usage: "max_pool2(x) with x [n, c, h, w]: 2x2 windows, stride 2",
        arity: 1,
        check: max_pool2,
    },
];

/// The IR ops.
pub static PRIMS: &[&Prim] = &[&CONV2D, &MAX_POOL2];
