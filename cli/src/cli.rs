//! The command line: every command, flag and help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::units::{parse_duration, parse_size};

/// The exit statuses, as `--help` and the book list them.
macro_rules! exit_codes {
    () => {
        "\
Exit status:
  0  success; for `policy diff`: the new policy does not widen the old one
  1  the plugin returned an error value, `err(..)`; for `policy diff`: the new policy widens
  2  usage: bad flags, unknown function, arguments that do not fit its types, invalid policy
  3  the plugin cannot be loaded: missing file, not a component, does not compile or link,
     a precompiled artifact without --allow-precompiled
  4  denied: the policy refused the plugin at load, or denied an operation during the call
  5  the plugin trapped (a panic, `unreachable`, a division by zero)
  6  a resource limit was hit: memory, time, fuel, stack
  7  any other failure (an output file cannot be written, ...)"
    };
}

#[cfg(test)]
const EXIT_CODES: &str = exit_codes!();

const TOP_AFTER_HELP: &str = concat!(
    "\
Examples:
  wasm-sandbox run greeter.wasm greet world
  wasm-sandbox run calculator.wasm math#add 2 3
  wasm-sandbox run file_reader.wasm read-file /srv/a.txt --allow-read=/srv
  wasm-sandbox run hello.wasm --imports=warn -- arg1 arg2
  wasm-sandbox inspect file_reader.wasm
  wasm-sandbox validate plugin.wasm --policy policy.toml
  wasm-sandbox learn file_reader.wasm read-file /srv/a.txt -o policy.toml
  wasm-sandbox policy diff old.toml new.toml

A plugin runs with nothing granted unless a flag or --policy grants it.
Compiled plugins are cached in $WASM_SANDBOX_CACHE_DIR (default
$XDG_CACHE_HOME/wasm-sandbox or ~/.cache/wasm-sandbox).

",
    exit_codes!()
);

