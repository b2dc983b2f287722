//! `#[derive(Parameters)]`: the `Parameters` impl of a hand-written layer, from
//! its fields.
//!
//! Front end, checks and emission in that order, as in serde_derive: `parse`
//! reads the struct and its attributes into a [`Container`] (collecting every
//! error instead of stopping at the first), and `emit` writes the impl from it
//! and cannot fail. On an error the derive still emits an impl with no
//! parameters when it knows the float type, so the user sees the real error and
//! not also "`Parameters` is not implemented" wherever the layer is used.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Fields, GenericParam, Generics, Ident, Item, Path, Type, TypeParamBound, WherePredicate,
};

/// The derive: the impl, or the errors (and a stub impl).
pub fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let container = parse(input, &mut errors);
    // Without a float type (an error already reported) there is no impl to write.
    let mut out = match container
        .as_ref()
        .and_then(|c| Some((c, c.float.as_ref()?)))
    {
        Some((c, float)) if errors.is_empty() => emit(c, float),
        Some((c, float)) => emit_stub(c, float),
        None => TokenStream::new(),
    };
    out.extend(errors.into_compile_errors());
    out
}

/// Every error found, each with its span; reported all at once.
#[derive(Default)]
struct Errors(Vec<syn::Error>);

impl Errors {
    /// An error at `span`, with rustc's `help:` line under it.
    fn push(&mut self, span: Span, message: &str, help: &str) {
        self.0
            .push(syn::Error::new(span, format!("{message}\n\nhelp: {help}")));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_compile_errors(self) -> TokenStream {
        self.0.into_iter().map(|e| e.to_compile_error()).collect()
    }
}

/// The struct as the derive reads it.
struct Container {
    ident: Ident,
    generics: Generics,
    /// The float type the impl is for (`T`, `f32`), if found.
    float: Option<Type>,
    /// Where the `backprop` crate is (`::backprop`, or `crate = path`).
    krate: Path,
    fields: Vec<FieldSpec>,
}

/// One field and what the derive does with it.
struct FieldSpec {
    ident: Ident,
    ty: Type,
    kind: Kind,
}

/// What a field is to the derive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A `Param<T, D>`: one parameter under the field's name.
    Param,
    /// `#[param(nested)]`: the field's own parameters and buffers, under `field.`.
    Nested,
    /// `#[param(buffer)]`: an array saved in checkpoints, never trained.
    Buffer,
    /// `#[param(skip)]`, or a field of another type: not visited.
    Skip,
}

/// The options of `#[param(..)]` on a field.
const FIELD_OPTIONS: &[&str] = &["skip", "nested", "buffer"];
/// The options of `#[parameters(..)]` on the struct.
const CONTAINER_OPTIONS: &[&str] = &["float", "crate"];

fn parse(input: TokenStream, errors: &mut Errors) -> Option<Container> {
    let item: Item = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => {
            errors.0.push(e);
            return None;
        }
    };
    let (attrs, ident, generics, fields) = match item {
        Item::Struct(s) => (s.attrs, s.ident, s.generics, Some(s.fields)),
        Item::Enum(e) => {
            errors.push(
                e.enum_token.span,
                &format!(
                    "`#[derive(Parameters)]` works on a struct, and `{}` is an enum",
                    e.ident
                ),
                "write the layer as a struct whose `Param` fields are its parameters, or implement `Parameters` by hand",
            );
            (e.attrs, e.ident, e.generics, None)
        }
        Item::Union(u) => {
            errors.push(
                u.union_token.span,
                &format!(
                    "`#[derive(Parameters)]` works on a struct, and `{}` is a union",
                    u.ident
                ),
                "write the layer as a struct whose `Param` fields are its parameters",
            );
            (u.attrs, u.ident, u.generics, None)
        }
        other => {
            errors.push(
                other.span(),
                "`#[derive(Parameters)]` works on a struct",
                "derive it on a struct whose `Param` fields are its parameters",
            );
            return None;
        }
    };
    let (float_option, krate) = container_options(&attrs, errors);
    let fields = fields.map_or_else(Vec::new, |f| field_specs(f, errors));
    let float = float_option.or_else(|| float_type(&ident, &generics, &fields, errors));
    Some(Container {
        ident,
        generics,
        float,
        krate: krate.unwrap_or_else(|| syn::parse_quote!(::backprop)),
        fields,
    })
}

