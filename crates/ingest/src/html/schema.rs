//! schema.org Event and Course nodes (from JSON-LD, microdata, or microformats turned into the
//! same shape) into drafts.
//!
//! What becomes an offering, as a learner sees it (containers are not offerings):
//! - every Event (and subtype) node anywhere in the tree, nested ones included (a conference
//!   and its sessions are each something to attend); `@type` arrays and SEO nodes (WebPage,
//!   Organization, BreadcrumbList, ItemList) are looked through, never offerings;
//! - an EventSeries that nests `subEvent`s, or that sessions anywhere on the page name as their
//!   `superEvent`, is a container: its sessions are the offerings (nested ones inherit the
//!   series' location, organizer, offers, ...), even when the series carries dates of its own;
//!   a series with no sessions is one offering;
//! - a Course with `hasCourseInstance`s is one offering per instance (a learner signs up for
//!   a run): the instance's identity, dates, mode, place and price, the course's title, text
//!   and link; a Course without instances is one offering (on demand when undated).
//!
//! Local midnight to the last minute of a day (00:00–23:59) is whole days, and date-only ends
//! are inclusive in schema.org but exclusive in the model.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, Offset, TimeZone, Timelike};
use coalesce_core::normalize::OfferInput;
use coalesce_core::{Geo, Location, Modality, Occurrence, Status};
use serde_json::{Map, Value};
use url::Url;

use crate::dates::{When, localize, parse_when};
use crate::draft::Draft;
use crate::{Ctx, WarningCode};

/// schema.org Event and its subtypes, plus CourseInstance; the deprecated User* interaction
/// counters are Events too but never something to attend.
const EVENT_TYPES: &[&str] = &[
    "Event",
    "BusinessEvent",
    "ChildrensEvent",
    "ComedyEvent",
    "CourseInstance",
    "DanceEvent",
    "DeliveryEvent",
    "EducationEvent",
    "EventSeries",
    "ExhibitionEvent",
    "Festival",
    "FoodEvent",
    "Hackathon",
    "LiteraryEvent",
    "MusicEvent",
    "PublicationEvent",
    "BroadcastEvent",
    "OnDemandEvent",
    "SaleEvent",
    "ScreeningEvent",
    "SocialEvent",
    "SportsEvent",
    "TheaterEvent",
    "VisualArtsEvent",
];

/// What the walk needs besides the tree: where drafts go and how many may be made.
pub(crate) struct Collector<'c, 'h> {
    pub ctx: &'c mut Ctx<'h>,
    pub drafts: Vec<Draft>,
    pub base: Option<Url>,
    /// Event nodes seen beyond `max_items`, counted for the warning only.
    pub dropped: usize,
    /// `@id`s that sessions name as their `superEvent`: such a series is a container even
    /// when its sessions are listed beside it rather than inside it.
    series_ids: HashSet<String>,
    /// Container series by `@id`, and the drafts (by position) of sessions pointing to one.
    series: HashMap<String, Draft>,
    sessions: Vec<(usize, String)>,
}

impl<'c, 'h> Collector<'c, 'h> {
    pub fn new(ctx: &'c mut Ctx<'h>, base: Option<Url>) -> Self {
        Collector {
            ctx,
            drafts: Vec::new(),
            base,
            dropped: 0,
            series_ids: HashSet::new(),
            series: HashMap::new(),
            sessions: Vec::new(),
        }
    }

    /// Sessions that point to a series elsewhere on the page inherit from it what they leave
    /// unsaid (place, organizer, offers, ...), as nested sub-events do. Called after every visit.
    pub fn inherit_from_series(&mut self) {
        for (at, id) in std::mem::take(&mut self.sessions) {
            if let (Some(series), Some(d)) = (self.series.get(&id), self.drafts.get_mut(at)) {
                inherit(d, series);
            }
        }
    }

