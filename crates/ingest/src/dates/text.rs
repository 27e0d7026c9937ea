//! Event dates written in words: "Date: Tuesday, March 2, 2027 Time: 2:00pm - 3:00pm",
//! "March 10 @ 1:00 pm - 2:30 pm AST", "Thurs., 4/8/27, 10–11:30 a.m. AKT", "Wednesday,
//! Sept. 22, 2027, noon to 1 p.m. Eastern", "June 14 - June 16", "Time: All Day".
//!
//! Feeds of library calendars, event plugins and news posts often carry the event's time only
//! in the title or description. [`read`] finds the first phrase that names a date and, close
//! after it, a time or a time range (with the zone it names, if any), and turns it into
//! instants. Precision matters more than recall: a date after "register by", "deadline" or
//! "recorded" is never a start, a bare date is taken only when labelled ("Date:", "When:") or
//! written as a range of days, and a lone number is a time only with "a.m."/"p.m." or a colon.
//!
//! Pure and bounded: only the first [`MAX_SCAN_BYTES`] of each text are looked at, and every
//! candidate is read with a fixed look-ahead, so hostile text costs linear time.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;

use super::localize;

/// Bytes of one text looked at: the date line of an announcement comes early.
pub const MAX_SCAN_BYTES: usize = 8 * 1024;
/// Tokens kept from one text (a bound on memory whatever the text holds).
const MAX_TOKENS: usize = 2_048;

/// What the reader knows besides the words.
#[derive(Debug, Clone, Copy)]
pub struct TextHints {
    /// The item's own date (publication, else last update): a date written without a year is
    /// the next one at or after it.
    pub reference: DateTime<Utc>,
    /// The source's zone: times with no zone named are read in it, and a named zone family
    /// that agrees with it ("Mountain Time" for America/Boise) is reported as it.
    pub zone: Option<Tz>,
}

/// An event time read from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextWhen {
    pub start: DateTime<FixedOffset>,
    pub end: Option<DateTime<FixedOffset>>,
    /// Date-only: `start` is local midnight of the first day, `end` the midnight after the
    /// last (exclusive, as in iCalendar).
    pub all_day: bool,
    /// The zone the times were read in: the one named, else the source's; `None` when
    /// neither is known (the times were read as UTC).
    pub zone: Option<Tz>,
    /// The text named the zone.
    pub zone_named: bool,
}

/// The first event time the texts state, in order of the texts (description, then title).
/// A phrase with a time beats a date-only phrase wherever they are.
pub fn read(texts: &[&str], hints: &TextHints) -> Option<TextWhen> {
    let mut date_only: Option<TextWhen> = None;
    for text in texts {
        let tokens = tokenize(text);
        let mut i = 0;
        while i < tokens.len() {
            if let Some(found) = phrase_at(&tokens, i, hints) {
                if !found.all_day {
                    return Some(found);
                }
                date_only.get_or_insert(found);
            }
            i += 1;
        }
    }
    date_only
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Letters, ASCII-lowercased, dots removed ("a.m." -> "am", "Sept." -> "sept").
    Word {
        text: String,
        /// Written all in capitals ("AT", "ET"): short zone abbreviations are read only so.
        upper: bool,
    },
    /// Digits (at most 4 kept), with an ordinal suffix dropped ("14th").
    Num {
        value: u32,
        digits: u8,
    },
    /// `H:MM` or `HH:MM` (seconds ignored), or `H.MM` (`dotted`).
    Clock {
        hour: u32,
        minute: u32,
        dotted: bool,
    },
    Dash,
    Slash,
    Comma,
    Colon,
    At,
    Open,
    Close,
    /// Anything else that separates phrases (`.`, `;`, `|`, `·`, ...).
    Other,
}

