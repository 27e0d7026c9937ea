//! The shared finishing stage: every adapter fills [`Draft`]s with what its format says, and
//! [`finish_all`] turns them into [`Offering`]s the same way for every format: sanitizing,
//! URL safety, summary, identity (with repeated-GUID handling), modality, cost, credits,
//! sectors and topics.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use coalesce_core::identity::{IdentityInput, source_key};
use coalesce_core::literals::Literals;
use coalesce_core::normalize::registration::REGISTER_WORDS;
use coalesce_core::normalize::{
    ModalityInput, OfferInput, cost_from_offers, defang_html, defang_text, fold_into,
    infer_modality, is_registration_url, parse_cost_in_description, parse_cost_text, parse_credits,
    parse_credits_lines, registration_strength, safe_http_url, summarize, summarize_squashed,
};
use coalesce_core::{Cost, DateSource, Location, Modality, Occurrence, Offering, Status};
use url::Url;

use crate::sanitize::{clean_html, html_to_text, html_to_text_owned};
use crate::{Ctx, WarningCode};

/// Summaries are cut to this many characters.
const SUMMARY_CHARS: usize = 300;
/// Titles longer than this are cut (some feeds put the whole post in the title).
const TITLE_CHARS: usize = 300;

/// What one item of a document says, before normalization. Adapters fill what their format
/// carries and leave the rest empty; strings are as published (trimmed or not).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Zero-based position in the document, for warnings.
    pub index: usize,
    /// GUID / Atom id / iCal UID / JSON-LD `@id`.
    pub guid: Option<String>,
    /// The title; may contain markup or entities when `title_is_html`.
    pub title: Option<String>,
    pub title_is_html: bool,
    /// Description as (unsanitized) HTML.
    pub description_html: Option<String>,
    /// Description when the format gives plain text (iCal DESCRIPTION, JSON Feed content_text).
    pub description_text: Option<String>,
    /// A short summary when the format has one besides the description.
    pub summary: Option<String>,
    pub language: Option<String>,
    /// The item's page (may be relative).
    pub url: Option<String>,
    pub registration_url: Option<String>,
    pub online_url: Option<String>,
    pub image_url: Option<String>,
    /// Extra URLs that only inform modality (enclosures, location URLs).
    pub other_urls: Vec<String>,
    /// Base for relative links in this item (xml:base, the page URL); the document URL otherwise.
    pub base_url: Option<Url>,
    /// `base_url` is `url` itself, parsed (trimmed, http or https): the link need not be
    /// parsed again.
    pub base_is_url: bool,
    pub occurrences: Vec<Occurrence>,
    pub recurring: bool,
    pub timezone: Option<String>,
    /// The item's dates may be written in its title or description (feed items, pages read
    /// by CSS rules): read them there when the format gave none.
    pub text_dates: bool,
    /// The publication date, with its offset, when the document's publisher puts the event
    /// start there (see [`crate::DatesConvention`]).
    pub published_start: Option<DateTime<FixedOffset>>,
    pub location: Option<Location>,
    /// A location given only as one line of text (iCal LOCATION, ev:location).
    pub location_text: Option<String>,
    /// Modality the source declares (schema.org eventAttendanceMode).
    pub declared_modality: Option<Modality>,
    /// Cost as free text ("$25 members / $50 non-members").
    pub cost_text: Option<String>,
    /// Structured offers (schema.org `offers`).
    pub offers: Vec<OfferInput>,
    /// The source says the offering is free (schema.org `isAccessibleForFree`).
    pub declared_free: Option<bool>,
    /// Credits as free text when the format has a field for it.
    pub credits_text: Option<String>,
    pub categories: Vec<String>,
    pub audience: Option<String>,
    pub organizer: Option<String>,
    pub status: Status,
    pub sequence: u32,
    pub updated_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
}

/// Finishes every draft, in order, collapsing repeated GUIDs.
pub(crate) fn finish_all(drafts: Vec<Draft>, ctx: &mut Ctx<'_>) -> Vec<Offering> {
    let max = ctx.hints.limits.max_items;
    let total = drafts.len();
    let mut out: Vec<Offering> = Vec::with_capacity(total.min(max));
    // source_key -> position in `out`
    let mut seen: HashMap<String, usize> = HashMap::new();
    for draft in drafts.into_iter().take(max) {
        let index = draft.index;
        let guid = draft.guid.clone();
        let mut offering = finish(draft, ctx);
        match seen.get(&offering.source_key).copied() {
            None => {
                seen.insert(offering.source_key.clone(), out.len());
                out.push(offering);
            }
            Some(pos) if same_item(&out[pos], &offering) => {
                // The same item listed twice: the later copy wins, in the earlier place.
                ctx.warn(
                    WarningCode::DuplicateGuid,
                    Some(index),
                    format!(
                        "item repeats id {:?}; the later copy was kept",
                        offering.source_key
                    ),
                );
                out[pos] = offering;
            }
            Some(_) => {
                // A different item reusing the id: a CMS bug. Give it an identity of its own
                // instead of letting it overwrite the first.
                let first_start = offering.occurrences.first().map(|o| o.start.to_rfc3339());
                let (key, kind) = source_key(&IdentityInput {
                    guid: None,
                    url: offering.url.as_deref(),
                    title: &offering.title,
                    first_start: first_start.as_deref(),
                    text: offering.summary.as_deref().unwrap_or_default(),
                });
                let key = if seen.contains_key(&key) {
                    format!("{}#{}", guid.as_deref().unwrap_or("item").trim(), index)
                } else {
                    key
                };
                ctx.warn(
                    WarningCode::DuplicateGuid,
                    Some(index),
                    format!(
                        "a different item reuses id {:?}; it was keyed by {key:?} instead",
                        offering.source_key
                    ),
                );
                offering.source_key = key;
                offering.key_kind = kind;
                seen.insert(offering.source_key.clone(), out.len());
                out.push(offering);
            }
        }
    }
    if total > max {
        ctx.warn(
            WarningCode::TooManyItems,
            None,
            format!("document has {total} items; only the first {max} were read"),
        );
    }
    out
}

fn same_item(a: &Offering, b: &Offering) -> bool {
    a.title == b.title && a.url == b.url && a.occurrences.first() == b.occurrences.first()
}

