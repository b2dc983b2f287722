//! The `f32` implementations, evaluated in `f32` arithmetic so that a loop over
//! them vectorizes eight lanes to an AVX2 register.

// The constants are copied digit for digit from fdlibm, musl and Cephes, so
// they can be checked against them; they round to the same floats.
#![allow(clippy::excessive_precision)]

use super::select;

/// `log2(e)`.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// `1.5 * 2^23`: adding it rounds a float of magnitude below `2^22` to an integer
/// that the low bits of the sum hold.
const ROUND: f32 = 12_582_912.0;
/// `ln 2` split so that `n * LN2_HI` is exact for the `n` of [`exp`].
const EXP_LN2_HI: f32 = 0.693_359_4;
const EXP_LN2_LO: f32 = -2.121_944_4e-4;
/// `ln 2` split for the logarithms (musl's `logf`).
const LOG_LN2_HI: f32 = 6.931_381_2e-1;
const LOG_LN2_LO: f32 = 9.058_001e-6;

/// `2^k` for `k` in `-126..=127`, built from its bits.
#[inline(always)]
fn pow2i(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32).wrapping_shl(23))
}

/// `e^x`: Cody–Waite reduction `x = n ln2 + r`, `|r| <= ln2/2`, Cephes' degree-5
/// minimax polynomial, and the scale `2^n` applied in two halves so that
/// subnormal results round once and overflow happens where it should.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    // Past these bounds the result is 0 or inf anyway; clamping keeps `n`
    // small. Comparisons are false for NaN, so NaN passes through.
    let xc = select(x < -104.0, -104.0, x);
    let xc = select(xc > 89.0, 89.0, xc);
    let t = xc * LOG2E + ROUND;
    let n = t - ROUND;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = xc - n * EXP_LN2_HI - n * EXP_LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let y = p * (r * r) + r + 1.0;
    // k is in -150..=128: both halves stay in the normal exponent range.
    let k1 = k >> 1;
    let k2 = k.wrapping_sub(k1);
    y * pow2i(k1) * pow2i(k2)
}

/// `ln(1 + f)` for `1 + f` in `[sqrt(2)/2, sqrt(2)]`, less `f` and `-f^2/2` kept
/// apart for accuracy: returns `(s (hfsq + R), hfsq)` as musl's `logf` uses them.
#[inline(always)]
fn log_kernel(f: f32) -> (f32, f32) {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.400_009_72 + w * 0.242_790_79);
    let t2 = z * (0.666_666_6 + w * 0.284_987_87);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    (s * (hfsq + r), hfsq)
}

/// `ln x`: musl's `logf` (`x = 2^k (1 + f)`, `1 + f` in `[sqrt(2)/2, sqrt(2)]`),
/// with subnormals scaled first and the special cases chosen by selects.
#[inline(always)]
pub(super) fn ln(x: f32) -> f32 {
    let sub = x < f32::MIN_POSITIVE;
    let xs = select(sub, x * 8_388_608.0, x); // 2^23
    let ix = xs
        .to_bits()
        .wrapping_add(0x3f80_0000_u32.wrapping_sub(0x3f35_04f3));
    let k = ((ix >> 23) as i32).wrapping_sub(0x7f);
    let m = f32::from_bits((ix & 0x007f_ffff).wrapping_add(0x3f35_04f3));
    let f = m - 1.0;
    let dk = k as f32 - select(sub, 23.0, 0.0);
    let (sr, hfsq) = log_kernel(f);
    let y = sr + dk * LOG_LN2_LO - hfsq + f + dk * LOG_LN2_HI;
    let y = select(x == f32::INFINITY, x, y);
    let y = select(x == 0.0, f32::NEG_INFINITY, y);
    select(x < 0.0 || x.is_nan(), f32::NAN, y)
}

/// `ln(1 + x)`: musl's `log1pf`, `u = 1 + x` reduced as in [`ln`] plus the
/// correction `c = (x - (u - 1)) / u` for the rounding of `u`; for
/// `u` in `[sqrt(2)/2, sqrt(2)]` the kernel runs on `x` itself.
#[inline(always)]
pub(super) fn ln_1p(x: f32) -> f32 {
    let u = 1.0 + x;
    let iu = u
        .to_bits()
        .wrapping_add(0x3f80_0000_u32.wrapping_sub(0x3f35_04f3));
    let k = ((iu >> 23) as i32).wrapping_sub(0x7f);
    let c = select(k >= 2, 1.0 - (u - x), x - (u - 1.0)) / u;
    let c = select(k < 25, c, 0.0);
    let m = f32::from_bits((iu & 0x007f_ffff).wrapping_add(0x3f35_04f3));
    let small = k == 0;
    let f = select(small, x, m - 1.0);
    let c = select(small, 0.0, c);
    let dk = k as f32;
    let (sr, hfsq) = log_kernel(f);
    let y = sr + (dk * LOG_LN2_LO + c) - hfsq + f + dk * LOG_LN2_HI;
    // x == 0 keeps the sign of zero.
    let y = select(x == 0.0 || x == f32::INFINITY, x, y);
    let y = select(x == -1.0, f32::NEG_INFINITY, y);
    select(x < -1.0 || x.is_nan(), f32::NAN, y)
}

/// `tanh x`: Cephes' odd polynomial below `|x| = 0.625`, else
/// `1 - 2 / (e^(2|x|) + 1)` with the sign of `x`; both are computed and one
/// is selected.
#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let mut p = -5.704_988_7e-3_f32;
    p = p * z + 2.063_908_9e-2;
    p = p * z - 5.373_971_6e-2;
    p = p * z + 1.333_144_2e-1;
    p = p * z - 3.333_328_2e-1;
    let small = p * z * x + x;
    let big = 1.0 - 2.0 / (exp(a + a) + 1.0);
    // The sign of x, also for -0 (where `small` is +0).
    select(a < 0.625, small, big).copysign(x)
}

/// `1 / (1 + e^-x)` as `num / (1 + e)` with `e = e^-|x|`, `num = 1` for
/// `x >= 0` and `num = e` otherwise: `e` never overflows.
#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    let e = exp(-x.abs());
    select(x >= 0.0, 1.0, e) / (1.0 + e)
}

/// `ln(1 + e^x) = max(x, 0) + ln_1p(e^-|x|)`.
#[inline(always)]
pub(super) fn softplus(x: f32) -> f32 {
    select(x > 0.0, x, 0.0) + ln_1p(exp(-x.abs()))
}
