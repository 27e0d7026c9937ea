//! The iCalendar writer (RFC 5545, with RFC 7986 calendar properties).
//!
//! # One VEVENT per occurrence, not one per series
//!
//! Our occurrences are already expanded (ingest applied the source's RRULE, EXDATE and
//! RECURRENCE-ID overrides within a horizon), so every session is a known instant. Writing them
//! back as RRULE + EXDATE + overrides would mean re-deriving a rule from instants (lossy: most
//! sources' series are irregular lists of sessions) and then trusting each client's recurrence
//! engine with it: Google Calendar drops or duplicates RECURRENCE-ID overrides in subscribed
//! calendars and ignores RDATE, Outlook ignores RDATE and mishandles EXDATEs whose TZID differs
//! from DTSTART's, and a rule that starts before the window drags in sessions the search did not
//! match. Per-occurrence VEVENTs show the same everywhere, let one session be cancelled
//! (STATUS:CANCELLED on that VEVENT) without touching the others, and keep each VEVENT small
//! enough for the byte cap to drop whole sessions, soonest kept.
//!
//! The cost is UID stability when a session moves. UIDs are therefore:
//! - `<offering-id>@<domain>` for an offering with one occurrence that is not a series (the
//!   common one-off webinar): rescheduling it is an edit of the same event, which clients apply
//!   because SEQUENCE went up;
//! - `<offering-id>-<start as UTC YYYYMMDDTHHMMSSZ>@<domain>` for each session of a series or
//!   multi-session course: sliding the window or adding a session never renames the others. A
//!   session the source moved (an iCalendar RECURRENCE-ID override) is keyed by the start the
//!   series first gave it ([`Occurrence::recurrence_id`]), so clients see the same event at its
//!   new time; a session that moves in a source without recurrence identity appears as a new
//!   event and the old one disappears on the next refresh.
//!
//! # Time zones
//! Timed sessions are written in their offering's IANA zone with `TZID=<IANA name>` (what
//! Google and Apple look up) plus a VTIMEZONE generated from chrono-tz's transitions for the
//! span the feed's events cover (what Outlook and RFC-strict clients read); unknown zones fall
//! back to UTC (`...Z`), never to floating time. All-day sessions are `VALUE=DATE`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use coalesce_core::{Occurrence, Status};

use super::text::{clean_uri, escape_ical_text, push_folded};
use super::{FeedEntry, FeedMeta, details_text, display_title};

/// Caps on one calendar. Google Calendar stops reading subscribed feeds at about 1 MB, and a
/// feed nobody can load helps nobody, so the writer drops events rather than exceed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarLimits {
    pub max_events: usize,
    pub max_bytes: usize,
}

impl CalendarLimits {
    /// The most a request may ask for; the route clamps parameters with [`CalendarLimits::clamped`].
    pub const CEILING: CalendarLimits = CalendarLimits {
        max_events: 10_000,
        max_bytes: 8_000_000,
    };

    /// Request parameters brought within [`CalendarLimits::CEILING`] (and at least one event /
    /// 4 KiB, so a calendar always fits its own header).
    pub fn clamped(max_events: usize, max_bytes: usize) -> CalendarLimits {
        CalendarLimits {
            max_events: max_events.clamp(1, Self::CEILING.max_events),
            max_bytes: max_bytes.clamp(4096, Self::CEILING.max_bytes),
        }
    }
}

impl Default for CalendarLimits {
    /// Under Google's ~1 MB with room to spare; 1,500 events of ~600 bytes fit.
    fn default() -> Self {
        CalendarLimits {
            max_events: 1_500,
            max_bytes: 1_000_000,
        }
    }
}

/// A written calendar and what the route needs for its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The bytes to serve (`text/calendar; charset=utf-8`), CRLF line ends.
    pub body: String,
    /// VEVENTs written.
    pub events: usize,
    /// Events left out by the caps (the latest ones); the route may report it in a header.
    pub omitted: usize,
    /// The newest `updated_at` among the written events, for `Last-Modified`.
    pub last_modified: Option<DateTime<Utc>>,
}

