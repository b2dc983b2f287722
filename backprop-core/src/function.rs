//! A uniform, dynamic-rank view of any `#[differentiable]` function, so that one
//! call can check its gradients. The macro generates `name_dyn()` returning a
//! [`DynFunction`].

use ndarray::{ArrayD, ArrayView, Dimension};

use crate::Real;

/// An input value of dynamic rank.
#[derive(Clone, Debug, PartialEq)]
pub enum DynValue<T> {
    /// A float array (a float scalar input is a 0-d array).
    Float(ArrayD<T>),
    /// A `usize` array.
    Int(ArrayD<usize>),
    /// A `usize` scalar.
    Usize(usize),
}

impl<T: Real> DynValue<T> {
    /// The float array as a view of rank `D`.
    ///
    /// # Panics
    /// If the value is not a float array of that rank; the message names the input.
    pub fn float<D: Dimension>(&self, name: &str) -> ArrayView<'_, T, D> {
        match self {
            DynValue::Float(a) => a.view().into_dimensionality::<D>().unwrap_or_else(|_| {
                panic!(
                    "input `{name}` must be a {}-D float array, got shape {:?}",
                    D::NDIM.unwrap_or(0),
                    a.shape()
                )
            }),
            other => panic!("input `{name}` must be a float array, got {}", other.kind()),
        }
    }

    /// The float scalar held in a 0-d (or one-element) array.
    ///
    /// # Panics
    /// If the value is not a one-element float array.
    pub fn scalar(&self, name: &str) -> T {
        match self {
            DynValue::Float(a) if a.len() == 1 => a.iter().copied().next().unwrap_or_else(T::zero),
            other => panic!(
                "input `{name}` must be a float scalar, got {}",
                other.kind()
            ),
        }
    }

    /// The `usize` array as a view of rank `D`.
    ///
    /// # Panics
    /// If the value is not a `usize` array of that rank.
    pub fn int<D: Dimension>(&self, name: &str) -> ArrayView<'_, usize, D> {
        match self {
            DynValue::Int(a) => a.view().into_dimensionality::<D>().unwrap_or_else(|_| {
                panic!(
                    "input `{name}` must be a {}-D usize array, got shape {:?}",
                    D::NDIM.unwrap_or(0),
                    a.shape()
                )
            }),
            other => panic!("input `{name}` must be a usize array, got {}", other.kind()),
        }
    }

    /// The `usize` scalar.
    ///
    /// # Panics
    /// If the value is not a `usize` scalar.
    pub fn size(&self, name: &str) -> usize {
        match self {
            DynValue::Usize(n) => *n,
            other => panic!("input `{name}` must be a usize, got {}", other.kind()),
        }
    }

    fn kind(&self) -> String {
        match self {
            DynValue::Float(a) => format!("a float array of shape {:?}", a.shape()),
            DynValue::Int(a) => format!("a usize array of shape {:?}", a.shape()),
            DynValue::Usize(n) => format!("the usize {n}"),
        }
    }
}

/// What an input of a differentiable function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A float array of a rank (0 for a float scalar); `grad` tells whether a gradient is generated.
    Float {
        /// The rank.
        rank: usize,
        /// Whether the function returns a gradient for it.
        grad: bool,
    },
    /// A `usize` array of a rank.
    Int {
        /// The rank.
        rank: usize,
    },
    /// A `usize` scalar.
    Usize,
}

/// One input of a differentiable function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputSpec {
    /// Its name in the source.
    pub name: &'static str,
    /// What it is.
    pub kind: InputKind,
}

/// Forward on dynamic-rank inputs: one array per output.
pub type DynForward<T> = fn(&[DynValue<T>]) -> Vec<ArrayD<T>>;
/// Backward on dynamic-rank inputs and one upstream gradient per output:
/// one gradient per input, `None` for inputs that take none.
pub type DynBackward<T> = fn(&[DynValue<T>], &[ArrayD<T>]) -> Vec<Option<ArrayD<T>>>;

/// A `#[differentiable]` function seen through dynamic ranks, as `name_dyn()` returns it.
#[derive(Clone, Debug)]
pub struct DynFunction<T> {
    /// The function's name.
    pub name: &'static str,
    /// Its inputs, in order.
    pub inputs: Vec<InputSpec>,
    /// The rank of each output.
    pub output_ranks: Vec<usize>,
    /// The source of the generated backward pass, with origin comments (as in its rustdoc).
    pub backward_source: &'static str,
    /// Runs the forward pass.
    pub forward: DynForward<T>,
    /// Runs the training forward and the backward pass.
    pub backward: DynBackward<T>,
    /// For an item with a backward of the user's own (`backward = ..`), the one
    /// the compiler derived, which `check_against_derived` compares it with.
    pub derived_backward: Option<DynBackward<T>>,
}

/// The single element of a 0-d array (used by generated code for scalar outputs).
///
/// # Panics
/// If the array does not have exactly one element.
pub fn scalar_of<T: Real>(a: &ArrayD<T>) -> T {
    assert_eq!(
        a.len(),
        1,
        "expected a scalar (0-d array), got shape {:?}",
        a.shape()
    );
    a.iter().copied().next().unwrap_or_else(T::zero)
}
