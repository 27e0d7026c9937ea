//! RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 through our own reader ([`reader`]), JSON Feed 1.x through
//! feed-rs ([`json`]), plus event modules.
//!
//! The reader is one tolerant quick-xml pass over the text the pipeline already decoded (so our
//! charset precedence wins over the feed's own, possibly lying, declaration, which is ignored).
//! It reads the channel, every item's fields and the event modules (`ev:`, xCal, Google Base
//! `g:event_date_range`, ...) in the same pass, so each byte is read once. It is as forgiving as
//! a browser-grade reader like feedparser: any `<rss>` version, old and prefixed namespaces, and
//! malformed markup. A broken item never drops the feed: its fields are read as far as they go,
//! the item gets a `bad_item` warning, and the document a `repaired` one. This module turns what
//! the reader found into [`Draft`]s: text constructs into HTML or text, dates, links and the base
//! for relative links (`xml:base`, the item's page, the feed's page).

mod events_api;
mod hcal;
mod json;
mod localist;
mod platform;
mod reader;
mod tec;
mod timestamp;
mod tokens;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use coalesce_core::{DateSource, Occurrence};
use url::Url;

use crate::dates::parse_when;
use crate::draft::Draft;
use crate::sanitize::html_to_text;
use crate::{Ctx, DatesConvention, Doc, Extracted, Kind, ParseError, WarningCode};

use reader::{Content, EventData, Item, Markup};

pub(crate) fn extract(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    match doc.kind {
        Kind::JsonFeed => json::extract(doc, ctx),
        _ => extract_xml(doc, ctx),
    }
}
fn extract_xml(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    let max = ctx.hints.limits.max_items;
    let text = doc
        .text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    note_repairs(text, ctx);
    let feed = reader::read(text, ctx.hints.base_url.as_ref(), max);
    let known_root = feed
        .root
        .as_deref()
        .is_some_and(|r| matches!(r, "rss" | "rdf" | "feed" | "channel" | "entry"));
    if feed.items.is_empty() && (feed.malformed.is_some() || !known_root) {
        let reason = match (&feed.malformed, &feed.root) {
            (Some(why), _) => truncate(why, 160),
            (None, Some(root)) => format!("root element <{}> is not a feed", truncate(root, 40)),
            (None, None) => "no root element".to_string(),
        };
        return Err(ParseError::malformed(doc.kind, reason));
    }
    let broken = feed.items.iter().filter(|i| i.broken).count();
    if feed.malformed.is_some() || broken > 0 {
        let why = feed
            .malformed
            .as_deref()
            .map_or_else(|| format!("{broken} malformed items"), |w| truncate(w, 160));
        ctx.warn(
            WarningCode::Repaired,
            None,
            format!("feed is not well-formed ({why}); items were read as far as they go"),
        );
    }
    if feed.total_items > max {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!(
                "document has {} items; only the first {max} were read",
                feed.total_items
            ),
        );
    }
    let info = FeedInfo {
        link: feed
            .link
            .as_deref()
            .and_then(|l| absolute(l, ctx.hints.base_url.as_ref())),
        language: feed.language,
    };
    let mut drafts = Vec::with_capacity(feed.items.len());
    let mut published = Vec::with_capacity(feed.items.len());
    let mut platform = feed.platform;
    for (index, mut item) in feed.items.into_iter().enumerate() {
        // Kept even when nothing could be read from it: every item element is an item, as
        // feedparser counts them.
        if item.broken {
            ctx.warn(
                WarningCode::BadItem,
                Some(index),
                "item is not well-formed; its fields were read as far as they go",
            );
        }
        let event = std::mem::take(&mut item.event);
        let (mut draft, pub_date) = draft_from_item(index, item, &info);
        apply_event(&mut draft, &event, feed.platform, ctx);
        if draft.occurrences.is_empty() && event.start.is_none() && apply_hcalendar(&mut draft, ctx)
        {
            platform.get_or_insert("hcalendar");
        }
        drafts.push(draft);
        published.push(pub_date);
    }
    let built = feed
        .updated
        .as_deref()
        .or(feed.published.as_deref())
        .and_then(timestamp::parse);
    if published_is_start(
        ctx.hints.dates,
        feed.generator.as_deref(),
        built.unwrap_or(ctx.hints.now),
        &published,
    ) {
        for (draft, p) in drafts.iter_mut().zip(published) {
            draft.published_start = p;
        }
    }
    Ok(Extracted {
        title: feed
            .title
            .as_ref()
            .map(plain_text)
            .filter(|t| !t.is_empty()),
        drafts,
        ttl: feed.ttl,
        platform,
        next_page: None,
    })
}

