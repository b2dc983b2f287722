//! Checkpoints in the [safetensors] format, readable by PyTorch and Hugging Face tools
//! (`safetensors.torch.load_file("model.safetensors")`).
//!
//! # Layout
//! A file is an 8-byte little-endian header length `N`, `N` bytes of JSON header
//! `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}`
//! and a byte buffer in which every tensor is stored in C order, little-endian,
//! as `F32` or `F64` according to the model's float type.
//!
//! # Names
//! - Parameters and buffers are stored under the names the model gives them
//!   ([`Parameters::visit_params`], [`Parameters::visit_buffers`]): `"0.w"`, `"fc1.b"`.
//! - Extra tensors (training state outside the model, such as optimizer moments) are
//!   stored under names that start with [`EXTRA_PREFIX`], `"optim."`:
//!   `"optim.adam.m.fc1.w"`, `"optim.adam.t"`. Model names must not start with it;
//!   [`save_checkpoint`] enforces both rules, so the two kinds never collide.
//! - On load, a tensor that is neither in the model nor an extra tensor is an error
//!   ([`CheckpointError::UnexpectedTensor`]): it means the checkpoint belongs to a
//!   different model.
//!
//! # Metadata
//! `__metadata__` holds the caller's string pairs plus `"backprop.format_version"`
//! ([`FORMAT_VERSION`]) and `"backprop.dtype"` (`"F32"` or `"F64"`). Keys starting
//! with `"backprop."` are reserved. Files without them (written by other tools) load
//! as well.
//!
//! # PyTorch's layout
//! [`torch::save_torch`] and [`torch::load_torch`] write and read a model's
//! parameters under PyTorch's `state_dict` names and shapes (`fc1.weight` as
//! `[out, in]`, `fc1.bias`), for `safetensors.torch.load_file` and
//! `save_file`; tested against files the Python package wrote.
//!
//! # Loading is all or nothing
//! Every tensor is checked (present, of its shape and dtype, finite unless
//! [`LoadOptions::allow_non_finite`]) before the model changes;
//! [`prepare_load`] does the checking alone, so that a load of a model and an
//! optimizer (`train::load_training_checkpoint`) checks both before writing either.
//!
//! # Safety against bad files and interrupted saves
//! Saving writes a temporary file next to the target, syncs it and renames it over the
//! target, so the target always holds either the old or the new checkpoint (a crash
//! can leave a hidden `.NAME.*.tmp` file beside it, never a partial `NAME`). Reading
//! checks every size and offset before using it and returns an error, never panics.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{ArrayD, ArrayRef, ArrayViewMutD, IxDyn};
use safetensors::tensor::TensorInfo;
use safetensors::{Dtype, SafeTensors, View};

use crate::{Parameters, Real};

pub mod torch;

/// The prefix of every extra (non-model) tensor name, such as `"optim.adam.m.fc1.w"`.
pub const EXTRA_PREFIX: &str = "optim.";

/// The version of the layout described in the module documentation, stored under
/// `"backprop.format_version"`.
pub const FORMAT_VERSION: &str = "1";

const META_PREFIX: &str = "backprop.";
const VERSION_KEY: &str = "backprop.format_version";
const DTYPE_KEY: &str = "backprop.dtype";
const METADATA_NAME: &str = "__metadata__";
/// The largest header the reference implementation accepts.
const MAX_HEADER_LEN: u64 = 100_000_000;

/// What can go wrong saving or loading a checkpoint. Each variant names the file
/// part, tensor or size at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading, writing, syncing or renaming a file failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The checkpoint (or its directory) being accessed.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is shorter than the 8-byte header length.
    #[error("file truncated: {len} bytes, too short for the 8-byte header length")]
    Truncated {
        /// The file's length in bytes.
        len: usize,
    },
    /// The header length is larger than the rest of the file (a truncated file) or
    /// than the 100 MB the format allows.
    #[error("header length {claimed} exceeds the limit of {limit} bytes (truncated file?)")]
    HeaderLength {
        /// The length the file states.
        claimed: u64,
        /// The bytes after the length field, or the format's limit if smaller.
        limit: u64,
    },
    /// The header is not valid JSON or not the expected structure.
    #[error("invalid header: {0}")]
    Header(String),
    /// A tensor's data offsets are reversed or reach past the data buffer (a
    /// truncated file, for example).
    #[error(
        "tensor `{name}`: data offsets [{begin}, {end}) outside the {data_len}-byte data buffer"
    )]
    OffsetsOutOfRange {
        /// The tensor.
        name: String,
        /// Its first byte.
        begin: usize,
        /// One past its last byte.
        end: usize,
        /// The length of the data buffer.
        data_len: usize,
    },
    /// Two tensors share bytes.
    #[error("tensors `{first}` and `{second}` overlap")]
    Overlap {
        /// The tensor that starts first.
        first: String,
        /// The tensor that starts inside it.
        second: String,
    },
    /// Bytes of the data buffer belong to no tensor.
    #[error("bytes [{begin}, {end}) of the data buffer belong to no tensor")]
    Gap {
        /// The first unused byte.
        begin: usize,
        /// One past the last unused byte.
        end: usize,
    },
    /// A tensor's byte range does not match its dtype and shape.
    #[error("tensor `{name}`: dtype and shape need {expected} bytes, data offsets span {found}")]
    SizeMismatch {
        /// The tensor.
        name: String,
        /// The size that dtype and shape imply.
        expected: usize,
        /// The size of the byte range.
        found: usize,
    },
    /// The reference implementation rejected the file or the tensors to write, for a
    /// reason the checks above do not cover.
    #[error("safetensors: {0}")]
    Safetensors(String),
    /// The file was written by a newer, unknown version of this layout.
    #[error("unsupported checkpoint format version {0:?} (this build reads {FORMAT_VERSION:?})")]
    UnsupportedVersion(String),
    /// A parameter or buffer of the model is not in the file.
    #[error("missing tensor `{0}`")]
    MissingTensor(String),
    /// The file holds a tensor that is neither in the model nor an extra tensor.
    #[error("tensor `{0}` is not in the model and its name does not start with `{EXTRA_PREFIX}`")]
    UnexpectedTensor(String),
    /// A tensor's shape differs from the model's.
    #[error("tensor `{name}`: expected shape {expected:?}, found {found:?}")]
    WrongShape {
        /// The tensor.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A tensor's dtype differs from the model's float type.
    #[error("tensor `{name}`: expected dtype {expected}, found {found}")]
    WrongDtype {
        /// The tensor.
        name: String,
        /// The dtype of the model's float type.
        expected: String,
        /// The file's dtype.
        found: String,
    },
    /// A tensor or metadata name breaks the naming rules of the module documentation.
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The float type has no safetensors dtype (only `f32` and `f64` have).
    #[error("float type {0} cannot be stored in a checkpoint")]
    UnsupportedType(&'static str),
    /// A tensor holds NaN or infinite values (a checkpoint saved after training
    /// diverged), which loading refuses unless [`LoadOptions::allow_non_finite`].
    #[error(
        "tensor `{name}` holds {count} non-finite values (NaN or infinity); load it with `LoadOptions {{ allow_non_finite: true, .. }}` if that is intended"
    )]
    NonFinite {
        /// The tensor, as named in the file.
        name: String,
        /// How many of its elements are NaN or infinite.
        count: usize,
    },
}

