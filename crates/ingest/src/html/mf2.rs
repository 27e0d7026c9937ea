//! Microformats2 `h-event`s turned into schema.org-shaped values, so the one schema.org reader
//! (dates, all-day, places, offers) serves them as it serves JSON-LD and microdata.
//!
//! A small reader on the parser the page already went through, rather than the `microformats`
//! crate: that one is LGPL-3.0, brings a second HTML parser (swc) that would bypass our depth
//! gate, and reads every vocabulary when only `h-event` is an offering here.
//!
//! What is read (microformats.org/wiki/h-event and the mf2 parsing rules): `p-name`,
//! `dt-start`/`dt-end` (`<time datetime>`, `abbr[title]`, `data[value]`, the value-class
//! pattern, a time-only end on the start's date), `p-summary`, `e-content`/`e-description`,
//! `u-url` (resolved: it is the identity), `p-location` as text or a nested `h-card`/`h-adr`,
//! `p-category`, `p-organizer`, and the event's registration link (a link other than its
//! `u-url` whose words or target say register, enrol, tickets, ...), resolved.

use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node};
use serde_json::{Map, Value, json};
use url::Url;

use super::microdata::text_of;

/// Every `h-event` of the page in document order, as JSON-LD-shaped `Event` values. A
/// nested `h-event` (a session inside a conference) is an event of its own.
pub(crate) fn events(page: &Html, base: Option<&Url>, max: usize) -> Vec<Value> {
    page.tree
        .root()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|el| has_class(*el, "h-event"))
        .take(max)
        .map(|el| event(el, base))
        .collect()
}

fn event(root: ElementRef<'_>, base: Option<&Url>) -> Value {
    let props = properties(root);
    let first = |name: &str| props.iter().find(|(n, _)| n == name).map(|(_, e)| *e);
    let mut map = Map::new();
    map.insert("@type".into(), json!("Event"));

    let url = first("u-url").and_then(|e| link_value(e, base));
    if let Some(u) = &url {
        map.insert("@id".into(), json!(u));
        map.insert("url".into(), json!(u));
    }
    if let Some(name) = first("p-name").map(plain_value).filter(|s| !s.is_empty()) {
        map.insert("name".into(), json!(name));
    }
    let start = first("dt-start").and_then(date_value);
    if let Some(s) = &start {
        map.insert("startDate".into(), json!(s));
    }
    if let Some(end) = first("dt-end").and_then(date_value) {
        // A time-only end ("–8:00 p.m.") is on the start's day, in the start's zone when it
        // names none, as mf2 parsers imply it.
        let dated = is_date(&end) || split_date_time(&end).is_some();
        let end = match (dated, start.as_deref().and_then(split_date_time)) {
            (false, Some((day, time))) => {
                let zone = if zone_of(&end).is_empty() {
                    zone_of(time)
                } else {
                    ""
                };
                format!("{day}T{end}{zone}")
            }
            _ => end,
        };
        map.insert("endDate".into(), json!(end));
    }
    if let Some(summary) = first("p-summary")
        .map(plain_value)
        .filter(|s| !s.is_empty())
    {
        map.insert("disambiguatingDescription".into(), json!(summary));
    }
    if let Some(content) = first("e-content").or_else(|| first("e-description")) {
        map.insert("description".into(), json!(content.inner_html()));
    } else if let Some(d) = first("p-description").map(plain_value) {
        map.insert("description".into(), json!(d));
    }
    if let Some(loc) = first("p-location") {
        map.insert("location".into(), place(loc));
    }
    if let Some(org) = first("p-organizer") {
        let name = if is_root(org) {
            root_name(org)
        } else {
            plain_value(org)
        };
        if !name.is_empty() {
            map.insert("organizer".into(), json!({ "name": name }));
        }
    }
    let categories: Vec<Value> = props
        .iter()
        .filter(|(n, _)| n == "p-category")
        .map(|(_, e)| plain_value(*e))
        .filter(|c| !c.is_empty())
        .map(Value::String)
        .collect();
    if !categories.is_empty() {
        map.insert("keywords".into(), Value::Array(categories));
    }
    if let Some(reg) = registration_link(root, url.as_deref(), base) {
        // An offer with only a link: the registration page, no price.
        map.insert("offers".into(), json!({ "@type": "Offer", "url": reg }));
    }
    Value::Object(map)
}

