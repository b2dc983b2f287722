//! A sequential model: layers of any rank chained through dynamic-rank arrays.
//!
//! ```
//! use backprop_core::layers::{Affine, Relu};
//! use backprop_core::model::Sequential;
//! use backprop_core::{Parameters, SeededRng};
//! use ndarray::Array2;
//!
//! let mut rng = SeededRng::new(0);
//! let mut model = Sequential::new();
//! model
//!     .push("fc1", Affine::new(2, 16, &mut rng))
//!     .add(Relu::new())
//!     .push("fc2", Affine::new(16, 3, &mut rng));
//!
//! let x = Array2::<f32>::zeros((8, 2));
//! model.zero_grad();
//! let scores = model.forward_train(&x); // keeps what the backward needs
//! let d_x = model.backward(&scores.mapv(|_| 1.0)); // accumulates every gradient
//! assert_eq!(d_x.shape(), &[8, 2]);
//!
//! // The evaluation forward, as an `Array2` (it panics with the output's shape if it is not 2-D).
//! let scores: Array2<f32> = model.forward_as(&x);
//! assert_eq!(scores.dim(), (8, 3));
//!
//! let mut names = Vec::new();
//! model.visit_params(&mut |p| names.push(p.name.to_string()));
//! assert_eq!(names, ["fc1.w", "fc1.b", "fc2.w", "fc2.b"]);
//! ```

use std::any::{Any, type_name};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ndarray::{Array, ArrayD, ArrayRef, ArrayViewD, ArrayViewMutD, Dimension};

use crate::layer::{visit_buffers_under, visit_params_under};
use crate::monitor::{Monitor, record_through_time};
use crate::{Activation, Layer, ParamMut, Parameters, Real};

/// A value a model passes into a layer: a float array, or integer ids (the
/// input of an [`Embedding`](crate::layers::Embedding) in front of a model).
#[derive(Clone, Debug, PartialEq)]
pub enum ModelValue<T> {
    /// A float array.
    Float(ArrayD<T>),
    /// A `usize` array (token ids, class indices).
    Int(ArrayD<usize>),
}

impl<T> ModelValue<T> {
    fn shape(&self) -> &[usize] {
        match self {
            ModelValue::Float(a) => a.shape(),
            ModelValue::Int(a) => a.shape(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ModelValue::Float(_) => "a float array",
            ModelValue::Int(_) => "an integer array",
        }
    }
}

pub use crate::ops::ArrayElem;

/// What a layer of a model is given: a value of the model's own, or, for the
/// first layer, a view of the caller's input (handed over without a copy
/// where the layer takes a view).
enum Input<'a, T> {
    Value(ModelValue<T>),
    View(ArrayViewD<'a, T>),
}

impl<T: Real> Input<'_, T> {
    fn shape(&self) -> &[usize] {
        match self {
            Input::Value(v) => v.shape(),
            Input::View(v) => v.shape(),
        }
    }

    fn is_ids(&self) -> bool {
        matches!(self, Input::Value(ModelValue::Int(_)))
    }

    fn kind(&self) -> &'static str {
        match self {
            Input::Value(v) => v.kind(),
            Input::View(_) => "a float array",
        }
    }

    /// The value, the view copied.
    fn into_value(self) -> ModelValue<T> {
        match self {
            Input::Value(v) => v,
            Input::View(v) => ModelValue::Float(v.to_owned()),
        }
    }
}

/// A caller's input as a model's first layer is given it: a view of floats
/// (no copy), or the ids.
fn model_input<'a, T: Real, A: ArrayElem<T>, D: Dimension>(x: &'a ArrayRef<A, D>) -> Input<'a, T> {
    match A::float_view(x.view().into_dyn()) {
        Some(v) => Input::View(v),
        None => Input::Value(model_value(x.view().into_dyn().to_owned())),
    }
}

/// A model's input as the value its first layer is given.
fn model_value<T: Real, A: ArrayElem<T>>(a: ArrayD<A>) -> ModelValue<T> {
    match A::as_float(a) {
        Ok(x) => ModelValue::Float(x),
        Err(ids) => ModelValue::Int(ids),
    }
}

/// A layer's input type, as a model hands it over: a float array or an
/// integer array, of one rank.
pub trait LayerInput<T>: Sized {
    /// The rank, `None` for any.
    const RANK: Option<usize>;
    /// What the layer takes, for messages (`a float array`).
    const KIND: &'static str;
    /// Whether it takes ids (`usize`) rather than floats.
    const IDS: bool;
    /// The value as the layer's input, or the value back if it is of another kind.
    fn from_value(v: ModelValue<T>) -> Result<Self, ModelValue<T>>;
}

impl<T: Real, A: ArrayElem<T>, D: Dimension> LayerInput<T> for Array<A, D> {
    const RANK: Option<usize> = D::NDIM;
    const KIND: &'static str = if A::IS_FLOAT {
        "a float array"
    } else {
        "integer ids"
    };
    const IDS: bool = !A::IS_FLOAT;
    fn from_value(v: ModelValue<T>) -> Result<Self, ModelValue<T>> {
        let a = match v {
            ModelValue::Float(x) => A::from_float(x).map_err(ModelValue::Float),
            ModelValue::Int(ids) => A::from_ids(ids).map_err(ModelValue::Int),
        }?;
        Ok(to_rank(a, "the input"))
    }
}

/// A layer's input gradient, as a model passes it back: an array, or nothing
/// for an input that takes none (`()`, an [`Embedding`](crate::layers::Embedding)'s ids).
pub trait LayerInputGrad<T> {
    /// Whether there is one: a layer without can only be a model's first.
    const EXISTS: bool;
    /// The gradient with a dynamic rank, if there is one.
    fn into_grad(self) -> Option<ArrayD<T>>;
}

impl<T: Real, D: Dimension> LayerInputGrad<T> for Array<T, D> {
    const EXISTS: bool = true;
    fn into_grad(self) -> Option<ArrayD<T>> {
        Some(self.into_dyn())
    }
}

impl<T> LayerInputGrad<T> for () {
    const EXISTS: bool = false;
    fn into_grad(self) -> Option<ArrayD<T>> {
        None
    }
}

/// A layer seen through dynamic-rank arrays, so that layers of different ranks can
/// be chained in a [`Sequential`].
///
/// Every [`Layer`] whose output is a float array, whose input is a float or an
/// integer array, and whose input gradient is a float array or `()` implements
/// it, through a blanket implementation: a layer written with
/// `#[differentiable(layer = Name)]` goes into a [`Sequential`] with no extra
/// code, and so does an [`Embedding`](crate::layers::Embedding) (integer ids
/// in, no input gradient) in front of the layers it feeds.
pub trait DynLayer<T: Real>: Parameters<T> {
    /// The rank of the input the layer takes, or `None` for any rank (a
    /// layer over dynamic-rank arrays, such as a [`Sequential`]).
    fn input_rank(&self) -> Option<usize>;

    /// What the layer takes (`a float array`, `integer ids`), for messages.
    fn input_kind(&self) -> &'static str;

    /// Whether it takes ids (`usize`) rather than floats.
    fn takes_ids(&self) -> bool;