/// The UID of one occurrence of an entry (see the module docs for the rule).
pub fn event_uid(entry: &FeedEntry<'_>, occurrence: &Occurrence, domain: &str) -> String {
    let o = entry.offering;
    if o.occurrences.len() == 1 && !o.recurring {
        format!("{}@{}", entry.id, domain)
    } else {
        // A moved session keeps the UID of the start the series first gave it.
        let s = occurrence
            .recurrence_id
            .unwrap_or_else(|| occurrence.start.with_timezone(&Utc));
        format!(
            "{}-{:04}{:02}{:02}T{:02}{:02}{:02}Z@{}",
            entry.id,
            s.year(),
            s.month(),
            s.day(),
            s.hour(),
            s.minute(),
            s.second(),
            domain
        )
    }
}

/// One session to write.
struct Event<'e, 'a> {
    entry: &'e FeedEntry<'a>,
    occurrence: &'e Occurrence,
    uid: String,
    start: i64,
    end: i64,
    /// `None`: all-day, or the zone is unknown/UTC and times are written in UTC.
    zone: Option<Tz>,
}

fn collect<'e, 'a>(entries: &'e [FeedEntry<'a>], domain: &str) -> Vec<Event<'e, 'a>> {
    let mut seen = HashSet::new();
    let mut events = Vec::new();
    for entry in entries {
        let zone = entry
            .offering
            .timezone
            .as_deref()
            .and_then(|z| z.parse::<Tz>().ok())
            // UTC needs no VTIMEZONE: write `...Z`.
            .filter(|tz| !is_utc(*tz));
        for occurrence in &entry.offering.occurrences {
            let uid = event_uid(entry, occurrence, domain);
            // The same offering listed twice, or two sessions at one instant, would give two
            // VEVENTs with one UID, which clients merge unpredictably: keep the first.
            if !seen.insert(uid.clone()) {
                continue;
            }
            let start = occurrence.start.timestamp();
            let end = occurrence.end.map_or(start, |e| e.timestamp().max(start));
            events.push(Event {
                entry,
                occurrence,
                uid,
                start,
                end,
                zone: if occurrence.all_day { None } else { zone },
            });
        }
    }
    events
}

fn is_utc(tz: Tz) -> bool {
    matches!(
        tz,
        Tz::UTC
            | Tz::Etc__UTC
            | Tz::Etc__UCT
            | Tz::Etc__GMT
            | Tz::Etc__Universal
            | Tz::Etc__Zulu
            | Tz::GMT
            | Tz::Universal
            | Tz::Zulu
            | Tz::UCT
    )
}

/// Writes the subscribable calendar for `entries` (already filtered by the search, one entry per
/// duplicate cluster).
///
/// Truncation keeps the soonest events: sessions not yet over at `meta.generated_at` by start,
/// then past sessions from the most recent back; the kept events are written in chronological
/// order. When events are left out, the calendar description says so.
pub fn write_calendar(
    meta: &FeedMeta,
    entries: &[FeedEntry<'_>],
    limits: &CalendarLimits,
) -> Calendar {
    let now = meta.generated_at.timestamp();
    let mut events = collect(entries, &meta.uid_domain);
    let total = events.len();
    events.sort_by(|a, b| {
        let a_up = a.end >= now;
        let b_up = b.end >= now;
        b_up.cmp(&a_up)
            .then_with(|| {
                if a_up {
                    a.start.cmp(&b.start)
                } else {
                    b.start.cmp(&a.start)
                }
            })
            .then_with(|| a.uid.cmp(&b.uid))
    });
    events.truncate(limits.max_events);

    // Render every candidate once; the VEVENT text does not depend on which others are kept.
    let rendered: Vec<String> = events.iter().map(render_event).collect();

    // Budget: the header (with the worst-case truncation note), each zone's VTIMEZONE over the
    // span of all its candidates (an upper bound: fewer kept events never add transitions) and
    // the events in priority order.
    let worst_header = header(meta, Some((total, total))).len();
    let mut zone_bounds: BTreeMap<&str, (Tz, i64, i64)> = BTreeMap::new();
    for e in &events {
        if let Some(tz) = e.zone {
            let span = zone_bounds.entry(tz.name()).or_insert((tz, e.start, e.end));
            span.1 = span.1.min(e.start);
            span.2 = span.2.max(e.end);
        }
    }
    let zone_cost: BTreeMap<&str, usize> = zone_bounds
        .iter()
        .map(|(name, (tz, from, to))| (*name, vtimezone(*tz, *from, *to).len()))
        .collect();
    let mut used = worst_header + FOOTER.len();
    let mut charged = HashSet::new();
    let mut keep = 0;
    for (e, text) in events.iter().zip(&rendered) {
        let mut cost = text.len();
        if let Some(tz) = e.zone
            && !charged.contains(tz.name())
        {
            cost += zone_cost.get(tz.name()).copied().unwrap_or(0);
        }
        if used + cost > limits.max_bytes {
            break;
        }
        used += cost;
        if let Some(tz) = e.zone {
            charged.insert(tz.name());
        }
        keep += 1;
    }

    let mut kept: Vec<(&Event<'_, '_>, &String)> =
        events.iter().zip(&rendered).take(keep).collect();
    kept.sort_by(|a, b| {
        a.0.start
            .cmp(&b.0.start)
            .then_with(|| a.0.uid.cmp(&b.0.uid))
    });
    let omitted = total - keep;
    let note = (omitted > 0).then_some((keep, total));
    let mut body = header(meta, note);
    body.reserve(used);
    push_zones(&mut body, kept.iter().map(|(e, _)| *e));
    for (_, text) in &kept {
        body.push_str(text);
    }
    body.push_str(FOOTER);
    Calendar {
        body,
        events: keep,
        omitted,
        last_modified: kept.iter().map(|(e, _)| e.entry.updated_at).max(),
    }
}

/// "Add to my calendar" for one offering: every occurrence, the same UIDs as in the
/// subscribable calendar (so importing it and subscribing do not duplicate), no refresh hints.
/// `None` when the offering has no dated occurrence (a self-paced resource has nothing to add).
pub fn write_offering_ics(entry: &FeedEntry<'_>, uid_domain: &str) -> Option<String> {
    let mut events = collect(std::slice::from_ref(entry), uid_domain);
    if events.is_empty() {
        return None;
    }
    events.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.uid.cmp(&b.uid)));
    let mut body = String::with_capacity(1024 * events.len().min(64));
    push_folded(&mut body, "BEGIN:VCALENDAR");
    push_folded(&mut body, PRODID);
    push_folded(&mut body, "VERSION:2.0");
    push_folded(&mut body, "CALSCALE:GREGORIAN");
    push_folded(&mut body, "METHOD:PUBLISH");
    push_zones(&mut body, events.iter());
    for e in &events {
        body.push_str(&render_event(e));
    }
    body.push_str(FOOTER);
    Some(body)
}

