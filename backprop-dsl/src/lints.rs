//! The lint registry: every compile-time warning of the language is one entry of
//! [`LINTS`], with its name, its default level, what it catches, and the analysis
//! over the checked IR that finds it. A new lint is one entry here (and its
//! trybuild cases); the attribute's `allow(..)`, `warn(..)` and `deny(..)` options,
//! the messages' notes and the emission as a rustc warning or error come with it.

use proc_macro2::Span;

use crate::diag::{Diagnostic, Diagnostics, Severity, did_you_mean};
use crate::ir::{BinOp, Graph, Op, ScalarOp, Ty, ValueId};
use crate::messages::{self, Message};

/// How a lint is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Allow,
    /// A warning; the code is generated.
    Warn,
    /// A compile error (the code is still generated, so nothing cascades).
    Deny,
}

/// One finding of a lint: where, what, and what to write instead.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The first and last token it is about.
    pub range: (Span, Span),
    /// What is wrong and what to do.
    pub message: Message,
}

/// One compile-time check.
#[derive(Debug)]
pub struct Lint {
    /// Its name in `allow(..)`, `warn(..)` and `deny(..)`.
    pub name: &'static str,
    /// Its level when the attribute does not set one.
    pub default: Level,
    /// What it catches and why, in one line (for the docs).
    pub doc: &'static str,
    /// The analysis: findings over a checked (not yet differentiated) graph.
    pub check: fn(&Graph) -> Vec<Finding>,
}

/// Every lint.
pub static LINTS: &[Lint] = &[
    Lint {
        name: "unused_input",
        default: Level::Warn,
        doc: "an input that no output depends on: its gradient is always zero, which usually means a typo or a forgotten term",
        check: unused_inputs,
    },
    Lint {
        name: "unused_let",
        default: Level::Warn,
        doc: "a `let` binding that nothing reads: its computation is dropped from the generated code",
        check: unused_lets,
    },
    Lint {
        name: "clip_zero_gradient",
        default: Level::Warn,
        doc: "a `clip`, `minimum` or `maximum` with a constant bound between a parameter and a scalar loss: its gradient is exactly zero wherever the bound takes over (the DQN clipped-loss bug); `huber` keeps a gradient",
        check: clips_on_the_loss_path,
    },
    Lint {
        name: "unstable_log",
        default: Level::Warn,
        doc: "`ln(softmax(..))` or `ln(sigmoid(..))`: `-inf` and a NaN gradient once the probability rounds to zero; `log_softmax` and `-softplus(-x)` compute the same without underflow",
        check: logs_of_probabilities,
    },
    Lint {
        name: "unbounded_exp",
        default: Level::Warn,
        doc: "`exp` of a value that grows with an input and that nothing bounds: it overflows to infinity (subtract the maximum, or use `softmax`/`logsumexp`)",
        check: unbounded_exps,
    },
    Lint {
        name: "singular_at_zero",
        default: Level::Warn,
        doc: "`sqrt`, `ln`, `recip` or a division of a value that is never negative but reaches 0 (`sqrt(x.square().sum())`), on the gradient path: the derivative there is infinite and the gradient inf or NaN; add an epsilon",
        check: singular_at_zero,
    },
    Lint {
        name: "nan_through_where",
        default: Level::Warn,
        doc: "`sqrt`, `ln`, `recip` or a division inside a `where_` branch: where the branch is not taken its derivative can be NaN, and 0 * NaN is NaN, so the NaN leaks into the gradient; guard the argument with a `where_` of its own",
        check: nan_through_where,
    },
];

/// Looks a lint up by name.
pub fn find(name: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.name == name)
}

/// A lint level set in the attribute: `deny(unused_input)`.
#[derive(Clone, Debug)]
pub struct LevelSetting {
    /// The lint.
    pub lint: &'static Lint,
    /// The level asked for.
    pub level: Level,
}

