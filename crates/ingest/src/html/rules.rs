//! Per-source CSS selector rules for pages without structured data.

use coalesce_core::Occurrence;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::HtmlRules;
use crate::dates::parse_when;
use crate::draft::Draft;
use crate::{Ctx, Kind, ParseError, WarningCode};

/// Longest selector accepted: selectors come from source settings, but a parser that recurses
/// per nested `:not(...)` should not see arbitrary lengths.
const MAX_SELECTOR: usize = 1_000;

struct Fields {
    start: Option<Selector>,
    end: Option<Selector>,
    url: Option<Selector>,
    description: Option<Selector>,
    location: Option<Selector>,
    cost: Option<Selector>,
}

pub(crate) fn extract(
    page: &Html,
    rules: &HtmlRules,
    base: Option<Url>,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Draft>, ParseError> {
    let required = |name: &str, css: &str| {
        compile(css).map_err(|e| {
            ParseError::malformed(
                Kind::Html,
                format!("{name} selector {css:?} is invalid: {e}"),
            )
        })
    };
    let item_sel = required("item", &rules.item)?;
    let title_sel = required("title", &rules.title)?;
    let mut optional = |name: &str, css: &Option<String>| -> Option<Selector> {
        let css = css.as_deref()?.trim();
        if css.is_empty() {
            return None;
        }
        match compile(css) {
            Ok(s) => Some(s),
            Err(e) => {
                ctx.warn(
                    WarningCode::BadItem,
                    None,
                    format!("{name} selector {css:?} is invalid and was ignored: {e}"),
                );
                None
            }
        }
    };
    let fields = Fields {
        start: optional("start", &rules.start),
        end: optional("end", &rules.end),
        url: optional("url", &rules.url),
        description: optional("description", &rules.description),
        location: optional("location", &rules.location),
        cost: optional("cost", &rules.cost),
    };
    let zone = ctx.hints.timezone;
    let max = ctx.hints.limits.max_items;
    let mut drafts = Vec::new();
    let mut total = 0;
    for item in page.select(&item_sel) {
        total += 1;
        if drafts.len() >= max {
            continue;
        }
        let index = drafts.len();
        let mut d = Draft {
            index,
            base_url: base.clone(),
            // A page read by CSS rules may say its date only in its words.
            text_dates: true,
            ..Draft::default()
        };
        d.title = item
            .select(&title_sel)
            .next()
            .map(text)
            .filter(|t| !t.is_empty());
        d.url = first(item, &fields.url).and_then(|e| {
            e.value()
                .attr("href")
                .or_else(|| e.value().attr("src"))
                .map(str::to_string)
                .or_else(|| Some(text(e)))
        });
        d.description_html = first(item, &fields.description).map(|e| e.inner_html());
        d.location_text = first(item, &fields.location).map(text);
        d.cost_text = first(item, &fields.cost).map(text);
        let when = |sel: &Option<Selector>, what: &str, ctx: &mut Ctx<'_>| {
            let raw = first(item, sel).map(date_value)?;
            let parsed = parse_when(&raw, zone);
            if parsed.is_none() {
                let shown: String = raw.chars().take(60).collect();
                ctx.warn(
                    WarningCode::BadDate,
                    Some(index),
                    format!("{what} {shown:?} is not a date"),
                );
            }
            parsed
        };
        let start = when(&fields.start, "start", ctx);
        let end = when(&fields.end, "end", ctx);
        if let Some(start) = start {
            let all_day = start.all_day && end.is_none_or(|e| e.all_day);
            let end = end
                .map(|e| {
                    if all_day {
                        e.at + chrono::Duration::days(1)
                    } else {
                        e.at
                    }
                })
                .filter(|e| *e > start.at);
            d.occurrences.push(Occurrence {
                start: start.at,
                end,
                all_day,
                cancelled: false,
                date_source: coalesce_core::DateSource::Structured,
                recurrence_id: None,
            });
            if start.floating {
                d.timezone = zone.map(|z| z.name().to_string());
            }
        }
        drafts.push(d);
    }
    if total > max {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!("page has {total} items; only the first {max} were read"),
        );
    }
    Ok(drafts)
}

fn compile(css: &str) -> Result<Selector, String> {
    if css.len() > MAX_SELECTOR {
        return Err(format!("longer than {MAX_SELECTOR} characters"));
    }
    Selector::parse(css).map_err(|e| format!("{e:?}").to_lowercase().chars().take(200).collect())
}

fn first<'a>(item: ElementRef<'a>, sel: &Option<Selector>) -> Option<ElementRef<'a>> {
    item.select(sel.as_ref()?).next()
}

fn text(e: ElementRef<'_>) -> String {
    coalesce_core::normalize::squash_whitespace(&e.text().collect::<String>())
}

/// A date in `datetime` or `content` when the page has one, else the element's text.
fn date_value(e: ElementRef<'_>) -> String {
    e.value()
        .attr("datetime")
        .or_else(|| e.value().attr("content"))
        .map(str::to_string)
        .unwrap_or_else(|| text(e))
}
