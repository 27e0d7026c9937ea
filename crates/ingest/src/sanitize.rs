//! Sanitizing description HTML (ammonia) and turning HTML into plain text.
//!
//! Both run behind a depth gate: html5ever and ammonia recurse per nesting level, and deeply
//! nested markup costs seconds (../shared/HOSTILE.md B7), so nesting deeper than the limit is
//! cut before either sees it.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use url::Url;

mod simple;

/// Clean HTML with links made absolute against `base` (relative links are dropped without one).
/// Returns `None` when nothing readable is left.
pub(crate) fn clean_html(html: &str, base: Option<&Url>, max_depth: usize) -> Cleaned {
    // Most descriptions are simple, well-nested markup: written out directly, they come out as
    // ammonia would write them, with the text `html_to_text` would read back (see `simple`).
    // Markup `clean_simple` accepts is never deeper than its own limit, which the depth gate
    // counts no higher, so the gate would pass it unchanged.
    let fast = (max_depth >= simple::MAX_DEPTH)
        .then(|| simple::clean_simple(html, base))
        .flatten();
    let (cleaned, text, cut, links) = match fast {
        Some(simple) => (simple.html, Some(simple.text), false, simple.links),
        None => {
            let (gated, cut) = depth_gate(html, max_depth);
            (ammonia_clean(&gated, base), None, cut, Vec::new())
        }
    };
    let trimmed = cleaned.trim();
    let text = text.unwrap_or_else(|| html_to_text(trimmed, max_depth));
    let html = if trimmed.is_empty() || (text.is_empty() && !trimmed.contains("<img")) {
        None
    } else if trimmed.len() == cleaned.len() {
        Some(cleaned)
    } else {
        Some(trimmed.to_string())
    };
    Cleaned {
        html,
        text,
        cut,
        links,
    }
}

/// Ammonia's answer for `html`, which must have passed the depth gate.
fn ammonia_clean(html: &str, base: Option<&Url>) -> String {
    // Building an ammonia Builder allocates its tag and attribute tables; doing that per item
    // was a measurable share of parsing a feed. One per thread, with only the base swapped.
    SANITIZER.with(|cell| {
        let mut b = cell.borrow_mut();
        match base {
            Some(base) => b.url_relative(UrlRelative::RewriteWithBase(base.clone())),
            None => b.url_relative(UrlRelative::Deny),
        };
        b.clean(html).to_string()
    })
}

/// Sanitized description HTML, its plain text, and whether the depth gate cut anything.
pub(crate) struct Cleaned {
    pub html: Option<String>,
    pub text: String,
    pub cut: bool,
    /// Links of `html` known to be serialized http(s) URLs with a host (see `simple`).
    pub links: Vec<String>,
}

thread_local! {
    static SANITIZER: std::cell::RefCell<Builder<'static>> = std::cell::RefCell::new({
        let mut b = Builder::default();
        b.link_rel(Some("noopener noreferrer nofollow"))
            .url_schemes(HashSet::from(["http", "https", "mailto"]))
            .add_generic_attributes(["lang"]);
        b
    });
}

/// Elements that separate words when markup is turned into text. A `match` rather than a
/// hashed set: this is asked for every tag of every description.
fn is_block_tag(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "blockquote"
            | "dd"
            | "dt"
            | "dl"
            | "hr"
            | "header"
            | "footer"
            | "pre"
    )
}

/// Plain text of an HTML fragment: tags removed, entities decoded, script/style contents
/// dropped, block elements separated by spaces, whitespace squashed.
///
/// A linear scan, not a DOM: this runs for every title and description of every item, and a
/// full HTML parse per field was the largest cost of parsing a feed. Text content does not need
/// a tree: what a browser would show as text is what lies between tags, minus raw-text elements.
/// [`html_to_text`] of a string the caller gives away: plain text that is already squashed
/// (most short fields: categories, organizers, places) is given back as it is.
pub(crate) fn html_to_text_owned(html: String, max_depth: usize) -> String {
    if !html.contains('<') && !html.contains('&') {
        return coalesce_core::normalize::squash_whitespace_owned(html);
    }
    html_to_text(&html, max_depth)
}