fn tokenize(text: &str) -> Vec<Tok> {
    let mut end = text.len().min(MAX_SCAN_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let s = &text[..end];
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < MAX_TOKENS {
        let c = b[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &s[start..i];
            // H:MM[:SS], or H.MM as British text writes it ("7.30pm").
            let two_digits_at = |k: usize| {
                b.get(k).is_some_and(u8::is_ascii_digit)
                    && b.get(k + 1).is_some_and(u8::is_ascii_digit)
                    && !b.get(k + 2).is_some_and(u8::is_ascii_digit)
            };
            let sep = b.get(i).copied();
            if digits.len() <= 2 && matches!(sep, Some(b':' | b'.')) && two_digits_at(i + 1) {
                let hour: u32 = digits.parse().unwrap_or(99);
                let minute: u32 = s[i + 1..i + 3].parse().unwrap_or(99);
                i += 3;
                if sep == Some(b':') && b.get(i) == Some(&b':') && two_digits_at(i + 1) {
                    i += 3;
                }
                out.push(Tok::Clock {
                    hour,
                    minute,
                    dotted: sep == Some(b'.'),
                });
                continue;
            }
            let value = if digits.len() <= 4 {
                digits.parse().unwrap_or(0)
            } else {
                0
            };
            let n = Tok::Num {
                value,
                digits: u8::try_from(digits.len().min(9)).unwrap_or(9),
            };
            // Ordinal suffixes belong to the number.
            let rest = &b[i..];
            let suffix = [b"st", b"nd", b"rd", b"th"].iter().find(|suf| {
                rest.len() >= 2
                    && rest[..2].eq_ignore_ascii_case(&suf[..])
                    && !rest.get(2).is_some_and(u8::is_ascii_alphabetic)
            });
            if suffix.is_some() {
                i += 2;
            }
            out.push(n);
            continue;
        }
        if c.is_ascii_alphabetic() {
            let mut word = String::new();
            let mut upper = true;
            while i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'.') {
                if b[i] == b'.' {
                    // A dot inside an abbreviation ("a.m.", "Sept.") joins; a dot after a whole
                    // word followed by a space ends it (kept out of the word either way).
                    i += 1;
                    if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
                        break;
                    }
                    continue;
                }
                upper &= b[i].is_ascii_uppercase();
                word.push(char::from(b[i].to_ascii_lowercase()));
                i += 1;
            }
            out.push(Tok::Word { text: word, upper });
            continue;
        }
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => None,
            b'-' => Some(Tok::Dash),
            b'/' => Some(Tok::Slash),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            b'@' => Some(Tok::At),
            b'(' | b'[' => Some(Tok::Open),
            b')' | b']' => Some(Tok::Close),
            0x80.. => {
                // One whole character: en and em dashes are range dashes, a no-break or thin
                // space is a space, anything else separates.
                let ch = s[i..].chars().next().unwrap_or(' ');
                i += ch.len_utf8();
                match ch {
                    '\u{2013}' | '\u{2014}' | '\u{2012}' | '\u{2212}' | '\u{2010}' | '\u{2011}' => {
                        out.push(Tok::Dash)
                    }
                    c if c.is_whitespace() => {}
                    _ => out.push(Tok::Other),
                }
                continue;
            }
            _ => Some(Tok::Other),
        };
        if let Some(t) = tok {
            out.push(t);
        }
        i += 1;
    }
    out
}

