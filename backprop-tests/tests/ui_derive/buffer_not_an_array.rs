use backprop::prelude::*;

#[derive(Parameters)]
struct Norm<T: Real> {
    gamma: Param<T, Ix1>,
    #[param(buffer)]
    momentum: T,
}

fn main() {}
