//! Layers: a training forward that keeps what the backward needs, a backward that
//! accumulates parameter gradients, and named parameters for optimizers and checkpoints.

use ndarray::{Array, ArrayRef, ArrayViewMutD, Dimension};

use crate::Real;

/// A trainable array and the gradient accumulated for it.
///
/// `grad` always has the shape of `value`. Backward passes add into it
/// (gradients accumulate); optimizers read it and [`Param::zero_grad`] clears it.
#[derive(Clone, Debug, PartialEq)]
pub struct Param<T, D: Dimension> {
    /// The current value.
    pub value: Array<T, D>,
    /// The gradient accumulated since the last [`Param::zero_grad`].
    pub grad: Array<T, D>,
}

impl<T: Real, D: Dimension> Param<T, D> {
    /// A parameter with the given value and a zero gradient.
    pub fn new(value: Array<T, D>) -> Self {
        let grad = Array::zeros(value.raw_dim());
        Param { value, grad }
    }

    /// Adds `g` to the accumulated gradient.
    ///
    /// # Panics
    /// If `g` does not have the shape of the parameter.
    pub fn accumulate(&mut self, g: &ArrayRef<T, D>) {
        assert_eq!(
            self.grad.shape(),
            g.shape(),
            "gradient shape {:?} does not match parameter shape {:?}",
            g.shape(),
            self.grad.shape()
        );
        self.grad.zip_mut_with(g, |a, &b| *a += b);
    }

    /// Sets the accumulated gradient to zero.
    pub fn zero_grad(&mut self) {
        self.grad.fill(T::zero());
    }

    /// A view of value and gradient with a name, as [`Parameters::visit_params`] hands out.
    pub fn as_param_mut<'a>(&'a mut self, name: &'a str) -> ParamMut<'a, T> {
        ParamMut {
            name,
            value: self.value.view_mut().into_dyn(),
            grad: self.grad.view_mut().into_dyn(),
        }
    }
}

/// One trainable parameter as seen by an optimizer or a checkpoint: its full name,
/// its value and its gradient, both of dynamic rank.
#[derive(Debug)]
pub struct ParamMut<'a, T> {
    /// The name, unique within the model (`"w"`, `"0.w"`, `"fc1.b"`).
    pub name: &'a str,
    /// The value, to read or update in place.
    pub value: ArrayViewMutD<'a, T>,
    /// The accumulated gradient.
    pub grad: ArrayViewMutD<'a, T>,
}

/// Something that owns named trainable parameters and, optionally, named state
/// that is saved but not trained (running statistics, for example).
///
/// Generated layers implement it; a hand-written layer derives it from its
/// fields with `#[derive(Parameters)]` (every `Param` field under its name,
/// `#[param(nested)]` for a layer inside it, `#[param(buffer)]` for a saved
/// array, `#[param(skip)]`):
///
/// ```
/// # extern crate backprop_core as backprop;
/// use backprop::layers::BatchNorm;
/// use backprop::{Param, Parameters, Real};
/// use ndarray::{Array1, Ix2};
///
/// #[derive(Parameters)]
/// struct Block<T: Real> {
///     w: Param<T, Ix2>,
///     #[param(nested)]
///     norm: BatchNorm<T>,
///     #[param(buffer)]
///     scale: Array1<T>,
///     #[param(skip)]
///     frozen: Param<T, Ix2>,
/// }
///
/// let mut block = Block::<f32> {
///     w: Param::new(ndarray::Array2::zeros((2, 3))),
///     norm: BatchNorm::new(3),
///     scale: Array1::ones(3),
///     frozen: Param::new(ndarray::Array2::zeros((3, 3))),
/// };
/// let (mut params, mut buffers) = (Vec::new(), Vec::new());
/// block.visit_params(&mut |p| params.push(p.name.to_string()));
/// block.visit_buffers(&mut |name, _| buffers.push(name.to_string()));
/// assert_eq!(params, ["w", "norm.gamma", "norm.beta"]);
/// assert_eq!(buffers, ["norm.running_mean", "norm.running_var", "scale"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no named parameters (`Parameters<{T}>` is not implemented for it)",
    note = "derive them from its fields with `#[derive(Parameters)]`, or implement `Parameters<{T}>` by hand"
)]
pub trait Parameters<T: Real> {
    /// Calls `f` once for each trainable parameter, in a stable order, with a name
    /// unique within `self`.
    fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>));

    /// Calls `f` once for each non-trainable state array (name, value), in a stable
    /// order. Checkpoints save and restore these too. The default has none.
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        let _ = f;
    }

    /// Sets every accumulated gradient to zero.
    fn zero_grad(&mut self) {
        self.visit_params(&mut |mut p| p.grad.fill(T::zero()));
    }

    /// The number of trainable scalars.
    fn num_params(&mut self) -> usize {
        let mut n = 0;
        self.visit_params(&mut |p| n += p.value.len());
        n
    }
}

