//! The user's query language, parsed here into a bounded AST before tantivy sees anything.
//!
//! Why our own parser: tantivy's query grammar recurses per parenthesis and aborts the process
//! on deep nesting (HOSTILE D4), accepts field names, regexes and huge slops we do not want to
//! expose. Ours accepts words, `"phrases"`, `-exclusion`, `OR` and parentheses, and rejects input
//! longer than [`MAX_QUERY_CHARS`], nested deeper than [`MAX_DEPTH`] or with more than
//! [`MAX_TERMS`] terms. The length check comes first, so the parser never sees more than 256
//! characters and its recursion is at most [`MAX_DEPTH`] deep.

use std::collections::{BTreeMap, HashMap};

use tantivy::Searcher;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use crate::IndexError;
use crate::doc::Fields;
use crate::filter::FilterQuery;
use crate::marks::PhraseSet;
use crate::schema::{FUZZY_FIELD, TEXT_FIELDS};
use crate::union::AnyOf;

pub const MAX_QUERY_CHARS: usize = 256;
pub const MAX_DEPTH: usize = 8;
pub const MAX_TERMS: usize = 32;
/// Words that may get typo tolerance in one query: each fuzzy term walks a term dictionary.
pub const MAX_FUZZY_WORDS: usize = 4;
/// Synonym alternatives score a little below the words the user typed.
const SYNONYM_BOOST: f32 = 0.7;
/// Typo matches score well below exact matches.
const FUZZY_BOOST: f32 = 0.4;

/// The parsed query. Words and phrases keep the user's text; analysis happens when building.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Word(String),
    Phrase(Vec<String>),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    /// A run of words that matched a synonym phrase: the words as typed, and the group.
    Synonym {
        typed: Vec<String>,
        group: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Minus,
    Or,
    Word(String),
    Phrase(Vec<String>),
}

fn invalid(msg: impl Into<String>) -> IndexError {
    IndexError::InvalidQuery(msg.into())
}

/// Parses `text`. `Ok(None)` for a query with no terms (blank, or only punctuation).
pub fn parse(text: &str) -> Result<Option<Node>, IndexError> {
    let n = text.chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(invalid(format!(
            "query is {n} characters long, at most {MAX_QUERY_CHARS} are allowed"
        )));
    }
    let toks = lex(text);
    let terms: usize = toks
        .iter()
        .map(|t| match t {
            Tok::Word(_) => 1,
            Tok::Phrase(w) => w.len(),
            _ => 0,
        })
        .sum();
    if terms > MAX_TERMS {
        return Err(invalid(format!(
            "query has {terms} terms, at most {MAX_TERMS} are allowed"
        )));
    }
    let mut p = Parser { toks, pos: 0 };
    let node = p.seq(0)?;
    Ok(node)
}

fn lex(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    // A '-' only negates at the start of a token, so "e-learning" stays one word.
    let mut at_token_start = true;
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                out.push(Tok::Open);
                at_token_start = true;
            }
            ')' => {
                out.push(Tok::Close);
                at_token_start = true;
            }
            '"' => {
                let mut phrase = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    phrase.push(c);
                }
                let words: Vec<String> = phrase
                    .split(|c: char| c.is_whitespace() || c.is_control())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect();
                if !words.is_empty() {
                    out.push(Tok::Phrase(words));
                }
                at_token_start = true;
            }
            '-' if at_token_start => {
                out.push(Tok::Minus);
            }
            c if c.is_whitespace() || c.is_control() => at_token_start = true,
            c => {
                let mut w = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || n.is_control() || matches!(n, '(' | ')' | '"') {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push(if w == "OR" { Tok::Or } else { Tok::Word(w) });
                at_token_start = true;
            }
        }
    }
    out
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    /// A sequence of units up to `)` or the end: all must match.
    fn seq(&mut self, depth: usize) -> Result<Option<Node>, IndexError> {
        let mut items = Vec::new();
        while let Some(t) = self.peek() {
            if *t == Tok::Close {
                if depth > 0 {
                    break;
                }
                // A stray ')' at the top level is ignored: people type unbalanced text.
                self.pos += 1;
                continue;
            }
            if let Some(n) = self.unit(depth)? {
                items.push(n);
            }
        }
        Ok(match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Node::And(items)),
        })
    }

    /// `item (OR item)*`: OR binds tighter than juxtaposition, as in web search engines.
    fn unit(&mut self, depth: usize) -> Result<Option<Node>, IndexError> {
        let mut alts = Vec::new();
        if let Some(n) = self.item(depth)? {
            alts.push(n);
        }
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            if let Some(n) = self.item(depth)? {
                alts.push(n);
            }
        }
        Ok(match alts.len() {
            0 => None,
            1 => alts.pop(),
            _ => Some(Node::Or(alts)),
        })
    }

    fn item(&mut self, depth: usize) -> Result<Option<Node>, IndexError> {
        let Some(t) = self.peek().cloned() else {
            return Ok(None);
        };
        self.pos += 1;
        match t {
            Tok::Minus => Ok(self.item(depth)?.map(|n| match n {
                // "--a" is just "a" excluded twice; keep one level.
                Node::Not(inner) => Node::Not(inner),
                other => Node::Not(Box::new(other)),
            })),
            Tok::Word(w) => Ok(Some(Node::Word(w))),
            Tok::Phrase(p) => Ok(Some(Node::Phrase(p))),
            // A dangling OR ("OR a", "a OR OR b") is dropped.
            Tok::Or => Ok(None),
            Tok::Close => Ok(None),
            Tok::Open => {
                if depth + 1 > MAX_DEPTH {
                    return Err(invalid(format!(
                        "parentheses nested deeper than {MAX_DEPTH} levels"
                    )));
                }
                let inner = self.seq(depth + 1)?;
                // A missing ')' at the end closes implicitly.
                if self.peek() == Some(&Tok::Close) {
                    self.pos += 1;
                }
                Ok(inner)
            }
        }
    }
}

