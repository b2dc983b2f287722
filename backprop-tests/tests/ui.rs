//! Compile-fail and pass cases for `#[differentiable]`: every error message the
//! macro gives, where it points and what it suggests, and code that must compile.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // `UI_CATEGORY=calls` runs one category, while working on its messages.
    let only = std::env::var("UI_CATEGORY").ok();
    for category in [
        "unknown_op",
        "arity",
        "argument_kind",
        "rank",
        "no_derivative",
        "syntax",
        "signature",
        "return_type",
        "integer_gradient",
        "options",
        "multiple_errors",
        "no_cascade",
        "bad_constant",
        "lints",
        "layer_struct",
        "calls",
    ] {
        if only.as_deref().is_none_or(|o| o == category) {
            t.compile_fail(format!("tests/ui/{category}/*.rs"));
        }
    }
    if only.as_deref().is_none_or(|o| o == "pass") {
        t.pass("tests/ui/pass/*.rs");
    }
}
