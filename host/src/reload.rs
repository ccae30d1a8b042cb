//! Hot reload: a pool whose plugin can be replaced while it serves calls.
//!
//! A [`ReloadablePool`] holds the current [`SandboxPool`] behind a lock.
//! Every call takes the current pool (a cheap clone) and runs on it, so a
//! reload swaps the version for new calls at once while calls already
//! running finish on the version they started on; the old version is freed
//! when its last call returns.
//!
//! A new version is refused, and the running one keeps serving, when it
//! would break the host or ask for more than the running one:
//!
//! - every function the running version exports must exist in the new one
//!   with the same WIT type (so every typed proxy keeps working; new
//!   functions are allowed);
//! - every capability the new version's imports can use must already be
//!   one the running version's imports could use (a reload never widens
//!   what a plugin can ask for; build a new pool for that);
//! - and it must compile, link and pass the policy's load-time check, as
//!   any plugin.
//!
//! With [`ReloadablePool::serve_versions`] the first rule becomes: the new
//! version must implement one of the interface versions the host serves
//! ([`plugin_versions!`](crate::plugin_versions)), which may be another
//! one than the running version's.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use wasmtime::component::types::{ComponentItem, Type};
use wasmtime::component::{ComponentNamedList, ComponentType, Lift, Lower, Val};

use crate::audit::CallAudit;
use crate::error::{Error, Result};
use crate::plugin::exports::ExportFunction;
use crate::policy::{Compiled, SecurityPolicy};
use crate::pool::{PoolBuilder, PoolMetrics, SandboxPool};
use crate::versions::ServedVersions;

/// A [`SandboxPool`] whose plugin can be replaced while it runs, by
/// [`reload`](Self::reload) or by [`watch`](Self::watch)ing its file.
///
/// Calls and typed proxies work as on a pool. Each call runs on the version
/// that was current when it started; a reload affects the calls that start
/// after it. Instance state does not carry over: the new version starts
/// from fresh instances. The audit log, metrics and cache outcome are those
/// of the current version ([`current`](Self::current)).
///
/// A new version is refused with [`Error::ReloadRefused`], and the running
/// one keeps serving, when a function the running version exports is
/// missing or has another WIT type (compared structurally), or when one of
/// its imports needs a capability that none of the running version's
/// imports needed. (New functions are fine.)
///
/// ```no_run
/// # async fn run() -> wasm_sandbox::Result<()> {
/// use wasm_sandbox::{ReloadablePool, SandboxPool};
///
/// let pool = ReloadablePool::new(SandboxPool::builder().source("plugins/greeter.wasm")).await?;
/// let text: String = pool.call("plugin#greet", ("world",)).await?;
/// // Later, with a new build of the plugin:
/// let report = pool.reload("plugins/greeter-v2.wasm").await?;
/// println!("now serving version {}", report.version);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ReloadablePool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    builder: PoolBuilder,
    current: RwLock<SandboxPool>,
    version: AtomicU64,
    /// Serialises reloads (building a version takes a while).
    reloading: tokio::sync::Mutex<()>,
    /// Set by `serve_versions`: the check of a new version, and the world
    /// the current one implements.
    versions: RwLock<Option<Served>>,
}

/// The interface versions a reloadable pool accepts.
#[derive(Debug, Clone, Copy)]
struct Served {
    check: fn(&SandboxPool) -> Result<&'static str>,
    current: &'static str,
}

/// What a successful reload did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// The version now serving: 1 for the version the pool was built with,
    /// plus one for each successful reload.
    pub version: u64,
    /// Functions the new version exports that the previous one did not
    /// (full names).
    pub added_exports: Vec<String>,
    /// The WIT world of the interface version the new plugin implements,
    /// when the pool [serves versions](ReloadablePool::serve_versions).
    pub world: Option<&'static str>,
}