/// The byte span of the root element's start tag, skipping the prolog.
fn root_tag(text: &str) -> Option<(usize, usize)> {
    let mut at = 0;
    loop {
        let rest = &text[at..];
        let lt = rest.find('<')?;
        let rest = &rest[lt..];
        if rest.starts_with("<?") {
            at += lt + rest.find("?>")? + 2;
        } else if rest.starts_with("<!--") {
            at += lt + rest.find("-->")? + 3;
        } else if rest.starts_with("<!") {
            // A doctype, possibly with an internal subset in brackets.
            let close = match (rest.find('['), rest.find('>')) {
                (Some(b), Some(g)) if b < g => rest.find("]>").or_else(|| rest.find('>'))?,
                _ => rest.find('>')?,
            };
            at += lt + close + 1;
        } else {
            let end = rest.find('>')?;
            return Some((at + lt, at + lt + end + 1));
        }
    }
}

/// Warns about what a strict reader would refuse and ours reads as its current form: an old or
/// prefixed feed namespace, an `<rss>` root without a version it knows. Only the root's start
/// tag is looked at; nothing is rewritten.
fn note_repairs(text: &str, ctx: &mut Ctx<'_>) {
    let Some((start, end)) = root_tag(text) else {
        return;
    };
    let tag = &text[start..end];
    if old_or_prefixed_namespace(tag) {
        ctx.warn(
            WarningCode::Repaired,
            None,
            "feed namespace of an older or prefixed format was read as its current one",
        );
    }
    if rss_without_known_version(tag) {
        ctx.warn(
            WarningCode::Repaired,
            None,
            "rss root without a known version was read as rss 2.0",
        );
    }
}

/// The element name of a start tag (`<name ...>`).
fn tag_name(tag: &str) -> &str {
    let rest = tag.strip_prefix('<').unwrap_or(tag);
    let len = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    &rest[..len]
}

/// RSS 0.90 and Atom 0.3 differ from RSS 1.0 and Atom 1.0 in little more than the namespace
/// URI; a prefixed `<r:rss>` root is RSS all the same.
fn old_or_prefixed_namespace(tag: &str) -> bool {
    const OLD: [&str; 2] = [
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://purl.org/atom/ns#",
    ];
    if let Some((prefix, "rss")) = tag_name(tag).split_once(':')
        && !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return true;
    }
    OLD.iter().any(|old| tag.contains(old))
}

/// An `<rss>` root whose version is missing or not 2.0, 0.91 or 0.92.
fn rss_without_known_version(tag: &str) -> bool {
    let name = tag_name(tag);
    if !name.eq_ignore_ascii_case("rss") {
        return false;
    }
    let attrs = &tag[1 + name.len()..];
    let mut rest = attrs;
    while let Some(at) = rest.find("version") {
        let before_ok = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = rest[at + 7..].trim_start();
        rest = &rest[at + 7..];
        if !before_ok {
            continue;
        }
        let Some(value) = after.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        let Some(quote) = value.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            continue;
        };
        let value = &value[1..];
        let version = value.find(quote).map_or(value, |e| &value[..e]);
        return !matches!(version.trim(), "2.0" | "0.91" | "0.92");
    }
    true
}

/// What every item of one feed shares.
struct FeedInfo {
    language: Option<String>,
    /// The feed's own page, a base for items without one of their own.
    link: Option<Url>,
}

