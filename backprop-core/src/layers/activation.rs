//! Elementwise activations, as functions on `[batch, features]` arrays and as
//! layers on arrays of any rank (`[batch, features]`, `[batch, channels,
//! height, width]`, ...). They have no parameters.

use std::fmt;
use std::marker::PhantomData;

use backprop_macros::differentiable;
use ndarray::{Array, Array2, ArrayView2, Dimension, IxDyn};

use crate::{Activation, Layer, Parameters, Real, ops};

/// Defines an activation layer over `Array<T, D>` for every rank `D`: by
/// default `IxDyn`, so one layer takes `[batch, ...]` arrays of any rank (in a
/// model, after a dense layer or a convolution alike). Its loops are those of
/// the generated function of the same name (the same kernels, one thread or
/// split over threads alike), so the two give the same bits.
macro_rules! activation_layer {
    (
        $(#[$doc:meta])*
        $name:ident { $($field:ident: $fty:ty),* }
        activation: $activation:expr,
        function: $function:literal,
        saves: |$this:ident, $x:ident| $saved:expr,
        forward: |$tf:ident, $xf:ident| $forward:expr,
        backward: |$tb:ident, $s:ident, $g:ident| $backward:expr $(,)?
    ) => {
        $(#[$doc])*
        ///
        /// The layer takes `Array<T, D>` of any rank `D`; [`Self::new`] gives
        /// the one over dynamic-rank arrays (`ArrayD<T>`), which goes after any
        /// layer in a [`Sequential`](crate::model::Sequential); name the rank
        #[doc = concat!("(`", stringify!($name), "::<f32, Ix2>`) to call it on `Array2<T>` directly.")]
        #[derive(Parameters)]
        #[parameters(float = T)]
        pub struct $name<T, D = IxDyn> {
            $(
                /// The constant of the activation (not trained).
                pub $field: $fty,
            )*
            rank: PhantomData<fn() -> (T, D)>,
        }

        impl<T, D> Clone for $name<T, D>
        where
            $($fty: Copy,)*
        {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T, D> Copy for $name<T, D> where $($fty: Copy,)* {}

        impl<T, D> fmt::Debug for $name<T, D> where $($fty: fmt::Debug,)* {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))$(.field(stringify!($field), &self.$field))*.finish()
            }
        }

        impl<T, D> PartialEq for $name<T, D> where $($fty: PartialEq,)* {
            fn eq(&self, _other: &Self) -> bool {
                true $(&& self.$field == _other.$field)*
            }
        }

        impl<T: Real, D: Dimension> Layer<T> for $name<T, D> {
            type Input = Array<T, D>;
            type Output = Array<T, D>;
            type InputGrad = Array<T, D>;
            type Saved = Array<T, D>;

            const ACTIVATION: Option<Activation> = $activation;

            fn forward(&self, $xf: &Array<T, D>) -> Array<T, D> {
                let $tf = self;
                $forward
            }

            fn forward_train(&mut self, x: &Array<T, D>) -> (Array<T, D>, Array<T, D>) {
                let y = self.forward(x);
                let ($this, $x) = (&*self, (x, &y));
                let saved = $saved;
                (y, saved)
            }

            fn backward(&mut self, $s: Array<T, D>, $g: &Array<T, D>) -> Array<T, D> {
                ops::check_upstream($g, &$s.raw_dim(), $function, "d_out");
                let $tb = &*self;
                $backward
            }
        }
    };
}

activation_layer!(
    /// Rectified linear unit, `y = max(x, 0)` elementwise, as [`relu`] (the
    /// derivative is taken as 0 at 0).
    Relu {}
    activation: Some(Activation::Relu),
    function: "relu",
    saves: |_this, xy| xy.0.clone(),
    forward: |_this, x| ops::zip_map1(x, ops::elem::relu),
    backward: |_this, x, g| ops::zip_map2(&x, g, ops::elem::relu_backward),
);

activation_layer!(
    /// Logistic sigmoid, `y = 1 / (1 + e^-x)` elementwise, as [`sigmoid`].
    Sigmoid {}
    activation: Some(Activation::Sigmoid),
    function: "sigmoid",
    saves: |_this, xy| xy.1.clone(),
    forward: |_this, x| ops::par_zip_map1(x, ops::elem::sigmoid),
    backward: |_this, y, g| ops::zip_map2(&y, g, ops::elem::sigmoid_backward),
);

activation_layer!(
    /// Hyperbolic tangent, `y = tanh(x)` elementwise, as [`tanh`].
    Tanh {}
    activation: Some(Activation::Tanh),
    function: "tanh",
    saves: |_this, xy| xy.1.clone(),
    forward: |_this, x| ops::par_zip_map1(x, ops::elem::tanh),
    backward: |_this, y, g| ops::zip_map2(&y, g, ops::elem::tanh_backward),
);

activation_layer!(
    /// Leaky rectified linear unit: `y = x` where `x > 0`, else `alpha * x`, as
    /// [`leaky_relu`]. It never stops the gradient, so a monitor does not read
    /// it as a ReLU.
    LeakyRelu { alpha: T }
    activation: None,
    function: "leaky_relu",
    saves: |_this, xy| xy.0.clone(),
    forward: |this, x| {
        let alpha = this.alpha;
        ops::zip_map1(x, |x| ops::elem::leaky_relu(x, alpha))
    },
    backward: |this, x, g| {
        let alpha = this.alpha;
        ops::zip_map2(&x, g, |x, g| ops::elem::leaky_relu_backward(x, g, alpha))
    },
);

