//! Every elementwise op on one element: its forward and its derivative rule as
//! plain scalar functions. The array kernels (`exp`, `exp_backward`, ...) map these
//! over arrays, and the loops that the compiler fuses call them directly, so each
//! op's math is written once.
//!
//! A derivative `op_backward` takes what its rule reads (`x`, the forward input;
//! `y`, the forward output; or both), the upstream gradient `g`, and the op's
//! constant parameters, and returns `g * dy/dx`, as its array kernel does.
//! Parameter checks (`clip`'s bounds, `huber`'s delta) are not repeated here: the
//! array kernels and the fused loops check them once, before the loop.

use crate::{Real, math};

// The sign of zero is kept by every branch-free form below where the op is odd.

/// `-x`.
#[inline(always)]
pub fn neg<T: Real>(x: T) -> T {
    -x
}
/// Derivative of `-x`: `-g`.
#[inline(always)]
pub fn neg_backward<T: Real>(g: T) -> T {
    -g
}

/// `e^x`.
#[inline(always)]
pub fn exp<T: Real>(x: T) -> T {
    math::exp(x)
}
/// Derivative of `e^x`: `g * y`.
#[inline(always)]
pub fn exp_backward<T: Real>(y: T, g: T) -> T {
    g * y
}

/// Natural logarithm.
#[inline(always)]
pub fn ln<T: Real>(x: T) -> T {
    math::ln(x)
}
/// Derivative of `ln x`: `g / x`.
#[inline(always)]
pub fn ln_backward<T: Real>(x: T, g: T) -> T {
    g * x.recip()
}

/// Square root.
#[inline(always)]
pub fn sqrt<T: Real>(x: T) -> T {
    x.sqrt()
}
/// Derivative of `sqrt x`: `g / (2 y)`.
#[inline(always)]
pub fn sqrt_backward<T: Real>(y: T, g: T) -> T {
    g * (T::lit(0.5) / y)
}

/// Absolute value.
#[inline(always)]
pub fn abs<T: Real>(x: T) -> T {
    x.abs()
}
/// Derivative of `|x|`: `g * sign(x)`, taking 0 at 0.
#[inline(always)]
pub fn abs_backward<T: Real>(x: T, g: T) -> T {
    g * sign(x)
}

/// `x^2`.
#[inline(always)]
pub fn square<T: Real>(x: T) -> T {
    x * x
}
/// Derivative of `x^2`: `2 g x`.
#[inline(always)]
pub fn square_backward<T: Real>(x: T, g: T) -> T {
    g * (T::lit(2.0) * x)
}

/// `x^n` for an integer `n`.
#[inline(always)]
pub fn powi<T: Real>(x: T, n: i32) -> T {
    x.powi(n)
}
/// Derivative of `x^n`: `g n x^(n-1)`.
#[inline(always)]
pub fn powi_backward<T: Real>(x: T, g: T, n: i32) -> T {
    let nf = T::lit(f64::from(n));
    match n.checked_sub(1) {
        Some(k) => g * (nf * x.powi(k)),
        // `x^(i32::MIN - 1)` has no i32 exponent: there `powf` takes it.
        None => g * (nf * x.powf(T::lit(f64::from(n) - 1.0))),
    }
}

/// `x^p` for a constant `p`.
#[inline(always)]
pub fn powf<T: Real>(x: T, p: T) -> T {
    x.powf(p)
}
/// Derivative of `x^p`: `g p x^(p-1)`.
#[inline(always)]
pub fn powf_backward<T: Real>(x: T, g: T, p: T) -> T {
    g * (p * x.powf(p - T::one()))
}

/// `1 / x`.
#[inline(always)]
pub fn recip<T: Real>(x: T) -> T {
    x.recip()
}
/// Derivative of `1 / x`: `-g y^2`.
#[inline(always)]
pub fn recip_backward<T: Real>(y: T, g: T) -> T {
    g * (-y * y)
}

/// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow.
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    // Branch-free and overflow-free (see `math::sigmoid`).
    math::sigmoid(x)
}
/// Derivative of the sigmoid: `g y (1 - y)`, at most `g / 4`.
#[inline(always)]
pub fn sigmoid_backward<T: Real>(y: T, g: T) -> T {
    g * (y * (T::one() - y))
}

/// Hyperbolic tangent.
#[inline(always)]
pub fn tanh<T: Real>(x: T) -> T {
    math::tanh(x)
}
/// Derivative of `tanh`: `g (1 - y^2)`.
#[inline(always)]
pub fn tanh_backward<T: Real>(y: T, g: T) -> T {
    g * (T::one() - y * y)
}

/// `max(x, 0)`.
#[inline(always)]
pub fn relu<T: Real>(x: T) -> T {
    if x > T::zero() { x } else { T::zero() }
}
/// Derivative of `relu`: `g` where `x > 0`, else 0 (0 at the kink).
#[inline(always)]
pub fn relu_backward<T: Real>(x: T, g: T) -> T {
    g * if x > T::zero() { T::one() } else { T::zero() }
}