    /// Whether its backward gives its input's gradient (an embedding's ids,
    /// or a `#[no_grad]` input, take none): one without can only come first.
    fn gives_input_gradient(&self) -> bool;

    /// The name of the layer's type, for messages.
    fn type_name(&self) -> &'static str;

    /// [`Layer::forward`] (evaluation mode).
    ///
    /// # Panics
    /// If `x` is not of the kind and rank the layer takes.
    fn forward_dyn(&self, x: ModelValue<T>) -> ArrayD<T>;

    /// [`Layer::forward_train`], with the saved values boxed.
    ///
    /// # Panics
    /// If `x` is not of the kind and rank the layer takes.
    fn forward_train_dyn(&mut self, x: ModelValue<T>) -> (ArrayD<T>, Box<dyn Any>);

    /// [`DynLayer::forward_dyn`] from a view of a float input: without a copy
    /// where the layer takes a view ([`Layer::forward_view`]).
    ///
    /// # Panics
    /// As [`DynLayer::forward_dyn`].
    fn forward_view_dyn(&self, x: ArrayViewD<'_, T>) -> ArrayD<T>;

    /// [`DynLayer::forward_train_dyn`] from a view of a float input: without a
    /// copy where the layer takes a view ([`Layer::forward_train_view`]).
    ///
    /// # Panics
    /// As [`DynLayer::forward_train_dyn`].
    fn forward_train_view_dyn(&mut self, x: ArrayViewD<'_, T>) -> (ArrayD<T>, Box<dyn Any>);

    /// [`Layer::backward`], from the values [`DynLayer::forward_train_dyn`]
    /// saved: the input's gradient, `None` for an input that takes none.
    ///
    /// # Panics
    /// If `saved` does not come from this layer's type, or `d_out` has the wrong rank.
    fn backward_dyn(&mut self, saved: Box<dyn Any>, d_out: ArrayD<T>) -> Option<ArrayD<T>>;

    /// [`Layer::backward_params`]: the parameters' gradients only.
    ///
    /// # Panics
    /// As [`DynLayer::backward_dyn`].
    fn backward_params_dyn(&mut self, saved: Box<dyn Any>, d_out: ArrayD<T>);

    /// [`Layer::ACTIVATION`]: what a monitor reads the layer's output as.
    fn activation(&self) -> Option<Activation>;

    /// The layer as [`Any`], to get its concrete type back ([`Sequential::get`]).
    fn as_any(&self) -> &dyn Any;

    /// The layer as mutable [`Any`] ([`Sequential::get_mut`]).
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// `a` as an array of rank `D`, without a copy: the arrays a model passes
/// between its layers are its own.
fn to_rank<A, D: Dimension>(a: ArrayD<A>, what: &str) -> Array<A, D> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>().unwrap_or_else(|_| {
        panic!(
            "{what} must be a {}-D array, got shape {shape:?}",
            D::NDIM.unwrap_or(0),
        )
    })
}

/// `x` as layer `L`'s input, or a panic saying what the layer takes.
fn layer_input<T: Real, L: Layer<T>>(x: ModelValue<T>) -> L::Input
where
    L::Input: LayerInput<T>,
{
    L::Input::from_value(x).unwrap_or_else(|other| {
        panic!(
            "the layer takes {}, not {}",
            <L::Input as LayerInput<T>>::KIND,
            other.kind()
        )
    })
}

impl<T, L, D> DynLayer<T> for L
where
    T: Real,
    L: Layer<T, Output = Array<T, D>> + 'static,
    L::Input: LayerInput<T>,
    L::InputGrad: LayerInputGrad<T>,
    L::Saved: 'static,
    D: Dimension,
{
    fn input_rank(&self) -> Option<usize> {
        <L::Input as LayerInput<T>>::RANK
    }

    fn input_kind(&self) -> &'static str {
        <L::Input as LayerInput<T>>::KIND
    }

    fn takes_ids(&self) -> bool {
        <L::Input as LayerInput<T>>::IDS
    }

    fn gives_input_gradient(&self) -> bool {
        <L::InputGrad as LayerInputGrad<T>>::EXISTS
    }

    fn type_name(&self) -> &'static str {
        type_name::<L>()
    }

    fn forward_dyn(&self, x: ModelValue<T>) -> ArrayD<T> {
        self.forward(&layer_input::<T, L>(x)).into_dyn()
    }

    fn forward_train_dyn(&mut self, x: ModelValue<T>) -> (ArrayD<T>, Box<dyn Any>) {
        let (y, saved) = self.forward_train(&layer_input::<T, L>(x));
        (y.into_dyn(), Box::new(saved))
    }

    fn forward_view_dyn(&self, x: ArrayViewD<'_, T>) -> ArrayD<T> {
        match self.forward_view(x.view()) {
            Some(y) => y.into_dyn(),
            None => self.forward_dyn(ModelValue::Float(x.to_owned())),
        }
    }

    fn forward_train_view_dyn(&mut self, x: ArrayViewD<'_, T>) -> (ArrayD<T>, Box<dyn Any>) {
        match self.forward_train_view(x.view()) {
            Some((y, saved)) => (y.into_dyn(), Box::new(saved)),
            None => self.forward_train_dyn(ModelValue::Float(x.to_owned())),
        }
    }

    fn backward_dyn(&mut self, saved: Box<dyn Any>, d_out: ArrayD<T>) -> Option<ArrayD<T>> {
        let saved = saved
            .downcast::<L::Saved>()
            .expect("the saved values come from this layer's forward_train_dyn");
        self.backward(*saved, &to_rank(d_out, "the output gradient"))
            .into_grad()
    }

    fn backward_params_dyn(&mut self, saved: Box<dyn Any>, d_out: ArrayD<T>) {
        let saved = saved
            .downcast::<L::Saved>()
            .expect("the saved values come from this layer's forward_train_dyn");
        self.backward_params(*saved, &to_rank(d_out, "the output gradient"));
    }

    fn activation(&self) -> Option<Activation> {
        L::ACTIVATION
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// One layer of a [`Sequential`] and its name.
struct Entry<T> {
    name: String,
    layer: Box<dyn DynLayer<T>>,
}

/// What a model's training forward keeps for its backward: every layer's saved
/// values. [`Sequential::forward_train`] keeps it inside the model; as a
/// [`Layer`] (a model nested in another), the model hands it out.
pub struct SequentialSaved {
    /// Each layer's saved values, in layer order.
    saved: Vec<Box<dyn Any>>,
    /// The shape of the model's output.
    output_shape: Vec<usize>,
}

impl fmt::Debug for SequentialSaved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SequentialSaved")
            .field("layers", &self.saved.len())
            .field("output_shape", &self.output_shape)
            .finish()
    }
}