const PRODID: &str = concat!(
    "PRODID:-//coalesce//coalesce ",
    env!("CARGO_PKG_VERSION"),
    "//EN"
);
const FOOTER: &str = "END:VCALENDAR\r\n";

fn header(meta: &FeedMeta, truncated: Option<(usize, usize)>) -> String {
    let mut out = String::with_capacity(1024);
    let mut line = String::with_capacity(256);
    push_folded(&mut out, "BEGIN:VCALENDAR");
    push_folded(&mut out, PRODID);
    push_folded(&mut out, "VERSION:2.0");
    push_folded(&mut out, "CALSCALE:GREGORIAN");
    push_folded(&mut out, "METHOD:PUBLISH");
    let mut description = meta.description.clone();
    if let Some((kept, total)) = truncated {
        let _ = write!(
            description,
            "\nShowing the {kept} soonest of {total} events; narrow the search to see the rest."
        );
    }
    for (name, value) in [
        ("NAME", meta.name.as_str()),
        ("X-WR-CALNAME", meta.name.as_str()),
        ("DESCRIPTION", description.as_str()),
        ("X-WR-CALDESC", description.as_str()),
    ] {
        text_prop(&mut out, &mut line, name, value);
    }
    if let Some(url) = clean_uri(&meta.self_url) {
        line.clear();
        line.push_str("SOURCE;VALUE=URI:");
        line.push_str(url);
        push_folded(&mut out, &line);
    }
    // At least an hour: a client told to poll every minute would hammer the service.
    let refresh = duration_value(meta.refresh.as_secs().max(3600));
    push_folded(
        &mut out,
        &format!("REFRESH-INTERVAL;VALUE=DURATION:{refresh}"),
    );
    push_folded(&mut out, &format!("X-PUBLISHED-TTL:{refresh}"));
    out
}

/// An RFC 5545 DURATION for whole seconds (`P1D`, `PT12H`, `PT1H30M`).
fn duration_value(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let mut out = String::from("P");
    if days > 0 {
        let _ = write!(out, "{days}D");
    }
    if rest > 0 {
        out.push('T');
        for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
            if n > 0 {
                let _ = write!(out, "{n}{unit}");
            }
        }
    }
    if out == "P" {
        out.push_str("T0S");
    }
    out
}

