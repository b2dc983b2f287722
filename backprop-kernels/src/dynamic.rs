//! The kernels by name, on dynamic-rank `f64` arrays: how the compiler's
//! interpreter calls the same kernels generated code calls, through the same
//! description of each call (`backprop_dsl::ops::Kernel`). An op described by
//! data adds its kernels here, one arm each.

use ndarray::{ArrayD, ArrayRef, Axis, Dimension, Ix0, Ix1, Ix2, Ix3, Ix4, IxDyn};

use crate::Site;

/// A forward elementwise kernel on `f64`: `(x, params)`.
type Forward = fn(&ArrayD<f64>, &[f64]) -> ArrayD<f64>;
/// A derivative kernel on `f64`: `(x, y, g, params) -> g * dy/dx`.
type Backward = fn(&ArrayD<f64>, &ArrayD<f64>, &ArrayD<f64>, &[f64]) -> ArrayD<f64>;

/// Each entry of [`crate::ELEMENTWISE`] with its kernels (a test checks that
/// none is missing): the same generic kernels generated code calls, on `f64`.
const ELEMENTWISE_KERNELS: &[(&str, Forward, Option<Backward>)] = {
    use crate::elementwise::*;
    &[
        ("neg", |x, _| neg(x), Some(|_, _, g, _| neg_backward(g))),
        ("exp", |x, _| exp(x), Some(|_, y, g, _| exp_backward(y, g))),
        ("ln", |x, _| ln(x), Some(|x, _, g, _| ln_backward(x, g))),
        (
            "sqrt",
            |x, _| sqrt(x),
            Some(|_, y, g, _| sqrt_backward(y, g)),
        ),
        ("abs", |x, _| abs(x), Some(|x, _, g, _| abs_backward(x, g))),
        (
            "square",
            |x, _| square(x),
            Some(|x, _, g, _| square_backward(x, g)),
        ),
        (
            "powi",
            |x, p| powi(x, p[0] as i32),
            Some(|x, _, g, p| powi_backward(x, g, p[0] as i32)),
        ),
        (
            "powf",
            |x, p| powf(x, p[0]),
            Some(|x, _, g, p| powf_backward(x, g, p[0])),
        ),
        (
            "recip",
            |x, _| recip(x),
            Some(|_, y, g, _| recip_backward(y, g)),
        ),
        (
            "sigmoid",
            |x, _| sigmoid(x),
            Some(|_, y, g, _| sigmoid_backward(y, g)),
        ),
        (
            "tanh",
            |x, _| tanh(x),
            Some(|_, y, g, _| tanh_backward(y, g)),
        ),
        (
            "relu",
            |x, _| relu(x),
            Some(|x, _, g, _| relu_backward(x, g)),
        ),
        (
            "leaky_relu",
            |x, p| leaky_relu(x, p[0]),
            Some(|x, _, g, p| leaky_relu_backward(x, g, p[0])),
        ),
        (
            "elu",
            |x, p| elu(x, p[0]),
            Some(|x, y, g, p| elu_backward(x, y, g, p[0])),
        ),
        (
            "softplus",
            |x, _| softplus(x),
            Some(|x, _, g, _| softplus_backward(x, g)),
        ),
        (
            "gelu",
            |x, _| gelu(x),
            Some(|x, _, g, _| gelu_backward(x, g)),
        ),
        (
            "silu",
            |x, _| silu(x),
            Some(|x, _, g, _| silu_backward(x, g)),
        ),
        ("sin", |x, _| sin(x), Some(|x, _, g, _| sin_backward(x, g))),
        ("cos", |x, _| cos(x), Some(|x, _, g, _| cos_backward(x, g))),
        (
            "clip",
            |x, p| clip(x, p[0], p[1]),
            Some(|x, _, g, p| clip_backward(x, g, p[0], p[1])),
        ),
        (
            "huber",
            |x, p| huber(x, p[0]),
            Some(|x, _, g, p| huber_backward(x, g, p[0])),
        ),
        ("sign", |x, _| sign(x), None),
        ("floor", |x, _| floor(x), None),
        ("round", |x, _| round(x), None),
    ]
};

fn elementwise_kernels(name: &str) -> Result<(Forward, Option<Backward>), String> {
    ELEMENTWISE_KERNELS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, f, b)| (f, b))
        .ok_or_else(|| format!("no elementwise op `{name}`"))
}

/// The elementwise op `name` on `x` with its constant parameters.
pub fn elementwise(name: &str, x: &ArrayD<f64>, params: &[f64]) -> Result<ArrayD<f64>, String> {
    Ok(elementwise_kernels(name)?.0(x, params))
}

/// The derivative of the elementwise op `name`: `g * dy/dx`, given the forward
/// input `x`, its output `y` and the upstream gradient `g`.
pub fn elementwise_backward(
    name: &str,
    x: &ArrayD<f64>,
    y: &ArrayD<f64>,
    g: &ArrayD<f64>,
    params: &[f64],
) -> Result<ArrayD<f64>, String> {
    let backward = elementwise_kernels(name)?
        .1
        .ok_or_else(|| format!("`{name}` has no derivative"))?;
    Ok(backward(x, y, g, params))
}