/// `href` as an absolute http(s) URL, resolved against `base` when relative.
fn absolute(href: &str, base: Option<&Url>) -> Option<Url> {
    let href = href.trim();
    match base {
        Some(b) => b.join(href).ok(),
        None => Url::parse(href).ok(),
    }
    .filter(|u| matches!(u.scheme(), "http" | "https"))
}

fn plain_text(text: &Content) -> String {
    match text.markup {
        Markup::Html => html_to_text(&text.value, 64),
        Markup::Loose if text.value.contains('<') => html_to_text(&text.value, 64),
        _ => coalesce_core::normalize::squash_whitespace(&text.value),
    }
}

/// A text construct as HTML the finishing stage may read: explicit text is escaped, so markup
/// it holds is shown rather than interpreted. Returns the value and whether it is HTML.
fn as_html(text: Content) -> (String, bool) {
    match text.markup {
        Markup::Html => (text.value, true),
        Markup::Loose => (text.value, false),
        Markup::Text if text.value.contains(['<', '&']) => {
            let mut out = String::with_capacity(text.value.len() + 16);
            for c in text.value.chars() {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '&' => out.push_str("&amp;"),
                    c => out.push(c),
                }
            }
            (out, true)
        }
        Markup::Text => (text.value, false),
    }
}

/// Whether this feed's publication dates are its events' starts: the source says so, or the
/// feed shows it: an events plugin's generator tag, or most items (two thirds, at least three)
/// published more than a day after the feed's own build date (`now` without one). A news
/// feed's posts are published before the feed is built, so its dates never qualify.
fn published_is_start(
    setting: DatesConvention,
    generator: Option<&str>,
    built: DateTime<Utc>,
    published: &[Option<DateTime<FixedOffset>>],
) -> bool {
    match setting {
        DatesConvention::PublishedIsStart => return true,
        DatesConvention::PublishedIsNotStart => return false,
        DatesConvention::Auto => {}
    }
    if generator.is_some_and(is_events_plugin) {
        return true;
    }
    let dated = published.iter().flatten().count();
    let ahead = published
        .iter()
        .flatten()
        .filter(|p| p.with_timezone(&Utc) > built + Duration::days(1))
        .count();
    dated >= 3 && ahead * 3 >= dated * 2
}

/// Generator tags of calendar plugins that write each event's start as its `pubDate`.
fn is_events_plugin(generator: &str) -> bool {
    let g = generator.to_ascii_lowercase();
    [
        "the events calendar",
        "tribe-events",
        "tribe events",
        "events manager",
        "eventon",
    ]
    .iter()
    .any(|p| g.contains(p))
}

/// The draft of one item, and its publication date with the offset it was written in.
fn draft_from_item(
    index: usize,
    item: Item,
    info: &FeedInfo,
) -> (Draft, Option<DateTime<FixedOffset>>) {
    let mut d = Draft {
        index,
        text_dates: true,
        ..Draft::default()
    };
    let guid_link = (item.guid_is_link && item.link.is_none())
        .then_some(item.guid.as_deref())
        .flatten()
        .filter(|g| {
            let g = g.trim_start();
            g.starts_with("http://") || g.starts_with("https://")
        })
        .map(str::to_string);
    d.guid = item.guid;
    if let Some(t) = item.title {
        let (title, is_html) = as_html(t);
        d.title_is_html = is_html;
        d.title = Some(title);
    }
    // Full content when there is some, the summary as summary; else the summary is the text.
    match (item.content, item.summary) {
        (Some(body), summary) => {
            match body.markup {
                Markup::Text => d.description_text = Some(body.value),
                Markup::Html | Markup::Loose => d.description_html = Some(body.value),
            }
            d.summary = summary.map(|s| as_html(s).0);
        }
        (None, Some(s)) => {
            let html = match s.markup {
                Markup::Html => true,
                Markup::Loose => s.value.contains(['<', '&']),
                Markup::Text => false,
            };
            if html {
                d.description_html = Some(s.value);
            } else {
                d.description_text = Some(s.value);
            }
        }
        (None, None) => {}
    }
    d.url = item.link.or(guid_link);
    d.image_url = item.image;
    d.other_urls = item.other_urls;
    d.categories = item.categories;
    // A calendar's per-day category ("2027/03/02 (Tue)", Trumba) is a date, not a topic.
    if d.categories
        .iter()
        .any(|c| c.as_bytes().first().is_some_and(u8::is_ascii_digit))
    {
        d.categories.retain(|c| !platform::is_date_category(c));
    }
    d.organizer = item.author;
    let published = item.published.as_deref().and_then(timestamp::parse_fixed);
    d.published_at = published.map(|p| p.with_timezone(&Utc));
    d.updated_at = item.updated.as_deref().and_then(timestamp::parse);
    d.language = item.language.or_else(|| info.language.clone());
    d.base_url = match item.base.filter(|u| matches!(u.scheme(), "http" | "https")) {
        Some(own) => Some(own),
        None => match d.url.as_deref().and_then(|u| absolute(u, None)) {
            Some(link) => {
                d.base_is_url = true;
                Some(link)
            }
            None => info.link.clone(),
        },
    };
    (d, published)
}

