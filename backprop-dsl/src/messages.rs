//! Every message the compiler can give, in one file (in the spirit of cxx's
//! `syntax/error.rs`): a reviewer reads all of them here, and their wording stays
//! consistent. Each is a [`Message`] (what is wrong and its `help:` line), a
//! constant for fixed text or a function of what it quotes, named for the
//! situation and grouped by stage. [`Diagnostics`](crate::diag::Diagnostics) takes
//! only a [`Message`], and only this module makes one, so no text is written
//! anywhere else. The rules: lowercase, quote the bad syntax in backticks, say
//! what is supported or what was meant in the help.
//!
//! Where a message depends on the kind of syntax or the type at fault, the caller
//! picks the constant or passes a hint ([`InputHint`], [`ValueHint`], [`OpHint`]);
//! the "did you mean" searches and the table of names from other libraries
//! ([`crate::ops::FOREIGN_NAMES`]) stay with the names they search.
//!
//! Not here: the message of a layer field of another type, which rustc gives from
//! the `#[diagnostic::on_unimplemented]` of the field's accessor trait that
//! `emit::holder_fields` writes (with the declaration that fixes it), the
//! messages of a call's compile-time check (`backprop_kernels::call`), and the
//! names of the IR's types (`a 2-D float array`), from `ir::Ty`'s `Display`.

use std::borrow::Cow;
use std::fmt::Display;

use crate::ir::Ty;

/// What is wrong and what to do: a diagnostic's message and its `help:` line.
#[derive(Clone, Debug)]
pub struct Message {
    text: Cow<'static, str>,
    help: Cow<'static, str>,
}

impl Message {
    const fn fixed(text: &'static str, help: &'static str) -> Self {
        Message {
            text: Cow::Borrowed(text),
            help: Cow::Borrowed(help),
        }
    }

    fn new(text: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        Message {
            text: text.into(),
            help: help.into(),
        }
    }

    /// The message and the help.
    pub fn into_parts(self) -> (String, String) {
        (self.text.into_owned(), self.help.into_owned())
    }
}

// ---------------------------------------------------------------------------
// The attribute and its options
// ---------------------------------------------------------------------------

/// The options there are: the help of an option error without a better one.
const OPTIONS: &str = "the options are `layer = StructName` (with `input = (x, h)` for a layer of several inputs), `cell = StructName`, `crate = path::to::backprop`, \
        `check(input = [shape], ...)`, `backward = your_backward` (with `surrogate` if it differs \
        on purpose), and lint levels `allow(lint, ...)`, `warn(..)`, `deny(..)`";

/// The help of an option error: the options there are.
pub fn options_help() -> String {
    OPTIONS.to_string()
}

/// `layer` or `crate` without `= value` (the text of the parser's error).
pub fn option_needs_value(option: &str) -> String {
    let value = match option {
        "layer" | "cell" => "StructName",
        "input" => "(x, h)",
        "backward" => "your_backward",
        "recurrence" => "wh",
        _ => "path::to::backprop",
    };
    format!("`{option}` needs a value: `{option} = {value}`")
}

/// An option that is not one of the attribute's (the text of the parser's error).
pub fn unknown_option(name: &str) -> String {
    format!("unknown option `{name}`")
}

/// The help for an unknown option that is close to a real one.
pub fn unknown_option_help(suggestion: &str) -> String {
    format!("did you mean `{suggestion}`? ({OPTIONS})")
}

/// A lint name in `allow(..)`, `warn(..)` or `deny(..)` that does not exist (the
/// text of the parser's error).
pub fn unknown_lint(name: &str) -> String {
    format!("unknown lint `{name}`")
}

/// What `check(..)` takes, the help of its errors.
const CHECK_HELP: &str = "write `check(x = [4, 3], labels = [4] < 3, eps = 0.1, n = 2)`: a shape \
    for each float array input (seeded normal values; `[3] > 0` for positive ones), a shape and a \
    bound for each integer array (uniform values below it), a value for each scalar; `seed = N` \
    picks other random inputs, `scale = 0.3` smaller ones";

/// An entry of `check(..)` that is not a plain name (the text of the parser's error).
pub const CHECK_ENTRY_NAME: &str = "an entry of `check(..)` is an input's name and its value";

/// An entry of `check(..)` without `= value` (the text of the parser's error).
pub fn check_needs_value(name: &str) -> String {
    format!("`{name}` in `check(..)` needs a value: `{name} = [4, 3]`")
}

/// `check(..)` names something that is not an input.
pub fn check_unknown_input(name: &str, inputs: &[String]) -> Message {
    Message::new(
        format!("`check` names `{name}`, which is not an input of the function"),
        format!("the inputs are {}; {CHECK_HELP}", code_list(inputs)),
    )
}

/// `check(..)` names an input twice.
pub fn check_duplicate_input(name: &str) -> Message {
    Message::new(format!("`check` gives `{name}` twice"), CHECK_HELP)
}

/// `check(..)` leaves an input out.
pub fn check_missing_input(name: &str, example: &str) -> Message {
    Message::new(
        format!("`check` gives no value for the input `{name}`"),
        format!("add `{name} = {example}`; {CHECK_HELP}"),
    )
}

/// A `check(..)` value of the wrong form for its input.
pub fn check_bad_value(name: &str, kind: &str, example: &str) -> Message {
    Message::new(
        format!("`{name}` is {kind}: `check` needs `{name} = {example}` for it"),
        CHECK_HELP,
    )
}

/// `backward = f` without `check(..)`.
pub const BACKWARD_NEEDS_CHECK: Message = Message::fixed(
    "a backward of your own must be tested: `backward = ..` needs `check(..)`",
    "add `check(x = [4, 3], ...)` with a shape for each input: the macro then writes a test \
     that compares your backward with the derived one and with finite differences (with \
     `surrogate`, one that checks only shapes and finite values)",
);

/// `surrogate` without `backward = f`.
pub const SURROGATE_WITHOUT_BACKWARD: Message = Message::fixed(
    "`surrogate` declares that a backward of your own differs from the derivative, but there is none",
    "name it: `backward = your_backward, surrogate`",
);

/// `check(..)` on a function of a fixed float type.
pub const CHECK_NEEDS_GENERIC: Message = Message::fixed(
    "`check` runs the gradient check in `f64`, but this function is not generic over the float type",
    "write the function over a type parameter `T: Real` (it is then also usable in `f32`)",
);

/// `a`, `b` and `c` in backticks.
fn code_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        0 => "none".to_string(),
        _ => quoted.join(", "),
    }
}

/// The help for an unknown lint: the closest lint, if one is close, and every lint.
pub fn unknown_lint_help(suggestion: Option<&str>, lints: &[&str]) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`? The lints are {}", lints.join(", ")),
        None => format!("the lints are {}", lints.join(", ")),
    }
}

/// The attribute's arguments did not parse: the parser's error, and the help
/// chosen for it.
pub fn invalid_option(error: impl Display, help: String) -> Message {
    Message::new(format!("invalid `#[differentiable]` option: {error}"), help)
}

/// The attribute is on an item that is not a function.
pub fn not_a_function(item: &syn::Item) -> Message {
    use syn::Item;
    let kind = match item {
        Item::Struct(_) => "a struct",
        Item::Enum(_) => "an enum",
        Item::Union(_) => "a union",
        Item::Trait(_) => "a trait",
        Item::Impl(_) => "an `impl` block: put it on the function itself",
        Item::Mod(_) => "a module",
        Item::Const(_) => "a constant",
        Item::Static(_) => "a static",
        Item::Type(_) => "a type alias",
        _ => "this item",
    };
    Message::new(
        format!("`#[differentiable]` goes on a function, not on {kind}"),
        "write the forward pass as `fn name<T: Real>(x: ArrayView2<T>, ...) -> Array2<T> { ... }`; \
                 for a layer, put the attribute on that function with `layer = StructName`",
    )
}

