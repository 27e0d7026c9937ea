//! How an offering is attended: online, in person, hybrid, or self-paced.

use std::sync::LazyLock;

use crate::model::{Location, Modality};
use crate::normalize::text::{fold_for_match, fold_into};
use crate::phrases::Phrases;

/// Everything the modality rule looks at.
#[derive(Debug, Default, Clone, Copy)]
pub struct ModalityInput<'a> {
    /// What the source declared (schema.org `eventAttendanceMode`), trusted first.
    pub declared: Option<Modality>,
    pub title: &'a str,
    /// Plain text of the description.
    pub text: &'a str,
    /// `fold_for_match` of the title and text joined by a newline, when the caller already
    /// has it (the finishing stage folds once for modality and topics); folded here otherwise.
    pub folded_title_text: Option<&'a str>,
    pub categories: &'a [String],
    pub location: Option<&'a Location>,
    /// Every URL the item carries (link, online URL, location text that is a URL, ...).
    pub urls: &'a [&'a str],
    /// The source gave a link to join online (schema.org VirtualLocation, a URL as location).
    pub has_online_url: bool,
    pub has_occurrences: bool,
    /// The modality words [`crate::Vocabulary::classify_with_signals`] found in
    /// `" {folded_title_text} "` while tagging topics, so that text is not searched twice.
    /// Only read together with `folded_title_text`.
    pub folded_signals: Option<TextSignals>,
}

const MEETING_HOSTS: &[&str] = &[
    "zoom.us",
    "zoomgov.com",
    "teams.microsoft.com",
    "teams.live.com",
    "meet.google.com",
    "webex.com",
    "gotomeeting.com",
    "gotowebinar.com",
    "goto.com",
    "bluejeans.com",
    "whereby.com",
    "ringcentral.com",
    "crowdcast.io",
    "hopin.com",
    "streamyard.com",
    "youtube.com/live",
    "vimeo.com/event",
    "airmeet.com",
    "bigmarker.com",
    "on24.com",
    "adobeconnect.com",
    "jitsi",
];

const ONLINE_WORDS: &[&str] = &[
    "webinar",
    "webinars",
    "online",
    "virtual",
    "virtually",
    "zoom",
    "microsoft teams",
    "google meet",
    "webex",
    "livestream",
    "live stream",
    "web conference",
    "remote",
    "webcast",
];

const SELF_PACED_WORDS: &[&str] = &[
    "self paced",
    "on demand",
    "ondemand",
    "recorded webinar",
    "webinar recording",
    "recording available",
    "asynchronous",
    "anytime",
    "at your own pace",
    "archived webinar",
    "tutorial",
    "e course",
];

const IN_PERSON_WORDS: &[&str] = &["in person", "on site", "onsite", "face to face"];

const HYBRID_WORDS: &[&str] = &["hybrid", "in person and online", "in person or online"];

/// Which of the modality word lists a folded, space-padded text mentions. One Aho-Corasick
/// pass over all lists: this runs for every item of every feed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TextSignals {
    online: bool,
    self_paced: bool,
    in_person: bool,
    hybrid: bool,
}

type Signals = TextSignals;

impl TextSignals {
    /// Records a word of list `kind` (the index [`signal_words`] gives it).
    pub(crate) fn add(&mut self, kind: u8) {
        match kind {
            0 => self.online = true,
            1 => self.self_paced = true,
            2 => self.in_person = true,
            3 => self.hybrid = true,
            _ => {}
        }
    }

    fn union(self, other: TextSignals) -> TextSignals {
        TextSignals {
            online: self.online || other.online,
            self_paced: self.self_paced || other.self_paced,
            in_person: self.in_person || other.in_person,
            hybrid: self.hybrid || other.hybrid,
        }
    }
}

/// Every modality word padded with a space each side, with the index of its list.
pub(crate) fn signal_words() -> impl Iterator<Item = (String, u8)> {
    let lists: [(&[&str], u8); 4] = [
        (ONLINE_WORDS, 0),
        (SELF_PACED_WORDS, 1),
        (IN_PERSON_WORDS, 2),
        (HYBRID_WORDS, 3),
    ];
    lists
        .into_iter()
        .flat_map(|(words, kind)| words.iter().map(move |w| (format!(" {w} "), kind)))
}

