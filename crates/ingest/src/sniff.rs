//! Format sniffing from the Content-Type and the first bytes of the document.

use crate::Kind;

/// Decides the format: a specific Content-Type wins, then the content itself. Returns `None`
/// when neither says anything we read.
pub fn sniff(content_type: Option<&str>, text: &str) -> Option<Kind> {
    if let Some(kind) = content_type.and_then(from_content_type) {
        // Servers often label everything text/html or text/plain; only trust the header when
        // the body does not clearly say otherwise.
        return Some(from_content(text).unwrap_or(kind));
    }
    from_content(text)
}

fn from_content_type(ct: &str) -> Option<Kind> {
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "text/calendar" | "application/ics" | "text/x-vcalendar" => Some(Kind::Ics),
        "application/rss+xml" | "application/rdf+xml" => Some(Kind::Rss),
        "application/atom+xml" => Some(Kind::Atom),
        "application/feed+json" | "application/json" => Some(Kind::JsonFeed),
        "text/html" | "application/xhtml+xml" => Some(Kind::Html),
        _ => None,
    }
}

fn from_content(text: &str) -> Option<Kind> {
    let head: &str = {
        let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        let mut end = t.len().min(4096);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        &t[..end]
    };
    // A bare VEVENT (no VCALENDAR wrapper) is still calendar data.
    if head
        .as_bytes()
        .get(..7)
        .is_some_and(|b| b.eq_ignore_ascii_case(b"BEGIN:V"))
    {
        return Some(Kind::Ics);
    }
    if head.starts_with('{') {
        return (head.contains("jsonfeed.org/version") || is_events_api(head, text))
            .then_some(Kind::JsonFeed);
    }
    let lower = head.to_ascii_lowercase();
    // Skip the prolog (declaration, comments, doctype, processing instructions) to find the
    // root element.
    let mut rest = lower.as_str();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>").map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->").map_or("", |(_, after)| after);
        } else if rest.starts_with("<!doctype html") {
            return Some(Kind::Html);
        } else if let Some(r) = rest.strip_prefix("<!") {
            // A doctype's internal subset holds `>` of its own declarations.
            let subset = matches!((r.find('['), r.find('>')), (Some(b), Some(g)) if b < g);
            rest = match subset {
                true => r.split_once("]>").map_or("", |(_, after)| after),
                false => r.split_once('>').map_or("", |(_, after)| after),
            };
        } else {
            break;
        }
    }
    let Some(after_lt) = rest.strip_prefix('<') else {
        // Text before the first tag: a fragment, or junk before a page. Markup-looking
        // content is HTML; the HTML reader copes with the rest.
        return looks_like_html(&lower).then_some(Kind::Html);
    };
    let root: String = after_lt
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    let local = root.rsplit(':').next().unwrap_or_default();
    match local {
        "rss" | "rdf" => Some(Kind::Rss),
        "feed" | "entry" => Some(Kind::Atom),
        "channel" => Some(Kind::Rss),
        "html" | "head" | "body" | "div" | "meta" | "title" | "script" | "section" | "main"
        | "article" | "dl" | "p" | "table" | "ul" | "span" | "a" | "link" => Some(Kind::Html),
        _ if looks_like_html(&lower) => Some(Kind::Html),
        _ => None,
    }
}

/// A calendar platform's JSON event API (The Events Calendar's REST API, Localist's): read
/// with JSON Feed, which tells them apart by shape. The `events` key opens both in the head;
/// an event's own fields may come after a long description, so they are looked for in the
/// whole text (a substring search, no parse).
fn is_events_api(head: &str, text: &str) -> bool {
    const MARKERS: [&str; 5] = [
        "\"start_date\"",
        "\"utc_start_date\"",
        "\"event_instances\"",
        "\"next_rest_url\"",
        "\"total_pages\"",
    ];
    head.contains("\"events\"")
        && (MARKERS.iter().any(|m| text.contains(m))
            || (head.contains("\"page\"") && head.contains("\"event\"")))
}

/// Common HTML elements anywhere in the (lowercased) head of the document.
fn looks_like_html(lower: &str) -> bool {
    [
        "<html", "<body", "<div", "<dl", "<p>", "<p ", "<table", "<span", "<a href", "<script",
        "<h1", "<h2", "<ul",
    ]
    .iter()
    .any(|tag| lower.contains(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_table() {
        let cases: &[(Option<&str>, &str, Option<Kind>)] = &[
            (None, "BEGIN:VCALENDAR\r\nVERSION:2.0", Some(Kind::Ics)),
            (
                None,
                "\u{feff}<?xml version=\"1.0\"?>\n<rss version=\"2.0\">",
                Some(Kind::Rss),
            ),
            (
                None,
                "<?xml version=\"1.0\"?><!-- hi --><rdf:RDF xmlns:rdf=\"x\">",
                Some(Kind::Rss),
            ),
            (
                None,
                "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
                Some(Kind::Atom),
            ),
            (
                None,
                "<entry xmlns=\"http://www.w3.org/2005/Atom\">",
                Some(Kind::Atom),
            ),
            (
                None,
                "<!DOCTYPE rss [ <!ENTITY id \"x\"> ]>\n<rss version=\"2.0\">",
                Some(Kind::Rss),
            ),
            (
                None,
                "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": []}",
                Some(Kind::JsonFeed),
            ),
            (None, "<!DOCTYPE html><html><head>", Some(Kind::Html)),
            (None, "<div><dl><dd>", Some(Kind::Html)),
            (
                Some("text/calendar; charset=utf-8"),
                "garbage",
                Some(Kind::Ics),
            ),
            (
                Some("text/html"),
                "<?xml version=\"1.0\"?><rss>",
                Some(Kind::Rss),
            ),
            (None, "just some words", None),
            (None, "BEGIN:VEVENT\r\nSUMMARY:x", Some(Kind::Ics)),
            (None, "0<dl><dd><dl><dd>", Some(Kind::Html)),
            (None, "{\"a\": 1}", None),
            (
                None,
                "{\"events\": [{\"id\": 1, \"start_date\": \"2027-03-02 14:00:00\"}]}",
                Some(Kind::JsonFeed),
            ),
            (
                None,
                "{\"events\": [{\"event\": {\"event_instances\": []}}], \"page\": {}}",
                Some(Kind::JsonFeed),
            ),
            (None, "{\"events\": [], \"page\": {\"current\": 1}}", None),
            (None, "{\"events\": [{\"name\": \"x\"}]}", None),
            // Regression (found by proptest): a multibyte character across byte 15.
            (None, "=\n&ééé:Ié€s?", None),
        ];
        for (ct, text, want) in cases {
            assert_eq!(sniff(*ct, text), *want, "{ct:?} {text:?}");
        }
    }
}