/// How [`load_checkpoint_with`] and `load_training_checkpoint_with` treat what
/// they find.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Accept tensors with NaN or infinite values (refused by default:
    /// [`CheckpointError::NonFinite`]).
    pub allow_non_finite: bool,
}

/// One tensor of a safetensors file, as stored: name, dtype (`"F32"`, `"BF16"`, ...),
/// shape and little-endian bytes in C order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorBytes<'a> {
    /// The tensor's name.
    pub name: String,
    /// The dtype as the format spells it.
    pub dtype: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// The data, exactly as long as dtype and shape require.
    pub data: &'a [u8],
}

impl TensorBytes<'_> {
    /// The tensor as an array of `T`, if its dtype is `T`'s.
    pub fn to_array<T: Real>(&self) -> Result<ArrayD<T>, CheckpointError> {
        let expected = dtype_of::<T>()?.to_string();
        if self.dtype != expected {
            return Err(CheckpointError::WrongDtype {
                name: self.name.clone(),
                expected,
                found: self.dtype.clone(),
            });
        }
        ArrayD::from_shape_vec(IxDyn(&self.shape), decode(self.data)?)
            .map_err(|e| CheckpointError::Header(format!("tensor `{}`: {e}", self.name)))
    }
}

/// The validated contents of a safetensors file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorFile<'a> {
    /// The tensors in the order of their data.
    pub tensors: Vec<TensorBytes<'a>>,
    /// The `__metadata__` pairs (empty if there are none).
    pub metadata: BTreeMap<String, String>,
}

/// What [`load_checkpoint`] returns besides filling the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded<T> {
    /// The extra tensors (names starting with [`EXTRA_PREFIX`]) in file order.
    pub extra: Vec<(String, ArrayD<T>)>,
    /// The caller's metadata as saved (without the reserved `"backprop."` keys).
    pub metadata: BTreeMap<String, String>,
}

/// Writes every parameter value and buffer of `model`, the `extra` tensors and
/// `metadata` to `path`, atomically: on error the previous file at `path`, if any,
/// is left as it was.
///
/// Extra names must start with [`EXTRA_PREFIX`], model names must not, all names must
/// be distinct, and metadata keys must not start with `"backprop."`
/// ([`CheckpointError::InvalidName`] otherwise).
pub fn save_checkpoint<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    extra: &[(String, ArrayD<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    // Encoded while visiting: the model's arrays are not copied more than once.
    let mut tensors = Vec::new();
    visit_all(model, &mut |name, value| {
        tensors.push((name.to_owned(), Tensor::new(&value)));
    });
    let model_names = tensors.iter().map(|(name, _)| name);
    check_names(model_names, extra.iter().map(|(name, _)| name), metadata)?;
    let extra = extra
        .iter()
        .map(|(name, array)| (name.clone(), Tensor::new(array)));
    let tensors = tensors
        .into_iter()
        .chain(extra)
        .map(|(name, tensor)| Ok((name, tensor?)))
        .collect::<Result<Vec<_>, CheckpointError>>()?;

    let mut header_metadata: HashMap<String, String> = metadata.clone().into_iter().collect();
    header_metadata.insert(VERSION_KEY.to_owned(), FORMAT_VERSION.to_owned());
    header_metadata.insert(DTYPE_KEY.to_owned(), dtype_of::<T>()?.to_string());
    let mut bytes = safetensors::serialize(tensors, Some(header_metadata))
        .map_err(|e| CheckpointError::Safetensors(e.to_string()))?;
    canonicalize_header(&mut bytes)?;

    write_atomically(path, |file| file.write_all(&bytes))
}

/// Rewrites the JSON header with its keys sorted, so that the same model always
/// gives the same bytes (the serializer takes the metadata as a `HashMap`, whose
/// order changes from run to run). The header keeps its length: the same JSON in
/// another order is as long, and the padding after it is spaces.
fn canonicalize_header(bytes: &mut [u8]) -> Result<(), CheckpointError> {
    let bad = |why: &str| CheckpointError::Header(format!("serializer output: {why}"));
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("too short"))?;
    let len = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| bad("header length"))?;
    let header = bytes
        .get_mut(8..8 + len)
        .ok_or_else(|| bad("header length"))?;
    // serde_json's map is ordered by key, so a round trip sorts every object.
    let value: serde_json::Value =
        serde_json::from_slice(header.trim_ascii_end()).map_err(|e| bad(&e.to_string()))?;
    let sorted = serde_json::to_vec(&value).map_err(|e| bad(&e.to_string()))?;
    if sorted.len() > header.len() {
        return Err(bad("sorted header is longer"));
    }
    header.fill(b' ');
    header[..sorted.len()].copy_from_slice(&sorted);
    Ok(())
}