    /// Notes every `superEvent` reference in a tree; called on every tree before any visit.
    pub fn note_super_events(&mut self, v: &Value) {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => {
                    for (k, v) in map {
                        if prop_name(k) == "superEvent"
                            && let Some(id) = reference(v)
                        {
                            self.series_ids.insert(id);
                        }
                        stack.push(v);
                    }
                }
                _ => {}
            }
        }
    }

    fn full(&self) -> bool {
        self.drafts.len() >= self.ctx.hints.limits.max_items
    }

    fn push(&mut self, mut d: Draft) {
        if self.full() {
            self.dropped += 1;
            return;
        }
        d.index = self.drafts.len();
        d.base_url = self.base.clone();
        self.drafts.push(d);
    }

    /// Visits a parsed tree. Recursion is bounded by the JSON depth gate (and by the microdata
    /// nesting cap), both far below what a 2 MiB stack holds.
    pub fn visit(&mut self, v: &Value, parent: Option<&Draft>) {
        match v {
            Value::Array(items) => {
                for item in items {
                    self.visit(item, parent);
                }
            }
            Value::Object(map) => self.visit_node(map, parent),
            _ => {}
        }
    }

    fn visit_node(&mut self, map: &Map<String, Value>, parent: Option<&Draft>) {
        let node = Node(map);
        let types = node.types();
        let is = |t: &str| types.iter().any(|x| x == t);
        let is_event = types.iter().any(|t| EVENT_TYPES.contains(&t.as_str()));
        if is("Course") && !is_event {
            let course = self.course(node, parent);
            let instances = node
                .get("hasCourseInstance")
                .map(objects)
                .unwrap_or_default();
            if instances.is_empty() {
                let mut d = course.clone();
                if d.occurrences.is_empty() {
                    self.dates(node, &mut d);
                }
                self.push(d);
            }
            // Each run is what a learner signs up for: one offering per instance, the course
            // lending its text and link.
            for inst in instances {
                let d = self.course_instance(Node(inst), &course);
                self.push(d);
            }
            for (k, v) in map {
                if prop_name(k) != "hasCourseInstance" {
                    self.visit(v, Some(&course));
                }
            }
            return;
        }
        if !is_event {
            for v in map.values() {
                self.visit(v, parent);
            }
            return;
        }
        let mut draft = self.event(node);
        if let Some(p) = parent {
            inherit(&mut draft, p);
        }
        let has_subs = node
            .get("subEvent")
            .or_else(|| node.get("subEvents"))
            .is_some_and(has_object);
        // A series is where its sessions are listed, not something to attend: with sessions
        // nested or pointing back to it, the sessions are the offerings (its own dates only
        // span them).
        let is_container = is("EventSeries")
            && (has_subs
                || node
                    .get("@id")
                    .and_then(text)
                    .is_some_and(|id| self.series_ids.contains(&id)));
        let hold = draft.clone();
        if is_container {
            if let Some(id) = node.get("@id").and_then(text) {
                self.series.insert(id, hold.clone());
            }
        } else {
            let before = self.drafts.len();
            self.push(draft);
            if parent.is_none() && self.drafts.len() > before {
                // A session listed beside its series takes what it leaves unsaid from it,
                // once every series of the page is known (`inherit_from_series`).
                if let Some(id) = node.get("superEvent").and_then(reference) {
                    self.sessions.push((before, id));
                }
            }
        }
        for (k, v) in map {
            if prop_name(k) == "superEvent" {
                // Pointing back from a sub-event it would only repeat its parent; a festival
                // above a top-level event is its own offering and inherits nothing from it.
                if parent.is_none() && !objects(v).iter().any(|m| is_series(Node(m))) {
                    self.visit(v, None);
                }
                continue;
            }
            self.visit(v, Some(&hold));
        }
    }

    /// The course itself: what its instances share.
    fn course(&mut self, node: Node<'_>, parent: Option<&Draft>) -> Draft {
        let mut d = self.common(node);
        if let Some(p) = parent {
            inherit(&mut d, p);
        }
        d.organizer = d
            .organizer
            .or_else(|| node.get("provider").and_then(name_of));
        d.declared_modality = node
            .get("courseMode")
            .and_then(course_mode)
            .or(d.declared_modality);
        d.credits_text = node
            .get("numberOfCredits")
            .and_then(name_of)
            .map(|n| format!("{n} credits"))
            .or_else(|| node.get("educationalCredentialAwarded").and_then(name_of));
        d
    }

    /// One run of a course: its own identity, dates, mode, place and price; the rest from
    /// the course.
    fn course_instance(&mut self, inst: Node<'_>, course: &Draft) -> Draft {
        let mut d = Draft {
            index: self.drafts.len(),
            ..Draft::default()
        };
        let own_url = inst.get("url").and_then(text);
        self.dates(inst, &mut d);
        // The instance's `@id`, else its page as written; a dateless run (enrol any time) is
        // the course itself, so it takes the course's identity.
        d.guid = inst
            .get("@id")
            .and_then(text)
            .filter(|id| !id.starts_with("_:"))
            .or_else(|| own_url.clone())
            .or_else(|| {
                d.occurrences
                    .is_empty()
                    .then(|| course.guid.clone())
                    .flatten()
            });
        d.url = own_url.or_else(|| course.url.clone());
        let (place, virtual_place) = self.location(inst, &mut d);
        read_offers(inst, &mut d);
        d.declared_free = inst.get("isAccessibleForFree").and_then(boolean);
        if let Some(s) = inst.get("eventStatus").and_then(status) {
            d.status = s;
        }
        d.declared_modality = inst
            .get("courseMode")
            .and_then(course_mode)
            .or_else(|| inst.get("eventAttendanceMode").and_then(attendance_mode))
            .or_else(|| (place && virtual_place).then_some(Modality::Hybrid))
            .or(course.declared_modality);
        if d.occurrences.is_empty() && d.declared_modality == Some(Modality::Online) {
            // Online with no dates is learning at one's own pace.
            d.declared_modality = Some(Modality::SelfPaced);
        }
        d.organizer = course.organizer.clone().or_else(|| {
            inst.get("organizer")
                .or_else(|| inst.get("instructor"))
                .and_then(name_of)
        });
        d.credits_text = course.credits_text.clone();
        d.summary = course.summary.clone();
        d.title = course.title.clone();
        d.title_is_html = course.title_is_html;
        d.description_html = inst
            .get("description")
            .and_then(text)
            .or_else(|| course.description_html.clone());
        inherit(&mut d, course);
        if !d.occurrences.is_empty() && d.occurrences.iter().all(|o| o.cancelled) {
            d.status = Status::Cancelled;
        }
        d
    }

    fn event(&mut self, node: Node<'_>) -> Draft {
        let mut d = self.common(node);
        self.dates(node, &mut d);
        d.declared_modality = node
            .get("eventAttendanceMode")
            .and_then(attendance_mode)
            .or_else(|| node.get("courseMode").and_then(course_mode))
            .or(d.declared_modality);
        if let Some(s) = node.get("eventStatus").and_then(status) {
            d.status = s;
        }
        if node
            .get("eventStatus")
            .and_then(text)
            .is_some_and(|s| s.ends_with("MovedOnline"))
        {
            d.declared_modality = Some(Modality::Online);
        }
        d.organizer = node.get("organizer").and_then(name_of);
        d
    }

    /// Fields Events and Courses share.
    fn common(&mut self, node: Node<'_>) -> Draft {
        let mut d = Draft {
            index: self.drafts.len(),
            guid: node
                .get("@id")
                .and_then(text)
                .filter(|id| !id.starts_with("_:")),
            ..Draft::default()
        };
        d.title = node
            .get("name")
            .and_then(text)
            .or_else(|| node.get("headline").and_then(text));
        d.title_is_html = d
            .title
            .as_deref()
            .is_some_and(|t| t.contains('&') || t.contains('<'));
        d.description_html = node.get("description").and_then(text);
        d.summary = node.get("disambiguatingDescription").and_then(text);
        d.url = node.get("url").and_then(text);
        d.image_url = node.get("image").and_then(image);
        d.language = node.get("inLanguage").and_then(name_of);
        for key in ["keywords", "about", "genre", "teaches"] {
            if let Some(v) = node.get(key) {
                d.categories.extend(keywords(v));
            }
        }
        d.audience = node
            .get("audience")
            .and_then(|a| match a {
                Value::Object(m) => {
                    let n = Node(m);
                    n.get("audienceType")
                        .and_then(text)
                        .or_else(|| n.get("name").and_then(text))
                }
                other => name_of(other),
            })
            .or_else(|| node.get("educationalLevel").and_then(name_of));
        d.declared_free = node.get("isAccessibleForFree").and_then(boolean);
        read_offers(node, &mut d);
        let (place, virtual_place) = self.location(node, &mut d);
        if place && virtual_place {
            // A room and a join link: attend either way.
            d.declared_modality = Some(Modality::Hybrid);
        }
        d
    }

    /// Reads `location` into the draft; says whether it named a physical place and a
    /// virtual one (both: a hybrid offering).
    fn location(&mut self, node: Node<'_>, d: &mut Draft) -> (bool, bool) {
        let (mut place_seen, mut virtual_seen) = (false, false);
        let Some(loc) = node.get("location") else {
            return (place_seen, virtual_seen);
        };
        let items: Vec<&Value> = match loc {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for item in items {
            match item {
                Value::String(s) if d.location_text.is_none() => {
                    d.location_text = Some(s.clone());
                }
                Value::Object(m) => {
                    let place = Node(m);
                    if place.types().iter().any(|t| t == "VirtualLocation") {
                        virtual_seen = true;
                        if d.online_url.is_none() {
                            d.online_url = place.get("url").and_then(text);
                        }
                        continue;
                    }
                    place_seen = true;
                    if d.location.is_some() {
                        continue;
                    }
                    let mut l = Location {
                        name: place.get("name").and_then(text),
                        ..Location::default()
                    };
                    match place.get("address") {
                        Some(Value::Object(a)) => {
                            let a = Node(a);
                            let street = a.get("streetAddress").and_then(text);
                            let postal = a.get("postalCode").and_then(text);
                            l.address = match (street, postal) {
                                (Some(s), Some(p)) => Some(format!("{s}, {p}")),
                                (s, p) => s.or(p),
                            };
                            l.locality = a.get("addressLocality").and_then(text);
                            l.region = a.get("addressRegion").and_then(text);
                            l.country = a.get("addressCountry").and_then(name_of);
                        }
                        Some(other) => l.address = name_of(other),
                        None => {}
                    }
                    if let Some(Value::Object(g)) = place.get("geo") {
                        let g = Node(g);
                        let num = |k: &str| {
                            g.get(k)
                                .and_then(text)
                                .and_then(|s| s.trim().parse::<f64>().ok())
                        };
                        if let (Some(lat), Some(lon)) = (num("latitude"), num("longitude"))
                            && (-90.0..=90.0).contains(&lat)
                            && (-180.0..=180.0).contains(&lon)
                        {
                            l.geo = Some(Geo { lat, lon });
                        }
                    }
                    if let Some(u) = place.get("url").and_then(text) {
                        d.other_urls.push(u);
                    }
                    if !l.is_empty() {
                        d.location = Some(l);
                    }
                }
                _ => {}
            }
        }
        (place_seen, virtual_seen)
    }

    /// The node's dates as the draft's occurrence, and the draft's zone when the source's.
    fn dates(&mut self, node: Node<'_>, d: &mut Draft) {
        let (occurrences, zone) = self.occurrences(node, d.index);
        d.occurrences = occurrences;
        if d.timezone.is_none() {
            d.timezone = zone;
        }
    }

    /// The occurrence `startDate`/`endDate` say, and the source's zone when the times were
    /// read in it (no offset) or name its offset at that instant: a page writes offsets, but
    /// the zone it means is its own when they agree.
    fn occurrences(&mut self, node: Node<'_>, index: usize) -> (Vec<Occurrence>, Option<String>) {
        let zone = self.ctx.hints.timezone;
        let Some(raw_start) = node.get("startDate").and_then(text) else {
            return (Vec::new(), None);
        };
        let Some(start) = parse_when(&raw_start, zone) else {
            self.ctx.warn(
                WarningCode::BadDate,
                Some(index),
                format!("startDate {:?} is not a date", clip(&raw_start)),
            );
            return (Vec::new(), None);
        };
        let end = match node.get("endDate").and_then(text) {
            Some(raw) => {
                let end = parse_when(&raw, zone);
                if end.is_none() {
                    self.ctx.warn(
                        WarningCode::BadDate,
                        Some(index),
                        format!("endDate {:?} is not a date", clip(&raw)),
                    );
                }
                end
            }
            None => None,
        };
        if start.floating && !start.all_day && zone.is_none() {
            self.ctx.warn(
                WarningCode::FloatingTime,
                Some(index),
                "startDate has no offset; read as utc",
            );
        }
        // Date-only, or local midnight to the last minute of a day ("00:00–23:59", how many
        // CMSs write a day without times): whole days, the end exclusive as in iCalendar.
        let whole_days = !start.all_day
            && start.at.time() == NaiveTime::MIN
            && end.is_some_and(|e| {
                !e.all_day
                    && e.at > start.at
                    && (is_last_minute(e.at.time()) || e.at.time() == NaiveTime::MIN)
            });
        let all_day = (start.all_day && end.is_none_or(|e| e.all_day)) || whole_days;
        let end = end
            .and_then(|e| {
                if all_day && (e.all_day || e.at.time() != NaiveTime::MIN) {
                    day_after(&e, zone)
                } else {
                    Some(e.at)
                }
            })
            .filter(|e| *e > start.at);
        let in_zone = zone.filter(|z| {
            start.floating
                || z.offset_from_utc_datetime(&start.at.naive_utc()).fix() == *start.at.offset()
        });
        let occurrence = Occurrence {
            start: start.at,
            end,
            all_day,
            cancelled: false,
            date_source: coalesce_core::DateSource::Structured,
            recurrence_id: None,
        };
        (vec![occurrence], in_zone.map(|z| z.name().to_string()))
    }
}

