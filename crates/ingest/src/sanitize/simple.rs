//! A fast path past ammonia for the markup most feeds write: paragraphs, lists, headings,
//! emphasis and links, well nested and closed, without entities or comments.
//!
//! html5ever builds a DOM of reference-counted nodes for every description and ammonia walks
//! it; that was the largest single cost of finishing a feed item. For the narrow subset read
//! here, what html5ever would build is the markup as written (no implied tags, no adoption
//! agency, no foster parenting), so the sanitized output can be written straight from the
//! input. [`clean_simple`] returns `None` for anything outside the subset and the caller falls
//! back to ammonia; when it answers, the answer is byte for byte ammonia's (the tests compare
//! both on generated markup).
//!
//! The subset, chosen so that the HTML tree-building rules are trivially the identity:
//! - tags from a short list (all allowed by ammonia), written in lowercase, every element
//!   closed by its own end tag in order (`br` is the only void element accepted);
//! - block elements (`p`, `h1`-`h6`, `div`, `blockquote`, `ul`, `ol`) only where no paragraph,
//!   heading or inline element is open, `li` only directly inside `ul`/`ol`, `a` never inside
//!   `a`: so no start tag closes an open element and no end tag is ever misnested;
//! - attributes lowercase, double-quoted, each name once; the ones ammonia keeps are kept
//!   (with its URL checks and relative-URL rewriting for `href`), the rest dropped;
//! - text without `&`, `<`, carriage returns, NUL or other control characters (tab and newline
//!   aside), noncharacters or U+FEFF, so the tokenizer hands it over unchanged.

use coalesce_core::normalize::squash_whitespace_owned;
use url::Url;

use super::is_block_tag;

/// The `rel` ammonia adds to every link (see the sanitizer in `sanitize.rs`).
const LINK_REL: &str = "noopener noreferrer nofollow";
/// Deeper markup goes to ammonia (and is far below any depth gate).
pub(crate) const MAX_DEPTH: usize = 32;
/// Attributes per tag read here; more go to ammonia.
const MAX_ATTRS: usize = 8;

/// How an element may nest, which decides where the tree builder would leave it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `div`, `blockquote`, `li`: hold blocks and text.
    Flow,
    /// `ul`, `ol`.
    List,
    /// `p`, `h1`-`h6`: hold text and inline elements only.
    Para,
    /// Inline elements.
    Phrase,
    /// `br`.
    Void,
}

fn class_of(name: &str) -> Option<Class> {
    Some(match name {
        "div" | "blockquote" | "li" => Class::Flow,
        "ul" | "ol" => Class::List,
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Class::Para,
        "a" | "b" | "strong" | "em" | "i" | "u" | "span" | "small" | "code" | "sub" | "sup" => {
            Class::Phrase
        }
        "br" => Class::Void,
        _ => return None,
    })
}

/// Whether ammonia (as configured in `sanitize.rs`) keeps attribute `attr` on `tag`: the
/// generic `lang` and `title`, plus ammonia's per-tag defaults for the tags read here.
fn keeps(tag: &str, attr: &str) -> bool {
    matches!(attr, "lang" | "title")
        || matches!(
            (tag, attr),
            ("a", "href") | ("a", "hreflang") | ("blockquote", "cite") | ("ol", "start")
        )
}

/// What ammonia's scheme allow-list says of an `href` value: `Some(relative)` when it keeps it.
fn href_allowed(value: &str, base: Option<&Url>) -> Option<bool> {
    // A scheme starts with a letter, and the parser trims nothing above a space: a value
    // starting with one of these is relative without parsing (most relative links).
    if value.starts_with(['/', '?', '#', '.']) {
        return base.is_some().then_some(true);
    }
    match Url::parse(value) {
        Ok(u) => matches!(u.scheme(), "http" | "https" | "mailto").then_some(false),
        Err(url::ParseError::RelativeUrlWithoutBase) => base.is_some().then_some(true),
        Err(_) => None,
    }
}

/// Sanitized markup as ammonia writes it and its plain text as `html_to_text` reads it back.
pub(crate) struct Simple {
    pub html: String,
    pub text: String,
    /// The `href`s written that are relative links made absolute: serialized http(s) URLs
    /// with a host, which parse back to themselves (see [`Simple::links`]'s use in `draft`).
    pub links: Vec<String>,
}

