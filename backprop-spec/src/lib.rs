//! What the compiler knows of the ops, apart from their kernels: the
//! elementwise op table ([`ELEMENTWISE`]: names, parameters, which values each
//! derivative rule reads, docs, test domains) and the comparisons of `where_`.
//!
//! It has no dependencies, so the proc-macro (`backprop-macros` through
//! `backprop-dsl`) does not build ndarray or the kernels: they are only the
//! runtime's. `backprop-kernels` re-exports everything here, and each entry's
//! kernels are its functions of the same name.

#![forbid(unsafe_code)]

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
    /// Whether computing it (or its derivative) takes a transcendental function
    /// (`exp`, `ln`, `tanh`...): a fused loop with such an op does enough work per
    /// element to be worth splitting over threads; a loop of plain arithmetic is
    /// bound by memory, where a second thread does not pay.
    pub costly: bool,
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

/// The table of elementwise ops that the compiler reads: name, parameters, doc,
/// derivative inputs, test domain. The kernels are `backprop_kernels`' functions
/// of the same name (`exp`, `exp_backward`) and the scalar forms in its `elem`.
pub static ELEMENTWISE: &[Elementwise] = &[
    Elementwise {
        name: "neg",
        params: &[],
        doc: "negation `-x`",
        uses: Some(Uses::X),
        reference: |x, _| -x,
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "exp",
        params: &[],
        doc: "`e^x`",
        uses: Some(Uses::Y),
        reference: |x, _| std::f64::consts::E.powf(x),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "ln",
        params: &[],
        doc: "natural logarithm",
        uses: Some(Uses::X),
        reference: |x, _| x.log(std::f64::consts::E),
        domain: (0.2, 4.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "sqrt",
        params: &[],
        doc: "square root",
        uses: Some(Uses::Y),
        reference: |x, _| x.powf(0.5),
        domain: (0.2, 4.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "abs",
        params: &[],
        doc: "absolute value",
        uses: Some(Uses::X),
        reference: |x, _| if x < 0.0 { -x } else { x },
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: kink_at_zero,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "square",
        params: &[],
        doc: "`x^2`",
        uses: Some(Uses::X),
        reference: |x, _| x.powi(2),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "powi",
        params: &[Param::int("n")],
        doc: "`x^n` for a constant integer `n`",
        uses: Some(Uses::X),
        reference: |x, p| (0..p[0] as i32).fold(1.0, |acc, _| acc * x),
        domain: (-2.0, 2.0),
        test_params: &[3.0],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "powf",
        params: &[Param::float("p")],
        doc: "`x^p` for a constant `p` (x > 0)",
        uses: Some(Uses::X),
        reference: |x, p| (p[0] * x.ln()).exp(),
        domain: (0.2, 3.0),
        test_params: &[1.7],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "recip",
        params: &[],
        doc: "`1 / x`",
        uses: Some(Uses::Y),
        reference: |x, _| 1.0 / x,
        domain: (0.3, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "sigmoid",
        params: &[],
        doc: "logistic sigmoid `1 / (1 + e^-x)`",
        uses: Some(Uses::Y),
        reference: |x, _| 1.0 / (1.0 + (-x).exp()),
        domain: (-5.0, 5.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "tanh",
        params: &[],
        doc: "hyperbolic tangent",
        uses: Some(Uses::Y),
        reference: |x, _| (x.exp() - (-x).exp()) / (x.exp() + (-x).exp()),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "relu",
        params: &[],
        doc: "`max(x, 0)`",
        uses: Some(Uses::X),
        reference: |x, _| x.max(0.0),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: kink_at_zero,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "leaky_relu",
        params: &[Param::float("alpha")],
        doc: "`x` for x > 0, else `alpha * x`",
        uses: Some(Uses::X),
        reference: |x, p| if x > 0.0 { x } else { p[0] * x },
        domain: (-3.0, 3.0),
        test_params: &[0.1],
        tolerance: 1e-7,
        kinks: kink_at_zero,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "elu",
        params: &[Param::float("alpha")],
        doc: "`x` for x > 0, else `alpha * (e^x - 1)`",
        uses: Some(Uses::XY),
        reference: |x, p| if x > 0.0 { x } else { p[0] * (x.exp() - 1.0) },
        domain: (-3.0, 3.0),
        test_params: &[0.7],
        tolerance: 1e-7,
        kinks: kink_at_zero,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "softplus",
        params: &[],
        doc: "`ln(1 + e^x)`",
        uses: Some(Uses::X),
        reference: |x, _| (1.0 + x.exp()).ln(),
        domain: (-5.0, 5.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "gelu",
        params: &[],
        doc: "GELU, tanh approximation",
        uses: Some(Uses::X),
        reference: |x, _| {
            let inner = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3));
            0.5 * x * (1.0 + inner.tanh())
        },
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "silu",
        params: &[],
        doc: "SiLU (swish) `x * sigmoid(x)`",
        uses: Some(Uses::X),
        reference: |x, _| x / (1.0 + (-x).exp()),
        domain: (-4.0, 4.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "sin",
        params: &[],
        doc: "sine",
        uses: Some(Uses::X),
        reference: |x, _| (std::f64::consts::FRAC_PI_2 - x).cos(),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "cos",
        params: &[],
        doc: "cosine",
        uses: Some(Uses::X),
        reference: |x, _| (std::f64::consts::FRAC_PI_2 - x).sin(),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: true,
        check: None,
    },
    Elementwise {
        name: "clip",
        params: &[Param::float("lo"), Param::float("hi")],
        doc: "`x` limited to `[lo, hi]` (zero gradient outside)",
        uses: Some(Uses::X),
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
        costly: false,
        check: Some("check_clip_bounds"),
    },
    Elementwise {
        name: "huber",
        params: &[Param::float("delta")],
        doc: "Huber function, quadratic within `delta`, linear beyond",
        uses: Some(Uses::X),
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
        costly: false,
        check: Some("check_huber_delta"),
    },
    Elementwise {
        name: "sign",
        params: &[],
        doc: "sign, -1, 0 or 1 (no derivative)",
        uses: None,
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
        costly: false,
        check: None,
    },
    Elementwise {
        name: "floor",
        params: &[],
        doc: "round down (no derivative)",
        uses: None,
        reference: |x, _| x - x.rem_euclid(1.0),
        domain: (-3.0, 3.0),
        test_params: &[],
        tolerance: 1e-7,
        kinks: no_kinks,
        costly: false,
        check: None,
    },
    Elementwise {
        name: "round",
        params: &[],
        doc: "round to nearest (no derivative)",
        uses: None,
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
        costly: false,
        check: None,
    },
];

/// Comparison of two arrays with broadcasting, giving a mask for `where_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
}
