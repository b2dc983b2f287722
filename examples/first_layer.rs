//! Your first differentiable layer: write the forward pass, get the backward pass.
//!
//! `cargo run --example first_layer` defines a layer with `#[differentiable]`, runs
//! its forward and backward passes, checks the generated gradients against finite
//! differences in f64, and prints the backward pass the macro wrote.

mod common;

use backprop::ndarray::ArrayViewD;
use backprop::prelude::*;
use backprop::{DynValue, GradCheck, SeededRng, check_function, init};

/// A fully connected layer with a tanh: `tanh(x w + b)`.
#[differentiable]
pub fn dense_tanh<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    let z = x.dot(&w) + &b;
    tanh(z)
}

fn main() {
    common::quiet_on_broken_pipe();
    let mut rng = SeededRng::new(42);
    let x: Array2<f32> = init::normal((4, 3), 1.0, &mut rng);
    let w: Array2<f32> = init::xavier_uniform((3, 2), &mut rng);
    let b = Array1::<f32>::zeros(2);

    // The forward pass, as written.
    let y = dense_tanh(x.view(), w.view(), b.view());
    println!("forward output (f32), shape {:?}:\n{y:.4}\n", y.shape());

    // The training forward keeps what the backward needs; the backward takes the
    // gradient of the loss with respect to the output (here the loss is y.sum()).
    let (_, saved) = dense_tanh_train(x.view(), w.view(), b.view());
    let grads = dense_tanh_backward(&saved, Array2::ones(y.raw_dim()).view());
    println!(
        "d loss / d w:\n{:.4}\nd loss / d b: {:.4}\n",
        grads.w, grads.b
    );

    // The same layer, instantiated in f64, checked against central differences.
    let f = dense_tanh_dyn::<f64>();
    let widen = |a: ArrayViewD<f32>| DynValue::Float(a.mapv(f64::from));
    let inputs = [
        widen(x.view().into_dyn()),
        widen(w.view().into_dyn()),
        widen(b.view().into_dyn()),
    ];
    let report = check_function(&f, &inputs, &GradCheck::default());
    println!("{report}");

    // What the macro generated, statement by statement under the forward line it comes from.
    println!(
        "the generated backward pass of `dense_tanh`:\n\n{}",
        f.backward_source
    );
    println!("Read it in the docs too: `cargo doc --open` and look up `dense_tanh_backward`.");
    assert!(report.passed(), "the gradient check failed");
}
