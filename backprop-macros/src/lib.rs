//! The `#[differentiable]` attribute. All the work happens in `backprop-dsl`;
//! see the `backprop` crate for the documentation.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Generates the backward pass of a forward pass written in the array language.
/// See the `backprop` crate documentation for the language and what is generated.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    backprop_dsl::expand(attr.into(), item.into()).into()
}
