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
use std::sync::{Arc, Mutex, RwLock};

use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use crate::IndexError;
use crate::doc::Fields;
use crate::schema as f;

/// Facet fields in the order of [`crate::Facets`] (month aside).
pub(crate) const FACET_FIELDS: [&str; 4] = [f::TOPIC, f::SECTOR, f::MODALITY, f::PROVIDER];

/// The documents of `reader`'s segment holding `term` (deleted ones included), one bit each in
/// `words` words.
fn postings_bits(
    reader: &SegmentReader,
    term: &Term,
    words: usize,
) -> Result<Vec<u64>, IndexError> {
    let mut bits = vec![0u64; words];
    let postings = reader
        .inverted_index(term.field())?
        .read_postings(term, IndexRecordOption::Basic)
        .map_err(|e| IndexError::Unavailable(e.to_string().to_lowercase()))?;
    if let Some(mut postings) = postings {
        let mut d = postings.doc();
        while d != TERMINATED {
            if let Some(w) = bits.get_mut((d / 64) as usize) {
                *w |= 1 << (d % 64);
            }
            d = postings.advance();
        }
    }
    Ok(bits)
}

/// One segment's decoded columns.
pub(crate) struct SegTable {
    /// Bit per document: listed in search (canonical of its duplicate cluster).
    listed: Vec<u64>,
    /// `rows[row_off[d]..row_off[d + 1]]` is document `d`'s row: its session count, its facet
    /// value count, its sessions as `(start, end)` minute pairs sorted by start (the schema's
    /// packing, split), then its facet values as flat ids (`facet_base[i] + term ordinal` for
    /// facet field `i`). One row per document, so a matching document costs one or two cache
    /// lines, not one per column.
    row_off: Vec<u32>,
    rows: Vec<u32>,
    /// The cursor tie-breaker of every document; read only for documents entering the page.
    keys: Vec<u64>,
    /// Start of each facet field's id range; the last entry is the number of flat ids.
    pub facet_base: [u32; FACET_FIELDS.len() + 1],
    /// Every facet value by flat id, so counts become names without a dictionary walk or an
    /// allocation per value and search.
    facet_names: Vec<String>,
    /// Documents of each filter value asked for so far (see `filter.rs`), at most
    /// [`MAX_CACHED_TERMS`] of them.
    term_bits: RwLock<HashMap<Term, Arc<Vec<u64>>>>,
    /// Dated documents by the end of their last session: those that can still overlap a
    /// window starting at `from`.
    last_end: Bound,
    /// Dated documents by the start of their first session: those that can overlap a window
    /// ending at `to`.
    first_start: Bound,
    /// Bit per document without sessions (on-demand, self-paced).
    undated: Vec<u64>,
    /// Series by the end of their first session: those under way at `from` (first session
    /// over, a later one not) are the dated documents whose row a search without text reads.
    series_first_end: Bound,
    /// Bit per document whose row such a search always reads (several providers, or a
    /// session past [`SEVERAL`]).
    row_always: Vec<u64>,
    /// Per document: the start of its first session, or [`UNDATED`], or [`SEVERAL`] (read the
    /// row). With `first_ends`, `providers` and `value_bits`, what a search without text
    /// needs of most filtered documents, read in document order a few bytes at a time: such
    /// a search visits a sixth of the catalog, and a row each cost it a cache miss or two.
    firsts: Vec<u32>,
    /// Per document: the end of its first session (0 when undated). When that is not before
    /// the window's start, the first session is the one the window sees; a series already
    /// under way needs its row.
    first_ends: Vec<u32>,
    /// Per document: the flat id of its one provider, or [`SEVERAL`] (none or several: read
    /// the row).
    providers: Vec<u32>,
    /// The documents of each flat id below the provider field's (topics, sectors,
    /// modalities), so their counts are popcounts of the matches ANDed with these; `None`
    /// when a segment has more such values than [`MAX_VALUE_BITS`].
    value_bits: Option<Vec<Vec<u64>>>,
}

