//! Feed discovery from a homepage, pure: which feed and calendar links a page offers, and
//! whether it carries schema.org events itself.
//!
//! A linear scan over tags instead of a DOM: a homepage is hostile input too, and this only
//! needs the attributes of `<link>`, `<a>` and `itemtype`, and the text of JSON-LD scripts. No
//! nesting is tracked, so deep nesting costs nothing.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use url::Url;

/// Bytes of a page that are looked at; feed links live in the head, near the top.
const MAX_SCAN: usize = 4 * 1024 * 1024;
/// Links reported at most; a page with thousands of .ics links is listing, not advertising.
const MAX_LINKS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Rss,
    Atom,
    JsonFeed,
    ICalendar,
    /// A link that looks like an events feed, format unknown until fetched.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundLink {
    pub url: Url,
    pub kind: FeedKind,
    pub title: Option<String>,
    /// How it was found: `link_alternate`, `ics_link`, `webcal`, `calendar_pattern`.
    pub via: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// Best first: the calendar platform's own richest feed, declared alternates, then
    /// iCalendar links, then guesses.
    pub links: Vec<FoundLink>,
    /// The calendar platform the page is served by (`libcal`, `the-events-calendar`,
    /// `localist`, `trumba`), when its marks are on the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'static str>,
    /// The page itself holds schema.org `Event`s (JSON-LD or microdata), so it can be a source.
    pub schema_org_events: bool,
}

static ATTR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_:][-A-Za-z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"#)
        .ok()
});

/// Find feed and calendar links in `html`, resolving them against `base`.
pub fn discover(html: &[u8], base: &Url) -> Discovery {
    let text = String::from_utf8_lossy(&html[..html.len().min(MAX_SCAN)]);
    let mut out = Discovery::default();
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let attrs = attributes(&tag[name.len()..]);
        let get = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        if get("itemtype").is_some_and(is_event_type_uri) {
            out.schema_org_events = true;
        }
        match name.as_str() {
            "link" => {
                let rel = get("rel").unwrap_or("").to_ascii_lowercase();
                let kind = get("type").and_then(kind_from_mime);
                if let (true, Some(kind), Some(href)) = (
                    rel.split_ascii_whitespace().any(|r| r == "alternate"),
                    kind,
                    get("href"),
                ) {
                    push(
                        &mut found,
                        &mut seen,
                        base,
                        href,
                        kind,
                        get("title"),
                        "link_alternate",
                    );
                }
            }
            "a" => {
                if let Some(href) = get("href") {
                    let title = None;
                    if let Some(kind) = get("type").and_then(kind_from_mime)
                        && kind == FeedKind::ICalendar
                    {
                        push(&mut found, &mut seen, base, href, kind, title, "ics_link");
                    } else if let Some((kind, via)) = classify_href(href) {
                        push(&mut found, &mut seen, base, href, kind, title, via);
                    }
                }
            }
            "script" => {
                let is_ld = get("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
                let body = &rest[end + 1..];
                let close = find_ci(body, "</script").unwrap_or(body.len());
                if is_ld && json_ld_has_event(&body[..close]) {
                    out.schema_org_events = true;
                }
                rest = &body[close..];
                continue;
            }
            _ => {}
        }
        rest = &rest[end..];
    }
    if let Some((platform, feed)) = platform_feed(&text, base, &found) {
        out.platform = Some(platform);
        if let Some((href, kind)) = feed {
            push(
                &mut found,
                &mut seen,
                base,
                &href,
                kind,
                None,
                "platform_feed",
            );
            // Already listed under another name: the platform's reading wins.
            if let Some(l) = found.iter_mut().find(|l| l.url.as_str() == href) {
                l.via = "platform_feed";
                l.kind = kind;
            }
        }
    }
    // The platform's own feed first, then declared alternates, then calendars, then
    // guesses; stable within each group.
    found.sort_by_key(|l: &FoundLink| match l.via {
        "platform_feed" => 0,
        "link_alternate" => 1,
        "ics_link" | "webcal" => 2,
        _ => 3,
    });
    found.truncate(MAX_LINKS);
    out.links = found;
    out
}

