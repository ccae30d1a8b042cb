//! A hostile plugin: every method tries something privileged through the
//! ordinary Rust standard library (WASI) or the guest SDK, and reports the
//! outcome. Under a policy that does not grant it, each attempt must fail
//! with a normal error, and the host must audit it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};

use example_interfaces::{Intruder, KeyValue, KeyValueHost, RunOutput};

#[derive(Default)]
struct Attempt;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Intruder for Attempt {
    fn read_file(&self, path: String) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(err)
    }

    fn write_file(&self, path: String, contents: String) -> Result<(), String> {
        std::fs::write(path, contents).map_err(err)
    }

    fn remove_file(&self, path: String) -> Result<(), String> {
        std::fs::remove_file(path).map_err(err)
    }

    fn rename_file(&self, from: String, to: String) -> Result<(), String> {
        std::fs::rename(from, to).map_err(err)
    }

    fn list_dir(&self, path: String) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(err)? {
            names.push(entry.map_err(err)?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn file_size(&self, path: String) -> Result<u64, String> {
        std::fs::metadata(path).map(|m| m.len()).map_err(err)
    }

    fn env_var(&self, name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    fn env_var_audited(&self, name: String) -> Option<String> {
        wasm_sandbox_guest::env::var(&name)
    }

    fn env_all(&self) -> Vec<String> {
        std::env::vars().map(|(k, v)| format!("{k}={v}")).collect()
    }

    fn resolve(&self, host: String) -> Result<Vec<String>, String> {
        let addrs = (host.as_str(), 0u16).to_socket_addrs().map_err(err)?;
        Ok(addrs.map(|a| a.ip().to_string()).collect())
    }

    fn connect(&self, host: String, port: u16, message: String) -> Result<String, String> {
        let mut stream = TcpStream::connect((host.as_str(), port)).map_err(err)?;
        stream.write_all(format!("{message}\n").as_bytes()).map_err(err)?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).map_err(err)?;
        Ok(line.trim_end().to_string())
    }

    fn send_datagram(&self, host: String, port: u16, message: String) -> Result<(), String> {
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(err)?;
        socket
            .send_to(message.as_bytes(), (host.as_str(), port))
            .map_err(err)?;
        Ok(())
    }

    fn listen(&self, addr: String) -> Result<String, String> {
        let listener = TcpListener::bind(addr.as_str()).map_err(err)?;
        Ok(listener.local_addr().map_err(err)?.to_string())
    }

    fn run(&self, program: String, args: Vec<String>) -> Result<RunOutput, String> {
        let out = wasm_sandbox_guest::process::run(&program, &args).map_err(err)?;
        Ok(RunOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        })
    }

    fn kv_get(&self, key: String) -> Option<String> {
        KeyValueHost.get(key)
    }
}

wasm_sandbox_guest::export!(Attempt: example_interfaces::Intruder);