/// `(class, element)` for every property of `root`: descendants with `p-`/`u-`/`dt-`/`e-`
/// classes, not looking inside nested microformats (their properties are theirs), which are
/// themselves a property when they carry a property class (`p-location h-card`).
fn properties(root: ElementRef<'_>) -> Vec<(String, ElementRef<'_>)> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeRef<'_, Node>> = root.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        for class in el.value().classes() {
            if ["p-", "u-", "dt-", "e-"]
                .iter()
                .any(|p| class.starts_with(p))
            {
                out.push((class.to_string(), el));
            }
        }
        if !is_root(el) {
            let mut kids: Vec<_> = node.children().collect();
            kids.reverse();
            stack.extend(kids);
        }
    }
    out
}

fn has_class(el: ElementRef<'_>, name: &str) -> bool {
    el.value().classes().any(|c| c == name)
}

/// An `h-*` root class: `h-` and lowercase letters, with inner hyphens.
fn is_root(el: ElementRef<'_>) -> bool {
    el.value().classes().any(|c| {
        c.strip_prefix("h-").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('-')
                && !rest.ends_with('-')
                && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
    })
}

/// The value-class parts of a property (`<span class="value">`), outside nested roots.
fn value_parts(el: ElementRef<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeRef<'_, Node>> = el.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(child) = ElementRef::wrap(node) else {
            continue;
        };
        if has_class(child, "value-title") {
            if let Some(t) = child.value().attr("title") {
                out.push(t.trim().to_string());
            }
            continue;
        }
        if has_class(child, "value") {
            out.push(element_value(child, &["datetime", "title", "value", "alt"]));
            continue;
        }
        if !is_root(child) {
            let mut kids: Vec<_> = node.children().collect();
            kids.reverse();
            stack.extend(kids);
        }
    }
    out
}

/// The attribute mf2 reads from this kind of element, else its text.
fn element_value(el: ElementRef<'_>, attrs: &[&str]) -> String {
    let e = el.value();
    for attr in attrs {
        let applies = match *attr {
            "datetime" => matches!(e.name(), "time" | "ins" | "del"),
            "title" => e.name() == "abbr",
            "value" => matches!(e.name(), "data" | "input"),
            "alt" => matches!(e.name(), "img" | "area"),
            _ => false,
        };
        if applies && let Some(v) = e.attr(attr) {
            return v.trim().to_string();
        }
    }
    text_of(el)
}

/// A `p-` property: value-class parts joined, else `abbr[title]`, `data[value]`, `img[alt]`,
/// else the text.
fn plain_value(el: ElementRef<'_>) -> String {
    let parts = value_parts(el);
    if !parts.is_empty() {
        return parts.concat();
    }
    element_value(el, &["title", "value", "alt"])
}

/// A `u-` property, resolved against the page's base; only http(s) links.
fn link_value(el: ElementRef<'_>, base: Option<&Url>) -> Option<String> {
    let e = el.value();
    let attr = match e.name() {
        "a" | "area" | "link" => "href",
        "img" | "audio" | "video" | "source" | "iframe" => "src",
        "object" => "data",
        _ => "",
    };
    let raw = e
        .attr(attr)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| plain_value(el));
    resolve(&raw, base)
}

