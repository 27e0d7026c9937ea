//! The events of an XML document, as quick-xml's `Reader::from_str` gives them with the
//! reader's configuration, for text that is already a `str`.
//!
//! quick-xml checks every piece of text and markup it hands out as UTF-8 again and keeps a
//! stack of open element names the reader never asks about. The common events (text,
//! references, start, empty and end tags, CDATA) are found here with the same rules, lent from
//! the text without checks: 6-7% fewer instructions per RSS or Atom item. Anything rarer
//! (comments, processing instructions, the XML declaration, DOCTYPE, and every syntax error)
//! is handed to a quick-xml reader started at that `<`: its state there depends on nothing
//! before, so the event, its length and the error are exactly the whole-document reader's.
//!
//! The property tests below hold the two to the same events, positions and errors.

use memchr::{memchr2, memchr3, memchr3_iter, memmem};
use quick_xml::Reader;
use quick_xml::events::{BytesCData, BytesEnd, BytesRef, BytesStart, BytesText, Event};

/// What the next byte starts, as quick-xml's parse states say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Text up to markup or a reference.
    Text,
    /// A `&` reference (or a dangling `&`, which is text).
    Ref,
    /// A `<`.
    Markup,
    Done,
}

pub(super) struct Tokens<'a> {
    /// The document without a leading byte order mark, which quick-xml skips without
    /// counting it in its positions.
    text: &'a str,
    at: usize,
    next: Next,
}

/// The configuration the feed reader parses with (tolerant: no end-name checks, unmatched
/// end tags and dangling `&` allowed, text untrimmed, empty elements reported as such).
pub(super) fn configure(reader: &mut Reader<&[u8]>) {
    let cfg = reader.config_mut();
    cfg.check_end_names = false;
    cfg.allow_unmatched_ends = true;
    cfg.allow_dangling_amp = true;
    cfg.check_comments = false;
    cfg.expand_empty_elements = false;
    cfg.trim_text(false);
}

impl<'a> Tokens<'a> {
    pub(super) fn new(text: &'a str) -> Tokens<'a> {
        Tokens {
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            at: 0,
            next: Next::Text,
        }
    }

    /// The text the positions count in: the document without its byte order mark.
    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// Bytes consumed so far (quick-xml's `buffer_position`).
    pub(super) fn position(&self) -> usize {
        self.at
    }

    pub(super) fn read_event(&mut self) -> Result<Event<'a>, quick_xml::Error> {
        loop {
            let rest = self.text.get(self.at..).unwrap_or_default();
            let bytes = rest.as_bytes();
            match self.next {
                Next::Done => return Ok(Event::Eof),
                Next::Text => match memchr2(b'<', b'&', bytes) {
                    Some(0) => {
                        self.next = if bytes[0] == b'<' {
                            Next::Markup
                        } else {
                            Next::Ref
                        };
                    }
                    Some(i) => {
                        self.next = if bytes[i] == b'<' {
                            Next::Markup
                        } else {
                            Next::Ref
                        };
                        self.at += i;
                        return Ok(Event::Text(BytesText::from_escaped(&rest[..i])));
                    }
                    None => {
                        self.next = Next::Done;
                        self.at += rest.len();
                        return Ok(if rest.is_empty() {
                            Event::Eof
                        } else {
                            Event::Text(BytesText::from_escaped(rest))
                        });
                    }
                },
                Next::Ref => {
                    // `rest` starts with `&`.
                    let after = bytes.get(1..).unwrap_or_default();
                    return Ok(match memchr3(b';', b'&', b'<', after) {
                        Some(i) if after[i] == b';' => {
                            self.next = Next::Text;
                            self.at += i + 2;
                            Event::GeneralRef(BytesRef::new(&rest[1..i + 1]))
                        }
                        // A dangling `&`: text up to the next `&` or `<`.
                        Some(i) => {
                            self.next = if after[i] == b'&' {
                                Next::Ref
                            } else {
                                Next::Markup
                            };
                            self.at += i + 1;
                            Event::Text(BytesText::from_escaped(&rest[..i + 1]))
                        }
                        None => {
                            self.next = Next::Done;
                            self.at += rest.len();
                            Event::Text(BytesText::from_escaped(rest))
                        }
                    });
                }
                Next::Markup => {
                    self.next = Next::Text;
                    if let Some((event, len)) = markup(rest) {
                        self.at += len;
                        return Ok(event);
                    }
                    return self.hand_over(rest);
                }
            }
        }
    }