/// The item is not valid Rust (rustc reports it first, so this one is not shown).
pub fn unparsable_item(error: impl Display) -> Message {
    Message::new(
        format!("cannot parse the item: {error}"),
        "`#[differentiable]` goes on a function written in valid Rust",
    )
}

/// A second `#[differentiable]` on the same function.
pub const DIFFERENTIABLE_TWICE: Message = Message::fixed(
    "`#[differentiable]` is written twice on this function",
    "remove one: a single attribute generates everything, and its options go in one list, as in `#[differentiable(layer = Affine)]`",
);

/// A function over the size limit (`crate::MAX_TOKENS`).
pub fn too_many_tokens(max: usize) -> Message {
    Message::new(
        format!(
            "this function has more than {max} tokens, the most a `#[differentiable]` function may have"
        ),
        "split the computation into several `#[differentiable]` functions",
    )
}

// ---------------------------------------------------------------------------
// The signature
// ---------------------------------------------------------------------------

/// The help of every qualifier a differentiable function cannot have.
const PLAIN_FN: &str = "a differentiable function is a plain `fn`";

/// An `async fn`.
pub const ASYNC_FN: Message =
    Message::fixed("a differentiable function cannot be `async`", PLAIN_FN);

/// A `const fn`.
pub const CONST_FN: Message =
    Message::fixed("a differentiable function cannot be `const`", PLAIN_FN);

/// An `unsafe fn`.
pub const UNSAFE_FN: Message =
    Message::fixed("a differentiable function cannot be `unsafe`", PLAIN_FN);

/// An `extern "C" fn`.
pub const EXTERN_FN: Message = Message::fixed(
    "a differentiable function cannot have an `extern` ABI",
    PLAIN_FN,
);

/// A variadic function (`...`).
pub const VARIADIC_FN: Message =
    Message::fixed("a differentiable function cannot be variadic", PLAIN_FN);

/// A type parameter after the first (the float type).
pub fn second_type_parameter(name: impl Display) -> Message {
    Message::new(
        format!("a second type parameter `{name}`"),
        "a differentiable function has at most one type parameter, the float type (`T: Real`)",
    )
}

/// A const generic parameter.
pub const CONST_GENERIC: Message = Message::fixed(
    "const generic parameters are not supported",
    "pass sizes as `usize` inputs instead",
);

/// No type parameter, and the signature names both `f32` and `f64`.
pub const MIXED_FLOAT_TYPES: Message = Message::fixed(
    "the signature mixes `f32` and `f64`",
    "use one float type, or make the function generic: `fn f<T: Real>(...)`",
);

/// No type parameter, and the signature names neither `f32` nor `f64`.
pub const NO_FLOAT_TYPE: Message = Message::fixed(
    "no float type in the signature",
    "make the function generic over the float type: `fn f<T: Real>(x: ArrayView2<T>) -> Array2<T>`",
);

/// A `self` input.
pub const SELF_INPUT: Message = Message::fixed(
    "`self` is not supported in a differentiable function",
    "write the forward as a free function whose first input is the layer's input and whose other \
                     inputs are named like the struct's fields, and add `layer = StructName` to the attribute",
);

/// `mut x: ...` in the signature.
pub const MUT_INPUT: Message = Message::fixed(
    "inputs cannot be `mut`",
    "a differentiable function does not mutate its inputs",
);

/// An input that is a pattern (`(a, b): ...`) rather than a name.
pub const INPUT_PATTERN: Message = Message::fixed(
    "input patterns are not supported",
    "name each input with a plain identifier",
);

/// An input of type `&mut ...`.
pub const MUT_REF_INPUT: Message = Message::fixed(
    "`&mut` inputs are not supported",
    "a differentiable function does not change its inputs: take `&Array2<T>` or `ArrayView2<T>`",
);

/// What the inputs can be: the help for an input type without a closer one.
const INPUTS: &str = "inputs are float arrays (`ArrayView2<T>`, `&Array2<T>`, `Array2<T>`, ranks 0 to 6), \
    integer arrays (`ArrayView1<usize>`), float scalars (`T`) and sizes (`usize`)";