/// 23:59 or 23:59:59(.x): the end of a day written inclusively.
fn is_last_minute(t: NaiveTime) -> bool {
    t.hour() == 23 && t.minute() == 59
}

/// Midnight after the day `e` falls on, in `e`'s own offset (or the source's zone when the
/// date was written without one).
fn day_after(e: &When, zone: Option<chrono_tz::Tz>) -> Option<DateTime<FixedOffset>> {
    let next = (e.at.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN);
    if e.floating {
        localize(next, zone)
    } else {
        e.at.offset().from_local_datetime(&next).single()
    }
}

/// The `@id` a property points to: `{"@id": ...}` (or a full node), or a bare IRI string.
fn reference(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(reference),
        Value::Object(m) => Node(m).get("@id").and_then(text),
        _ => None,
    }
}

fn is_series(node: Node<'_>) -> bool {
    node.types().iter().any(|t| t == "EventSeries")
}

/// What a sub-event or course instance takes from its parent when it says nothing itself.
fn inherit(d: &mut Draft, p: &Draft) {
    if d.title.is_none() {
        d.title = p.title.clone();
        d.title_is_html = p.title_is_html;
    }
    if d.description_html.is_none() {
        d.description_html = p.description_html.clone();
    }
    if d.location.is_none() && d.location_text.is_none() {
        d.location = p.location.clone();
        d.location_text = p.location_text.clone();
    }
    d.online_url = d.online_url.take().or_else(|| p.online_url.clone());
    d.image_url = d.image_url.take().or_else(|| p.image_url.clone());
    d.organizer = d.organizer.take().or_else(|| p.organizer.clone());
    d.language = d.language.take().or_else(|| p.language.clone());
    d.declared_modality = d.declared_modality.or(p.declared_modality);
    d.declared_free = d.declared_free.or(p.declared_free);
    d.audience = d.audience.take().or_else(|| p.audience.clone());
    if d.offers.is_empty() {
        d.offers = p.offers.clone();
    }
    if d.categories.is_empty() {
        d.categories = p.categories.clone();
    }
    d.registration_url = d
        .registration_url
        .take()
        .or_else(|| p.registration_url.clone());
    if d.url.is_none() {
        // The series page, not the session's: it still tells modality, so it goes with the
        // other URLs rather than becoming this offering's link.
        d.other_urls.extend(p.url.clone());
    }
}

