//! Elementwise ops: each op's forward kernel, its derivative kernel and its entry
//! in [`ELEMENTWISE`] (the table the compiler reads) stand side by side.
//!
//! A derivative kernel `op_backward` takes what the rule reads (`x`, the forward
//! input; `y`, the forward output; or both), the upstream gradient `g`, and the
//! op's constant parameters, and returns `g * dy/dx`.

use ndarray::{Array, ArrayD, ArrayRef, Dimension, Zip};

use crate::{Real, math};

/// Which forward values a derivative rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uses {
    /// The rule reads the input `x`.
    X,
    /// The rule reads the output `y`.
    Y,
    /// The rule reads both.
    XY,
}

/// A constant parameter of an elementwise op, after its array argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name, for messages (`alpha`, `delta`).
    pub name: &'static str,
    /// Whether it is an integer (the exponent of `powi`) rather than a float.
    pub integer: bool,
}

impl Param {
    /// A float parameter: a literal or a `#[no_grad]` scalar input.
    pub const fn float(name: &'static str) -> Self {
        Param {
            name,
            integer: false,
        }
    }

    /// An integer parameter: an integer literal that fits in an `i32`, or a `usize` input.
    pub const fn int(name: &'static str) -> Self {
        Param {
            name,
            integer: true,
        }
    }
}

/// A derivative kernel on dynamic-rank `f64` arrays: `(x, y, g, params) -> g * dy/dx`.
pub type DynBackward = fn(&ArrayD<f64>, &ArrayD<f64>, &ArrayD<f64>, &[f64]) -> ArrayD<f64>;

/// One elementwise op as the compiler and the tests see it.
#[derive(Clone, Copy, Debug)]
pub struct Elementwise {
    /// The name in the language (`exp`, `leaky_relu`).
    pub name: &'static str,
    /// The constant parameters after `x` (`alpha` for `leaky_relu`).
    pub params: &'static [Param],
    /// The one-line doc shown in compiler messages.
    pub doc: &'static str,
    /// The derivative rule's inputs, or `None` for an op without a derivative:
    /// such an op may not be used on the gradient path.
    pub uses: Option<Uses>,
    /// The forward kernel on `f64` (the same generic kernel generated code calls).
    pub forward: fn(&ArrayD<f64>, &[f64]) -> ArrayD<f64>,
    /// The derivative kernel on `f64`, if the op has one.
    pub backward: Option<DynBackward>,
    /// A plain scalar formula, written independently of the kernel, to test the forward against.
    pub reference: fn(f64, &[f64]) -> f64,
    /// Inputs are drawn from this interval in gradient tests.
    pub domain: (f64, f64),
    /// Parameter values used in gradient tests.
    pub test_params: &'static [f64],
    /// Largest relative error a gradient test in `f64` accepts.
    pub tolerance: f64,
    /// Points where the derivative jumps, given the parameters: gradient tests stay away from them.
    pub kinks: fn(&[f64]) -> Vec<f64>,
}

impl Elementwise {
    /// Looks up an op by name.
    pub fn find(name: &str) -> Option<&'static Elementwise> {
        ELEMENTWISE.iter().find(|op| op.name == name)
    }
}

fn no_kinks(_: &[f64]) -> Vec<f64> {
    Vec::new()
}

fn kink_at_zero(_: &[f64]) -> Vec<f64> {
    vec![0.0]
}

/// `g * d(a)` elementwise, where `a` is `x` or `y`.
fn grad_by<T: Real, D: Dimension>(
    a: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    d: impl Fn(T) -> T,
) -> Array<T, D> {
    Zip::from(a).and(g).map_collect(|&a, &g| g * d(a))
}

/// `g * d(x, y)` elementwise.
fn grad_by_xy<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    y: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    d: impl Fn(T, T) -> T,
) -> Array<T, D> {
    Zip::from(x)
        .and(y)
        .and(g)
        .map_collect(|&x, &y, &g| g * d(x, y))
}

#[inline(always)]
fn sigmoid_scalar<T: Real>(x: T) -> T {
    // Branch-free and overflow-free: see `math::sigmoid`.
    math::sigmoid(x)
}

#[inline(always)]
fn softplus_scalar<T: Real>(x: T) -> T {
    // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), exact and overflow-free.
    math::softplus(x)
}

