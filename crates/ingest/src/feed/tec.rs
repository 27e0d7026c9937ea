//! The Events Calendar (WordPress) REST API, `/wp-json/tribe/events/v1/events` (issue 23):
//! `{"events": [...], "total", "total_pages", "next_rest_url"}`.
//!
//! Each event's wall times (`start_date`, "2027-03-02 14:00:00") are read in its `timezone`
//! (IANA); without a zone we know, the UTC copies (`utc_start_date`) give the offset. A whole
//! day (`all_day`, written 00:00:00-23:59:59) ends at the midnight after its last day. The
//! title, venue and organizer names are HTML-escaped as WordPress stores them; the finishing
//! stage reads them as HTML. `global_id` (else `id`) is the key; `website` is the sign-up or
//! event site; `venue` is `[]` when there is none.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use coalesce_core::{DateSource, Geo, Location, Occurrence, Status};
use serde::Deserialize;
use serde_json::Value;

use super::events_api::{self, Scalar, list, object, objects, text};
use crate::draft::Draft;
use crate::{Ctx, Extracted, WarningCode};

pub(super) const PLATFORM: &str = "the-events-calendar";

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    id: Option<Scalar>,
    #[serde(default)]
    global_id: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    excerpt: Option<String>,
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default)]
    utc_start_date: Option<String>,
    #[serde(default)]
    utc_end_date: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    all_day: Option<bool>,
    #[serde(default)]
    cost: Option<Scalar>,
    #[serde(default, deserialize_with = "object")]
    cost_details: Option<CostDetails>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default, deserialize_with = "object")]
    venue: Option<Venue>,
    #[serde(default, deserialize_with = "objects")]
    organizer: Vec<Organizer>,
    #[serde(default, deserialize_with = "list")]
    categories: Vec<Term>,
    #[serde(default, deserialize_with = "list")]
    tags: Vec<Term>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "object")]
    image: Option<Image>,
    #[serde(default)]
    modified_utc: Option<String>,
    #[serde(default)]
    date_utc: Option<String>,
    /// The Virtual Events add-on's join link.
    #[serde(default)]
    virtual_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CostDetails {
    #[serde(default)]
    currency_symbol: Option<String>,
    #[serde(default, deserialize_with = "list")]
    values: Vec<Scalar>,
}