static SIGNAL_WORDS: LazyLock<(Phrases, Vec<u8>, usize)> = LazyLock::new(|| {
    let (patterns, kinds): (Vec<String>, Vec<u8>) = signal_words().unzip();
    let longest = patterns.iter().map(String::len).max().unwrap_or(0);
    #[allow(clippy::expect_used)]
    let phrases = Phrases::build(&patterns).expect("modality word lists build a matcher");
    (phrases, kinds, longest)
});

impl Signals {
    /// The signals in padded folded text, given in pieces that join to it.
    fn of(padded_folded: &[&str]) -> Signals {
        Signals::ending_after(padded_folded, 0)
    }

    /// The signals of matches that end past byte `after` of the joined pieces.
    fn ending_after(padded_folded: &[&str], after: usize) -> Signals {
        let (phrases, kinds, _) = &*SIGNAL_WORDS;
        let mut s = Signals::default();
        phrases.for_each_match_end(padded_folded, |p, end| {
            if end > after
                && let Some(kind) = kinds.get(p)
            {
                s.add(*kind);
            }
        });
        s
    }
}

/// Decides the modality. Declared attendance wins (but an undated course declared online that
/// says it is self-paced is self-paced); then explicit "hybrid"; then self-paced wording for
/// undated items; then online signals versus a physical place (structured, or a "Where:" /
/// "Location:" line of the text). "Online" in a link's wording ("register online") is not a
/// signal.
pub fn infer_modality(input: &ModalityInput<'_>) -> Option<Modality> {
    if let Some(declared) = input.declared {
        // schema.org has no self-paced mode: a self-paced course says `courseMode: online`
        // and has no dates.
        if declared == Modality::Online && !input.has_occurrences && says_self_paced(input) {
            return Some(Modality::SelfPaced);
        }
        return Some(declared);
    }
    // The haystack is " {folded title and text} {category} {category} ", searched in pieces:
    // text folded by the caller is not copied.
    // Sized once: folding never makes ASCII longer.
    let mut categories = String::with_capacity(input.categories.iter().map(|c| c.len() + 1).sum());
    for c in input.categories {
        categories.push(' ');
        fold_into(c, &mut categories);
    }
    let found = match input.folded_title_text {
        // The signals in " {folded} " are known: only matches that end past it, reaching into
        // the categories, are left to find. Such a match starts at most the longest word before
        // that end, so only the haystack from there (at a character boundary) is searched.
        Some(folded) if input.folded_signals.is_some() => {
            let known = input.folded_signals.unwrap_or_default();
            if categories.is_empty() {
                known
            } else {
                let (_, _, longest) = &*SIGNAL_WORDS;
                // " {folded} " is the haystack's first `known_end` bytes.
                let known_end = folded.len() + 2;
                match (known_end + 1).saturating_sub(*longest) {
                    0 => known.union(Signals::ending_after(
                        &[" ", folded, &categories, " "],
                        known_end,
                    )),
                    start => {
                        // Haystack byte `start` is byte `start - 1` of `folded`.
                        let mut from = start - 1;
                        while !folded.is_char_boundary(from) {
                            from -= 1;
                        }
                        known.union(Signals::ending_after(
                            &[&folded[from..], &categories, " "],
                            known_end - from - 1,
                        ))
                    }
                }
            }
        }
        Some(folded) => Signals::of(&[" ", folded, &categories, " "]),
        None => {
            let mut folded = String::with_capacity(input.title.len() + input.text.len() + 1);
            fold_into(input.title, &mut folded);
            folded.push(' ');
            fold_into(input.text, &mut folded);
            Signals::of(&[" ", &folded, &categories, " "])
        }
    };

    if found.hybrid {
        return Some(Modality::Hybrid);
    }
    let self_paced = found.self_paced;
    if self_paced && !input.has_occurrences {
        return Some(Modality::SelfPaced);
    }
    let meeting_url = input.has_online_url || input.urls.iter().any(|u| is_meeting_url(u));
    // Without a structured place, a labelled line of the text says where ("Where: Online
    // (Zoom)", "Location: Crossroads Training Center, Indianapolis").
    let text_place = match input.location {
        Some(_) => None,
        None => labelled_place(input.text),
    };
    let location_online =
        input.location.is_some_and(location_is_online) || text_place == Some(Place::Online);
    let text_physical = text_place == Some(Place::Physical);
    // "Register online" names how to sign up, not how to attend: an "online" that is only
    // ever part of such wording is no signal. Asked only when it would decide.
    let online_words = found.online
        && (meeting_url || location_online || !online_only_in_link_wording(input, &categories));
    let online = meeting_url || location_online || online_words;
    let physical =
        !location_online && (text_physical || input.location.is_some_and(location_is_physical));
    let in_person_words = found.in_person;
    match (online, physical || in_person_words) {
        // A place plus a join link or "in person" plus "online" is both at once.
        (true, true) if meeting_url || location_online || in_person_words => Some(Modality::Hybrid),
        // The text itself says where it happens: online words beside it ("online exhibits")
        // are a subject, not a way to attend.
        (true, true) if text_physical => Some(Modality::InPerson),
        // "Webinar" in text with a postal address is most often an online session organised by
        // the owner of that address; the explicit signals above decide hybrid.
        (true, _) => Some(Modality::Online),
        (false, true) => Some(Modality::InPerson),
        (false, false) if self_paced => Some(Modality::SelfPaced),
        // Hands-on sessions and tours happen somewhere: said of nothing online, in person.
        (false, false) if says_hands_on(input) => Some(Modality::InPerson),
        (false, false) => None,
    }
}

