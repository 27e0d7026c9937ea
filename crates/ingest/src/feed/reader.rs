//! Our RSS/Atom reader: one tolerant, flat pass over the decoded text's XML events (quick-xml's,
//! found by `tokens`) that reads the channel and every item's fields, event modules included,
//! so each byte is looked at once.
//!
//! RSS 0.9x, 1.0 (RDF) and 2.0 and Atom 0.3 and 1.0 share one vocabulary here: an element is
//! known by its local name (`pubDate`, `published`, `dc:date`, ...) and by the vocabulary its
//! prefix belongs to (the feed's own, an event module, Media RSS, anything else), never by the
//! exact namespace URI, since feeds declare old, misspelt or no namespaces all the time.
//!
//! Tolerance, in the spirit of a browser-grade reader: end tags need not match (an element left
//! open inside an item is closed with its parent and the item is marked broken, but its fields
//! are still read), an item left open ends where the next one starts or where the document
//! does, and a syntax error ends the pass without losing the items read so far. The pass never
//! recurses, never expands DTD entities (an unknown `&name;` that is not an HTML entity stays
//! literal, so billion-laughs and XXE documents stay inert) and keeps bounded text per field.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use url::Url;

use super::tokens::Tokens;

/// Text kept per field; anything longer is cut.
const MAX_FIELD_BYTES: usize = 1024 * 1024;
/// Markup kept as written for one HTML field with child elements; longer fields keep their text.
const MAX_RAW_BYTES: usize = 4 * 1024 * 1024;
/// Element nesting followed inside one item; deeper elements still count but are not recorded.
const MAX_ITEM_STACK: usize = 256;
/// Categories and extra links kept per item.
const MAX_CATEGORIES: usize = 64;
const MAX_OTHER_URLS: usize = 32;
/// Namespace declarations remembered for the whole document.
const MAX_NAMESPACES: usize = 256;

/// How a text field's value is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Markup {
    /// Text that says nothing about markup: read as HTML when it looks like HTML, as
    /// feedparser does (RSS titles, Atom titles and summaries without a `type`).
    #[default]
    Loose,
    /// Text that is text whatever it holds: Atom `type="text"`, and Atom content without a type.
    Text,
    /// HTML (RSS descriptions, Atom `type="html"` and, unwrapped, `type="xhtml"`).
    Html,
}

/// A text construct: its value (entities resolved, or the markup as written for XHTML and
/// unescaped HTML) and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Content {
    pub value: String,
    pub markup: Markup,
}

/// What the reader found in a document.
#[derive(Debug, Default)]
pub(super) struct Feed {
    /// Local name of the root element, lowercased.
    pub root: Option<String>,
    pub title: Option<Content>,
    /// The feed's own page, resolved against `xml:base` when one is in scope.
    pub link: Option<String>,
    pub language: Option<String>,
    /// RSS `<ttl>` in minutes.
    pub ttl: Option<u32>,
    /// `<generator>`: the software that wrote the feed (an events plugin says so).
    pub generator: Option<String>,
    /// The feed's own date as written: RSS `lastBuildDate`, Atom `updated`.
    pub updated: Option<String>,
    /// The channel's `pubDate` or `dc:date` as written.
    pub published: Option<String>,
    /// Items in document order, at most the cap given to [`read`].
    pub items: Vec<Item>,
    /// Every item seen, including those past the cap.
    pub total_items: usize,
    /// Why the document is not well-formed, when the reader noticed.
    pub malformed: Option<String>,
    /// The calendar platform whose own elements the items carry (`libcal`, `trumba`).
    pub platform: Option<&'static str>,
}

/// One `<item>` or `<entry>`.
#[derive(Debug, Default)]
pub(super) struct Item {
    /// Its markup was not well-formed (elements left open, stray end tags).
    pub broken: bool,
    pub guid: Option<String>,
    /// RSS `<guid>` without `isPermaLink="false"`: the guid may serve as the link.
    pub guid_is_link: bool,
    pub title: Option<Content>,
    /// The item's page, resolved against `xml:base` when one is in scope.
    pub link: Option<String>,
    /// Enclosures, related links, non-image media.
    pub other_urls: Vec<String>,
    pub image: Option<String>,
    /// Full content (`content:encoded`, Atom `<content>`).
    pub content: Option<Content>,
    /// RSS `<description>`, Atom `<summary>`.
    pub summary: Option<Content>,
    /// Dates as written.
    pub published: Option<String>,
    pub updated: Option<String>,
    pub author: Option<String>,
    pub categories: Vec<String>,
    pub language: Option<String>,
    /// The `xml:base` in scope for the item's content, resolved.
    pub base: Option<Url>,
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
    /// LibCal: the day (`libcal:date`) its `start` and `end` times are on.
    pub date: Option<String>,
    /// LibCal: the building or branch (`libcal:campus`), beside the room in `location`.
    pub campus: Option<String>,
    /// LibCal `libcal:audience` (repeated ones joined) or a platform's audience field.
    pub audience: Option<String>,
    /// LibCal `libcal:eventid`.
    pub event_id: Option<String>,
    /// Trumba: the wall-clock start and end in the calendar's zone (`x-trumba:localstart`).
    pub local_start: Option<String>,
    pub local_end: Option<String>,
    /// Trumba (`x-microsoft:cdo-alldayevent`): whether the event is a whole day.
    pub all_day: Option<String>,
    /// Trumba `x-trumba:customfield`s: (name, value), at most [`MAX_CUSTOM_FIELDS`].
    pub custom: Vec<(String, String)>,
    /// Trumba `x-trumba:weblink`: the event's own page.
    pub web_link: Option<String>,
}

/// Custom fields kept per item.
const MAX_CUSTOM_FIELDS: usize = 32;

impl EventData {
    pub fn is_empty(&self) -> bool {
        // Field by field: comparing with a default built per item showed in profiles.
        self.start.is_none()
            && self.end.is_none()
            && self.location.is_none()
            && self.organizer.is_none()
            && self.kind.is_none()
            && self.price.is_none()
            && self.currency.is_none()
            && self.image.is_none()
            && self.date.is_none()
            && self.campus.is_none()
            && self.audience.is_none()
            && self.event_id.is_none()
            && self.local_start.is_none()
            && self.local_end.is_none()
            && self.all_day.is_none()
            && self.custom.is_empty()
            && self.web_link.is_none()
    }
}

/// Which vocabulary an element prefix belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vocab {
    /// The feed's own vocabulary: no prefix, Atom, RSS 1.0, Dublin Core, `content:`.
    Core,
    /// An event module.
    Event,
    /// LibCal's RSS elements (`libcal:date`, `libcal:start`, ...).
    LibCal,
    /// Trumba's RSS elements (`x-trumba:`, and the `x-microsoft:` ones Trumba writes).
    Trumba,
    /// Media RSS.
    Media,
    Other,
}

/// The namespace declarations seen so far and what each prefix stands for.
#[derive(Default)]
struct Namespaces {
    decls: Vec<(String, String)>,
    /// Prefix -> vocabulary, filled on first use; cleared when a declaration arrives.
    cache: Vec<(String, Vocab)>,
    /// The prefix of a prefixed `<r:rss>` root: the feed's own vocabulary.
    root_prefix: Option<String>,
}

impl Namespaces {
    fn declare(&mut self, e: &BytesStart<'_>) {
        for a in e.attributes().with_checks(false).flatten() {
            if self.decls.len() >= MAX_NAMESPACES {
                return;
            }
            let key: &str = a.key.as_ref();
            if let Some(prefix) = key.strip_prefix("xmlns:") {
                let uri = attr_value(&a);
                match self.decls.iter_mut().find(|(p, _)| p == prefix) {
                    Some(slot) => slot.1 = uri,
                    None => self.decls.push((prefix.to_string(), uri)),
                }
                self.cache.clear();
            }
        }
    }

