//! Optimizer state kept per parameter name, and its conversion to and from the named
//! tensors of [`Optimizer::state`](super::Optimizer::state).

use std::collections::{BTreeMap, BTreeSet};

use ndarray::ArrayD;

use super::OptimStateError;
use crate::Real;

/// `N` tensors per parameter (`["m", "v"]` for Adam), each of the parameter's shape,
/// created as zeros the first time the parameter is stepped.
///
/// They are saved as `{optimizer}.{slot}.{parameter}`, for example `adam.m.fc1.w`.
#[derive(Clone, Debug)]
pub(super) struct PerParam<T, const N: usize> {
    optimizer: &'static str,
    slots: [&'static str; N],
    by_param: BTreeMap<String, [ArrayD<T>; N]>,
}

impl<T: Real, const N: usize> PerParam<T, N> {
    /// No state yet, for the given optimizer and slot names.
    pub(super) fn new(optimizer: &'static str, slots: [&'static str; N]) -> Self {
        PerParam {
            optimizer,
            slots,
            by_param: BTreeMap::new(),
        }
    }

    /// The state of parameter `name`, zeros of `shape` on first use.
    ///
    /// # Panics
    /// If the state exists with another shape: the parameter changed shape, or the
    /// loaded state belongs to another model.
    pub(super) fn get(&mut self, name: &str, shape: &[usize]) -> &mut [ArrayD<T>; N] {
        let state = self
            .by_param
            .entry(name.to_owned())
            .or_insert_with(|| std::array::from_fn(|_| ArrayD::zeros(shape)));
        if let Some(existing) = state.iter().find(|s| s.shape() != shape) {
            panic!(
                "parameter `{name}` has shape {shape:?}, but its {} optimizer state has shape {:?}; \
                 a parameter cannot change shape between steps",
                self.optimizer,
                existing.shape()
            );
        }
        state
    }

    /// The saved name of one tensor.
    fn key(&self, slot: &str, param: &str) -> String {
        format!("{}.{slot}.{param}", self.optimizer)
    }

    /// The parameter a saved name belongs to, if it is one of this state's.
    fn param_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        let rest = key.strip_prefix(self.optimizer)?.strip_prefix('.')?;
        let (slot, param) = rest.split_once('.')?;
        self.slots.contains(&slot).then_some(param)
    }

    /// Appends every tensor with its saved name.
    pub(super) fn save_into(&self, out: &mut Vec<(String, ArrayD<T>)>) {
        for (param, tensors) in &self.by_param {
            for (slot, tensor) in self.slots.iter().zip(tensors) {
                out.push((self.key(slot, param), tensor.clone()));
            }
        }
    }

    /// All tensors with their saved names: the whole state of an optimizer whose
    /// only state this is.
    pub(super) fn to_state(&self) -> Vec<(String, ArrayD<T>)> {
        let mut state = Vec::new();
        self.save_into(&mut state);
        state
    }

    /// Replaces this state with the one in `state`, which must hold nothing else;
    /// on error it is left as it was.
    pub(super) fn load_all(
        &mut self,
        state: Vec<(String, ArrayD<T>)>,
    ) -> Result<(), OptimStateError> {
        let mut reader = StateReader::new(state)?;
        let loaded = self.read(&mut reader)?;
        reader.finish()?;
        *self = loaded;
        Ok(())
    }

    /// The state of the same optimizer and slots held in `reader`, which must have
    /// all the slots of a parameter, of one shape.
    pub(super) fn read(&self, reader: &mut StateReader<T>) -> Result<Self, OptimStateError> {
        let params: BTreeSet<String> = reader
            .tensors
            .keys()
            .filter_map(|key| self.param_of(key))
            .map(str::to_owned)
            .collect();
        let mut by_param = BTreeMap::new();
        for param in params {
            let keys = self.slots.map(|slot| self.key(slot, &param));
            let mut tensors = Vec::with_capacity(N);
            for key in &keys {
                tensors.push(reader.take(key)?);
            }
            let shape = tensors[0].shape();
            if let Some((key, odd)) = keys.iter().zip(&tensors).find(|(_, t)| t.shape() != shape) {
                return Err(OptimStateError::Shape {
                    name: key.clone(),
                    shape: odd.shape().to_vec(),
                    expected: format!("{shape:?}, the shape of `{}`", keys[0]),
                });
            }
            let tensors = tensors.try_into().expect("one tensor per slot");
            by_param.insert(param, tensors);
        }
        Ok(PerParam {
            optimizer: self.optimizer,
            slots: self.slots,
            by_param,
        })
    }
}

