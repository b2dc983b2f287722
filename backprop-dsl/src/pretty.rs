//! Formatting generated code for people: statements and expressions through
//! prettyplease, for the rustdoc of generated functions and for snapshots.

use proc_macro2::TokenStream;
use quote::quote;

/// Formats a whole file of items.
pub fn file(tokens: &TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(f) => prettyplease::unparse(&f),
        Err(_) => tokens.to_string(),
    }
}

/// Formats statements as they would appear at the top level of a function body, without indentation.
pub fn statements(stmts: &TokenStream) -> String {
    if stmts.is_empty() {
        return String::new();
    }
    let wrapped = quote!(fn __f() { #stmts });
    let text = file(&wrapped);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 2 {
        return format!("{stmts}\n");
    }
    let mut out = String::new();
    for line in &lines[1..lines.len() - 1] {
        out.push_str(line.strip_prefix("    ").unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Formats one expression.
pub fn expression(expr: &TokenStream) -> String {
    statements(&quote!(#expr))
}
