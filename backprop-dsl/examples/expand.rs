//! Prints the expansion of the first `#[differentiable]` function in a file (temporary dev tool).
fn main() {
    let path = std::env::args().nth(1).expect("path");
    let src = std::fs::read_to_string(path).unwrap();
    let file: syn::File = syn::parse_str(&src).unwrap();
    for item in file.items {
        if let syn::Item::Fn(f) = &item
            && let Some(attr) = f.attrs.iter().find(|a| a.path().is_ident("differentiable"))
        {
            let args = match &attr.meta {
                syn::Meta::List(l) => l.tokens.clone(),
                _ => Default::default(),
            };
            let mut f = f.clone();
            f.attrs.retain(|a| !a.path().is_ident("differentiable"));
            let out = backprop_dsl::expand(args, quote::quote!(#f));
            println!("{}", backprop_dsl::pretty::file(&out));
        }
    }
}
