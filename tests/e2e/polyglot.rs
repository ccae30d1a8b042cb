//! The same interfaces implemented in Rust, Python, JavaScript and C, driven
//! by the same typed proxies with the same assertions: each function in
//! [`contract`] is one test, run once per language by [`per_language!`].
//! [`python_objects`] tests plugin objects (a WIT resource) exported by a
//! Python plugin, `tallies`, which only Python implements among these.
//!
//! The Python, JavaScript and C plugins are built by
//! `example-plugins/<lang>/build.sh` on first use. A machine without a
//! language's toolchain skips its tests and says which command installs it;
//! with `CI=true` that is a failure (see `example_plugins::polyglot`).

use std::path::PathBuf;

use example_plugins::polyglot::{self, Language};

/// The component of `plugin` written in `language` (`None`: Rust), or
/// `None` when that language's toolchain is missing outside CI.
pub(crate) fn component(language: Option<Language>, plugin: &str) -> Option<PathBuf> {
    match language {
        None => Some(PathBuf::from(match plugin {
            "text-filter" => example_plugins::TEXT_FILTER,
            "file-reader" => example_plugins::FILE_READER,
            "fetcher" => example_plugins::FETCHER,
            other => panic!("no Rust example plugin `{other}`"),
        })),
        Some(language) => polyglot::require(language).map(|built| built.path(plugin)),
    }
}

/// The assertions every implementation of an interface must pass.
pub(crate) mod contract {
    use std::path::Path;

    use example_interfaces::{
        CaseMode, FileReaderPlugin, FilterError, FilterStats, KeyValue, TextFilterPlugin,
    };
    use wasm_sandbox::WasmSandbox;
    use wasm_sandbox::{
        AuditEvent, Capability, CapabilityKind, Decision, ImportCheck, SecurityPolicy,
    };

    use crate::proxy::{Store, doc, kv_granted, opts};

    async fn text_filter(path: &Path, imports: ImportCheck, store: &Store) -> WasmSandbox {
        WasmSandbox::builder()
            .source(path)
            .host_interface(example_interfaces::KeyValueHost::new(store.clone()))
            .security_policy(kv_granted().import_check(imports))
            .build()
            .await
            .unwrap_or_else(|e| panic!("{} loads: {e}", path.display()))
    }

    /// Records, variants, options, results, enums and instance state.
    pub(crate) async fn text_filter_records_variants_options_results_and_state(
        path: &Path,
        imports: ImportCheck,
    ) {
        let store = Store::default();
        let sandbox = text_filter(path, imports, &store).await;
        let plugin = TextFilterPlugin::load(&sandbox).unwrap();
        assert_eq!(plugin.name().await.unwrap(), "cleaner");

        let out = plugin
            .filter(doc(&["Hello", "", "World"]), opts(10, CaseMode::Upper))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.title, "notes");
        assert_eq!(out.lines, ["HELLO", "WORLD"]);
        assert_eq!(out.tags, Some(vec!["draft".to_string()]));

