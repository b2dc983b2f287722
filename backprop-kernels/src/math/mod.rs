//! Elementary functions that vectorize: `exp`, `ln`, `ln_1p`, `tanh`,
//! `sigmoid` and `softplus` for `f32` and `f64`.
//!
//! Each is an `#[inline(always)]` per-element function `fn f<T: Real>(x: T) -> T`
//! without branches (special cases are selected, not branched to), without
//! calls into libm and without `mul_add` (which is a libm call where FMA is not
//! enabled), so a loop such as `Zip::from(&x).map_collect(|&x| math::exp(x))`
//! compiles to SIMD code: SSE2 on the default x86-64 target, AVX2 inside
//! [`dispatch`]. The algorithms are the classic ones: Cody–Waite range
//! reduction and the minimax polynomials of Cephes (`f32` `exp`, `tanh`) and
//! fdlibm/musl (`f64` `exp`, both logarithms), the exponent handled with
//! `to_bits`/`from_bits`. `f32` is computed in `f32` arithmetic, so eight lanes
//! fit an AVX2 register.
//!
//! Special values are exact: NaN propagates; `exp(-inf) = 0`, `exp(inf) = inf`,
//! overflow to `inf` and underflow through the subnormals to `0` happen where the
//! correctly rounded result does; `ln(0) = -inf`, `ln(x < 0) = NaN`, subnormal
//! inputs of `ln` are exact; `ln_1p(-1) = -inf`; `tanh` and `ln_1p` keep the sign
//! of zero, and `tanh` saturates to exactly `±1`; `sigmoid(-inf) = 0`,
//! `sigmoid(inf) = 1`; `sigmoid` and `softplus` never overflow.
//!
//! # Accuracy
//!
//! Largest error measured, in ulps (the distance between the result and the
//! reference counted in representable values of the type). The `f32`
//! reference is the `f64` std function (for `sigmoid` and `softplus` the `f64`
//! formula) rounded to `f32`; the `f32` column covers every one of the 2^32 bit
//! patterns (the ignored test `f32_exhaustive`; the normal test run sweeps every
//! 251st pattern plus the special values and the neighbourhoods of the
//! thresholds). The `f64` reference is std's `f64` function (glibc's, itself
//! within about half an ulp) and for `sigmoid` and `softplus` the same formulas
//! on std's functions, so these figures include the reference's own error; the
//! `f64` column covers 10^7 random bit patterns, 10^7 random values in each of
//! nine intervals (around 0, 1 and -1, the overflow and underflow thresholds)
//! and 2,001 consecutive floats around each threshold (the ignored
//! `f64_sweep_large`; `f64_sweep` runs 2 * 10^5 per interval).
//!
//! | function  | `f32` | `f64` |
//! |-----------|-------|-------|
//! | `exp`      | 1 | 1 |
//! | `ln`       | 1 | 1 |
//! | `ln_1p`    | 1 | 1 |
//! | `tanh`     | 1 | 2 |
//! | `sigmoid`  | 2 | 2 |
//! | `softplus` | 2 | 2 |
//!
//! The tests assert these bounds (`f32` `ln_1p` and `tanh` at 2), so a change
//! that loses accuracy fails them.
//!
//! # Speed
//!
//! `cargo bench -p backprop-kernels --bench math` (2^20 elements, output
//! allocated each time; fastest of 40 samples on a shared two-core AVX2/FMA
//! machine without AVX-512, so the figures are rough): `std` is std's function
//! (and the former branchy sigmoid) in a `Zip` loop, `Zip` the same loop on
//! this module (SSE2), `map` is [`map`] (AVX2 through [`dispatch`]).
//!
//! | `f32`      | std     | `Zip`   | `map`   |
//! |------------|---------|---------|---------|
//! | `exp`      | 3.3 ms  | 1.7 ms  | 0.95 ms |
//! | `ln`       | 5.3 ms  | 3.8 ms  | 1.8 ms  |
//! | `ln_1p`    | 9.6 ms  | 3.9 ms  | 2.1 ms  |
//! | `tanh`     | 27.6 ms | 3.6 ms  | 2.0 ms  |
//! | `sigmoid`  | 6.8 ms  | 2.1 ms  | 1.7 ms  |
//! | `softplus` | 11.6 ms | 7.2 ms  | 3.7 ms  |
//! | W2         | 43.8 ms | 17.4 ms | 8.6 ms  |
//!
//! W2 is `sum(x sigmoid(1.702 x) + 0.5 tanh(x)^2 - softplus(x) / (1 + x^2))`:
//! 5.1 times faster with [`map`], 2.5 times in a plain `Zip` loop. In `f64`
//! (2 lanes of SSE2 against glibc's fast `f64` functions) the `Zip` loop runs
//! at 0.75x (`ln_1p`) to 1.4x (`exp`) std's speed, 3.5x for `tanh`, 1.1x for
//! W2; [`map`] gains 1.4x (`softplus`) to 5.7x (`tanh`), 2.1x for W2.
//!
//! # Run-time dispatch
//!
//! [`dispatch`] runs a closure with the best instruction set the CPU has
//! (through the `pulp` crate's safe API), so that the loops inlined into it use
//! AVX2. That reaches loops over slices, not ndarray's `Zip` loops (whose
//! loop is in a function that is not inlined); [`map`] and [`map2`] are the
//! `mapv` and two-operand `map_collect` that get it:
//!
//! ```
//! use backprop_kernels::math;
//! use ndarray::Array1;
//!
//! let x = Array1::linspace(-5.0_f32, 5.0, 1000);
//! let y = math::map(&x, |x| x * math::sigmoid(x)); // silu, on AVX2 where there is one
//! assert!((y[999] - 5.0 / (1.0 + (-5.0_f32).exp())).abs() < 1e-5);
//! ```

