//! The Atom 1.0 writer (RFC 4287): one entry per offering (not per session: a feed reader
//! lists things to read, and a series should not flood it), sessions listed in the content.

use super::text::{clean_uri, escape_xml};
use super::{
    FeedEntry, FeedMeta, details_text, display_title, entry_tag, feed_updated, primary_url,
    rfc3339, sessions_text,
};

/// Sessions listed per entry before "and N more".
const MAX_SESSIONS: usize = 20;

/// Writes the Atom feed for `entries` (the search hits, in the order to show them).
pub fn write_atom(meta: &FeedMeta, entries: &[FeedEntry<'_>]) -> String {
    let mut out = String::with_capacity(1024 + entries.len() * 1536);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    element(&mut out, "  ", "title", &meta.name);
    element(&mut out, "  ", "subtitle", &meta.description);
    let self_url = clean_uri(&meta.self_url);
    // The feed id must be an IRI that never changes for this search: its URL is exactly that.
    let feed_id = self_url.map_or_else(|| entry_tag(&meta.uid_domain, "feed"), str::to_owned);
    element(&mut out, "  ", "id", &feed_id);
    if let Some(url) = self_url {
        link(&mut out, "  ", "self", url, Some("application/atom+xml"));
    }
    element(
        &mut out,
        "  ",
        "updated",
        &rfc3339(feed_updated(meta, entries)),
    );
    out.push_str("  <generator>coalesce</generator>\n");

    for entry in entries {
        let o = entry.offering;
        out.push_str("  <entry>\n");
        element(
            &mut out,
            "    ",
            "title",
            &display_title(&o.title, o.status, false),
        );
        element(
            &mut out,
            "    ",
            "id",
            &entry_tag(&meta.uid_domain, entry.id),
        );
        element(&mut out, "    ", "updated", &rfc3339(entry.updated_at));
        if let Some(published) = o.published_at.filter(|p| *p <= entry.updated_at) {
            element(&mut out, "    ", "published", &rfc3339(published));
        }
        out.push_str("    <author>");
        element(&mut out, "", "name", entry.provider.trim());
        // `element` ended the line; keep the closing tag on the author's indentation.
        out.push_str("    </author>\n");
        if let Some(url) = primary_url(entry) {
            link(&mut out, "    ", "alternate", url, Some("text/html"));
        }
        if let Some(url) = o.registration_url.as_deref().and_then(clean_uri) {
            link(&mut out, "    ", "related", url, None);
        }
        for label in entry
            .topic_labels
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
        {
            out.push_str("    <category term=\"");
            escape_xml(&mut out, label);
            out.push_str("\"/>\n");
        }
        if let Some(summary) = o.summary.as_deref().filter(|s| !s.trim().is_empty()) {
            element(&mut out, "    ", "summary", summary.trim());
        }
        // HTML, so readers keep the sessions as a list and the links as links (as text, most
        // of them run the lines together). Every piece is escaped before it becomes markup.
        let html = content_html(&sessions_text(entry, MAX_SESSIONS), &details_text(entry));
        out.push_str("    <content type=\"html\">");
        escape_xml(&mut out, &html);
        out.push_str("</content>\n");
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// `<name>text</name>` on its own line. Text constructs default to `type="text"`, so the
/// provider's words are never read as markup.
fn element(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_xml(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn link(out: &mut String, indent: &str, rel: &str, href: &str, kind: Option<&str>) {
    out.push_str(indent);
    out.push_str("<link rel=\"");
    out.push_str(rel);
    out.push_str("\" href=\"");
    escape_xml(out, href);
    out.push('"');
    if let Some(kind) = kind {
        out.push_str(" type=\"");
        out.push_str(kind);
        out.push('"');
    }
    out.push_str("/>\n");
}

/// The entry's content as a small HTML document: the sessions as a list, then the details
/// one line each, with `Label: https://...` lines made links. Only text we escaped and
/// http(s) URLs we cleaned go in.
fn content_html(sessions: &[String], details: &str) -> String {
    let mut html = String::with_capacity(256 + details.len() * 2);
    if !sessions.is_empty() {
        html.push_str("<p>When:</p><ul>");
        for s in sessions {
            html.push_str("<li>");
            escape_xml(&mut html, s);
            html.push_str("</li>");
        }
        html.push_str("</ul>");
    }
    for para in details.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for (i, line) in para.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            if i > 0 {
                html.push_str("<br/>");
            }
            match line.split_once(": ") {
                Some((label, url))
                    if (url.starts_with("https://") || url.starts_with("http://"))
                        && !url.contains(char::is_whitespace) =>
                {
                    escape_xml(&mut html, label);
                    html.push_str(": <a href=\"");
                    escape_xml(&mut html, url);
                    html.push_str("\">");
                    escape_xml(&mut html, url);
                    html.push_str("</a>");
                }
                _ => escape_xml(&mut html, line),
            }
        }
        html.push_str("</p>");
    }
    html
}
