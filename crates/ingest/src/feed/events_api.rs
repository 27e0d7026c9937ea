//! What the calendar platforms' JSON event APIs share (issue 23): The Events Calendar's REST
//! API ([`super::tec`]) and Localist's ([`super::localist`]). Both answer a page of events
//! (`{"events": [...]}`) and say how to get the next one; both are read with serde after the
//! JSON depth gate, one event at a time, so an event of the wrong shape is a warning and the
//! rest of the page is still read.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use url::Url;

use crate::draft::Draft;
use crate::{Ctx, WarningCode};

/// Which event API a JSON document is, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `{"events": [{"start_date": ..., "utc_start_date": ...}], "next_rest_url": ...}`
    TheEventsCalendar,
    /// `{"events": [{"event": {...}}], "page": {...}}`
    Localist,
}

/// The event API `doc` is, or `None` (JSON Feed, or nothing we read). A JSON Feed (its
/// `version` names jsonfeed.org) is never an event API, whatever else it holds.
pub(super) fn shape(doc: &Value) -> Option<Shape> {
    let obj = doc.as_object()?;
    if obj
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.contains("jsonfeed.org"))
    {
        return None;
    }
    let events = obj.get("events")?.as_array()?;
    let has = |e: &Value, key: &str| e.get(key).is_some();
    if events
        .iter()
        .any(|e| e.get("event").is_some_and(Value::is_object))
    {
        return Some(Shape::Localist);
    }
    if events
        .iter()
        .any(|e| has(e, "start_date") || has(e, "utc_start_date"))
    {
        return Some(Shape::TheEventsCalendar);
    }
    if events.is_empty() {
        if obj.get("page").is_some_and(Value::is_object) {
            return Some(Shape::Localist);
        }
        if ["next_rest_url", "total_pages", "rest_url"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            return Some(Shape::TheEventsCalendar);
        }
    }
    None
}

/// A JSON scalar as the platforms write ids, prices and postcodes: text or a number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    /// Read so a flag where text was expected is no reason to skip the event; never text.
    Bool(#[allow(dead_code)] bool),
}

impl Scalar {
    /// The value as trimmed text; `None` when empty or a boolean.
    pub fn text(&self) -> Option<String> {
        let s = match self {
            Scalar::Text(s) => s.trim().to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(_) => return None,
        };
        (!s.is_empty()).then_some(s)
    }

    pub fn number(&self) -> Option<f64> {
        match self {
            Scalar::Text(s) => s.trim().parse().ok(),
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            Scalar::Bool(_) => None,
        }
    }
}

/// A list that may be `null`.
pub(super) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An object the platform writes as something else when it has none: The Events Calendar's
/// `"venue": []`, `"image": false`. Only an object of the expected shape is read.
pub(super) fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    Ok(match v {
        Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// One object or a list of them (`"organizer": [{...}]`, or one object, or `[]`).
pub(super) fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    Ok(match v {
        Value::Array(items) => items
            .into_iter()
            .filter(Value::is_object)
            .filter_map(|i| serde_json::from_value(i).ok())
            .collect(),
        Value::Object(_) => serde_json::from_value(v).ok().into_iter().collect(),
        _ => Vec::new(),
    })
}

/// Non-empty trimmed text.
pub(super) fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The events of a page (its top-level `events` array, taken out of `doc`), each read as `T`:
/// one that does not fit is a `bad_item` warning (`what` names the platform) and the others
/// are still read. At most `max_items`, with a `too_many_items` warning past it. Yields each
/// event's position in the page beside it.
pub(super) fn read_events<T: DeserializeOwned>(
    doc: &mut serde_json::Map<String, Value>,
    what: &str,
    ctx: &mut Ctx<'_>,
) -> Vec<(usize, T)> {
    let events = match doc.remove("events") {
        Some(Value::Array(events)) => events,
        _ => Vec::new(),
    };
    let max = ctx.hints.limits.max_items;
    let total = events.len();
    if total > max {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!("document has {total} events; only the first {max} were read"),
        );
    }
    let mut out = Vec::with_capacity(total.min(max));
    for (index, event) in events.into_iter().take(max).enumerate() {
        match serde_json::from_value::<T>(event) {
            Ok(e) => out.push((index, e)),
            Err(e) => ctx.warn(
                WarningCode::BadItem,
                Some(index),
                format!("{what} event is not readable and was skipped: {e}"),
            ),
        }
    }
    out
}

