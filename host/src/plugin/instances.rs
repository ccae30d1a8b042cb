//! The instances a plugin runs on — one (a [`WasmSandbox`](crate::WasmSandbox))
//! or a pool of them (a [`SandboxPool`](crate::SandboxPool)) — and the
//! [`Lease`] through which a call uses one.
//!
//! This is where an instance's life is decided, in one place: a lease
//! hands out a live instance (making one when there is none, or when the
//! last call left it poisoned), and when the lease ends the instance is
//! kept for the next call, or dropped if the call failed, was cancelled, or
//! the plugin runs a fresh instance per call.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::deadline::{ticks, with_deadline};
use crate::error::{Error, Result};
use crate::plugin::instance::{InstanceCell, InstanceSetup, Live};

/// How a plugin keeps its instances.
pub(crate) struct Instances {
    kind: Kind,
    /// Drop each instance after the call it ran.
    fresh_instance_per_call: bool,
    /// Instances made so far.
    created: AtomicU64,
    /// Unique in the process: the owner recorded in each instance's cell.
    id: u64,
    /// Set when a reloadable pool moved on to a new version: instances are
    /// no longer kept, and plugin objects made here can no longer be used.
    retired: AtomicBool,
}

/// The next [`Instances::id`].
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

enum Kind {
    /// One instance, which calls take turns on.
    One(futures_util::lock::Mutex<Option<Live>>),
    /// Up to `max_instances`, one per concurrent call.
    Pool(Pool),
}

/// The state of a pool of instances.
struct Pool {
    /// Boxed, so that a lease (and every call's future) stays small: the
    /// instance moves out of this list into the lease and back.
    #[allow(clippy::vec_box)]
    idle: Mutex<Vec<Box<Live>>>,
    /// Instances that exist (idle or in use) or are being made.
    count: AtomicUsize,
    /// Calls waiting for an instance.
    waiters: AtomicUsize,
    freed: Notify,
    /// Calls waiting for one particular instance (a plugin object's).
    pinned_waiters: AtomicUsize,
    /// Woken (all of them) whenever an instance is returned.
    pinned_freed: Notify,
    max_instances: usize,
    checkout_timeout: Duration,
    discarded: AtomicU64,
    checkouts: AtomicU64,
    waits: AtomicU64,
    wait_nanos: AtomicU64,
    timeouts: AtomicU64,
}

/// A snapshot of a pool's counters, from [`SandboxPool::metrics`](crate::SandboxPool::metrics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Instances running a call now.
    pub in_use: usize,
    /// Instances waiting for a call.
    pub idle: usize,
    /// Instances created since the pool was built (preloaded ones included).
    pub created: u64,
    /// Instances thrown away: after a trap, a limit hit or a cancelled call,
    /// and after every call with a fresh instance per call.
    pub discarded: u64,
    /// Calls that got an instance.
    pub checkouts: u64,
    /// Calls that found every instance busy and had to wait.
    pub waits: u64,
    /// The time calls spent waiting for an instance, summed.
    pub total_wait: Duration,
    /// Calls that gave up waiting ([`Error::PoolTimeout`](crate::Error::PoolTimeout)).
    pub timeouts: u64,
}

/// The settings of a pool of instances.
pub(crate) struct PoolSettings {
    pub(crate) max_instances: usize,
    pub(crate) checkout_timeout: Duration,
}

impl Instances {
    /// One instance.
    pub(crate) fn one(fresh_instance_per_call: bool) -> Instances {
        Instances {
            kind: Kind::One(futures_util::lock::Mutex::new(None)),
            fresh_instance_per_call,
            created: AtomicU64::new(0),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            retired: AtomicBool::new(false),
        }
    }

