//! A handful of short literals found in text: "does this description say register?", "where
//! is the first credit unit?". Asked of every item, so it must cost a vectorized scan, not a
//! step per byte.
//!
//! `AhoCorasick` picks its own prefilter, and for some word sets it picks a rare-bytes one
//! whose bytes are not rare in prose ('u', 'p'), which then stops at nearly every word. The
//! packed (Teddy) searcher is used directly when the CPU has it; the automaton answers
//! otherwise. Both report the leftmost-first match, so the answer does not depend on which.

use aho_corasick::{AhoCorasick, BuildError, MatchKind, packed};

#[derive(Debug, Clone)]
pub struct Literals {
    packed: Option<packed::Searcher>,
    automaton: AhoCorasick,
}

impl Literals {
    pub fn new(words: &[&str]) -> Result<Literals, BuildError> {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(words)?;
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(words)
            .build();
        Ok(Literals { packed, automaton })
    }

    /// Where the leftmost occurrence of any word starts (case-sensitive).
    pub fn find_start(&self, hay: &str) -> Option<usize> {
        match &self.packed {
            Some(p) => p.find(hay).map(|m| m.start()),
            None => self.automaton.find(hay).map(|m| m.start()),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Literals;

    const WORDS: &[&str] = &["ceu", "unit", "hour", "credit", "pdu", "regist", "sign up"];

    proptest! {
        #[test]
        fn the_first_start_is_the_earliest_of_each_word_searched_alone(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "ceu", "ce", "unit", "un", "hour", "cred", "credit", "pdu", "p", " ", "x",
                    "regist", "sign", "sign up", "é", "ceunit",
                ]),
                0..40,
            ),
        ) {
            let hay = parts.concat();
            let lit = Literals::new(WORDS).expect("words build");
            let want = WORDS.iter().filter_map(|w| hay.find(w)).min();
            prop_assert_eq!(lit.find_start(&hay), want);
            prop_assert_eq!(lit.automaton.find(&hay).map(|m| m.start()), want);
        }
    }
}
