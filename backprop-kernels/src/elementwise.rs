//! Elementwise ops: each op's forward kernel beside its derivative kernel, both
//! mapping the op's scalar form in [`elem`]. The op's entry in [`ELEMENTWISE`]
//! (the table the compiler reads) is in `backprop-spec`, which the proc-macro
//! builds without ndarray.
//!
//! A derivative kernel `op_backward` takes what the rule reads (`x`, the forward
//! input; `y`, the forward output; or both), the upstream gradient `g`, and the
//! op's constant parameters, and returns `g * dy/dx`.

use ndarray::{Array, ArrayRef, Dimension, Zip};

use crate::{Real, elem};

/// An op's forward kernel: its scalar form in [`elem`] mapped over `x`.
macro_rules! forward {
    ($($name:ident($($p:ident: $pt:ty),*);)*) => {$(
        #[doc = concat!("[`elem::", stringify!($name), "`] over an array.")]
        pub fn $name<T: Real, D: Dimension>(x: &ArrayRef<T, D>, $($p: $pt),*) -> Array<T, D> {
            x.mapv(|x| elem::$name(x, $($p),*))
        }
    )*};
}

/// An op's derivative kernel: its scalar form in [`elem`] zipped over what the
/// rule reads and the upstream gradient `g`.
macro_rules! backward {
    ($($name:ident($a0:ident $(, $a:ident)*; $($p:ident: $pt:ty),*);)*) => {$(
        #[doc = concat!("[`elem::", stringify!($name), "`] over arrays of one shape.")]
        pub fn $name<T: Real, D: Dimension>(
            $a0: &ArrayRef<T, D>,
            $($a: &ArrayRef<T, D>,)*
            $($p: $pt),*
        ) -> Array<T, D> {
            Zip::from($a0)$(.and($a))*.map_collect(|&$a0 $(, &$a)*| elem::$name($a0, $($a,)* $($p),*))
        }
    )*};
}

forward! {
    neg();
    exp();
    ln();
    sqrt();
    abs();
    square();
    powi(n: i32);
    powf(p: T);
    recip();
    sigmoid();
    tanh();
    relu();
    leaky_relu(alpha: T);
    elu(alpha: T);
    softplus();
    gelu();
    silu();
    sin();
    cos();
    sign();
    floor();
    round();
}

backward! {
    neg_backward(g;);
    exp_backward(y, g;);
    ln_backward(x, g;);
    sqrt_backward(y, g;);
    abs_backward(x, g;);
    square_backward(x, g;);
    powf_backward(x, g; p: T);
    recip_backward(y, g;);
    sigmoid_backward(y, g;);
    tanh_backward(y, g;);
    relu_backward(x, g;);
    leaky_relu_backward(x, g; alpha: T);
    elu_backward(x, y, g; alpha: T);
    softplus_backward(x, g;);
    gelu_backward(x, g;);
    silu_backward(x, g;);
    sin_backward(x, g;);
    cos_backward(x, g;);
    huber_backward(x, g; delta: T);
    clip_backward(x, g; lo: T, hi: T);
}

/// [`elem::powi_backward`] over arrays of one shape.
pub fn powi_backward<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    g: &ArrayRef<T, D>,
    n: i32,
) -> Array<T, D> {
    Zip::from(x)
        .and(g)
        .map_collect(|&x, &g| elem::powi_backward(x, g, n))
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

/// `x` limited to `[lo, hi]`. Its gradient is zero outside the interval: clipping
/// a value is not clipping its gradient (see `huber`).
///
/// # Panics
///
/// If `lo >= hi` or a bound is NaN: the result would be a constant with zero
/// gradient (the compile-time check of constant bounds is the same rule).
pub fn clip<T: Real, D: Dimension>(x: &ArrayRef<T, D>, lo: T, hi: T) -> Array<T, D> {
    check_clip_bounds(lo, hi);
    x.mapv(|x| elem::clip(x, lo, hi))
}

/// Panics unless `lo < hi` (NaN bounds fail too): what [`clip`] checks, for a
/// fused loop to check once before it runs.
pub fn check_clip_bounds<T: Real>(lo: T, hi: T) {
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        panic!("clip: the lower bound {lo} is not below the upper bound {hi}");
    }
}

/// Huber function: `x^2 / 2` for `|x| <= delta`, else `delta (|x| - delta / 2)`.
///
/// # Panics
///
/// If `delta` is not positive (or is NaN).
pub fn huber<T: Real, D: Dimension>(x: &ArrayRef<T, D>, delta: T) -> Array<T, D> {
    check_huber_delta(delta);
    x.mapv(|x| elem::huber(x, delta))
}

/// Panics unless `delta > 0`: what [`huber`] checks, for a fused loop to check
/// once before it runs.
pub fn check_huber_delta<T: Real>(delta: T) {
    if delta.partial_cmp(&T::zero()) != Some(std::cmp::Ordering::Greater) {
        panic!("huber: delta must be positive, got {delta}");
    }
}

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