fn text_prop(out: &mut String, line: &mut String, name: &str, value: &str) {
    line.clear();
    line.push_str(name);
    line.push(':');
    escape_ical_text(line, value);
    push_folded(out, line);
}

fn push_utc(line: &mut String, ts: i64) {
    let dt = DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc();
    push_naive(line, dt);
    line.push('Z');
}

fn push_naive(line: &mut String, dt: NaiveDateTime) {
    let _ = write!(
        line,
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
}

fn push_date(line: &mut String, d: NaiveDate) {
    let _ = write!(line, "{:04}{:02}{:02}", d.year(), d.month(), d.day());
}

/// `DTSTART`/`DTEND` for an instant: local time with TZID, or UTC.
fn push_instant(out: &mut String, line: &mut String, name: &str, ts: i64, zone: Option<Tz>) {
    line.clear();
    line.push_str(name);
    let utc = DateTime::from_timestamp(ts, 0).unwrap_or_default();
    match zone {
        Some(tz) => {
            line.push_str(";TZID=");
            line.push_str(tz.name());
            line.push(':');
            push_naive(line, utc.with_timezone(&tz).naive_local());
        }
        None => {
            line.push(':');
            push_utc(line, ts);
        }
    }
    push_folded(out, line);
}

fn render_event(e: &Event<'_, '_>) -> String {
    let entry = e.entry;
    let o = entry.offering;
    let mut out = String::with_capacity(768);
    let mut line = String::with_capacity(256);
    push_folded(&mut out, "BEGIN:VEVENT");
    text_prop(&mut out, &mut line, "UID", &e.uid);
    let stamp = entry.updated_at.timestamp();
    for name in ["DTSTAMP", "LAST-MODIFIED"] {
        line.clear();
        line.push_str(name);
        line.push(':');
        push_utc(&mut line, stamp);
        push_folded(&mut out, &line);
    }
    push_folded(&mut out, &format!("SEQUENCE:{}", entry.sequence));

    if e.occurrence.all_day {
        // `start` is local midnight of the first day with that day's offset, so its own date is
        // the local date; the end is the exclusive midnight after the last day.
        let first = e.occurrence.start.date_naive();
        let after = e
            .occurrence
            .end
            .map(|end| end.date_naive())
            .filter(|d| *d > first)
            .or_else(|| first.checked_add_days(Days::new(1)))
            .unwrap_or(first);
        for (name, d) in [("DTSTART", first), ("DTEND", after)] {
            line.clear();
            line.push_str(name);
            line.push_str(";VALUE=DATE:");
            push_date(&mut line, d);
            push_folded(&mut out, &line);
        }
    } else {
        push_instant(&mut out, &mut line, "DTSTART", e.start, e.zone);
        // Without an end RFC 5545 makes the event end at its start; saying more would invent
        // a duration the provider did not publish.
        if e.occurrence.end.is_some() {
            push_instant(&mut out, &mut line, "DTEND", e.end, e.zone);
        }
    }

    let title = display_title(&o.title, o.status, e.occurrence.cancelled);
    text_prop(&mut out, &mut line, "SUMMARY", &title);
    let status = if o.status == Status::Cancelled || e.occurrence.cancelled {
        "CANCELLED"
    } else if o.status == Status::Postponed {
        "TENTATIVE"
    } else {
        "CONFIRMED"
    };
    push_folded(&mut out, &format!("STATUS:{status}"));
    let mut details = details_text(entry);
    if e.occurrence.cancelled && o.status != Status::Cancelled {
        details.insert_str(0, "This session is CANCELLED.\n");
    }
    text_prop(&mut out, &mut line, "DESCRIPTION", &details);
    if let Some(loc) = location_text(entry) {
        text_prop(&mut out, &mut line, "LOCATION", &loc);
    }
    if let Some(geo) = o.location.as_ref().and_then(|l| l.geo)
        && geo.lat.is_finite()
        && geo.lon.is_finite()
    {
        push_folded(&mut out, &format!("GEO:{:.6};{:.6}", geo.lat, geo.lon));
    }
    let url = o
        .url
        .as_deref()
        .and_then(clean_uri)
        .or_else(|| clean_uri(&entry.detail_url));
    if let Some(url) = url {
        line.clear();
        line.push_str("URL:");
        line.push_str(url);
        push_folded(&mut out, &line);
    }
    let labels: Vec<&str> = entry
        .topic_labels
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    if !labels.is_empty() {
        line.clear();
        line.push_str("CATEGORIES:");
        for (i, label) in labels.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            escape_ical_text(&mut line, label);
        }
        push_folded(&mut out, &line);
    }
    push_folded(&mut out, "END:VEVENT");
    out
}

