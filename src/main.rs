use std::process::ExitCode;

fn main() -> ExitCode {
    match partialdump::cli::run() {
        Ok(code) => code,
        // `partialdump dump | head`: the reader is gone, which is not our failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("partialdump: error: {e}");
            ExitCode::FAILURE
        }
    }
}