/// The platform whose marks `page` carries, and the feed of it that says the most: LibCal's
/// RSS (its own date, time, location and audience elements) over its iCal export; The Events
/// Calendar's REST API and Localist's API (structured, paged) over their RSS or HTML; a
/// Trumba calendar's RSS (with its custom fields) from its embed's web name.
fn platform_feed(
    page: &str,
    base: &Url,
    found: &[FoundLink],
) -> Option<(&'static str, Option<(String, FeedKind)>)> {
    let lower = page.to_ascii_lowercase();
    let origin = base.origin().ascii_serialization();
    if lower.contains("libcal.com") || (lower.contains("springshare") && lower.contains("/rss.php"))
    {
        let rss = LIBCAL_RSS
            .as_ref()
            .and_then(|re| re.find(page))
            .map(|m| decode_entities(m.as_str()));
        let rss = rss
            .and_then(|h| base.join(&h).ok())
            .map(|u| (u.to_string(), FeedKind::Rss));
        return Some(("libcal", rss));
    }
    if lower.contains("/wp-content/plugins/the-events-calendar/")
        || lower.contains("tribe-events-calendar")
        || lower.contains("/wp-json/tribe/events/")
    {
        let api = format!("{origin}/wp-json/tribe/events/v1/events");
        return Some(("the-events-calendar", Some((api, FeedKind::JsonFeed))));
    }
    if lower.contains("localist") && (lower.contains("/api/2/") || lower.contains("localist-")) {
        let api = format!("{origin}/api/2/events");
        return Some(("localist", Some((api, FeedKind::JsonFeed))));
    }
    if lower.contains("trumba.com") {
        let rss = TRUMBA_WEBNAME
            .as_ref()
            .and_then(|re| re.captures(page))
            .and_then(|c| c.get(1))
            .map(|m| {
                (
                    format!("https://www.trumba.com/calendars/{}.rss", m.as_str()),
                    FeedKind::Rss,
                )
            });
        return Some(("trumba", rss));
    }
    // A feed link that is one of them even though the page carries no other mark.
    found
        .iter()
        .find(|l| {
            l.url.path().ends_with("/rss.php")
                && l.url.host_str().is_some_and(|h| h.ends_with("libcal.com"))
        })
        .map(|l| ("libcal", Some((l.url.to_string(), FeedKind::Rss))))
}

/// LibCal's RSS link (`https://x.libcal.com/rss.php?cid=123`, relative on its own pages).
static LIBCAL_RSS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?:https?://[A-Za-z0-9.-]+\.libcal\.com)?/rss\.php\?[^"'<>\s]*"#).ok()
});

/// The web name in a Trumba embed: `webName: "cityname"` or `webName='x'`.
static TRUMBA_WEBNAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"webName\s*[:=]\s*["']([A-Za-z0-9_-]{1,64})["']"#).ok());

fn push(
    found: &mut Vec<FoundLink>,
    seen: &mut HashSet<String>,
    base: &Url,
    href: &str,
    kind: FeedKind,
    title: Option<&str>,
    via: &'static str,
) {
    if found.len() >= MAX_LINKS * 2 {
        return;
    }
    let href = decode_entities(href.trim());
    let href = match href.strip_prefix("webcal://") {
        // webcal is http by definition (the scheme only tells the browser to hand it to a
        // calendar app).
        Some(rest) => format!("http://{rest}"),
        None => href,
    };
    let Ok(url) = base.join(&href) else { return };
    if !matches!(url.scheme(), "http" | "https") {
        return;
    }
    if seen.insert(url.to_string()) {
        found.push(FoundLink {
            url,
            kind,
            title: title
                .map(|t| decode_entities(t.trim()))
                .filter(|t| !t.is_empty()),
            via,
        });
    }
}

fn attributes(tag: &str) -> Vec<(String, String)> {
    let Some(re) = ATTR.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(tag)
        .map(|c| {
            let key = c.get(1).map_or("", |m| m.as_str()).to_ascii_lowercase();
            let value = c
                .get(2)
                .or_else(|| c.get(3))
                .or_else(|| c.get(4))
                .map_or("", |m| m.as_str())
                .to_owned();
            (key, value)
        })
        .collect()
}

fn kind_from_mime(mime: &str) -> Option<FeedKind> {
    let mime = mime.split(';').next()?.trim().to_ascii_lowercase();
    Some(match mime.as_str() {
        "application/rss+xml" | "application/rdf+xml" => FeedKind::Rss,
        "application/atom+xml" => FeedKind::Atom,
        "application/feed+json" | "application/json" => FeedKind::JsonFeed,
        "text/calendar" | "application/ics" => FeedKind::ICalendar,
        _ => return None,
    })
}