    /// A pool of up to `settings.max_instances`.
    pub(crate) fn pool(settings: &PoolSettings, fresh_instance_per_call: bool) -> Instances {
        let max = settings.max_instances.max(1);
        Instances {
            kind: Kind::Pool(Pool {
                idle: Mutex::new(Vec::with_capacity(max)),
                count: AtomicUsize::new(0),
                waiters: AtomicUsize::new(0),
                freed: Notify::new(),
                pinned_waiters: AtomicUsize::new(0),
                pinned_freed: Notify::new(),
                max_instances: max,
                checkout_timeout: settings.checkout_timeout,
                discarded: AtomicU64::new(0),
                checkouts: AtomicU64::new(0),
                waits: AtomicU64::new(0),
                wait_nanos: AtomicU64::new(0),
                timeouts: AtomicU64::new(0),
            }),
            fresh_instance_per_call,
            created: AtomicU64::new(0),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            retired: AtomicBool::new(false),
        }
    }

    /// Makes up to `count` instances ahead of the first calls (a single
    /// instance is always made at once, so that a plugin that cannot start
    /// fails when it is built).
    pub(crate) async fn preload(&self, setup: &InstanceSetup, count: usize) -> Result<()> {
        match &self.kind {
            Kind::One(live) => {
                let made = self.instantiate(setup, setup.audit.clone()).await?;
                *live.lock().await = Some(made);
            }
            Kind::Pool(pool) => {
                for _ in 0..count.min(pool.max_instances) {
                    let made = self
                        .instantiate(setup, Arc::new(setup.audit.sibling()))
                        .await?;
                    pool.count.fetch_add(1, Ordering::SeqCst);
                    pool.idle().push(Box::new(made));
                }
            }
        }
        Ok(())
    }

