//! Phrase marks: the vocabulary's multi-word synonyms ("continuing education", "collections
//! care") get one extra token, their *mark*, wherever the indexed text spells them. A query
//! for such a phrase then walks one posting list instead of intersecting the words' lists and
//! reading their positions: "professional development" expands to the "continuing education"
//! phrase among others, and that phrase was ~40% of the slowest query in the search mix.
//!
//! A mark matches exactly the places a phrase query would: the phrase's analyzed words at
//! consecutive positions of one field value. The set of marked phrases is part of the index's
//! identity (see [`PhraseSet::fingerprint`]): an index marked for another set is rebuilt.

use std::sync::Arc;

use tantivy::tokenizer::{TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer};

/// Joins a phrase's words into its mark. The simple tokenizer splits on every character that
/// is not alphanumeric, so no word token contains `_` and a mark never equals a word.
const JOIN: char = '_';

/// The longest phrase marked, in words; longer ones are left to phrase queries.
const MAX_WORDS: usize = 8;

/// No phrase word at this position.
const NO_WORD: u16 = u16::MAX;

#[derive(Debug, Clone)]
struct Phrase {
    /// Indexes into [`PhraseSet::words`].
    words: Vec<u16>,
    mark: String,
}

/// The multi-word phrases to mark, as analyzed words.
#[derive(Debug, Clone, Default)]
pub struct PhraseSet {
    /// Every distinct word of every phrase.
    words: Vec<String>,
    /// Sorted by mark; no duplicates.
    phrases: Vec<Phrase>,
    /// Bit `n` set when some phrase word is `n` bytes long (longer words set bit 63): a cheap
    /// first test that most tokens fail.
    lengths: u64,
}

impl PhraseSet {
    /// The multi-word phrases among `phrases`, analyzed with `analyzer` (the query analyzer:
    /// the same words the index holds). Single words and phrases longer than [`MAX_WORDS`]
    /// are not marked.
    pub fn new<'a>(
        phrases: impl IntoIterator<Item = &'a str>,
        analyzer: &mut TextAnalyzer,
    ) -> PhraseSet {
        let mut seqs: Vec<Vec<String>> = phrases
            .into_iter()
            .map(|p| {
                let mut out = Vec::new();
                let mut stream = analyzer.token_stream(p);
                while let Some(t) = stream.next() {
                    out.push(t.text.clone());
                }
                out
            })
            .filter(|s| (2..=MAX_WORDS).contains(&s.len()))
            .collect();
        seqs.sort();
        seqs.dedup();
        let mut set = PhraseSet::default();
        for seq in seqs {
            let mut ids = Vec::with_capacity(seq.len());
            for w in &seq {
                let id = match set.words.iter().position(|x| x == w) {
                    Some(i) => i,
                    None => {
                        set.words.push(w.clone());
                        set.lengths |= length_bit(w.len());
                        set.words.len() - 1
                    }
                };
                // Fewer than u16::MAX words: the vocabulary holds a few dozen.
                let Ok(id) = u16::try_from(id) else {
                    return set;
                };
                ids.push(id);
            }
            set.phrases.push(Phrase {
                words: ids,
                mark: mark_of(&seq),
            });
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The mark of the phrase spelled by `words` (analyzed), if it is marked.
    pub fn mark(&self, words: &[String]) -> Option<String> {
        let mark = mark_of(words);
        self.phrases
            .binary_search_by(|p| p.mark.as_str().cmp(&mark))
            .ok()
            .map(|_| mark)
    }

    /// FNV-1a over the marks: recorded in the commit payload, so an index marked for another
    /// set of phrases is rebuilt rather than silently missing matches.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for p in &self.phrases {
            for b in p.mark.as_bytes().iter().chain(b"\n") {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    }

    #[inline]
    fn word_id(&self, text: &str) -> u16 {
        if self.lengths & length_bit(text.len()) == 0 {
            return NO_WORD;
        }
        self.words
            .iter()
            .position(|w| w == text)
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or(NO_WORD)
    }
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

fn mark_of(words: &[String]) -> String {
    let mut m = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            m.push(JOIN);
        }
        m.push_str(w);
    }
    m
}

/// The token filter that adds marks; last in the index analyzer, after stemming.
#[derive(Clone)]
pub struct MarkPhrases(pub Arc<PhraseSet>);

