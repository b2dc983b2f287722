//! Accuracy and special-value tests of [`super`].

use super::*;

/// A function under test with its reference, its name and its largest accepted error in ulps.
struct Case<T> {
    name: &'static str,
    f: fn(T) -> T,
    reference: fn(T) -> T,
    max_ulps: u64,
}

/// Maps a float's bits to an integer that orders like the float (`-0` and `+0` both to 0).
fn ord32(x: f32) -> i64 {
    let i = x.to_bits() as i32;
    if i < 0 {
        i64::from(i32::MIN) - i64::from(i)
    } else {
        i64::from(i)
    }
}

fn ord64(x: f64) -> i128 {
    let i = x.to_bits() as i64;
    if i < 0 {
        i128::from(i64::MIN) - i128::from(i)
    } else {
        i128::from(i)
    }
}

/// The distance in ulps: 0 for two NaNs, `u64::MAX` when only one is NaN or
/// when one is infinite and the other is not (a wrong overflow).
fn ulps32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    if a.is_infinite() != b.is_infinite() {
        return u64::MAX;
    }
    (ord32(a) - ord32(b)).unsigned_abs()
}

fn ulps64(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    if a.is_infinite() != b.is_infinite() {
        return u64::MAX;
    }
    u64::try_from((ord64(a) - ord64(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

fn sigmoid_ref64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn softplus_ref64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn cases32() -> Vec<Case<f32>> {
    vec![
        Case {
            name: "exp",
            f: exp,
            reference: |x| f64::from(x).exp() as f32,
            max_ulps: 1,
        },
        Case {
            name: "ln",
            f: ln,
            reference: |x| f64::from(x).ln() as f32,
            max_ulps: 1,
        },
        Case {
            name: "ln_1p",
            f: ln_1p,
            reference: |x| f64::from(x).ln_1p() as f32,
            max_ulps: 2,
        },
        Case {
            name: "tanh",
            f: tanh,
            reference: |x| f64::from(x).tanh() as f32,
            max_ulps: 2,
        },
        Case {
            name: "sigmoid",
            f: sigmoid,
            reference: |x| sigmoid_ref64(f64::from(x)) as f32,
            max_ulps: 2,
        },
        Case {
            name: "softplus",
            f: softplus,
            reference: |x| softplus_ref64(f64::from(x)) as f32,
            max_ulps: 2,
        },
    ]
}

fn cases64() -> Vec<Case<f64>> {
    vec![
        Case {
            name: "exp",
            f: exp,
            reference: f64::exp,
            max_ulps: 1,
        },
        Case {
            name: "ln",
            f: ln,
            reference: f64::ln,
            max_ulps: 1,
        },
        Case {
            name: "ln_1p",
            f: ln_1p,
            reference: f64::ln_1p,
            max_ulps: 1,
        },
        Case {
            name: "tanh",
            f: tanh,
            reference: f64::tanh,
            max_ulps: 2,
        },
        Case {
            name: "sigmoid",
            f: sigmoid,
            reference: sigmoid_ref64,
            max_ulps: 2,
        },
        Case {
            name: "softplus",
            f: softplus,
            reference: softplus_ref64,
            max_ulps: 2,
        },
    ]
}

/// The largest error of `case` over `xs`, with the input where it occurs.
fn worst<T: Copy>(
    case: &Case<T>,
    xs: impl Iterator<Item = T>,
    ulps: fn(T, T) -> u64,
) -> (u64, Option<T>) {
    let mut max = (0, None);
    for x in xs {
        let e = ulps((case.f)(x), (case.reference)(x));
        if e > max.0 || max.1.is_none() {
            max = (e.max(max.0), Some(x));
        }
    }
    max
}

/// Values where the functions change behaviour: their neighbourhoods are swept bit by bit.
const CENTRES32: &[f32] = &[
    0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    0.625,
    -0.625,
    f32::MIN_POSITIVE,
    88.722_84,
    -87.336_55,
    -103.972_08,
    -88.722_84,
    9.010_913,
    -9.010_913,
    16.635_532,
    -0.292_893_2,
    0.414_213_57,
    f32::MAX,
    -f32::MAX,
    f32::INFINITY,
    f32::NEG_INFINITY,
];

/// The inputs of the normal run: every 251st bit pattern, the special values and
/// 2,000 patterns either side of each of [`CENTRES32`].
fn inputs32() -> impl Iterator<Item = f32> {
    let strided = (0..=u32::MAX).step_by(251).map(f32::from_bits);
    let specials = [
        f32::NAN,
        -f32::NAN,
        f32::from_bits(1),
        f32::from_bits(0x8000_0001),
    ]
    .into_iter();
    let near = CENTRES32.iter().flat_map(|&c| {
        let b = c.to_bits();
        (b.saturating_sub(2000)..=b.saturating_add(2000)).map(f32::from_bits)
    });
    strided.chain(specials).chain(near)
}

#[test]
fn f32_strided_sweep() {
    let mut failures = Vec::new();
    for case in cases32() {
        let (e, x) = worst(&case, inputs32(), ulps32);
        eprintln!("f32 {:8}: {e} ulps at {x:?}", case.name);
        if e > case.max_ulps {
            failures.push(format!("{}: {e} ulps at {x:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// Every `f32` bit pattern, one thread per function (26 minutes in release on two busy cores: run with
/// `cargo test -p backprop-kernels --release -- --ignored f32_exhaustive`).
#[test]
#[ignore]
fn f32_exhaustive() {
    let results: Vec<(String, u64, u64, Option<f32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases32()
            .into_iter()
            .map(|case| {
                s.spawn(move || {
                    let (e, x) = worst(&case, (0..=u32::MAX).map(f32::from_bits), ulps32);
                    (case.name.to_string(), case.max_ulps, e, x)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (name, bound, e, x) in &results {
        eprintln!("f32 {name:8}: {e} ulps at {x:?} (bound {bound})");
    }
    assert!(
        results.iter().all(|(_, bound, e, _)| e <= bound),
        "{results:?}"
    );
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Intervals swept with uniform random values in [`f64_sweep`].
const INTERVALS64: &[(f64, f64)] = &[
    (-1.0, 1.0),
    (-1e-6, 1e-6),
    (-0.7, 0.7),
    (-40.0, 40.0),
    (-745.2, 709.8),
    (-708.5, -745.2),
    (709.0, 710.0),
    (0.0, 3.0),
    (-0.999_999, -0.9),
];

/// Centres whose neighbourhoods are swept bit by bit in [`f64_sweep`].
const CENTRES64: &[f64] = &[
    0.0,
    1.0,
    -1.0,
    0.625,
    -0.625,
    f64::MIN_POSITIVE,
    709.782_712_893_384,
    -708.396_418_532_264_1,
    -745.133_219_101_941_1,
    -709.782_712_893_384,
    19.061_547_465_398_5,
    36.736_800_569_677_1,
    -0.292_893_218_813_452_5,
    0.414_213_562_373_095_1,
    f64::MAX,
    -f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

fn inputs64(n: usize) -> Vec<f64> {
    let mut rng = Rng(0x1234_5678);
    let mut xs: Vec<f64> = (0..n).map(|_| f64::from_bits(rng.next())).collect();
    for &(lo, hi) in INTERVALS64 {
        xs.extend((0..n).map(|_| rng.uniform(lo, hi)));
    }
    for &c in CENTRES64 {
        let b = c.to_bits();
        xs.extend((b.saturating_sub(1000)..=b.saturating_add(1000)).map(f64::from_bits));
    }
    xs.extend([
        f64::NAN,
        -f64::NAN,
        f64::from_bits(1),
        f64::from_bits(0x8000_0000_0000_0001),
    ]);
    xs
}

fn check64(n: usize) {
    let xs = inputs64(n);
    let mut failures = Vec::new();
    for case in cases64() {
        let (e, x) = worst(&case, xs.iter().copied(), ulps64);
        eprintln!("f64 {:8}: {e} ulps at {x:?}", case.name);
        if e > case.max_ulps {
            failures.push(format!("{}: {e} ulps at {x:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn f64_sweep() {
    check64(200_000);
}

/// [`f64_sweep`] with 10^7 values per interval.
#[test]
#[ignore]
fn f64_sweep_large() {
    check64(10_000_000);
}

/// Asserts that `got` is `want` bit for bit (so the sign of zero counts), or both are NaN.
#[track_caller]
fn same<T: Real>(got: T, want: T) {
    assert!(
        (got.is_nan() && want.is_nan())
            || (got == want && got.is_sign_negative() == want.is_sign_negative()),
        "got {got:?}, want {want:?}"
    );
}

fn special_values<T: Real>() {
    let (zero, one, inf, nan) = (T::zero(), T::one(), T::infinity(), T::nan());
    let min_sub = T::min_positive_value() * T::epsilon(); // the smallest subnormal
    for f in [exp, ln, ln_1p, tanh, sigmoid, softplus] {
        same(f(nan), nan);
        same(f(-nan), nan);
    }
    same(exp(inf), inf);
    same(exp(-inf), zero);
    same(exp(zero), one);
    same(exp(-zero), one);
    same(exp(T::lit(1000.0)), inf);
    same(exp(T::lit(-1000.0)), zero);
    same(ln(zero), -inf);
    same(ln(-zero), -inf);
    same(ln(-one), nan);
    same(ln(-min_sub), nan);
    same(ln(-inf), nan);
    same(ln(inf), inf);
    same(ln(one), zero);
    same(ln_1p(zero), zero);
    same(ln_1p(-zero), -zero);
    same(ln_1p(-one), -inf);
    same(ln_1p(T::lit(-2.0)), nan);
    same(ln_1p(-inf), nan);
    same(ln_1p(inf), inf);
    same(ln_1p(min_sub), min_sub);
    same(ln_1p(-min_sub), -min_sub);
    same(tanh(zero), zero);
    same(tanh(-zero), -zero);
    same(tanh(inf), one);
    same(tanh(-inf), -one);
    same(tanh(T::lit(30.0)), one);
    same(tanh(T::lit(-30.0)), -one);
    same(tanh(T::max_value()), one);
    same(tanh(min_sub), min_sub);
    same(tanh(-min_sub), -min_sub);
    same(sigmoid(inf), one);
    same(sigmoid(-inf), zero);
    same(sigmoid(zero), T::lit(0.5));
    same(sigmoid(T::max_value()), one);
    same(sigmoid(-T::max_value()), zero);
    same(softplus(inf), inf);
    same(softplus(-inf), zero);
    same(softplus(T::max_value()), T::max_value());
    same(softplus(-T::max_value()), zero);
}

#[test]
fn special_values_f32() {
    special_values::<f32>();
    // Subnormal results of exp, and its thresholds.
    same(exp(-100.0_f32), (-100.0_f64).exp() as f32);
    assert!(exp(-100.0_f32) < f32::MIN_POSITIVE && exp(-100.0_f32) > 0.0);
    // The largest input with a finite result, and the next.
    let last = 88.722_83_f32;
    assert!(f64::from(last).exp() < f64::from(f32::MAX));
    same(exp(last), f64::from(last).exp() as f32);
    same(exp(f32::from_bits(last.to_bits() + 1)), f32::INFINITY);
    same(exp(-103.972_08_f32), f32::from_bits(1));
    same(exp(-103.972_09_f32), 0.0);
    // Subnormal inputs of ln.
    same(ln(f32::from_bits(1)), -103.278_93);
    same(sigmoid(-100.0_f32), (-100.0_f64).exp() as f32);
}

#[test]
fn special_values_f64() {
    special_values::<f64>();
    same(exp(-740.0_f64), (-740.0_f64).exp());
    assert!(exp(-740.0_f64) < f64::MIN_POSITIVE && exp(-740.0_f64) > 0.0);
    // The largest input with a finite result (just below ln(MAX)), and the next.
    let last = 709.782_712_893_384_f64;
    same(exp(last), last.exp());
    assert!(exp(last).is_finite());
    assert!(f64::from_bits(last.to_bits() + 1).exp().is_infinite());
    same(exp(f64::from_bits(last.to_bits() + 1)), f64::INFINITY);
    same(exp(-745.133_219_101_941_1_f64), f64::from_bits(1));
    same(exp(-745.2_f64), 0.0);
    same(ln(f64::from_bits(1)), f64::from_bits(1).ln());
    same(sigmoid(-740.0_f64), (-740.0_f64).exp());
}

/// The bound checks above can fail: a function off by a few ulps is caught.
#[test]
fn ulps_detects_errors() {
    let mut rng = Rng(7);
    let xs: Vec<f64> = (0..100_000).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let differ = xs.iter().filter(|&&x| exp(x) != x.exp()).count();
    eprintln!("f64 exp differs from std at {differ} of {}", xs.len());
    let off = |x: f32| f32::from_bits(exp(x).to_bits() + 3);
    let case = Case {
        name: "off",
        f: off,
        reference: |x| f64::from(x).exp() as f32,
        max_ulps: 1,
    };
    assert_eq!(worst(&case, [0.5_f32, 1.0].into_iter(), ulps32).0, 3);
    assert_eq!(ulps32(f32::MAX, f32::INFINITY), u64::MAX);
    assert_eq!(ulps32(-0.0, 0.0), 0);
    assert_eq!(ulps32(f32::from_bits(1), -f32::from_bits(1)), 2);
}
