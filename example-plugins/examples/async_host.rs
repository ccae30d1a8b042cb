//! Run with: `cargo run --example async_host`
//!
//! A host interface whose methods are `async fn`: the host's `Directory`
//! answers from a "database" task over channels, as a real host would from
//! a database client. While a plugin waits for an answer, the runtime's
//! thread serves other work: here, other plugin calls on a pool.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

// ANCHOR: host_impl
use example_interfaces::{Directory, DirectoryHost, ResolverPlugin};
use tokio::sync::{mpsc, oneshot};
use wasm_sandbox::{Capability, SandboxPool, SecurityPolicy};

/// A request to the database task: a name, and where to send its address.
type Query = (String, oneshot::Sender<Option<String>>);

/// The host's directory: a client of the database task.
struct DatabaseDirectory {
    queries: mpsc::Sender<Query>,
    answered: AtomicU32,
}

impl Directory for DatabaseDirectory {
    // An `async fn` in the implementation: the plugin waits for it; the
    // runtime does not.
    async fn lookup(&self, name: String) -> Option<String> {
        let (reply, answer) = oneshot::channel();
        self.queries.send((name, reply)).await.ok()?;
        let address = answer.await.ok()?;
        self.answered.fetch_add(1, Ordering::Relaxed);
        address
    }

    async fn note(&self, name: &str) {
        println!("  host: {name} was asked for");
    }

    // Plain methods stay plain.
    fn answered(&self) -> u32 {
        self.answered.load(Ordering::Relaxed)
    }
}
// ANCHOR_END: host_impl

/// The "database": answers queries one by one, after a pause.
async fn database(mut queries: mpsc::Receiver<Query>) {
    let table: HashMap<&str, &str> = [("ada", "10.0.0.1"), ("grace", "10.0.0.2")].into();
    while let Some((name, reply)) = queries.recv().await {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let _ = reply.send(table.get(name.as_str()).map(|a| a.to_string()));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> wasm_sandbox::Result<()> {
    let (queries, rx) = mpsc::channel(16);
    tokio::spawn(database(rx));

    // ANCHOR: register
    let pool = SandboxPool::builder()
        .source(example_plugins::RESOLVER)
        .host_interface(DirectoryHost::new(DatabaseDirectory {
            queries,
            answered: AtomicU32::new(0),
        }))
        .security_policy(
            SecurityPolicy::strict().allow(Capability::Custom(DirectoryHost::CAPABILITY.into())),
        )
        .max_instances(3)
        .build()
        .await?;
    let resolver = ResolverPlugin::load(&pool)?;
    // Three calls at once on one thread: each waits in the host's
    // `lookup` while the others run.
    let (a, b, c) = tokio::join!(
        resolver.resolve("ada"),
        resolver.resolve("grace"),
        resolver.resolve("linus"),
    );
    // ANCHOR_END: register
    println!("{}\n{}\n{}", a?, b?, c?);
    println!("answered: {}", resolver.answered().await?);
    Ok(())
}
