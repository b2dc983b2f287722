//! A user's crate: it depends on `backprop` alone (not on `ndarray`, not on the
//! runtime crates), defines its own differentiable function and layer, and uses
//! them. If generated code named anything the facade does not re-export, this
//! crate would not compile.
#![forbid(unsafe_code)]

use backprop::prelude::*;

/// A gated linear unit: `(x w) * sigmoid(x v)`.
#[differentiable]
pub fn glu<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, v: ArrayView2<T>) -> Array2<T> {
    x.dot(&w) * sigmoid(x.dot(&v))
}

/// The same computation as a layer with parameters `w` and `v`.
pub struct Glu<T: Real> {
    /// The value projection.
    pub w: Param<T, Ix2>,
    /// The gate projection.
    pub v: Param<T, Ix2>,
}

/// The layer's forward pass; `w` and `v` come from the struct's fields.
#[differentiable(layer = Glu)]
pub fn glu_layer<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, v: ArrayView2<T>) -> Array2<T> {
    x.dot(&w) * sigmoid(x.dot(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::ndarray::array;
    use backprop::{DynValue, GradCheck, check_function, check_layer};

    #[test]
    fn the_function_and_the_layer_have_correct_gradients() {
        let x = array![[0.5, -1.0], [1.5, 0.25]];
        let w = array![[0.3, -0.2, 0.1], [0.7, 0.4, -0.6]];
        let v = array![[-0.5, 0.2, 0.9], [0.1, -0.3, 0.4]];
        let inputs = [x.clone(), w.clone(), v.clone()].map(|a| DynValue::Float(a.into_dyn()));
        check_function(&glu_dyn::<f64>(), &inputs, &GradCheck::default()).assert_passed();

        let mut layer = Glu {
            w: Param::new(w),
            v: Param::new(v),
        };
        check_layer(&mut layer, &x, &GradCheck::default()).assert_passed();
    }
}

/// The runtime under another name, as after renaming the dependency.
pub mod renamed {
    use backprop as bp;
    use bp::prelude::*;

    /// `crate = bp` makes the generated code name the runtime through `bp`.
    #[differentiable(crate = bp)]
    pub fn scaled_tanh<T: Real>(x: ArrayView1<T>) -> Array1<T> {
        tanh(x) * 2.0
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_crate_option_names_the_runtime() {
            let (y, saved) = scaled_tanh_train(bp::ndarray::array![0.0, 1.0].view());
            assert_eq!(y[0], 0.0);
            let grads = scaled_tanh_backward(&saved, bp::ndarray::array![1.0, 0.0].view());
            assert_eq!(grads.x[0], 2.0);
        }
    }
}

/// Calls across crates: this crate's `glu` and the runtime's `affine` and
/// `softmax_cross_entropy`, each chained through its generated backward.
pub mod calls {
    use backprop::prelude::*;

    /// A GLU block then a linear read-out and the loss, from three callees.
    #[differentiable(check(x = [4, 2], w = [2, 3], v = [2, 3], wo = [3, 2], bo = [2], labels = [4] < 2))]
    pub fn glu_classifier<T: Real>(
        x: ArrayView2<T>,
        w: ArrayView2<T>,
        v: ArrayView2<T>,
        wo: ArrayView2<T>,
        bo: ArrayView1<T>,
        labels: ArrayView1<usize>,
    ) -> T {
        let h: Array2<T> = super::glu(x, w, v);
        let scores: Array2<T> = backprop::layers::affine(h, wo, bo);
        backprop::losses::softmax_cross_entropy(scores, labels)
    }
}
