//! The tantivy schema: field names as constants, the analyzer, and the version stamped into
//! every commit so a schema change triggers a rebuild instead of a confusing search error.

use std::cell::RefCell;
use std::collections::HashMap;
use tantivy::schema::{
    FAST, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// Bumped whenever a field or the analyzer changes; an index with another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 3;

/// English analyzer: lowercase, accents folded, Porter-style stemming.
pub const ANALYZER: &str = "coalesce_en";
/// The same without stemming, for typo matching: a typo often breaks the suffix the stemmer
/// needs ("preservaton" stems to itself, far from "preserv"), so fuzzy terms compare words.
pub const PLAIN_ANALYZER: &str = "coalesce_plain";

/// Offering id (raw, exact): upsert/delete key.
pub const ID: &str = "id";
/// FNV-1a of the id as a fast u64: the tie-breaker that makes cursor order total.
pub const KEY: &str = "key";
pub const TITLE: &str = "title";
/// The summary and the plain text of `description_html`, as one field: a word is one posting
/// list to walk and one score to compute per document, not two (a summary usually repeats the
/// description's opening, so two fields mostly doubled the work for the same documents).
pub const BODY: &str = "body";
/// Provider names of the offering and of every cluster member, so a search names any of them.
pub const PROVIDER_TEXT: &str = "provider_text";
pub const LOCATION_TEXT: &str = "location_text";
/// Title and summary words, unstemmed: the field typo tolerance searches.
pub const WORDS: &str = "words";
/// Raw keyword fields (indexed for filters, fast for facet counts).
pub const TOPIC: &str = "topic";
pub const SECTOR: &str = "sector";
pub const MODALITY: &str = "modality";
/// Provider ids: the offering's and its cluster members' (filtering by a co-marketer finds it).
pub const PROVIDER: &str = "provider";
pub const STATUS: &str = "status";
/// `free`, `paid` or `unknown`.
pub const COST: &str = "cost";
/// Credit units offered, plus `any` when there is at least one.
pub const CREDIT: &str = "credit";
/// 1 when the document is listed in search (not a non-canonical duplicate), else 0.
pub const LISTED: &str = "listed";
/// Occurrences, one packed u64 per non-cancelled session (see [`pack_occurrence`]).
pub const OCC: &str = "occ";
/// Occurrence starts as a multi-valued fast+indexed date field (range filters by other tools).
pub const START: &str = "start";
/// `updated_at` in seconds since the epoch (0 when unknown), for `sort=updated`.
pub const UPDATED: &str = "updated";
/// The whole [`crate::IndexDoc`] as JSON: enough to render a hit without the store.
pub const DOC: &str = "doc";

/// Text fields searched by the query words, with their boosts. Title weighs most.
pub const TEXT_FIELDS: [(&str, f32); 4] = [
    (TITLE, 3.0),
    (BODY, 1.25),
    (PROVIDER_TEXT, 1.0),
    (LOCATION_TEXT, 0.75),
];

/// The field that gets typo tolerance: title and summary words. Description is left out because
/// its term dictionary is the largest and a fuzzy walk there costs the most.
pub const FUZZY_FIELD: (&str, f32) = (WORDS, 2.0);

pub fn build_schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field(ID, STRING | STORED);
    b.add_u64_field(KEY, FAST);
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    for (name, _) in TEXT_FIELDS {
        b.add_text_field(name, text.clone());
    }
    b.add_text_field(
        WORDS,
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(PLAIN_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    for name in [TOPIC, SECTOR, MODALITY, PROVIDER, STATUS, COST, CREDIT] {
        b.add_text_field(name, STRING | FAST);
    }
    b.add_u64_field(LISTED, INDEXED);
    b.add_u64_field(OCC, FAST);
    b.add_date_field(START, INDEXED | FAST);
    b.add_i64_field(UPDATED, FAST);
    // Stored as text, not bytes: tantivy reads a stored bytes value element by element, which
    // made loading a page's documents a visible share of a search.
    b.add_text_field(DOC, STORED);
    b.build()
}

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// What the text fields are indexed with: [`analyzer`] plus a mark token after each of the
/// vocabulary's multi-word synonyms (see `marks.rs`). Queries are analyzed without marks.
pub fn index_analyzer(phrases: std::sync::Arc<crate::marks::PhraseSet>) -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .filter(crate::marks::MarkPhrases(phrases))
        .build()
}

/// [`analyzer`] for snippets: the same tokens, with stems remembered per thread. A page's
/// snippets stem every word of up to a hundred summaries or descriptions, and stemming was
/// three quarters of making them (a tenth of a typical search); the words of a catalog repeat.
pub fn snippet_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(CachedStemmer)
        .build()
}