/// Layers applied one after the other.
///
/// The forward passes follow the convention of [`Layer`]:
///
/// - [`Sequential::forward`] (and its other name [`Sequential::predict`]) is the
///   evaluation forward: each layer's [`Layer::forward`] (dropout is the
///   identity, batch norm uses its running statistics); it changes nothing.
/// - [`Sequential::forward_train`] is the training forward: each layer's
///   [`Layer::forward_train`]; the model keeps what the backward needs, and
///   [`Sequential::backward`] then runs the layers' backward passes in reverse,
///   accumulating every parameter gradient, and returns the input gradient.
///
/// [`Sequential::forward_as`] and [`Sequential::forward_train_as`] give the
/// output as an array of a known rank (`Array2<T>`).
///
/// A model is itself a [`Layer`] over dynamic-rank arrays, so a model goes into
/// another with [`Sequential::push`] (its parameters are then named
/// `block.fc1.w`) and through [`check_layer`](crate::check_layer). As a layer it
/// hands out what its training forward keeps ([`SequentialSaved`]) instead of
/// keeping it.
///
/// Parameters and buffers are named `{layer}.{name}` (`fc1.w`, `bn.running_mean`),
/// where the layer's name is given to [`Sequential::push`] or is its index
/// ([`Sequential::add`]: `0.w`). As [`Parameters`], a model works with the
/// optimizers of [`crate::optim`] and the checkpoints of [`crate::checkpoint`].
///
/// A shape error in a layer panics with a message that names the layer, its type,
/// the shape it was given and where that came from, and the failing op with both shapes.
pub struct Sequential<T: Real> {
    layers: Vec<Entry<T>>,
    trace: Option<SequentialSaved>,
    /// Taken out by `train_step` around the optimizer's step, which borrows the model.
    pub(crate) monitor: Option<Box<Monitor>>,
}