/// Links that are calendars by their shape: `.ics`, `webcal:`, and the query strings of
/// common event plugins (The Events Calendar's `?ical=1`, `outlook-ical`, `format=ical`).
fn classify_href(href: &str) -> Option<(FeedKind, &'static str)> {
    let lower = href.trim().to_ascii_lowercase();
    if lower.starts_with("webcal://") {
        return Some((FeedKind::ICalendar, "webcal"));
    }
    let path = lower.split(['?', '#']).next().unwrap_or("");
    if path.ends_with(".ics") || path.ends_with(".ical") || path.ends_with(".ifb") {
        return Some((FeedKind::ICalendar, "ics_link"));
    }
    let query = lower.split_once('?').map_or("", |(_, q)| q);
    if ["ical=1", "outlook-ical=1", "format=ical", "format=ics"]
        .iter()
        .any(|p| query.split('&').any(|kv| kv == *p))
    {
        return Some((FeedKind::ICalendar, "calendar_pattern"));
    }
    if [
        "/events/feed",
        "/calendar/feed",
        "/events.rss",
        "/events/rss",
        "/calendar/rss",
    ]
    .iter()
    .any(|p| path.ends_with(p) || path.ends_with(&format!("{p}/")))
    {
        return Some((FeedKind::Unknown, "calendar_pattern"));
    }
    None
}

fn is_event_type_uri(value: &str) -> bool {
    value.split_ascii_whitespace().any(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("schema.org/") && t.ends_with("event")
    })
}

fn json_ld_has_event(text: &str) -> bool {
    // serde_json stops at 128 levels of nesting on its own, so hostile depth is a parse error.
    match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(v) => has_event(&v, 0),
        Err(_) => false,
    }
}

fn has_event(v: &serde_json::Value, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    match v {
        serde_json::Value::Array(items) => items.iter().take(1000).any(|i| has_event(i, depth + 1)),
        serde_json::Value::Object(map) => {
            let typed = match map.get("@type") {
                Some(serde_json::Value::String(t)) => is_event_type(t),
                Some(serde_json::Value::Array(ts)) => {
                    ts.iter().any(|t| t.as_str().is_some_and(is_event_type))
                }
                _ => false,
            };
            typed
                || map.get("@graph").is_some_and(|g| has_event(g, depth + 1))
                || map
                    .get("itemListElement")
                    .is_some_and(|g| has_event(g, depth + 1))
                || map.get("item").is_some_and(|g| has_event(g, depth + 1))
        }
        _ => false,
    }
}