macro_rules! parameterless_constructors {
    ($($name:ident),*) => {$(
        impl<T> $name<T> {
            /// The layer, over arrays of any rank.
            pub fn new() -> Self {
                $name { rank: PhantomData }
            }
        }

        impl<T, D> Default for $name<T, D> {
            /// The layer, over arrays of rank `D`.
            fn default() -> Self {
                $name { rank: PhantomData }
            }
        }
    )*};
}

parameterless_constructors!(Relu, Sigmoid, Tanh);

impl<T: Real> LeakyRelu<T> {
    /// The layer with slope `alpha` for negative inputs (0.01 is usual), over
    /// arrays of any rank.
    pub fn new(alpha: f64) -> Self {
        Self::with_rank(alpha)
    }
}

impl<T: Real, D> LeakyRelu<T, D> {
    /// The layer with slope `alpha` for negative inputs, over arrays of rank `D`.
    pub fn with_rank(alpha: f64) -> Self {
        LeakyRelu {
            alpha: T::lit(alpha),
            rank: PhantomData,
        }
    }
}

/// `y = max(x, 0)` elementwise. The derivative is taken as 0 at 0.
#[differentiable(check(x = [4, 3]))]
pub fn relu<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    relu(x)
}

/// `y = 1 / (1 + e^-x)` elementwise, computed without overflow.
#[differentiable(check(x = [4, 3]))]
pub fn sigmoid<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    sigmoid(x)
}

/// `y = tanh(x)` elementwise.
#[differentiable(check(x = [4, 3]))]
pub fn tanh<T: Real>(x: ArrayView2<T>) -> Array2<T> {
    tanh(x)
}

/// `y = x` where `x > 0`, else `alpha * x`, elementwise.
#[differentiable(check(x = [4, 3], alpha = 0.1))]
pub fn leaky_relu<T: Real>(x: ArrayView2<T>, #[no_grad] alpha: T) -> Array2<T> {
    leaky_relu(x, alpha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{check, random};
    use ndarray::{Ix2, Ix4};

    /// Standard normal values kept away from the kinks of relu and leaky relu at 0.
    fn away_from_zero<D: Dimension>(x: Array<f64, D>) -> Array<f64, D> {
        x.mapv(|v| if v.abs() < 0.1 { v + 0.3 } else { v })
    }

    #[test]
    fn activations_pass_the_gradient_check_on_any_rank() {
        let x2 = away_from_zero(random((4, 5), 1)).into_dyn();
        let x4 = away_from_zero(random((2, 3, 4, 4), 2)).into_dyn();
        for x in [&x2, &x4] {
            check(&mut Relu::new(), x);
            check(&mut LeakyRelu::new(0.1), x);
            check(&mut Sigmoid::new(), x);
            check(&mut Tanh::new(), x);
        }
        // A layer of a named rank.
        let x = away_from_zero(random((2, 3, 2, 2), 3));
        check(&mut Relu::<f64, Ix4>::default(), &x);
    }

    #[test]
    fn activation_layers_give_the_bits_of_the_generated_functions() {
        let x = random((6, 7), 4) * 3.0;
        let xd = x.clone().into_dyn();
        let d = random((6, 7), 5);
        assert_eq!(Relu::new().forward(&xd), relu(x.view()).into_dyn());
        assert_eq!(Sigmoid::new().forward(&xd), sigmoid(x.view()).into_dyn());
        assert_eq!(Tanh::new().forward(&xd), tanh(x.view()).into_dyn());
        assert_eq!(
            LeakyRelu::new(0.1).forward(&xd),
            leaky_relu(x.view(), 0.1).into_dyn()
        );
        let mut layer = Sigmoid::<f64, Ix2>::default();
        let (_, saved) = layer.forward_train(&x);
        let (_, generated) = sigmoid_train(x.view());
        assert_eq!(
            layer.backward(saved, &d),
            sigmoid_backward(&generated, d.view()).x
        );
        let mut layer = LeakyRelu::<f64, Ix2>::with_rank(0.1);
        let (_, saved) = layer.forward_train(&x);
        let (_, generated) = leaky_relu_train(x.view(), 0.1);
        assert_eq!(
            layer.backward(saved, &d),
            leaky_relu_backward(&generated, d.view()).x
        );
    }

    #[test]
    fn activations_compute_their_formulas() {
        let x = ndarray::array![[-2.0, 0.5]];
        let relu = Relu::<f64, Ix2>::default();
        assert_eq!(relu.forward(&x), ndarray::array![[0.0, 0.5]]);
        assert_eq!(
            LeakyRelu::<f64, Ix2>::with_rank(0.1).forward(&x),
            ndarray::array![[-0.2, 0.5]]
        );
        let s = Sigmoid::<f64, Ix2>::default().forward(&x);
        assert!((s[[0, 1]] - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
        let t = Tanh::new().forward(&x.clone().into_dyn());
        assert!((t[[0, 0]] - (-2.0f64).tanh()).abs() < 1e-15);
    }

    #[test]
    #[should_panic(
        expected = "the upstream gradient `d_out` given to `tanh_backward` has shape [2, 3], but the output has shape [2, 2]"
    )]
    fn a_gradient_of_another_shape_is_named() {
        let mut layer = Tanh::<f64>::new();
        let (_, saved) = layer.forward_train(&random((2, 2), 1).into_dyn());
        layer.backward(saved, &random((2, 3), 2).into_dyn());
    }
}