impl<T: Real> Default for Sequential<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> fmt::Debug for Sequential<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sequential")
            .field(
                "layers",
                &self
                    .layers
                    .iter()
                    .map(|e| format!("{}: {}", e.name, e.layer.type_name()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<T: Real> Sequential<T> {
    /// An empty model.
    pub fn new() -> Self {
        Sequential {
            layers: Vec::new(),
            trace: None,
            monitor: None,
        }
    }

    /// Appends a layer named `name`; its parameters are named `{name}.{param}`.
    /// The layer may be a model itself (`block.fc1.w`).
    ///
    /// # Panics
    /// If `name` is empty, contains a `.`, or is already the name of a layer;
    /// or if the layer gives no input gradient (an embedding) and is not the first.
    pub fn push(&mut self, name: &str, layer: impl DynLayer<T> + 'static) -> &mut Self {
        assert!(
            !name.is_empty() && !name.contains('.'),
            "a layer name must be non-empty and without `.`, got {name:?}"
        );
        assert!(
            self.layers.iter().all(|e| e.name != name),
            "the model already has a layer named `{name}`"
        );
        // The backward passes the layer's input gradient on to the layer before.
        assert!(
            self.layers.is_empty() || layer.gives_input_gradient(),
            "layer `{name}` ({}) gives no gradient for its input ({}), so it can only be a model's first layer",
            layer.type_name(),
            layer.input_kind()
        );
        self.layers.push(Entry {
            name: name.to_string(),
            layer: Box::new(layer),
        });
        self.trace = None;
        self
    }

    /// Appends a layer named by its index (`"0"`, `"1"`, ...).
    ///
    /// # Panics
    /// If a layer already has that name.
    pub fn add(&mut self, layer: impl DynLayer<T> + 'static) -> &mut Self {
        let name = self.layers.len().to_string();
        self.push(&name, layer)
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the model has no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layer names, in order.
    pub fn layer_names(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|e| e.name.as_str())
    }

    /// The layer named `name`, if it has type `L`.
    pub fn get<L: 'static>(&self, name: &str) -> Option<&L> {
        let entry = self.layers.iter().find(|e| e.name == name)?;
        entry.layer.as_any().downcast_ref()
    }

    /// The layer named `name`, mutably, if it has type `L`.
    pub fn get_mut<L: 'static>(&mut self, name: &str) -> Option<&mut L> {
        let entry = self.layers.iter_mut().find(|e| e.name == name)?;
        entry.layer.as_any_mut().downcast_mut()
    }

    /// Attaches `monitor`: from now on every training forward and backward feeds
    /// it (activations per layer, the gradient through time of recurrent layers),
    /// and so does [`crate::train::train_step`] (gradient norms, update ratios,
    /// non-finite steps). Replaces the monitor attached before. It also sees
    /// the activations inside a nested model without a monitor of its own
    /// (`block.relu`); the gradient through time of a recurrence inside one is
    /// recorded under the nested model's name (`block`).
    pub fn set_monitor(&mut self, monitor: Monitor) {
        self.monitor = Some(Box::new(monitor));
    }

    /// The attached monitor, if any.
    pub fn monitor(&self) -> Option<&Monitor> {
        self.monitor.as_deref()
    }

    /// The attached monitor, mutably.
    pub fn monitor_mut(&mut self) -> Option<&mut Monitor> {
        self.monitor.as_deref_mut()
    }

    /// Detaches the monitor and returns it; training then measures nothing.
    pub fn take_monitor(&mut self) -> Option<Monitor> {
        self.monitor.take().map(|m| *m)
    }

    /// The evaluation forward, as [`Layer::forward`]: each layer's evaluation
    /// forward; keeps nothing and changes nothing.
    ///
    /// # Panics
    /// On a shape error in a layer (the message names the layer and the shapes).
    pub fn forward<A: ArrayElem<T>, D: Dimension>(&self, x: &ArrayRef<A, D>) -> ArrayD<T> {
        let mut h = model_input(x);
        for (k, entry) in self.layers.iter().enumerate() {
            let context = self.context(k, &h);
            let y = in_layer(&context, || match h {
                Input::View(v) => entry.layer.forward_view_dyn(v),
                Input::Value(v) => entry.layer.forward_dyn(v),
            });
            h = Input::Value(ModelValue::Float(y));
        }
        model_output(h.into_value())
    }

    /// [`Sequential::forward`], the evaluation forward, under the name Keras
    /// and scikit-learn users look for.
    ///
    /// # Panics
    /// As [`Sequential::forward`].
    pub fn predict<A: ArrayElem<T>, D: Dimension>(&self, x: &ArrayRef<A, D>) -> ArrayD<T> {
        self.forward(x)
    }

    /// The evaluation forward with its output as an array of rank `D`
    /// (`model.forward_as::<Ix2>(&x)` is an `Array2<T>`).
    ///
    /// # Panics
    /// If the model's output does not have rank `D` (the message gives its
    /// shape), or as [`Sequential::forward`].
    pub fn forward_as<D: Dimension>(
        &self,
        x: &ArrayRef<impl ArrayElem<T>, impl Dimension>,
    ) -> Array<T, D> {
        output_as(self.forward(x))
    }

    /// [`Sequential::forward_as`], under the name of [`Sequential::predict`].
    ///
    /// # Panics
    /// As [`Sequential::forward_as`].
    pub fn predict_as<D: Dimension>(
        &self,
        x: &ArrayRef<impl ArrayElem<T>, impl Dimension>,
    ) -> Array<T, D> {
        self.forward_as(x)
    }

    /// The training forward, as [`Layer::forward_train`]: each layer's training
    /// forward (dropout draws a mask, batch norm updates its running
    /// statistics); the model keeps what [`Sequential::backward`] needs (one
    /// backward per training forward).
    ///
    /// # Panics
    /// On a shape error in a layer (the message names the layer and the shapes).
    pub fn forward_train<A: ArrayElem<T>, D: Dimension>(
        &mut self,
        x: &ArrayRef<A, D>,
    ) -> ArrayD<T> {
        self.trace = None;
        let (y, trace) = self.run_train(model_input(x));
        self.trace = Some(trace);
        y
    }

    /// The training forward with its output as an array of rank `D`.
    ///
    /// # Panics
    /// If the model's output does not have rank `D`, or as
    /// [`Sequential::forward_train`].
    pub fn forward_train_as<D: Dimension>(
        &mut self,
        x: &ArrayRef<impl ArrayElem<T>, impl Dimension>,
    ) -> Array<T, D> {
        output_as(self.forward_train(x))
    }

    /// The training forward of every layer: the output and what the backward needs.
    fn run_train(&mut self, x: Input<'_, T>) -> (ArrayD<T>, SequentialSaved) {
        let mut monitor = self.monitor.take();
        if let Some(monitor) = &mut monitor {
            monitor.next_step();
        }
        let result = self.run_train_observed(x, monitor.as_deref_mut(), "");
        self.monitor = monitor;
        result
    }

    /// [`Sequential::run_train`] feeding `monitor` the activations of every
    /// layer, named `{prefix}{layer}`: a nested model without a monitor of its
    /// own is run with this one and the prefix `{prefix}{layer}.`, so that a
    /// model's monitor sees the layers inside its blocks (`block.relu`).
    fn run_train_observed(
        &mut self,
        x: Input<'_, T>,
        mut monitor: Option<&mut Monitor>,
        prefix: &str,
    ) -> (ArrayD<T>, SequentialSaved) {
        let mut h = x;
        let mut saved = Vec::with_capacity(self.layers.len());
        for k in 0..self.layers.len() {
            let context = self.context(k, &h);
            let Entry { name, layer } = &mut self.layers[k];
            let nested = monitor.is_some()
                && (layer.as_any().downcast_ref::<Sequential<T>>())
                    .is_some_and(|inner| inner.monitor.is_none());
            let (y, s) = if nested {
                let inner =
                    (layer.as_any_mut().downcast_mut::<Sequential<T>>()).expect("checked above");
                let inner_prefix = format!("{prefix}{name}.");
                let monitor = monitor.as_deref_mut();
                let (y, s) = in_layer(&context, || {
                    inner.run_train_observed(h, monitor, &inner_prefix)
                });
                (y, Box::new(s) as Box<dyn Any>)
            } else {
                in_layer(&context, || match h {
                    Input::View(v) => layer.forward_train_view_dyn(v),
                    Input::Value(v) => layer.forward_train_dyn(v),
                })
            };
            if let (Some(monitor), Some(kind)) = (monitor.as_deref_mut(), layer.activation()) {
                if prefix.is_empty() {
                    monitor.observe_activation(name, kind, &y);
                } else {
                    monitor.observe_activation(&format!("{prefix}{name}"), kind, &y);
                }
            }
            saved.push(s);
            h = Input::Value(ModelValue::Float(y));
        }
        let h = model_output(h.into_value());
        let output_shape = h.shape().to_vec();
        (
            h,
            SequentialSaved {
                saved,
                output_shape,
            },
        )
    }

    /// The backward pass of the last [`Sequential::forward_train`]: runs the
    /// layers' backward passes in reverse, accumulates every parameter gradient, and
    /// returns the gradient of the model's input for the output gradient `d_out`.
    /// Training needs only the parameters' gradients: [`Sequential::backward_params`]
    /// skips the input's (what [`crate::train::train_step`] calls).
    ///
    /// # Panics
    /// If there was no training forward since the last backward, or `d_out` does not
    /// have the shape of that forward's output.
    ///
    /// A model whose first layer takes no input gradient (an
    /// [`Embedding`](crate::layers::Embedding)'s ids) has none to give: call
    /// [`Sequential::backward_params`].
    pub fn backward<D: Dimension>(&mut self, d_out: &ArrayRef<T, D>) -> ArrayD<T> {
        let trace = self.take_trace();
        let d_x = self.run_backward(trace, d_out, false);
        self.input_gradient(d_x)
    }

    /// The input's gradient a backward gave, or a panic naming the first layer
    /// that takes none.
    fn input_gradient(&self, d_x: Option<ArrayD<T>>) -> ArrayD<T> {
        d_x.unwrap_or_else(|| {
            panic!(
                "the model's input takes no gradient: its first layer, {}, takes {}; train with `backward_params`",
                self.describe(0),
                self.layers[0].layer.input_kind()
            )
        })
    }

    /// The backward pass of the last [`Sequential::forward_train`] for
    /// training: accumulates every parameter gradient for the output gradient
    /// `d_out`, and does not compute the gradient of the model's input, which
    /// nobody reads (the first layer runs [`Layer::backward_params`]).
    ///
    /// # Panics
    /// As [`Sequential::backward`].
    pub fn backward_params<D: Dimension>(&mut self, d_out: &ArrayRef<T, D>) {
        let trace = self.take_trace();
        self.run_backward(trace, d_out, true);
    }

    fn take_trace(&mut self) -> SequentialSaved {
        let Some(trace) = self.trace.take() else {
            panic!(
                "Sequential::backward needs a training forward first (`forward_train`; one backward per forward)"
            )
        };
        trace
    }

    /// Runs the layers' backward passes in reverse from `saved`; the input's
    /// gradient unless `params_only` (then the first layer runs its
    /// `backward_params` and the result is `None`).
    fn run_backward<D: Dimension>(
        &mut self,
        saved: SequentialSaved,
        d_out: &ArrayRef<T, D>,
        params_only: bool,
    ) -> Option<ArrayD<T>> {
        assert_eq!(
            d_out.shape(),
            &saved.output_shape[..],
            "the output gradient has shape {:?} but the model's output has shape {:?}",
            d_out.shape(),
            saved.output_shape
        );
        let mut d = d_out.view().into_dyn().to_owned();
        let mut saved = saved.saved;
        if saved.is_empty() {
            return (!params_only).then_some(d);
        }
        let first = saved.remove(0);
        for (k, saved) in saved.into_iter().enumerate().rev() {
            let d_in = self.backward_of(k + 1, |layer| layer.backward_dyn(saved, d));
            // Only the first layer may take something without a gradient (ids).
            d = d_in.unwrap_or_else(|| {
                panic!(
                    "{} gives no input gradient, so it must be the model's first layer",
                    self.describe(k + 1)
                )
            });
        }
        if params_only {
            self.backward_of(0, |layer| layer.backward_params_dyn(first, d));
            None
        } else {
            self.backward_of(0, |layer| layer.backward_dyn(first, d))
        }
    }

    /// Runs `f` on layer `k`'s backward, naming the layer in a panic; with a
    /// monitor, records what a backward through time measured.
    fn backward_of<R>(&mut self, k: usize, f: impl FnOnce(&mut dyn DynLayer<T>) -> R) -> R {
        let context = format!("in the backward pass of {}", self.describe(k));
        let Entry { name, layer } = &mut self.layers[k];
        let layer = &mut **layer;
        let Some(monitor) = &mut self.monitor else {
            return in_layer(&context, || f(layer));
        };
        // The costlier singular value at the period of the other parameter statistics.
        let singular_value = monitor.measures_params();
        let (result, records) =
            record_through_time(singular_value, || in_layer(&context, || f(layer)));
        for record in records {
            monitor.observe_through_time(name, record);
        }
        result
    }

    /// `layer `fc2` (type)`, for messages.
    fn describe(&self, k: usize) -> String {
        let e = &self.layers[k];
        format!("layer `{}` ({})", e.name, e.layer.type_name())
    }

    /// Checks the kind and rank of layer `k`'s input and describes it for messages.
    fn context(&self, k: usize, x: &Input<'_, T>) -> String {
        let shape = x.shape();
        let from = match k {
            0 => "the model's input".to_string(),
            _ => format!("the output of layer `{}`", self.layers[k - 1].name),
        };
        let layer = &self.layers[k].layer;
        assert!(
            x.is_ids() == layer.takes_ids(),
            "{} takes {}, but {from} is {}",
            self.describe(k),
            layer.input_kind(),
            x.kind()
        );
        if let Some(rank) = self.layers[k].layer.input_rank() {
            assert!(
                shape.len() == rank,
                "{} takes a {rank}-D input, but {from} has shape {shape:?}",
                self.describe(k)
            );
        }
        format!("{} given {from}, of shape {shape:?}", self.describe(k))
    }
}

/// What a model returns: the float array its last layer gave (an empty model
/// returns its input, which must then be a float array).
fn model_output<T: Real>(h: ModelValue<T>) -> ArrayD<T> {
    match h {
        ModelValue::Float(y) => y,
        ModelValue::Int(_) => {
            panic!("a model without layers returns its input, which must be a float array, not ids")
        }
    }
}

/// A model's output as an array of rank `D`, or a panic that gives its shape.
fn output_as<T: Real, D: Dimension>(y: ArrayD<T>) -> Array<T, D> {
    let shape = y.shape().to_vec();
    y.into_dimensionality::<D>().unwrap_or_else(|_| {
        panic!(
            "the model's output has shape {shape:?} ({}-D), not the {}-D array asked for",
            shape.len(),
            D::NDIM.map_or_else(|| "dynamic-rank".to_string(), |n| n.to_string()),
        )
    })
}

/// A model as a layer over dynamic-rank arrays, so that a model goes into
/// another ([`Sequential::push`]) and through [`check_layer`](crate::check_layer).
/// Its methods are the model's ([`Sequential::forward`] is the evaluation
/// forward), with what the training forward keeps handed out as `Saved`.
impl<T: Real> Layer<T> for Sequential<T> {
    type Input = ArrayD<T>;
    type Output = ArrayD<T>;
    type InputGrad = ArrayD<T>;
    type Saved = SequentialSaved;

    fn forward(&self, x: &ArrayD<T>) -> ArrayD<T> {
        Sequential::forward(self, x)
    }

    fn forward_train(&mut self, x: &ArrayD<T>) -> (ArrayD<T>, SequentialSaved) {
        self.run_train(Input::View(x.view()))
    }

    fn backward(&mut self, saved: SequentialSaved, d_out: &ArrayD<T>) -> ArrayD<T> {
        let d_x = self.run_backward(saved, d_out, false);
        self.input_gradient(d_x)
    }

    fn backward_params(&mut self, saved: SequentialSaved, d_out: &ArrayD<T>) {
        self.run_backward(saved, d_out, true);
    }
}

/// Runs `f`, adding `context` to the message if it panics (a shape mismatch in a
/// kernel names the op and both shapes; this adds the layer and its input).
fn in_layer<R>(context: &str, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            panic!("{context}: {message}")
        }
    }
}

