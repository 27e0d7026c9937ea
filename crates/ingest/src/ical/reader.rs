//! A tolerant, iterative iCalendar content-line reader.
//!
//! The `icalendar` crate's parser is strict (a BOM, a missing END, one garbage line or a lone CR
//! fail the whole calendar) and recursive (10,000 nested BEGINs abort the process), and the
//! corpus is full of all of these. Content lines are simple enough to read by hand: this reader
//! unfolds lines, skips what is not a content line, closes what was left open, and never
//! recurses, so one broken VEVENT cannot take the others with it.

use std::borrow::Cow;

use crate::ParseError;

/// One property: `NAME;PARAM=VALUE:value`, the value still escaped as written.
#[derive(Debug, Clone)]
pub(crate) struct Prop<'a> {
    /// Upper-cased name.
    pub name: Cow<'static, str>,
    /// Parameters with upper-cased names and unquoted values (a list's values joined by
    /// commas); lent where they can be, like the value.
    pub params: Vec<(Cow<'static, str>, Cow<'a, str>)>,
    /// Lent from the document when its line was not folded (most are): a copy of every value
    /// was a visible share of reading a calendar.
    pub value: Cow<'a, str>,
}

impl Prop<'_> {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// One component; children are indices into [`Tree::components`].
#[derive(Debug, Clone)]
pub(crate) struct Component<'a> {
    /// Upper-cased name (VCALENDAR, VEVENT, VTIMEZONE, STANDARD, ...).
    pub name: String,
    pub props: Vec<Prop<'a>>,
    pub children: Vec<usize>,
}

impl<'a> Component<'a> {
    pub fn prop(&self, name: &str) -> Option<&Prop<'a>> {
        self.props.iter().find(|p| p.name == name)
    }

    pub fn props<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Prop<'a>> + 's {
        self.props.iter().filter(move |p| p.name == name)
    }
}

/// Everything read from one document, plus what had to be repaired on the way.
#[derive(Debug, Default)]
pub(crate) struct Tree<'a> {
    pub components: Vec<Component<'a>>,
    /// Lines that were not content lines and were skipped.
    pub garbage_lines: usize,
    /// Components closed at the end of the document or by an END of an outer component.
    pub unclosed: usize,
    /// END lines that matched no open component.
    pub stray_ends: usize,
    /// Properties outside of any component.
    pub orphan_props: usize,
    /// Components dropped because the document had more than the limit.
    pub dropped_components: usize,
}

/// Reads `text` into a flat component tree. Errors only when BEGIN nesting exceeds `max_depth`.
pub(crate) fn read(
    text: &str,
    max_depth: usize,
    max_components: usize,
) -> Result<Tree<'_>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut tree = Tree::default();
    let mut stack: Vec<usize> = Vec::new();
    // Components beyond the limit are skipped, with everything inside them.
    let mut skip_depth = 0usize;
    for line in unfold_lines(text) {
        let Some(prop) = parse_line(&line) else {
            if !line.trim().is_empty() {
                tree.garbage_lines += 1;
            }
            continue;
        };
        match &*prop.name {
            "BEGIN" => {
                let name = prop.value.trim().to_ascii_uppercase();
                if !is_name(&name) {
                    tree.garbage_lines += 1;
                    continue;
                }
                if stack.len() + skip_depth >= max_depth {
                    return Err(ParseError::TooDeep { limit: max_depth });
                }
                if skip_depth > 0 || tree.components.len() >= max_components {
                    skip_depth += 1;
                    tree.dropped_components += 1;
                    continue;
                }
                let idx = tree.components.len();
                let parent = stack.last().copied();
                // An event has a dozen properties or so: room for them at once, rather than
                // growing 4 -> 8 -> 16 (a copy of every property at each step).
                let props = if name == "VEVENT" {
                    Vec::with_capacity(16)
                } else {
                    Vec::new()
                };
                tree.components.push(Component {
                    name,
                    props,
                    children: Vec::new(),
                });
                if let Some(p) = parent {
                    tree.components[p].children.push(idx);
                }
                stack.push(idx);
            }
            "END" => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                // Component names are upper-cased ASCII (checked by `is_name` at BEGIN), so
                // comparing ignoring ASCII case is comparing with the upper-cased value, without
                // a copy per END line.
                let name = prop.value.trim();
                match stack
                    .iter()
                    .rposition(|&i| tree.components[i].name.eq_ignore_ascii_case(name))
                {
                    Some(pos) => {
                        tree.unclosed += stack.len() - pos - 1;
                        stack.truncate(pos);
                    }
                    None => tree.stray_ends += 1,
                }
            }
            _ => {
                if skip_depth > 0 {
                    continue;
                }
                match stack.last() {
                    Some(&top) => tree.components[top].props.push(prop),
                    None => tree.orphan_props += 1,
                }
            }
        }
    }
    tree.unclosed += stack.len();
    Ok(tree)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// [`unfold_lines`] as owned strings.
