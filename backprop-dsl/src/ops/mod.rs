//! The ops of the language, each found in one file of this module: its
//! [`Syntax`] (name, usage, check and lowering) and, for an op described by data,
//! its [`Prim`] (type rule, kernel, derivative kernels, naming, doc, test cases),
//! which every stage reads. Elementwise ops come from the runtime's table
//! (`backprop_spec::ELEMENTWISE`). The core ops of `core.rs` (extrema,
//! `where_`, `concatenate`, `stop_gradient`, sizes) lower to the IR's own
//! arithmetic nodes, whose derivative rules are in `crate::diff`.

pub(crate) mod axis;
mod core;
mod dot;
mod image;
mod index;
mod matmul;
pub mod prim;
pub(crate) mod shape;

use backprop_spec::ELEMENTWISE;

pub use prim::{Attr, Call, Case, CaseInput, Grad, K, Kernel, Naming, Prim, Read, Syntax};

/// Every op of the language described by data, by family.
static FAMILIES: &[(&[Syntax], &[&Prim])] = &[
    (core::SYNTAX, &[]),
    (axis::SYNTAX, axis::PRIMS),
    (dot::SYNTAX, dot::PRIMS),
    (shape::SYNTAX, shape::PRIMS),
    (image::SYNTAX, image::PRIMS),
    (index::SYNTAX, index::PRIMS),
    (matmul::SYNTAX, matmul::PRIMS),
];

/// The elementwise negation, the first entry of the table (a test keeps it there):
/// the derivative rules and the lowering of unary `-` build on it.
pub fn neg() -> &'static backprop_spec::Elementwise {
    &ELEMENTWISE[0]
}

/// How the ops described by data are written.
pub fn syntaxes() -> impl Iterator<Item = &'static Syntax> {
    FAMILIES.iter().flat_map(|(s, _)| s.iter())
}

/// The IR ops described by data.
pub fn prims() -> impl Iterator<Item = &'static Prim> {
    FAMILIES.iter().flat_map(|(_, p)| p.iter().copied())
}

/// The op described by data that a name of the language calls.
pub fn syntax(name: &str) -> Option<&'static Syntax> {
    syntaxes().find(|s| s.name == name)
}

/// Names people bring from NumPy, PyTorch and JAX, with what to write here instead.
/// Looked up before the edit-distance suggestion, which would offer `ln` for `log`
/// only by luck and nothing at all for `matmul`.
pub static FOREIGN_NAMES: &[(&str, &str)] = &[
    ("log", "`ln(x)`, the natural logarithm"),
    ("log1p", "`ln(1.0 + x)`, or `softplus(x)` for `ln(1 + e^x)`"),
    (
        "log2",
        "`ln(x) * 1.4426950408889634` (that is, `ln(x) / ln 2`)",
    ),
    ("log10", "`ln(x) * 0.4342944819032518`"),
    (
        "logsigmoid",
        "`-softplus(-x)`, the stable form of `ln(sigmoid(x))`",
    ),
    (
        "log_sigmoid",
        "`-softplus(-x)`, the stable form of `ln(sigmoid(x))`",
    ),
    (
        "max",
        "`max_axis(x, Axis(1))` for the largest value along an axis, or `maximum(a, b)` elementwise",
    ),
    ("amax", "`max_axis(x, Axis(1))`"),
    (
        "min",
        "`minimum(a, b)` elementwise, or `-max_axis(-x, Axis(1))` along an axis",
    ),
    ("clamp", "`clip(x, lo, hi)`"),
    ("clip_by_value", "`clip(x, lo, hi)`"),
    ("hardtanh", "`clip(x, -1.0, 1.0)`"),
    ("mm", "`a.dot(&b)`"),
    ("bmm", "`matmul(a, &b)` for `[b, n, k] x [b, k, m]`"),
    (
        "einsum",
        "`a.dot(&b)`, `matmul(a, &b)`, `.t()` and the reductions",
    ),
    (
        "pow",
        "`powi(x, 2)` for an integer exponent or `powf(x, p)` for a float one",
    ),
    (
        "power",
        "`powi(x, 2)` for an integer exponent or `powf(x, p)` for a float one",
    ),
    ("sqr", "`square(x)`"),
    ("reciprocal", "`recip(x)`"),
    ("negative", "`-x`"),
    ("where", "`where_(cond, a, b)` (`where` is a Rust keyword)"),
    (
        "stack",
        "`concatenate(Axis(k), &[&a, &b])` on arrays with a length-1 axis (`insert_axis`)",
    ),
    ("cat", "`concatenate(Axis(k), &[&a, &b])`"),
    ("concat", "`concatenate(Axis(k), &[&a, &b])`"),
    ("hstack", "`concatenate(Axis(1), &[&a, &b])`"),
    ("vstack", "`concatenate(Axis(0), &[&a, &b])`"),
    (
        "reshape",
        "`flatten(x)` for `[n, ...] -> [n, rest]`, or `insert_axis`; other reshapes are not supported",
    ),
    ("view_as", "`flatten(x)`, or `insert_axis`"),
    ("squeeze", "`sum_axis(x, Axis(k))` on a length-1 axis"),
    ("unsqueeze", "`x.insert_axis(Axis(k))`"),
    ("expand_dims", "`x.insert_axis(Axis(k))`"),
    ("permute", "`x.t()` for a matrix"),
    ("swapaxes", "`x.t()` for a matrix"),
    (
        "gather",
        "`take_along_axis(x, &idx, Axis(k))`, or `pick(q, &idx)` for one column per row",
    ),
    (
        "index_select",
        "`rows(table, &ids)`, or `take_along_axis` along other axes",
    ),
    ("embedding", "`rows(table, &ids)`"),
    ("swish", "`silu(x)`"),
    ("smooth_l1", "`huber(x, 1.0)`"),
    ("smooth_l1_loss", "`huber(x, 1.0)`"),
    (
        "cross_entropy",
        "`-pick(log_softmax(scores, Axis(1)), &labels).mean()`",
    ),
    (
        "logaddexp",
        "`logsumexp` over an axis of `concatenate`d values",
    ),
    ("norm", "`sqrt(square(x).sum() + 1e-12)`"),
    ("detach", "`stop_gradient(x)`"),
    ("stop_gradients", "`stop_gradient(x)`"),
    ("average", "`x.mean()` or `x.mean_axis(Axis(k))`"),
];