/// `#[parameters(float = f32, crate = path)]`.
fn container_options(
    attrs: &[syn::Attribute],
    errors: &mut Errors,
) -> (Option<Type>, Option<Path>) {
    let (mut float, mut krate) = (None, None);
    for attr in attrs.iter().filter(|a| a.path().is_ident("parameters")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("float") {
                float = Some(meta.value()?.parse::<Type>()?);
            } else if meta.path.is_ident("crate") {
                krate = Some(meta.value()?.parse::<Path>()?);
            } else {
                unknown_option(&meta.path, "parameters", CONTAINER_OPTIONS, errors);
                // Skip the option's value, if any, to read the ones after it.
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.0.push(e);
        }
    }
    (float, krate)
}

/// An option that is not one of `known`, with the nearest name if one is close.
fn unknown_option(path: &Path, attr: &str, known: &[&str], errors: &mut Errors) {
    let name = path
        .get_ident()
        .map_or_else(|| quote!(#path).to_string(), Ident::to_string);
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let help = match known.iter().find(|k| edit_distance(k, &name) <= 2) {
        Some(near) => format!("did you mean `{near}`? The options of `#[{attr}(..)]` are {list}"),
        None => format!("the options of `#[{attr}(..)]` are {list}"),
    };
    errors.push(
        path.span(),
        &format!("unknown option `{name}` in `#[{attr}(..)]`"),
        &help,
    );
}

/// The Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn field_specs(fields: Fields, errors: &mut Errors) -> Vec<FieldSpec> {
    let mut specs = Vec::new();
    for (index, field) in fields.into_iter().enumerate() {
        let kind = field_kind(&field, errors);
        let Some(ident) = field.ident else {
            errors.push(
                field.ty.span(),
                &format!("field {index} of a tuple struct has no name to give its parameters"),
                "name the fields (`struct Dense<T: Real> { w: Param<T, Ix2>, b: Param<T, Ix1> }`): the names are the parameters' names in checkpoints",
            );
            continue;
        };
        specs.push(FieldSpec {
            ident,
            ty: field.ty,
            kind,
        });
    }
    specs
}

/// The field's `#[param(..)]` option, or `Param` for a field of type `Param<..>`.
fn field_kind(field: &syn::Field, errors: &mut Errors) -> Kind {
    let mut chosen: Option<(Kind, Span)> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("param")) {
        let result = attr.parse_nested_meta(|meta| {
            let kind = if meta.path.is_ident("skip") {
                Kind::Skip
            } else if meta.path.is_ident("nested") {
                Kind::Nested
            } else if meta.path.is_ident("buffer") {
                Kind::Buffer
            } else {
                unknown_option(&meta.path, "param", FIELD_OPTIONS, errors);
                return Ok(());
            };
            match chosen {
                Some(_) => errors.push(
                    meta.path.span(),
                    "a field takes one of `skip`, `nested` and `buffer`",
                    "keep the one that says what the field is: a layer's parameters (`nested`), a saved array (`buffer`), or neither (`skip`)",
                ),
                None => chosen = Some((kind, meta.path.span())),
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.0.push(e);
        }
    }
    let is_param = is_param_type(&field.ty);
    match chosen {
        Some((Kind::Buffer, span)) if is_param => {
            errors.push(
                span,
                "a `Param` is trained, so it cannot be a buffer",
                "a buffer is a plain array (`Array1<T>`) that checkpoints save and optimizers leave alone; remove `buffer` to train the field",
            );
            Kind::Param
        }
        Some((Kind::Nested, span)) if is_param => {
            errors.push(
                span,
                "a `Param` is one parameter, not a layer with parameters of its own",
                "remove `nested`: a `Param` field is visited under its name; `nested` is for a field whose type implements `Parameters` (a layer, a `Sequential`)",
            );
            Kind::Param
        }
        Some((kind, _)) => kind,
        None if is_param => Kind::Param,
        None => Kind::Skip,
    }
}

/// Whether `ty` is `Param<..>` (under any path: `backprop::Param<T, Ix2>`).
fn is_param_type(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Param" && !s.arguments.is_empty()),
        Type::Group(g) => is_param_type(&g.elem),
        Type::Paren(p) => is_param_type(&p.elem),
        _ => false,
    }
}

/// The float type: the one type parameter bounded by `Real`, or else the first
/// type argument all `Param` fields share (`Param<f64, Ix2>`).
fn float_type(
    ident: &Ident,
    generics: &Generics,
    fields: &[FieldSpec],
    errors: &mut Errors,
) -> Option<Type> {
    let real = real_parameters(generics);
    match real.as_slice() {
        [t] => return Some(syn::parse_quote!(#t)),
        [] => {}
        [_, second, ..] => {
            errors.push(
                second.span(),
                &format!("`{ident}` has more than one type parameter bounded by `Real`"),
                "say which one is the float type of the parameters: `#[parameters(float = T)]`",
            );
            return None;
        }
    }
    let mut firsts = fields
        .iter()
        .filter(|f| f.kind == Kind::Param)
        .filter_map(|f| first_type_argument(&f.ty));
    if let Some(first) = firsts.next() {
        let text = quote!(#first).to_string();
        if firsts.all(|t| quote!(#t).to_string() == text) {
            return Some(first.clone());
        }
    }
    errors.push(
        ident.span(),
        &format!("cannot find the float type of `{ident}`'s parameters"),
        "give the struct a float type parameter (`struct Layer<T: Real> { .. }`), or name the type: `#[parameters(float = f32)]`",
    );
    None
}

/// The type parameters with a `Real` bound, inline or in the `where` clause.
fn real_parameters(generics: &Generics) -> Vec<Ident> {
    let is_real = |bounds: &syn::punctuated::Punctuated<TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| match b {
            TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Real"),
            _ => false,
        })
    };
    let mut found: Vec<Ident> = Vec::new();
    for param in &generics.params {
        if let GenericParam::Type(t) = param
            && is_real(&t.bounds)
        {
            found.push(t.ident.clone());
        }
    }
    for predicate in generics.where_clause.iter().flat_map(|w| &w.predicates) {
        if let WherePredicate::Type(p) = predicate
            && is_real(&p.bounds)
            && let Type::Path(path) = &p.bounded_ty
            && let Some(id) = path.path.get_ident()
            && !found.contains(id)
        {
            found.push(id.clone());
        }
    }
    found
}

/// `T` of `Param<T, D>`.
fn first_type_argument(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The impl: parameters and buffers in field order.
fn emit(c: &Container, float: &Type) -> TokenStream {
    let krate = &c.krate;
    let mut params = Vec::new();
    let mut buffers = Vec::new();
    for field in &c.fields {
        let ident = &field.ident;
        let name = ident.to_string();
        let span = field.ty.span();
        match field.kind {
            Kind::Param => params.push(quote_spanned! {span=>
                f(#krate::Param::as_param_mut(&mut self.#ident, #name));
            }),
            Kind::Nested => {
                // Both through `nested_mut`, so a field without parameters is
                // one error (rustc merges the two at the same span).
                let inner = quote_spanned! {span=>
                    #krate::layer::nested_mut::<#float, _>(&mut self.#ident)
                };
                params.push(quote! {
                    #krate::layer::visit_params_under(#name, #inner, f);
                });
                buffers.push(quote! {
                    #krate::layer::visit_buffers_under(#name, #inner, f);
                });
            }
            Kind::Buffer => buffers.push(quote_spanned! {span=>
                f(#name, #krate::layer::BufferField::<#float>::buffer_mut(&mut self.#ident));
            }),
            Kind::Skip => {}
        }
    }
    let visit_buffers = (!buffers.is_empty()).then(|| {
        quote! {
            fn visit_buffers(
                &mut self,
                f: &mut dyn FnMut(&str, #krate::ndarray::ArrayViewMutD<'_, #float>),
            ) {
                #(#buffers)*
            }
        }
    });
    let header = impl_header(c, float);
    quote! {
        #[automatically_derived]
        #header {
            #[allow(unused_variables)]
            fn visit_params(&mut self, f: &mut dyn FnMut(#krate::ParamMut<'_, #float>)) {
                #(#params)*
            }
            #visit_buffers
        }
    }
}

/// An impl with no parameters, beside the errors, so that nothing else fails.
fn emit_stub(c: &Container, float: &Type) -> TokenStream {
    let krate = &c.krate;
    let header = impl_header(c, float);
    quote! {
        #header {
            fn visit_params(&mut self, _: &mut dyn FnMut(#krate::ParamMut<'_, #float>)) {}
        }
    }
}

/// `impl<..> Parameters<F> for S<..>`; a type parameter named as the float
/// type (`#[parameters(float = T)]` on `struct S<T>`) gets the `Real` bound the
/// trait needs.
fn impl_header(c: &Container, float: &Type) -> TokenStream {
    let krate = &c.krate;
    let ident = &c.ident;
    let mut generics = c.generics.clone();
    let is_param = |id: &Ident| {
        generics
            .params
            .iter()
            .any(|p| matches!(p, GenericParam::Type(t) if t.ident == *id))
    };
    if let Type::Path(p) = float
        && let Some(id) = p.path.get_ident()
        && is_param(id)
        && !real_parameters(&c.generics).contains(id)
    {
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(#float: #krate::Real));
    }
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    quote! {
        impl #impl_generics #krate::Parameters<#float> for #ident #type_generics #where_clause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(input: TokenStream) -> Vec<String> {
        let mut errors = Errors::default();
        parse(input, &mut errors);
        errors.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_float_type_comes_from_a_real_bound_or_the_param_fields() {
        let mut errors = Errors::default();
        let c = parse(
            quote! { struct S<U, T> where T: backprop::Real { w: Param<T, Ix2>, n: usize } },
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        assert_eq!(c.float.map(|t| quote!(#t).to_string()), Some("T".into()));
        let c = parse(
            quote! { struct S { w: Param<f64, Ix2>, b: Param<f64, Ix1> } },
            &mut errors,
        )
        .unwrap();
        assert_eq!(c.float.map(|t| quote!(#t).to_string()), Some("f64".into()));
        assert!(errors.is_empty());
        let mixed = errors_of(quote! { struct S { w: Param<f64, Ix2>, b: Param<f32, Ix1> } });
        assert_eq!(mixed.len(), 1);
        assert!(
            mixed[0].starts_with("cannot find the float type of `S`"),
            "{mixed:?}"
        );
    }

    #[test]
    fn fields_are_classified_by_type_and_option() {
        let mut errors = Errors::default();
        let c = parse(
            quote! {
                struct S<T: Real> {
                    w: backprop::Param<T, Ix2>,
                    #[param(skip)] frozen: Param<T, Ix1>,
                    #[param(nested)] block: Affine<T>,
                    #[param(buffer)] mean: Array1<T>,
                    eps: T,
                }
            },
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        let kinds: Vec<_> = c.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Param,
                Kind::Skip,
                Kind::Nested,
                Kind::Buffer,
                Kind::Skip
            ]
        );
    }

    #[test]
    fn every_error_is_reported_in_one_pass() {
        let errors = errors_of(quote! {
            #[parameters(flaot = f32)]
            struct S<T: Real> {
                #[param(nestd)] a: Affine<T>,
                #[param(skip, buffer)] b: Array1<T>,
            }
        });
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("did you mean `float`?"), "{}", errors[0]);
        assert!(
            errors[1].contains("did you mean `nested`?"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("a field takes one of"),
            "{}",
            errors[2]
        );
    }

    #[test]
    fn a_float_type_parameter_without_a_bound_gets_real() {
        let mut errors = Errors::default();
        let c = parse(
            quote! { #[parameters(float = T)] struct S<T, D> { w: Param<T, D> } },
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        let header = impl_header(&c, c.float.as_ref().unwrap()).to_string();
        assert!(
            header.ends_with("where T : :: backprop :: Real"),
            "{header}"
        );
        // Not twice when the struct says it.
        let c = parse(
            quote! { struct S<T: Real> { w: Param<T, Ix1> } },
            &mut errors,
        )
        .unwrap();
        let header = impl_header(&c, c.float.as_ref().unwrap()).to_string();
        assert!(!header.contains("where"), "{header}");
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("nested", "nestd"), 1);
        assert_eq!(edit_distance("float", "flaot"), 2);
        assert_eq!(edit_distance("skip", "buffer"), 6);
    }
}
