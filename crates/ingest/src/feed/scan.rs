//! A tolerant, flat pass over feed XML with quick-xml. feed-rs neither exposes event modules
//! (`ev:`, xCal, Google Base `g:event_date_range`, ...) nor survives malformed XML, so this pass
//! finds every item's byte span and reads the few fields we need from it, in document order.
//! It never recurses, never expands entities (an unknown `&name;` stays literal, DTDs are
//! ignored) and keeps only bounded text per field.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Text kept per field; anything longer is cut (descriptions are read by feed-rs when possible).
const MAX_FIELD_BYTES: usize = 256 * 1024;
/// Element nesting followed inside one item; deeper elements still count but are not recorded.
const MAX_ITEM_STACK: usize = 256;

/// What the tolerant pass found in a document.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Local name of the root element, lowercased.
    pub root: Option<String>,
    /// `xmlns` and `xmlns:p` declarations seen on the root element, as written.
    pub root_namespaces: Vec<(String, String)>,
    /// The first `<title>` outside any item.
    pub feed_title: Option<String>,
    /// Items in document order, at most the cap given to [`scan`].
    pub items: Vec<ItemScan>,
    /// Every item seen, including those past the cap.
    pub total_items: usize,
    /// The reader gave up before the end of the document.
    pub broken: bool,
}

/// One `<item>` or `<entry>`.
#[derive(Debug, Default, Clone)]
pub(super) struct ItemScan {
    /// Byte span of the item in the scanned text, start tag through end tag.
    pub start: usize,
    pub end: usize,
    pub is_entry: bool,
    /// The item had its own end tag (not cut off by the next item or the end of the document).
    pub closed: bool,
    pub guid: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub description: Option<String>,
    pub date: Option<String>,
    pub event: EventData,
}

/// Event-module values of one item, as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct EventData {
    pub start: Option<String>,
    pub end: Option<String>,
    pub location: Option<String>,
    pub organizer: Option<String>,
    pub kind: Option<String>,
    pub price: Option<String>,
    pub currency: Option<String>,
    pub image: Option<String>,
}

impl EventData {
    pub fn is_empty(&self) -> bool {
        *self == EventData::default()
    }
}

/// Which vocabulary an element prefix belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vocab {
    /// The item's own vocabulary (no prefix, Atom, RSS 1.0, Dublin Core, content:).
    Core,
    /// An event module.
    Event,
    Other,
}

fn vocab_of(prefix: &str, namespaces: &HashMap<String, String>) -> Vocab {
    if prefix.is_empty() {
        return Vocab::Core;
    }
    // Case-insensitive comparisons in place: this runs for every element inside every item.
    let uri = namespaces.get(prefix).map_or("", String::as_str);
    const EVENT_URIS: [&str; 6] = [
        "http://purl.org/rss/1.0/modules/event/",
        "urn:ietf:params:xml:ns:xcal",
        "urn:ietf:params:xml:ns:icalendar-2.0",
        "http://base.google.com/ns/1.0",
        "http://base.google.com/cns/1.0",
        "http://www.w3.org/2002/12/cal/ical#",
    ];
    let starts_with_ci = |u: &str| {
        uri.as_bytes()
            .get(..u.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(u.as_bytes()))
    };
    if EVENT_URIS.iter().any(|u| starts_with_ci(u))
        || contains_ci(uri, "libcal")
        || contains_ci(uri, "/event")
    {
        return Vocab::Event;
    }
    // Feeds often use an event prefix without declaring it, or with a vendor URI.
    let is = |p: &str| prefix.eq_ignore_ascii_case(p);
    if [
        "ev", "event", "events", "xcal", "libcal", "tribe", "g", "cal",
    ]
    .iter()
    .any(|p| is(p))
    {
        Vocab::Event
    } else if ["dc", "content", "atom", "rdf", "rss", "dcterms"]
        .iter()
        .any(|p| is(p))
    {
        Vocab::Core
    } else {
        Vocab::Other
    }
}