/// Adds what an event module or a platform's own elements say about the item.
fn apply_event(d: &mut Draft, ev: &EventData, platform: Option<&str>, ctx: &mut Ctx<'_>) {
    if ev.is_empty() {
        return;
    }
    let times = platform::times(ev, platform);
    if let Some(raw) = times.start.as_deref() {
        add_occurrence(d, raw, times.end.as_deref(), times.utc_in_zone, ctx);
    }
    if let Some(loc) = ev.location.as_deref() {
        d.location_text = Some(loc.to_string());
    }
    if let Some(org) = ev.organizer.as_deref() {
        d.organizer = Some(org.to_string());
    }
    if let Some(kind) = ev.kind.as_deref() {
        d.categories.push(kind.to_string());
    }
    if let Some(price) = ev.price.as_deref() {
        d.cost_text = Some(match ev.currency.as_deref() {
            Some(cur) => format!("{price} {cur}"),
            None => price.to_string(),
        });
    }
    if d.image_url.is_none() {
        d.image_url = ev.image.clone();
    }
    platform::apply_fields(d, ev);
}

/// Reads hCalendar dates and place from the item's HTML description (UNL Events and the
/// like) when its format gave no start. Returns whether it found a start.
fn apply_hcalendar(d: &mut Draft, ctx: &mut Ctx<'_>) -> bool {
    let html = match (d.description_html.as_deref(), d.summary.as_deref()) {
        (Some(h), _) if hcal::may_have(h) => h,
        (_, Some(s)) if hcal::may_have(s) => s,
        _ => return false,
    };
    let found = hcal::read(html);
    let Some(start) = found.start.as_deref() else {
        return false;
    };
    let before = d.occurrences.len();
    add_occurrence(d, start, found.end.as_deref(), true, ctx);
    if d.location_text.is_none() && d.location.is_none() {
        d.location_text = found.location;
    }
    d.occurrences.len() > before
}