/// What a calendar shows as the place: the venue's parts without repeats, or "Online".
fn location_text(entry: &FeedEntry<'_>) -> Option<String> {
    let o = entry.offering;
    let mut parts: Vec<&str> = Vec::new();
    if let Some(loc) = &o.location {
        for part in [
            &loc.name,
            &loc.address,
            &loc.locality,
            &loc.region,
            &loc.country,
        ]
        .into_iter()
        .flatten()
        {
            let part = part.trim();
            // Providers often repeat the city inside the address; say it once.
            if !part.is_empty() && !parts.iter().any(|p| p.contains(part)) {
                parts.push(part);
            }
        }
    }
    if parts.is_empty() {
        return matches!(o.modality, Some(coalesce_core::Modality::Online))
            .then(|| "Online".to_owned());
    }
    Some(parts.join(", "))
}

/// Appends one VTIMEZONE per zone the events use, in TZID order, each covering its events' span.
fn push_zones<'x, 'e: 'x, 'a: 'e>(
    out: &mut String,
    events: impl Iterator<Item = &'x Event<'e, 'a>>,
) {
    let mut spans: BTreeMap<&str, (Tz, i64, i64)> = BTreeMap::new();
    for e in events {
        if let Some(tz) = e.zone {
            let span = spans.entry(tz.name()).or_insert((tz, e.start, e.end));
            span.1 = span.1.min(e.start);
            span.2 = span.2.max(e.end);
        }
    }
    for (tz, from, to) in spans.values() {
        out.push_str(&vtimezone(*tz, *from, *to));
    }
}