/// Groups of equivalent search phrases, folded to lowercase words.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Vec<String>>>,
    /// First word -> (phrase words, group), longest phrases first.
    by_first: HashMap<String, Vec<(Vec<String>, usize)>>,
}

impl Synonyms {
    pub fn new(groups: &[Vec<String>]) -> Synonyms {
        let mut s = Synonyms::default();
        for g in groups {
            let phrases: Vec<Vec<String>> = g
                .iter()
                .map(|p| p.split_whitespace().map(fold_word).collect::<Vec<_>>())
                .filter(|p: &Vec<String>| !p.is_empty())
                .collect();
            if phrases.len() < 2 {
                continue;
            }
            let gi = s.groups.len();
            for p in &phrases {
                s.by_first
                    .entry(p[0].clone())
                    .or_default()
                    .push((p.clone(), gi));
            }
            s.groups.push(phrases);
        }
        for v in s.by_first.values_mut() {
            v.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        }
        s
    }

    /// Every phrase of every group, words separated by spaces.
    pub(crate) fn phrases(&self) -> impl Iterator<Item = String> + '_ {
        self.groups.iter().flatten().map(|p| p.join(" "))
    }

    /// Every synonym group of the vocabulary's topics.
    pub fn from_vocabulary(v: &coalesce_core::Vocabulary) -> Synonyms {
        let groups: Vec<Vec<String>> = v
            .topics()
            .iter()
            .flat_map(|t| t.synonyms.iter().cloned())
            .collect();
        Synonyms::new(&groups)
    }

    /// Replaces runs of words that spell a synonym phrase with [`Node::Synonym`].
    pub fn expand(&self, node: Node) -> Node {
        match node {
            Node::And(items) => Node::And(self.expand_run(items)),
            Node::Or(items) => Node::Or(items.into_iter().map(|n| self.expand(n)).collect()),
            Node::Word(_) => match self.expand_run(vec![node]) {
                mut v if v.len() == 1 => v.pop().unwrap_or(Node::And(Vec::new())),
                v => Node::And(v),
            },
            other => other,
        }
    }

    fn expand_run(&self, items: Vec<Node>) -> Vec<Node> {
        let mut out = Vec::with_capacity(items.len());
        let mut i = 0;
        while i < items.len() {
            if let Node::Word(w) = &items[i]
                && let Some(cands) = self.candidates(&fold_word(w))
            {
                let hit = cands.iter().find(|(p, _)| {
                    p.iter().enumerate().all(|(k, pw)| {
                        matches!(items.get(i + k), Some(Node::Word(x)) if fold_word(x) == *pw)
                    })
                });
                if let Some((p, g)) = hit {
                    let typed = items[i..i + p.len()]
                        .iter()
                        .filter_map(|n| match n {
                            Node::Word(x) => Some(x.clone()),
                            _ => None,
                        })
                        .collect();
                    out.push(Node::Synonym { typed, group: *g });
                    i += p.len();
                    continue;
                }
            }
            let n = items[i].clone();
            out.push(match n {
                Node::Or(_) | Node::And(_) => self.expand(n),
                other => other,
            });
            i += 1;
        }
        out
    }
}