    /// A live instance at once, without waiting or making one: the single
    /// instance when no other call holds it and the last call left it
    /// healthy, or an idle instance of the pool. `None` sends the caller to
    /// [`lease`](Self::lease). Most calls take this path, which costs no
    /// extra layer of futures.
    #[inline(always)]
    pub(crate) fn try_lease(&self) -> Option<Lease<'_>> {
        let held = match &self.kind {
            Kind::One(live) => {
                let guard = live.try_lock()?;
                if !matches!(&*guard, Some(live) if !live.poisoned) {
                    return None;
                }
                Held::One(guard)
            }
            Kind::Pool(pool) => {
                let live = pool.idle().pop()?;
                pool.checkouts.fetch_add(1, Ordering::Relaxed);
                Held::Pool(pool, Some(live))
            }
        };
        Some(Lease {
            instances: self,
            held,
        })
    }

    /// A live instance for one call: an idle one, or a new one.
    #[inline]
    pub(crate) async fn lease<'a>(&'a self, setup: &InstanceSetup) -> Result<Lease<'a>> {
        match &self.kind {
            Kind::One(live) => {
                let mut guard = live.lock().await;
                if !matches!(&*guard, Some(live) if !live.poisoned) {
                    *guard = None;
                    // Boxed: instantiation is a large future, and keeping it
                    // out of line keeps every call's future small.
                    let made = Box::pin(self.instantiate(setup, setup.audit.clone())).await?;
                    *guard = Some(made);
                }
                Ok(Lease {
                    instances: self,
                    held: Held::One(guard),
                })
            }
            Kind::Pool(pool) => {
                let got = match pool.try_take() {
                    Some(got) => got,
                    None => pool.wait().await?,
                };
                pool.checkouts.fetch_add(1, Ordering::Relaxed);
                let live = match got {
                    Got::Idle(live) => live,
                    Got::Create => {
                        let mut reservation = Reservation { pool, armed: true };
                        // Each instance of a pool has its own view of the
                        // shared audit log, so that concurrent calls keep
                        // their events apart.
                        let audit = Arc::new(setup.audit.sibling());
                        let live = Box::pin(self.instantiate(setup, audit)).await?;
                        reservation.armed = false;
                        Box::new(live)
                    }
                };
                Ok(Lease {
                    instances: self,
                    held: Held::Pool(pool, Some(live)),
                })
            }
        }
    }

    /// [`lease_pinned`](Self::lease_pinned) when the instance is free and
    /// healthy at once; `None` otherwise (the slow path says why).
    #[inline]
    pub(crate) fn try_lease_pinned(&self, cell: &InstanceCell) -> Option<Lease<'_>> {
        if cell.owner != self.id {
            return None;
        }
        match &self.kind {
            Kind::One(live) => {
                let guard = live.try_lock()?;
                if !matches!(&*guard, Some(live) if live.cell.id == cell.id && !live.poisoned) {
                    return None;
                }
                Some(Lease {
                    instances: self,
                    held: Held::One(guard),
                })
            }
            Kind::Pool(_) => None,
        }
    }

    /// The instance `cell` names, for a call on a plugin object it made:
    /// never another instance. Waits while a pool's other call uses it.
    ///
    /// # Errors
    ///
    /// [`Error::ResourceExpired`] when that instance is gone (a call on it
    /// failed, the sandbox was reset or reloaded, or the plugin runs a fresh
    /// instance per call) or belongs to another sandbox;
    /// [`Error::PoolTimeout`] when it stayed busy past the checkout timeout.
    pub(crate) async fn lease_pinned<'a>(
        &'a self,
        cell: &InstanceCell,
        resource: &str,
    ) -> Result<Lease<'a>> {
        let expired = |why: &'static str| Error::ResourceExpired {
            resource: resource.to_string(),
            why: why.to_string(),
        };
        if cell.owner != self.id {
            return Err(expired(if cell.reloaded.load(Ordering::Acquire) {
                crate::plugin::instance::RELOADED
            } else {
                "it was made by another sandbox, or by a version of the plugin that has since \
                 been reloaded"
            }));
        }
        if self.retired.load(Ordering::Acquire) {
            return Err(expired(crate::plugin::instance::RELOADED));
        }
        match &self.kind {
            Kind::One(live) => {
                let guard = live.lock().await;
                match &*guard {
                    Some(live) if live.cell.id == cell.id && !live.poisoned => Ok(Lease {
                        instances: self,
                        held: Held::One(guard),
                    }),
                    Some(live) if live.cell.id == cell.id => Err(expired(
                        "a call on the instance that made it failed (a trap or a limit), so the \
                         instance is being replaced",
                    )),
                    _ => Err(expired(cell.why_gone())),
                }
            }
            Kind::Pool(pool) => {
                let take = || -> Option<Box<Live>> {
                    let mut idle = pool.idle();
                    let at = idle.iter().position(|live| live.cell.id == cell.id)?;
                    Some(idle.swap_remove(at))
                };
                if let Some(live) = take() {
                    pool.checkouts.fetch_add(1, Ordering::Relaxed);
                    return Ok(Lease {
                        instances: self,
                        held: Held::Pool(pool, Some(live)),
                    });
                }
                if !cell.is_alive() {
                    return Err(expired(cell.why_gone()));
                }
                // Busy with another call: wait for it to come back.
                let start = Instant::now();
                pool.waits.fetch_add(1, Ordering::Relaxed);
                pool.pinned_waiters.fetch_add(1, Ordering::SeqCst);
                let waiting = Waiting(&pool.pinned_waiters);
                let wait = async {
                    loop {
                        let notified = pool.pinned_freed.notified();
                        let mut notified = std::pin::pin!(notified);
                        notified.as_mut().enable();
                        if let Some(live) = take() {
                            return Ok(live);
                        }
                        if !cell.is_alive() {
                            return Err(expired(cell.why_gone()));
                        }
                        notified.await;
                    }
                };
                let outcome =
                    with_deadline(std::pin::pin!(wait), ticks(), pool.checkout_timeout).await;
                drop(waiting);
                let waited = start.elapsed();
                pool.wait_nanos.fetch_add(
                    u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                match outcome {
                    Ok(Ok(live)) => {
                        pool.checkouts.fetch_add(1, Ordering::Relaxed);
                        Ok(Lease {
                            instances: self,
                            held: Held::Pool(pool, Some(live)),
                        })
                    }
                    Ok(Err(e)) => Err(e),
                    Err(_) => {
                        pool.timeouts.fetch_add(1, Ordering::Relaxed);
                        Err(Error::PoolTimeout {
                            waited,
                            max_instances: pool.max_instances,
                        })
                    }
                }
            }
        }
    }

    /// Marks these instances as an old version of a reloaded plugin: none
    /// is kept after its call, and their plugin objects expire.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        if let Kind::Pool(pool) = &self.kind {
            for live in pool.idle().iter() {
                live.cell.reloaded.store(true, Ordering::Release);
            }
        }
        self.clear_idle();
    }

    async fn instantiate(
        &self,
        setup: &InstanceSetup,
        audit: Arc<crate::audit::AuditSink>,
    ) -> Result<Live> {
        let live = Live::new(setup, audit, self.id).await?;
        self.created.fetch_add(1, Ordering::Relaxed);
        Ok(live)
    }

    /// Instances made so far.
    pub(crate) fn created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// Drops the single instance and makes a fresh one; for a pool, drops
    /// the idle instances (busy ones finish their call first).
    pub(crate) async fn reset(&self, setup: &InstanceSetup) -> Result<()> {
        match &self.kind {
            Kind::One(live) => {
                let mut guard = live.lock().await;
                *guard = None;
                *guard = Some(self.instantiate(setup, setup.audit.clone()).await?);
            }
            Kind::Pool(pool) => pool.clear_idle(),
        }
        Ok(())
    }

    /// Drops a pool's idle instances; nothing for a single instance.
    pub(crate) fn clear_idle(&self) {
        if let Kind::Pool(pool) = &self.kind {
            pool.clear_idle();
        }
    }

    /// The pool's counters; `None` for a single instance.
    pub(crate) fn metrics(&self) -> Option<PoolMetrics> {
        let Kind::Pool(pool) = &self.kind else {
            return None;
        };
        let idle = pool.idle().len();
        Some(PoolMetrics {
            in_use: pool.count.load(Ordering::SeqCst).saturating_sub(idle),
            idle,
            created: self.created(),
            discarded: pool.discarded.load(Ordering::Relaxed),
            checkouts: pool.checkouts.load(Ordering::Relaxed),
            waits: pool.waits.load(Ordering::Relaxed),
            total_wait: Duration::from_nanos(pool.wait_nanos.load(Ordering::Relaxed)),
            timeouts: pool.timeouts.load(Ordering::Relaxed),
        })
    }

    /// The most instances the plugin runs at once (1 for a single one).
    pub(crate) fn max_instances(&self) -> usize {
        match &self.kind {
            Kind::One(_) => 1,
            Kind::Pool(pool) => pool.max_instances,
        }
    }
}

