//! iCalendar: events, time zones, recurrence.
//!
//! Every VEVENT becomes part of one [`Draft`] per UID: the master event gives the fields and
//! the series, RECURRENCE-ID overrides move, retitle or cancel single instances. VTODO and
//! VJOURNAL are not offerings and are skipped.
//!
//! Choices worth knowing:
//! - An override with `STATUS:CANCELLED` keeps its occurrence, marked `cancelled`, so a
//!   learner sees "this session is off" instead of a silent gap (recurring-ical-events counts it
//!   the same way). EXDATE removes instances.
//! - Recurring series are expanded inside the window; a single event keeps its one occurrence
//!   wherever it lies. The window is read both as instants and as wall-clock time, so a daily
//!   20:00 session in New York on the window's last evening is inside it.
//! - Occurrences are in the offset of the event's zone; `Draft::timezone` is its IANA name.

mod reader;
mod recur;
mod time;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use coalesce_core::{Geo, Location, Occurrence, Status};

use crate::draft::Draft;
use crate::{Ctx, Doc, Extracted, ParseError, WarningCode};
use reader::{Component, Tree, split_list, unescape};
use recur::RuleError;
use time::{Stamp, ZoneNote, Zones, parse_duration};

pub(crate) fn extract(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    let limits = ctx.hints.limits;
    let refolded = unfold_bytes_if_split(doc, ctx);
    let text = refolded.as_deref().unwrap_or(doc.text);
    let tree = reader::read(text, limits.max_ical_nesting, limits.max_ical_components)?;
    report_repairs(&tree, ctx);
    if !tree
        .components
        .iter()
        .any(|c| c.name == "VCALENDAR" || c.name == "VEVENT")
    {
        return Err(ParseError::malformed(
            doc.kind,
            "no vcalendar or vevent component found",
        ));
    }

    let calendar = tree.components.iter().find(|c| c.name == "VCALENDAR");
    let title = calendar
        .and_then(|c| c.prop("X-WR-CALNAME"))
        .map(|p| unescape(&p.value).trim().to_string())
        .filter(|t| !t.is_empty());
    let x_wr = calendar
        .and_then(|c| c.prop("X-WR-TIMEZONE"))
        .map(|p| p.value.trim().to_string());
    let x_wr_zone = match x_wr.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => {
            let tz = crate::tz::resolve(name);
            if tz.is_none() {
                ctx.warn(
                    WarningCode::UnknownTimezone,
                    None,
                    format!(
                        "x-wr-timezone {:?} names no known zone and was ignored",
                        short(name, 80)
                    ),
                );
            }
            tz
        }
    };
    let mut zones = Zones::new(&tree, x_wr_zone, ctx.hints.timezone);

    // VEVENTs grouped by UID, in document order; events without a UID stand alone.
    let mut groups: Vec<Vec<(usize, &Component)>> = Vec::new();
    let mut by_uid: HashMap<&str, usize> = HashMap::new();
    let events = tree.components.iter().filter(|c| c.name == "VEVENT");
    for (ordinal, event) in events.enumerate() {
        let uid = event
            .prop("UID")
            .map(|p| p.value.trim())
            .filter(|u| !u.is_empty());
        match uid.and_then(|u| by_uid.get(u).copied()) {
            Some(g) => groups[g].push((ordinal, event)),
            None => {
                if let Some(u) = uid {
                    by_uid.insert(u, groups.len());
                }
                groups.push(vec![(ordinal, event)]);
            }
        }
    }

    let mut drafts = Vec::with_capacity(groups.len().min(limits.max_items));
    for group in &groups {
        if drafts.len() >= limits.max_items {
            // finish_all reports the overflow; no need to expand what will be dropped.
            drafts.push(Draft {
                index: group[0].0,
                ..Draft::default()
            });
            continue;
        }
        if let Some(d) = build_draft(group, &mut zones, ctx) {
            drafts.push(d);
        }
    }
    Ok(Extracted {
        title,
        drafts,
        ttl: None,
        platform: None,
        next_page: None,
    })
}

