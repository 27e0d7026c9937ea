//! Output writers: iCalendar, Atom 1.0 and JSON Feed 1.1 for a list of offerings.
//!
//! The routes (`/calendar.ics`, `/feed.atom`, `/feed.json`, `/api/v1/offerings/{id}.ics`) run a
//! search, turn each hit into a [`FeedEntry`] (one per duplicate cluster: the canonical record,
//! with the other members' providers in `also_offered_by`) and call one writer here. Writers are
//! pure: no clock, no IO, no hash-map iteration order, so the same input always gives the same
//! bytes and the route can use a hash of the body as its ETag ([`etag`]).
//!
//! Every byte of the iCalendar output is written here, not by the `icalendar` crate: its writer
//! adds `DTSTAMP:now`, random UIDs and its own PRODID, each of which would change the ETag on
//! every request and make subscribers see phantom edits.

mod atom;
mod ics;
mod jsonfeed;
mod text;

use std::time::Duration;

use chrono::{DateTime, Utc};
use coalesce_core::{Cost, Offering, Status};

pub use atom::write_atom;
pub use ics::{Calendar, CalendarLimits, event_uid, write_calendar, write_offering_ics};
pub use jsonfeed::write_json_feed;

/// One offering as the feeds show it: the canonical record of its duplicate cluster plus what
/// the store knows about it.
#[derive(Debug, Clone)]
pub struct FeedEntry<'a> {
    /// The store's stable offering id. Part of every UID and Atom id, so it must never change
    /// for the same offering (the store's id is stable across crawls and restarts).
    pub id: &'a str,
    pub offering: &'a Offering,
    /// Display name of the provider of the canonical record.
    pub provider: &'a str,
    /// Our own revision counter, bumped by the store on each user-visible change. Becomes the
    /// iCalendar SEQUENCE: clients ignore an edit whose SEQUENCE did not go up.
    pub sequence: u32,
    /// When the store last saw a user-visible change. Becomes DTSTAMP and LAST-MODIFIED (so
    /// they are deterministic) and the Atom/JSON Feed modification date.
    pub updated_at: DateTime<Utc>,
    /// Providers of the other members of the duplicate cluster, in the order to show them.
    pub also_offered_by: Vec<String>,
    /// Labels of `offering.topics` from the vocabulary (the route resolves them).
    pub topic_labels: Vec<String>,
    /// Our page for the offering (absolute URL).
    pub detail_url: String,
}

/// What the whole feed is.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// Calendar / feed title, e.g. "coalesce: free online workshops on preservation".
    pub name: String,
    /// Says in words what the filter is, so a subscriber can tell two subscriptions apart.
    pub description: String,
    /// The absolute URL this feed is served from (with its query).
    pub self_url: String,
    /// Where a person sees the same search (JSON Feed `home_page_url`, Atom's alternate link).
    pub home_url: String,
    /// The service's public host name, the right-hand side of every UID. Configured, not taken
    /// from the request: a UID that changed with the Host header would duplicate every event.
    pub uid_domain: String,
    /// How often clients should poll (REFRESH-INTERVAL, X-PUBLISHED-TTL).
    pub refresh: Duration,
    /// When the feed was generated; used only where a format needs a date and no entry gives
    /// one. Passed in, never read from the clock.
    pub generated_at: DateTime<Utc>,
}

