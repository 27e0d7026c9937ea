//! Localist's public API, `/api/2/events` (issue 23): `{"events": [{"event": {...}}],
//! "page": {"current", "size", "total"}}`.
//!
//! One offering per event, its `event_instances` as the sessions (RFC 3339 with the offset,
//! `end` may be null, `all_day`). `experience` (inperson, virtual, hybrid) is the declared
//! modality, `stream_url` the join link, `ticket_url` the sign-up, `free`/`ticket_cost` the
//! cost, the target-audience filter the audience, event types, tags and keywords the
//! categories, the event `id` the key. `page.total` counts pages: while `current` is below it,
//! the next page is the document's own URL with `page=current+1`.

use chrono::{DateTime, FixedOffset, NaiveTime, Offset};
use coalesce_core::{DateSource, Geo, Location, Modality, Occurrence, Status};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::events_api::{self, Scalar, list, object, text};
use crate::dates::parse_when;
use crate::draft::Draft;
use crate::{Ctx, Extracted, WarningCode};

pub(super) const PLATFORM: &str = "localist";

#[derive(Debug, Deserialize)]
struct Wrapped {
    event: Event,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    id: Option<Scalar>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    localist_url: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    description_text: Option<String>,
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    room_number: Option<Scalar>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default, deserialize_with = "object")]
    geo: Option<GeoFields>,
    #[serde(default)]
    ticket_cost: Option<Scalar>,
    #[serde(default)]
    ticket_url: Option<String>,
    #[serde(default)]
    free: Option<bool>,
    #[serde(default)]
    experience: Option<String>,
    #[serde(default)]
    stream_url: Option<String>,
    #[serde(default, deserialize_with = "list")]
    event_instances: Vec<Value>,
    #[serde(default, deserialize_with = "object")]
    filters: Option<Filters>,
    #[serde(default, deserialize_with = "list")]
    tags: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    keywords: Vec<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    photo_url: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GeoFields {
    #[serde(default)]
    street: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    zip: Option<Scalar>,
    #[serde(default)]
    latitude: Option<Scalar>,
    #[serde(default)]
    longitude: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
struct Filters {
    #[serde(default, deserialize_with = "list")]
    event_types: Vec<Named>,
    #[serde(default, deserialize_with = "list")]
    event_target_audience: Vec<Named>,
}

#[derive(Debug, Deserialize)]
struct Named {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InstanceWrapped {
    event_instance: Instance,
}

#[derive(Debug, Deserialize)]
struct Instance {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    all_day: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    current: Option<u64>,
    #[serde(default)]
    total: Option<u64>,
}

/// Reads one page of the API (`doc` is its top-level object).
pub(super) fn extract(mut doc: serde_json::Map<String, Value>, ctx: &mut Ctx<'_>) -> Extracted {
    let drafts = events_api::read_events::<Wrapped>(&mut doc, "localist", ctx)
        .into_iter()
        .map(|(index, w)| draft(index, w.event, ctx))
        .collect();
    let page = doc
        .remove("page")
        .and_then(|p| serde_json::from_value::<Page>(p).ok());
    let next_page = page.and_then(|p| next_page(&p, ctx));
    Extracted {
        title: None,
        drafts,
        ttl: None,
        platform: Some(PLATFORM),
        next_page,
    }
}

/// The document's own URL with `page=current+1`, while `current` is below the page count.
fn next_page(p: &Page, ctx: &mut Ctx<'_>) -> Option<Url> {
    let (current, total) = (p.current?, p.total?);
    if current >= total {
        return None;
    }
    let base = ctx.hints.base_url.as_ref()?;
    let mut next = base.clone();
    let kept: Vec<(String, String)> = base
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("page", &(current + 1).to_string());
    events_api::next_page(next.as_str(), Some(base), ctx)
}

fn draft(index: usize, ev: Event, ctx: &mut Ctx<'_>) -> Draft {
    let page = text(ev.localist_url.as_deref()).or_else(|| text(ev.url.as_deref()));
    let mut d = Draft {
        index,
        guid: ev.id.as_ref().and_then(Scalar::text),
        title: text(ev.title.as_deref()),
        description_html: text(ev.description.as_deref()),
        description_text: text(ev.description_text.as_deref()),
        registration_url: text(ev.ticket_url.as_deref()),
        online_url: text(ev.stream_url.as_deref()),
        image_url: text(ev.photo_url.as_deref()),
        declared_free: ev.free,
        updated_at: ev
            .updated_at
            .as_deref()
            .and_then(|u| DateTime::parse_from_rfc3339(u.trim()).ok())
            .map(|u| u.to_utc()),
        published_at: ev
            .created_at
            .as_deref()
            .and_then(|u| DateTime::parse_from_rfc3339(u.trim()).ok())
            .map(|u| u.to_utc()),
        ..Draft::default()
    };
    // The event's own website (when it has one besides its Localist page) informs modality.
    if let Some(site) = text(ev.url.as_deref()).filter(|s| Some(s) != page.as_ref()) {
        d.other_urls.push(site);
    }
    d.url = page;
    d.base_url = d
        .url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    d.base_is_url = d.base_url.is_some();

    d.declared_modality = match ev.experience.as_deref().map(str::trim) {
        Some("inperson" | "in_person" | "in-person") => Some(Modality::InPerson),
        Some("virtual" | "online") => Some(Modality::Online),
        Some("hybrid") => Some(Modality::Hybrid),
        _ => None,
    };
    d.cost_text = ev.ticket_cost.as_ref().and_then(|c| match c {
        Scalar::Text(_) => c.text(),
        _ => c.text().map(|a| format!("${a}")),
    });
    d.location = location(
        ev.location_name.as_deref(),
        ev.room_number.as_ref().and_then(Scalar::text),
        ev.address.as_deref(),
        ev.geo,
    );
    let filters = ev.filters;
    let names = |list: &[Named]| -> Vec<String> {
        list.iter()
            .filter_map(|n| text(n.name.as_deref()))
            .collect()
    };
    if let Some(f) = &filters {
        let audience = names(&f.event_target_audience);
        if !audience.is_empty() {
            d.audience = Some(audience.join(", "));
        }
        d.categories = names(&f.event_types);
    }
    d.categories.extend(
        ev.tags
            .iter()
            .chain(&ev.keywords)
            .filter_map(|t| text(Some(t))),
    );
    d.categories.truncate(64);
    d.status = match ev.status.as_deref().map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("canceled") || s.eq_ignore_ascii_case("cancelled") => {
            Status::Cancelled
        }
        Some(s) if s.eq_ignore_ascii_case("postponed") => Status::Postponed,
        _ => Status::Scheduled,
    };

    for (i, raw) in ev.event_instances.into_iter().enumerate() {
        match serde_json::from_value::<InstanceWrapped>(raw) {
            Ok(w) => {
                if let Some(o) = session(&w.event_instance, i, &mut d, ctx) {
                    d.occurrences.push(o);
                }
            }
            Err(e) => ctx.warn(
                WarningCode::BadDate,
                Some(index),
                format!("event instance {i} is not readable and was skipped: {e}"),
            ),
        }
    }
    if d.occurrences.is_empty() {
        ctx.warn(
            WarningCode::BadDate,
            Some(index),
            "event has no readable instance; it is listed without dates",
        );
    }
    events_api::cap_occurrences(&mut d, ctx);
    d
}

/// "Room 204, Main Library" as LibCal's are written; the address and `geo` as the rest.
fn location(
    name: Option<&str>,
    room: Option<String>,
    address: Option<&str>,
    geo: Option<GeoFields>,
) -> Option<Location> {
    let name = text(name);
    let name = match (room, name) {
        (Some(r), Some(n)) if !n.contains(&r) => Some(format!("{r}, {n}")),
        (Some(r), None) => Some(r),
        (_, n) => n,
    };
    let mut l = Location {
        name,
        address: text(address),
        ..Location::default()
    };
    if let Some(g) = geo {
        if l.address.is_none() {
            l.address = text(g.street.as_deref());
        }
        l.locality = text(g.city.as_deref());
        l.region = text(g.state.as_deref());
        l.country = text(g.country.as_deref());
        if let (Some(a), Some(z)) = (&l.address, g.zip.as_ref().and_then(Scalar::text))
            && !a.contains(&z)
        {
            l.address = Some(format!("{a}, {z}"));
        }
        l.geo = match (
            g.latitude.as_ref().and_then(Scalar::number),
            g.longitude.as_ref().and_then(Scalar::number),
        ) {
            (Some(lat), Some(lon)) if lat != 0.0 || lon != 0.0 => Geo::new(lat, lon),
            _ => None,
        };
    }
    (!l.is_empty()).then_some(l)
}

/// One instance as a session: its instants as written; a whole day from the start's wall
/// date to the end's (the midnight after it, exclusive), in the source's zone when the
/// written offset is that zone's.
fn session(i: &Instance, n: usize, d: &mut Draft, ctx: &mut Ctx<'_>) -> Option<Occurrence> {
    let zone = ctx.hints.timezone;
    let index = Some(d.index);
    let Some(raw) = i.start.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        ctx.warn(
            WarningCode::BadDate,
            index,
            format!("event instance {n} has no start and was skipped"),
        );
        return None;
    };
    let Some(start) = parse_when(raw, zone) else {
        ctx.warn(
            WarningCode::BadDate,
            index,
            format!(
                "event instance {n} start {:?} is not a date",
                raw.chars().take(40).collect::<String>()
            ),
        );
        return None;
    };
    let end = match i.end.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => {
            let e = parse_when(raw, zone);
            if e.is_none() {
                ctx.warn(
                    WarningCode::BadDate,
                    index,
                    format!(
                        "event instance {n} end {:?} is not a date",
                        raw.chars().take(40).collect::<String>()
                    ),
                );
            }
            e
        }
        None => None,
    };
    if start.floating
        && let Some(z) = zone
    {
        d.timezone = Some(z.name().to_string());
    }
    let all_day = start.all_day || i.all_day == Some(true);
    if all_day {
        let first = start.at.date_naive();
        let last = end.map_or(first, |e| {
            if e.all_day {
                e.at.date_naive()
            } else if e.at.time() == NaiveTime::MIN && e.at.date_naive() > first {
                e.at.date_naive().pred_opt().unwrap_or(first)
            } else {
                e.at.date_naive()
            }
        });
        let zone_agrees = zone.filter(|z| {
            start.floating || start.at.with_timezone(z).offset().fix() == *start.at.offset()
        });
        let (s, e) = events_api::whole_days(first, last, zone_agrees, *start.at.offset())?;
        return Some(occurrence(s, Some(e), true));
    }
    let end = end.map(|e| e.at).filter(|e| *e > start.at);
    Some(occurrence(start.at, end, false))
}

fn occurrence(
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
