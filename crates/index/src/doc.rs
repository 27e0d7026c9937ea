//! What the index takes ([`IndexDoc`]: what the store can give) and how it becomes a tantivy
//! document.

use coalesce_core::{Cost, Offering};
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::Schema;

use crate::IndexError;
use crate::schema::{self as f, key_of, pack_occurrence};

/// One offering as the store knows it: the parsed offering plus store-level identity and its
/// duplicate cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexDoc {
    /// The store's offering id (stable across crawls).
    pub id: String,
    pub provider_id: String,
    pub provider_name: String,
    /// The duplicate cluster this offering belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// True for an offering outside any cluster and for the canonical member of a cluster.
    /// Only these are listed in search: the cluster shows once.
    pub is_canonical: bool,
    /// The other members of the cluster (filled on the canonical member).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_offered_by: Vec<AlsoOfferedBy>,
    pub offering: Offering,
}

/// Another member of a duplicate cluster, as a hit shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlsoOfferedBy {
    pub offering_id: String,
    pub provider_id: String,
    pub provider_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_url: Option<String>,
}

/// `free`, `paid` or `unknown`, as indexed in [`f::COST`].
pub fn cost_class(cost: &Cost) -> &'static str {
    match cost.free {
        Some(true) => "free",
        Some(false) => "paid",
        None => "unknown",
    }
}

pub(crate) fn status_str(s: coalesce_core::Status) -> &'static str {
    match s {
        coalesce_core::Status::Scheduled => "scheduled",
        coalesce_core::Status::Cancelled => "cancelled",
        coalesce_core::Status::Postponed => "postponed",
    }
}

pub(crate) fn credit_unit_str(u: coalesce_core::CreditUnit) -> &'static str {
    use coalesce_core::CreditUnit as C;
    match u {
        C::Ceu => "ceu",
        C::ContactHours => "contact_hours",
        C::CreditHours => "credit_hours",
        C::Pdu => "pdu",
        C::CeCredits => "ce_credits",
        C::AcaCredits => "aca_credits",
    }
}

/// Resolved field handles, looked up once per index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: tantivy::schema::Field,
    pub key: tantivy::schema::Field,
    pub title: tantivy::schema::Field,
    pub body: tantivy::schema::Field,
    pub provider_text: tantivy::schema::Field,
    pub location_text: tantivy::schema::Field,
    pub words: tantivy::schema::Field,
    pub topic: tantivy::schema::Field,
    pub sector: tantivy::schema::Field,
    pub modality: tantivy::schema::Field,
    pub provider: tantivy::schema::Field,
    pub status: tantivy::schema::Field,
    pub cost: tantivy::schema::Field,
    pub credit: tantivy::schema::Field,
    pub listed: tantivy::schema::Field,
    pub occ: tantivy::schema::Field,
    pub start: tantivy::schema::Field,
    pub updated: tantivy::schema::Field,
    pub doc: tantivy::schema::Field,
}

impl Fields {
    pub fn new(schema: &Schema) -> Result<Fields, IndexError> {
        let get = |name: &str| {
            schema
                .get_field(name)
                .map_err(|_| IndexError::Unavailable(format!("schema lacks field {name:?}")))
        };
        Ok(Fields {
            id: get(f::ID)?,
            key: get(f::KEY)?,
            title: get(f::TITLE)?,
            body: get(f::BODY)?,
            provider_text: get(f::PROVIDER_TEXT)?,
            location_text: get(f::LOCATION_TEXT)?,
            words: get(f::WORDS)?,
            topic: get(f::TOPIC)?,
            sector: get(f::SECTOR)?,
            modality: get(f::MODALITY)?,
            provider: get(f::PROVIDER)?,
            status: get(f::STATUS)?,
            cost: get(f::COST)?,
            credit: get(f::CREDIT)?,
            listed: get(f::LISTED)?,
            occ: get(f::OCC)?,
            start: get(f::START)?,
            updated: get(f::UPDATED)?,
            doc: get(f::DOC)?,
        })
    }

    pub fn by_name(&self, name: &str) -> Option<tantivy::schema::Field> {
        Some(match name {
            f::TITLE => self.title,
            f::BODY => self.body,
            f::PROVIDER_TEXT => self.provider_text,
            f::LOCATION_TEXT => self.location_text,
            f::WORDS => self.words,
            _ => return None,
        })
    }

    /// Builds the tantivy document for `d`.
    pub fn document(&self, d: &IndexDoc) -> Result<TantivyDocument, IndexError> {
        let o = &d.offering;
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, &d.id);
        doc.add_u64(self.key, key_of(&d.id));
        doc.add_text(self.title, &o.title);
        doc.add_text(self.words, &o.title);
        if let Some(s) = &o.summary {
            doc.add_text(self.body, s);
            doc.add_text(self.words, s);
        }
        if let Some(h) = &o.description_html {
            doc.add_text(self.body, html_to_text(h));
        }
        doc.add_text(self.provider_text, &d.provider_name);
        if let Some(org) = &o.organizer {
            doc.add_text(self.provider_text, org);
        }
        for m in &d.also_offered_by {
            doc.add_text(self.provider_text, &m.provider_name);
        }
        if let Some(loc) = &o.location {
            for part in [
                &loc.name,
                &loc.address,
                &loc.locality,
                &loc.region,
                &loc.country,
            ]
            .into_iter()
            .flatten()
            {
                doc.add_text(self.location_text, part);
            }
        }
        for t in &o.topics {
            doc.add_text(self.topic, t);
        }
        for s in &o.sectors {
            doc.add_text(self.sector, s.as_str());
        }
        if let Some(m) = o.modality {
            doc.add_text(self.modality, m.as_str());
        }
        doc.add_text(self.provider, &d.provider_id);
        for m in &d.also_offered_by {
            if m.provider_id != d.provider_id {
                doc.add_text(self.provider, &m.provider_id);
            }
        }
        doc.add_text(self.status, status_str(o.status));
        doc.add_text(self.cost, cost_class(&o.cost));
        if !o.credits.is_empty() {
            doc.add_text(self.credit, "any");
            let mut units: Vec<&str> = o.credits.iter().map(|c| credit_unit_str(c.unit)).collect();
            units.sort_unstable();
            units.dedup();
            for u in units {
                doc.add_text(self.credit, u);
            }
        }
        doc.add_u64(self.listed, u64::from(d.is_canonical));
        for occ in o.occurrences.iter().filter(|x| !x.cancelled) {
            let start = occ.start.timestamp();
            let end = occ.end.map_or(start, |e| e.timestamp());
            doc.add_u64(self.occ, pack_occurrence(start, end));
            doc.add_date(self.start, tantivy::DateTime::from_timestamp_secs(start));
        }
        doc.add_i64(self.updated, o.updated_at.map_or(0, |t| t.timestamp()));
        let json = serde_json::to_string(d).map_err(|e| IndexError::BadDocument {
            id: d.id.clone(),
            reason: e.to_string(),
        })?;
        doc.add_text(self.doc, &json);
        Ok(doc)
    }
}

/// Plain text of sanitized HTML for indexing and snippets. The input is already sanitized by
/// ingest, so a tag scanner is enough: drop tags, keep text, decode the common entities.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    if out.contains('&') {
        out = out
            .replace("&nbsp;", " ")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
    }
    let mut squashed = String::with_capacity(out.len());
    for w in out.split_whitespace() {
        if !squashed.is_empty() {
            squashed.push(' ');
        }
        squashed.push_str(w);
    }
    squashed
}
