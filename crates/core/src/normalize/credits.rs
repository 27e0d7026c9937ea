//! Continuing-education credits: "1.5 CEUs", "2 contact hours", "0.1 CEU", "3 PDUs".

use std::sync::LazyLock;

use regex::Regex;

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

/// Every credit statement in `text`, one per unit (the first amount wins for a unit).
pub fn parse_credits(text: &str) -> Vec<Credit> {
    let mut out: Vec<Credit> = Vec::new();
    // Matches only (the lazy DFA); the amount and unit are read off the matched text by hand.
    // Capture groups ran the bounded backtracker for every match.
    for m in CREDITS.find_iter(text) {
        let (n, unit) = credit_parts(m.as_str());
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