impl TokenFilter for MarkPhrases {
    type Tokenizer<T: Tokenizer> = MarkPhrasesFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MarkPhrasesFilter<T> {
        MarkPhrasesFilter {
            inner: tokenizer,
            set: self.0,
        }
    }
}

#[derive(Clone)]
pub struct MarkPhrasesFilter<T> {
    inner: T,
    set: Arc<PhraseSet>,
}

impl<T: Tokenizer> Tokenizer for MarkPhrasesFilter<T> {
    type TokenStream<'a> = MarkStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MarkStream<'a, T::TokenStream<'a>> {
        MarkStream {
            tail: self.inner.token_stream(text),
            set: &self.set,
            recent: [Recent::default(); MAX_WORDS],
            seen: 0,
            pending: Vec::new(),
            mark: Token::default(),
            on_mark: false,
        }
    }
}

/// A word recently passed through: enough to tell whether a phrase ends at the next one.
#[derive(Clone, Copy)]
struct Recent {
    word: u16,
    position: usize,
    offset_from: usize,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            word: NO_WORD,
            position: 0,
            offset_from: 0,
        }
    }
}

pub struct MarkStream<'a, S> {
    tail: S,
    set: &'a PhraseSet,
    /// The last [`MAX_WORDS`] tokens, a ring indexed by `seen`.
    recent: [Recent; MAX_WORDS],
    seen: usize,
    /// Marks found at the current word, emitted after it.
    pending: Vec<Token>,
    mark: Token,
    on_mark: bool,
}

impl<S: TokenStream> MarkStream<'_, S> {
    /// The token `back` places before the newest one (0 = the newest).
    fn back(&self, back: usize) -> Recent {
        self.recent[(self.seen - 1 - back) % MAX_WORDS]
    }

    /// Queues the mark of every phrase that ends with the token just recorded.
    fn find_marks(&mut self) {
        let last = self.back(0);
        let offset_to = self.tail.token().offset_to;
        let set = self.set;
        // Backwards: `advance` pops, so marks come out in the order of the set.
        for p in set.phrases.iter().rev() {
            let n = p.words.len();
            if p.words[n - 1] != last.word || n > self.seen {
                continue;
            }
            let spelled = (1..n).all(|k| {
                let r = self.back(k);
                r.word == p.words[n - 1 - k] && r.position + k == last.position
            });
            if spelled {
                let first = self.back(n - 1);
                self.pending.push(Token {
                    offset_from: first.offset_from,
                    offset_to,
                    position: first.position,
                    text: p.mark.clone(),
                    position_length: n,
                });
            }
        }
    }
}

