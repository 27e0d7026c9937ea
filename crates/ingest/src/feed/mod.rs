//! RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.x via feed-rs, plus event modules.
//!
//! feed-rs reads the text the pipeline already decoded (re-encoded as UTF-8, its declaration
//! dropped), so our charset precedence wins over the feed's own, possibly lying, declaration.
//! Before it runs, a few repairs a browser-grade reader like feedparser makes silently are made
//! here (`<rss>` without a version it knows). A tolerant quick-xml pass ([`scan`]) finds every
//! item's span and its event-module fields, which feed-rs does not expose; when feed-rs rejects
//! the whole document, items are recovered one by one from those spans.

mod json;
mod scan;
mod timestamp;

use std::collections::HashMap;

use chrono::Duration;
use coalesce_core::Occurrence;
use feed_rs::model::{Entry, Feed, Text};
use url::Url;

use crate::dates::parse_when;
use crate::draft::Draft;
use crate::sanitize::html_to_text;
use crate::{Ctx, Doc, Extracted, Kind, ParseError, WarningCode};

use scan::{EventData, ItemScan, Scan};

pub(crate) fn extract(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    match doc.kind {
        Kind::JsonFeed => json::extract(doc, ctx),
        _ => extract_xml(doc, ctx),
    }
}

fn extract_xml(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    let max = ctx.hints.limits.max_items;
    let xml = prepare_xml(doc.text, ctx);
    let scanned = scan::scan(&xml, max);
    match parse_feed(&xml, ctx.hints.base_url.as_ref()) {
        // feed-rs can stop quietly at a broken item (an unterminated CDATA section, say) and
        // return the items before it; the tolerant pass saw more.
        Ok(feed) if feed.entries.len() < scanned.total_items && scanned.broken => {
            let title = feed
                .title
                .as_ref()
                .map(plain_text)
                .filter(|t| !t.is_empty());
            let mut extracted = recover(&xml, &scanned, doc.kind, "the reader stopped early", ctx)?;
            extracted.title = extracted.title.or(title);
            Ok(extracted)
        }
        Ok(feed) => Ok(from_feed(feed, &scanned, ctx)),
        Err(err) => recover(&xml, &scanned, doc.kind, &err.to_string(), ctx),
    }
}

/// Runs feed-rs with ids left empty when the feed has none (its generated ids are hashes of
/// the link and title; identity is ours to derive).
fn parse_feed(text: &str, base: Option<&Url>) -> Result<Feed, feed_rs::parser::ParseFeedError> {
    feed_rs::parser::Builder::new()
        .base_uri(base.map(Url::as_str))
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(timestamp::parse)
        .build()
        .parse(text.as_bytes())
}

/// Makes the decoded text something feed-rs reads the way feedparser would.
fn prepare_xml(text: &str, ctx: &mut Ctx<'_>) -> String {
    let mut t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    // The declaration names the charset the bytes had; the text is UTF-8 now, and feed-rs would
    // decode it a second time with the declared charset.
    if t.len() >= 5 && t[..5].eq_ignore_ascii_case("<?xml") {
        t = t.find("?>").map_or("", |end| &t[end + 2..]);
    }
    let mut out = t.to_string();
    if let Some(fixed) = repair_namespaces(&out) {
        ctx.warn(
            WarningCode::Repaired,
            None,
            "feed namespace of an older or prefixed format was read as its current one",
        );
        out = fixed;
    }
    if let Some(fixed) = repair_rss_version(&out) {
        ctx.warn(
            WarningCode::Repaired,
            None,
            "rss root without a known version was read as rss 2.0",
        );
        out = fixed;
    }
    out
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

/// feed-rs knows the RSS 1.0 and Atom 1.0 namespaces only; RSS 0.90 and Atom 0.3 differ from
/// them in little more than the URI. A prefixed `<r:rss>` root is read unprefixed.
fn repair_namespaces(text: &str) -> Option<String> {
    const OLD_TO_NEW: [(&str, &str); 2] = [
        (
            "http://my.netscape.com/rdf/simple/0.9/",
            "http://purl.org/rss/1.0/",
        ),
        ("http://purl.org/atom/ns#", "http://www.w3.org/2005/Atom"),
    ];
    let (start, end) = root_tag(text)?;
    let tag = &text[start..end];
    let name: String = tag[1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if let Some((prefix, "rss")) = name.split_once(':')
        && !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        let re = regex::Regex::new(&format!("(</?){}:", regex::escape(prefix))).ok()?;
        return Some(re.replace_all(text, "$1").into_owned());
    }
    let (old, new) = OLD_TO_NEW.iter().find(|(old, _)| tag.contains(old))?;
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..start]);
    out.push_str(&tag.replacen(old, new, 1));
    out.push_str(&text[end..]);
    Some(out)
}

