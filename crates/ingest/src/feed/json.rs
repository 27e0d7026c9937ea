//! JSON Feed 1.x through feed-rs, behind a nesting gate: serde would recurse into whatever
//! depth the document has before feed-rs sees a single field. The calendar platforms' JSON
//! event APIs (The Events Calendar, Localist) pass the same gate and are told from JSON Feed
//! by their shape ([`events_api::shape`]). (RSS and Atom no longer go
//! through feed-rs: see [`super::reader`].)

use feed_rs::model::{Entry, Feed, Text};
use url::Url;

use super::FeedInfo;
use super::events_api::{self, Shape};
use crate::draft::Draft;
use crate::sanitize::html_to_text;
use crate::{Ctx, Doc, Extracted, ParseError, WarningCode};

pub(super) fn extract(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    let limit = ctx.hints.limits.max_json_depth;
    if json_depth(doc.text) > limit {
        return Err(ParseError::TooDeep { limit });
    }
    let text = doc.text.trim_start_matches('\u{feff}');
    // Read once: the shape says which reader it is for, and JSON Feed's images are read
    // from it too.
    let value = serde_json::from_str::<serde_json::Value>(text).ok();
    if let Some(shape) = value.as_ref().and_then(events_api::shape)
        && let Some(serde_json::Value::Object(obj)) = value
    {
        return Ok(match shape {
            Shape::TheEventsCalendar => super::tec::extract(obj, ctx),
            Shape::Localist => super::localist::extract(obj, ctx),
        });
    }
    let feed = parse_feed(text, ctx.hints.base_url.as_ref())
        .map_err(|e| ParseError::malformed(doc.kind, e))?;
    let mut extracted = from_feed(feed, ctx);
    // JSON Feed has no build date and catalogues publish dates of resources, so the convention
    // is taken only from the source's own word.
    if ctx.hints.dates == crate::DatesConvention::PublishedIsStart {
        for d in &mut extracted.drafts {
            d.published_start = d.published_at.map(|p| p.fixed_offset());
        }
    }
    // feed-rs drops `image` and `banner_image`; the items array is in the same order.
    if let Some(value) = value {
        let items = value.get("items").and_then(|i| i.as_array());
        for (draft, item) in extracted.drafts.iter_mut().zip(items.into_iter().flatten()) {
            if draft.image_url.is_none() {
                draft.image_url = ["image", "banner_image"]
                    .iter()
                    .find_map(|k| item.get(*k).and_then(|v| v.as_str()))
                    .map(str::to_string);
            }
        }
    }
    Ok(extracted)
}

/// Runs feed-rs with ids left empty when the feed has none (its generated ids are hashes of
/// the link and title; identity is ours to derive).
fn parse_feed(text: &str, base: Option<&Url>) -> Result<Feed, feed_rs::parser::ParseFeedError> {
    feed_rs::parser::Builder::new()
        .base_uri(base.map(Url::as_str))
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(super::timestamp::parse)
        .build()
        .parse(text.as_bytes())
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

fn from_feed(feed: Feed, ctx: &mut Ctx<'_>) -> Extracted {
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
    let drafts = feed
        .entries
        .iter()
        .take(max)
        .enumerate()
        .map(|(index, entry)| draft_from_entry(index, entry, &info))
        .collect();
    Extracted {
        title,
        drafts,
        ttl: feed.ttl,
        platform: None,
        next_page: None,
    }
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
        text_dates: true,
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

/// The deepest nesting of arrays and objects, without parsing (strings are skipped).
pub(super) fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(r#"{"a": "[[[{{", "b": [1, {"c": []}]}"#), 4);
        assert_eq!(json_depth(r#"{"a": "\"[[["}"#), 1);
        assert_eq!(json_depth(&"[".repeat(10_000)), 10_000);
    }
}