        let mut untagged = doc(&["MiXeD", "  "]);
        untagged.tags = None;
        let out = plugin
            .filter(untagged, opts(10, CaseMode::Lower))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.lines, ["mixed"]);
        assert_eq!(out.tags, None);

        let err = plugin
            .filter(doc(&["a", "b", "c"]), opts(2, CaseMode::Keep))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err,
            FilterError::TooLong {
                limit: 2,
                actual: 3
            }
        );

        let err = plugin
            .filter(doc(&[]), opts(2, CaseMode::Keep))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err, FilterError::Empty);

        // The instance counted what it did; a reset starts the counts over.
        assert_eq!(
            plugin.stats().await.unwrap(),
            FilterStats {
                filtered: 2,
                refused: 2
            }
        );
        sandbox.reset().await.unwrap();
        assert_eq!(
            plugin.stats().await.unwrap(),
            FilterStats {
                filtered: 0,
                refused: 0
            }
        );
    }

    /// The plugin calls the host's `KeyValue` interface both ways, under a
    /// `Custom` grant, and each call is audited.
    pub(crate) async fn text_filter_calls_the_host_interface_both_ways(
        path: &Path,
        imports: ImportCheck,
    ) {
        let store = Store::default();
        store.set("banned".to_string(), "secret".to_string());
        let sandbox = text_filter(path, imports, &store).await;
        let plugin = TextFilterPlugin::load(&sandbox).unwrap();

        // `get` from the plugin: the banned word rejects the document.
        let err = plugin
            .filter(doc(&["no secret here"]), opts(5, CaseMode::Keep))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err, FilterError::Rejected("contains `secret`".to_string()));

        // `set` from the plugin: the last title lands in the host's store.
        let mut d = doc(&["fine"]);
        d.title = "Report Q3".to_string();
        plugin
            .filter(d, opts(5, CaseMode::Keep))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.get("last-title".to_string()).as_deref(),
            Some("Report Q3")
        );

        let calls: Vec<String> = sandbox
            .audit_log()
            .events()
            .into_iter()
            .filter(|e| e.capability == CapabilityKind::Custom)
            .map(|e| {
                assert_eq!(e.decision, Decision::Allowed, "{e}");
                e.target
            })
            .collect();
        assert!(
            calls.iter().any(|t| t.ends_with("#get")) && calls.iter().any(|t| t.ends_with("#set")),
            "{calls:?}"
        );
    }

    /// The one event of `capability` about `target`.
    fn event_for(events: &[AuditEvent], capability: CapabilityKind, target: &Path) -> AuditEvent {
        let target = target.to_string_lossy();
        let found: Vec<&AuditEvent> = events
            .iter()
            .filter(|e| e.capability == capability && e.operation == "open" && e.target == target)
            .collect();
        assert!(
            !found.is_empty(),
            "no {capability} open event for {target} in {events:#?}"
        );
        // Some C libraries open twice (to probe, then to read); all must agree.
        assert!(found.iter().all(|e| e.decision == found[0].decision));
        found[0].clone()
    }

    /// A granted file is read; a file outside the grant is refused with an
    /// error the plugin reports (no trap), and both are in the audit log.
    pub(crate) async fn file_reader_reads_granted_files_only(path: &Path, imports: ImportCheck) {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let granted = root.join("granted");
        let outside = root.join("outside");
        std::fs::create_dir_all(&granted).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let data = granted.join("data.txt");
        let secret = outside.join("secret.txt");
        std::fs::write(&data, "public data\n").unwrap();
        std::fs::write(&secret, "not yours\n").unwrap();

        let sandbox = WasmSandbox::builder()
            .source(path)
            .security_policy(
                SecurityPolicy::strict()
                    .allow(Capability::FileRead(granted.clone()))
                    .import_check(imports),
            )
            .build()
            .await
            .unwrap_or_else(|e| panic!("{} loads: {e}", path.display()));
        let plugin = FileReaderPlugin::load(&sandbox).unwrap();

        let text = plugin
            .read_file(data.to_string_lossy().into_owned())
            .await
            .unwrap();
        assert_eq!(text.as_deref(), Ok("public data\n"));
        let events = sandbox.audit_log().events();
        let allowed = event_for(&events, CapabilityKind::FileRead, &data);
        assert_eq!(allowed.decision, Decision::Allowed, "{allowed}");
        assert_eq!(
            allowed.rule,
            format!("allow FileRead({})", granted.display())
        );
        sandbox.audit_log().clear();

        let refused = plugin
            .read_file(secret.to_string_lossy().into_owned())
            .await
            .expect("a refused open is an error value, not a trap");
        let message = refused.expect_err("a file outside the grant is refused");
        assert!(!message.contains("not yours"), "{message}");
        let events = sandbox.audit_log().events();
        let denied = event_for(&events, CapabilityKind::FileRead, &secret);
        assert_eq!(denied.decision, Decision::Denied, "{denied}");
        assert_eq!(denied.rule, "outside every granted path");
        assert_eq!(
            denied.call.as_deref(),
            Some("example-interfaces:file-reader/plugin@0.1.0#read-file")
        );

        // The instance still works after the refusal.
        let again = plugin
            .read_file(data.to_string_lossy().into_owned())
            .await
            .unwrap();
        assert_eq!(again.as_deref(), Ok("public data\n"));
    }
}