/// ASCII case-insensitive substring test (`needle` is lowercase ASCII).
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Scans `text`, keeping at most `cap` items.
pub(super) fn scan(text: &str, cap: usize) -> Scan {
    let mut reader = Reader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
    }
    let mut out = Scan::default();
    let mut namespaces: HashMap<String, String> = HashMap::new();
    let mut depth: usize = 0;
    let mut item: Option<ItemScan> = None;
    // Open elements inside the current item: qualified name and where its text starts in `buf`.
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut overflow: usize = 0;
    let mut buf = String::new();
    let mut in_feed_title = false;

    loop {
        let before = pos(&reader);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(_) => {
                out.broken = true;
                break;
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.name();
                let qname: &str = name.as_ref();
                // Compared in place: this runs for every element of the document, and
                // lowercased copies of every name were most of this pass's cost.
                let local = local_of(qname);
                let is = |want: &str| local.eq_ignore_ascii_case(want);
                // Declarations are rare past the root; only parse attributes that have one.
                if e.attributes_raw().contains("xmlns") {
                    note_namespaces(e, &mut namespaces);
                }
                if depth == 0 && out.root.is_none() {
                    out.root = Some(local.to_ascii_lowercase());
                    out.root_namespaces = namespace_attrs(e);
                }
                let starts_item = (is("item") || is("entry")) && depth >= 1 && !empty;
                if starts_item {
                    // An item that never closed ends where the next one starts.
                    if let Some(mut open) = item.take() {
                        open.end = before;
                        push_item(&mut out, open, cap);
                    }
                    item = Some(ItemScan {
                        start: before,
                        is_entry: is("entry"),
                        ..ItemScan::default()
                    });
                    stack.clear();
                    overflow = 0;
                    buf.clear();
                    depth += 1;
                    continue;
                }
                if let Some(it) = item.as_mut() {
                    if is("link") && stack.is_empty() && it.link.is_none() {
                        let rel = attr(e, "rel");
                        if rel
                            .as_deref()
                            .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
                        {
                            it.link = attr(e, "href");
                        }
                    }
                    if !empty {
                        // Markup inside a field (naked HTML) keeps adding to that field's text.
                        if stack.is_empty() {
                            buf.clear();
                        }
                        if stack.len() < MAX_ITEM_STACK {
                            stack.push((qname.to_string(), buf.len()));
                        } else {
                            overflow += 1;
                        }
                    }
                } else if !empty && is("title") && out.feed_title.is_none() && depth <= 3 {
                    in_feed_title = true;
                    buf.clear();
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) => push_capped(&mut buf, &t.xml10_content()),
            Event::CData(t) => push_capped(&mut buf, &t.xml10_content()),
            Event::GeneralRef(r) => {
                match r.resolve_char_ref() {
                    Ok(Some(c)) => {
                        let mut tmp = [0u8; 4];
                        push_capped(&mut buf, c.encode_utf8(&mut tmp));
                    }
                    _ => {
                        let name = r.as_ref().to_string();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => push_capped(&mut buf, s),
                            // Never expanded: DTD entities (billion laughs, XXE) stay literal.
                            None => push_capped(&mut buf, &format!("&{name};")),
                        }
                    }
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.name();
                let qname: &str = name.as_ref();
                let local = local_of(qname);
                let is = |want: &str| local.eq_ignore_ascii_case(want);
                if let Some(mut it) = item.take() {
                    let closes_item = (is("item") && !it.is_entry) || (is("entry") && it.is_entry);
                    if closes_item && overflow == 0 {
                        it.end = pos(&reader);
                        it.closed = true;
                        push_item(&mut out, it, cap);
                        stack.clear();
                        buf.clear();
                        continue;
                    }
                    if overflow > 0 {
                        overflow -= 1;
                    } else if let Some(at) = stack.iter().rposition(|(n, _)| *n == qname) {
                        // Elements left open inside (naked HTML) are closed with their parent.
                        let from = stack[at].1.min(buf.len());
                        let direct = at == 0;
                        stack.truncate(at);
                        let value = buf.get(from..).unwrap_or_default().trim();
                        record(&mut it, qname, direct, value, &namespaces);
                        if stack.is_empty() {
                            buf.clear();
                        }
                    }
                    item = Some(it);
                } else if in_feed_title && is("title") {
                    let t = buf.trim();
                    if !t.is_empty() {
                        out.feed_title = Some(t.to_string());
                    }
                    in_feed_title = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(mut open) = item.take() {
        open.end = text.len();
        push_item(&mut out, open, cap);
    }
    out
}

fn pos(reader: &Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

fn push_item(out: &mut Scan, item: ItemScan, cap: usize) {
    out.total_items += 1;
    if out.items.len() < cap {
        out.items.push(item);
    }
}

fn push_capped(buf: &mut String, s: &str) {
    if buf.len() + s.len() <= MAX_FIELD_BYTES {
        buf.push_str(s);
    }
}

fn local_of(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}

fn namespace_attrs(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .filter_map(|a| {
            let key = a.key.as_ref().to_string();
            (key == "xmlns" || key.starts_with("xmlns:")).then(|| {
                let value = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_default();
                (key, value)
            })
        })
        .collect()
}

fn note_namespaces(e: &BytesStart<'_>, namespaces: &mut HashMap<String, String>) {
    if namespaces.len() > 256 {
        return;
    }
    for (key, value) in namespace_attrs(e) {
        if let Some(prefix) = key.strip_prefix("xmlns:") {
            namespaces.insert(prefix.to_string(), value);
        }
    }
}

fn set(field: &mut Option<String>, value: &str) {
    if field.is_none() && !value.is_empty() {
        *field = Some(value.to_string());
    }
}

fn record(
    it: &mut ItemScan,
    qname: &str,
    direct: bool,
    value: &str,
    namespaces: &HashMap<String, String>,
) {
    // Every name matched below is short ASCII: lowercase into a small buffer, not a String.
    let mut lower = [0u8; 16];
    let local = local_of(qname).as_bytes();
    let Some(slot) = lower.get_mut(..local.len()) else {
        return;
    };
    slot.copy_from_slice(local);
    slot.make_ascii_lowercase();
    let local = std::str::from_utf8(slot).unwrap_or_default();
    match vocab_of(prefix_of(qname), namespaces) {
        Vocab::Event => {
            let ev = &mut it.event;
            match local {
                "startdate" | "start_date" | "startdatetime" | "start" | "dtstart" | "begin"
                | "date_start" => set(&mut ev.start, value),
                "enddate" | "end_date" | "enddatetime" | "end" | "dtend" | "date_end" => {
                    set(&mut ev.end, value)
                }
                "location" | "venue" | "campus" => set(&mut ev.location, value),
                "organizer" | "organiser" | "calendar" => set(&mut ev.organizer, value),
                "type" | "category" | "event_type" => set(&mut ev.kind, value),
                "price" | "cost" => set(&mut ev.price, value),
                "currency" => set(&mut ev.currency, value),
                "image_link" | "image" => set(&mut ev.image, value),
                _ => {}
            }
        }
        Vocab::Core if direct => match local {
            "guid" | "id" => set(&mut it.guid, value),
            "title" => set(&mut it.title, value),
            "link" => set(&mut it.link, value),
            // Full content beats a description read earlier.
            "encoded" | "content" if !value.is_empty() => it.description = Some(value.to_string()),
            "description" | "summary" => set(&mut it.description, value),
            "pubdate" | "published" | "date" | "issued" | "updated" | "modified" => {
                set(&mut it.date, value)
            }
            _ => {}
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_event_fields_are_found_in_order() {
        let xml = r#"<rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel><title>T</title>
            <item><title>A</title><ev:startdate>2026-03-05T14:00:00-05:00</ev:startdate><ev:location>Room 1</ev:location></item>
            <item><title>B &amp; &xxe;</title><guid>b</guid></item></channel></rss>"#;
        let s = scan(xml, 10);
        assert_eq!(s.root.as_deref(), Some("rss"));
        assert_eq!(s.feed_title.as_deref(), Some("T"));
        assert_eq!(s.items.len(), 2);
        assert_eq!(
            s.items[0].event.start.as_deref(),
            Some("2026-03-05T14:00:00-05:00")
        );
        assert_eq!(s.items[0].event.location.as_deref(), Some("Room 1"));
        assert_eq!(s.items[1].title.as_deref(), Some("B & &xxe;"));
        assert_eq!(s.items[1].guid.as_deref(), Some("b"));
        assert!(xml[s.items[1].start..s.items[1].end].starts_with("<item>"));
        assert!(xml[s.items[1].start..s.items[1].end].ends_with("</item>"));
    }

    #[test]
    fn an_unclosed_item_ends_where_the_next_starts() {
        let xml =
            "<rss><channel><item><title>A</title><item><title>B</title></item></channel></rss>";
        let s = scan(xml, 10);
        assert_eq!(s.items.len(), 2);
        assert!(!s.items[0].closed);
        assert!(s.items[1].closed);
    }
}
