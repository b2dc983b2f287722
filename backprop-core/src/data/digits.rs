//! The UCI handwritten digits: 1,797 grey-scale 8x8 images of the digits 0 to 9,
//! embedded in the crate so that nothing is read or downloaded at run time.
//! Origin and licence: `data/README.md` at the root of the repository.

use std::io::Read;

use flate2::read::GzDecoder;
use ndarray::{Array1, Array2};

use super::Dataset;
use crate::Real;

/// The gzip CSV file: one image per line, 64 pixels (row-major) then the label.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../data/digits.csv.gz");

/// Pixels per image (8 x 8).
pub const DIGITS_FEATURES: usize = 64;
/// Height and width of an image.
pub const DIGITS_SIDE: usize = 8;
/// The number of classes (the digits 0 to 9).
pub const DIGITS_CLASSES: usize = 10;
/// The largest pixel value; pixels lie in `0..=16`.
pub const DIGITS_MAX_PIXEL: u8 = 16;

/// Why bytes could not be read as digits data. Lines and columns count from 1;
/// a column is a comma-separated field (columns 1 to 64 are pixels, 65 the label).
#[derive(Debug, thiserror::Error)]
pub enum DigitsError {
    /// The bytes are not a complete gzip stream (bad header, corrupt or truncated).
    #[error("digits data is not valid gzip: {0}")]
    Gzip(#[source] std::io::Error),
    /// A line is not valid UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The line.
        line: usize,
    },
    /// A line does not have 64 pixels and a label.
    #[error(
        "line {line}: expected {} fields (64 pixels and a label), found {found}",
        DIGITS_FEATURES + 1
    )]
    FieldCount {
        /// The line.
        line: usize,
        /// The number of fields found.
        found: usize,
    },
    /// A field is not an integer.
    #[error("line {line}, column {column}: {text:?} is not an integer")]
    BadNumber {
        /// The line.
        line: usize,
        /// The column.
        column: usize,
        /// The field as written.
        text: String,
    },
    /// A pixel is outside `0..=16`.
    #[error("line {line}, column {column}: pixel {value} is outside 0..={DIGITS_MAX_PIXEL}")]
    PixelOutOfRange {
        /// The line.
        line: usize,
        /// The column.
        column: usize,
        /// The value found.
        value: i64,
    },
    /// A label is outside `0..=9`.
    #[error("line {line}, column {column}: label {value} is outside 0..={}", DIGITS_CLASSES - 1)]
    LabelOutOfRange {
        /// The line.
        line: usize,
        /// The column.
        column: usize,
        /// The value found.
        value: i64,
    },
    /// The data holds no rows at all.
    #[error("digits data holds no rows")]
    Empty,
}

/// The digits data set: features `[1797, 64]` holding the raw pixel values
/// `0..=16` (divide by [`DIGITS_MAX_PIXEL`] for `[0, 1]`), labels `0..=9` with
/// about 180 examples per class, in the order of the file.
pub fn digits<T: Real>() -> Dataset<T> {
    // The embedded file is fixed at compile time and checked by the tests below,
    // so a failure here is a broken build, not bad input.
    parse_digits_csv_gz(DIGITS_CSV_GZ).expect("the embedded digits data is valid")
}

