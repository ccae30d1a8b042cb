//! How much native stack the current thread has left.
//!
//! On the synchronous call path the guest runs on the caller's own stack,
//! not on a fiber of its own: wasmtime stops wasm recursion at the
//! engine's `max_wasm_stack` below the entry point, but a thread whose
//! stack is smaller than that (plus what host functions need) would
//! overflow it and abort the process. So a synchronous call first checks
//! that the stack it would run on is deep enough, and otherwise runs on a
//! fiber as an async call does.

use std::cell::Cell;

thread_local! {
    /// The lowest usable address of this thread's stack; 0 until looked
    /// up, `usize::MAX` when it cannot be known.
    static LOWEST: Cell<usize> = const { Cell::new(0) };
}

/// Whether at least `bytes` of native stack are left below the caller's
/// frame on this thread. `false` when that cannot be known (on systems
/// other than Linux): the caller then takes the fiber.
#[inline]
pub(crate) fn has_left(bytes: usize) -> bool {
    let marker = 0u8;
    let here = std::ptr::from_ref(&marker) as usize;
    let lowest = LOWEST.with(|lowest| {
        if lowest.get() == 0 {
            lowest.set(lowest_address().unwrap_or(usize::MAX));
        }
        lowest.get()
    });
    here.checked_sub(lowest).is_some_and(|left| left >= bytes)
}

/// The lowest address of this thread's stack, from the thread library.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lowest_address() -> Option<usize> {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is
    // read, and destroyed once; the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &raw mut attr) != 0 {
            return None;
        }
        let mut address: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let got = libc::pthread_attr_getstack(&raw const attr, &raw mut address, &raw mut size);
        libc::pthread_attr_destroy(&raw mut attr);
        (got == 0 && !address.is_null()).then_some(address as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn lowest_address() -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_knows_the_stack_it_has() {
        assert!(has_left(64 * 1024));
        assert!(!has_left(usize::MAX));
        let small = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| (has_left(64 * 1024), has_left(1024 * 1024)))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(small, (true, false));
        let large = std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(|| has_left(4 * 1024 * 1024))
            .unwrap()
            .join()
            .unwrap();
        assert!(large);
    }
}
