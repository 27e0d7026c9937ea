//! Text helpers: folding for matching, whitespace, summaries.

/// Lowercases, strips accents from common Latin letters, and turns every run of
/// non-alphanumeric characters into one space. Used for vocabulary matching and title similarity.
pub fn fold_for_match(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Appends [`fold_for_match`]`(text)` to `out`, so callers can fold several texts into one
/// buffer without an allocation each.
///
/// Bytes are walked directly and ASCII is handled by one table lookup, without decoding a
/// `char`: this runs over the title and description of every item of every feed, and nearly
/// all of it is ASCII.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        fold_ascii_into(text, out);
        return;
    }
    let mut buf = std::mem::take(out).into_bytes();
    let start = buf.len();
    buf.reserve(text.len());
    let mut pending_space = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let folded = FOLD_ASCII[usize::from(b)];
        if folded != 0 {
            if pending_space && buf.len() > start {
                buf.push(b' ');
            }
            pending_space = false;
            buf.push(folded);
            i += 1;
            continue;
        }
        if b.is_ascii() {
            pending_space = true;
            i += 1;
            continue;
        }
        let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i += ch.len_utf8();
        match fold_char(ch) {
            Some(c) => {
                if pending_space && buf.len() > start {
                    buf.push(b' ');
                }
                pending_space = false;
                push_char(&mut buf, c);
            }
            None if ch.is_alphanumeric() => {
                if pending_space && buf.len() > start {
                    buf.push(b' ');
                }
                pending_space = false;
                for l in ch.to_lowercase() {
                    push_char(&mut buf, l);
                }
            }
            None => pending_space = true,
        }
    }
    // Only whole characters were appended to valid UTF-8, so this never takes the lossy path.
    *out = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// [`fold_into`] for ASCII text (nearly all text folded): the text is copied whole, then folded
/// in place, each byte written at or before where it was read (a space is only written for a
/// run of at least one byte that was dropped). Pushing byte by byte checked the capacity of
/// the buffer for every byte.
fn fold_ascii_into(text: &str, out: &mut String) {
    let mut buf = std::mem::take(out).into_bytes();
    let start = buf.len();
    buf.extend_from_slice(text.as_bytes());
    let mut write = start;
    let mut pending_space = false;
    for read in start..buf.len() {
        let folded = FOLD_ASCII[usize::from(buf[read])];
        if folded == 0 {
            pending_space = true;
            continue;
        }
        if pending_space && write > start {
            buf[write] = b' ';
            write += 1;
        }
        pending_space = false;
        buf[write] = folded;
        write += 1;
    }
    buf.truncate(write);
    // Only ASCII was appended to valid UTF-8, so this never takes the lossy path.
    *out = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

fn push_char(buf: &mut Vec<u8>, c: char) {
    let mut tmp = [0u8; 4];
    buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

/// ASCII letters and digits to their lowercase, every other byte to 0.
static FOLD_ASCII: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] = c.to_ascii_lowercase();
        }
        b += 1;
    }
    t
};

fn fold_char(ch: char) -> Option<char> {
    if ch.is_ascii_alphanumeric() {
        return Some(ch.to_ascii_lowercase());
    }
    let base = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        _ => return None,
    };
    Some(base)
}

/// Collapses every run of whitespace (including newlines and NBSP) into one space and trims.
pub fn squash_whitespace(text: &str) -> String {
    squashed(text).unwrap_or_else(|| text.to_string())
}

/// [`squash_whitespace`] of a string the caller gives away: given back as it is when it is
/// already squashed (most fields are), instead of copied into a new one.
pub fn squash_whitespace_owned(text: String) -> String {
    squashed(&text).unwrap_or(text)
}