/// feed-rs only accepts `<rss version="2.0|0.91|0.92">`; feedparser reads any `<rss>`.
fn repair_rss_version(text: &str) -> Option<String> {
    let (start, end) = root_tag(text)?;
    let tag = &text[start..end];
    let name: String = tag[1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if !name.eq_ignore_ascii_case("rss") {
        return None;
    }
    let version = regex::Regex::new(r#"\bversion\s*=\s*(?:"([^"]*)"|'([^']*)')"#).ok()?;
    match version.captures(tag) {
        Some(c) => {
            let value = c.get(1).or_else(|| c.get(2))?;
            if matches!(value.as_str().trim(), "2.0" | "0.91" | "0.92") {
                return None;
            }
            let whole = c.get(0)?;
            let mut out = String::with_capacity(text.len() + 4);
            out.push_str(&text[..start + whole.start()]);
            out.push_str("version=\"2.0\"");
            out.push_str(&text[start + whole.end()..]);
            Some(out)
        }
        None => {
            let insert = start + 1 + name.len();
            let mut out = String::with_capacity(text.len() + 16);
            out.push_str(&text[..insert]);
            out.push_str(" version=\"2.0\"");
            out.push_str(&text[insert..]);
            Some(out)
        }
    }
}

/// What every item of one feed shares.
struct FeedInfo {
    language: Option<String>,
    /// The feed's own page, a base for items without one of their own.
    link: Option<Url>,
}

fn feed_info(feed: &Feed, base: Option<&Url>) -> FeedInfo {
    let link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .and_then(|l| match base {
            Some(b) => b.join(l.href.trim()).ok(),
            None => Url::parse(l.href.trim()).ok(),
        })
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    FeedInfo {
        language: feed.language.clone(),
        link,
    }
}

fn from_feed(feed: Feed, scanned: &Scan, ctx: &mut Ctx<'_>) -> Extracted {
    let max = ctx.hints.limits.max_items;
    let info = feed_info(&feed, ctx.hints.base_url.as_ref());
    let title = feed
        .title
        .as_ref()
        .map(plain_text)
        .filter(|t| !t.is_empty());
    let total = feed.entries.len();
    if total > max {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!("document has {total} items; only the first {max} were read"),
        );
    }
    // Event fields come from the tolerant pass: by position when both saw the same items, else
    // by guid.
    let by_position = scanned.total_items == total;
    let mut by_guid: HashMap<&str, Option<&EventData>> = HashMap::new();
    if !by_position {
        for item in &scanned.items {
            if let Some(g) = item.guid.as_deref() {
                let slot = by_guid.entry(g.trim()).or_insert(Some(&item.event));
                if slot.is_some_and(|e| *e != item.event) {
                    *slot = None;
                }
            }
        }
    }
    let mut drafts = Vec::with_capacity(total.min(max));
    for (index, entry) in feed.entries.iter().take(max).enumerate() {
        let mut draft = draft_from_entry(index, entry, &info);
        let event = if by_position {
            scanned.items.get(index).map(|i| &i.event)
        } else {
            draft
                .guid
                .as_deref()
                .and_then(|g| by_guid.get(g.trim()).copied().flatten())
        };
        if let Some(event) = event {
            apply_event(&mut draft, event, ctx);
        }
        drafts.push(draft);
    }
    Extracted {
        title,
        drafts,
        ttl: feed.ttl,
    }
}

/// feed-rs rejected the document: read each item's span on its own.
fn recover(
    xml: &str,
    scanned: &Scan,
    kind: Kind,
    err: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Extracted, ParseError> {
    if scanned.items.is_empty() {
        return Err(ParseError::malformed(kind, err));
    }
    ctx.warn(
        WarningCode::Repaired,
        None,
        format!(
            "feed is not well-formed ({}); items were read one by one",
            truncate(err, 160)
        ),
    );
    let max = ctx.hints.limits.max_items;
    if scanned.total_items > max {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!(
                "document has {} items; only the first {max} were read",
                scanned.total_items
            ),
        );
    }
    let base = ctx.hints.base_url.clone();
    let info = FeedInfo {
        language: None,
        link: None,
    };
    let mut drafts = Vec::with_capacity(scanned.items.len());
    for (index, item) in scanned.items.iter().enumerate() {
        let wrapped = wrap_item(
            &xml[item.start..item.end.min(xml.len())],
            item,
            &scanned.root_namespaces,
        );
        let entry = parse_feed(&wrapped, base.as_ref()).ok().and_then(|f| {
            (f.entries.len() == 1)
                .then(|| f.entries.into_iter().next())
                .flatten()
        });
        let mut draft = match entry {
            Some(entry) => draft_from_entry(index, &entry, &info),
            None => match draft_from_scan(index, item) {
                Some(d) => {
                    ctx.warn(
                        WarningCode::BadItem,
                        Some(index),
                        "item is not well-formed; only its plain fields were read",
                    );
                    d
                }
                None => {
                    ctx.warn(
                        WarningCode::BadItem,
                        Some(index),
                        "item is not well-formed and has no title, link or text; skipped",
                    );
                    continue;
                }
            },
        };
        apply_event(&mut draft, &item.event, ctx);
        drafts.push(draft);
    }
    let title = scanned
        .feed_title
        .as_deref()
        .map(|t| html_to_text(t, 8))
        .filter(|t| !t.is_empty());
    Ok(Extracted {
        title,
        drafts,
        ttl: None,
    })
}

/// A one-item document feed-rs can read, with the root's namespace declarations.
fn wrap_item(span: &str, item: &ItemScan, namespaces: &[(String, String)]) -> String {
    let mut decls = String::new();
    for (key, value) in namespaces {
        // RSS 1.0 items live in the RSS 1.0 default namespace; feed-rs reads them as RSS 2.0
        // items only without it.
        if key == "xmlns" {
            continue;
        }
        decls.push(' ');
        decls.push_str(key);
        decls.push_str("=\"");
        decls.push_str(&value.replace('&', "&amp;").replace('"', "&quot;"));
        decls.push('"');
    }
    let close = if item.closed {
        ""
    } else if item.is_entry {
        "</entry>"
    } else {
        "</item>"
    };
    if item.is_entry {
        format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"{decls}>{span}{close}</feed>")
    } else {
        format!("<rss version=\"2.0\"{decls}><channel>{span}{close}</channel></rss>")
    }
}

