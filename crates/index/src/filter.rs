//! The request's filters (listed, topic, sector, modality, provider, status, cost, credit) as
//! one bitset per segment, matched by a query that walks the set bits.
//!
//! Why: as query clauses, each filter was a posting list intersected with the text query (or,
//! without text, with every document), seeking through hundreds of thousands of postings per
//! search. Each filter value's documents are now read once per segment into a bitset (cached
//! in the segment's table), a request ANDs its filters word by word (tens of microseconds at a
//! million documents), and the search iterates or probes the result. Filters never score.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::query::{
    EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight, intersect_scorers,
};
use tantivy::schema::Term;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

/// A set of documents of one segment, one bit each.
#[derive(Debug)]
pub(crate) struct DocBits {
    words: Vec<u64>,
    count: u32,
}

impl DocBits {
    pub fn new(words: Vec<u64>) -> DocBits {
        let count = words.iter().map(|w| w.count_ones()).sum();
        DocBits { words, count }
    }

    /// The first document at or after `from`, or [`TERMINATED`].
    #[inline]
    fn next_from(&self, from: DocId) -> DocId {
        let mut i = (from / 64) as usize;
        let Some(&first) = self.words.get(i) else {
            return TERMINATED;
        };
        let mut w = first & (u64::MAX << (from % 64));
        loop {
            if w != 0 {
                return (i as u32) * 64 + w.trailing_zeros();
            }
            i += 1;
            match self.words.get(i) {
                Some(&next) => w = next,
                None => return TERMINATED,
            }
        }
    }

    #[inline]
    fn contains(&self, d: DocId) -> bool {
        self.words
            .get((d / 64) as usize)
            .is_some_and(|w| w & (1 << (d % 64)) != 0)
    }
}

/// Matches the documents of each segment's [`DocBits`], with score 0.
#[derive(Clone, Debug)]
pub(crate) struct FilterQuery {
    bits: Arc<HashMap<SegmentId, Arc<DocBits>>>,
}

impl FilterQuery {
    pub fn new(bits: HashMap<SegmentId, Arc<DocBits>>) -> FilterQuery {
        FilterQuery {
            bits: Arc::new(bits),
        }
    }
}

impl FilterQuery {
    /// The filtered documents of segment `id`, one bit each.
    pub fn words(&self, id: SegmentId) -> Option<&[u64]> {
        self.bits.get(&id).map(|b| b.words.as_slice())
    }

    /// `inner` restricted to the filtered documents, with `inner`'s scores. `walk`: `inner` is
    /// a term (or a boosted term), cheap to walk past documents the filter rejects.
    pub fn restrict(&self, inner: Box<dyn Query>, walk: bool) -> Box<dyn Query> {
        Box::new(Restricted {
            inner,
            filter: self.clone(),
            walk,
        })
    }
}

impl Query for FilterQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(FilterWeight {
            bits: self.bits.clone(),
        }))
    }
}

struct FilterWeight {
    bits: Arc<HashMap<SegmentId, Arc<DocBits>>>,
}

impl FilterWeight {
    fn segment_bits(&self, reader: &SegmentReader) -> tantivy::Result<Arc<DocBits>> {
        self.bits.get(&reader.segment_id()).cloned().ok_or_else(|| {
            TantivyError::InternalError("no filter bits for this segment".to_string())
        })
    }
}

impl Weight for FilterWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let bits = self.segment_bits(reader)?;
        let doc = bits.next_from(0);
        Ok(Box::new(FilterScorer { bits, doc }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.segment_bits(reader)?.contains(doc) {
            Ok(Explanation::new("filter", 0.0))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not pass the filters"
            )))
        }
    }
}

struct FilterScorer {
    bits: Arc<DocBits>,
    doc: DocId,
}

