//! The kernels by name, on dynamic-rank `f64` arrays: how the compiler's
//! interpreter calls the same kernels generated code calls, through the same
//! description of each call (`backprop_dsl::ops::Kernel`). An op described by
//! data adds its kernels here, one arm each.

use ndarray::{ArrayD, ArrayRef, Axis, Dimension, Ix1, Ix2, Ix3, IxDyn};

use crate::Site;

/// One argument of a kernel call.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// A float array.
    Float(&'a ArrayD<f64>),
    /// A `usize` array.
    Int(&'a ArrayD<usize>),
    /// A shape.
    Shape(&'a IxDyn),
    /// An axis.
    Axis(usize),
}

const SITE: Site = Site::internal("interp");

fn float<'a>(args: &[Arg<'a>], i: usize) -> Result<&'a ArrayD<f64>, String> {
    match args.get(i) {
        Some(Arg::Float(a)) => Ok(a),
        other => Err(format!(
            "argument {i}: expected a float array, got {other:?}"
        )),
    }
}

fn int<'a>(args: &[Arg<'a>], i: usize) -> Result<&'a ArrayD<usize>, String> {
    match args.get(i) {
        Some(Arg::Int(a)) => Ok(a),
        other => Err(format!("argument {i}: expected indices, got {other:?}")),
    }
}

fn shape(args: &[Arg<'_>], i: usize) -> Result<IxDyn, String> {
    match args.get(i) {
        Some(Arg::Shape(s)) => Ok((*s).clone()),
        other => Err(format!("argument {i}: expected a shape, got {other:?}")),
    }
}

fn axis(args: &[Arg<'_>], i: usize) -> Result<Axis, String> {
    match args.get(i) {
        Some(Arg::Axis(k)) => Ok(Axis(*k)),
        other => Err(format!("argument {i}: expected an axis, got {other:?}")),
    }
}

/// A view of a fixed rank.
fn rank<'a, A, D: Dimension>(a: &'a ArrayD<A>) -> Result<ndarray::ArrayView<'a, A, D>, String> {
    a.view()
        .into_dimensionality::<D>()
        .map_err(|_| format!("a {}-D array where the kernel takes another rank", a.ndim()))
}

/// A fixed-rank shape.
fn fixed<D: Dimension>(s: IxDyn) -> Result<D, String> {
    D::from_dimension(&s)
        .ok_or_else(|| format!("a {}-D shape where the kernel takes another rank", s.ndim()))
}

fn dynamic<D: Dimension>(a: ndarray::Array<f64, D>) -> ArrayD<f64> {
    a.into_dyn()
}

/// Calls the kernel `name` on `args`, laid out as generated code passes them (a
/// site, where the kernel takes one, is supplied here). Errors are a missing
/// kernel or mismatched arguments; a kernel's own panic (a shape mismatch)
/// propagates.
pub fn call(name: &str, args: &[Arg<'_>]) -> Result<ArrayD<f64>, String> {
    let f = |i| float(args, i);
    let a0 = f(0)?;
    let r: &ArrayRef<f64, IxDyn> = a0;
    Ok(match name {
        "sum_axis" => crate::sum_axis(r, axis(args, 1)?),
        "sum_axis_backward" => crate::sum_axis_backward(r, axis(args, 1)?, shape(args, 2)?),
        "mean_axis" => crate::mean_axis(r, axis(args, 1)?),
        "mean_axis_backward" => crate::mean_axis_backward(r, axis(args, 1)?, shape(args, 2)?),
        "max_axis" => crate::max_axis(r, axis(args, 1)?),
        "max_axis_backward" => crate::max_axis_backward(r, f(1)?, f(2)?, axis(args, 3)?),
        "logsumexp" => crate::logsumexp(r, axis(args, 1)?),
        "logsumexp_backward" => crate::logsumexp_backward(r, f(1)?, f(2)?, axis(args, 3)?),
        "softmax" => crate::softmax(r, axis(args, 1)?),
        "softmax_backward" => crate::softmax_backward(r, f(1)?, axis(args, 2)?),
        "log_softmax" => crate::log_softmax(r, axis(args, 1)?),
        "log_softmax_backward" => crate::log_softmax_backward(r, f(1)?, axis(args, 2)?),
        "pick" => dynamic(crate::pick(
            &rank::<_, Ix2>(a0)?,
            &rank::<_, Ix1>(int(args, 1)?)?,
            &SITE,
        )),
        "pick_backward" => dynamic(crate::pick_backward(
            &rank::<_, Ix1>(a0)?,
            &rank::<_, Ix1>(int(args, 1)?)?,
            fixed::<Ix2>(shape(args, 2)?)?,
        )),
        "rows" => dynamic(crate::rows(
            &rank::<_, Ix2>(a0)?,
            &rank::<_, Ix1>(int(args, 1)?)?,
            &SITE,
        )),
        "rows_backward" => dynamic(crate::rows_backward(
            &rank::<_, Ix2>(a0)?,
            &rank::<_, Ix1>(int(args, 1)?)?,
            fixed::<Ix2>(shape(args, 2)?)?,
        )),
        "take_along_axis" => crate::take_along_axis(r, int(args, 1)?, axis(args, 2)?, &SITE),
        "take_along_axis_backward" => {
            crate::take_along_axis_backward(r, int(args, 1)?, axis(args, 2)?, shape(args, 3)?)
        }
        "matmul_batched" => dynamic(crate::matmul_batched(
            &rank::<_, Ix3>(a0)?,
            &rank::<_, Ix3>(f(1)?)?,
            &SITE,
        )),
        "matmul_batched_backward_a" => dynamic(crate::matmul_batched_backward_a(
            &rank::<_, Ix3>(a0)?,
            &rank::<_, Ix3>(f(1)?)?,
        )),
        "matmul_batched_backward_b" => dynamic(crate::matmul_batched_backward_b(
            &rank::<_, Ix3>(a0)?,
            &rank::<_, Ix3>(f(1)?)?,
        )),
        "matmul_shared" => dynamic(crate::matmul_shared(
            &rank::<_, Ix3>(a0)?,
            &rank::<_, Ix2>(f(1)?)?,
            &SITE,
        )),
        "matmul_shared_backward_a" => dynamic(crate::matmul_shared_backward_a(
            &rank::<_, Ix3>(a0)?,
            &rank::<_, Ix2>(f(1)?)?,
        )),
        "matmul_shared_backward_w" => dynamic(crate::matmul_shared_backward_w(
            &rank::<_, Ix3>(a0)?,
            &rank::<_, Ix3>(f(1)?)?,
        )),
        other => return Err(format!("no kernel `{other}` in backprop_kernels::dynamic")),
    })
}