fn draft_from_scan(index: usize, item: &ItemScan) -> Option<Draft> {
    if item.title.is_none() && item.link.is_none() && item.description.is_none() {
        return None;
    }
    let date = item
        .date
        .as_deref()
        .and_then(|d| parse_when(d, None))
        .map(|w| w.at.with_timezone(&chrono::Utc));
    Some(Draft {
        index,
        guid: item.guid.clone(),
        title: item.title.clone(),
        title_is_html: true,
        description_html: item.description.clone(),
        url: item.link.clone(),
        published_at: date,
        ..Draft::default()
    })
}

fn is_html(text: &Text) -> bool {
    let essence = text.content_type.essence().to_string();
    essence.contains("html")
}

fn plain_text(text: &Text) -> String {
    if is_html(text) || text.content.contains('<') {
        html_to_text(&text.content, 64)
    } else {
        coalesce_core::normalize::squash_whitespace(&text.content)
    }
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn draft_from_entry(index: usize, entry: &Entry, info: &FeedInfo) -> Draft {
    let mut d = Draft {
        index,
        guid: non_empty(&entry.id),
        ..Draft::default()
    };
    if let Some(t) = &entry.title {
        d.title = non_empty(&t.content);
        d.title_is_html = is_html(t);
    }

    // Full content when there is some, the summary as summary; else the summary is the text.
    let content = entry.content.as_ref();
    let content_body = content.and_then(|c| c.body.as_deref()).and_then(non_empty);
    let content_is_text =
        content.is_some_and(|c| c.content_type.essence().to_string() == "text/plain");
    let summary = entry
        .summary
        .as_ref()
        .filter(|s| !s.content.trim().is_empty());
    match (content_body, summary) {
        (Some(body), s) => {
            if content_is_text {
                d.description_text = Some(body);
            } else {
                d.description_html = Some(body);
            }
            d.summary = s.map(|s| s.content.clone());
        }
        (None, Some(s)) => {
            if is_html(s) || s.content.contains('<') || s.content.contains('&') {
                d.description_html = Some(s.content.clone());
            } else {
                d.description_text = Some(s.content.clone());
            }
        }
        (None, None) => {}
    }
    if let Some(src) = content.and_then(|c| c.src.as_ref()) {
        d.other_urls.push(src.href.clone());
    }

    for link in &entry.links {
        let href = link.href.trim();
        if href.is_empty() {
            continue;
        }
        match link.rel.as_deref() {
            None | Some("alternate") if d.url.is_none() => d.url = Some(href.to_string()),
            Some("enclosure" | "related" | "via") => d.other_urls.push(href.to_string()),
            _ => {}
        }
    }

    for media in &entry.media {
        for thumb in &media.thumbnails {
            if d.image_url.is_none() {
                d.image_url = non_empty(&thumb.image.uri);
            }
        }
        for c in &media.content {
            let Some(url) = c.url.as_ref() else { continue };
            let is_image = c
                .content_type
                .as_ref()
                .is_some_and(|t| t.ty().as_str() == "image");
            if is_image && d.image_url.is_none() {
                d.image_url = Some(url.to_string());
            } else {
                d.other_urls.push(url.to_string());
            }
        }
    }
    d.other_urls.truncate(32);

    d.categories = entry
        .categories
        .iter()
        .filter_map(|c| {
            c.label
                .as_deref()
                .and_then(non_empty)
                .or_else(|| non_empty(&c.term))
        })
        .take(64)
        .collect();
    d.organizer = entry.authors.iter().find_map(|p| {
        p.name
            .as_deref()
            .and_then(non_empty)
            .or_else(|| p.email.as_deref().and_then(non_empty))
    });
    d.published_at = entry.published;
    d.updated_at = entry.updated;
    d.language = entry.language.clone().or_else(|| info.language.clone());
    d.base_url = entry
        .base
        .as_deref()
        .and_then(|b| Url::parse(b).ok())
        .or_else(|| d.url.as_deref().and_then(|u| Url::parse(u).ok()))
        .or_else(|| info.link.clone())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    d
}

/// Adds what an event module says about the item.
fn apply_event(d: &mut Draft, ev: &EventData, ctx: &mut Ctx<'_>) {
    if ev.is_empty() {
        return;
    }
    let zone = ctx.hints.timezone;
    let index = Some(d.index);
    if let Some(raw) = ev.start.as_deref() {
        match parse_when(raw, zone) {
            Some(start) => {
                let end = ev.end.as_deref().and_then(|e| {
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
                let end_at = end_at.filter(|e| *e >= start.at);
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
                }
                d.occurrences.push(Occurrence {
                    start: start.at,
                    end: end_at,
                    all_day: start.all_day,
                    cancelled: false,
                });
            }
            None => ctx.warn(
                WarningCode::BadDate,
                index,
                format!("event start {:?} is not a date", truncate(raw, 60)),
            ),
        }
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
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_repairs() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry/></feed>",
                Some("<feed version=\"0.3\" xmlns=\"http://www.w3.org/2005/Atom\"><entry/></feed>"),
            ),
            (
                "<rdf:RDF xmlns=\"http://my.netscape.com/rdf/simple/0.9/\">",
                Some("<rdf:RDF xmlns=\"http://purl.org/rss/1.0/\">"),
            ),
            (
                "<r:rss xmlns:r=\"u\"><r:channel><r:item/></r:channel></r:rss>",
                Some("<rss xmlns:r=\"u\"><channel><item/></channel></rss>"),
            ),
            ("<rss version=\"2.0\"><channel/></rss>", None),
        ];
        for (input, want) in cases {
            assert_eq!(repair_namespaces(input).as_deref(), *want, "{input}");
        }
    }

    #[test]
    fn rss_version_repairs() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "<rss><channel/></rss>",
                Some("<rss version=\"2.0\"><channel/></rss>"),
            ),
            (
                "<?xml version='1.0'?>\n<rss version='2.00'>",
                Some("<?xml version='1.0'?>\n<rss version=\"2.0\">"),
            ),
            (
                "<!-- c --><!DOCTYPE x [ <!ENTITY a 'b'> ]><rss>",
                Some("<!-- c --><!DOCTYPE x [ <!ENTITY a 'b'> ]><rss version=\"2.0\">"),
            ),
            ("<rss version=\"2.0\">", None),
            ("<rss version=\"0.91\">", None),
            ("<feed>", None),
        ];
        for (input, want) in cases {
            assert_eq!(repair_rss_version(input).as_deref(), *want, "{input}");
        }
    }
}
