//! The one way this crate locks a mutex.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex; a panic elsewhere while holding it does not make the data unusable here
/// (every value kept behind these locks is consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