/// `text` squashed, or `None` when squashing leaves it as it is.
fn squashed(text: &str) -> Option<String> {
    // Made at the first whitespace run that changes: an already squashed text is not copied.
    let mut out: Option<String> = None;
    // Most text is already squashed, or nearly: copy whole stretches and only break one where a
    // whitespace run is something other than a single space between two words. Only non-ASCII
    // bytes need a `char` decoded to know whether they are whitespace (NBSP, U+2028, ...).
    // Called for nearly every text field of every item.
    let bytes = text.as_bytes();
    let mut copy_from = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        // Eight bytes at a time while they are words and single spaces between them.
        if let Some(chunk) = squashed_chunk(bytes, i) {
            i += chunk;
            continue;
        }
        // Printable ASCII is never whitespace: the common case, decided without a call.
        if is_graphic_ascii(b) {
            i += 1;
            continue;
        }
        // One space between two printable ASCII characters stays as it is: the next most
        // common case, decided without looking for the run's end.
        if b == b' ' && i > 0 && bytes.get(i + 1).is_some_and(|n| is_graphic_ascii(*n)) {
            i += 2;
            continue;
        }
        let len = whitespace_len(text, i);
        if len == 0 {
            i += utf8_len(bytes[i]);
            continue;
        }
        let run_start = i;
        i += len;
        loop {
            let more = whitespace_len(text, i);
            if more == 0 {
                break;
            }
            i += more;
        }
        let single_inner_space =
            i == run_start + 1 && bytes[run_start] == b' ' && run_start > 0 && i < bytes.len();
        if single_inner_space {
            continue;
        }
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copy_from..run_start]);
        if !out.is_empty() && i < bytes.len() {
            out.push(' ');
        }
        copy_from = i;
    }
    out.map(|mut out| {
        out.push_str(&text[copy_from..]);
        out
    })
}

/// 8 when the eight bytes at `i` are printable ASCII and single spaces that the byte-by-byte
/// loop of [`squash_whitespace`] would step over without copying anything: no space at the
/// very start of the text, no two spaces in a row, and a space in the last place only when
/// printable ASCII follows it. `None` otherwise (the loop then looks byte by byte).
fn squashed_chunk(bytes: &[u8], i: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let chunk: [u8; 8] = bytes.get(i..i + 8)?.try_into().ok()?;
    let x = u64::from_le_bytes(chunk);
    // Any byte below 0x20 (controls, tab, newline) or above 0x7e (DEL, non-ASCII).
    let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let above = (x.wrapping_add(ONES) | x) & HIGH;
    if below | above != 0 {
        return None;
    }
    // One high bit per byte that is a space, exactly (no borrow crosses bytes).
    let y = x ^ (ONES * 0x20);
    let spaces = !(((y & LOW7).wrapping_add(LOW7)) | y) & HIGH;
    if spaces & (spaces << 8) != 0 {
        return None;
    }
    if chunk[0] == b' ' && i == 0 {
        return None;
    }
    if chunk[7] == b' ' && !bytes.get(i + 8).is_some_and(|b| is_graphic_ascii(*b)) {
        return None;
    }
    Some(8)
}

/// `!` to `~`: printable ASCII other than the space.
fn is_graphic_ascii(b: u8) -> bool {
    b.wrapping_sub(b'!') <= b'~' - b'!'
}

/// Bytes of the whitespace character at `i`, 0 when there is none (or `i` is the end).
fn whitespace_len(text: &str, i: usize) -> usize {
    match text.as_bytes().get(i) {
        // `char::is_whitespace` for ASCII: space and \t \n \x0B \x0C \r.
        Some(&b) if b.is_ascii() => usize::from(b == b' ' || (b'\t'..=b'\r').contains(&b)),
        Some(_) => text
            .get(i..)
            .and_then(|rest| rest.chars().next())
            .filter(|c| c.is_whitespace())
            .map_or(0, char::len_utf8),
        None => 0,
    }
}

/// Length of the UTF-8 sequence a leading byte starts (1 for anything else, to stay on the move).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Removes control characters that have no place in text fields (keeps tab and newline).
pub fn strip_controls(text: &str) -> String {
    // Almost no text has any: copy it whole rather than char by char.
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.to_string();
    }
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// [`strip_controls`] of a string the caller gives away: given back as it is when it holds
/// none (almost no text does), instead of copied.
pub fn strip_controls_owned(text: String) -> String {
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        strip_controls(&text)
    } else {
        text
    }
}

/// [`summarize`] of a string the caller gives away: a short, squashed text is given back as
/// it is.
pub fn summarize_owned(text: String, max_chars: usize) -> String {
    let squashed = squash_whitespace_owned(text);
    if squashed.len() <= max_chars {
        return squashed;
    }
    summarize_squashed(&squashed, max_chars)
}