/// Loads every parameter value and buffer of `model` from the checkpoint at `path`,
/// by name, and returns the extra tensors and the metadata.
///
/// All tensors are checked (presence, dtype, shape, no unexpected names, no
/// NaN or infinity) before the model is touched, so on error the model is
/// unchanged. [`load_checkpoint_with`] takes [`LoadOptions`].
pub fn load_checkpoint<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
) -> Result<Loaded<T>, CheckpointError> {
    load_checkpoint_with(path, model, &LoadOptions::default())
}

/// [`load_checkpoint`] with [`LoadOptions`].
pub fn load_checkpoint_with<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    options: &LoadOptions,
) -> Result<Loaded<T>, CheckpointError> {
    Ok(prepare_load(path, model, options)?.apply(model))
}

/// A checkpoint read and checked against a model, not yet written into it: what
/// an all-or-nothing load of a model and something else (an optimizer) checks
/// both against before it changes either.
#[derive(Debug)]
pub struct PreparedLoad<T> {
    /// The model's values by name.
    values: HashMap<String, ArrayD<T>>,
    /// What the load returns.
    loaded: Loaded<T>,
}

impl<T: Real> PreparedLoad<T> {
    /// The extra tensors the file holds (names starting with [`EXTRA_PREFIX`]).
    pub fn extra(&self) -> &[(String, ArrayD<T>)] {
        &self.loaded.extra
    }

    /// Writes the values into the model (checked against it already) and
    /// returns the extra tensors and the metadata.
    pub fn apply(self, model: &mut dyn Parameters<T>) -> Loaded<T> {
        write_values(model, &self.values);
        self.loaded
    }
}

/// Reads the checkpoint at `path` and checks it against `model` (every
/// parameter and buffer present with its shape and dtype, nothing unexpected,
/// finite values unless `options` allow others), without changing the model.
pub fn prepare_load<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
    options: &LoadOptions,
) -> Result<PreparedLoad<T>, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| io_error(path, source))?;
    let mut file = read_tensors(&bytes)?;
    if let Some(version) = file.metadata.get(VERSION_KEY)
        && version != FORMAT_VERSION
    {
        return Err(CheckpointError::UnsupportedVersion(version.clone()));
    }
    let by_name: HashMap<&str, &TensorBytes> =
        file.tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    let checked = |tensor: &TensorBytes| -> Result<ArrayD<T>, CheckpointError> {
        let array = tensor.to_array::<T>()?;
        check_finite(&tensor.name, &array, options)?;
        Ok(array)
    };

    let mut wanted = Vec::new();
    visit_all(model, &mut |name, value| {
        wanted.push((name.to_owned(), value.shape().to_vec()));
    });
    let mut values = HashMap::new();
    for (name, shape) in wanted {
        let tensor = by_name
            .get(name.as_str())
            .ok_or_else(|| CheckpointError::MissingTensor(name.clone()))?;
        if tensor.shape != shape {
            return Err(CheckpointError::WrongShape {
                name,
                expected: shape,
                found: tensor.shape.clone(),
            });
        }
        values.insert(name, checked(tensor)?);
    }

    let mut extra = Vec::new();
    for tensor in &file.tensors {
        if values.contains_key(&tensor.name) {
            continue;
        }
        if !tensor.name.starts_with(EXTRA_PREFIX) {
            return Err(CheckpointError::UnexpectedTensor(tensor.name.clone()));
        }
        extra.push((tensor.name.clone(), checked(tensor)?));
    }
    file.metadata.retain(|key, _| !key.starts_with(META_PREFIX));
    Ok(PreparedLoad {
        values,
        loaded: Loaded {
            extra,
            metadata: file.metadata,
        },
    })
}

/// [`CheckpointError::NonFinite`] for a tensor with NaN or infinite values,
/// unless `options` allow them.
fn check_finite<T: Real>(
    name: &str,
    array: &ArrayD<T>,
    options: &LoadOptions,
) -> Result<(), CheckpointError> {
    let count = array.iter().filter(|v| !v.is_finite()).count();
    if count == 0 || options.allow_non_finite {
        return Ok(());
    }
    Err(CheckpointError::NonFinite {
        name: name.to_owned(),
        count,
    })
}

/// Parses and validates a safetensors file held in memory, without converting data.
///
/// Accepts any dtype the format knows. Checks the header length, the header's
/// structure and that the tensors' byte ranges tile the data buffer exactly (each
/// as long as dtype and shape require), then has the reference implementation
/// validate the file too.
pub fn read_tensors(bytes: &[u8]) -> Result<TensorFile<'_>, CheckpointError> {
    let (len_field, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or(CheckpointError::Truncated { len: bytes.len() })?;
    let claimed = u64::from_le_bytes(*len_field);
    let limit = MAX_HEADER_LEN.min(rest.len() as u64);
    let (header, data) = usize::try_from(claimed)
        .ok()
        .filter(|_| claimed <= limit)
        .and_then(|n| rest.split_at_checked(n))
        .ok_or(CheckpointError::HeaderLength { claimed, limit })?;

    let entries: BTreeMap<String, serde_json::Value> = serde_json::from_slice(header)
        .map_err(|e| CheckpointError::Header(format!("not a JSON object: {e}")))?;
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, value) in entries {
        if name == METADATA_NAME {
            metadata = serde_json::from_value(value).map_err(|e| {
                CheckpointError::Header(format!("`{METADATA_NAME}` is not a string map: {e}"))
            })?;
        } else {
            let info: TensorInfo = serde_json::from_value(value)
                .map_err(|e| CheckpointError::Header(format!("tensor `{name}`: {e}")))?;
            check_tensor(&name, &info, data.len())?;
            tensors.push((name, info));
        }
    }
    tensors.sort_by_key(|(_, info)| info.data_offsets);
    check_tiling(&tensors, data.len())?;
    // Everything the reference checks should already be checked above; this makes
    // sure no file is accepted here that Python's loader would reject.
    SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Safetensors(e.to_string()))?;

    let tensors = tensors
        .into_iter()
        .map(|(name, info)| TensorBytes {
            name,
            dtype: info.dtype.to_string(),
            data: &data[info.data_offsets.0..info.data_offsets.1],
            shape: info.shape,
        })
        .collect();
    Ok(TensorFile { tensors, metadata })
}