    fn vocab(&mut self, prefix: &str) -> Vocab {
        if prefix.is_empty() {
            return Vocab::Core;
        }
        if let Some((_, v)) = self.cache.iter().find(|(p, _)| p == prefix) {
            return *v;
        }
        let v = self.classify(prefix);
        if self.cache.len() < 64 {
            self.cache.push((prefix.to_string(), v));
        }
        v
    }

    fn classify(&self, prefix: &str) -> Vocab {
        if self.root_prefix.as_deref() == Some(prefix) {
            return Vocab::Core;
        }
        let uri = self
            .decls
            .iter()
            .find(|(p, _)| p == prefix)
            .map_or("", |(_, u)| u.as_str());
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
        if contains_ci(uri, "libcal") {
            return Vocab::LibCal;
        }
        if contains_ci(uri, "trumba") || contains_ci(uri, "schemas.microsoft.com/x-microsoft") {
            return Vocab::Trumba;
        }
        if EVENT_URIS.iter().any(|u| starts_with_ci(u)) || contains_ci(uri, "/event") {
            return Vocab::Event;
        }
        if contains_ci(uri, "search.yahoo.com/mrss") {
            return Vocab::Media;
        }
        // Feeds often use a prefix without declaring it, or with a vendor URI.
        let is = |p: &str| prefix.eq_ignore_ascii_case(p);
        if is("libcal") {
            Vocab::LibCal
        } else if is("x-trumba") || is("x-microsoft") {
            Vocab::Trumba
        } else if ["ev", "event", "events", "xcal", "tribe", "g", "cal"]
            .iter()
            .any(|p| is(p))
        {
            Vocab::Event
        } else if is("media") {
            Vocab::Media
        } else if ["dc", "content", "atom", "rdf", "rss", "dcterms"]
            .iter()
            .any(|p| is(p))
        {
            Vocab::Core
        } else {
            Vocab::Other
        }
    }
}

/// ASCII case-insensitive substring test (`needle` is lowercase ASCII).
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What an element inside an item is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Not read (its text still counts toward an enclosing field's).
    Ignored,
    Title,
    Link,
    Guid,
    Content,
    Summary,
    Published,
    Updated,
    Author,
    AuthorName,
    AuthorEmail,
    Category,
    Language,
    Event(EventField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventField {
    Start,
    End,
    Location,
    Organizer,
    Kind,
    Price,
    Currency,
    Image,
    Date,
    Campus,
    Audience,
    EventId,
    LocalStart,
    LocalEnd,
    AllDay,
    /// A `x-trumba:customfield`, whose name is `OpenItem::custom_name`.
    Custom,
    WebLink,
}

/// What a direct child of the channel (or Atom feed) is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FeedField {
    Title,
    Link,
    Language,
    Ttl,
    Generator,
    /// RSS `lastBuildDate`, Atom `updated`.
    Built,
    /// A channel `pubDate` or `dc:date`.
    Dated,
}

/// An element open inside the current item.
struct Open {
    /// End of its qualified name in `State::names`.
    name_end: usize,
    /// Where its text starts in `State::buf`.
    text_from: usize,
    /// Where its content starts in the document.
    raw_from: usize,
    field: Field,
    markup: Markup,
    xhtml: bool,
    /// A guid marked as not a permalink.
    not_link: bool,
    /// It has child elements (markup written unescaped).
    children: bool,
}

/// The direct child of the channel being read.
struct OpenFeedField {
    depth: usize,
    field: FeedField,
    markup: Markup,
    xhtml: bool,
    raw_from: usize,
    children: bool,
}

/// The item being read.
struct OpenItem {
    item: Item,
    is_entry: bool,
    /// Past the cap: counted, not kept.
    kept: bool,
    /// Atom `<author>` children seen so far.
    author_name: Option<String>,
    author_email: Option<String>,
    /// The `name` of the `x-trumba:customfield` being read.
    custom_name: Option<String>,
}

struct State<'t> {
    text: &'t str,
    cap: usize,
    feed: Feed,
    ns: Namespaces,
    depth: usize,
    /// Depth of the open `<channel>`, whose children are the feed's own fields.
    channel_at: Option<usize>,
    /// `xml:base` values in scope: the depth of the element that set one, and the result.
    bases: Vec<(usize, Url)>,
    /// The document's own URL, the base of the outermost `xml:base`.
    doc_base: Option<Url>,
    /// `xml:lang` of the root or channel, the feed's language when it names none otherwise.
    root_lang: Option<String>,
    feed_field: Option<OpenFeedField>,
    /// Boxed: an item is several hundred bytes, and it is taken out and put back for every
    /// end tag inside it (moving it whole each time was a visible share of reading a feed).
    item: Option<Box<OpenItem>>,
    stack: Vec<Open>,
    /// Qualified names of the elements in `stack`, back to back.
    names: String,
    /// Elements open past `MAX_ITEM_STACK`.
    overflow: usize,
    /// Text of the field being read.
    buf: String,
}

/// Reads `text` (UTF-8, any declaration ignored), keeping at most `cap` items. `base` is the
/// document's URL, against which `xml:base` values resolve.
pub(super) fn read(text: &str, base: Option<&Url>, cap: usize) -> Feed {
    let mut reader = Tokens::new(text);
    // Positions count from after a byte order mark, so markup is cut from the same text.
    let text = reader.text();
    let mut st = State {
        text,
        cap,
        feed: Feed::default(),
        ns: Namespaces::default(),
        depth: 0,
        channel_at: None,
        bases: Vec::new(),
        doc_base: base.cloned(),
        root_lang: None,
        feed_field: None,
        item: None,
        stack: Vec::new(),
        names: String::new(),
        overflow: 0,
        buf: String::new(),
    };
    loop {
        let before = reader.position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(err) => {
                st.feed.malformed = Some(err.to_string());
                break;
            }
        };
        match event {
            Event::Start(ref e) => st.start(e, false, before, reader.position()),
            Event::Empty(ref e) => st.start(e, true, before, reader.position()),
            Event::End(ref e) => {
                let name = e.name();
                st.end(name.as_ref(), before);
            }
            Event::Text(ref t) if st.collecting() => {
                push_capped(&mut st.buf, &t.xml10_content());
            }
            Event::CData(ref t) if st.collecting() => {
                push_capped(&mut st.buf, &t.xml10_content());
            }
            Event::GeneralRef(ref r) if st.collecting() => {
                push_reference(&mut st.buf, r);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(mut open) = st.item.take() {
        if st.feed.malformed.is_none() {
            st.feed.malformed = Some("the document ends inside an item".to_string());
        }
        st.close_open_fields(&mut open, text.len());
        st.finish_item(open);
    }
    let mut feed = st.feed;
    if feed.language.is_none() {
        feed.language = st.root_lang;
    }
    feed
}

/// Appends the text a `&...;` reference stands for: a character reference, one of XML's five
/// entities, or an HTML named entity (common in RSS); anything else stays as written.
fn push_reference(buf: &mut String, r: &quick_xml::events::BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        let mut tmp = [0u8; 4];
        push_capped(buf, c.encode_utf8(&mut tmp));
        return;
    }
    let name: &str = r;
    if let Some(s) = quick_xml::escape::resolve_predefined_entity(name) {
        push_capped(buf, s);
        return;
    }
    let written = format!("&{name};");
    if name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let decoded = htmlize::unescape(written.as_str());
        // `&LT;` and friends would turn escaped text into markup: those stay as written.
        if decoded != written && !decoded.contains(['<', '>', '&', '"', '\'']) {
            push_capped(buf, &decoded);
            return;
        }
    }
    // Never expanded: DTD entities (billion laughs, XXE) stay literal.
    push_capped(buf, &written);
}

fn push_capped(buf: &mut String, s: &str) {
    if buf.len() + s.len() <= MAX_FIELD_BYTES {
        buf.push_str(s);
    }
}

/// What follows the last `:` of a qualified name (all of it without one). Names are short:
/// a plain backwards loop, where `rsplit` set up a reverse searcher for every start and end tag.
fn local_of(qname: &str) -> &str {
    match qname.bytes().rposition(|b| b == b':') {
        Some(colon) => &qname[colon + 1..],
        None => qname,
    }
}