/// What is off in an unsupported input type, for [`unsupported_input_type`]'s help.
pub enum InputHint<'a> {
    /// A slice or a `Vec` instead of an ndarray type.
    NotAnArray,
    /// An integer type other than `usize`.
    Integer,
    /// The other float type than the function's, which is the field.
    OtherFloat(&'a str),
    /// An array of dynamic rank (`ArrayD`, `IxDyn`).
    DynamicRank,
    /// An array (named by the field) of integers other than `usize`.
    IntegerArray(&'a str),
    /// An array (named by the first field) of elements that are neither the float
    /// type (the second field) nor `usize`.
    ElementType(&'a str, &'a str),
    /// An array type with a rank it cannot have; the field is the float type.
    Rank(&'a str),
    /// Anything else.
    Other,
}

/// An input of a type the language does not have, quoted.
pub fn unsupported_input_type(ty: &str, hint: InputHint<'_>) -> Message {
    let help: Cow<'static, str> = match hint {
        InputHint::NotAnArray => "pass arrays as ndarray types: `ArrayView1<T>` for a vector".into(),
        InputHint::Integer => {
            "integer inputs are `usize`: a size as `n: usize`, labels or ids as `ArrayView1<usize>`"
                .into()
        }
        InputHint::OtherFloat(float) => {
            format!("the float type of this function is `{float}`: write `{float}`").into()
        }
        InputHint::DynamicRank => {
            "arrays of dynamic rank are not supported: the rank is part of the type, as in `ArrayView2<T>`"
                .into()
        }
        InputHint::IntegerArray(name) => {
            format!("integer arrays hold `usize`: write `{name}<usize>`").into()
        }
        InputHint::ElementType(name, float) => format!(
            "array elements are `{float}` (the float type of this function) or `usize`: \
                     write `{}<{float}>`",
            name
        )
        .into(),
        InputHint::Rank(float) => format!(
            "array ranks go from 0 to 6, as in `ArrayView2<{float}>`, `&Array2<{float}>`, `Array2<{float}>` \
             or `ArrayView<{float}, Ix2>`"
        )
        .into(),
        InputHint::Other => INPUTS.into(),
    };
    Message::new(format!("unsupported input type `{ty}`"), help)
}

/// `#[no_grad]` on a `usize` or integer array input.
pub const NO_GRAD_ON_INTEGER: Message = Message::fixed(
    "`#[no_grad]` on an integer input",
    "integer inputs never take gradients; remove the attribute",
);

/// No return type.
pub const NO_RETURN_TYPE: Message = Message::fixed(
    "a differentiable function must return a value",
    "add the return type, for example `-> Array2<T>` or `-> T` for a loss",
);

/// The return type `()`.
pub const UNIT_RETURN_TYPE: Message = Message::fixed(
    "a differentiable function must return a value",
    "return an array (`-> Array2<T>`), a scalar (`-> T`) for a loss, or a tuple of them",
);

/// A return type (or a part of a tuple return type) that is not an owned float
/// array or the float type, quoted.
pub fn unsupported_return_type(ty: &str) -> Message {
    Message::new(
        format!("unsupported return type `{ty}`"),
        "return an owned float array (`Array2<T>`), a scalar (`T`), or a tuple of them",
    )
}

// ---------------------------------------------------------------------------
// `layer = S`: the function of a layer
// ---------------------------------------------------------------------------

/// How a layer's function takes its inputs.
const LAYER_INPUTS: &str = "put the layer's input first (`x: ArrayView2<T>`), then the inputs named like the struct's fields";

/// With `layer = S`, a first input that is not an array.
pub const LAYER_FIRST_INPUT: Message = Message::fixed(
    "the first input of a layer is its input array",
    LAYER_INPUTS,
);

/// `input = ..` not written as a name or a tuple of names (the text of the parser's error).
pub const LAYER_INPUT_OPTION: &str =
    "`input` names the layer's inputs: `input = (x, h)` for a layer of two inputs";

/// `input = (..)` without `layer = S`.
pub const LAYER_INPUT_WITHOUT_LAYER: Message = Message::fixed(
    "`input = (..)` names the inputs of a layer, but there is no `layer = S`",
    "write `layer = S, input = (x, h)`: the layer `S` then takes the tuple `(x, h)`",
);

/// `input = (..)` naming other inputs than the function's leading ones.
pub fn layer_input_not_leading(given: &[String], leading: &[String]) -> Message {
    Message::new(
        format!(
            "`input = ({})` must name the function's first inputs, in order",
            given.join(", ")
        ),
        format!(
            "put the layer's inputs first and name them as declared: `input = ({})`; the inputs after them are the struct's fields",
            leading.join(", ")
        ),
    )
}

/// `input = (..)` naming an input that is not an array.
pub fn layer_input_not_array(name: &str) -> Message {
    Message::new(
        format!("the layer's input `{name}` is not an array"),
        "a layer's inputs are arrays (float arrays, or `usize` ids); pass scalars and sizes as the struct's fields",
    )
}

/// With `layer = S`, a function without inputs.
pub const LAYER_WITHOUT_INPUT: Message = Message::fixed("a layer needs an input", LAYER_INPUTS);

/// The shape a `cell = Name` function must have, the help of its errors.
const CELL_SIGNATURE: &str = "a cell is one step of a recurrence: the step's input `x: ArrayView2<T>`, \
    then the previous state (`h_prev: ArrayView2<T>`, or `h_prev` and `c_prev`), then the inputs \
    named like the struct's fields; it returns the next state (`Array2<T>`, or `(Array2<T>, Array2<T>)`)";

/// `cell = ..` on a function that is not one step of a recurrence.
pub fn cell_signature(what: &str) -> Message {
    Message::new(format!("a cell's {what}"), CELL_SIGNATURE)
}

/// `recurrence = name` that is not one of a cell's 2-D parameter fields.
pub fn recurrence_not_a_field(name: &str) -> Message {
    Message::new(
        format!("`recurrence = {name}` names no 2-D parameter of the cell"),
        "name the input after the state that multiplies it, as `recurrence = wh`, on an item with \
         `cell = Name`",
    )
}

/// `layer = ..` and `cell = ..` together.
pub const LAYER_AND_CELL: Message = Message::fixed(
    "an item is a layer or a cell, not both",
    "keep `cell = Name` for a step that `layers::Recurrent` runs over time, or `layer = Name` for a layer",
);

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

/// `#[no_grad]` on a `let`.
pub const NO_GRAD_ON_LET: Message = Message::fixed(
    "`#[no_grad]` on a `let` binding has no effect",
    "to stop the gradient here, write `let name = stop_gradient(...);`; `#[no_grad]` goes on an input",
);

/// Any other attribute on a `let`, by its path.
pub fn attribute_on_let(path: &str) -> Message {
    Message::new(
        format!("attribute `#[{path}]` on a `let` binding is not supported"),
        "remove it: statements in a differentiable function take no attributes",
    )
}

/// `let mut`.
pub const MUT_BINDING: Message = Message::fixed(
    "mutable bindings are not supported",
    "bind each new value with its own `let`; values are never changed in place",
);

/// A `let` with a pattern other than one name.
pub const DESTRUCTURING_LET: Message = Message::fixed(
    "only `let name = ...;` bindings are supported",
    "bind one name per `let`; destructuring is not supported",
);

/// `let ... else`.
pub const LET_ELSE: Message = Message::fixed(
    "`let ... else` is not supported",
    "bind the value with a plain `let`",
);

/// `let name;` without a value.
pub fn let_without_value(name: impl Display) -> Message {
    Message::new(
        format!("`let {name};` has no value"),
        "write `let name = expression;`",
    )
}

/// `return value` as the last statement.
pub const RETURN_STATEMENT: Message = Message::fixed(
    "`return` is not supported",
    "end the body with the returned expression itself, without `return` and the semicolon",
);

/// The final expression followed by `;`.
pub const FINAL_SEMICOLON: Message = Message::fixed(
    "the final expression ends with a semicolon, so the function returns nothing",
    "remove the `;` to return the value of this expression",
);

/// An item (`fn`, `struct`, `use`, ...) in the body.
pub const ITEM_IN_BODY: Message = Message::fixed(
    "items inside a differentiable function are not supported",
    "define helper items outside the function",
);

/// A macro call, as a statement or an expression, by its path.
pub fn macro_call(path: &str) -> Message {
    Message::new(
        format!("macro `{path}!` is not supported"),
        "the body is `let` bindings and a final expression of supported ops",
    )
}

/// A body that does not end with an expression; `last_let` is the name the last
/// statement binds, if it is a `let`.
pub fn no_final_expression(last_let: Option<&dyn Display>) -> Message {
    let help: Cow<'static, str> = match last_let {
        Some(name) => format!(
            "end the body with the value to return, for example `{name}` on a line of its own"
        )
        .into(),
        None => "end the body with the returned expression, without a semicolon".into(),
    };
    Message::new("the function has no final expression", help)
}

/// `x = y`.
pub const ASSIGNMENT: Message = Message::fixed(
    "assignment is not supported",
    "values are never changed in place: bind a new name with `let`",
);

/// `x += y` and the other compound assignments.
pub const COMPOUND_ASSIGNMENT: Message = Message::fixed(
    "compound assignment is not supported",
    "values are never changed in place: write `let y = x + 1.0;`",
);

/// An expression with a semicolon before the end of the body.
pub const EXPRESSION_STATEMENT: Message = Message::fixed(
    "an expression statement has no effect here",
    "the body is `let` bindings and a final expression without a semicolon",
);

// ---------------------------------------------------------------------------
// Syntax the language does not have
// ---------------------------------------------------------------------------

/// `for`, `while` and `loop`.
pub const LOOP: Message = Message::fixed(
    "loops are not supported",
    "write the computation with whole-array ops; for a recurrence over time steps, differentiate one step and loop in ordinary Rust",
);

/// `if`.
pub const IF: Message = Message::fixed(
    "`if` is not supported",
    "choose elementwise with `where_(x > 0.0, a, b)`",
);

/// `match`.
pub const MATCH: Message = Message::fixed(
    "`match` is not supported",
    "choose elementwise with `where_(cond, a, b)`",
);

/// A closure.
pub const CLOSURE: Message = Message::fixed(
    "closures are not supported",
    "use the elementwise ops of the language, or write a separate #[differentiable] function",
);

/// `return` inside an expression.
pub const EARLY_RETURN: Message = Message::fixed(
    "early return is not supported",
    "the function returns its final expression",
);

/// A block or an `unsafe` block.
pub const BLOCK: Message = Message::fixed(
    "blocks are not supported",
    "bind intermediate values with `let` at the top level of the body",
);

/// `x[i]`.
pub const INDEXING: Message = Message::fixed(
    "indexing with `[]` is not supported",
    "use `pick(q, &idx)` for one column per row, `rows(table, &idx)` for a lookup, or `slice_axis` for a range",
);

/// `x.field`.
pub const FIELD_ACCESS: Message = Message::fixed(
    "field access is not supported",
    "pass the value as an input; for a layer, name the input like the struct's field",
);