fn word(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Word { text, .. }) => Some(text.as_str()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Dates

fn month_of(w: &str) -> Option<u32> {
    Some(match w {
        "jan" | "january" => 1,
        "feb" | "febr" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    })
}

fn weekday_of(w: &str) -> Option<Weekday> {
    Some(match w {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "weds" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// A calendar day as written: the year may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Day {
    month: u32,
    day: u32,
    year: Option<i32>,
    weekday: Option<Weekday>,
}

fn year_of(t: Option<&Tok>) -> Option<i32> {
    match t {
        Some(Tok::Num { value, digits: 4 }) if (1900..=2200).contains(value) => {
            i32::try_from(*value).ok()
        }
        _ => None,
    }
}

fn day_num(t: Option<&Tok>) -> Option<u32> {
    match t {
        Some(Tok::Num {
            value,
            digits: 1 | 2,
        }) if (1..=31).contains(value) => Some(*value),
        _ => None,
    }
}

/// Skips a comma.
fn skip_comma(t: &[Tok], i: usize) -> usize {
    if matches!(t.get(i), Some(Tok::Comma)) {
        i + 1
    } else {
        i
    }
}

/// A date starting at `i`: `[Weekday[,]] Month D[,] [YYYY]`, `[Weekday] D Month [YYYY]`,
/// `M/D/YY(YY)` or `YYYY-MM-DD`. Returns the day and the index after it.
fn date_at(t: &[Tok], i: usize) -> Option<(Day, usize)> {
    let mut j = i;
    let mut weekday = None;
    if let Some(wd) = word(t.get(j)).and_then(weekday_of) {
        weekday = Some(wd);
        j = skip_comma(t, j + 1);
    }
    // Month D[, YYYY]
    if let Some(month) = word(t.get(j)).and_then(month_of)
        && let Some(day) = day_num(t.get(j + 1))
        && !matches!(t.get(j + 2), Some(Tok::Colon | Tok::Slash))
    {
        let mut k = j + 2;
        let mut year = None;
        let after_comma = skip_comma(t, k);
        if let Some(y) = year_of(t.get(after_comma)) {
            year = Some(y);
            k = after_comma + 1;
        }
        return Some((
            Day {
                month,
                day,
                year,
                weekday,
            },
            k,
        ));
    }
    // D Month [YYYY]
    if let Some(day) = day_num(t.get(j))
        && let Some(month) = word(t.get(j + 1)).and_then(month_of)
    {
        let mut k = j + 2;
        let mut year = None;
        let after_comma = skip_comma(t, k);
        if let Some(y) = year_of(t.get(after_comma)) {
            year = Some(y);
            k = after_comma + 1;
        }
        return Some((
            Day {
                month,
                day,
                year,
                weekday,
            },
            k,
        ));
    }
    // M/D/YY or M/D/YYYY (US order; a year is required, "4/8" alone is too ambiguous).
    if let (
        Some(Tok::Num {
            value: m,
            digits: 1 | 2,
        }),
        Some(Tok::Slash),
        Some(d),
        Some(Tok::Slash),
        Some(Tok::Num { value: y, digits }),
    ) = (
        t.get(j),
        t.get(j + 1),
        day_num(t.get(j + 2)),
        t.get(j + 3),
        t.get(j + 4),
    ) && (1..=12).contains(m)
        && matches!(digits, 2 | 4)
        && !matches!(t.get(j + 5), Some(Tok::Slash))
    {
        let year = if *digits == 2 {
            2000 + i32::try_from(*y).ok()?
        } else {
            i32::try_from(*y).ok()?
        };
        return Some((
            Day {
                month: *m,
                day: d,
                year: Some(year),
                weekday,
            },
            j + 5,
        ));
    }
    // YYYY-MM-DD
    if let (
        Some(year),
        Some(Tok::Dash),
        Some(Tok::Num {
            value: m,
            digits: 2,
        }),
        Some(Tok::Dash),
    ) = (year_of(t.get(j)), t.get(j + 1), t.get(j + 2), t.get(j + 3))
        && let Some(Tok::Num {
            value: d,
            digits: 2,
        }) = t.get(j + 4)
        && (1..=12).contains(m)
        && (1..=31).contains(d)
    {
        return Some((
            Day {
                month: *m,
                day: *d,
                year: Some(year),
                weekday,
            },
            j + 5,
        ));
    }
    None
}

/// Words that make a following date something other than the event's start.
fn is_negative(w: &str) -> bool {
    matches!(
        w,
        "by" | "before"
            | "deadline"
            | "due"
            | "closes"
            | "close"
            | "ends"
            | "expires"
            | "until"
            | "till"
            | "recorded"
            | "recording"
            | "posted"
            | "published"
            | "updated"
            | "since"
            | "released"
            | "aired"
            | "originally"
            | "held"
            | "was"
            | "were"
            | "ago"
    )
}

/// Labels that make a bare date the event's date.
fn is_date_label(w: &str) -> bool {
    matches!(w, "date" | "dates" | "when")
}

/// How the words before `i` (back to the previous phrase break) speak of the date there.
fn context_before(t: &[Tok], i: usize) -> (bool, bool) {
    let mut negative = false;
    let mut labelled = false;
    let from = i.saturating_sub(4);
    for k in (from..i).rev() {
        match &t[k] {
            Tok::Word { text, .. } => {
                negative |= is_negative(text);
                labelled |= is_date_label(text) && k + 3 >= i;
            }
            Tok::Other => break,
            _ => {}
        }
    }
    (negative, labelled)
}

// ---------------------------------------------------------------------------------------------
// Times

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Time {
    hour: u32,
    minute: u32,
    meridiem: Option<Meridiem>,
    /// Written with a colon ("14:00"), so it may be a 24-hour time without a meridiem.
    colon: bool,
    /// "midnight": at the end of a range it is the next day's 00:00.
    midnight: bool,
}

impl Time {
    /// The 24-hour clock time, once the meridiem is known.
    fn naive(&self) -> Option<NaiveTime> {
        let h = match self.meridiem {
            Some(Meridiem::Am) if self.hour == 12 => 0,
            Some(Meridiem::Am) => self.hour,
            Some(Meridiem::Pm) if self.hour == 12 => 12,
            Some(Meridiem::Pm) => self.hour + 12,
            None => self.hour,
        };
        NaiveTime::from_hms_opt(h, self.minute, 0)
    }
}

fn meridiem_of(w: &str) -> Option<Meridiem> {
    match w {
        "am" | "a" => Some(Meridiem::Am),
        "pm" | "p" => Some(Meridiem::Pm),
        _ => None,
    }
}

/// A time at `i`: "2:00pm", "2 p.m.", "14:00", "noon", "midnight", or a bare hour (only as the
/// first half of a range; the caller checks). Returns the time and the index after it.
fn time_at(t: &[Tok], i: usize) -> Option<(Time, usize)> {
    match t.get(i)? {
        Tok::Word { text, .. } if text == "noon" => Some((
            Time {
                hour: 12,
                minute: 0,
                meridiem: Some(Meridiem::Pm),
                colon: false,
                midnight: false,
            },
            i + 1,
        )),
        Tok::Word { text, .. } if text == "midnight" => Some((
            Time {
                hour: 12,
                minute: 0,
                meridiem: Some(Meridiem::Am),
                colon: false,
                midnight: true,
            },
            i + 1,
        )),
        Tok::Clock {
            hour,
            minute,
            dotted,
        } if *hour <= 23 && *minute <= 59 => {
            let meridiem = word(t.get(i + 1)).and_then(meridiem_of);
            if meridiem.is_some() && !(1..=12).contains(hour) {
                return None;
            }
            // "2.50" is a price; "7.30pm" a time.
            if *dotted && meridiem.is_none() {
                return None;
            }
            let next = if meridiem.is_some() { i + 2 } else { i + 1 };
            Some((
                Time {
                    hour: *hour,
                    minute: *minute,
                    meridiem,
                    colon: !*dotted,
                    midnight: false,
                },
                next,
            ))
        }
        Tok::Num {
            value,
            digits: 1 | 2,
        } if (1..=12).contains(value) => {
            let meridiem = word(t.get(i + 1)).and_then(meridiem_of);
            let next = if meridiem.is_some() { i + 2 } else { i + 1 };
            Some((
                Time {
                    hour: *value,
                    minute: 0,
                    meridiem,
                    colon: false,
                    midnight: false,
                },
                next,
            ))
        }
        _ => None,
    }
}

fn is_range_word(t: Option<&Tok>) -> bool {
    matches!(t, Some(Tok::Dash))
        || word(t).is_some_and(|w| matches!(w, "to" | "until" | "till" | "through" | "thru"))
}

/// A start time, the end time with whether it falls on the next day, and the index after them.
type Times = (NaiveTime, Option<(NaiveTime, bool)>, usize);

/// A time or a time range at `i`, with meridiems settled. A start needs a meridiem, a colon or
/// a word ("noon") unless a range's end supplies the meridiem.
fn times_at(t: &[Tok], i: usize) -> Option<Times> {
    let (mut a, after_a) = time_at(t, i)?;
    if is_range_word(t.get(after_a))
        && let Some((b, after_b)) = time_at(t, after_a + 1)
        && (b.meridiem.is_some() || b.colon)
    {
        if a.meridiem.is_none() && !(a.colon && a.hour > 12) {
            // "10–11:30 a.m.", "2 to 3:30 p.m.": the start takes the end's meridiem, unless that
            // puts it after the end ("11–1 p.m." starts in the morning).
            if let Some(m) = b.meridiem {
                a.meridiem = Some(m);
                if let (Some(x), Some(y)) = (a.naive(), b.naive())
                    && x > y
                    && m == Meridiem::Pm
                    && !b.midnight
                {
                    a.meridiem = Some(Meridiem::Am);
                }
            } else if !a.colon {
                return None;
            }
        }
        let start = a.naive()?;
        let end = b.naive()?;
        // An end at or before the start is on the next day ("8 p.m. to midnight").
        let next_day = b.midnight || end <= start;
        return Some((start, Some((end, next_day)), after_b));
    }
    if a.meridiem.is_none() && !a.colon && !matches!(t.get(i), Some(Tok::Word { .. })) {
        return None;
    }
    Some((a.naive()?, None, after_a))
}

// ---------------------------------------------------------------------------------------------
// Zones

/// A zone family as text names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Family {
    /// The zone used when the source's zone does not agree.
    iana: &'static str,
    /// Other meanings of an ambiguous abbreviation: (standard UTC offset in seconds, zone).
    /// The source's zone picks among them by its own standard offset.
    alternatives: &'static [(i32, &'static str)],
    /// A standard-time abbreviation ("AST", "MST"): a source zone that keeps that offset all
    /// year (Puerto Rico, Arizona) is the zone meant.
    standard_offset: Option<i32>,
}