/// Visits the parameters of `inner` with names `{prefix}.{name}`: how a model
/// names its layers' parameters (`fc1.w`) and what `#[param(nested)]` makes of a
/// field (`block.fc1.w`).
pub fn visit_params_under<T: Real, P: Parameters<T> + ?Sized>(
    prefix: &str,
    inner: &mut P,
    f: &mut dyn FnMut(ParamMut<'_, T>),
) {
    inner.visit_params(&mut |p| {
        let name = format!("{prefix}.{}", p.name);
        f(ParamMut {
            name: &name,
            value: p.value,
            grad: p.grad,
        });
    });
}

/// Visits the buffers of `inner` with names `{prefix}.{name}`, as
/// [`visit_params_under`] does the parameters.
pub fn visit_buffers_under<T: Real, P: Parameters<T> + ?Sized>(
    prefix: &str,
    inner: &mut P,
    f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>),
) {
    inner.visit_buffers(&mut |name, value| f(&format!("{prefix}.{name}"), value));
}

/// `inner` as something with parameters: what `#[derive(Parameters)]` calls on
/// a `#[param(nested)]` field, so that a field without them is one error at its
/// type.
pub fn nested_mut<T: Real, P: Parameters<T>>(inner: &mut P) -> &mut dyn Parameters<T> {
    inner
}

/// A field `#[derive(Parameters)]` can hand out as a buffer (`#[param(buffer)]`):
/// an array of any rank.
#[diagnostic::on_unimplemented(
    message = "a `#[param(buffer)]` field is an array of `{T}`, and this one is a `{Self}`",
    label = "not an array of `{T}`",
    note = "a buffer is an `Array<{T}, D>` (`Array1<{T}>`: running statistics) that checkpoints save and optimizers leave alone; remove `#[param(buffer)]` from a field of another type"
)]
pub trait BufferField<T> {
    /// The array, as [`Parameters::visit_buffers`] hands it out.
    fn buffer_mut(&mut self) -> ArrayViewMutD<'_, T>;
}

impl<T, D: Dimension> BufferField<T> for Array<T, D> {
    fn buffer_mut(&mut self) -> ArrayViewMutD<'_, T> {
        self.view_mut().into_dyn()
    }
}

/// An elementwise activation a layer's output can be, with what its local
/// derivative is as a function of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `z = sigmoid(x)`: derivative `z (1 - z)`, at most 1/4.
    Sigmoid,
    /// `z = tanh(x)`: derivative `1 - z^2`, at most 1.
    Tanh,
    /// `z = max(x, 0)`: derivative 1 where `z > 0`, else 0.
    Relu,
}

impl Activation {
    /// The local derivative at output `z`, divided by its largest value, so that
    /// 1 means the gradient passes unchanged and 0 that it stops (`4 z (1 - z)`
    /// for a sigmoid, `1 - z^2` for tanh, 0 or 1 for a ReLU).
    pub fn relative_slope(self, z: f64) -> f64 {
        match self {
            Activation::Sigmoid => 4.0 * z * (1.0 - z),
            Activation::Tanh => 1.0 - z * z,
            Activation::Relu => f64::from(u8::from(z > 0.0)),
        }
    }

    /// The outputs `[lo, hi]` whose [relative slope](Activation::relative_slope)
    /// is at least `slope` (in `(0, 1]`): outside it, the unit is saturated. For a
    /// ReLU, every positive output.
    pub fn unsaturated_range(self, slope: f64) -> (f64, f64) {
        let slope = slope.clamp(0.0, 1.0);
        match self {
            // 4 z (1 - z) = s at z = (1 -+ sqrt(1 - s)) / 2.
            Activation::Sigmoid => {
                let r = (1.0 - slope).sqrt() / 2.0;
                (0.5 - r, 0.5 + r)
            }
            // 1 - z^2 = s at z = -+ sqrt(1 - s).
            Activation::Tanh => {
                let r = (1.0 - slope).sqrt();
                (-r, r)
            }
            Activation::Relu => (f64::MIN_POSITIVE, f64::INFINITY),
        }
    }

    /// The name in the language (`"sigmoid"`, `"tanh"`, `"relu"`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }
}