fn resolve(raw: &str, base: Option<&Url>) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let url = match base {
        Some(b) => b.join(raw).ok()?,
        None => Url::parse(raw).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// A `dt-` property as ISO 8601: `<time datetime>` and friends, or the value-class pattern
/// (a date part, a time part and a zone part, in any order).
fn date_value(el: ElementRef<'_>) -> Option<String> {
    let parts = value_parts(el);
    let raw = if parts.is_empty() {
        element_value(el, &["datetime", "title", "value"])
    } else {
        let (mut date, mut time, mut zone) = (None, None, None);
        for p in &parts {
            let p = p.trim();
            if let Some((d, t)) = split_date_time(p) {
                date = date.or(Some(d.to_string()));
                time = time.or(Some(t.to_string()));
            } else if is_date(p) {
                date = date.or(Some(p.to_string()));
            } else if is_zone(p) {
                zone = zone.or(Some(p.to_string()));
            } else if let Some(t) = clock(p) {
                time = time.or(Some(t));
            }
        }
        match (date, time) {
            (Some(d), Some(t)) => format!("{d}T{t}{}", zone.unwrap_or_default()),
            (Some(d), None) => d,
            (None, Some(t)) => format!("{t}{}", zone.unwrap_or_default()),
            (None, None) => return None,
        }
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    // "2027-01-20 19:00" is as valid in mf2 as with a `T`; a bare time is kept for the end.
    if let Some((d, t)) = split_date_time(raw) {
        return Some(format!("{d}T{}", normalize_clock_in(t)));
    }
    if is_date(raw) {
        return Some(raw.to_string());
    }
    clock(raw).or_else(|| Some(raw.to_string()))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `2027-01-20T19:00…` or `2027-01-20 19:00…`: the date and the rest.
fn split_date_time(s: &str) -> Option<(&str, &str)> {
    let date = s.get(..10).filter(|d| is_date(d))?;
    let rest = s.get(10..)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    (!rest.is_empty()).then_some((date, rest))
}

fn is_zone(s: &str) -> bool {
    if s == "Z" || s == "z" {
        return true;
    }
    let Some(rest) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    matches!(digits.len(), 2 | 4) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The zone suffix of a time (`-04:00`, `Z`), or "".
fn zone_of(t: &str) -> &str {
    t.char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, '+' | '-' | 'Z' | 'z'))
        .map_or("", |(i, _)| &t[i..])
}

/// A time with its zone kept (`19:00-04:00`), with a 12-hour clock made 24-hour.
fn normalize_clock_in(t: &str) -> String {
    let zone = zone_of(t);
    let clock_part = &t[..t.len() - zone.len()];
    match clock(clock_part) {
        Some(c) => format!("{c}{zone}"),
        None => t.to_string(),
    }
}

/// `19:00`, `19:00:30`, `7pm`, `7:30 p.m.` as `HH:MM[:SS]`.
fn clock(s: &str) -> Option<String> {
    let lower = s.trim().to_ascii_lowercase().replace(['.', ' '], "");
    let (digits, pm) = if let Some(d) = lower.strip_suffix("pm") {
        (d, Some(true))
    } else if let Some(d) = lower.strip_suffix("am") {
        (d, Some(false))
    } else {
        (lower.as_str(), None)
    };
    let mut fields = digits.split(':');
    let h: u32 = fields.next()?.parse().ok()?;
    let m: u32 = fields.next().map_or(Some(0), |m| m.parse().ok())?;
    let sec: Option<u32> = match fields.next() {
        Some(x) => Some(x.parse().ok()?),
        None => None,
    };
    if fields.next().is_some() || m > 59 || sec.is_some_and(|x| x > 60) {
        return None;
    }
    let h = match pm {
        Some(true) if (1..12).contains(&h) => h + 12,
        Some(false) if h == 12 => 0,
        Some(_) if !(1..=12).contains(&h) => return None,
        _ => h,
    };
    if h > 23 {
        return None;
    }
    Some(match sec {
        Some(sec) => format!("{h:02}:{m:02}:{sec:02}"),
        None => format!("{h:02}:{m:02}"),
    })
}

/// `p-location`: a nested `h-card`/`h-adr`/`h-geo` as a Place, else its text.
fn place(el: ElementRef<'_>) -> Value {
    if !is_root(el) {
        return json!(plain_value(el));
    }
    let props = properties(el);
    let get = |name: &str| {
        props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| plain_value(*e))
            .filter(|s| !s.is_empty())
    };
    let mut address = Map::new();
    for (mf, schema) in [
        ("p-street-address", "streetAddress"),
        ("p-locality", "addressLocality"),
        ("p-region", "addressRegion"),
        ("p-postal-code", "postalCode"),
        ("p-country-name", "addressCountry"),
    ] {
        if let Some(v) = get(mf) {
            address.insert(schema.into(), json!(v));
        }
    }
    let mut map = Map::new();
    map.insert("@type".into(), json!("Place"));
    let name = get("p-name").or_else(|| get("p-org"));
    let name = match name {
        Some(n) => Some(n),
        // A bare h-adr or h-geo says no name: its text is the address line.
        None if address.is_empty() => Some(text_of(el)).filter(|s| !s.is_empty()),
        None => None,
    };
    if let Some(n) = name {
        map.insert("name".into(), json!(n));
    }
    if !address.is_empty() {
        map.insert("address".into(), Value::Object(address));
    }
    if let (Some(lat), Some(lon)) = (get("p-latitude"), get("p-longitude")) {
        map.insert("geo".into(), json!({ "latitude": lat, "longitude": lon }));
    }
    Value::Object(map)
}

/// A nested h-card's name: its `p-name`, else its text.
fn root_name(el: ElementRef<'_>) -> String {
    properties(el)
        .iter()
        .find(|(n, _)| n == "p-name")
        .map(|(_, e)| plain_value(*e))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text_of(el))
}