/// `x as T`.
pub const CAST: Message = Message::fixed(
    "`as` casts are not supported",
    "write float literals such as `2.0`; they take the function's float type",
);

/// `x?`.
pub const TRY_OPERATOR: Message = Message::fixed(
    "the `?` operator is not supported",
    "nothing in the language can fail: use the value itself",
);

/// What a differentiable function is, for syntax it has no use for.
const PLAIN_COMPUTATION: &str = "a differentiable function is a plain computation on arrays";

/// `.await` and `async` blocks.
pub const ASYNC_CODE: Message = Message::fixed("async code is not supported", PLAIN_COMPUTATION);

/// `try` blocks and `yield`.
pub const OTHER_SYNTAX: Message = Message::fixed("this syntax is not supported", PLAIN_COMPUTATION);

/// Struct, array and repeat literals outside `concatenate`.
pub const LITERAL_KIND: Message = Message::fixed(
    "this kind of literal is not supported here",
    "inputs come in as arguments; only `concatenate` takes a list `&[&a, &b]`",
);

/// Any other expression the language does not have.
pub const UNSUPPORTED_EXPRESSION: Message = Message::fixed(
    "this expression is not supported",
    "the language has arithmetic, calls of its ops, method calls like `x.dot(&w)`, literals and names",
);

// ---------------------------------------------------------------------------
// Expressions: names, literals, operators, outputs
// ---------------------------------------------------------------------------

/// The return type is a tuple of `n` values, the final expression is not a tuple.
pub fn tuple_expected(n: usize) -> Message {
    Message::new(
        format!("the function returns a tuple of {n} values but this is not a tuple"),
        "end the body with a tuple, as in `(a, b)`",
    )
}

/// The return type is one value, the final expression a tuple of `len`.
pub fn tuple_unexpected(len: usize) -> Message {
    Message::new(
        format!("the function returns one value but this is a tuple of {len}"),
        "return one value, or declare a tuple return type such as `-> (Array2<T>, T)`",
    )
}

/// The final tuple has `len` values, the return type `n`.
pub fn tuple_length(n: usize, len: usize) -> Message {
    Message::new(
        format!("the function returns {n} values but this tuple has {len}"),
        "make the final tuple match the declared return type",
    )
}

/// An output of type `ty` where the return type (quoted) says otherwise.
pub fn wrong_output_type(ty: Ty, declared: &str) -> Message {
    let text = match ty {
        Ty::Scalar => {
            format!("this expression is a constant, but the function returns `{declared}`")
        }
        _ => format!("this expression is a {ty}, but the function returns `{declared}`"),
    };
    let help: Cow<'static, str> = match ty {
        Ty::Float(0) => "a full reduction gives a scalar: return `T`".into(),
        Ty::Float(r) => format!(
            "declare the return type as a {r}-D array (`Array{r}<T>`), or reduce the result"
        )
        .into(),
        Ty::Scalar => {
            "the output must be computed from array inputs; a constant has no gradient".into()
        }
        _ => "return a float array or a float scalar".into(),
    };
    Message::new(text, help)
}

/// An elementwise op without a derivative (named, with its doc) where a
/// gradient flows.
pub fn no_derivative(op: &str, doc: &str) -> Message {
    Message::new(
        format!("`{op}` has no derivative, but a gradient flows through it here"),
        format!(
            "wrap its input in `stop_gradient(...)` if no gradient should flow, or mark the inputs it depends on `#[no_grad]`; `{op}` is {doc}"
        ),
    )
}

/// A name used before the `let` (on `line`) that binds it.
pub fn used_before_let(name: &str, line: usize) -> Message {
    Message::new(
        format!("`{name}` is used before its `let`"),
        format!("`let {name} = ...;` comes later, on line {line}; move this statement below it"),
    )
}

/// What is known about a name that is not in scope, for [`unknown_value`]'s help.
pub enum ValueHint<'a> {
    /// A name in scope close to it.
    DidYouMean(&'a str),
    /// It is an op, called as the field shows.
    Op(&'a str),
    /// Nothing is in scope.
    NothingInScope,
    /// The names in scope.
    InScope(&'a [&'a str]),
}

/// A name that is neither an input nor a `let` in scope.
pub fn unknown_value(name: &str, hint: ValueHint<'_>) -> Message {
    let help: Cow<'static, str> = match hint {
        ValueHint::DidYouMean(s) => format!("did you mean `{s}`?").into(),
        ValueHint::Op(call) => format!("`{name}` is an op: call it, as in `{call}`").into(),
        ValueHint::NothingInScope => {
            "declare it as an input, or bind it with `let` before this statement".into()
        }
        ValueHint::InScope(names) => format!("the names in scope are: {}", names.join(", ")).into(),
    };
    Message::new(format!("cannot find value `{name}`"), help)
}

/// A path (`a::b`) other than the constants `PI` and `E`, quoted.
pub fn unknown_path(path: &str) -> Message {
    Message::new(
        format!("cannot find value `{path}`"),
        "use input names, `let` names, literals, or `std::f64::consts::PI`/`E`",
    )
}

/// `&mut x` in an expression.
pub const MUT_REFERENCE: Message = Message::fixed(
    "`&mut` is not supported",
    "values are never changed in place; write `&x`",
);

/// A unary operator other than `-` (`!`, `*`).
pub fn unary_operator(op: impl Display) -> Message {
    Message::new(
        format!("unary `{op}` is not supported"),
        "the only unary operator is `-`",
    )
}

/// A binary operator other than arithmetic and comparisons.
pub fn binary_operator(op: impl Display) -> Message {
    Message::new(
        format!("operator `{op}` is not supported"),
        "the operators are `+ - * /`, unary `-`, and comparisons inside `where_`",
    )
}

/// A call of something other than a name (`(f)(x)`).
pub const UNNAMED_CALL: Message = Message::fixed(
    "only calls of named ops are supported",
    "call an op of the language by name, as in `sigmoid(z)`",
);

/// A turbofish on a call or a method call.
pub const TURBOFISH: Message = Message::fixed(
    "type arguments are not supported here",
    "remove the turbofish; the float type is inferred",
);

/// A tuple anywhere but as the final expression.
pub const TUPLE_NOT_FINAL: Message = Message::fixed(
    "tuples are only supported as the final expression",
    "return several values as `(a, b)` at the end of the body, with a tuple return type",
);

/// How `slice_axis` takes its range.
const SLICE_AXIS_USAGE: &str = "write `x.slice_axis(Axis(1), 0..h)`";

/// A range anywhere but as the bounds of `slice_axis`.
pub const RANGE_OUTSIDE_SLICE: Message = Message::fixed(
    "a range is only supported as the bounds of `slice_axis`",
    SLICE_AXIS_USAGE,
);

/// A number literal too large for a float, quoted.
pub fn float_literal_out_of_range(literal: &str) -> Message {
    Message::new(
        format!("the literal `{literal}` is out of range for a float"),
        "the largest float is about `1.7976931348623157e308` (`f64::MAX`)",
    )
}

/// A string, character, byte or boolean literal.
pub const NOT_A_NUMBER_LITERAL: Message = Message::fixed(
    "only number literals are supported",
    "write a float literal such as `0.5`",
);

/// Where a float was needed, for [`not_float`].
pub enum FloatUse<'a> {
    /// In `+ - * /`.
    Arithmetic,
    /// In a comparison.
    Comparison,
    /// In unary `-`.
    Negation,
    /// As an argument of the op.
    Op(&'a str),
}