/// A layer: a forward pass, a training forward that keeps what the backward needs,
/// and a backward that accumulates parameter gradients and returns the input gradient.
///
/// Layers written with `#[differentiable(layer = Name)]` get this implementation
/// generated; layers with state that changes in training (batch norm, dropout)
/// implement it by hand around generated functions, and take their
/// [`Parameters`] from `#[derive(Parameters)]`.
///
/// # Evaluation and training
///
/// There is no mode to switch: the method says which pass runs, for a layer and
/// for a [`Sequential`](crate::model::Sequential) (which is a layer) alike.
///
/// - [`Layer::forward`] (`&self`) is the evaluation forward: it changes
///   nothing (dropout is the identity, batch norm reads its running
///   statistics) and keeps nothing. A model's `forward` and `predict` run it
///   in every layer.
/// - [`Layer::forward_train`] (`&mut self`) is the training forward: it may
///   update state (batch norm's running statistics, dropout's generator) and
///   returns what [`Layer::backward`] needs. A model's `forward_train` runs it
///   in every layer and keeps their saved values for its `backward`.
pub trait Layer<T: Real>: Parameters<T> {
    /// What the layer takes (an owned array type such as `Array2<T>`).
    type Input;
    /// What the layer produces.
    type Output;
    /// The gradient returned for the input: the input's array type, or `()` for
    /// inputs that take no gradient (integer indices).
    type InputGrad;
    /// The values the backward pass needs, kept by [`Layer::forward_train`].
    type Saved;

    /// The activation the layer's output is, if it ends in one: what a
    /// [`Monitor`](crate::monitor::Monitor) reads of it (saturated units, dead
    /// units). Generated layers whose last op is `sigmoid`, `tanh` or `relu` set
    /// it; the default is `None`.
    const ACTIVATION: Option<Activation> = None;

    /// The forward pass in evaluation mode.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// The forward pass in training mode: the output and what the backward needs.
    fn forward_train(&mut self, x: &Self::Input) -> (Self::Output, Self::Saved);

    /// [`Layer::forward`] from a view of a float input, where the layer takes
    /// one without a copy, as [`Layer::forward_train_view`]; `None` by default.
    fn forward_view(&self, x: ndarray::ArrayViewD<'_, T>) -> Option<Self::Output> {
        let _ = x;
        None
    }

    /// [`Layer::forward_train`] from a view of a float input, where the layer
    /// takes one without a copy (a generated layer whose input is an
    /// `ArrayView`): how a model hands its input to its first layer. `None`, the
    /// default, when it cannot (another rank, or a layer that needs its input
    /// owned); the model then copies the input.
    fn forward_train_view(
        &mut self,
        x: ndarray::ArrayViewD<'_, T>,
    ) -> Option<(Self::Output, Self::Saved)> {
        let _ = x;
        None
    }

    /// Accumulates parameter gradients for upstream gradient `d_out` and returns the
    /// gradient of the input.
    fn backward(&mut self, saved: Self::Saved, d_out: &Self::Output) -> Self::InputGrad;

    /// Accumulates parameter gradients for upstream gradient `d_out`, without
    /// computing the input's gradient: what a model runs for its first layer,
    /// whose input gradient nobody reads (for an `Affine`, one matrix product of
    /// three). Generated layers skip the input gradient's statements; the
    /// default calls [`Layer::backward`] and drops its result.
    fn backward_params(&mut self, saved: Self::Saved, d_out: &Self::Output) {
        let _ = self.backward(saved, d_out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop_macros::differentiable;
    use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Ix1, Ix2, array};

    /// A layer whose parameters are fields named like the function's inputs.
    struct Affine<T: Real> {
        w: Param<T, Ix2>,
        b: Param<T, Ix1>,
    }

    #[differentiable(layer = Affine)]
    fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
        x.dot(&w) + &b
    }

    #[test]
    fn generated_layer_accumulates_parameter_gradients() {
        let mut layer = Affine {
            w: Param::new(array![[1.0, 2.0], [3.0, 4.0]]),
            b: Param::new(Array1::zeros(2)),
        };
        let x = array![[1.0, 1.0]];
        let (y, saved) = layer.forward_train(&x);
        assert_eq!(y, array![[4.0, 6.0]]);
        let dx = layer.backward(saved.clone(), &array![[1.0, 0.0]]);
        assert_eq!(dx, array![[1.0, 3.0]]);
        layer.backward(saved, &array![[1.0, 0.0]]);
        // Gradients accumulate over two backward passes.
        assert_eq!(layer.w.grad, array![[2.0, 0.0], [2.0, 0.0]]);
        assert_eq!(layer.b.grad, array![2.0, 0.0]);
        let mut names = Vec::new();
        layer.visit_params(&mut |p| names.push(p.name.to_string()));
        assert_eq!(names, ["w", "b"]);
        let _: Array2<f64> = layer.forward(&x);
    }
}