/// Normalizes one draft.
pub(crate) fn finish(mut d: Draft, ctx: &mut Ctx<'_>) -> Offering {
    let hints = ctx.hints;
    let max_depth = hints.limits.max_html_depth;
    let base = d.base_url.as_ref().or(hints.base_url.as_ref());
    let index = Some(d.index);

    // Description: sanitized HTML, or the plain text made into paragraphs.
    let (description_html, html_text, cut, known_links) =
        match (&d.description_html, &d.description_text) {
            (Some(html), _) if !html.trim().is_empty() => {
                let c = clean_html(html, base, max_depth);
                (c.html, c.text, c.cut, c.links)
            }
            (_, Some(text)) if !text.trim().is_empty() => {
                (Some(text_to_html(text)), String::new(), false, Vec::new())
            }
            _ => (None, String::new(), false, Vec::new()),
        };
    if cut {
        ctx.warn(
            WarningCode::TooDeep,
            index,
            format!("description nested deeper than {max_depth} levels was flattened"),
        );
    }
    let description_plain = match &d.description_text {
        Some(text) if !text.trim().is_empty() => coalesce_core::normalize::squash_whitespace(text),
        _ => html_text,
    };
    let summary_source = d
        .summary
        .as_deref()
        .map(|s| html_to_text(s, max_depth))
        .filter(|s| !s.is_empty())
        .map_or(
            std::borrow::Cow::Borrowed(description_plain.as_str()),
            std::borrow::Cow::Owned,
        );
    // Both sources are squashed text (`html_to_text`, `squash_whitespace`).
    let summary =
        (!summary_source.is_empty()).then(|| summarize_squashed(&summary_source, SUMMARY_CHARS));

    // Title: plain text; derived from the summary or the URL when missing.
    let title_text = d
        .title
        .as_deref()
        .map(|t| {
            if d.title_is_html || t.contains('<') || t.contains('&') {
                html_to_text(t, max_depth)
            } else {
                coalesce_core::normalize::squash_whitespace(t)
            }
        })
        .map(coalesce_core::normalize::text::strip_controls_owned)
        .filter(|t| !t.is_empty());
    let title = match title_text {
        Some(t) => coalesce_core::normalize::text::summarize_owned(t, TITLE_CHARS),
        None => {
            let derived = summary
                .as_deref()
                .map(|s| summarize(s, 80))
                .or_else(|| d.url.clone())
                .unwrap_or_else(|| "Untitled".to_string());
            ctx.warn(
                WarningCode::MissingTitle,
                index,
                format!("item has no title; using {derived:?}"),
            );
            derived
        }
    };

    let (mut occurrences, timezone) = dates_of(
        std::mem::take(&mut d.occurrences),
        d.timezone.take(),
        &DatesInput {
            text_dates: d.text_dates,
            published_start: d.published_start,
            published_at: d.published_at,
            updated_at: d.updated_at,
            title: &title,
            text: &description_plain,
        },
        ctx,
        index,
    );

    // URLs: only http(s) leaves this function.
    let url_field = |raw: &Option<String>, what: &str, ctx: &mut Ctx<'_>| -> Option<String> {
        let raw = raw.as_deref()?.trim();
        if raw.is_empty() {
            return None;
        }
        let safe = safe_http_url(raw, base);
        if safe.is_none() {
            ctx.warn(
                WarningCode::UnsafeUrl,
                index,
                format!(
                    "{what} {:?} is not an http(s) url and was dropped",
                    truncate(raw, 80)
                ),
            );
        }
        safe
    };
    let url = match (d.url.as_deref(), d.base_url.as_ref()) {
        (Some(raw), Some(own)) if d.base_is_url => link_from_own_base(raw, own),
        _ => None,
    }
    .or_else(|| url_field(&d.url, "link", ctx));
    // The description ASCII-lowercased, for the literal searches of the register and cost
    // words: made once, when the first of them asks.
    let lower_plain = std::cell::OnceCell::new();
    let registration_url = url_field(&d.registration_url, "registration link", ctx).or_else(|| {
        registration_link(
            description_html.as_deref(),
            &known_links,
            &description_plain,
            &lower_plain,
            url.as_deref(),
        )
    });
    let online_url = url_field(&d.online_url, "online link", ctx);
    let image_url = url_field(&d.image_url, "image", ctx);

    // Location: structured, or one line of text that may be a join link.
    let mut location = d.location.clone().filter(|l| !l.is_empty());
    let mut online_url = online_url;
    if let Some(text) = d
        .location_text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if let Some(link) = safe_http_url(text, None) {
            online_url = online_url.or(Some(link));
        } else if location.is_none() {
            location = Some(Location {
                name: Some(coalesce_core::normalize::squash_whitespace(text)),
                ..Location::default()
            });
        }
    }
    if let Some(loc) = location.as_mut() {
        clean_location(loc);
    }
    let location = location.filter(|l| !l.is_empty());

    let other_urls: Vec<&str> = d
        .other_urls
        .iter()
        .map(String::as_str)
        .chain(online_url.as_deref())
        .chain(url.as_deref())
        .chain(registration_url.as_deref())
        .collect();
    // Modality and topics both match on the folded title and description: fold them once.
    let mut folded_title_text = String::with_capacity(title.len() + description_plain.len() + 1);
    fold_into(&title, &mut folded_title_text);
    if !folded_title_text.is_empty() {
        // `fold_for_match("{title}\n{text}")`: a newline folds to one space between the two.
        folded_title_text.push(' ');
    }
    let title_len = folded_title_text.len();
    fold_into(&description_plain, &mut folded_title_text);
    if folded_title_text.len() == title_len {
        folded_title_text.truncate(title_len.saturating_sub(1));
    }
    // Who organizes says something about who attends ("State Archives", "Museum Alliance").
    let who = two_lines(
        d.audience.as_deref().unwrap_or_default(),
        d.organizer.as_deref().unwrap_or_default(),
    );
    // Topics and sectors; the same pass finds the modality words of the folded text.
    let (topics, text_sectors, folded_signals) = hints.vocabulary.classify_with_signals(
        &d.categories,
        &folded_title_text,
        title_len.saturating_sub(1),
        &who,
    );
    // The sectors the text names, else the publisher's declared ones (see `ParseHints::sectors`).
    let sectors = if text_sectors.is_empty() {
        hints.sectors.clone()
    } else {
        text_sectors
    };
    let modality = infer_modality(&ModalityInput {
        declared: d.declared_modality,
        title: &title,
        text: &description_plain,
        folded_title_text: Some(&folded_title_text),
        categories: &d.categories,
        location: location.as_ref(),
        urls: &other_urls,
        has_online_url: online_url.is_some(),
        has_occurrences: !occurrences.is_empty(),
        folded_signals: Some(folded_signals),
    });

    let cost = pick_cost(&d, &description_plain, &lower_plain);
    let credits = match d.credits_text.as_deref() {
        Some(text) => parse_credits(text),
        None => parse_credits_lines(
            &title,
            &description_plain,
            lower_plain.get_or_init(|| description_plain.to_ascii_lowercase()),
        ),
    };

    occurrences.sort_by_key(|o| o.start);
    occurrences.dedup_by(|a, b| a.start == b.start && a.end == b.end);

    // The first start only matters to a content hash, i.e. without a GUID; formatting it for
    // every item was a measurable share of finishing one.
    let has_guid = d.guid.as_deref().is_some_and(|g| !g.trim().is_empty());
    let first_start = (!has_guid)
        .then(|| occurrences.first().map(|o| o.start.to_rfc3339()))
        .flatten();
    let (source_key, key_kind) = source_key(&IdentityInput {
        guid: d.guid.as_deref(),
        url: url.as_deref(),
        title: &title,
        first_start: first_start.as_deref(),
        text: &description_plain,
    });

    let categories = {
        // `html_to_text` squashes whitespace itself (and squashing twice changes nothing).
        let cats = d
            .categories
            .into_iter()
            .map(|c| html_to_text_owned(c, 8))
            .filter(|c| !c.is_empty() && c.len() <= 200);
        first_of_each_lowercase(cats)
    };

    let mut offering = Offering {
        source_key,
        key_kind,
        title,
        summary,
        description_html,
        language: d
            .language
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty() && l.len() <= 35),
        occurrences,
        recurring: d.recurring,
        timezone,
        modality,
        location,
        online_url,
        url,
        registration_url,
        image_url,
        cost,
        credits,
        sectors,
        audience_level: d
            .audience
            .map(coalesce_core::normalize::squash_whitespace_owned)
            .filter(|a| !a.is_empty())
            .or_else(|| hints.audience.clone()),
        topics,
        categories,
        organizer: d
            .organizer
            .map(|o| html_to_text_owned(o, 8))
            .filter(|o| !o.is_empty()),
        status: d.status,
        source_sequence: d.sequence,
        updated_at: d.updated_at,
        published_at: d.published_at,
    };
    defang(&mut offering);
    offering
}