/// A step counter as a 0-d tensor.
pub(super) fn step_count_tensor<T: Real>(count: u64) -> ArrayD<T> {
    ArrayD::from_elem(vec![], T::lit(count as f64))
}

/// The tensors given to `load_state`, by name. Each part of an optimizer takes its
/// own; any left over is an error.
pub(super) struct StateReader<T> {
    tensors: BTreeMap<String, ArrayD<T>>,
}

impl<T: Real> StateReader<T> {
    /// Indexes the tensors by name.
    pub(super) fn new(state: Vec<(String, ArrayD<T>)>) -> Result<Self, OptimStateError> {
        let mut tensors = BTreeMap::new();
        for (name, tensor) in state {
            if tensors.contains_key(&name) {
                return Err(OptimStateError::Duplicate(name));
            }
            tensors.insert(name, tensor);
        }
        Ok(StateReader { tensors })
    }

    /// Removes and returns the tensor `name`.
    fn take(&mut self, name: &str) -> Result<ArrayD<T>, OptimStateError> {
        self.tensors
            .remove(name)
            .ok_or_else(|| OptimStateError::Missing(name.to_owned()))
    }

    /// Removes and returns the step counter `name`: one whole non-negative number,
    /// 0-d or of shape `[1]`.
    pub(super) fn take_step_count(&mut self, name: &str) -> Result<u64, OptimStateError> {
        let tensor = self.take(name)?;
        let value = match tensor.shape() {
            [] | [1] => tensor.iter().next().expect("one element").to_f64_lossy(),
            shape => {
                return Err(OptimStateError::Shape {
                    name: name.to_owned(),
                    shape: shape.to_vec(),
                    expected: "[] or [1]".to_owned(),
                });
            }
        };
        if value >= 0.0 && value.fract() == 0.0 {
            Ok(value as u64)
        } else {
            Err(OptimStateError::InvalidStepCount {
                name: name.to_owned(),
                value,
            })
        }
    }

