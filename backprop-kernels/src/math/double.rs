//! The `f64` implementations (fdlibm/musl algorithms, made branch-free).

// The constants are copied digit for digit from fdlibm, musl and Cephes, so
// they can be checked against them; they round to the same floats.
#![allow(clippy::excessive_precision)]

use super::select;

/// `log2(e)`.
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// `1.5 * 2^52`: adding it rounds a float of magnitude below `2^51` to an integer
/// that the low bits of the sum hold.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// `ln 2 = LN2_HI + LN2_LO`, `LN2_HI` with 32 trailing zero bits (fdlibm).
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// `2^k` for `k` in `-1022..=1023`, built from its bits.
#[inline(always)]
fn pow2i(k: i64) -> f64 {
    f64::from_bits((k.wrapping_add(1023) as u64).wrapping_shl(52))
}

/// `e^x`: fdlibm's `exp` (reduction `x = k ln2 + hi - lo`, the rational form
/// `1 + r + r c / (2 - c)`), with the scale `2^k` applied in two halves so that
/// subnormal results round once and overflow happens where it should.
#[inline(always)]
pub(super) fn exp(x: f64) -> f64 {
    let xc = select(x < -746.0, -746.0, x);
    let xc = select(xc > 710.0, 710.0, xc);
    let t = xc * LOG2E + ROUND;
    let kf = t - ROUND;
    let k = (t.to_bits() as i64).wrapping_sub(ROUND.to_bits() as i64);
    let hi = xc - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let tt = r * r;
    let c = r - tt
        * (1.666_666_666_666_660_190_37e-1
            + tt * (-2.777_777_777_701_559_338_42e-3
                + tt * (6.613_756_321_437_934_361_17e-5
                    + tt * (-1.653_390_220_546_525_153_90e-6
                        + tt * 4.138_136_797_057_238_460_39e-8))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // k is in -1075..=1024; halve it with a logical shift of a positive number
    // (AVX2 has no 64-bit arithmetic shift).
    let k1 = ((k.wrapping_add(2048) as u64) >> 1) as i64 - 1024;
    let k2 = k.wrapping_sub(k1);
    y * pow2i(k1) * pow2i(k2)
}

/// `(s (hfsq + R), hfsq)` of musl's `log` for `1 + f` in `[sqrt(2)/2, sqrt(2)]`.
#[inline(always)]
fn log_kernel(f: f64) -> (f64, f64) {
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w
        * (3.999_999_999_940_941_908e-1
            + w * (2.222_219_843_214_978_396e-1 + w * 1.531_383_769_920_937_332e-1));
    let t2 = z
        * (6.666_666_666_666_735_130e-1
            + w * (2.857_142_874_366_239_149e-1
                + w * (1.818_357_216_161_805_012e-1 + w * 1.479_819_860_511_658_591e-1)));
    (s * (hfsq + (t2 + t1)), hfsq)
}

/// The exponent `e - 1023` of a biased exponent field `e` (0..=2047) as `f64`,
/// without an integer-to-float conversion (which AVX2 lacks for 64 bits).
#[inline(always)]
fn exponent(e: u64) -> f64 {
    f64::from_bits(0x4330_0000_0000_0000 | e) - (4_503_599_627_370_496.0 + 1023.0)
}

/// The offset that moves `[sqrt(2)/2, sqrt(2))` onto one binade.
const SQRT_HALF_HI: u64 = 0x3fe6_a09e_0000_0000;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;
const MANTISSA: u64 = 0x000f_ffff_ffff_ffff;

/// `ln x`: musl's `log`, with subnormals scaled first and the special cases
/// chosen by selects.
#[inline(always)]
pub(super) fn ln(x: f64) -> f64 {
    let sub = x < f64::MIN_POSITIVE;
    let xs = select(sub, x * 18_014_398_509_481_984.0, x); // 2^54
    let ix = xs.to_bits().wrapping_add(ONE_BITS - SQRT_HALF_HI);
    let dk = exponent(ix >> 52) - select(sub, 54.0, 0.0);
    let m = f64::from_bits((ix & MANTISSA).wrapping_add(SQRT_HALF_HI));
    let f = m - 1.0;
    let (sr, hfsq) = log_kernel(f);
    let y = sr + dk * LN2_LO - hfsq + f + dk * LN2_HI;
    let y = select(x == f64::INFINITY, x, y);
    let y = select(x == 0.0, f64::NEG_INFINITY, y);
    select(x < 0.0 || x.is_nan(), f64::NAN, y)
}

/// `ln(1 + x)`: musl's `log1p`, `u = 1 + x` reduced as in [`ln`] plus the
/// correction `c = (x - (u - 1)) / u` for the rounding of `u`; for
/// `u` in `[sqrt(2)/2, sqrt(2)]` the kernel runs on `x` itself.
#[inline(always)]
pub(super) fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    let iu = u.to_bits().wrapping_add(ONE_BITS - SQRT_HALF_HI);
    let dk = exponent(iu >> 52);
    let c = select(dk >= 2.0, 1.0 - (u - x), x - (u - 1.0)) / u;
    let c = select(dk < 54.0, c, 0.0);
    let m = f64::from_bits((iu & MANTISSA).wrapping_add(SQRT_HALF_HI));
    let small = dk == 0.0;
    let f = select(small, x, m - 1.0);
    let c = select(small, 0.0, c);
    let (sr, hfsq) = log_kernel(f);
    let y = sr + (dk * LN2_LO + c) - hfsq + f + dk * LN2_HI;
    let y = select(x == 0.0 || x == f64::INFINITY, x, y);
    let y = select(x == -1.0, f64::NEG_INFINITY, y);
    select(x < -1.0 || x.is_nan(), f64::NAN, y)
}

/// `tanh x`: Cephes' rational approximation `x + x z P(z)/Q(z)` below
/// `|x| = 0.625`, else `1 - 2 / (e^(2|x|) + 1)` with the sign of `x`; both are
/// computed and one is selected.
#[inline(always)]
pub(super) fn tanh(x: f64) -> f64 {
    let a = x.abs();
    let z = x * x;
    let p =
        (-9.643_991_794_250_523e-1 * z - 9.928_772_310_019_186e1) * z - 1.614_687_684_417_084_5e3;
    let q = ((z + 1.128_116_784_916_329_3e2) * z + 2.235_488_390_601_004_6e3) * z
        + 4.844_063_053_251_255e3;
    let small = x + x * (z * p / q);
    let big = 1.0 - 2.0 / (exp(a + a) + 1.0);
    // The sign of x, also for -0 (where `small` is +0).
    select(a < 0.625, small, big).copysign(x)
}

/// `1 / (1 + e^-x)` as `num / (1 + e)` with `e = e^-|x|`, `num = 1` for
/// `x >= 0` and `num = e` otherwise: `e` never overflows.
#[inline(always)]
pub(super) fn sigmoid(x: f64) -> f64 {
    let e = exp(-x.abs());
    select(x >= 0.0, 1.0, e) / (1.0 + e)
}

/// `ln(1 + e^x) = max(x, 0) + ln_1p(e^-|x|)`.
#[inline(always)]
pub(super) fn softplus(x: f64) -> f64 {
    select(x > 0.0, x, 0.0) + ln_1p(exp(-x.abs()))
}