/// What [`dates_of`] reads besides the format's own occurrences.
struct DatesInput<'a> {
    text_dates: bool,
    published_start: Option<DateTime<FixedOffset>>,
    published_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    title: &'a str,
    text: &'a str,
}

/// The occurrences and zone of one item. A structured start always wins: the title and
/// description are read only when the format gave no occurrence, and a publication date is a
/// start only when the document's convention says so and the text gives no time. The zone is
/// always said when something says it: the format's (TZID, X-WR-TIMEZONE), the one the text
/// names, else the source's.
fn dates_of(
    mut occurrences: Vec<Occurrence>,
    timezone: Option<String>,
    input: &DatesInput<'_>,
    ctx: &mut Ctx<'_>,
    index: Option<usize>,
) -> (Vec<Occurrence>, Option<String>) {
    let source_zone = ctx.hints.timezone;
    let mut zone = timezone;
    if occurrences.is_empty() && (input.text_dates || input.published_start.is_some()) {
        let found = if input.text_dates {
            let reference = input
                .published_start
                .map(|p| p.with_timezone(&Utc))
                .or(input.published_at)
                .or(input.updated_at)
                .unwrap_or(ctx.hints.now);
            crate::dates::text::read(
                &[input.text, input.title],
                &crate::dates::text::TextHints {
                    reference,
                    zone: source_zone,
                },
            )
        } else {
            None
        };
        let published = input.published_start;
        match (found, published) {
            // A time in the text says more than the publication date (it has the end too).
            (Some(f), _) if !f.all_day => {
                if f.zone.is_none() {
                    ctx.warn(
                        WarningCode::FloatingTime,
                        index,
                        "a time in the text names no zone and the source has none; read as utc",
                    );
                }
                zone = f.zone.map(|z| z.name().to_string());
                occurrences.push(Occurrence {
                    start: f.start,
                    end: f.end,
                    all_day: false,
                    cancelled: false,
                    date_source: DateSource::Text,
                    recurrence_id: None,
                });
            }
            // A timed publication date on the phrase's first day says the hour the phrase
            // leaves out; at local midnight the phrase's days are the event (a conference as
            // midnight pubDate + "June 14 - June 16"); on another day the words win.
            (Some(f), Some(p))
                if !crate::dates::text::is_local_midnight(p, source_zone)
                    && f.start.date_naive() == local_date(p, source_zone) =>
            {
                occurrences.push(published_occurrence(p, source_zone));
            }
            (Some(f), _) => {
                occurrences.push(Occurrence {
                    start: f.start,
                    end: f.end,
                    all_day: true,
                    cancelled: false,
                    date_source: DateSource::Text,
                    recurrence_id: None,
                });
            }
            (None, Some(p)) => occurrences.push(published_occurrence(p, source_zone)),
            (None, None) => {}
        }
    }
    for o in &mut occurrences {
        whole_days(o);
    }
    if zone.is_none() && !occurrences.is_empty() {
        // Structured times with an offset (JSON-LD, ev:startdate, microdata) and date-only
        // ones name no zone: the source's is the zone the copy is placed in, when its offset
        // at each start is the one written. A copy written in another zone's offset (a
        // partner's page in London time) says nothing about the zone it means.
        zone = source_zone
            .filter(|z| {
                occurrences
                    .iter()
                    .all(|o| o.all_day || offset_agrees(o.start, *z))
            })
            .map(|z| z.name().to_string());
    }
    (occurrences, zone)
}

/// Whether `zone` has the offset `t` is written in at that instant.
fn offset_agrees(t: DateTime<FixedOffset>, zone: chrono_tz::Tz) -> bool {
    use chrono::Offset;
    t.with_timezone(&zone).offset().fix() == *t.offset()
}

/// 00:00 to 23:59(:59) on the wall clock is how many calendars write a whole day: made
/// all-day, with the exclusive end at the next midnight as iCalendar has it.
fn whole_days(o: &mut Occurrence) {
    use chrono::Timelike;
    let Some(end) = o.end else { return };
    if o.all_day || o.start.time() != chrono::NaiveTime::MIN {
        return;
    }
    let t = end.time();
    if t.hour() == 23 && t.minute() == 59 && end.date_naive() >= o.start.date_naive() {
        o.all_day = true;
        o.end = end
            .date_naive()
            .succ_opt()
            .and_then(|d| {
                d.and_time(chrono::NaiveTime::MIN)
                    .and_local_timezone(*end.offset())
                    .single()
            })
            .or(Some(end));
    }
}

fn local_date(t: DateTime<FixedOffset>, zone: Option<chrono_tz::Tz>) -> chrono::NaiveDate {
    match zone {
        Some(z) => t.with_timezone(&z).date_naive(),
        None => t.date_naive(),
    }
}

/// A publication date as the event start: with no end, or a whole day at local midnight.
fn published_occurrence(p: DateTime<FixedOffset>, zone: Option<chrono_tz::Tz>) -> Occurrence {
    let start = match zone {
        Some(z) => p.with_timezone(&z).fixed_offset(),
        None => p,
    };
    let all_day = crate::dates::text::is_local_midnight(p, zone);
    let end = all_day
        .then(|| {
            let next = local_date(p, zone).succ_opt()?;
            crate::dates::localize(next.and_time(chrono::NaiveTime::MIN), zone)
        })
        .flatten();
    Occurrence {
        start,
        end,
        all_day,
        cancelled: false,
        date_source: DateSource::Published,
        recurrence_id: None,
    }
}

/// `format!("{a}\n{b}")` without the formatting machinery (two of these per item were a
/// visible cost).
fn two_lines(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + 1 + b.len());
    s.push_str(a);
    s.push('\n');
    s.push_str(b);
    s
}