impl<T: Real> Parameters<T> for Sequential<T> {
    fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        for Entry { name, layer } in &mut self.layers {
            visit_params_under(name, &mut **layer, f);
        }
    }

    fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        for Entry { name, layer } in &mut self.layers {
            visit_buffers_under(name, &mut **layer, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::spiral;
    use crate::layers::{Affine, BatchNorm, Dropout, LastStep, Lstm, Relu, Tanh};
    use crate::losses::{accuracy, softmax_cross_entropy_backward, softmax_cross_entropy_train};
    use crate::optim::{Adam, Optimizer};
    use crate::test_util::{check, random};
    use crate::{Param, SeededRng};
    use backprop_macros::differentiable;
    use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Ix1, Ix2};

    /// A user's layer, as a user writes it: `y = x + tanh(x w + b)`.
    struct Residual<T: Real> {
        w: Param<T, Ix2>,
        b: Param<T, Ix1>,
    }

    #[differentiable(layer = Residual)]
    fn residual<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
        &x + tanh(x.dot(&w) + &b)
    }

    fn mlp(rng: &mut SeededRng) -> Sequential<f64> {
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::new(3, 5, rng))
            .push("act", Tanh::new())
            .push("bn", BatchNorm::new(5))
            .add(Affine::new(5, 2, rng));
        model
    }

    fn names(model: &mut Sequential<f64>) -> (Vec<String>, Vec<String>) {
        let (mut params, mut buffers) = (Vec::new(), Vec::new());
        model.visit_params(&mut |p| params.push(p.name.to_string()));
        model.visit_buffers(&mut |name, _| buffers.push(name.to_string()));
        (params, buffers)
    }

    /// Every parameter gradient of `model`, by name, and the gradients zeroed.
    fn take_grads(model: &mut Sequential<f64>) -> Vec<(String, ArrayD<f64>)> {
        let mut grads = Vec::new();
        model.visit_params(&mut |mut p| {
            grads.push((p.name.to_string(), p.grad.to_owned()));
            p.grad.fill(0.0);
        });
        grads
    }

    #[test]
    fn backward_params_accumulates_what_backward_does_without_the_input_gradient() {
        // A generated user layer first (its input gradient is skipped), then
        // the library's layers; and an Affine first.
        let mut rng = SeededRng::new(3);
        let residual = Residual {
            w: Param::new(random((3, 3), 4)),
            b: Param::new(random(3, 5)),
        };
        let mut first_residual = Sequential::new();
        first_residual
            .add(residual)
            .add(Tanh::new())
            .add(Affine::new(3, 2, &mut rng));
        for mut model in [first_residual, mlp(&mut rng)] {
            let x = random((4, 3), 6);
            let d_out = random((4, 2), 7);
            model.forward_train(&x);
            model.backward(&d_out);
            let full = take_grads(&mut model);
            model.forward_train(&x);
            model.backward_params(&d_out);
            let params_only = take_grads(&mut model);
            assert_eq!(full.len(), params_only.len());
            for ((name, a), (_, b)) in full.iter().zip(&params_only) {
                assert!(a.iter().any(|&v| v != 0.0), "{name} has no gradient");
                assert_eq!(a, b, "{name}");
            }
        }
    }

    #[test]
    fn a_generated_layer_skips_its_input_gradient_in_backward_params() {
        let mut layer = Residual {
            w: Param::new(random((3, 3), 8)),
            b: Param::new(random(3, 9)),
        };
        let x = random((2, 3), 10);
        let d_out = random((2, 3), 11);
        let (_, saved) = layer.forward_train(&x);
        // A layer's training forward lends its parameters instead of copying
        // them: its `Saved` is for the layer's own backward, and the function's
        // backward refuses it with a message that says so.
        let refused = std::panic::catch_unwind(|| residual_backward(&saved, d_out.view()))
            .expect_err("a layer's Saved is refused");
        let msg = refused.downcast_ref::<String>().expect("a message");
        assert!(
            msg.contains("`residual_backward`") && msg.contains("forward_train"),
            "{msg}"
        );
        assert_eq!(saved.w.len(), 0, "the weight is not copied");
        // The generated params-only backward adds the parameters' gradients into
        // the parameters it is given (the weight's by the matrix product itself).
        let (_, full) = residual_train(x.view(), layer.w.value.view(), layer.b.value.view());
        let grads = residual_backward(&full, d_out.view());
        let (mut w, mut b) = (Param::new(random((3, 3), 12)), Param::new(random(3, 13)));
        w.grad.fill(0.5);
        b.grad.fill(-0.25);
        __residual_backward_params(&full, d_out.view(), (&mut w, &mut b));
        let close = |a: &ndarray::ArrayD<f64>, e: &ndarray::ArrayD<f64>| {
            a.iter().zip(e).all(|(p, q)| (p - q).abs() < 1e-12)
        };
        assert!(close(
            &w.grad.clone().into_dyn(),
            &(&grads.w + 0.5).into_dyn()
        ));
        assert!(close(
            &b.grad.clone().into_dyn(),
            &(&grads.b - 0.25).into_dyn()
        ));
        let before = layer.w.value.clone();
        layer.backward_params(saved, &d_out);
        assert_eq!(layer.w.grad, grads.w);
        assert_eq!(layer.b.grad, grads.b);
        assert_eq!(
            layer.w.value, before,
            "the lent weight is back in the layer"
        );
        // A backward that panics (an upstream gradient of another shape) still
        // gives the weight back.
        let (_, saved) = layer.forward_train(&x);
        let wrong = random((2, 4), 14);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            layer.backward(saved, &wrong)
        }))
        .expect_err("a wrong upstream shape panics");
        let msg = err.downcast_ref::<String>().expect("a message");
        assert!(msg.contains("upstream gradient"), "{msg}");
        assert_eq!(
            layer.w.value, before,
            "the weight is back after a panic too"
        );
    }

    #[test]
    fn parameters_and_buffers_are_named_after_their_layer() {
        let mut model = mlp(&mut SeededRng::new(0));
        let (params, buffers) = names(&mut model);
        assert_eq!(
            params,
            ["fc1.w", "fc1.b", "bn.gamma", "bn.beta", "3.w", "3.b"]
        );
        assert_eq!(buffers, ["bn.running_mean", "bn.running_var"]);
        assert_eq!(
            model.layer_names().collect::<Vec<_>>(),
            ["fc1", "act", "bn", "3"]
        );
        assert_eq!(model.num_params(), 3 * 5 + 5 + 5 + 5 + 5 * 2 + 2);
    }

    #[test]
    #[should_panic(expected = "already has a layer named `fc1`")]
    fn layer_names_are_unique() {
        let mut rng = SeededRng::new(0);
        let mut model = Sequential::<f64>::new();
        model.push("fc1", Affine::new(2, 2, &mut rng));
        model.push("fc1", Affine::new(2, 2, &mut rng));
    }

    #[test]
    fn forward_is_the_composition_of_the_layers() {
        let mut rng = SeededRng::new(1);
        let (mut fc1, mut fc2) = (Affine::new(3, 4, &mut rng), Affine::new(4, 2, &mut rng));
        fc1.b.value = random(4, 3);
        let mut model = Sequential::new();
        model
            .push("fc1", fc1.clone())
            .push("relu", Relu::new())
            .push("fc2", fc2.clone());
        let x = random((6, 3), 2);
        let mut relu = Relu::<f64, Ix2>::default();
        let by_hand = fc2.forward(&relu.forward(&fc1.forward(&x)));
        assert_eq!(model.predict(&x), by_hand.clone().into_dyn());
        assert_eq!(model.forward(&x), by_hand.clone().into_dyn());
        assert_eq!(model.forward_train(&x), by_hand.into_dyn());

        // The backward equals the layers' backward passes in reverse.
        let d_out = random((6, 2), 4);
        let (h1, s1) = fc1.forward_train(&x);
        let (h2, s2) = relu.forward_train(&h1);
        let (_, s3) = fc2.forward_train(&h2);
        let d_x = fc1.backward(s1, &relu.backward(s2, &fc2.backward(s3, &d_out)));
        assert_eq!(model.backward(&d_out), d_x.into_dyn());
        assert_eq!(model.get::<Affine<f64>>("fc1").unwrap().w.grad, fc1.w.grad);
        assert_eq!(model.get::<Affine<f64>>("fc2").unwrap().b.grad, fc2.b.grad);
        assert!(model.get::<Relu<f64>>("fc1").is_none());
    }

    #[test]
    fn forward_is_the_evaluation_forward_and_forward_train_the_training_one() {
        let mut rng = SeededRng::new(2);
        let mut model = Sequential::new();
        model
            .push("drop", Dropout::new(0.5, &mut rng))
            .push("bn", BatchNorm::new(3));
        let x = random((8, 3), 5) + 3.0;
        // The evaluation forward changes nothing: the running statistics stay.
        let before = model.forward(&x);
        assert_eq!(
            model.get::<BatchNorm<f64>>("bn").unwrap().running_mean,
            Array1::<f64>::zeros(3)
        );
        let trained = model.forward_train(&x);
        assert_ne!(
            model.get::<BatchNorm<f64>>("bn").unwrap().running_mean,
            Array1::<f64>::zeros(3)
        );
        // Evaluation: dropout is the identity and batch norm reads its running statistics.
        let bn = model.get::<BatchNorm<f64>>("bn").unwrap().clone();
        assert_eq!(model.forward(&x), bn.forward(&x).into_dyn());
        assert_eq!(model.predict(&x), model.forward(&x));
        assert_ne!(model.forward(&x), before);
        assert_ne!(model.forward(&x), trained);
        // With the Layer trait in scope the model's own methods are still the ones called.
        let y: ArrayD<f64> = Layer::forward(&model, &x.clone().into_dyn());
        assert_eq!(y, model.forward(&x));
    }

    #[test]
    fn backward_through_a_model_passes_the_gradient_check() {
        let mut model = mlp(&mut SeededRng::new(3));
        model.push(
            "res",
            Residual {
                w: Param::new(random((2, 2), 6)),
                b: Param::new(random(2, 7)),
            },
        );
        let (params, _) = names(&mut model);
        assert_eq!(params[6..], ["res.w", "res.b"]);
        check(&mut model, &random((4, 3), 8).into_dyn());
    }

    #[test]
    fn sequence_layers_chain_with_the_others() {
        let mut rng = SeededRng::new(11);
        let mut model = Sequential::new();
        model
            .push("lstm", Lstm::new(2, 3, &mut rng))
            .push("last", LastStep::new())
            .push("fc", Affine::new(3, 2, &mut rng));
        assert_eq!(model.forward(&random((4, 2, 2), 12)).shape(), &[2, 2]);
        check(&mut model, &random((4, 2, 2), 13).into_dyn());
    }

    #[test]
    #[should_panic(
        expected = "layer `fc2` (backprop_core::layers::affine_layer::Affine<f64>) given the output of layer `relu`, of shape [4, 5]: shape mismatch in `dot`"
    )]
    fn a_size_mismatch_names_the_layer_and_both_shapes() {
        let mut rng = SeededRng::new(0);
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::new(3, 5, &mut rng))
            .push("relu", Relu::new())
            .push("fc2", Affine::new(4, 2, &mut rng));
        model.forward_train(&Array2::<f64>::zeros((4, 3)));
    }

    #[test]
    #[should_panic(
        expected = "layer `fc` (backprop_core::layers::affine_layer::Affine<f64>) takes a 2-D input, but the model's input has shape [4, 3, 1]"
    )]
    fn a_rank_mismatch_names_the_layer_and_the_shape() {
        let mut model = Sequential::new();
        model.push("fc", Affine::new(3, 5, &mut SeededRng::new(0)));
        model.predict(&ndarray::Array3::<f64>::zeros((4, 3, 1)));
    }

    #[test]
    #[should_panic(expected = "needs a training forward first (`forward_train`")]
    fn backward_needs_a_training_forward() {
        let mut model = Sequential::<f64>::new();
        model.add(Relu::new());
        let y = model.forward(&Array2::<f64>::ones((2, 2)));
        model.backward(&y);
    }

    #[test]
    fn checkpoints_round_trip_a_model() {
        let path =
            std::env::temp_dir().join(format!("backprop-model-{}.safetensors", std::process::id()));
        let mut model = mlp(&mut SeededRng::new(4));
        model.forward_train(&random((5, 3), 9));
        let no_extra = Default::default();
        crate::checkpoint::save_checkpoint(&path, &mut model, &[], &no_extra).unwrap();
        let mut other = mlp(&mut SeededRng::new(5));
        crate::checkpoint::load_checkpoint(&path, &mut other).unwrap();
        std::fs::remove_file(&path).unwrap();
        let x = random((2, 3), 10);
        assert_eq!(other.predict(&x), model.predict(&x));
    }

    #[test]
    fn an_mlp_learns_the_spirals() {
        let data = spiral::<f32>(100, 3, 0.2, 0);
        let mut rng = SeededRng::new(0);
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::new(2, 32, &mut rng))
            .push("relu", Relu::new())
            .push("fc2", Affine::new(32, 3, &mut rng));
        let mut optimizer = Adam::new(0.02);
        for _ in 0..200 {
            model.zero_grad();
            let scores = model.forward_train_as::<Ix2>(&data.features);
            let (_, saved) = softmax_cross_entropy_train(scores.view(), data.labels.view());
            model.backward(&softmax_cross_entropy_backward(&saved, 1.0).scores);
            optimizer.step(&mut model);
        }
        let scores = model.predict_as::<Ix2>(&data.features);
        let acc = accuracy(&scores, &data.labels);
        assert!(acc >= 0.9, "training accuracy {acc}");
    }

    /// `fc1 -> block (fc -> tanh -> bn) -> fc2`: a model with a model inside.
    fn nested(rng: &mut SeededRng) -> Sequential<f64> {
        let mut block = Sequential::new();
        block
            .push("fc", Affine::new(5, 4, rng))
            .push("act", Tanh::new())
            .push("bn", BatchNorm::new(4));
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::new(3, 5, rng))
            .push("block", block)
            .push("fc2", Affine::new(4, 2, rng));
        model
    }

    #[test]
    fn a_nested_model_names_its_parameters_under_its_name() {
        let mut model = nested(&mut SeededRng::new(0));
        let (params, buffers) = names(&mut model);
        assert_eq!(
            params,
            [
                "fc1.w",
                "fc1.b",
                "block.fc.w",
                "block.fc.b",
                "block.bn.gamma",
                "block.bn.beta",
                "fc2.w",
                "fc2.b"
            ]
        );
        assert_eq!(buffers, ["block.bn.running_mean", "block.bn.running_var"]);
        let block = model.get::<Sequential<f64>>("block").unwrap();
        assert_eq!(block.layer_names().collect::<Vec<_>>(), ["fc", "act", "bn"]);
    }

    #[test]
    fn a_nested_model_passes_the_gradient_check() {
        let mut model = nested(&mut SeededRng::new(1));
        // Random parameters, so that no gradient is checked at zero.
        let mut seed = 20;
        model.visit_params(&mut |mut p| {
            seed += 1;
            let shape = p.value.raw_dim();
            p.value.assign(&(random(shape, seed) * 0.5));
        });
        check(&mut model, &random((6, 3), 2).into_dyn());
        // The nested model's own backward is the composition's: the same input
        // gradient as the model flattened into one.
        let (x, d_out) = (random((6, 3), 3), random((6, 2), 4));
        model.zero_grad();
        model.forward_train(&x);
        let d_x = model.backward(&d_out);
        let mut flat = Sequential::new();
        flat.push("fc1", model.get::<Affine<f64>>("fc1").unwrap().clone());
        let block = model.get::<Sequential<f64>>("block").unwrap();
        flat.push("fc", block.get::<Affine<f64>>("fc").unwrap().clone())
            .push("act", Tanh::new())
            .push("bn", block.get::<BatchNorm<f64>>("bn").unwrap().clone())
            .push("fc2", model.get::<Affine<f64>>("fc2").unwrap().clone());
        assert_eq!(flat.forward(&x), model.forward(&x));
        flat.forward_train(&x);
        assert_eq!(flat.backward(&d_out), d_x);
    }

    #[test]
    fn a_nested_model_trains() {
        let data = spiral::<f32>(100, 3, 0.2, 0);
        let mut rng = SeededRng::new(0);
        let mut block = Sequential::new();
        block
            .push("fc", Affine::new(32, 32, &mut rng))
            .push("relu", Relu::new());
        let mut model = Sequential::new();
        model
            .push("fc1", Affine::new(2, 32, &mut rng))
            .push("relu", Relu::new())
            .push("block", block)
            .push("fc2", Affine::new(32, 3, &mut rng));
        let mut optimizer = Adam::new(0.02);
        let loss = |model: &Sequential<f32>| {
            let scores = model.forward_as::<Ix2>(&data.features);
            softmax_cross_entropy_train(scores.view(), data.labels.view()).0
        };
        let initial = loss(&model);
        for _ in 0..200 {
            model.zero_grad();
            let scores = model.forward_train_as::<Ix2>(&data.features);
            let (_, saved) = softmax_cross_entropy_train(scores.view(), data.labels.view());
            model.backward_params(&softmax_cross_entropy_backward(&saved, 1.0).scores);
            optimizer.step(&mut model);
        }
        assert!(
            loss(&model) < initial / 4.0,
            "{initial} -> {}",
            loss(&model)
        );
        let acc = accuracy(&model.predict_as(&data.features), &data.labels);
        assert!(acc >= 0.9, "training accuracy {acc}");
    }

    #[test]
    #[should_panic(
        expected = "the model's output has shape [4, 2] (2-D), not the 3-D array asked for"
    )]
    fn a_typed_output_of_the_wrong_rank_names_the_shape() {
        let mut model = Sequential::new();
        model.push("fc", Affine::new(3, 2, &mut SeededRng::new(0)));
        let _ = model.forward_as::<ndarray::Ix3>(&Array2::<f64>::zeros((4, 3)));
    }

    #[test]
    fn a_models_monitor_sees_the_activations_inside_its_blocks() {
        let build = || {
            let mut rng = SeededRng::new(5);
            let mut block = Sequential::new();
            block
                .push("fc", Affine::new(4, 4, &mut rng))
                .push("relu", Relu::new());
            let mut model = Sequential::new();
            model
                .push("fc1", Affine::new(3, 4, &mut rng))
                .push("act", Tanh::new())
                .push("block", block)
                .push("fc2", Affine::new(4, 2, &mut rng));
            model
        };
        let (mut monitored, mut plain) = (build(), build());
        monitored.set_monitor(Monitor::default());
        let (x, d_out) = (random((8, 3), 6), random((8, 2), 7));
        for model in [&mut monitored, &mut plain] {
            model.forward_train(&x);
            model.backward_params(&d_out);
        }
        let monitor = monitored.monitor().unwrap();
        let seen: Vec<_> = monitor
            .activations
            .iter()
            .map(|a| (a.layer.as_str(), a.kind))
            .collect();
        assert_eq!(
            seen,
            [("act", Activation::Tanh), ("block.relu", Activation::Relu)]
        );
        // The block is left without a monitor of its own, and the gradients
        // are those of the model without one.
        let block = monitored.get::<Sequential<f64>>("block").unwrap();
        assert!(block.monitor().is_none());
        assert_eq!(take_grads(&mut monitored), take_grads(&mut plain));
    }

    #[test]
    fn an_embedding_feeds_the_layers_after_it() {
        use crate::layers::Embedding;
        let mut rng = SeededRng::new(1);
        let mut model = Sequential::new();
        model
            .push("emb", Embedding::new(5, 3, &mut rng))
            .push("fc", Affine::new(3, 2, &mut rng));
        let ids = ndarray::array![0usize, 4, 2, 4];
        // The model's forward is the layers' one after the other.
        let scores: Array2<f64> = model.forward_as(&ids);
        let emb = model.get::<Embedding<f64>>("emb").unwrap();
        let fc = model.get::<Affine<f64>>("fc").unwrap();
        assert_eq!(scores, fc.forward(&emb.forward(&ids)));
        // Training reaches the table through the layers after it: the rows of
        // the ids given get gradients, the others none.
        model.zero_grad();
        let out = model.forward_train(&ids);
        model.backward_params(&out.mapv(|_| 1.0));
        let table = &model.get::<Embedding<f64>>("emb").unwrap().table.grad;
        for (row, used) in [(0, true), (1, false), (2, true), (3, false), (4, true)] {
            let touched = table.row(row).iter().any(|&g| g != 0.0);
            assert_eq!(touched, used, "row {row} of the table's gradient: {table}");
        }
    }

    #[test]
    fn a_model_of_ids_learns_with_the_training_loop() {
        use crate::layers::Embedding;
        use crate::train::{EpochOptions, evaluate, shuffle_rng, train_epoch};
        let mut rng = SeededRng::new(2);
        let mut model = Sequential::<f64>::new();
        model
            .push("emb", Embedding::new(10, 4, &mut rng))
            .push("fc", Affine::new(4, 2, &mut rng));
        let ids = Array1::from_iter((0..40).map(|i| i % 10));
        let labels = ids.mapv(|i| usize::from(i >= 5));
        let mut optimizer = Adam::new(0.05);
        let options = EpochOptions::new(8);
        for epoch in 0..30 {
            train_epoch(
                &mut model,
                &mut optimizer,
                &ids,
                &labels,
                &options,
                &mut shuffle_rng(0, epoch),
                &mut |_| {},
            );
        }
        let stats = evaluate(&model, &ids, &labels, 16);
        assert_eq!(stats.accuracy, 1.0, "{stats:?}");
    }

    #[test]
    #[should_panic(expected = "the model's input takes no gradient: its first layer, layer `emb`")]
    fn the_input_gradient_of_ids_is_an_error_that_names_the_layer() {
        use crate::layers::Embedding;
        let mut rng = SeededRng::new(1);
        let mut model = Sequential::<f64>::new();
        model.push("emb", Embedding::new(5, 3, &mut rng));
        let out = model.forward_train(&ndarray::array![1usize, 2]);
        model.backward(&out);
    }

    #[test]
    #[should_panic(expected = "takes integer ids, but the model's input is a float array")]
    fn floats_given_to_an_embedding_are_an_error_that_names_the_layer() {
        use crate::layers::Embedding;
        let mut rng = SeededRng::new(1);
        let mut model = Sequential::<f64>::new();
        model.push("emb", Embedding::new(5, 3, &mut rng));
        model.forward(&ndarray::array![1.0, 2.0]);
    }

    #[test]
    #[should_panic(
        expected = "layer `fc` (backprop_core::layers::affine_layer::Affine<f64>) takes a float array, but the model's input is an integer array"
    )]
    fn ids_given_to_a_float_layer_are_an_error_that_names_the_layer() {
        let mut rng = SeededRng::new(1);
        let mut model = Sequential::<f64>::new();
        model.push("fc", Affine::new(2, 3, &mut rng));
        model.forward(&ndarray::array![[1usize, 2]]);
    }

    #[test]
    #[should_panic(
        expected = "layer `emb` (backprop_core::layers::embedding_layer::Embedding<f64>) gives no gradient for its input (integer ids), so it can only be a model's first layer"
    )]
    fn a_layer_without_an_input_gradient_after_another_is_an_error_at_push() {
        use crate::layers::Embedding;
        let mut rng = SeededRng::new(1);
        let mut model = Sequential::<f64>::new();
        model
            .push("fc", Affine::new(2, 3, &mut rng))
            .push("emb", Embedding::new(5, 3, &mut rng));
    }

    /// A generated layer whose function takes a view is given the model's input
    /// as a view (no copy), with the result of its owned training forward; a view
    /// of another rank is declined, and the model then copies.
    #[test]
    fn a_generated_layer_takes_a_view_of_the_models_input() {
        let mut rng = SeededRng::new(2);
        let mut layer = Affine::<f64>::new(3, 2, &mut rng);
        let x = random((4, 3), 3);
        let (y, _) = layer.forward_train(&x);
        let (y_view, _) = layer
            .forward_train_view(x.view().into_dyn())
            .expect("an affine layer takes a view");
        assert_eq!(y, y_view);
        assert!(
            layer
                .forward_train_view(x.view().into_shape_with_order(12).unwrap().into_dyn())
                .is_none()
        );
        assert_eq!(
            layer.forward_view(x.view().into_dyn()),
            Some(layer.forward(&x))
        );
        // Through a model: the same as the layer's own forward passes.
        let mut model = Sequential::new();
        model.push("fc", layer.clone());
        assert_eq!(model.forward(&x), layer.forward(&x).into_dyn());
        assert_eq!(model.forward_train(&x), y.into_dyn());
    }
}