/// Writers that fold at 75 octets without minding UTF-8 split multibyte characters across a
/// fold, which decoding before unfolding turns into U+FFFD. When that may have happened, the
/// bytes are unfolded first and decoded again; if that decodes cleanly, the lossy-decode
/// warning was the fold's fault and is withdrawn.
fn unfold_bytes_if_split(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Option<String> {
    if doc.encoding != encoding_rs::UTF_8 || !doc.text.contains('\u{fffd}') {
        return None;
    }
    let bytes = doc.bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(doc.bytes);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let fold = match bytes[i] {
            b'\r'
                if bytes.get(i + 1) == Some(&b'\n')
                    && matches!(bytes.get(i + 2), Some(b' ' | b'\t')) =>
            {
                3
            }
            b'\n' | b'\r' if matches!(bytes.get(i + 1), Some(b' ' | b'\t')) => 2,
            _ => 0,
        };
        if fold > 0 {
            i += fold;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = match String::from_utf8(out) {
        Ok(clean) => {
            ctx.warnings.retain(|w| w.code != WarningCode::LossyDecode);
            clean
        }
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Some(text)
}

fn report_repairs(tree: &Tree, ctx: &mut Ctx<'_>) {
    let mut repaired = Vec::new();
    if tree.garbage_lines > 0 {
        repaired.push(format!(
            "{} lines that are not content lines were skipped",
            tree.garbage_lines
        ));
    }
    if tree.unclosed > 0 {
        repaired.push(format!(
            "{} components without END were closed",
            tree.unclosed
        ));
    }
    if tree.stray_ends > 0 {
        repaired.push(format!(
            "{} END lines without BEGIN were ignored",
            tree.stray_ends
        ));
    }
    if tree.orphan_props > 0 {
        repaired.push(format!(
            "{} properties outside any component were ignored",
            tree.orphan_props
        ));
    }
    for msg in repaired {
        ctx.warn(WarningCode::Repaired, None, msg);
    }
    if tree.dropped_components > 0 {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!(
                "calendar has more than {} components; {} were not read",
                ctx.hints.limits.max_ical_components, tree.dropped_components
            ),
        );
    }
}

/// How long each instance lasts.
#[derive(Debug, Clone, Copy)]
enum Length {
    /// Whole days (DATE events).
    Days(i64),
    /// An exact span (DATE-TIME events).
    Exact(Duration),
}

/// One VEVENT's times, read.
struct Timing {
    start: Stamp,
    length: Length,
}

fn build_draft(
    group: &[(usize, &Component)],
    zones: &mut Zones<'_>,
    ctx: &mut Ctx<'_>,
) -> Option<Draft> {
    // The master is the event without RECURRENCE-ID; of several, the highest SEQUENCE (the
    // latest in the document on a tie) is the current version.
    let master = group
        .iter()
        .filter(|(_, c)| c.prop("RECURRENCE-ID").is_none())
        .max_by_key(|(i, c)| (sequence(c), *i))
        .copied();
    let overrides: Vec<(usize, &Component)> = group
        .iter()
        .filter(|(_, c)| c.prop("RECURRENCE-ID").is_some())
        .copied()
        .collect();
    let (index, head) = master.or_else(|| overrides.first().copied())?;

    let mut draft = Draft {
        index,
        ..Draft::default()
    };
    fill_fields(&mut draft, head);

    let head_timing = timing(head, index, zones, ctx);
    if let Some(t) = &head_timing {
        draft.timezone = Some(t.start.zone.name().to_string());
    }
    let is_series = master.is_some() && ["RRULE", "RDATE"].iter().any(|n| head.prop(n).is_some())
        || !overrides.is_empty();
    draft.recurring = is_series;

    match (master, head_timing) {
        (Some(_), Some(t)) if is_series => {
            draft.occurrences = expand_series(head, &t, &overrides, index, zones, ctx);
        }
        (Some(_), Some(t)) => {
            draft.occurrences = occurrence(&t, t.start.local, None, ctx.hints.window)
                .into_iter()
                .collect();
        }
        (None, _) => {
            // Only modified instances of a series we were not given: each is an occurrence.
            for (i, c) in &overrides {
                if let Some(t) = timing(c, *i, zones, ctx)
                    && let Some(mut occ) = occurrence(&t, t.start.local, None, ctx.hints.window)
                {
                    occ.cancelled = is_cancelled(c);
                    draft.occurrences.push(occ);
                }
            }
        }
        (Some(_), None) => {}
    }
    let max = ctx.occurrence_cap();
    if draft.occurrences.len() > max {
        draft.occurrences.sort_by_key(|o| o.start);
        draft.occurrences.truncate(max);
        ctx.warn(
            WarningCode::RecurrenceCapped,
            Some(index),
            format!(
                "series has more than {max} occurrences in the window; the first {max} were kept"
            ),
        );
    }
    ctx.spend_occurrences(draft.occurrences.len());
    Some(draft)
}

fn fill_fields(d: &mut Draft, c: &Component) {
    let text = |name: &str| -> Option<String> {
        c.prop(name)
            .map(|p| unescape(&p.value))
            .filter(|s| !s.trim().is_empty())
    };
    d.guid = c
        .prop("UID")
        .map(|p| p.value.trim().to_string())
        .filter(|u| !u.is_empty());
    d.title = text("SUMMARY");
    d.description_text = text("DESCRIPTION");
    d.description_html = c
        .props("X-ALT-DESC")
        .find(|p| {
            p.param("FMTTYPE")
                .is_some_and(|f| f.eq_ignore_ascii_case("text/html"))
        })
        .map(|p| unescape(&p.value))
        .filter(|s| !s.trim().is_empty());
    // Many event plugins put their HTML straight into DESCRIPTION. Read as text, its links
    // (often the only registration link) would be lost in the markup; read as HTML, the
    // finishing stage sanitizes it and sees them.
    if d.description_html.is_none() && d.description_text.as_deref().is_some_and(looks_like_html) {
        d.description_html = d.description_text.take();
    }
    d.url = c
        .prop("URL")
        .map(|p| unescape(p.value.trim()))
        .filter(|s| !s.is_empty());
    d.location_text = text("LOCATION");
    if let Some(geo) = c.prop("GEO").and_then(|p| parse_geo(&p.value)) {
        let name = d
            .location_text
            .clone()
            .filter(|t| !t.trim_start().starts_with("http"));
        d.location = Some(Location {
            name,
            geo: Some(geo),
            ..Location::default()
        });
    }
    for p in c.props("CATEGORIES") {
        for cat in split_list(&p.value) {
            let mut cat = unescape(cat);
            // Most categories need no trimming: keep the unescaped copy as it is.
            if cat.trim().len() != cat.len() {
                cat = cat.trim().to_string();
            }
            if !cat.is_empty() {
                d.categories.push(cat);
            }
        }
    }
    if is_cancelled(c) {
        d.status = Status::Cancelled;
    }
    d.sequence = sequence(c);
    d.updated_at = c
        .prop("LAST-MODIFIED")
        .or_else(|| c.prop("DTSTAMP"))
        .and_then(|p| utc_stamp(&p.value));
    d.published_at = c.prop("CREATED").and_then(|p| utc_stamp(&p.value));
    d.organizer = c
        .prop("ORGANIZER")
        .and_then(|p| p.param("CN"))
        .map(|cn| cn.trim().to_string())
        .filter(|cn| !cn.is_empty());
}

/// Whether text carries HTML markup: a start or end tag of an element descriptions use.
fn looks_like_html(s: &str) -> bool {
    const TAGS: &[&str] = &[
        "a",
        "p",
        "br",
        "div",
        "span",
        "strong",
        "b",
        "i",
        "em",
        "u",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "td",
        "img",
        "hr",
        "blockquote",
        "font",
    ];
    let bytes = s.as_bytes();
    memchr::memchr_iter(b'<', bytes).any(|i| {
        let rest = &s[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name_len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let after = rest.as_bytes().get(name_len).copied();
        name_len > 0
            && matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/'))
            && TAGS
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&rest[..name_len]))
    })
}

fn is_cancelled(c: &Component) -> bool {
    c.prop("STATUS")
        .is_some_and(|p| p.value.trim().eq_ignore_ascii_case("CANCELLED"))
}

fn sequence(c: &Component) -> u32 {
    c.prop("SEQUENCE")
        .and_then(|p| p.value.trim().parse().ok())
        .unwrap_or(0)
}

fn parse_geo(s: &str) -> Option<Geo> {
    // Some writers escape the separator (`GEO:48.1\;11.5`) or use a comma.
    let s = s.replace('\\', "");
    let (lat, lon) = s.split_once([';', ','])?;
    Geo::new(lat.trim().parse().ok()?, lon.trim().parse().ok()?)
}

/// Timestamps like LAST-MODIFIED are UTC by definition; a floating one is read as UTC too.
fn utc_stamp(s: &str) -> Option<DateTime<Utc>> {
    match time::parse_value(s, None)? {
        time::Raw::Utc(n) | time::Raw::Local(n) => Some(n.and_utc()),
        time::Raw::Date(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
    }
}

fn note_zone(note: Option<ZoneNote>, index: usize, ctx: &mut Ctx<'_>) {
    match note {
        Some(ZoneNote::Unknown { tzid, used }) => ctx.warn(
            WarningCode::UnknownTimezone,
            Some(index),
            format!("tzid {tzid:?} names no known zone; {used} was used"),
        ),
        Some(ZoneNote::FloatingUtc) => ctx.warn(
            WarningCode::FloatingTime,
            Some(index),
            "floating time without x-wr-timezone or source zone was read as utc",
        ),
        None => {}
    }
}

/// DTSTART with DTEND or DURATION. `None` (with a warning) when DTSTART is missing or unreadable.
fn timing(c: &Component, index: usize, zones: &mut Zones<'_>, ctx: &mut Ctx<'_>) -> Option<Timing> {
    let Some(dtstart) = c.prop("DTSTART") else {
        ctx.warn(WarningCode::BadDate, Some(index), "event has no dtstart");
        return None;
    };
    let Some((start, note)) = zones.stamp(dtstart, &dtstart.value) else {
        ctx.warn(
            WarningCode::BadDate,
            Some(index),
            format!("dtstart {:?} is not a date", short(&dtstart.value, 40)),
        );
        return None;
    };
    note_zone(note, index, ctx);
    let mut start = start;
    let end = c
        .prop("DTEND")
        .and_then(|p| zones.stamp(p, &p.value))
        .map(|(s, _)| s);
    let duration = c.prop("DURATION").and_then(|p| parse_duration(&p.value));
    // Whole days written as times: Outlook's all-day flag on a midnight start, or local
    // midnight to the last minute of a day. Read as dates so the end is the next midnight
    // and the occurrence is all-day.
    let midnight = chrono::NaiveTime::MIN;
    let last_minute = |t: chrono::NaiveTime| t.hour() == 23 && t.minute() == 59;
    let flagged = c
        .prop("X-MICROSOFT-CDO-ALLDAYEVENT")
        .is_some_and(|p| p.value.trim().eq_ignore_ascii_case("TRUE"));
    let mut inclusive_end = false;
    if !start.date_only && start.local.time() == midnight {
        let end_local = end
            .filter(|e| !e.date_only && e.local > start.local)
            .map(|e| e.local);
        if end_local.is_some_and(|e| last_minute(e.time())) {
            start.date_only = true;
            inclusive_end = true;
        } else if flagged && end_local.is_none_or(|e| e.time() == midnight) {
            start.date_only = true;
        }
    }
    let length = if start.date_only {
        let days = match (end, duration) {
            (Some(e), _) => {
                (e.local.date() - start.local.date()).num_days() + i64::from(inclusive_end)
            }
            (None, Some(d)) => d.num_days(),
            (None, None) => 1,
        };
        Length::Days(days.clamp(1, 3660))
    } else {
        let span = match (end, duration) {
            (Some(e), _) => match (e.instant(), start.instant()) {
                (Some(e), Some(s)) => e - s,
                _ => Duration::zero(),
            },
            (None, Some(d)) => d,
            (None, None) => Duration::zero(),
        };
        // An end before the start is a writer's slip; zero length is the honest reading.
        Length::Exact(span.max(Duration::zero()).min(Duration::days(3660)))
    };
    Some(Timing { start, length })
}

/// One occurrence starting at wall-clock `local` in the event's zone.
fn occurrence(
    t: &Timing,
    local: NaiveDateTime,
    length: Option<Length>,
    _window: crate::Window,
) -> Option<Occurrence> {
    let zone = t.start.zone;
    let start = crate::dates::localize(local, Some(zone))?;
    let end = match length.unwrap_or(t.length) {
        Length::Days(days) => {
            let end_local = local.checked_add_signed(Duration::days(days))?;
            crate::dates::localize(end_local, Some(zone))?
        }
        Length::Exact(span) => {
            let end_utc = start.with_timezone(&Utc).checked_add_signed(span)?;
            zone.from_utc_datetime(&end_utc.naive_utc()).fixed_offset()
        }
    };
    Some(Occurrence {
        start,
        end: Some(end),
        all_day: t.start.date_only,
        cancelled: false,
        date_source: coalesce_core::DateSource::Structured,
        recurrence_id: None,
    })
}

/// Whether an occurrence overlaps the window, read as instants or as wall-clock time.
fn in_window(o: &Occurrence, w: crate::Window) -> bool {
    let end = o.end.unwrap_or(o.start);
    let instant = o.start < w.to && (end > w.from || o.start >= w.from);
    let (from, to) = (w.from.naive_utc(), w.to.naive_utc());
    let (s, e) = (o.start.naive_local(), end.naive_local());
    let wall = s < to && (e > from || s >= from);
    instant || wall
}

/// A date or date-time from EXDATE / RDATE / RECURRENCE-ID, in the series' wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mark {
    Day(NaiveDate),
    At(NaiveDateTime),
}

fn mark_in(stamp: &Stamp, series: &Stamp) -> Option<Mark> {
    let zone = series.zone;
    // A whole-day series is matched by the day the value names where it was written
    // (Exchange writes RECURRENCE-ID;TZID=...:20200416T000000 for all-day instances).
    if stamp.date_only || series.date_only {
        return Some(Mark::Day(stamp.local.date()));
    }
    if stamp.anchored && stamp.zone != zone {
        let instant = stamp.instant()?;
        return Some(Mark::At(instant.with_timezone(&zone).naive_local()));
    }
    Some(Mark::At(stamp.local))
}

fn marks(
    c: &Component,
    name: &str,
    series: &Stamp,
    zones: &mut Zones<'_>,
) -> Vec<(Mark, Option<Length>)> {
    let mut out = Vec::new();
    for p in c.props(name) {
        for item in p
            .value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(10_000)
        {
            // PERIOD values: start/end or start/duration.
            let (at, until) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let Some((stamp, _)) = zones.stamp(p, at) else {
                continue;
            };
            let Some(mark) = mark_in(&stamp, series) else {
                continue;
            };
            let length = until.and_then(|b| {
                if let Some(d) = parse_duration(b) {
                    return Some(Length::Exact(d.max(Duration::zero())));
                }
                let (end, _) = zones.stamp(p, b)?;
                Some(Length::Exact(
                    (end.instant()? - stamp.instant()?).max(Duration::zero()),
                ))
            });
            out.push((mark, length));
        }
    }
    out
}

fn expand_series(
    master: &Component,
    t: &Timing,
    overrides: &[(usize, &Component)],
    index: usize,
    zones: &mut Zones<'_>,
    ctx: &mut Ctx<'_>,
) -> Vec<Occurrence> {
    let window = ctx.hints.window;
    let max = ctx.occurrence_cap();
    let zone = t.start.zone;
    let dtstart = t.start.local;
    let slack = match t.length {
        Length::Days(d) => Duration::days(d + 2),
        Length::Exact(s) => s + Duration::days(2),
    };
    let from = window.from.naive_utc() - slack;
    let to = window.to.naive_utc() + Duration::days(2);

    // Wall-clock starts with an optional own length (RDATE periods).
    let mut starts: Vec<(NaiveDateTime, Option<Length>)> = vec![(dtstart, None)];
    let mut capped = false;
    for rule in master.props("RRULE") {
        match recur::expand(&rule.value, dtstart, zone, from, to, max + 64) {
            Ok(exp) => {
                capped |= exp.capped;
                starts.extend(exp.starts.into_iter().map(|s| (s, None)));
            }
            Err(RuleError::Bad(msg)) => {
                ctx.warn(
                    WarningCode::BadRecurrence,
                    Some(index),
                    format!("rrule {msg}; the first occurrence was kept"),
                );
            }
            Err(RuleError::Refused(msg)) => {
                ctx.warn(WarningCode::RecurrenceCapped, Some(index), msg);
            }
        }
    }
    for (mark, length) in marks(master, "RDATE", &t.start, zones) {
        match mark {
            Mark::At(n) => starts.push((n, length)),
            Mark::Day(d) => starts.push((d.and_time(dtstart.time()), length)),
        }
    }

    let mut ex_at: HashSet<NaiveDateTime> = HashSet::new();
    let mut ex_day: HashSet<NaiveDate> = HashSet::new();
    for (mark, _) in marks(master, "EXDATE", &t.start, zones) {
        match mark {
            Mark::At(n) if !t.start.date_only => {
                ex_at.insert(n);
            }
            Mark::At(n) => {
                ex_day.insert(n.date());
            }
            Mark::Day(d) => {
                ex_day.insert(d);
            }
        }
    }
    for rule in master.props("EXRULE") {
        match recur::expand(&rule.value, dtstart, zone, from, to, 100_000) {
            Ok(exp) => ex_at.extend(exp.starts),
            Err(RuleError::Bad(msg)) => {
                ctx.warn(
                    WarningCode::BadRecurrence,
                    Some(index),
                    format!("exrule {msg}; it was ignored"),
                );
            }
            Err(RuleError::Refused(_)) => {
                ctx.warn(
                    WarningCode::RecurrenceCapped,
                    Some(index),
                    "exrule is too dense to expand and was ignored",
                );
            }
        }
    }
    starts.retain(|(n, _)| !ex_at.contains(n) && !ex_day.contains(&n.date()));
    starts.sort_by_key(|(n, _)| *n);
    starts.dedup_by_key(|(n, _)| *n);

    let mut occurrences: Vec<(Option<NaiveDateTime>, Occurrence)> =
        Vec::with_capacity(starts.len());
    for (n, length) in starts {
        if let Some(o) = occurrence(t, n, length, window) {
            occurrences.push((Some(n), o));
        }
    }
    // Instances repeated across a DST fold or gap land on the same instant: keep one.
    occurrences.dedup_by(|a, b| a.1.start == b.1.start);

    // RANGE=THISANDFUTURE overrides: (original start, shift, new length) for later instances.
    let mut ranges: Vec<(NaiveDateTime, Duration, Option<Duration>)> = Vec::new();
    for (oi, ov) in overrides {
        let Some(rid) = ov.prop("RECURRENCE-ID") else {
            continue;
        };
        let Some((rid_stamp, _)) = zones.stamp(rid, &rid.value) else {
            ctx.warn(
                WarningCode::BadDate,
                Some(*oi),
                format!("recurrence-id {:?} is not a date", short(&rid.value, 40)),
            );
            continue;
        };
        let Some(mark) = mark_in(&rid_stamp, &t.start) else {
            continue;
        };
        let matches = |n: &NaiveDateTime| match mark {
            Mark::At(m) => *n == m,
            Mark::Day(d) => n.date() == d,
        };
        let replacement = match timing(ov, *oi, zones, ctx) {
            Some(ot) => occurrence(&ot, ot.start.local, None, window),
            // An override without DTSTART keeps the instance's time.
            None => None,
        };
        let cancelled = is_cancelled(ov);
        let this_and_future = rid
            .param("RANGE")
            .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
        if this_and_future
            && let (Mark::At(m), Some(o), Some(rid_at)) =
                (mark, replacement.as_ref(), rid_stamp.instant())
        {
            ranges.push((
                m,
                o.start.with_timezone(&Utc) - rid_at.with_timezone(&Utc),
                o.end.map(|e| e - o.start),
            ));
        }
        match occurrences
            .iter()
            .position(|(n, _)| n.as_ref().is_some_and(matches))
        {
            Some(pos) => {
                if let Some(mut o) = replacement {
                    let original = occurrences[pos].1.start;
                    if o.start != original {
                        o.recurrence_id = Some(original.with_timezone(&Utc));
                    }
                    occurrences[pos].1 = o;
                }
                occurrences[pos].0 = None;
                occurrences[pos].1.cancelled = cancelled;
            }
            None => {
                // The instance it moves lies outside what we expanded (or was never generated):
                // the override still stands on its own.
                if let Some(mut o) = replacement {
                    o.cancelled = cancelled;
                    o.recurrence_id = rid_stamp
                        .instant()
                        .map(|r| r.with_timezone(&Utc))
                        .filter(|r| *r != o.start.with_timezone(&Utc));
                    occurrences.push((None, o));
                }
            }
        }
    }

    ranges.sort_by_key(|r| r.0);
    for (n, o) in &mut occurrences {
        let Some(n) = *n else { continue };
        let Some((_, shift, length)) = ranges.iter().rev().find(|r| r.0 <= n) else {
            continue;
        };
        let zone = t.start.zone;
        if !shift.is_zero() {
            o.recurrence_id = Some(o.start.with_timezone(&Utc));
        }
        let start = o.start.with_timezone(&Utc) + *shift;
        o.start = zone.from_utc_datetime(&start.naive_utc()).fixed_offset();
        let end = length.map_or_else(
            || o.end.map(|e| e.with_timezone(&Utc) + *shift),
            |l| Some(start + l),
        );
        o.end = end.map(|e| zone.from_utc_datetime(&e.naive_utc()).fixed_offset());
    }

    let mut out: Vec<Occurrence> = occurrences
        .into_iter()
        .map(|(_, o)| o)
        .filter(|o| in_window(o, window))
        .collect();
    out.sort_by_key(|o| o.start);
    if capped || out.len() > max {
        out.truncate(max);
        ctx.warn(
            WarningCode::RecurrenceCapped,
            Some(index),
            format!("series expansion stopped at {max} occurrences in the window"),
        );
    }
    out
}

fn short(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::looks_like_html;

    #[test]
    fn looks_like_html_table() {
        for (text, want) in [
            ("<p>Hello</p>", true),
            ("Register: <a href=\"https://x.example/\">here</a>", true),
            ("line one<br>line two", true),
            ("line one<BR/>line two", true),
            ("Ends </strong", false),
            ("budgets <5000 and >100", false),
            ("write to <info@museums.example>", false),
            ("a < b > c", false),
            ("<https://museums.example/register>", false),
            ("plain text", false),
        ] {
            assert_eq!(looks_like_html(text), want, "{text}");
        }
    }
}