/// A value of type `ty`, not a float, used where a float is needed.
pub fn not_float(ty: Ty, what: FloatUse<'_>) -> Message {
    let what = match what {
        FloatUse::Arithmetic => "arithmetic".to_string(),
        FloatUse::Comparison => "a comparison".to_string(),
        FloatUse::Negation => "negation".to_string(),
        FloatUse::Op(op) => format!("`{op}`"),
    };
    match ty {
        Ty::Int(_) => Message::new(
            format!(
                "an integer array cannot be used in {what}: a gradient would have to flow through integers"
            ),
            "integer arrays are labels, actions or ids: use them as the index of `pick(q, &a)` or `rows(table, &ids)`",
        ),
        Ty::Mask(_) => Message::new(
            format!("a comparison mask cannot be used in {what}"),
            "use the mask as the condition of `where_(mask, a, b)`",
        ),
        Ty::Usize => Message::new(
            format!("a `usize` cannot be used in {what}"),
            "`usize` values are sizes and slice bounds; use `mean` for averages",
        ),
        _ => Message::new(
            format!("a {ty} cannot be used in {what}"),
            "use a float array",
        ),
    }
}

/// A comparison of two scalars.
pub const COMPARE_SCALARS: Message = Message::fixed(
    "a comparison of two scalars is constant",
    "compare an array, as in `x > 0.0`",
);

/// `T::lit(0.5)` and the like, quoted whole, with the literal it wraps.
pub fn float_function_of_literal(call: &str, literal: &str) -> Message {
    Message::new(
        float_function_not_needed(call),
        format!("write the literal `{literal}` itself: literals take the function's float type"),
    )
}

/// `T::one()`, quoted whole.
pub fn float_function_one(call: &str) -> Message {
    Message::new(
        float_function_not_needed(call),
        "write `1.0`: literals take the function's float type",
    )
}

/// `T::zero()`, quoted whole.
pub fn float_function_zero(call: &str) -> Message {
    Message::new(
        float_function_not_needed(call),
        "write `0.0`: literals take the function's float type",
    )
}

fn float_function_not_needed(call: &str) -> String {
    format!("`{call}` is not needed in a differentiable function")
}

/// Any other function of the float type (`T::sqrt`), its path quoted.
pub fn float_function(path: &str) -> Message {
    Message::new(
        format!("functions of the float type such as `{path}` are not supported"),
        "write literals such as `0.5`, a `#[no_grad]` scalar input for a value known at run time, and the ops of the language for the rest",
    )
}

// ---------------------------------------------------------------------------
// Sizes (`usize` values)
// ---------------------------------------------------------------------------

/// A value of type `ty` in arithmetic with a size.
pub fn mixed_with_size(ty: Ty) -> Message {
    Message::new(
        format!("a {ty} cannot be mixed with a `usize` size"),
        "sizes combine with sizes and non-negative integer literals, as in `x.len_of(Axis(1)) / 2`",
    )
}

/// Constant sizes `a op b` that underflow, overflow or divide by zero.
pub fn size_arithmetic(a: usize, op: &str, b: usize, divides_by_zero: bool) -> Message {
    let what = if divides_by_zero {
        "divides by zero"
    } else {
        "is out of range for a `usize`"
    };
    Message::new(
        format!("`{a} {op} {b}` {what}"),
        "sizes are non-negative: write bounds that stay between 0 and the axis length",
    )
}

/// An integer literal that is not a `usize`, where a size is needed.
pub const INVALID_USIZE: Message =
    Message::fixed("not a valid `usize`", "write a non-negative integer");

/// An operator other than `+ - * /` in a size.
pub const SIZE_OPERATOR: Message = Message::fixed(
    "only `+ - * /` are supported in sizes",
    "write bounds like `2 * h..3 * h`",
);

/// A value of type `ty` where a size is needed.
pub fn expected_usize(ty: Ty) -> Message {
    Message::new(
        format!("expected a `usize`, found a {ty}"),
        "slice bounds are `usize` inputs, literals, or sizes like `x.len_of(Axis(1))`",
    )
}

// ---------------------------------------------------------------------------
// Calls of ops, and their arguments
// ---------------------------------------------------------------------------

/// `Axis(k)` used as a value.
pub const AXIS_NOT_A_VALUE: Message = Message::fixed(
    "`Axis(k)` is not a value",
    "write the axis where it is used, as in `x.sum_axis(Axis(1))` or `softmax(x, Axis(1))`",
);

/// What is known about a name that is not an op, for [`unknown_op`]'s help.
pub enum OpHint<'a> {
    /// A name from another library, with what to write here instead.
    Foreign(&'a str),
    /// An op close to it, with its usage line.
    DidYouMean(&'a str, &'a str),
    /// Nothing close: every op's name.
    Ops(&'a [&'a str]),
}

/// A call of a name that is not an op. `function_call` when written `name(..)`
/// (not as a method), where a function of the user's own could be meant.
pub fn unknown_op(op: &str, hint: OpHint<'_>, function_call: bool) -> Message {
    let own = if function_call {
        format!(
            "; to call a `#[differentiable]` function of your own named `{op}`, write its path: `self::{op}(..)`"
        )
    } else {
        String::new()
    };
    let help = match hint {
        OpHint::Foreign(instead) => format!("there is no `{op}` here: write {instead}{own}"),
        OpHint::DidYouMean(s, usage) => format!("did you mean `{s}`? ({usage}){own}"),
        OpHint::Ops(names) => format!(
            "the ops are {}; a `#[differentiable]` function of your own is called as a function, `f(x)`, not as a method",
            names.join(", ")
        ),
    };
    Message::new(format!("unknown op `{op}`"), help)
}

/// How the declared type of a call's result is written, for the helps below.
const CALL_DECLARATION: &str = "bind the result with its type: `let y: Array2<T> = f(..);` \
    (`: T` for a scalar; `let (a, b): (Array2<T>, Array2<T>) = f(..);` for several results), \
    or return it, where the function's return type declares it";

/// A call of a function (not an op) whose result type nothing declares; `ops`
/// lists the ops when the name is a bare one, which may have been meant as an op.
pub fn call_result_undeclared(path: &str, ops: Option<&[&str]>) -> Message {
    let ops = ops
        .map(|names| format!("; if you meant an op, the ops are {}", names.join(", ")))
        .unwrap_or_default();
    Message::new(
        format!("the result type of `{path}(..)` must be declared"),
        format!(
            "`{path}` is not an op, so it is taken to be a `#[differentiable]` function, \
             whose signature the macro cannot see: {CALL_DECLARATION}{ops}"
        ),
    )
}

/// A declared result type of a call that a `#[differentiable]` function cannot return.
pub fn call_result_type(ty: &str) -> Message {
    Message::new(
        format!("`{ty}` cannot be the result of a `#[differentiable]` function"),
        format!(
            "such a function returns owned float arrays (`Array2<T>`), scalars (`T`), or a tuple of them; {CALL_DECLARATION}"
        ),
    )
}

/// A call's pattern and its declared type disagree on the number of results.
pub fn call_pattern(path: &str, names: usize, results: Option<usize>) -> Message {
    let text = match results {
        Some(n) => format!(
            "the pattern binds {names} name{} but `{path}(..)` is declared with {n} result{}",
            plural(names),
            plural(n)
        ),
        None => format!(
            "the pattern binds {names} name{} but `{path}(..)` is declared with one result",
            plural(names)
        ),
    };
    Message::new(
        text,
        format!("write one name per result in the pattern; {CALL_DECLARATION}"),
    )
}

/// A value that cannot be passed to a called function (a mask).
pub fn call_argument(ty: Ty) -> Message {
    Message::new(
        format!("a {ty} cannot be passed to a called function"),
        "pass float arrays, integer arrays, scalars or sizes; a mask is used through `where_(mask, a, b)`",
    )
}

/// A name a tuple pattern binds twice.
pub fn bound_twice(name: &str) -> Message {
    Message::new(
        format!("`{name}` is bound twice in this pattern"),
        "give each result a name of its own, or `_` for one you do not use",
    )
}

