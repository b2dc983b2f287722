//! SVG plots of a monitor's measurements, drawn with plotters' SVG backend (no
//! system library, no font file: SVG text is left to the viewer).

use std::error::Error;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Histogram, Monitor};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Writes every plot `monitor` has data for into `dir`.
pub(super) fn write_all(monitor: &Monitor, dir: &Path) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut write = |name: String, draw: &dyn Fn(&Path) -> Result<()>| -> io::Result<()> {
        let path = dir.join(name);
        draw(&path).map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
        written.push(path);
        Ok(())
    };
    for a in &monitor.activations {
        if let (Some(first), Some(last)) = (&a.first_histogram, &a.histogram) {
            let title = format!("activations of `{}` ({})", a.layer, a.kind.name());
            write(format!("activations_{}.svg", file_name(&a.layer)), &|p| {
                histograms(p, &title, first, last)
            })?;
        }
    }
    let norms: Vec<(String, Vec<(u64, f64)>)> = monitor
        .params
        .iter()
        .filter(|p| !p.grad_norm.is_empty())
        .map(|p| (p.name.clone(), p.grad_norm.clone()))
        .collect();
    if !norms.is_empty() {
        write("gradient_norms.svg".to_string(), &|p| {
            lines(p, "gradient norm per parameter", "step", &norms)
        })?;
    }
    for r in &monitor.recurrences {
        let (Some(first), Some(last)) = (r.records.first(), r.records.last()) else {
            continue;
        };
        let per_step = |(step, g): &(u64, super::GradientThroughTime)| {
            let points = g.step_norms.iter().enumerate();
            let points = points.map(|(t, n)| (t as u64, *n)).collect();
            (format!("step {step}"), points)
        };
        let mut series = vec![per_step(first)];
        if r.records.len() > 1 {
            series.push(per_step(last));
        }
        let title = format!("gradient norm per time step, `{}`", r.layer);
        write(format!("through_time_{}.svg", file_name(&r.layer)), &|p| {
            lines(p, &title, "time step", &series)
        })?;
    }
    Ok(written)
}

/// A layer name as a file name.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The first and last histogram of a layer, side by side.
fn histograms(path: &Path, title: &str, first: &Histogram, last: &Histogram) -> Result<()> {
    let root = SVGBackend::new(path, (1000, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(500);
    histogram(&left, first, BLUE)?;
    histogram(&right, last, RED)?;
    root.present()?;
    Ok(())
}

fn histogram(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    h: &Histogram,
    color: RGBColor,
) -> Result<()> {
    let total = h.counts.iter().sum::<u64>().max(1) as f64;
    let top = h.counts.iter().copied().max().unwrap_or(0) as f64 / total;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("step {}", h.step), ("sans-serif", 16))
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(h.lo..h.hi, 0.0..(top * 1.05).max(1e-3))?;
    chart
        .configure_mesh()
        .x_desc("output")
        .y_desc("fraction")
        .draw()?;
    let width = (h.hi - h.lo) / h.counts.len() as f64;
    chart.draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
        let x = h.lo + i as f64 * width;
        Rectangle::new([(x, 0.0), (x + width, c as f64 / total)], color.filled())
    }))?;
    Ok(())
}

/// Lines on a log scale, one per series, with a legend.
fn lines(
    path: &Path,
    title: &str,
    x_desc: &str,
    series: &[(String, Vec<(u64, f64)>)],
) -> Result<()> {
    let positive = || {
        series
            .iter()
            .flat_map(|s| &s.1)
            .map(|p| p.1)
            .filter(|v| *v > 0.0 && v.is_finite())
    };
    let lo = positive().fold(f64::INFINITY, f64::min);
    let hi = positive().fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo / 2.0, hi * 2.0)
    } else {
        (1e-3, 1.0)
    };
    let x_max = series
        .iter()
        .flat_map(|s| &s.1)
        .map(|p| p.0)
        .max()
        .unwrap_or(1)
        .max(1);
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0..x_max, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("L2 norm")
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let kept = points
            .iter()
            .copied()
            .filter(|p| p.1 > 0.0 && p.1.is_finite());
        chart
            .draw_series(LineSeries::new(kept, color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}
