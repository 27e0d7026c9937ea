//! URL rules: which URLs may be emitted, how links are made absolute, and the canonical form
//! used for identity and dedup.

use url::Url;

/// Parses `raw` (trimmed; relative ones resolved against `base`) and returns it only when its
/// scheme is http or https. Everything else (`javascript:`, `data:`, `file:`, ...) is `None`.
pub fn safe_http_url(raw: &str, base: Option<&Url>) -> Option<String> {
    let parsed = parse_with_base(raw, base)?;
    matches!(parsed.scheme(), "http" | "https")
        .then(|| parsed.host_str().is_some_and(|h| !h.is_empty()))
        .filter(|ok| *ok)
        .map(|_| parsed.into())
}

/// Like [`safe_http_url`] but also allows `mailto:` (for contact links in descriptions).
pub fn safe_link(raw: &str, base: Option<&Url>) -> Option<String> {
    let parsed = parse_with_base(raw, base)?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Some(parsed.into()),
        "mailto" => Some(parsed.into()),
        _ => None,
    }
}

fn parse_with_base(raw: &str, base: Option<&Url>) -> Option<Url> {
    // Browsers drop ASCII tab/newline anywhere in a URL; so does the url crate. Whitespace
    // around it is noise from templates.
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 4096 {
        return None;
    }
    match base {
        Some(b) => b.join(raw).ok(),
        // Without a `:` there is no scheme, and without a base nothing else parses: the
        // answer the parser would give after allocating for it (asked of every location line
        // and plain-text link candidate, which are mostly not URLs).
        None if !raw.contains(':') => None,
        None => Url::parse(raw).ok(),
    }
}

/// Query parameters that only track clicks and never change what a page is.
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || n.starts_with("mc_")
        || n.starts_with("pk_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "yclid"
                | "_hsenc"
                | "_hsmi"
                | "mkt_tok"
                | "igshid"
                | "ref_src"
                | "spm"
                | "_ga"
                | "_gl"
        )
}

/// The canonical form of an http(s) URL for identity and dedup: https scheme, lowercase host
/// without `www.`, default port dropped, no fragment, tracking parameters removed, the remaining
/// parameters sorted, and no trailing slash on the path.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut u = Url::parse(raw.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    u.set_fragment(None);
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = u.path().trim_end_matches('/').to_string();
    let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
    let port = match u.port() {
        Some(p) if p != 80 && p != 443 => format!(":{p}"),
        _ => String::new(),
    };
    Some(format!("https://{host}{port}{path}{query}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Text without a `:` never parses without a base: the shortcut answers what parsing
        /// does.
        #[test]
        fn colonless_text_without_a_base_is_what_parsing_says(
            parts in prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(vec![
                        "http", "https", "//", "/", "a", "Online via Zoom", " ", "\t", "\n",
                        "%3A", "\u{ff1a}", "\u{fe55}", "example.org", "?q", "#f", "\u{0}",
                        "javascript", "\u{a0}", "www.", "é",
                    ]).prop_map(str::to_string),
                    1 => any::<char>()
                        .prop_filter("no colon", |c| *c != ':')
                        .prop_map(String::from),
                ],
                0..12,
            ),
        ) {
            let raw = parts.concat();
            prop_assume!(!raw.contains(':'));
            let t = raw.trim();
            let parsed = (!t.is_empty() && t.len() <= 4096)
                .then(|| Url::parse(t).ok())
                .flatten();
            prop_assert_eq!(parse_with_base(&raw, None), parsed);
        }
    }

    #[test]
    fn only_http_and_https_are_emitted() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "ftp://example.org/x",
            "",
            "http://",
        ] {
            assert_eq!(safe_http_url(bad, None), None, "{bad:?}");
        }
        assert_eq!(
            safe_http_url(" https://example.org/a ", None).as_deref(),
            Some("https://example.org/a")
        );
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Url::parse("https://lib.example.org/events/feed.xml").ok();
        assert_eq!(
            safe_http_url("/admin", base.as_ref()).as_deref(),
            Some("https://lib.example.org/admin")
        );
        assert_eq!(
            safe_http_url("../x.png", base.as_ref()).as_deref(),
            Some("https://lib.example.org/x.png")
        );
        assert_eq!(
            safe_http_url("//evil.example/", base.as_ref()).as_deref(),
            Some("https://evil.example/")
        );
        assert_eq!(
            safe_link("mailto:ce@lib.example.org", base.as_ref()).as_deref(),
            Some("mailto:ce@lib.example.org")
        );
    }

    #[test]
    fn canonical_url_drops_tracking_scheme_www_and_trailing_slash() {
        let a = canonical_url(
            "http://WWW.Example.org/events/preservation-101/?utm_source=news&fbclid=x&b=2&a=1#reg",
        );
        let b = canonical_url("https://example.org/events/preservation-101?a=1&b=2");
        assert_eq!(a, b);
        assert_eq!(
            b.as_deref(),
            Some("https://example.org/events/preservation-101?a=1&b=2")
        );
        assert_eq!(canonical_url("mailto:a@b.c"), None);
    }
}