/// What to write instead of a name from another array library, if it is one.
pub fn foreign(name: &str) -> Option<&'static str> {
    FOREIGN_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, instead)| *instead)
}

/// Every name that can be called.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    ELEMENTWISE
        .iter()
        .map(|e| e.name)
        .chain(syntaxes().map(|s| s.name))
}

/// The usage line of an op that is not elementwise.
fn structural_usage(name: &str) -> Option<String> {
    syntax(name).map(|s| s.usage.to_string())
}

/// The usage line of a name, for arity messages.
pub fn usage(name: &str) -> Option<String> {
    if let Some(e) = ELEMENTWISE.iter().find(|e| e.name == name) {
        let params: Vec<&str> = std::iter::once("x")
            .chain(e.params.iter().map(|p| p.name))
            .collect();
        return Some(format!("{}({}): {}", e.name, params.join(", "), e.doc));
    }
    structural_usage(name)
}

/// How a name is called, without its description: `leaky_relu(x, alpha)`, `x.sum()`.
pub fn call_form(name: &str) -> Option<String> {
    if let Some(e) = ELEMENTWISE.iter().find(|e| e.name == name) {
        let params: Vec<&str> = std::iter::once("x")
            .chain(e.params.iter().map(|p| p.name))
            .collect();
        return Some(format!("{}({})", e.name, params.join(", ")));
    }
    structural_usage(name)
}

/// The number of arguments a name takes, counting a method's receiver.
pub fn arity(name: &str) -> Option<usize> {
    if let Some(e) = ELEMENTWISE.iter().find(|e| e.name == name) {
        return Some(1 + e.params.len());
    }
    syntax(name).map(|s| s.arity)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IR op names are unique (CSE and the printout identify an op by its name),
    /// language names too, and every op described by data has a test case.
    #[test]
    fn ops_described_by_data_are_unique_and_tested() {
        let mut prims: Vec<&str> = prims().map(|p| p.name).collect();
        prims.sort_unstable();
        prims.dedup();
        assert_eq!(prims.len(), super::prims().count());
        let mut names: Vec<&str> = all_names().collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a name is defined twice");
        for p in super::prims() {
            assert!(!p.cases.is_empty(), "`{}` has no test case", p.name);
        }
    }

    #[test]
    fn negation_is_the_first_elementwise_op() {
        assert_eq!(neg().name, "neg");
    }

    /// A foreign name never hides an op of the language.
    #[test]
    fn foreign_names_are_not_ops() {
        for (name, _) in FOREIGN_NAMES {
            assert!(arity(name).is_none(), "`{name}` is an op");
        }
    }

    /// No op's check gives an internal error, whatever its arguments.
    #[test]
    fn every_op_checks_without_internal_errors() {
        for op in syntaxes() {
            let args: Vec<&str> = ["x", "x", "x", "x"][..op.arity].to_vec();
            let src = format!(
                "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {}({}) }}",
                op.name,
                args.join(", ")
            );
            let item: proc_macro2::TokenStream = src.parse().expect("tokens");
            if let Err(errors) = crate::compile(proc_macro2::TokenStream::new(), item) {
                for e in errors {
                    assert!(
                        !e.message.contains("internal error"),
                        "{}: {}",
                        op.name,
                        e.message
                    );
                }
            }
        }
    }
}