/// In [`SegTable::first`]: the document has no session.
pub(crate) const UNDATED: u32 = u32::MAX;
/// In [`SegTable::first`] and [`SegTable::provider`]: the row holds the answer (a session
/// starting at or after this minute, the year 10136, or several providers).
pub(crate) const SEVERAL: u32 = u32::MAX - 1;
/// Topic, sector and modality values a segment keeps bitsets of (an eighth of a byte per
/// document each); the vocabulary and the enums have a few dozen.
const MAX_VALUE_BITS: usize = 128;
/// Facet field index of the provider in [`FACET_FIELDS`].
pub(crate) const PROVIDER_FACET: usize = 3;

/// Documents sorted by one minute value, with the bitset of the last threshold asked for.
/// Searches default to `from = now` and often ask `to = now + n days`: both move forward a
/// little between searches, so the next bitset is the cached one with the few documents in
/// between toggled, not a rebuild.
struct Bound {
    sorted: Vec<(u32, DocId)>,
    words: usize,
    cached: Mutex<Option<(u32, Arc<Vec<u64>>)>>,
}

impl Bound {
    fn new(mut sorted: Vec<(u32, DocId)>, words: usize) -> Bound {
        sorted.sort_unstable();
        Bound {
            sorted,
            words,
            cached: Mutex::new(None),
        }
    }

    /// Documents whose value is at least `t` (`at_least`) or below it. Either way the
    /// documents of two thresholds differ by those valued between them.
    fn bits(&self, t: u32, at_least: bool) -> Arc<Vec<u64>> {
        let split = |t: u32| self.sorted.partition_point(|&(v, _)| v < t);
        let at = split(t);
        let wanted = if at_least {
            self.sorted.get(at..)
        } else {
            self.sorted.get(..at)
        }
        .unwrap_or(&[]);
        let cached = self.cached.lock().ok().and_then(|g| g.clone());
        let bits = match cached {
            Some((c, bits)) if c == t => return bits,
            Some((c, bits)) if split(c).abs_diff(at) < wanted.len() => {
                let c = split(c);
                let mut words = bits.as_ref().clone();
                for &(_, d) in self.sorted.get(c.min(at)..c.max(at)).unwrap_or(&[]) {
                    if let Some(w) = words.get_mut((d / 64) as usize) {
                        *w ^= 1 << (d % 64);
                    }
                }
                Arc::new(words)
            }
            _ => {
                let mut words = vec![0u64; self.words];
                for &(_, d) in wanted {
                    if let Some(w) = words.get_mut((d / 64) as usize) {
                        *w |= 1 << (d % 64);
                    }
                }
                Arc::new(words)
            }
        };
        if let Ok(mut g) = self.cached.lock() {
            *g = Some((t, bits.clone()));
        }
        bits
    }

    fn heap_bytes(&self) -> usize {
        self.sorted.len() * 8
    }
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

        let listed = postings_bits(
            reader,
            &Term::from_field_u64(fields.listed, 1),
            n.div_ceil(64),
        )?;

        let ff = reader.fast_fields();
        let occ_col = ff.u64(f::OCC)?;
        let key_col = ff.u64(f::KEY)?;
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

