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

/// Where changes come from: the store implements this (the index crate does not know SQL).
pub trait ChangeSource {
    /// Changes after `watermark`, at most `limit` of them, oldest first.
    fn changes_since(&self, watermark: u64, limit: usize) -> Result<ChangeBatch, IndexError>;
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

    /// Pulls and applies pages of at most `page` changes until the source has nothing newer.
    /// Returns the number of events applied.
    pub fn sync_from(&self, source: &dyn ChangeSource, page: usize) -> Result<u64, IndexError> {
        let mut applied = 0u64;
        let mut watermark = self.watermark()?.unwrap_or(0);
        loop {
            let batch = source.changes_since(watermark, page.max(1))?;
            if batch.events.is_empty() || batch.watermark <= watermark {
                return Ok(applied);
            }
            applied += batch.events.len() as u64;
            self.apply(&batch)?;
            watermark = batch.watermark;
        }
    }
}