    /// Reads the markup at the start of `rest` with quick-xml itself.
    fn hand_over(&mut self, rest: &'a str) -> Result<Event<'a>, quick_xml::Error> {
        let mut reader = Reader::from_str(rest);
        configure(&mut reader);
        let event = reader.read_event();
        self.at += usize::try_from(reader.buffer_position()).unwrap_or(rest.len());
        if matches!(event, Err(_) | Ok(Event::Eof)) {
            self.next = Next::Done;
        }
        event
    }
}

/// The start, empty or end tag or CDATA section at the start of `rest` (which starts with
/// `<`) and its length, when it is complete and one of those; `None` for anything else.
fn markup(rest: &str) -> Option<(Event<'_>, usize)> {
    let bytes = rest.as_bytes();
    match bytes.get(1)? {
        b'/' => {
            let end = tag_end(bytes)?;
            let content = &rest[2..end];
            // Whitespace after the name is dropped, unless there is nothing else.
            let name = match content.bytes().rposition(|b| !is_xml_space(b)) {
                Some(last) => &content[..last + 1],
                None => content,
            };
            Some((Event::End(BytesEnd::new(name)), end + 1))
        }
        b'!' => {
            let body = bytes.strip_prefix(b"<![CDATA[")?;
            let close = memmem::find(body, b"]]>")?;
            let content = &rest[9..9 + close];
            Some((Event::CData(BytesCData::new(content)), 9 + close + 3))
        }
        b'?' => None,
        _ => {
            let end = tag_end(bytes)?;
            let inner = &rest[1..end];
            Some(match inner.strip_suffix('/') {
                Some(content) => (
                    Event::Empty(BytesStart::from_content(content, name_len(content))),
                    end + 1,
                ),
                None => (
                    Event::Start(BytesStart::from_content(inner, name_len(inner))),
                    end + 1,
                ),
            })
        }
    }
}

/// The index of the `>` that closes the tag starting `bytes`, skipping quoted attribute values.
fn tag_end(bytes: &[u8]) -> Option<usize> {
    let mut quote = None;
    for i in memchr3_iter(b'>', b'\'', b'"', bytes) {
        let b = bytes[i];
        match quote {
            None if b == b'>' => return Some(i),
            None => quote = Some(b),
            Some(q) if q == b => quote = None,
            Some(_) => {}
        }
    }
    None
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// Length of the element name: up to the first XML whitespace.
fn name_len(content: &str) -> usize {
    content
        .bytes()
        .position(is_xml_space)
        .unwrap_or(content.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every event (with the position after it) up to and including the end or the first
    /// error, from quick-xml's own reader.
    fn by_quick_xml(text: &str) -> Vec<(String, u64)> {
        let mut reader = Reader::from_str(text);
        configure(&mut reader);
        let mut out = Vec::new();
        loop {
            let event = reader.read_event();
            let last = matches!(event, Err(_) | Ok(Event::Eof));
            out.push((format!("{event:?}"), reader.buffer_position()));
            if last {
                return out;
            }
        }
    }

    fn by_tokens(text: &str) -> Vec<(String, u64)> {
        let mut tokens = Tokens::new(text);
        let mut out = Vec::new();
        loop {
            let event = tokens.read_event();
            let last = matches!(event, Err(_) | Ok(Event::Eof));
            out.push((format!("{event:?}"), tokens.position() as u64));
            if last {
                return out;
            }
        }
    }

    const PIECES: &[&str] = &[
        "<",
        ">",
        "/",
        "!",
        "?",
        "=",
        "\"",
        "'",
        " ",
        "\n",
        "\r\n",
        "\r",
        "\t",
        "&",
        ";",
        "#",
        "[",
        "]",
        "-",
        "item",
        "a:b",
        "title",
        "x",
        "é",
        "\u{feff}",
        "<item>",
        "</item>",
        "</item >",
        "<![CDATA[",
        "]]>",
        "]]",
        "<!--",
        "-->",
        "--",
        "<!---->",
        "<!-->",
        "<?",
        "?>",
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE rss>",
        "<!doctype x [<!ENTITY a 'b>'>]>",
        "<!DOCTYPE>",
        "<!x>",
        "<![",
        "<![CDATA",
        "&amp;",
        "&#38;",
        "&#x26;",
        "&lt",
        "& x;",
        "<a href=\"x>y\">",
        "<a href='it''s'>",
        "<b/>",
        "<c />",
        "<d/ >",
        "</>",
        "<>",
        "</ >",
        "<e\tf='g'/>",
        "<link rel=\"alternate\" href=\"/x\"/>",
    ];

    #[test]
    fn a_typical_feed_gives_the_same_events() {
        let feed = "\u{feff}<?xml version=\"1.0\"?>\n<!-- made by hand -->\n\
            <rss xmlns:ev=\"http://purl.org/rss/1.0/modules/event/\"><channel>\
            <title>A &amp; B</title><item><title>One &lt;b&gt; &hellip; &</title>\
            <link>https://ce.example.org/1?a=1&amp;b=2</link>\
            <description><![CDATA[<p>Cost: $25</p>]]></description>\
            <ev:startdate>2027-01-01T13:00:00-05:00</ev:startdate><enclosure url=\"x\"/>\
            </item></channel></rss>\r\n";
        let want = by_quick_xml(feed);
        assert!(want.len() > 30, "{want:?}");
        assert_eq!(by_tokens(feed), want);
    }

    #[test]
    fn errors_are_quick_xmls() {
        for text in [
            "<a>x</a><",
            "<a b=\"c>",
            "<a b='c>",
            "<![CDATA[x",
            "<!-- x",
            "<!x>",
            "<?pi",
            "<!DOCTYPE",
            "<a",
        ] {
            let want = by_quick_xml(text);
            assert!(
                want.last().is_some_and(|(e, _)| e.starts_with("Err")),
                "{text:?}: {want:?}"
            );
            assert_eq!(by_tokens(text), want, "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn the_events_positions_and_errors_are_quick_xmls(
            pieces in prop::collection::vec(prop::sample::select(PIECES), 0..40),
        ) {
            let text = pieces.concat();
            prop_assert_eq!(by_tokens(&text), by_quick_xml(&text), "{:?}", text);
        }

        #[test]
        fn any_text_gives_quick_xmls_events(text in "\\PC{0,60}") {
            prop_assert_eq!(by_tokens(&text), by_quick_xml(&text), "{:?}", text);
        }
    }
}
