// Hide the console window on Windows release builds; no effect elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

fn main() {
    let cli = till_app::cli::Cli::parse();
    if cli.command.is_some() {
        std::process::exit(till_app::cli::run(cli));
    }
    // Before any thread or WebKit starts: the environment is read once, by WebKit.
    till_app::windows::tune_webkit();
    till_app::run(cli.home);
}
