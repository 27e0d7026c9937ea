//! The compact projection of an offering that dedup works on.
//!
//! Computing it folds text and hashes shingles once per offering, so scoring a pair is a few
//! comparisons of small sorted vectors. It is plain serde data: a store may persist it beside the
//! offering and rebuild the [`super::DedupIndex`] at start without re-reading descriptions.

use serde::{Deserialize, Serialize};

use crate::model::{Offering, Status};
use crate::normalize::{canonical_url, fold_for_match};

/// What the caller knows about one stored offering. `provider_domains` are the hosts the provider
/// is known to publish from (its sources' hosts, its registered site); they let dedup tell the
/// originator of a co-marketed offering. An empty slice is fine.
#[derive(Debug, Clone, Copy)]
pub struct DedupItem<'a> {
    pub id: &'a str,
    pub source_id: &'a str,
    pub provider: &'a str,
    pub provider_domains: &'a [String],
    pub offering: &'a Offering,
}

/// When an offering happens, reduced to what two copies of it must agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum When {
    /// No dated session (self-paced, on-demand, or a feed item without event dates).
    Undated,
    /// The first session's start as a UTC instant (unix seconds): zones are already resolved, so
    /// "2 pm Eastern" and "11 am Pacific" compare equal.
    Instant(i64),
    /// A date-only first session, as days since 1970-01-01 of its *local* date: an all-day event
    /// is the same day for everyone whatever zone wrote it.
    Day(i32),
}

/// The projection of one offering used for blocking and scoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub id: String,
    pub source_id: String,
    pub provider: String,
    /// Lowercase hosts without `www.`.
    pub provider_domains: Vec<String>,
    pub when: When,
    pub title: TitleKey,
    /// Canonical registration URL (tracking parameters stripped).
    pub registration_url: Option<String>,
    /// Canonical page, registration and join URLs that point at something specific (a site's
    /// home page says nothing about which offering it is, so bare hosts are left out). Sorted.
    pub links: Vec<String>,
    /// Host of the offering's own page, used to tell the originator when domains are unknown.
    pub page_host: Option<String>,
    /// Bottom-k sketch of the description's word 3-shingles (sorted hashes); empty when the text
    /// is too short to say anything.
    pub description: Vec<u64>,
    /// How complete the record is; see [`richness`].
    pub richness: u32,
    pub cancelled: bool,
    /// The folded town of an in-person or hybrid copy: two copies in different towns are two
    /// offerings whatever their titles say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// When the store first saw the record (unix seconds; 0 when unknown; the caller sets it,
    /// since an offering does not carry it). The canonical member of a new cluster is, failing
    /// an originator, the first seen.
    #[serde(default)]
    pub first_seen: i64,
}

/// A title reduced to what distinguishes one offering from another.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TitleKey {
    /// Folded title after removing label prefixes ("Webinar:", "SAA Workshop -").
    pub folded: String,
    /// Content words (stop words and label words removed), sorted and unique.
    pub tokens: Vec<String>,
    /// Content words of the part before a subtitle colon, sorted and unique; empty when the
    /// title has no subtitle.
    pub main: Vec<String>,
    /// Numbers in the title ("Part 2", "2026"), sorted: differing numbers mean different offerings.
    pub numbers: Vec<String>,
}

/// Shingle sketch size: 64 hashes estimate Jaccard within about +-0.06, plenty to tell an edited
/// copy (> 0.5) from an unrelated text (< 0.1).
const SKETCH: usize = 64;
/// Fewer words than this cannot be told apart from boilerplate.
const MIN_DESCRIPTION_WORDS: usize = 8;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "how", "in", "into", "is", "it",
    "its", "of", "on", "or", "our", "the", "their", "this", "to", "what", "why", "with", "you",
    "your",
];

/// Words providers add around a title to say what kind of thing it is; co-marketers add or
/// drop them freely, so they never count as a difference.
const LABEL_WORDS: &[&str] = &[
    "webinar",
    "webinars",
    "workshop",
    "workshops",
    "online",
    "virtual",
    "live",
    "free",
    "course",
    "class",
    "training",
    "session",
    "event",
    "encore",
    "new",
    "register",
    "registration",
    "now",
    "open",
    "zoom",
    "ce",
    "pd",
    "presents",
    "hosted",
    "partner",
    "co",
    "sponsored",
    "webcast",
    "livestream",
    "self",
    "paced",
    "demand",
    "recorded",
    "recording",
];

