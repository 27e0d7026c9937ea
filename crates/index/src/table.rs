//! Per-segment search tables: what the collector reads for every matching document, decoded
//! once per segment into plain arrays instead of once per document per query.
//!
//! Why: a broad query at catalog scale visits hundreds of thousands of documents, and for each
//! the collector needs the listed flag, the sessions (window check, sort key, month facet), the
//! cursor key and four facet fields. Read from tantivy's columns that is seven bit-unpacking
//! lookups per document; from these tables it is a few array reads. Segments are immutable, so
//! a table is built once per segment (when a commit makes the segment visible, or on first use)
//! and dropped when the segment leaves the current searcher. Deleted documents keep their rows;
//! tantivy never hands them to a collector.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use crate::IndexError;
use crate::doc::Fields;
use crate::schema as f;

/// Facet fields in the order of [`crate::Facets`] (month aside).
pub(crate) const FACET_FIELDS: [&str; 4] = [f::TOPIC, f::SECTOR, f::MODALITY, f::PROVIDER];

/// One segment's decoded columns.
pub(crate) struct SegTable {
    /// Bit per document: listed in search (canonical of its duplicate cluster).
    listed: Vec<u64>,
    /// `occ[occ_off[d]..occ_off[d + 1]]`: document `d`'s sessions, packed as in the schema
    /// (start minutes high, end minutes low) and sorted, so by start.
    occ_off: Vec<u32>,
    occ: Vec<u64>,
    /// The cursor tie-breaker of every document.
    keys: Vec<u64>,
    /// `facet_ids[facet_off[d]..facet_off[d + 1]]`: document `d`'s facet values as flat ids,
    /// `facet_base[i] + term ordinal` for facet field `i`.
    facet_off: Vec<u32>,
    facet_ids: Vec<u32>,
    /// Start of each facet field's id range; the last entry is the number of flat ids.
    pub facet_base: [u32; FACET_FIELDS.len() + 1],
    /// Every facet value by flat id, so counts become names without a dictionary walk or an
    /// allocation per value and search.
    facet_names: Vec<String>,
    /// Documents of each filter value asked for so far (see `filter.rs`), at most
    /// [`MAX_CACHED_TERMS`] of them.
    term_bits: RwLock<HashMap<Term, Arc<Vec<u64>>>>,
}

/// Filter values whose bitsets a segment keeps. Topics, sectors, modalities, statuses, cost
/// classes and credit units are well under this; rarely used provider ids past it are read
/// from their postings per search.
const MAX_CACHED_TERMS: usize = 256;

fn too_large() -> IndexError {
    IndexError::Unavailable("segment too large for search tables".into())
}

fn offset(n: usize) -> Result<u32, IndexError> {
    u32::try_from(n).map_err(|_| too_large())
}

impl SegTable {
    pub fn build(reader: &SegmentReader, fields: &Fields) -> Result<SegTable, IndexError> {
        let max_doc = reader.max_doc();
        let n = max_doc as usize;

        let mut listed = vec![0u64; n.div_ceil(64)];
        let inverted = reader.inverted_index(fields.listed)?;
        let term = Term::from_field_u64(fields.listed, 1);
        let postings = inverted
            .read_postings(&term, IndexRecordOption::Basic)
            .map_err(|e| IndexError::Unavailable(e.to_string().to_lowercase()))?;
        if let Some(mut postings) = postings {
            let mut d = postings.doc();
            while d != TERMINATED {
                if let Some(w) = listed.get_mut((d / 64) as usize) {
                    *w |= 1 << (d % 64);
                }
                d = postings.advance();
            }
        }

        let ff = reader.fast_fields();
        let occ_col = ff.u64(f::OCC)?;
        let key_col = ff.u64(f::KEY)?;
        let mut occ_off = Vec::with_capacity(n + 1);
        let mut occ = Vec::with_capacity(n + n / 4);
        let mut keys = Vec::with_capacity(n);
        occ_off.push(0);
        for d in 0..max_doc {
            let at = occ.len();
            occ.extend(occ_col.values_for_doc(d));
            occ[at..].sort_unstable();
            occ_off.push(offset(occ.len())?);
            keys.push(key_col.first(d).unwrap_or(0));
        }

        let mut facet_cols = Vec::with_capacity(FACET_FIELDS.len());
        let mut facet_base = [0u32; FACET_FIELDS.len() + 1];
        for (i, name) in FACET_FIELDS.iter().enumerate() {
            let col = ff.str(name)?;
            let terms = col.as_ref().map_or(0, |c| c.num_terms());
            facet_base[i + 1] = facet_base[i]
                .checked_add(offset(terms)?)
                .ok_or_else(too_large)?;
            facet_cols.push(col);
        }
        let mut facet_names = Vec::with_capacity(facet_base[FACET_FIELDS.len()] as usize);
        for col in facet_cols.iter().flatten() {
            let ords: Vec<u64> = (0..col.num_terms() as u64).collect();
            let want = facet_names.len() + ords.len();
            col.dictionary()
                .sorted_ords_to_term_cb(&ords, |b| {
                    facet_names.push(String::from_utf8_lossy(b).into_owned())
                })
                .map_err(|e| IndexError::Unavailable(e.to_string().to_lowercase()))?;
            if facet_names.len() != want {
                return Err(IndexError::Unavailable(
                    "facet dictionary has fewer values than its column".into(),
                ));
            }
        }
        let mut facet_off = Vec::with_capacity(n + 1);
        let mut facet_ids = Vec::with_capacity(n * 6);
        facet_off.push(0);
        for d in 0..max_doc {
            for (col, base) in facet_cols.iter().zip(facet_base) {
                if let Some(col) = col {
                    for ord in col.term_ords(d) {
                        let ord = u32::try_from(ord).map_err(|_| too_large())?;
                        facet_ids.push(base.checked_add(ord).ok_or_else(too_large)?);
                    }
                }
            }
            facet_off.push(offset(facet_ids.len())?);
        }
        occ.shrink_to_fit();
        facet_ids.shrink_to_fit();
        Ok(SegTable {
            listed,
            occ_off,
            occ,
            keys,
            facet_off,
            facet_ids,
            facet_base,
            facet_names,
            term_bits: RwLock::new(HashMap::new()),
        })
    }