fn read_offers(node: Node<'_>, d: &mut Draft) {
    let Some(offers) = node.get("offers") else {
        return;
    };
    for o in objects(offers) {
        let o = Node(o);
        let currency = o.get("priceCurrency").and_then(text);
        let name = o
            .get("name")
            .and_then(text)
            .or_else(|| o.get("category").and_then(text));
        if d.registration_url.is_none() {
            d.registration_url = o.get("url").and_then(text);
        }
        let is_aggregate = o.types().iter().any(|t| t == "AggregateOffer");
        if is_aggregate {
            for key in ["lowPrice", "highPrice"] {
                if let Some(price) = o.get(key).and_then(text) {
                    d.offers.push(OfferInput {
                        price: Some(price),
                        currency: currency.clone(),
                        name: name.clone(),
                    });
                }
            }
            if let Some(inner) = o.get("offers") {
                for inner in objects(inner) {
                    let inner = Node(inner);
                    d.offers.push(OfferInput {
                        price: inner.get("price").and_then(text),
                        currency: inner
                            .get("priceCurrency")
                            .and_then(text)
                            .or_else(|| currency.clone()),
                        name: inner.get("name").and_then(text),
                    });
                }
            }
            continue;
        }
        let price = o
            .get("price")
            .and_then(text)
            .or_else(|| match o.get("priceSpecification") {
                Some(Value::Object(ps)) => Node(ps).get("price").and_then(text),
                _ => None,
            });
        if price.is_some() || name.is_some() {
            d.offers.push(OfferInput {
                price,
                currency,
                name,
            });
        }
    }
}

