//! The core ops: elementwise extrema, `where_`, `concatenate`, `stop_gradient`
//! and the sizes (`len_of`, `nrows`, `ncols`), plus `view` and `to_owned`, which
//! are the identity. They lower to the IR's own arithmetic and plumbing nodes,
//! whose derivative rules (built from other ops, in `crate::diff`) and emission
//! are written by hand, like `+ - * /`: they are the ops the other rules use.

use syn::Expr;

use super::prim::{Call, Syntax};
use crate::check::Lower;
use crate::ir::{BinOp, Op, Ty, ValueId};
use crate::messages;

/// `maximum(a, b)` and `minimum(a, b)`: arrays or scalars, broadcasting.
fn extremum(l: &mut Lower<'_>, c: &Call<'_>, op: BinOp) -> Option<ValueId> {
    let (a, b) = (l.operand(c.args[0], c.name), l.operand(c.args[1], c.name));
    let ((a, ra), (b, rb)) = (a?, b?);
    if l.ty(a) == Ty::Scalar && l.ty(b) == Ty::Scalar {
        l.diags()
            .error_range(c.range, messages::extremum_of_scalars(c.name));
        return None;
    }
    Some(l.node(Op::Binary(op), vec![a, b], Ty::Float(ra.max(rb)), c.span))
}

/// `where_(a > b, x, y)`: a comparison and two operands.
fn where_(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let m = l.expr(c.args[0]);
    let (a, b) = (l.operand(c.args[1], c.name), l.operand(c.args[2], c.name));
    let m = m?;
    let Ty::Mask(rm) = l.ty(m) else {
        let message = messages::where_condition(l.ty(m));
        l.diags().error_at(c.args[0], message);
        return None;
    };
    let ((a, ra), (b, rb)) = (a?, b?);
    Some(l.node(
        Op::Where,
        vec![m, a, b],
        Ty::Float(rm.max(ra).max(rb)),
        c.span,
    ))
}

/// `concatenate(Axis(k), &[&a, &b])`: parts of one rank.
fn concatenate(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let list = match c.args[1] {
        Expr::Reference(r) => &*r.expr,
        other => other,
    };
    let Expr::Array(arr) = list else {
        l.diags()
            .error_at(c.args[1], messages::CONCATENATE_NOT_A_LIST);
        return None;
    };
    let mut parts = Vec::new();
    for p in &arr.elems {
        parts.push(l.array_arg(p, c.name));
    }
    let parts: Vec<(ValueId, usize)> = parts.into_iter().collect::<Option<_>>()?;
    let Some(&(_, r)) = parts.first() else {
        l.diags().error_at(arr, messages::CONCATENATE_NOTHING);
        return None;
    };
    if let Some((i, &(_, rr))) = parts.iter().enumerate().find(|(_, p)| p.1 != r) {
        l.diags()
            .error_at(&arr.elems[i], messages::concatenate_ranks(rr, r));
        return None;
    }
    let k = l.axis(c.args[0], r, c.name)?;
    Some(l.node(
        Op::Concat(k),
        parts.iter().map(|p| p.0).collect(),
        Ty::Float(r),
        c.span,
    ))
}

/// `stop_gradient(x)`: the identity, through which no gradient flows.
fn stop_gradient(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let (x, r) = l.array_arg(c.args[0], c.name)?;
    Some(l.node(Op::StopGradient, vec![x], Ty::Float(r), c.span))
}

/// `x.len_of(Axis(k))`, `x.nrows()`, `x.ncols()`: the size of a float or integer array.
fn size(l: &mut Lower<'_>, c: &Call<'_>) -> Option<ValueId> {
    let v = l.expr(c.args[0])?;
    let (Ty::Float(r) | Ty::Int(r)) = l.ty(v) else {
        l.diags()
            .error_at(c.args[0], messages::size_of_non_array(c.name));
        return None;
    };
    let k = match c.name {
        "len_of" => l.axis(c.args[1], r, c.name)?,
        _ if r != 2 => {
            l.diags()
                .error_at(c.args[0], messages::size_of_non_matrix(c.name, r));
            return None;
        }
        "nrows" => 0,
        _ => 1,
    };
    Some(l.node(Op::LenOf(k), vec![v], Ty::Usize, c.span))
}

/// How they are written.
pub static SYNTAX: &[Syntax] = &[
    Syntax {
        name: "maximum",
        usage: "maximum(a, b)",
        arity: 2,
        check: |l, c| extremum(l, c, BinOp::Maximum),
    },
    Syntax {
        name: "minimum",
        usage: "minimum(a, b)",
        arity: 2,
        check: |l, c| extremum(l, c, BinOp::Minimum),
    },
    Syntax {
        name: "where_",
        usage: "where_(a > b, x, y)",
        arity: 3,
        check: where_,
    },
    Syntax {
        name: "concatenate",
        usage: "concatenate(Axis(1), &[&a, &b])",
        arity: 2,
        check: concatenate,
    },
    Syntax {
        name: "stop_gradient",
        usage: "stop_gradient(x)",
        arity: 1,
        check: stop_gradient,
    },
    Syntax {
        name: "len_of",
        usage: "x.len_of(Axis(1))",
        arity: 2,
        check: size,
    },
    Syntax {
        name: "nrows",
        usage: "x.nrows()",
        arity: 1,
        check: size,
    },
    Syntax {
        name: "ncols",
        usage: "x.ncols()",
        arity: 1,
        check: size,
    },
    Syntax {
        name: "view",
        usage: "x.view()",
        arity: 1,
        check: |l, c| l.expr(c.args[0]),
    },
    Syntax {
        name: "to_owned",
        usage: "x.to_owned()",
        arity: 1,
        check: |l, c| l.expr(c.args[0]),
    },
];