/// Runs every lint whose level is not `Allow` and records its findings as
/// warnings or (when denied) errors.
pub fn run(g: &Graph, settings: &[LevelSetting], diags: &mut Diagnostics) {
    for lint in LINTS {
        // The last setting wins, as with rustc's attributes.
        let level = settings
            .iter()
            .rev()
            .find(|s| std::ptr::eq(s.lint, lint))
            .map_or(lint.default, |s| s.level);
        let severity = match level {
            Level::Allow => continue,
            Level::Warn => Severity::Warning,
            Level::Deny => Severity::Error,
        };
        for f in (lint.check)(g) {
            diags.push(Diagnostic::new(
                severity,
                Some(lint.name),
                f.range,
                f.message,
            ));
        }
    }
}

/// The help for a lint name that does not exist.
pub fn unknown_help(name: &str) -> String {
    let names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
    messages::unknown_lint_help(did_you_mean(name, names.iter().copied()), &names)
}

/// Which nodes the outputs depend on.
fn reaches_outputs(g: &Graph) -> Vec<bool> {
    reaches_outputs_that(g, |_| true)
}

/// Which nodes the outputs `o` with `wanted(o)` depend on.
fn reaches_outputs_that(g: &Graph, wanted: impl Fn(ValueId) -> bool) -> Vec<bool> {
    let mut live = vec![false; g.nodes.len()];
    for &o in &g.outputs {
        live[o] |= wanted(o);
    }
    for id in (0..g.nodes.len()).rev() {
        if live[id] {
            for &a in &g.nodes[id].args {
                live[a] = true;
            }
        }
    }
    live
}

fn unused_inputs(g: &Graph) -> Vec<Finding> {
    let live = reaches_outputs(g);
    g.inputs
        .iter()
        .filter(|input| !live[input.node] && !input.name.starts_with('_'))
        .map(|input| {
            let span = g.nodes[input.node].span;
            Finding {
                range: (span, span),
                message: messages::unused_input(&input.name, input.wants_grad),
            }
        })
        .collect()
}

fn unused_lets(g: &Graph) -> Vec<Finding> {
    let live = reaches_outputs(g);
    g.lets
        .iter()
        .filter(|b| !b.used && !b.name.starts_with('_'))
        .map(|b| {
            // Computed but dropped, unless the value is also reached another way.
            let dropped = b
                .value
                .is_some_and(|v| !matches!(g.nodes[v].op, Op::Input(_)) && !live[v]);
            Finding {
                range: (b.span, b.span),
                message: messages::unused_let(&b.name, dropped),
            }
        })
        .collect()
}

/// Which forward nodes a differentiable input reaches.
fn from_parameters(g: &Graph) -> Vec<bool> {
    let mut reached = vec![false; g.nodes.len()];
    for (id, n) in g.nodes.iter().enumerate() {
        reached[id] = match n.op {
            Op::Input(i) => g.inputs.get(i).is_some_and(|input| input.wants_grad),
            _ => n.args.iter().any(|&a| reached[a]),
        };
    }
    reached
}

/// Which nodes no input reaches: literals and what is computed from them alone.
fn constants(g: &Graph) -> Vec<bool> {
    let mut constant = vec![false; g.nodes.len()];
    for (id, n) in g.nodes.iter().enumerate() {
        constant[id] = !matches!(n.op, Op::Input(_)) && n.args.iter().all(|&a| constant[a]);
    }
    constant
}

/// Which nodes a scalar output (a loss: `T` or a 0-d array) depends on.
fn reaches_a_loss(g: &Graph) -> Vec<bool> {
    reaches_outputs_that(g, |o| matches!(g.ty(o), Ty::Float(0) | Ty::Scalar))
}

/// Whether op `op` (an op described by data) only selects, moves or reshapes
/// its argument's elements (`pick`, `transpose`, ...), computing no new ones.
fn selects(op: &str) -> bool {
    matches!(
        op,
        "pick"
            | "rows"
            | "take_along_axis"
            | "slice_axis"
            | "insert_axis"
            | "transpose"
            | "flatten"
    )
}