/// What precedes the first `:` of a qualified name (nothing without one).
fn prefix_of(qname: &str) -> &str {
    match qname.bytes().position(|b| b == b':') {
        Some(colon) => &qname[..colon],
        None => "",
    }
}

/// An attribute's value with entities resolved where XML defines them, else as written.
fn attr_value(a: &quick_xml::events::attributes::Attribute<'_>) -> String {
    attr_value_ref(a).into_owned()
}

/// [`attr_value`], lent from the document when nothing had to be resolved (most values): most
/// attributes read are only looked at (`rel`, `type`) or go on to be resolved as URLs.
fn attr_value_ref<'a>(a: &quick_xml::events::attributes::Attribute<'a>) -> Cow<'a, str> {
    match a.normalized_value(XmlVersion::Implicit1_0) {
        Ok(Cow::Borrowed(v)) => Cow::Borrowed(v.trim()),
        Ok(Cow::Owned(v)) => trimmed_owned(v),
        Err(_) => match &a.value {
            Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
            Cow::Owned(v) => Cow::Owned(v.trim().to_string()),
        },
    }
}

fn trimmed_owned<'a>(v: String) -> Cow<'a, str> {
    if v.trim().len() == v.len() {
        Cow::Owned(v)
    } else {
        Cow::Owned(v.trim().to_string())
    }
}

/// Whether the raw attribute text of `e` contains `needle`: what [`xml_attrs`] answers for
/// its three names at once (the reader asked it three times per element before).
#[cfg(test)]
fn has_attr_text(e: &BytesStart<'_>, needle: &str) -> bool {
    let raw = e.attributes_raw();
    if raw.len() < needle.len() {
        return false;
    }
    // Attribute text is short and the needles' first letter rare in it: memchr to each
    // candidate, rather than a substring searcher set up per element.
    let Some(first) = needle.chars().next() else {
        return true;
    };
    raw.match_indices(first)
        .any(|(at, _)| raw[at..].starts_with(needle))
}

/// Which of the `xml` attributes the reader acts on appear in an element's raw attribute text
/// (as searching that text for each name would say).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct XmlAttrs {
    xmlns: bool,
    base: bool,
    lang: bool,
}

/// [`XmlAttrs`] in one pass over the attribute text instead of one search per name: every
/// element of every item is asked about all three.
fn xml_attrs(e: &BytesStart<'_>) -> XmlAttrs {
    let raw = e.attributes_raw();
    let mut found = XmlAttrs::default();
    // "xmlns" is the shortest of the three.
    if raw.len() < 5 {
        return found;
    }
    for (at, _) in raw.match_indices('x') {
        let rest = &raw[at..];
        found.xmlns |= rest.starts_with("xmlns");
        found.base |= rest.starts_with("xml:base");
        found.lang |= rest.starts_with("xml:lang");
    }
    found
}

/// The value of attribute `name` (ASCII case-insensitive qualified name), trimmed, if non-empty.
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    attr_ref(e, name).map(Cow::into_owned)
}

/// [`attr`], lent from the document when it can be (see [`attr_value_ref`]).
fn attr_ref<'e>(e: &'e BytesStart<'_>, name: &str) -> Option<Cow<'e, str>> {
    if e.attributes_raw().is_empty() {
        return None;
    }
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| {
            let key: &str = a.key.as_ref();
            key.eq_ignore_ascii_case(name)
        })
        .map(|a| attr_value_ref(&a))
        .filter(|v| !v.is_empty())
}

/// The `rel` of an item's link, as far as the reader tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Alternate,
    Enclosure,
    /// `related` or `via`.
    Related,
    Other,
}

impl Rel {
    /// What `rel` names, ignoring ASCII case (as matching its lowercased copy did).
    fn of(rel: &str) -> Rel {
        let is = |name: &str| rel.eq_ignore_ascii_case(name);
        if is("alternate") {
            Rel::Alternate
        } else if is("enclosure") {
            Rel::Enclosure
        } else if is("related") || is("via") {
            Rel::Related
        } else {
            Rel::Other
        }
    }
}

/// [`attr_ref`] for two names in one pass over the attributes (elements such as `<link>`,
/// `<category>` and `<content>` were asked about two each, and reading attributes is most of
/// the cost of their start tags): what the two calls answer, each the first attribute of its
/// name, `None` when that one is empty.
fn attr_pair<'e>(
    e: &'e BytesStart<'_>,
    a: &str,
    b: &str,
) -> (Option<Cow<'e, str>>, Option<Cow<'e, str>>) {
    if e.attributes_raw().is_empty() {
        return (None, None);
    }
    let mut first_a = None;
    let mut first_b = None;
    for attr in e.attributes().with_checks(false).flatten() {
        let key: &str = attr.key.as_ref();
        if first_a.is_none() && key.eq_ignore_ascii_case(a) {
            first_a = Some(attr_value_ref(&attr));
        } else if first_b.is_none() && key.eq_ignore_ascii_case(b) {
            first_b = Some(attr_value_ref(&attr));
        }
        if first_a.is_some() && first_b.is_some() {
            break;
        }
    }
    (
        first_a.filter(|v| !v.is_empty()),
        first_b.filter(|v| !v.is_empty()),
    )
}

/// How an Atom text construct (or Atom 0.3 content) says to read it: `(markup, is_xhtml)`.
/// Without a `type`, `default` applies.
fn markup_of(e: &BytesStart<'_>, default: Markup) -> (Markup, bool) {
    markup_from(attr_ref(e, "type"), default)
}

/// [`markup_of`] given the element's `type`.
fn markup_from(ty: Option<Cow<'_, str>>, default: Markup) -> (Markup, bool) {
    match ty {
        None => (default, false),
        Some(t) => {
            // Searched ignoring ASCII case in place: what searching a lowercased copy finds.
            if contains_ci(&t, "xhtml") {
                (Markup::Html, true)
            } else if contains_ci(&t, "html") {
                (Markup::Html, false)
            } else {
                (Markup::Text, false)
            }
        }
    }
}

/// `href` made absolute against `base` when there is one, else as written.
fn resolve(href: &str, base: Option<&Url>) -> String {
    match base {
        Some(b) => b
            .join(href)
            .map_or_else(|_| href.to_string(), |u| u.to_string()),
        None => href.to_string(),
    }
}

/// The local name lowercased into `out`, if it is short enough to be one we know.
fn lower_local<'b>(local: &'b str, out: &'b mut [u8; 24]) -> &'b str {
    let bytes = local.as_bytes();
    // Most names are lowercase already: lent as they are, without a copy checked as UTF-8.
    if bytes.len() <= out.len() && !bytes.iter().any(u8::is_ascii_uppercase) {
        return local;
    }
    match out.get_mut(..bytes.len()) {
        Some(slot) => {
            slot.copy_from_slice(bytes);
            slot.make_ascii_lowercase();
            std::str::from_utf8(slot).unwrap_or_default()
        }
        None => "",
    }
}

fn set(slot: &mut Option<String>, value: &str) {
    if slot.is_none() && !value.is_empty() {
        *slot = Some(value.to_string());
    }
}

fn event_field(local: &str) -> Option<EventField> {
    Some(match local {
        "startdate" | "start_date" | "startdatetime" | "start" | "dtstart" | "begin"
        | "date_start" => EventField::Start,
        "enddate" | "end_date" | "enddatetime" | "end" | "dtend" | "date_end" => EventField::End,
        "location" | "venue" | "campus" => EventField::Location,
        "organizer" | "organiser" | "calendar" => EventField::Organizer,
        "type" | "category" | "event_type" => EventField::Kind,
        "price" | "cost" => EventField::Price,
        "currency" => EventField::Currency,
        "image_link" | "image" => EventField::Image,
        _ => return None,
    })
}

