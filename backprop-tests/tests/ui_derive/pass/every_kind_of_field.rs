//! Every kind of field, a renamed crate and a float named by the attribute.
use backprop::layers::{Affine, BatchNorm};
use backprop::model::Sequential;
use backprop::prelude::*;

#[derive(Parameters)]
pub struct Block<T: Real> {
    w: Param<T, Ix2>,
    #[param(nested)]
    norm: BatchNorm<T>,
    #[param(nested)]
    model: Sequential<T>,
    #[param(buffer)]
    scale: Array1<T>,
    #[param(skip)]
    frozen: Param<T, Ix1>,
    eps: T,
}

#[derive(Parameters)]
#[parameters(float = f32, crate = bp)]
struct Head {
    #[param(nested)]
    fc: Affine<f32>,
}

extern crate backprop as bp;

fn takes<T: Real>(_: &mut impl Parameters<T>) {}

fn main() {
    let mut head = Head {
        fc: Affine::new(2, 3, &mut backprop::SeededRng::new(0)),
    };
    takes::<f32>(&mut head);
    let _ = Block::<f64> {
        w: Param::new(Array2::zeros((1, 1))),
        norm: BatchNorm::new(1),
        model: Sequential::new(),
        scale: Array1::zeros(1),
        frozen: Param::new(Array1::zeros(1)),
        eps: 0.0,
    };
}