// ---------------------------------------------------------------- neg

/// `-x`.
pub fn neg<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(|x| -x)
}
/// Derivative of `-x`: `-g`.
pub fn neg_backward<T: Real, D: Dimension>(g: &ArrayRef<T, D>) -> Array<T, D> {
    g.mapv(|g| -g)
}

// ---------------------------------------------------------------- exp

/// `e^x`.
pub fn exp<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(math::exp)
}
/// Derivative of `e^x`: `g * y`.
pub fn exp_backward<T: Real, D: Dimension>(y: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(y, g, |y| y)
}

// ---------------------------------------------------------------- ln

/// Natural logarithm.
pub fn ln<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(math::ln)
}
/// Derivative of `ln x`: `g / x`.
pub fn ln_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(x, g, T::recip)
}

// ---------------------------------------------------------------- sqrt

/// Square root.
pub fn sqrt<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::sqrt)
}
/// Derivative of `sqrt x`: `g / (2 y)`.
pub fn sqrt_backward<T: Real, D: Dimension>(y: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(y, g, |y| T::lit(0.5) / y)
}

// ---------------------------------------------------------------- abs

/// Absolute value.
pub fn abs<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::abs)
}
/// Derivative of `|x|`: `g * sign(x)`, taking 0 at 0.
pub fn abs_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(x, g, |x| {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else {
            T::zero()
        }
    })
}

// ---------------------------------------------------------------- square

/// `x^2`.
pub fn square<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(|x| x * x)
}
/// Derivative of `x^2`: `2 g x`.
pub fn square_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
) -> Array<T, D> {
    grad_by(x, g, |x| T::lit(2.0) * x)
}

// ---------------------------------------------------------------- powi

/// `x^n` for an integer `n`.
pub fn powi<T: Real, D: Dimension>(x: &ArrayRef<T, D>, n: i32) -> Array<T, D> {
    x.mapv(|x| x.powi(n))
}
/// Derivative of `x^n`: `g n x^(n-1)`.
pub fn powi_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    n: i32,
) -> Array<T, D> {
    // `x^(i32::MIN - 1)` has no i32 exponent: there `powf` takes it.
    let nf = T::lit(f64::from(n));
    let below = T::lit(f64::from(n) - 1.0);
    match n.checked_sub(1) {
        Some(k) => grad_by(x, g, |x| nf * x.powi(k)),
        None => grad_by(x, g, |x| nf * x.powf(below)),
    }
}

/// A `usize` exponent for [`powi`], as generated code passes a `usize` input.
///
/// # Panics
///
/// If `n` does not fit in an `i32`, naming the value, instead of wrapping it.
pub fn powi_exponent(n: usize) -> i32 {
    i32::try_from(n).unwrap_or_else(|_| {
        panic!(
            "powi: the exponent {n} does not fit in an i32 (at most {}); use powf",
            i32::MAX
        )
    })
}

// ---------------------------------------------------------------- powf

/// `x^p` for a constant `p`.
pub fn powf<T: Real, D: Dimension>(x: &ArrayRef<T, D>, p: T) -> Array<T, D> {
    x.mapv(|x| x.powf(p))
}
/// Derivative of `x^p`: `g p x^(p-1)`.
pub fn powf_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    p: T,
) -> Array<T, D> {
    grad_by(x, g, |x| p * x.powf(p - T::one()))
}

// ---------------------------------------------------------------- recip

/// `1 / x`.
pub fn recip<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::recip)
}
/// Derivative of `1 / x`: `-g y^2`.
pub fn recip_backward<T: Real, D: Dimension>(
    y: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
) -> Array<T, D> {
    grad_by(y, g, |y| -y * y)
}

// ---------------------------------------------------------------- sigmoid

/// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow.
pub fn sigmoid<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(sigmoid_scalar)
}
/// Derivative of the sigmoid: `g y (1 - y)`, at most `g / 4`.
pub fn sigmoid_backward<T: Real, D: Dimension>(
    y: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
) -> Array<T, D> {
    grad_by(y, g, |y| y * (T::one() - y))
}

// ---------------------------------------------------------------- tanh

/// Hyperbolic tangent.
pub fn tanh<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(math::tanh)
}
/// Derivative of `tanh`: `g (1 - y^2)`.
pub fn tanh_backward<T: Real, D: Dimension>(y: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(y, g, |y| T::one() - y * y)
}

