//! The engine's one timer: it interrupts runs whose deadline has passed.
//!
//! Every instance of every module of an engine shares one thread, started when the first
//! deadline is set and ended when the engine and its modules are dropped. A run arms its
//! deadline for as long as its [`Armed`] guard lives; when the deadline passes first, the
//! timer raises the instance's interrupt floor (`Interrupt::DEADLINE`) and the run traps
//! at its next fuel check.

use crate::instance::Interrupt;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

/// An engine's timer.
#[derive(Default)]
pub(crate) struct Timer {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Deadlines by (when, id).
    due: BTreeMap<(Instant, u64), Weak<Interrupt>>,
    next_id: u64,
    started: bool,
    shutdown: bool,
    /// The thread, joined when the timer is dropped (so none outlives its engine).
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A deadline, withdrawn when dropped.
pub(crate) struct Armed {
    shared: Arc<Shared>,
    key: (Instant, u64),
}

impl Timer {
    /// Interrupts `interrupt` at `when` unless the guard is dropped first.
    pub(crate) fn arm(&self, when: Instant, interrupt: &Arc<Interrupt>) -> Armed {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let key = (when, st.next_id);
        st.next_id += 1;
        st.due.insert(key, Arc::downgrade(interrupt));
        if !st.started {
            st.started = true;
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new().name("kiln-timer".into()).spawn(move || run(&shared));
            if let Ok(thread) = spawned {
                st.thread = Some(thread);
            } else {
                // No thread: deadlines are checked by no one. Say so rather than hang.
                st.started = false;
                if let Some(i) = st.due.remove(&key).and_then(|w| w.upgrade()) {
                    i.request(Interrupt::DEADLINE);
                }
            }
        }
        drop(st);
        self.shared.wake.notify_one();
        Armed { shared: Arc::clone(&self.shared), key }
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.due.remove(&self.key);
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.shutdown = true;
        let thread = st.thread.take();
        drop(st);
        self.shared.wake.notify_one();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// The timer thread: sleeps until the earliest deadline, interrupts every run past its
/// own, repeats until the engine is gone.
fn run(shared: &Shared) {
    let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if st.shutdown {
            return;
        }
        let now = Instant::now();
        while let Some((&key, _)) = st.due.first_key_value() {
            if key.0 > now {
                break;
            }
            if let Some(i) = st.due.remove(&key).and_then(|w| w.upgrade()) {
                i.request(Interrupt::DEADLINE);
            }
        }
        st = match st.due.first_key_value().map(|(k, _)| k.0) {
            Some(when) => {
                let wait = when.saturating_duration_since(Instant::now());
                shared.wake.wait_timeout(st, wait).unwrap_or_else(|e| e.into_inner()).0
            }
            None => shared.wake.wait(st).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