/// A plain-text summary of at most `max_chars` characters, cut at a word boundary with an
/// ellipsis when shortened.
pub fn summarize(text: &str, max_chars: usize) -> String {
    let squashed = squash_whitespace(text);
    if squashed.len() <= max_chars {
        return squashed;
    }
    summarize_squashed(&squashed, max_chars)
}

/// [`summarize`] for text that is already [`squash_whitespace`]d (squashing is idempotent), so
/// it is not squashed again.
pub fn summarize_squashed(squashed: &str, max_chars: usize) -> String {
    // Slice at the byte where character `max_chars` starts instead of collecting chars. Text
    // of at most `max_chars` bytes has no such character; in ASCII it starts at that byte.
    if squashed.len() <= max_chars {
        return squashed.to_string();
    }
    let cut_at = if squashed.as_bytes()[..=max_chars].is_ascii() {
        max_chars
    } else {
        match squashed.char_indices().nth(max_chars) {
            Some((at, _)) => at,
            None => return squashed.to_string(),
        }
    };
    let mut cut = &squashed[..cut_at];
    if let Some(pos) = cut.rfind(' ')
        && pos > max_chars / 2
    {
        cut = &cut[..pos];
    }
    let trimmed = cut.trim_end_matches(|c: char| c.is_ascii_punctuation() || c == ' ');
    let mut out = String::with_capacity(trimmed.len() + '…'.len_utf8());
    out.push_str(trimmed);
    out.push('…');
    out
}

#[cfg(test)]
mod equivalence_tests {
    //! The fast text primitives against the straightforward versions they replaced.
    use proptest::prelude::*;

    use super::{fold_into, squash_whitespace, summarize};

    mod reference {
        pub fn fold_into(text: &str, out: &mut String) {
            let mut buf = std::mem::take(out).into_bytes();
            let start = buf.len();
            buf.reserve(text.len());
            let mut pending_space = false;
            let bytes = text.as_bytes();
            let mut i = 0;
            while let Some(&b) = bytes.get(i) {
                if b.is_ascii_alphanumeric() {
                    if pending_space && buf.len() > start {
                        buf.push(b' ');
                    }
                    pending_space = false;
                    buf.push(b.to_ascii_lowercase());
                    i += 1;
                    continue;
                }
                if b.is_ascii() {
                    pending_space = true;
                    i += 1;
                    continue;
                }
                let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) else {
                    break;
                };
                i += ch.len_utf8();
                match super::super::fold_char(ch) {
                    Some(c) => {
                        if pending_space && buf.len() > start {
                            buf.push(b' ');
                        }
                        pending_space = false;
                        push_char(&mut buf, c);
                    }
                    None if ch.is_alphanumeric() => {
                        if pending_space && buf.len() > start {
                            buf.push(b' ');
                        }
                        pending_space = false;
                        for l in ch.to_lowercase() {
                            push_char(&mut buf, l);
                        }
                    }
                    None => pending_space = true,
                }
            }
            // Only whole characters were appended to valid UTF-8, so this never takes the lossy path.
            *out = String::from_utf8(buf)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }

        fn push_char(buf: &mut Vec<u8>, c: char) {
            let mut tmp = [0u8; 4];
            buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }

        pub fn squash_whitespace(text: &str) -> String {
            let mut out = String::with_capacity(text.len());
            // Most text is already squashed, or nearly: copy whole stretches and only break one where a
            // whitespace run is something other than a single space between two words. Only non-ASCII
            // bytes need a `char` decoded to know whether they are whitespace (NBSP, U+2028, ...).
            // Called for nearly every text field of every item.
            let bytes = text.as_bytes();
            let mut copy_from = 0;
            let mut i = 0;
            while let Some(&b) = bytes.get(i) {
                // Printable ASCII is never whitespace: the common case, decided without a call.
                if b > b' ' && b < 0x7f {
                    i += 1;
                    continue;
                }
                let len = super::super::whitespace_len(text, i);
                if len == 0 {
                    i += super::super::utf8_len(bytes[i]);
                    continue;
                }
                let run_start = i;
                i += len;
                loop {
                    let more = super::super::whitespace_len(text, i);
                    if more == 0 {
                        break;
                    }
                    i += more;
                }
                let single_inner_space = i == run_start + 1
                    && bytes[run_start] == b' '
                    && run_start > 0
                    && i < bytes.len();
                if single_inner_space {
                    continue;
                }
                out.push_str(&text[copy_from..run_start]);
                if !out.is_empty() && i < bytes.len() {
                    out.push(' ');
                }
                copy_from = i;
            }
            out.push_str(&text[copy_from..]);
            out
        }

