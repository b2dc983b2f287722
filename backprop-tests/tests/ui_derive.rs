//! Compile-fail and pass cases for `#[derive(Parameters)]`: every error message
//! the derive gives, where it points and what it suggests, and code that must
//! compile.

#[test]
fn ui_derive() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui_derive/*.rs");
    t.pass("tests/ui_derive/pass/*.rs");
}