#[derive(Debug, Deserialize)]
struct Venue {
    #[serde(default)]
    venue: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    stateprovince: Option<String>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    zip: Option<Scalar>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    geo_lat: Option<Scalar>,
    #[serde(default)]
    geo_lng: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
struct Organizer {
    #[serde(default)]
    organizer: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Term {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Image {
    #[serde(default)]
    url: Option<String>,
}

/// Reads one page of the REST API (`doc` is its top-level object).
pub(super) fn extract(mut doc: serde_json::Map<String, Value>, ctx: &mut Ctx<'_>) -> Extracted {
    let drafts = events_api::read_events::<Event>(&mut doc, "the events calendar", ctx)
        .into_iter()
        .map(|(index, event)| draft(index, event, ctx))
        .collect();
    let next_page = doc
        .get("next_rest_url")
        .and_then(Value::as_str)
        .and_then(|raw| events_api::next_page(raw, ctx.hints.base_url.as_ref(), ctx));
    Extracted {
        title: None,
        drafts,
        ttl: None,
        platform: Some(PLATFORM),
        next_page,
    }
}

fn draft(index: usize, ev: Event, ctx: &mut Ctx<'_>) -> Draft {
    let mut d = Draft {
        index,
        guid: text(ev.global_id.as_deref()).or_else(|| ev.id.as_ref().and_then(Scalar::text)),
        title: text(ev.title.as_deref()),
        // WordPress stores titles HTML-escaped ("Maps &amp; Atlases").
        title_is_html: true,
        description_html: text(ev.description.as_deref()),
        summary: text(ev.excerpt.as_deref()),
        url: text(ev.url.as_deref()),
        online_url: text(ev.virtual_url.as_deref()),
        image_url: ev.image.and_then(|i| text(i.url.as_deref())),
        organizer: ev
            .organizer
            .iter()
            .find_map(|o| text(o.organizer.as_deref())),
        updated_at: ev.modified_utc.as_deref().and_then(utc),
        published_at: ev.date_utc.as_deref().and_then(utc),
        ..Draft::default()
    };
    d.base_url = d
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    d.base_is_url = d.base_url.is_some();

    if let Some(site) = text(ev.website.as_deref()) {
        // The "event website" is where people sign up or read more; a site's home page is
        // neither a sign-up nor the event.
        if is_site_root(&site) || Some(&site) == d.url.as_ref() {
            d.other_urls.push(site);
        } else {
            d.registration_url = Some(site);
        }
    }
    d.location = ev.venue.and_then(location);
    d.cost_text = cost_text(ev.cost.as_ref(), ev.cost_details.as_ref());
    d.categories = ev
        .categories
        .iter()
        .chain(&ev.tags)
        .filter_map(|t| text(t.name.as_deref()))
        .take(64)
        .collect();
    d.status = match ev.status.as_deref().map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("canceled") || s.eq_ignore_ascii_case("cancelled") => {
            Status::Cancelled
        }
        Some(s) if s.eq_ignore_ascii_case("postponed") => Status::Postponed,
        _ => Status::Scheduled,
    };

    let zone = match text(ev.timezone.as_deref()) {
        Some(name) => {
            let z = crate::tz::resolve(&name);
            if z.is_none() {
                ctx.warn(
                    WarningCode::UnknownTimezone,
                    Some(index),
                    format!(
                        "timezone {:?} names no known zone; the utc times give the offset",
                        name.chars().take(40).collect::<String>()
                    ),
                );
            }
            z
        }
        None => None,
    };
    let times = Times {
        start: ev.start_date.as_deref(),
        end: ev.end_date.as_deref(),
        utc_start: ev.utc_start_date.as_deref(),
        utc_end: ev.utc_end_date.as_deref(),
        all_day: ev.all_day.unwrap_or(false),
    };
    if let Some(o) = occurrence(&times, zone, &mut d, ctx) {
        d.occurrences.push(o);
    }
    events_api::cap_occurrences(&mut d, ctx);
    d
}

/// A home page (`https://museum.example.org/`), which says nothing about one event.
fn is_site_root(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| u.path() == "/" && u.query().is_none())
}

fn location(v: Venue) -> Option<Location> {
    let geo = match (
        v.geo_lat.as_ref().and_then(Scalar::number),
        v.geo_lng.as_ref().and_then(Scalar::number),
    ) {
        (Some(lat), Some(lon)) if lat != 0.0 || lon != 0.0 => Geo::new(lat, lon),
        _ => None,
    };
    let street = text(v.address.as_deref());
    let zip = v.zip.as_ref().and_then(Scalar::text);
    let l = Location {
        name: text(v.venue.as_deref()),
        address: match (street, &zip) {
            (Some(s), Some(z)) => Some(format!("{s}, {z}")),
            (s, _) => s,
        },
        locality: text(v.city.as_deref()),
        region: text(v.stateprovince.as_deref())
            .or_else(|| text(v.province.as_deref()))
            .or_else(|| text(v.state.as_deref())),
        country: text(v.country.as_deref()),
        geo,
    };
    (!l.is_empty()).then_some(l)
}

/// `cost` as written ("Free", "$25", "$10 – $25"); else the amounts of `cost_details`.
fn cost_text(cost: Option<&Scalar>, details: Option<&CostDetails>) -> Option<String> {
    let symbol = details
        .and_then(|d| text(d.currency_symbol.as_deref()))
        .unwrap_or_default();
    match cost {
        // WordPress escapes it as it does titles ("$10 &#8211; $15").
        Some(Scalar::Text(s)) if !s.trim().is_empty() => {
            return Some(crate::sanitize::html_to_text(s, 8)).filter(|t| !t.is_empty());
        }
        Some(c @ (Scalar::Int(_) | Scalar::Float(_))) => {
            return c.text().map(|a| format!("{symbol}{a}"));
        }
        _ => {}
    }
    let values: Vec<String> = details?.values.iter().filter_map(Scalar::text).collect();
    match values.as_slice() {
        [] => None,
        [one] if one.parse::<f64>().is_ok_and(|a| a == 0.0) => Some("Free".to_string()),
        [one] => Some(format!("{symbol}{one}")),
        [first, .., last] => Some(format!("{symbol}{first} – {symbol}{last}")),
    }
}

struct Times<'a> {
    start: Option<&'a str>,
    end: Option<&'a str>,
    utc_start: Option<&'a str>,
    utc_end: Option<&'a str>,
    all_day: bool,
}

