use std::process::ExitCode;

fn main() -> ExitCode {
    match partialdump::cli::run() {
        Ok(code) => code,
        // `partialdump dump | head`: the reader is gone, which is not our failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("partialdump: error: {e}");
            // 1 is kept for "ran, and found differences" (verify); 2 means it could not run.
            ExitCode::from(2)
        }
    }
}
