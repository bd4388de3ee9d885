//! A bound in bytes on what one thread hands another: queues of rows, batches and statements
//! hold a few items each, and the width of the rows sets how large an item is (one row of 4 MB
//! a message took a queue of eight to 68 MB). Whoever hands an item over takes its bytes from
//! the budget first, waiting while the items out would go over it (never when none is out, so
//! an item larger than the whole budget goes alone); whoever takes the item gives them back.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

pub struct ByteBudget {
    /// Bytes out, and whether the budget is closed (nothing waits any more).
    state: Mutex<(usize, bool)>,
    given_back: Condvar,
    most: usize,
}

impl ByteBudget {
    /// A budget of `most` bytes out at once (unless one item is more).
    pub fn new(most: usize) -> ByteBudget {
        ByteBudget {
            state: Mutex::new((0, false)),
            given_back: Condvar::new(),
            most,
        }
    }

    fn lock(&self) -> MutexGuard<'_, (usize, bool)> {
        // Nothing panics while holding the lock: a poisoned one still holds a sound count.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `bytes` for an item about to be handed over: waits while other items are out and
    /// this one would take the total over the budget, unless the budget is closed.
    pub fn take(&self, bytes: usize) {
        let mut state = self.lock();
        while !state.1 && state.0 > 0 && state.0.saturating_add(bytes) > self.most {
            state = self
                .given_back
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.0 = state.0.saturating_add(bytes);
    }

    /// Gives back the bytes of an item taken in (or dropped).
    pub fn give_back(&self, bytes: usize) {
        let mut state = self.lock();
        state.0 = state.0.saturating_sub(bytes);
        self.given_back.notify_all();
    }

    /// Nothing waits any more: the other side stopped taking items in.
    pub fn close(&self) {
        self.lock().1 = true;
        self.given_back.notify_all();
    }
}

/// Closes a budget when dropped, however the scope ends (an error, a panic).
pub struct CloseOnDrop<'a>(pub &'a ByteBudget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn items_out_stay_within_the_budget_and_a_large_one_goes_alone() {
        let sizes = [30, 30, 30, 30, 250, 10, 60, 60, 100, 1];
        let budget = Arc::new(ByteBudget::new(100));
        let out = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel::<usize>();
        let sender = {
            let (budget, out) = (budget.clone(), out.clone());
            std::thread::spawn(move || {
                // Bytes out once each item was handed over.
                let mut seen = Vec::new();
                for bytes in sizes {
                    budget.take(bytes);
                    seen.push((bytes, out.fetch_add(bytes, Ordering::SeqCst) + bytes));
                    tx.send(bytes).unwrap();
                }
                seen
            })
        };
        let mut got = Vec::new();
        for bytes in rx {
            std::thread::sleep(std::time::Duration::from_millis(2));
            out.fetch_sub(bytes, Ordering::SeqCst);
            budget.give_back(bytes);
            got.push(bytes);
        }
        let seen = sender.join().unwrap();
        assert_eq!(got, sizes);
        for (bytes, out) in seen {
            assert!(
                out <= 100 || out == bytes,
                "{out} bytes out with an item of {bytes}"
            );
        }
    }

    #[test]
    fn closing_lets_a_waiting_sender_go() {
        let budget = Arc::new(ByteBudget::new(10));
        budget.take(10);
        let waiting = {
            let budget = budget.clone();
            std::thread::spawn(move || budget.take(5))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiting.is_finished());
        budget.close();
        waiting.join().unwrap();
    }
}