/// Whether op `op` gives values of its argument's sign and boundedness: the
/// selections, and sums, means and maxima.
fn keeps_sign(op: &str) -> bool {
    selects(op)
        || matches!(
            op,
            "sum" | "mean" | "sum_axis" | "mean_axis" | "max_axis" | "max_pool2"
        )
}

fn finding_at(g: &Graph, id: usize, message: Message) -> Finding {
    let span = g.nodes[id].span;
    Finding {
        range: (span, span),
        message,
    }
}

/// `clip(x, lo, hi)`, `minimum(x, c)`, `maximum(x, c)` with constant bounds, `x`
/// from a parameter, on the way to a scalar loss: where the bound takes over, the
/// gradient is exactly zero. (`relu` is not one: it says what it does.)
fn clips_on_the_loss_path(g: &Graph) -> Vec<Finding> {
    let (param, constant, loss) = (from_parameters(g), constants(g), reaches_a_loss(g));
    let mut found = Vec::new();
    for (id, n) in g.nodes.iter().enumerate() {
        let clipped = match (&n.op, n.args.as_slice()) {
            (Op::Elementwise(e), [x, bounds @ ..]) if e.name == "clip" => {
                bounds.iter().all(|&b| constant[b]).then_some(("clip", *x))
            }
            (Op::Binary(op @ (BinOp::Minimum | BinOp::Maximum)), &[a, b]) => {
                let name = if *op == BinOp::Minimum {
                    "minimum"
                } else {
                    "maximum"
                };
                match (constant[a], constant[b]) {
                    (false, true) => Some((name, a)),
                    (true, false) => Some((name, b)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((op, x)) = clipped
            && param[x]
            && loss[id]
        {
            found.push(finding_at(g, id, messages::clip_zero_gradient(op, &n.text)));
        }
    }
    found
}

/// `ln` of a `softmax` or a `sigmoid`, or of elements picked from one.
fn logs_of_probabilities(g: &Graph) -> Vec<Finding> {
    let mut found = Vec::new();
    for (id, n) in g.nodes.iter().enumerate() {
        let (Op::Elementwise(e), Some(&arg)) = (&n.op, n.args.first()) else {
            continue;
        };
        if e.name != "ln" {
            continue;
        }
        // Through what picks or reshapes elements without computing new ones:
        // `ln(pick(softmax(s), &labels))` is the same hazard.
        let mut v = arg;
        while let Op::Prim(p, _) = &g.nodes[v].op
            && selects(p.op)
        {
            v = g.nodes[v].args[0];
        }
        let inner = match &g.nodes[v].op {
            Op::Prim(p, _) if p.op == "softmax" => "softmax",
            Op::Elementwise(e) if e.name == "sigmoid" => "sigmoid",
            _ => continue,
        };
        found.push(finding_at(g, id, messages::unstable_log(inner, &n.text)));
    }
    found
}

/// Whether a value is bounded above and below whatever the inputs: a sign-aware
/// range analysis over the forward graph (float array inputs are unbounded both
/// ways; literals and scalar inputs, hyperparameters, are bounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bounds {
    above: bool,
    below: bool,
}

impl Bounds {
    const BOTH: Bounds = Bounds {
        above: true,
        below: true,
    };
    const fn new(above: bool, below: bool) -> Bounds {
        Bounds { above, below }
    }
    fn both(self) -> bool {
        self.above && self.below
    }
}

/// [`Bounds`] of every node. `a - m` where `m` is a maximum (`max_axis` or
/// `logsumexp`, through `insert_axis` or `stop_gradient`) is bounded above: the
/// usual guard before `exp`.
fn bounds(g: &Graph) -> Vec<Bounds> {
    let is_maximum = |mut v: usize| loop {
        match &g.nodes[v].op {
            Op::StopGradient => v = g.nodes[v].args[0],
            Op::Prim(p, _) if p.op == "insert_axis" => v = g.nodes[v].args[0],
            Op::Prim(p, _) => return matches!(p.op, "max_axis" | "logsumexp"),
            _ => return false,
        }
    };
    let mut out: Vec<Bounds> = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        let arg = |i: usize| n.args.get(i).map_or(Bounds::BOTH, |&a| out[a]);
        let (x, y) = (arg(0), arg(1));
        let all = n.args.iter().all(|&a| out[a].both());
        let b = match &n.op {
            Op::Input(_) => {
                Bounds::new(!matches!(n.ty, Ty::Float(_)), !matches!(n.ty, Ty::Float(_)))
            }
            Op::Elementwise(e) => match e.name {
                "tanh" | "sigmoid" | "sin" | "cos" | "sign" | "clip" => Bounds::BOTH,
                "neg" => Bounds::new(x.below, x.above),
                // Increasing and at least zero (or above -alpha).
                "relu" | "softplus" | "exp" | "sqrt" | "elu" | "gelu" | "silu" | "leaky_relu" => {
                    Bounds::new(x.above, e.name != "leaky_relu" || x.below)
                }
                "ln" => Bounds::new(x.above, false),
                "square" | "abs" | "huber" => Bounds::new(x.both(), true),
                "floor" | "round" => x,
                _ => Bounds::new(all, all),
            },
            Op::Binary(BinOp::Add) => Bounds::new(x.above && y.above, x.below && y.below),
            Op::Binary(BinOp::Sub) if is_maximum(n.args[1]) => {
                Bounds::new(true, x.below && y.above)
            }
            Op::Binary(BinOp::Sub) => Bounds::new(x.above && y.below, x.below && y.above),
            // `x op c`: a scaling by a constant keeps or swaps the bounds.
            Op::WithScalar(op) => {
                let sign = match g.nodes[n.args[1]].op {
                    Op::Const(c) => c.partial_cmp(&0.0),
                    _ => None,
                };
                match (op, sign) {
                    (ScalarOp::Add, _) => Bounds::new(x.above && y.above, x.below && y.below),
                    (ScalarOp::Sub, _) => Bounds::new(x.above && y.below, x.below && y.above),
                    (ScalarOp::RSub, _) => Bounds::new(y.above && x.below, y.below && x.above),
                    (_, Some(std::cmp::Ordering::Equal)) if *op == ScalarOp::Mul => Bounds::BOTH,
                    (ScalarOp::Mul | ScalarOp::Div, Some(std::cmp::Ordering::Greater)) => x,
                    (ScalarOp::Mul | ScalarOp::Div, Some(std::cmp::Ordering::Less)) => {
                        Bounds::new(x.below, x.above)
                    }
                    _ => Bounds::new(all, all),
                }
            }
            Op::Where => {
                let (a, b) = (y, arg(2));
                Bounds::new(a.above && b.above, a.below && b.below)
            }
            Op::Binary(BinOp::Minimum) => Bounds::new(x.above || y.above, x.below && y.below),
            Op::Binary(BinOp::Maximum) => Bounds::new(x.above && y.above, x.below || y.below),
            Op::Prim(p, _) => match p.op {
                "softmax" => Bounds::BOTH,
                "log_softmax" => Bounds::new(true, false),
                // Reductions and plumbing keep their argument's bounds.
                op if keeps_sign(op) || op == "logsumexp" => x,
                _ => Bounds::new(all, all),
            },
            Op::StopGradient => x,
            _ => Bounds::new(all, all),
        };
        out.push(b);
    }
    out
}

/// `exp` of a value that nothing bounds above.
fn unbounded_exps(g: &Graph) -> Vec<Finding> {
    let bounds = bounds(g);
    g.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            matches!(&n.op, Op::Elementwise(e) if e.name == "exp")
                && n.args.first().is_some_and(|&a| !bounds[a].above)
        })
        .map(|(id, n)| finding_at(g, id, messages::unbounded_exp(&n.text)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opt::tests::compiled;

    fn graph(body: &str) -> Graph {
        compiled(
            &format!(
                "fn f<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, #[no_grad] t: ArrayView2<T>) -> T {{ {body} }}"
            ),
            "",
        )
    }

    /// The bounds of the value `(body).sum()` sums.
    fn bounds_of(body: &str) -> Bounds {
        let g = graph(&format!("({body}).sum()"));
        bounds(&g)[g.nodes[g.outputs[0]].args[0]]
    }

    #[test]
    fn bounds_follow_signs_through_ops() {
        let (above, below, neither) = (
            Bounds::new(true, false),
            Bounds::new(false, true),
            Bounds::new(false, false),
        );
        assert_eq!(bounds_of("x"), neither);
        assert_eq!(bounds_of("tanh(x) * 3.0 - sigmoid(w)"), Bounds::BOTH);
        assert_eq!(bounds_of("-x.square()"), above);
        assert_eq!(bounds_of("relu(x.dot(&w))"), below);
        assert_eq!(bounds_of("-softplus(x) + 1.0"), above);
        assert_eq!(
            bounds_of("x - max_axis(x, Axis(1)).insert_axis(Axis(1))"),
            above
        );
        assert_eq!(bounds_of("minimum(x, 2.0)"), above);
        assert_eq!(bounds_of("maximum(x, 2.0)"), below);
        assert_eq!(bounds_of("x * tanh(x)"), neither);
        assert_eq!(bounds_of("log_softmax(x, Axis(1))"), above);
    }

    fn findings(lint: fn(&Graph) -> Vec<Finding>, body: &str) -> usize {
        lint(&graph(body)).len()
    }

    #[test]
    fn a_constant_clip_fires_only_between_a_parameter_and_the_loss() {
        let lint = clips_on_the_loss_path;
        assert_eq!(findings(lint, "clip(t - x, -1.0, 1.0).square().mean()"), 1);
        assert_eq!(
            findings(lint, "(maximum(x, 0.5) + minimum(1.0, w)).sum()"),
            2
        );
        assert_eq!(findings(lint, "huber(t - x, 1.0).mean()"), 0);
        assert_eq!(findings(lint, "(clip(t, 0.0, 1.0) - x).square().mean()"), 0);
        assert_eq!(findings(lint, "minimum(x, w).sum()"), 0);
        assert_eq!(findings(lint, "minimum(x, t).sum()"), 0);
    }

    #[test]
    fn signs_know_what_never_reaches_zero() {
        let sign_of = |body: &str| {
            let g = graph(&format!("({body}).sum()"));
            signs(&g)[g.nodes[g.outputs[0]].args[0]]
        };
        assert_eq!(sign_of("x"), Sign::Any);
        assert_eq!(sign_of("x.square().sum_axis(Axis(1))"), Sign::NonNegative);
        assert_eq!(sign_of("x.square() + 1e-8"), Sign::Positive);
        assert_eq!(sign_of("sqrt(relu(x) * 2.0)"), Sign::NonNegative);
        assert_eq!(sign_of("exp(x) + x.square()"), Sign::Positive);
        assert_eq!(sign_of("maximum(x.square(), 1e-6)"), Sign::Positive);
        assert_eq!(sign_of("x.square() - 1.0"), Sign::Any);
    }

    #[test]
    fn singular_ops_of_values_reaching_zero_are_found() {
        let lint = singular_at_zero;
        assert_eq!(
            findings(lint, "sqrt(x.square().sum_axis(Axis(1))).sum()"),
            1
        );
        assert_eq!(findings(lint, "(x / sqrt(w.square().sum())).sum()"), 1);
        assert_eq!(
            findings(
                lint,
                "(x / sqrt(w.square().sum_axis(Axis(1))).insert_axis(Axis(1))).sum()"
            ),
            1
        );
        assert_eq!(findings(lint, "ln(relu(x)).sum()"), 1);
        assert_eq!(findings(lint, "sqrt(x.square().sum() + 1e-12)"), 0);
        assert_eq!(findings(lint, "ln(x).sum()"), 0);
        // No parameter reaches it.
        assert_eq!(findings(lint, "(x * sqrt(t.square().sum())).sum()"), 0);
    }

    #[test]
    fn singular_ops_inside_where_branches_are_found() {
        let lint = nan_through_where;
        assert_eq!(findings(lint, "where_(x > 0.0, sqrt(x), x * 0.0).sum()"), 1);
        assert_eq!(
            findings(lint, "where_(x > 1.0, x * 0.0, ln(x - 1.0)).sum()"),
            1
        );
        // The double where: the argument is guarded.
        assert_eq!(
            findings(
                lint,
                "where_(x > 0.0, sqrt(where_(x > 0.0, x, x * 0.0 + 1.0)), x * 0.0).sum()"
            ),
            0
        );
        assert_eq!(
            findings(lint, "where_(x > 0.0, sqrt(x.square() + 1.0), x).sum()"),
            0
        );
    }

    #[test]
    fn logs_of_probabilities_and_unbounded_exps_are_found() {
        assert_eq!(
            findings(logs_of_probabilities, "ln(softmax(x, Axis(1))).sum()"),
            1
        );
        assert_eq!(findings(logs_of_probabilities, "ln(sigmoid(x)).sum()"), 1);
        assert_eq!(
            findings(
                logs_of_probabilities,
                "ln(softmax(x, Axis(1)).slice_axis(Axis(1), 0..1)).sum()"
            ),
            1
        );
        assert_eq!(
            findings(logs_of_probabilities, "ln(sigmoid(x) + 1e-7).sum()"),
            0
        );
        assert_eq!(findings(unbounded_exps, "exp(x.dot(&w)).sum()"), 1);
        assert_eq!(
            findings(unbounded_exps, "(exp(tanh(x)) + exp(-w.square())).sum()"),
            0
        );
    }
}

/// What the sign analysis knows of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sign {
    /// Above zero whatever the inputs (`exp`, `softplus`, `x.square() + 1e-8`),
    /// up to underflow.
    Positive,
    /// Never negative, but 0 for some inputs (`x.square()`, `relu`, their sums).
    NonNegative,
    /// Anything.
    Any,
}

/// The [`Sign`] of every node.
fn signs(g: &Graph) -> Vec<Sign> {
    use Sign::{Any, NonNegative, Positive};
    let at_least_zero = |s: Sign| s != Any;
    let mut out: Vec<Sign> = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        let arg = |i: usize| n.args.get(i).map_or(Any, |&a| out[a]);
        let (x, y) = (arg(0), arg(1));
        // a + b, a * b and a / b of values of known sign.
        let sum = |x: Sign, y: Sign| match (x, y) {
            (Positive, s) | (s, Positive) if at_least_zero(s) => Positive,
            (NonNegative, NonNegative) => NonNegative,
            _ => Any,
        };
        let product = |x: Sign, y: Sign| match (x, y) {
            (Positive, Positive) => Positive,
            (a, b) if at_least_zero(a) && at_least_zero(b) => NonNegative,
            _ => Any,
        };
        let quotient = |x: Sign, y: Sign| if y == Positive { product(x, y) } else { Any };
        let s = match &n.op {
            Op::Const(c) if *c > 0.0 => Positive,
            Op::Const(c) if *c == 0.0 => NonNegative,
            Op::Elementwise(e) => match e.name {
                "exp" | "sigmoid" | "softplus" => Positive,
                "square" | "abs" | "relu" if x == Positive => Positive,
                "square" | "abs" | "relu" => NonNegative,
                "sqrt" => x,
                _ => Any,
            },
            Op::Binary(BinOp::Add) => sum(x, y),
            Op::Binary(BinOp::Mul) => product(x, y),
            Op::Binary(BinOp::Div) => quotient(x, y),
            Op::Binary(BinOp::Maximum) => match (x, y) {
                (Positive, _) | (_, Positive) => Positive,
                (NonNegative, _) | (_, NonNegative) => NonNegative,
                _ => Any,
            },
            Op::Binary(BinOp::Minimum) => match (x, y) {
                (Positive, Positive) => Positive,
                (a, b) if at_least_zero(a) && at_least_zero(b) => NonNegative,
                _ => Any,
            },
            Op::WithScalar(ScalarOp::Add) => sum(x, y),
            Op::WithScalar(ScalarOp::Mul) => product(x, y),
            Op::WithScalar(ScalarOp::Div) => quotient(x, y),
            Op::WithScalar(ScalarOp::RDiv) => quotient(y, x),
            Op::Where => match (arg(1), arg(2)) {
                (Positive, Positive) => Positive,
                (a, b) if at_least_zero(a) && at_least_zero(b) => NonNegative,
                _ => Any,
            },
            Op::Prim(p, _) => match p.op {
                "softmax" => Positive,
                op if keeps_sign(op) => x,
                _ => Any,
            },
            Op::StopGradient => x,
            _ => Any,
        };
        out.push(s);
    }
    out
}

