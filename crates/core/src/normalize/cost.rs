//! Cost: "Free", "$25 members / $50 non-members", "No charge", schema.org offers.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Cost;
use crate::normalize::text::{fold_for_match, squash_whitespace};

/// One schema.org `Offer` (or a feed's price field) as published.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferInput {
    /// The price as published: a number or a string such as "25.00" or "Free".
    pub price: Option<String>,
    pub currency: Option<String>,
    pub name: Option<String>,
}

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    // A currency symbol or code next to an amount, either order. Amounts like "1,250.00".
    // A sign may carry a country ("CA$25") or be followed by a code ("$25 CAD"): both say
    // which dollar.
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?ix)
        (?:(?P<sym>(?:\b(?:CA|C|US|NZ))?[$€£¥])|\b(?P<code1>USD|CAD|EUR|GBP|AUD|NZD)\s?)\s?(?P<a1>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?:\s?(?P<code3>USD|CAD|EUR|GBP|AUD|NZD)\b)?
        |
        (?P<a2>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)\s?(?:(?P<code2>USD|CAD|EUR|GBP|AUD|NZD)\b|(?P<word>dollars?|euros?|pounds?)\b)
        ",
    )
    .expect("money regex compiles")
});

const FREE_WORDS: &[&str] = &[
    "free",
    "no cost",
    "no charge",
    "no fee",
    "free of charge",
    "complimentary",
    "free admission",
    "free registration",
    "gratis",
    "0",
];

/// Reads the provider's cost wording. Returns an unknown cost when the text says nothing
/// about price.
pub fn parse_cost_text(text: &str) -> Cost {
    let text = squash_whitespace(text);
    if text.is_empty() {
        return Cost::default();
    }
    // The lowest and highest amount, kept as they come: a vector of them was an allocation
    // per item.
    let mut range = Range::default();
    let mut currency: Option<String> = None;
    add_amounts(&text, |_| true, &mut range, &mut currency);
    let folded = fold_for_match(&text);
    let says_free = says_free(&folded);
    build(range, settle_currency(currency), says_free, Some(text))
}

/// Adds the amounts of `text` that `keep` accepts (given the byte where the amount's match
/// ends) to `range`, and the currency of the first to `currency` when it has none.
fn add_amounts(
    text: &str,
    mut keep: impl FnMut(usize) -> bool,
    range: &mut Range,
    currency: &mut Option<String>,
) {
    // An amount needs an ASCII digit (other `\d` digits never parse as a number), and most
    // sentences that mention cost have none ("Free for members"): skip the regex for them.
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    // Matches only: the lazy DFA finds them, and the parts are read off the matched text by
    // hand (`money_parts`). Capture groups ran the bounded backtracker for every match.
    let matches = has_digit.then(|| MONEY.find_iter(text));
    for m in matches.into_iter().flatten() {
        if !keep(m.end()) {
            continue;
        }
        let (amount, code) = money_parts(m.as_str());
        // Most amounts have no thousands separator: only those are copied without it.
        let amount = if amount.contains(',') {
            amount.replace(',', "").parse::<f64>()
        } else {
            amount.parse::<f64>()
        };
        let Ok(amount) = amount else {
            continue;
        };
        if !amount.is_finite() || amount < 0.0 {
            continue;
        }
        range.add(amount);
        // A bare "$" says dollars, not whose: a currency stated elsewhere ("C$20", "$20 CAD")
        // wins over it.
        let bare_dollar = code == Some("USD") && !m.as_str().to_ascii_uppercase().contains("US");
        let stated = currency.as_deref().is_some_and(|c| c != "USD?");
        if !stated {
            match (bare_dollar, currency.is_none()) {
                (true, true) => *currency = Some("USD?".to_string()),
                (true, false) => {}
                (false, _) => *currency = code.map(str::to_string),
            }
        }
    }
}

/// The currency [`add_amounts`] found, with a bare "$" read as US dollars.
fn settle_currency(currency: Option<String>) -> Option<String> {
    match currency.as_deref() {
        Some("USD?") => Some("USD".to_string()),
        _ => currency,
    }
}

