//! `wasm-sandbox`: run, inspect, validate and precompile WebAssembly plugins
//! from the command line, under a capability policy given with Deno-style
//! `--allow-*` flags. See `wasm-sandbox --help` and the guide's "The CLI"
//! chapter.

/// `println!` that ends the program quietly when stdout is closed (as by
/// `wasm-sandbox inspect x | head`) instead of panicking.
macro_rules! outln {
    () => {
        $crate::stdout_write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout_write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!`, as `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout_write(format_args!($($arg)*))
    };
}

mod call;
mod cli;
mod command;
mod compile;
mod exit;
mod grants;
mod inspect;
mod logs;
mod plugin;
mod policy;
mod units;
mod validate;
mod wave;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Command, PolicyCommand};
use crate::exit::{Exit, Failure};

fn main() -> ExitCode {
    // Usage errors exit with status 2, `--help` and `--version` with 0.
    let cli = Cli::parse();
    let json = cli.json;
    logs::init(cli.verbose, cli.quiet);
    let outcome = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(dispatch(cli.command, json)),
        Err(e) => Err(Failure::new(
            Exit::Other,
            format!("could not start the async runtime: {e}"),
        )),
    };
    let exit = match outcome {
        Ok(exit) => exit,
        Err(failure) => {
            if json {
                plugin::print_json(&serde_json::json!({
                    "error": failure.to_json(),
                    "exit_code": failure.exit.code(),
                }));
            } else {
                eprintln!("{failure}");
            }
            failure.exit
        }
    };
    ExitCode::from(exit.code())
}

/// Writes to stdout; a closed stdout ends the program with status 0, as
/// the reader has all it wanted.
fn stdout_write(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: could not write to stdout: {e}");
        std::process::exit(i32::from(Exit::Other.code()));
    }
}

async fn dispatch(command: Command, json: bool) -> Result<Exit, Failure> {
    match command {
        Command::Run(args) => call::run(args, json).await,
        Command::Learn(args) => call::learn(args, json).await,
        Command::Inspect(args) => inspect::inspect(args, json),
        Command::Validate(args) => validate::validate(args, json).await,
        Command::Compile(args) => compile::compile(args, json),
        Command::Policy(PolicyCommand::Diff(args)) => policy::diff(args, json),
        Command::Completions(args) => {
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "wasm-sandbox", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(Exit::Success)
        }
    }
}