const fn fam(iana: &'static str) -> Family {
    Family {
        iana,
        alternatives: &[],
        standard_offset: None,
    }
}

const fn std_fam(iana: &'static str, offset_hours: i32) -> Family {
    Family {
        iana,
        alternatives: &[],
        standard_offset: Some(offset_hours * 3600),
    }
}

/// The zone family one word names, and whether the word must be written in capitals to count
/// (short abbreviations that are also English or French words: "at", "et", "pt").
fn family_of(w: &str) -> Option<(Family, bool)> {
    const CST_ALT: &[(i32, &str)] = &[(8 * 3600, "Asia/Shanghai"), (-5 * 3600, "America/Havana")];
    const IST_ALT: &[(i32, &str)] = &[(3600 * 2, "Asia/Jerusalem"), (0, "Europe/Dublin")];
    const AST_ALT: &[(i32, &str)] = &[(3 * 3600, "Asia/Riyadh")];
    Some(match w {
        "et" => (fam("America/New_York"), true),
        "est" | "edt" => (std_fam("America/New_York", -5), true),
        "eastern" => (fam("America/New_York"), false),
        "ct" => (fam("America/Chicago"), true),
        "cst" => (
            Family {
                iana: "America/Chicago",
                alternatives: CST_ALT,
                standard_offset: Some(-6 * 3600),
            },
            true,
        ),
        "cdt" => (fam("America/Chicago"), true),
        "central" => (fam("America/Chicago"), false),
        "mt" => (fam("America/Denver"), true),
        "mst" => (std_fam("America/Denver", -7), true),
        "mdt" => (fam("America/Denver"), true),
        "mountain" => (fam("America/Denver"), false),
        "pt" => (fam("America/Los_Angeles"), true),
        "pst" | "pdt" => (fam("America/Los_Angeles"), true),
        "pacific" => (fam("America/Los_Angeles"), false),
        "akt" | "akst" | "akdt" => (fam("America/Anchorage"), false),
        "alaska" | "alaskan" => (fam("America/Anchorage"), false),
        "ht" => (fam("Pacific/Honolulu"), true),
        "hst" | "hast" => (std_fam("Pacific/Honolulu", -10), true),
        "hawaii" | "hawaiian" | "hawaiʻi" => (fam("Pacific/Honolulu"), false),
        "at" => (fam("America/Halifax"), true),
        "ast" => (
            Family {
                iana: "America/Halifax",
                alternatives: AST_ALT,
                standard_offset: Some(-4 * 3600),
            },
            true,
        ),
        "adt" => (fam("America/Halifax"), true),
        "atlantic" => (fam("America/Halifax"), false),
        "nt" => (fam("America/St_Johns"), true),
        "nst" | "ndt" => (fam("America/St_Johns"), true),
        "newfoundland" => (fam("America/St_Johns"), false),
        "gmt" | "bst" => (fam("Europe/London"), true),
        "uk" | "british" | "london" => (fam("Europe/London"), false),
        "ist" => (
            Family {
                iana: "Asia/Kolkata",
                alternatives: IST_ALT,
                standard_offset: None,
            },
            true,
        ),
        "utc" => (fam("UTC"), true),
        _ => return None,
    })
}