/// Checks one tensor's byte range against the buffer and against its dtype and shape.
fn check_tensor(name: &str, info: &TensorInfo, data_len: usize) -> Result<(), CheckpointError> {
    let (begin, end) = info.data_offsets;
    if begin > end || end > data_len {
        let name = name.to_owned();
        return Err(CheckpointError::OffsetsOutOfRange {
            name,
            begin,
            end,
            data_len,
        });
    }
    let expected = info
        .shape
        .iter()
        .try_fold(info.dtype.bitsize(), |bits, &dim| bits.checked_mul(dim))
        .ok_or_else(|| {
            let shape = &info.shape;
            CheckpointError::Header(format!("tensor `{name}`: shape {shape:?} is too large"))
        })?
        .div_ceil(8);
    if end - begin != expected {
        let name = name.to_owned();
        let found = end - begin;
        return Err(CheckpointError::SizeMismatch {
            name,
            expected,
            found,
        });
    }
    Ok(())
}

/// Checks that tensors sorted by offset cover the data buffer without overlap or gap.
fn check_tiling(tensors: &[(String, TensorInfo)], data_len: usize) -> Result<(), CheckpointError> {
    let mut covered = 0;
    let mut previous: Option<&str> = None;
    for (name, info) in tensors {
        let (begin, end) = info.data_offsets;
        if begin < covered {
            return Err(CheckpointError::Overlap {
                first: previous.unwrap_or_default().to_owned(),
                second: name.clone(),
            });
        }
        if begin > covered {
            return Err(CheckpointError::Gap {
                begin: covered,
                end: begin,
            });
        }
        covered = end;
        previous = Some(name);
    }
    if covered < data_len {
        return Err(CheckpointError::Gap {
            begin: covered,
            end: data_len,
        });
    }
    Ok(())
}

/// Checks the naming rules of the module documentation before anything is written.
fn check_names<'a>(
    model: impl Iterator<Item = &'a String>,
    extra: impl Iterator<Item = &'a String>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let mut seen = HashSet::new();
    let model = model.map(|name| (name, false));
    for (name, is_extra) in model.chain(extra.map(|name| (name, true))) {
        let reason = if !seen.insert(name) {
            "used by two tensors"
        } else if name == METADATA_NAME {
            "reserved by the safetensors format"
        } else if is_extra && !name.starts_with(EXTRA_PREFIX) {
            "extra tensor names must start with `optim.`"
        } else if !is_extra && name.starts_with(EXTRA_PREFIX) {
            "model tensor names must not start with `optim.`"
        } else {
            continue;
        };
        let name = name.clone();
        return Err(CheckpointError::InvalidName { name, reason });
    }
    match metadata.keys().find(|key| key.starts_with(META_PREFIX)) {
        Some(key) => Err(CheckpointError::InvalidName {
            name: key.clone(),
            reason: "metadata keys starting with `backprop.` are reserved",
        }),
        None => Ok(()),
    }
}

/// Writes each checked value into the parameter or buffer of its name.
fn write_values<T: Real>(model: &mut dyn Parameters<T>, values: &HashMap<String, ArrayD<T>>) {
    visit_all(model, &mut |name, mut value| {
        // Shapes were checked; the guard only keeps a model that changes its
        // shapes between two visits from panicking here.
        if let Some(array) = values.get(name)
            && value.shape() == array.shape()
        {
            value.assign(array);
        }
    });
}

/// Calls `f` with every parameter value, then every buffer, of `model`.
fn visit_all<T: Real>(
    model: &mut dyn Parameters<T>,
    f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>),
) {
    model.visit_params(&mut |p| f(p.name, p.value));
    model.visit_buffers(f);
}

