//! Continuing-education credits: "1.5 CEUs", "2 contact hours", "0.1 CEU", "3 PDUs".

use std::sync::LazyLock;

use regex::Regex;

use crate::literals::Literals;
use crate::model::{Credit, CreditUnit};

static CREDITS: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?ix)
        (?P<n>\b\d{1,3}(?:\.\d{1,2})?|\.\d{1,2}|\b(?:one|two|three|four|five|six))\s*(?:-\s*)?
        (?P<unit>
            ceus?\b | continuing\s+education\s+units?
          | contact\s+hours?
          | credit\s+hours?
          | pdus?\b | professional\s+development\s+units?
          | aca\s+(?:recertification\s+)?credits?
          | (?:ce|cle|cpe)\s+(?:credits?|hours?)
          | continuing\s+education\s+(?:credits?|hours?)
          | recertification\s+credits?
        )",
    )
    .expect("credits regex compiles")
});

/// A word every unit of [`CREDITS`] contains ("ceu", "unit", "hour", "credit" or "pdu"), in any
/// ASCII case: no match can lie before the first of them. Searched in a lowercased copy: a
/// case-sensitive searcher over a few literals runs vectorized, one that ignores case does not.
static UNIT_WORDS: LazyLock<Literals> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Literals::new(&["ceu", "unit", "hour", "credit", "pdu"]).expect("unit words build")
});

/// Where a search for [`CREDITS`] may start without missing a match: every match contains a
/// unit word and is made of ASCII letters, digits, `.`, `-` and whitespace only, so none
/// starts before the last other character ahead of the first unit word. `None` when the text
/// has no unit word at all. Only for ASCII text: `\d`, `\s` and case-insensitive letters also
/// take non-ASCII characters, and such text is searched whole.
fn credits_search_start(text: &str) -> Option<usize> {
    if !text.is_ascii() {
        return Some(0);
    }
    // ASCII lowercasing keeps every byte where it is, so offsets in the copy are offsets here.
    let first = UNIT_WORDS.find_start(&text.to_ascii_lowercase())?;
    let head = &text.as_bytes()[..first];
    let start = head
        .iter()
        .rposition(|&b| !may_be_in_a_match(b))
        .map_or(0, |p| p + 1);
    Some(start)
}

/// Whether an ASCII byte can be part of a [`CREDITS`] match: letters, digits, `.`, `-` and what
/// `\s` takes (ASCII whitespace and the vertical tab).
fn may_be_in_a_match(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'\x0b') || b.is_ascii_whitespace()
}

/// Every credit statement in `text`, one per unit (the first amount wins for a unit).
pub fn parse_credits(text: &str) -> Vec<Credit> {
    // Most texts name no credits, and those that do name them near the end: the regex only
    // reads from where a match could start (a text of 500 bytes was a visible cost per item).
    let Some(at) = credits_search_start(text) else {
        return Vec::new();
    };
    credits_from(text, at)
}

/// `parse_credits(&format!("{title}\n{text}"))`, given `lower_text`, which is
/// `text.to_ascii_lowercase()` (the caller has it for other searches). When no match can
/// start in the title, the text is searched where it lies: the joined copy and its lowercased
/// copy were a visible share of finishing an item.
///
/// Why that finds the same: no unit word holds a newline, so with none in the title the
/// first one of the joined text is the text's first, and the search starts at the same place
/// (see [`credits_search_start`]) provided some byte of the text before that word can be in
/// no match. From there on the title is never read: the only look-behind is `\b`, and the
/// text's start counts as a non-word boundary just as the newline before it does.
pub fn parse_credits_lines(title: &str, text: &str, lower_text: &str) -> Vec<Credit> {
    let joined = || {
        let mut s = String::with_capacity(title.len() + 1 + text.len());
        s.push_str(title);
        s.push('\n');
        s.push_str(text);
        s
    };
    if !title.is_ascii() || !text.is_ascii() || lower_text.len() != text.len() {
        return parse_credits(&joined());
    }
    if UNIT_WORDS.find_start(&title.to_ascii_lowercase()).is_some() {
        return parse_credits(&joined());
    }
    let Some(first) = UNIT_WORDS.find_start(lower_text) else {
        return Vec::new();
    };
    // Every byte up to the unit word may be in a match: one could start in the title.
    let Some(outside) = text.as_bytes()[..first]
        .iter()
        .rposition(|&b| !may_be_in_a_match(b))
    else {
        return parse_credits(&joined());
    };
    credits_from(text, outside + 1)
}

/// The credits of the [`CREDITS`] matches in `text` from `at` on.
fn credits_from(text: &str, mut at: usize) -> Vec<Credit> {
    let matches = std::iter::from_fn(|| {
        let m = CREDITS.find_at(text, at)?;
        // Never empty (a unit is required), so the search always moves on.
        at = m.end().max(at + 1);
        Some(m.as_str())
    });
    credits_of(matches)
}

/// The amounts [`CREDITS`] spells as words.
const NUMBER_WORDS: [(&str, f64); 6] = [
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
];