#[cfg(test)]
fn unfold(text: &str) -> impl Iterator<Item = String> + '_ {
    unfold_lines(text).map(std::borrow::Cow::into_owned)
}

/// Physical lines joined into logical lines. CRLF, LF and a lone CR all end a line; a line
/// starting with a space or tab continues the previous one. Lines are lent out unless they had
/// to be joined: most are not folded, and copying each was a visible cost.
fn unfold_lines(text: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
    let mut physical = physical_lines(text).peekable();
    std::iter::from_fn(move || {
        loop {
            let first = physical.next()?;
            // `\r\n` yields an empty piece between the two; empty lines carry nothing anyway.
            if first.is_empty() {
                continue;
            }
            let mut line = std::borrow::Cow::Borrowed(first);
            while let Some(next) = physical.peek() {
                if next.is_empty() {
                    // The empty piece between `\r` and `\n`: look past it for a continuation.
                    physical.next();
                    continue;
                }
                if let Some(rest) = next.strip_prefix([' ', '\t']) {
                    line.to_mut().push_str(rest);
                    physical.next();
                } else {
                    break;
                }
            }
            return Some(line);
        }
    })
}

/// `text.split(['\n', '\r'])`, with the line ends found by a vectorized byte search: the
/// general pattern decoded and tested every character of the calendar. Both are ASCII and never
/// part of a multi-byte character, so the pieces are the same.
fn physical_lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut ends = memchr::memchr2_iter(b'\n', b'\r', text.as_bytes());
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let start = from?;
        match ends.next() {
            Some(end) => {
                from = Some(end + 1);
                text.get(start..end)
            }
            None => {
                from = None;
                text.get(start..)
            }
        }
    })
}

/// Property names nearly every calendar uses, upper-cased.
const KNOWN_NAMES: [&str; 24] = [
    "BEGIN",
    "END",
    "UID",
    "DTSTART",
    "DTEND",
    "DTSTAMP",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "URL",
    "CATEGORIES",
    "SEQUENCE",
    "STATUS",
    "RRULE",
    "EXDATE",
    "RDATE",
    "RECURRENCE-ID",
    "DURATION",
    "LAST-MODIFIED",
    "CREATED",
    "TZID",
    "TZOFFSETFROM",
    "TZOFFSETTO",
    "TZNAME",
];

/// `name.to_ascii_uppercase()`, lent from [`KNOWN_NAMES`] when it is one of them: a name
/// copied for every line of a calendar was a visible share of reading it.
fn upper_name(name: &str) -> Cow<'static, str> {
    match KNOWN_NAMES.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(name.to_ascii_uppercase()),
    }
}

/// Parameter names nearly every calendar uses, upper-cased.
const KNOWN_PARAMS: [&str; 4] = ["TZID", "VALUE", "CN", "LANGUAGE"];

/// `name.to_ascii_uppercase()`, lent from [`KNOWN_PARAMS`] when it is one of them.
fn upper_param(name: &str) -> Cow<'static, str> {
    match KNOWN_PARAMS.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(name.to_ascii_uppercase()),
    }
}