/// A tensor to write, in the form the safetensors serializer takes.
struct Tensor {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

// `Real` is implemented for f32 and f64 but is not sealed. The conversions below go
// from `T` to the concrete type through `Any`, which moves bits unchanged (NaN
// payloads included), unlike a float conversion.

impl Tensor {
    /// The elements of `array` in C order as little-endian bytes.
    fn new<T: Real>(array: &ArrayRef<T, IxDyn>) -> Result<Self, CheckpointError> {
        let values: Vec<T> = array.iter().copied().collect();
        let values: &dyn Any = &values;
        let data = if let Some(values) = values.downcast_ref::<Vec<f32>>() {
            values.iter().flat_map(|x| x.to_le_bytes()).collect()
        } else if let Some(values) = values.downcast_ref::<Vec<f64>>() {
            values.iter().flat_map(|x| x.to_le_bytes()).collect()
        } else {
            return Err(CheckpointError::UnsupportedType(T::NAME));
        };
        let (dtype, shape) = (dtype_of::<T>()?, array.shape().to_vec());
        Ok(Tensor { dtype, shape, data })
    }
}

impl View for Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The dtype of `T`.
fn dtype_of<T: Real>() -> Result<Dtype, CheckpointError> {
    match TypeId::of::<T>() {
        id if id == TypeId::of::<f32>() => Ok(Dtype::F32),
        id if id == TypeId::of::<f64>() => Ok(Dtype::F64),
        _ => Err(CheckpointError::UnsupportedType(T::NAME)),
    }
}

/// The inverse of [`Tensor::new`]'s encoding.
fn decode<T: Real>(bytes: &[u8]) -> Result<Vec<T>, CheckpointError> {
    let values: Box<dyn Any> = if dtype_of::<T>()? == Dtype::F32 {
        let values: Vec<f32> = bytes
            .as_chunks()
            .0
            .iter()
            .map(|c| f32::from_le_bytes(*c))
            .collect();
        Box::new(values)
    } else {
        let values: Vec<f64> = bytes
            .as_chunks()
            .0
            .iter()
            .map(|c| f64::from_le_bytes(*c))
            .collect();
        Box::new(values)
    };
    values
        .downcast()
        .map(|values| *values)
        .map_err(|_| CheckpointError::UnsupportedType(T::NAME))
}

/// A tensor's values as `T`, from `F32` or `F64` (widened or rounded), for
/// files of other tools, whose float type need not be the model's.
fn decode_as<T: Real>(tensor: &TensorBytes<'_>) -> Result<Vec<T>, CheckpointError> {
    match tensor.dtype.as_str() {
        "F32" => Ok(decode::<f32>(tensor.data)?
            .into_iter()
            .map(|v| T::lit(f64::from(v)))
            .collect()),
        "F64" => Ok(decode::<f64>(tensor.data)?
            .into_iter()
            .map(T::lit)
            .collect()),
        other => Err(CheckpointError::WrongDtype {
            name: tensor.name.clone(),
            expected: "F32 or F64".to_owned(),
            found: other.to_owned(),
        }),
    }
}

fn io_error(path: &Path, source: io::Error) -> CheckpointError {
    let path = path.to_owned();
    CheckpointError::Io { path, source }
}

/// A temporary file that is removed when dropped, unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    renamed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Makes `path` hold what `write` writes, or leaves it as it was: writes a temporary
/// file in the same directory (a rename is only atomic within one file system),
/// syncs it, renames it over `path` and syncs the directory so the rename persists.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), CheckpointError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let error = |source| io_error(path, source);
    let file_name = path
        .file_name()
        .ok_or_else(|| error(io::Error::other("not a file name")))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(file_name);
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    temp_name.push(format!(".{}-{unique}.tmp", std::process::id()));
    let temp_path = dir.join(temp_name);

    // `create_new`: never truncate a file someone else owns.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp_path)
        .map_err(error)?;
    let mut temp = TempFile {
        path: temp_path,
        renamed: false,
    };
    write(&mut file)
        .and_then(|()| file.sync_all())
        .map_err(error)?;
    drop(file);
    fs::rename(&temp.path, path).map_err(error)?;
    temp.renamed = true;
    sync_dir(dir).map_err(|source| io_error(dir, source))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Other systems cannot open a directory to sync it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Param;
    use ndarray::{Array1, Ix1, Ix2};
    use serde_json::json;