/// A zone named at `i`, possibly in parentheses: "AKT", "(Mountain Time)", "Eastern".
fn zone_at(t: &[Tok], i: usize) -> Option<Family> {
    let mut j = i;
    if matches!(t.get(j), Some(Tok::Open)) {
        j += 1;
    }
    match t.get(j) {
        Some(Tok::Word { text, upper }) => {
            let (family, needs_caps) = family_of(text)?;
            if needs_caps && !*upper {
                return None;
            }
            Some(family)
        }
        _ => None,
    }
}

/// The IANA zone a named family means for this source.
fn resolve_family(family: &Family, source: Option<Tz>, local: NaiveDateTime) -> Tz {
    let default: Tz = family.iana.parse().unwrap_or(Tz::UTC);
    let Some(source) = source else {
        return default;
    };
    let std_offset = |z: Tz, year: i32| -> Option<(i32, i32)> {
        let jan = NaiveDate::from_ymd_opt(year, 1, 15)?.and_hms_opt(12, 0, 0)?;
        let jul = NaiveDate::from_ymd_opt(year, 7, 15)?.and_hms_opt(12, 0, 0)?;
        let a = z.offset_from_utc_datetime(&jan).fix().local_minus_utc();
        let b = z.offset_from_utc_datetime(&jul).fix().local_minus_utc();
        Some((a.min(b), a.max(b)))
    };
    let year = local.year();
    let Some(src) = std_offset(source, year) else {
        return default;
    };
    // An ambiguous abbreviation means what the source's own zone calls it.
    for (offset, iana) in family.alternatives {
        if src.0 == *offset
            && let Ok(z) = iana.parse::<Tz>()
        {
            return if std_offset(z, year) == Some(src) {
                source
            } else {
                z
            };
        }
    }
    // "AST" from Puerto Rico, "MST" from Arizona: standard time all year.
    if let Some(std) = family.standard_offset
        && src == (std, std)
    {
        return source;
    }
    // The family agrees with the source's zone ("Mountain Time" and America/Boise): the
    // source's zone is the more exact name.
    if std_offset(default, year) == Some(src) {
        return source;
    }
    default
}

// ---------------------------------------------------------------------------------------------
// Phrases

/// A phrase that starts at token `i` with a date, if it states the event's time.
fn phrase_at(t: &[Tok], i: usize, hints: &TextHints) -> Option<TextWhen> {
    let (first, mut j) = date_at(t, i)?;
    // "June 14 - June 16", "June 14–16, 2027", "Oct. 6 to 8".
    let mut last: Option<Day> = None;
    if is_range_word(t.get(j)) {
        if let Some((d, k)) = date_at(t, j + 1) {
            last = Some(d);
            j = k;
        } else if let Some(day) = day_num(t.get(j + 1))
            && day > first.day
            && !matches!(t.get(j + 2), Some(Tok::Colon | Tok::Dash))
            && !is_range_word(t.get(j + 2))
            && word(t.get(j + 2)).and_then(meridiem_of).is_none()
        {
            let mut k = j + 2;
            let mut year = None;
            let after_comma = skip_comma(t, k);
            if let Some(y) = year_of(t.get(after_comma)) {
                year = Some(y);
                k = after_comma + 1;
            }
            last = Some(Day {
                month: first.month,
                day,
                year,
                weekday: None,
            });
            j = k;
        }
    }
    let (negative, labelled) = context_before(t, i);
    if negative {
        return None;
    }
    // A time close after the date: "@ 1:00 pm", ", from 10:00 a.m.", " Time: 2:00pm".
    let mut k = j;
    let mut skipped = 0;
    let mut times = None;
    let mut all_day_words = false;
    while k < t.len() && skipped <= 4 {
        if let Some(found) = times_at(t, k) {
            times = Some(found);
            break;
        }
        match &t[k] {
            Tok::Comma | Tok::Colon | Tok::At | Tok::Dash | Tok::Other => {}
            Tok::Word { text, .. }
                if matches!(
                    text.as_str(),
                    "at" | "from" | "time" | "times" | "starting" | "starts" | "begins" | "and"
                ) => {}
            Tok::Word { text, .. } if text == "all" => {
                if matches!(word(t.get(k + 1)), Some("day")) {
                    all_day_words = true;
                }
                break;
            }
            _ => break,
        }
        k += 1;
        skipped += 1;
    }
    // Years: written, else the next such day at or after the item's own date.
    let zone = hints.zone;
    let reference = match zone {
        Some(z) => hints.reference.with_timezone(&z).date_naive(),
        None => hints.reference.date_naive(),
    };
    let first_date = resolve_day(&first, reference, last.and_then(|l| l.year))?;
    let last_date = match last {
        Some(l) => {
            let d = resolve_day(&l, first_date, None)?;
            (d >= first_date && (d - first_date).num_days() <= 366).then_some(d)?
        }
        None => first_date,
    };

    match times {
        Some((start, end, after)) if last.is_none() => {
            let start_local = first_date.and_time(start);
            let named = zone_at(t, after);
            let (tz, zone_named) = match named {
                Some(f) => (Some(resolve_family(&f, zone, start_local)), true),
                None => (zone, false),
            };
            let start_at = localize(start_local, tz)?;
            let end_at = match end {
                Some((e, next_day)) => {
                    let d = if next_day {
                        first_date.succ_opt()?
                    } else {
                        first_date
                    };
                    Some(localize(d.and_time(e), tz)?)
                }
                None => None,
            };
            Some(TextWhen {
                start: start_at,
                end: end_at,
                all_day: false,
                zone: tz,
                zone_named,
            })
        }
        _ => {
            // Date only: the event's date when labelled, a range of days, or "All Day".
            if !(labelled || last.is_some() || all_day_words) {
                return None;
            }
            let start = localize(first_date.and_time(NaiveTime::MIN), zone)?;
            let end = localize(last_date.succ_opt()?.and_time(NaiveTime::MIN), zone)?;
            Some(TextWhen {
                start,
                end: Some(end),
                all_day: true,
                zone,
                zone_named: false,
            })
        }
    }
}

