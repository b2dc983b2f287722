//! `check(..)`: the gradient test the macro writes into the user's crate. The
//! option gives each input a value (a shape for a float array, a shape and a
//! bound for an integer array, a literal for a scalar; `[3] > 0` for a positive
//! float array); the test draws seeded
//! random arrays of those shapes and runs `check_function` on the item's `_dyn`
//! view in `f64`, with its documented threshold.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{BinOp, Expr, Lit};

use crate::diag::Diagnostics;
use crate::messages;
use crate::parse::{CheckSpec, FnDef, InputKind};

/// The value the test gives one input.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckValue {
    /// A float array of this shape, standard normal values.
    Float(Vec<usize>),
    /// A float array of this shape, positive values (`|normal| + 0.5`): `[3] > 0`,
    /// for a variance or anything under a `sqrt` or `ln`.
    Positive(Vec<usize>),
    /// A `usize` array of this shape, uniform values below the bound.
    Int(Vec<usize>, usize),
    /// A float scalar, this literal.
    Scalar(f64),
    /// A `usize` scalar.
    Usize(usize),
}

/// What the test runs: one value per input, in the function's order, and the seed.
#[derive(Clone, Debug)]
pub struct CheckPlan {
    /// One value per input.
    pub values: Vec<CheckValue>,
    /// The seed of the random inputs.
    pub seed: u64,
    /// The standard deviation of the float arrays' normal values (`scale = 0.3`;
    /// 1 by default): smaller keeps sigmoid gates out of saturation, where
    /// gradients are too small for central differences to measure to 1e-7.
    pub scale: f64,
    /// Where the option was written: the test's errors point there.
    pub span: Span,
    /// What the test compares: the derived backward with finite differences,
    /// or a backward of the user's own with both (or, for a surrogate, only its
    /// shapes).
    pub backward: Backward,
}

/// Whose backward the test checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backward {
    /// The derived one: against finite differences.
    Derived,
    /// The user's (`backward = ..`): against finite differences and the derived one.
    Own,
    /// The user's, a declared `surrogate`: only shapes and finite values.
    Surrogate,
}

/// The seed when `check(..)` names none.
pub const DEFAULT_SEED: u64 = 0;

/// A `usize` literal.
fn usize_of(e: &Expr) -> Option<usize> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse().ok(),
            _ => None,
        },
        Expr::Paren(p) => usize_of(&p.expr),
        _ => None,
    }
}

/// `[4, 3]`: dimensions, each at least 1.
fn shape_of(e: &Expr) -> Option<Vec<usize>> {
    match e {
        Expr::Array(a) => a
            .elems
            .iter()
            .map(|d| usize_of(d).filter(|&d| d >= 1))
            .collect(),
        _ => None,
    }
}

/// A float or integer literal, possibly negated.
fn float_of(e: &Expr) -> Option<f64> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Float(f) => f.base10_parse().ok(),
            Lit::Int(i) => i.base10_parse().ok(),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => float_of(&u.expr).map(|v| -v),
        Expr::Paren(p) => float_of(&p.expr),
        _ => None,
    }
}

/// An example value for an input of `kind`, for messages.
fn example(kind: InputKind) -> String {
    let dims = |r: usize| {
        let d: Vec<String> = (0..r).map(|i| (4 - i.min(2)).to_string()).collect();
        format!("[{}]", d.join(", "))
    };
    match kind {
        InputKind::Float(r, _) => dims(r),
        InputKind::Int(r, _) => format!("{} < 3", dims(r)),
        InputKind::Scalar => "0.5".to_string(),
        InputKind::Usize => "2".to_string(),
    }
}

/// What kind of input it is, for messages.
fn kind_text(kind: InputKind) -> String {
    match kind {
        InputKind::Float(r, _) => format!("a {r}-D float array"),
        InputKind::Int(r, _) => format!("a {r}-D integer array"),
        InputKind::Scalar => "a float scalar".to_string(),
        InputKind::Usize => "a `usize`".to_string(),
    }
}

/// The value `e` gives an input of `kind`, if it has the right form.
fn value_for(kind: InputKind, e: &Expr) -> Option<CheckValue> {
    match kind {
        InputKind::Float(r, _) => match e {
            Expr::Binary(b) if matches!(b.op, BinOp::Gt(_)) && usize_of(&b.right) == Some(0) => {
                shape_of(&b.left)
                    .filter(|s| s.len() == r)
                    .map(CheckValue::Positive)
            }
            _ => shape_of(e).filter(|s| s.len() == r).map(CheckValue::Float),
        },
        InputKind::Int(r, _) => match e {
            Expr::Binary(b) if matches!(b.op, BinOp::Lt(_)) => {
                let shape = shape_of(&b.left).filter(|s| s.len() == r)?;
                let below = usize_of(&b.right).filter(|&n| n >= 1)?;
                Some(CheckValue::Int(shape, below))
            }
            _ => None,
        },
        InputKind::Scalar => float_of(e).map(CheckValue::Scalar),
        InputKind::Usize => usize_of(e).map(CheckValue::Usize),
    }
}