impl Fingerprint {
    /// Projects an offering. Pure and deterministic: the same input always gives the same value.
    pub fn from_item(item: &DedupItem<'_>) -> Fingerprint {
        let o = item.offering;
        let registration_url = o.registration_url.as_deref().and_then(canonical_url);
        let page = o.url.as_deref().and_then(canonical_url);
        let mut links: Vec<String> = [
            page.clone(),
            registration_url.clone(),
            o.online_url.as_deref().and_then(canonical_url),
        ]
        .into_iter()
        .flatten()
        .filter(|u| is_specific(u))
        .collect();
        links.sort();
        links.dedup();
        let text = o
            .description_html
            .as_deref()
            .map(strip_tags)
            .or_else(|| o.summary.clone())
            .unwrap_or_default();
        Fingerprint {
            id: item.id.to_string(),
            source_id: item.source_id.to_string(),
            provider: item.provider.to_string(),
            provider_domains: item
                .provider_domains
                .iter()
                .map(|d| bare_host(d))
                .filter(|d| !d.is_empty())
                .collect(),
            when: when_of(o),
            title: title_key(&o.title),
            registration_url,
            links,
            page_host: o
                .url
                .as_deref()
                .and_then(canonical_url)
                .map(|u| host_of(&u)),
            description: sketch(&text),
            richness: richness(o),
            cancelled: o.status == Status::Cancelled,
            locality: o
                .location
                .as_ref()
                .and_then(|l| l.locality.as_deref())
                .map(fold_for_match)
                .filter(|l| !l.is_empty()),
            first_seen: 0,
        }
    }
}

fn when_of(o: &Offering) -> When {
    // A cancelled single session is not when the offering happens; fall back to all sessions only
    // when every one is cancelled, so a fully cancelled copy still meets its live twins.
    let first = o
        .occurrences
        .iter()
        .filter(|x| !x.cancelled)
        .min_by_key(|x| x.start)
        .or_else(|| o.occurrences.iter().min_by_key(|x| x.start));
    match first {
        None => When::Undated,
        Some(occ) if occ.all_day => {
            let days = occ.start.date_naive().signed_duration_since(epoch_day());
            When::Day(i32::try_from(days.num_days()).unwrap_or(i32::MAX))
        }
        Some(occ) => When::Instant(occ.start.timestamp()),
    }
}

fn epoch_day() -> chrono::NaiveDate {
    chrono::NaiveDate::default()
}

/// Normalizes a title for matching. Public so the store can show what was compared.
pub fn title_key(raw: &str) -> TitleKey {
    let stripped = strip_labels(raw);
    let folded = fold_for_match(stripped);
    // The subtitle follows a colon, or a dash when there is no colon ("Conference 2027 —
    // Tides of Memory" is the same title as "Conference 2027: Tides of Memory").
    let split = stripped
        .find(':')
        .map(|i| (i, 1))
        .or_else(|| {
            DASHES[..3]
                .iter()
                .filter_map(|sep| stripped.find(sep).map(|i| (i, sep.len())))
                .min_by_key(|(i, _)| *i)
        })
        .filter(|(i, _)| *i > 0);
    let (main_raw, has_subtitle) = match split {
        Some((i, _)) => (&stripped[..i], true),
        None => (stripped, false),
    };
    let tokens = content_tokens(&folded);
    let main = if has_subtitle {
        content_tokens(&fold_for_match(main_raw))
    } else {
        Vec::new()
    };
    let mut numbers: Vec<String> = folded
        .split(' ')
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| w.trim_start_matches('0').to_string())
        .collect();
    numbers.sort();
    numbers.dedup();
    TitleKey {
        folded,
        tokens,
        main,
        numbers,
    }
}

fn content_tokens(folded: &str) -> Vec<String> {
    let mut out: Vec<String> = folded
        .split(' ')
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w) && !LABEL_WORDS.contains(w))
        .map(str::to_string)
        .collect();
    if out.is_empty() {
        // A title made only of labels ("Webinar") still has to compare with something.
        out = folded
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
    }
    out.sort();
    out.dedup();
    out
}

