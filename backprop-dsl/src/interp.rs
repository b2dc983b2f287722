//! An interpreter for the IR over dynamic-rank `f64` arrays. It calls the same
//! kernels generated code calls, so the derivative rules of [`crate::diff`] can be
//! checked against finite differences without going through rustc.
//!
//! It serves tests and tools, never the macro. A value of the wrong kind or a
//! kernel's shape error panics inside it, and [`run`] catches the panic and
//! returns its text as the error, so those `panic!`s and `expect`s end there.

use backprop_kernels as k;
use k::Axis;
use ndarray::{ArrayD, IxDyn};

use crate::ir::{BinOp, GradOp, Graph, Op, ScalarOp, UsizeOp};
use crate::ops::{Attr, K, Kernel};

/// A run-time value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A float array (float scalars that take a gradient are 0-d arrays).
    Float(ArrayD<f64>),
    /// A `usize` array.
    Int(ArrayD<usize>),
    /// A comparison mask.
    Mask(ArrayD<bool>),
    /// A float scalar that takes no gradient.
    Scalar(f64),
    /// A `usize`.
    Usize(usize),
    /// A shape.
    Shape(IxDyn),
}

/// Outputs and, when upstream gradients were given, input gradients.
#[derive(Clone, Debug)]
pub struct Evaluated {
    /// One array per output.
    pub outputs: Vec<ArrayD<f64>>,
    /// One gradient per input (`None` for inputs that take none).
    pub grads: Vec<Option<ArrayD<f64>>>,
}

const SITE: k::Site = k::Site::internal("interp");

/// Runs the graph. With `seeds` (one upstream gradient per output) the backward
/// nodes run too and `grads` is filled. Errors are kernel panics turned into text.
pub fn run(
    g: &Graph,
    inputs: &[Value],
    seeds: Option<&[ArrayD<f64>]>,
) -> Result<Evaluated, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_inner(g, inputs, seeds))).map_err(
        |e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        },
    )
}

fn run_inner(g: &Graph, inputs: &[Value], seeds: Option<&[ArrayD<f64>]>) -> Evaluated {
    let mut vals: Vec<Option<Value>> = vec![None; g.nodes.len()];
    for (id, n) in g.nodes.iter().enumerate() {
        if n.backward && seeds.is_none() {
            continue;
        }
        let v = |i: usize| {
            vals[n.args[i]]
                .clone()
                .expect("arguments are evaluated first")
        };
        let value = match &n.op {
            Op::Input(i) => inputs[*i].clone(),
            Op::Const(c) => Value::Scalar(*c),
            Op::UsizeConst(c) => Value::Usize(*c),
            Op::Grad(GradOp::Seed(k)) => {
                Value::Float(seeds.expect("backward runs with seeds")[*k].clone())
            }
            other => eval(other, &(0..n.args.len()).map(v).collect::<Vec<_>>()),
        };
        vals[id] = Some(value);
    }
    let float = |v: &Option<Value>| match v {
        Some(Value::Float(a)) => a.clone(),
        other => panic!("expected a float array, got {other:?}"),
    };
    Evaluated {
        outputs: g.outputs.iter().map(|&o| float(&vals[o])).collect(),
        grads: if seeds.is_some() {
            g.grads
                .iter()
                .map(|gr| gr.map(|gr| float(&vals[gr])))
                .collect()
        } else {
            vec![]
        },
    }
}

fn f(v: &Value) -> ArrayD<f64> {
    match v {
        Value::Float(a) => a.clone(),
        Value::Scalar(s) => ndarray::arr0(*s).into_dyn(),
        other => panic!("expected a float, got {other:?}"),
    }
}

