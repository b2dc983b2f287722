use backprop::prelude::*;

/// `backward = ..`: `scale_backward` calls the hand-written rule; the derived
/// one is `scale_derived_backward`; every input is saved.
#[differentiable(backward = scale_by_hand, check(x = [4, 3], s = 2.0))]
pub fn scale<T: Real>(x: ArrayView2<T>, s: T) -> Array2<T> {
    x * s
}

pub fn scale_by_hand<T: Real>(saved: &ScaleSaved<T>, d_out: ArrayView2<'_, T>) -> ScaleGrads<T> {
    // A float scalar input is saved as a 0-d array.
    ScaleGrads {
        x: &d_out * saved.s[()],
        s: (&d_out * &saved.x).sum(),
    }
}