/// Labels that introduce the price in a description ("Cost: $25 members / $40 others").
const PRICE_LABELS: &[&str] = &[
    "cost",
    "costs",
    "price",
    "prices",
    "pricing",
    "fee",
    "fees",
    "admission",
    "tickets",
    "ticket price",
    "ticket prices",
    "tuition",
    "registration",
    "registration fee",
    "registration fees",
    "registration cost",
];

/// Words of a sentence about money that is not the price: a grant, a fund, a budget, an award.
const FUNDING_WORDS: &[&str] = &[
    "grant",
    "grants",
    "fund",
    "funds",
    "funded",
    "funding",
    "award",
    "awards",
    "awarded",
    "budget",
    "budgets",
    "prize",
    "prizes",
    "endowment",
    "donation",
    "donations",
    "raised",
    "salary",
    "salaries",
    "revenue",
    "stipend",
    "stipends",
    "matching",
    "million",
    "billion",
];

/// Words that tie an amount in the same sentence to attending: such a sentence states a price
/// even when it also names a grant.
const FEE_WORDS: &[&str] = &[
    "cost",
    "costs",
    "fee",
    "fees",
    "price",
    "prices",
    "tuition",
    "admission",
    "ticket",
    "tickets",
    "member",
    "members",
    "non",
    "nonmember",
    "nonmembers",
    "registration",
    "attend",
    "attendees",
    "participant",
    "participants",
    "pay",
    "charge",
];

/// Words right after an amount that make it a funding figure ("$120,000 grant", "$1.2
/// million", "$500,000 in matching funds").
const AFTER_AMOUNT_FUNDING: &[&str] = &[
    "million",
    "billion",
    "bn",
    "m",
    "k",
    "grant",
    "grants",
    "fund",
    "funds",
    "funding",
    "award",
    "awards",
    "budget",
    "program",
    "programme",
    "prize",
    "endowment",
    "in",
];

/// The cost a description states, given its sentences that mention cost (one a line). A
/// labelled price ("Cost:", "Fees:", "Tickets:") is the price when there is one; otherwise the
/// amounts of the sentences, but for those that are about funding (a grant, a program, an
/// award) and not about attending: a free webinar about a $120,000 grant stays free.
pub fn parse_cost_in_description(lines: &str) -> Cost {
    let mut labelled = String::new();
    for line in lines.lines() {
        for value in price_label_values(line) {
            labelled.push_str(value);
            labelled.push('\n');
        }
    }
    if !labelled.is_empty() {
        let c = parse_cost_text(&labelled);
        if c.is_known() {
            return Cost { text: None, ..c };
        }
    }
    let mut range = Range::default();
    let mut currency = None;
    let mut free = false;
    for line in lines.lines() {
        let folded = fold_for_match(line);
        let has = |words: &[&str]| folded.split(' ').any(|w| words.contains(&w));
        let about_funding = has(FUNDING_WORDS) && !has(FEE_WORDS);
        if !about_funding {
            add_amounts(
                line,
                |end| !funding_follows(&line[end..]),
                &mut range,
                &mut currency,
            );
        }
        free |= says_free(&folded);
    }
    build(range, settle_currency(currency), free, None)
}

/// Whether the words right after an amount make it a funding figure.
fn funding_follows(rest: &str) -> bool {
    let folded = fold_for_match(&rest.chars().take(40).collect::<String>());
    let mut words = folded.split(' ').filter(|w| !w.is_empty());
    match words.next() {
        // "$500,000 in matching funds", "$25,000 in grants": "in" counts only before a
        // funding word.
        Some("in") => words
            .take(2)
            .any(|w| w != "in" && AFTER_AMOUNT_FUNDING.contains(&w)),
        Some(w) => AFTER_AMOUNT_FUNDING.contains(&w),
        None => false,
    }
}

/// The values of the price labels of one line of text: what follows "Cost:" up to the next
/// label ("Where:", "Register with the host:") or the end of the line.
fn price_label_values(line: &str) -> Vec<&str> {
    let colons: Vec<usize> = memchr::memchr_iter(b':', line.as_bytes())
        .filter(|&c| is_label_colon(line, c))
        .collect();
    let mut out = Vec::new();
    for (i, &colon) in colons.iter().enumerate() {
        let head = &line[..colon];
        let is_price = PRICE_LABELS.iter().any(|l| {
            head.len() >= l.len()
                && head.is_char_boundary(head.len() - l.len())
                && head[head.len() - l.len()..].eq_ignore_ascii_case(l)
                && head[..head.len() - l.len()]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
        });
        if !is_price {
            continue;
        }
        let end = colons
            .get(i + 1)
            .map_or(line.len(), |&next| label_start(line, next));
        if let Some(value) = line.get(colon + 1..end.max(colon + 1)) {
            let value = value.trim();
            if !value.is_empty() {
                out.push(value);
            }
        }
    }
    out
}

