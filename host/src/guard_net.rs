//! Network enforcement: a check on every socket address the plugin uses,
//! and on every name it looks up.
//!
//! A name grant covers the lookup and connections to the addresses that
//! lookup returned (in this instance); an address grant (IP or CIDR) covers
//! connections to it directly. Binding a specific address and listening are
//! never allowed: plugins make outbound connections only. The implicit bind
//! to a wildcard address and port 0 that the OS does before a connect is
//! allowed without an event of its own (the connect is audited).

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::Network;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::ResolveAddressStream;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as _, HostResolveAddressStream as _, IpAddress,
};
use wasmtime_wasi::p2::bindings::sockets::network::ErrorCode;
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsView};

use crate::audit::{AuditSink, CapabilityKind};
use crate::policy::{Compiled, Verdict};
use crate::store::HostState;

/// Network state shared between an instance's store and its socket check.
#[derive(Debug)]
pub(crate) struct NetState {
    policy: Arc<Compiled>,
    audit: Arc<AuditSink>,
    /// Addresses returned by allowed lookups, and the names they came from.
    resolved: Mutex<HashMap<IpAddr, BTreeSet<String>>>,
    /// Lookups in progress: stream -> name.
    lookups: Mutex<HashMap<u32, String>>,
}

impl NetState {
    /// Configures `wasi`'s sockets from the policy.
    pub(crate) fn setup(
        policy: &Arc<Compiled>,
        audit: &Arc<AuditSink>,
        wasi: &mut WasiCtxBuilder,
    ) -> Arc<NetState> {
        let state = Arc::new(NetState {
            policy: policy.clone(),
            audit: audit.clone(),
            resolved: Mutex::new(HashMap::new()),
            lookups: Mutex::new(HashMap::new()),
        });
        // Sockets can be created, so that every attempt reaches the check and
        // is audited; with no grant, the check refuses every address.
        wasi.allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(policy.has_network());
        let check = state.clone();
        wasi.socket_addr_check(move |addr, use_| {
            let ok = check.check(addr, use_);
            Box::pin(async move { ok })
        });
        state
    }

    fn names_for(&self, ip: IpAddr) -> Vec<String> {
        self.resolved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn check(&self, addr: SocketAddr, use_: SocketAddrUse) -> bool {
        let implicit = addr.ip().is_unspecified() && addr.port() == 0;
        let (operation, verdict) = match use_ {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind if implicit => return true,
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => (
                "bind",
                Verdict::deny(
                    "plugins may not bind a specific address: they make outbound connections only",
                ),
            ),
            SocketAddrUse::TcpListen => (
                "listen",
                Verdict::deny(
                    "plugins may not listen for connections: they make outbound connections only",
                ),
            ),
            SocketAddrUse::TcpAccept => (
                "accept",
                Verdict::deny("plugins may not accept connections"),
            ),
            SocketAddrUse::UdpReceive => {
                // Replies from a host the plugin may reach are fine and not
                // audited one by one; anything else is dropped and audited.
                let names = self.names_for(addr.ip());
                let v = self.policy.check_addr(addr.ip(), addr.port(), &names);
                if v.allowed {
                    return true;
                }
                ("receive", v)
            }
            SocketAddrUse::TcpConnect => {
                let names = self.names_for(addr.ip());
                (
                    "connect",
                    self.policy.check_addr(addr.ip(), addr.port(), &names),
                )
            }
            SocketAddrUse::UdpSend => {
                let names = self.names_for(addr.ip());
                (
                    "send",
                    self.policy.check_addr(addr.ip(), addr.port(), &names),
                )
            }
        };
        let names = self.names_for(addr.ip());
        let target = match names.first() {
            Some(name) => format!("{name}:{}", addr.port()),
            None => addr.to_string(),
        };
        let verdict = if names.is_empty() {
            verdict
        } else {
            Verdict {
                allowed: verdict.allowed,
                rule: format!("{} [{}]", verdict.rule, addr.ip()),
            }
        };
        self.audit
            .record(CapabilityKind::Network, operation, target, &verdict);
        verdict.allowed
    }
}

fn ip(addr: &IpAddress) -> IpAddr {
    match *addr {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    }
}

/// Replaces `wasi:sockets/ip-name-lookup` with a checked, audited version.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = add_wrappers(linker);
    linker.allow_shadowing(false);
    result
}

fn add_wrappers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut lookup = linker.instance("wasi:sockets/ip-name-lookup@0.2.12")?;
    lookup.func_wrap(
        "resolve-addresses",
        |mut cx: StoreContextMut<'_, HostState>, (network, name): (Resource<Network>, String)| {
            let state = cx.data_mut();
            let verdict = state.policy.check_lookup(&name);
            state.audit.record(
                CapabilityKind::Network,
                "dns-lookup",
                name.clone(),
                &verdict,
            );
            if !verdict.allowed {
                // Refused before reaching WASI, where calls are counted.
                state.count_host_call("wasi");
                return Ok((Err(ErrorCode::AccessDenied),));
            }
            let net = state.net.clone();
            let r = match cx
                .data_mut()
                .sockets()
                .resolve_addresses(network, name.clone())
            {
                Ok(stream) => Ok(stream),
                Err(e) => Err(e.downcast()?),
            };
            if let Ok(stream) = &r {
                net.lookups
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(stream.rep(), name);
            }
            Ok((r,))
        },
    )?;
    lookup.func_wrap(
        "[method]resolve-address-stream.resolve-next-address",
        |mut cx: StoreContextMut<'_, HostState>, (stream,): (Resource<ResolveAddressStream>,)| {
            let rep = stream.rep();
            let net = cx.data_mut().net.clone();
            let r = match cx.data_mut().sockets().resolve_next_address(stream) {
                Ok(addr) => Ok(addr),
                Err(e) => Err(e.downcast()?),
            };
            if let Ok(Some(addr)) = &r {
                let name = net
                    .lookups
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&rep)
                    .cloned();
                if let Some(name) = name {
                    net.resolved
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(ip(addr))
                        .or_default()
                        .insert(name);
                }
            }
            Ok((r,))
        },
    )?;
    Ok(())
}
