use backprop::prelude::*;

#[derive(Parameters)]
struct Mixed {
    w: Param<f32, Ix2>,
    b: Param<f64, Ix1>,
}

fn main() {}