impl Synonyms {
    /// The phrases starting with `word`.
    fn candidates(&self, word: &str) -> Option<&Vec<(Vec<String>, usize)>> {
        self.by_first.get(word)
    }

    /// The group of the one-word synonym closest to `word` within the typo budget (1 edit
    /// from 4 characters, 2 from 8); ties go to the alphabetically first. For words the index
    /// does not know, so "presevation" reaches the preservation group.
    fn typo_group(&self, word: &str) -> Option<usize> {
        let budget = usize::from(typo_budget(word.chars().count()));
        if budget == 0 {
            return None;
        }
        self.by_first
            .iter()
            .flat_map(|(k, c)| {
                c.iter()
                    .filter(|(p, _)| p.len() == 1)
                    .map(move |(_, g)| (k, *g))
            })
            .map(|(k, g)| (strsim::levenshtein(word, k), k, g))
            .filter(|(d, _, _)| *d <= budget)
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, _, g)| g)
    }
}

/// Edits a word of `len` characters may be away from what was meant.
fn typo_budget(len: usize) -> u8 {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

fn fold_word(w: &str) -> String {
    w.to_lowercase()
}

/// Turns the AST into a tantivy query; also gathers the analyzed terms to highlight.
pub(crate) struct Builder<'a> {
    pub searcher: &'a Searcher,
    pub fields: &'a Fields,
    pub analyzer: TextAnalyzer,
    pub plain: TextAnalyzer,
    pub synonyms: &'a Synonyms,
    /// Phrases with a mark token in the index: searched as that one term.
    pub marks: &'a PhraseSet,
    pub fuzzy_left: usize,
    /// Analyzed term -> weight, for the snippet generator.
    pub highlight: BTreeMap<String, f32>,
    /// The request's filters, pushed into every positive leaf (see [`Builder::leaf`]) and used
    /// as "everything" under exclusions, so every document the built query matches passes them.
    pub filter: Option<FilterQuery>,
}