/// A JSON-LD object with schema.org keys under any of the usual prefixes.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a>(pub &'a Map<String, Value>);

impl<'a> Node<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        if let Some(v) = self.0.get(key) {
            return Some(v);
        }
        if key.starts_with('@') {
            return None;
        }
        ["http://schema.org/", "https://schema.org/", "schema:"]
            .iter()
            .find_map(|p| self.0.get(&format!("{p}{key}")))
    }

    /// `@type` names without vocabulary prefixes; types of other vocabularies are left out.
    pub fn types(&self) -> Vec<String> {
        let raw: Vec<&str> = match self.0.get("@type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        raw.into_iter()
            .filter(|t| !t.contains("://") || t.contains("schema.org"))
            .map(|t| {
                let t = t.trim();
                t.rsplit(['/', '#', ':']).next().unwrap_or(t).to_string()
            })
            .collect()
    }
}

/// The local name of a property key (`http://schema.org/startDate` -> `startDate`).
fn prop_name(k: &str) -> &str {
    k.rsplit(['/', '#', ':']).next().unwrap_or(k)
}

fn has_object(v: &Value) -> bool {
    match v {
        Value::Object(_) => true,
        Value::Array(a) => a.iter().any(|x| x.is_object()),
        _ => false,
    }
}

fn objects(v: &Value) -> Vec<&Map<String, Value>> {
    match v {
        Value::Object(m) => vec![m],
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// The first plain value: a string, a number, `@value`, or the first of an array.
pub(crate) fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => return a.iter().find_map(text),
        Value::Object(m) => return m.get("@value").and_then(text),
        Value::Null => return None,
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A string, or a Thing's name (or `@value`, or `@id`).
fn name_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => {
            let n = Node(m);
            n.get("name")
                .and_then(text)
                .or_else(|| n.get("@value").and_then(text))
                .or_else(|| n.get("alternateName").and_then(text))
        }
        Value::Array(a) => a.iter().find_map(name_of),
        other => text(other),
    }
}

