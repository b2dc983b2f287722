//! The compiler on very large functions: every stage must handle 5,000 nested
//! ops (rustc itself compiles 7,000 nested calls in a plain function) without
//! overflowing the stack, and a function past the documented limit gets a clean
//! error. Expansion time is measured in `benches/expansion.rs`, not here.

use backprop_dsl::expand;
use proc_macro2::TokenStream;

/// `depth` nested ops in one expression, in each of the forms syntax can nest.
fn nested(form: &str, depth: usize) -> String {
    let body = match form {
        // tanh(tanh(...(x)...))
        "calls" => format!("{}x{}", "tanh(".repeat(depth), ")".repeat(depth)),
        // x.exp().ln().exp().ln()...
        "methods" => {
            let mut s = String::from("x");
            for i in 0..depth {
                s.push_str(if i % 2 == 0 { ".sin()" } else { ".cos()" });
            }
            s
        }
        // x * 0.5 + x * 0.5 + ... (a left-deep tree of binary ops)
        "binary" => {
            let mut s = String::from("x");
            for _ in 0..depth / 2 {
                s.push_str(" * 0.5 + x");
            }
            s
        }
        // ((((x + 1.0) * 2.0) - 3.0) ...) with parentheses
        "parens" => {
            let mut s = String::from("x");
            for _ in 0..depth {
                s = format!("({s} + 1.0)");
            }
            s
        }
        _ => unreachable!("a form of the list"),
    };
    format!("fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {body} }}")
}

fn expand_str(src: &str) -> String {
    let item: TokenStream = src.parse().expect("tokens");
    expand(TokenStream::new(), item).to_string()
}

#[test]
fn five_thousand_nested_ops_compile_in_every_form() {
    for form in ["calls", "methods", "binary", "parens"] {
        let out = expand_str(&nested(form, 5000));
        assert!(
            !out.contains("compile_error"),
            "{form}: {}",
            &out[..out.len().min(400)]
        );
        assert!(out.contains("fn f_backward"), "{form}");
    }
}

#[test]
fn many_let_statements_compile() {
    let mut body = String::from("let v0 = x;\n");
    for i in 1..5000 {
        body.push_str(&format!(
            "let v{i} = tanh(v{}) * 0.5 + v{};\n",
            i - 1,
            i - 1
        ));
    }
    body.push_str("v4999");
    let out = expand_str(&format!(
        "fn f<T: Real>(x: ArrayView2<T>) -> Array2<T> {{ {body} }}"
    ));
    assert!(
        !out.contains("compile_error"),
        "{}",
        &out[..out.len().min(400)]
    );
    assert!(out.contains("fn f_backward"));
}

#[test]
fn a_function_past_the_size_limit_gets_a_clean_error() {
    // 60,000 nested calls: 120,000 tokens, above `MAX_TOKENS`.
    let out = expand_str(&nested("calls", 60_000));
    assert!(
        out.contains("compile_error"),
        "{}",
        &out[..out.len().min(400)]
    );
    assert!(
        out.contains("more than 100000 tokens"),
        "{}",
        &out[..out.len().min(400)]
    );
    assert_eq!(backprop_dsl::MAX_TOKENS, 100_000);
}