// ---------------------------------------------------------------- relu

/// `max(x, 0)`.
pub fn relu<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(|x| if x > T::zero() { x } else { T::zero() })
}
/// Derivative of `relu`: `g` where `x > 0`, else 0 (0 at the kink).
pub fn relu_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(x, g, |x| if x > T::zero() { T::one() } else { T::zero() })
}

// ---------------------------------------------------------------- leaky_relu

/// `x` where `x > 0`, else `alpha x`.
pub fn leaky_relu<T: Real, D: Dimension>(x: &ArrayRef<T, D>, alpha: T) -> Array<T, D> {
    x.mapv(|x| if x > T::zero() { x } else { alpha * x })
}
/// Derivative of `leaky_relu`: `g` where `x > 0`, else `alpha g`.
pub fn leaky_relu_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    alpha: T,
) -> Array<T, D> {
    grad_by(x, g, |x| if x > T::zero() { T::one() } else { alpha })
}

// ---------------------------------------------------------------- elu

/// `x` where `x > 0`, else `alpha (e^x - 1)`.
pub fn elu<T: Real, D: Dimension>(x: &ArrayRef<T, D>, alpha: T) -> Array<T, D> {
    x.mapv(|x| if x > T::zero() { x } else { alpha * x.exp_m1() })
}
/// Derivative of `elu`: `g` where `x > 0`, else `g (y + alpha)`.
pub fn elu_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    y: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    alpha: T,
) -> Array<T, D> {
    grad_by_xy(
        x,
        y,
        g,
        |x, y| if x > T::zero() { T::one() } else { y + alpha },
    )
}

// ---------------------------------------------------------------- softplus

/// `ln(1 + e^x)`, computed without overflow.
pub fn softplus<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(softplus_scalar)
}
/// Derivative of `softplus`: `g sigmoid(x)`.
pub fn softplus_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
) -> Array<T, D> {
    grad_by(x, g, sigmoid_scalar)
}

// ---------------------------------------------------------------- gelu

/// `sqrt(2/pi)`, in the tanh approximation of GELU.
const GELU_C: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation of GELU.
const GELU_A: f64 = 0.044_715;

/// GELU in its tanh approximation: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
pub fn gelu<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    let (c, a) = (T::lit(GELU_C), T::lit(GELU_A));
    x.mapv(|x| T::lit(0.5) * x * (T::one() + math::tanh(c * (x + a * x * x * x))))
}
/// Derivative of `gelu`: `g (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2))` with `t = tanh(c (x + a x^3))`.
pub fn gelu_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    let (c, a, half) = (T::lit(GELU_C), T::lit(GELU_A), T::lit(0.5));
    grad_by(x, g, |x| {
        let t = math::tanh(c * (x + a * x * x * x));
        half * (T::one() + t)
            + half * x * (T::one() - t * t) * c * (T::one() + T::lit(3.0) * a * x * x)
    })
}

// ---------------------------------------------------------------- silu

/// SiLU (swish): `x sigmoid(x)`.
pub fn silu<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(|x| x * sigmoid_scalar(x))
}
/// Derivative of `silu`: `g s (1 + x (1 - s))` with `s = sigmoid(x)`.
pub fn silu_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(x, g, |x| {
        let s = sigmoid_scalar(x);
        s * (T::one() + x * (T::one() - s))
    })
}

// ---------------------------------------------------------------- sin, cos

/// Sine.
pub fn sin<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::sin)
}
/// Derivative of `sin`: `g cos x`.
pub fn sin_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(x, g, T::cos)
}

/// Cosine.
pub fn cos<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::cos)
}
/// Derivative of `cos`: `-g sin x`.
pub fn cos_backward<T: Real, D: Dimension>(x: &ArrayRef<T, D>, g: &ArrayRef<T, D>) -> Array<T, D> {
    grad_by(x, g, |x| -x.sin())
}

// ---------------------------------------------------------------- clip

/// `x` limited to `[lo, hi]`. Its gradient is zero outside the interval: clipping
/// a value is not clipping its gradient (see `huber`).
///
/// # Panics
///
/// If `lo >= hi` or a bound is NaN: the result would be a constant with zero
/// gradient (the compile-time check of constant bounds is the same rule).
pub fn clip<T: Real, D: Dimension>(x: &ArrayRef<T, D>, lo: T, hi: T) -> Array<T, D> {
    check_clip_bounds(lo, hi);
    x.mapv(|x| x.max(lo).min(hi))
}