/// A colon that ends a label: not in a time ("10:30") or a link ("https://").
fn is_label_colon(line: &str, colon: usize) -> bool {
    let before = line[..colon].chars().next_back();
    let after = line[colon + 1..].chars().next();
    before.is_some_and(char::is_alphabetic) && after != Some('/')
}

/// Where the label ending at `colon` starts: the last word starting with a capital among the
/// four words before it ("Register with the host:"), else the word right before it.
fn label_start(line: &str, colon: usize) -> usize {
    let head = &line[..colon];
    let word_starts: Vec<usize> = head
        .char_indices()
        .filter(|&(i, c)| {
            !c.is_whitespace() && (i == 0 || head[..i].ends_with(char::is_whitespace))
        })
        .map(|(i, _)| i)
        .collect();
    let last_four = word_starts.iter().rev().take(4);
    last_four
        .clone()
        .find(|&&at| head[at..].starts_with(char::is_uppercase))
        .or_else(|| word_starts.last())
        .copied()
        .unwrap_or(colon)
}

/// The lowest and the highest of the amounts added: what `reduce(f64::min)` and
/// `reduce(f64::max)` give over them (none is NaN: only finite amounts are added).
#[derive(Debug, Clone, Copy, Default)]
struct Range {
    min: Option<f64>,
    max: Option<f64>,
}

impl Range {
    fn add(&mut self, a: f64) {
        self.min = Some(self.min.map_or(a, |m| m.min(a)));
        self.max = Some(self.max.map_or(a, |m| m.max(a)));
    }
}

/// The amount and currency of one [`MONEY`] match. Either a symbol or code comes first and the
/// amount (the first digit on) last, or the amount comes first and a code or word (letters)
/// last: the parts never overlap, so they are read off the match without capture groups.
fn money_parts(m: &str) -> (&str, Option<&'static str>) {
    let code_of = |c: &str| match c.to_ascii_uppercase().as_str() {
        "CAD" => "CAD",
        "EUR" => "EUR",
        "GBP" => "GBP",
        "AUD" => "AUD",
        "NZD" => "NZD",
        _ => "USD",
    };
    if m.starts_with(|c: char| c.is_ascii_digit()) {
        let amount_end = m
            .rfind(|c: char| c.is_ascii_digit())
            .map_or(m.len(), |i| i + 1);
        let tail = m[amount_end..].trim_start();
        let code = if tail.len() == 3 && tail.bytes().all(|b| b.is_ascii_alphabetic()) {
            code_of(tail)
        } else {
            let w = tail.to_ascii_lowercase();
            if w.starts_with("euro") {
                "EUR"
            } else if w.starts_with("pound") {
                "GBP"
            } else {
                "USD"
            }
        };
        return (&m[..amount_end], Some(code));
    }
    let amount_start = m.find(|c: char| c.is_ascii_digit()).unwrap_or(m.len());
    let amount_end = m
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(m.len(), |i| i + 1);
    let lead = m[..amount_start].trim_end();
    // A code after the amount ("$25 CAD") says which dollar.
    let tail = m[amount_end..].trim_start();
    let code = match lead {
        _ if tail.len() == 3 => code_of(tail),
        "€" => "EUR",
        "£" => "GBP",
        "¥" => "JPY",
        "$" => "USD",
        l if l.len() > 1 && l.ends_with('$') => {
            match l[..l.len() - 1].to_ascii_uppercase().as_str() {
                "CA" | "C" => "CAD",
                "NZ" => "NZD",
                _ => "USD",
            }
        }
        c => code_of(c),
    };
    (&m[amount_start..amount_end.max(amount_start)], Some(code))
}