        let mut row_off = Vec::with_capacity(n + 1);
        let mut rows: Vec<u32> = Vec::with_capacity(n * 12);
        let mut keys = Vec::with_capacity(n);
        let mut undated = vec![0u64; n.div_ceil(64)];
        let mut by_last_end = Vec::with_capacity(n);
        let mut by_first_start = Vec::with_capacity(n);
        let mut by_series_first_end = Vec::new();
        let mut row_always = vec![0u64; n.div_ceil(64)];
        let mut occ: Vec<u64> = Vec::new();
        let mut facets: Vec<u32> = Vec::new();
        let mut firsts = Vec::with_capacity(n);
        let mut first_ends = Vec::with_capacity(n);
        let mut providers = Vec::with_capacity(n);
        let provider_ids = facet_base[PROVIDER_FACET]..facet_base[PROVIDER_FACET + 1];
        let mut value_bits = (provider_ids.start as usize <= MAX_VALUE_BITS)
            .then(|| vec![vec![0u64; n.div_ceil(64)]; provider_ids.start as usize]);
        row_off.push(0);
        for d in 0..max_doc {
            occ.clear();
            occ.extend(occ_col.values_for_doc(d));
            occ.sort_unstable();
            facets.clear();
            for (col, base) in facet_cols.iter().zip(facet_base) {
                if let Some(col) = col {
                    for ord in col.term_ords(d) {
                        let ord = u32::try_from(ord).map_err(|_| too_large())?;
                        facets.push(base.checked_add(ord).ok_or_else(too_large)?);
                    }
                }
            }
            rows.push(offset(occ.len())?);
            rows.push(offset(facets.len())?);
            for v in &occ {
                rows.push((v >> 32) as u32);
                rows.push(*v as u32);
            }
            rows.extend_from_slice(&facets);
            row_off.push(offset(rows.len())?);
            // Sorted: the first value is the first session, as in the row.
            let (first, first_end) = match occ.first() {
                None => (UNDATED, 0),
                Some(&v) => (((v >> 32) as u32).min(SEVERAL), v as u32),
            };
            firsts.push(first);
            first_ends.push(first_end);
            if occ.len() > 1 {
                by_series_first_end.push((first_end, d));
            }
            let mut own = facets.iter().filter(|id| provider_ids.contains(id));
            let provider = match (own.next(), own.next()) {
                (Some(&p), None) if p < SEVERAL => p,
                _ => SEVERAL,
            };
            providers.push(provider);
            if (provider == SEVERAL || first == SEVERAL)
                && let Some(w) = row_always.get_mut((d / 64) as usize)
            {
                *w |= 1 << (d % 64);
            }
            if let Some(vb) = value_bits.as_mut() {
                for &id in facets.iter().filter(|&&id| id < provider_ids.start) {
                    if let Some(w) = vb
                        .get_mut(id as usize)
                        .and_then(|b| b.get_mut((d / 64) as usize))
                    {
                        *w |= 1 << (d % 64);
                    }
                }
            }
            keys.push(key_col.first(d).unwrap_or(0));
            match occ.iter().map(|v| *v as u32).max() {
                Some(end) => {
                    by_last_end.push((end, d));
                    // Sorted: the first value is the first session.
                    by_first_start.push(((occ[0] >> 32) as u32, d));
                }
                None => {
                    if let Some(w) = undated.get_mut((d / 64) as usize) {
                        *w |= 1 << (d % 64);
                    }
                }
            }
        }
        rows.shrink_to_fit();
        Ok(SegTable {
            listed,
            row_off,
            rows,
            keys,
            facet_base,
            facet_names,
            term_bits: RwLock::new(HashMap::new()),
            last_end: Bound::new(by_last_end, n.div_ceil(64)),
            first_start: Bound::new(by_first_start, n.div_ceil(64)),
            undated,
            series_first_end: Bound::new(by_series_first_end, n.div_ceil(64)),
            row_always,
            firsts,
            first_ends,
            providers,
            value_bits,
        })
    }

    /// Documents that can overlap the window `[from_min, to_min)` (minutes since the epoch):
    /// dated ones with a session ending at or after `from` and one starting before `to`,
    /// plus the undated ones when `include_undated`. A superset of the window's matches (the
    /// collector still picks the session), but it leaves out the past, usually most of a
    /// catalog, and what starts after the window, before any posting list or row is read.
    pub fn window_words(
        &self,
        from_min: u64,
        to_min: Option<u64>,
        include_undated: bool,
    ) -> Vec<u64> {
        let minutes = |m: u64| u32::try_from(m).unwrap_or(u32::MAX);
        let mut words = self.last_end.bits(minutes(from_min), true).to_vec();
        if let Some(to) = to_min {
            let before = self.first_start.bits(minutes(to), false);
            words
                .iter_mut()
                .zip(before.iter())
                .for_each(|(w, b)| *w &= b);
        }
        if include_undated {
            words
                .iter_mut()
                .zip(&self.undated)
                .for_each(|(w, u)| *w |= u);
        }
        words
    }

    /// Documents whose row a search without text from `from_min` reads (`PageSegment::walk`
    /// in `search.rs`): series under way, and those in `row_always`. A superset is harmless
    /// (these rows are only touched ahead).
    pub fn row_words(&self, from_min: u64) -> (Arc<Vec<u64>>, &[u64]) {
        let from = u32::try_from(from_min).unwrap_or(u32::MAX);
        (self.series_first_end.bits(from, false), &self.row_always)
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
        let words = Arc::new(postings_bits(reader, term, self.listed.len())?);
        if let Ok(mut map) = self.term_bits.write()
            && map.len() < MAX_CACHED_TERMS
        {
            map.insert(term.clone(), words.clone());
        }
        Ok(words)
    }

    /// The row of `d`: its sessions and its facet ids.
    #[inline]
    pub fn row(&self, d: DocId) -> Row<'_> {
        let d = d as usize;
        let row = match (self.row_off.get(d), self.row_off.get(d + 1)) {
            (Some(&a), Some(&b)) => self.rows.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        };
        match row {
            [ns, _, rest @ ..] => {
                let (sessions, facets) = rest.split_at((*ns as usize * 2).min(rest.len()));
                Row { sessions, facets }
            }
            _ => Row::default(),
        }
    }

    /// The start of `d`'s first session, or [`UNDATED`], or [`SEVERAL`] (see the row).
    #[inline]
    pub fn first(&self, d: DocId) -> u32 {
        self.firsts.get(d as usize).copied().unwrap_or(SEVERAL)
    }

    /// The end of `d`'s first session (0 when it has none).
    #[inline]
    pub fn first_end(&self, d: DocId) -> u32 {
        self.first_ends.get(d as usize).copied().unwrap_or(0)
    }

    /// The flat id of `d`'s one provider, or [`SEVERAL`] (see the row).
    #[inline]
    pub fn provider(&self, d: DocId) -> u32 {
        self.providers.get(d as usize).copied().unwrap_or(SEVERAL)
    }

    /// The documents of each topic, sector and modality flat id, if this segment keeps them.
    pub fn value_bits(&self) -> Option<&[Vec<u64>]> {
        self.value_bits.as_deref()
    }

    #[inline]
    pub fn key(&self, d: DocId) -> u64 {
        self.keys.get(d as usize).copied().unwrap_or(0)
    }

    /// Reads the rows of `docs` without using them, so that the cache misses of a batch
    /// overlap (the loads are independent) before the collector reads the rows for real.
    pub fn touch(&self, docs: impl Iterator<Item = DocId> + Clone) {
        let mut acc = 0u32;
        for d in docs.clone() {
            acc ^= self.row_off.get(d as usize).copied().unwrap_or(0);
        }
        for d in docs {
            let at = self.row_off.get(d as usize).copied().unwrap_or(0) as usize;
            acc ^= self.rows.get(at).copied().unwrap_or(0);
            // A row often straddles two lines; the second is read as well.
            acc ^= self.rows.get(at + 15).copied().unwrap_or(0);
        }
        std::hint::black_box(acc);
    }

    /// Heap bytes held, for logs and the memory budget.
    pub fn heap_bytes(&self) -> usize {
        let cached = self
            .term_bits
            .read()
            .map(|m| m.len() * self.listed.len() * 8)
            .unwrap_or(0);
        cached
            + self.listed.len() * 8 * 3
            + self.last_end.heap_bytes()
            + self.first_start.heap_bytes()
            + self.series_first_end.heap_bytes()
            + self.row_always.len() * 8
            + (self.row_off.len() + self.rows.len()) * 4
            + self.keys.len() * 8
            + (self.firsts.len() + self.first_ends.len() + self.providers.len()) * 4
            + self
                .value_bits
                .as_ref()
                .map_or(0, |v| v.len() * self.listed.len() * 8)
    }
}