/// The operand of `n` that must not be 0 (or negative, for `sqrt` and `ln`):
/// the argument of `sqrt`, `ln`, `recip`, the denominator of a division.
fn singular_operand(n: &crate::ir::Node) -> Option<(&'static str, ValueId)> {
    match (&n.op, n.args.as_slice()) {
        (Op::Elementwise(e), [x, ..]) => match e.name {
            "sqrt" => Some(("sqrt", *x)),
            "ln" => Some(("ln", *x)),
            "recip" => Some(("recip", *x)),
            _ => None,
        },
        (Op::Binary(BinOp::Div), [_, d]) => Some(("division", *d)),
        (Op::WithScalar(ScalarOp::RDiv), [d, _]) => Some(("division", *d)),
        _ => None,
    }
}

/// `sqrt`, `ln`, `recip` or a division of a value that is never negative but
/// can be exactly 0, between a parameter and an output.
fn singular_at_zero(g: &Graph) -> Vec<Finding> {
    let (sign, param, live) = (signs(g), from_parameters(g), reaches_outputs(g));
    let mut found = Vec::new();
    // A hazard reported once: not again where its result is divided by.
    let mut flagged = vec![false; g.nodes.len()];
    for (id, n) in g.nodes.iter().enumerate() {
        // Through the values that keep its sign (`insert_axis`, a scaling, a sum).
        if sign[id] == Sign::NonNegative && n.args.iter().any(|&a| flagged[a]) {
            flagged[id] = true;
        }
        if let Some((op, a)) = singular_operand(n)
            && sign[a] == Sign::NonNegative
            && param[a]
            && live[id]
        {
            flagged[id] = true;
            if !flagged[a] {
                let message = messages::singular_at_zero(op, &n.text, &g.nodes[a].text);
                found.push(finding_at(g, id, message));
            }
        }
    }
    found
}

