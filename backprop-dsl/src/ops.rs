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
