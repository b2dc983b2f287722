use backprop::prelude::*;

#[derive(Parameters)]
struct Norm<T: Real> {
    #[param(buffer)]
    gamma: Param<T, Ix1>,
}

fn main() {}
