//! Text helpers: folding for matching, whitespace, summaries.

/// Lowercases, strips accents from common Latin letters, and turns every run of
/// non-alphanumeric characters into one space. Used for vocabulary matching and title similarity.
pub fn fold_for_match(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        let mapped = fold_char(ch);
        match mapped {
            Some(c) => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
            None if ch.is_alphanumeric() => {
                if pending_space && !out.is_empty() {
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
    out
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
    for word in text.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Removes control characters that have no place in text fields (keeps tab and newline).
pub fn strip_controls(text: &str) -> String {
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
        assert_eq!(fold_for_match("  Café—Préservation: 101!  "), "cafe preservation 101");
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