/// Words remembered per thread before the memory starts over.
const STEMS_KEPT: usize = 50_000;

thread_local! {
    /// Word -> stem, as tantivy's English [`Stemmer`] makes it.
    static STEMS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// tantivy's English [`Stemmer`], asked once per word per thread.
#[derive(Clone)]
struct CachedStemmer;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner: tokenizer,
            stemmer: TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(Language::English))
                .build(),
        }
    }
}

#[derive(Clone)]
struct CachedStemmerFilter<T> {
    inner: T,
    /// Stems one word: the whole text is one token.
    stemmer: TextAnalyzer,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: &mut self.stemmer,
        }
    }
}

struct CachedStemmerStream<'a, T> {
    tail: T,
    stemmer: &'a mut TextAnalyzer,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        STEMS.with_borrow_mut(|stems| {
            if let Some(stem) = stems.get(token.text.as_str()) {
                token.text.clear();
                token.text.push_str(stem);
                return;
            }
            let stem = {
                let mut one = self.stemmer.token_stream(&token.text);
                if one.advance() {
                    one.token().text.clone()
                } else {
                    token.text.clone()
                }
            };
            if stems.len() >= STEMS_KEPT {
                stems.clear();
            }
            stems.insert(std::mem::replace(&mut token.text, stem.clone()), stem);
        });
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

pub fn plain_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Minutes since the epoch fit 32 bits until the year 10136; start in the high half, end in the
/// low half, so one fast value carries a whole session and window checks stay correlated
/// (two separate multi-valued fields could pair one session's start with another's end).
pub fn pack_occurrence(start_secs: i64, end_secs: i64) -> u64 {
    let s = (start_secs.div_euclid(60)).clamp(0, u32::MAX as i64) as u64;
    let e = (end_secs.div_euclid(60)).clamp(0, u32::MAX as i64) as u64;
    (s << 32) | e.max(s)
}

/// Inverse of [`pack_occurrence`], in seconds.
pub fn unpack_occurrence(v: u64) -> (i64, i64) {
    (((v >> 32) as i64) * 60, ((v & 0xffff_ffff) as i64) * 60)
}

/// FNV-1a 64: stable across versions and platforms, unlike `DefaultHasher`.
pub fn key_of(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut stream = a.token_stream(text);
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    proptest::proptest! {
        /// The snippet analyzer's tokens (text, offsets, positions) are the analyzer's, on
        /// first sight of a word and from memory alike.
        #[test]
        fn snippet_tokens_are_the_analyzers(
            text in proptest::string::string_regex(
                "([A-Za-zÀ-ÿ'ſK]{1,12}|preserv(ation|ing|ed)|librar(y|ies)|ran|running|[ .,;-]|[0-9]{1,3}|x{41}){0,30}"
            ).expect("regex"),
        ) {
            let want = tokens(&mut analyzer(), &text);
            let mut snippets = snippet_analyzer();
            proptest::prop_assert_eq!(&tokens(&mut snippets, &text), &want);
            proptest::prop_assert_eq!(&tokens(&mut snippets, &text), &want);
        }
    }
}