/// A LibCal element: its own names first, then the event-module ones.
fn libcal_field(local: &str) -> Option<EventField> {
    Some(match local {
        "date" => EventField::Date,
        "campus" => EventField::Campus,
        "audience" => EventField::Audience,
        "eventid" | "event_id" => EventField::EventId,
        _ => return event_field(local),
    })
}

/// A Trumba element (Trumba writes its dates in xCal, which the event module reads).
fn trumba_field(local: &str) -> Option<EventField> {
    Some(match local {
        "localstart" => EventField::LocalStart,
        "localend" => EventField::LocalEnd,
        "customfield" => EventField::Custom,
        "weblink" => EventField::WebLink,
        "cdo-alldayevent" => EventField::AllDay,
        _ => return None,
    })
}

/// Removes the `<div>` an Atom `type="xhtml"` construct wraps its markup in.
fn unwrap_xhtml_div(raw: &str) -> &str {
    let t = raw.trim();
    let name_len = t
        .strip_prefix('<')
        .map(|r| {
            r.bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b':' || *b == b'_')
                .count()
        })
        .unwrap_or(0);
    if name_len == 0 || !local_of(&t[1..1 + name_len]).eq_ignore_ascii_case("div") {
        return t;
    }
    let (Some(open_end), Some(close)) = (t.find('>'), t.rfind("</")) else {
        return t;
    };
    if t[open_end - 1..].starts_with("/>") {
        return "";
    }
    if close <= open_end {
        return t;
    }
    t[open_end + 1..close].trim()
}