/// Words that announce a copy rather than name the offering ("REMINDER:", "Save the date:",
/// "Last chance -"). Only whole leading or trailing segments made of them are dropped; inside a
/// title they stay content words.
const ANNOUNCE_WORDS: &[&str] = &[
    "reminder",
    "reminders",
    "save",
    "date",
    "last",
    "chance",
    "final",
    "upcoming",
    "coming",
    "soon",
    "announcing",
    "announcement",
    "featured",
    "spotlight",
    "members",
    "member",
    "only",
    "series",
    "program",
    "programme",
    "updated",
    "update",
    "again",
];

/// Words that make a trailing segment an organization's name ("(Northern Lights Library
/// Network)", "| Museum Makers Alliance"): a co-marketer crediting the host.
const ORG_WORDS: &[&str] = &[
    "library",
    "libraries",
    "network",
    "museum",
    "museums",
    "archive",
    "archives",
    "society",
    "association",
    "alliance",
    "council",
    "institute",
    "cooperative",
    "collaborative",
    "consortium",
    "college",
    "university",
    "school",
    "center",
    "centre",
    "foundation",
    "trust",
    "commission",
    "federation",
    "guild",
    "league",
];

/// First words of a trailing call to action ("— register by April 5", "| Book now").
const ACTION_WORDS: &[&str] = &[
    "register",
    "registration",
    "rsvp",
    "book",
    "booking",
    "sign",
    "deadline",
    "seats",
    "spots",
    "space",
    "places",
    "tickets",
    "apply",
];

/// Separators between a title and a label, a credit or a subtitle.
const DASHES: [&str; 4] = [" - ", " – ", " — ", " | "];

/// Drops leading label segments ("Webinar:", "IHMA Webinar:", "REMINDER:", "[Online]") and
/// trailing ones: labels ("(Webinar)", "| Free Webinar"), credits to the host ("(CIIP)",
/// "– CIIP", "(MAC, Canada)", "(Northern Lights Library Network)") and calls to action
/// ("— register by April 5"). Each segment must be made only of such words, so "Digital
/// Preservation Workshop: Tools" keeps its main title.
fn strip_labels(raw: &str) -> &str {
    let mut s = raw.trim();
    // Leading bracketed label: "[Webinar] ...", "(Online) ...".
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(rest) = s.strip_prefix(open)
            && let Some(end) = rest.find(close)
            && is_label_segment(&rest[..end])
        {
            s = rest[end + close.len_utf8()..].trim_start_matches([' ', ':', '-', '|']);
        }
    }
    // Leading labels may stack ("REMINDER: Webinar: ...").
    for _ in 0..3 {
        let cut = [":"]
            .iter()
            .chain(DASHES.iter())
            .filter_map(|sep| s.find(sep).map(|i| (i, sep.len())))
            .min_by_key(|(i, _)| *i);
        match cut {
            Some((i, len)) if is_label_segment(&s[..i]) && !s[i + len..].trim().is_empty() => {
                s = s[i + len..].trim();
            }
            _ => break,
        }
    }
    for _ in 0..3 {
        let before = s;
        let cut = DASHES
            .iter()
            .filter_map(|sep| s.rfind(sep).map(|i| (i, sep.len())))
            .max_by_key(|(i, _)| *i);
        if let Some((i, len)) = cut {
            let (head, tail) = (&s[..i], &s[i + len..]);
            if !head.trim().is_empty()
                && (is_label_segment(tail) || is_credit(tail) || is_call_to_action(tail))
            {
                s = head.trim();
            }
        }
        if let Some(i) = s.rfind('(')
            && s.ends_with(')')
            && i > 0
        {
            let inner = &s[i + 1..s.len() - 1];
            if is_label_segment(inner) || is_credit(inner) {
                s = s[..i].trim();
            }
        }
        if s == before {
            break;
        }
    }
    s
}

