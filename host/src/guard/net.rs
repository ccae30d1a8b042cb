//! Network enforcement: a check on every socket address the plugin uses,
//! and on every name it looks up.
//!
//! A name grant covers the lookup and connections to the addresses that
//! lookup returned (in this instance); an address grant (IP or CIDR) covers
//! connections to it directly. Binding a specific address and listening are
//! never allowed: plugins make outbound connections only. The implicit bind
//! to a wildcard address and port 0 that the OS does before a connect is
//! allowed without an event of its own (the connect is audited).
//!
//! wasmtime-wasi refuses some addresses itself before it asks our check
//! (an IPv4-mapped IPv6 address, port 0, a multicast address, an address
//! of the other family...). The socket functions that take an address are
//! shadowed so that such a refusal is audited too, with the address and
//! the reason, and so that every refusal reaches
//! [`HostState::refused`](crate::guard::store::HostState::refused), the hook of the
//! violation modes.

pub(crate) mod state;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::Network;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::ResolveAddressStream;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as _, HostResolveAddressStream as _, IpAddress,
};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress};
use wasmtime_wasi::p2::bindings::sockets::tcp::{HostTcpSocket, TcpSocket};
use wasmtime_wasi::p2::bindings::sockets::udp::{
    HostOutgoingDatagramStream, HostUdpSocket, IncomingDatagramStream, OutgoingDatagram,
    OutgoingDatagramStream, UdpSocket,
};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, SocketError};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsView};

use crate::audit::{AuditSink, CapabilityKind, Decision};
use crate::guard::store::HostState;
use crate::policy::refused_ipv6;
use crate::policy::{Compiled, Verdict};
use state::NetState;

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
            checks: AtomicU64::new(0),
            pending: Mutex::new(Vec::new()),
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
        if !matches!(use_, SocketAddrUse::UdpReceive) {
            self.checks.fetch_add(1, Ordering::SeqCst);
        }
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
            .record(CapabilityKind::Network, operation, target.clone(), &verdict);
        // A datagram from a host the plugin may not hear from is dropped and
        // audited; it is not something the plugin did.
        if !verdict.allowed && !matches!(use_, SocketAddrUse::UdpReceive) {
            lock(&self.pending).push((target, verdict.rule));
        }
        verdict.allowed
    }

    fn checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The capability a refused operation would need, as `HostState::refused`
/// names it.
const CAPABILITY: &str = "Capability::NetworkAccess";

/// Why wasmtime-wasi refused `addr` for a socket of `family` (`remote`: as
/// the address to connect or send to), told the way the audit log tells it.
fn invalid_address_rule(addr: SocketAddr, family: Option<IpAddressFamily>, remote: bool) -> String {
    let ip = addr.ip();
    if let IpAddr::V6(v6) = ip
        && let Some(rule) = refused_ipv6(v6)
    {
        return rule;
    }
    match (family, ip) {
        (Some(IpAddressFamily::Ipv4), IpAddr::V6(_)) => {
            return "an IPv6 address on an IPv4 socket is refused".to_string();
        }
        (Some(IpAddressFamily::Ipv6), IpAddr::V4(_)) => {
            return "an IPv4 address on an IPv6 socket is refused".to_string();
        }
        _ => {}
    }
    if ip.is_multicast() {
        return "multicast addresses are refused".to_string();
    }
    if let IpAddr::V4(v4) = ip
        && v4.is_broadcast()
    {
        return "the broadcast address is refused".to_string();
    }
    if remote && ip.is_unspecified() {
        return format!("the unspecified address {ip} cannot be connected to");
    }
    if remote && addr.port() == 0 {
        return "port 0 cannot be connected to".to_string();
    }
    "refused by wasmtime-wasi as an invalid address (invalid-argument)".to_string()
}

impl HostState {
    /// After a shadowed socket function: audits a refusal wasmtime-wasi made
    /// without asking the check (`InvalidArgument` with the check count
    /// unchanged since `checks_before`), then passes every refusal audited
    /// since the last time to [`HostState::refused`].
    fn after_socket_call(
        &mut self,
        result: Option<&ErrorCode>,
        checks_before: u64,
        attempt: Option<(&str, SocketAddr, Option<IpAddressFamily>, bool)>,
    ) -> wasmtime::Result<()> {
        let net = self.net.clone();
        if let (Some(ErrorCode::InvalidArgument), Some((operation, addr, family, remote))) =
            (result, attempt)
            && net.checks() == checks_before
        {
            let rule = invalid_address_rule(addr, family, remote);
            let target = addr.to_string();
            self.audit.record_event(
                CapabilityKind::Network,
                operation,
                target.clone(),
                Decision::Denied,
                rule.clone(),
            );
            lock(&net.pending).push((target, rule));
        }
        let pending = std::mem::take(&mut *lock(&net.pending));
        for (target, rule) in pending {
            self.refused(CAPABILITY, &target, &rule)?;
        }
        Ok(())
    }

    fn tcp_family(&mut self, rep: u32) -> Option<IpAddressFamily> {
        HostTcpSocket::address_family(&mut self.sockets(), Resource::new_borrow(rep)).ok()
    }

    fn udp_family(&mut self, rep: u32) -> Option<IpAddressFamily> {
        HostUdpSocket::address_family(&mut self.sockets(), Resource::new_borrow(rep)).ok()
    }
}