/// Where a labelled line of text says an offering happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Online,
    Physical,
}

/// Labels that introduce the place of an event in a description ("Where: ...").
const PLACE_LABELS: &[&str] = &["where", "location", "venue", "place"];

/// Values of a place label that name no place.
const NO_PLACE: &[&str] = &[
    "tbd",
    "tba",
    "to be announced",
    "to be determined",
    "n a",
    "none",
];

/// The place the first "Where:" / "Location:" / "Venue:" / "Place:" label of `text` names:
/// online when its value starts with an online word or is a meeting link, nothing when it is
/// empty or to be announced, a physical place otherwise.
fn labelled_place(text: &str) -> Option<Place> {
    let bytes = text.as_bytes();
    for colon in memchr::memchr_iter(b':', bytes) {
        // The word right before the colon, which must start the text or follow a non-letter.
        let head = &text[..colon];
        let word_start = head
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_ascii_alphabetic())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &head[word_start..];
        if !PLACE_LABELS.iter().any(|l| l.eq_ignore_ascii_case(word)) {
            continue;
        }
        let rest = text[colon + 1..].trim_start();
        let value: String = rest.chars().take(80).collect();
        let first_token = value.split_whitespace().next().unwrap_or_default();
        // A link as the place is online when it is a meeting link; another link says nothing.
        if is_meeting_url(first_token) {
            return Some(Place::Online);
        }
        if first_token.contains("://") {
            return None;
        }
        let folded = fold_for_match(&value);
        if folded.is_empty() || NO_PLACE.iter().any(|n| folded.starts_with(n)) {
            return None;
        }
        let first_online = ONLINE_WORDS
            .iter()
            .chain(["on zoom", "via zoom", "teams", "web"].iter())
            .any(|w| {
                folded
                    .strip_prefix(w)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
            });
        return Some(if first_online {
            Place::Online
        } else {
            Place::Physical
        });
    }
    None
}

/// Words that, right before "online", make it part of how to sign up or pay ("register
/// online"); and words that, right after, do the same ("online registration").
const LINK_WORDS_BEFORE: &[&str] = &[
    "register",
    "registration",
    "registrations",
    "registered",
    "up",
    "apply",
    "application",
    "applications",
    "book",
    "booking",
    "enroll",
    "enrol",
    "pay",
    "payment",
    "purchase",
    "buy",
    "tickets",
    "rsvp",
    "form",
];
const LINK_WORDS_AFTER: &[&str] = &[
    "registration",
    "registrations",
    "booking",
    "bookings",
    "form",
    "forms",
    "payment",
    "payments",
    "application",
    "applications",
    "by",
    "at",
    "here",
];

