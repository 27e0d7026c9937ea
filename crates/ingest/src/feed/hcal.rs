//! Classic hCalendar inside an item's HTML description (UNL Events and other university
//! calendars): `<abbr class="dtstart" title="2027-03-02T20:00:00Z">`, `dtend`, and the text of
//! the element with class `location`.
//!
//! A linear scan over the tags, never an HTML parser: it runs only for descriptions that
//! contain `dtstart` and items whose format gave no start, and stops at the first of each.

use std::sync::LazyLock;

use memchr::{memchr, memchr2, memmem};

/// What an item description's hCalendar says, as written.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct HCal {
    pub start: Option<String>,
    pub end: Option<String>,
    pub location: Option<String>,
}

/// Text kept for one value.
const MAX_VALUE: usize = 2048;
/// Elements with one of the classes looked at before giving up: each may read up to
/// `4 * MAX_VALUE` bytes of content, so a description of nothing but empty ones stays cheap.
const MAX_CANDIDATES: usize = 32;

/// Whether `html` may hold hCalendar dates: one substring search with a searcher built once
/// (building it per item cost more than the search).
pub(super) fn may_have(html: &str) -> bool {
    static DTSTART: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b"dtstart"));
    DTSTART.find(html.as_bytes()).is_some()
}

/// The first `dtstart`, `dtend` and `location` of `html`.
pub(super) fn read(html: &str) -> HCal {
    let mut found = HCal::default();
    let bytes = html.as_bytes();
    let mut at = 0;
    let mut candidates = 0;
    while let Some(lt) = memchr(b'<', &bytes[at..]).map(|i| at + i) {
        let Some(tag) = tag_at(html, lt) else {
            at = lt + 1;
            continue;
        };
        at = tag.end;
        let Some(class) = attr(tag.attrs, "class") else {
            continue;
        };
        let has = |c: &str| class.split_ascii_whitespace().any(|x| x == c);
        let kind = if has("dtstart") && found.start.is_none() {
            Some(0)
        } else if has("dtend") && found.end.is_none() {
            Some(1)
        } else if has("location") && found.location.is_none() {
            Some(2)
        } else {
            None
        };
        let Some(kind) = kind else { continue };
        candidates += 1;
        if candidates > MAX_CANDIDATES {
            break;
        }
        let value = if kind == 2 {
            None
        } else {
            ["title", "datetime", "value", "content"]
                .iter()
                .find_map(|n| attr(tag.attrs, n))
                .map(|v| htmlize::unescape(v).trim().to_string())
        };
        let value = value
            .or_else(|| {
                (!tag.empty).then(|| {
                    let inner = inner_html(html, tag.end, tag.name);
                    crate::sanitize::html_to_text(inner, 16)
                })
            })
            .filter(|v| !v.is_empty() && v.len() <= MAX_VALUE);
        let slot = match kind {
            0 => &mut found.start,
            1 => &mut found.end,
            _ => &mut found.location,
        };
        *slot = value;
        if found.start.is_some() && found.end.is_some() && found.location.is_some() {
            break;
        }
    }
    found
}

/// A start tag.
struct Tag<'a> {
    name: &'a str,
    attrs: &'a str,
    /// Just past its `>`.
    end: usize,
    /// `<x/>` or a void element: no content.
    empty: bool,
}

/// The start tag at `lt`, if one starts there.
fn tag_at(html: &str, lt: usize) -> Option<Tag<'_>> {
    let rest = html.get(lt + 1..)?;
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')
        .count();
    if name_len == 0 || !rest.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    // The tag ends at the next `>`; a `<` first means it never closed. Tags found this way
    // never overlap, so the scan stays linear whatever the markup (a `>` inside a quoted
    // value, rare in these tags, ends the tag early).
    let close = memchr2(b'<', b'>', rest.as_bytes()).filter(|i| rest.as_bytes()[*i] == b'>')?;
    let name = &rest[..name_len];
    let attrs = &rest[name_len..close];
    let void = ["br", "img", "hr", "input", "meta", "link"]
        .iter()
        .any(|v| name.eq_ignore_ascii_case(v));
    Some(Tag {
        name,
        attrs,
        end: lt + 1 + close + 1,
        empty: void || attrs.trim_end().ends_with('/'),
    })
}

/// The value of attribute `name` in a tag's attribute text.
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let b = attrs.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let key_from = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let key = &attrs[key_from..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            if key.is_empty() {
                i += 1;
            }
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let from = i + 1;
                let to = memchr(q, &b[from..]).map_or(b.len(), |e| from + e);
                i = to + 1;
                &attrs[from..to]
            }
            _ => {
                let from = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &attrs[from..i]
            }
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
    None
}

