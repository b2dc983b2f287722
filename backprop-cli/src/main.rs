//! `backprop`: review the backward pass `#[differentiable]` generates. The
//! work is in the library (`backprop_cli`); this parses the command line,
//! prints, and turns failures into exit codes (0 success, 1 errors in the
//! file, 2 usage errors).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use backprop_cli::{Failure, SourceFile, expand, graph, math};
use clap::{Parser, Subcommand};

/// Review what `#[differentiable]` generates for the functions of a Rust file.
#[derive(Parser)]
#[command(name = "backprop", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The forward, the saved values (a memory plan) and the generated backward.
    Expand {
        /// A Rust source file with `#[differentiable]` functions.
        file: String,
        /// Only the function of this name.
        #[arg(long)]
        item: Option<String>,
        /// Also the IR after differentiation and after each pass.
        #[arg(long)]
        ir: bool,
    },
    /// The computational graph, forward in black and backward in red.
    Graph {
        /// A Rust source file with `#[differentiable]` functions.
        file: String,
        /// The function to draw (may be left out when the file has only one).
        #[arg(long)]
        item: Option<String>,
        /// Where to write it: `.svg` (drawn) or `.dot` (Graphviz).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Each backward statement as math (CS231n style).
    Math {
        /// A Rust source file with `#[differentiable]` functions.
        file: String,
        /// Only the function of this name.
        #[arg(long)]
        item: Option<String>,
    },
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Expand { file, item, ir } => {
            let file = SourceFile::read(&file)?;
            let (out, warnings) =
                expand::expand_file(&file, item.as_deref(), expand::Options { ir })?;
            eprint!("{warnings}");
            print!("{out}");
        }
        Command::Graph { file, item, output } => {
            let file = SourceFile::read(&file)?;
            let text = graph::graph_file(&file, item.as_deref(), &output)?;
            std::fs::write(&output, text)
                .map_err(|e| Failure::Usage(format!("cannot write `{}`: {e}", output.display())))?;
            eprintln!("wrote {}", output.display());
        }
        Command::Math { file, item } => {
            let file = SourceFile::read(&file)?;
            let (out, warnings) = math::math_file(&file, item.as_deref())?;
            eprint!("{warnings}");
            print!("{out}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.exit_code() as u8)
        }
    }
}