impl Builder<'_> {
    /// A term, phrase or fuzzy clause restricted to the filtered documents. Filtering at each
    /// leaf instead of on top of the whole query lets every posting list be walked only where
    /// the filters pass (the sparser side of each intersection leads), instead of scoring a
    /// broad word's every document in a union and discarding most of them afterwards. Scores
    /// are unchanged: the filter scores 0.
    fn leaf(&self, q: Box<dyn Query>) -> Box<dyn Query> {
        match &self.filter {
            Some(f) => f.restrict(q, false),
            None => q,
        }
    }

    /// [`Builder::leaf`] for a term query, whose postings are cheap to walk.
    fn term_leaf(&self, q: Box<dyn Query>) -> Box<dyn Query> {
        match &self.filter {
            Some(f) => f.restrict(q, true),
            None => q,
        }
    }

    /// What a query of only exclusions starts from: the filtered documents, or all of them.
    fn everything(&self) -> Box<dyn Query> {
        match &self.filter {
            Some(f) => Box::new(f.clone()),
            None => Box::new(AllQuery),
        }
    }

    fn tokens(&mut self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stream = self.analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        out
    }

    pub fn build(&mut self, node: &Node) -> Result<Option<Box<dyn Query>>, IndexError> {
        Ok(match node {
            Node::Word(w) => self.word(w, true)?,
            Node::Phrase(words) => self.phrase(&words.join(" "), true),
            Node::Not(inner) => {
                // A lone exclusion means "everything but".
                let q = self.build_plain(inner)?;
                q.map(|q| {
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, self.everything()),
                        (Occur::MustNot, q),
                    ])) as Box<dyn Query>
                })
            }
            Node::And(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let mut positive = false;
                for it in items {
                    if let Node::Not(inner) = it {
                        if let Some(q) = self.build_plain(inner)? {
                            clauses.push((Occur::MustNot, q));
                        }
                    } else if let Some(q) = self.build(it)? {
                        clauses.push((Occur::Must, q));
                        positive = true;
                    }
                }
                if clauses.is_empty() {
                    return Ok(None);
                }
                if !positive {
                    clauses.push((Occur::Must, self.everything()));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Or(items) => {
                let mut clauses: Vec<Box<dyn Query>> = Vec::new();
                for it in items {
                    if let Some(q) = self.build(it)? {
                        clauses.push(q);
                    }
                }
                any_of(clauses)
            }
            Node::Synonym { typed, group } => {
                let mut clauses: Vec<Box<dyn Query>> = Vec::new();
                let typed_q = if typed.len() == 1 {
                    self.word(&typed[0], true)?
                } else {
                    let mut all = Vec::new();
                    for w in typed {
                        if let Some(q) = self.word(w, true)? {
                            all.push((Occur::Must, q));
                        }
                    }
                    (!all.is_empty()).then(|| Box::new(BooleanQuery::new(all)) as Box<dyn Query>)
                };
                if let Some(q) = typed_q {
                    clauses.push(q);
                }
                let typed_folded: Vec<String> = typed.iter().map(|w| fold_word(w)).collect();
                let alts = self
                    .synonyms
                    .groups
                    .get(*group)
                    .cloned()
                    .unwrap_or_default();
                for alt in alts.iter().filter(|a| **a != typed_folded) {
                    if let Some(q) = self.phrase(&alt.join(" "), true) {
                        clauses.push(Box::new(BoostQuery::new(q, SYNONYM_BOOST)));
                    }
                }
                any_of(clauses)
            }
        })
    }

    /// Exclusions match exact words only: no typos, no synonyms, nothing to highlight.
    fn build_plain_unfiltered(
        &mut self,
        node: &Node,
    ) -> Result<Option<Box<dyn Query>>, IndexError> {
        Ok(match node {
            Node::Word(w) => self.phrase(w, false),
            Node::Phrase(words) => self.phrase(&words.join(" "), false),
            Node::Synonym { typed, .. } => self.phrase(&typed.join(" "), false),
            other => {
                let saved = self.fuzzy_left;
                self.fuzzy_left = 0;
                let q = self.build(other);
                self.fuzzy_left = saved;
                q?
            }
        })
    }

    /// What an exclusion of `node` leaves out: exact words, unfiltered, unscored.
    pub fn exclusion(&mut self, node: &Node) -> Result<Option<Box<dyn Query>>, IndexError> {
        self.build_plain(node)
    }

    /// Exclusions: exact words, and no filter pushed down (an exclusion is only probed).
    fn build_plain(&mut self, node: &Node) -> Result<Option<Box<dyn Query>>, IndexError> {
        let filter = self.filter.take();
        let q = self.build_plain_unfiltered(node);
        self.filter = filter;
        q
    }

    /// One typed word: exact on every text field, plus typo tolerance when the word is unknown.
    fn word(&mut self, w: &str, highlight: bool) -> Result<Option<Box<dyn Query>>, IndexError> {
        let toks = self.tokens(w);
        if toks.len() != 1 {
            // "e-learning" analyzes to two tokens: search them as a phrase.
            return Ok(self.phrase(w, highlight));
        }
        let t = &toks[0];
        if highlight {
            self.highlight.insert(t.clone(), 1.0);
        }
        let mut clauses: Vec<Box<dyn Query>> = Vec::new();
        let mut known = false;
        for (name, boost) in TEXT_FIELDS {
            let Some(field) = self.fields.by_name(name) else {
                continue;
            };
            let term = Term::from_field_text(field, t);
            if !known && self.searcher.doc_freq(&term)? > 0 {
                known = true;
            }
            let q = TermQuery::new(term, IndexRecordOption::WithFreqs);
            clauses.push(self.term_leaf(Box::new(BoostQuery::new(Box::new(q), boost))));
        }
        // Typo tolerance only for words the index does not know: a known word is most likely
        // spelled as meant, and fuzzy-expanding it ("form" -> "from") would drown the exact hits.
        let distance = typo_budget(w.chars().count());
        if !known
            && distance > 0
            && self.fuzzy_left > 0
            && let Some(field) = self.fields.by_name(FUZZY_FIELD.0)
        {
            let mut plain = Vec::new();
            {
                let mut stream = self.plain.token_stream(w);
                while let Some(tok) = stream.next() {
                    plain.push(tok.text.clone());
                }
            }
            if let [word] = plain.as_slice() {
                self.fuzzy_left -= 1;
                let q = FuzzyTermQuery::new(Term::from_field_text(field, word), distance, true);
                let q = Box::new(BoostQuery::new(Box::new(q), FUZZY_FIELD.1 * FUZZY_BOOST));
                clauses.push(self.leaf(q));
            }
            // The misspelt word may be a synonym key: its group's phrases too.
            let folded = fold_word(w);
            if let Some(group) = self.synonyms.typo_group(&folded) {
                let alts = self.synonyms.groups.get(group).cloned().unwrap_or_default();
                for alt in &alts {
                    if let Some(q) = self.phrase(&alt.join(" "), true) {
                        clauses.push(Box::new(BoostQuery::new(q, SYNONYM_BOOST)));
                    }
                }
            }
        }
        Ok(any_of(clauses))
    }

    /// A phrase on every text field (a single token becomes a term query).
    fn phrase(&mut self, text: &str, highlight: bool) -> Option<Box<dyn Query>> {
        let toks = self.tokens(text);
        if toks.is_empty() {
            return None;
        }
        if highlight {
            for t in &toks {
                self.highlight.insert(t.clone(), 1.0);
            }
        }
        // A marked phrase is one term where it occurs: the same documents as the phrase query,
        // without intersecting its words or reading their positions.
        let mark = (toks.len() > 1).then(|| self.marks.mark(&toks)).flatten();
        let mut clauses: Vec<Box<dyn Query>> = Vec::new();
        for (name, boost) in TEXT_FIELDS {
            let field = self.fields.by_name(name)?;
            if let Some(mark) = &mark {
                let q = TermQuery::new(
                    Term::from_field_text(field, mark),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push(self.term_leaf(Box::new(BoostQuery::new(Box::new(q), boost))));
                continue;
            }
            let q: Box<dyn Query> = if toks.len() == 1 {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &toks[0]),
                    IndexRecordOption::WithFreqs,
                ))
            } else {
                Box::new(PhraseQuery::new(
                    toks.iter()
                        .map(|t| Term::from_field_text(field, t))
                        .collect(),
                ))
            };
            let q = Box::new(BoostQuery::new(q, boost));
            clauses.push(if toks.len() == 1 {
                self.term_leaf(q)
            } else {
                self.leaf(q)
            });
        }
        any_of(clauses)
    }
}