/// One occurrence from a start and end as written. `utc_in_zone`: a platform's instants
/// written in UTC are shown in the source's zone (the platform is the source's own calendar).
fn add_occurrence(
    d: &mut Draft,
    raw: &str,
    end_raw: Option<&str>,
    utc_in_zone: bool,
    ctx: &mut Ctx<'_>,
) {
    let zone = ctx.hints.timezone;
    let index = Some(d.index);
    let Some(start) = parse_when(raw, zone) else {
        ctx.warn(
            WarningCode::BadDate,
            index,
            format!("event start {:?} is not a date", truncate(raw, 60)),
        );
        return;
    };
    let end = end_raw.and_then(|e| {
        let w = parse_when(e, zone);
        if w.is_none() {
            ctx.warn(
                WarningCode::BadDate,
                index,
                format!("event end {:?} is not a date", truncate(e, 60)),
            );
        }
        w
    });
    let mut end_at = end.map(|e| {
        // A date-only end names the last day; occurrences end at the midnight after.
        if e.all_day {
            e.at + Duration::days(1)
        } else {
            e.at
        }
    });
    if start.all_day && end_at.is_none() {
        end_at = Some(start.at + Duration::days(1));
    }
    let mut end_at = end_at.filter(|e| *e >= start.at);
    let mut start_at = start.at;
    if start.floating {
        match zone {
            Some(z) => d.timezone = Some(z.name().to_string()),
            None if !start.all_day => ctx.warn(
                WarningCode::FloatingTime,
                index,
                format!("event start {raw:?} has no offset and was read as utc"),
            ),
            None => {}
        }
    } else if utc_in_zone
        && !start.all_day
        && start.at.offset().local_minus_utc() == 0
        && let Some(z) = zone
    {
        start_at = start.at.with_timezone(&z).fixed_offset();
        end_at = end_at.map(|e| e.with_timezone(&z).fixed_offset());
        d.timezone = Some(z.name().to_string());
    }
    d.occurrences.push(Occurrence {
        start: start_at,
        end: end_at,
        all_day: start.all_day,
        cancelled: false,
        date_source: DateSource::Structured,
        recurrence_id: None,
    });
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> &str {
        let (start, end) = root_tag(text).expect("root tag");
        &text[start..end]
    }

    #[test]
    fn old_and_prefixed_namespaces_are_noticed() {
        let cases: &[(&str, bool)] = &[
            (
                "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry/></feed>",
                true,
            ),
            (
                "<rdf:RDF xmlns=\"http://my.netscape.com/rdf/simple/0.9/\">",
                true,
            ),
            (
                "<r:rss xmlns:r=\"u\"><r:channel><r:item/></r:channel></r:rss>",
                true,
            ),
            ("<rss version=\"2.0\"><channel/></rss>", false),
            ("<feed xmlns=\"http://www.w3.org/2005/Atom\">", false),
        ];
        for (input, want) in cases {
            assert_eq!(old_or_prefixed_namespace(root(input)), *want, "{input}");
        }
    }

    #[test]
    fn rss_roots_without_a_known_version_are_noticed() {
        let cases: &[(&str, bool)] = &[
            ("<rss><channel/></rss>", true),
            ("<?xml version='1.0'?>\n<rss version='2.00'>", true),
            ("<!-- c --><!DOCTYPE x [ <!ENTITY a 'b'> ]><rss>", true),
            ("<rss xmlns:x=\"urn:version\" version = \"2.0\">", false),
            ("<rss version=\"2.0\">", false),
            ("<rss version=\"0.91\">", false),
            ("<feed>", false),
        ];
        for (input, want) in cases {
            assert_eq!(rss_without_known_version(root(input)), *want, "{input}");
        }
    }

    #[test]
    fn the_pubdate_convention_is_detected_only_from_the_feed_or_the_source() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("date");
        let built = at("2026-12-03T10:00:00Z").with_timezone(&Utc);
        let future = vec![
            Some(at("2027-02-04T14:00:00-04:00")),
            Some(at("2027-05-11T10:30:00-03:00")),
            Some(at("2027-08-03T00:00:00-03:00")),
        ];
        let past = vec![
            Some(at("2026-12-01T09:00:00-05:00")),
            Some(at("2026-11-20T09:00:00-05:00")),
            Some(at("2027-01-20T09:00:00-05:00")),
        ];
        let plugin = Some("The Events Calendar 6.2");
        type Case<'a> = (
            DatesConvention,
            Option<&'a str>,
            &'a [Option<DateTime<FixedOffset>>],
            bool,
        );
        let cases: &[Case<'_>] = &[
            (DatesConvention::Auto, None, &future, true),
            (DatesConvention::Auto, None, &past, false),
            (DatesConvention::Auto, None, &future[..2], false),
            (DatesConvention::Auto, plugin, &past, true),
            (DatesConvention::PublishedIsNotStart, plugin, &future, false),
            (DatesConvention::PublishedIsStart, None, &past, true),
        ];
        for (setting, generator, published, want) in cases {
            assert_eq!(
                published_is_start(*setting, *generator, built, published),
                *want,
                "{setting:?} {generator:?} {published:?}"
            );
        }
    }
}