/// The strings in order, each kept unless one kept before it has the same `to_lowercase()`.
/// A handful per item: compared pairwise, ASCII ignoring case without lowercased copies (for
/// ASCII text that is the same as comparing `to_lowercase()`), rather than hashing a
/// lowercased copy of each.
fn first_of_each_lowercase(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for s in items {
        let seen = kept.iter().any(|k| {
            if k.is_ascii() && s.is_ascii() {
                k.eq_ignore_ascii_case(&s)
            } else {
                k.to_lowercase() == s.to_lowercase()
            }
        });
        if !seen {
            kept.push(s);
        }
    }
    kept
}

/// What `safe_http_url(raw, Some(own))` answers when `own` is `raw` parsed, without parsing
/// it again; `None` when that is not certain (the caller then asks `safe_http_url`). A link
/// written as `http://` or `https://` is resolved the same whatever the base (a special
/// scheme followed by two slashes starts an authority either way), so joining it to itself
/// gives itself.
fn link_from_own_base(raw: &str, own: &Url) -> Option<String> {
    let t = raw.trim();
    let absolute = t
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
        || t.get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"));
    let usable = absolute
        && t.len() <= 4096
        && matches!(own.scheme(), "http" | "https")
        && own.host_str().is_some_and(|h| !h.is_empty());
    usable.then(|| own.as_str().to_string())
}

/// Applies the text and HTML defences of `coalesce_core::normalize` to every string a reader sees.
fn defang(o: &mut Offering) {
    fn text(s: &mut String) {
        if let std::borrow::Cow::Owned(clean) = defang_text(s) {
            *s = clean;
        }
    }
    fn opt(s: &mut Option<String>) {
        if let Some(v) = s.as_mut() {
            text(v);
        }
    }
    text(&mut o.title);
    opt(&mut o.summary);
    if let Some(html) = o.description_html.as_mut()
        && let std::borrow::Cow::Owned(clean) = defang_html(html)
    {
        *html = clean;
    }
    opt(&mut o.organizer);
    opt(&mut o.audience_level);
    opt(&mut o.cost.text);
    o.categories.iter_mut().for_each(text);
    if let Some(loc) = o.location.as_mut() {
        for f in [
            &mut loc.name,
            &mut loc.address,
            &mut loc.locality,
            &mut loc.region,
            &mut loc.country,
        ] {
            opt(f);
        }
    }
}

/// ASCII case-insensitive search for an ASCII `needle`.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    let first = n.first()?;
    let h = hay.as_bytes();
    let mut at = 0;
    // A first byte without case (`<` of "<a") is found by memchr rather than byte by byte.
    let caseless = !first.is_ascii_alphabetic() && first.is_ascii();
    let next = |from: usize| -> Option<usize> {
        if caseless {
            hay.get(from..)?.find(char::from(*first))
        } else {
            h.get(from..)?
                .iter()
                .position(|b| b.eq_ignore_ascii_case(first))
        }
    };
    while let Some(p) = next(at) {
        let start = at + p;
        if h.get(start..start + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
        {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// The links of sanitized HTML in order, as `(href, label)`: `<a ...href="X"...>LABEL</a>`
/// (tag and attribute names in any case, the first `href` of the tag, the label up to the first
/// `</a>`). Sanitized HTML is regular (ammonia re-serializes it with double-quoted attributes),
/// so a linear scan is enough; a regex with captures was a measurable share of finishing an
/// item.
fn anchors(html: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let start = at + find_ascii_ci(html.get(at..)?, "<a")?;
            at = start + 2;
            if let Some(link) = anchor_at(html, start + 2) {
                at = link.2;
                return Some((link.0, link.1));
            }
        }
    })
}

/// The link whose tag continues at `from` (just after `<a`): href, label and where it ends.
fn anchor_at(html: &str, from: usize) -> Option<(&str, &str, usize)> {
    let rest = html.get(from..)?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    // `href="` before the tag's first `>`, with a non-empty value.
    let mut scan = 0;
    let (value_start, value_end) = loop {
        let p = scan + find_ascii_ci(rest.get(scan..)?, "href=\"")?;
        if rest[..p].contains('>') {
            return None;
        }
        let v = p + 6;
        let len = rest[v..].find('"')?;
        if len > 0 {
            break (v, v + len);
        }
        scan = p + 1;
    };
    let gt = value_end + 1 + rest.get(value_end + 1..)?.find('>')?;
    let label_start = gt + 1;
    let label_len = find_ascii_ci(rest.get(label_start..)?, "</a>")?;
    Some((
        &rest[value_start..value_end],
        &rest[label_start..label_start + label_len],
        from + label_start + label_len + 4,
    ))
}

static TEXT_URL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    regex::Regex::new(
        r"(?i)\b(?:register|registration|sign up|rsvp|book your place|book a place|book now|tickets|reserve your place)\b[^\n]{0,40}?(https?://[^\s<>\x22]+)",
    )
    .expect("registration text regex compiles")
});

/// A URL written in plain text.
static ANY_URL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    regex::Regex::new(r"(?i)https?://[^\s<>\x22]+").expect("url regex compiles")
});

/// [`REGISTER_WORDS`] in one searcher: over a lowercased copy, a vectorized search for a few
/// literals (one substring searcher per word was a visible cost per item).
static REGISTER_SEARCH: std::sync::LazyLock<Literals> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Literals::new(&REGISTER_WORDS).expect("register words build")
});

/// Whether `s` holds one of [`REGISTER_WORDS`], ignoring ASCII case.
fn says_register(s: &str) -> bool {
    REGISTER_SEARCH
        .find_start(&s.to_ascii_lowercase())
        .is_some()
}

