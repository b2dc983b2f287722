use backprop::prelude::*;

#[derive(Parameters)]
#[parameters(flaot = f32)]
struct Dense {
    w: Param<f32, Ix2>,
}

fn main() {}
