//! coalesce-ingest: bytes in, offerings out.
//!
//! [`parse`] sniffs the format ([`Kind`]), decodes the charset with a fixed precedence (BOM, HTTP
//! charset, XML declaration, then UTF-8 with replacement), hands the document to one adapter per
//! format (`feed` for RSS/Atom/JSON Feed and the calendar platforms' JSON event APIs, `ical` for
//! iCalendar, `html` for schema.org pages and per-source CSS rules), and runs every adapter's
//! [`draft::Draft`]s through one shared finishing stage (sanitizing, identity, modality, cost, credits, topics) so nothing downstream knows which
//! format an offering came from.
//!
//! Never here: the network, the store, the clock (`now` is in [`ParseHints`]). A bad item becomes
//! a [`Warning`]; only an unreadable document is a [`ParseError`]. Every input is bounded by
//! [`Limits`]: nothing may panic, overflow the stack or run unbounded.

mod charset;
pub mod dates;
pub mod draft;
mod feed;
pub mod html;
mod ical;
mod sanitize;
mod sniff;
pub mod tz;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use coalesce_core::{Offering, Sector, Vocabulary};
use serde::Serialize;
use url::Url;

pub use html::HtmlRules;
pub use sniff::sniff;

/// The document formats coalesce reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Rss,
    Atom,
    JsonFeed,
    Ics,
    Html,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rss => "rss",
            Kind::Atom => "atom",
            Kind::JsonFeed => "jsonfeed",
            Kind::Ics => "ics",
            Kind::Html => "html",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "rss" => Some(Kind::Rss),
            "atom" => Some(Kind::Atom),
            "jsonfeed" | "json" => Some(Kind::JsonFeed),
            "ics" | "ical" | "icalendar" => Some(Kind::Ics),
            "html" => Some(Kind::Html),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bounds on the work one document may cause. Defaults follow ../shared/HOSTILE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one document handed to `parse`.
    pub max_document_bytes: usize,
    /// Items (feed entries, VEVENTs, JSON-LD events) turned into offerings; the rest is dropped
    /// with a `too_many_items` warning.
    pub max_items: usize,
    /// Occurrences kept per offering after recurrence expansion, for a two-year window; longer
    /// windows allow proportionally more (see [`Limits::occurrences_per_offering`]) so a daily
    /// series is never cut short while the density stays bounded.
    pub max_occurrences: usize,
    /// Occurrences across the whole document: bounds memory whatever the mix of events.
    pub max_total_occurrences: usize,
    /// Longest expansion window accepted, in days.
    pub max_window_days: i64,
    /// Element nesting accepted in HTML (pages and descriptions) before a parser sees it.
    pub max_html_depth: usize,
    /// BEGIN nesting accepted in iCalendar.
    pub max_ical_nesting: usize,
    /// Components (VEVENT and friends) read from one iCalendar document.
    pub max_ical_components: usize,
    /// JSON nesting accepted in JSON-LD and JSON Feed.
    pub max_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 32 * 1024 * 1024,
            max_items: 2_000,
            max_occurrences: 1_000,
            max_total_occurrences: 100_000,
            max_window_days: 20 * 366,
            max_html_depth: 512,
            max_ical_nesting: 8,
            max_ical_components: 10_000,
            max_json_depth: 64,
        }
    }
}

impl Limits {
    /// The per-offering occurrence cap for `window`: `max_occurrences` per 730 days, never less
    /// than `max_occurrences`.
    pub fn occurrences_per_offering(&self, window: &Window) -> usize {
        let days = usize::try_from((window.to - window.from).num_days()).unwrap_or(0);
        self.max_occurrences
            .max(self.max_occurrences.saturating_mul(days) / 730)
    }
}

