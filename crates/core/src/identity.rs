//! Identity within one source: which key names an item across fetches.
//!
//! Preference: the source's GUID / iCal UID when present (and not repeated by another, different
//! item of the same document), else the canonical URL, else a hash of the content that a reader
//! would call "the same item" (title, first start, description).

use sha2::{Digest, Sha256};

use crate::model::KeyKind;
use crate::normalize::{canonical_url, fold_for_match};

/// What identity can be derived from.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityInput<'a> {
    pub guid: Option<&'a str>,
    pub url: Option<&'a str>,
    pub title: &'a str,
    /// RFC 3339 of the first start, if any.
    pub first_start: Option<&'a str>,
    pub text: &'a str,
}

/// The key and its kind. GUIDs are kept verbatim (trimmed) because some sources use case to
/// tell items apart; very long GUIDs are hashed so keys stay index-friendly.
pub fn source_key(input: &IdentityInput<'_>) -> (String, KeyKind) {
    if let Some(guid) = input.guid.map(str::trim).filter(|g| !g.is_empty()) {
        let key = if guid.len() > 512 {
            format!("sha256:{}", hex(&Sha256::digest(guid.as_bytes())))
        } else {
            guid.to_string()
        };
        return (key, KeyKind::Guid);
    }
    if let Some(url) = input.url.and_then(canonical_url) {
        return (url, KeyKind::Url);
    }
    (content_hash(input), KeyKind::ContentHash)
}

/// A stable hash of what makes an item the same item to a reader.
pub fn content_hash(input: &IdentityInput<'_>) -> String {
    let mut h = Sha256::new();
    h.update(fold_for_match(input.title).as_bytes());
    h.update([0]);
    h.update(input.first_start.unwrap_or_default().as_bytes());
    h.update([0]);
    h.update(fold_for_match(input.text).as_bytes());
    format!("sha256:{}", &hex(&h.finalize())[..32])
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_wins_then_url_then_hash() {
        let with_guid = IdentityInput {
            guid: Some(" tag:lib.example.org,2026:42 "),
            url: Some("https://lib.example.org/e/42"),
            title: "T",
            ..Default::default()
        };
        assert_eq!(
            source_key(&with_guid),
            ("tag:lib.example.org,2026:42".to_string(), KeyKind::Guid)
        );
        let with_url = IdentityInput {
            guid: Some("  "),
            url: Some("http://www.lib.example.org/e/42/?utm_source=x"),
            title: "T",
            ..Default::default()
        };
        assert_eq!(
            source_key(&with_url),
            ("https://lib.example.org/e/42".to_string(), KeyKind::Url)
        );
        let bare = IdentityInput { title: "Preservation 101", ..Default::default() };
        let (k, kind) = source_key(&bare);
        assert_eq!(kind, KeyKind::ContentHash);
        assert!(k.starts_with("sha256:"));
    }

    #[test]
    fn content_hash_ignores_case_and_spacing_but_not_dates() {
        let a = IdentityInput { title: "Preservation  101", first_start: Some("2026-03-01T10:00:00Z"), ..Default::default() };
        let b = IdentityInput { title: "preservation 101", first_start: Some("2026-03-01T10:00:00Z"), ..Default::default() };
        let c = IdentityInput { title: "preservation 101", first_start: Some("2026-04-01T10:00:00Z"), ..Default::default() };
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
