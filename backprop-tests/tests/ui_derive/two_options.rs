use backprop::prelude::*;

#[derive(Parameters)]
struct Norm<T: Real> {
    gamma: Param<T, Ix1>,
    #[param(skip, buffer)]
    running_mean: Array1<T>,
}

fn main() {}