/// Bytes that end a run of text copied as it is: markup, escapes, and whatever needs a closer
/// look (controls, non-ASCII).
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] =
            b < 0x20 || b >= 0x7f || b == b'<' as usize || b == b'>' as usize || b == b'&' as usize;
        b += 1;
    }
    t[b'\t' as usize] = false;
    t[b'\n' as usize] = false;
    t
};

/// Ammonia's output for `html` with relative links rewritten against `base` (dropped without
/// one), with its text, or `None` when `html` is outside the subset this reads.
pub(crate) fn clean_simple(html: &str, base: Option<&Url>) -> Option<Simple> {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + html.len() / 8 + 16);
    // The text of the markup, block elements read as spaces; squashed at the end.
    let mut text = String::with_capacity(html.len());
    let mut stack: Vec<(&str, Class)> = Vec::new();
    let mut links = Vec::new();
    // Open paragraphs, headings and inline elements; open links.
    let mut inline_open = 0usize;
    let mut link_open = false;
    let mut text_from = 0;
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|b| !STOP[usize::from(*b)]) {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else {
            break;
        };
        if b != b'<' {
            // Text that is escaped or checked: one character.
            let c = html.get(i..)?.chars().next()?;
            let escaped = match c {
                '>' => "&gt;",
                '\u{a0}' => "&nbsp;",
                c if plain_char(c) && c != '&' => {
                    i += c.len_utf8();
                    continue;
                }
                _ => return None,
            };
            out.push_str(&html[text_from..i]);
            text.push_str(&html[text_from..i]);
            out.push_str(escaped);
            text.push(c);
            i += c.len_utf8();
            text_from = i;
            continue;
        }
        out.push_str(&html[text_from..i]);
        text.push_str(&html[text_from..i]);
        let tag = parse_tag(html, i)?;
        i = tag.end;
        text_from = i;
        // A block's space only where squashing would keep one: not at the start, and not
        // after another space (a run of whitespace squashes to one space either way). Then
        // text that had no other whitespace to squash is kept as it is, not copied again.
        if is_block_tag(tag.name) && !text.is_empty() && !text.ends_with(' ') {
            text.push(' ');
        }
        if tag.closing {
            let (open, class) = stack.pop()?;
            if open != tag.name {
                return None;
            }
            if matches!(class, Class::Para | Class::Phrase) {
                inline_open -= 1;
            }
            if open == "a" {
                link_open = false;
            }
            out.push_str("</");
            out.push_str(open);
            out.push('>');
            continue;
        }
        let class = class_of(tag.name)?;
        let parent = stack.last().map(|(_, c)| *c);
        let allowed = match class {
            Class::Flow if tag.name == "li" => parent == Some(Class::List),
            Class::Flow | Class::List | Class::Para => inline_open == 0,
            Class::Phrase => !(link_open && tag.name == "a"),
            Class::Void => true,
        };
        if !allowed || (tag.self_closing && class != Class::Void) {
            return None;
        }
        write_start_tag(&tag, base, &mut out, &mut links);
        if class != Class::Void {
            if stack.len() >= MAX_DEPTH {
                return None;
            }
            stack.push((tag.name, class));
            if matches!(class, Class::Para | Class::Phrase) {
                inline_open += 1;
            }
            link_open |= tag.name == "a";
        }
    }
    if !stack.is_empty() {
        return None;
    }
    out.push_str(&html[text_from..]);
    text.push_str(&html[text_from..]);
    // Squashing trims trailing spaces anyway (the last block's, most often).
    text.truncate(text.trim_end_matches(' ').len());
    Some(Simple {
        html: out,
        text: squash_whitespace_owned(text),
        links,
    })
}

/// A tag of the subset: name, attributes (name, value), where it ends.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    self_closing: bool,
    attrs: [(&'a str, &'a str); MAX_ATTRS],
    n_attrs: usize,
    end: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n')
}