fn image(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => {
            let n = Node(m);
            n.get("url")
                .and_then(text)
                .or_else(|| n.get("contentUrl").and_then(text))
                .or_else(|| n.get("@id").and_then(text))
        }
        Value::Array(a) => a.iter().find_map(image),
        other => text(other),
    }
}

fn keywords(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Value::Array(a) => a.iter().flat_map(keywords).collect(),
        Value::Object(_) => name_of(v).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        other => match text(other)?.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "https://schema.org/true" | "http://schema.org/true" => {
                Some(true)
            }
            "false" | "no" | "0" | "https://schema.org/false" | "http://schema.org/false" => {
                Some(false)
            }
            _ => None,
        },
    }
}

fn enum_name(v: &Value) -> Option<String> {
    let raw = match v {
        Value::Object(m) => Node(m).get("@id").and_then(text).or_else(|| name_of(v))?,
        other => text(other)?,
    };
    Some(
        raw.rsplit(['/', '#', ':'])
            .next()
            .unwrap_or(&raw)
            .trim()
            .to_string(),
    )
}

fn attendance_mode(v: &Value) -> Option<Modality> {
    let name = enum_name(v)?.to_ascii_lowercase();
    if name.starts_with("mixed") {
        Some(Modality::Hybrid)
    } else if name.starts_with("online") {
        Some(Modality::Online)
    } else if name.starts_with("offline") {
        Some(Modality::InPerson)
    } else {
        None
    }
}

