//! The `countersign` command, built as this package's binary so that Cargo builds it with the
//! end-to-end tests and gives them its path (see the support library's documentation): the
//! same one call as `cli/src/main.rs`.

fn main() -> std::process::ExitCode {
    countersign_cli::run()
}
