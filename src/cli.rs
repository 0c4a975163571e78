//! The command line (clap): subcommands, kubectl-style global flags, exit codes.

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    0
}