/// The event's session. Wall times in the event's zone when we know it; else the offset the
/// wall time and its UTC copy imply; else the UTC copy in the source's zone; else the wall
/// time in the source's zone.
fn occurrence(
    t: &Times<'_>,
    zone: Option<Tz>,
    d: &mut Draft,
    ctx: &mut Ctx<'_>,
) -> Option<Occurrence> {
    let index = Some(d.index);
    let mut read = |raw: Option<&str>, what: &str| -> Option<NaiveDateTime> {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
        let n = wall(raw);
        if n.is_none() {
            ctx.warn(
                WarningCode::BadDate,
                index,
                format!(
                    "{what} {:?} is not a date",
                    raw.chars().take(40).collect::<String>()
                ),
            );
        }
        n
    };
    let local_start = read(t.start, "start_date");
    let utc_start = read(t.utc_start, "utc_start_date");
    let local_end = read(t.end, "end_date");
    let utc_end = read(t.utc_end, "utc_end_date");
    let source = ctx.hints.timezone;

    let start_wall = local_start.or_else(|| {
        let u = utc_start?;
        Some(in_zone(u, zone.or(source)).naive_local())
    });
    let Some(start_wall) = start_wall else {
        ctx.warn(
            WarningCode::BadDate,
            index,
            "event has no start_date; it is listed without dates",
        );
        return None;
    };

    if t.all_day {
        let first = start_wall.date();
        let last = local_end
            .or_else(|| utc_end.map(|u| in_zone(u, zone.or(source)).naive_local()))
            .map(|e| last_day(first, e))
            .unwrap_or(first);
        let offset = placed(start_wall, utc_start, zone.or(source))?
            .offset()
            .to_owned();
        let (start, end) = events_api::whole_days(first, last, zone.or(source), offset)?;
        d.timezone = zone.or(source).map(|z| z.name().to_string());
        return Some(session(start, Some(end), true));
    }

    let start = placed(start_wall, utc_start, zone.or(source))?;
    let end = match (local_end, utc_end) {
        (None, None) => None,
        (wall_end, utc_end) => {
            let w = wall_end.or_else(|| utc_end.map(|u| in_zone(u, zone.or(source)).naive_local()));
            w.and_then(|w| placed(w, utc_end, zone.or(source)))
        }
    }
    .filter(|e| *e > start);
    if zone.is_some() {
        d.timezone = zone.map(|z| z.name().to_string());
    } else if local_start.is_some() && utc_start.is_none() {
        // A wall time alone was read in the source's zone.
        match source {
            Some(z) => d.timezone = Some(z.name().to_string()),
            None => ctx.warn(
                WarningCode::FloatingTime,
                index,
                "event has no timezone and no utc times; read as utc",
            ),
        }
    }
    Some(session(start, end, false))
}

/// A wall time placed on the timeline: in `zone` when the event names one we know (the UTC
/// copy is then only a check nobody needs), else at the offset its UTC copy implies, else in
/// the source's zone.
fn placed(
    wall: NaiveDateTime,
    utc: Option<NaiveDateTime>,
    zone: Option<Tz>,
) -> Option<DateTime<FixedOffset>> {
    if let (Some(u), None) = (utc, zone) {
        let secs = (wall - u).num_seconds();
        let offset = i32::try_from(secs)
            .ok()
            .filter(|s| s % 60 == 0)
            .and_then(FixedOffset::east_opt)?;
        return Some(u.and_utc().with_timezone(&offset));
    }
    if let (Some(u), Some(z)) = (utc, zone)
        && in_zone(u, Some(z)).naive_local() == wall
    {
        return Some(in_zone(u, Some(z)));
    }
    crate::dates::localize(wall, zone)
}