#[cfg(test)]
mod activation_tests {
    use super::*;
    use crate::layers::{Affine, LeakyRelu, Relu, Sigmoid, Tanh};
    use backprop_macros::differentiable;
    use ndarray::{Array2, ArrayView1, ArrayView2};

    struct Dense<T: Real> {
        w: Param<T, ndarray::Ix2>,
        b: Param<T, ndarray::Ix1>,
    }

    /// A layer that ends in a ReLU after fusion: its last op is still read as one.
    #[differentiable(layer = Dense)]
    fn dense<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
        relu(x.dot(&w) + &b)
    }

    #[test]
    fn generated_layers_say_which_activation_their_output_is() {
        assert_eq!(
            <Relu<f32> as Layer<f32>>::ACTIVATION,
            Some(Activation::Relu)
        );
        assert_eq!(
            <Sigmoid<f32> as Layer<f32>>::ACTIVATION,
            Some(Activation::Sigmoid)
        );
        assert_eq!(
            <Tanh<f64> as Layer<f64>>::ACTIVATION,
            Some(Activation::Tanh)
        );
        assert_eq!(
            <Dense<f32> as Layer<f32>>::ACTIVATION,
            Some(Activation::Relu)
        );
        assert_eq!(<Affine<f32> as Layer<f32>>::ACTIVATION, None);
        // A leaky ReLU never stops the gradient: not read as a ReLU.
        assert_eq!(<LeakyRelu<f32> as Layer<f32>>::ACTIVATION, None);
        let layer = Dense::<f32> {
            w: Param::new(Array2::zeros((1, 1))),
            b: Param::new(ndarray::Array1::zeros(1)),
        };
        let _ = layer.forward(&Array2::zeros((1, 1)));
    }

    #[test]
    fn relative_slopes_are_one_at_the_steepest_point_and_vanish_when_saturated() {
        assert_eq!(Activation::Sigmoid.relative_slope(0.5), 1.0);
        assert_eq!(Activation::Tanh.relative_slope(0.0), 1.0);
        assert!(Activation::Sigmoid.relative_slope(0.999) < 0.01);
        assert!(Activation::Tanh.relative_slope(-0.999) < 0.01);
        assert_eq!(Activation::Relu.relative_slope(0.0), 0.0);
        assert_eq!(Activation::Relu.relative_slope(2.0), 1.0);
    }
}

#[cfg(test)]
mod parameterless_tests {
    use super::*;
    use backprop_macros::differentiable;
    use ndarray::{Array2, ArrayView2, array};

    /// A layer with no parameters and no float type parameter.
    struct Square;

    #[differentiable(layer = Square<>)]
    fn square_layer<T: Real>(x: ArrayView2<T>) -> Array2<T> {
        x.square()
    }

    #[test]
    fn a_struct_without_generics_is_a_layer_for_every_float_type() {
        let mut layer = Square;
        let (y, saved) = Layer::<f32>::forward_train(&mut layer, &array![[3.0f32]]);
        assert_eq!(y, array![[9.0]]);
        let d: Array2<f32> = layer.backward(saved, &array![[1.0]]);
        assert_eq!(d, array![[6.0]]);
        assert_eq!(Parameters::<f64>::num_params(&mut layer), 0);
    }
}

#[cfg(test)]
mod derive_tests {
    use super::*;
    use crate::layers::{Affine, BatchNorm, Dropout, Lstm, Rnn};
    // The trait and the derive, as users import them.
    use crate::{Parameters, SeededRng, checkpoint};
    use ndarray::{Array1, Array2, Ix1, Ix2, array};

    /// Every name [`Parameters`] hands out: parameters, then buffers.
    fn names<T: Real>(p: &mut impl Parameters<T>) -> (Vec<String>, Vec<String>) {
        let (mut params, mut buffers) = (Vec::new(), Vec::new());
        p.visit_params(&mut |p| params.push(p.name.to_string()));
        p.visit_buffers(&mut |name, _| buffers.push(name.to_string()));
        (params, buffers)
    }