/// One live instance, lent to one call. Dereferences to the instance;
/// when dropped, keeps it for the next call or discards it.
pub(crate) struct Lease<'a> {
    instances: &'a Instances,
    held: Held<'a>,
}

enum Held<'a> {
    One(futures_util::lock::MutexGuard<'a, Option<Live>>),
    /// `None` only while dropping.
    Pool(&'a Pool, Option<Box<Live>>),
}

impl std::ops::Deref for Lease<'_> {
    type Target = Live;

    #[inline]
    fn deref(&self) -> &Live {
        match &self.held {
            Held::One(guard) => guard.as_ref(),
            Held::Pool(_, live) => live.as_deref(),
        }
        .expect("a lease holds its instance until dropped")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Live {
        match &mut self.held {
            Held::One(guard) => guard.as_mut(),
            Held::Pool(_, live) => live.as_deref_mut(),
        }
        .expect("a lease holds its instance until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let fresh = self.instances.fresh_instance_per_call;
        match &mut self.held {
            // A poisoned instance stays until the next lease replaces it
            // (and `reset` can replace it before then).
            Held::One(guard) => {
                if fresh {
                    **guard = None;
                }
            }
            Held::Pool(pool, live) => {
                let Some(live) = live.take() else {
                    return;
                };
                // `poisoned` is still set when the call failed or its
                // future was dropped mid-call: that instance must not run
                // again.
                let retired = self.instances.retired.load(Ordering::Relaxed);
                if retired {
                    live.cell.reloaded.store(true, Ordering::Release);
                }
                if live.poisoned || fresh || retired {
                    pool.discarded.fetch_add(1, Ordering::Relaxed);
                    drop(live);
                    pool.count.fetch_sub(1, Ordering::SeqCst);
                } else {
                    pool.idle().push(live);
                }
                pool.wake_one();
                if pool.pinned_waiters.load(Ordering::SeqCst) > 0 {
                    pool.pinned_freed.notify_waiters();
                }
            }
        }
    }
}

/// What a checkout got: an idle instance, or the right to create one.
enum Got {
    Idle(Box<Live>),
    Create,
}

/// The right to create one instance, given back if creating fails or is
/// cancelled.
struct Reservation<'a> {
    pool: &'a Pool,
    armed: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pool.count.fetch_sub(1, Ordering::SeqCst);
            self.pool.wake_one();
        }
    }
}