impl ReloadablePool {
    /// Builds the first version from `builder` (which must have a
    /// source). The same settings — policy, limits, host interfaces, engine,
    /// pool size — are used for every later version.
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`].
    pub async fn new(builder: PoolBuilder) -> Result<ReloadablePool> {
        let pool = builder.clone().build().await?;
        Ok(ReloadablePool {
            inner: Arc::new(Inner {
                builder,
                current: RwLock::new(pool),
                version: AtomicU64::new(1),
                reloading: tokio::sync::Mutex::new(()),
                versions: RwLock::new(None),
            }),
        })
    }

    /// The version serving new calls now (a cheap clone: it shares the
    /// instances). Use it for [`metrics`](SandboxPool::metrics),
    /// [`list_exports`](crate::Plugin::list_exports) and the
    /// [`audit_log`](crate::Plugin::audit_log).
    pub fn current(&self) -> SandboxPool {
        self.inner
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// From now on, accepts a new version of the plugin when it implements
    /// any version of the interface that `V` (an enum made with
    /// [`plugin_versions!`](crate::plugin_versions)) serves, instead of
    /// requiring every function of the running version: a plugin built
    /// against `@0.1.0` can be replaced by one built against `@0.2.0`, and
    /// back. A reload still never widens what the plugin can ask for.
    /// Returns the world the running plugin implements.
    ///
    /// ```text
    /// let world = pool.serve_versions::<AnyGreeter<SandboxPool>>()?;
    /// let report = pool.reload("plugins/greeter-next.wasm").await?;
    /// assert_eq!(report.world, Some("example-interfaces:greeter/greeter@0.2.0"));
    /// ```
    ///
    /// (The guide's "Interface versions" chapter has the whole program.)
    ///
    /// # Errors
    ///
    /// [`Error::NoServedVersion`] when the running plugin implements none
    /// of them (nothing changes then).
    pub fn serve_versions<V: ServedVersions>(&self) -> Result<&'static str> {
        let check: fn(&SandboxPool) -> Result<&'static str> = V::served_world;
        let current = check(&self.current())?;
        *self
            .inner
            .versions
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(Served { check, current });
        Ok(current)
    }

    /// The WIT world of the interface version the running plugin
    /// implements, once the pool [serves versions](Self::serve_versions).
    pub fn served_world(&self) -> Option<&'static str> {
        self.served().map(|s| s.current)
    }

    fn served(&self) -> Option<Served> {
        *self
            .inner
            .versions
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The version serving new calls: 1, plus one per successful reload.
    pub fn version(&self) -> u64 {
        self.inner.version.load(Ordering::SeqCst)
    }

    /// The current version's counters.
    pub fn metrics(&self) -> PoolMetrics {
        self.current().metrics()
    }

    /// Replaces the plugin with the component at `path`, if it is
    /// compatible (see [`ReloadablePool`]). Calls already running
    /// finish on the old version; calls that start after this returns run
    /// on the new one.
    ///
    /// # Errors
    ///
    /// [`Error::ReloadRefused`] when the new version is incompatible or
    /// would widen what the plugin can ask for; any error of
    /// [`PoolBuilder::build`] when it does not load. Either way the running
    /// version keeps serving.
    pub async fn reload(&self, path: impl AsRef<Path>) -> Result<ReloadReport> {
        let builder = self.inner.builder.clone().source(path.as_ref());
        self.reload_with(builder).await
    }

    /// Like [`reload`](Self::reload), with the component's bytes.
    ///
    /// # Errors
    ///
    /// As [`reload`](Self::reload).
    pub async fn reload_bytes(&self, bytes: impl Into<Vec<u8>>) -> Result<ReloadReport> {
        let builder = self.inner.builder.clone().bytes(bytes);
        self.reload_with(builder).await
    }

    async fn reload_with(&self, builder: PoolBuilder) -> Result<ReloadReport> {
        let _one_at_a_time = self.inner.reloading.lock().await;
        let old = self.current();
        // Same name in logs and audit events, whatever the new source is.
        let new = builder.name(old.name()).build().await?;
        let served = self.served();
        let world = match served {
            // Any served version will do; every function of it is checked.
            Some(served) => Some((served.check)(&new).map_err(|e| Error::ReloadRefused {
                plugin: old.name().to_string(),
                reason: e.to_string(),
            })?),
            None => {
                keeps_exports(&old, &new)?;
                None
            }
        };
        no_wider(&old, &new)?;
        let added = added_exports(&old, &new);
        if let (Some(served), Some(world)) = (served, world) {
            *self
                .inner
                .versions
                .write()
                .unwrap_or_else(|e| e.into_inner()) = Some(Served {
                current: world,
                ..served
            });
        }
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = new;
        // Objects the old version made cannot be used with the new one; its
        // instances go once their calls end.
        old.shared().retire();
        let version = self.inner.version.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::info!(
            target: "wasm_sandbox::reload",
            plugin = old.name(),
            version,
            "reloaded the plugin"
        );
        Ok(ReloadReport {
            version,
            added_exports: added,
            world,
        })
    }

    /// Watches the file at `path` and reloads the plugin from it each time
    /// it changes (a write, or a new file renamed over it, as editors and
    /// build tools do). Changes within 100 ms are taken together. Each
    /// outcome is logged (target `wasm_sandbox::reload`) and delivered to
    /// the returned [`ReloadWatcher`]; a refused or broken version leaves the
    /// running one serving. Watching stops when the watcher is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] outside a tokio runtime, or when the file's folder
    /// cannot be watched.
    pub fn watch(&self, path: impl Into<PathBuf>) -> Result<ReloadWatcher> {
        use notify::Watcher as _;

        let path = path.into();
        let config_error = |detail: String| Error::Config { detail };
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            config_error(
                "`ReloadablePool::watch` needs a tokio runtime: call it from async code".into(),
            )
        })?;
        let path = if path.is_absolute() {
            path
        } else {
            std::env::current_dir()
                .map_err(|e| config_error(format!("cannot resolve {}: {e}", path.display())))?
                .join(path)
        };
        let (dir, file) = match (path.parent(), path.file_name()) {
            (Some(dir), Some(file)) => (dir.to_path_buf(), file.to_owned()),
            _ => {
                return Err(config_error(format!(
                    "cannot watch {}: give the path of a plugin file",
                    path.display()
                )));
            }
        };
        let (changed_tx, mut changed_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && !event.kind.is_access()
                    && event.paths.iter().any(|p| p.file_name() == Some(&*file))
                {
                    let _ = changed_tx.send(());
                }
            })
            .map_err(|e| config_error(format!("cannot watch {}: {e}", dir.display())))?;
        // The folder, not the file: a file renamed over the old one is a new
        // file, which a watch on the old one would miss.
        watcher
            .watch(&dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| config_error(format!("cannot watch {}: {e}", dir.display())))?;

        let (report_tx, reports) = tokio::sync::mpsc::unbounded_channel();
        let pool = self.clone();
        let task = runtime.spawn(async move {
            while changed_rx.recv().await.is_some() {
                // Let the writer finish, and take the burst of events as one.
                tokio::time::sleep(Duration::from_millis(100)).await;
                while changed_rx.try_recv().is_ok() {}
                // Bounded like any plugin file: a FIFO or `/dev/zero` put
                // in the plugin's place cannot block or exhaust the host.
                let read = {
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || {
                        crate::builder::loader::read_plugin_file(&path, &Default::default())
                    })
                    .await
                };
                let outcome = match read {
                    Ok(Ok(bytes)) => pool.reload_bytes(bytes).await,
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(Error::Io {
                        path: path.clone(),
                        cause: std::io::Error::other(e),
                    }),
                };
                if let Err(e) = &outcome {
                    tracing::warn!(target: "wasm_sandbox::reload", "{e}");
                }
                if report_tx.send(outcome).is_err() {
                    // Nobody listens; keep reloading anyway.
                }
            }
        });
        Ok(ReloadWatcher {
            _watcher: watcher,
            task,
            reports,
        })
    }

    /// Calls `name` on the current version; see [`SandboxPool::call`](crate::Plugin::call).
    ///
    /// # Errors
    ///
    /// As [`SandboxPool::call`](crate::Plugin::call).
    pub async fn call<Params, R>(&self, name: &str, params: Params) -> Result<R>
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        self.current().call(name, params).await
    }

    /// Calls `name` on the current version and returns the call's audit
    /// events whatever its outcome; see
    /// [`SandboxPool::call_with_audit_outcome`](crate::Plugin::call_with_audit_outcome).
    pub async fn call_with_audit_outcome<Params, R>(
        &self,
        name: &str,
        params: Params,
    ) -> (Result<R>, CallAudit)
    where
        Params: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        self.current().call_with_audit_outcome(name, params).await
    }

    /// Calls `name` with dynamically typed values on the current version;
    /// see [`SandboxPool::call_dynamic`](crate::Plugin::call_dynamic).
    ///
    /// # Errors
    ///
    /// As [`SandboxPool::call_dynamic`](crate::Plugin::call_dynamic).
    pub async fn call_dynamic(&self, name: &str, params: &[Val]) -> Result<Vec<Val>> {
        self.current().call_dynamic(name, params).await
    }
}