/// Checks `spec` against the function's inputs; the plan, or errors in `diags`.
pub fn plan(def: &FnDef, spec: &CheckSpec, diags: &mut Diagnostics) -> Option<CheckPlan> {
    let before = diags.has_errors();
    if !def.generic {
        diags.error(spec.span, messages::CHECK_NEEDS_GENERIC);
    }
    let names: Vec<String> = def.inputs.iter().map(|i| i.name.to_string()).collect();
    let mut values: Vec<Option<CheckValue>> = vec![None; def.inputs.len()];
    let mut seed = DEFAULT_SEED;
    let mut scale = 1.0;
    for (at, (name, expr)) in spec.inputs.iter().enumerate() {
        let text = name.to_string();
        let Some(k) = names.iter().position(|n| *n == text) else {
            // `seed = N` and `scale = x` are settings unless an input has that name.
            if text == "seed"
                && let Some(s) = usize_of(expr)
            {
                seed = s as u64;
                continue;
            }
            if text == "scale"
                && let Some(x) = float_of(expr).filter(|x| *x > 0.0)
            {
                scale = x;
                continue;
            }
            diags.error(name.span(), messages::check_unknown_input(&text, &names));
            continue;
        };
        if spec.inputs[..at].iter().any(|(n, _)| n == name) {
            diags.error(name.span(), messages::check_duplicate_input(&text));
            continue;
        }
        let kind = def.inputs[k].kind;
        match value_for(kind, expr) {
            Some(v) => values[k] = Some(v),
            None => diags.error_at(
                expr,
                messages::check_bad_value(&text, &kind_text(kind), &example(kind)),
            ),
        }
    }
    for (input, value) in def.inputs.iter().zip(&values) {
        let named = spec.inputs.iter().any(|(n, _)| *n == input.name);
        if value.is_none() && !named {
            diags.error(
                spec.span,
                messages::check_missing_input(&input.name.to_string(), &example(input.kind)),
            );
        }
    }
    if (diags.has_errors() && !before) || values.iter().any(Option::is_none) {
        return None;
    }
    Some(CheckPlan {
        values: values.into_iter().flatten().collect(),
        seed,
        scale,
        span: spec.span,
        backward: Backward::Derived,
    })
}

/// The `#[test]` function of `plan` for the item `name`, whose `_dyn` view is
/// `dyn_name`; `k` is the path of the runtime crate.
pub fn emit_test(
    plan: &CheckPlan,
    name: &syn::Ident,
    dyn_name: &syn::Ident,
    k: &TokenStream,
) -> TokenStream {
    let test = format_ident!("{}_gradient_check", name);
    let (seed, scale) = (plan.seed, plan.scale);
    let values = plan.values.iter().map(|v| match v {
        CheckValue::Float(dims) => quote! {
            #k::DynValue::Float(#k::init::normal(#k::ndarray::IxDyn(&[#(#dims),*]), #scale, &mut rng))
        },
        CheckValue::Positive(dims) => quote! {
            #k::DynValue::Float(
                #k::init::normal::<f64, _>(#k::ndarray::IxDyn(&[#(#dims),*]), #scale, &mut rng)
                    .mapv(|v| v.abs() + 0.5),
            )
        },
        CheckValue::Int(dims, below) => quote! {
            #k::DynValue::Int(#k::ndarray::ArrayD::from_shape_simple_fn(
                #k::ndarray::IxDyn(&[#(#dims),*]),
                || rng.below(#below),
            ))
        },
        CheckValue::Scalar(x) => quote! {
            #k::DynValue::Float(#k::ndarray::arr0(#x).into_dyn())
        },
        CheckValue::Usize(n) => quote!(#k::DynValue::Usize(#n)),
    });
    let what = match plan.backward {
        Backward::Derived => format!(
            "`{name}`'s generated backward against five-point central differences in `f64` \
             (step 1e-4)"
        ),
        Backward::Own => format!(
            "`{name}`'s own backward (`backward = ..`) against five-point central differences \
             in `f64` (step 1e-4) and against the backward the compiler derived"
        ),
        Backward::Surrogate => format!(
            "`{name}`'s surrogate backward: only that every gradient has its input's shape \
             and is finite, since it differs from the derivative on purpose"
        ),
    };
    let doc = format!(
        "The gradient check `check(..)` asked for: {what}, on inputs drawn from seed {seed} \
         (normal values of standard deviation {scale}); every element's relative error \
         `|a - n| / max(1e-8, |a| + |n|)` must be at most 1e-7."
    );
    // A failure in the test (a shape the function rejects) points at the option.
    let span = plan.span;
    let checks = match plan.backward {
        Backward::Derived => quote_spanned! {span=>
            #k::check_function(&function, &inputs, &#k::GradCheck::default()).assert_passed();
        },
        Backward::Own => quote_spanned! {span=>
            #k::check_function(&function, &inputs, &#k::GradCheck::default()).assert_passed();
            #k::check_against_derived(&function, &inputs, &#k::GradCheck::default()).assert_passed();
        },
        Backward::Surrogate => quote_spanned! {span=>
            #k::assert_surrogate_shapes(&function, &inputs, #seed);
        },
    };
    quote! {
        #[doc = #doc]
        #[cfg(test)]
        #[test]
        #[allow(non_snake_case)]
        fn #test() {
            let mut rng = #k::SeededRng::new(#seed);
            let inputs = [#(#values),*];
            let function: #k::DynFunction<f64> = #dyn_name();
            #checks
        }
    }
}