/// The date a written day names: its own year, the range's year, or the next such day at or
/// after `reference` (the one whose weekday matches, when one is written).
fn resolve_day(d: &Day, reference: NaiveDate, range_year: Option<i32>) -> Option<NaiveDate> {
    if let Some(y) = d.year.or(range_year) {
        return NaiveDate::from_ymd_opt(y, d.month, d.day);
    }
    let y = reference.year();
    let candidates = [y, y + 1, y + 2, y + 3, y + 4, y + 5, y + 6];
    let upcoming = candidates
        .iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(*y, d.month, d.day))
        .filter(|date| *date >= reference);
    if let Some(wd) = d.weekday {
        // Only the next two such days: a weekday that matches six years on is no evidence.
        if let Some(date) = upcoming.clone().take(2).find(|date| date.weekday() == wd) {
            return Some(date);
        }
    }
    upcoming.into_iter().next()
}

/// Whether `t` is midnight on the wall clock of `zone` (of its own offset without one).
pub fn is_local_midnight(t: DateTime<FixedOffset>, zone: Option<Tz>) -> bool {
    let local = match zone {
        Some(z) => t.with_timezone(&z).time(),
        None => t.time(),
    };
    local == NaiveTime::MIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(reference: &str, zone: Option<&str>) -> TextHints {
        TextHints {
            reference: DateTime::parse_from_rfc3339(reference)
                .expect("reference")
                .with_timezone(&Utc),
            zone: zone.map(|z| z.parse().expect("zone")),
        }
    }

    /// (text, source zone, want: (start, end, all_day, zone))
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<(&'a str, Option<&'a str>, bool, Option<&'a str>)>,
    );

    fn check(cases: &[Case<'_>]) {
        for (text, zone, want) in cases {
            let got = read(&[text], &hints("2026-12-01T12:00:00Z", *zone)).map(|w| {
                (
                    w.start.to_rfc3339(),
                    w.end.map(|e| e.to_rfc3339()),
                    w.all_day,
                    w.zone.map(|z| z.name().to_string()),
                )
            });
            let want = want.map(|(s, e, a, z)| {
                (
                    s.to_string(),
                    e.map(str::to_string),
                    a,
                    z.map(str::to_string),
                )
            });
            assert_eq!(got, want, "{text:?} in {zone:?}");
        }
    }

    #[test]
    fn library_calendar_lines_without_a_zone_take_the_sources() {
        check(&[
            (
                "Date: Tuesday, March 2, 2027 Time: 2:00pm - 3:00pm Location: Online",
                Some("America/Indiana/Indianapolis"),
                Some((
                    "2027-03-02T14:00:00-05:00",
                    Some("2027-03-02T15:00:00-05:00"),
                    false,
                    Some("America/Indiana/Indianapolis"),
                )),
            ),
            (
                "Date: Saturday, June 5, 2027 Time: All Day Location: Auditorium",
                Some("America/Chicago"),
                Some((
                    "2027-06-05T00:00:00-05:00",
                    Some("2027-06-06T00:00:00-05:00"),
                    true,
                    Some("America/Chicago"),
                )),
            ),
            (
                "Date: Thursday, July 1, 2027 Time: 10:00am - 11:30am",
                None,
                Some((
                    "2027-07-01T10:00:00+00:00",
                    Some("2027-07-01T11:30:00+00:00"),
                    false,
                    None,
                )),
            ),
        ]);
    }

    #[test]
    fn event_plugin_lines_name_their_zone() {
        check(&[
            (
                "March 10 @ 1:00 pm - 2:30 pm AST",
                Some("America/Halifax"),
                Some((
                    "2027-03-10T13:00:00-04:00",
                    Some("2027-03-10T14:30:00-04:00"),
                    false,
                    Some("America/Halifax"),
                )),
            ),
            // AST from a Puerto Rico source is Atlantic Standard Time all year.
            (
                "July 14 @ 3:00 pm - 4:30 pm AST",
                Some("America/Puerto_Rico"),
                Some((
                    "2027-07-14T15:00:00-04:00",
                    Some("2027-07-14T16:30:00-04:00"),
                    false,
                    Some("America/Puerto_Rico"),
                )),
            ),
            (
                "April 14 @ 1:00 pm - 2:30 pm ADT",
                None,
                Some((
                    "2027-04-14T13:00:00-03:00",
                    Some("2027-04-14T14:30:00-03:00"),
                    false,
                    Some("America/Halifax"),
                )),
            ),
            (
                "September 14 @ 12:00 pm - 1:00 pm ADT",
                Some("America/Halifax"),
                Some((
                    "2027-09-14T12:00:00-03:00",
                    Some("2027-09-14T13:00:00-03:00"),
                    false,
                    Some("America/Halifax"),
                )),
            ),
        ]);
    }

    #[test]
    fn ap_style_ranges_share_the_meridiem() {
        check(&[
            (
                "When: Thurs., 4/8/27, 10–11:30 a.m. AKT Where: Online",
                Some("America/Anchorage"),
                Some((
                    "2027-04-08T10:00:00-08:00",
                    Some("2027-04-08T11:30:00-08:00"),
                    false,
                    Some("America/Anchorage"),
                )),
            ),
            (
                "When: Thurs., 1/14/27, 11 a.m.–noon AKT",
                None,
                Some((
                    "2027-01-14T11:00:00-09:00",
                    Some("2027-01-14T12:00:00-09:00"),
                    false,
                    Some("America/Anchorage"),
                )),
            ),
            (
                "Sat., 3/6/27, 9 a.m.–3 p.m. AKT",
                Some("America/Anchorage"),
                Some((
                    "2027-03-06T09:00:00-09:00",
                    Some("2027-03-06T15:00:00-09:00"),
                    false,
                    Some("America/Anchorage"),
                )),
            ),
            (
                "Wednesday, Sept. 22, 2027, noon to 1 p.m. Eastern",
                Some("America/Toronto"),
                Some((
                    "2027-09-22T12:00:00-04:00",
                    Some("2027-09-22T13:00:00-04:00"),
                    false,
                    Some("America/Toronto"),
                )),
            ),
            (
                "Thursday, April 8, 2027, 2 to 3:30 p.m. Eastern",
                Some("America/Toronto"),
                Some((
                    "2027-04-08T14:00:00-04:00",
                    Some("2027-04-08T15:30:00-04:00"),
                    false,
                    Some("America/Toronto"),
                )),
            ),
            (
                "Monday, Nov. 8, 2027, 11–1 p.m. ET",
                Some("America/Chicago"),
                Some((
                    "2027-11-08T11:00:00-05:00",
                    Some("2027-11-08T13:00:00-05:00"),
                    false,
                    Some("America/New_York"),
                )),
            ),
            (
                "Friday, Oct. 1, 2027 — 2–3:30 p.m. PT",
                None,
                Some((
                    "2027-10-01T14:00:00-07:00",
                    Some("2027-10-01T15:30:00-07:00"),
                    false,
                    Some("America/Los_Angeles"),
                )),
            ),
        ]);
    }

    #[test]
    fn zone_names_in_parentheses_and_families_that_agree_with_the_source() {
        check(&[
            (
                "When: Tuesday, July 20, 2027, from 10:00 a.m. to 11:00 a.m. (Mountain Time)",
                Some("America/Boise"),
                Some((
                    "2027-07-20T10:00:00-06:00",
                    Some("2027-07-20T11:00:00-06:00"),
                    false,
                    Some("America/Boise"),
                )),
            ),
            (
                "Tuesday, January 19, 2027, from 10:00 a.m. to 11:00 a.m. (Mountain Time)",
                Some("America/Phoenix"),
                Some((
                    "2027-01-19T10:00:00-07:00",
                    Some("2027-01-19T11:00:00-07:00"),
                    false,
                    Some("America/Denver"),
                )),
            ),
            (
                "Wednesday 24 March 2027, 14:00–15:30 GMT",
                Some("Europe/London"),
                Some((
                    "2027-03-24T14:00:00+00:00",
                    Some("2027-03-24T15:30:00+00:00"),
                    false,
                    Some("Europe/London"),
                )),
            ),
            (
                "Thursday 10 June 2027, 6pm to 7.30pm UK time",
                None,
                Some((
                    "2027-06-10T18:00:00+01:00",
                    Some("2027-06-10T19:30:00+01:00"),
                    false,
                    Some("Europe/London"),
                )),
            ),
            (
                "Tuesday, Feb. 9, 2027, 9–10 a.m. HST",
                Some("Pacific/Honolulu"),
                Some((
                    "2027-02-09T09:00:00-10:00",
                    Some("2027-02-09T10:00:00-10:00"),
                    false,
                    Some("Pacific/Honolulu"),
                )),
            ),
            (
                "Jan 12, 2027 1:00 PM - 2:00 PM CST",
                Some("Asia/Shanghai"),
                Some((
                    "2027-01-12T13:00:00+08:00",
                    Some("2027-01-12T14:00:00+08:00"),
                    false,
                    Some("Asia/Shanghai"),
                )),
            ),
            (
                "Jan 12, 2027 1:00 PM - 2:00 PM CST",
                Some("America/Winnipeg"),
                Some((
                    "2027-01-12T13:00:00-06:00",
                    Some("2027-01-12T14:00:00-06:00"),
                    false,
                    Some("America/Winnipeg"),
                )),
            ),
            (
                "March 3, 2027, 7 p.m. to midnight NT",
                None,
                Some((
                    "2027-03-03T19:00:00-03:30",
                    Some("2027-03-04T00:00:00-03:30"),
                    false,
                    Some("America/St_Johns"),
                )),
            ),
        ]);
    }

    #[test]
    fn date_only_ranges_are_all_day_with_an_exclusive_end() {
        check(&[
            (
                "June 14 - June 16. Three days of sessions and tours.",
                Some("America/Halifax"),
                Some((
                    "2027-06-14T00:00:00-03:00",
                    Some("2027-06-17T00:00:00-03:00"),
                    true,
                    Some("America/Halifax"),
                )),
            ),
            (
                "The symposium runs Oct. 6–8, 2027 in Hilo.",
                Some("Pacific/Honolulu"),
                Some((
                    "2027-10-06T00:00:00-10:00",
                    Some("2027-10-09T00:00:00-10:00"),
                    true,
                    Some("Pacific/Honolulu"),
                )),
            ),
            (
                "When: Friday, May 7, 2027",
                None,
                Some((
                    "2027-05-07T00:00:00+00:00",
                    Some("2027-05-08T00:00:00+00:00"),
                    true,
                    None,
                )),
            ),
        ]);
    }

    #[test]
    fn deadlines_recordings_and_bare_dates_are_not_starts() {
        check(&[
            (
                "REMINDER: STEM in Storytime — register by April 5",
                None,
                None,
            ),
            ("Registration deadline: March 1, 2027 at 5 p.m.", None, None),
            ("Recorded March 2, 2026. Watch anytime.", None, None),
            ("Applications are due Jan. 15, 2027.", None, None),
            ("Hear the guidelines before the March deadline.", None, None),
            ("Applicant Webinar, Jan. 19", None, None),
            (
                "Our 2027 program offers up to $500,000 in 12 grants.",
                None,
                None,
            ),
            (
                "Call 555-1234 or write to us at 10 Main St., 2 pm",
                None,
                None,
            ),
            ("A 30-minute storytime for 3 to 5 year olds", None, None),
        ]);
    }

    #[test]
    fn a_timed_phrase_beats_an_earlier_bare_date() {
        let h = hints("2026-11-26T12:00:00Z", Some("America/Anchorage"));
        let got = read(
            &[
                "Seats are filling! When: Thurs., 4/8/27, 10–11:30 a.m. AKT",
                "REMINDER: STEM in Storytime — register by April 5",
            ],
            &h,
        )
        .expect("a time");
        assert_eq!(got.start.to_rfc3339(), "2027-04-08T10:00:00-08:00");
    }

    #[test]
    fn a_date_without_a_year_is_the_next_one_after_the_items_date() {
        let h = hints("2026-12-15T14:22:09Z", Some("America/Halifax"));
        let got = read(&["January 20 @ 7:00 pm - 8:00 pm AST"], &h).expect("a time");
        assert_eq!(got.start.to_rfc3339(), "2027-01-20T19:00:00-04:00");
        let h = hints("2027-01-20T23:00:00Z", Some("America/Halifax"));
        let got = read(&["January 20 @ 7:00 pm - 8:00 pm AST"], &h).expect("a time");
        assert_eq!(got.start.to_rfc3339(), "2027-01-20T19:00:00-04:00");
        // A written weekday picks the year it fits.
        let h = hints("2026-12-15T12:00:00Z", None);
        let got = read(&["Tuesday, December 14, 2:00pm - 3:00pm"], &h).expect("a time");
        assert_eq!(got.start.to_rfc3339(), "2027-12-14T14:00:00+00:00");
    }

    #[test]
    fn hostile_text_is_read_in_bounded_time() {
        let long = "March 1 - ".repeat(200_000);
        let started = std::time::Instant::now();
        let _ = read(
            &[&long, &"9".repeat(1_000_000)],
            &hints("2026-12-01T00:00:00Z", None),
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