/// A disjunction of `clauses` (see [`AnyOf`]); `None` when there are none.
fn any_of(mut clauses: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match clauses.len() {
        0 => None,
        1 => clauses.pop(),
        _ => Some(Box::new(AnyOf::new(clauses))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Node {
        Node::Word(s.to_string())
    }

    #[test]
    fn parse_table() {
        let cases: Vec<(&str, Option<Node>)> = vec![
            ("", None),
            ("   ", None),
            ("a", Some(w("a"))),
            ("a b", Some(Node::And(vec![w("a"), w("b")]))),
            (
                "a OR b c",
                Some(Node::And(vec![Node::Or(vec![w("a"), w("b")]), w("c")])),
            ),
            ("-a", Some(Node::Not(Box::new(w("a"))))),
            ("e-learning", Some(w("e-learning"))),
            (
                "\"digital collections\"",
                Some(Node::Phrase(vec!["digital".into(), "collections".into()])),
            ),
            ("(a b", Some(Node::And(vec![w("a"), w("b")]))),
            ("a) b", Some(Node::And(vec![w("a"), w("b")]))),
            ("OR", None),
            ("a or b", Some(Node::And(vec![w("a"), w("or"), w("b")]))),
            ("a\u{0}b", Some(Node::And(vec![w("a"), w("b")]))),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).unwrap(), want, "input {input:?}");
        }
    }

    #[test]
    fn bounds_are_checked_before_parsing() {
        let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(parse(&deep).unwrap_err().code(), "invalid_query");
        let nine = format!("{}a{}", "(".repeat(9), ")".repeat(9));
        let err = parse(&nine).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
        let eight = format!("{}a{}", "(".repeat(8), ")".repeat(8));
        assert_eq!(parse(&eight).unwrap(), Some(w("a")));
        let many = "a ".repeat(40);
        assert!(parse(&many).unwrap_err().to_string().contains("terms"));
    }

    #[test]
    fn synonyms_replace_longest_phrase() {
        let s = Synonyms::new(&[
            vec!["continuing education".into(), "training".into()],
            vec!["cataloging".into(), "metadata".into()],
        ]);
        let n = s.expand(
            parse("Continuing Education for cataloging")
                .unwrap()
                .unwrap(),
        );
        assert_eq!(
            n,
            Node::And(vec![
                Node::Synonym {
                    typed: vec!["Continuing".into(), "Education".into()],
                    group: 0
                },
                w("for"),
                Node::Synonym {
                    typed: vec!["cataloging".into()],
                    group: 1
                },
            ])
        );
    }
}
