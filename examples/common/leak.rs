//! What the four leak demos share: their flags, and how a run's findings are shown.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use backprop::monitor::{FindingKind, Monitor, Report};

/// The flags every leak demo takes.
#[derive(clap::Args, Debug)]
pub struct LeakFlags {
    /// Apply the doctor's advice and show the numbers after it, beside the failure.
    #[arg(long)]
    pub fix: bool,
    /// Print only the doctor's findings, as JSON (schema `backprop.doctor/1`), of
    /// the last run shown (the fixed one with --fix).
    #[arg(long)]
    pub json: bool,
    /// Write the monitors' SVG plots into this directory (one subdirectory per run).
    #[arg(long)]
    pub plots: Option<PathBuf>,
    /// Seed of the data and the initialization.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl LeakFlags {
    /// Prints `text` unless only JSON is wanted.
    pub fn say(&self, text: impl std::fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    /// Shows the findings of run `name`, and writes its plots if asked.
    pub fn findings(&self, name: &str, monitor: &Monitor) -> Result<Report, Box<dyn Error>> {
        let report = monitor.report();
        self.say(format_args!("\nthe doctor, {name}:\n{report}"));
        if let Some(dir) = &self.plots {
            let dir = dir.join(name.replace(|c: char| !c.is_alphanumeric(), "_"));
            for file in monitor.write_plots(&dir)? {
                self.say(format_args!("plot: {}", file.display()));
            }
        }
        Ok(report)
    }

    /// Prints the advice of the first finding of one of `kinds` in `report`,
    /// which the fixed run is about to apply.
    pub fn apply_advice(&self, report: &Report, kinds: &[FindingKind]) {
        let advice = report
            .findings
            .iter()
            .find(|f| kinds.contains(&f.kind))
            .map_or("(the doctor found nothing of the kind)", |f| {
                f.advice.as_str()
            });
        self.say(format_args!("\napplying the advice: {advice}"));
    }

    /// Ends the demo: the last report as JSON if asked.
    pub fn finish(&self, last: &Report) {
        if self.json {
            println!("{}", last.to_json());
        }
    }
}

/// The exit code of a demo's run, printing its error.
pub fn exit(result: Result<(), Box<dyn Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
