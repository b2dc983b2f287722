//! The `#[differentiable]` attribute (all its work happens in `backprop-dsl`)
//! and `#[derive(Parameters)]`; see the `backprop` crate for the guide and the
//! language.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod derive_parameters;

/// Generates the backward pass of a forward pass written in the array language.
///
/// On `fn name<T: Real>(inputs...) -> Output { let ...; expr }` it keeps the
/// function and adds, in the same module:
///
/// - `name_train(inputs...) -> (Output, NameSaved<T>)`: the forward pass that also
///   returns exactly what the backward pass needs;
/// - `name_backward(&NameSaved<T>, d_out) -> NameGrads<T>`: one gradient per input
///   that takes one (not for `#[no_grad]` inputs, integer arrays or sizes); its
///   rustdoc shows its source, each statement under the forward line it comes from;
/// - `NameSaved<T>`, `NameGrads<T>`: named structs of saved values and gradients;
/// - `name_dyn() -> DynFunction<T>`: the function through dynamic ranks, for
///   `backprop::check_function`.
///
/// Options:
///
/// - `layer = S` (or `layer = S<T>`, or `layer = S<>` for a struct without a type
///   parameter): the function's first input is the layer's input and every other
///   input is read from the field of `S` with the same name (a `Param` when it
///   takes a gradient); `S` then implements `Layer` and `Parameters`.
/// - `crate = path`: where the `backprop` crate is, if it was renamed.
///
/// Anything outside the language is a compile error at the offending token, with
/// a `help:` line.
///
/// Size: a function may have up to 100,000 tokens (`backprop_dsl::MAX_TOKENS`),
/// which allows 50,000 nested ops; past that it gets a compile error, never a
/// crash of the compiler. Expansion time grows linearly with the size.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    backprop_dsl::expand(attr.into(), item.into()).into()
}

/// Implements `backprop::Parameters<T>` for a hand-written layer, from its fields.
///
/// ```ignore
/// #[derive(Parameters)]
/// pub struct Block<T: Real> {
///     w: Param<T, Ix2>,                    // the parameter `w`
///     #[param(nested)]
///     norm: BatchNorm<T>,                  // `norm.gamma`, `norm.beta`; buffers `norm.running_mean`, ..
///     #[param(buffer)]
///     scale: Array1<T>,                    // the buffer `scale`: saved, never trained
///     #[param(skip)]
///     frozen: Param<T, Ix1>,               // not visited
///     eps: T,                              // not a `Param`: not visited
/// }
/// ```
///
/// - Every field of type `Param<T, D>` is a parameter named after the field, in
///   field order.
/// - `#[param(nested)]`: a field whose type implements `Parameters<T>` (a layer,
///   a `Sequential`); its parameters and buffers are visited with the prefix
///   `field.`.
/// - `#[param(buffer)]`: an array field (`Array<T, D>`), visited by
///   `visit_buffers`: checkpoints save it, optimizers leave it alone.
/// - `#[param(skip)]`: a `Param` field that is not visited.
///
/// The float type is the struct's type parameter bounded by `Real`, or the
/// first type argument shared by its `Param` fields (`Param<f64, Ix2>`), or
/// `#[parameters(float = f32)]`; `#[parameters(crate = path)]` says where the
/// `backprop` crate is if it was renamed. An enum, a union, a tuple struct and
/// an unknown option are compile errors at the offending token, with a `help:`
/// line.
#[proc_macro_derive(Parameters, attributes(param, parameters))]
pub fn derive_parameters(item: TokenStream) -> TokenStream {
    derive_parameters::expand(item.into()).into()
}