/// The markup from `from` to the end tag that closes an element named `name` opened just
/// before it (nested ones of the same name counted), or to the end of a bounded stretch.
fn inner_html<'a>(html: &'a str, from: usize, name: &str) -> &'a str {
    let mut limit = (from + 4 * MAX_VALUE).min(html.len());
    while !html.is_char_boundary(limit) {
        limit -= 1;
    }
    let Some(span) = html.get(from..limit) else {
        return "";
    };
    let bytes = span.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(lt) = memchr(b'<', &bytes[at..]).map(|i| at + i) {
        let rest = &span[lt + 1..];
        if let Some(closing) = rest.strip_prefix('/') {
            if starts_with_name(closing, name) {
                if depth == 0 {
                    return &span[..lt];
                }
                depth -= 1;
            }
        } else if starts_with_name(rest, name) && tag_at(span, lt).is_some_and(|t| !t.empty) {
            depth += 1;
        }
        at = lt + 1;
    }
    span
}

fn starts_with_name(s: &str, name: &str) -> bool {
    s.get(..name.len())
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
        && s.as_bytes()
            .get(name.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'-' && *b != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcalendar_values_come_from_title_datetime_or_text() {
        type Case<'a> = (&'a str, &'a str, HCal);
        let hc = |s: Option<&str>, e: Option<&str>, l: Option<&str>| HCal {
            start: s.map(Into::into),
            end: e.map(Into::into),
            location: l.map(Into::into),
        };
        let cases: &[Case<'_>] = &[
            (
                "abbr titles and a nested location",
                r#"<div class="vevent"><abbr class="dtstart" title="2027-03-02T20:00:00Z">March 2, 2 p.m.</abbr>&ndash;<abbr class='dtend' title="2027-03-02T21:30:00Z">3:30</abbr>
                <span class="location"><span class="fn">Love Library</span>, Room <b>221</b></span></div>"#,
                hc(
                    Some("2027-03-02T20:00:00Z"),
                    Some("2027-03-02T21:30:00Z"),
                    Some("Love Library, Room 221"),
                ),
            ),
            (
                "time element, no end, several classes",
                r#"<p>When: <time class="published dtstart" datetime="2027-04-01">April 1</time></p>"#,
                hc(Some("2027-04-01"), None, None),
            ),
            (
                "text content",
                r#"<span class="dtstart">2027-05-05T10:00:00-05:00</span><div class="location">Hall &amp; Annex</div>"#,
                hc(
                    Some("2027-05-05T10:00:00-05:00"),
                    None,
                    Some("Hall & Annex"),
                ),
            ),
            (
                "a class that merely contains the word",
                r#"<span class="not-dtstart" title="x">y</span><span class="dtstarts">z</span>"#,
                hc(None, None, None),
            ),
            (
                "nested elements of the same name",
                r#"<div class="location"><div>East</div> Wing</div><abbr class="dtstart" title="2027-06-01T09:00:00Z"/>"#,
                hc(Some("2027-06-01T09:00:00Z"), None, Some("East Wing")),
            ),
        ];
        for (name, html, want) in cases {
            assert!(may_have(html) || want.start.is_none(), "{name}");
            assert_eq!(read(html), *want, "{name}");
        }
    }

    proptest::proptest! {
        /// Any text, markup-like or not, is scanned without panicking (byte offsets always
        /// on character boundaries).
        #[test]
        fn any_text_is_scanned_without_panicking(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "<", ">", "<abbr class=\"dtstart\" title=\"2027-01-01\">", "</abbr>",
                    "<span class='location'>", "</span>", "é", "ü<", "class=dtend", "=", "\"",
                    "'", " ", "<div class=\"location\"><div>", "</div>", "<br/>", "&amp;",
                    "title=", "<time class=dtstart datetime=", "2027-03-02T20:00:00Z",
                ]),
                0..40,
            ),
        ) {
            let html = parts.concat();
            let _ = read(&html);
        }
    }

    #[test]
    fn many_empty_candidates_stop_the_scan() {
        let html = "<span class=\"location\">".repeat(50_000);
        let started = std::time::Instant::now();
        assert_eq!(read(&html), HCal::default());
        // Linear in the text, not in candidates times content (generous for debug builds).
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn broken_markup_ends_the_scan_without_panicking() {
        for html in [
            "<",
            "<abbr class=\"dtstart\" title=\"2027",
            "<span class=dtstart>2027-01-01",
            "<span class='location'>é<b>ü",
            "<<<>>>",
        ] {
            let _ = read(html);
        }
        assert_eq!(
            read("<span class=dtstart>2027-01-01").start.as_deref(),
            Some("2027-01-01")
        );
    }
}