impl DocSet for FilterScorer {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.bits.next_from(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target > self.doc && self.doc != TERMINATED {
            self.doc = self.bits.next_from(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.bits.count
    }
}

impl Scorer for FilterScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

/// A query restricted to a [`FilterQuery`]'s documents (see [`FilterQuery::restrict`]).
///
/// Why not an intersection of the two: a search puts the filters into every text leaf, and
/// tantivy's intersection of a leaf with the filter pays a seek through both, with dynamic
/// calls, per step. When a term's postings are not much broader than the filter, walking them
/// and testing one bit per document is several times cheaper; when they are far broader (a
/// narrow provider filter under a common word), the intersection lets the filter lead and the
/// postings skip whole blocks, so that case still uses it, as do phrases.
#[derive(Debug)]
struct Restricted {
    inner: Box<dyn Query>,
    filter: FilterQuery,
    walk: bool,
}

impl Clone for Restricted {
    fn clone(&self) -> Self {
        Restricted {
            inner: self.inner.box_clone(),
            filter: self.filter.clone(),
            walk: self.walk,
        }
    }
}

/// A leaf this many times broader than the filter is intersected with it instead of walked.
const WALK_LIMIT: u64 = 16;

impl Query for Restricted {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(RestrictedWeight {
            walk: self.walk,
            inner: self.inner.weight(scoring)?,
            filter: FilterWeight {
                bits: self.filter.bits.clone(),
            },
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct RestrictedWeight {
    walk: bool,
    inner: Box<dyn Weight>,
    filter: FilterWeight,
}

impl Weight for RestrictedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inner = self.inner.scorer(reader, boost)?;
        let bits = self.filter.segment_bits(reader)?;
        if inner.doc() == TERMINATED || bits.count == 0 {
            return Ok(Box::new(EmptyScorer));
        }
        // Only term postings are walked: a phrase (or any composite) is cheaper when sought to
        // the filtered documents, as it checks positions only where it stops.
        if !self.walk || inner.cost() > WALK_LIMIT * u64::from(bits.count) {
            let doc = bits.next_from(0);
            let filter: Box<dyn Scorer> = Box::new(FilterScorer { bits, doc });
            return Ok(intersect_scorers(vec![inner, filter], reader.max_doc()));
        }
        let mut s = Walk { inner, bits };
        let first = s.inner.doc();
        if !s.bits.contains(first) {
            s.skip_unfiltered();
        }
        Ok(Box::new(s))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.filter.explain(reader, doc)?;
        self.inner.explain(reader, doc)
    }
}

/// Walks `inner`, stopping only on documents in `bits`.
struct Walk {
    inner: Box<dyn Scorer>,
    bits: Arc<DocBits>,
}

impl Walk {
    #[inline]
    fn skip_unfiltered(&mut self) -> DocId {
        loop {
            let d = self.inner.advance();
            if d == TERMINATED || self.bits.contains(d) {
                return d;
            }
        }
    }
}

impl DocSet for Walk {
    fn advance(&mut self) -> DocId {
        self.skip_unfiltered()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let d = self.inner.seek(target);
        if d == TERMINATED || self.bits.contains(d) {
            d
        } else {
            self.skip_unfiltered()
        }
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint().min(self.bits.count)
    }

    fn cost(&self) -> u64 {
        self.inner.cost()
    }
}

impl Scorer for Walk {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_and_seeks_set_bits() {
        let mut words = vec![0u64; 3];
        for d in [0u32, 63, 64, 130] {
            words[(d / 64) as usize] |= 1 << (d % 64);
        }
        let bits = Arc::new(DocBits::new(words));
        assert_eq!(bits.count, 4);
        let mut s = FilterScorer {
            doc: bits.next_from(0),
            bits,
        };
        assert_eq!(s.doc(), 0);
        assert_eq!(s.advance(), 63);
        assert_eq!(s.seek(64), 64);
        assert_eq!(s.seek(65), 130);
        assert_eq!(s.advance(), TERMINATED);
        assert_eq!(s.advance(), TERMINATED);
        assert_eq!(s.seek(TERMINATED), TERMINATED);
    }
}
