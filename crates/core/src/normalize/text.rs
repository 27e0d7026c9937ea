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
/// Bytes are walked directly and ASCII is handled without decoding a `char`: this runs over
/// the title and description of every item of every feed, and nearly all of it is ASCII.
pub fn fold_into(text: &str, out: &mut String) {
    let start = out.len();
    out.reserve(text.len());
    let mut pending_space = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            i += 1;
            if b.is_ascii_alphanumeric() {
                if pending_space && out.len() > start {
                    out.push(' ');
                }
                pending_space = false;
                out.push(char::from(b.to_ascii_lowercase()));
            } else {
                pending_space = true;
            }
            continue;
        }
        let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i += ch.len_utf8();
        match fold_char(ch) {
            Some(c) => {
                if pending_space && out.len() > start {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
            None if ch.is_alphanumeric() => {
                if pending_space && out.len() > start {
                    out.push(' ');
                }
                pending_space = false;
                for l in ch.to_lowercase() {
                    out.push(l);
                }
            }
            None => pending_space = true,
        }
    }
}

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
    let mut out = String::with_capacity(text.len());
    // Words are copied whole; only non-ASCII bytes need a `char` decoded to know whether they
    // are whitespace (NBSP, U+2028, ...). Called for nearly every text field of every item.
    let bytes = text.as_bytes();
    let mut word_start: Option<usize> = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (is_space, len) = if b.is_ascii() {
            // `char::is_whitespace` for ASCII: space and \t \n \x0B \x0C \r.
            (b == b' ' || (b'\t'..=b'\r').contains(&b), 1)
        } else {
            match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) => (c.is_whitespace(), c.len_utf8()),
                None => break,
            }
        };
        if is_space {
            if let Some(s) = word_start.take() {
                push_word(&mut out, &text[s..i]);
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
        i += len;
    }
    if let Some(s) = word_start {
        push_word(&mut out, &text[s..]);
    }
    out
}

fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
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

/// A plain-text summary of at most `max_chars` characters, cut at a word boundary with an
/// ellipsis when shortened.
pub fn summarize(text: &str, max_chars: usize) -> String {
    let squashed = squash_whitespace(text);
    if squashed.chars().count() <= max_chars {
        return squashed;
    }
    let mut cut: String = squashed.chars().take(max_chars).collect();
    if let Some(pos) = cut.rfind(' ')
        && pos > max_chars / 2
    {
        cut.truncate(pos);
    }
    let trimmed = cut.trim_end_matches(|c: char| c.is_ascii_punctuation() || c == ' ');
    format!("{trimmed}…")
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

/// Every alternative of [`SCRIPTY`] needs a `<`, `:` or `=`; most titles, summaries and names
/// have none, and a byte scan is far cheaper than starting the regex on each of them.
fn might_be_scripty(text: &str) -> bool {
    text.bytes().any(|b| matches!(b, b'<' | b':' | b'='))
}

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