/// Whether every " online " of the folded title and text is sign-up wording and no other
/// online word remains once those are set aside. Runs only for items whose online signal
/// could come from such wording.
fn online_only_in_link_wording(input: &ModalityInput<'_>, categories: &str) -> bool {
    let owned;
    let folded = match input.folded_title_text {
        Some(f) => f,
        None => {
            let mut f = String::with_capacity(input.title.len() + input.text.len() + 1);
            fold_into(input.title, &mut f);
            f.push(' ');
            fold_into(input.text, &mut f);
            owned = f;
            &owned
        }
    };
    let mut blanked: Option<String> = None;
    for at in word_starts(folded, "online") {
        let before = folded[..at]
            .trim_end()
            .rsplit(' ')
            .next()
            .unwrap_or_default();
        let after = folded[at + 6..]
            .trim_start()
            .split(' ')
            .next()
            .unwrap_or_default();
        let link = LINK_WORDS_BEFORE.contains(&before)
            // "sign up online"
            && (before != "up" || folded[..at].ends_with("sign up "))
            || LINK_WORDS_AFTER.contains(&after);
        if !link {
            return false;
        }
        let b = blanked.get_or_insert_with(|| folded.to_string());
        // Same length, so the positions found in `folded` stay valid.
        b.replace_range(at..at + 6, "      ");
    }
    let Some(blanked) = blanked else {
        // No "online" at all: the signal came from another word.
        return false;
    };
    !Signals::of(&[" ", &blanked, categories, " "]).online
}

/// Where `word` occurs in folded text as a whole word (folded text separates words by one
/// space).
fn word_starts<'a>(folded: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    memchr::memmem::find_iter(folded.as_bytes(), word.as_bytes()).filter(move |&at| {
        let end = at + word.len();
        (at == 0 || folded.as_bytes()[at - 1] == b' ')
            && (end == folded.len() || folded.as_bytes()[end] == b' ')
    })
}

/// Self-paced wording in the title, text or categories.
fn says_self_paced(input: &ModalityInput<'_>) -> bool {
    match (input.folded_title_text, input.folded_signals) {
        (Some(_), Some(s)) if s.self_paced => true,
        _ => {
            let mut f = String::new();
            f.push(' ');
            fold_into(input.title, &mut f);
            f.push(' ');
            fold_into(input.text, &mut f);
            for c in input.categories {
                f.push(' ');
                fold_into(c, &mut f);
            }
            f.push(' ');
            Signals::of(&[&f]).self_paced
        }
    }
}

/// Wording of sessions that only happen at a place: hands-on work, tours, field trips.
const HANDS_ON_WORDS: &[&str] = &[
    "hands on",
    "field trip",
    "walking tour",
    "guided tour",
    "site visit",
];

fn says_hands_on(input: &ModalityInput<'_>) -> bool {
    let owned;
    let folded = match input.folded_title_text {
        Some(f) => f,
        None => {
            let mut f = String::new();
            fold_into(input.title, &mut f);
            f.push(' ');
            fold_into(input.text, &mut f);
            owned = f;
            &owned
        }
    };
    HANDS_ON_WORDS
        .iter()
        .any(|w| word_starts(folded, w).next().is_some())
}

/// [`MEETING_HOSTS`] as (entry, domain, path after the domain).
/// Each entry split once: the entry, its domain, its path part, and whether it is a bare word
/// (matched anywhere in the URL).
static MEETING_HOST_PARTS: LazyLock<Vec<(&str, &str, &str, bool)>> = LazyLock::new(|| {
    MEETING_HOSTS
        .iter()
        .map(|h| {
            let (domain, path) = h.split_once('/').unwrap_or((h, ""));
            (*h, domain, path, !h.contains('.'))
        })
        .collect()
});

/// The last labels of the [`MEETING_HOSTS`] domains (`us`, `com`, ...), each once.
static MEETING_LAST_LABELS: LazyLock<Vec<&str>> = LazyLock::new(|| {
    let mut labels: Vec<&str> = MEETING_HOST_PARTS
        .iter()
        .map(|&(_, domain, _, _)| domain.rsplit('.').next().unwrap_or_default())
        .collect();
    labels.sort_unstable();
    labels.dedup();
    labels
});

