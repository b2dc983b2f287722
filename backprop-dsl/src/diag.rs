//! Compile errors and warnings: each with a span, a message and a `help:` line.
//! They are collected, so one expansion reports every problem it finds. Their
//! text comes from the catalogue, [`crate::messages`].

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;

use crate::messages::{self, Message};

/// Whether a diagnostic stops the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// A compile error.
    Error,
    /// A warning: the code is generated and compiles.
    Warning,
}

/// One problem in the user's code.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The lint that found it, for the note on how to allow or deny it.
    pub lint: Option<&'static str>,
    /// Where it starts.
    pub span: Span,
    /// Where it ends (the same as `span` for one token). rustc underlines from
    /// `span` to `end`, so an error about `&actions` or `x.dot(&w)` covers all of it
    /// even where spans cannot be joined (stable proc macros).
    pub end: Span,
    /// What is wrong, lowercase, quoting the bad syntax.
    pub message: String,
    /// What is supported or what was meant.
    pub help: String,
}

impl Diagnostic {
    /// An error at one span, not from a lint.
    pub fn error(span: Span, message: Message) -> Self {
        Self::new(Severity::Error, None, (span, span), message)
    }

    /// A diagnostic from the first span to the second.
    pub fn new(
        severity: Severity,
        lint: Option<&'static str>,
        (span, end): (Span, Span),
        message: Message,
    ) -> Self {
        let (message, help) = message.into_parts();
        Diagnostic {
            severity,
            lint,
            span,
            end,
            message,
            help,
        }
    }

    /// Whether it stops the build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The message and help as rustc shows them, and for a lint how to change its level.
    pub fn text(&self) -> String {
        let mut text = format!("{}\n\nhelp: {}", self.message, self.help);
        if let Some(lint) = self.lint {
            let note = match self.severity {
                Severity::Error => messages::lint_denied_note(lint),
                Severity::Warning => messages::lint_warning_note(lint),
            };
            text.push_str(&format!("\nnote: {note}"));
        }
        text
    }

    /// As a `compile_error!` covering `span` to `end`.
    pub fn to_compile_error(&self) -> TokenStream {
        let range: TokenStream = [self.span, self.end]
            .into_iter()
            .map(|s| TokenTree::Ident(Ident::new("range", s)))
            .collect();
        syn::Error::new_spanned(range, self.text()).to_compile_error()
    }

    /// As a warning on stable Rust, which has no API for proc-macro warnings: a
    /// deprecated unit struct named after the lint, used at the offending span, so
    /// rustc's `deprecated` lint prints our text there ("use of deprecated unit
    /// struct `f::_::unused_input`: ..."). Put inside the generated forward, the
    /// path names the function; the user's `#[allow(deprecated)]` silences it too.
    pub fn to_warning(&self) -> TokenStream {
        let name = Ident::new(self.lint.unwrap_or("backprop_warning"), Span::call_site());
        let used = Ident::new(self.lint.unwrap_or("backprop_warning"), self.span);
        let note = self.text();
        quote::quote! {
            const _: () = {
                #[deprecated(note = #note)]
                #[allow(non_camel_case_types)]
                struct #name;
                let _ = #used;
            };
        }
    }
}

/// Collects diagnostics while a stage runs on.
#[derive(Debug, Default)]
#[must_use = "diagnostics must be reported"]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error at one span.
    pub fn error(&mut self, span: Span, message: Message) {
        self.error_range((span, span), message);
    }

    /// Records an error covering all of `tokens` (an expression, a type, a statement).
    pub fn error_at<T: ToTokens + ?Sized>(&mut self, tokens: &T, message: Message) {
        self.error_range(span_range(tokens), message);
    }

    /// Records an error from the first span to the second.
    pub fn error_range(&mut self, range: (Span, Span), message: Message) {
        self.list
            .push(Diagnostic::new(Severity::Error, None, range, message));
    }

    /// Records a diagnostic made elsewhere (a lint's finding).
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    /// Takes the collected errors, in source order (stages find them in their own order).
    pub fn into_vec(mut self) -> Vec<Diagnostic> {
        self.list.sort_by_key(|d| {
            let at = d.span.start();
            (at.line, at.column)
        });
        self.list
    }
}

/// The spans of the first and the last token of `tokens` (call site if there are none).
pub fn span_range<T: ToTokens + ?Sized>(tokens: &T) -> (Span, Span) {
    let mut iter = tokens.to_token_stream().into_iter();
    let start = iter.next().map_or_else(Span::call_site, |t| t.span());
    let end = iter.last().map_or(start, |t| t.span());
    (start, end)
}

/// Code as a message quotes it: `&mut Array2<T>`, not `& mut Array2 < T >` as
/// `TokenStream::to_string` prints it.
pub fn code<T: ToTokens + ?Sized>(tokens: &T) -> String {
    fn walk(ts: TokenStream, out: &mut String) {
        let mut prev_word = false;
        for tt in ts {
            let word = matches!(tt, TokenTree::Ident(_) | TokenTree::Literal(_));
            if word && prev_word {
                out.push(' ');
            }
            prev_word = word;
            match tt {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                        proc_macro2::Delimiter::Brace => ("{ ", " }"),
                        proc_macro2::Delimiter::Bracket => ("[", "]"),
                        proc_macro2::Delimiter::None => ("", ""),
                    };
                    out.push_str(open);
                    walk(g.stream(), out);
                    out.push_str(close);
                }
                TokenTree::Punct(p) => {
                    out.push(p.as_char());
                    if matches!(p.as_char(), ',' | ';') {
                        out.push(' ');
                    }
                }
                other => out.push_str(&other.to_string()),
            }
        }
    }
    let mut out = String::new();
    walk(tokens.to_token_stream(), &mut out);
    out.trim_end().to_string()
}

/// The closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // One edit in a one- or two-letter name gives any other short name: for those,
    // only a difference of case counts as a typo.
    let limit = name.len() / 3;
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, c)| d <= limit || (d > 0 && c.eq_ignore_ascii_case(name)))
        .min_by_key(|&(d, c)| (d, c.len()))
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let ops = ["sigmoid", "softmax", "softplus", "sum"];
        assert_eq!(did_you_mean("sigmod", ops), Some("sigmoid"));
        assert_eq!(did_you_mean("softmx", ops), Some("softmax"));
        assert_eq!(did_you_mean("convolve", ops), None);
        assert_eq!(did_you_mean("b", ["x", "w"]), None);
        assert_eq!(did_you_mean("W", ["x", "w"]), Some("w"));
        assert_eq!(did_you_mean("hiden", ["x", "hidden"]), Some("hidden"));
    }

    #[test]
    fn quotes_code_compactly() {
        let ty: syn::Type = syn::parse_quote!(&'a mut ArrayView<T, Ix2>);
        assert_eq!(code(&ty), "&'a mut ArrayView<T, Ix2>");
        let ty: syn::Type = syn::parse_quote!((Array2<T>, [f64; 3]));
        assert_eq!(code(&ty), "(Array2<T>, [f64; 3])");
    }
}
