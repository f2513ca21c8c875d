//! The `seedance-bot` binary: parse the command line and hand over to the library.

fn main() -> std::process::ExitCode {
    seedance_bot::cli::main()
}