/// One module of tests per language, each running every [`contract`]
/// function against that language's plugin.
macro_rules! per_language {
    ($module:ident, $language:expr, $imports:expr) => {
        mod $module {
            use super::{component, contract};
            #[allow(unused_imports)]
            use wasm_sandbox::ImportCheck;

            #[tokio::test]
            async fn text_filter_records_variants_options_results_and_state() {
                let Some(path) = component($language, "text-filter") else {
                    return;
                };
                contract::text_filter_records_variants_options_results_and_state(&path, $imports)
                    .await;
            }

            #[tokio::test]
            async fn text_filter_calls_the_host_interface_both_ways() {
                let Some(path) = component($language, "text-filter") else {
                    return;
                };
                contract::text_filter_calls_the_host_interface_both_ways(&path, $imports).await;
            }

            #[tokio::test]
            async fn file_reader_reads_granted_files_only() {
                let Some(path) = component($language, "file-reader") else {
                    return;
                };
                contract::file_reader_reads_granted_files_only(&path, $imports).await;
            }

            #[test]
            fn inspect_names_the_package_whatever_else_the_toolchain_exports() {
                let Some(path) = component($language, "text-filter") else {
                    return;
                };
                let outline = wasm_sandbox::ComponentOutline::from_file(&path).unwrap();
                assert_eq!(
                    outline.package.as_deref(),
                    Some("example-interfaces:text-filter@0.1.0"),
                    "{:?}",
                    outline.exported_interfaces
                );
            }
        }
    };
}

// Python's runtime imports all of `wasi:filesystem` and `wasi:sockets`
// whatever the plugin uses, so the strict import check would refuse it at
// load; `ImportCheck::Warn` loads it, and any use is still denied at run
// time. The other languages import only what they use.
per_language!(rust, None, ImportCheck::Deny);
per_language!(
    python,
    Some(example_plugins::polyglot::Language::Python),
    ImportCheck::Warn
);
per_language!(
    javascript,
    Some(example_plugins::polyglot::Language::JavaScript),
    ImportCheck::Deny
);
per_language!(
    c,
    Some(example_plugins::polyglot::Language::C),
    ImportCheck::Deny
);

/// Plugin objects (a WIT resource the plugin exports) from a plugin not
/// written in Rust: `example-plugins/python/tallies`, the Python twin of the
/// Rust `tally` plugin that `resources.rs` tests in depth.
mod python_objects {
    use example_interfaces::TalliesPlugin;
    use wasm_sandbox::{Error, ImportCheck, SecurityPolicy, WasmSandbox};

    use super::{Language, component};

    /// The Python `tallies` plugin in a sandbox with the policy of the other
    /// Python tests (see `per_language!` below for why `Warn`), or `None`
    /// when componentize-py is missing outside CI.
    async fn python_tallies() -> Option<WasmSandbox> {
        let path = component(Some(Language::Python), "tallies")?;
        let sandbox = WasmSandbox::builder()
            .source(&path)
            .security_policy(SecurityPolicy::strict().import_check(ImportCheck::Warn))
            .build()
            .await
            .unwrap_or_else(|e| panic!("{} loads: {e}", path.display()));
        Some(sandbox)
    }

    fn expired(err: &Error) -> &str {
        match err {
            Error::ResourceExpired { resource, why } => {
                assert_eq!(resource, "tally");
                why
            }
            other => panic!("expected ResourceExpired, got {other:?}: {other}"),
        }
    }