/// `NAME *(";" PARAM) ":" VALUE`, or `None` for a line that is not a content line.
fn parse_line<'a>(whole: &Cow<'a, str>) -> Option<Prop<'a>> {
    let line: &str = whole;
    let bytes = line.as_bytes();
    let name_end = bytes.iter().position(|&b| b == b';' || b == b':')?;
    let name = &line[..name_end];
    if !is_name(name.trim_end()) {
        return None;
    }
    let name = upper_name(name.trim_end());
    let mut params = Vec::new();
    let mut i = name_end;
    while bytes.get(i) == Some(&b';') {
        i += 1;
        let key_end = i + bytes[i..]
            .iter()
            .position(|&b| b == b'=' || b == b':' || b == b';')?;
        if bytes[key_end] != b'=' {
            // A parameter without a value (`;X-FOO:`): keep reading; the value may follow.
            i = key_end;
            continue;
        }
        let key = upper_param(line[i..key_end].trim());
        i = key_end + 1;
        // The values joined by commas, built as they are read (no list of them first); one
        // value (nearly always) is lent from a line that is lent.
        let mut joined: Option<Cow<'a, str>> = None;
        loop {
            let (value_at, value) = if bytes.get(i) == Some(&b'"') {
                let close = i + 1 + bytes[i + 1..].iter().position(|&b| b == b'"')?;
                let v = &line[i + 1..close];
                let at = i + 1;
                i = close + 1;
                (at, v)
            } else {
                let end = i + bytes[i..]
                    .iter()
                    .position(|&b| b == b',' || b == b';' || b == b':')?;
                let v = &line[i..end];
                let at = i;
                i = end;
                (at, v)
            };
            joined = Some(match joined {
                None => match whole {
                    Cow::Borrowed(text) => {
                        Cow::Borrowed(text.get(value_at..value_at + value.len())?)
                    }
                    Cow::Owned(_) => Cow::Owned(value.to_string()),
                },
                Some(so_far) => {
                    let mut more = so_far.into_owned();
                    more.push(',');
                    more.push_str(value);
                    Cow::Owned(more)
                }
            });
            if bytes.get(i) == Some(&b',') {
                i += 1;
            } else {
                break;
            }
        }
        params.push((key, joined.unwrap_or_default()));
    }
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    let value = match whole {
        Cow::Borrowed(text) => Cow::Borrowed(text.get(i + 1..)?),
        Cow::Owned(_) => Cow::Owned(line.get(i + 1..)?.to_string()),
    };
    Some(Prop {
        name,
        params,
        value,
    })
}

/// A TEXT value with its escapes (`\n \N \, \; \\`) resolved.
pub(crate) fn unescape(s: &str) -> String {
    // Most values have no escape at all, or a few: copy whole stretches up to each backslash
    // (found by memchr), not character by character after the first one.
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let mut after = rest[at + 1..].chars();
        match after.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
        rest = after.as_str();
    }
    out.push_str(rest);
    out
}

/// [`unescape`] character by character, as it was first written.
#[cfg(test)]
fn unescape_by_char(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a list value (CATEGORIES, EXDATE) on commas that are not escaped. The pieces are
/// found on the bytes and copied whole: a backslash protects the byte after it, and neither
/// `,` nor `\\` occurs inside a multi-byte character, so this cuts where a walk over the
/// characters would.
pub(crate) fn split_list(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b',' => {
                out.push(&s[from..i]);
                i += 1;
                from = i;
            }
            _ => i += 1,
        }
    }
    out.push(s.get(from..).unwrap_or_default());
    out
}