/// The UTC offset rules of `tz` at one instant: total offset in seconds, whether it is daylight
/// time, and the abbreviation.
fn offset_at(tz: Tz, ts: i64) -> (i32, bool, String) {
    let utc = DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .naive_utc();
    let off = tz.offset_from_utc_datetime(&utc);
    let total = off.fix().local_minus_utc();
    let dst = !off.dst_offset().is_zero();
    (
        total,
        dst,
        off.abbreviation().unwrap_or_default().to_owned(),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Transition {
    /// First UTC second of the new offset.
    at: i64,
    from: i32,
    to: i32,
    dst: bool,
    name: String,
}

/// Offset changes of `tz` between two instants. Zones change at most a few times a year, so a
/// day-by-day scan finds every change (two changes within one day cancel out and matter to
/// nobody) and a binary search pins it to the second.
fn transitions(tz: Tz, from: i64, to: i64) -> Vec<Transition> {
    const STEP: i64 = 86_400;
    let mut out = Vec::new();
    let mut t = from;
    let mut cur = offset_at(tz, t);
    while t < to {
        let next_t = (t + STEP).min(to);
        let next = offset_at(tz, next_t);
        if (next.0, next.1) != (cur.0, cur.1) {
            let (mut lo, mut hi) = (t, next_t);
            // Invariant: the offset at lo is `cur`, at hi it is `next`.
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if (offset_at(tz, mid).0, offset_at(tz, mid).1) == (cur.0, cur.1) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let new = offset_at(tz, hi);
            out.push(Transition {
                at: hi,
                from: cur.0,
                to: new.0,
                dst: new.1,
                name: new.2.clone(),
            });
            cur = new;
        }
        t = next_t;
    }
    out
}

/// One VTIMEZONE for `tz` valid from `from` to `to` (UTC seconds): the rule in force at `from`
/// (its real onset when it began within the past ~13 months, else 1970 with no offset change)
/// and every transition up to `to`. Transitions with the same offsets and name share one
/// STANDARD/DAYLIGHT component with RDATEs, which keeps a multi-year span small.
fn vtimezone(tz: Tz, from: i64, to: i64) -> String {
    const LOOKBACK: i64 = 400 * 86_400;
    let all = transitions(tz, from - LOOKBACK, to);
    let (before, within): (Vec<_>, Vec<_>) = all.into_iter().partition(|t| t.at <= from);
    let initial = before.into_iter().last().unwrap_or_else(|| {
        let (off, dst, name) = offset_at(tz, from);
        Transition {
            at: i64::MIN,
            from: off,
            to: off,
            dst,
            name,
        }
    });

    // Groups in order of first appearance, each with its onsets as local times (RFC 5545 writes
    // an onset in the local time before the change, i.e. with TZOFFSETFROM).
    let mut groups: Vec<(Transition, Vec<NaiveDateTime>)> = Vec::new();
    for t in std::iter::once(initial).chain(within) {
        let onset = if t.at == i64::MIN {
            NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default()
        } else {
            DateTime::from_timestamp(t.at + i64::from(t.from), 0)
                .unwrap_or_default()
                .naive_utc()
        };
        match groups
            .iter_mut()
            .find(|(g, _)| g.from == t.from && g.to == t.to && g.dst == t.dst && g.name == t.name)
        {
            Some((_, onsets)) => onsets.push(onset),
            None => groups.push((t, vec![onset])),
        }
    }

    let mut out = String::with_capacity(512);
    let mut line = String::with_capacity(128);
    push_folded(&mut out, "BEGIN:VTIMEZONE");
    text_prop(&mut out, &mut line, "TZID", tz.name());
    // Lightning/Thunderbird and Evolution match zones by this before trusting the rules.
    text_prop(&mut out, &mut line, "X-LIC-LOCATION", tz.name());
    for (t, onsets) in &groups {
        let kind = if t.dst { "DAYLIGHT" } else { "STANDARD" };
        push_folded(&mut out, &format!("BEGIN:{kind}"));
        line.clear();
        line.push_str("DTSTART:");
        push_naive(&mut line, onsets[0]);
        push_folded(&mut out, &line);
        if onsets.len() > 1 {
            line.clear();
            line.push_str("RDATE:");
            for (i, onset) in onsets[1..].iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                push_naive(&mut line, *onset);
            }
            push_folded(&mut out, &line);
        }
        push_folded(&mut out, &format!("TZOFFSETFROM:{}", utc_offset(t.from)));
        push_folded(&mut out, &format!("TZOFFSETTO:{}", utc_offset(t.to)));
        if !t.name.is_empty() {
            text_prop(&mut out, &mut line, "TZNAME", &t.name);
        }
        push_folded(&mut out, &format!("END:{kind}"));
    }
    push_folded(&mut out, "END:VTIMEZONE");
    out
}

/// `+0100`, `-0430`, `+053010` (RFC 5545 UTC-OFFSET; seconds only when present).
fn utc_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a % 3600 / 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_rfc5545() {
        let cases = [
            (3600, "PT1H"),
            (43_200, "PT12H"),
            (86_400, "P1D"),
            (90_000, "P1DT1H"),
            (5400, "PT1H30M"),
            (0, "PT0S"),
        ];
        for (secs, want) in cases {
            assert_eq!(duration_value(secs), want, "{secs}");
        }
    }

    #[test]
    fn offsets_are_rfc5545() {
        assert_eq!(utc_offset(3600), "+0100");
        assert_eq!(utc_offset(-16_200), "-0430");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(19_800 + 10), "+053010");
    }

    #[test]
    fn berlin_transitions_in_2026_are_found_to_the_second() {
        let from = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let to = Utc
            .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let ts = transitions(Tz::Europe__Berlin, from, to);
        assert_eq!(ts.len(), 2);
        // 29 March 2026 01:00 UTC and 25 October 2026 01:00 UTC.
        assert_eq!(
            ts[0].at,
            Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0)
                .unwrap()
                .timestamp()
        );
        assert_eq!((ts[0].from, ts[0].to, ts[0].dst), (3600, 7200, true));
        assert_eq!(
            ts[1].at,
            Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0)
                .unwrap()
                .timestamp()
        );
        assert_eq!(ts[1].name, "CET");
    }

    #[test]
    fn vtimezone_onsets_are_written_in_the_local_time_before_the_change() {
        let from = Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let to = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let v = vtimezone(Tz::America__New_York, from, to);
        // Onset of EDT (8 March 2026, 2:00 EST) and of EST (1 November 2026, 2:00 EDT).
        assert!(v.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260308T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"), "{v}");
        assert!(v.contains("BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"), "{v}");
    }

    #[test]
    fn zone_without_dst_gets_one_component_from_1970() {
        let from = Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let v = vtimezone(Tz::Asia__Tokyo, from, from + 86_400 * 30);
        assert!(v.contains("BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\n"), "{v}");
        assert_eq!(
            v.matches("BEGIN:STANDARD").count() + v.matches("BEGIN:DAYLIGHT").count(),
            1
        );
    }
}
