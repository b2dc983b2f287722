//! Elementwise ops: each op's forward kernel, its derivative kernel and its entry
//! in [`ELEMENTWISE`] (the table the compiler reads) stand side by side.
//!
//! A derivative kernel `op_backward` takes what the rule reads (`x`, the forward
//! input; `y`, the forward output; or both), the upstream gradient `g`, and the
//! op's constant parameters, and returns `g * dy/dx`.

use ndarray::{Array, ArrayD, ArrayRef, Dimension, Zip};

use crate::{Real, elem};

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
    /// The kernel that checks the parameters (panicking as the forward kernel
    /// does), which a fused loop calls once before it runs; `None` if any value goes.
    pub check: Option<&'static str>,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: Some("check_clip_bounds"),
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
        check: Some("check_huber_delta"),
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
        check: None,
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
        check: None,
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
        check: None,
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