/// Words of a link that leads to signing up, in the languages the catalog's providers write.
const REGISTER_WORDS: &[&str] = &[
    "register",
    "registration",
    "sign up",
    "signup",
    "tickets",
    "book now",
    "book a place",
    "book your place",
    "rsvp",
    "enrol",
    "inscri",
    "s'inscrire",
];

/// The event's sign-up link: an `<a href>` of the event (not its `u-url`, not nested in
/// another microformat or in its content, which the finishing stage reads itself) whose text
/// or path says so.
fn registration_link(
    root: ElementRef<'_>,
    own: Option<&str>,
    base: Option<&Url>,
) -> Option<String> {
    let mut stack: Vec<NodeRef<'_, Node>> = root.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if is_root(el) || has_class(el, "e-content") || has_class(el, "e-description") {
            continue;
        }
        if el.value().name() == "a"
            && let Some(href) = el.value().attr("href")
            && let Some(link) = resolve(href, base)
            && Some(link.as_str()) != own
        {
            let words = text_of(el).to_lowercase();
            let path = Url::parse(&link)
                .map(|u| u.path().to_ascii_lowercase())
                .unwrap_or_default();
            if REGISTER_WORDS
                .iter()
                .any(|w| words.contains(w) || path.contains(&w.replace(' ', "-")))
            {
                return Some(link);
            }
        }
        let mut kids: Vec<_> = node.children().collect();
        kids.reverse();
        stack.extend(kids);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(html: &str) -> Value {
        let page = Html::parse_document(html);
        let base = Url::parse("https://events.example.org/calendar/").ok();
        let mut all = events(&page, base.as_ref(), 10);
        assert_eq!(all.len(), 1, "one h-event in {html}");
        all.remove(0)
    }

    #[test]
    fn dates_table() {
        // (markup inside the h-event, startDate, endDate)
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                r#"<time class="dt-start" datetime="2027-01-20T19:00-04:00">Jan 20</time>
                   <time class="dt-end" datetime="2027-01-20T20:00-04:00">8</time>"#,
                Some("2027-01-20T19:00-04:00"),
                Some("2027-01-20T20:00-04:00"),
            ),
            (
                r#"<time class="dt-start" datetime="2027-11-11">Nov 11</time>–<time class="dt-end" datetime="2027-11-12">12</time>"#,
                Some("2027-11-11"),
                Some("2027-11-12"),
            ),
            (
                r#"<span class="dt-start"><span class="value">2027-03-02</span> at
                   <span class="value">7:30 p.m.</span><span class="value">-05:00</span></span>
                   to <span class="dt-end"><span class="value">9pm</span></span>"#,
                Some("2027-03-02T19:30-05:00"),
                Some("2027-03-02T21:00-05:00"),
            ),
            (
                r#"<abbr class="dt-start" title="2027-05-01 10:00:00+01:00">1 May</abbr>"#,
                Some("2027-05-01T10:00:00+01:00"),
                None,
            ),
            (
                r#"<data class="dt-start" value="2027-06-01T12:00Z">noon</data>
                   <time class="dt-end" datetime="13:00Z">1pm</time>"#,
                Some("2027-06-01T12:00Z"),
                Some("2027-06-01T13:00Z"),
            ),
            (
                r#"<time class="dt-start" datetime="2027-06-01T12:00-04:00">noon</time>
                   <time class="dt-end" datetime="13:30-04:00">1:30</time>"#,
                Some("2027-06-01T12:00-04:00"),
                Some("2027-06-01T13:30-04:00"),
            ),
        ];
        for (inner, start, end) in cases {
            let v = one(&format!(
                r#"<div class="h-event"><b class="p-name">X</b>{inner}</div>"#
            ));
            assert_eq!(v["startDate"].as_str(), *start, "{inner}");
            assert_eq!(v["endDate"].as_str(), *end, "{inner}");
        }
    }

    #[test]
    fn url_is_resolved_identity_and_register_link_is_found_outside_content() {
        let v = one(r#"<article class="h-event"><h2 class="p-name">Talk</h2>
               <div class="e-content"><p>About <a href="/register/other">register</a></p></div>
               <a class="u-url" href="/events/talk/">Details</a>
               <a class="button" href="/events/talk/inscripcion">Inscríbete / Sign up</a></article>"#);
        assert_eq!(v["@id"], "https://events.example.org/events/talk/");
        assert_eq!(v["url"], "https://events.example.org/events/talk/");
        assert_eq!(
            v["offers"]["url"],
            "https://events.example.org/events/talk/inscripcion"
        );
        assert!(
            v["description"]
                .as_str()
                .is_some_and(|d| d.contains("<p>About"))
        );
    }

    #[test]
    fn nested_card_is_a_place_and_its_name_is_not_the_events() {
        let v = one(r#"<div class="h-event"><span class="p-name">Clinic</span>
               <div class="p-location h-card"><span class="p-name">Main Library</span>,
               <span class="p-locality">Hilo</span> <span class="p-region">HI</span></div>
               <span class="p-category">preservation</span><span class="p-category">digitization</span>
               </div>"#);
        assert_eq!(v["name"], "Clinic");
        assert_eq!(v["location"]["name"], "Main Library");
        assert_eq!(v["location"]["address"]["addressLocality"], "Hilo");
        assert_eq!(v["keywords"], json!(["preservation", "digitization"]));
    }

    #[test]
    fn plain_location_and_no_link_stay_text_and_empty() {
        let v = one(r#"<div class="h-event"><span class="p-name">Webinar</span>
               <p class="p-location">Online (Zoom)</p><a href="/about">About us</a></div>"#);
        assert_eq!(v["location"], "Online (Zoom)");
        assert!(v.get("offers").is_none());
        assert!(v.get("@id").is_none());
    }

    #[test]
    fn clock_table() {
        for (raw, want) in [
            ("19:00", Some("19:00")),
            ("7pm", Some("19:00")),
            ("7:30 p.m.", Some("19:30")),
            ("12 a.m.", Some("00:00")),
            ("12pm", Some("12:00")),
            ("09:15:30", Some("09:15:30")),
            ("25:00", None),
            ("13pm", None),
            ("noonish", None),
        ] {
            assert_eq!(clock(raw).as_deref(), want, "{raw}");
        }
    }
}