/// Watches a plugin file for a [`ReloadablePool`]; from
/// [`ReloadablePool::watch`]. Dropping it stops watching.
#[derive(Debug)]
pub struct ReloadWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
    reports: tokio::sync::mpsc::UnboundedReceiver<Result<ReloadReport>>,
}

impl ReloadWatcher {
    /// Waits for the outcome of the next reload the watcher attempted.
    pub async fn next_reload(&mut self) -> Option<Result<ReloadReport>> {
        self.reports.recv().await
    }
}

impl Drop for ReloadWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The refusal of a reload of `old`'s plugin.
fn refuse(old: &SandboxPool, reason: String) -> Error {
    Error::ReloadRefused {
        plugin: old.name().to_string(),
        reason,
    }
}

/// Checks that `new` exports every function of `old`, with the same types.
fn keeps_exports(old: &SandboxPool, new: &SandboxPool) -> Result<()> {
    let refuse = |reason: String| refuse(old, reason);
    for function in old.list_exports() {
        let Ok(replacement) = new.export(function.name()) else {
            let from = function
                .interface()
                .map(|i| format!(" from `{i}`"))
                .unwrap_or_default();
            return Err(refuse(format!(
                "it does not export `{function}`{from}, which the running version exports \
                 (and typed proxies may call); export it, or build a new pool for the new interface"
            )));
        };
        if !same_signature(function, replacement) {
            return Err(refuse(format!(
                "`{}` changed type: the running version has `{function}`, the new one \
                 `{replacement}`; keep the signature, or build a new pool for the new interface",
                function.name()
            )));
        }
    }
    Ok(())
}