/// The span of time recurrence is expanded in (`from` inclusive, `to` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    /// The default window around `now`: 30 days back, two years ahead.
    pub fn around(now: DateTime<Utc>) -> Window {
        Window {
            from: now - Duration::days(30),
            to: now + Duration::days(730),
        }
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// What the caller knows about a document besides its bytes.
#[derive(Debug, Clone)]
pub struct ParseHints {
    /// Force a format instead of sniffing.
    pub kind: Option<Kind>,
    /// The HTTP `Content-Type` header, if fetched.
    pub content_type: Option<String>,
    /// The document's URL: relative links resolve against it.
    pub base_url: Option<Url>,
    /// The source's configured zone, for floating times without X-WR-TIMEZONE.
    pub timezone: Option<Tz>,
    pub window: Window,
    pub now: DateTime<Utc>,
    pub limits: Limits,
    /// Per-source CSS selector rules for HTML pages without structured data.
    pub html_rules: Option<HtmlRules>,
    pub vocabulary: Arc<Vocabulary>,
    /// Whether the feed's publication dates are its events' starts (the source's `dates`
    /// setting); detected from the feed itself when `Auto`.
    pub dates: DatesConvention,
    /// Who the publisher's offerings are for when an item's own text names no sector: the
    /// source's override, else its provider's declared sectors. Text that names sectors wins,
    /// as a curator reads it ("a museum association's offerings are for museums unless their
    /// text says otherwise").
    pub sectors: Vec<Sector>,
    /// The publisher's default audience, for items that state none.
    pub audience: Option<String>,
}

/// What a feed's publication dates (`pubDate`, `published`) mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatesConvention {
    /// Decided per document: an events plugin's generator tag, or most publication dates after
    /// the feed's own build date (or `now`), make them event starts.
    #[default]
    Auto,
    /// The publisher puts each event's start in its publication date (The Events Calendar and
    /// similar plugins).
    PublishedIsStart,
    /// Publication dates are when a post was published, never an event start.
    PublishedIsNotStart,
}

impl DatesConvention {
    pub const NAMES: [&'static str; 3] = ["auto", "published_is_start", "published_is_not_start"];

    pub fn as_str(self) -> &'static str {
        match self {
            DatesConvention::Auto => "auto",
            DatesConvention::PublishedIsStart => "published_is_start",
            DatesConvention::PublishedIsNotStart => "published_is_not_start",
        }
    }

    /// The setting's value as a source writes it.
    pub fn parse(s: &str) -> Option<DatesConvention> {
        match s.trim() {
            "auto" => Some(DatesConvention::Auto),
            "published_is_start" => Some(DatesConvention::PublishedIsStart),
            "published_is_not_start" => Some(DatesConvention::PublishedIsNotStart),
            _ => None,
        }
    }
}

impl ParseHints {
    /// Defaults around `now`: sniffed format, default window and limits, built-in vocabulary.
    pub fn new(now: DateTime<Utc>) -> ParseHints {
        ParseHints {
            kind: None,
            content_type: None,
            base_url: None,
            timezone: None,
            window: Window::around(now),
            now,
            limits: Limits::default(),
            html_rules: None,
            vocabulary: Arc::new(Vocabulary::builtin()),
            dates: DatesConvention::Auto,
            sectors: Vec::new(),
            audience: None,
        }
    }
}

/// Stable codes for warnings, shared with the store and the API (parse warnings by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// Bytes that were not valid in the detected charset were replaced by U+FFFD.
    LossyDecode,
    /// An item could not be read and was skipped.
    BadItem,
    /// An item had no usable title; one was derived.
    MissingTitle,
    /// A date or time could not be read.
    BadDate,
    /// A TZID named no known zone; UTC or the fallback zone was used.
    UnknownTimezone,
    /// A floating time was read in the fallback zone (X-WR-TIMEZONE, the source's zone, or UTC).
    FloatingTime,
    /// More items than `max_items`; the rest were dropped.
    TooManyItems,
    /// Recurrence expansion stopped at `max_occurrences` or refused an unbounded rule.
    RecurrenceCapped,
    /// A recurrence rule could not be read; the first occurrence was kept.
    BadRecurrence,
    /// The same GUID on several items: identical ones were collapsed, different ones re-keyed.
    DuplicateGuid,
    /// A JSON-LD block could not be read; other blocks were still used.
    BadJsonLd,
    /// Content nested deeper than the limit was flattened or dropped.
    TooDeep,
    /// A URL with a scheme other than http(s)/mailto was dropped.
    UnsafeUrl,
    /// A structure a strict parser would reject was repaired (missing END, stray lines, ...).
    Repaired,
}

