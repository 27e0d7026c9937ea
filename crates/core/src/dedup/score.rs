//! Pair scoring: which signals two fingerprints share, and whether that makes them one offering.

use serde::{Deserialize, Serialize};

use super::DedupConfig;
use super::fingerprint::{Fingerprint, TitleKey, When};

/// One piece of evidence that two records are the same offering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "signal")]
pub enum Signal {
    /// Both first sessions start at the same instant, within the tolerance.
    StartInstant { delta_seconds: i64 },
    /// Both are date-only sessions on the same local day.
    SameDay,
    /// Normalized title similarity in [0, 1].
    Title { similarity: f32 },
    /// The same registration page once tracking parameters are stripped.
    RegistrationUrl { url: String },
    /// Another specific link in common (one's page is the other's registration, a shared join link).
    SharedLink { url: String },
    /// Estimated Jaccard similarity of the descriptions' word 3-shingles.
    Description { similarity: f32 },
}

/// The outcome of comparing two fingerprints.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The same offering; the signals say why, `strength` orders competing links.
    Same { signals: Vec<Signal>, strength: f32 },
    /// Not known to be the same, but nothing forbids it either.
    Unrelated,
    /// Can never be in one cluster (different start, same source, clearly different title).
    Conflict,
}

/// Hard constraints that hold whatever other signals say. Used both before scoring and to guard
/// clusters against chaining (A~B and B~C must not put A with C when A and C conflict).
pub fn conflicts(a: &Fingerprint, b: &Fingerprint, cfg: &DedupConfig) -> bool {
    if !time_compatible(a.when, b.when, cfg) || places_differ(a, b) {
        return true;
    }
    let title = title_similarity(&a.title, &b.title);
    if a.source_id == b.source_id && !is_repost(a, b, title, cfg) {
        return true;
    }
    title < cfg.conflict_title_below
}

/// Two items of one source are one offering only when one re-announces the other: the very
/// same start, the same registration page and the same title once labels ("REMINDER:") and
/// calls to action ("— register by April 5") are dropped. Anything less within one source is
/// two sessions, runs or venues the publisher listed on purpose.
fn is_repost(a: &Fingerprint, b: &Fingerprint, title: f32, cfg: &DedupConfig) -> bool {
    let same_when = match (a.when, b.when) {
        (When::Instant(x), When::Instant(y)) => x == y,
        (When::Day(x), When::Day(y)) => x == y,
        _ => false,
    };
    same_when
        && a.registration_url.is_some()
        && a.registration_url == b.registration_url
        && title >= cfg.title_accept
}

/// Both copies name a town and the towns differ: the same clinic in Halifax and in Saint John.
fn places_differ(a: &Fingerprint, b: &Fingerprint) -> bool {
    match (&a.locality, &b.locality) {
        (Some(x), Some(y)) => !(x.contains(y.as_str()) || y.contains(x.as_str())),
        _ => false,
    }
}

fn time_compatible(a: When, b: When, cfg: &DedupConfig) -> bool {
    match (a, b) {
        (When::Instant(x), When::Instant(y)) => (x - y).abs() <= cfg.start_tolerance_secs,
        (When::Day(x), When::Day(y)) => x == y,
        (When::Undated, When::Undated) => true,
        // A dated copy and an undated one could be the same webinar announced without its date,
        // but also any date of a series; the undated copy would chain every date together, so
        // they are kept apart (precision over recall).
        _ => false,
    }
}

