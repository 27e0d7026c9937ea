//! Reading one JSON-LD block: a depth gate before serde sees it, then a strict parse, then a
//! repaired parse for the ways real pages break JSON.

use serde_json::Value;

/// Why a block could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BlockError {
    Empty,
    TooDeep(usize),
    Syntax(String),
}

/// Parses one `<script type="application/ld+json">` body. Nesting deeper than `max_depth` is
/// refused before any recursive parser runs (serde_json recurses per level).
pub(crate) fn parse_block(raw: &str, max_depth: usize) -> Result<Value, BlockError> {
    let text = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == ';');
    if text.is_empty() {
        return Err(BlockError::Empty);
    }
    let depth = max_nesting(text);
    if depth > max_depth {
        return Err(BlockError::TooDeep(depth));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Ok(v),
        Err(strict) => {
            let repaired = repair(text);
            if repaired.trim().is_empty() {
                return Err(BlockError::Empty);
            }
            serde_json::from_str::<Value>(&repaired)
                .map_err(|_| BlockError::Syntax(strict.to_string()))
        }
    }
}

/// The deepest `[`/`{` nesting outside strings. Linear and allocation-free; unbalanced input
/// only makes the figure larger, never smaller.
pub(crate) fn max_nesting(text: &str) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    let mut in_string = false;
    let mut escaped = false;
    for b in text.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Repairs what breaks JSON-LD on real pages, in one linear pass:
/// - `//` and `/* */` comments, `<!-- -->` and `<![CDATA[ ]]>` wrappers outside strings;
/// - trailing and doubled commas (`{"a":1,}`, `"x",,`);
/// - raw control characters inside strings (newlines, tabs) are escaped;
/// - invalid escapes such as PHP's `\'` lose their backslash.
///
/// Anything else (a `;` instead of a `,`, unquoted keys) stays broken: guessing further risks
/// reading a different document than the one published.
pub(crate) fn repair(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut in_string = false;
    // A comma seen outside strings, held until the next significant character shows whether
    // it separates two values.
    let mut pending_comma = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            match c {
                '"' => {
                    in_string = false;
                    out.push(c);
                }
                '\\' => match chars.get(i + 1) {
                    Some(&n @ ('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't')) => {
                        out.push('\\');
                        out.push(n);
                        i += 1;
                    }
                    Some('u')
                        if chars
                            .get(i + 2..i + 6)
                            .is_some_and(|h| h.iter().all(char::is_ascii_hexdigit)) =>
                    {
                        out.push('\\');
                    }
                    Some(_) => {}
                    None => out.push_str("\\\\"),
                },
                c if (c as u32) < 0x20 => push_control(c, &mut out),
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        let rest = &chars[i..];
        if starts_with(rest, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if starts_with(rest, "/*") {
            i += 2;
            while i < chars.len() && !starts_with(&chars[i..], "*/") {
                i += 1;
            }
            i = (i + 2).min(chars.len());
            continue;
        }
        if let Some(skip) = ["<!--", "-->", "<![CDATA[", "]]>"]
            .iter()
            .find(|w| starts_with(rest, w))
        {
            i += skip.chars().count();
            continue;
        }
        match c {
            ',' => pending_comma = true,
            c if c.is_whitespace() => out.push(c),
            c => {
                if pending_comma && !matches!(c, '}' | ']') && !out.trim_end().ends_with(['[', '{'])
                {
                    out.push(',');
                }
                pending_comma = false;
                if c == '"' {
                    in_string = true;
                }
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

fn starts_with(hay: &[char], needle: &str) -> bool {
    let mut n = needle.chars();
    let mut h = hay.iter();
    loop {
        match (n.next(), h.next()) {
            (None, _) => return true,
            (Some(a), Some(b)) if a == *b => {}
            _ => return false,
        }
    }
}

fn push_control(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{:04x}", c as u32)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_what_real_pages_break() {
        let cases: &[(&str, &str, serde_json::Value)] = &[
            (
                "trailing comma",
                r#"{"a": 1,}"#,
                serde_json::json!({"a": 1}),
            ),
            (
                "doubled comma",
                r#"{"a": 1,, "b": 2}"#,
                serde_json::json!({"a": 1, "b": 2}),
            ),
            ("comma in array", r#"[1,,2,]"#, serde_json::json!([1, 2])),
            (
                "js comments",
                "{\"a\": 1, // note\n /* x */ \"b\": \"//not\"}",
                serde_json::json!({"a": 1, "b": "//not"}),
            ),
            (
                "html comment",
                "<!-- {\"a\": 1} -->",
                serde_json::json!({"a": 1}),
            ),
            (
                "cdata",
                "//<![CDATA[\n{\"a\": 1}\n//]]>",
                serde_json::json!({"a": 1}),
            ),
            (
                "raw newline",
                "{\"a\": \"x\ny\"}",
                serde_json::json!({"a": "x\ny"}),
            ),
            (
                "php quote",
                r#"{"a": "it\'s"}"#,
                serde_json::json!({"a": "it's"}),
            ),
            (
                "backslash then control",
                "{\"a\": \"x\\\u{8}\"}",
                serde_json::json!({"a": "x\u{8}"}),
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(parse_block(input, 64).as_ref(), Ok(want), "{name}");
        }
    }

    #[test]
    fn leaves_guesswork_broken() {
        assert!(matches!(
            parse_block(r#"{"a": "x"; "b": 1}"#, 64),
            Err(BlockError::Syntax(_))
        ));
        assert_eq!(parse_block("  ", 64), Err(BlockError::Empty));
    }

    #[test]
    fn depth_is_refused_before_parsing() {
        let bomb = "[".repeat(20_000) + "1" + &"]".repeat(20_000);
        assert_eq!(parse_block(&bomb, 64), Err(BlockError::TooDeep(20_000)));
        assert_eq!(max_nesting(r#"{"a": "[[[[", "b": [1]}"#), 2);
    }
}