/// The credits the [`CREDITS`] matches given (in order) state.
fn credits_of<'t>(matches: impl Iterator<Item = &'t str>) -> Vec<Credit> {
    let mut out: Vec<Credit> = Vec::new();
    // Matches only (the lazy DFA); the amount and unit are read off the matched text by hand.
    // Capture groups ran the bounded backtracker for every match.
    for m in matches {
        let (n, unit) = credit_parts(m);
        // Compared ignoring ASCII case in place: lowercased copies of the amount and the unit
        // were two allocations per credit found. A number (not a word) has no letters, so
        // lowercasing it never changed what it parses to.
        let word = NUMBER_WORDS
            .iter()
            .find(|(w, _)| n.eq_ignore_ascii_case(w))
            .map(|(_, v)| *v);
        let amount = match word {
            Some(v) => v,
            None => match n.parse::<f64>() {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        if !(amount > 0.0 && amount <= 500.0) {
            continue;
        }
        let starts = |prefix: &str| {
            unit.as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        let unit = if starts("ceu") || starts("continuing education unit") {
            CreditUnit::Ceu
        } else if starts("contact") {
            CreditUnit::ContactHours
        } else if starts("credit") {
            CreditUnit::CreditHours
        } else if starts("pdu") || starts("professional") {
            CreditUnit::Pdu
        } else if starts("aca") || starts("recert") {
            CreditUnit::AcaCredits
        } else {
            CreditUnit::CeCredits
        };
        if !out.iter().any(|c| c.unit == unit) {
            out.push(Credit { amount, unit });
        }
    }
    out
}

/// The amount and the unit of one [`CREDITS`] match: the amount is a number word or the digits
/// and dots it starts with, the unit starts at the first letter after the spaces and hyphen
/// that may follow.
fn credit_parts(m: &str) -> (&str, &str) {
    const WORDS: [&str; 6] = ["one", "two", "three", "four", "five", "six"];
    let n_len = WORDS
        .iter()
        .find(|w| {
            m.get(..w.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(w))
        })
        .map_or_else(
            || {
                m.find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(m.len())
            },
            |w| w.len(),
        );
    let unit = m[n_len..].trim_start_matches(|c: char| c.is_whitespace() || c == '-');
    (&m[..n_len], unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_parts_agree_with_the_pattern_groups() {
        let texts = [
            "Earn 1.5 CEUs and 2 contact hours; 3 PDUs / .3 CEU",
            "one CE credit, Two - credit hours, six   continuing education units",
            "5 ACA recertification credits or 4-CLE hours; 12 professional development units",
            "1.505 CEUs, 10.25 CPE credits",
        ];
        for text in texts {
            for cap in CREDITS.captures_iter(text) {
                let whole = cap.get(0).map_or("", |m| m.as_str());
                let want = (
                    cap.name("n").map_or("", |m| m.as_str()),
                    cap.name("unit").map_or("", |m| m.as_str()),
                );
                assert_eq!(credit_parts(whole), want, "{whole}");
            }
        }
    }

    /// What `credits_of` did before it compared in place: lowercased copies.
    fn credits_of_lowercased<'t>(matches: impl Iterator<Item = &'t str>) -> Vec<Credit> {
        let mut out: Vec<Credit> = Vec::new();
        for m in matches {
            let (n, unit) = credit_parts(m);
            let amount = match n.to_ascii_lowercase().as_str() {
                "one" => 1.0,
                "two" => 2.0,
                "three" => 3.0,
                "four" => 4.0,
                "five" => 5.0,
                "six" => 6.0,
                other => match other.parse::<f64>() {
                    Ok(a) => a,
                    Err(_) => continue,
                },
            };
            if !(amount > 0.0 && amount <= 500.0) {
                continue;
            }
            let u = unit.to_ascii_lowercase();
            let unit = if u.starts_with("ceu") || u.starts_with("continuing education unit") {
                CreditUnit::Ceu
            } else if u.starts_with("contact") {
                CreditUnit::ContactHours
            } else if u.starts_with("credit") {
                CreditUnit::CreditHours
            } else if u.starts_with("pdu") || u.starts_with("professional") {
                CreditUnit::Pdu
            } else if u.starts_with("aca") || u.starts_with("recert") {
                CreditUnit::AcaCredits
            } else {
                CreditUnit::CeCredits
            };
            if !out.iter().any(|c| c.unit == unit) {
                out.push(Credit { amount, unit });
            }
        }
        out
    }

    /// What `parse_credits` did before it looked for unit words first: the regex over the
    /// whole text, its matches read from lowercased copies.
    fn parse_credits_whole(text: &str) -> Vec<Credit> {
        credits_of_lowercased(CREDITS.find_iter(text).map(|m| m.as_str()))
    }

    /// Pieces the property tests build texts from: amounts, unit words and their neighbours,
    /// separators, and characters whose case or width is tricky.
    const TEXT_PIECES: [&str; 46] = [
        "1.5",
        "2",
        ".3",
        "10.25",
        "one",
        "Two",
        "six",
        " ",
        "  ",
        "\n",
        "-",
        ".",
        "CEUs",
        "ceu",
        "contact",
        "hours",
        "Credit",
        "credits",
        "pdu",
        "PDUs",
        "continuing",
        "education",
        "units",
        "professional",
        "development",
        "aca",
        "recertification",
        "CE",
        "cle",
        "cpe",
        "$25",
        "Earn",
        "x",
        ",",
        ";",
        "(",
        "\u{a0}",
        "\u{663}",
        "é",
        "ſ",
        "hour",
        "unit",
        "a",
        "\u{b}",
        "\t",
        ":",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

        #[test]
        fn starting_at_the_first_unit_word_finds_what_the_whole_search_finds(
            parts in proptest::collection::vec(
                proptest::sample::select(TEXT_PIECES.to_vec()),
                0..24,
            ),
            sep in proptest::sample::select(vec!["", " "]),
        ) {
            let text = parts.join(sep);
            let got: Vec<(f64, CreditUnit)> =
                parse_credits(&text).into_iter().map(|c| (c.amount, c.unit)).collect();
            let want: Vec<(f64, CreditUnit)> =
                parse_credits_whole(&text).into_iter().map(|c| (c.amount, c.unit)).collect();
            proptest::prop_assert_eq!(got, want, "{:?}", text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

        #[test]
        fn title_and_text_searched_apart_find_what_the_joined_text_finds(
            title in proptest::collection::vec(
                proptest::sample::select(vec![
                    "1.5", "2", "one", " ", "-", ".", "CEUs", "ceu", "contact", "hours",
                    "Credit", "pdu", "x", ",", "(", "é", "\u{663}", "Fundamentals", "3",
                ]),
                0..8,
            ),
            text in proptest::collection::vec(
                proptest::sample::select(TEXT_PIECES.to_vec()),
                0..24,
            ),
            sep in proptest::sample::select(vec!["", " "]),
        ) {
            let title = title.join(sep);
            let text = text.join(sep);
            let got: Vec<(f64, CreditUnit)> =
                parse_credits_lines(&title, &text, &text.to_ascii_lowercase())
                    .into_iter()
                    .map(|c| (c.amount, c.unit))
                    .collect();
            let want: Vec<(f64, CreditUnit)> =
                parse_credits_whole(&format!("{title}\n{text}"))
                    .into_iter()
                    .map(|c| (c.amount, c.unit))
                    .collect();
            proptest::prop_assert_eq!(got, want, "{:?} / {:?}", title, text);
        }
    }

    #[test]
    fn a_credit_split_by_the_title_line_is_found_from_the_joined_text() {
        let got: Vec<(f64, CreditUnit)> = parse_credits_lines("Session 2", "CEUs", "ceus")
            .into_iter()
            .map(|c| (c.amount, c.unit))
            .collect();
        assert_eq!(got, vec![(2.0, CreditUnit::Ceu)]);
    }

    #[test]
    fn no_match_holds_a_byte_said_to_be_outside_every_match() {
        for b in (0u8..0x80).filter(|b| !may_be_in_a_match(*b)) {
            let c = char::from(b);
            let text = format!("2{c}CEU 3{c} contact{c}hours {c}1 -{c} pdu one{c}credit hour");
            for m in CREDITS.find_iter(&text) {
                assert!(!m.as_str().contains(c), "{b:#x} in {:?}", m.as_str());
            }
        }
        // And the bytes said to be inside can be.
        for text in ["2 CEUs", "2\x0bCEUs", "2\tCEUs", "2 - CEUs", ".5 CEUs"] {
            assert!(CREDITS.is_match(text), "{text:?}");
        }
    }

    #[test]
    fn credits_table() {
        let cases: &[(&str, &[(f64, CreditUnit)])] = &[
            ("Earn 1.5 CEUs", &[(1.5, CreditUnit::Ceu)]),
            ("0.1 CEU available", &[(0.1, CreditUnit::Ceu)]),
            (
                "Approved for 2 contact hours.",
                &[(2.0, CreditUnit::ContactHours)],
            ),
            (
                "3 PDUs / 0.3 CEUs",
                &[(3.0, CreditUnit::Pdu), (0.3, CreditUnit::Ceu)],
            ),
            ("one CE credit", &[(1.0, CreditUnit::CeCredits)]),
            (
                "5 ACA recertification credits",
                &[(5.0, CreditUnit::AcaCredits)],
            ),
            ("Room 101, 2 hours long", &[]),
            (
                "Serves 300 CEUs? no: 9999 CEUs",
                &[(300.0, CreditUnit::Ceu)],
            ),
        ];
        for (text, want) in cases {
            let got: Vec<(f64, CreditUnit)> = parse_credits(text)
                .into_iter()
                .map(|c| (c.amount, c.unit))
                .collect();
            assert_eq!(got, want.to_vec(), "{text}");
        }
    }
}
