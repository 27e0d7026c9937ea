//! Charset decoding with one fixed precedence: BOM, then the HTTP charset, then the XML
//! declaration (or an HTML meta charset), then UTF-8 with replacement.

use encoding_rs::{Encoding, UTF_8};

pub(crate) struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    /// True when some bytes were not valid in `encoding` and became U+FFFD.
    pub lossy: bool,
}

pub(crate) fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((enc, bom_len)) => (enc, &bytes[bom_len..]),
        None => {
            let enc = content_type
                .and_then(http_charset)
                .or_else(|| declared_charset(bytes))
                .unwrap_or(UTF_8);
            (enc, bytes)
        }
    };
    // A declaration of UTF-16 in an ASCII-compatible document cannot be true (the declaration
    // itself was readable as ASCII); WHATWG says to read it as UTF-8.
    let encoding = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        if Encoding::for_bom(bytes).is_some() { encoding } else { UTF_8 }
    } else {
        encoding
    };
    let (text, lossy) = encoding.decode_without_bom_handling(body);
    Decoded {
        text: text.into_owned(),
        encoding,
        lossy,
    }
}

/// `charset=` from a Content-Type header value.
fn http_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes())
        } else {
            None
        }
    })
}

/// The encoding named by an XML declaration or an HTML `<meta charset>` in the first 1 KiB.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = head.trim_start();
    if trimmed.starts_with("<?xml") {
        let decl_end = trimmed.find("?>")?;
        let decl = &trimmed[..decl_end];
        let at = decl.find("encoding")?;
        return quoted_value(&decl[at + "encoding".len()..]);
    }
    let at = head.find("charset")?;
    let rest = head[at + "charset".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let value: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(value.as_bytes())
}

fn quoted_value(s: &str) -> Option<&'static Encoding> {
    let s = s.trim_start().strip_prefix('=')?.trim_start();
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &s[1..];
    let end = inner.find(quote)?;
    Encoding::for_label(inner[..end].trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_beats_http_charset_and_declaration() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode(&bytes, Some("text/xml; charset=iso-8859-1"));
        assert_eq!(d.encoding, encoding_rs::UTF_16LE);
        assert!(d.text.starts_with("<?xml"));
        assert!(!d.lossy);
    }

    #[test]
    fn http_charset_beats_xml_declaration() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><t>caf\xe9</t>";
        let d = decode(bytes, Some("application/rss+xml; charset=\"ISO-8859-1\""));
        assert_eq!(d.encoding, encoding_rs::WINDOWS_1252);
        assert!(d.text.contains("café"));
    }

    #[test]
    fn xml_declaration_is_used_without_http_charset() {
        let bytes = b"<?xml version='1.0' encoding='windows-1251'?><t>\xcf\xf0\xe8</t>";
        let d = decode(bytes, None);
        assert_eq!(d.encoding, encoding_rs::WINDOWS_1251);
        assert!(d.text.contains("При"));
    }

    #[test]
    fn bad_utf8_is_replaced_and_flagged_lossy() {
        let d = decode(b"<rss><title>a\xff\xfe\xc3b</title></rss>", None);
        assert_eq!(d.encoding, UTF_8);
        assert!(d.lossy);
        assert!(d.text.contains('\u{FFFD}'));
        assert!(d.text.contains("</title>"));
    }

    #[test]
    fn html_meta_charset_is_read() {
        let d = decode(b"<html><head><meta charset=\"iso-8859-1\"></head><p>\xe9</p>", None);
        assert!(d.text.contains('é'));
    }
}