    /// The facet value of a flat id.
    #[inline]
    pub fn facet_name(&self, id: usize) -> &str {
        self.facet_names.get(id).map_or("", String::as_str)
    }

    /// The listed documents, one bit each.
    pub fn listed_words(&self) -> &[u64] {
        &self.listed
    }

    /// The documents holding `term` (deleted ones included), one bit each.
    pub fn term_bits(
        &self,
        reader: &SegmentReader,
        term: &Term,
    ) -> Result<Arc<Vec<u64>>, IndexError> {
        if let Ok(map) = self.term_bits.read()
            && let Some(b) = map.get(term)
        {
            return Ok(b.clone());
        }
        let mut words = vec![0u64; self.listed.len()];
        let inverted = reader.inverted_index(term.field())?;
        let postings = inverted
            .read_postings(term, IndexRecordOption::Basic)
            .map_err(|e| IndexError::Unavailable(e.to_string().to_lowercase()))?;
        if let Some(mut postings) = postings {
            let mut d = postings.doc();
            while d != TERMINATED {
                if let Some(w) = words.get_mut((d / 64) as usize) {
                    *w |= 1 << (d % 64);
                }
                d = postings.advance();
            }
        }
        let words = Arc::new(words);
        if let Ok(mut map) = self.term_bits.write()
            && map.len() < MAX_CACHED_TERMS
        {
            map.insert(term.clone(), words.clone());
        }
        Ok(words)
    }

    /// Sessions of `d`, packed, in start order.
    #[inline]
    pub fn sessions(&self, d: DocId) -> &[u64] {
        let d = d as usize;
        match (self.occ_off.get(d), self.occ_off.get(d + 1)) {
            (Some(&a), Some(&b)) => self.occ.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    #[inline]
    pub fn key(&self, d: DocId) -> u64 {
        self.keys.get(d as usize).copied().unwrap_or(0)
    }

    /// Flat facet ids of `d` (see [`SegTable::facet_base`]).
    #[inline]
    pub fn facet_ids(&self, d: DocId) -> &[u32] {
        let d = d as usize;
        match (self.facet_off.get(d), self.facet_off.get(d + 1)) {
            (Some(&a), Some(&b)) => self.facet_ids.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Heap bytes held, for logs and the memory budget.
    pub fn heap_bytes(&self) -> usize {
        let cached = self
            .term_bits
            .read()
            .map(|m| m.len() * self.listed.len() * 8)
            .unwrap_or(0);
        cached
            + self.listed.len() * 8
            + (self.occ_off.len() + self.facet_off.len() + self.facet_ids.len()) * 4
            + (self.occ.len() + self.keys.len()) * 8
    }
}

/// The tables of the segments in use, by segment id.
#[derive(Default)]
pub(crate) struct Tables {
    map: RwLock<HashMap<SegmentId, Arc<SegTable>>>,
}

impl Tables {
    /// The table of `reader`'s segment, built now if no commit built it yet.
    pub fn get(
        &self,
        reader: &SegmentReader,
        fields: &Fields,
    ) -> Result<Arc<SegTable>, IndexError> {
        let id = reader.segment_id();
        if let Ok(map) = self.map.read()
            && let Some(t) = map.get(&id)
        {
            return Ok(t.clone());
        }
        let t = Arc::new(SegTable::build(reader, fields)?);
        if let Ok(mut map) = self.map.write() {
            map.insert(id, t.clone());
        }
        Ok(t)
    }

    /// Builds the tables `searcher` lacks and drops those of segments it no longer has. A search
    /// still running on an older searcher keeps its tables alive through its `Arc`s.
    pub fn refresh(&self, searcher: &Searcher, fields: &Fields) -> Result<(), IndexError> {
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        for r in searcher.segment_readers() {
            self.get(r, fields)?;
        }
        if let Ok(mut map) = self.map.write() {
            map.retain(|id, _| live.contains(id));
        }
        Ok(())
    }

    pub fn heap_bytes(&self) -> usize {
        self.map
            .read()
            .map(|m| m.values().map(|t| t.heap_bytes()).sum())
            .unwrap_or(0)
    }
}