/// Whole days from `first` to `last` (inclusive): local midnight of the first, the midnight
/// after the last (exclusive, as iCalendar has it), in `zone`, else in `offset`.
pub(super) fn whole_days(
    first: NaiveDate,
    last: NaiveDate,
    zone: Option<Tz>,
    offset: FixedOffset,
) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let last = last.max(first);
    let at = |day: NaiveDate| -> Option<DateTime<FixedOffset>> {
        let midnight = day.and_time(NaiveTime::MIN);
        match zone {
            Some(_) => crate::dates::localize(midnight, zone),
            None => midnight.and_local_timezone(offset).single(),
        }
    };
    Some((at(first)?, at(last.succ_opt()?)?))
}

/// Keeps at most as many occurrences as the offering and the document may still have.
pub(super) fn cap_occurrences(d: &mut Draft, ctx: &mut Ctx<'_>) {
    let max = ctx.occurrence_cap();
    if d.occurrences.len() > max {
        d.occurrences.sort_by_key(|o| o.start);
        d.occurrences.truncate(max);
        ctx.warn(
            WarningCode::RecurrenceCapped,
            Some(d.index),
            format!("event has more than {max} sessions; the first {max} were kept"),
        );
    }
    ctx.spend_occurrences(d.occurrences.len());
}

/// The next page a document names, if it may be reported: http(s), on the site of the
/// document (`base`, a `www.` prefix aside) when that is known, and not the document itself.
/// Another site's URL is dropped with an `unsafe_url` warning: a page must not send the
/// crawler elsewhere.
pub(super) fn next_page(raw: &str, base: Option<&Url>, ctx: &mut Ctx<'_>) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let url = match base {
        Some(b) => b.join(raw).ok(),
        None => Url::parse(raw).ok(),
    }
    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    let Some(url) = url else {
        ctx.warn(
            WarningCode::UnsafeUrl,
            None,
            format!(
                "next page {:?} is not an absolute http(s) url and was dropped",
                raw.chars().take(80).collect::<String>()
            ),
        );
        return None;
    };
    let Some(base) = base else {
        return Some(url);
    };
    let site = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
    };
    if site(&url) != site(base) {
        ctx.warn(
            WarningCode::UnsafeUrl,
            None,
            format!(
                "next page {:?} is on another site than the document and was dropped",
                url.as_str().chars().take(80).collect::<String>()
            ),
        );
        return None;
    }
    (url != *base).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_told_apart_and_json_feed_is_never_an_event_api() {
        let cases: &[(&str, Value, Option<Shape>)] = &[
            (
                "tec",
                json!({"events": [{"id": 1, "start_date": "2027-03-02 14:00:00"}]}),
                Some(Shape::TheEventsCalendar),
            ),
            (
                "tec utc only",
                json!({"events": [{"utc_start_date": "2027-03-02 20:00:00"}]}),
                Some(Shape::TheEventsCalendar),
            ),
            (
                "tec empty page",
                json!({"events": [], "total": 0, "total_pages": 0}),
                Some(Shape::TheEventsCalendar),
            ),
            (
                "localist",
                json!({"events": [{"event": {"id": 5}}], "page": {"current": 1}}),
                Some(Shape::Localist),
            ),
            (
                "localist empty page",
                json!({"events": [], "page": {"current": 1, "total": 1}}),
                Some(Shape::Localist),
            ),
            (
                "json feed with an events key",
                json!({"version": "https://jsonfeed.org/version/1.1", "items": [],
                       "events": [{"start_date": "2027-03-02"}]}),
                None,
            ),
            ("other json", json!({"events": [{"name": "x"}]}), None),
            ("an array", json!([{"start_date": "2027-03-02"}]), None),
        ];
        for (name, doc, want) in cases {
            assert_eq!(shape(doc), *want, "{name}");
        }
    }
}