/// One document's row in a [`SegTable`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Row<'a> {
    /// `start, end` minute pairs in start order.
    pub sessions: &'a [u32],
    /// Flat facet ids.
    pub facets: &'a [u32],
}

/// Facet values numbered across the segments of one searcher, so that merging the segments'
/// counts is adding arrays, not hashing every value's name per search (a catalog has
/// thousands of providers).
pub(crate) struct FacetSpace {
    /// The segments this space was built for, in the searcher's order.
    segments: Vec<SegmentId>,
    /// Every value's name by global id, each facet field's values sorted, fields in
    /// [`FACET_FIELDS`] order.
    pub names: Vec<String>,
    /// Start of each facet field's global id range; the last entry is the number of values.
    pub base: [u32; FACET_FIELDS.len() + 1],
    /// Per segment (searcher order): global id of each of its flat ids.
    pub global: Vec<Vec<u32>>,
}

impl FacetSpace {
    fn build(segments: Vec<SegmentId>, tables: &[Arc<SegTable>]) -> FacetSpace {
        let mut names: Vec<String> = Vec::new();
        let mut base = [0u32; FACET_FIELDS.len() + 1];
        let mut global: Vec<Vec<u32>> = tables
            .iter()
            .map(|t| vec![0; t.facet_names.len()])
            .collect();
        for i in 0..FACET_FIELDS.len() {
            let mut values: Vec<&str> = tables
                .iter()
                .flat_map(|t| {
                    (t.facet_base[i]..t.facet_base[i + 1]).map(|id| t.facet_name(id as usize))
                })
                .collect();
            values.sort_unstable();
            values.dedup();
            let start = names.len();
            names.extend(values.iter().map(|v| (*v).to_string()));
            for (t, map) in tables.iter().zip(global.iter_mut()) {
                for id in t.facet_base[i]..t.facet_base[i + 1] {
                    let name = t.facet_name(id as usize);
                    let at = values.binary_search(&name).unwrap_or(0);
                    if let Some(g) = map.get_mut(id as usize) {
                        *g = (start + at) as u32;
                    }
                }
            }
            base[i + 1] = names.len() as u32;
        }
        FacetSpace {
            segments,
            names,
            base,
            global,
        }
    }
}