/// Reads the tag starting at `at` (a `<`); `None` when it is not one this module accepts.
fn parse_tag(html: &str, at: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    let mut i = at + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    if !bytes.get(i)?.is_ascii_lowercase() {
        return None;
    }
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        i += 1;
    }
    let name = &html[name_start..i];
    let mut tag = Tag {
        name,
        closing,
        self_closing: false,
        attrs: [("", ""); MAX_ATTRS],
        n_attrs: 0,
        end: 0,
    };
    loop {
        let had_space = bytes.get(i).is_some_and(|b| is_space(*b));
        while bytes.get(i).is_some_and(|b| is_space(*b)) {
            i += 1;
        }
        match *bytes.get(i)? {
            b'>' => {
                tag.end = i + 1;
                return Some(tag);
            }
            b'/' if !closing && bytes.get(i + 1) == Some(&b'>') => {
                tag.self_closing = true;
                tag.end = i + 2;
                return Some(tag);
            }
            b if b.is_ascii_lowercase() && had_space && !closing => {
                let attr_start = i;
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                {
                    i += 1;
                }
                let attr = &html[attr_start..i];
                if bytes.get(i) != Some(&b'=') || bytes.get(i + 1) != Some(&b'"') {
                    return None;
                }
                let value_start = i + 2;
                let value_len = html.get(value_start..)?.find('"')?;
                let value = &html[value_start..value_start + value_len];
                i = value_start + value_len + 1;
                if !plain_value(value)
                    || tag.n_attrs == MAX_ATTRS
                    || tag.attrs[..tag.n_attrs].iter().any(|(n, _)| *n == attr)
                {
                    return None;
                }
                tag.attrs[tag.n_attrs] = (attr, value);
                tag.n_attrs += 1;
            }
            _ => return None,
        }
    }
}

/// An attribute value the tokenizer hands over unchanged (and without `<`, to stay simple).
fn plain_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| !matches!(c, '&' | '<') && plain_char(c))
}

/// A character that reaches the DOM unchanged: no control character but tab and newline (the
/// tokenizer rewrites carriage returns and NUL), no noncharacter, no byte order mark.
fn plain_char(c: char) -> bool {
    let n = c as u32;
    if c.is_ascii() {
        return !c.is_ascii_control() || c == '\t' || c == '\n';
    }
    !(c.is_control() || c == '\u{feff}' || (0xFDD0..=0xFDEF).contains(&n) || (n & 0xFFFE) == 0xFFFE)
}

/// An attribute value as html5ever's serializer writes it.
fn push_attr_value(value: &str, out: &mut String) {
    let mut from = 0;
    for (at, c) in value.char_indices() {
        let escaped = match c {
            '&' => "&amp;",
            '"' => "&quot;",
            '<' => "&lt;",
            '>' => "&gt;",
            '\u{a0}' => "&nbsp;",
            _ => continue,
        };
        out.push_str(&value[from..at]);
        out.push_str(escaped);
        from = at + c.len_utf8();
    }
    out.push_str(&value[from..]);
}