        pub fn summarize(text: &str, max_chars: usize) -> String {
            let squashed = squash_whitespace(text);
            // Slice at the byte where character `max_chars` starts instead of collecting chars.
            let Some((cut_at, _)) = squashed.char_indices().nth(max_chars) else {
                return squashed;
            };
            let mut cut = squashed[..cut_at].to_string();
            if let Some(pos) = cut.rfind(' ')
                && pos > max_chars / 2
            {
                cut.truncate(pos);
            }
            let trimmed = cut.trim_end_matches(|c: char| c.is_ascii_punctuation() || c == ' ');
            format!("{trimmed}…")
        }
    }

    /// Text made of what these functions treat differently: ASCII letters, digits and
    /// punctuation, every kind of whitespace, accented and other non-ASCII letters.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(vec![
                    "a", "Z", "9", "word", "Préservation", " ", "  ", "\n", "\t", "\r\n",
                    "\u{b}", "\u{c}", "\u{a0}", "\u{2028}", "\u{3000}", "\u{85}", ".", "-",
                    "'", "é", "Ä", "İ", "ſ", "ß", "ﬁ", "日本", "😀", "\u{301}", "\u{0}", "…",
                ])
                .prop_map(str::to_string),
                1 => any::<char>().prop_map(String::from),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn fold_into_equals_the_byte_by_byte_version(prefix in text(), t in text()) {
            let mut fast = prefix.clone();
            fold_into(&t, &mut fast);
            let mut slow = prefix;
            reference::fold_into(&t, &mut slow);
            prop_assert_eq!(fast, slow);
        }

        /// ASCII text takes the in-place path: any ASCII, after any prefix.
        #[test]
        fn fold_into_ascii_equals_the_byte_by_byte_version(
            prefix in text(),
            t in "[\\x00-\\x7f]{0,80}",
            words in prop::collection::vec(
                prop::sample::select(vec!["Word", "a", "9", " ", "  ", "-", ".", "\n", "x'y"]),
                0..30,
            ),
        ) {
            for t in [t, words.concat()] {
                prop_assert!(t.is_ascii());
                let mut fast = prefix.clone();
                fold_into(&t, &mut fast);
                let mut slow = prefix.clone();
                reference::fold_into(&t, &mut slow);
                prop_assert_eq!(fast, slow);
            }
        }

        #[test]
        fn squash_equals_the_run_by_run_version(t in text()) {
            prop_assert_eq!(squash_whitespace(&t), reference::squash_whitespace(&t));
        }

        #[test]
        fn squash_equals_the_run_by_run_version_on_ascii_prose(
            words in prop::collection::vec(
                prop_oneof![
                    8 => prop::sample::select(vec!["a", "word", "Longer", "x,", "(9)", "$25.00"]),
                    4 => Just(" "),
                    1 => prop::sample::select(vec!["  ", "\n", "\t", "é", "\u{a0}", "\u{7f}", "~"]),
                ],
                0..60,
            ),
        ) {
            // Long stretches of words and single spaces: what the eight-byte steps read.
            let t = words.concat();
            prop_assert_eq!(squash_whitespace(&t), reference::squash_whitespace(&t));
        }

        #[test]
        fn squashing_is_idempotent(t in text()) {
            let once = squash_whitespace(&t);
            prop_assert_eq!(squash_whitespace(&once), once.clone());
            prop_assert_eq!(super::squash_whitespace_owned(t.clone()), once.clone());
            prop_assert_eq!(super::summarize_owned(t.clone(), 20), summarize(&t, 20));
            prop_assert_eq!(super::summarize_owned(t.clone(), 2000), summarize(&t, 2000));
            prop_assert_eq!(super::strip_controls_owned(t.clone()), super::strip_controls(&t));
            prop_assert_eq!(super::summarize_squashed(&once, 20), summarize(&t, 20));
        }

        #[test]
        fn summarize_equals_the_char_counting_version(t in text(), max in 0usize..60) {
            prop_assert_eq!(summarize(&t, max), reference::summarize(&t, max));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_accents_and_punctuation() {
        assert_eq!(
            fold_for_match("  Café—Préservation: 101!  "),
            "cafe preservation 101"
        );
        assert_eq!(fold_for_match("Children's Services"), "children s services");
        assert_eq!(fold_for_match("Ärchiv München"), "archiv munchen");
    }

    #[test]
    fn fold_into_appends_what_fold_for_match_returns() {
        for (a, b) in [
            ("Café—Préservation", "  101!  "),
            ("", " x "),
            ("İstanbul ſ", "Ärchiv"),
            ("...", "..."),
        ] {
            let mut out = fold_for_match(a);
            out.push('|');
            fold_into(b, &mut out);
            assert_eq!(out, format!("{}|{}", fold_for_match(a), fold_for_match(b)));
        }
    }

    #[test]
    fn squash_handles_every_kind_of_whitespace_run() {
        for (input, want) in [
            ("", ""),
            ("   ", ""),
            ("a b", "a b"),
            (" a  b ", "a b"),
            ("a\u{b}b\u{a0}\u{2028}c", "a b c"),
            ("\ta\r\nb\u{3000}", "a b"),
            ("é  ü", "é ü"),
        ] {
            assert_eq!(squash_whitespace(input), want, "{input:?}");
        }
    }

    #[test]
    fn summary_is_cut_on_a_word_with_ellipsis() {
        let s = summarize("one two three four five six seven", 15);
        assert_eq!(s, "one two three…");
        assert_eq!(summarize("short\n\n text", 100), "short text");
    }

    #[test]
    fn summary_never_splits_multibyte_characters() {
        let s = summarize(&"é".repeat(50), 10);
        assert!(s.ends_with('…'));
        assert_eq!(s.chars().count(), 11);
    }
}