fn s(v: &Value) -> f64 {
    match v {
        Value::Scalar(s) => *s,
        // An integer parameter given by a `usize` input.
        Value::Usize(n) => *n as f64,
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn u(v: &Value) -> usize {
    match v {
        Value::Usize(n) => *n,
        other => panic!("expected a usize, got {other:?}"),
    }
}

fn shape(v: &Value) -> IxDyn {
    match v {
        Value::Shape(s) => s.clone(),
        other => panic!("expected a shape, got {other:?}"),
    }
}

/// A kernel called by name, with its arguments laid out as its description says
/// (the emitter reads the same description).
fn call(kernel: &Kernel, attr: Attr, a: &[Value]) -> Value {
    // A scalar passed where the kernel takes an array is a 0-d array, as in generated code.
    let zero_d: Vec<Option<ArrayD<f64>>> = a
        .iter()
        .map(|v| match v {
            Value::Scalar(s) => Some(ndarray::arr0(*s).into_dyn()),
            _ => None,
        })
        .collect();
    let arg = |i: usize| match (&a[i], &zero_d[i]) {
        (Value::Float(x), _) => k::dynamic::Arg::Float(x),
        (Value::Int(x), _) => k::dynamic::Arg::Int(x),
        (Value::Shape(s), _) => k::dynamic::Arg::Shape(s),
        (Value::Usize(n), _) => k::dynamic::Arg::Usize(*n),
        (_, Some(x)) => k::dynamic::Arg::Float(x),
        (other, None) => panic!("`{}` cannot take {other:?}", kernel.name),
    };
    let args: Vec<k::dynamic::Arg<'_>> = kernel
        .args
        .iter()
        .filter_map(|karg| match *karg {
            K::Arg(i) | K::Value(i) => Some(arg(i)),
            K::Axis => Some(k::dynamic::Arg::Axis(attr.axis().unwrap_or(0))),
            // The registry supplies a site of its own.
            K::Site => None,
        })
        .collect();
    match k::dynamic::call(kernel.name, &args) {
        Ok(x) => Value::Float(x),
        Err(e) => panic!("{}: {e}", kernel.name),
    }
}

fn eval(op: &Op, a: &[Value]) -> Value {
    let fl = Value::Float;
    match op {
        Op::Input(_) | Op::Const(_) | Op::UsizeConst(_) | Op::Grad(GradOp::Seed(_)) => {
            unreachable!("handled by the caller")
        }
        Op::Unavailable => panic!("a stub of a function with errors was run"),
        // The callee's body is not in this graph: only generated code runs it.
        Op::Call(_)
        | Op::CallOutput(_)
        | Op::CallSaved
        | Op::Grad(GradOp::CallBackward | GradOp::CallGrad(_)) => {
            panic!("the interpreter cannot run a call of another `#[differentiable]` function")
        }
        // A loop computes what its nodes computed one by one: run them so.
        Op::Fused(fused) => {
            let mut local: Vec<Value> = a.to_vec();
            for b in &fused.body {
                let args: Vec<Value> = b.args.iter().map(|&i| local[i].clone()).collect();
                local.push(eval(&b.op, &args));
            }
            local.pop().expect("a fused loop has a body")
        }
        Op::LenOf(ax) => Value::Usize(match &a[0] {
            Value::Float(x) => x.len_of(Axis(*ax)),
            Value::Int(x) => x.len_of(Axis(*ax)),
            other => panic!("len_of of {other:?}"),
        }),
        Op::UsizeArith(op) => {
            let (l, r) = (u(&a[0]), u(&a[1]));
            Value::Usize(match op {
                UsizeOp::Add => l + r,
                UsizeOp::Sub => l - r,
                UsizeOp::Mul => l * r,
                UsizeOp::Div => l / r,
            })
        }
        Op::ScalarArith(op) => {
            let (l, r) = (s(&a[0]), s(&a[1]));
            Value::Scalar(op.apply(l, r))
        }
        Op::Elementwise(e) => {
            let params: Vec<f64> = a[1..].iter().map(s).collect();
            fl(k::dynamic::elementwise(e.name, &f(&a[0]), &params)
                .unwrap_or_else(|e| panic!("{e}")))
        }
        Op::Grad(GradOp::ElementwiseGrad(e)) => {
            let reads = a.len() - e.params.len();
            let params: Vec<f64> = a[reads..].iter().map(s).collect();
            let (x, y, g) = match (e.uses.expect("has a derivative"), reads) {
                (k::Uses::X, 2) => (f(&a[0]), ArrayD::zeros(IxDyn(&[])), f(&a[1])),
                (k::Uses::Y, 2) => (ArrayD::zeros(IxDyn(&[])), f(&a[0]), f(&a[1])),
                (k::Uses::XY, 3) => (f(&a[0]), f(&a[1]), f(&a[2])),
                other => panic!("elementwise gradient with {other:?}"),
            };
            fl(
                k::dynamic::elementwise_backward(e.name, &x, &y, &g, &params)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        }
        Op::Binary(op) => {
            let (l, r) = (f(&a[0]), f(&a[1]));
            fl(match op {
                BinOp::Add => k::add(&l, &r, &SITE),
                BinOp::Sub => k::sub(&l, &r, &SITE),
                BinOp::Mul => k::mul(&l, &r, &SITE),
                BinOp::Div => k::div(&l, &r, &SITE),
                BinOp::Maximum => k::maximum(&l, &r, &SITE),
                BinOp::Minimum => k::minimum(&l, &r, &SITE),
            })
        }
        Op::WithScalar(op) => {
            let (x, c) = (f(&a[0]), s(&a[1]));
            fl(match op {
                ScalarOp::Add => k::add_scalar(&x, c),
                ScalarOp::Sub => k::sub_scalar(&x, c),
                ScalarOp::RSub => k::scalar_sub(c, &x),
                ScalarOp::Mul => k::mul_scalar(&x, c),
                ScalarOp::Div => k::div_scalar(&x, c),
                ScalarOp::RDiv => k::scalar_div(c, &x),
            })
        }
        Op::Compare(cmp) => Value::Mask(k::compare(&f(&a[0]), &f(&a[1]), *cmp, &SITE)),
        Op::Where => match &a[0] {
            Value::Mask(m) => fl(k::where_(m, &f(&a[1]), &f(&a[2]), &SITE)),
            other => panic!("where_ of {other:?}"),
        },
        Op::Prim(p, attr) => call(&p.kernel, *attr, a),
        Op::Grad(GradOp::PrimGrad(p, i, attr)) => match p.grads.get(*i) {
            Some(grad) => call(&grad.kernel, *attr, a),
            None => panic!("`{}` has no derivative {i}", p.name),
        },
        Op::Concat(ax) => {
            let parts: Vec<ArrayD<f64>> = a.iter().map(f).collect();
            let refs: Vec<&ndarray::ArrayRef<f64, IxDyn>> = parts.iter().map(|p| &**p).collect();
            fl(k::concatenate(Axis(*ax), &refs, &SITE))
        }
        Op::Grad(GradOp::ConcatGrad(ax, i)) => {
            let lens: Vec<usize> = a[1..].iter().map(|v| shape(v)[*ax]).collect();
            fl(k::concatenate_backward(&f(&a[0]), Axis(*ax), &lens, *i))
        }
        Op::StopGradient => fl(f(&a[0])),
        Op::ShapeOf => {
            let shapes: Vec<Vec<usize>> = a
                .iter()
                .map(|v| match v {
                    Value::Float(x) => x.shape().to_vec(),
                    Value::Int(x) => x.shape().to_vec(),
                    Value::Mask(x) => x.shape().to_vec(),
                    other => panic!("shape of {other:?}"),
                })
                .collect();
            let shapes: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
            Value::Shape(k::broadcast_shape_of::<IxDyn>(&shapes))
        }
        Op::Grad(GradOp::SumTo) => fl(k::sum_to(&f(&a[0]), shape(&a[1]))),
        Op::Grad(GradOp::MaskBy(cmp)) => {
            let (l, r) = (f(&a[0]), f(&a[1]));
            fl(match cmp {
                k::Compare::Ge => k::mask_ge(&l, &r, &SITE),
                k::Compare::Lt => k::mask_lt(&l, &r, &SITE),
                k::Compare::Le => k::mask_le(&l, &r, &SITE),
                k::Compare::Gt => k::mask_gt(&l, &r, &SITE),
                other => panic!("no mask kernel for {other:?}"),
            })
        }
        Op::Grad(GradOp::MaskGrad(keep)) => match &a[0] {
            Value::Mask(m) => fl(k::mask_grad(m, &f(&a[1]), *keep)),
            other => panic!("mask_grad of {other:?}"),
        },
        Op::Grad(GradOp::Zeros) => fl(ArrayD::zeros(shape(&a[0]))),
    }
}