/// A strong ETag for a response body: the first 128 bits of its FNV-1a/SplitMix fingerprint
/// pair. Not cryptographic; an ETag only has to change when the bytes do.
pub fn etag(body: &[u8]) -> String {
    let (a, b) = body.iter().fold(
        (0xcbf2_9ce4_8422_2325_u64, 0x9e37_79b9_7f4a_7c15_u64),
        |(a, b), &x| {
            let a = (a ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
            let b = (b ^ u64::from(x))
                .wrapping_mul(0xbf58_476d_1ce4_e5b9)
                .rotate_left(31);
            (a, b)
        },
    );
    format!("\"{a:016x}{b:016x}\"")
}

/// Plain-text details shared by the iCalendar DESCRIPTION, the Atom content and the JSON Feed
/// `content_text`: the summary first (what a calendar shows in its preview), then the links and
/// facts a learner acts on. Newlines are real newlines here; each writer escapes them its way.
pub(crate) fn details_text(entry: &FeedEntry<'_>) -> String {
    let o = entry.offering;
    let mut out = String::with_capacity(256);
    match o.status {
        Status::Cancelled => out.push_str("CANCELLED.\n"),
        Status::Postponed => out.push_str("POSTPONED: new dates to be announced.\n"),
        Status::Scheduled => {}
    }
    if let Some(summary) = o.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        out.push_str(summary.trim());
        out.push_str("\n\n");
    }
    if let Some(url) = o.registration_url.as_deref().and_then(text::clean_uri) {
        out.push_str("Register: ");
        out.push_str(url);
        out.push('\n');
    }
    if let Some(url) = o.online_url.as_deref().and_then(text::clean_uri) {
        out.push_str("Join online: ");
        out.push_str(url);
        out.push('\n');
    }
    if let Some(cost) = cost_text(&o.cost) {
        out.push_str("Cost: ");
        out.push_str(&cost);
        out.push('\n');
    }
    out.push_str("Offered by: ");
    out.push_str(entry.provider);
    out.push('\n');
    if !entry.also_offered_by.is_empty() {
        out.push_str("Also offered by: ");
        out.push_str(&entry.also_offered_by.join(", "));
        out.push('\n');
    }
    if let Some(url) = text::clean_uri(&entry.detail_url) {
        out.push_str("Details: ");
        out.push_str(url);
        out.push('\n');
    }
    // No trailing newline: clients show it as an empty last line.
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn cost_text(cost: &Cost) -> Option<String> {
    if cost.free == Some(true) {
        return Some("free".to_owned());
    }
    if let Some(t) = cost.text.as_deref().filter(|t| !t.trim().is_empty()) {
        return Some(t.trim().to_owned());
    }
    let cur = cost.currency.as_deref().unwrap_or("");
    match (cost.min_amount, cost.max_amount) {
        (Some(a), Some(b)) if a != b => Some(format!("{a} to {b} {cur}").trim().to_owned()),
        (Some(a), _) | (None, Some(a)) => Some(format!("{a} {cur}").trim().to_owned()),
        (None, None) => None,
    }
}

/// The title with the status in front, so clients that ignore STATUS (or show cancelled events
/// like any other) still tell the learner.
pub(crate) fn display_title(title: &str, status: Status, occurrence_cancelled: bool) -> String {
    let title = title.trim();
    if status == Status::Cancelled || occurrence_cancelled {
        format!("Cancelled: {title}")
    } else if status == Status::Postponed {
        format!("Postponed: {title}")
    } else {
        title.to_owned()
    }
}

/// One line per session for the text feeds ("2026-03-10 14:00–15:30 (America/New_York)"), in
/// the offering's zone when known, else UTC. At most `max` lines, then a count of the rest.
pub(crate) fn sessions_text(entry: &FeedEntry<'_>, max: usize) -> Vec<String> {
    use chrono_tz::Tz;
    let o = entry.offering;
    let zone = o.timezone.as_deref().and_then(|z| z.parse::<Tz>().ok());
    let mut lines = Vec::new();
    for occ in o.occurrences.iter().take(max) {
        let mut line = if occ.all_day {
            let first = occ.start.date_naive();
            match occ
                .end
                .map(|e| e.date_naive())
                .filter(|d| (*d - first).num_days() > 1)
            {
                Some(after) => format!(
                    "{} to {} (all day)",
                    first.format("%Y-%m-%d"),
                    after.pred_opt().unwrap_or(after).format("%Y-%m-%d")
                ),
                None => format!("{} (all day)", first.format("%Y-%m-%d")),
            }
        } else {
            let (start, end, zone_name) = match zone {
                Some(tz) => (
                    occ.start.with_timezone(&tz).naive_local(),
                    occ.end.map(|e| e.with_timezone(&tz).naive_local()),
                    tz.name(),
                ),
                None => (occ.start.naive_utc(), occ.end.map(|e| e.naive_utc()), "UTC"),
            };
            let mut s = start.format("%Y-%m-%d %H:%M").to_string();
            if let Some(end) = end {
                if end.date() == start.date() {
                    s.push_str(&end.format("–%H:%M").to_string());
                } else {
                    s.push_str(&end.format(" – %Y-%m-%d %H:%M").to_string());
                }
            }
            format!("{s} ({zone_name})")
        };
        if occ.cancelled {
            line.push_str(" CANCELLED");
        }
        lines.push(line);
    }
    if o.occurrences.len() > max {
        lines.push(format!("and {} more sessions", o.occurrences.len() - max));
    }
    lines
}

/// A stable, valid IRI for an offering in Atom and JSON Feed (RFC 4151 tag URI): the same
/// offering keeps its id whatever the feed's URL or the offering's own links become.
pub(crate) fn entry_tag(domain: &str, id: &str) -> String {
    let domain: String = domain
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let mut out = format!("tag:{domain},2026:offering/");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link a reader follows: the provider's page, else ours.
pub(crate) fn primary_url<'e>(entry: &'e FeedEntry<'_>) -> Option<&'e str> {
    entry
        .offering
        .url
        .as_deref()
        .and_then(text::clean_uri)
        .or_else(|| text::clean_uri(&entry.detail_url))
}

/// The newest `updated_at` of the entries, else `generated_at`: the feed's own date only moves
/// when an entry does, so the bytes (and the ETag) stay put between unchanged requests.
pub(crate) fn feed_updated(meta: &FeedMeta, entries: &[FeedEntry<'_>]) -> DateTime<Utc> {
    entries
        .iter()
        .map(|e| e.updated_at)
        .max()
        .unwrap_or(meta.generated_at)
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