impl WarningCode {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::LossyDecode => "lossy_decode",
            WarningCode::BadItem => "bad_item",
            WarningCode::MissingTitle => "missing_title",
            WarningCode::BadDate => "bad_date",
            WarningCode::UnknownTimezone => "unknown_timezone",
            WarningCode::FloatingTime => "floating_time",
            WarningCode::TooManyItems => "too_many_items",
            WarningCode::RecurrenceCapped => "recurrence_capped",
            WarningCode::BadRecurrence => "bad_recurrence",
            WarningCode::DuplicateGuid => "duplicate_guid",
            WarningCode::BadJsonLd => "bad_json_ld",
            WarningCode::TooDeep => "too_deep",
            WarningCode::UnsafeUrl => "unsafe_url",
            WarningCode::Repaired => "repaired",
        }
    }
}

/// Something that went wrong with part of a document; the rest was still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
    /// Zero-based index of the item in the document, when the warning is about one item.
    pub item: Option<usize>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some(i) => write!(f, "{} (item {}): {}", self.code.as_str(), i, self.message),
            None => write!(f, "{}: {}", self.code.as_str(), self.message),
        }
    }
}

/// The result of reading one document.
#[derive(Debug, Clone, Serialize)]
pub struct Parsed {
    pub kind: Kind,
    /// The feed's or calendar's own title, when it has one.
    pub title: Option<String>,
    /// The charset the text was decoded from.
    pub encoding: &'static str,
    pub offerings: Vec<Offering>,
    pub warnings: Vec<Warning>,
    /// RSS `<ttl>`: minutes the publisher says the feed may be cached. The crawler turns it
    /// into a capped "not before"; parsing only reports it.
    pub ttl: Option<u32>,
    /// The calendar platform whose own fields were read (`libcal`, `trumba`, `hcalendar`,
    /// `the-events-calendar`, `localist`), so a provider can see that its feed was understood.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'static str>,
    /// The next page of a paged events API (The Events Calendar's `next_rest_url`, Localist's
    /// `page` object applied to `ParseHints::base_url`), when the document says there is one.
    /// Parsing only reports it: following it is the crawler's job, through the same fetch
    /// policy (size, time, SSRF) as any URL, with its own cap on pages per source. It is always
    /// http(s), on the host of `base_url` (a `www.` prefix aside) when that is known, and never
    /// `base_url` itself.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_url"
    )]
    pub next_page: Option<Url>,
}

fn serialize_url<S: serde::Serializer>(url: &Option<Url>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(u) => s.serialize_some(u.as_str()),
        None => s.serialize_none(),
    }
}

/// Why a whole document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("document is empty")]
    Empty,
    #[error("document is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("cannot tell the format: expected rss, atom, json feed, icalendar or html")]
    UnknownFormat,
    #[error("not a readable {kind} document: {reason}")]
    Malformed { kind: Kind, reason: String },
    #[error("nesting deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("window from {from} to {to} is empty or longer than {max_days} days")]
    BadWindow {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        max_days: i64,
    },
}

impl ParseError {
    /// A stable code for logs, metrics and the API.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty_document",
            ParseError::TooLarge { .. } => "document_too_large",
            ParseError::UnknownFormat => "unknown_format",
            ParseError::Malformed { .. } => "malformed_document",
            ParseError::TooDeep { .. } => "too_deep",
            ParseError::BadWindow { .. } => "bad_window",
        }
    }

    pub(crate) fn malformed(kind: Kind, reason: impl fmt::Display) -> ParseError {
        ParseError::Malformed {
            kind,
            reason: reason.to_string(),
        }
    }
}