/// The registration link a description offers when the format has no field for it: the link
/// whose text says register (or book, RSVP, tickets), else one whose target does (a `/register`
/// page, a known registration service); the first of the strongest. Sanitized HTML has
/// absolute http(s) links. Without HTML, links of markup left in the text (an iCalendar
/// DESCRIPTION written as HTML), then a URL written right after "Register" in plain text, then
/// a URL of a registration service. Last, the item's own page when it is a sign-up page by
/// where it goes (a LibCal event). Dedup leans on this link.
/// `known` are links of `html` that are serialized http(s) URLs with a host (relative links
/// the sanitizer made absolute): `safe_http_url` would give each back unchanged, so a link
/// found among them is not parsed again. `lower` holds (or is given)
/// `text.to_ascii_lowercase()`.
fn registration_link(
    html: Option<&str>,
    known: &[String],
    text: &str,
    lower: &std::cell::OnceCell<String>,
    page: Option<&str>,
) -> Option<String> {
    // Markup left in plain text is read only when it holds a link tag.
    let in_text = memchr::memmem::find(text.as_bytes(), b"<a").map(|_| text);
    for html in [html, in_text].into_iter().flatten() {
        if !html.contains("<a") {
            continue;
        }
        let mut best: Option<(u8, String)> = None;
        for (href, label) in anchors(html) {
            let strength = registration_strength(label, href, says_register);
            if strength == 0 || best.as_ref().is_some_and(|(s, _)| *s >= strength) {
                continue;
            }
            let href = htmlize::unescape(href);
            let url = if known.iter().any(|k| **k == *href) {
                Some(href.into_owned())
            } else {
                safe_http_url(&href, None)
            };
            if let Some(url) = url {
                let strongest = strength == 2;
                best = Some((strength, url));
                if strongest {
                    break;
                }
            }
        }
        if let Some((_, url)) = best {
            return Some(url);
        }
    }
    if text.len() < 20_000 {
        if REGISTER_SEARCH
            .find_start(lower.get_or_init(|| text.to_ascii_lowercase()))
            .is_some()
            && let Some(cap) = TEXT_URL.captures(text)
        {
            let raw = cap[1].trim_end_matches(['.', ',', ')', ';']);
            if let Some(url) = safe_http_url(raw, None) {
                return Some(url);
            }
        }
        if memchr::memmem::find(text.as_bytes(), b"://").is_some() {
            let found = ANY_URL
                .find_iter(text)
                .map(|m| m.as_str().trim_end_matches(['.', ',', ')', ';']))
                .find(|u| is_registration_url(u))
                .and_then(|u| safe_http_url(u, None));
            if found.is_some() {
                return found;
            }
        }
    }
    page.filter(|p| is_registration_url(p)).map(str::to_string)
}

/// `lower` holds (or is given) `description.to_ascii_lowercase()`.
fn pick_cost(d: &Draft, description: &str, lower: &std::cell::OnceCell<String>) -> Cost {
    let from_offers = cost_from_offers(&d.offers);
    if from_offers.is_known() {
        return from_offers;
    }
    if let Some(text) = d.cost_text.as_deref() {
        let c = parse_cost_text(text);
        if c.is_known() {
            return c;
        }
    }
    if d.declared_free == Some(true) {
        return Cost {
            free: Some(true),
            min_amount: Some(0.0),
            max_amount: Some(0.0),
            currency: None,
            text: None,
        };
    }
    // Last resort: a price statement in the description. Only sentences that talk about cost,
    // so "Room 25" or "2026" never become prices.
    let lower = lower.get_or_init(|| description.to_ascii_lowercase());
    let c = parse_cost_in_description(&cost_sentences_lowered(description, lower));
    if c.is_known() {
        Cost { text: None, ..c }
    } else {
        Cost::default()
    }
}

/// `text.split(['.', '\n', '|'])` but for a point between two digits (a decimal point: "$1.2
/// million", "$15.50"), which ends no sentence. The delimiters are found by one vectorized
/// scan (the general pattern splitter tested every character against the three).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut from = 0;
    let bytes = text.as_bytes();
    memchr::memchr3_iter(b'.', b'\n', b'|', bytes)
        .filter(|&at| {
            !(bytes[at] == b'.'
                && at > 0
                && bytes[at - 1].is_ascii_digit()
                && bytes.get(at + 1).is_some_and(u8::is_ascii_digit))
        })
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let piece = &text[from..end];
            from = end + 1;
            piece
        })
}

/// The words [`mentions_cost`] looks for, as found in ASCII-lowercased text, but for the
/// currency signs (`$`, `€`, `£`): with one-byte patterns among them, the packed searcher
/// could only filter on one byte and stopped at every 'c', 'f', 'p', ...; the signs are
/// found by memchr instead.
const COST_WORDS: [&str; 9] = [
    "cost",
    "charge",
    "fee",
    "free",
    "price",
    "register",
    "registration",
    "members",
    "tuition",
];

/// Where the first `$`, `€` or `£` at or after `at` starts.
fn first_currency_sign(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr3_iter(b'$', 0xE2, 0xC2, bytes.get(at..)?)
        .map(|p| at + p)
        .find(|&p| {
            bytes.get(p) == Some(&b'$')
                || bytes[p..].starts_with("€".as_bytes())
                || bytes[p..].starts_with("£".as_bytes())
        })
}

static COST_SEARCH: std::sync::LazyLock<Literals> = std::sync::LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Literals::new(&COST_WORDS).expect("cost words build")
});

/// The [`sentences`] of `description` that mention cost (as [`mentions_cost`] decides), each
/// followed by a newline. The words are found by one vectorized literal search over a
/// lowercased copy of the whole description, jumping from one sentence that mentions cost
/// to the next, instead of a byte-by-byte check of every sentence: 'c', 'f', 'm', 'p', 'r'
/// and 't' start many words of prose, so the first-byte filter let much of the text through.
/// No word holds a sentence delimiter, so a word found lies inside one sentence.
#[cfg(test)]
fn cost_sentences(description: &str) -> String {
    cost_sentences_lowered(description, &description.to_ascii_lowercase())
}

/// The cost sentences (see `cost_sentences`) given `lower`, `description.to_ascii_lowercase()`
/// (shared with the search for register words).
fn cost_sentences_lowered(description: &str, lower: &str) -> String {
    let find_from = |at: usize| {
        let word = lower
            .get(at..)
            .and_then(|rest| COST_SEARCH.find_start(rest))
            .map(|p| at + p);
        match (word, first_currency_sign(lower, at)) {
            (Some(w), Some(c)) => Some(w.min(c)),
            (w, c) => w.or(c),
        }
    };
    let mut out = String::new();
    let mut hit = find_from(0);
    let mut start = 0;
    for sentence in sentences(description) {
        let end = start + sentence.len();
        let Some(h) = hit else {
            break;
        };
        if h < end {
            if out.is_empty() {
                // Room for every sentence from here on and its newline: one allocation.
                out.reserve(description.len() + 1 - start);
            }
            out.push_str(sentence);
            out.push('\n');
            hit = find_from(end);
        }
        start = end + 1;
    }
    out
}

/// Bytes that may start one of [`mentions_cost`]'s words (either case): a table lookup rules
/// out most bytes before the `match`.
#[cfg(test)]
static COST_START: [bool; 256] = {
    let mut t = [false; 256];
    let starts = b"$cfprmtCFPRMT";
    let mut i = 0;
    while i < starts.len() {
        t[starts[i] as usize] = true;
        i += 1;
    }
    t[0xE2] = true;
    t[0xC2] = true;
    t
};

#[cfg(test)]
/// Whether a sentence talks about cost: one of a few words, ignoring ASCII case (enough for
/// these ASCII words and the € and £ signs). One pass over the bytes with a first-byte filter;
/// lowercasing the text and searching it once per word was a visible share of finishing an item.
fn mentions_cost(sentence: &str) -> bool {
    let bytes = sentence.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        if !COST_START[usize::from(*b)] {
            return false;
        }
        // The words that may start with this byte: most bytes start none.
        let words: &[&str] = match b.to_ascii_lowercase() {
            b'$' => return true,
            b'c' => &["cost", "charge"],
            b'f' => &["fee", "free"],
            b'p' => &["price"],
            b'r' => &["register", "registration"],
            b'm' => &["members"],
            b't' => &["tuition"],
            0xE2 => &["€"],
            0xC2 => &["£"],
            _ => return false,
        };
        words.iter().any(|w| {
            bytes
                .get(i..i + w.len())
                .is_some_and(|here| here.eq_ignore_ascii_case(w.as_bytes()))
        })
    })
}

