//! JSON Feed 1.x through feed-rs, behind a nesting gate: serde would recurse into whatever
//! depth the document has before feed-rs sees a single field.

use crate::{Ctx, Doc, Extracted, ParseError};

pub(super) fn extract(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    let limit = ctx.hints.limits.max_json_depth;
    if json_depth(doc.text) > limit {
        return Err(ParseError::TooDeep { limit });
    }
    let text = doc.text.trim_start_matches('\u{feff}');
    let feed = super::parse_feed(text, ctx.hints.base_url.as_ref())
        .map_err(|e| ParseError::malformed(doc.kind, e))?;
    let mut extracted = super::from_feed(feed, &super::scan::Scan::default(), ctx);
    // feed-rs drops `image` and `banner_image`; the items array is in the same order.
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let items = value.get("items").and_then(|i| i.as_array());
        for (draft, item) in extracted.drafts.iter_mut().zip(items.into_iter().flatten()) {
            if draft.image_url.is_none() {
                draft.image_url = ["image", "banner_image"]
                    .iter()
                    .find_map(|k| item.get(*k).and_then(|v| v.as_str()))
                    .map(str::to_string);
            }
        }
    }
    Ok(extracted)
}

/// The deepest nesting of arrays and objects, without parsing (strings are skipped).
pub(super) fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
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

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(r#"{"a": "[[[{{", "b": [1, {"c": []}]}"#), 4);
        assert_eq!(json_depth(r#"{"a": "\"[[["}"#), 1);
        assert_eq!(json_depth(&"[".repeat(10_000)), 10_000);
    }
}