    #[tokio::test]
    async fn python_tallies_keep_state_per_object_and_move_words() {
        let Some(sandbox) = python_tallies().await else {
            return;
        };
        let tallies = TalliesPlugin::load(&sandbox).unwrap();

        let a = tallies.open().await.unwrap();
        let b = tallies.new_tally(10).await.unwrap();
        assert_eq!(a.add("one two three").await.unwrap(), 3);
        assert_eq!(b.add("four").await.unwrap(), 11);
        assert_eq!(
            a.add("five").await.unwrap(),
            4,
            "each object keeps its own state"
        );
        assert_eq!(a.words().await.unwrap(), ["one", "two", "three", "five"]);
        assert_eq!(b.words().await.unwrap(), ["four"]);
        assert_eq!(tallies.sum(&a, &b).await.unwrap(), 15);
        assert_eq!(
            tallies.tally_unit().await.unwrap(),
            "words",
            "a static function"
        );
        assert_eq!(tallies.live().await.unwrap(), 2);

        // `from` is given to the plugin, which moves its words and releases it.
        let from = tallies.open().await.unwrap();
        from.add("six seven").await.unwrap();
        assert_eq!(tallies.live().await.unwrap(), 3);
        assert_eq!(tallies.absorb(&a, from).await.unwrap(), 6);
        assert_eq!(
            a.words().await.unwrap(),
            ["one", "two", "three", "five", "six", "seven"]
        );
        assert_eq!(
            tallies.live().await.unwrap(),
            2,
            "the plugin counted its own release"
        );

        // The same checksum as the Rust plugin for the same total.
        let rust = WasmSandbox::builder()
            .source(example_plugins::TALLY)
            .build()
            .await
            .unwrap();
        let rust_tallies = TalliesPlugin::load(&rust).unwrap();
        let twin = rust_tallies.new_tally(6).await.unwrap();
        assert_eq!(a.spin(1000).await.unwrap(), twin.spin(1000).await.unwrap());

        // The host releases `b` at once and `c` before the next call; both
        // succeed. componentize-py 0.25.1 runs no Python code when the host
        // releases an object (see example-plugins/python/tallies/plugin.py),
        // so `fail-on-release` does not fail `close`, unlike in Rust, and
        // `live` does not go down.
        b.fail_on_release().await.unwrap();
        b.close().await.unwrap();
        let c = tallies.open().await.unwrap();
        drop(c);
        assert_eq!(
            tallies.live().await.unwrap(),
            3,
            "a Python plugin is not told of the host's releases"
        );
        assert_eq!(a.total().await.unwrap(), 6, "the other object is untouched");
    }

    #[tokio::test]
    async fn python_tallies_expire_after_a_trap() {
        let Some(sandbox) = python_tallies().await else {
            return;
        };
        let tallies = TalliesPlugin::load(&sandbox).unwrap();
        let a = tallies.open().await.unwrap();
        a.add("x").await.unwrap();

        // A Python exception out of `crash` traps the instance.
        let err = tallies.crash().await.unwrap_err();
        match &err {
            Error::Trap {
                function,
                guest_stderr,
                ..
            } => {
                assert!(function.ends_with("#crash"), "{err:?}");
                assert!(
                    guest_stderr
                        .iter()
                        .any(|l| l == "RuntimeError: asked to crash"),
                    "{guest_stderr:?}"
                );
            }
            other => panic!("expected a trap, got {other:?}"),
        }
        let why = expired(&a.total().await.unwrap_err()).to_string();
        assert!(why.contains("failed"), "{why}");

        // The next call runs on a new instance, with new module state.
        let fresh = tallies.open().await.unwrap();
        assert_eq!(fresh.add("still works").await.unwrap(), 2);
        assert_eq!(tallies.live().await.unwrap(), 1);
        expired(&a.add("y").await.unwrap_err());
        expired(&tallies.sum(&a, &fresh).await.unwrap_err());

        // The release the plugin does itself can fail: that traps too.
        let bomb = tallies.open().await.unwrap();
        bomb.fail_on_release().await.unwrap();
        let err = tallies.absorb(&fresh, bomb).await.unwrap_err();
        assert!(
            matches!(&err, Error::Trap { function, .. } if function.ends_with("#absorb")),
            "{err:?}"
        );
        expired(&fresh.total().await.unwrap_err());
    }
}
