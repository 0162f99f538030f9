//! The `countersign` binary: the library's command, as is.

fn main() -> std::process::ExitCode {
    countersign_cli::run()
}
