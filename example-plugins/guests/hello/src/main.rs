//! A command component, as `cargo new` and `cargo build --target
//! wasm32-wasip2` make one: it exports `wasi:cli/run`, reads its arguments,
//! environment and stdin, prints, and exits with a status.
//!
//! With no arguments it greets; otherwise the first argument picks what it
//! does, so one component covers every case the tests check.

// ANCHOR: main
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        None => println!("hello, world"),
        // Prints its other arguments, one per line.
        Some("echo") => {
            for arg in &args[2..] {
                println!("{arg}");
            }
        }
        // Prints a file (the policy must grant it).
        Some("cat") => match std::fs::read_to_string(&args[2]) {
            Ok(text) => print!("{text}"),
            Err(err) => {
                eprintln!("hello: cannot read {}: {err}", args[2]);
                std::process::exit(1);
            }
        },
        // Prints an environment variable, or says it is not set.
        Some("env") => match std::env::var(&args[2]) {
            Ok(value) => println!("{}={value}", args[2]),
            Err(_) => println!("{} is not set", args[2]),
        },
        // Copies stdin to stdout, in upper case.
        Some("shout") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).unwrap();
            print!("{}", text.to_uppercase());
        }
        Some("exit") => {
            println!("exiting with {}", args[2]);
            std::process::exit(args[2].parse().unwrap());
        }
        Some("panic") => panic!("told to panic"),
        // Writes this many bytes to stdout, to show the output limit.
        Some("spam") => {
            let n: usize = args[2].parse().unwrap();
            let line = [b'x'; 1023];
            let mut out = std::io::stdout().lock();
            let mut left = n;
            while left > 0 {
                let take = left.min(1024);
                let _ = out.write_all(&line[..take - 1]);
                let _ = out.write_all(b"\n");
                left -= take;
            }
        }
        // Runs until the time limit stops it.
        Some("spin") => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Some(other) => {
            eprintln!("hello: unknown command {other:?}; try echo, cat, env, shout, exit, panic");
            std::process::exit(2);
        }
    }
}
// ANCHOR_END: main
