//! Call deadlines: a future that gives up when its deadline passes.
//!
//! The deadline is checked every time the call's future is polled — a
//! computing guest pauses regularly (fuel yields or epoch ticks), so it is
//! polled often — and one process-wide timer thread wakes calls that are
//! waiting in a host call (a WASI sleep, a read) when their deadline passes.
//! The timer does not depend on the async runtime having its time driver on.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// The deadline passed before the future finished.
#[derive(Debug)]
pub(crate) struct Elapsed;

/// Runs `fut` until it completes or `start + timeout` passes, whichever is
/// first; dropping `fut` at the deadline cancels it. A call that finishes at
/// its first poll costs one clock read and nothing else.
pub(crate) async fn with_deadline<F: Future>(
    fut: F,
    start: Instant,
    timeout: Duration,
) -> Result<F::Output, Elapsed> {
    let deadline = start.checked_add(timeout);
    let mut fut = pin!(fut);
    let mut alarm: Option<Alarm> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        let Some(deadline) = deadline else {
            // Too far in the future to represent: no deadline.
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            return Poll::Ready(Err(Elapsed));
        }
        match &mut alarm {
            Some(alarm) => alarm.refresh(cx.waker()),
            None => alarm = Some(Alarm::set(deadline, cx.waker())),
        }
        Poll::Pending
    })
    .await
}

/// A registration with the timer thread; dropping it cancels the wake-up.
struct Alarm {
    key: (Instant, u64),
}

impl Alarm {
    fn set(deadline: Instant, waker: &Waker) -> Alarm {
        let timer = timer();
        let mut inner = timer.lock();
        inner.next_id += 1;
        let key = (deadline, inner.next_id);
        let earliest = inner.alarms.keys().next().is_none_or(|first| key < *first);
        inner.alarms.insert(key, waker.clone());
        drop(inner);
        if earliest {
            timer.changed.notify_one();
        }
        Alarm { key }
    }

    fn refresh(&mut self, waker: &Waker) {
        let mut inner = timer().lock();
        if let Some(registered) = inner.alarms.get_mut(&self.key)
            && !registered.will_wake(waker)
        {
            *registered = waker.clone();
        }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        timer().lock().alarms.remove(&self.key);
    }
}

struct Timer {
    inner: Mutex<Inner>,
    changed: Condvar,
}

struct Inner {
    next_id: u64,
    alarms: BTreeMap<(Instant, u64), Waker>,
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; recover the data anyway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The timer thread: sleeps until the earliest alarm, wakes the due ones.
    fn run(&self) {
        let mut inner = self.lock();
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = inner.alarms.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                drop(inner);
                due.into_iter().for_each(Waker::wake);
                inner = self.lock();
                continue;
            }
            inner = match inner.alarms.keys().next().map(|k| k.0) {
                Some(when) => {
                    let wait = when.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(inner, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.changed.wait(inner).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            inner: Mutex::new(Inner {
                next_id: 0,
                alarms: BTreeMap::new(),
            }),
            changed: Condvar::new(),
        }));
        // If the thread cannot start, computing guests still stop at their
        // deadline (they are polled at every pause); only guests waiting in
        // a host call would wait for it to finish.
        let _ = std::thread::Builder::new()
            .name("wasm-sandbox-deadline".to_string())
            .spawn(move || timer.run());
        timer
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_future_is_cancelled_at_its_deadline() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // No time driver: the deadline must not need one.
        let start = Instant::now();
        let out = rt.block_on(with_deadline(
            std::future::pending::<()>(),
            start,
            Duration::from_millis(50),
        ));
        assert!(out.is_err());
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(timer().lock().alarms.is_empty(), "the alarm is removed");
    }

    #[test]
    fn a_ready_future_sets_no_alarm() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(with_deadline(
            async { 7 },
            Instant::now(),
            Duration::from_secs(1),
        ));
        assert_eq!(out.unwrap(), 7);
    }
}