/// The error code of a socket result, or its trap.
fn code<T>(r: Result<T, SocketError>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
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
    crate::guard::shadow(linker, add_wrappers)
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
                state.refused(CAPABILITY, &name, &verdict.rule)?;
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
    add_tcp(linker)?;
    add_udp(linker)
}

type Streams = (Resource<DynInputStream>, Resource<DynOutputStream>);

fn add_tcp(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut tcp = linker.instance("wasi:sockets/tcp@0.2.12")?;
    tcp.func_wrap_async(
        "[method]tcp-socket.start-bind",
        |mut cx: StoreContextMut<'_, HostState>,
         (this, network, local): (Resource<TcpSocket>, Resource<Network>, IpSocketAddress)| {
            Box::new(async move {
                let state = cx.data_mut();
                let family = state.tcp_family(this.rep());
                let before = state.net.checks();
                let r = code(
                    HostTcpSocket::start_bind(&mut state.sockets(), this, network, local).await,
                )?;
                let attempt = ("bind", SocketAddr::from(local), family, false);
                state.after_socket_call(r.as_ref().err(), before, Some(attempt))?;
                Ok((r,))
            })
        },
    )?;
    tcp.func_wrap(
        "[method]tcp-socket.start-connect",
        |mut cx: StoreContextMut<'_, HostState>,
         (this, network, remote): (Resource<TcpSocket>, Resource<Network>, IpSocketAddress)| {
            let state = cx.data_mut();
            let family = state.tcp_family(this.rep());
            let before = state.net.checks();
            let r = code(HostTcpSocket::start_connect(
                &mut state.sockets(),
                this,
                network,
                remote,
            ))?;
            let attempt = ("connect", SocketAddr::from(remote), family, true);
            state.after_socket_call(r.as_ref().err(), before, Some(attempt))?;
            Ok((r,))
        },
    )?;
    // The connect's own check runs while the connection is being made;
    // its refusal reaches the plugin here.
    tcp.func_wrap(
        "[method]tcp-socket.finish-connect",
        |mut cx: StoreContextMut<'_, HostState>, (this,): (Resource<TcpSocket>,)| {
            let state = cx.data_mut();
            let r: Result<Streams, ErrorCode> =
                code(HostTcpSocket::finish_connect(&mut state.sockets(), this))?;
            state.after_socket_call(None, 0, None)?;
            Ok((r,))
        },
    )?;
    tcp.func_wrap_async(
        "[method]tcp-socket.start-listen",
        |mut cx: StoreContextMut<'_, HostState>, (this,): (Resource<TcpSocket>,)| {
            Box::new(async move {
                let state = cx.data_mut();
                let r = code(HostTcpSocket::start_listen(&mut state.sockets(), this).await)?;
                state.after_socket_call(None, 0, None)?;
                Ok((r,))
            })
        },
    )?;
    Ok(())
}

fn add_udp(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut udp = linker.instance("wasi:sockets/udp@0.2.12")?;
    udp.func_wrap_async(
        "[method]udp-socket.start-bind",
        |mut cx: StoreContextMut<'_, HostState>,
         (this, network, local): (Resource<UdpSocket>, Resource<Network>, IpSocketAddress)| {
            Box::new(async move {
                let state = cx.data_mut();
                let family = state.udp_family(this.rep());
                let before = state.net.checks();
                let r = code(
                    HostUdpSocket::start_bind(&mut state.sockets(), this, network, local).await,
                )?;
                let attempt = ("bind", SocketAddr::from(local), family, false);
                state.after_socket_call(r.as_ref().err(), before, Some(attempt))?;
                Ok((r,))
            })
        },
    )?;
    udp.func_wrap_async(
        "[method]udp-socket.stream",
        |mut cx: StoreContextMut<'_, HostState>,
         (this, remote): (Resource<UdpSocket>, Option<IpSocketAddress>)| {
            Box::new(async move {
                let state = cx.data_mut();
                let family = state.udp_family(this.rep());
                let before = state.net.checks();
                let r: Result<
                    (
                        Resource<IncomingDatagramStream>,
                        Resource<OutgoingDatagramStream>,
                    ),
                    ErrorCode,
                > = code(HostUdpSocket::stream(&mut state.sockets(), this, remote).await)?;
                let attempt = remote.map(|a| ("connect", SocketAddr::from(a), family, true));
                state.after_socket_call(r.as_ref().err(), before, attempt)?;
                Ok((r,))
            })
        },
    )?;
    udp.func_wrap(
        "[method]outgoing-datagram-stream.send",
        |mut cx: StoreContextMut<'_, HostState>,
         (this, datagrams): (Resource<OutgoingDatagramStream>, Vec<OutgoingDatagram>)| {
            let state = cx.data_mut();
            // An error means the first datagram was not sent.
            let first = datagrams
                .first()
                .and_then(|d| d.remote_address)
                .map(SocketAddr::from);
            let before = state.net.checks();
            let r = code(HostOutgoingDatagramStream::send(
                &mut state.sockets(),
                this,
                datagrams,
            ))?;
            // The stream does not know its socket's family.
            let attempt = first.map(|a| ("send", a, None, true));
            state.after_socket_call(r.as_ref().err(), before, attempt)?;
            Ok((r,))
        },
    )?;
    Ok(())
}