static SCRIPTY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    regex::Regex::new(r"(?i)<\s*script|javascript\s*:|vbscript\s*:|\bon[a-z]+\s*=")
        .expect("scripty regex compiles")
});

/// Whether [`SCRIPTY`] could match: a cheap superset of its three alternatives, so the regex
/// (slow here: Unicode `\b` keeps it off its DFA) only runs where it might find something.
/// Most titles, summaries and descriptions then skip it, including sanitized HTML whose only
/// `=` are attributes such as `href=` and `rel=`.
fn might_be_scripty(text: &str) -> bool {
    // `<\s*script` and `(java|vb)script\s*:` both need "cript" (no letter of it has a
    // non-ASCII case variant) and a `<` or `:`; `on...=` needs a `=`. All three bytes are
    // found in one vectorized pass (three scans of every description and summary were a
    // visible cost per item).
    let mut lt_or_colon = false;
    for at in memchr::memchr3_iter(b'<', b':', b'=', text.as_bytes()) {
        if text.as_bytes()[at] == b'=' {
            if on_handler_before(&text[..at]) {
                return true;
            }
        } else {
            lt_or_colon = true;
        }
    }
    lt_or_colon && CRIPT.is_match(text)
}

#[cfg(test)]
/// [`might_be_scripty`] as it was written first: one search per byte it looks for.
fn might_be_scripty_by_search(text: &str) -> bool {
    let script = (text.contains('<') || text.contains(':')) && CRIPT.is_match(text);
    script
        || text
            .match_indices('=')
            .any(|(at, _)| on_handler_before(&text[..at]))
}

/// `\bon[a-z]+\s*` could end at the end of `head`: the letters before any trailing
/// whitespace are at least three and contain "on". `[a-z]` under `(?i)` also takes `ſ` and
/// the Kelvin sign.
fn on_handler_before(head: &str) -> bool {
    let letters = head
        .trim_end_matches(char::is_whitespace)
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '\u{17f}' || *c == '\u{212a}')
        .map(|c| c.to_ascii_lowercase());
    // Reversed: "no" read backwards is "on" read forwards.
    let mut count = 0;
    let mut prev = ' ';
    let mut found = false;
    for c in letters {
        count += 1;
        if prev == 'n' && c == 'o' {
            found = true;
        }
        prev = c;
    }
    found && count >= 3
}