/// 2–6 capitals or digits with at least two capitals: "SAA", "IHMA", "CIIP".
fn is_acronym(word: &str) -> bool {
    let caps = word.chars().filter(char::is_ascii_uppercase).count();
    (2..=6).contains(&word.len())
        && caps >= 2
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A segment of at most five words, each a label, announcement or stop word or an acronym,
/// with at least one label or announcement word, or a bare acronym ("SAA").
fn is_label_segment(seg: &str) -> bool {
    let words: Vec<&str> = seg.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 {
        return false;
    }
    if words.len() == 1 && is_acronym(words[0]) {
        return true;
    }
    let mut labelled = false;
    for w in &words {
        if is_acronym(w) {
            continue;
        }
        let folded = fold_for_match(w);
        for part in folded.split(' ').filter(|p| !p.is_empty()) {
            if LABEL_WORDS.contains(&part) || ANNOUNCE_WORDS.contains(&part) {
                labelled = true;
            } else if !STOP_WORDS.contains(&part) {
                return false;
            }
        }
    }
    labelled
}

/// A credit to the host: an acronym or an organization's capitalized name, optionally followed
/// by places ("MAC, Canada").
fn is_credit(seg: &str) -> bool {
    let mut parts = seg.split([',', '/']).map(str::trim);
    let Some(first) = parts.next() else {
        return false;
    };
    let words: Vec<&str> = first.split_whitespace().collect();
    let head_ok = match words.as_slice() {
        [] => false,
        [one] => is_acronym(one),
        many => {
            many.len() <= 7
                && many.iter().all(|w| {
                    w.chars().next().is_some_and(char::is_uppercase)
                        || ["of", "and", "&", "the", "for", "de", "del", "la"].contains(w)
                })
                && many
                    .iter()
                    .any(|w| ORG_WORDS.contains(&fold_for_match(w).as_str()))
        }
    };
    head_ok
        && parts.all(|p| {
            let ws: Vec<&str> = p.split_whitespace().collect();
            !ws.is_empty()
                && ws.len() <= 3
                && ws
                    .iter()
                    .all(|w| w.chars().next().is_some_and(char::is_uppercase))
        })
}

/// "register by April 5", "Book now", "seats limited".
fn is_call_to_action(seg: &str) -> bool {
    let folded = fold_for_match(seg);
    let mut words = folded.split(' ').filter(|w| !w.is_empty());
    words.next().is_some_and(|w| ACTION_WORDS.contains(&w)) && seg.split_whitespace().count() <= 6
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Bottom-k MinHash-style sketch of word 3-shingles. FNV-1a is used (not std's hasher) because
/// sketches may be persisted and must not change with the Rust version.
fn sketch(text: &str) -> Vec<u64> {
    let folded = fold_for_match(text);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() < MIN_DESCRIPTION_WORDS {
        return Vec::new();
    }
    let mut hashes: Vec<u64> = words
        .windows(3)
        .map(|w| {
            let mut h = Fnv::new();
            for (i, word) in w.iter().enumerate() {
                if i > 0 {
                    h.write(b" ");
                }
                h.write(word.as_bytes());
            }
            h.finish()
        })
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes.truncate(SKETCH);
    hashes
}

pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    pub(crate) fn finish(&self) -> u64 {
        // A final avalanche so bottom-k picks an unbiased sample of shingles.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

pub(crate) fn fnv(s: &str) -> u64 {
    let mut h = Fnv::new();
    h.write(s.as_bytes());
    h.finish()
}

/// How complete a record is, used to pick the canonical member when the originator cannot be
/// told: the record a learner would rather read. Description length counts up to 4 points (one
/// per 250 characters), registration link 2, and one each for summary, page URL, known cost,
/// credits, location, topics, sectors, time zone, session end, image, organizer and audience.
pub fn richness(o: &Offering) -> u32 {
    let desc_len = o
        .description_html
        .as_deref()
        .map(|d| strip_tags(d).trim().chars().count())
        .unwrap_or(0);
    richness_with(o, desc_len)
}

fn richness_with(o: &Offering, desc_len: usize) -> u32 {
    let desc_points = u32::try_from((desc_len / 250).min(4)).unwrap_or(4);
    let flags = [
        o.summary.is_some(),
        o.url.is_some(),
        o.cost.is_known(),
        !o.credits.is_empty(),
        o.location.as_ref().is_some_and(|l| !l.is_empty()),
        !o.topics.is_empty(),
        !o.sectors.is_empty(),
        o.timezone.is_some(),
        o.occurrences.first().is_some_and(|x| x.end.is_some()),
        o.image_url.is_some(),
        o.organizer.is_some(),
        o.audience_level.is_some(),
    ];
    let flag_points = u32::try_from(flags.iter().filter(|f| **f).count()).unwrap_or(0);
    desc_points + flag_points + if o.registration_url.is_some() { 2 } else { 0 }
}

/// `https://host/path` → `host` (canonical URLs are already lowercase and without `www.`).
pub(crate) fn host_of(canonical: &str) -> String {
    let rest = canonical
        .strip_prefix("https://")
        .or_else(|| canonical.strip_prefix("http://"))
        .unwrap_or(canonical);
    let end = rest.find(['/', '?', ':']).unwrap_or(rest.len());
    rest[..end].to_string()
}

fn bare_host(d: &str) -> String {
    let d = d.trim().to_ascii_lowercase();
    let d = canonical_url(&d)
        .map(|u| host_of(&u))
        .unwrap_or_else(|| d.trim_end_matches('/').to_string());
    d.strip_prefix("www.").map(str::to_string).unwrap_or(d)
}

/// A canonical URL with a path or query: a bare host is every offering's link at once.
fn is_specific(canonical: &str) -> bool {
    let host = host_of(canonical);
    canonical.len() > "https://".len() + host.len() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_prefixes_and_suffixes_are_removed_from_titles() {
        for (raw, want) in [
            ("Webinar: Caring for Photographs", "caring for photographs"),
            (
                "SAA Webinar - Caring for Photographs",
                "caring for photographs",
            ),
            ("[Online] Caring for Photographs", "caring for photographs"),
            (
                "Caring for Photographs | Free Webinar",
                "caring for photographs",
            ),
            ("Caring for Photographs (Webinar)", "caring for photographs"),
            ("Archives: A Primer", "archives a primer"),
            // Issue 16: the prefixes, credits and calls to action co-marketers add.
            (
                "IHMA Webinar: Community Co-Curation",
                "community co curation",
            ),
            ("REMINDER: STEM in Storytime", "stem in storytime"),
            (
                "STEM in Storytime — register by April 5",
                "stem in storytime",
            ),
            (
                "Hurricane Readiness for Museums – CIIP Webinar",
                "hurricane readiness for museums",
            ),
            ("Volunteer Docents — IHMA", "volunteer docents"),
            ("Hurricane Readiness (CIIP)", "hurricane readiness"),
            ("Exam Preparation (MAC, Canada)", "exam preparation"),
            (
                "STEM in Storytime (Northern Lights Library Network)",
                "stem in storytime",
            ),
        ] {
            assert_eq!(title_key(raw).folded, want, "{raw}");
        }
    }

    #[test]
    fn a_main_title_with_a_label_word_is_kept() {
        // "Workshop" is a label word, but "Digital Preservation Workshop" names the offering.
        for (raw, want) in [
            (
                "Digital Preservation Workshop: Tools",
                "digital preservation workshop tools",
            ),
            (
                "Community Co-curation: Sharing Authority",
                "community co curation sharing authority",
            ),
            ("Budgets (Beginners)", "budgets beginners"),
            ("Metadata — Part 2", "metadata part 2"),
        ] {
            assert_eq!(title_key(raw).folded, want, "{raw}");
        }
    }

    #[test]
    fn a_dash_subtitle_is_a_subtitle() {
        let colon = title_key("Annual Conference 2027: Tides of Memory");
        let dash = title_key("Annual Conference 2027 — Tides of Memory");
        assert_eq!(colon.main, dash.main);
        assert_eq!(colon.tokens, dash.tokens);
    }

    #[test]
    fn title_numbers_are_kept_apart_from_words() {
        let k = title_key("Metadata Basics, Part 02 (2026)");
        assert_eq!(k.numbers, vec!["2".to_string(), "2026".to_string()]);
        assert!(k.tokens.contains(&"metadata".to_string()));
        assert!(!k.tokens.contains(&"for".to_string()));
    }

    #[test]
    fn bare_hosts_are_not_specific_links() {
        assert!(!is_specific("https://example.org"));
        assert!(is_specific("https://example.org/e/1"));
        assert_eq!(host_of("https://example.org:8080/x"), "example.org");
    }
}