/// Counts a waiting call for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    #[allow(clippy::vec_box)] // See the field.
    fn idle(&self) -> MutexGuard<'_, Vec<Box<Live>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes one waiting call, if any (an instance or room for one was
    /// freed).
    #[inline]
    fn wake_one(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.freed.notify_one();
        }
    }

    /// An idle instance, or room to create one, without waiting.
    #[inline]
    fn try_take(&self) -> Option<Got> {
        if let Some(live) = self.idle().pop() {
            return Some(Got::Idle(live));
        }
        let mut count = self.count.load(Ordering::SeqCst);
        while count < self.max_instances {
            match self.count.compare_exchange_weak(
                count,
                count + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Some(Got::Create),
                Err(now) => count = now,
            }
        }
        None
    }

    /// Waits until an instance is returned or room is freed, up to the
    /// checkout timeout.
    #[cold]
    async fn wait(&self) -> Result<Got> {
        let start = Instant::now();
        let start_tick = ticks();
        self.waits.fetch_add(1, Ordering::Relaxed);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting(&self.waiters);
        let take = async {
            loop {
                let notified = self.freed.notified();
                let mut notified = std::pin::pin!(notified);
                // Registered before looking, so a return between the look
                // and the wait still wakes this call.
                notified.as_mut().enable();
                if let Some(got) = self.try_take() {
                    return got;
                }
                notified.await;
            }
        };
        let outcome = with_deadline(std::pin::pin!(take), start_tick, self.checkout_timeout).await;
        drop(waiting);
        let waited = start.elapsed();
        self.wait_nanos.fetch_add(
            u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        match outcome {
            Ok(got) => Ok(got),
            Err(_) => {
                // A wake-up this call may have taken goes to the next waiter.
                self.wake_one();
                self.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(Error::PoolTimeout {
                    waited,
                    max_instances: self.max_instances,
                })
            }
        }
    }

    /// Drops the idle instances.
    fn clear_idle(&self) {
        let dropped = std::mem::take(&mut *self.idle());
        self.discarded
            .fetch_add(dropped.len() as u64, Ordering::Relaxed);
        self.count.fetch_sub(dropped.len(), Ordering::SeqCst);
        drop(dropped);
        self.wake_one();
        if self.pinned_waiters.load(Ordering::SeqCst) > 0 {
            self.pinned_freed.notify_waiters();
        }
    }
}