fn check_clip_bounds<T: Real>(lo: T, hi: T) {
    // `partial_cmp` so that NaN bounds fail too.
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        panic!("clip: the lower bound {lo} is not below the upper bound {hi}");
    }
}
/// Derivative of `clip`: `g` inside `[lo, hi]`, 0 outside.
pub fn clip_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    lo: T,
    hi: T,
) -> Array<T, D> {
    grad_by(x, g, |x| {
        if x >= lo && x <= hi {
            T::one()
        } else {
            T::zero()
        }
    })
}

// ---------------------------------------------------------------- huber

/// Huber function: `x^2 / 2` for `|x| <= delta`, else `delta (|x| - delta / 2)`.
///
/// # Panics
///
/// If `delta` is not positive (or is NaN).
pub fn huber<T: Real, D: Dimension>(x: &ArrayRef<T, D>, delta: T) -> Array<T, D> {
    if delta.partial_cmp(&T::zero()) != Some(std::cmp::Ordering::Greater) {
        panic!("huber: delta must be positive, got {delta}");
    }
    let half = T::lit(0.5);
    x.mapv(|x| {
        if x.abs() <= delta {
            half * x * x
        } else {
            delta * (x.abs() - half * delta)
        }
    })
}
/// Derivative of `huber`: `g clip(x, -delta, delta)`, the clipped error.
pub fn huber_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    delta: T,
) -> Array<T, D> {
    grad_by(x, g, |x| x.max(-delta).min(delta))
}

// ---------------------------------------------------------------- no derivative

/// Sign: -1, 0 or 1. It has no derivative rule: use it under `stop_gradient` only.
pub fn sign<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(|x| {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else {
            T::zero()
        }
    })
}

/// Round down. No derivative rule: use it under `stop_gradient` only.
pub fn floor<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::floor)
}

/// Round to nearest, half away from zero. No derivative rule: use it under `stop_gradient` only.
pub fn round<T: Real, D: Dimension>(x: &ArrayRef<T, D>) -> Array<T, D> {
    x.mapv(T::round)
}