/// True when `url` points at a known meeting or webinar platform.
pub fn is_meeting_url(url: &str) -> bool {
    // Only http(s) URLs can match: decided before lowercasing, which most strings asked about
    // (location names, the item's own links) then never need.
    let head = url.as_bytes();
    let http = head
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"https://"))
        || head
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"http://"));
    if !http {
        return false;
    }
    // Compared ignoring ASCII case in place rather than on a lowercased copy (four URLs per
    // item): the entries are lowercase ASCII, and lowercasing moves no byte.
    let rest = if head
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"https://"))
    {
        &url[8..]
    } else {
        &url[7..]
    };
    let starts_with_ci = |s: &str, prefix: &str| {
        s.as_bytes()
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    let host = rest.split('/').next().unwrap_or_default();
    // A domain matches the host itself or any domain the host is under: the host and every
    // suffix after one of its dots. Runs for every URL of every item: each entry split once,
    // compared in place.
    let path_ok = |path_part: &str| {
        path_part.is_empty()
            || rest
                .match_indices('/')
                .any(|(at, _)| starts_with_ci(&rest[at + 1..], path_part))
    };
    // A domain equal to a suffix of the host ends in the host's last label: most hosts (the
    // provider's own `.org`, `.edu`) end in none of the domains' last labels, and skip the walk.
    let last_label = host.rsplit('.').next().unwrap_or_default();
    let mut suffix = if MEETING_LAST_LABELS
        .iter()
        .any(|l| l.eq_ignore_ascii_case(last_label))
    {
        host
    } else {
        ""
    };
    while !suffix.is_empty() {
        if MEETING_HOST_PARTS.iter().any(|&(_, domain, path_part, _)| {
            domain.eq_ignore_ascii_case(suffix) && path_ok(path_part)
        }) {
            return true;
        }
        match suffix.find('.') {
            Some(dot) => suffix = &suffix[dot + 1..],
            None => break,
        }
    }
    MEETING_HOST_PARTS.iter().any(|&(h, _, _, bare)| {
        let Some(&first) = h.as_bytes().first().filter(|_| bare) else {
            return false;
        };
        memchr::memchr2_iter(
            first.to_ascii_lowercase(),
            first.to_ascii_uppercase(),
            rest.as_bytes(),
        )
        .any(|at| starts_with_ci(&rest[at..], h))
    })
}

fn location_is_online(loc: &Location) -> bool {
    let name = loc.name.as_deref().unwrap_or_default();
    let address = loc.address.as_deref().unwrap_or_default();
    if is_meeting_url(name) || is_meeting_url(address) {
        return true;
    }
    // The same whole-word test as the online word list, through the shared matcher.
    let mut f = String::with_capacity(name.len() + address.len() + 3);
    f.push(' ');
    fold_into(name, &mut f);
    f.push(' ');
    fold_into(address, &mut f);
    f.push(' ');
    Signals::of(&[&f]).online && !location_has_street(address)
}

/// A place one can go to. Only asked when the location is not an online one.
fn location_is_physical(loc: &Location) -> bool {
    loc.geo.is_some()
        || loc.locality.is_some()
        || loc
            .address
            .as_deref()
            .is_some_and(|a| !a.trim().is_empty() && !a.contains("://"))
        || loc
            .name
            .as_deref()
            .is_some_and(|n| !n.trim().is_empty() && !n.contains("://") && !is_tbd(n))
}

fn is_tbd(s: &str) -> bool {
    let f = fold_for_match(s);
    matches!(
        f.as_str(),
        "tbd" | "tba" | "to be announced" | "to be determined" | "n a" | "none"
    )
}