/// "cript" in any ASCII case: a plain literal search (SIMD over its case variants), unlike
/// [`SCRIPTY`] itself.
static CRIPT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    regex::Regex::new(r"(?i-u)cript").expect("literal regex compiles")
});

/// Defence in depth for plain-text fields: even though every consumer must escape text,
/// a title such as `&lt;script&gt;` decodes to `<script>` and would be live markup in any page
/// or widget that forgets to. Such sequences are rare in real offerings and always hostile, so
/// the one character that makes them executable is swapped for a look-alike (`<` → `‹`,
/// `:` → `∶`, `=` → `＝`); the rest of the text is untouched.
pub fn defang_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !might_be_scripty(text) || !SCRIPTY.is_match(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let out = SCRIPTY.replace_all(text, |caps: &regex::Captures<'_>| {
        let m = &caps[0];
        if let Some(rest) = m.strip_prefix('<') {
            format!("‹{rest}")
        } else if let Some(head) = m.strip_suffix(':') {
            format!("{head}∶")
        } else if let Some(head) = m.strip_suffix('=') {
            format!("{head}＝")
        } else {
            m.to_string()
        }
    });
    std::borrow::Cow::Owned(out.into_owned())
}

/// The same defence for sanitized HTML: the markup is already safe, but text nodes can still
/// spell `javascript:` or `onload=`; those characters become numeric references, which render
/// identically.
pub fn defang_html(html: &str) -> std::borrow::Cow<'_, str> {
    if !might_be_scripty(html) || !SCRIPTY.is_match(html) {
        return std::borrow::Cow::Borrowed(html);
    }
    let out = SCRIPTY.replace_all(html, |caps: &regex::Captures<'_>| {
        let m = &caps[0];
        if let Some(rest) = m.strip_prefix('<') {
            format!("&lt;{rest}")
        } else if let Some(head) = m.strip_suffix(':') {
            format!("{head}&#58;")
        } else if let Some(head) = m.strip_suffix('=') {
            format!("{head}&#61;")
        } else {
            m.to_string()
        }
    });
    std::borrow::Cow::Owned(out.into_owned())
}

#[cfg(test)]
mod defang_tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn one_pass_scripty_check_equals_the_search_per_byte(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "<", ":", "=", "script", "cript", "Java", "on", "onload", "ONCLICK", " ", "\t",
                    "x", "é", "ſ", "<p>", "href=\"x\"", "a=b", "on=", "\u{212a}",
                ]),
                0..16,
            ),
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(
                might_be_scripty(&text),
                might_be_scripty_by_search(&text),
                "{:?}",
                text
            );
        }
    }

    #[test]
    fn the_scripty_precheck_never_hides_a_match() {
        for s in [
            "<script>",
            "< \n SCRIPT",
            "<ſcript>",
            "JavaScript :x",
            "vbſcript:",
            "x onload=1",
            "x ONCLICK \t =1",
            "x onſ=1",
            "x on\u{212a}=1",
            "<p onmouseover=\"x\">",
            "a=b on=c",
            "éonload=x",
        ] {
            if SCRIPTY.is_match(s) {
                assert!(might_be_scripty(s), "{s:?}");
            }
        }
        assert!(!might_be_scripty(
            "<p><a href=\"https://x.org/\" rel=\"noopener\">Session: one</a></p>"
        ));
    }

    #[test]
    fn defang_neutralizes_only_the_dangerous_sequences() {
        assert_eq!(
            defang_text("Intro to <script>alert(1)</script>"),
            "Intro to ‹script>alert(1)</script>"
        );
        assert_eq!(
            defang_text("see JavaScript: the good parts"),
            "see JavaScript∶ the good parts"
        );
        assert_eq!(defang_text("x onerror=alert(1)"), "x onerror＝alert(1)");
        assert_eq!(
            defang_text("Online workshop: metadata"),
            "Online workshop: metadata"
        );
        assert_eq!(
            defang_html("<p>javascript:alert(1)</p>"),
            "<p>javascript&#58;alert(1)</p>"
        );
    }
}
