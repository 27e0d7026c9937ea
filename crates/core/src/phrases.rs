//! Overlapping phrase matching for the vocabulary and the modality words.
//!
//! Both search folded text for padded phrases (`" online "`) and want every match, overlapping
//! ones included. `AhoCorasick::find_overlapping_iter` gives that, but returns to its caller
//! for every match and re-checks its search state for every byte; over the title and
//! description of every item that was most of the cost of tagging one. [`Phrases`] walks the
//! same DFA by hand (a table lookup per byte) over a haystack given in pieces, so callers also
//! need not copy the text to pad it. A phrase set too large for a DFA falls back to the
//! general automaton and a joined haystack.

use aho_corasick::automaton::Automaton;
use aho_corasick::{AhoCorasick, Anchored, BuildError, MatchKind, dfa};

#[derive(Debug, Clone)]
pub(crate) enum Phrases {
    /// Boxed: a DFA is several hundred bytes, the fallback a pointer.
    Dfa(Box<dfa::DFA>),
    Other(AhoCorasick),
}

impl Phrases {
    pub(crate) fn build<I, P>(patterns: I) -> Result<Phrases, BuildError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let patterns: Vec<P> = patterns.into_iter().collect();
        // No prefilter: every pattern starts with a space, so it would stop at every space.
        let dfa = dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&patterns);
        if let Ok(dfa) = dfa
            && dfa.start_state(Anchored::No).is_ok()
        {
            return Ok(Phrases::Dfa(Box::new(dfa)));
        }
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&patterns)
            .map(Phrases::Other)
    }

    /// Calls `f` with the pattern index and end offset of every match in the haystack `parts`
    /// joined, in the order `find_overlapping_iter` reports them.
    pub(crate) fn for_each_match_end(&self, parts: &[&str], mut f: impl FnMut(usize, usize)) {
        match self {
            Phrases::Dfa(dfa) => {
                // Checked when built.
                let Ok(mut sid) = dfa.start_state(Anchored::No) else {
                    return;
                };
                let mut report = |sid, end| {
                    for i in 0..dfa.match_len(sid) {
                        f(dfa.match_pattern(sid, i).as_usize(), end);
                    }
                };
                if dfa.is_match(sid) {
                    report(sid, 0);
                }
                let mut offset = 0;
                for part in parts {
                    for (i, &b) in part.as_bytes().iter().enumerate() {
                        sid = dfa.next_state(Anchored::No, sid, b);
                        if dfa.is_special(sid) {
                            if dfa.is_dead(sid) {
                                return;
                            }
                            if dfa.is_match(sid) {
                                report(sid, offset + i + 1);
                            }
                        }
                    }
                    offset += part.len();
                }
            }
            Phrases::Other(ac) => {
                let hay = parts.concat();
                for m in ac.find_overlapping_iter(&hay) {
                    f(m.pattern().as_usize(), m.end());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
    use proptest::prelude::*;

    use super::Phrases;

    const PATTERNS: &[&str] = &[
        " online ",
        " online learning ",
        " learning ",
        " in person ",
        " person ",
        " a ",
        " a a ",
        " digital preservation ",
        " preservation ",
        " webinar ",
        " webinar ",
    ];

    /// What the vocabulary and the modality matcher did before: the library's overlapping
    /// iterator on the same DFA.
    fn library(hay: &str) -> Vec<(usize, usize)> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .kind(Some(AhoCorasickKind::DFA))
            .build(PATTERNS)
            .expect("patterns build");
        ac.find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.end()))
            .collect()
    }

    fn by_hand(phrases: &Phrases, parts: &[&str]) -> Vec<(usize, usize)> {
        let mut got = Vec::new();
        phrases.for_each_match_end(parts, |p, end| got.push((p, end)));
        got
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn the_hand_walk_reports_what_the_overlapping_iterator_reports(
            words in prop::collection::vec(
                prop::sample::select(vec![
                    "online", "learning", "in", "person", "a", "digital", "preservation",
                    "webinar", "x", "", "é", "|",
                ]),
                0..16,
            ),
            split in 0usize..200,
        ) {
            let hay = format!(" {} ", words.join(" "));
            let want = library(&hay);
            let phrases = Phrases::build(PATTERNS).expect("patterns build");
            prop_assert!(matches!(phrases, Phrases::Dfa(_)));
            prop_assert_eq!(&by_hand(&phrases, &[&hay]), &want);
            // Pieces join to the same haystack, wherever they are cut.
            let mut cut = split.min(hay.len());
            while !hay.is_char_boundary(cut) {
                cut -= 1;
            }
            let (a, b) = hay.split_at(cut);
            prop_assert_eq!(&by_hand(&phrases, &[a, "", b]), &want);
            let fallback = Phrases::Other(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(PATTERNS)
                    .expect("patterns build"),
            );
            prop_assert_eq!(&by_hand(&fallback, &[a, b]), &want);
        }
    }
}