fn in_zone(utc: NaiveDateTime, zone: Option<Tz>) -> DateTime<FixedOffset> {
    let at = utc.and_utc();
    match zone {
        Some(z) => at.with_timezone(&z).fixed_offset(),
        None => at.fixed_offset(),
    }
}

/// The last day of a whole-day event ending at `end`: midnight after it belongs to the day
/// before.
fn last_day(first: NaiveDate, end: NaiveDateTime) -> NaiveDate {
    if end.time() == NaiveTime::MIN && end.date() > first {
        end.date().pred_opt().unwrap_or(first)
    } else {
        end.date()
    }
}

fn session(
    start: DateTime<FixedOffset>,
    end: Option<DateTime<FixedOffset>>,
    all_day: bool,
) -> Occurrence {
    Occurrence {
        start,
        end,
        all_day,
        cancelled: false,
        date_source: DateSource::Structured,
        recurrence_id: None,
    }
}

/// "2027-03-02 14:00:00" as TEC writes it (ISO with `T`, without seconds, or a day also read).
/// Four-digit years only: chrono reads six-digit ones too, whose local times at an offset fall
/// off its range and panic when shown.
fn wall(s: &str) -> Option<NaiveDateTime> {
    use chrono::Datelike;
    wall_any_year(s).filter(|n| (1..=9999).contains(&n.year()))
}

fn wall_any_year(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    })
}

fn utc(s: &str) -> Option<DateTime<Utc>> {
    wall(s.trim()).map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> NaiveDateTime {
        wall(s).expect("wall time")
    }

    #[test]
    fn wall_times_are_placed_in_the_zone_else_at_the_utc_offset() {
        let chicago: Tz = "America/Chicago".parse().expect("zone");
        let cases: &[(&str, Option<&str>, Option<Tz>, &str)] = &[
            (
                "2027-03-02 14:00:00",
                None,
                Some(chicago),
                "2027-03-02T14:00:00-06:00",
            ),
            (
                "2027-03-02 14:00:00",
                Some("2027-03-02 20:00:00"),
                Some(chicago),
                "2027-03-02T14:00:00-06:00",
            ),
            // A manual "UTC+2" zone: the two copies give the offset.
            (
                "2027-03-02 14:00:00",
                Some("2027-03-02 12:00:00"),
                None,
                "2027-03-02T14:00:00+02:00",
            ),
            (
                "2027-03-02 14:00:00",
                None,
                None,
                "2027-03-02T14:00:00+00:00",
            ),
        ];
        for (w, u, z, want) in cases {
            let got = placed(n(w), u.map(n), *z).expect("placed");
            assert_eq!(got.to_rfc3339(), *want, "{w} {u:?} {z:?}");
        }
    }

    #[test]
    fn cost_is_the_text_else_the_amounts() {
        let details = |vals: &[&str]| CostDetails {
            currency_symbol: Some("$".into()),
            values: vals.iter().map(|v| Scalar::Text((*v).into())).collect(),
        };
        let text_cost = Scalar::Text("Free".into());
        let cases: &[(Option<&Scalar>, Option<CostDetails>, Option<&str>)] = &[
            (Some(&text_cost), Some(details(&["0"])), Some("Free")),
            (None, Some(details(&["25"])), Some("$25")),
            (None, Some(details(&["10", "25"])), Some("$10 – $25")),
            (None, Some(details(&["0"])), Some("Free")),
            (None, Some(details(&[])), None),
            (None, None, None),
        ];
        for (cost, details, want) in cases {
            assert_eq!(
                cost_text(*cost, details.as_ref()).as_deref(),
                *want,
                "{cost:?}"
            );
        }
    }
}
