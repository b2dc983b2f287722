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
//! # Safety against bad files and interrupted saves
//! Saving writes a temporary file next to the target, syncs it and renames it over the
//! target, so the target always holds either the old or the new checkpoint. Reading
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

use ndarray::{ArrayD, ArrayViewMutD, IxDyn};
use safetensors::tensor::TensorInfo;
use safetensors::{Dtype, SafeTensors, View};

use crate::{Parameters, Real};

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
    let dtype = dtype_of::<T>()?;
    let mut tensors = Vec::new();
    visit_all(model, &mut |name, value| {
        tensors.push((name.to_owned(), value.to_owned()));
    });
    check_names(&tensors, extra, metadata)?;

    let views = tensors
        .iter()
        .chain(extra)
        .map(|(name, array)| {
            let data = encode(array)?;
            let shape = array.shape().to_vec();
            Ok((name.as_str(), Tensor { dtype, shape, data }))
        })
        .collect::<Result<Vec<_>, CheckpointError>>()?;
    let mut header_metadata: HashMap<String, String> = metadata.clone().into_iter().collect();
    header_metadata.insert(VERSION_KEY.to_owned(), FORMAT_VERSION.to_owned());
    header_metadata.insert(DTYPE_KEY.to_owned(), dtype.to_string());
    let bytes = safetensors::serialize(views, Some(header_metadata))
        .map_err(|e| CheckpointError::Safetensors(e.to_string()))?;

    write_atomically(path, |file| file.write_all(&bytes))
}

/// Loads every parameter value and buffer of `model` from the checkpoint at `path`,
/// by name, and returns the extra tensors and the metadata.
///
/// All tensors are checked (presence, dtype, shape, no unexpected names) before the
/// model is touched, so on error the model is unchanged.
pub fn load_checkpoint<T: Real>(
    path: &Path,
    model: &mut dyn Parameters<T>,
) -> Result<Loaded<T>, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| io_error(path, source))?;
    let mut file = read_tensors(&bytes)?;
    if let Some(version) = file.metadata.get(VERSION_KEY)
        && version != FORMAT_VERSION
    {
        return Err(CheckpointError::UnsupportedVersion(version.clone()));
    }
    let by_name: HashMap<&str, &TensorBytes> =
        file.tensors.iter().map(|t| (t.name.as_str(), t)).collect();

    let mut wanted = Vec::new();
    visit_all(model, &mut |name, value| {
        wanted.push((name.to_owned(), value.shape().to_vec()));
    });
    let mut values = HashMap::new();
    for (name, shape) in wanted {
        let tensor = by_name
            .get(name.as_str())
            .ok_or_else(|| CheckpointError::MissingTensor(name.clone()))?;
        let array = tensor.to_array::<T>()?;
        if array.shape() != shape {
            return Err(CheckpointError::WrongShape {
                name,
                expected: shape,
                found: tensor.shape.clone(),
            });
        }
        values.insert(name, array);
    }

    let mut extra = Vec::new();
    for tensor in &file.tensors {
        if values.contains_key(&tensor.name) {
            continue;
        }
        if !tensor.name.starts_with(EXTRA_PREFIX) {
            return Err(CheckpointError::UnexpectedTensor(tensor.name.clone()));
        }
        extra.push((tensor.name.clone(), tensor.to_array::<T>()?));
    }

    visit_all(model, &mut |name, mut value| {
        // Shapes were checked above; the guard only keeps a model that changes its
        // shapes between two visits from panicking here.
        if let Some(array) = values.get(name)
            && value.shape() == array.shape()
        {
            value.assign(array);
        }
    });
    file.metadata.retain(|key, _| !key.starts_with(META_PREFIX));
    Ok(Loaded {
        extra,
        metadata: file.metadata,
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
fn check_names<T>(
    model: &[(String, ArrayD<T>)],
    extra: &[(String, ArrayD<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let mut seen = HashSet::new();
    let model = model.iter().map(|(name, _)| (name, false));
    for (name, is_extra) in model.chain(extra.iter().map(|(name, _)| (name, true))) {
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

// `Real` is implemented for f32 and f64 but is not sealed; these functions bridge
// from `T` to the concrete type through `Any`, which copies bits unchanged (NaN
// payloads included), unlike a float conversion.

/// The dtype of `T`.
fn dtype_of<T: Real>() -> Result<Dtype, CheckpointError> {
    match TypeId::of::<T>() {
        id if id == TypeId::of::<f32>() => Ok(Dtype::F32),
        id if id == TypeId::of::<f64>() => Ok(Dtype::F64),
        _ => Err(CheckpointError::UnsupportedType(T::NAME)),
    }
}

/// The elements of `array` in C order as little-endian bytes.
fn encode<T: Real>(array: &ArrayD<T>) -> Result<Vec<u8>, CheckpointError> {
    let values: Vec<T> = array.iter().copied().collect();
    let values: &dyn Any = &values;
    if let Some(values) = values.downcast_ref::<Vec<f32>>() {
        Ok(values.iter().flat_map(|x| x.to_le_bytes()).collect())
    } else if let Some(values) = values.downcast_ref::<Vec<f64>>() {
        Ok(values.iter().flat_map(|x| x.to_le_bytes()).collect())
    } else {
        Err(CheckpointError::UnsupportedType(T::NAME))
    }
}

/// The inverse of [`encode`].
fn decode<T: Real>(bytes: &[u8]) -> Result<Vec<T>, CheckpointError> {
    let values: Box<dyn Any> = if dtype_of::<T>()? == Dtype::F32 {
        let (chunks, _) = bytes.as_chunks();
        Box::new(
            chunks
                .iter()
                .map(|c| f32::from_le_bytes(*c))
                .collect::<Vec<_>>(),
        )
    } else {
        let (chunks, _) = bytes.as_chunks();
        Box::new(
            chunks
                .iter()
                .map(|c| f64::from_le_bytes(*c))
                .collect::<Vec<_>>(),
        )
    };
    values
        .downcast()
        .map(|values| *values)
        .map_err(|_| CheckpointError::UnsupportedType(T::NAME))
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
