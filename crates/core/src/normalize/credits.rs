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
    for cap in CREDITS.captures_iter(text) {
        let (Some(n), Some(unit)) = (cap.name("n"), cap.name("unit")) else {
            continue;
        };
        let amount = match n.as_str().to_ascii_lowercase().as_str() {
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
        let u = unit.as_str().to_ascii_lowercase();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_table() {
        let cases: &[(&str, &[(f64, CreditUnit)])] = &[
            ("Earn 1.5 CEUs", &[(1.5, CreditUnit::Ceu)]),
            ("0.1 CEU available", &[(0.1, CreditUnit::Ceu)]),
            ("Approved for 2 contact hours.", &[(2.0, CreditUnit::ContactHours)]),
            ("3 PDUs / 0.3 CEUs", &[(3.0, CreditUnit::Pdu), (0.3, CreditUnit::Ceu)]),
            ("one CE credit", &[(1.0, CreditUnit::CeCredits)]),
            ("5 ACA recertification credits", &[(5.0, CreditUnit::AcaCredits)]),
            ("Room 101, 2 hours long", &[]),
            ("Serves 300 CEUs? no: 9999 CEUs", &[(300.0, CreditUnit::Ceu)]),
        ];
        for (text, want) in cases {
            let got: Vec<(f64, CreditUnit)> =
                parse_credits(text).into_iter().map(|c| (c.amount, c.unit)).collect();
            assert_eq!(got, want.to_vec(), "{text}");
        }
    }
}