fn location_has_street(address: &str) -> bool {
    address
        .split_whitespace()
        .next()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(name: &str) -> Location {
        Location {
            name: Some(name.to_string()),
            ..Location::default()
        }
    }

    #[test]
    fn labels_after_multibyte_letters_never_split_a_character() {
        // A colon right after a non-ASCII letter: the word before it starts mid-text.
        assert_eq!(labelled_place("Es passt fast in jede Parklücke: los"), None);
        assert_eq!(labelled_place("Künstlerhaus — Ort:Wien"), None);
        assert_eq!(labelled_place("Café ☕ Where: Zoom"), Some(Place::Online));
        assert_eq!(
            labelled_place("ü.Location: Main Library"),
            Some(Place::Physical)
        );
    }

    #[test]
    fn modality_table() {
        let zoom = ["https://us02web.zoom.us/j/123"];
        let place = loc("Main Library, 123 Elm St, Springfield");
        let online_loc = loc("Online");
        let zoom_loc = loc("https://zoom.us/j/999");
        let tbd = loc("TBD");
        let online_category = ["Online".to_string()];
        let cases: Vec<(&str, ModalityInput<'_>, Option<Modality>)> = vec![
            (
                "zoom link is online",
                ModalityInput {
                    title: "Metadata basics",
                    urls: &zoom,
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "webinar in title is online",
                ModalityInput {
                    title: "Webinar: Grant writing 101",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "street address is in person",
                ModalityInput {
                    title: "Book repair workshop",
                    location: Some(&place),
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::InPerson),
            ),
            (
                "place plus zoom link is hybrid",
                ModalityInput {
                    title: "Board meeting",
                    location: Some(&place),
                    urls: &zoom,
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Hybrid),
            ),
            (
                "hybrid word wins",
                ModalityInput {
                    title: "Annual conference (hybrid)",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Hybrid),
            ),
            (
                "location named online",
                ModalityInput {
                    title: "Copyright Q&A",
                    location: Some(&online_loc),
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "location that is a zoom url",
                ModalityInput {
                    title: "Copyright Q&A",
                    location: Some(&zoom_loc),
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "on-demand without dates is self paced",
                ModalityInput {
                    title: "On-Demand: Disaster planning",
                    has_occurrences: false,
                    ..Default::default()
                },
                Some(Modality::SelfPaced),
            ),
            (
                "self-paced course text",
                ModalityInput {
                    title: "Cataloging course",
                    text: "A self-paced course, start anytime.",
                    ..Default::default()
                },
                Some(Modality::SelfPaced),
            ),
            (
                "declared mode is trusted",
                ModalityInput {
                    declared: Some(Modality::InPerson),
                    title: "Webinar",
                    ..Default::default()
                },
                Some(Modality::InPerson),
            ),
            (
                "explicit join link on an unknown platform is online",
                ModalityInput {
                    title: "Caring for photographs",
                    has_online_url: true,
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "nothing known",
                ModalityInput {
                    title: "Quarterly update",
                    has_occurrences: true,
                    ..Default::default()
                },
                None,
            ),
            (
                "tbd location says nothing",
                ModalityInput {
                    title: "Quarterly update",
                    location: Some(&tbd),
                    has_occurrences: true,
                    ..Default::default()
                },
                None,
            ),
            (
                "register online with a street address is in person",
                ModalityInput {
                    title: "Collections photography workshop",
                    text: "Copy stands and grey cards. Cost: $25. Register online",
                    location: Some(&place),
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::InPerson),
            ),
            (
                "online registration wording alone says nothing",
                ModalityInput {
                    title: "Annual meeting",
                    text: "Online registration closes May 1; register online by April 30. Sign up online today.",
                    has_occurrences: true,
                    ..Default::default()
                },
                None,
            ),
            (
                "sign-up wording beside a webinar is still online",
                ModalityInput {
                    title: "Webinar: copyright",
                    text: "Register online by March 1.",
                    location: Some(&place),
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "online that is not sign-up wording is online",
                ModalityInput {
                    title: "Copyright basics",
                    text: "Join us online. Register online.",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "an online category stays a signal",
                ModalityInput {
                    title: "Copyright basics",
                    text: "Register online.",
                    categories: &online_category,
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "a where line naming online is online",
                ModalityInput {
                    title: "Serving patrons by mail",
                    text: "When: Thurs., 1/14/27, 11 a.m. Where: Online (Zoom) Cost: Free",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "a location line naming a place is in person",
                ModalityInput {
                    title: "Tech petting zoo: 3D printers",
                    text: "Date: Tuesday, March 2, 2027 Time: 2:00pm - 3:00pm Location: Crossroads Training Center, Indianapolis Categories: Workforce Development",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::InPerson),
            ),
            (
                "a where line naming a place beats an online subject",
                ModalityInput {
                    title: "Building online exhibits",
                    text: "Where: Main Library, 12 Elm St.",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::InPerson),
            ),
            (
                "a where line to be announced says nothing",
                ModalityInput {
                    title: "Quarterly update",
                    text: "Where: TBA",
                    has_occurrences: true,
                    ..Default::default()
                },
                None,
            ),
            (
                "a where line in person and on zoom is hybrid",
                ModalityInput {
                    title: "Trustee training",
                    text: "Where: Anchorage Learning Commons, 3600 Spenard Rd. - in person and on Zoom",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Hybrid),
            ),
            (
                "a where line with a meeting link is online",
                ModalityInput {
                    title: "Quarterly update",
                    text: "Where: https://us02web.zoom.us/j/123",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "a where line is not read over a structured place",
                ModalityInput {
                    title: "Quarterly update",
                    text: "Where: Online",
                    location: Some(&place),
                    has_occurrences: true,
                    ..Default::default()
                },
                // The online word with a postal address, as without the line.
                Some(Modality::Online),
            ),
            (
                "an undated course declared online that says self-paced is self paced",
                ModalityInput {
                    declared: Some(Modality::Online),
                    title: "Records management essentials",
                    text: "Self-paced course, about ten hours.",
                    ..Default::default()
                },
                Some(Modality::SelfPaced),
            ),
            (
                "a dated course declared online stays online",
                ModalityInput {
                    declared: Some(Modality::Online),
                    title: "Records management essentials",
                    text: "Self-paced modules between live sessions.",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
            (
                "a hands-on session said of nothing online is in person",
                ModalityInput {
                    title: "Book repair",
                    text: "A hands-on session with bone folders and paste.",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::InPerson),
            ),
            (
                "a hands-on session on zoom is online",
                ModalityInput {
                    title: "Wikidata: a hands-on introduction",
                    text: "Where: Online (Zoom)",
                    has_occurrences: true,
                    ..Default::default()
                },
                Some(Modality::Online),
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(infer_modality(&input), want, "{name}");
        }
    }

    /// The host-by-host check the suffix walk replaced.
    fn is_meeting_url_by_entry(url: &str) -> bool {
        let lower = url.to_ascii_lowercase();
        let Some(rest) = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
        else {
            return false;
        };
        let host = rest.split('/').next().unwrap_or_default();
        MEETING_HOST_PARTS.iter().any(|&(h, domain, path_part, _)| {
            let host_ok = host == domain
                || host
                    .strip_suffix(domain)
                    .is_some_and(|head| head.ends_with('.'));
            let path_ok = || {
                path_part.is_empty()
                    || rest
                        .match_indices('/')
                        .any(|(at, _)| rest[at + 1..].starts_with(path_part))
            };
            (host_ok && path_ok()) || (!h.contains('.') && rest.contains(h))
        })
    }

    proptest::proptest! {
        #[test]
        fn meeting_url_check_equals_the_entry_by_entry_one(
            scheme in proptest::sample::select(vec!["https://", "HTTP://", "http://", "ftp://", "", "https:/"]),
            labels in proptest::collection::vec(
                proptest::sample::select(vec![
                    "zoom", "us", "us02web", "teams", "microsoft", "com", "goto", "youtube",
                    "webex", "acme", "", "notzoom", "ZOOM", "Jitsi", "meet", "google", "org",
                    "on24", "vimeo", "x.y",
                ]),
                0..5,
            ),
            path in proptest::sample::select(vec![
                "", "/", "/live", "/live/x", "/event/1", "/j/123", "/x/jitsi", "/zoom.us",
                "/a/vimeo.com/event", "?q=/live",
            ]),
        ) {
            let url = format!("{scheme}{}{path}", labels.join("."));
            proptest::prop_assert_eq!(is_meeting_url(&url), is_meeting_url_by_entry(&url), "{}", url);
        }
    }

    #[test]
    fn meeting_urls_match_hosts_not_substrings() {
        assert!(is_meeting_url(
            "https://teams.microsoft.com/l/meetup-join/abc"
        ));
        assert!(is_meeting_url("https://acme.webex.com/meet/x"));
        assert!(!is_meeting_url("https://notzoom.us.example.org/"));
        assert!(!is_meeting_url("https://example.org/zoom.us"));
    }
}
