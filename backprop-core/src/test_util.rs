//! Helpers shared by the tests of layers, losses and models.

use ndarray::{Array, IntoDimension};

use crate::gradcheck::CheckParts;
use crate::{GradCheck, Layer, SeededRng, check_layer};

/// Standard normal samples of a shape, from a seed.
pub fn random<Sh: IntoDimension>(shape: Sh, seed: u64) -> Array<f64, Sh::Dim> {
    let mut rng = SeededRng::new(seed);
    Array::from_shape_simple_fn(shape, || rng.normal())
}

/// The settings of the layer tests: tolerance 1e-7 and a step of 1e-5. The rounding
/// error of a central difference grows like 1/step; with the default step of 1e-6 it
/// exceeds the tolerance on elements whose gradient is as small as 1e-4, which some
/// recurrent and normalization gradients are.
pub fn settings() -> GradCheck {
    GradCheck {
        eps: 1e-5,
        tolerance: 1e-7,
        ..GradCheck::default()
    }
}

/// Runs [`check_layer`] with [`settings`] and asserts it passed.
#[track_caller]
pub fn check<L>(layer: &mut L, x: &L::Input)
where
    L: Layer<f64>,
    L::Input: CheckParts,
    L::Output: CheckParts,
    L::InputGrad: CheckParts,
{
    check_layer(layer, x, &settings()).assert_passed();
}