impl State<'_> {
    /// Whether text events matter here.
    fn collecting(&self) -> bool {
        match &self.item {
            Some(open) => open.kept && !self.stack.is_empty(),
            None => self.feed_field.is_some(),
        }
    }

    fn base(&self) -> Option<&Url> {
        self.bases.last().map(|(_, u)| u)
    }

    /// The base an element's own `xml:base` sets, if it has one.
    fn own_base(&self, e: &BytesStart<'_>, has_base: bool) -> Option<Url> {
        if !has_base {
            return None;
        }
        let raw = attr_ref(e, "xml:base")?;
        match self.base().or(self.doc_base.as_ref()) {
            Some(b) => b.join(&raw).ok(),
            None => Url::parse(&raw).ok(),
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool, before: usize, after: usize) {
        let name = e.name();
        let qname: &str = name.as_ref();
        let local = local_of(qname);
        let prefix = prefix_of(qname);
        let depth = self.depth;
        let xml = xml_attrs(e);
        // Declarations are rare past the root; only parse attributes that have one.
        if xml.xmlns {
            self.ns.declare(e);
        }
        if depth == 0 && self.feed.root.is_none() {
            let root = local.to_ascii_lowercase();
            if !prefix.is_empty() && matches!(root.as_str(), "rss" | "feed") {
                self.ns.root_prefix = Some(prefix.to_string());
                self.ns.cache.clear();
            }
            self.feed.root = Some(root);
        }
        let own_base = self.own_base(e, xml.base);
        let lang = if xml.lang { attr(e, "xml:lang") } else { None };
        if !empty {
            if let Some(b) = own_base.clone() {
                self.bases.push((depth, b));
            }
            self.depth += 1;
        }
        let mut lower = [0u8; 24];
        let lname = lower_local(local, &mut lower);
        let vocab = self.ns.vocab(prefix);

        // An Atom Entry Document (RFC 4287 4.1.2) is one entry at the root.
        let starts_item = match lname {
            "item" => depth >= 1,
            "entry" => true,
            _ => false,
        };
        if vocab == Vocab::Core && starts_item {
            // An item that never closed ends where the next one starts.
            if let Some(mut open) = self.item.take() {
                self.feed.malformed.get_or_insert_with(|| {
                    "an item was not closed before the next one".to_string()
                });
                self.close_open_fields(&mut open, before);
                self.finish_item(open);
            }
            let kept = self.feed.items.len() < self.cap;
            let mut item = Item {
                language: lang,
                ..Item::default()
            };
            if kept {
                item.base = self.base().cloned();
            }
            let open = Box::new(OpenItem {
                item,
                is_entry: lname == "entry",
                kept,
                author_name: None,
                author_email: None,
                custom_name: None,
            });
            if empty {
                // `<item/>`: an item all the same, with nothing in it.
                self.finish_item(open);
                return;
            }
            self.item = Some(open);
            self.stack.clear();
            self.names.clear();
            self.overflow = 0;
            self.buf.clear();
            self.feed_field = None;
            return;
        }

        if self.item.is_some() {
            self.start_in_item(e, empty, after, qname, lname, vocab, own_base.as_ref());
            return;
        }

        // Outside items: the channel's own fields.
        if let Some(f) = self.feed_field.as_mut() {
            f.children = true;
            return;
        }
        if lname == "channel" && vocab == Vocab::Core && !empty {
            self.channel_at = Some(depth);
        }
        if depth <= 1
            && matches!(lname, "rss" | "feed" | "rdf" | "channel")
            && let Some(l) = lang
        {
            self.root_lang.get_or_insert(l);
        }
        let is_feed_child = depth == 1 || self.channel_at.is_some_and(|c| c + 1 == depth);
        if !is_feed_child || vocab != Vocab::Core {
            return;
        }
        let field = match lname {
            "title" => FeedField::Title,
            "link" => {
                if let Some(href) = attr_ref(e, "href") {
                    let rel = attr_ref(e, "rel");
                    if rel
                        .as_deref()
                        .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
                        && self.feed.link.is_none()
                    {
                        let base = own_base.as_ref().or(self.base());
                        self.feed.link = Some(resolve(&href, base));
                    }
                    return;
                }
                FeedField::Link
            }
            "language" => FeedField::Language,
            "ttl" => FeedField::Ttl,
            "generator" => FeedField::Generator,
            "lastBuildDate" | "updated" | "modified" => FeedField::Built,
            "pubDate" | "date" => FeedField::Dated,
            _ => return,
        };
        if empty {
            return;
        }
        let (markup, xhtml) = if field == FeedField::Title {
            markup_of(e, Markup::Loose)
        } else {
            (Markup::Loose, false)
        };
        self.buf.clear();
        self.feed_field = Some(OpenFeedField {
            depth,
            field,
            markup,
            xhtml,
            raw_from: after,
            children: false,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn start_in_item(
        &mut self,
        e: &BytesStart<'_>,
        empty: bool,
        after: usize,
        qname: &str,
        lname: &str,
        vocab: Vocab,
        own_base: Option<&Url>,
    ) {
        let level = self.stack.len() + self.overflow;
        let Some(open) = self.item.as_mut() else {
            return;
        };
        if !open.kept {
            if !empty {
                self.overflow += 1;
            }
            return;
        }
        if let Some(first) = self.stack.first_mut() {
            first.children = true;
        }
        let base = own_base.or(self.bases.last().map(|(_, u)| u));
        let item = &mut open.item;
        let mut field = Field::Ignored;
        let mut markup = Markup::Loose;
        let mut xhtml = false;
        let mut not_link = false;
        match vocab {
            Vocab::Event => {
                if let Some(f) = event_field(lname) {
                    field = Field::Event(f);
                }
            }
            Vocab::LibCal => {
                self.feed.platform.get_or_insert("libcal");
                if let Some(f) = libcal_field(lname) {
                    field = Field::Event(f);
                }
            }
            Vocab::Trumba => {
                // Outlook's `x-microsoft:` elements appear elsewhere too: only Trumba's own
                // name the platform.
                if lname != "cdo-alldayevent" {
                    self.feed.platform.get_or_insert("trumba");
                }
                if let Some(f) = trumba_field(lname) {
                    if f == EventField::Custom {
                        open.custom_name = attr(e, "name");
                    }
                    field = Field::Event(f);
                }
            }
            Vocab::Media => match lname {
                "content" => {
                    if let Some(url) = attr_ref(e, "url") {
                        let url = resolve(&url, base);
                        let is_image = attr_ref(e, "medium").is_some_and(|m| m == "image")
                            || attr_ref(e, "type").is_some_and(|t| t.starts_with("image/"));
                        if is_image && item.image.is_none() {
                            item.image = Some(url);
                        } else if item.other_urls.len() < MAX_OTHER_URLS {
                            item.other_urls.push(url);
                        }
                    }
                }
                "thumbnail" if item.image.is_none() => {
                    item.image = attr_ref(e, "url").map(|u| resolve(&u, base));
                }
                _ => {}
            },
            Vocab::Core if level == 0 => match lname {
                "title" => {
                    field = Field::Title;
                    (markup, xhtml) = markup_of(e, Markup::Loose);
                }
                "link" => match attr_pair(e, "href", "rel") {
                    (Some(href), rel) => {
                        let href = resolve(&href, base);
                        let rel = rel.map(|r| Rel::of(&r));
                        match rel {
                            None | Some(Rel::Alternate) if item.link.is_none() => {
                                item.link = Some(href);
                            }
                            Some(Rel::Enclosure) => {
                                let is_image =
                                    attr_ref(e, "type").is_some_and(|t| t.starts_with("image/"));
                                if is_image && item.image.is_none() {
                                    item.image = Some(href);
                                } else if item.other_urls.len() < MAX_OTHER_URLS {
                                    item.other_urls.push(href);
                                }
                            }
                            Some(Rel::Related) if item.other_urls.len() < MAX_OTHER_URLS => {
                                item.other_urls.push(href);
                            }
                            _ => {}
                        }
                    }
                    (None, _) => field = Field::Link,
                },
                "guid" => {
                    field = Field::Guid;
                    not_link =
                        attr_ref(e, "isPermaLink").is_some_and(|v| v.eq_ignore_ascii_case("false"));
                }
                "id" => {
                    field = Field::Guid;
                    not_link = true;
                }
                "description" => {
                    field = Field::Summary;
                    markup = Markup::Html;
                }
                "summary" => {
                    field = Field::Summary;
                    let default = if open.is_entry {
                        Markup::Loose
                    } else {
                        Markup::Html
                    };
                    (markup, xhtml) = markup_of(e, default);
                }
                "encoded" => {
                    field = Field::Content;
                    markup = Markup::Html;
                }
                "content" => {
                    let default = if open.is_entry {
                        Markup::Text
                    } else {
                        Markup::Html
                    };
                    let (ty, src) = attr_pair(e, "type", "src");
                    (markup, xhtml) = markup_from(ty, default);
                    if let Some(src) = src {
                        if item.other_urls.len() < MAX_OTHER_URLS {
                            item.other_urls.push(resolve(&src, base));
                        }
                    } else {
                        field = Field::Content;
                    }
                }
                "pubdate" | "published" | "issued" | "date" | "created" => {
                    field = Field::Published;
                }
                "updated" | "modified" => field = Field::Updated,
                "author" | "creator" => field = Field::Author,
                "category" | "subject" => {
                    let (label, term) = attr_pair(e, "label", "term");
                    let label = label.or(term);
                    match label {
                        Some(l) => {
                            if item.categories.len() < MAX_CATEGORIES {
                                item.categories.push(l.into_owned());
                            }
                        }
                        None => field = Field::Category,
                    }
                }
                "language" => field = Field::Language,
                "enclosure" => {
                    if let Some(url) = attr_ref(e, "url") {
                        let url = resolve(&url, base);
                        let is_image = attr_ref(e, "type").is_some_and(|t| t.starts_with("image/"));
                        if is_image && item.image.is_none() {
                            item.image = Some(url);
                        } else if item.other_urls.len() < MAX_OTHER_URLS {
                            item.other_urls.push(url);
                        }
                    }
                }
                _ => {}
            },
            Vocab::Core => {
                // Atom person constructs: `<author><name>` and `<email>`.
                if level == 1 && self.stack.first().is_some_and(|o| o.field == Field::Author) {
                    field = match lname {
                        "name" => Field::AuthorName,
                        "email" => Field::AuthorEmail,
                        _ => Field::Ignored,
                    };
                }
            }
            Vocab::Other => {}
        }
        if empty {
            return;
        }
        if self.overflow > 0 || self.stack.len() >= MAX_ITEM_STACK {
            self.overflow += 1;
            return;
        }
        if self.stack.is_empty() {
            // Markup inside a field (unescaped HTML) keeps adding to that field's text.
            self.buf.clear();
        }
        self.names.push_str(qname);
        self.stack.push(Open {
            name_end: self.names.len(),
            text_from: self.buf.len(),
            raw_from: after,
            field,
            markup,
            xhtml,
            not_link,
            children: false,
        });
    }

    fn end(&mut self, qname: &str, before: usize) {
        let depth = self.depth.saturating_sub(1);
        self.depth = depth;
        if self.channel_at.is_some_and(|c| c >= depth) {
            self.channel_at = None;
        }
        // The element's own `xml:base` still applies to its value; it goes out of scope after.
        self.end_element(qname, before, depth);
        while self.bases.last().is_some_and(|(d, _)| *d >= depth) {
            self.bases.pop();
        }
    }

    fn end_element(&mut self, qname: &str, before: usize, depth: usize) {
        let local = local_of(qname);
        if let Some(mut open) = self.item.take() {
            let closes_item = (local.eq_ignore_ascii_case("item") && !open.is_entry)
                || (local.eq_ignore_ascii_case("entry") && open.is_entry);
            if closes_item && self.overflow == 0 {
                if !self.stack.is_empty() {
                    open.item.broken = true;
                }
                self.finish_item(open);
                return;
            }
            if self.overflow > 0 {
                self.overflow -= 1;
            } else {
                self.end_in_item(&mut open, qname, before);
            }
            self.item = Some(open);
            return;
        }
        if let Some(f) = self.feed_field.take() {
            if depth > f.depth {
                self.feed_field = Some(f);
                return;
            }
            let value = field_value(self.text, &self.buf, 0, &FieldShape::of_feed(&f), before);
            let value = value.trim();
            if !value.is_empty() {
                let feed = &mut self.feed;
                match f.field {
                    FeedField::Title => {
                        if feed.title.is_none() {
                            feed.title = Some(Content {
                                value: value.to_string(),
                                markup: f.markup,
                            });
                        }
                    }
                    FeedField::Link => {
                        if feed.link.is_none() {
                            feed.link = Some(resolve(value, self.bases.last().map(|(_, u)| u)));
                        }
                    }
                    FeedField::Language => set(&mut feed.language, value),
                    FeedField::Ttl => {
                        if feed.ttl.is_none() {
                            feed.ttl = value.parse().ok();
                        }
                    }
                    FeedField::Generator => set(&mut feed.generator, value),
                    FeedField::Built => set(&mut feed.updated, value),
                    FeedField::Dated => set(&mut feed.published, value),
                }
            }
            self.buf.clear();
        }
    }

    fn end_in_item(&mut self, open: &mut OpenItem, qname: &str, before: usize) {
        if !open.kept {
            return;
        }
        // The innermost open element of that name; anything opened inside it and left open
        // (unescaped HTML, a typo) closes with it.
        let mut found = None;
        for (i, o) in self.stack.iter().enumerate().rev() {
            let name_start = if i == 0 {
                0
            } else {
                self.stack[i - 1].name_end
            };
            if self.names.get(name_start..o.name_end) == Some(qname) {
                found = Some(i);
                break;
            }
        }
        let Some(at) = found else {
            // An end tag nothing opened.
            open.item.broken = true;
            return;
        };
        if at + 1 != self.stack.len() {
            open.item.broken = true;
        }
        let o = &self.stack[at];
        let shape = FieldShape {
            markup: o.markup,
            xhtml: o.xhtml,
            children: o.children && at == 0,
            raw_from: o.raw_from,
        };
        let value = field_value(self.text, &self.buf, o.text_from, &shape, before);
        let value = value.trim();
        let (field, markup, not_link) = (o.field, o.markup, o.not_link);
        let base = self.bases.last().map(|(_, u)| u);
        record(open, field, markup, not_link, value, base);
        let name_start = if at == 0 {
            0
        } else {
            self.stack[at - 1].name_end
        };
        self.stack.truncate(at);
        self.names.truncate(name_start);
        if self.stack.is_empty() {
            self.buf.clear();
        }
    }

    /// Records the fields still open in an item that ends without its end tag, at `end`.
    fn close_open_fields(&mut self, open: &mut OpenItem, end: usize) {
        if !self.stack.is_empty() {
            open.item.broken = true;
        }
        while let Some(last) = self.stack.len().checked_sub(1) {
            let name_start = if last == 0 {
                0
            } else {
                self.stack[last - 1].name_end
            };
            let qname = self.names[name_start..].to_string();
            self.end_in_item(open, &qname, end);
        }
    }

    fn finish_item(&mut self, open: Box<OpenItem>) {
        self.feed.total_items += 1;
        self.stack.clear();
        self.names.clear();
        self.overflow = 0;
        self.buf.clear();
        if open.kept {
            self.feed.items.push(open.item);
        }
    }
}

/// What decides a field's value: its markup and whether it has child elements.
struct FieldShape {
    markup: Markup,
    xhtml: bool,
    children: bool,
    raw_from: usize,
}

impl FieldShape {
    fn of_feed(f: &OpenFeedField) -> FieldShape {
        FieldShape {
            markup: f.markup,
            xhtml: f.xhtml,
            children: f.children,
            raw_from: f.raw_from,
        }
    }
}

/// The value of a field that ends at `end` in `text`: for HTML with child elements (XHTML, or
/// HTML written unescaped) the markup as written; otherwise its text.
fn field_value<'a>(
    text: &'a str,
    buf: &'a str,
    text_from: usize,
    shape: &FieldShape,
    end: usize,
) -> &'a str {
    if shape.markup == Markup::Html
        && shape.children
        && end > shape.raw_from
        && end - shape.raw_from <= MAX_RAW_BYTES
        && let Some(raw) = text.get(shape.raw_from..end)
    {
        return if shape.xhtml {
            unwrap_xhtml_div(raw)
        } else {
            raw
        };
    }
    buf.get(text_from.min(buf.len())..).unwrap_or_default()
}

fn record(
    open: &mut OpenItem,
    field: Field,
    markup: Markup,
    not_link: bool,
    value: &str,
    base: Option<&Url>,
) {
    let item = &mut open.item;
    match field {
        Field::Ignored => {}
        Field::AuthorName => set(&mut open.author_name, value),
        Field::AuthorEmail => set(&mut open.author_email, value),
        Field::Author => {
            let name = open.author_name.take();
            let email = open.author_email.take();
            if item.author.is_none() {
                item.author = name.or(email).or_else(|| {
                    let mut v = None;
                    set(&mut v, value);
                    v
                });
            }
        }
        _ if value.is_empty() => {}
        Field::Title => {
            if item.title.is_none() {
                item.title = Some(Content {
                    value: value.to_string(),
                    markup,
                });
            }
        }
        Field::Content => {
            if item.content.is_none() {
                item.content = Some(Content {
                    value: value.to_string(),
                    markup,
                });
                if base.is_some() {
                    item.base = base.cloned();
                }
            }
        }
        Field::Summary => {
            if item.summary.is_none() {
                item.summary = Some(Content {
                    value: value.to_string(),
                    markup,
                });
            }
        }
        Field::Link => {
            if item.link.is_none() {
                item.link = Some(resolve(value, base));
            }
        }
        Field::Guid => {
            if item.guid.is_none() {
                item.guid = Some(value.to_string());
                item.guid_is_link = !not_link;
            }
        }
        Field::Published => set(&mut item.published, value),
        Field::Updated => set(&mut item.updated, value),
        Field::Category => {
            if item.categories.len() < MAX_CATEGORIES {
                item.categories.push(value.to_string());
            }
        }
        Field::Language => set(&mut item.language, value),
        Field::Event(EventField::Audience) => {
            let slot = &mut item.event.audience;
            match slot {
                None => *slot = Some(value.to_string()),
                Some(a) if a.len() < 1024 && !a.split(", ").any(|x| x == value) => {
                    a.push_str(", ");
                    a.push_str(value);
                }
                Some(_) => {}
            }
        }
        Field::Event(EventField::Custom) => {
            if let Some(name) = open.custom_name.take()
                && item.event.custom.len() < MAX_CUSTOM_FIELDS
            {
                item.event.custom.push((name, value.to_string()));
            }
        }
        Field::Event(f) => {
            let ev = &mut item.event;
            let slot = match f {
                EventField::Start => &mut ev.start,
                EventField::End => &mut ev.end,
                EventField::Location => &mut ev.location,
                EventField::Organizer => &mut ev.organizer,
                EventField::Kind => &mut ev.kind,
                EventField::Price => &mut ev.price,
                EventField::Currency => &mut ev.currency,
                EventField::Image => &mut ev.image,
                EventField::Date => &mut ev.date,
                EventField::Campus => &mut ev.campus,
                EventField::EventId => &mut ev.event_id,
                EventField::LocalStart => &mut ev.local_start,
                EventField::LocalEnd => &mut ev.local_end,
                EventField::AllDay => &mut ev.all_day,
                EventField::WebLink => &mut ev.web_link,
                // Handled above.
                EventField::Audience | EventField::Custom => return,
            };
            set(slot, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn read_str(xml: &str) -> Feed {
        read(xml, None, 100)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// One pass for two names answers what one search per name answers, however the
        /// attributes are written (repeated, empty, unquoted, broken).
        #[test]
        fn attr_pair_is_two_attr_refs(
            attrs in prop::collection::vec(
                prop::sample::select(vec![
                    " href=\"x\"", " HREF='y'", " rel=\"alternate\"", " rel=\"\"", " href=\"\"",
                    " href= \" z \"", " rel", " =\"v\"", " href=unquoted", " term=\"T&amp;S\"",
                    " label=\" \"", " label=\"L\"", " type=\"html\"", " src=\"/s\"", " x:rel=\"r\"",
                    " \"", " href=\"a\nb\"", "  ", "=", " rel='via' ", " Term=\"t\"",
                ]),
                0..6,
            ),
            pair in prop::sample::select(vec![
                ("href", "rel"), ("label", "term"), ("type", "src"),
            ]),
        ) {
            let content = format!("link{}", attrs.concat());
            let e = BytesStart::from_content(content.as_str(), 4);
            let (a, b) = attr_pair(&e, pair.0, pair.1);
            prop_assert_eq!(a, attr_ref(&e, pair.0));
            prop_assert_eq!(b, attr_ref(&e, pair.1));
        }

        /// `rel` and `type` read ignoring ASCII case answer what matching lowercased copies
        /// answered.
        #[test]
        fn rel_and_type_match_their_lowercased_copies(
            word in prop::sample::select(vec![
                "alternate", "enclosure", "related", "via", "self", "", "alternates", "vía",
                "text/html", "xhtml", "application/xhtml+xml", "HTML", "text", "htm", "İhtml",
            ]),
            upper in prop::collection::vec(any::<bool>(), 24),
        ) {
            let v: String = word
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let lower = v.to_ascii_lowercase();
            let want_rel = match lower.as_str() {
                "alternate" => Rel::Alternate,
                "enclosure" => Rel::Enclosure,
                "related" | "via" => Rel::Related,
                _ => Rel::Other,
            };
            prop_assert_eq!(Rel::of(&v), want_rel);
            prop_assert_eq!(contains_ci(&v, "xhtml"), lower.contains("xhtml"));
            prop_assert_eq!(contains_ci(&v, "html"), lower.contains("html"));
        }
    }

    #[test]
    fn names_split_like_the_str_methods() {
        for q in [
            "",
            ":",
            "a",
            "ev:startdate",
            "a:b:c",
            "x:",
            ":y",
            "é:ü",
            "pubDate",
            "a::b",
        ] {
            assert_eq!(local_of(q), q.rsplit(':').next().unwrap_or(q), "{q}");
            assert_eq!(
                prefix_of(q),
                q.split_once(':').map_or("", |(p, _)| p),
                "{q}"
            );
        }
        for q in [
            "item",
            "pubDate",
            "PUBDATE",
            "e",
            "averyveryverylongelementnamex",
            "Ünï",
        ] {
            let mut buf = [0u8; 24];
            let want = if q.len() <= 24 {
                q.to_ascii_lowercase()
            } else {
                String::new()
            };
            assert_eq!(lower_local(q, &mut buf), want, "{q}");
        }
    }

    #[test]
    fn attribute_text_is_searched_like_contains() {
        for content in [
            "item",
            "feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\"",
            "entry xml:base=\"/x/\"",
            "a x=\"xm\" y=\"xml:bas\"",
            "a é=\"xml:lang\"",
            "link rel=\"alternate\" href=\"https://x.org/xmlns\"",
            "x xml:lang=\"fr\" xml:base=\"b\" xmlns:ev=\"e\"",
            "x a=\"xxml:langxmlnsx\"",
            "x xmln=\"1\"",
        ] {
            let name_len = content.find(' ').unwrap_or(content.len());
            let e = BytesStart::from_content(content, name_len);
            for needle in ["xmlns", "xml:base", "xml:lang", "x", ""] {
                assert_eq!(
                    has_attr_text(&e, needle),
                    e.attributes_raw().contains(needle),
                    "{content} / {needle}"
                );
            }
            let xml = xml_attrs(&e);
            assert_eq!(
                (xml.xmlns, xml.base, xml.lang),
                (
                    has_attr_text(&e, "xmlns"),
                    has_attr_text(&e, "xml:base"),
                    has_attr_text(&e, "xml:lang"),
                ),
                "{content}"
            );
        }
    }

    fn text(c: &Option<Content>) -> Option<&str> {
        c.as_ref().map(|c| c.value.as_str())
    }

    #[test]
    fn rss2_channel_items_and_event_fields_are_read_in_order() {
        let xml = r#"<rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel><title>T</title>
            <link>https://ce.example.org/</link><language>en</language><ttl>60</ttl>
            <image><title>not the feed title</title></image>
            <item><title>A</title><ev:startdate>2026-03-05T14:00:00-05:00</ev:startdate><ev:location>Room 1</ev:location>
              <category>One</category><category>Two</category><pubDate>Mon, 04 Jan 2027 10:00:00 -0500</pubDate></item>
            <item><title>B &amp; &xxe;</title><guid>b</guid></item></channel></rss>"#;
        let f = read_str(xml);
        assert_eq!(f.root.as_deref(), Some("rss"));
        assert_eq!(text(&f.title), Some("T"));
        assert_eq!(f.link.as_deref(), Some("https://ce.example.org/"));
        assert_eq!(f.language.as_deref(), Some("en"));
        assert_eq!(f.ttl, Some(60));
        assert_eq!(f.items.len(), 2);
        let a = &f.items[0];
        assert_eq!(a.event.start.as_deref(), Some("2026-03-05T14:00:00-05:00"));
        assert_eq!(a.event.location.as_deref(), Some("Room 1"));
        assert_eq!(a.categories, ["One", "Two"]);
        assert_eq!(
            a.published.as_deref(),
            Some("Mon, 04 Jan 2027 10:00:00 -0500")
        );
        assert_eq!(text(&f.items[1].title), Some("B & &xxe;"));
        assert_eq!(f.items[1].guid.as_deref(), Some("b"));
        assert!(f.items[1].guid_is_link);
        assert!(f.malformed.is_none());
        assert!(!a.broken);
    }

    #[test]
    fn libcal_and_trumba_elements_are_kept_and_name_their_platform() {
        let libcal = r#"<rss xmlns:libcal="https://libcal.com/rss_xmlns.php"><channel><item>
            <libcal:date>2027-03-02</libcal:date><libcal:start>14:00:00</libcal:start>
            <libcal:location>Room 1</libcal:location><libcal:campus>Main</libcal:campus>
            <libcal:audience>Teens</libcal:audience><libcal:audience>Adults</libcal:audience>
            <libcal:audience>Teens</libcal:audience><libcal:eventid>77</libcal:eventid>
            </item></channel></rss>"#;
        let f = read_str(libcal);
        assert_eq!(f.platform, Some("libcal"));
        let ev = &f.items[0].event;
        assert_eq!(ev.date.as_deref(), Some("2027-03-02"));
        assert_eq!(ev.start.as_deref(), Some("14:00:00"));
        assert_eq!(ev.location.as_deref(), Some("Room 1"));
        assert_eq!(ev.campus.as_deref(), Some("Main"));
        assert_eq!(ev.audience.as_deref(), Some("Teens, Adults"));
        assert_eq!(ev.event_id.as_deref(), Some("77"));

        let trumba = r#"<rss xmlns:xCal="urn:ietf:params:xml:ns:xcal" xmlns:x-trumba="http://schemas.trumba.com/rss/x-trumba"><channel><item>
            <xCal:dtstart>2027-03-02T19:00:00Z</xCal:dtstart>
            <x-trumba:localstart tzAbbr="EST">2027-03-02T14:00:00</x-trumba:localstart>
            <x-trumba:customfield name="Cost" id="1">Free</x-trumba:customfield>
            <x-trumba:customfield id="2">no name</x-trumba:customfield>
            <x-trumba:customfield name="Audience">Public</x-trumba:customfield>
            <x-trumba:weblink>https://e.example.edu/x</x-trumba:weblink>
            </item></channel></rss>"#;
        let f = read_str(trumba);
        assert_eq!(f.platform, Some("trumba"));
        let ev = &f.items[0].event;
        assert_eq!(ev.start.as_deref(), Some("2027-03-02T19:00:00Z"));
        assert_eq!(ev.local_start.as_deref(), Some("2027-03-02T14:00:00"));
        assert_eq!(
            ev.custom,
            [
                ("Cost".to_string(), "Free".to_string()),
                ("Audience".to_string(), "Public".to_string())
            ]
        );
        assert_eq!(ev.web_link.as_deref(), Some("https://e.example.edu/x"));

        // Outlook's all-day flag alone is no Trumba feed.
        let outlook = r#"<rss xmlns:x-microsoft="http://schemas.microsoft.com/x-microsoft"><channel><item>
            <x-microsoft:cdo-alldayevent>true</x-microsoft:cdo-alldayevent></item></channel></rss>"#;
        let f = read_str(outlook);
        assert_eq!(f.platform, None);
        assert_eq!(f.items[0].event.all_day.as_deref(), Some("true"));
    }

    #[test]
    fn entities_cdata_and_html_named_references() {
        let xml = "<rss><channel><item><title>Caf&eacute; &#233;&#xE9; &nbsp;&LT;b&GT; &amp;lt;</title>\
            <description><![CDATA[<p>Fish & chips</p>]]> &lt;b&gt;more&lt;/b&gt;</description></item></channel></rss>";
        let f = read_str(xml);
        let it = &f.items[0];
        assert_eq!(text(&it.title), Some("Café éé \u{a0}&LT;b&GT; &lt;"));
        let d = it.summary.as_ref().expect("description");
        assert_eq!(d.markup, Markup::Html);
        assert_eq!(d.value, "<p>Fish & chips</p> <b>more</b>");
    }

    #[test]
    fn atom_links_text_constructs_and_xml_base() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example.org/feeds/">
            <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Feed <b>one</b></div></title>
            <link rel="self" href="/self.xml"/><link href="../"/>
            <entry xml:base="/courses/">
              <title type="html">A &amp;amp; B</title><id>tag:x,2026:1</id>
              <link rel="alternate" href="appraisal"/><link rel="enclosure" type="image/png" href="i.png"/>
              <link rel="related" href="https://other.example.org/"/><link rel="replies" href="r"/>
              <author><name>Office</name><email>o@example.org</email></author>
              <category term="t" label="Label"/><category term="term"/>
              <summary>Short.</summary>
              <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>See <a href="s">it</a></p></div></content>
              <published>2026-01-20T10:00:00Z</published><updated>2026-02-01T10:00:00Z</updated>
            </entry></feed>"#;
        let f = read_str(xml);
        let title = f.title.as_ref().expect("title");
        assert_eq!(title.value, "Feed <b>one</b>");
        assert_eq!(title.markup, Markup::Html);
        assert_eq!(f.link.as_deref(), Some("https://a.example.org/"));
        let e = &f.items[0];
        assert_eq!(text(&e.title), Some("A &amp; B"));
        assert_eq!(e.title.as_ref().map(|t| t.markup), Some(Markup::Html));
        assert_eq!(e.guid.as_deref(), Some("tag:x,2026:1"));
        assert!(!e.guid_is_link);
        assert_eq!(
            e.link.as_deref(),
            Some("https://a.example.org/courses/appraisal")
        );
        assert_eq!(
            e.image.as_deref(),
            Some("https://a.example.org/courses/i.png")
        );
        assert_eq!(e.other_urls, ["https://other.example.org/"]);
        assert_eq!(e.author.as_deref(), Some("Office"));
        assert_eq!(e.categories, ["Label", "term"]);
        assert_eq!(text(&e.summary), Some("Short."));
        assert_eq!(e.summary.as_ref().map(|s| s.markup), Some(Markup::Loose));
        assert_eq!(text(&e.content), Some(r#"<p>See <a href="s">it</a></p>"#));
        assert_eq!(
            e.base.as_ref().map(Url::as_str),
            Some("https://a.example.org/courses/")
        );
        assert_eq!(e.published.as_deref(), Some("2026-01-20T10:00:00Z"));
        assert_eq!(e.updated.as_deref(), Some("2026-02-01T10:00:00Z"));
    }

    #[test]
    fn rdf_and_atom03_and_prefixed_roots() {
        let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel rdf:about="x"><title>R</title><link>https://r.example.org/</link><dc:language>fr</dc:language></channel>
            <image><title>logo</title></image>
            <item rdf:about="1"><title>One</title><link>https://r.example.org/1</link><dc:date>2026-01-15T12:00:00Z</dc:date><dc:creator>Jane</dc:creator><dc:subject>S</dc:subject></item>
            </rdf:RDF>"#;
        let f = read_str(rdf);
        assert_eq!(f.root.as_deref(), Some("rdf"));
        assert_eq!(text(&f.title), Some("R"));
        assert_eq!(f.language.as_deref(), Some("fr"));
        let it = &f.items[0];
        assert_eq!(it.published.as_deref(), Some("2026-01-15T12:00:00Z"));
        assert_eq!(it.author.as_deref(), Some("Jane"));
        assert_eq!(it.categories, ["S"]);

        let atom03 = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>
            <entry><title>E</title><link rel="alternate" type="text/html" href="https://o.example.org/e"/>
            <issued>2026-01-02T00:00:00Z</issued><modified>2026-01-03T00:00:00Z</modified>
            <content type="text/html" mode="escaped">&lt;p&gt;Hi.&lt;/p&gt;</content></entry></feed>"#;
        let f = read_str(atom03);
        let e = &f.items[0];
        assert_eq!(e.link.as_deref(), Some("https://o.example.org/e"));
        assert_eq!(e.published.as_deref(), Some("2026-01-02T00:00:00Z"));
        assert_eq!(e.updated.as_deref(), Some("2026-01-03T00:00:00Z"));
        assert_eq!(
            e.content.as_ref(),
            Some(&Content {
                value: "<p>Hi.</p>".into(),
                markup: Markup::Html
            })
        );

        let prefixed = r#"<r:rss xmlns:r="urn:x"><r:channel><r:title>P</r:title><r:item><r:title>I</r:title></r:item></r:channel></r:rss>"#;
        let f = read_str(prefixed);
        assert_eq!(text(&f.title), Some("P"));
        assert_eq!(text(&f.items[0].title), Some("I"));
    }

    #[test]
    fn a_broken_item_is_marked_and_its_neighbours_are_whole() {
        let xml = "<rss><channel><item><title>One</title></item>\
            <item><title>Two <b>bold</title><link>https://e.example.org/2?a=1&b=2</link></item>\
            <item><description>x</span> y</description><title>Three</title></item></channel></rss>";
        let f = read_str(xml);
        assert_eq!(f.items.len(), 3);
        assert!(!f.items[0].broken);
        assert!(f.items[1].broken);
        assert_eq!(text(&f.items[1].title), Some("Two bold"));
        assert_eq!(
            f.items[1].link.as_deref(),
            Some("https://e.example.org/2?a=1&b=2")
        );
        assert!(f.items[2].broken);
        assert_eq!(text(&f.items[2].title), Some("Three"));
    }

    #[test]
    fn unescaped_html_in_a_description_is_kept_as_markup() {
        let xml = "<rss><channel><item><description><p>Hello <a href=\"/x\">there</a></p></description>\
            <content:encoded xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><![CDATA[<p>Full</p>]]></content:encoded></item></channel></rss>";
        let f = read_str(xml);
        assert_eq!(
            text(&f.items[0].summary),
            Some("<p>Hello <a href=\"/x\">there</a></p>")
        );
        assert_eq!(text(&f.items[0].content), Some("<p>Full</p>"));
    }

    #[test]
    fn markup_kept_as_written_is_cut_right_after_a_byte_order_mark() {
        // The decoder removes one BOM; a second one reaches the reader, which skips it.
        let xml = "\u{feff}<rss><channel><item><description><p>Hi <b>there</b></p></description>\
            </item></channel></rss>";
        let f = read_str(xml);
        assert_eq!(text(&f.items[0].summary), Some("<p>Hi <b>there</b></p>"));
    }

    #[test]
    fn unclosed_items_end_at_the_next_item_or_the_document() {
        let xml = "<rss><channel><item><title>A</title><item><title>B</title></item><item><title>C";
        let f = read_str(xml);
        assert_eq!(f.items.len(), 3);
        assert_eq!(text(&f.items[2].title), Some("C"));
        assert!(f.malformed.is_some());
    }

    #[test]
    fn an_atom_entry_document_is_one_item_and_a_cut_cdata_keeps_its_item() {
        let f = read_str(
            r#"<entry xmlns="http://www.w3.org/2005/Atom"><title>Alone</title><id>urn:x</id></entry>"#,
        );
        assert_eq!(f.root.as_deref(), Some("entry"));
        assert_eq!(f.title, None);
        assert_eq!(f.items.len(), 1);
        assert_eq!(text(&f.items[0].title), Some("Alone"));

        let f = read_str("<rss><channel><title>t</title><item><title><![CD");
        assert_eq!(f.items.len(), 1);
        assert!(f.items[0].broken);
        assert!(f.malformed.is_some());
    }

    #[test]
    fn items_past_the_cap_are_counted_not_kept() {
        let mut xml = String::from("<rss><channel>");
        for i in 0..10 {
            xml.push_str(&format!("<item><title>{i}</title></item>"));
        }
        xml.push_str("</channel></rss>");
        let f = read(&xml, None, 3);
        assert_eq!(f.items.len(), 3);
        assert_eq!(f.total_items, 10);
    }

    #[test]
    fn guid_permalink_flag_and_media() {
        let xml = r#"<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item>
            <guid isPermaLink="false">x</guid><enclosure url="https://e.example.org/a.mp3" type="audio/mpeg"/>
            <media:content url="https://e.example.org/p.jpg" medium="image"/><media:title>not the title</media:title>
            </item></channel></rss>"#;
        let f = read_str(xml);
        let it = &f.items[0];
        assert!(!it.guid_is_link);
        assert_eq!(it.title, None);
        assert_eq!(it.other_urls, ["https://e.example.org/a.mp3"]);
        assert_eq!(it.image.as_deref(), Some("https://e.example.org/p.jpg"));
    }
}