mod double;
mod single;
#[cfg(test)]
mod tests;

use ndarray::{Array, ArrayRef, Dimension, Zip};

use crate::Real;

mod sealed {
    /// Keeps [`super::Elementary`] to `f32` and `f64`.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The per-type implementations behind the functions of [`math`](self); a
/// supertrait of [`Real`], implemented for `f32` and `f64` only.
///
/// The methods have a `math_` prefix so that they do not clash with `Float`'s
/// methods of the same name; call the free functions instead.
pub trait Elementary: sealed::Sealed + Copy {
    /// See [`exp`].
    fn math_exp(self) -> Self;
    /// See [`ln`].
    fn math_ln(self) -> Self;
    /// See [`ln_1p`].
    fn math_ln_1p(self) -> Self;
    /// See [`tanh`].
    fn math_tanh(self) -> Self;
    /// See [`sigmoid`].
    fn math_sigmoid(self) -> Self;
    /// See [`softplus`].
    fn math_softplus(self) -> Self;
}

macro_rules! elementary {
    ($t:ident, $imp:ident) => {
        impl Elementary for $t {
            #[inline(always)]
            fn math_exp(self) -> Self {
                $imp::exp(self)
            }
            #[inline(always)]
            fn math_ln(self) -> Self {
                $imp::ln(self)
            }
            #[inline(always)]
            fn math_ln_1p(self) -> Self {
                $imp::ln_1p(self)
            }
            #[inline(always)]
            fn math_tanh(self) -> Self {
                $imp::tanh(self)
            }
            #[inline(always)]
            fn math_sigmoid(self) -> Self {
                $imp::sigmoid(self)
            }
            #[inline(always)]
            fn math_softplus(self) -> Self {
                $imp::softplus(self)
            }
        }
    };
}

elementary!(f32, single);
elementary!(f64, double);

/// `a` where `c` holds, else `b`: both are already computed, so this is a
/// select (a blend in a vector loop), not a branch.
#[inline(always)]
fn select<T>(c: bool, a: T, b: T) -> T {
    if c { a } else { b }
}

/// `e^x`.
#[inline(always)]
pub fn exp<T: Real>(x: T) -> T {
    x.math_exp()
}

/// The natural logarithm `ln x`: `-inf` at `±0`, NaN below 0.
#[inline(always)]
pub fn ln<T: Real>(x: T) -> T {
    x.math_ln()
}

/// `ln(1 + x)`, accurate for small `x`: `-inf` at `-1`, NaN below `-1`.
#[inline(always)]
pub fn ln_1p<T: Real>(x: T) -> T {
    x.math_ln_1p()
}

/// The hyperbolic tangent, saturating to exactly `±1`.
#[inline(always)]
pub fn tanh<T: Real>(x: T) -> T {
    x.math_tanh()
}

/// The logistic sigmoid `1 / (1 + e^-x)`, without overflow for any `x`.
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    x.math_sigmoid()
}