/// A tuple pattern on something other than a call.
pub const TUPLE_LET_NOT_CALL: Message = Message::fixed(
    "a tuple pattern binds only the results of a call of a `#[differentiable]` function",
    "bind one name per `let`; `let (a, b): (Array2<T>, Array2<T>) = f(..);` destructures a function returning a tuple",
);

/// A `let` whose declared type is not the value's.
pub fn let_type_mismatch(name: &str, declared: &str, ty: Ty) -> Message {
    Message::new(
        format!("`{name}` is declared `{declared}`, but its value is a {ty}"),
        "write the value's type, or leave the type out: it is known from the value",
    )
}

/// An op called with `given` arguments instead of `arity` (a method's receiver
/// counts), with its usage line.
pub fn wrong_arity(op: &str, arity: usize, given: usize, usage: &str) -> Message {
    let s = plural;
    Message::new(
        format!(
            "`{op}` takes {arity} argument{} but {given} {} given",
            s(arity),
            if given == 1 { "was" } else { "were" }
        ),
        format!("usage: {usage}"),
    )
}

/// A scalar where `op` needs an array.
pub fn array_not_scalar(op: &str) -> Message {
    Message::new(
        format!("`{op}` needs an array here, not a scalar"),
        "pass an array input or a value computed from one",
    )
}

/// An elementwise op applied to a scalar.
pub fn elementwise_of_scalar(op: &str) -> Message {
    Message::new(
        format!("`{op}` of a scalar is constant"),
        "apply the op to an array; compute constants by hand",
    )
}

/// A constant parameter of an elementwise op (`alpha` of `leaky_relu`) given an
/// array or a value that takes a gradient.
pub fn parameter_not_constant(op: &str, param: &str) -> Message {
    Message::new(
        format!("the `{param}` parameter of `{op}` must be a constant"),
        format!(
            "pass a literal such as `0.01` or a `#[no_grad]` scalar input of type `T`; `{param}` takes no gradient"
        ),
    )
}

/// An integer exponent (of `powi`), quoted, that does not fit in an `i32`.
pub fn exponent_out_of_range(exponent: &str, op: &str) -> Message {
    Message::new(
        format!("the exponent `{exponent}` of `{op}` is out of range"),
        format!(
            "`{op}` takes an exponent that fits in an `i32` (at most {}); for a larger one write `powf(x, p)`",
            i32::MAX
        ),
    )
}

/// A float literal, quoted, as the integer parameter of `op`.
pub fn exponent_not_integer(op: &str, param: &str, exponent: &str) -> Message {
    Message::new(
        format!("`{op}` takes an integer `{param}`, found `{exponent}`"),
        format!("write `powf(x, {exponent})` for a non-integer exponent"),
    )
}

/// A value of type `ty` (quoted as `exponent`) as the integer parameter of `op`.
pub fn exponent_wrong_type(op: &str, param: &str, ty: Ty, exponent: &str) -> Message {
    Message::new(
        format!("`{op}` takes an integer `{param}`, found a {ty}"),
        format!(
            "pass an integer literal such as `2` or a `usize` input; for a float exponent write `powf(x, {exponent})`"
        ),
    )
}

/// `clip(x, lo, hi)` with constant bounds (quoted) that are equal.
pub fn clip_equal_bounds(lo: &str, hi: &str) -> Message {
    Message::new(
        format!("`clip` with equal bounds `{lo}` and `{hi}` is a constant"),
        "give `clip(x, lo, hi)` a lower bound below its upper bound; with equal bounds its gradient is zero everywhere",
    )
}

/// `clip(x, lo, hi)` with constant bounds (quoted) with `lo > hi`.
pub fn clip_reversed_bounds(lo: &str, hi: &str) -> Message {
    Message::new(
        format!("the lower bound `{lo}` of `clip` is above its upper bound `{hi}`"),
        format!(
            "the bounds are `clip(x, lo, hi)` with `lo < hi`: write `clip(x, {hi}, {lo})`; reversed, the result is constant and its gradient zero"
        ),
    )
}

/// `huber(x, delta)` with a constant `delta <= 0`, quoted.
pub fn huber_delta_not_positive(delta: &str) -> Message {
    Message::new(
        format!("the `delta` of `huber` must be positive, found `{delta}`"),
        "`delta` is where the loss turns from quadratic to linear, as in `huber(x, 1.0)`",
    )
}

/// An axis of `op` that is not a constant.
pub fn axis_not_constant(op: &str) -> Message {
    Message::new(
        format!("the axis of `{op}` must be a constant like `Axis(1)`"),
        "axes are fixed at compile time: write `Axis(0)`, `Axis(1)`, ...",
    )
}

/// Axis `k` of an array of rank `rank`, which has no such axis.
pub fn axis_out_of_range(k: usize, rank: usize) -> Message {
    let help = match rank {
        // A full reduction's result has no axis at all.
        0 => "a 0-D array (the result of `sum()` or `mean()`) has no axes".to_string(),
        _ => format!("the axes of a {rank}-D array are 0 to {}", rank - 1),
    };
    Message::new(
        format!("axis {k} is out of range for a {rank}-D array"),
        help,
    )
}

/// The index of `op` (`pick`, `rows`) is a `ty`, not a 1-D `usize` array.
pub fn index_not_1d(op: &str, ty: Ty) -> Message {
    Message::new(
        format!("the index of `{op}` must be a 1-D `usize` array, found a {ty}"),
        "pass integer labels, actions or ids declared as `ArrayView1<usize>`",
    )
}

// ---------------------------------------------------------------------------
// Ops: op-specific checks (`ops/`)
// ---------------------------------------------------------------------------

/// What to pass where there must be an array.
const AT_LEAST_ONE_ARRAY: &str = "pass at least one array";

/// `maximum` or `minimum` of two scalars.
pub fn extremum_of_scalars(op: &str) -> Message {
    Message::new(
        format!("`{op}` of two scalars is constant"),
        AT_LEAST_ONE_ARRAY,
    )
}

/// The condition of `where_` is a `ty`, not a comparison.
pub fn where_condition(ty: Ty) -> Message {
    Message::new(
        format!("the condition of `where_` must be a comparison, found a {ty}"),
        "write a comparison such as `x > 0.0` or `a >= b`",
    )
}

/// The parts of `concatenate` not written as `&[&a, &b]`.
pub const CONCATENATE_NOT_A_LIST: Message = Message::fixed(
    "the parts of `concatenate` must be a list `&[&a, &b]`",
    "write `concatenate(Axis(1), &[&a, &b])`",
);

/// `concatenate` of `&[]`.
pub const CONCATENATE_NOTHING: Message =
    Message::fixed("`concatenate` of no parts", AT_LEAST_ONE_ARRAY);

/// A part of `concatenate` of rank `rank` where the first has rank `first`.
pub fn concatenate_ranks(rank: usize, first: usize) -> Message {
    Message::new(
        format!("this part is a {rank}-D array but the first is {first}-D"),
        "all parts of `concatenate` have the same rank",
    )
}

/// `len_of`, `nrows` or `ncols` of something that is not an array.
pub fn size_of_non_array(op: &str) -> Message {
    Message::new(
        format!("`{op}` needs an array"),
        "ask an array input or value for its size",
    )
}

/// `nrows` or `ncols` of an array of rank `rank`, not 2.
pub fn size_of_non_matrix(op: &str, rank: usize) -> Message {
    Message::new(
        format!("`{op}` needs a 2-D array, found a {rank}-D array"),
        "use `len_of(Axis(k))`",
    )
}

