//! OPML in and out: the list format feed readers and aggregators already exchange, so a
//! provider can move its source list between systems.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::ManageState;
use super::auth::Caller;
use super::error::ManageError;
use super::limits::RawBody;
use super::sources::{BatchItem, SourceInput, register_all};

/// Every `<outline xmlUrl=...>`, at most `cap + 1` (one more than allowed, so the caller can
/// tell "too many" from "exactly the limit" without reading the rest).
pub fn parse_outlines(xml: &[u8], cap: usize) -> Result<Vec<SourceInput>, ManageError> {
    let text = std::str::from_utf8(xml)
        .map_err(|_| ManageError::Invalid("opml must be utf-8".to_owned()))?;
    let mut reader = Reader::from_str(text);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == "outline" => {
                let Some(url) = attr(&e, "xmlUrl") else {
                    continue;
                };
                let name = attr(&e, "title")
                    .or_else(|| attr(&e, "text"))
                    .unwrap_or_else(|| url.clone());
                out.push(SourceInput {
                    name,
                    url,
                    kind: attr(&e, "type").filter(|t| {
                        matches!(t.as_str(), "rss" | "atom" | "jsonfeed" | "ics" | "html")
                    }),
                    timezone: None,
                    dates: None,
                    enabled: None,
                    sectors: None,
                    audience: None,
                });
                if out.len() > cap {
                    break;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(ManageError::Invalid(format!("invalid opml: {e}"))),
        }
    }
    Ok(out)
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}

pub async fn import(
    caller: Caller,
    State(state): State<ManageState>,
    RawBody(body): RawBody,
) -> Result<Json<Vec<BatchItem>>, ManageError> {
    let inputs = parse_outlines(&body, state.inner.spec.max_batch)?;
    register_all(&state, caller, &inputs).await.map(Json)
}

pub async fn export(
    caller: Caller,
    State(state): State<ManageState>,
) -> Result<Response, ManageError> {
    let sources = state.store().sources().await?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head><title>coalesce sources</title></head>\n<body>\n",
    );
    for s in sources.iter().filter(|s| s.provider_id == caller.0) {
        out.push_str("<outline text=\"");
        escape(&mut out, &s.name);
        out.push_str("\" title=\"");
        escape(&mut out, &s.name);
        out.push_str("\" type=\"");
        escape(&mut out, s.kind.as_deref().unwrap_or("rss"));
        out.push_str("\" xmlUrl=\"");
        escape(&mut out, &s.url);
        out.push_str("\"/>\n");
    }
    out.push_str("</body>\n</opml>\n");
    Ok(([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], out).into_response())
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_with_xml_url_become_sources_nested_or_not() {
        let xml = br#"<?xml version="1.0"?><opml version="2.0"><body>
            <outline text="Group"><outline text="A &amp; B" xmlUrl="https://a.example/feed" type="rss"/></outline>
            <outline title="Cal" xmlUrl="https://b.example/cal.ics" type="link"/>
            <outline text="no url"/></body></opml>"#;
        let got = parse_outlines(xml, 50).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "A & B");
        assert_eq!(got[0].kind.as_deref(), Some("rss"));
        assert_eq!(got[1].url, "https://b.example/cal.ics");
        assert_eq!(got[1].kind, None);
    }
}