/// The tables of the segments in use, by segment id.
#[derive(Default)]
pub(crate) struct Tables {
    map: RwLock<HashMap<SegmentId, Arc<SegTable>>>,
    space: RwLock<Option<Arc<FacetSpace>>>,
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

    /// Builds the tables `searcher` lacks (and the facet space of its segments) and drops those
    /// of segments it no longer has. A search still running on an older searcher keeps its
    /// tables alive through its `Arc`s.
    pub fn refresh(&self, searcher: &Searcher, fields: &Fields) -> Result<(), IndexError> {
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        let tables = searcher
            .segment_readers()
            .iter()
            .map(|r| self.get(r, fields))
            .collect::<Result<Vec<_>, _>>()?;
        if let Ok(mut map) = self.map.write() {
            map.retain(|id, _| live.contains(id));
        }
        // The facet space too, so the first search after a commit does not build it.
        self.space(live, &tables);
        Ok(())
    }

    /// The facet space of `segments` (with their `tables`, in the same order): the cached one
    /// while the searcher's segments stay the same, else built anew.
    pub fn space(&self, segments: Vec<SegmentId>, tables: &[Arc<SegTable>]) -> Arc<FacetSpace> {
        if let Ok(g) = self.space.read()
            && let Some(s) = g.as_ref()
            && s.segments == segments
        {
            return s.clone();
        }
        let s = Arc::new(FacetSpace::build(segments, tables));
        if let Ok(mut g) = self.space.write() {
            *g = Some(s.clone());
        }
        s
    }

    pub fn heap_bytes(&self) -> usize {
        self.map
            .read()
            .map(|m| m.values().map(|t| t.heap_bytes()).sum())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached bound bitsets, moved by toggling, equal a bitset computed afresh for every
    /// threshold, in both directions (the collector's exact check would hide a superset).
    #[test]
    fn bound_bitsets_equal_a_fresh_count_wherever_the_threshold_moves() {
        let n = 1000u32;
        // Values with ties and a spread, in no particular order.
        let values: Vec<(u32, DocId)> = (0..n).map(|d| ((d * 7919) % 613, d)).collect();
        let words = (n as usize).div_ceil(64);
        let fresh = |t: u32, at_least: bool| {
            let mut w = vec![0u64; words];
            for &(v, d) in &values {
                if (v >= t) == at_least {
                    w[(d / 64) as usize] |= 1 << (d % 64);
                }
            }
            w
        };
        for at_least in [true, false] {
            let b = Bound::new(values.clone(), words);
            for t in [300, 301, 310, 305, 0, 612, 613, 700, 2, 299, 300, 450, 449] {
                assert_eq!(
                    *b.bits(t, at_least),
                    fresh(t, at_least),
                    "threshold {t}, at least {at_least}"
                );
            }
        }
    }
}