/// Everything an adapter needs while it reads one document: the hints and a place for warnings.
pub(crate) struct Ctx<'a> {
    pub hints: &'a ParseHints,
    pub warnings: Vec<Warning>,
    /// Occurrences the rest of the document may still produce (`max_total_occurrences`).
    pub occurrence_budget: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(hints: &'a ParseHints) -> Ctx<'a> {
        Ctx {
            hints,
            warnings: Vec::new(),
            occurrence_budget: hints.limits.max_total_occurrences,
        }
    }

    /// How many occurrences the next offering may keep: its own cap, within what the document
    /// has left.
    pub fn occurrence_cap(&self) -> usize {
        self.hints
            .limits
            .occurrences_per_offering(&self.hints.window)
            .min(self.occurrence_budget)
    }

    /// Records that an offering kept `n` occurrences.
    pub fn spend_occurrences(&mut self, n: usize) {
        self.occurrence_budget = self.occurrence_budget.saturating_sub(n);
    }

    pub fn warn(&mut self, code: WarningCode, item: Option<usize>, message: impl Into<String>) {
        // One warning per code and item is enough; a flood of identical warnings helps nobody.
        if self.warnings.len() >= 1_000 {
            return;
        }
        self.warnings.push(Warning {
            code,
            message: message.into(),
            item,
        });
    }
}

/// What an adapter hands back: the document title and one draft per item, in document order.
pub(crate) struct Extracted {
    pub title: Option<String>,
    pub drafts: Vec<draft::Draft>,
    pub ttl: Option<u32>,
    /// See [`Parsed::platform`].
    pub platform: Option<&'static str>,
    /// See [`Parsed::next_page`].
    pub next_page: Option<Url>,
}

/// Reads one document. See the crate docs for the pipeline.
pub fn parse(bytes: &[u8], hints: &ParseHints) -> Result<Parsed, ParseError> {
    let limits = &hints.limits;
    if bytes.len() > limits.max_document_bytes {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            limit: limits.max_document_bytes,
        });
    }
    let w = hints.window;
    if w.to <= w.from || (w.to - w.from).num_days() > limits.max_window_days {
        return Err(ParseError::BadWindow {
            from: w.from,
            to: w.to,
            max_days: limits.max_window_days,
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let mut ctx = Ctx::new(hints);
    let decoded = charset::decode(bytes, hints.content_type.as_deref());
    if decoded.lossy {
        ctx.warn(
            WarningCode::LossyDecode,
            None,
            format!(
                "bytes that are not valid {} were replaced with U+FFFD",
                decoded.encoding.name()
            ),
        );
    }
    let kind = match hints.kind {
        Some(k) => k,
        None => {
            sniff(hints.content_type.as_deref(), &decoded.text).ok_or(ParseError::UnknownFormat)?
        }
    };
    let doc = Doc {
        bytes,
        text: &decoded.text,
        encoding: decoded.encoding,
        kind,
    };
    let extracted = match kind {
        Kind::Rss | Kind::Atom | Kind::JsonFeed => feed::extract(&doc, &mut ctx)?,
        Kind::Ics => ical::extract(&doc, &mut ctx)?,
        Kind::Html => html::extract(&doc, &mut ctx)?,
    };
    let offerings = draft::finish_all(extracted.drafts, &mut ctx);
    Ok(Parsed {
        kind,
        title: extracted.title,
        encoding: decoded.encoding.name(),
        offerings,
        warnings: ctx.warnings,
        ttl: extracted.ttl,
        platform: extracted.platform,
        next_page: extracted.next_page,
    })
}

/// One decoded document on its way to an adapter.
pub(crate) struct Doc<'a> {
    /// The bytes as received (some adapters honour an in-document charset themselves).
    #[allow(dead_code)]
    pub bytes: &'a [u8],
    /// The text decoded with the fixed precedence.
    #[allow(dead_code)]
    pub text: &'a str,
    #[allow(dead_code)]
    pub encoding: &'static encoding_rs::Encoding,
    pub kind: Kind,
}