/// Scores a pair. Cheap checks first: most pairs in a time block fail on time or title.
pub fn score(a: &Fingerprint, b: &Fingerprint, cfg: &DedupConfig) -> Verdict {
    if places_differ(a, b) {
        return Verdict::Conflict;
    }
    let time_signal = match (a.when, b.when) {
        (When::Instant(x), When::Instant(y)) => {
            let delta = (x - y).abs();
            if delta > cfg.start_tolerance_secs {
                return Verdict::Conflict;
            }
            Some(Signal::StartInstant {
                delta_seconds: delta,
            })
        }
        (When::Day(x), When::Day(y)) if x == y => Some(Signal::SameDay),
        (When::Undated, When::Undated) => None,
        _ => return Verdict::Conflict,
    };
    let title = title_similarity(&a.title, &b.title);
    if title < cfg.conflict_title_below
        || (a.source_id == b.source_id && !is_repost(a, b, title, cfg))
    {
        return Verdict::Conflict;
    }
    let registration = match (&a.registration_url, &b.registration_url) {
        (Some(x), Some(y)) if x == y => Some(x.clone()),
        _ => None,
    };
    let shared = if registration.is_none() {
        first_common(&a.links, &b.links)
    } else {
        None
    };
    let linked = registration.is_some() || shared.is_some();
    // Descriptions cost a sketch merge; most pairs are decided without them.
    let needs_description = if time_signal.is_some() {
        title >= cfg.title_with_description
    } else {
        title >= cfg.undated_title_with_description || linked
    };
    let description = if needs_description {
        description_similarity(&a.description, &b.description)
    } else {
        None
    };
    let desc = description.unwrap_or(0.0);

    let accept = if time_signal.is_some() {
        title >= cfg.title_accept
            || (linked && title >= cfg.title_with_link)
            || (desc >= cfg.description_accept && title >= cfg.title_with_description)
    } else {
        // Undated records have no time to agree on, so a title alone is never enough: self-paced
        // courses of different providers often share a generic title.
        (linked && title >= cfg.undated_title_with_link)
            || (desc >= cfg.description_accept && title >= cfg.undated_title_with_description)
    };
    if !accept {
        return Verdict::Unrelated;
    }
    let mut signals = Vec::with_capacity(4);
    signals.extend(time_signal);
    signals.push(Signal::Title {
        similarity: round3(title),
    });
    if let Some(url) = registration {
        signals.push(Signal::RegistrationUrl { url });
    }
    if let Some(url) = shared {
        signals.push(Signal::SharedLink { url });
    }
    if let Some(d) = description.filter(|d| *d >= cfg.description_signal) {
        signals.push(Signal::Description {
            similarity: round3(d),
        });
    }
    let strength = title + if linked { 0.5 } else { 0.0 } + 0.3 * desc;
    Verdict::Same { signals, strength }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn first_common(a: &[String], b: &[String]) -> Option<String> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return Some(a[i].clone()),
        }
    }
    None
}

/// Title similarity in [0, 1]: a blend of overlap and Dice coefficients over content words, where
/// words match exactly or as spelling variants (Jaro-Winkler >= 0.93 on words of 5+ letters:
/// "digitisation"/"digitization", "museum"/"museums"). Overlap forgives a co-marketer who drops a
/// word; Dice keeps "Introduction to X" from equalling "Introduction to X and Y and Z". When both
/// titles have a main title before a subtitle colon, matching main titles count nearly as much.
/// Different numbers ("Part 1" vs "Part 2") cap the result: they name different offerings.
pub fn title_similarity(a: &TitleKey, b: &TitleKey) -> f32 {
    if a.folded == b.folded {
        return 1.0;
    }
    let mut sim = token_similarity(&a.tokens, &b.tokens);
    if !a.main.is_empty() && !b.main.is_empty() {
        // Both have subtitles under one main title: "Tech Summit: Databases" and "Tech Summit:
        // Imaging" are two sessions of one event, so only the subtitles tell them apart.
        if token_similarity(&a.main, &b.main) >= 0.999 {
            let sub_a = minus(&a.tokens, &a.main);
            let sub_b = minus(&b.tokens, &b.main);
            if !sub_a.is_empty() && !sub_b.is_empty() {
                sim = sim.min(token_similarity(&sub_a, &sub_b));
            }
        }
    } else {
        // A subtitle added or dropped by one copy: its main title against the other whole title.
        for (x, y) in [(&a.main, &b.tokens), (&a.tokens, &b.main)] {
            if x.len() >= 2 && y.len() >= 2 && token_similarity(x, y) >= 0.999 {
                sim = sim.max(0.92);
            }
        }
    }
    if !a.numbers.is_empty() && !b.numbers.is_empty() && a.numbers != b.numbers {
        sim = sim.min(0.5);
    }
    sim
}