/// `dot` with an argument of rank `rank`; `batched` when the ranks are those of
/// `matmul`.
pub fn dot_rank(rank: usize, batched: bool) -> Message {
    let help = if batched {
        "`dot` multiplies 1-D and 2-D arrays; for `[b, n, k]` write `matmul(a, &b)`"
    } else {
        "`dot` multiplies 1-D and 2-D arrays: matrix x matrix, matrix x vector, vector x matrix, vector x vector"
    };
    Message::new(format!("`dot` of a {rank}-D array"), help)
}

/// `matmul` with an argument of rank `rank`; `small` when both are 1-D or 2-D
/// (the ranks of `dot`).
pub fn matmul_rank(rank: usize, small: bool) -> Message {
    let help = if small {
        "for 1-D and 2-D arrays write `a.dot(&b)`"
    } else {
        "`matmul` multiplies `[b, n, k]` by `[b, k, m]` (a product per batch) or by `[k, m]` (one weight for all)"
    };
    Message::new(format!("`matmul` of a {rank}-D array here"), help)
}

/// `conv2d` with images of rank `rank`, not 4.
pub fn conv2d_images_rank(rank: usize) -> Message {
    conv2d_rank(rank, "the images [n, c, h, w]")
}

/// `conv2d` with kernels of rank `rank`, not 4.
pub fn conv2d_kernels_rank(rank: usize) -> Message {
    conv2d_rank(rank, "the kernels [f, c, kh, kw]")
}

fn conv2d_rank(rank: usize, what: &str) -> Message {
    Message::new(
        format!("`conv2d` needs 4-D arrays, found a {rank}-D array"),
        format!("this argument is {what}"),
    )
}

/// `conv2d` with a constant stride of 0.
pub const CONV2D_STRIDE_ZERO: Message = Message::fixed(
    "the stride of `conv2d` is 0",
    "the stride is the step between windows: at least 1, as in `conv2d(x, w, 1, 0)`",
);

/// `max_pool2` of an array of rank `rank`, not 4.
pub fn max_pool2_rank(rank: usize) -> Message {
    Message::new(
        format!("`max_pool2` needs a 4-D array, found a {rank}-D array"),
        "pool images laid out [n, c, h, w]",
    )
}

/// `pick` of values of rank `rank`, not 2.
pub fn pick_rank(rank: usize) -> Message {
    first_argument_not_matrix("pick", rank, "a 2-D array of values, one row per index")
}

/// `rows` of a table of rank `rank`, not 2.
pub fn rows_rank(rank: usize) -> Message {
    first_argument_not_matrix("rows", rank, "a 2-D table, one row per id")
}

fn first_argument_not_matrix(op: &str, rank: usize, what: &str) -> Message {
    Message::new(
        format!("`{op}` needs a 2-D array, found a {rank}-D array"),
        format!("the first argument is {what}"),
    )
}

/// The indices of `take_along_axis` are a `ty`, not a `usize` array of the
/// values' rank `rank`.
pub fn take_along_axis_indices(rank: usize, ty: Ty) -> Message {
    Message::new(
        format!(
            "the indices of `take_along_axis` must be a {rank}-D `usize` array like the values, found a {ty}"
        ),
        format!(
            "declare them as `ArrayView{rank}<usize>`: along the axis they say which element to take, along the others their length is the values' or 1; \
                 for one index per row of a matrix there is `pick(q, &idx)`, for rows of a table `rows(table, &ids)`"
        ),
    )
}

/// `t()` (named `op`) of an array of rank `rank`, above 2.
pub fn transpose_rank(op: &str, rank: usize) -> Message {
    Message::new(
        format!("`{op}` of a {rank}-D array"),
        "transpose works on 2-D arrays",
    )
}

/// The bounds of `slice_axis` not written as a range.
pub const SLICE_BOUNDS_NOT_A_RANGE: Message = Message::fixed(
    "the bounds of `slice_axis` must be a range `start..end`",
    SLICE_AXIS_USAGE,
);

/// A range of `slice_axis` without a start or an end.
pub const SLICE_OPEN_RANGE: Message = Message::fixed(
    "both bounds of the range are needed",
    "write `start..end`, for example `0..h` or `h..x.len_of(Axis(1))`",
);

/// `a..=b` as the bounds of `slice_axis`.
pub const SLICE_INCLUSIVE_RANGE: Message = Message::fixed(
    "inclusive ranges are not supported",
    "write `start..end` with an exclusive end",
);

/// A range of `slice_axis`, quoted, whose constant start `start` is after its end `end`.
pub fn slice_reversed(range: &str, start: usize, end: usize) -> Message {
    Message::new(
        format!("the range `{range}` of `slice_axis` starts after its end"),
        format!("write `start..end` with `start <= end`, as in `{end}..{start}`"),
    )
}

/// `insert_axis` of an array that has the most axes there can be.
pub const INSERT_AXIS_6D: Message =
    Message::fixed("`insert_axis` of a 6-D array", "arrays have at most 6 axes");

/// `flatten` of an array of rank `rank`, below 2.
pub fn flatten_rank(rank: usize) -> Message {
    Message::new(
        format!("`flatten` of a {rank}-D array"),
        "flatten merges the axes after the first of an array of rank 2 or more",
    )
}

// ---------------------------------------------------------------------------
// Lints
// ---------------------------------------------------------------------------

/// `unused_input`: an input no output depends on; `wants_grad` when it takes a gradient.
pub fn unused_input(name: &str, wants_grad: bool) -> Message {
    let gradient = if wants_grad {
        " and its gradient is always zero"
    } else {
        ""
    };
    Message::new(
        format!("the input `{name}` is never used: no output depends on it{gradient}"),
        format!("use it, remove it, or name it `_{name}` if it is there on purpose"),
    )
}

/// `unused_let`: a binding nothing reads; `dropped` when its value is not
/// computed in the generated code.
pub fn unused_let(name: &str, dropped: bool) -> Message {
    let help = if dropped {
        format!(
            "use `{name}`, or remove the `let`: its value is not computed in the generated code"
        )
    } else {
        format!("use `{name}`, or remove the `let`")
    };
    Message::new(format!("the binding `{name}` is never used"), help)
}

/// `clip_zero_gradient`: `clip`, `minimum` or `maximum` (`op`) with a constant
/// bound, between a parameter and a scalar loss; `text` is the call.
pub fn clip_zero_gradient(op: &str, text: &str) -> Message {
    let help = if op == "clip" {
        "to limit the loss's slope rather than its value, use `huber(x, delta)`: its gradient is `x` limited to `[-delta, delta]`, never zero (`clip(e, -1.0, 1.0).square()` is the DQN bug; `huber(e, 1.0)` is the fix)"
    } else {
        "keep a gradient with a smooth bound (`softplus`, or `huber` for a loss), or write `relu` if this is an activation"
    };
    Message::new(
        format!(
            "`{text}` has an exactly zero gradient wherever its constant bound takes over: on the way to the loss, those samples stop training, silently"
        ),
        format!("{help}; if the flat region is intended, allow `clip_zero_gradient`"),
    )
}

/// `unstable_log`: `ln` of a `softmax` or `sigmoid` (`inner`); `text` is the call.
pub fn unstable_log(inner: &str, text: &str) -> Message {
    let instead = if inner == "softmax" {
        "`log_softmax(x, Axis(k))`"
    } else {
        "`-softplus(-x)` (`ln(sigmoid(x))` without the rounding)"
    };
    Message::new(
        format!(
            "`{text}` is `ln(0) = -inf` once the `{inner}` rounds to zero, and its gradient is then NaN or infinite"
        ),
        format!("write {instead}, which computes the same value without underflow"),
    )
}

