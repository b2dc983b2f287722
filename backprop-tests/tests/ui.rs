//! Compile-fail and pass cases for `#[differentiable]`: every error message the
//! macro gives, where it points and what it suggests, and code that must compile.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
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
    ] {
        t.compile_fail(format!("tests/ui/{category}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}