fn clean_location(loc: &mut Location) {
    for field in [
        &mut loc.name,
        &mut loc.address,
        &mut loc.locality,
        &mut loc.region,
        &mut loc.country,
    ] {
        if let Some(v) = field.take() {
            let v = html_to_text_owned(v, 8);
            if !v.is_empty() && v.len() <= 500 {
                *field = Some(v);
            }
        }
    }
}

fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        for (i, line) in para.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            escape_into(line.trim(), &mut out);
        }
        out.push_str("</p>");
    }
    out
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use coalesce_core::{CreditUnit, KeyKind, Modality, Sector};

    use super::*;
    use crate::ParseHints;

    fn run(drafts: Vec<Draft>) -> (Vec<Offering>, Vec<crate::Warning>) {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
            .single()
            .expect("valid");
        let mut hints = ParseHints::new(now);
        hints.base_url = Url::parse("https://ce.example.org/feed.xml").ok();
        let mut ctx = Ctx::new(&hints);
        let out = finish_all(drafts, &mut ctx);
        (out, ctx.warnings)
    }

    fn draft(index: usize, title: &str) -> Draft {
        Draft {
            index,
            title: Some(title.to_string()),
            ..Draft::default()
        }
    }

    #[test]
    fn midnight_to_2359_is_a_whole_day_and_text_never_overrides_a_structured_start() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("date");
        let mut whole = draft(0, "Annual Meeting");
        whole.occurrences.push(Occurrence {
            start: at("2027-10-20T00:00:00-10:00"),
            end: Some(at("2027-10-20T23:59:00-10:00")),
            all_day: false,
            cancelled: false,
            date_source: DateSource::Structured,
            recurrence_id: None,
        });
        let mut structured = draft(1, "Webinar");
        structured.text_dates = true;
        structured.description_text = Some("When: March 3, 2027, 9–10 a.m. ET".into());
        structured.occurrences.push(Occurrence {
            start: at("2027-03-04T14:00:00-05:00"),
            end: None,
            all_day: false,
            cancelled: false,
            date_source: DateSource::Structured,
            recurrence_id: None,
        });
        let (out, _) = run(vec![whole, structured]);
        let o = &out[0].occurrences[0];
        assert!(o.all_day);
        assert_eq!(o.end, Some(at("2027-10-21T00:00:00-10:00")));
        let o = &out[1].occurrences;
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].start, at("2027-03-04T14:00:00-05:00"));
        assert_eq!(o[0].date_source, DateSource::Structured);
    }

    /// The straightforward splitter: at '.', '\n' and '|', but not at a point between digits.
    fn split_sentences(text: &str) -> Vec<&str> {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut out = Vec::new();
        let mut from = 0;
        for (k, &(i, c)) in chars.iter().enumerate() {
            let decimal = c == '.'
                && k > 0
                && chars[k - 1].1.is_ascii_digit()
                && chars.get(k + 1).is_some_and(|n| n.1.is_ascii_digit());
            if matches!(c, '.' | '\n' | '|') && !decimal {
                out.push(&text[from..i]);
                from = i + 1;
            }
        }
        out.push(&text[from..]);
        out
    }

    proptest::proptest! {
        #[test]
        fn cost_sentences_are_the_sentences_that_mention_cost(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    ".", "\n", "|", " ", "Cost", "COST:", "$25", "€5", "£3", "¢", "Free", "fees", "1.5",
                    "Members", "tuition", "REGISTRATION", "price", "charge", "room", "x", "é",
                    "co", "st", "fe", "e", "ﬁ",
                ]),
                0..20,
            ),
            a in proptest::sample::select(vec!["", "Title", "a b"]),
        ) {
            let text = parts.concat();
            let mut want = String::new();
            for sentence in split_sentences(&text) {
                if mentions_cost(sentence) {
                    want.push_str(sentence);
                    want.push('\n');
                }
            }
            proptest::prop_assert_eq!(cost_sentences(&text), want, "{:?}", text);
            proptest::prop_assert_eq!(two_lines(a, &text), format!("{a}\n{text}"));
        }

        #[test]
        fn sentences_are_what_split_gives(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![".", "\n", "|", "a", "Cost: $5", " ", "é", "..", "|\n", "1", "2.5"]),
                0..12,
            ),
        ) {
            let text = parts.concat();
            let want = split_sentences(&text);
            proptest::prop_assert_eq!(sentences(&text).collect::<Vec<_>>(), want);
        }

        #[test]
        fn says_register_equals_searching_a_lowercased_copy(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Regist", "REGISTER", "sign", " ", "up", "Sign Up", "signUP", "rsvp", "RSVP",
                    "enrol", "Enroll", "book", "now", "Book Now", "tickets", "TICKET", "x", "é",
                    "İ", "ſ", "r", "e", "s", "b", "t",
                ]),
                0..10,
            ),
        ) {
            let s = parts.concat();
            let lower = s.to_ascii_lowercase();
            let want = REGISTER_WORDS.iter().any(|w| lower.contains(w));
            proptest::prop_assert_eq!(says_register(&s), want, "{:?}", s);
        }

        #[test]
        fn first_of_each_lowercase_equals_a_set_of_lowercased_copies(
            items in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Webinar", "WEBINAR", "webinar", "Ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ", "ΣΑΣ", "σας",
                    "İstanbul", "i̇stanbul", "Straße", "STRASSE", "x", "X ", "",
                ]),
                0..8,
            ),
        ) {
            let items: Vec<String> = items.into_iter().map(str::to_string).collect();
            let mut want = items.clone();
            let mut seen = std::collections::HashSet::new();
            want.retain(|c| seen.insert(c.to_lowercase()));
            proptest::prop_assert_eq!(first_of_each_lowercase(items.into_iter()), want);
        }
    }

    #[test]
    fn description_yields_cost_credits_topics_and_sectors() {
        let mut d = draft(0, "Grant Writing for Small Museums");
        d.description_html =
            Some("<p>Registration: $25 members / $50 non-members.</p><p>Earn 1.5 CEUs.</p>".into());
        d.organizer = Some("Regional Archivists Society".into());
        let (out, _) = run(vec![d]);
        let o = &out[0];
        assert_eq!(
            (o.cost.free, o.cost.min_amount, o.cost.max_amount),
            (Some(false), Some(25.0), Some(50.0))
        );
        assert_eq!(o.credits.len(), 1);
        assert_eq!(
            (o.credits[0].amount, o.credits[0].unit),
            (1.5, CreditUnit::Ceu)
        );
        assert!(
            o.topics.contains(&"fundraising".to_string()),
            "{:?}",
            o.topics
        );
        assert_eq!(o.sectors, vec![Sector::Archives, Sector::Museums]);
    }

    #[test]
    fn declared_sectors_and_audience_apply_where_the_text_names_none() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
            .single()
            .expect("valid");
        let mut hints = ParseHints::new(now);
        hints.sectors = vec![Sector::Museums];
        hints.audience = Some("collections staff".into());
        let silent = draft(0, "Board Members as Fundraisers");
        let mut named = draft(1, "Records retention for public libraries");
        named.audience = Some("Trustees".into());
        let mut ctx = Ctx::new(&hints);
        let out = finish_all(vec![silent, named], &mut ctx);
        // A museum association's offering is for museums unless its text says otherwise.
        assert_eq!(out[0].sectors, vec![Sector::Museums]);
        assert_eq!(out[0].audience_level.as_deref(), Some("collections staff"));
        assert_eq!(out[1].sectors, vec![Sector::Libraries]);
        assert_eq!(out[1].audience_level.as_deref(), Some("Trustees"));
    }

    #[test]
    fn cost_sentences_are_found_whatever_their_case() {
        for (s, want) in [
            ("Registration: $25", true),
            ("FREE for MEMBERS", true),
            ("Tickets €10", true),
            ("Entry £5", true),
            ("Tuition waived", true),
            ("No CHARGE", true),
            ("Meet in Room 25", false),
            ("", false),
            ("Caf\u{e9} €", true),
        ] {
            assert_eq!(mentions_cost(s), want, "{s}");
        }
    }

    #[test]
    fn the_cost_prefilter_lets_through_every_byte_a_cost_word_starts_with() {
        for b in 0..=255u8 {
            let starts_word = matches!(
                b.to_ascii_lowercase(),
                b'$' | b'c' | b'f' | b'p' | b'r' | b'm' | b't' | 0xE2 | 0xC2
            );
            assert_eq!(COST_START[usize::from(b)], starts_word, "{b:#x}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 3000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn a_link_read_off_its_own_base_equals_resolving_it(
            head in proptest::sample::select(vec![
                "http://", "HTTPS://", " https://", "\thttp://", "http:", "https:/", "http:\\\\",
                "ftp://", "",
            ]),
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "http://", "HTTPS://", "https:", "http:/", " ", "\t", "ex.org", "Ex.ORG",
                    "/a", "/../b", "?b=1&c", "#f", "\\", "..", "%20", "é", ":8080", "user@",
                    "[::1]", "//", "javascript:", "x",
                ]),
                1..8,
            ),
        ) {
            let raw = format!("{head}{}", parts.concat());
            // How the feed adapter makes the base from the link.
            let own = Url::parse(raw.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            if let Some(own) = own
                && let Some(fast) = link_from_own_base(&raw, &own)
            {
                proptest::prop_assert_eq!(Some(fast), safe_http_url(&raw, Some(&own)), "{:?}", raw);
            }
        }
    }

    #[test]
    fn numbers_outside_cost_sentences_are_not_prices() {
        let mut d = draft(0, "Cataloging lab");
        d.description_text = Some("Meet in Room 25 on the 2nd floor.".into());
        let (out, _) = run(vec![d]);
        assert_eq!(out[0].cost.free, None);
    }

    #[test]
    fn unsafe_urls_are_dropped_with_a_warning_and_relative_ones_resolved() {
        let mut d = draft(0, "Copyright basics");
        d.url = Some("javascript:alert(1)".into());
        d.registration_url = Some("/register/7".into());
        let (out, warnings) = run(vec![d]);
        assert_eq!(out[0].url, None);
        assert_eq!(
            out[0].registration_url.as_deref(),
            Some("https://ce.example.org/register/7")
        );
        assert!(warnings.iter().any(|w| w.code == WarningCode::UnsafeUrl));
    }

    #[test]
    fn missing_title_is_derived_from_the_summary_with_a_warning() {
        let d = Draft {
            index: 3,
            description_text: Some(
                "Hands-on session about disaster planning for small archives.".into(),
            ),
            ..Draft::default()
        };
        let (out, warnings) = run(vec![d]);
        assert!(
            out[0].title.starts_with("Hands-on session"),
            "{}",
            out[0].title
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.code == WarningCode::MissingTitle && w.item == Some(3))
        );
    }

    #[test]
    fn markup_in_titles_becomes_text_and_script_sequences_are_defanged() {
        let mut a = draft(0, "<b>Metadata</b> &amp; cataloging");
        a.title_is_html = true;
        let b = draft(1, "Why javascript: matters");
        let (out, _) = run(vec![a, b]);
        assert_eq!(out[0].title, "Metadata & cataloging");
        assert_eq!(out[1].title, "Why javascript∶ matters");
    }

    #[test]
    fn identical_items_with_one_guid_collapse_and_different_ones_are_rekeyed() {
        let mut a = draft(0, "Preservation 101");
        a.guid = Some("g-1".into());
        a.url = Some("https://ce.example.org/e/1".into());
        let b = a.clone();
        let mut c = draft(2, "Leadership lab");
        c.guid = Some("g-1".into());
        c.url = Some("https://ce.example.org/e/2".into());
        let (out, warnings) = run(vec![a, Draft { index: 1, ..b }, c]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].source_key, "g-1");
        assert_eq!(out[1].source_key, "https://ce.example.org/e/2");
        assert_eq!(out[1].key_kind, KeyKind::Url);
        assert_eq!(
            warnings
                .iter()
                .filter(|w| w.code == WarningCode::DuplicateGuid)
                .count(),
            2
        );
    }

    #[test]
    fn anchors_are_read_like_the_pattern_they_replace() {
        let html = r#"<p><A HREF="/one" rel="x">One <b>1</b></A> <a>none</a> <a href="">empty</a> <abbr>x</abbr>
            <a title="t" href="/two">Two</a><a href="/three">unclosed"#;
        let got: Vec<(&str, &str)> = anchors(html).collect();
        assert_eq!(got, [("/one", "One <b>1</b>"), ("/two", "Two")]);
        assert_eq!(
            anchors("<a\nhref=\"/x\"\n>X</a>").collect::<Vec<_>>(),
            [("/x", "X")]
        );
        assert_eq!(anchors("no links").count(), 0);
        // The same answers as the pattern used before, on these and a few more shapes.
        let pattern = regex::Regex::new(r#"(?is)<a\s[^>]*?href="([^"]+)"[^>]*>(.*?)</a>"#)
            .expect("pattern compiles");
        for doc in [
            html,
            "<a href=\"/a\"><a href=\"/b\">x</a></a>",
            "<a  data-href=\"/d\" href=\"/e\">E</a>",
            "<a href=\"/g>t\">G</a><a href=\"\" href=\"/h\">H</a>",
            "<aside><a\thref=\"/i\">I</A>",
            "é<a href=\"/é\">é</a>",
        ] {
            let want: Vec<(&str, &str)> = pattern
                .captures_iter(doc)
                .map(|c| {
                    let (h, l) = (
                        c.get(1).map_or("", |m| m.as_str()),
                        c.get(2).map_or("", |m| m.as_str()),
                    );
                    (h, l)
                })
                .collect();
            assert_eq!(anchors(doc).collect::<Vec<_>>(), want, "{doc}");
        }
    }

    #[test]
    fn registration_link_is_found_in_the_description() {
        let mut a = draft(0, "Copyright basics");
        a.description_html = Some(r#"<p>Learn more <a href="/about">about us</a>. <a href="/ce/register/2041">Register now</a></p>"#.into());
        let mut b = draft(1, "Copyright basics");
        b.description_text = Some("Co-hosted.\n\nRegister with MPLA: https://mpla.example.org/ce/register/2041?utm_source=sra.\nFree.".into());
        let mut c = draft(2, "Copyright basics");
        c.description_html = Some(r#"<p><a href="https://example.org/more">More</a></p>"#.into());
        let (out, _) = run(vec![a, b, c]);
        assert_eq!(
            out[0].registration_url.as_deref(),
            Some("https://ce.example.org/ce/register/2041")
        );
        assert_eq!(
            out[1].registration_url.as_deref(),
            Some("https://mpla.example.org/ce/register/2041?utm_source=sra")
        );
        assert_eq!(out[2].registration_url, None);
    }

    #[test]
    fn the_link_whose_text_says_book_or_register_is_the_registration_link() {
        // Relative links in an entry resolve against the entry's own base (Atom xml:base).
        let mut a = draft(0, "Accessible reading rooms");
        a.base_url = Url::parse("https://www.archives.example/whats-on/2027/").ok();
        a.url = Some("accessible-reading-rooms/".into());
        a.description_html = Some(
            r#"<p><a href="../../about/">About the society</a></p><p><a href="../../booking/tars-2027-002">Book your place</a></p>"#
                .into(),
        );
        // An iCalendar DESCRIPTION written as HTML, handed over as HTML or left as text.
        let ical_html = r#"<p>The $1.2 million program funds projects.</p><p><a href="https://www.museums.example/events/grant/?mc_cid=4d&amp;mc_eid=9c">Register online</a></p>"#;
        let mut b = draft(1, "Grant webinar");
        b.description_html = Some(ical_html.into());
        let mut c = draft(2, "Grant webinar");
        c.description_text = Some(ical_html.into());
        // The text of a link outweighs a target that only looks like a sign-up page.
        let mut d = draft(3, "Board training");
        d.description_html = Some(
            r#"<p><a href="https://x.example/registration-policy">our policy</a> <a href="https://x.example/e/7">Get tickets</a></p>"#
                .into(),
        );
        // A link of a registration service, without a word about it.
        let mut e = draft(4, "Board training");
        e.description_text =
            Some("Details: https://www.eventbrite.com/e/board-training-123.".into());
        let (out, _) = run(vec![a, b, c, d, e]);
        assert_eq!(
            out[0].registration_url.as_deref(),
            Some("https://www.archives.example/booking/tars-2027-002")
        );
        let want = Some("https://www.museums.example/events/grant/?mc_cid=4d&mc_eid=9c");
        assert_eq!(out[1].registration_url.as_deref(), want);
        assert_eq!(out[2].registration_url.as_deref(), want);
        assert_eq!(
            out[3].registration_url.as_deref(),
            Some("https://x.example/e/7")
        );
        assert_eq!(
            out[4].registration_url.as_deref(),
            Some("https://www.eventbrite.com/e/board-training-123")
        );
    }

    #[test]
    fn the_page_is_the_registration_link_only_when_it_is_a_sign_up_page() {
        let mut libcal = draft(0, "Tech petting zoo");
        libcal.url = Some("https://crossroads.libcal.com/event/13240052".into());
        libcal.description_text = Some("Registration is required.".into());
        let mut news = draft(1, "Grant webinar");
        news.url = Some("https://www.library.example/news/grant-webinar".into());
        let (out, _) = run(vec![libcal, news]);
        assert_eq!(
            out[0].registration_url.as_deref(),
            Some("https://crossroads.libcal.com/event/13240052")
        );
        assert_eq!(out[1].registration_url, None);
    }

    #[test]
    fn a_grant_in_the_text_of_a_free_webinar_is_not_its_price() {
        let mut a = draft(0, "Digitizing minute books");
        a.description_html = Some(
            "<p>This free webinar, supported by a $120,000 grant from the Heritage Fund, covers imaging.</p><p><strong>Cost:</strong> Free</p>"
                .into(),
        );
        let mut b = draft(1, "Digitization grant: how to apply");
        b.description_html = Some(
            "<p>This year $150,000 is available, with awards of up to $15,000 per library. This webinar is free.</p>"
                .into(),
        );
        let mut c = draft(2, "Mentoring circle");
        c.description_html = Some(
            "<p><strong>Cost:</strong> Free for members; $20 CAD for non-members</p><p><strong>Where:</strong> Online (Zoom)</p>"
                .into(),
        );
        let (out, _) = run(vec![a, b, c]);
        for o in &out[..2] {
            assert_eq!(
                (o.cost.free, o.cost.max_amount),
                (Some(true), Some(0.0)),
                "{}",
                o.title
            );
        }
        assert_eq!(
            (
                out[2].cost.free,
                out[2].cost.min_amount,
                out[2].cost.max_amount
            ),
            (Some(false), Some(0.0), Some(20.0))
        );
        assert_eq!(out[2].cost.currency.as_deref(), Some("CAD"));
    }

    #[test]
    fn register_online_at_a_street_address_is_in_person() {
        let mut a = draft(0, "Collections photography workshop");
        a.description_html = Some(
            r#"<p>Copy stands and grey cards.</p><p><a href="https://m.example/events/photo/">Register online</a></p>"#
                .into(),
        );
        a.location_text =
            Some("Valley History Museum, 110 N. Main St., Pocatello, ID 83204".into());
        let mut b = draft(1, "Tech petting zoo: VR headsets");
        b.description_html = Some(
            "<b>Date:</b> Tuesday, March 2, 2027<br /><b>Location:</b> Crossroads Training Center, Indianapolis<br /><b>Categories:</b> Workforce Development<br /><br />Registration is required."
                .into(),
        );
        let (out, _) = run(vec![a, b]);
        assert_eq!(out[0].modality, Some(Modality::InPerson));
        assert_eq!(out[1].modality, Some(Modality::InPerson));
    }

    #[test]
    fn an_online_link_makes_an_offering_online() {
        let mut d = draft(0, "Caring for photographs");
        d.location_text = Some("https://meet.example.org/j/123".into());
        let (out, _) = run(vec![d]);
        assert_eq!(
            out[0].online_url.as_deref(),
            Some("https://meet.example.org/j/123")
        );
        assert_eq!(out[0].modality, Some(Modality::Online));
        assert_eq!(out[0].location, None);
    }
}
