//! What `vmc` and `vmrun` share: the exit statuses and parsers of `kiln-launch`, and
//! clap's usage errors.

use std::process::ExitCode;

pub use kiln_launch::*;

/// Handles a clap parse failure: help and version go to stdout with status 0,
/// anything else is a usage error (status 64).
pub fn usage_error(e: clap::Error) -> ExitCode {
    let _ = e.print();
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_USAGE),
    }
}