/// One argument of a kernel call.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// A float array.
    Float(&'a ArrayD<f64>),
    /// A `usize` array.
    Int(&'a ArrayD<usize>),
    /// A shape.
    Shape(&'a IxDyn),
    /// A `usize` (a slice bound, a stride).
    Usize(usize),
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

fn size(args: &[Arg<'_>], i: usize) -> Result<usize, String> {
    match args.get(i) {
        Some(Arg::Usize(n)) => Ok(*n),
        other => Err(format!("argument {i}: expected a usize, got {other:?}")),
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
        "transpose" => dynamic(crate::transpose(&rank::<_, Ix2>(a0)?)),
        "sum" => dynamic(crate::sum(r)),
        "mean" => dynamic(crate::mean(r)),
        "broadcast_to" => crate::broadcast_to(r, shape(args, 1)?),
        "mean_backward" => crate::mean_backward(&rank::<_, Ix0>(a0)?, shape(args, 1)?),
        "slice_axis" => crate::slice_axis(r, axis(args, 1)?, size(args, 2)?, size(args, 3)?, &SITE),
        "slice_axis_backward" => {
            crate::slice_axis_backward(r, axis(args, 1)?, size(args, 2)?, shape(args, 3)?)
        }
        "insert_axis" => crate::insert_axis(r, axis(args, 1)?),
        "insert_axis_backward" => crate::insert_axis_backward(r, axis(args, 1)?),
        "flatten" => dynamic(crate::flatten(r)),
        "flatten_backward" => crate::flatten_backward(&rank::<_, Ix2>(a0)?, shape(args, 1)?),
        "conv2d" => dynamic(crate::conv2d(
            &rank::<_, Ix4>(a0)?,
            &rank::<_, Ix4>(f(1)?)?,
            size(args, 2)?,
            size(args, 3)?,
            &SITE,
        )),
        "conv2d_backward_input" => dynamic(crate::conv2d_backward_input(
            &rank::<_, Ix4>(a0)?,
            &rank::<_, Ix4>(f(1)?)?,
            fixed::<Ix4>(shape(args, 2)?)?,
            size(args, 3)?,
            size(args, 4)?,
        )),
        "conv2d_backward_weight" => dynamic(crate::conv2d_backward_weight(
            &rank::<_, Ix4>(a0)?,
            &rank::<_, Ix4>(f(1)?)?,
            fixed::<Ix4>(shape(args, 2)?)?,
            size(args, 3)?,
            size(args, 4)?,
        )),
        "max_pool2" => dynamic(crate::max_pool2(&rank::<_, Ix4>(a0)?)),
        "max_pool2_backward" => dynamic(crate::max_pool2_backward(
            &rank::<_, Ix4>(a0)?,
            &rank::<_, Ix4>(f(1)?)?,
            &rank::<_, Ix4>(f(2)?)?,
        )),
        "dot_mm" => dynamic(crate::dot_mm(
            &rank::<_, Ix2>(a0)?,
            &rank::<_, Ix2>(f(1)?)?,
            &SITE,
        )),
        "dot_mv" => dynamic(crate::dot_mv(
            &rank::<_, Ix2>(a0)?,
            &rank::<_, Ix1>(f(1)?)?,
            &SITE,
        )),
        "dot_vm" => dynamic(crate::dot_vm(
            &rank::<_, Ix1>(a0)?,
            &rank::<_, Ix2>(f(1)?)?,
            &SITE,
        )),
        "dot_vv" => dynamic(crate::dot_vv(
            &rank::<_, Ix1>(a0)?,
            &rank::<_, Ix1>(f(1)?)?,
            &SITE,
        )),
        "dot_mt" => dynamic(crate::dot_mt(&rank::<_, Ix2>(a0)?, &rank::<_, Ix2>(f(1)?)?)),
        "dot_tm" => dynamic(crate::dot_tm(&rank::<_, Ix2>(a0)?, &rank::<_, Ix2>(f(1)?)?)),
        "outer" => dynamic(crate::outer(&rank::<_, Ix1>(a0)?, &rank::<_, Ix1>(f(1)?)?)),
        "mul" => crate::mul(r, f(1)?, &SITE),
        other => return Err(format!("no kernel `{other}` in backprop_kernels::dynamic")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_elementwise_op_has_its_kernels() {
        // Their values are checked against each op's reference formula in
        // backprop-tests/tests/gradients.rs, their derivatives by finite differences.
        for op in crate::ELEMENTWISE {
            let (_, backward) = elementwise_kernels(op.name).unwrap();
            assert_eq!(backward.is_some(), op.uses.is_some(), "{}", op.name);
        }
        assert_eq!(
            ELEMENTWISE_KERNELS.len(),
            crate::ELEMENTWISE.len(),
            "a kernel entry without an op"
        );
    }
}