    /// A block with every kind of field, in an order that mixes them.
    #[derive(Parameters)]
    struct Block<T: Real> {
        #[param(buffer)]
        scale: Array1<T>,
        w: Param<T, Ix2>,
        #[param(nested)]
        norm: BatchNorm<T>,
        #[param(skip)]
        frozen: Param<T, Ix1>,
        eps: T,
        b: crate::Param<T, Ix1>,
    }

    fn block() -> Block<f64> {
        Block {
            scale: array![1.0, 2.0],
            w: Param::new(array![[1.0, 2.0], [3.0, 4.0]]),
            norm: BatchNorm::new(2),
            frozen: Param::new(array![5.0]),
            eps: 1e-5,
            b: Param::new(array![6.0, 7.0]),
        }
    }

    #[test]
    fn derived_names_follow_the_fields_with_nested_ones_prefixed() {
        let mut block = block();
        let (params, buffers) = names(&mut block);
        assert_eq!(params, ["w", "norm.gamma", "norm.beta", "b"]);
        assert_eq!(buffers, ["scale", "norm.running_mean", "norm.running_var"]);
        // The skipped Param and the scalar are not counted.
        assert_eq!(block.num_params(), 4 + 2 + 2 + 2);
        assert_eq!(block.eps, 1e-5);
        assert_eq!(block.frozen.value, array![5.0]);
    }

    #[test]
    fn derived_views_are_the_fields_themselves() {
        let mut block = block();
        block.visit_params(&mut |mut p| {
            if p.name == "norm.beta" {
                p.value.fill(3.0);
            }
            p.grad.fill(1.0);
        });
        block.visit_buffers(&mut |name, mut v| {
            if name == "scale" {
                v[[1]] = 9.0;
            }
        });
        assert_eq!(block.norm.beta.value, array![3.0, 3.0]);
        assert_eq!(block.w.grad, Array2::<f64>::ones((2, 2)));
        assert_eq!(block.scale, array![1.0, 9.0]);
        // The skipped parameter is left alone.
        assert_eq!(block.frozen.grad, array![0.0]);
        block.zero_grad();
        assert_eq!(block.b.grad, array![0.0, 0.0]);
    }

    /// Without a float type parameter: from the `Param` fields, or named.
    #[derive(Parameters)]
    struct Concrete {
        w: Param<f64, Ix2>,
    }

    #[derive(Parameters)]
    #[parameters(float = f32)]
    struct Named {
        #[param(nested)]
        fc: Affine<f32>,
        #[param(buffer)]
        count: ndarray::Array0<f32>,
    }

    #[test]
    fn the_float_type_is_found_or_named() {
        let mut concrete = Concrete {
            w: Param::new(Array2::zeros((2, 3))),
        };
        assert_eq!(names::<f64>(&mut concrete).0, ["w"]);
        let mut named = Named {
            fc: Affine::new(2, 3, &mut SeededRng::new(0)),
            count: ndarray::arr0(0.0),
        };
        assert_eq!(
            names::<f32>(&mut named),
            (vec!["fc.w".into(), "fc.b".into()], vec!["count".into()])
        );
    }

    #[test]
    fn the_derived_layers_keep_their_checkpoint_names() {
        let mut rng = SeededRng::new(0);
        let none: Vec<String> = Vec::new();
        assert_eq!(
            names::<f32>(&mut BatchNorm::new(3)),
            (
                vec!["gamma".into(), "beta".into()],
                vec!["running_mean".into(), "running_var".into()]
            )
        );
        assert_eq!(
            names::<f32>(&mut Dropout::new(0.5, &mut rng)),
            (none.clone(), none.clone())
        );
        assert_eq!(
            names::<f32>(&mut Rnn::new(2, 3, &mut rng)).0,
            ["wx", "wh", "b", "h0"]
        );
        assert_eq!(
            names::<f32>(&mut Lstm::new(2, 3, &mut rng)).0,
            ["wx", "wh", "b", "h0", "c0"]
        );
    }

    #[test]
    fn a_derived_block_round_trips_through_a_checkpoint() {
        let path = std::env::temp_dir().join(format!(
            "backprop-derive-{}.safetensors",
            std::process::id()
        ));
        let mut saved = block();
        saved.norm.running_mean = array![0.5, -0.5];
        checkpoint::save_checkpoint(&path, &mut saved, &[], &Default::default()).unwrap();
        let mut loaded = block();
        loaded.w.value.fill(0.0);
        loaded.scale.fill(0.0);
        checkpoint::load_checkpoint(&path, &mut loaded).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.w.value, saved.w.value);
        assert_eq!(loaded.scale, saved.scale);
        assert_eq!(loaded.norm.running_mean, array![0.5, -0.5]);
    }
}