/// `softplus(x) = ln(1 + e^x)`, computed as `max(x, 0) + ln_1p(e^-|x|)` without
/// overflow for any `x`.
#[inline(always)]
pub fn softplus<T: Real>(x: T) -> T {
    x.math_softplus()
}

/// Runs `f` with the best instruction set this CPU has enabled (on x86-64:
/// AVX2 and FMA where available, detected at run time and cached), and returns
/// its result.
///
/// Only code that the compiler inlines into `f` is compiled for that
/// instruction set, so write the closure `#[inline(always)] || ...` (the
/// attribute is stable on closures): `f` is called on the AVX2 path and on the
/// fallback path, and without the attribute LLVM keeps it one out-of-line
/// function compiled for the default target. A loop over slices in the closure
/// is then AVX2 code (`for (o, &x) in out.iter_mut().zip(xs)`, see [`map`]);
/// an ndarray `Zip` or `mapv` loop is not: its loop lives in ndarray functions
/// (`Zip::inner`) that are not inlined, so it runs on the default target (SSE2)
/// even inside `dispatch` (checked in the disassembly of `benches/math.rs`).
/// A big loop body should also take its slices as arguments of a function the
/// closure calls, not read them from the closure's captures: LLVM cannot tell
/// captured slices from the stores of the loop and leaves it scalar (measured
/// on W2's backward: 3x slower than the default target, against 2x faster as
/// a function of its slices; see the fused loops).
/// Built on [`pulp::Arch::dispatch`], a safe API.
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// `x.mapv(f)`, run in [`dispatch`] over the elements as a slice when `x` is
/// in standard layout (else `mapv` on the default target), so that `f` (a
/// function of this module, or a closure calling them) runs on AVX2 where the
/// CPU has it.
#[inline(always)]
pub fn map<T: Real, D: Dimension>(x: &ArrayRef<T, D>, f: impl Fn(T) -> T) -> Array<T, D> {
    match x.as_slice() {
        Some(xs) => {
            let out = dispatch(
                #[inline(always)]
                || {
                    let mut out = vec![T::zero(); xs.len()];
                    for (o, &x) in out.iter_mut().zip(xs) {
                        *o = f(x);
                    }
                    out
                },
            );
            Array::from_shape_vec(x.raw_dim(), out).expect("the shape of x holds its elements")
        }
        None => x.mapv(f),
    }
}

/// `Zip::from(x).and(y).map_collect(|&x, &y| f(x, y))` (`x` and `y` of one
/// shape, else this panics), run like [`map`]: in [`dispatch`] over slices when
/// both are in standard layout.
#[inline(always)]
pub fn map2<T: Real, D: Dimension>(
    x: &ArrayRef<T, D>,
    y: &ArrayRef<T, D>,
    f: impl Fn(T, T) -> T,
) -> Array<T, D> {
    match (x.as_slice(), y.as_slice()) {
        (Some(xs), Some(ys)) if x.shape() == y.shape() => {
            let out = dispatch(
                #[inline(always)]
                || {
                    let mut out = vec![T::zero(); xs.len()];
                    for ((o, &x), &y) in out.iter_mut().zip(xs).zip(ys) {
                        *o = f(x, y);
                    }
                    out
                },
            );
            Array::from_shape_vec(x.raw_dim(), out).expect("the shape of x holds its elements")
        }
        _ => Zip::from(x).and(y).map_collect(|&x, &y| f(x, y)),
    }
}