    /// Succeeds if every tensor was taken.
    pub(super) fn finish(self) -> Result<(), OptimStateError> {
        match self.tensors.into_keys().next() {
            Some(name) => Err(OptimStateError::Unexpected(name)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, Ix1, arr0, arr1, array};

    use super::super::{Adam, AdamW, Momentum, OptimStateError, Optimizer, RmsProp, Sgd};
    use crate::optim::testing::TwoParams;
    use crate::{Param, ParamMut, Parameters};

    type State = Vec<(String, ArrayD<f64>)>;

    const G1: [f64; 3] = [0.5, -1.0, 2.0];
    const G2: [f64; 3] = [1.0, 0.0, -1.0];
    const G3: [f64; 3] = [-0.25, 3.0, 0.125];

    /// Steps `optimizer` with `G1` then `G2` on a fresh model, which it returns.
    fn two_steps(optimizer: &mut dyn Optimizer<f64>) -> TwoParams {
        let mut model = TwoParams::new([1.0, -2.0, 0.5]);
        for grads in [G1, G2] {
            model.set_grads(grads);
            optimizer.step(&mut model);
        }
        model
    }

    /// Two steps, then a third from the original optimizer and from a fresh one that
    /// loaded its state: the two third steps must be bit-identical.
    fn assert_round_trip<O: Optimizer<f64>>(make: impl Fn() -> O) {
        let mut original = make();
        let mut model = two_steps(&mut original);
        let mut restored = make();
        restored.load_state(original.state()).unwrap();
        assert_eq!(restored.state(), original.state());
        let mut twin = model.clone();
        model.set_grads(G3);
        twin.set_grads(G3);
        original.step(&mut model);
        restored.step(&mut twin);
        assert_eq!(
            model.values().map(f64::to_bits),
            twin.values().map(f64::to_bits)
        );
    }

    #[test]
    fn state_round_trip_gives_identical_steps() {
        assert_round_trip(|| Sgd::new(0.1).weight_decay(0.1));
        assert_round_trip(|| Momentum::new(0.1));
        assert_round_trip(|| Momentum::new(0.1).nesterov(true).weight_decay(0.1));
        assert_round_trip(|| RmsProp::new(0.01));
        assert_round_trip(|| Adam::new(0.01));
        assert_round_trip(|| AdamW::new(0.01));
    }

    #[test]
    fn without_the_state_the_next_step_differs() {
        // So the round trip above really carries something.
        let mut original = Adam::new(0.01);
        let mut model = two_steps(&mut original);
        let mut twin = model.clone();
        model.set_grads(G3);
        twin.set_grads(G3);
        original.step(&mut model);
        Adam::new(0.01).step(&mut twin);
        assert_ne!(model.values(), twin.values());
    }

    /// Adam's state after [`two_steps`].
    fn adam_state() -> State {
        let mut adam = Adam::new(0.1);
        two_steps(&mut adam);
        adam.state()
    }

    #[test]
    fn adam_state_names_and_shapes() {
        let state = adam_state();
        let names: Vec<&str> = state.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["adam.t", "adam.m.b", "adam.v.b", "adam.m.w", "adam.v.w"]
        );
        assert_eq!(state[0].1, arr0(2.0).into_dyn());
        assert_eq!(state[3].1.shape(), &[1, 2]);
        // AdamW keeps the same state under the same names.
        AdamW::new(0.1).load_state(state).unwrap();
        // A step count may also be a one-element vector.
        let mut state = adam_state();
        state[0].1 = arr1(&[2.0]).into_dyn();
        Adam::new(0.1).load_state(state).unwrap();
    }

    /// Loads `adam_state()` changed by `edit` into a fresh Adam.
    fn load_edited(edit: impl FnOnce(&mut State)) -> Result<(), OptimStateError> {
        let mut state = adam_state();
        edit(&mut state);
        Adam::new(0.1).load_state(state)
    }

    fn remove(state: &mut State, name: &str) -> ArrayD<f64> {
        let index = state.iter().position(|(n, _)| n == name).unwrap();
        state.remove(index).1
    }

    fn replace(state: &mut State, name: &str, tensor: ArrayD<f64>) {
        remove(state, name);
        state.push((name.to_owned(), tensor));
    }

    #[test]
    fn load_state_rejects_missing_extra_and_misshaped_tensors() {
        use OptimStateError::*;
        let missing = |name: &str| Missing(name.to_owned());
        assert_eq!(
            load_edited(|s| drop(remove(s, "adam.t"))),
            Err(missing("adam.t"))
        );
        assert_eq!(
            load_edited(|s| drop(remove(s, "adam.v.w"))),
            Err(missing("adam.v.w"))
        );
        assert_eq!(
            load_edited(|s| drop(remove(s, "adam.m.b"))),
            Err(missing("adam.m.b"))
        );

        let extra = |name: &'static str| {
            move |s: &mut State| s.push((name.to_owned(), arr0(1.0).into_dyn()))
        };
        let unexpected = |name: &str| Unexpected(name.to_owned());
        assert_eq!(load_edited(extra("adam.x.w")), Err(unexpected("adam.x.w")));
        assert_eq!(load_edited(extra("adam.m")), Err(unexpected("adam.m")));
        assert_eq!(
            load_edited(extra("momentum.velocity.w")),
            Err(unexpected("momentum.velocity.w"))
        );
        assert_eq!(
            load_edited(extra("adam.m.b")),
            Err(Duplicate("adam.m.b".to_owned()))
        );

        let misshaped_moment = load_edited(|s| replace(s, "adam.v.w", ArrayD::zeros(vec![2])));
        let expected = Shape {
            name: "adam.v.w".to_owned(),
            shape: vec![2],
            expected: "[1, 2], the shape of `adam.m.w`".to_owned(),
        };
        assert_eq!(misshaped_moment, Err(expected));
        let misshaped_count = load_edited(|s| replace(s, "adam.t", ArrayD::zeros(vec![2])));
        assert!(matches!(misshaped_count, Err(Shape { shape, .. }) if shape == [2]));
    }

