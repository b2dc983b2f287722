//! Write the forward pass of a layer as ndarray-style Rust, mark it
//! `#[differentiable]`, and get the backward pass generated at compile time as
//! plain Rust that you can read.
//!
//! # A first layer
//!
//! ```
//! use backprop::prelude::*;
//!
//! #[differentiable]
//! pub fn dense_tanh<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
//!     let z = x.dot(&w) + &b;
//!     tanh(z)
//! }
//!
//! let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
//! let w = ndarray::array![[0.1, -0.2], [0.3, 0.4]];
//! let b = ndarray::array![0.0, 0.1];
//!
//! // The forward pass, as written.
//! let y = dense_tanh(x.view(), w.view(), b.view());
//!
//! // The training forward also returns what the backward needs ...
//! let (y2, saved) = dense_tanh_train(x.view(), w.view(), b.view());
//! assert_eq!(y, y2);
//! // ... and the backward turns d(loss)/d(output) into one gradient per input.
//! let d_out = Array2::ones(y.raw_dim());
//! let grads = dense_tanh_backward(&saved, d_out.view());
//! assert_eq!(grads.w.shape(), &[2, 2]);
//! assert_eq!(grads.b.shape(), &[2]);
//! ```
//!
//! The function is generic over the float type: check it in `f64`, train it in `f32`.
//!
//! # Checking the generated gradients
//!
//! Every generated function also has a `_dyn` form that [`check_function`]
//! compares with central finite differences in one call:
//!
//! ```
//! # use backprop::prelude::*;
//! # #[differentiable]
//! # pub fn dense_tanh<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
//! #     let z = x.dot(&w) + &b;
//! #     tanh(z)
//! # }
//! use backprop::{DynValue, GradCheck, check_function};
//!
//! let inputs = [
//!     DynValue::Float(ndarray::array![[1.0, 2.0], [3.0, 4.0]].into_dyn()),
//!     DynValue::Float(ndarray::array![[0.1, -0.2], [0.3, 0.4]].into_dyn()),
//!     DynValue::Float(ndarray::array![0.0, 0.1].into_dyn()),
//! ];
//! let report = check_function(&dense_tanh_dyn::<f64>(), &inputs, &GradCheck::default());
//! assert!(report.passed(), "{report}");
//! ```
//!
//! Or let the macro write that test: `check(..)` in the attribute gives each
//! input a value, and the macro emits a `#[test] fn NAME_gradient_check()`
//! (under `cfg(test)`) that draws seeded random inputs and runs the same check:
//!
//! ```
//! # use backprop::prelude::*;
//! #[differentiable(check(x = [4, 3], w = [3, 2], b = [2]))]
//! pub fn dense_tanh<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
//!     tanh(x.dot(&w) + &b)
//! }
//! ```
//!
//! A float array gets its shape (`x = [4, 3]`: standard normal values; `v = [3] > 0`:
//! positive ones, for what goes under a `sqrt` or `ln`), an integer array its shape
//! and a bound (`labels = [4] < 3`), a scalar its value (`eps = 0.1`, `n = 2`);
//! `seed = N` draws other inputs and `scale = 0.3` smaller ones. The check is in
//! `f64` with five-point central differences of step 1e-4, and passes when every
//! element's relative error `|a - n| / max(1e-8, |a| + |n|)` is at most 1e-7.
//! Random inputs stay away from kinks (a ReLU at exactly 0) with probability
//! close to 1, not with certainty: if a check lands on one, pick another seed.
//! Gradients far below 1e-6 (saturated sigmoids) are under the differences'
//! rounding error; `scale` keeps the values where they are measurable. Every
//! layer and loss of [`layers`] and [`losses`] carries such a check.
//!
//! # Reading the backward pass
//!
//! The rustdoc of `dense_tanh_backward` (run `cargo doc --open`) shows the generated
//! backward, each statement under the forward line it comes from; at run time the
//! same text is `dense_tanh_dyn::<f32>().backward_source`:
//!
//! ```text
//! // line 4: tanh(z)
//! let d_z = ops::tanh_backward(&saved.out, &d_out);
//! // line 3: let z = x.dot(&w) + &b;
//! let d_x_dot_w = ops::sum_to(&d_z, saved.x_dot_w_shape);
//! let d_b = ops::sum_to(&d_z, saved.b_shape);
//! let d_x = ops::dot_mt(&d_x_dot_w, &saved.w);
//! let d_w = ops::dot_tm(&saved.x, &d_x_dot_w);
//! ```
//!
//! Read it bottom-up against the forward: `tanh`'s rule reads its output
//! (`1 - y^2`); the bias was broadcast over rows, so its gradient is summed back
//! (`sum_to`); the product's gradients are products with the other operand
//! transposed (`dot_mt` is `a b^T`, `dot_tm` is `a^T b`). Every kernel is in
//! [`ops`], its derivative kernel right beside it.
//!
//! The command-line tool `backprop` (`cargo install --path backprop-cli`, or
//! `cargo run -p backprop-cli -- ...` in this workspace) shows the same from a
//! source file, with the compiler the macro uses:
//!
//! - `backprop expand src/layers.rs --item dense_tanh`: the forward, what
//!   `_train` saves (each value's shape in the inputs' dimensions and its bytes
//!   per sample: the memory plan) and the backward under its forward lines;
//!   `--ir` prints the IR after each pass;
//! - `backprop math src/layers.rs --item dense_tanh`: the backward as math,
//!   `dz = dout * (1 - out^2)`, `dw = x^T dz`;
//! - `backprop graph src/layers.rs --item dense_tanh -o graph.svg` (or `.dot`):
//!   the computational graph, the forward in black, the backward in red, saved
//!   values with a double border.
//!
//! # A backward of your own
//!
//! For a surrogate gradient, a straight-through estimator, or a faster rule
//! written by hand, name your backward in the attribute. It takes what `_train`
//! saved (which then holds every input, `saved.x`, beside what the derived
//! backward needs; an input is kept as an [`ops::SavedArray`], which reads
//! as the array: `&saved.x * &d_out`) and the upstream gradient, and returns
//! the `Grads` struct;
//! `NAME_backward` (and a layer's backward) calls it, and the derived one stays
//! as `NAME_derived_backward`. It must be tested, so it needs `check(..)`: the
//! generated test compares it with the derived backward and with finite
//! differences.
//!
//! ```
//! # use backprop::prelude::*;
//! #[differentiable(backward = scale_by_hand, check(x = [4, 3]))]
//! pub fn scale<T: Real>(x: ArrayView2<T>) -> Array2<T> {
//!     x * 3.0
//! }
//!
//! pub fn scale_by_hand<T: Real>(_: &ScaleSaved<T>, d_out: ArrayView2<'_, T>) -> ScaleGrads<T> {
//!     ScaleGrads { x: &d_out * T::lit(3.0) }
//! }
//! # let (_, saved) = scale_train(ndarray::array![[1.0f64]].view());
//! # assert_eq!(scale_backward(&saved, ndarray::array![[1.0]].view()).x, ndarray::array![[3.0]]);
//! ```
//!
//! A backward that differs from the derivative on purpose must say so with
//! `surrogate` (`backward = straight_through, surrogate`): its test then checks
//! only that every gradient has its input's shape and is finite, and the
//! forward may use ops without a derivative (`round`, `sign`, `floor`).
//! Nothing here trusts a hand-written backward without a test.
//!
//! # Functions calling functions
//!
//! A `#[differentiable]` body calls another `#[differentiable]` function, of
//! this crate or another, like an op: the callee's forward runs, what its
//! `_train` saved is kept in the caller's `Saved`, and its generated backward
//! is chained into the caller's, never re-derived. The macro cannot see the
//! callee's signature, so the call's result type is declared where it is
//! bound (`let h: Array2<T> = ..`, `: T` for a scalar, a tuple pattern with a
//! tuple type for several results) or given by the caller's return type when
//! the call is returned. A constant generated beside the caller checks the
//! call against the callee's signature at compile time: a wrong number of
//! arguments, an argument or declared result of the wrong rank, or a gradient
//! needed through a `#[no_grad]` input is one error at the call, naming both
//! types.
//!
//! ```
//! use backprop::prelude::*;
//!
//! #[differentiable]
//! pub fn linear<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
//!     x.dot(&w) + &b
//! }
//!
//! #[differentiable(check(x = [4, 3], w1 = [3, 5], b1 = [5], w2 = [5, 2], b2 = [2], labels = [4] < 2))]
//! pub fn two_layers<T: Real>(
//!     x: ArrayView2<T>,
//!     w1: ArrayView2<T>,
//!     b1: ArrayView1<T>,
//!     w2: ArrayView2<T>,
//!     b2: ArrayView1<T>,
//!     labels: ArrayView1<usize>,
//! ) -> T {
//!     let z1: Array2<T> = linear(x, w1, b1);
//!     let scores: Array2<T> = linear(relu(z1), w2, b2);
//!     let loss: T = backprop::losses::softmax_cross_entropy(scores, labels);
//!     loss
//! }
//! # let (x, w1, b1) = (Array2::<f64>::ones((4, 3)), Array2::ones((3, 5)), Array1::zeros(5));
//! # let (w2, b2, labels) = (Array2::ones((5, 2)), Array1::zeros(2), ndarray::array![0usize, 1, 1, 0]);
//! # let (_, saved) = two_layers_train(x.view(), w1.view(), b1.view(), w2.view(), b2.view(), labels.view());
//! # assert_eq!(two_layers_backward(&saved, 1.0).w1.shape(), &[3, 5]);
//! ```
//!
//! A name that is not an op is taken for a function; a function named like an
//! op, close to one (`relu2`, `tanhh`), or like a name from NumPy or PyTorch
//! (`log`, `clamp`), is called by its path (`self::log(x)`). To make this work,
//! every generated function `foo` also defines a hidden struct `foo` (structs
//! and functions live in separate namespaces, so `use cells::foo` imports
//! both). A module named `foo` takes the same namespace: beside the function
//! it is a compile error (the name is defined twice), and as `mod foo; pub use
//! foo::*;` it hides the struct from the glob; give such a module another name.
//!
//! # Layers
//!
//! `#[differentiable(layer = Name)]` makes the function the forward of a struct:
//! the function's first input is the layer's input, every other input is read
//! from the field of the same name: a [`Param`] if it takes a gradient, a plain
//! field if it is `#[no_grad]`.
//!
//! ```
//! use backprop::prelude::*;
//! use backprop::{GradCheck, check_layer};
//!
//! pub struct Dense<T: Real> {
//!     pub w: Param<T, Ix2>,
//!     pub b: Param<T, Ix1>,
//! }
//!
//! #[differentiable(layer = Dense)]
//! pub fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
//!     x.dot(&w) + &b
//! }
//!
//! let mut layer = Dense {
//!     w: Param::new(ndarray::array![[1.0, 2.0], [3.0, 4.0]]),
//!     b: Param::new(ndarray::array![0.5, -0.5]),
//! };
//! let x = ndarray::array![[1.0, -1.0]];
//! let (y, saved) = layer.forward_train(&x);
//! let d_x = layer.backward(saved, &Array2::ones(y.raw_dim()));
//! assert_eq!(layer.b.grad, ndarray::array![1.0, 1.0]); // gradients accumulate into the Params
//! assert_eq!(d_x, ndarray::array![[3.0, 7.0]]);
//! check_layer(&mut layer, &x, &GradCheck::default()).assert_passed();
//! ```
//!
//! A layer of several inputs, such as a recurrent step taking `(x, h)`, names
//! them: `#[differentiable(layer = Mix, input = (x, h))]` makes the layer's
//! input the tuple of the function's leading inputs, and its input gradient
//! the tuple of their gradients (`()` for integer ids and `#[no_grad]`
//! inputs); the outputs may be a tuple too. [`check_layer`] checks every input
//! and every parameter.
//!
//! # Recurrences
//!
//! `#[differentiable(cell = Name)]` makes a step `(x, h_prev, fields..) -> h`
//! (or `(x, h_prev, c_prev, fields..) -> (h, c)`) a [`layers::Cell`];
//! [`layers::Recurrent`] runs it over `[time, batch, features]` sequences from
//! a learned initial state, with backpropagation through time:
//!
//! ```
//! use backprop::layers::Recurrent;
//! use backprop::prelude::*;
//!
//! pub struct Elman<T: Real> {
//!     pub wx: Param<T, Ix2>,
//!     pub wh: Param<T, Ix2>,
//! }
//!
//! #[differentiable(cell = Elman)]
//! pub fn elman_step<T: Real>(x: ArrayView2<T>, h_prev: ArrayView2<T>, wx: ArrayView2<T>, wh: ArrayView2<T>) -> Array2<T> {
//!     tanh(x.dot(&wx) + h_prev.dot(&wh))
//! }
//!
//! let cell = Elman {
//!     wx: Param::new(Array2::<f64>::ones((3, 4)) * 0.1),
//!     wh: Param::new(Array2::eye(4) * 0.5),
//! };
//! let mut layer = Recurrent::new(cell, 4);
//! let xs = Array3::<f64>::ones((6, 2, 3)); // 6 steps, a batch of 2
//! let (hs, saved) = layer.forward_train(&xs);
//! let d_xs = layer.backward(saved, &Array3::ones(hs.raw_dim()));
//! assert_eq!((hs.shape(), d_xs.shape()), (&[6, 2, 4][..], &[6, 2, 3][..]));
//! ```
//!
//! For an initial state per sample, call [`layers::unroll`] and
//! [`layers::backprop_through_time`] on the cell itself; they also return the
//! initial state's gradient.
//!
//! # Training
//!
//! Layers chain in a [`model::Sequential`]; [`train`] has the loop around it
//! (zero the gradients, forward, loss, backward, clip, update) over minibatches,
//! evaluation, and checkpoints that carry the optimizer's state. The examples use
//! it: `cargo run --release --example train_digits` trains a digit classifier in
//! under a second, and `--example adding_lstm` an LSTM on the adding problem.
//!
//! # The language
//!
//! The body is `let` bindings and a final expression (or a tuple of expressions).
//! Inputs are float arrays of rank 0 to 6 (`ArrayView2<T>`, `&Array2<T>`,
//! `Array2<T>`), float scalars `T`, `usize` arrays (labels, actions, ids) and
//! `usize` sizes. Outputs are owned float arrays or `T`.
//!
//! - Arithmetic `+ - * /` and unary `-` between arrays, scalars and literals, with
//!   NumPy broadcasting; the backward sums gradients back over broadcast axes.
//! - Elementwise: `exp ln sqrt abs powi powf square recip sigmoid tanh relu
//!   leaky_relu elu softplus gelu silu sin cos clip huber` (the table is
//!   [`ops::ELEMENTWISE`]), `maximum(a, b)`, `minimum(a, b)`, and
//!   `where_(cond, a, b)` with a comparison as `cond`.
//! - `a.dot(&b)` for 2-D x 2-D, 2-D x 1-D, 1-D x 2-D and 1-D x 1-D; `a.t()`;
//!   `matmul(a, &b)` for batches, `[b, n, k] x [b, k, m]` and `[b, n, k] x [k, m]`.
//! - `sum`, `mean`; over an axis `sum_axis`, `mean_axis`, `max_axis`, `logsumexp`,
//!   `softmax`, `log_softmax` (stable forms, fused derivatives); `insert_axis`.
//! - `pick(q, &a)` (`q[i, a[i]]`), `rows(table, &ids)`, and the general gather
//!   `take_along_axis(x, &idx, Axis(k))` (NumPy's; `idx` has `x`'s rank, length-1
//!   axes broadcast), `x.slice_axis(Axis(k), a..b)`
//!   with `usize` bounds, `concatenate(Axis(k), &[&a, &b])`. Sizes: `x.len_of(Axis(k))`,
//!   `x.nrows()`, `x.ncols()`, `usize` inputs, and `+ - * /` between them and integer
//!   literals (`let h = x.len_of(Axis(1)) / 4;`).
//! - Images `[n, c, h, w]`: `conv2d(x, w, stride, pad)` with kernels `[f, c, kh, kw]`,
//!   `max_pool2(x)` (2x2 windows, stride 2), `flatten(x)`.
//! - `stop_gradient(x)`; `#[no_grad]` on a float input; integer inputs never take
//!   gradients. `sign`, `floor` and `round` have no derivative: using them where a
//!   gradient flows is a compile error.
//! - `powi(x, n)` takes an integer `n` (a literal or a `usize` input); `clip`'s
//!   bounds must be in order and `huber`'s `delta` positive.
//! - `softmax`, `log_softmax` and `logsumexp` over a lane that is entirely `-inf`
//!   (every entry masked out) give 0, `-inf` and `-inf`, with finite gradients.
//! - An input the outputs do not depend on gets a zero gradient, and the
//!   `unused_input` warning.
//!
//! # Warnings
//!
//! Lints warn about code that compiles but is probably not what was meant, at the
//! offending token with a `help:`. Each is allowed or made an error per function:
//! `#[differentiable(allow(unused_let), deny(unused_input))]`. Their names:
//!
//! - `unused_input`: an input no output depends on;
//! - `unused_let`: a binding nothing reads;
//! - `clip_zero_gradient`: a `clip`, `minimum` or `maximum` with a constant bound
//!   between a parameter and a scalar loss, whose gradient is exactly zero
//!   wherever the bound takes over (the DQN bug:
//!   `clip(target - q, -1.0, 1.0).square().mean()`; write `huber(target - q, 1.0)`);
//! - `unstable_log`: `ln(softmax(..))` or `ln(sigmoid(..))`, `-inf` with a NaN
//!   gradient once the probability rounds to zero (write `log_softmax`, or
//!   `-softplus(-x)`);
//! - `unbounded_exp`: `exp` of a value nothing bounds above, which overflows
//!   (subtract the maximum first, or use `softmax`/`logsumexp`); a sign-aware
//!   range analysis knows that `tanh(x)`, `-x.square()`, `-softplus(x)` and
//!   `x - max_axis(x, ..)` are bounded above;
//! - `singular_at_zero`: `sqrt`, `ln`, `recip` or a division of a value that is
//!   never negative but reaches 0, between a parameter and an output (a norm
//!   without an epsilon: `sqrt(x.square().sum())`), whose gradient is then inf
//!   or NaN (write `sqrt(x.square().sum() + 1e-12)`);
//! - `nan_through_where`: `sqrt`, `ln`, `recip` or a division inside a `where_`
//!   branch, whose NaN derivative where the branch is not taken leaks into the
//!   gradient as 0 * NaN (guard the argument too:
//!   `where_(x > 0.0, sqrt(where_(x > 0.0, x, 1.0)), 0.0)`).
//!
//! On stable Rust they reach you through rustc's `deprecated` lint,
//! as "use of deprecated unit struct `f::_::unused_input`" followed by the message.
//!
//! `Axis` inside a body needs no import (it is also in the [`prelude`]).
//!
//! A shape mismatch at run time panics with the op, the source expression and
//! its location, and both shapes.
//!
//! # Finding where a NaN comes from
//!
//! `backprop::ops::set_non_finite_guard(true)` turns on, for the calling
//! thread, a check after every array a generated function computes: the first
//! NaN or infinity stops the call with a panic that names the value, the op
//! (or every expression of a fused loop, each with its line and column), the
//! forward expression (in the backward: the expression whose derivative it is
//! part of), its file, line and column, the operands' shapes and how many
//! elements are not finite; a non-finite input or upstream gradient is named as
//! such. Off (the default) it costs a thread-local read per array, no pass
//! over the data.
//!
//! # Watching training: the monitors and the doctor
//!
//! A [`monitor::Monitor`] attached to a model measures, while it trains, what
//! makes backpropagation fail silently: saturated sigmoid and tanh layers, ReLU
//! units that never fire, the gradient norm and the update-to-weight ratio of
//! every parameter, the gradient at each step of backpropagation through time,
//! and steps with a NaN gradient. Its report is the doctor's findings, each with
//! what was measured, the threshold, where, since when, and the advice:
//!
//! ```
//! use backprop::data::{DIGITS_MAX_PIXEL, digits};
//! use backprop::layers::{Affine, Relu};
//! use backprop::model::Sequential;
//! use backprop::monitor::FindingKind;
//! use backprop::optim::Momentum;
//! use backprop::train::{EpochOptions, shuffle_rng, train_epoch};
//! use backprop::SeededRng;
//!
//! let data = digits::<f32>().divide_features(f32::from(DIGITS_MAX_PIXEL));
//! let mut rng = SeededRng::new(0);
//! let mut model = Sequential::new();
//! model
//!     .push("fc1", Affine::new(64, 128, &mut rng))
//!     .push("relu", Relu::new())
//!     .push("fc2", Affine::new(128, 10, &mut rng));
//! // A learning rate far too high: it knocks most ReLU units over for good.
//! let mut sgd = Momentum::new(1.0);
//! let options = EpochOptions::new(64).monitor();
//! for epoch in 0..3 {
//!     let mut shuffle = shuffle_rng(0, epoch);
//!     train_epoch(&mut model, &mut sgd, &data.features, &data.labels, &options, &mut shuffle, &mut |_| {});
//! }
//! let report = model.monitor().unwrap().report();
//! assert!(report.has(FindingKind::DeadRelu, "relu"), "{report}");
//! println!("{report}"); // the table; report.to_json() is the same as JSON
//! ```
//!
//! The examples `leak_saturation`, `leak_dead_relu`, `leak_rnn_gradients` and
//! `leak_dqn_clip` reproduce each failure, show the findings, and with `--fix`
//! apply the advice. Without a monitor nothing is measured and the generated
//! code is the same.
//!
//! # Threads
//!
//! A fused loop with a transcendental function (`exp`, `tanh`, `ln`, ...) over a
//! big array is split over rayon's thread pool (one thread per core, or
//! `RAYON_NUM_THREADS`); [`ops::set_loop_threads`] sets how many it uses (`1`:
//! the calling thread only). The results are the same bits on any number of
//! threads. Loops of plain arithmetic, which memory bounds, and matrix products
//! run on one thread.
#![forbid(unsafe_code)]

pub use backprop_core::*;
pub use backprop_macros::differentiable;

/// Everything a layer author needs in scope.
pub mod prelude {
    pub use crate::differentiable;
    pub use backprop_core::ndarray::{
        Array, Array0, Array1, Array2, Array3, Array4, ArrayView, ArrayView0, ArrayView1,
        ArrayView2, ArrayView3, ArrayView4, Axis, Ix0, Ix1, Ix2, Ix3, Ix4,
    };
    pub use backprop_core::{Layer, Param, Parameters, Real};
}