/// Checks that `new` can ask for nothing `old` could not.
fn no_wider(old: &SandboxPool, new: &SandboxPool) -> Result<()> {
    let nothing = Compiled::new(&SecurityPolicy::strict())?;
    let needs = |pool: &SandboxPool| -> Vec<(String, &'static str)> {
        let component = pool.component();
        component
            .component_type()
            .imports(component.engine())
            .filter(|(_, item)| !type_only(&item.ty, component.engine()))
            .filter_map(|(name, _)| {
                nothing
                    .needed_capability(name)
                    .map(|c| (name.to_string(), c))
            })
            .collect()
    };
    let before: Vec<&'static str> = needs(old).into_iter().map(|(_, c)| c).collect();
    let wider: Vec<String> = needs(new)
        .into_iter()
        .filter(|(_, c)| !before.contains(c))
        .map(|(import, c)| format!("`{import}` (needs {c})"))
        .collect();
    if !wider.is_empty() {
        return Err(refuse(
            old,
            format!(
                "it imports {}, which the running version did not; a reload never widens what a \
                 plugin can ask for: build a new pool (with a policy for it) instead",
                wider.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The functions `new` exports that `old` did not (full names).
fn added_exports(old: &SandboxPool, new: &SandboxPool) -> Vec<String> {
    new.list_exports()
        .iter()
        .filter(|f| old.export(f.name()).is_err())
        .map(|f| f.name().to_string())
        .collect()
}

/// An imported instance that only carries type definitions.
fn type_only(item: &ComponentItem, engine: &wasmtime::Engine) -> bool {
    matches!(item, ComponentItem::ComponentInstance(inst)
        if inst.exports(engine).all(|(_, e)| matches!(e.ty, ComponentItem::Type(_))))
}

/// The same WIT signature, compared structurally (record fields, variant
/// cases, ... all the way down), not only by type names. Resources are
/// nominal in WIT: each version's are its own types, so they match by the
/// names the signatures give them (objects of the old version expire at
/// the reload either way).
fn same_signature(a: &ExportFunction, b: &ExportFunction) -> bool {
    (!a.uses_plugin_objects() || a.signature() == b.signature())
        && a.params().len() == b.params().len()
        && a.params()
            .zip(b.params())
            .all(|((na, ta), (nb, tb))| na == nb && same_type(ta, tb))
        && match (a.result(), b.result()) {
            (None, None) => true,
            (Some(x), Some(y)) => same_type(x, y),
            _ => false,
        }
}

fn same_type(a: &Type, b: &Type) -> bool {
    let same_opt = |x: Option<Type>, y: Option<Type>| match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => same_type(&x, &y),
        _ => false,
    };
    match (a, b) {
        (Type::List(x), Type::List(y)) => same_type(&x.ty(), &y.ty()),
        (Type::Record(x), Type::Record(y)) => {
            let (fx, fy): (Vec<_>, Vec<_>) = (x.fields().collect(), y.fields().collect());
            fx.len() == fy.len()
                && fx
                    .iter()
                    .zip(&fy)
                    .all(|(f, g)| f.name == g.name && same_type(&f.ty, &g.ty))
        }
        (Type::Tuple(x), Type::Tuple(y)) => {
            let (tx, ty): (Vec<_>, Vec<_>) = (x.types().collect(), y.types().collect());
            tx.len() == ty.len() && tx.iter().zip(&ty).all(|(p, q)| same_type(p, q))
        }
        (Type::Variant(x), Type::Variant(y)) => {
            let (cx, cy): (Vec<_>, Vec<_>) = (x.cases().collect(), y.cases().collect());
            cx.len() == cy.len()
                && cx
                    .into_iter()
                    .zip(cy)
                    .all(|(c, d)| c.name == d.name && same_opt(c.ty, d.ty))
        }
        (Type::Enum(x), Type::Enum(y)) => x.names().eq(y.names()),
        (Type::Flags(x), Type::Flags(y)) => x.names().eq(y.names()),
        (Type::Option(x), Type::Option(y)) => same_type(&x.ty(), &y.ty()),
        (Type::Result(x), Type::Result(y)) => {
            same_opt(x.ok(), y.ok()) && same_opt(x.err(), y.err())
        }
        // Resources match by name (see `same_signature`).
        (Type::Own(_), Type::Own(_)) | (Type::Borrow(_), Type::Borrow(_)) => true,
        // Futures and streams are identified by their component: never the
        // same across two versions.
        (Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_), _) => false,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b) && is_primitive(a),
    }
}

fn is_primitive(t: &Type) -> bool {
    matches!(
        t,
        Type::Bool
            | Type::S8
            | Type::U8
            | Type::S16
            | Type::U16
            | Type::S32
            | Type::U32
            | Type::S64
            | Type::U64
            | Type::Float32
            | Type::Float64
            | Type::Char
            | Type::String
            | Type::ErrorContext
    )
}