    #[test]
    fn load_state_rejects_step_counts_that_are_not_whole_numbers() {
        for bad in [1.5, -1.0, f64::NAN, f64::INFINITY] {
            let result = load_edited(|s| replace(s, "adam.t", arr0(bad).into_dyn()));
            assert!(
                matches!(result, Err(OptimStateError::InvalidStepCount { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn failed_load_keeps_the_current_state() {
        let mut adam = Adam::new(0.1);
        two_steps(&mut adam);
        let before = adam.state();
        let mut bad = before.clone();
        bad.push(("adam.m.extra".to_owned(), arr0(0.0).into_dyn()));
        bad.iter_mut().for_each(|(_, t)| t.fill(7.0));
        assert!(adam.load_state(bad).is_err());
        assert_eq!(adam.state(), before);
    }

    #[test]
    fn stateless_sgd_accepts_only_an_empty_state() {
        let mut sgd = Sgd::<f64>::new(0.1);
        assert!(sgd.state().is_empty());
        assert_eq!(sgd.load_state(Vec::new()), Ok(()));
        let stray = vec![("adam.t".to_owned(), arr0(1.0f64).into_dyn())];
        assert_eq!(
            sgd.load_state(stray),
            Err(OptimStateError::Unexpected("adam.t".to_owned()))
        );
    }

    #[test]
    fn error_messages_name_the_tensor() {
        let error = load_edited(|s| replace(s, "adam.v.w", ArrayD::zeros(vec![2]))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "optimizer state tensor `adam.v.w` has shape [2], expected [1, 2], the shape of `adam.m.w`"
        );
        let error = load_edited(|s| drop(remove(s, "adam.t"))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "optimizer state tensor `adam.t` is missing"
        );
    }

    #[test]
    #[should_panic(
        expected = "parameter `w` has shape [1, 2], but its adam optimizer state has shape [2]"
    )]
    fn loaded_state_of_another_shape_panics_on_step_naming_the_parameter() {
        let mut state = adam_state();
        replace(&mut state, "adam.m.w", ArrayD::zeros(vec![2]));
        replace(&mut state, "adam.v.w", ArrayD::zeros(vec![2]));
        let mut adam = Adam::new(0.1);
        adam.load_state(state).unwrap();
        two_steps(&mut adam);
    }

    #[test]
    fn state_in_f32() {
        struct Vector(Param<f32, Ix1>);
        impl Parameters<f32> for Vector {
            fn visit_params(&mut self, f: &mut dyn FnMut(ParamMut<'_, f32>)) {
                f(self.0.as_param_mut("p"));
            }
        }
        let mut model = Vector(Param::new(array![1.0, 2.0]));
        model.0.grad = array![1.0, 1.0];
        let mut momentum = Momentum::new(0.1);
        momentum.step(&mut model);
        assert_eq!(model.0.value, array![0.9, 1.9]);
        let state = momentum.state();
        assert_eq!(
            state,
            [(
                "momentum.velocity.p".to_owned(),
                array![1.0f32, 1.0].into_dyn()
            )]
        );
        let mut restored = Momentum::new(0.1);
        restored.load_state(state).unwrap();
        assert_eq!(restored.state(), momentum.state());
    }
}