/// Run, inspect, validate and precompile WebAssembly plugins (components)
/// in a sandbox: deny by default, with Deno-style `--allow-*` flags.
#[derive(Debug, Parser)]
#[command(name = "wasm-sandbox", version, max_term_width = 100, after_help = TOP_AFTER_HELP)]
pub(crate) struct Cli {
    /// Print one JSON object on stdout instead of text (errors included),
    /// for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Show more of what plugins log (their `debug` lines and the host's
    /// own events; twice: everything). `RUST_LOG`, when set, decides
    /// instead.
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Show only the errors plugins log (not their info lines or stderr).
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Call one exported function, with arguments and result in WAVE.
    #[command(allow_negative_numbers = true, after_help = RUN_HELP)]
    Run(RunArgs),
    /// Show a plugin's package, exports with WIT signatures, imports, and the
    /// capabilities it can ever use.
    #[command(after_help = "Example:\n  wasm-sandbox inspect file_reader.wasm")]
    Inspect(InspectArgs),
    /// Check that a plugin is a component, links, starts, and what the
    /// policy would refuse at load.
    #[command(after_help = VALIDATE_HELP)]
    Validate(ValidateArgs),
    /// Precompile plugins into the compile cache, or to `.cwasm` files.
    #[command(after_help = COMPILE_HELP)]
    Compile(CompileArgs),
    /// Call a function in learn mode and write the least-privilege policy
    /// that allows what it did.
    #[command(allow_negative_numbers = true, after_help = LEARN_HELP)]
    Learn(LearnArgs),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

const RUN_HELP: &str = "\
Arguments are WAVE values, one per parameter, in order: 7, -1.5, true, 'c',
\"text\", [1, 2], (1, \"a\"), {x: 1, y: 2}, some(3), none, ok(1), err(\"no\"),
a variant case `circle(2.0)`, an enum case `add`, flags `{read, write}`. An
argument for a `string` parameter that does not start with a double quote is
taken as the text itself (so `greet world` works); quote the WAVE form to
write escapes. Put `--` before arguments that start with `-` and are not numbers.

FUNC is the function's full name (example:calculator/math@0.1.0#add), its
interface and name (math#add), or just its name (add) when only one export
has it. The result is printed in WAVE on stdout; denied operations are
printed on stderr as `audit:` lines (with control characters escaped). With
--abort-on-violation the first denied operation ends the call (exit status 4).

A command (a program with a `main`, as `cargo build --target wasm32-wasip2`
makes from a binary crate; `inspect` says `command`) is run without FUNC:
  wasm-sandbox run hello.wasm -- ARGS
It gets ARGS after its own name, the environment variables granted with
--allow-env, and the CLI's stdin; its stdout and stderr go to the terminal as
it writes them, and `wasm-sandbox` exits with its exit status (WASI 0.2
carries 0 or 1), or 5 if it trapped (a panic) and 6 if it hit a limit.
With --json its output is captured into the JSON instead.

Grants (deny wins over allow; repeat a flag or separate values with commas):
  --allow-read            everything (/), as in Deno
  --allow-read=DIR,FILE   those paths (relative ones from the current directory)
  --allow-net             any host and port
  --allow-net=HOST:PORT   api.example.com:443, *.example.com, 10.0.0.0/8:8000-8100, [::1]:80
  --allow-env             the whole environment; --allow-env=HOME,MODE=prod: those variables
  --allow-run=git,ls      programs, by exact name (there is no bare --allow-run)

Examples:
  wasm-sandbox run greeter.wasm greet world
  wasm-sandbox run calculator.wasm math#add 2 3
  wasm-sandbox run calculator.wasm math#min-max '[3, -1, 7]'
  wasm-sandbox run file_reader.wasm read-file /srv/a.txt --allow-read=/srv --audit a.jsonl
  wasm-sandbox run hog.wasm spin --timeout 500ms
  wasm-sandbox run hello.wasm --imports=warn -- echo one two
  wasm-sandbox run plugin.wasm f --policy policy.toml --abort-on-violation
  wasm-sandbox --json run calculator.wasm math#add 2 3

Exit status:
  0  success
  1  the plugin returned an error value, `err(..)`
  2  usage: bad flags, unknown function, arguments that do not fit its types, invalid policy
  3  the plugin cannot be loaded: missing file, not a component, does not compile or link,
     a precompiled artifact without --allow-precompiled
  4  denied: the policy refused the plugin at load, or denied an operation during the call
  5  the plugin trapped (a panic, `unreachable`, a division by zero)
  6  a resource limit was hit: memory, time, fuel, stack
  7  any other failure";

const VALIDATE_HELP: &str = "\
Takes the same grants and limits as `run`. With a policy whose `imports` is
\"deny\" (the default) an import the policy can never allow refuses the
plugin (exit status 4); with `imports = \"warn\"` it is listed as a warning.

Examples:
  wasm-sandbox validate plugin.wasm
  wasm-sandbox validate file_reader.wasm --allow-read=/srv/data
  wasm-sandbox validate plugin.wasm --policy policy.toml

A precompiled artifact is named as such and not loaded, unless
--allow-precompiled is given.

Exit status: 0 valid, 2 usage, 3 not a component (or an artifact without
--allow-precompiled) or does not link, 4 refused by the policy";

const COMPILE_HELP: &str = "\
Without -o, each plugin is compiled into the compile cache
($WASM_SANDBOX_CACHE_DIR, default ~/.cache/wasm-sandbox), so that the next
`run` starts without compiling. With -o DIR, each plugin is written to
DIR/<name>.cwasm, which `run --allow-precompiled` loads as is. A .cwasm is
machine code: only load files you made, from a directory only you can write
to; without --allow-precompiled, `run`, `validate` and `learn` refuse it. Both are made
for the default engine settings: a `run --fuel` compiles for its own.

Examples:
  wasm-sandbox compile plugins/*.wasm
  wasm-sandbox compile plugins/*.wasm -o precompiled/
  wasm-sandbox run precompiled/greeter.cwasm greet world --allow-precompiled

Exit status: 0 all compiled, 2 usage, 3 a plugin did not compile, 7 a file could not be written";

const LEARN_HELP: &str = "\
Learn mode allows everything, running programs included, and records what
the plugin does (use it only with plugins and inputs you trust); the policy
that would have allowed exactly that is written to the -o file (or printed).
Only the operations of this one call are learned: exercise the plugin the
way it will be used. --deny-* flags still apply to every kind of operation
(a denied program is never run), and the learned policy keeps them.

A command (a program with a `main`) is run as with `run PLUGIN -- ARGS`; its
output goes to stderr. A program that reads its environment (std::env::var,
getenv) sees the host's, but lists all of it at once through WASI, so which
variables it used cannot be learned: none is granted, and the policy ends
with a note saying how to grant them.

Example:
  wasm-sandbox learn file_reader.wasm read-file /srv/a.txt -o policy.toml
  wasm-sandbox run file_reader.wasm read-file /srv/a.txt --policy policy.toml
  wasm-sandbox learn hello.wasm -- cat /srv/a.txt -o policy.toml

Exit status: as for `run`; 7 if the policy file cannot be written";

const COMPLETIONS_HELP: &str = "\
Examples:
  wasm-sandbox completions bash > ~/.local/share/bash-completion/completions/wasm-sandbox
  wasm-sandbox completions zsh > ~/.zfunc/_wasm-sandbox
  wasm-sandbox completions fish > ~/.config/fish/completions/wasm-sandbox.fish";

const DIFF_HELP: &str = "\
Prints what NEW grants that OLD does not (+), and what it takes away (-).

Example:
  wasm-sandbox policy diff policy.toml policy-v2.toml

Exit status: 0 NEW does not widen OLD, 1 NEW widens OLD, 2 usage or unreadable policy";

/// `run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The plugin: a component (`.wasm`, or `.wat` text), or, with
    /// --allow-precompiled, a `.cwasm` made by `compile -o`.
    pub(crate) plugin: PathBuf,
    /// The function to call: `add`, `math#add`, or the full name. Left
    /// out for a command (a program with a `main`), which is run instead.
    pub(crate) func: Option<String>,
    /// The arguments, one WAVE value per parameter.
    pub(crate) args: Vec<String>,
    /// After `--`: a command's arguments (or, for a function, more WAVE
    /// arguments that start with `-`).
    #[arg(last = true, value_name = "ARGS")]
    pub(crate) after_dashes: Vec<String>,
    #[command(flatten)]
    pub(crate) grants: Grants,
    #[command(flatten)]
    pub(crate) limits: Limits,
    #[command(flatten)]
    pub(crate) violations: Violations,
    #[command(flatten)]
    pub(crate) trust: Trust,
    /// Also append every audit event to FILE, one JSON object per line.
    #[arg(long, value_name = "FILE.jsonl", help_heading = "Audit")]
    pub(crate) audit: Option<PathBuf>,
}

/// `inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The plugin: a component (`.wasm` or `.wat`).
    pub(crate) plugin: PathBuf,
}

/// `validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The plugin: a component (`.wasm` or `.wat`), or, with
    /// --allow-precompiled, a `.cwasm`.
    pub(crate) plugin: PathBuf,
    #[command(flatten)]
    pub(crate) grants: Grants,
    #[command(flatten)]
    pub(crate) limits: Limits,
    #[command(flatten)]
    pub(crate) trust: Trust,
}

/// `compile`.
#[derive(Debug, Args)]
pub(crate) struct CompileArgs {
    /// The plugins to compile.
    #[arg(required = true, value_name = "PLUGIN")]
    pub(crate) plugins: Vec<PathBuf>,
    /// Write `DIR/<name>.cwasm` for each plugin instead of filling the
    /// cache (DIR is created if needed).
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    pub(crate) out_dir: Option<PathBuf>,
}

/// `learn`.
#[derive(Debug, Args)]
pub(crate) struct LearnArgs {
    /// The plugin: a component (`.wasm` or `.wat`), or, with
    /// --allow-precompiled, a `.cwasm`.
    pub(crate) plugin: PathBuf,
    /// The function to call; left out for a command (a program with a
    /// `main`), which is run instead.
    pub(crate) func: Option<String>,
    /// The arguments, one WAVE value per parameter.
    pub(crate) args: Vec<String>,
    /// After `--`: a command's arguments (or, for a function, more WAVE
    /// arguments that start with `-`).
    #[arg(last = true, value_name = "ARGS")]
    pub(crate) after_dashes: Vec<String>,
    /// Write the learned policy to FILE (TOML) instead of printing it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) denials: Denials,
    #[command(flatten)]
    pub(crate) limits: Limits,
    #[command(flatten)]
    pub(crate) violations: Violations,
    #[command(flatten)]
    pub(crate) trust: Trust,
    /// Also append every audit event to FILE, one JSON object per line.
    #[arg(long, value_name = "FILE.jsonl", help_heading = "Audit")]
    pub(crate) audit: Option<PathBuf>,
}

/// `policy ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Compare two policy files: what NEW grants that OLD does not.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
}

/// `policy diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The current policy (TOML, or JSON if the name ends in `.json`).
    pub(crate) old: PathBuf,
    /// The proposed policy.
    pub(crate) new: PathBuf,
}

/// `completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}

/// The policy file and the `--allow-*` / `--deny-*` flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Grants (nothing is granted by default)")]
pub(crate) struct Grants {
    /// Start from this policy file (TOML, or JSON if the name ends in
    /// `.json`); the flags add to it.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// Allow reading these files and directories; alone: everything (/).
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "/", action = ArgAction::Append)]
    pub(crate) allow_read: Vec<String>,
    /// Allow reading and writing these files and directories; alone:
    /// everything (/).
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "/", action = ArgAction::Append)]
    pub(crate) allow_write: Vec<String>,
    // (Help given as a string: rustdoc would read `[:PORT]` as a link.)
    #[arg(long, value_name = "HOST:PORT",
          help = "Allow connections to HOST[:PORT] (a name, *.domain, an IP or CIDR; \
                  a port, a range or *); alone: any host and port", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "*", action = ArgAction::Append)]
    pub(crate) allow_net: Vec<String>,
    /// Allow reading these environment variables (NAME, or NAME=value to set
    /// one); alone: the whole environment.
    #[arg(long, value_name = "VAR", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "*", action = ArgAction::Append)]
    pub(crate) allow_env: Vec<String>,
    /// Allow running these programs, by exact name (there is no "every
    /// program").
    #[arg(long, value_name = "PROGRAM", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "", action = ArgAction::Append)]
    pub(crate) allow_run: Vec<String>,
    /// What to do with an import no grant could ever allow: `deny` refuses
    /// to load the plugin (the default), `warn` loads it and refuses each
    /// use of the import at run time (for toolchains that import all of
    /// WASI, such as componentize-py)
    #[arg(long, value_enum, value_name = "CHECK")]
    pub(crate) imports: Option<Imports>,
    #[command(flatten)]
    pub(crate) denials: Denials,
}

/// The `--deny-*` flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Denials (a denial wins over every grant)")]
pub(crate) struct Denials {
    /// Deny reading (and writing) these paths; alone: every path.
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "/", action = ArgAction::Append)]
    pub(crate) deny_read: Vec<String>,
    /// Deny writing these paths (reading stays as granted); alone: every path.
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "/", action = ArgAction::Append)]
    pub(crate) deny_write: Vec<String>,
    #[arg(long, value_name = "HOST:PORT",
          help = "Deny connections to HOST[:PORT]; alone: every host", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "*", action = ArgAction::Append)]
    pub(crate) deny_net: Vec<String>,
    /// Deny these environment variables; alone: all of them.
    #[arg(long, value_name = "VAR", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "*", action = ArgAction::Append)]
    pub(crate) deny_env: Vec<String>,
    /// Deny running these programs; alone: every program.
    #[arg(long, value_name = "PROGRAM", num_args = 0..=1, require_equals = true,
          value_delimiter = ',', default_missing_value = "*", action = ArgAction::Append)]
    pub(crate) deny_run: Vec<String>,
}

/// What a refused operation does to the call.
#[derive(Debug, Args)]
#[command(next_help_heading = "Violations")]
pub(crate) struct Violations {
    /// End the call at the first operation the policy refuses, with exit
    /// status 4, instead of handing the plugin an error and letting it
    /// carry on
    #[arg(long)]
    pub(crate) abort_on_violation: bool,
}

/// Whether native code may be loaded.
#[derive(Debug, Args)]
#[command(next_help_heading = "Trust")]
pub(crate) struct Trust {
    /// Also load precompiled artifacts (`compile -o`): native machine code
    /// that runs outside the sandbox's checks. Only for files you made,
    /// in a directory only you can write to. Without it, an artifact is
    /// refused (exit status 3), whatever its name
    #[arg(long)]
    pub(crate) allow_precompiled: bool,
}

/// Resource limits.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(crate) struct Limits {
    /// The most linear memory the plugin may use: bytes, or with K, M, G
    /// (or KiB, MiB, GiB: powers of 1024) [default: 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) memory: Option<usize>,
    /// Wall-clock time per call: 500ms, 2s, 1.5s, 1m (a bare number is
    /// seconds) [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// An instruction budget per call, in wasmtime fuel units (about one
    /// per wasm instruction) [default: none]
    #[arg(long, value_name = "UNITS")]
    pub(crate) fuel: Option<u64>,
    /// The largest plugin file read, in the same units as --memory; a
    /// larger file is refused before it is read (exit status 3)
    /// [default: 256MiB for a component, 1GiB for an artifact]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_plugin_size: Option<usize>,
    /// The component model's async ABI (async exports, streams, futures,
    /// `task.return`, as jco and WASIp3 toolchains produce): `auto` turns
    /// wasmtime's support on for a plugin that uses it, `on` always (a
    /// precompiled artifact of such a plugin needs it), `off` refuses such
    /// a plugin
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub(crate) component_model_async: AsyncAbi,
}

/// `--imports`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Imports {
    /// Refuse to load the plugin.
    Deny,
    /// Load it; refuse each use at run time.
    Warn,
}

/// `--component-model-async`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AsyncAbi {
    /// On for plugins that use it.
    Auto,
    /// Always on.
    On,
    /// Refused.
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_are_the_same_everywhere() {
        assert!(TOP_AFTER_HELP.ends_with(EXIT_CODES));
        // `run` lists the same statuses, without the `policy diff` notes.
        for line in EXIT_CODES.lines().skip(3) {
            assert!(
                RUN_HELP.contains(line.split(" (").next().unwrap()),
                "{line}"
            );
        }
    }

    #[test]
    fn bare_flags_mean_everything() {
        let cli = Cli::try_parse_from([
            "wasm-sandbox",
            "run",
            "p.wasm",
            "f",
            "--allow-read",
            "--allow-net=a.example:443,b.example",
            "--allow-net=c.example",
            "--deny-env",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.grants.allow_read, ["/"]);
        assert_eq!(
            run.grants.allow_net,
            ["a.example:443", "b.example", "c.example"]
        );
        assert_eq!(run.grants.denials.deny_env, ["*"]);
        assert!(run.grants.allow_run.is_empty());
    }
}