/// Whether folded `text` holds one of [`FREE_WORDS`] (but "0") as whole words: one walk over
/// the word starts, where a first-byte check rules out nearly every word, instead of one
/// substring search per phrase.
fn says_free(text: &str) -> bool {
    let mut at = 0;
    loop {
        let rest = &text[at..];
        let first = rest.as_bytes().first();
        if FREE_WORDS.iter().any(|w| {
            *w != "0"
                && w.as_bytes().first() == first
                && rest.starts_with(w)
                && rest.as_bytes().get(w.len()).is_none_or(|b| *b == b' ')
        }) {
            return true;
        }
        match rest.find(' ') {
            Some(space) => at += space + 1,
            None => return false,
        }
    }
}

#[cfg(test)]
/// Whether the folded `phrase` occurs in the folded `text` on word boundaries: the same as
/// searching `" {phrase} "` in `" {text} "`, without building either string.
fn contains_words(text: &str, phrase: &str) -> bool {
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(phrase)) {
        let at = from + found;
        let end = at + phrase.len();
        if (at == 0 || text[..at].ends_with(' '))
            && (end == text.len() || text[end..].starts_with(' '))
        {
            return true;
        }
        // Try the next start; `phrase` is ASCII, so `at + 1` is a char boundary or past one.
        from = at + 1;
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Combines schema.org offers (each possibly "Free" or a number) into one cost.
pub fn cost_from_offers(offers: &[OfferInput]) -> Cost {
    let mut amounts = Range::default();
    let mut currency = None;
    let mut says_free = false;
    let mut texts = Vec::new();
    for offer in offers {
        let price = offer.price.as_deref().map(str::trim).unwrap_or_default();
        if let Some(name) = offer.name.as_deref() {
            texts.push(name.to_string());
        }
        if price.is_empty() {
            continue;
        }
        let cleaned: String = price
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        match cleaned.parse::<f64>() {
            Ok(a) if a.is_finite() && a >= 0.0 && cleaned.len() == price.len() => {
                amounts.add(a);
                if currency.is_none() {
                    currency = offer
                        .currency
                        .as_deref()
                        .map(str::trim)
                        .filter(|c| c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()))
                        .map(str::to_ascii_uppercase);
                }
            }
            _ => {
                let c = parse_cost_text(price);
                if c.free == Some(true) {
                    says_free = true;
                } else {
                    if let Some(min) = c.min_amount {
                        amounts.add(min);
                    }
                    if let Some(max) = c.max_amount {
                        amounts.add(max);
                    }
                    if currency.is_none() {
                        currency = c.currency;
                    }
                }
            }
        }
    }
    let text = (!texts.is_empty()).then(|| texts.join("; "));
    build(amounts, currency, says_free, text)
}