pub(crate) fn html_to_text(html: &str, _max_depth: usize) -> String {
    if !html.contains('<') && !html.contains('&') {
        return coalesce_core::normalize::squash_whitespace(html);
    }
    let mut raw = String::with_capacity(html.len());
    // Text before `last` has been handled; nothing before `skip_to` is shown.
    let mut last = 0;
    let mut skip_to = 0;
    for_each_tag(html, |start, end, name, closing, _| {
        if start < skip_to {
            return;
        }
        raw.push_str(&html[last..start]);
        if is_block_tag(name) {
            raw.push(' ');
        }
        last = end;
        if !closing && matches!(name, "script" | "style" | "template" | "noscript") {
            // Their contents are never shown as text.
            let close = format!("</{name}");
            let stop = find_ci(&html[end..], &close).map_or(html.len(), |p| end + p);
            skip_to = stop;
            last = stop;
        }
    });
    if last < html.len() {
        let tail = &html[last..];
        // An unterminated tag at the very end ("... <b") is markup, not text.
        let tail = match tail.find('<') {
            Some(p)
                if tail[p + 1..]
                    .starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') =>
            {
                &tail[..p]
            }
            _ => tail,
        };
        raw.push_str(tail);
    }
    let decoded = htmlize::unescape(raw.as_str());
    coalesce_core::normalize::squash_whitespace(&decoded)
}

/// Elements that never have children, so they never deepen nesting.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
            | "keygen"
    )
}

/// Drops every tag (not its text) that opens deeper than `max_depth`, by a linear scan of the
/// tag structure. Returns the gated markup and whether anything was cut. Unclosed tags are
/// counted the way a browser would not, so this over-estimates depth for sloppy markup; that
/// only makes the gate stricter, never lets deep input through.
pub(crate) fn depth_gate(html: &str, max_depth: usize) -> (std::borrow::Cow<'_, str>, bool) {
    depth_gate_with(html, max_depth, false)
}

/// [`depth_gate`] for whole pages: `script`, `style` and `title` tags are kept at any depth, so
/// a JSON-LD block after deep markup still reaches the page parser (as a child of the deepest
/// kept element; raw-text elements never nest further).
pub(crate) fn depth_gate_page(html: &str, max_depth: usize) -> (std::borrow::Cow<'_, str>, bool) {
    depth_gate_with(html, max_depth, true)
}

fn depth_gate_with(
    html: &str,
    max_depth: usize,
    keep_raw_text: bool,
) -> (std::borrow::Cow<'_, str>, bool) {
    let mut depth: usize = 0;
    let mut max_seen: usize = 0;
    for_each_tag(html, |_, _, name, closing, self_closing| {
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing && !is_void(name) {
            depth += 1;
            max_seen = max_seen.max(depth);
        }
    });
    if max_seen <= max_depth {
        return (std::borrow::Cow::Borrowed(html), false);
    }
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    let mut depth: usize = 0;
    for_each_tag(html, |start, end, name, closing, self_closing| {
        let keep = if closing {
            let keep = depth <= max_depth;
            depth = depth.saturating_sub(1);
            keep
        } else if !self_closing && !is_void(name) {
            depth += 1;
            depth <= max_depth
        } else {
            depth < max_depth
        };
        let keep = keep || keep_raw_text && matches!(name, "script" | "style" | "title");
        out.push_str(&html[last..start]);
        if keep {
            out.push_str(&html[start..end]);
        }
        last = end;
    });
    out.push_str(&html[last..]);
    (std::borrow::Cow::Owned(out), true)
}