/// `unbounded_exp`: `exp` of a value that grows with an input; `text` is the call.
pub fn unbounded_exp(text: &str) -> Message {
    Message::new(
        format!(
            "`{text}`: nothing bounds the argument of `exp`, which overflows to infinity above about 88 in `f32` (709 in `f64`), and the gradient with it"
        ),
        "subtract the maximum first (`exp(x - max_axis(x, Axis(k)).insert_axis(Axis(k)))`), use `softmax`, `logsumexp` or `sigmoid`, which do, or bound the argument (`tanh`, `clip`)",
    )
}

/// `singular_at_zero`: `op` (`sqrt`, `ln`, `recip`, `division`) in `text`, of
/// `arg`, which is never negative but reaches 0.
pub fn singular_at_zero(op: &str, text: &str, arg: &str) -> Message {
    let (what, fix) = match op {
        "ln" => ("is `-inf` at 0", format!("`ln({arg} + 1e-7)`")),
        "division" => ("divides by 0", format!("`/ ({arg} + 1e-12)`")),
        "recip" => ("is infinite at 0", format!("`recip({arg} + 1e-12)`")),
        _ => (
            "has an infinite derivative at 0",
            format!("`sqrt({arg} + 1e-12)`"),
        ),
    };
    Message::new(
        format!(
            "`{text}` {what}, and `{arg}` reaches 0 (it is never negative, but nothing keeps it away from 0): the gradient there is inf or NaN"
        ),
        format!("add a small constant where it can reach 0, as in {fix}"),
    )
}

/// `nan_through_where`: `op` in `text` (of `arg`) inside a `where_` branch.
pub fn nan_through_where(op: &str, text: &str, arg: &str) -> Message {
    let guarded = if op == "division" {
        format!("`/ where_(cond, {arg}, 1.0)`")
    } else {
        format!("`{op}(where_(cond, {arg}, 1.0))`")
    };
    Message::new(
        format!(
            "`{text}` is inside a `where_` branch: where `{arg}` is out of the {op}'s domain and the branch is not taken, its derivative is NaN, and the gradient gets 0 * NaN = NaN"
        ),
        format!(
            "guard the argument too, so that the branch not taken computes something harmless: {guarded} inside the outer `where_` (the double where)"
        ),
    )
}

/// The note of a lint denied in the attribute.
pub fn lint_denied_note(lint: &str) -> String {
    format!("`{lint}` is denied on this function")
}

/// The note of a lint's warning: how to change its level.
pub fn lint_warning_note(lint: &str) -> String {
    format!("`#[differentiable(allow({lint}))]` allows it, `deny({lint})` makes it an error")
}

// ---------------------------------------------------------------------------
// Internal errors: bugs in a stage, not in the user's code
// ---------------------------------------------------------------------------

/// The IR failed `verify` (`what` says after which stage, and how).
pub fn internal_error(what: &str) -> Message {
    Message::new(
        format!("internal error in #[differentiable]: the IR is invalid {what}"),
        "please report this bug in backprop, with the function",
    )
}

/// Where a verification failed: after a stage.
pub fn after_stage(stage: &str, error: &str) -> String {
    format!("after {stage}: {error}")
}

/// Where a verification failed: after a pass of the pipeline.
pub fn after_pass(pass: &str, error: &str) -> String {
    format!("after the `{pass}` pass: {error}")
}

/// `verify`: a node reads a node after it.
pub fn ir_reads_later_node(id: usize, arg: usize) -> String {
    format!("node {id} reads later node {arg}")
}

/// `verify`: a fused loop's arity, checks or body do not fit together.
pub const IR_FUSED_MALFORMED: &str = "a fused loop's arity, checks or body is malformed";

/// `verify`: a fused loop holds a node that is not elementwise, or of the other pass.
pub fn ir_fused_not_elementwise(j: usize, op: &str) -> String {
    format!("fused body node {j} ({op}) cannot be in the loop")
}

/// `verify`: a fused body node reads a body node after it.
pub fn ir_fused_reads_later(j: usize) -> String {
    format!("fused body node {j} reads a later node")
}

/// `verify`: a fused body node's type disagrees with its op's rule.
pub fn ir_fused_wrong_type(j: usize, op: &str) -> String {
    format!("fused body node {j} ({op}) breaks its type rule")
}

/// `verify`: a forward node reads a backward node.
pub fn ir_forward_reads_backward(id: usize, arg: usize) -> String {
    format!("forward node {id} reads backward node {arg}")
}

/// `verify`: a backward op in the forward pass.
pub fn ir_backward_op_in_forward(id: usize, op: &str) -> String {
    format!("forward node {id} has the backward op {op}")
}

/// `verify`: a node with another number of arguments than its op takes.
pub fn ir_wrong_arity(id: usize, op: impl std::fmt::Debug, args: usize, arity: usize) -> String {
    format!("node {id} ({op:?}) has {args} args, expected {arity}")
}

/// `verify`: a node of another type than its op's type rule gives.
pub fn ir_wrong_type(id: usize, op: &str, ty: Ty, expected: Ty) -> String {
    format!("node {id} ({op}) is a {ty}, its type rule says {expected}")
}

/// `verify`: the gradient node `grad` of value `value` has another type than the value's.
pub fn ir_gradient_wrong_type(value: usize, grad: usize, ty: Ty, expected: Ty) -> String {
    format!("node {grad}, the gradient of node {value}, is a {ty}, but the value is a {expected}")
}

/// `verify`: a node whose arguments its op's type rule rejects.
pub fn ir_rejected_arguments(id: usize, op: &str) -> String {
    format!("node {id} ({op}) has arguments its type rule rejects")
}

/// `verify`: an output that is not a forward node.
pub fn ir_output_not_forward(output: usize) -> String {
    format!("output {output} is not a forward node")
}

/// Emitted for a derivative node of an op that has no such derivative (which
/// `verify` rejects first).
pub const MISSING_DERIVATIVE: &str = "internal error: a derivative that does not exist";

/// Emitted for a call node met outside the statement that binds it (never, for
/// a graph `verify` accepts).
pub const CALL_OUTSIDE_STATEMENT: &str =
    "internal error: a call of a `#[differentiable]` function outside its statement";

// ---------------------------------------------------------------------------
// In generated code, at run time, and for tools
// ---------------------------------------------------------------------------

/// The `on_unimplemented` message, label and note of a layer field's accessor
/// trait (`emit::holder_fields`): a field of another type than the input of its
/// name takes, with the declaration that fixes it.
pub fn layer_field_type(
    name: &str,
    holder: &str,
    function: &str,
    declared: &str,
    takes_gradient: bool,
) -> (String, String, String) {
    let why = if takes_gradient {
        "takes a gradient: its field is a `Param`, which holds the gradient too"
    } else {
        "takes no gradient (`#[no_grad]`, or integers): its field holds the value itself"
    };
    (
        format!("the field `{name}` of `{holder}` is not what `{function}`'s input `{name}` takes"),
        format!("declare it `pub {name}: {declared}`"),
        format!("the input `{name}` {why}, so the field is `pub {name}: {declared}`"),
    )
}

/// What computed a gradient a called function gave, in a non-finite value's report.
pub fn call_gradient_origin(callee: &str) -> String {
    format!("the backward of `{callee}`")
}

/// The panic of a generated backward given an upstream gradient of another rank.
pub fn upstream_gradient_rank(output: usize, rank: usize) -> String {
    format!("upstream gradient {output} must be a {rank}-D array")
}

/// The body of the stand-in for a function that did not compile.
pub const DID_NOT_COMPILE: &str = "this #[differentiable] function did not compile";

/// `expand_source` or `ir_source` given a file that is not Rust.
pub fn not_a_rust_file(error: impl Display) -> String {
    format!("not a valid Rust file: {error}")
}

/// `"s"` unless `n` is 1.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
