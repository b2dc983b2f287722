//! Elementwise activations on `[batch, features]` arrays. They have no parameters.

use std::marker::PhantomData;

use backprop_macros::differentiable;
use ndarray::{Array2, ArrayView2};

use crate::Real;

/// Defines a parameterless layer struct: the float type is its only generic
/// parameter, because the generated `Layer` implementation is generic over it.
macro_rules! parameterless_layer {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<T> {
            float: PhantomData<T>,
        }

        impl<T> $name<T> {
            /// The layer.
            pub fn new() -> Self {
                $name { float: PhantomData }
            }
        }

        impl<T> Default for $name<T> {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

parameterless_layer!(
    /// Rectified linear unit, `y = max(x, 0)` elementwise; see [`relu`].
    Relu
);

parameterless_layer!(
    /// Logistic sigmoid, `y = 1 / (1 + e^-x)` elementwise; see [`sigmoid`].
    Sigmoid
);

parameterless_layer!(
    /// Hyperbolic tangent, `y = tanh(x)` elementwise; see [`tanh`].
    Tanh
);

/// `y = max(x, 0)` elementwise. The derivative is taken as 0 at 0.
#[differentiable(layer = Relu, check(x = [4, 3]))]
pub fn relu<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    relu(x)
}

/// `y = 1 / (1 + e^-x)` elementwise, computed without overflow.
#[differentiable(layer = Sigmoid, check(x = [4, 3]))]
pub fn sigmoid<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    sigmoid(x)
}

/// `y = tanh(x)` elementwise.
#[differentiable(layer = Tanh, check(x = [4, 3]))]
pub fn tanh<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    tanh(x)
}

/// Leaky rectified linear unit: `y = x` where `x > 0`, else `alpha * x`; see [`leaky_relu`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu<T> {
    /// The slope for negative inputs (a constant, not trained).
    pub alpha: T,
}

impl<T: Real> LeakyRelu<T> {
    /// The layer with slope `alpha` for negative inputs (0.01 is usual).
    pub fn new(alpha: f64) -> Self {
        LeakyRelu {
            alpha: T::lit(alpha),
        }
    }
}

/// `y = x` where `x > 0`, else `alpha * x`, elementwise.
#[differentiable(layer = LeakyRelu, check(x = [4, 3], alpha = 0.1))]
pub fn leaky_relu<T: Real>(x: ArrayView2<T>, #[no_grad] alpha: T) -> Array2<T> {
    leaky_relu(x, alpha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;
    use crate::test_util::{check, random};

    #[test]
    fn activations_pass_the_gradient_check() {
        // Inputs kept away from the kinks of relu and leaky relu at 0.
        let x = random((4, 5), 1).mapv(|v: f64| if v.abs() < 0.1 { v + 0.3 } else { v });
        check(&mut Relu::new(), &x);
        check(&mut LeakyRelu::new(0.1), &x);
        check(&mut Sigmoid::new(), &x);
        check(&mut Tanh::new(), &x);
    }

    #[test]
    fn activations_compute_their_formulas() {
        let x = ndarray::array![[-2.0, 0.5]];
        assert_eq!(Relu::new().forward(&x), ndarray::array![[0.0, 0.5]]);
        assert_eq!(
            LeakyRelu::new(0.1).forward(&x),
            ndarray::array![[-0.2, 0.5]]
        );
        let s = Sigmoid::new().forward(&x);
        assert!((s[[0, 1]] - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
        assert!((Tanh::new().forward(&x)[[0, 0]] - (-2.0f64).tanh()).abs() < 1e-15);
    }
}