/// `x` where `x > 0`, else `alpha x`.
#[inline(always)]
pub fn leaky_relu<T: Real>(x: T, alpha: T) -> T {
    if x > T::zero() { x } else { alpha * x }
}
/// Derivative of `leaky_relu`: `g` where `x > 0`, else `alpha g`.
#[inline(always)]
pub fn leaky_relu_backward<T: Real>(x: T, g: T, alpha: T) -> T {
    g * if x > T::zero() { T::one() } else { alpha }
}

/// `x` where `x > 0`, else `alpha (e^x - 1)`.
#[inline(always)]
pub fn elu<T: Real>(x: T, alpha: T) -> T {
    if x > T::zero() { x } else { alpha * x.exp_m1() }
}
/// Derivative of `elu`: `g` where `x > 0`, else `g (y + alpha)`.
#[inline(always)]
pub fn elu_backward<T: Real>(x: T, y: T, g: T, alpha: T) -> T {
    g * if x > T::zero() { T::one() } else { y + alpha }
}

/// `ln(1 + e^x)`, computed without overflow.
#[inline(always)]
pub fn softplus<T: Real>(x: T) -> T {
    // max(x, 0) + ln(1 + e^-|x|), exact and overflow-free (see `math::softplus`).
    math::softplus(x)
}
/// Derivative of `softplus`: `g sigmoid(x)`.
#[inline(always)]
pub fn softplus_backward<T: Real>(x: T, g: T) -> T {
    g * sigmoid(x)
}

/// `sqrt(2/pi)`, in the tanh approximation of GELU.
const GELU_C: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation of GELU.
const GELU_A: f64 = 0.044_715;

/// GELU in its tanh approximation: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
#[inline(always)]
pub fn gelu<T: Real>(x: T) -> T {
    let (c, a) = (T::lit(GELU_C), T::lit(GELU_A));
    T::lit(0.5) * x * (T::one() + math::tanh(c * (x + a * x * x * x)))
}
/// Derivative of `gelu`: `g (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2))` with `t = tanh(c (x + a x^3))`.
#[inline(always)]
pub fn gelu_backward<T: Real>(x: T, g: T) -> T {
    let (c, a, half) = (T::lit(GELU_C), T::lit(GELU_A), T::lit(0.5));
    let t = math::tanh(c * (x + a * x * x * x));
    g * (half * (T::one() + t)
        + half * x * (T::one() - t * t) * c * (T::one() + T::lit(3.0) * a * x * x))
}

/// SiLU (swish): `x sigmoid(x)`.
#[inline(always)]
pub fn silu<T: Real>(x: T) -> T {
    x * sigmoid(x)
}
/// Derivative of `silu`: `g s (1 + x (1 - s))` with `s = sigmoid(x)`.
#[inline(always)]
pub fn silu_backward<T: Real>(x: T, g: T) -> T {
    let s = sigmoid(x);
    g * (s * (T::one() + x * (T::one() - s)))
}

/// Sine.
#[inline(always)]
pub fn sin<T: Real>(x: T) -> T {
    x.sin()
}
/// Derivative of `sin`: `g cos x`.
#[inline(always)]
pub fn sin_backward<T: Real>(x: T, g: T) -> T {
    g * x.cos()
}

/// Cosine.
#[inline(always)]
pub fn cos<T: Real>(x: T) -> T {
    x.cos()
}
/// Derivative of `cos`: `-g sin x`.
#[inline(always)]
pub fn cos_backward<T: Real>(x: T, g: T) -> T {
    g * -x.sin()
}

/// `x` limited to `[lo, hi]` (bounds checked by the caller).
#[inline(always)]
pub fn clip<T: Real>(x: T, lo: T, hi: T) -> T {
    x.max(lo).min(hi)
}
/// Derivative of `clip`: `g` inside `[lo, hi]`, 0 outside.
#[inline(always)]
pub fn clip_backward<T: Real>(x: T, g: T, lo: T, hi: T) -> T {
    g * if x >= lo && x <= hi {
        T::one()
    } else {
        T::zero()
    }
}

/// Huber function: `x^2 / 2` for `|x| <= delta`, else `delta (|x| - delta / 2)`
/// (delta checked by the caller).
#[inline(always)]
pub fn huber<T: Real>(x: T, delta: T) -> T {
    let half = T::lit(0.5);
    if x.abs() <= delta {
        half * x * x
    } else {
        delta * (x.abs() - half * delta)
    }
}
/// Derivative of `huber`: `g clip(x, -delta, delta)`, the clipped error.
#[inline(always)]
pub fn huber_backward<T: Real>(x: T, g: T, delta: T) -> T {
    g * x.max(-delta).min(delta)
}

/// Sign: -1, 0 or 1. No derivative rule: use it under `stop_gradient` only.
#[inline(always)]
pub fn sign<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// Round down. No derivative rule: use it under `stop_gradient` only.
#[inline(always)]
pub fn floor<T: Real>(x: T) -> T {
    x.floor()
}

/// Round to nearest, half away from zero. No derivative rule: use it under `stop_gradient` only.
#[inline(always)]
pub fn round<T: Real>(x: T) -> T {
    x.round()
}