/// Calls `f(start, end, lowercase_name, closing, self_closing)` for every tag and for every
/// comment (named `!--`, self-closing), skipping doctypes and the raw text of script/style
/// elements.
fn for_each_tag(html: &str, mut f: impl FnMut(usize, usize, &str, bool, bool)) {
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut name_buf = String::new();
    while let Some(rel) = memchr_lt(&bytes[i..]) {
        let start = i + rel;
        if html[start..].starts_with("<!--") {
            i = html[start + 4..]
                .find("-->")
                .map_or(bytes.len(), |e| start + 4 + e + 3);
            // Reported as a void "tag" so text extraction can skip it; it never nests.
            f(start, i, "!--", false, true);
            continue;
        }
        let after = start + 1;
        let closing = bytes.get(after) == Some(&b'/');
        let name_start = if closing { after + 1 } else { after };
        let name_len = bytes[name_start.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        let Some(gt) = html[name_start..].find('>') else {
            break;
        };
        let end = name_start + gt + 1;
        name_buf.clear();
        // Lowercased in place: a temporary String per tag was a visible cost.
        name_buf.push_str(&html[name_start..name_start + name_len]);
        name_buf.make_ascii_lowercase();
        let self_closing = bytes[end - 2] == b'/';
        f(start, end, &name_buf, closing, self_closing);
        i = end;
        if !closing && matches!(name_buf.as_str(), "script" | "style") {
            let close = format!("</{name_buf}");
            i = find_ci(&html[end..], &close).map_or(bytes.len(), |p| end + p);
        }
    }
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'<')
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://lib.example.org/events/feed.xml").expect("valid")
    }

    #[test]
    fn scripts_handlers_and_bad_schemes_are_removed() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><a href="java&#x09;script:alert(1)">a</a>
            <a href="JaVaScRiPt:alert(1)">b</a><img srcset="http:a<script>alert(1)</script> 1x">
            <svg><a><set attributeName="href" to="javascript:alert(1)"/></a></svg></p>"#;
        let clean = clean_html(dirty, Some(&base()), 512).html;
        let clean = clean.expect("text remains");
        let lower = clean.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{clean}");
        assert!(!lower.contains("javascript:"), "{clean}");
        assert!(!lower.contains("onclick"), "{clean}");
        assert!(!lower.contains("<svg"), "{clean}");
    }

    #[test]
    fn relative_links_become_absolute_against_the_item() {
        let clean = clean_html(
            r#"<a href="/admin">x</a> <img src="../x.png"> <a href="//evil.example/">y</a>"#,
            Some(&base()),
            512,
        )
        .html;
        let clean = clean.expect("text remains");
        assert!(
            clean.contains(r#"href="https://lib.example.org/admin""#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"src="https://lib.example.org/x.png""#),
            "{clean}"
        );
        assert!(clean.contains(r#"href="https://evil.example/""#), "{clean}");
    }

    #[test]
    fn text_drops_tags_scripts_and_decodes_entities() {
        assert_eq!(
            html_to_text(
                "<p>Caf&eacute; <b>talk</b></p><script>var x;</script><p>Two</p>",
                512
            ),
            "Café talk Two"
        );
        assert_eq!(html_to_text("plain  text", 512), "plain text");
    }

    #[test]
    fn deep_nesting_is_cut_before_parsing() {
        let deep = "<div>".repeat(100_000) + "inside" + &"</div>".repeat(100_000);
        let (gated, cut) = depth_gate(&deep, 512);
        assert!(cut);
        assert_eq!(gated.matches("<div>").count(), 512);
        assert!(gated.contains("inside"));
        let clean = clean_html(&deep, None, 512).html;
        assert!(clean.expect("text remains").contains("inside"));
        assert_eq!(html_to_text(&deep, 512), "inside");
    }
}

#[cfg(test)]
mod text_tests {
    use super::html_to_text;

    #[test]
    fn text_extraction_table() {
        let cases = [
            (
                "<p>Caf&eacute; <b>talk</b></p><script>var x = '<p>';</script><p>Two</p>",
                "Café talk Two",
            ),
            ("a <!-- hidden <b>x</b> --> b", "a b"),
            ("<style>p { color: red }</style>Shown", "Shown"),
            ("<noscript><p>no</p></noscript>yes", "yes"),
            ("1 < 2 &amp;&amp; 3 > 2", "1 < 2 && 3 > 2"),
            ("Fish &amp chips &copy 2026", "Fish & chips © 2026"),
            ("<p>one</p><p>two</p>", "one two"),
            ("half a tag <b", "half a tag"),
            (
                "&lt;script&gt;alert(1)&lt;/script&gt;",
                "<script>alert(1)</script>",
            ),
        ];
        for (html, want) in cases {
            assert_eq!(html_to_text(html, 512), want, "{html}");
        }
    }
}