impl<S: TokenStream> TokenStream for MarkStream<'_, S> {
    fn advance(&mut self) -> bool {
        if let Some(t) = self.pending.pop() {
            self.mark = t;
            self.on_mark = true;
            return true;
        }
        self.on_mark = false;
        if !self.tail.advance() {
            return false;
        }
        let t = self.tail.token();
        let word = self.set.word_id(&t.text);
        let slot = self.seen % MAX_WORDS;
        self.recent[slot] = Recent {
            word,
            position: t.position,
            offset_from: t.offset_from,
        };
        self.seen += 1;
        if word != NO_WORD {
            self.find_marks();
        }
        true
    }

    fn token(&self) -> &Token {
        if self.on_mark {
            &self.mark
        } else {
            self.tail.token()
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        if self.on_mark {
            &mut self.mark
        } else {
            self.tail.token_mut()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::analyzer;

    fn set(phrases: &[&str]) -> PhraseSet {
        PhraseSet::new(phrases.iter().copied(), &mut analyzer())
    }

    fn tokens(set: PhraseSet, text: &str) -> Vec<(String, usize)> {
        let mut a = crate::schema::index_analyzer(Arc::new(set));
        let mut out = Vec::new();
        let mut s = a.token_stream(text);
        while let Some(t) = s.next() {
            out.push((t.text.clone(), t.position));
        }
        out
    }

    #[test]
    fn marks_follow_the_last_word_of_each_spelled_phrase() {
        let s = set(&[
            "continuing education",
            "training",
            "equity and inclusion",
            "diversity equity and inclusion",
        ]);
        assert_eq!(s.phrases.len(), 3, "one-word phrases are not marked");
        let got = tokens(
            s,
            "Continuing Education: diversity, equity and inclusion; continuing the education",
        );
        let marks: Vec<_> = got.iter().filter(|(t, _)| t.contains(JOIN)).collect();
        assert_eq!(
            marks,
            vec![
                &("continu_educ".to_string(), 0),
                &("divers_equiti_and_inclus".to_string(), 2),
                &("equiti_and_inclus".to_string(), 3),
            ],
            "{got:?}"
        );
        // The words themselves pass through unchanged and in order.
        let words: Vec<_> = got
            .iter()
            .filter(|(t, _)| !t.contains(JOIN))
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(
            words,
            [
                "continu", "educ", "divers", "equiti", "and", "inclus", "continu", "the", "educ"
            ]
        );
    }

    #[test]
    fn a_word_dropped_between_the_phrase_words_breaks_the_phrase() {
        // The 41-letter word is removed by the analyzer but keeps its position, as it does
        // for a phrase query.
        let long = "x".repeat(41);
        let got = tokens(
            set(&["continuing education"]),
            &format!("continuing {long} education"),
        );
        assert!(got.iter().all(|(t, _)| !t.contains(JOIN)), "{got:?}");
    }

    #[test]
    fn marks_are_looked_up_by_analyzed_words_and_fingerprinted() {
        let a = set(&["collections care", "continuing education"]);
        let b = set(&["continuing education", "Collections Care", "preservation"]);
        let words = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            a.mark(&words(&["collect", "care"])).as_deref(),
            Some("collect_care")
        );
        assert_eq!(a.mark(&words(&["care", "collect"])), None);
        assert_eq!(a.fingerprint(), b.fingerprint(), "same phrases, same index");
        assert_ne!(
            a.fingerprint(),
            set(&["collections care"]).fingerprint(),
            "another set of phrases needs another index"
        );
    }

    /// The property the search relies on: in any text, a mark's postings are exactly the
    /// documents a phrase query finds.
    mod same_as_a_phrase_query {
        use proptest::prelude::*;
        use tantivy::collector::DocSetCollector;
        use tantivy::query::{PhraseQuery, TermQuery};
        use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
        use tantivy::{Index, TantivyDocument, Term};

        use super::*;

        const PHRASES: &[&str] = &[
            "continuing education",
            "professional development",
            "collections care",
            "diversity equity and inclusion",
            "equity and inclusion",
        ];
        /// Phrase words, their neighbours and a word too long to index.
        const WORDS: &[&str] = &[
            "continuing",
            "Education",
            "professional",
            "development",
            "collections",
            "care",
            "diversity",
            "equity",
            "and",
            "inclusion",
            "the",
            "of",
            "extraordinarilylongwordthatisfartoolongtobeindexed",
            "—",
            ",",
        ];

        fn text() -> impl Strategy<Value = String> {
            proptest::collection::vec(proptest::sample::select(WORDS), 0..24)
                .prop_map(|w| w.join(" "))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn marks_find_what_phrases_find(
                docs in proptest::collection::vec(proptest::collection::vec(text(), 1..3), 1..12)
            ) {
                let set = Arc::new(PhraseSet::new(PHRASES.iter().copied(), &mut analyzer()));
                let mut b = Schema::builder();
                let field = b.add_text_field("t", TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer("marked")
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                ));
                let index = Index::create_in_ram(b.build());
                index.tokenizers().register("marked", crate::schema::index_analyzer(Arc::clone(&set)));
                let mut w = index.writer_with_num_threads(1, 15_000_000).expect("writer");
                for values in &docs {
                    let mut d = TantivyDocument::default();
                    for v in values {
                        d.add_text(field, v);
                    }
                    w.add_document(d).expect("add");
                }
                w.commit().expect("commit");
                let searcher = index.reader().expect("reader").searcher();
                for p in PHRASES {
                    let words: Vec<String> = {
                        let mut out = Vec::new();
                        let mut a = analyzer();
                        let mut s = a.token_stream(p);
                        while let Some(t) = s.next() {
                            out.push(t.text.clone());
                        }
                        out
                    };
                    let mark = set.mark(&words).expect("every test phrase is marked");
                    let by_mark = searcher.search(
                        &TermQuery::new(Term::from_field_text(field, &mark), IndexRecordOption::Basic),
                        &DocSetCollector,
                    ).expect("mark search");
                    let by_phrase = searcher.search(
                        &PhraseQuery::new(words.iter().map(|w| Term::from_field_text(field, w)).collect()),
                        &DocSetCollector,
                    ).expect("phrase search");
                    prop_assert_eq!(by_mark, by_phrase, "phrase {:?} over {:?}", p, docs);
                }
            }
        }
    }
}