fn build(amounts: Range, currency: Option<String>, says_free: bool, text: Option<String>) -> Cost {
    let Range { min, max } = amounts;
    let free = match (says_free, max) {
        (_, Some(max)) if max > 0.0 => Some(false),
        (true, _) | (false, Some(_)) => Some(true),
        (false, None) => None,
    };
    // Free for some ("free for members, $40 others") means the cheapest way in costs nothing.
    let min = if free == Some(true) || (says_free && max.is_some_and(|m| m > 0.0)) {
        Some(0.0)
    } else {
        min
    };
    let max = if free == Some(true) { Some(0.0) } else { max };
    Cost {
        free,
        min_amount: min,
        max_amount: max,
        currency: if free == Some(true) { None } else { currency },
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn says_free_equals_one_search_per_phrase(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "free", "freedom", "no", "cost", "charge", "fee", "fees", "of", "gratis",
                    "complimentary", "admission", "registration", "0", "x", "nocost", "",
                ]),
                0..12,
            ),
        ) {
            // Folded text: words joined by single spaces (an empty word makes a double space,
            // which folding never does but the check must not care).
            let text = words.join(" ");
            let want = FREE_WORDS
                .iter()
                .filter(|w| **w != "0")
                .any(|w| contains_words(&text, w));
            proptest::prop_assert_eq!(says_free(&text), want, "{:?}", text);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_range_is_what_reducing_the_amounts_gives(
            amounts in proptest::collection::vec(
                proptest::prop_oneof![0.0f64..1e6, proptest::sample::select(vec![0.0, -0.0, 25.0])],
                0..6,
            ),
        ) {
            let mut range = Range::default();
            for a in &amounts {
                range.add(*a);
            }
            let min = amounts.iter().copied().reduce(f64::min);
            let max = amounts.iter().copied().reduce(f64::max);
            proptest::prop_assert_eq!(range.min.map(f64::to_bits), min.map(f64::to_bits));
            proptest::prop_assert_eq!(range.max.map(f64::to_bits), max.map(f64::to_bits));
        }
    }

    #[test]
    fn money_parts_agree_with_the_pattern_groups() {
        let texts = [
            "$25 members / $50 non-members",
            "USD 1,250.00 or 30 euros, £5, € 7.5, ¥100, 12 CAD, 40 dollars, 3 pounds",
            "usd25 and 9 nzd and 1,000USD",
            "cad 1,00 and 7.25 Euro",
        ];
        for text in texts {
            for cap in MONEY.captures_iter(text) {
                let whole = cap.get(0).map_or("", |m| m.as_str());
                let amount = cap
                    .name("a1")
                    .or_else(|| cap.name("a2"))
                    .map(|m| m.as_str());
                let (got_amount, _) = money_parts(whole);
                assert_eq!(Some(got_amount), amount, "{whole}");
            }
        }
        assert_eq!(money_parts("$ 25"), ("25", Some("USD")));
        assert_eq!(money_parts("€7.5"), ("7.5", Some("EUR")));
        assert_eq!(money_parts("£5"), ("5", Some("GBP")));
        assert_eq!(money_parts("¥100"), ("100", Some("JPY")));
        assert_eq!(money_parts("CAD 10"), ("10", Some("CAD")));
        assert_eq!(money_parts("12 eur"), ("12", Some("EUR")));
        assert_eq!(money_parts("30 euros"), ("30", Some("EUR")));
        assert_eq!(money_parts("3 pounds"), ("3", Some("GBP")));
        assert_eq!(money_parts("40 dollars"), ("40", Some("USD")));
        assert_eq!(money_parts("1,000USD"), ("1,000", Some("USD")));
    }

    #[test]
    fn cost_text_table() {
        // (text, free, min, max, currency)
        type Case<'a> = (
            &'a str,
            Option<bool>,
            Option<f64>,
            Option<f64>,
            Option<&'a str>,
        );
        let cases: &[Case<'_>] = &[
            ("Free", Some(true), Some(0.0), Some(0.0), None),
            ("FREE for everyone!", Some(true), Some(0.0), Some(0.0), None),
            ("No cost to attend", Some(true), Some(0.0), Some(0.0), None),
            (
                "$25 members / $50 non-members",
                Some(false),
                Some(25.0),
                Some(50.0),
                Some("USD"),
            ),
            (
                "Free for members, $40 for non-members",
                Some(false),
                Some(0.0),
                Some(40.0),
                Some("USD"),
            ),
            (
                "Registration: 1,250.00 USD",
                Some(false),
                Some(1250.0),
                Some(1250.0),
                Some("USD"),
            ),
            ("€30", Some(false), Some(30.0), Some(30.0), Some("EUR")),
            ("Cost: $0", Some(true), Some(0.0), Some(0.0), None),
            ("Lunch included", None, None, None, None),
            ("", None, None, None, None),
        ];
        for (text, free, min, max, cur) in cases {
            let c = parse_cost_text(text);
            assert_eq!(c.free, *free, "{text}: free");
            assert_eq!(c.min_amount, *min, "{text}: min");
            assert_eq!(c.max_amount, *max, "{text}: max");
            assert_eq!(c.currency.as_deref(), *cur, "{text}: currency");
        }
    }

    #[test]
    fn description_cost_table() {
        // (cost sentences one a line, free, amount (the highest), member or lowest amount,
        // currency)
        type Case<'a> = (
            &'a str,
            Option<bool>,
            Option<f64>,
            Option<f64>,
            Option<&'a str>,
        );
        let cases: &[Case<'_>] = &[
            (
                "This free webinar, supported by a $120,000 grant from the Heritage Fund, covers imaging\nCost: Free",
                Some(true),
                Some(0.0),
                Some(0.0),
                None,
            ),
            (
                "The state's construction program offers up to $500,000 in matching funds per project this cycle\nAKT Where: Online (Zoom) Cost: Free Register now",
                Some(true),
                Some(0.0),
                Some(0.0),
                None,
            ),
            (
                "The $1.2 million program funds scanning projects of up to $25,000 at museums\nCost: Free",
                Some(true),
                Some(0.0),
                Some(0.0),
                None,
            ),
            (
                "This year $150,000 is available, with awards of up to $15,000 per library\n This webinar is free",
                Some(true),
                Some(0.0),
                Some(0.0),
                None,
            ),
            (
                "Cost: $15 CAD members / $30 CAD non-members Where: Online (Zoom)",
                Some(false),
                Some(30.0),
                Some(15.0),
                Some("CAD"),
            ),
            (
                "Price: Free for members; £20 for non-members",
                Some(false),
                Some(20.0),
                Some(0.0),
                Some("GBP"),
            ),
            (
                "Fees: IHMA members $0 / Non-members $15 Where: Hilo",
                Some(false),
                Some(15.0),
                Some(0.0),
                Some("USD"),
            ),
            (
                "Cost: $25 CAD members / $40 CAD non-members Hosted by the Council\nRegister with the host: https://example.org/r",
                Some(false),
                Some(40.0),
                Some(25.0),
                Some("CAD"),
            ),
            (
                // A labelled price wins over another amount of the text.
                "Ticket price: $12\nThe $50,000 renovation of the hall",
                Some(false),
                Some(12.0),
                Some(12.0),
                Some("USD"),
            ),
            (
                // A grant sentence that states an attendance fee keeps the fee.
                "Registration for this grant workshop is $25",
                Some(false),
                Some(25.0),
                Some(25.0),
                Some("USD"),
            ),
            (
                "Members $25, others $40; $25,000 grants available",
                Some(false),
                Some(40.0),
                Some(25.0),
                Some("USD"),
            ),
            ("Registration: required", None, None, None, None),
            ("Registration is required", None, None, None, None),
            (
                "Registration: $25 members / $50 non-members",
                Some(false),
                Some(50.0),
                Some(25.0),
                Some("USD"),
            ),
            (
                "Cost: CA$45",
                Some(false),
                Some(45.0),
                Some(45.0),
                Some("CAD"),
            ),
            (
                // A bare "$" gives way to the currency stated elsewhere.
                "Free for members; $20 for non-members\nself-paced · Free for members; C$20 for non-members",
                Some(false),
                Some(20.0),
                Some(0.0),
                Some("CAD"),
            ),
            ("Cost: $5", Some(false), Some(5.0), Some(5.0), Some("USD")),
        ];
        for (text, free, max, min, cur) in cases {
            let c = parse_cost_in_description(text);
            assert_eq!(c.free, *free, "{text}: free");
            assert_eq!(c.max_amount, *max, "{text}: max");
            assert_eq!(c.min_amount, *min, "{text}: min");
            assert_eq!(c.currency.as_deref(), *cur, "{text}: currency");
        }
    }

    #[test]
    fn price_labels_end_at_the_next_label() {
        assert_eq!(
            price_label_values(
                "When: 10:30 a.m. Cost: $15 SMA members / $25 non-members Register with the host: https://x.example/r"
            ),
            ["$15 SMA members / $25 non-members"]
        );
        assert_eq!(
            price_label_values("Cost: Free Continuing education: 1.5 CEUs"),
            ["Free"]
        );
        assert_eq!(price_label_values("Cost:"), Vec::<&str>::new());
        assert_eq!(price_label_values("Lowcost: $5"), Vec::<&str>::new());
    }

    #[test]
    fn offers_combine_into_a_range() {
        let offers = vec![
            OfferInput {
                price: Some("25.00".into()),
                currency: Some("usd".into()),
                name: Some("Members".into()),
            },
            OfferInput {
                price: Some("50".into()),
                currency: Some("USD".into()),
                name: Some("Non-members".into()),
            },
        ];
        let c = cost_from_offers(&offers);
        assert_eq!(
            (c.free, c.min_amount, c.max_amount),
            (Some(false), Some(25.0), Some(50.0))
        );
        assert_eq!(c.currency.as_deref(), Some("USD"));
        let free = cost_from_offers(&[OfferInput {
            price: Some("0".into()),
            ..Default::default()
        }]);
        assert_eq!(free.free, Some(true));
        let word = cost_from_offers(&[OfferInput {
            price: Some("Free".into()),
            ..Default::default()
        }]);
        assert_eq!(word.free, Some(true));
        assert_eq!(cost_from_offers(&[]).free, None);
    }
}
