//! HTML pages: schema.org JSON-LD and microdata, microformats2 h-event, and per-source CSS
//! selector rules.
//!
//! The page goes through the depth gate before html5ever sees it (../shared/HOSTILE.md B8),
//! each JSON-LD block through the JSON depth gate before serde does (B13). Without rules, every
//! JSON-LD block and every microdata item is read, one broken block never hiding the others;
//! with rules, the source's selectors say where the offerings are.

mod json;
mod mf2;
mod microdata;
mod rules;
mod schema;

use scraper::{Html, Selector};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Ctx, Doc, Extracted, ParseError, WarningCode};

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

pub(crate) fn extract(doc: &Doc<'_>, ctx: &mut Ctx<'_>) -> Result<Extracted, ParseError> {
    let limits = ctx.hints.limits;
    let (gated, cut) = crate::sanitize::depth_gate_page(doc.text, limits.max_html_depth);
    if cut {
        ctx.warn(
            WarningCode::TooDeep,
            None,
            format!(
                "page nested deeper than {} levels was flattened",
                limits.max_html_depth
            ),
        );
    }
    let page = Html::parse_document(&gated);
    let title = page_title(&page);
    let base = page_base(&page, ctx.hints.base_url.as_ref());

    if let Some(rules) = ctx.hints.html_rules.clone() {
        let drafts = rules::extract(&page, &rules, base, ctx)?;
        return Ok(Extracted {
            title,
            drafts,
            ttl: None,
            platform: None,
            next_page: None,
        });
    }

    let mut collector = schema::Collector::new(ctx, base.clone());
    let mut trees = Vec::new();
    for (i, raw) in jsonld_blocks(&page).iter().enumerate() {
        match json::parse_block(raw, limits.max_json_depth) {
            Ok(value) => trees.push(value),
            Err(json::BlockError::Empty) => {}
            Err(json::BlockError::TooDeep(depth)) => collector.ctx.warn(
                WarningCode::BadJsonLd,
                None,
                format!(
                    "json-ld block {i} nests {depth} levels, more than the limit of {}",
                    limits.max_json_depth
                ),
            ),
            Err(json::BlockError::Syntax(e)) => {
                collector.ctx.warn(
                    WarningCode::BadJsonLd,
                    None,
                    format!("json-ld block {i} is not json: {e}"),
                );
            }
        }
    }
    trees.extend(microdata::items(&page, limits.max_json_depth));
    // Sessions may name their series in another block: know every series first.
    for tree in &trees {
        collector.note_super_events(tree);
    }
    for tree in &trees {
        collector.visit(tree, None);
    }
    collector.inherit_from_series();
    // Microformats only when the page says nothing in schema.org: a page marked up both ways
    // would otherwise list each event twice.
    if collector.drafts.is_empty() && collector.dropped == 0 {
        for event in mf2::events(&page, base.as_ref(), limits.max_items.saturating_add(1)) {
            collector.visit(&event, None);
        }
    }
    if collector.dropped > 0 {
        let (max, dropped) = (limits.max_items, collector.dropped);
        collector.ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!(
                "page has {} events; only the first {max} were read",
                max + dropped
            ),
        );
    }
    let mut drafts = collector.drafts;
    key_repeated_urls(&mut drafts);
    Ok(Extracted {
        title,
        drafts,
        ttl: None,
        platform: None,
        next_page: None,
    })
}

/// Calendar plugins give every session of a recurring event the event's page as `url` and no
/// `@id`. Keyed by URL alone the sessions would collide; keyed by position they would change
/// identity whenever the list shifts. URL plus start is stable and tells them apart.
fn key_repeated_urls(drafts: &mut [crate::draft::Draft]) {
    let mut uses: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for d in drafts.iter().filter(|d| d.guid.is_none()) {
        if let Some(u) = d.url.as_deref() {
            *uses.entry(u.trim().to_string()).or_default() += 1;
        }
    }
    for d in drafts.iter_mut().filter(|d| d.guid.is_none()) {
        let (Some(u), Some(first)) = (d.url.as_deref(), d.occurrences.first()) else {
            continue;
        };
        if uses.get(u.trim()).is_some_and(|n| *n > 1) {
            d.guid = Some(format!("{}#{}", u.trim(), first.start.to_rfc3339()));
        }
    }
}

fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// The text of every JSON-LD script, in document order. The HTML tokenizer has already decided
/// where each script ends (a `</script>` inside a JSON string ends it, as in a browser).
fn jsonld_blocks(page: &Html) -> Vec<String> {
    let Some(sel) = selector("script[type]") else {
        return Vec::new();
    };
    page.select(&sel)
        .filter(|s| {
            s.value().attr("type").is_some_and(|t| {
                let t = t.split(';').next().unwrap_or_default().trim();
                t.eq_ignore_ascii_case("application/ld+json")
            })
        })
        .map(|s| s.text().collect::<String>())
        .collect()
}

fn page_title(page: &Html) -> Option<String> {
    let sel = selector("title")?;
    let t = page.select(&sel).next()?.text().collect::<String>();
    let t = coalesce_core::normalize::squash_whitespace(&t);
    (!t.is_empty()).then_some(t)
}

/// `<base href>` (itself relative to the document URL), else the document URL.
fn page_base(page: &Html, doc_url: Option<&Url>) -> Option<Url> {
    let from_tag = selector("base[href]").and_then(|sel| {
        let href = page
            .select(&sel)
            .next()?
            .value()
            .attr("href")?
            .trim()
            .to_string();
        let url = match doc_url {
            Some(u) => u.join(&href).ok()?,
            None => Url::parse(&href).ok()?,
        };
        matches!(url.scheme(), "http" | "https").then_some(url)
    });
    from_tag.or_else(|| doc_url.cloned())
}