    /// A directory under the system temp dir, unique to one test, removed on drop.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(test: &str) -> Self {
            let name = format!("backprop-ckpt-{}-{test}", std::process::id());
            let dir = std::env::temp_dir().join(name);
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TestDir(dir)
        }

        fn file(&self) -> PathBuf {
            self.0.join("model.safetensors")
        }

        fn entries(&self) -> Vec<OsString> {
            let entries = fs::read_dir(&self.0).unwrap();
            entries.map(|e| e.unwrap().file_name()).collect()
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Two parameters and a buffer, like a linear layer followed by a norm.
    #[derive(Debug, PartialEq)]
    struct Tiny<T: Real> {
        w: Param<T, Ix2>,
        b: Param<T, Ix1>,
        mean: Array1<T>,
    }

    impl<T: Real> Tiny<T> {
        /// The 11 values fill `w` (2x3), `b` (3) and `mean` (2) in order.
        fn new(values: &[T]) -> Self {
            Tiny {
                w: Param::new(
                    ndarray::Array::from_shape_vec((2, 3), values[..6].to_vec()).unwrap(),
                ),
                b: Param::new(Array1::from(values[6..9].to_vec())),
                mean: Array1::from(values[9..].to_vec()),
            }
        }

        fn counting() -> Self {
            let values: Vec<T> = (0..11).map(|i| T::lit(f64::from(i) * 0.5 - 2.0)).collect();
            Self::new(&values)
        }

        fn zeros() -> Self {
            Self::new(&[T::zero(); 11])
        }

        fn values(&self) -> Vec<T> {
            let (w, b) = (&self.w.value, &self.b.value);
            w.iter().chain(b).chain(&self.mean).copied().collect()
        }
    }

    impl<T: Real> Parameters<T> for Tiny<T> {
        fn visit_params(&mut self, f: &mut dyn FnMut(crate::ParamMut<'_, T>)) {
            f(self.w.as_param_mut("fc.w"));
            f(self.b.as_param_mut("fc.b"));
        }
        fn visit_buffers(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
            f("bn.mean", self.mean.view_mut().into_dyn());
        }
    }

    /// Any named parameters, to write checkpoints that do not fit `Tiny`.
    struct Bag(Vec<(&'static str, Param<f32, IxDyn>)>);

    impl Bag {
        fn new(tensors: &[(&'static str, &[usize])]) -> Self {
            let param = |shape: &[usize]| Param::new(ArrayD::ones(shape));
            Bag(tensors
                .iter()
                .map(|&(name, shape)| (name, param(shape)))
                .collect())
        }
    }

    impl Parameters<f32> for Bag {
        fn visit_params(&mut self, f: &mut dyn FnMut(crate::ParamMut<'_, f32>)) {
            for (name, param) in &mut self.0 {
                f(param.as_param_mut(name));
            }
        }
    }

    fn optim_m<T: Real>() -> Vec<(String, ArrayD<T>)> {
        let m = ArrayD::from_elem(IxDyn(&[2, 3]), T::lit(0.25));
        vec![("optim.adam.m.fc.w".to_owned(), m)]
    }

    fn epoch() -> BTreeMap<String, String> {
        BTreeMap::from([("epoch".to_owned(), "3".to_owned())])
    }

    fn round_trip<T: Real>(test: &str, special: [T; 5], bits: fn(T) -> u64) {
        let dir = TestDir::new(test);
        let mut values = Tiny::<T>::counting().values();
        values[..5].copy_from_slice(&special);
        let mut saved = Tiny::new(&values);
        save_checkpoint(&dir.file(), &mut saved, &optim_m(), &epoch()).unwrap();

        let mut loaded = Tiny::zeros();
        // The special values include NaN and infinities, refused by default.
        assert!(matches!(
            load_checkpoint(&dir.file(), &mut loaded),
            Err(CheckpointError::NonFinite { .. })
        ));
        let options = LoadOptions {
            allow_non_finite: true,
        };
        let rest = load_checkpoint_with(&dir.file(), &mut loaded, &options).unwrap();
        let saved_bits: Vec<u64> = saved.values().into_iter().map(bits).collect();
        let loaded_bits: Vec<u64> = loaded.values().into_iter().map(bits).collect();
        assert_eq!(saved_bits, loaded_bits);
        assert_eq!(rest.extra, optim_m());
        assert_eq!(rest.metadata, epoch());
        assert_eq!(dir.entries(), ["model.safetensors"]);
    }

    #[test]
    fn the_same_model_always_gives_the_same_bytes() {
        let dir = TestDir::new("deterministic");
        let metadata: BTreeMap<String, String> =
            (0..8).map(|i| (format!("key{i}"), i.to_string())).collect();
        let save = || {
            save_checkpoint(
                &dir.file(),
                &mut Tiny::<f32>::counting(),
                &optim_m(),
                &metadata,
            )
            .unwrap();
            fs::read(dir.file()).unwrap()
        };
        let first = save();
        for _ in 0..5 {
            assert_eq!(save(), first, "the header must not depend on hash order");
        }
    }

    #[test]
    fn round_trip_is_bit_exact_f32() {
        let nan_payload = f32::from_bits(0x7fc0_1234);
        let signaling_nan = f32::from_bits(0xff80_0001);
        let special = [nan_payload, signaling_nan, -0.0, f32::INFINITY, 1e-45];
        round_trip("f32", special, |x| u64::from(x.to_bits()));
    }

    #[test]
    fn round_trip_is_bit_exact_f64() {
        let nan_payload = f64::from_bits(0x7ff8_0000_dead_beef);
        let signaling_nan = f64::from_bits(0xfff0_0000_0000_0001);
        let special = [nan_payload, signaling_nan, -0.0, f64::NEG_INFINITY, 5e-324];
        round_trip("f64", special, f64::to_bits);
    }

    /// Parses a written file following the format specification alone.
    fn check_file_by_hand<T: Real>(test: &str, dtype: &str, le_bytes: fn(T) -> Vec<u8>) {
        let dir = TestDir::new(test);
        let mut model = Tiny::<T>::counting();
        save_checkpoint(&dir.file(), &mut model, &optim_m(), &epoch()).unwrap();
        let bytes = fs::read(dir.file()).unwrap();

        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        let data = &bytes[8 + n..];
        let header = header.as_object().unwrap();
        let keys: Vec<&str> = header.keys().map(String::as_str).collect();
        let expected_keys = [
            "__metadata__",
            "bn.mean",
            "fc.b",
            "fc.w",
            "optim.adam.m.fc.w",
        ];
        assert_eq!(keys, expected_keys);
        let metadata =
            json!({"backprop.dtype": dtype, "backprop.format_version": "1", "epoch": "3"});
        assert_eq!(header["__metadata__"], metadata);

        let values = model.values();
        let m = vec![T::lit(0.25); 6];
        let expected: [(&str, &[T], &[usize]); 4] = [
            ("fc.w", &values[..6], &[2, 3]),
            ("fc.b", &values[6..9], &[3]),
            ("bn.mean", &values[9..], &[2]),
            ("optim.adam.m.fc.w", &m, &[2, 3]),
        ];
        let mut spans = Vec::new();
        for (name, values, shape) in expected {
            let entry = &header[name];
            assert_eq!(entry["dtype"], dtype, "{name}");
            assert_eq!(entry["shape"], json!(shape), "{name}");
            let offset = |i: usize| entry["data_offsets"][i].as_u64().unwrap() as usize;
            let (begin, end) = (offset(0), offset(1));
            let le: Vec<u8> = values.iter().flat_map(|&x| le_bytes(x)).collect();
            assert_eq!(&data[begin..end], le, "{name}");
            spans.push((begin, end));
        }
        spans.sort();
        let mut covered = 0;
        for (begin, end) in spans {
            assert_eq!(begin, covered);
            covered = end;
        }
        assert_eq!(covered, data.len());
    }

    #[test]
    fn written_file_follows_the_format_spec() {
        check_file_by_hand::<f32>("spec-f32", "F32", |x| x.to_le_bytes().to_vec());
        check_file_by_hand::<f64>("spec-f64", "F64", |x| x.to_le_bytes().to_vec());
    }

    /// The 8-byte header length, the header and the data.
    fn raw(header: &[u8], data: &[u8]) -> Vec<u8> {
        let len = header.len() as u64;
        [&len.to_le_bytes()[..], header, data].concat()
    }

    fn file(header: serde_json::Value, data: &[u8]) -> Vec<u8> {
        raw(header.to_string().as_bytes(), data)
    }

    fn tensor(dtype: &str, shape: &[u64], begin: u64, end: u64) -> serde_json::Value {
        json!({"dtype": dtype, "shape": shape, "data_offsets": [begin, end]})
    }

    fn read_error(bytes: &[u8]) -> CheckpointError {
        read_tensors(bytes).unwrap_err()
    }

    #[test]
    fn reads_a_file_written_by_hand() {
        let data = [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat();
        let header = json!({"w": tensor("F32", &[2], 0, 8), "__metadata__": {"format": "pt"}});
        let bytes = file(header, &data);
        let contents = read_tensors(&bytes).unwrap();
        let w = &contents.tensors[0];
        assert_eq!((w.name.as_str(), w.dtype.as_str()), ("w", "F32"));
        assert_eq!((w.shape.as_slice(), w.data), (&[2][..], &data[..]));
        assert_eq!(contents.metadata["format"], "pt");
        assert_eq!(
            w.to_array::<f32>().unwrap().as_slice(),
            Some(&[1.5, -2.0][..])
        );
        let found = w.to_array::<f64>().unwrap_err();
        assert!(matches!(found, CheckpointError::WrongDtype { expected, .. } if expected == "F64"));
    }

    #[test]
    fn short_or_absurd_header_lengths_are_rejected() {
        use CheckpointError::{HeaderLength, Truncated};
        assert!(matches!(read_error(&[]), Truncated { len: 0 }));
        assert!(matches!(read_error(&[1, 0, 0]), Truncated { len: 3 }));
        // Must fail without trying to allocate 2^60 bytes.
        let huge = [&(1u64 << 60).to_le_bytes()[..], b"{}"].concat();
        let claimed = 1 << 60;
        assert!(matches!(read_error(&huge), HeaderLength { claimed: c, limit: 2 } if c == claimed));
        let past_end = [&100u64.to_le_bytes()[..], b"{}"].concat();
        assert!(matches!(
            read_error(&past_end),
            HeaderLength {
                claimed: 100,
                limit: 2
            }
        ));
        let over_limit = [&u64::MAX.to_le_bytes()[..], b"{}"].concat();
        assert!(matches!(read_error(&over_limit), HeaderLength { .. }));
    }

    #[test]
    fn malformed_headers_are_rejected_naming_the_tensor() {
        let cases: [(Vec<u8>, &str); 8] = [
            (raw(b"not json", b""), "JSON"),
            (raw(b"[1, 2]", b""), "JSON"),
            (raw(b"{\"w\": \xff}", b""), "JSON"),
            (
                file(json!({"w": {"dtype": "F32", "shape": [1]}}), &[0; 4]),
                "`w`",
            ),
            (file(json!({"w": tensor("F7", &[1], 0, 4)}), &[0; 4]), "`w`"),
            (
                file(
                    json!({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}),
                    &[0; 4],
                ),
                "`w`",
            ),
            (
                file(json!({"__metadata__": {"epoch": 3}}), b""),
                "__metadata__",
            ),
            (
                file(
                    json!({"w": tensor("F32", &[1 << 40, 1 << 40, 1 << 40], 0, 4)}),
                    &[0; 4],
                ),
                "too large",
            ),
        ];
        for (bytes, needle) in cases {
            let error = read_error(&bytes);
            assert!(matches!(error, CheckpointError::Header(_)), "{error:?}");
            assert!(error.to_string().contains(needle), "{error} lacks {needle}");
        }
    }

    #[test]
    fn bad_offsets_are_rejected_naming_the_tensor() {
        use CheckpointError::{Gap, OffsetsOutOfRange, Overlap, SizeMismatch};
        let past_end = file(json!({"w": tensor("F32", &[2], 0, 8)}), &[0; 4]);
        assert!(matches!(read_error(&past_end),
            OffsetsOutOfRange { name, begin: 0, end: 8, data_len: 4 } if name == "w"));
        let reversed = file(json!({"w": tensor("F32", &[1], 4, 0)}), &[0; 4]);
        assert!(matches!(read_error(&reversed), OffsetsOutOfRange { .. }));
        let wrong_size = file(json!({"w": tensor("F32", &[3], 0, 8)}), &[0; 8]);
        assert!(matches!(read_error(&wrong_size),
            SizeMismatch { name, expected: 12, found: 8 } if name == "w"));
        let f64_as_f32 = file(json!({"w": tensor("F64", &[2], 0, 8)}), &[0; 8]);
        assert!(matches!(
            read_error(&f64_as_f32),
            SizeMismatch { expected: 16, .. }
        ));
        let overlap = json!({"a": tensor("F32", &[2], 0, 8), "b": tensor("F32", &[2], 4, 12)});
        assert!(matches!(read_error(&file(overlap, &[0; 12])),
            Overlap { first, second } if first == "a" && second == "b"));
        let hole = json!({"a": tensor("F32", &[1], 0, 4), "b": tensor("F32", &[1], 8, 12)});
        assert!(matches!(
            read_error(&file(hole, &[0; 12])),
            Gap { begin: 4, end: 8 }
        ));
        let trailing = file(json!({"a": tensor("F32", &[1], 0, 4)}), &[0; 8]);
        assert!(matches!(read_error(&trailing), Gap { begin: 4, end: 8 }));
    }

    #[test]
    fn no_prefix_or_corruption_of_a_file_panics() {
        let dir = TestDir::new("fuzz");
        save_checkpoint(&dir.file(), &mut Tiny::<f32>::counting(), &[], &epoch()).unwrap();
        let bytes = fs::read(dir.file()).unwrap();
        for len in 0..bytes.len() {
            assert!(
                read_tensors(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
        for i in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[i] ^= flip;
                // Our checks, not the reference's, should catch every corruption.
                let result = read_tensors(&corrupt);
                assert!(
                    !matches!(result, Err(CheckpointError::Safetensors(_))),
                    "{result:?}"
                );
            }
        }
    }

    /// Saves `model`, then loads it into a counting `Tiny` that must stay unchanged.
    fn load_error(test: &str, model: &mut dyn Parameters<f32>) -> CheckpointError {
        let dir = TestDir::new(test);
        save_checkpoint(&dir.file(), model, &[], &BTreeMap::new()).unwrap();
        let mut tiny = Tiny::<f32>::counting();
        let error = load_checkpoint(&dir.file(), &mut tiny).unwrap_err();
        assert_eq!(tiny, Tiny::counting(), "a failed load changed the model");
        error
    }

    #[test]
    fn model_mismatches_are_rejected_naming_the_tensor() {
        use CheckpointError::{MissingTensor, UnexpectedTensor, WrongShape};
        let mut no_buffer = Bag::new(&[("fc.w", &[2, 3]), ("fc.b", &[3])]);
        let error = load_error("missing", &mut no_buffer);
        assert!(matches!(error, MissingTensor(name) if name == "bn.mean"));

        let mut transposed = Bag::new(&[("fc.w", &[3, 2]), ("fc.b", &[3]), ("bn.mean", &[2])]);
        let error = load_error("shape", &mut transposed);
        assert!(matches!(error, WrongShape { name, expected, found }
            if name == "fc.w" && expected == [2, 3] && found == [3, 2]));

        let tiny = [("fc.w", &[2, 3][..]), ("fc.b", &[3]), ("bn.mean", &[2])];
        let mut bigger = Bag::new(&[&tiny[..], &[("fc2.w", &[1])]].concat());
        let error = load_error("unexpected", &mut bigger);
        assert!(matches!(error, UnexpectedTensor(name) if name == "fc2.w"));
    }

    #[test]
    fn wrong_dtype_is_rejected() {
        let dir = TestDir::new("dtype");
        save_checkpoint(
            &dir.file(),
            &mut Tiny::<f64>::counting(),
            &[],
            &BTreeMap::new(),
        )
        .unwrap();
        let error = load_checkpoint(&dir.file(), &mut Tiny::<f32>::zeros()).unwrap_err();
        assert!(
            matches!(error, CheckpointError::WrongDtype { name, expected, found }
            if name == "fc.w" && expected == "F32" && found == "F64")
        );
    }

    #[test]
    fn loads_files_of_other_tools_but_not_newer_versions() {
        let dir = TestDir::new("foreign");
        let w = file(
            json!({"w": tensor("F32", &[1], 0, 4)}),
            &1.5f32.to_le_bytes(),
        );
        fs::write(dir.file(), w).unwrap();
        let mut model = Bag::new(&[("w", &[1])]);
        load_checkpoint(&dir.file(), &mut model).unwrap();
        assert_eq!(model.0[0].1.value[[0]], 1.5);

        let newer = json!({"__metadata__": {"backprop.format_version": "2"}});
        fs::write(dir.file(), file(newer, b"")).unwrap();
        let error = load_checkpoint(&dir.file(), &mut Bag::new(&[])).unwrap_err();
        assert!(matches!(error, CheckpointError::UnsupportedVersion(v) if v == "2"));
    }

    #[test]
    fn names_that_could_collide_are_refused_and_nothing_is_written() {
        let dir = TestDir::new("names");
        let zeros = || ArrayD::<f32>::zeros(IxDyn(&[1]));
        let extra = |name: &str| vec![(name.to_owned(), zeros())];
        let none = BTreeMap::new();
        let reserved_key = BTreeMap::from([(DTYPE_KEY.to_owned(), "F32".to_owned())]);
        let twice = [extra("optim.t"), extra("optim.t")].concat();
        let cases: [(&mut dyn Parameters<f32>, _, _, &str); 5] = [
            (&mut Tiny::counting(), extra("adam.m"), &none, "adam.m"),
            (
                &mut Bag::new(&[("optim.w", &[1])]),
                vec![],
                &none,
                "optim.w",
            ),
            (
                &mut Bag::new(&[("__metadata__", &[1])]),
                vec![],
                &none,
                "__metadata__",
            ),
            (&mut Tiny::counting(), twice, &none, "optim.t"),
            (&mut Tiny::counting(), vec![], &reserved_key, DTYPE_KEY),
        ];
        for (model, extra, metadata, bad) in cases {
            let error = save_checkpoint(&dir.file(), model, &extra, metadata).unwrap_err();
            assert!(matches!(&error, CheckpointError::InvalidName { name, .. } if name == bad));
        }
        assert!(dir.entries().is_empty());
    }

    #[test]
    fn failed_write_keeps_the_old_checkpoint() {
        let dir = TestDir::new("atomic");
        save_checkpoint(&dir.file(), &mut Tiny::<f32>::counting(), &[], &epoch()).unwrap();
        let old = fs::read(dir.file()).unwrap();

        let error = write_atomically(&dir.file(), |file| {
            file.write_all(&old[..old.len() / 2])?;
            Err(io::Error::other("simulated crash"))
        })
        .unwrap_err();
        assert!(matches!(&error, CheckpointError::Io { path, .. } if *path == dir.file()));
        assert_eq!(fs::read(dir.file()).unwrap(), old);
        assert_eq!(
            dir.entries(),
            ["model.safetensors"],
            "temporary file left behind"
        );
        let mut model = Tiny::<f32>::zeros();
        load_checkpoint(&dir.file(), &mut model).unwrap();
        assert_eq!(model, Tiny::counting());
    }

    #[test]
    fn saving_replaces_and_missing_directories_fail() {
        let dir = TestDir::new("replace");
        save_checkpoint(&dir.file(), &mut Tiny::<f32>::zeros(), &[], &epoch()).unwrap();
        save_checkpoint(&dir.file(), &mut Tiny::<f32>::counting(), &[], &epoch()).unwrap();
        let mut model = Tiny::<f32>::zeros();
        load_checkpoint(&dir.file(), &mut model).unwrap();
        assert_eq!(model, Tiny::counting());
        assert_eq!(dir.entries(), ["model.safetensors"]);

        let nowhere = dir.0.join("no such dir").join("model.safetensors");
        let error = save_checkpoint(&nowhere, &mut Tiny::<f32>::zeros(), &[], &epoch());
        assert!(matches!(error, Err(CheckpointError::Io { path, .. }) if path == nowhere));
        let error = load_checkpoint(&nowhere, &mut Tiny::<f32>::zeros());
        assert!(matches!(error, Err(CheckpointError::Io { path, .. }) if path == nowhere));
    }
}
