//! Catching up from the store's change log.
//!
//! The store keeps a monotonic log of offering changes (seq, offering id, kind). The index
//! consumes it as "upsert this document / delete this id" events in order, and commits the seq
//! it reached as its watermark, so a restart resumes exactly there. Applying an event twice is
//! harmless (upsert and delete are idempotent), so a crash between applying and committing
//! only replays a little.

use crate::{CatalogIndex, IndexDoc, IndexError};

/// One change, already resolved to what the index needs.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeEvent {
    /// The offering as it is now (also for cluster changes: every touched member is re-sent).
    Upsert(Box<IndexDoc>),
    /// The offering is gone (deleted, or removed from its source and no longer listed).
    Delete { id: String },
}

/// A page of the change log: its events in order and the seq of the last one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeBatch {
    pub events: Vec<ChangeEvent>,
    /// The highest seq covered by `events` (unchanged when `events` is empty).
    pub watermark: u64,
}

impl CatalogIndex {
    /// Applies `batch` and commits it with its watermark.
    pub fn apply(&self, batch: &ChangeBatch) -> Result<(), IndexError> {
        for e in &batch.events {
            match e {
                ChangeEvent::Upsert(d) => self.upsert(d)?,
                ChangeEvent::Delete { id } => self.delete(id)?,
            }
        }
        self.commit(batch.watermark)
    }
}
