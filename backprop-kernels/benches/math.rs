//! std's elementary functions against [`backprop_kernels::math`] over 2^20
//! elements, on the default target and inside [`math::dispatch`] (AVX2 where
//! the CPU has it).
//!
//! Run with `cargo bench -p backprop-kernels --bench math`.

use backprop_kernels::{Real, math};
use divan::Bencher;
use ndarray::{Array1, Zip};

fn main() {
    divan::main();
}

/// The number of elements of every input.
const N: usize = 1 << 20;

/// `N` values from `lo` to `hi`.
fn input<T: Real>(lo: f64, hi: f64) -> Array1<T> {
    Array1::linspace(T::lit(lo), T::lit(hi), N)
}

/// The branchy scalar sigmoid of the kernels before `math` (both branches call std's `exp`).
fn sigmoid_std<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// softplus on std's functions.
fn softplus_std<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// One benchmark group per function: `std` (std's function in a `Zip` loop),
/// `math` (the same loop on `math`'s function, default target), `zip_dispatch`
/// (that loop inside `math::dispatch`, which does not reach it) and `map`
/// (`math::map`: a slice loop inside `math::dispatch`, AVX2).
macro_rules! group {
    ($name:ident, $lo:expr, $hi:expr, $std:expr) => {
        mod $name {
            use super::*;

            #[divan::bench(types = [f32, f64])]
            fn std<T: Real>(b: Bencher) {
                let x = input::<T>($lo, $hi);
                b.bench_local(|| Zip::from(&x).map_collect(|&x| $std(x)));
            }

            #[divan::bench(types = [f32, f64])]
            fn math<T: Real>(b: Bencher) {
                let x = input::<T>($lo, $hi);
                b.bench_local(|| Zip::from(&x).map_collect(|&x| math::$name(x)));
            }

            #[divan::bench(types = [f32, f64])]
            fn zip_dispatch<T: Real>(b: Bencher) {
                let x = input::<T>($lo, $hi);
                b.bench_local(|| {
                    math::dispatch(
                        #[inline(always)]
                        || {
                            Zip::from(&x).map_collect(
                                #[inline(always)]
                                |&x| math::$name(x),
                            )
                        },
                    )
                });
            }

            #[divan::bench(types = [f32, f64])]
            fn map<T: Real>(b: Bencher) {
                let x = input::<T>($lo, $hi);
                b.bench_local(|| math::map(&x, math::$name));
            }
        }
    };
}

group!(exp, -20.0, 20.0, T::exp);
group!(ln, 1e-3, 1e3, T::ln);
group!(ln_1p, -0.9, 10.0, T::ln_1p);
group!(tanh, -10.0, 10.0, T::tanh);
group!(sigmoid, -20.0, 20.0, sigmoid_std);
group!(softplus, -20.0, 20.0, softplus_std);

/// The W2 workload of the performance issue:
/// `sum(x * sigmoid(1.702 x) + 0.5 tanh(x)^2 - softplus(x) / (1 + x^2))`.
mod w2 {
    use super::*;

    #[inline(always)]
    fn w2<T: Real>(x: T, sigmoid: fn(T) -> T, tanh: fn(T) -> T, softplus: fn(T) -> T) -> T {
        let t = tanh(x);
        x * sigmoid(T::lit(1.702) * x) + T::lit(0.5) * t * t - softplus(x) / (T::one() + x * x)
    }

    #[divan::bench(types = [f32, f64])]
    fn std<T: Real>(b: Bencher) {
        let x = input::<T>(-8.0, 8.0);
        b.bench_local(|| {
            Zip::from(&x)
                .map_collect(|&x| w2(x, sigmoid_std, T::tanh, softplus_std))
                .sum()
        });
    }

    #[divan::bench(types = [f32, f64])]
    fn math<T: Real>(b: Bencher) {
        let x = input::<T>(-8.0, 8.0);
        b.bench_local(|| {
            Zip::from(&x)
                .map_collect(|&x| w2(x, math::sigmoid, math::tanh, math::softplus))
                .sum()
        });
    }

    #[divan::bench(types = [f32, f64])]
    fn map<T: Real>(b: Bencher) {
        let x = input::<T>(-8.0, 8.0);
        b.bench_local(|| {
            math::map(
                &x,
                #[inline(always)]
                |x| w2(x, math::sigmoid, math::tanh, math::softplus),
            )
            .sum()
        });
    }
}