fn minus(all: &[String], part: &[String]) -> Vec<String> {
    all.iter().filter(|t| !part.contains(t)).cloned().collect()
}

fn token_similarity(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let exact = count_common(a, b);
    let (na, nb) = (a.len() as f32, b.len() as f32);
    let blend = |m: f32| 0.5 * (m / na.min(nb)) + 0.5 * (2.0 * m / (na + nb));
    let (ra, rb) = (a.len() - exact, b.len() - exact);
    // Soft matching costs a Jaro-Winkler per word pair; skip it when even a perfect soft match
    // could not make the pair similar enough to matter. This runs for every pair in a crowded
    // time block, so it stays allocation-free until then.
    if ra == 0 || rb == 0 || blend((exact + ra.min(rb)) as f32) < 0.4 {
        return blend(exact as f32);
    }
    let rest_b: Vec<&String> = b.iter().filter(|y| a.binary_search(y).is_err()).collect();
    let mut used = vec![false; rest_b.len()];
    let mut soft = 0usize;
    for x in a
        .iter()
        .filter(|x| x.len() >= 5 && b.binary_search(x).is_err())
    {
        let best = rest_b
            .iter()
            .enumerate()
            // Spelling variants share their start; checking it first avoids most Jaro-Winkler
            // calls between unrelated words.
            .filter(|(k, y)| !used[*k] && y.len() >= 5 && y.as_bytes()[..3] == x.as_bytes()[..3])
            .map(|(k, y)| (k, strsim::jaro_winkler(x, y)))
            .filter(|(_, s)| *s >= 0.93)
            .max_by(|p, q| p.1.total_cmp(&q.1));
        if let Some((k, _)) = best {
            used[k] = true;
            soft += 1;
        }
    }
    blend((exact + soft) as f32)
}

fn count_common(a: &[String], b: &[String]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Estimated Jaccard of two bottom-k sketches; `None` when either side has no usable text.
pub fn description_similarity(a: &[u64], b: &[u64]) -> Option<f32> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let k = a.len().max(b.len());
    let (mut i, mut j, mut taken, mut both) = (0, 0, 0usize, 0usize);
    while taken < k && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), Some(_)) => j += 1,
            (Some(_), None) => i += 1,
            (None, _) => j += 1,
        }
        taken += 1;
    }
    Some(both as f32 / taken.max(1) as f32)
}

#[cfg(test)]
mod tests {
    use super::super::fingerprint::title_key;
    use super::*;

    fn sim(a: &str, b: &str) -> f32 {
        title_similarity(&title_key(a), &title_key(b))
    }

    #[test]
    fn title_variants_of_one_webinar_are_similar() {
        assert!(sim("Webinar: Caring for Photographs", "Caring for photographs") > 0.99);
        assert!(
            sim(
                "Caring for Photographs",
                "Caring for Photographs: Identification, Handling and Storage"
            ) >= 0.9
        );
        assert!(
            sim(
                "Digitisation on a Shoestring",
                "Digitization on a shoestring"
            ) >= 0.9
        );
    }

    #[test]
    fn different_courses_with_shared_words_are_not_similar() {
        assert!(
            sim(
                "Introduction to Archival Description",
                "Introduction to Archival Appraisal"
            ) < 0.8
        );
        assert!(sim("Metadata Basics Part 1", "Metadata Basics Part 2") <= 0.5);
    }

    #[test]
    fn description_sketches_estimate_overlap() {
        assert_eq!(description_similarity(&[1, 2, 3], &[1, 2, 3]), Some(1.0));
        assert_eq!(description_similarity(&[1, 2], &[3, 4]), Some(0.0));
        assert_eq!(description_similarity(&[], &[3, 4]), None);
    }
}