/// `Event` and its schema.org subtypes (`EducationEvent`, `BusinessEvent`, ...).
fn is_event_type(t: &str) -> bool {
    let t = t.rsplit(['/', ':']).next().unwrap_or(t);
    t.ends_with("Event")
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    haystack
        .as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn decode_entities(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://museum.example/visit/").unwrap()
    }

    #[test]
    fn platform_pages_suggest_their_richest_feed_first() {
        let first = |html: &str, base: &str| {
            let d = discover(html.as_bytes(), &Url::parse(base).unwrap());
            (
                d.platform,
                d.links.first().map(|l| (l.url.to_string(), l.kind, l.via)),
            )
        };
        // LibCal: its RSS (own date/time elements) over the iCal export listed before it.
        let libcal = r#"<html><head><link rel="alternate" type="text/calendar" href="https://riverbend.libcal.com/ical_subscribe.php?cid=123"></head>
            <body><a href="https://riverbend.libcal.com/rss.php?cid=123&amp;m=month">RSS</a>
            <script src="//riverbend.libcal.com/js/embed.js"></script></body></html>"#;
        assert_eq!(
            first(libcal, "https://riverbend.libcal.com/calendar"),
            (
                Some("libcal"),
                Some((
                    "https://riverbend.libcal.com/rss.php?cid=123&m=month".to_owned(),
                    FeedKind::Rss,
                    "platform_feed"
                ))
            )
        );
        // The Events Calendar: its REST API over the RSS the page declares.
        let tec = r#"<html><head><link rel="alternate" type="application/rss+xml" href="https://archives.example/feed/">
            <link rel="stylesheet" href="https://archives.example/wp-content/plugins/the-events-calendar/src/resources/css/x.css"></head></html>"#;
        assert_eq!(
            first(tec, "https://archives.example/events/"),
            (
                Some("the-events-calendar"),
                Some((
                    "https://archives.example/wp-json/tribe/events/v1/events".to_owned(),
                    FeedKind::JsonFeed,
                    "platform_feed"
                ))
            )
        );
        let localist = r#"<div class="localist-widget"><a href="https://events.uni.example/api/2/events?days=30">API</a> Powered by Localist</div>"#;
        assert_eq!(
            first(localist, "https://events.uni.example/calendar").0,
            Some("localist")
        );
        let trumba = r#"<script src="https://www.trumba.com/scripts/spuds.js"></script>
            <script>$Trumba.addSpud({ webName: "city-library", spudType: "main" });</script>"#;
        assert_eq!(
            first(trumba, "https://library.example/events")
                .1
                .map(|l| l.0),
            Some("https://www.trumba.com/calendars/city-library.rss".to_owned())
        );
        // A plain page names no platform and keeps its own order.
        let plain = r#"<link rel="alternate" type="application/rss+xml" href="/feed/">"#;
        assert_eq!(first(plain, "https://museum.example/").0, None);
    }

    #[test]
    fn link_alternates_of_every_feed_kind_are_found_and_resolved() {
        let html = br#"<html><head>
            <link rel="alternate" type="application/rss+xml" title="News &amp; events" href="/feed/">
            <LINK REL="Alternate" TYPE="application/atom+xml" HREF="atom.xml">
            <link rel=alternate type=application/feed+json href='https://museum.example/feed.json'>
            <link rel="alternate" type="text/calendar" href="/events.ics">
            <link rel="stylesheet" type="text/css" href="/s.css">
            <link rel="alternate" hreflang="fr" href="/fr/">
        </head><body></body></html>"#;
        let d = discover(html, &base());
        let got: Vec<(String, FeedKind)> = d
            .links
            .iter()
            .map(|l| (l.url.to_string(), l.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("https://museum.example/feed/".to_owned(), FeedKind::Rss),
                (
                    "https://museum.example/visit/atom.xml".to_owned(),
                    FeedKind::Atom
                ),
                (
                    "https://museum.example/feed.json".to_owned(),
                    FeedKind::JsonFeed
                ),
                (
                    "https://museum.example/events.ics".to_owned(),
                    FeedKind::ICalendar
                ),
            ]
        );
        assert_eq!(d.links[0].title.as_deref(), Some("News & events"));
        assert!(!d.schema_org_events);
    }

    #[test]
    fn ics_webcal_and_common_calendar_links_are_found_in_anchors() {
        let html = br#"<body>
            <a href="webcal://museum.example/cal/workshops.ics">Subscribe</a>
            <a href="/downloads/All.ICS?x=1">Download</a>
            <a href="/events/?ical=1&amp;tribe_display=list">iCal</a>
            <a href="/events/feed/">Events RSS</a>
            <a type="text/calendar" href="/cal">Calendar</a>
            <a href="javascript:alert(1)">x</a>
            <a href="/about">About</a>
        </body>"#;
        let d = discover(html, &base());
        let got: Vec<(&str, &str)> = d.links.iter().map(|l| (l.url.as_str(), l.via)).collect();
        assert_eq!(
            got,
            [
                ("http://museum.example/cal/workshops.ics", "webcal"),
                ("https://museum.example/downloads/All.ICS?x=1", "ics_link"),
                ("https://museum.example/cal", "ics_link"),
                (
                    "https://museum.example/events/?ical=1&tribe_display=list",
                    "calendar_pattern"
                ),
                ("https://museum.example/events/feed/", "calendar_pattern"),
            ]
        );
    }

    #[test]
    fn schema_org_events_in_json_ld_graphs_arrays_and_microdata_are_noticed() {
        for html in [
            r#"<script type="application/ld+json">{"@context":"https://schema.org","@type":"EducationEvent","name":"x"}</script>"#,
            r#"<script type="application/ld+json">[{"@type":"Organization"},{"@type":["Thing","Event"]}]</script>"#,
            r#"<script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":"Event"}]}</script>"#,
            r#"<div itemscope itemtype="https://schema.org/Event"><span itemprop="name">x</span></div>"#,
        ] {
            assert!(
                discover(html.as_bytes(), &base()).schema_org_events,
                "{html}"
            );
        }
        for html in [
            r#"<script type="application/ld+json">{"@type":"Organization"}</script>"#,
            r#"<script type="application/ld+json">{broken</script>"#,
            r#"<script>var x = {"@type":"Event"};</script>"#,
        ] {
            assert!(
                !discover(html.as_bytes(), &base()).schema_org_events,
                "{html}"
            );
        }
    }

    #[test]
    fn hostile_pages_cost_linear_time_and_never_panic() {
        let mut deep = "<div>".repeat(100_000);
        deep.push_str(r#"<script type="application/ld+json">"#);
        deep.push_str(&"[".repeat(20_000));
        deep.push_str("</script><link rel=alternate type=application/rss+xml href=/f>");
        let d = discover(deep.as_bytes(), &base());
        assert!(!d.schema_org_events);
        assert_eq!(d.links.len(), 1);
        for junk in [
            "<",
            "<a href",
            "<a href='",
            "<script type=application/ld+json>{",
            "\u{0}<\u{ff}>",
        ] {
            let _ = discover(junk.as_bytes(), &base());
        }
        let many = "<a href=/x.ics>".repeat(10_000);
        assert_eq!(
            discover(many.as_bytes(), &base()).links.len(),
            1,
            "deduplicated"
        );
    }
}