/// A `where_` whose branch computes `sqrt`, `ln`, `recip` or a division (in
/// the elementwise chain that gives the branch) of a value that is not surely
/// positive and not itself guarded by a `where_`.
fn nan_through_where(g: &Graph) -> Vec<Finding> {
    let (sign, param, live) = (signs(g), from_parameters(g), reaches_outputs(g));
    let mut found = Vec::new();
    for (id, n) in g.nodes.iter().enumerate() {
        if !matches!(n.op, Op::Where) || !live[id] {
            continue;
        }
        for &branch in &n.args[1..] {
            // The elementwise chain that computes the branch, within this pass.
            let mut stack = vec![branch];
            let mut seen = std::collections::HashSet::new();
            while let Some(v) = stack.pop() {
                let node = &g.nodes[v];
                if !seen.insert(v) || !node.op.is_elementwise() || matches!(node.op, Op::Where) {
                    continue;
                }
                if let Some((op, a)) = singular_operand(node)
                    && sign[a] != Sign::Positive
                    && !matches!(g.nodes[a].op, Op::Where)
                    && param[a]
                {
                    let message = messages::nan_through_where(op, &node.text, &g.nodes[a].text);
                    found.push(finding_at(g, v, message));
                }
                stack.extend(node.args.iter().copied());
            }
        }
    }
    found
}
