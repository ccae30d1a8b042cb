//! Call deadlines, and the one background thread that keeps time for them.
//!
//! The *ticker* thread wakes every [`TICK`] (10 ms). Each tick it
//! - advances a coarse clock ([`ticks`]): a call reads it at its start,
//!   which costs one atomic load instead of a clock read;
//! - advances the epoch of every engine with epoch interruption, which makes
//!   computing guests pause so their deadline can be checked;
//! - wakes the calls whose deadline has passed while they wait in a host
//!   call (a WASI sleep, a read).
//!
//! There is one ticker per process, not one per sandbox or engine. Deadlines
//! are never early and at most about two ticks late.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// How often the ticker runs.
pub(crate) const TICK: Duration = Duration::from_millis(10);

static TICKS: AtomicU64 = AtomicU64::new(0);

/// The coarse clock: ticks since the ticker started.
#[inline]
pub(crate) fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// How many ticks of the coarse clock must pass after a call read it at
/// its start before `timeout` has surely passed: the first tick may come at
/// once, so one more than the whole ticks in `timeout`.
pub(crate) fn ticks_for(timeout: Duration) -> u64 {
    let tick = TICK.as_nanos();
    let whole = timeout.as_nanos().div_ceil(tick);
    u64::try_from(whole).unwrap_or(u64::MAX).saturating_add(1)
}

/// The deadline passed before the future finished.
#[derive(Debug)]
pub(crate) struct Elapsed;

pin_project_lite::pin_project! {
    /// Runs a future until it completes or `timeout` has passed since the
    /// coarse clock read `start_tick`, whichever is first; dropping the
    /// inner future at the deadline cancels it. A call that finishes at its
    /// first poll reads no clock at all.
    pub(crate) struct WithDeadline<F> {
        #[pin]
        fut: F,
        start_tick: u64,
        timeout: Duration,
        // Fixed at the first pause; `Some(None)`: too far away to represent.
        deadline: Option<Option<Instant>>,
        alarm: Option<Alarm>,
    }
}

/// Wraps `fut` in a [`WithDeadline`].
#[inline]
pub(crate) fn with_deadline<F: Future>(
    fut: F,
    start_tick: u64,
    timeout: Duration,
) -> WithDeadline<F> {
    WithDeadline {
        fut,
        start_tick,
        timeout,
        deadline: None,
        alarm: None,
    }
}

impl<F: Future> Future for WithDeadline<F> {
    type Output = Result<F::Output, Elapsed>;

    #[inline]
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.fut.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        let now = Instant::now();
        let start_tick = *this.start_tick;
        let timeout = *this.timeout;
        // Only whole ticks are known to have passed before the first pause,
        // so the deadline is never early.
        let deadline = *this.deadline.get_or_insert_with(|| {
            let passed = ticks().saturating_sub(start_tick).saturating_sub(1);
            let passed = TICK.saturating_mul(u32::try_from(passed).unwrap_or(u32::MAX));
            now.checked_add(timeout.saturating_sub(passed))
        });
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        if now >= deadline {
            return Poll::Ready(Err(Elapsed));
        }
        match this.alarm {
            Some(alarm) => alarm.refresh(cx.waker()),
            None => *this.alarm = Some(Alarm::set(deadline, cx.waker())),
        }
        Poll::Pending
    }
}

/// Has the ticker advance `engine`'s epoch every tick, for as long as the
/// engine lives.
pub(crate) fn tick_epochs_of(engine: &wasmtime::Engine) {
    let ticker = ticker();
    ticker.lock().engines.push(engine.weak());
}

/// Starts the ticker if it is not running yet.
pub(crate) fn start() {
    ticker();
}

/// A wake-up registered with the ticker; dropping it cancels the wake-up.
pub(crate) struct Alarm {
    key: (Instant, u64),
}

impl Alarm {
    fn set(deadline: Instant, waker: &Waker) -> Alarm {
        let mut inner = ticker().lock();
        inner.next_id += 1;
        let key = (deadline, inner.next_id);
        inner.alarms.insert(key, waker.clone());
        Alarm { key }
    }

    fn refresh(&mut self, waker: &Waker) {
        let mut inner = ticker().lock();
        if let Some(registered) = inner.alarms.get_mut(&self.key)
            && !registered.will_wake(waker)
        {
            *registered = waker.clone();
        }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        ticker().lock().alarms.remove(&self.key);
    }
}

struct Ticker {
    inner: Mutex<Inner>,
}

struct Inner {
    next_id: u64,
    alarms: BTreeMap<(Instant, u64), Waker>,
    engines: Vec<wasmtime::EngineWeak>,
}

impl Ticker {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; recover the data anyway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        loop {
            std::thread::sleep(TICK);
            TICKS.fetch_add(1, Ordering::Relaxed);
            let now = Instant::now();
            let mut due = Vec::new();
            let engines: Vec<wasmtime::Engine> = {
                let mut inner = self.lock();
                while let Some(entry) = inner.alarms.first_entry() {
                    if entry.key().0 > now {
                        break;
                    }
                    due.push(entry.remove());
                }
                let mut live = Vec::with_capacity(inner.engines.len());
                inner.engines.retain(|weak| match weak.upgrade() {
                    Some(engine) => {
                        live.push(engine);
                        true
                    }
                    None => false,
                });
                live
            };
            for engine in engines {
                engine.increment_epoch();
            }
            due.into_iter().for_each(Waker::wake);
        }
    }
}

fn ticker() -> &'static Ticker {
    static TICKER: OnceLock<&'static Ticker> = OnceLock::new();
    TICKER.get_or_init(|| {
        let ticker: &'static Ticker = Box::leak(Box::new(Ticker {
            inner: Mutex::new(Inner {
                next_id: 0,
                alarms: BTreeMap::new(),
                engines: Vec::new(),
            }),
        }));
        // If the thread cannot start, computing guests on a fuel engine still
        // stop at their deadline (they are polled at every pause); epoch
        // engines and waiting guests would run until they finish.
        if let Err(e) = std::thread::Builder::new()
            .name("wasm-sandbox-ticker".to_string())
            .spawn(move || ticker.run())
        {
            tracing::error!(
                "could not start the deadline thread: {e}; call deadlines are not enforced"
            );
        }
        ticker
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synchronous_deadline_is_never_early() {
        // The first tick may come right after the call read the clock, so
        // one more tick than the timeout holds is needed.
        assert_eq!(ticks_for(Duration::ZERO), 1);
        assert_eq!(ticks_for(Duration::from_millis(1)), 2);
        assert_eq!(ticks_for(TICK), 2);
        assert_eq!(ticks_for(TICK + Duration::from_nanos(1)), 3);
        assert_eq!(ticks_for(Duration::from_secs(10)), 1001);
        // Longer than the clock can count: never.
        assert_eq!(ticks_for(Duration::MAX), u64::MAX);
        assert_eq!(10u64.saturating_add(ticks_for(Duration::MAX)), u64::MAX);
    }

    #[test]
    fn a_pending_future_is_cancelled_at_its_deadline() {
        start();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // No time driver: the deadline must not need one.
        let start = Instant::now();
        let out = rt.block_on(with_deadline(
            std::future::pending::<()>(),
            ticks(),
            Duration::from_millis(50),
        ));
        assert!(out.is_err());
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn a_ready_future_sets_no_alarm() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(with_deadline(async { 7 }, ticks(), Duration::from_secs(1)));
        assert_eq!(out.unwrap(), 7);
    }

    #[test]
    fn the_coarse_clock_advances() {
        start();
        let before = ticks();
        std::thread::sleep(TICK * 5);
        assert!(ticks() > before);
    }
}