/// Parses gzip-compressed CSV in the digits format: one example per line,
/// 64 integer pixels in `0..=16`, then an integer label in `0..=9`. Blank lines
/// and a final newline are ignored; spaces around fields are allowed.
///
/// Never panics: any malformed input gives a [`DigitsError`] naming where.
pub fn parse_digits_csv_gz<T: Real>(gzip_bytes: &[u8]) -> Result<Dataset<T>, DigitsError> {
    let mut csv = Vec::new();
    GzDecoder::new(gzip_bytes)
        .read_to_end(&mut csv)
        .map_err(DigitsError::Gzip)?;

    let mut pixels: Vec<T> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    for (index, raw_line) in csv.split(|&byte| byte == b'\n').enumerate() {
        let line = index + 1;
        let text = std::str::from_utf8(raw_line).map_err(|_| DigitsError::NotUtf8 { line })?;
        if text.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        if fields.len() != DIGITS_FEATURES + 1 {
            return Err(DigitsError::FieldCount {
                line,
                found: fields.len(),
            });
        }
        for (column_index, field) in fields.iter().enumerate() {
            let column = column_index + 1;
            let value: i64 = field.parse().map_err(|_| DigitsError::BadNumber {
                line,
                column,
                text: (*field).to_string(),
            })?;
            if column <= DIGITS_FEATURES {
                if !(0..=i64::from(DIGITS_MAX_PIXEL)).contains(&value) {
                    return Err(DigitsError::PixelOutOfRange {
                        line,
                        column,
                        value,
                    });
                }
                pixels.push(T::lit(value as f64));
            } else {
                let label = usize::try_from(value)
                    .ok()
                    .filter(|&label| label < DIGITS_CLASSES)
                    .ok_or(DigitsError::LabelOutOfRange {
                        line,
                        column,
                        value,
                    })?;
                labels.push(label);
            }
        }
    }
    if labels.is_empty() {
        return Err(DigitsError::Empty);
    }

    let rows = labels.len();
    let features = Array2::from_shape_vec((rows, DIGITS_FEATURES), pixels)
        .expect("each accepted line adds exactly DIGITS_FEATURES pixels");
    Ok(Dataset::new(features, Array1::from(labels)))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    /// A valid line: 64 pixels with the given first value, then `label`.
    fn line(first_pixel: &str, label: &str) -> String {
        let mut fields = vec![first_pixel.to_string()];
        fields.extend((1..DIGITS_FEATURES).map(|i| (i % 17).to_string()));
        fields.push(label.to_string());
        fields.join(",")
    }

    #[test]
    fn embedded_digits_load_with_about_180_per_class() {
        let data = digits::<f64>();
        assert_eq!(data.features.dim(), (1797, DIGITS_FEATURES));
        assert_eq!(data.labels.len(), 1797);
        assert!(
            data.features
                .iter()
                .all(|&p| (0.0..=16.0).contains(&p) && p.fract() == 0.0)
        );
        for class in 0..DIGITS_CLASSES {
            let count = data.labels.iter().filter(|&&l| l == class).count();
            assert!((170..=190).contains(&count), "class {class}: {count}");
        }
        // Both extremes occur, so nothing was rescaled on the way in.
        assert!(data.features.iter().any(|&p| p == 16.0));
        // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
        assert_eq!(data.features.row(0).to_vec()[..4], [0.0, 0.0, 5.0, 13.0]);
        assert_eq!(data.labels[0], 0);
    }

    #[test]
    fn embedded_digits_in_f32_match_f64() {
        let narrow = digits::<f32>();
        let wide = digits::<f64>();
        assert_eq!(narrow.labels, wide.labels);
        assert_eq!(narrow.features.mapv(f64::from), wide.features);
    }

    #[test]
    fn parses_valid_lines_and_skips_blank_ones() {
        let text = format!("{}\r\n\n{}\n", line("3", "7"), line(" 16 ", "0"));
        let data = parse_digits_csv_gz::<f32>(&gzip(&text)).unwrap();
        assert_eq!(data.features.dim(), (2, DIGITS_FEATURES));
        assert_eq!(data.labels.to_vec(), [7, 0]);
        assert_eq!(data.features[[0, 0]], 3.0);
        assert_eq!(data.features[[1, 0]], 16.0);
    }

    #[test]
    fn truncated_gzip_is_a_gzip_error() {
        let bytes = gzip(&line("0", "1"));
        let truncated = &bytes[..bytes.len() / 2];
        let result = parse_digits_csv_gz::<f64>(truncated);
        assert!(matches!(result, Err(DigitsError::Gzip(_))), "{result:?}");
        // Also the real file cut short, and plain text that is not gzip at all.
        let result = parse_digits_csv_gz::<f64>(&DIGITS_CSV_GZ[..DIGITS_CSV_GZ.len() - 100]);
        assert!(matches!(result, Err(DigitsError::Gzip(_))), "{result:?}");
        let result = parse_digits_csv_gz::<f64>(line("0", "1").as_bytes());
        assert!(matches!(result, Err(DigitsError::Gzip(_))), "{result:?}");
    }

    #[test]
    fn bad_number_names_line_and_column() {
        let text = format!("{}\n{}\n", line("0", "1"), line("x5", "1"));
        let error = parse_digits_csv_gz::<f64>(&gzip(&text)).unwrap_err();
        assert!(
            matches!(&error, DigitsError::BadNumber { line: 2, column: 1, text } if text == "x5"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "line 2, column 1: \"x5\" is not an integer"
        );

        let error = parse_digits_csv_gz::<f64>(&gzip(&line("0", "1.5"))).unwrap_err();
        assert!(
            matches!(
                error,
                DigitsError::BadNumber {
                    line: 1,
                    column: 65,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn wrong_field_count_is_reported() {
        let short = format!("{}\n1,2,3\n", line("0", "1"));
        let error = parse_digits_csv_gz::<f64>(&gzip(&short)).unwrap_err();
        assert!(
            matches!(error, DigitsError::FieldCount { line: 2, found: 3 }),
            "{error:?}"
        );
        let long = format!("{},0\n", line("0", "1"));
        let error = parse_digits_csv_gz::<f64>(&gzip(&long)).unwrap_err();
        assert!(
            matches!(error, DigitsError::FieldCount { line: 1, found: 66 }),
            "{error:?}"
        );
    }

    #[test]
    fn out_of_range_values_are_reported() {
        let error = parse_digits_csv_gz::<f64>(&gzip(&line("17", "1"))).unwrap_err();
        assert!(
            matches!(
                error,
                DigitsError::PixelOutOfRange {
                    line: 1,
                    column: 1,
                    value: 17
                }
            ),
            "{error:?}"
        );
        let error = parse_digits_csv_gz::<f64>(&gzip(&line("-1", "1"))).unwrap_err();
        assert!(
            matches!(error, DigitsError::PixelOutOfRange { value: -1, .. }),
            "{error:?}"
        );
        for bad_label in ["10", "-1"] {
            let error = parse_digits_csv_gz::<f64>(&gzip(&line("0", bad_label))).unwrap_err();
            assert!(
                matches!(
                    error,
                    DigitsError::LabelOutOfRange {
                        line: 1,
                        column: 65,
                        ..
                    }
                ),
                "{error:?}"
            );
        }
    }

    #[test]
    fn empty_and_non_utf8_input_are_reported() {
        let result = parse_digits_csv_gz::<f64>(&[]);
        assert!(matches!(result, Err(DigitsError::Gzip(_))), "{result:?}");
        let error = parse_digits_csv_gz::<f64>(&gzip("\n\n")).unwrap_err();
        assert!(matches!(error, DigitsError::Empty), "{error:?}");
        let mut bytes = line("0", "1").into_bytes();
        bytes.extend_from_slice(b"\n\xff\xfe\n");
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&bytes).unwrap();
        let error = parse_digits_csv_gz::<f64>(&encoder.finish().unwrap()).unwrap_err();
        assert!(
            matches!(error, DigitsError::NotUtf8 { line: 2 }),
            "{error:?}"
        );
    }
}
