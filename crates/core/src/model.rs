//! The offering model: one learning opportunity as a learner sees it.
//!
//! Field names here are the JSON names the CLI prints and the API serves (snake_case).

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// One learning opportunity from one source, normalized.
///
/// Store-level identity (`id`, `source_id`, provider, first/last seen) is added by the store; what
/// a parser can know is here, including the `source_key` that identifies the item within its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offering {
    /// Identity within the source: GUID / iCal UID / canonical URL / content hash.
    pub source_key: String,
    /// Which of those the key is.
    pub key_kind: KeyKind,
    /// Plain text, never markup.
    pub title: String,
    /// Plain text summary (at most a few hundred characters).
    pub summary: Option<String>,
    /// Sanitized HTML with absolute links.
    pub description_html: Option<String>,
    pub language: Option<String>,
    /// Dated sessions inside the requested window, sorted by start. Empty for on-demand resources
    /// and for feed items that carry no event dates.
    pub occurrences: Vec<Occurrence>,
    /// True when the source declares a recurrence rule (occurrences are its expansion).
    pub recurring: bool,
    /// The IANA zone the times were given in, when known.
    pub timezone: Option<String>,
    pub modality: Option<Modality>,
    pub location: Option<Location>,
    /// Where to join an online session (Zoom, Teams, ...), when the source publishes it.
    pub online_url: Option<String>,
    /// The offering's page.
    pub url: Option<String>,
    pub registration_url: Option<String>,
    pub image_url: Option<String>,
    pub cost: Cost,
    pub credits: Vec<Credit>,
    pub sectors: Vec<Sector>,
    pub audience_level: Option<String>,
    /// Topic ids from the shared vocabulary.
    pub topics: Vec<String>,
    /// The provider's own categories, as published.
    pub categories: Vec<String>,
    /// Who the source names as organizer or author.
    pub organizer: Option<String>,
    pub status: Status,
    /// The source's own revision counter (iCalendar SEQUENCE), 0 when absent.
    pub source_sequence: u32,
    /// When the source says the item last changed.
    pub updated_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Offering {
    /// The first occurrence starting at or after `now`, or the one in progress.
    pub fn next_occurrence(&self, now: DateTime<Utc>) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.end.map_or(o.start >= now, |end| end >= now))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Guid,
    Url,
    ContentHash,
}

/// One dated session. `start`/`end` carry the offset of the offering's zone at that instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub start: DateTime<FixedOffset>,
    pub end: Option<DateTime<FixedOffset>>,
    /// A date-only session: `start` is local midnight of the first day, `end` the midnight
    /// after the last day (exclusive, as in iCalendar).
    pub all_day: bool,
    /// Set when this single session (not the whole offering) is cancelled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// Where the dates came from; stored bodies written before it existed read as structured.
    #[serde(default)]
    pub date_source: DateSource,
    /// The start the source first gave this session (iCalendar RECURRENCE-ID) when it has
    /// since moved: the calendar keys a series' session by it, so a moved session keeps its
    /// UID. `None` when the session is where the series put it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_id: Option<DateTime<Utc>>,
}

/// The provenance of an occurrence's dates, so the scorecard and the API can say how far to
/// trust them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// A field made for it: DTSTART, `startDate`, `ev:startdate`, `dt-start`, a CSS rule.
    #[default]
    Structured,
    /// Read from the words of the title or description ("March 10 @ 1:00 pm AST").
    Text,
    /// The publication date of a feed whose publisher puts the event start there.
    Published,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Structured => "structured",
            DateSource::Text => "text",
            DateSource::Published => "published",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Online,
    InPerson,
    Hybrid,
    SelfPaced,
}

impl Modality {
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Online => "online",
            Modality::InPerson => "in_person",
            Modality::Hybrid => "hybrid",
            Modality::SelfPaced => "self_paced",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub name: Option<String>,
    pub address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub geo: Option<Geo>,
}

impl Location {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.address.is_none()
            && self.locality.is_none()
            && self.region.is_none()
            && self.country.is_none()
            && self.geo.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
}

impl Geo {
    /// A point only if both coordinates are finite and on the globe.
    pub fn new(lat: f64, lon: f64) -> Option<Geo> {
        let ok = lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon);
        ok.then_some(Geo { lat, lon })
    }
}

/// What attending costs. `free` is `Some(true)` only when nobody pays; a members-free offering
/// has `free: Some(false)` and `min_amount: Some(0.0)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub free: Option<bool>,
    pub min_amount: Option<f64>,
    pub max_amount: Option<f64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// The provider's wording, kept for display.
    pub text: Option<String>,
}

impl Cost {
    pub fn is_known(&self) -> bool {
        self.free.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credit {
    pub amount: f64,
    pub unit: CreditUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditUnit {
    /// Continuing Education Units (1 CEU = 10 contact hours).
    Ceu,
    ContactHours,
    CreditHours,
    /// Project Management Institute professional development units.
    Pdu,
    /// Generic "CE credits" / "CE hours" without a named unit.
    CeCredits,
    /// Academy of Certified Archivists recertification credits.
    AcaCredits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Archives,
    Libraries,
    Museums,
}

impl Sector {
    pub const ALL: [Sector; 3] = [Sector::Archives, Sector::Libraries, Sector::Museums];

    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Archives => "archives",
            Sector::Libraries => "libraries",
            Sector::Museums => "museums",
        }
    }

    pub fn parse(s: &str) -> Option<Sector> {
        Sector::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Who one offering is for when several providers list it: every sector any of its copies
    /// is for. A webinar co-marketed by an archives council and a museum alliance reaches both.
    pub fn union<'a>(copies: impl IntoIterator<Item = &'a Offering>) -> Vec<Sector> {
        let mut all: Vec<Sector> = copies
            .into_iter()
            .flat_map(|o| o.sectors.iter().copied())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Scheduled,
    Cancelled,
    Postponed,
}
