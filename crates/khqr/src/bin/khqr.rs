//! `khqr` — command-line front end of the `khqr` crate.
//!
//! ```text
//! khqr encode [--clock-ms N]            < inputs.json   → {"qr":"…","md5":"…"}
//! khqr decode STRING [--at-ms N] [--strict]             → decoded fields as JSON
//! khqr png STRING -o FILE [--size PX]
//! khqr svg STRING -o FILE [--size PX]
//! ```
//!
//! Exit status: 0 on success, 1 when the input is refused (the reason, with
//! the SDK error code, goes to stderr), 2 for usage errors.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "khqr",
    version,
    about = "KHQR (Bakong) encoder, verifier and renderer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read one SDK-shaped inputs object (a vector's `inputs`) on stdin and
    /// print {"qr":…,"md5":…}.
    Encode {
        /// "Now" in milliseconds since the epoch (default: the system clock).
        #[arg(long)]
        clock_ms: Option<u64>,
    },
    /// Verify STRING at a clock and print its decoded fields (SDK names) as JSON.
    Decode {
        string: String,
        /// "Now" in milliseconds since the epoch (default: the system clock).
        #[arg(long)]
        at_ms: Option<u64>,
        /// Also enforce the rules the SDK skips (order, duplicates, 00=01, 58=KH, …).
        #[arg(long)]
        strict: bool,
    },
    /// Draw STRING as a PNG.
    Png {
        string: String,
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Minimum edge in pixels (rounded up to whole pixels per module).
        #[arg(long, default_value_t = 512)]
        size: u32,
    },
    /// Draw STRING as an SVG.
    Svg {
        string: String,
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Minimum edge in pixels (rounded up to whole pixels per module).
        #[arg(long, default_value_t = 512)]
        size: u32,
    },
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("khqr: {msg}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Encode { clock_ms } => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                return fail(format!("cannot read stdin: {e}"));
            }
            let inputs = match khqr::SdkInputs::from_json(&input) {
                Ok(i) => i,
                Err(e) => return fail(format!("invalid inputs JSON: {e}")),
            };
            match inputs.encode(clock_ms.unwrap_or_else(now_ms)) {
                Ok(k) => {
                    println!("{}", serde_json::to_string(&k).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let sdk = e.sdk_message();
                    if sdk.is_empty() {
                        fail(format!("error {}: {e}", e.code()))
                    } else {
                        fail(format!("error {}: {e} [{sdk}]", e.code()))
                    }
                }
            }
        }
        Command::Decode {
            string,
            at_ms,
            strict,
        } => {
            let at = at_ms.unwrap_or_else(now_ms);
            let result = if strict {
                khqr::verify_strict(&string, at)
            } else {
                khqr::verify(&string, at)
            };
            match result {
                Ok(d) => {
                    println!("{}", serde_json::to_string(&d).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let code = e.code().map(|c| format!(", error {c}")).unwrap_or_default();
                    fail(format!("invalid KHQR (stage {}{code}): {e}", e.stage()))
                }
            }
        }
        Command::Png {
            string,
            output,
            size,
        } => match khqr::render_png(&string, size) {
            Ok(bytes) => write_file(&output, &bytes),
            Err(e) => fail(e),
        },
        Command::Svg {
            string,
            output,
            size,
        } => match khqr::render_svg(&string, size) {
            Ok(svg) => write_file(&output, svg.as_bytes()),
            Err(e) => fail(e),
        },
    }
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> ExitCode {
    let result = if path.as_os_str() == "-" {
        std::io::stdout().write_all(bytes)
    } else {
        std::fs::write(path, bytes)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write {}: {e}", path.display())),
    }
}
