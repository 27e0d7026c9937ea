//! HTML pages: schema.org JSON-LD and microdata, and per-source CSS selector rules.

use serde::{Deserialize, Serialize};

use crate::{Ctx, Doc, Extracted, ParseError};

/// CSS selector rules for a page with no structured data, from the source's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlRules {
    /// Selects one element per offering.
    pub item: String,
    /// Inside an item: the title.
    pub title: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub cost: Option<String>,
}

pub(crate) fn extract(doc: &Doc<'_>, _ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    Err(ParseError::malformed(doc.kind, "html reading is not built yet"))
}
