//! A disjunction that seeks its clauses instead of buffering them.
//!
//! Why: tantivy's `BooleanQuery` of `Should` clauses scores through a buffered union that fills
//! a window of thousands of documents ahead, scoring each, so that walking the union on its own
//! is fast. Our queries rarely walk a disjunction on its own: a typed word is a disjunction over
//! the text fields (plus typos and synonyms), and a query of two words intersects two of them.
//! When the rarer word leads that intersection, the broad word's union is asked to seek, and
//! the buffered union answers a seek inside its window by scanning and scoring everything up to
//! the target. "disaster planning" at a million documents scored several hundred thousand
//! "planning" postings to find under two thousand hits. [`AnyOf`] seeks each clause to the
//! target (their skip lists jump whole blocks) and scores only the documents it stops on, with
//! the same scores: the sum of the matching clauses' scores, as `Should` clauses sum.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::Term;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED};

/// Matches documents matched by any clause; scores them with the sum of the matching clauses'
/// scores.
#[derive(Debug)]
pub(crate) struct AnyOf {
    clauses: Vec<Box<dyn Query>>,
}

impl AnyOf {
    pub fn new(clauses: Vec<Box<dyn Query>>) -> AnyOf {
        AnyOf { clauses }
    }
}

impl Clone for AnyOf {
    fn clone(&self) -> Self {
        AnyOf {
            clauses: self.clauses.iter().map(|c| c.box_clone()).collect(),
        }
    }
}

impl Query for AnyOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|c| c.weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(AnyOfWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for c in &self.clauses {
            c.query_terms(visitor);
        }
    }
}

struct AnyOfWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut clauses = Vec::with_capacity(self.weights.len());
        for w in &self.weights {
            let s = w.scorer(reader, boost)?;
            // Clauses that match nothing here (a word absent from a field) cost nothing later.
            if s.doc() != TERMINATED {
                clauses.push(s);
            }
        }
        Ok(match clauses.len() {
            0 => Box::new(EmptyScorer),
            1 => clauses.pop().unwrap_or_else(|| Box::new(EmptyScorer)),
            _ => Box::new(AnyOfScorer::new(clauses)),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut e = Explanation::new("any of", 0.0);
        let mut total = 0.0;
        for w in &self.weights {
            if let Ok(x) = w.explain(reader, doc) {
                total += x.value();
                e.add_detail(x);
            }
        }
        if total == 0.0 && self.weights.iter().all(|w| w.explain(reader, doc).is_err()) {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} matches no clause"
            )));
        }
        let mut out = Explanation::new("any of (sum)", total);
        out.add_detail(e);
        Ok(out)
    }
}

pub(crate) struct AnyOfScorer {
    clauses: Vec<Box<dyn Scorer>>,
    /// Each clause's current document, kept here so that finding the next document reads an
    /// array instead of making a dynamic call per clause.
    docs: Vec<DocId>,
    doc: DocId,
}

impl AnyOfScorer {
    fn new(clauses: Vec<Box<dyn Scorer>>) -> AnyOfScorer {
        let docs: Vec<DocId> = clauses.iter().map(|c| c.doc()).collect();
        let doc = docs.iter().copied().min().unwrap_or(TERMINATED);
        AnyOfScorer { clauses, docs, doc }
    }

    #[inline]
    fn settle(&mut self) -> DocId {
        self.doc = self.docs.iter().copied().min().unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for AnyOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let at = self.doc;
        for (c, d) in self.clauses.iter_mut().zip(self.docs.iter_mut()) {
            if *d == at {
                *d = c.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target <= self.doc {
            return self.doc;
        }
        for (c, d) in self.clauses.iter_mut().zip(self.docs.iter_mut()) {
            if *d < target {
                *d = c.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.clauses
            .iter()
            .map(|c| c.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.clauses.iter().map(|c| c.cost()).sum()
    }
}

impl Scorer for AnyOfScorer {
    fn score(&mut self) -> Score {
        let at = self.doc;
        let mut sum = 0.0;
        for (c, d) in self.clauses.iter_mut().zip(&self.docs) {
            if *d == at {
                sum += c.score();
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STORED, Schema, TEXT};
    use tantivy::{Index, doc};

    /// The same documents and scores as tantivy's `Should` union, alone and inside an
    /// intersection (where it is sought), with clauses that match nothing in some segments.
    #[test]
    fn matches_and_scores_like_a_should_union() {
        let mut b = Schema::builder();
        let title = b.add_text_field("title", TEXT | STORED);
        let body = b.add_text_field("body", TEXT);
        let index = Index::create_in_ram(b.build());
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 20_000_000).unwrap();
        let words = ["alpha", "beta", "gamma", "delta", "omega"];
        for i in 0..3000u32 {
            let pick = |k: u32| words[((i * k + i / 7) % 5) as usize];
            let t = format!("{} {}", pick(3), if i % 11 == 0 { "rare" } else { "" });
            let d = format!("{} {} {}", pick(5), pick(7), pick(13));
            w.add_document(doc!(title => t, body => d)).unwrap();
            if i % 1000 == 999 {
                w.commit().unwrap();
            }
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let term = |f, s: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, s),
                IndexRecordOption::WithFreqs,
            ))
        };
        let clauses = |s: &str| -> Vec<Box<dyn Query>> {
            vec![
                Box::new(BoostQuery::new(term(title, s), 3.0)),
                term(body, s),
                term(body, "absent"),
            ]
        };
        let should = |s: &str| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                clauses(s).into_iter().map(|c| (Occur::Should, c)).collect(),
            ))
        };
        let any = |s: &str| -> Box<dyn Query> { Box::new(AnyOf::new(clauses(s))) };
        let and = |a: Box<dyn Query>, b: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![(Occur::Must, a), (Occur::Must, b)]))
        };
        let top = |q: &dyn Query| {
            let mut v: Vec<(u32, u32, String)> = searcher
                .search(q, &TopDocs::with_limit(5000).order_by_score())
                .unwrap()
                .into_iter()
                .map(|(s, a)| (a.segment_ord, a.doc_id, format!("{s:.5}")))
                .collect();
            v.sort();
            v
        };
        for word in ["alpha", "omega"] {
            let expected = top(should(word).as_ref());
            assert!(!expected.is_empty());
            assert_eq!(top(any(word).as_ref()), expected, "{word}");
            // Sought from the rare side of an intersection.
            let expected = top(and(term(title, "rare"), should(word)).as_ref());
            assert!(!expected.is_empty());
            assert_eq!(
                top(and(term(title, "rare"), any(word)).as_ref()),
                expected,
                "rare {word}"
            );
        }
        let nothing = AnyOf::new(vec![term(body, "absent")]);
        assert!(top(&nothing).is_empty());
    }
}
