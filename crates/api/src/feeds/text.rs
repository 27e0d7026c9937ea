//! Text rules shared by the writers: what may appear in a URI, iCalendar TEXT escaping and
//! folding, XML escaping. Provider text is hostile (HOSTILE.md C6): these functions are the
//! only way it reaches the output.

/// A URL fit to be written unescaped as an iCalendar URI value or an XML attribute: http(s)
/// only, no whitespace or control characters (one CR/LF would start a new iCalendar line).
/// The store keeps URLs in `url`'s serialized form, so a refusal here means corrupted data, and
/// leaving the link out is better than writing it.
pub(crate) fn clean_uri(s: &str) -> Option<&str> {
    let s = s.trim();
    let scheme_ok = s
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        || s.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
    let chars_ok = s
        .bytes()
        .all(|b| b > b' ' && b != 0x7f && b != b'"' && b != b'<' && b != b'>');
    (scheme_ok && chars_ok && s.len() <= 2048).then_some(s)
}

/// Characters dropped from every output: C0 controls except tab and line breaks, DEL, C1
/// controls, and the XML 1.0 non-characters U+FFFE/U+FFFF. None of them is legal in XML 1.0 or
/// meaningful in a calendar, and some terminals and clients act on them.
pub(crate) fn is_dropped(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || c == '\u{fffe}'
        || c == '\u{ffff}'
}

/// Appends `s` escaped as RFC 5545 TEXT: `\` `;` `,` and newlines escaped; CR, LF and CRLF (and
/// the Unicode line and paragraph separators) become the two characters `\n`, so provider text
/// can never start a property of its own; tab becomes a space; other controls are dropped.
pub(crate) fn escape_ical_text(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if is_dropped(c) => {}
            c => out.push(c),
        }
    }
}

/// Appends one logical content line to `out`, folded so that no physical line exceeds 75 octets
/// (RFC 5545 3.1) and never inside a UTF-8 sequence, each line ending in CRLF. Continuation lines
/// start with one space, which counts toward their 75.
pub(crate) fn push_folded(out: &mut String, line: &str) {
    const FIRST: usize = 75;
    const NEXT: usize = 74;
    if line.len() <= FIRST {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut rest = line;
    let mut limit = FIRST;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = NEXT;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// Appends `s` escaped for XML text and attribute values, dropping characters XML 1.0 forbids.
pub(crate) fn escape_xml(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A bare CR would be normalized away by XML parsers; keep the line break.
            '\r' => out.push('\n'),
            c if is_dropped(c) => {}
            c => out.push(c),
        }
    }
}

/// `s` without the characters no output may carry (for JSON, whose encoder escapes the rest).
pub(crate) fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|&c| !is_dropped(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ical_text_escapes_separators_and_neutralizes_line_breaks() {
        let cases = [
            ("location_separators", "a,b;c\\d", "a\\,b\\;c\\\\d"),
            ("crlf_is_one_newline", "a\r\nb", "a\\nb"),
            ("bare_cr", "a\rb", "a\\nb"),
            ("bare_lf", "a\nb", "a\\nb"),
            ("controls_dropped", "a\u{0}\u{1b}[31mb\u{85}", "a[31mb"),
            ("tab_is_space", "a\tb", "a b"),
            ("line_separator", "a\u{2028}b", "a\\nb"),
        ];
        for (name, input, want) in cases {
            let mut out = String::new();
            escape_ical_text(&mut out, input);
            assert_eq!(out, want, "{name}");
        }
    }

    #[test]
    fn folding_keeps_lines_within_75_octets_and_utf8_whole() {
        let line = format!("SUMMARY:{}", "😀é".repeat(100));
        let mut out = String::new();
        push_folded(&mut out, &line);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn uri_refuses_line_breaks_and_other_schemes() {
        assert_eq!(
            clean_uri("https://x.org/a?b=1,2"),
            Some("https://x.org/a?b=1,2")
        );
        assert_eq!(clean_uri("https://x.org/\r\nATTENDEE:x"), None);
        assert_eq!(clean_uri("javascript:alert(1)"), None);
        assert_eq!(clean_uri("HTTP://X.ORG"), Some("HTTP://X.ORG"));
    }

    #[test]
    fn xml_escape_drops_forbidden_controls() {
        let mut out = String::new();
        escape_xml(&mut out, "a<b>&\"'\u{1}\u{fffe}c");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;&apos;c");
    }
}
