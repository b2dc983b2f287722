//! A layer whose forward has an error: the struct and its uses compile around it.
use backprop::prelude::*;

pub struct Affine<T: Real> {
    pub w: Param<T, Ix2>,
    pub b: Param<T, Ix1>,
}

#[differentiable(layer = Affine)]
pub fn affine<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>) -> Array2<T> {
    x.dott(&w) + &b
}

fn main() {
    let layer = Affine::<f64> {
        w: Param::new(Array2::zeros((2, 2))),
        b: Param::new(Array1::zeros(2)),
    };
    let x = Array2::<f64>::zeros((1, 2));
    let _ = affine(x.view(), layer.w.value.view(), layer.b.value.view());
}