/// [`split_list`] character by character, as it was first written.
#[cfg(test)]
fn split_list_by_char(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, parameters and value a line should read as.
    type Want = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    #[test]
    fn content_lines_table() {
        let cases: &[(&str, Option<Want>)] = &[
            ("SUMMARY:Hello", Some(("SUMMARY", &[], "Hello"))),
            (
                "dtstart;tzid=Europe/Berlin:20200101T100000",
                Some(("DTSTART", &[("TZID", "Europe/Berlin")], "20200101T100000")),
            ),
            (
                "ORGANIZER;CN=\"Doe; Jane: PhD\";ROLE=CHAIR:mailto:j@x",
                Some((
                    "ORGANIZER",
                    &[("CN", "Doe; Jane: PhD"), ("ROLE", "CHAIR")],
                    "mailto:j@x",
                )),
            ),
            ("X-A;P=a,\"b,c\":v", Some(("X-A", &[("P", "a,b,c")], "v"))),
            ("Sorry, I cannot change this meeting time", None),
            ("BEG\u{fffd}IN", None),
            ("NAME;P=\"unterminated:v", None),
        ];
        for (line, want) in cases {
            let got = parse_line(&Cow::Borrowed(line));
            // A folded line (owned) reads the same.
            let owned = parse_line(&Cow::Owned(line.to_string()));
            assert_eq!(
                got.as_ref().map(|p| (&p.name, &p.params, &p.value)),
                owned.as_ref().map(|p| (&p.name, &p.params, &p.value)),
                "{line}"
            );
            match (got, want) {
                (None, None) => {}
                (Some(p), Some((name, params, value))) => {
                    assert_eq!(p.name, *name, "{line}");
                    let params: Vec<(String, String)> = params
                        .iter()
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .collect();
                    let got: Vec<(String, String)> = p
                        .params
                        .iter()
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .collect();
                    assert_eq!(got, params, "{line}");
                    assert_eq!(p.value, *value, "{line}");
                }
                (got, want) => panic!("{line}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn unfolding_joins_continuations_across_line_ending_styles() {
        let text = "A:one\r\n two\r\nB:x\n\tthree\rC:y";
        let lines: Vec<String> = unfold(text).collect();
        assert_eq!(lines, ["A:onetwo", "B:xthree", "C:y"]);
    }

    proptest::proptest! {
        #[test]
        fn stretch_copies_equal_the_char_walks(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\\", "\\n", "\\N", "\\,", ",", "\\\\", "a", "Q&A", "é", "\\é", "😀", " ", ";",
                ]),
                0..16,
            ),
        ) {
            let s = parts.concat();
            proptest::prop_assert_eq!(unescape(&s), unescape_by_char(&s));
            proptest::prop_assert_eq!(split_list(&s), split_list_by_char(&s));
        }

        #[test]
        fn physical_lines_are_what_splitting_on_line_ends_gives(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\r\n", "\n", "\r", "\n\r", "A:b", " x", "\t", "é", "😀", "\u{2028}",
                    "\u{85}", "", "BEGIN:VEVENT",
                ]),
                0..24,
            ),
        ) {
            let s = parts.concat();
            let fast: Vec<&str> = physical_lines(&s).collect();
            let slow: Vec<&str> = s.split(['\n', '\r']).collect();
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn known_names_are_what_uppercasing_gives() {
        for name in [
            "begin",
            "Begin",
            "DTSTART",
            "dtStart",
            "x-wr-calname",
            "recurrence-id",
            "BEGİN",
            "É",
        ] {
            assert_eq!(upper_name(name), name.to_ascii_uppercase(), "{name}");
        }
        for name in [
            "tzid", "TzId", "value", "cn", "Language", "x-foo", "TZİD", "",
        ] {
            assert_eq!(upper_param(name), name.to_ascii_uppercase(), "{name}");
        }
        for k in KNOWN_NAMES {
            assert_eq!(k, k.to_ascii_uppercase());
            assert!(matches!(
                upper_name(&k.to_ascii_lowercase()),
                Cow::Borrowed(_)
            ));
        }
    }

    #[test]
    fn unescape_and_split() {
        assert_eq!(unescape(r"a\, b\; c\\d\ne"), "a, b; c\\d\ne");
        assert_eq!(split_list(r"a,b\,c,d"), ["a", r"b\,c", "d"]);
    }
}
