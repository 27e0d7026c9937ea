//! The JSON Feed 1.1 writer: one item per offering, like Atom, plus the dated sessions in a
//! `_coalesce` extension object (JSON Feed reserves `_`-prefixed keys for extensions) so a
//! program can read them without parsing text.

use serde::Serialize;

use super::text::{clean_text, clean_uri};
use super::{
    FeedEntry, FeedMeta, details_text, display_title, entry_tag, primary_url, rfc3339,
    sessions_text,
};

#[derive(Serialize)]
struct Feed<'a> {
    version: &'static str,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<&'a str>,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Item {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_url: Option<String>,
    title: String,
    content_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    date_modified: String,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    _coalesce: Extension,
}

#[derive(Serialize)]
struct Author {
    name: String,
}

#[derive(Serialize)]
struct Extension {
    offering_id: String,
    status: coalesce_core::Status,
    sequence: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also_offered_by: Vec<String>,
    occurrences: Vec<Session>,
}

#[derive(Serialize)]
struct Session {
    start: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    all_day: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cancelled: bool,
}

/// Writes the JSON Feed for `entries` (the search hits, in the order to show them).
pub fn write_json_feed(meta: &FeedMeta, entries: &[FeedEntry<'_>]) -> String {
    let items = entries.iter().map(|e| item(meta, e)).collect();
    let feed = Feed {
        version: "https://jsonfeed.org/version/1.1",
        title: clean_text(&meta.name),
        description: clean_text(&meta.description),
        home_page_url: clean_uri(&meta.home_url),
        feed_url: clean_uri(&meta.self_url),
        items,
    };
    // Plain structs of strings cannot fail to serialize; an empty feed is the harmless fallback.
    let mut out = serde_json::to_string(&feed).unwrap_or_else(|_| String::from("{}"));
    out.push('\n');
    out
}

fn item(meta: &FeedMeta, entry: &FeedEntry<'_>) -> Item {
    let o = entry.offering;
    let sessions = sessions_text(entry, 20);
    let mut content = String::new();
    if !sessions.is_empty() {
        content.push_str("When:\n");
        for s in &sessions {
            content.push_str("- ");
            content.push_str(s);
            content.push('\n');
        }
        content.push('\n');
    }
    content.push_str(&details_text(entry));
    // Offsets as given: the instant and the local time the provider meant, in one string.
    let when = |t: &chrono::DateTime<chrono::FixedOffset>| {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    Item {
        id: entry_tag(&meta.uid_domain, entry.id),
        url: primary_url(entry).map(str::to_owned),
        external_url: o
            .registration_url
            .as_deref()
            .and_then(clean_uri)
            .map(str::to_owned),
        title: clean_text(&display_title(&o.title, o.status, false)),
        content_text: clean_text(&content),
        summary: o
            .summary
            .as_deref()
            .map(|s| clean_text(s.trim()))
            .filter(|s| !s.is_empty()),
        date_published: o
            .published_at
            .filter(|p| *p <= entry.updated_at)
            .map(rfc3339),
        date_modified: rfc3339(entry.updated_at),
        authors: vec![Author {
            name: clean_text(entry.provider.trim()),
        }],
        tags: entry
            .topic_labels
            .iter()
            .map(|l| clean_text(l.trim()))
            .filter(|l| !l.is_empty())
            .collect(),
        language: o.language.as_deref().map(clean_text),
        _coalesce: Extension {
            offering_id: entry.id.to_owned(),
            status: o.status,
            sequence: entry.sequence,
            timezone: o.timezone.clone(),
            also_offered_by: entry
                .also_offered_by
                .iter()
                .map(|p| clean_text(p))
                .collect(),
            occurrences: o
                .occurrences
                .iter()
                .map(|occ| Session {
                    start: when(&occ.start),
                    end: occ.end.as_ref().map(when),
                    all_day: occ.all_day,
                    cancelled: occ.cancelled,
                })
                .collect(),
        },
    }
}