/// Writes the start tag with the attributes ammonia would leave, in the order it would leave
/// them: the allowed ones as written, `rel` appended to links, then relative URLs rewritten,
/// a URL that cannot be resolved removed the way ammonia removes it (`swap_remove`).
fn write_start_tag(tag: &Tag<'_>, base: Option<&Url>, out: &mut String, links: &mut Vec<String>) {
    // (name, value, is a relative URL to rewrite)
    let mut kept: Vec<(&str, std::borrow::Cow<'_, str>, bool)> = Vec::new();
    for &(name, value) in &tag.attrs[..tag.n_attrs] {
        if !keeps(tag.name, name) {
            continue;
        }
        let relative = if name == "href" {
            match href_allowed(value, base) {
                Some(relative) => relative,
                None => continue,
            }
        } else {
            false
        };
        kept.push((name, value.into(), relative));
    }
    if tag.name == "a" {
        kept.push(("rel", LINK_REL.into(), false));
    }
    let mut drop = Vec::new();
    for (i, (_, value, relative)) in kept.iter_mut().enumerate() {
        if !*relative {
            continue;
        }
        match base.and_then(|b| b.join(value).ok()) {
            Some(url) => {
                let http = matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some_and(|h| !h.is_empty());
                let url = String::from(url);
                if http && url.len() <= 4096 && url.trim().len() == url.len() {
                    links.push(url.clone());
                }
                *value = url.into();
            }
            None => drop.push(i),
        }
    }
    for i in drop.into_iter().rev() {
        kept.swap_remove(i);
    }
    out.push('<');
    out.push_str(tag.name);
    for (name, value, _) in &kept {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        push_attr_value(value, out);
        out.push('"');
    }
    out.push('>');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use url::Url;

    use super::{MAX_DEPTH, Simple};
    use crate::sanitize::{ammonia_clean, depth_gate, html_to_text};

    /// Ammonia's answer and its text, the way `clean_html` asks for them.
    fn slow(html: &str, base: Option<&Url>) -> (String, String) {
        let clean = ammonia_clean(&depth_gate(html, 512).0, base);
        let text = html_to_text(clean.trim(), 512);
        (clean, text)
    }

    proptest! {
        /// The shortcut for values that start like a relative link answers what parsing them
        /// answers.
        #[test]
        fn relative_looking_hrefs_are_what_parsing_says(
            head in prop::sample::select(vec!["/", "?", "#", ".", "//", "./", "../", "/x:"]),
            tail in "[ -~\\t\\n]{0,20}",
        ) {
            let value = format!("{head}{tail}");
            for base in bases() {
                let parsed = match Url::parse(&value) {
                    Ok(u) => matches!(u.scheme(), "http" | "https" | "mailto").then_some(false),
                    Err(url::ParseError::RelativeUrlWithoutBase) => base.is_some().then_some(true),
                    Err(_) => None,
                };
                prop_assert_eq!(super::href_allowed(&value, base.as_ref()), parsed);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Every link the fast path reports as known parses back to itself as an http(s) URL:
        /// what lets the registration link skip `safe_http_url` for it.
        #[test]
        fn known_links_are_what_safe_http_url_gives_back(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "/", "//", ".", "..", "./", "../", "a", "Z", "9", "-", "_", "~", "%", "%2e",
                    "%2E%2e", "%zz", "%41", "?", "#", "=", "+", ":", ";", "@", "!", "$", "'",
                    "(", "*", ",", "\\", " ", "\t", "\n", "é", "日本", "\u{feff}", "|", "^",
                    "`", "{", "}", "[", "]", "x.org", "localhost", "[::1]", "127.0.0.1", "/\\",
                    "\u{a0}", "\u{7f}",
                ]),
                0..12,
            ),
        ) {
            let href = parts.concat();
            let html = format!("<p><a href=\"{href}\">x</a></p>");
            for base in bases() {
                if let Some(simple) = super::clean_simple(&html, base.as_ref()) {
                    for k in &simple.links {
                        let again = coalesce_core::normalize::safe_http_url(k, None);
                        prop_assert_eq!(again.as_deref(), Some(k.as_str()));
                    }
                }
            }
        }
    }

    #[test]
    fn relative_links_made_absolute_are_known_and_others_are_not() {
        let html = "<p><a href=\"/register/7\">r</a> <a href=\"https://x.org/a\">a</a> \
                    <a href=\"mailto:a@b.c\">m</a></p>";
        let base = Url::parse("https://ce.example.org/events/5").ok();
        let simple = super::clean_simple(html, base.as_ref()).expect("simple markup");
        assert_eq!(simple.links, ["https://ce.example.org/register/7"]);
        let simple = super::clean_simple(html, None).expect("simple markup");
        assert!(simple.links.is_empty());
    }

    fn clean_simple(html: &str, base: Option<&Url>) -> Option<(String, String)> {
        super::clean_simple(html, base).map(|Simple { html, text, .. }| (html, text))
    }

    fn bases() -> Vec<Option<Url>> {
        vec![
            None,
            Url::parse("https://ce.example.org/events/5").ok(),
            Url::parse("http://lib.example.org/a/b/?x=1#f").ok(),
            // A base nothing relative can be joined to: ammonia then drops the attribute.
            Url::parse("data:text/plain,x").ok(),
        ]
    }

    #[test]
    fn the_shapes_feeds_write_take_the_fast_path_and_match_ammonia() {
        let cases = [
            "<p>Join colleagues.</p><p>Cost: $25. Register at <a href=\"/register/7\">our site</a>.</p>",
            "<p>Join colleagues</p><p>Free for members.</p>",
            "plain text > with a bracket and\u{a0}nbsp",
            "<ul>\n<li><b>One</b></li>\n<li><em>Two</em><br/>three<br /></li>\n</ul>",
            "<h2 title=\"T\">Head</h2><div><blockquote cite=\"x\"><p>q</p></blockquote></div>",
            "<a href=\"https://ex.org/x?a=1\" target=\"_blank\" title=\"t\" rel=\"me\">x</a>",
            "<a href=\"mailto:ce@ex.org\">mail</a> <a href=\"javascript:alert(1)\">js</a>",
            "<a href=\"//evil.example/\">y</a><a href=\"http://\">bad</a><a>none</a>",
            "<ol start=\"3\" lang=\"en\"><li><span>x</span> <code>y</code><sub>1</sub><sup>2</sup></li></ol>",
            "",
            "   ",
        ];
        for base in bases() {
            for html in cases {
                let fast = clean_simple(html, base.as_ref());
                assert_eq!(
                    fast,
                    Some(slow(html, base.as_ref())),
                    "{html:?} on {base:?}"
                );
            }
        }
    }

    #[test]
    fn markup_outside_the_subset_goes_to_ammonia() {
        for html in [
            "<p>a &amp; b</p>",
            "<p>unclosed",
            "<p><p>nested</p></p>",
            "<b><p>block in inline</p></b>",
            "<a href=\"/a\"><a href=\"/b\">x</a></a>",
            "<li>loose item</li>",
            "<P>upper</P>",
            "<p class='single'>x</p>",
            "<p>x</b>",
            "<!-- c --><p>x</p>",
            "<script>x</script>",
            "<img src=\"/x.png\">",
            "<p>line\r\nbreak</p>",
            "<p>nul\0</p>",
            "<p title=\"a\" title=\"b\">dup</p>",
            "<p/>",
            "<br></br>",
            "1 < 2",
            "\u{feff}bom",
        ] {
            assert_eq!(clean_simple(html, None), None, "{html:?}");
        }
        let deep = "<div>".repeat(MAX_DEPTH + 1) + &"</div>".repeat(MAX_DEPTH + 1);
        assert_eq!(clean_simple(&deep, None), None);
    }

    const TAGS: &[&str] = &[
        "p",
        "div",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h1",
        "h3",
        "a",
        "b",
        "strong",
        "em",
        "i",
        "u",
        "span",
        "small",
        "code",
        "sub",
        "sup",
        "br",
        "img",
        "script",
        "table",
        "td",
        "P",
        "pre",
        "button",
    ];

    fn attr() -> impl Strategy<Value = String> {
        let names = prop::sample::select(vec![
            "href", "title", "lang", "target", "rel", "hreflang", "start", "cite", "onclick",
            "HREF", "data-x", "src",
        ]);
        let values = prop::sample::select(vec![
            "/register/1",
            "https://ex.org/a?b=1&c=2",
            "https://ex.org/a?b=1",
            "mailto:a@b.org",
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "ftp://x.org/",
            "//evil.example/x",
            "http://",
            "http://[::1",
            "../x y",
            " /pad ",
            "?q=\u{a0}",
            "#frag",
            "http://ex.org/\u{e9}",
            "tel:123",
            "a>b",
            "x/",
            "",
            "it's",
            "a&amp;b",
        ]);
        (
            names,
            values,
            prop::sample::select(vec!["\"", "\"", "\"", "\"", "'", ""]),
        )
            .prop_map(|(n, v, q)| {
                if q.is_empty() {
                    format!(" {n}={}", v.replace(' ', ""))
                } else {
                    format!(" {n}={q}{v}{q}")
                }
            })
    }

    fn token() -> impl Strategy<Value = String> {
        let open = (
            prop::sample::select(TAGS.to_vec()),
            prop::collection::vec(attr(), 0..3),
            prop::sample::select(vec![">", "/>", " />", " >", "\n>"]),
        )
            .prop_map(|(t, attrs, end)| format!("<{t}{}{end}", attrs.concat()));
        let close = prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("</{t}>"));
        // Mostly characters the subset takes, some it refuses.
        let good = prop::sample::select(vec![
            "a", "Word", " ", "  ", "\n", "\t", ">", "é", "\u{a0}", "\"", "'", "😀", "=", "/",
        ]);
        let bad = prop::sample::select(vec![
            "&", "&amp;", "&nbsp;", "<", "\r", "\0", "\u{1}", "\u{85}", "\u{feff}", "\u{fffe}",
            "\u{fdd0}", "<!--x-->",
        ]);
        let text = prop::collection::vec(prop_oneof![12 => good, 1 => bad], 1..6)
            .prop_map(|parts| parts.concat());
        // A whole element too, so that random attributes and text often reach the fast path.
        let element = (
            prop::sample::select(TAGS.to_vec()),
            prop::collection::vec(attr(), 0..3),
            text.clone(),
        )
            .prop_map(|(t, attrs, inner)| format!("<{t}{}>{inner}</{t}>", attrs.concat()));
        prop_oneof![2 => open, 2 => close, 3 => text, 3 => element]
    }

    /// Attributes inside the subset: lowercase, double-quoted, without `&` or `<`.
    fn good_attr() -> impl Strategy<Value = (&'static str, &'static str)> {
        (
            prop::sample::select(vec![
                "href", "title", "lang", "target", "rel", "hreflang", "data-x", "onclick",
            ]),
            prop::sample::select(vec![
                "/register/1",
                "https://ex.org/a?b=1",
                "mailto:a@b.org",
                "javascript:alert(1)",
                "ftp://x.org/",
                "//evil.example/x",
                "http://",
                "http://[::1",
                "../x y",
                " /pad ",
                "?q=\u{a0}",
                "#frag",
                "http://ex.org/\u{e9}",
                "a>b",
                "",
            ]),
        )
    }

    /// Markup inside the subset, so the comparison is not only about refusals.
    fn tree(depth: u32) -> BoxedStrategy<String> {
        let text = prop::sample::select(vec![
            "Join us",
            " ",
            "\n",
            "Cost: $25 > $20",
            "é\u{a0}x",
            "x\ty",
            "",
        ])
        .prop_map(str::to_string);
        let inline_leaf = prop_oneof![
            text.clone(),
            Just("<br>".to_string()),
            Just("<br/>".to_string()),
        ];
        let inline = inline_leaf.prop_recursive(depth, 24, 3, |inner| {
            (
                prop::sample::select(vec!["b", "strong", "em", "i", "span", "code", "sub"]),
                prop::collection::vec(inner, 0..3),
            )
                .prop_map(|(t, kids)| format!("<{t}>{}</{t}>", kids.concat()))
        });
        let link = (
            prop::collection::vec(good_attr(), 0..3),
            prop::collection::vec(inline.clone(), 0..2),
        )
            .prop_map(|(attrs, kids)| {
                // Each attribute once, as the subset requires.
                let mut seen = std::collections::HashSet::new();
                let attrs: String = attrs
                    .into_iter()
                    .filter(|(n, _)| seen.insert(*n))
                    .map(|(n, v)| format!(" {n}=\"{v}\""))
                    .collect();
                format!("<a{attrs}>{}</a>", kids.concat())
            });
        let phrasing = prop_oneof![3 => inline.clone(), 1 => link];
        let para = (
            prop::sample::select(vec!["p", "h1", "h2", "h6"]),
            prop::collection::vec(phrasing.clone(), 0..4),
        )
            .prop_map(|(t, kids)| format!("<{t}>{}</{t}>", kids.concat()));
        let leaf = prop_oneof![para, phrasing, text];
        leaf.prop_recursive(depth, 32, 4, |inner| {
            prop_oneof![
                (
                    prop::sample::select(vec!["div", "blockquote"]),
                    prop::collection::vec(inner.clone(), 0..4),
                )
                    .prop_map(|(t, kids)| format!("<{t}>{}</{t}>", kids.concat())),
                (
                    prop::sample::select(vec!["ul", "ol"]),
                    prop::collection::vec(
                        prop::collection::vec(inner, 0..3)
                            .prop_map(|kids| format!("<li>{}</li>\n", kids.concat())),
                        0..3,
                    ),
                )
                    .prop_map(|(t, items)| format!("<{t}>\n{}</{t}>", items.concat())),
            ]
        })
        .boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn the_fast_path_equals_ammonia_on_any_markup(
            tokens in prop::collection::vec(token(), 0..10),
            base in prop::sample::select(bases()),
        ) {
            let html = tokens.concat();
            if let Some(fast) = clean_simple(&html, base.as_ref()) {
                prop_assert_eq!(fast, slow(&html, base.as_ref()), "{:?}", html);
                prop_assert!(!depth_gate(&html, MAX_DEPTH).1);
            }
        }

        #[test]
        fn the_fast_path_takes_well_nested_markup_and_equals_ammonia(
            parts in prop::collection::vec(tree(4), 0..4),
            base in prop::sample::select(bases()),
        ) {
            let html = parts.concat();
            let fast = clean_simple(&html, base.as_ref());
            prop_assert!(fast.is_some(), "refused {:?}", html);
            prop_assert_eq!(fast.unwrap_or_default(), slow(&html, base.as_ref()), "{:?}", html);
        }
    }
}