/// The table of elementwise ops that the compiler reads: name, parameters, doc,
/// derivative, test domain, all pointing at the kernels above.
pub static ELEMENTWISE: &[Elementwise] = &[
    Elementwise {
        name: "neg",
        params: &[],
        doc: "negation `-x`",
        uses: Some(Uses::X),
        forward: |x, _| neg(x),
        backward: Some(|_, _, g, _| neg_backward(g)),
        reference: |x, _| -x,
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "exp",
        params: &[],
        doc: "`e^x`",
        uses: Some(Uses::Y),
        forward: |x, _| exp(x),
        backward: Some(|_, y, g, _| exp_backward(y, g)),
        reference: |x, _| std::f64::consts::E.powf(x),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "ln",
        params: &[],
        doc: "natural logarithm",
        uses: Some(Uses::X),
        forward: |x, _| ln(x),
        backward: Some(|x, _, g, _| ln_backward(x, g)),
        reference: |x, _| x.log(std::f64::consts::E),
        domain: (0.2, 4.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "sqrt",
        params: &[],
        doc: "square root",
        uses: Some(Uses::Y),
        forward: |x, _| sqrt(x),
        backward: Some(|_, y, g, _| sqrt_backward(y, g)),
        reference: |x, _| x.powf(0.5),
        domain: (0.2, 4.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "abs",
        params: &[],
        doc: "absolute value",
        uses: Some(Uses::X),
        forward: |x, _| abs(x),
        backward: Some(|x, _, g, _| abs_backward(x, g)),
        reference: |x, _| if x < 0.0 { -x } else { x },
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: kink_at_zero,
    },
    Elementwise {
        name: "square",
        params: &[],
        doc: "`x^2`",
        uses: Some(Uses::X),
        forward: |x, _| square(x),
        backward: Some(|x, _, g, _| square_backward(x, g)),
        reference: |x, _| x.powi(2),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "powi",
        params: &[Param::int("n")],
        doc: "`x^n` for a constant integer `n`",
        uses: Some(Uses::X),
        forward: |x, p| powi(x, p[0] as i32),
        backward: Some(|x, _, g, p| powi_backward(x, g, p[0] as i32)),
        reference: |x, p| (0..p[0] as i32).fold(1.0, |acc, _| acc * x),
        domain: (-2.0, 2.0),
        test_params: &[3.0],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "powf",
        params: &[Param::float("p")],
        doc: "`x^p` for a constant `p` (x > 0)",
        uses: Some(Uses::X),
        forward: |x, p| powf(x, p[0]),
        backward: Some(|x, _, g, p| powf_backward(x, g, p[0])),
        reference: |x, p| (p[0] * x.ln()).exp(),
        domain: (0.2, 3.0),
        test_params: &[1.7],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "recip",
        params: &[],
        doc: "`1 / x`",
        uses: Some(Uses::Y),
        forward: |x, _| recip(x),
        backward: Some(|_, y, g, _| recip_backward(y, g)),
        reference: |x, _| 1.0 / x,
        domain: (0.3, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "sigmoid",
        params: &[],
        doc: "logistic sigmoid `1 / (1 + e^-x)`",
        uses: Some(Uses::Y),
        forward: |x, _| sigmoid(x),
        backward: Some(|_, y, g, _| sigmoid_backward(y, g)),
        reference: |x, _| 1.0 / (1.0 + (-x).exp()),
        domain: (-5.0, 5.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "tanh",
        params: &[],
        doc: "hyperbolic tangent",
        uses: Some(Uses::Y),
        forward: |x, _| tanh(x),
        backward: Some(|_, y, g, _| tanh_backward(y, g)),
        reference: |x, _| (x.exp() - (-x).exp()) / (x.exp() + (-x).exp()),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "relu",
        params: &[],
        doc: "`max(x, 0)`",
        uses: Some(Uses::X),
        forward: |x, _| relu(x),
        backward: Some(|x, _, g, _| relu_backward(x, g)),
        reference: |x, _| x.max(0.0),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: kink_at_zero,
    },
    Elementwise {
        name: "leaky_relu",
        params: &[Param::float("alpha")],
        doc: "`x` for x > 0, else `alpha * x`",
        uses: Some(Uses::X),
        forward: |x, p| leaky_relu(x, p[0]),
        backward: Some(|x, _, g, p| leaky_relu_backward(x, g, p[0])),
        reference: |x, p| if x > 0.0 { x } else { p[0] * x },
        domain: (-3.0, 3.0),
        test_params: &[0.1],
        tolerance: 1e-7,
        kinks: kink_at_zero,
    },
    Elementwise {
        name: "elu",
        params: &[Param::float("alpha")],
        doc: "`x` for x > 0, else `alpha * (e^x - 1)`",
        uses: Some(Uses::XY),
        forward: |x, p| elu(x, p[0]),
        backward: Some(|x, y, g, p| elu_backward(x, y, g, p[0])),
        reference: |x, p| if x > 0.0 { x } else { p[0] * (x.exp() - 1.0) },
        domain: (-3.0, 3.0),
        test_params: &[0.7],
        tolerance: 1e-7,
        kinks: kink_at_zero,
    },
    Elementwise {
        name: "softplus",
        params: &[],
        doc: "`ln(1 + e^x)`",
        uses: Some(Uses::X),
        forward: |x, _| softplus(x),
        backward: Some(|x, _, g, _| softplus_backward(x, g)),
        reference: |x, _| (1.0 + x.exp()).ln(),
        domain: (-5.0, 5.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "gelu",
        params: &[],
        doc: "GELU, tanh approximation",
        uses: Some(Uses::X),
        forward: |x, _| gelu(x),
        backward: Some(|x, _, g, _| gelu_backward(x, g)),
        reference: |x, _| {
            let inner = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3));
            0.5 * x * (1.0 + inner.tanh())
        },
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "silu",
        params: &[],
        doc: "SiLU (swish) `x * sigmoid(x)`",
        uses: Some(Uses::X),
        forward: |x, _| silu(x),
        backward: Some(|x, _, g, _| silu_backward(x, g)),
        reference: |x, _| x / (1.0 + (-x).exp()),
        domain: (-4.0, 4.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "sin",
        params: &[],
        doc: "sine",
        uses: Some(Uses::X),
        forward: |x, _| sin(x),
        backward: Some(|x, _, g, _| sin_backward(x, g)),
        reference: |x, _| (std::f64::consts::FRAC_PI_2 - x).cos(),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "cos",
        params: &[],
        doc: "cosine",
        uses: Some(Uses::X),
        forward: |x, _| cos(x),
        backward: Some(|x, _, g, _| cos_backward(x, g)),
        reference: |x, _| (std::f64::consts::FRAC_PI_2 - x).sin(),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "clip",
        params: &[Param::float("lo"), Param::float("hi")],
        doc: "`x` limited to `[lo, hi]` (zero gradient outside)",
        uses: Some(Uses::X),
        forward: |x, p| clip(x, p[0], p[1]),
        backward: Some(|x, _, g, p| clip_backward(x, g, p[0], p[1])),
        reference: |x, p| {
            if x < p[0] {
                p[0]
            } else if x > p[1] {
                p[1]
            } else {
                x
            }
        },
        domain: (-3.0, 3.0),
        test_params: &[-1.0, 1.5],
        tolerance: 1e-7,
        kinks: |p| vec![p[0], p[1]],
    },
    Elementwise {
        name: "huber",
        params: &[Param::float("delta")],
        doc: "Huber function, quadratic within `delta`, linear beyond",
        uses: Some(Uses::X),
        forward: |x, p| huber(x, p[0]),
        backward: Some(|x, _, g, p| huber_backward(x, g, p[0])),
        reference: |x, p| {
            if x.abs() <= p[0] {
                0.5 * x * x
            } else {
                p[0] * (x.abs() - 0.5 * p[0])
            }
        },
        domain: (-3.0, 3.0),
        test_params: &[1.0],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "sign",
        params: &[],
        doc: "sign, -1, 0 or 1 (no derivative)",
        uses: None,
        forward: |x, _| sign(x),
        backward: None,
        reference: |x, _| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        },
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: kink_at_zero,
    },
    Elementwise {
        name: "floor",
        params: &[],
        doc: "round down (no derivative)",
        uses: None,
        forward: |x, _| floor(x),
        backward: None,
        reference: |x, _| x - x.rem_euclid(1.0),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
    Elementwise {
        name: "round",
        params: &[],
        doc: "round to nearest (no derivative)",
        uses: None,
        forward: |x, _| round(x),
        backward: None,
        reference: |x, _| {
            if x >= 0.0 {
                (x + 0.5).floor()
            } else {
                -((-x + 0.5).floor())
            }
        },
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).expect_err("must panic");
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn clip_with_reversed_or_nan_bounds_panics_instead_of_giving_a_constant() {
        let x = array![0.5, 2.0];
        assert_eq!(clip(&x, -1.0, 1.0), array![0.5, 1.0]);
        let msg = panic_text(|| {
            clip(&array![0.5], 1.0, -1.0);
        });
        assert!(
            msg.contains("lower bound 1 is not below the upper bound -1"),
            "{msg}"
        );
        panic_text(|| {
            clip(&array![0.5], 0.5, 0.5);
        });
        panic_text(|| {
            clip(&array![0.5], f64::NAN, 1.0);
        });
    }

    #[test]
    fn huber_needs_a_positive_delta() {
        assert_eq!(huber(&array![0.5, 3.0], 1.0), array![0.125, 2.5]);
        let msg = panic_text(|| {
            huber(&array![0.5], 0.0);
        });
        assert!(msg.contains("delta must be positive"), "{msg}");
    }

    #[test]
    fn powi_takes_exact_integer_exponents() {
        let x = array![1.5, -2.0];
        assert_eq!(powi(&x, 3), x.mapv(|v| v * v * v));
        assert_eq!(powi(&x, -2), x.mapv(|v| 1.0 / (v * v)));
        assert_eq!(
            powi_backward(&x, &array![1.0, 1.0], 3),
            x.mapv(|v| 3.0 * v * v)
        );
        // i32::MIN - 1 does not overflow the derivative's exponent.
        let d = powi_backward(&array![1.0], &array![1.0], i32::MIN);
        assert_eq!(d[0], f64::from(i32::MIN));
        assert_eq!(powi_exponent(7), 7);
        let msg = panic_text(|| {
            powi_exponent(usize::MAX);
        });
        assert!(msg.contains("does not fit in an i32"), "{msg}");
    }
}
