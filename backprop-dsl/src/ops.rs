//! The names the language knows, for lookup, arity messages and "did you mean".
//! Elementwise ops come from the runtime's table (`backprop_kernels::ELEMENTWISE`),
//! so an op and its derivative kernel are declared once, in one place.

use backprop_kernels::ELEMENTWISE;

/// A structural op of the language (everything that is not elementwise).
#[derive(Clone, Copy, Debug)]
pub struct Structural {
    /// The name.
    pub name: &'static str,
    /// How it is called, for messages.
    pub usage: &'static str,
    /// Number of arguments, counting a method's receiver.
    pub arity: usize,
}

/// The structural ops.
pub static STRUCTURAL: &[Structural] = &[
    Structural {
        name: "maximum",
        usage: "maximum(a, b)",
        arity: 2,
    },
    Structural {
        name: "minimum",
        usage: "minimum(a, b)",
        arity: 2,
    },
    Structural {
        name: "where_",
        usage: "where_(a > b, x, y)",
        arity: 3,
    },
    Structural {
        name: "dot",
        usage: "a.dot(&b)",
        arity: 2,
    },
    Structural {
        name: "t",
        usage: "a.t()",
        arity: 1,
    },
    Structural {
        name: "transpose",
        usage: "transpose(a)",
        arity: 1,
    },
    Structural {
        name: "sum",
        usage: "x.sum()",
        arity: 1,
    },
    Structural {
        name: "mean",
        usage: "x.mean()",
        arity: 1,
    },
    Structural {
        name: "sum_axis",
        usage: "x.sum_axis(Axis(1))",
        arity: 2,
    },
    Structural {
        name: "mean_axis",
        usage: "x.mean_axis(Axis(1))",
        arity: 2,
    },
    Structural {
        name: "max_axis",
        usage: "max_axis(x, Axis(1))",
        arity: 2,
    },
    Structural {
        name: "logsumexp",
        usage: "logsumexp(x, Axis(1))",
        arity: 2,
    },
    Structural {
        name: "softmax",
        usage: "softmax(x, Axis(1))",
        arity: 2,
    },
    Structural {
        name: "log_softmax",
        usage: "log_softmax(x, Axis(1))",
        arity: 2,
    },
    Structural {
        name: "pick",
        usage: "pick(q, &actions)",
        arity: 2,
    },
    Structural {
        name: "rows",
        usage: "rows(table, &ids)",
        arity: 2,
    },
    Structural {
        name: "slice_axis",
        usage: "x.slice_axis(Axis(1), 0..h)",
        arity: 3,
    },
    Structural {
        name: "concatenate",
        usage: "concatenate(Axis(1), &[&a, &b])",
        arity: 2,
    },
    Structural {
        name: "conv2d",
        usage: "conv2d(x, w, stride, pad) with x [n, c, h, w] and w [f, c, kh, kw]",
        arity: 4,
    },
    Structural {
        name: "max_pool2",
        usage: "max_pool2(x) with x [n, c, h, w]: 2x2 windows, stride 2",
        arity: 1,
    },
    Structural {
        name: "flatten",
        usage: "flatten(x): [n, ...] -> [n, rest]",
        arity: 1,
    },
    Structural {
        name: "insert_axis",
        usage: "x.insert_axis(Axis(1))",
        arity: 2,
    },
    Structural {
        name: "stop_gradient",
        usage: "stop_gradient(x)",
        arity: 1,
    },
    Structural {
        name: "len_of",
        usage: "x.len_of(Axis(1))",
        arity: 2,
    },
    Structural {
        name: "nrows",
        usage: "x.nrows()",
        arity: 1,
    },
    Structural {
        name: "ncols",
        usage: "x.ncols()",
        arity: 1,
    },
    Structural {
        name: "view",
        usage: "x.view()",
        arity: 1,
    },
    Structural {
        name: "to_owned",
        usage: "x.to_owned()",
        arity: 1,
    },
];

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
    ("matmul", "`a.dot(&b)`"),
    ("mm", "`a.dot(&b)`"),
    ("bmm", "`a.dot(&b)` on 2-D arrays"),
    ("einsum", "`a.dot(&b)`, `.t()` and the reductions"),
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
    ("gather", "`pick(q, &idx)` for one column per row"),
    ("take_along_axis", "`pick(q, &idx)` for one column per row"),
    ("index_select", "`rows(table, &ids)`"),
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
        .chain(STRUCTURAL.iter().map(|s| s.name))
}

/// The usage line of a name, for arity messages.
pub fn usage(name: &str) -> Option<String> {
    if let Some(e) = ELEMENTWISE.iter().find(|e| e.name == name) {
        let params: Vec<&str> = std::iter::once("x")
            .chain(e.params.iter().map(|p| p.name))
            .collect();
        return Some(format!("{}({}): {}", e.name, params.join(", "), e.doc));
    }
    STRUCTURAL
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.usage.to_string())
}

/// How a name is called, without its description: `leaky_relu(x, alpha)`, `x.sum()`.
pub fn call_form(name: &str) -> Option<String> {
    if let Some(e) = ELEMENTWISE.iter().find(|e| e.name == name) {
        let params: Vec<&str> = std::iter::once("x")
            .chain(e.params.iter().map(|p| p.name))
            .collect();
        return Some(format!("{}({})", e.name, params.join(", ")));
    }
    STRUCTURAL
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.usage.to_string())
}

/// The number of arguments a name takes, counting a method's receiver.
pub fn arity(name: &str) -> Option<usize> {
    if let Some(e) = ELEMENTWISE.iter().find(|e| e.name == name) {
        return Some(1 + e.params.len());
    }
    STRUCTURAL.iter().find(|s| s.name == name).map(|s| s.arity)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A foreign name never hides an op of the language.
    #[test]
    fn foreign_names_are_not_ops() {
        for (name, _) in FOREIGN_NAMES {
            assert!(arity(name).is_none(), "`{name}` is an op");
        }
    }

    /// Every structural op in the table is handled by the checker (no "internal error").
    #[test]
    fn every_structural_op_has_a_checking_rule() {
        for op in STRUCTURAL {
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
