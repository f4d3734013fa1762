//! A store in memory, for tests and single-process demos.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{BoxFuture, ConsentEvent, ConsentRecord, ConsentStore, current_of};
use crate::error::StoreError;
use crate::subject::Subject;

/// A store in memory, for tests and single-process demos. Its history lasts as long as the
/// process.
#[derive(Default)]
pub struct MemoryStore {
    events: Mutex<HashMap<(String, Subject), Vec<ConsentEvent>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<(String, Subject), Vec<ConsentEvent>>) -> T) -> T {
        f(&mut self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ConsentStore for MemoryStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|m| m.entry((app.to_owned(), event.subject().clone())).or_default().push(event.clone()));
        Box::pin(std::future::ready(Ok(())))
    }

    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        let r = self.with(|m| m.get(&(app.to_owned(), subject.clone())).and_then(|h| current_of(h)));
        Box::pin(std::future::ready(Ok(r)))
    }

    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<ConsentEvent>, StoreError>> {
        let r = self.with(|m| m.get(&(app.to_owned(), subject.clone())).cloned().unwrap_or_default());
        Box::pin(std::future::ready(Ok(r)))
    }
}