/// `courseMode`; several modes (`["online", "onsite"]`) are one blended course.
fn course_mode(v: &Value) -> Option<Modality> {
    if let Value::Array(modes) = v {
        let modes: Vec<Modality> = modes.iter().filter_map(course_mode).collect();
        let online = modes.contains(&Modality::Online);
        let on_site = modes.contains(&Modality::InPerson);
        return if (online && on_site) || modes.contains(&Modality::Hybrid) {
            Some(Modality::Hybrid)
        } else {
            modes.first().copied()
        };
    }
    let name = enum_name(v)?.to_ascii_lowercase();
    match name.as_str() {
        "online" | "distance" | "distancelearning" => Some(Modality::Online),
        "onsite" | "on-site" | "inperson" | "in-person" | "offline" => Some(Modality::InPerson),
        "blended" | "hybrid" | "mixed" => Some(Modality::Hybrid),
        "selfpaced" | "self-paced" | "ondemand" => Some(Modality::SelfPaced),
        _ => attendance_mode(v),
    }
}

fn status(v: &Value) -> Option<Status> {
    let name = enum_name(v)?.to_ascii_lowercase();
    if name.contains("cancel") {
        Some(Status::Cancelled)
    } else if name.contains("postpone") {
        Some(Status::Postponed)
    } else if name.contains("scheduled")
        || name.contains("rescheduled")
        || name.contains("movedonline")
    {
        Some(Status::Scheduled)
    } else {
        None
    }
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}
