use backprop::layers::Affine;
use backprop::prelude::*;

#[derive(Parameters)]
struct Block<T: Real> {
    #[param(nestd)]
    fc: Affine<T>,
}

fn main() {}
