//! The search filters shared by `/api/v1/offerings`, `/calendar.ics`, the feeds and
//! `/api/v1/subscriptions`: parsed once from the raw query string (filters repeat, so serde's
//! struct extraction does not fit), validated, and able to say in words what they select and to
//! write themselves back as a canonical query string.

use chrono::{DateTime, NaiveDate, Utc};
use coalesce_core::{Modality, Sector, Status, Vocabulary};
use coalesce_index::{CreditsFilter, MAX_LIMIT, SearchRequest, SortOrder};

use crate::error::ApiError;

/// Deepest offset served; deeper paging must use the cursor (HOSTILE D3).
pub const MAX_OFFSET: u64 = 1000;
/// Raw query text longer than this is refused before anything else looks at it. The index has
/// its own, stricter bound (256 characters); this one keeps megabyte queries out of the logs.
const MAX_RAW_Q: usize = 1024;
/// Values of one repeatable filter.
const MAX_VALUES: usize = 20;
const MAX_CURSOR: usize = 256;

/// What a search selects, independent of paging.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub q: Option<String>,
    pub topics: Vec<String>,
    pub sectors: Vec<Sector>,
    pub modalities: Vec<Modality>,
    pub providers: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub free: Option<bool>,
    pub credits: Option<(String, CreditsFilter)>,
    pub statuses: Vec<Status>,
    /// `on_demand=false` leaves out undated offerings.
    pub on_demand: Option<bool>,
}

/// Paging and ordering of the JSON search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paging {
    pub sort: Option<SortOrder>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
    pub offset: u64,
}

/// Calendar and feed size parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedParams {
    pub max_events: Option<usize>,
    pub max_kb: Option<usize>,
}

/// Every parameter of one request, already checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pub filters: Filters,
    pub paging: Paging,
    pub feed: FeedParams,
}

/// Which parameter groups a route accepts; anything else is a 400 so typos (`topics=`) are
/// reported instead of silently ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Search,
    Feed,
    Filters,
}

fn parse_bool(name: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ApiError::bad(format!(
            "{name} must be true or false, got {:?}",
            clip(v)
        ))),
    }
}

/// An instant as RFC 3339 or a date (midnight UTC).
fn parse_instant(name: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(ApiError::bad(format!(
        "{name} must be a date (YYYY-MM-DD) or an RFC 3339 instant, got {:?}",
        clip(v)
    )))
}

fn parse_count(name: &str, v: &str) -> Result<u64, ApiError> {
    // Negative counts are taken by magnitude, like Mastodon's limit_param: a client sending -5
    // meant 5, and refusing helps nobody.
    let digits = v.trim().strip_prefix('-').unwrap_or(v.trim());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(format!(
            "{name} must be an integer, got {:?}",
            clip(v)
        )));
    }
    // Too many digits for u64 is still a number: saturate, the caller clamps.
    Ok(digits.parse::<u64>().unwrap_or(u64::MAX))
}

/// The first 40 characters of a value, for messages.
fn clip(v: &str) -> String {
    v.chars().take(40).collect()
}

fn push_limited<T: PartialEq>(name: &str, list: &mut Vec<T>, v: T) -> Result<(), ApiError> {
    if !list.contains(&v) {
        if list.len() >= MAX_VALUES {
            return Err(ApiError::bad(format!(
                "{name} is given more than {MAX_VALUES} times"
            )));
        }
        list.push(v);
    }
    Ok(())
}

impl Params {
    /// Parses a raw query string. `vocabulary` validates topic ids.
    pub fn parse(
        query: Option<&str>,
        accept: Accept,
        vocabulary: &Vocabulary,
    ) -> Result<Params, ApiError> {
        let mut p = Params::default();
        let Some(query) = query else {
            return Ok(p);
        };
        let f = &mut p.filters;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let key = key.as_ref();
            let v = value.as_ref();
            if v.contains('\0') {
                return Err(ApiError::bad(format!("{key} contains a NUL character")));
            }
            // Comma-separated lists are accepted next to repeated parameters.
            let many = || v.split(',').map(str::trim).filter(|s| !s.is_empty());
            match key {
                "q" => {
                    if v.chars().count() > MAX_RAW_Q {
                        // The same limit as the index states for shorter texts.
                        return Err(ApiError::InvalidQuery(format!(
                            "query is over {MAX_RAW_Q} characters long, at most {} are allowed",
                            coalesce_index::query::MAX_QUERY_CHARS
                        )));
                    }
                    if !v.trim().is_empty() {
                        f.q = Some(v.to_string());
                    }
                }
                "topic" => {
                    for t in many() {
                        if vocabulary.topic(t).is_none() {
                            return Err(ApiError::bad(format!(
                                "topic {:?} is not in the vocabulary (see /api/v1/topics)",
                                clip(t)
                            )));
                        }
                        push_limited(key, &mut f.topics, t.to_string())?;
                    }
                }
                "sector" => {
                    for s in many() {
                        let sector = Sector::parse(s).ok_or_else(|| {
                            ApiError::bad(format!(
                                "sector must be archives, libraries or museums, got {:?}",
                                clip(s)
                            ))
                        })?;
                        push_limited(key, &mut f.sectors, sector)?;
                    }
                }
                "modality" => {
                    for m in many() {
                        let modality = [
                            Modality::Online,
                            Modality::InPerson,
                            Modality::Hybrid,
                            Modality::SelfPaced,
                        ]
                        .into_iter()
                        .find(|x| x.as_str() == m)
                        .ok_or_else(|| {
                            ApiError::bad(format!(
                                "modality must be online, in_person, hybrid or self_paced, got {:?}",
                                clip(m)
                            ))
                        })?;
                        push_limited(key, &mut f.modalities, modality)?;
                    }
                }
                "provider" => {
                    for name in many() {
                        if name.len() > 200 {
                            return Err(ApiError::bad("provider name is too long"));
                        }
                        push_limited(key, &mut f.providers, name.to_string())?;
                    }
                }
                "status" => {
                    for s in many() {
                        let status = match s {
                            "scheduled" => Status::Scheduled,
                            "cancelled" => Status::Cancelled,
                            "postponed" => Status::Postponed,
                            _ => {
                                return Err(ApiError::bad(format!(
                                    "status must be scheduled, cancelled or postponed, got {:?}",
                                    clip(s)
                                )));
                            }
                        };
                        push_limited(key, &mut f.statuses, status)?;
                    }
                }
                "from" => f.from = Some(parse_instant(key, v)?),
                "to" => f.to = Some(parse_instant(key, v)?),
                "free" => f.free = Some(parse_bool(key, v)?),
                "on_demand" => f.on_demand = Some(parse_bool(key, v)?),
                "credits" => {
                    let c = CreditsFilter::parse(v).ok_or_else(|| {
                        ApiError::bad(format!(
                            "credits must be any or a unit (ceu, contact_hours, credit_hours, pdu, ce_credits, aca_credits), got {:?}",
                            clip(v)
                        ))
                    })?;
                    f.credits = Some((v.to_string(), c));
                }
                "sort" if accept == Accept::Search => {
                    p.paging.sort = Some(SortOrder::parse(v).ok_or_else(|| {
                        ApiError::bad(format!(
                            "sort must be relevance, start or updated, got {:?}",
                            clip(v)
                        ))
                    })?);
                }
                // An empty cursor is the first page, as an absent one (clients that always
                // send the parameter).
                "cursor" if accept == Accept::Search && v.is_empty() => {}
                "cursor" if accept == Accept::Search => {
                    if v.len() > MAX_CURSOR {
                        return Err(ApiError::InvalidCursor("cursor is too long".into()));
                    }
                    p.paging.cursor = Some(v.to_string());
                }
                "limit" if accept != Accept::Filters => {
                    let n = parse_count(key, v)?;
                    p.paging.limit = Some(usize::try_from(n).unwrap_or(usize::MAX));
                }
                "offset" if accept == Accept::Search => {
                    let n = parse_count(key, v)?;
                    if n > MAX_OFFSET {
                        return Err(ApiError::UseCursor(n));
                    }
                    p.paging.offset = n;
                }
                "max_events" if accept == Accept::Feed => {
                    let n = parse_count(key, v)?;
                    p.feed.max_events = Some(usize::try_from(n).unwrap_or(usize::MAX));
                }
                "max_kb" if accept == Accept::Feed => {
                    let n = parse_count(key, v)?;
                    p.feed.max_kb = Some(usize::try_from(n).unwrap_or(usize::MAX));
                }
                // Cache busters some HTTP clients append (`_=1700000000`).
                k if k.starts_with('_') => {}
                k => {
                    return Err(ApiError::bad(format!("unknown parameter {:?}", clip(k))));
                }
            }
        }
        if p.paging.cursor.is_some() && p.paging.offset > 0 {
            return Err(ApiError::bad("give either cursor or offset, not both"));
        }
        if let (Some(from), Some(to)) = (p.filters.from, p.filters.to)
            && to <= from
        {
            return Err(ApiError::bad("to must be after from"));
        }
        Ok(p)
    }
}

impl Filters {
    /// The index request for these filters at `now` (paging left at its defaults).
    pub fn request(&self, now: DateTime<Utc>) -> SearchRequest {
        let mut r = SearchRequest::new(now);
        r.q = self.q.clone();
        r.topics = self.topics.clone();
        r.sectors = self.sectors.clone();
        r.modalities = self.modalities.clone();
        r.providers = self.providers.clone();
        r.from = self.from;
        r.to = self.to;
        r.free = self.free;
        r.credits = self.credits.as_ref().map(|(_, c)| *c);
        r.statuses = self.statuses.clone();
        r.include_on_demand = self.on_demand.unwrap_or(true);
        r
    }

    /// The filters as a query string in a fixed order, so equal searches give equal URLs (and
    /// one subscription, not two).
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(q) = &self.q {
            s.append_pair("q", q.trim());
        }
        for t in &self.topics {
            s.append_pair("topic", t);
        }
        for x in &self.sectors {
            s.append_pair("sector", x.as_str());
        }
        for m in &self.modalities {
            s.append_pair("modality", m.as_str());
        }
        for p in &self.providers {
            s.append_pair("provider", p);
        }
        if let Some(t) = self.from {
            s.append_pair(
                "from",
                &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
        if let Some(t) = self.to {
            s.append_pair("to", &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        if let Some(f) = self.free {
            s.append_pair("free", if f { "true" } else { "false" });
        }
        if let Some((raw, _)) = &self.credits {
            s.append_pair("credits", raw);
        }
        for st in &self.statuses {
            s.append_pair("status", status_str(*st));
        }
        if let Some(d) = self.on_demand {
            s.append_pair("on_demand", if d { "true" } else { "false" });
        }
        s.finish()
    }

    /// A short title for a calendar or feed of this search: "free online webinars on
    /// preservation" style, built from the filters.
    pub fn title(&self, vocabulary: &Vocabulary) -> String {
        let mut words: Vec<String> = Vec::new();
        if self.free == Some(true) {
            words.push("free".into());
        }
        if !self.modalities.is_empty() {
            words.push(join_or(
                self.modalities
                    .iter()
                    .map(|m| modality_words(*m).to_string()),
            ));
        }
        words.push("offerings".into());
        if !self.topics.is_empty() {
            words.push(format!(
                "on {}",
                join_or(self.topics.iter().map(|t| topic_label(vocabulary, t)))
            ));
        }
        if let Some(q) = &self.q {
            words.push(format!("matching \u{201c}{}\u{201d}", q.trim()));
        }
        if !self.sectors.is_empty() {
            words.push(format!(
                "for {}",
                join_or(self.sectors.iter().map(|s| s.as_str().to_string()))
            ));
        }
        if !self.providers.is_empty() {
            words.push(format!("by {}", join_or(self.providers.iter().cloned())));
        }
        if words.len() == 1 {
            return "coalesce: all offerings".into();
        }
        format!("coalesce: {}", words.join(" "))
    }

    /// Every filter in words, for a calendar's description: a subscriber with several
    /// subscriptions must be able to tell them apart.
    pub fn describe(&self, vocabulary: &Vocabulary) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(q) = &self.q {
            parts.push(format!("text: {}", q.trim()));
        }
        if !self.topics.is_empty() {
            parts.push(format!(
                "topic: {}",
                join_or(self.topics.iter().map(|t| topic_label(vocabulary, t)))
            ));
        }
        if !self.sectors.is_empty() {
            parts.push(format!(
                "sector: {}",
                join_or(self.sectors.iter().map(|s| s.as_str().to_string()))
            ));
        }
        if !self.modalities.is_empty() {
            parts.push(format!(
                "format: {}",
                join_or(self.modalities.iter().map(|m| m.as_str().replace('_', " ")))
            ));
        }
        if !self.providers.is_empty() {
            parts.push(format!(
                "provider: {}",
                join_or(self.providers.iter().cloned())
            ));
        }
        match self.free {
            Some(true) => parts.push("free only".into()),
            Some(false) => parts.push("paid only".into()),
            None => {}
        }
        if let Some((raw, _)) = &self.credits {
            parts.push(if raw == "any" || raw == "true" {
                "continuing-education credits".into()
            } else {
                format!("{} credits", raw.replace('_', " "))
            });
        }
        if !self.statuses.is_empty() {
            parts.push(format!(
                "status: {}",
                join_or(self.statuses.iter().map(|s| status_str(*s).to_string()))
            ));
        }
        if let Some(t) = self.from {
            parts.push(format!("from {}", t.format("%Y-%m-%d")));
        }
        if let Some(t) = self.to {
            parts.push(format!("until {}", t.format("%Y-%m-%d")));
        }
        let what = if parts.is_empty() {
            "All continuing-education offerings".to_string()
        } else {
            format!("Continuing-education offerings with {}", parts.join("; "))
        };
        format!(
            "{what}, gathered by coalesce from archives, libraries and museums. Each offering offered by several providers appears once."
        )
    }
}

pub fn status_str(s: Status) -> &'static str {
    match s {
        Status::Scheduled => "scheduled",
        Status::Cancelled => "cancelled",
        Status::Postponed => "postponed",
    }
}

fn modality_words(m: Modality) -> &'static str {
    match m {
        Modality::Online => "online",
        Modality::InPerson => "in-person",
        Modality::Hybrid => "hybrid",
        Modality::SelfPaced => "self-paced",
    }
}

fn topic_label(v: &Vocabulary, id: &str) -> String {
    v.topic(id)
        .map(|t| t.label.to_lowercase())
        .unwrap_or_else(|| id.to_string())
}

fn join_or(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// The page size: absent or 0 gives the default; larger than [`MAX_LIMIT`] is clamped.
pub fn clamp_limit(limit: Option<usize>) -> usize {
    match limit {
        None | Some(0) => coalesce_index::DEFAULT_LIMIT,
        Some(n) => n.min(MAX_LIMIT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Params, ApiError> {
        Params::parse(Some(q), Accept::Search, &Vocabulary::builtin())
    }

    #[test]
    fn repeated_and_comma_separated_filters_accumulate() {
        let p = parse("sector=museums&sector=archives,libraries&modality=online").unwrap();
        assert_eq!(
            p.filters.sectors,
            vec![Sector::Museums, Sector::Archives, Sector::Libraries]
        );
        assert_eq!(p.filters.modalities, vec![Modality::Online]);
    }

    #[test]
    fn pagination_abuse_is_clamped_or_refused_never_fatal() {
        let cases: &[(&str, Result<usize, &str>)] = &[
            ("limit=1000000", Ok(100)),
            ("limit=-5", Ok(5)),
            ("limit=0", Ok(20)),
            ("limit=99999999999999999999999999999999999999999", Ok(100)),
            ("limit=NaN", Err("bad_parameter")),
            ("offset=99999999", Err("use_cursor")),
            ("page=NaN", Err("bad_parameter")),
            ("offset=5&cursor=abc", Err("bad_parameter")),
        ];
        for (q, want) in cases {
            match (parse(q), want) {
                (Ok(p), Ok(n)) => assert_eq!(clamp_limit(p.paging.limit), *n, "{q}"),
                (Err(e), Err(code)) => assert_eq!(e.code(), *code, "{q}"),
                (got, want) => panic!("{q}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn unknown_topics_and_parameters_are_named_in_the_error() {
        let e = parse("topic=basket-weaving").unwrap_err();
        assert!(e.to_string().contains("basket-weaving"), "{e}");
        let e = parse("topics=preservation").unwrap_err();
        assert!(e.to_string().contains("topics"), "{e}");
    }

    #[test]
    fn query_string_is_canonical_so_equal_searches_share_a_url() {
        let a = parse("sector=museums&free=true&q=+preservation+").unwrap();
        let b = parse("free=1&q=preservation&sector=museums").unwrap();
        assert_eq!(a.filters.query_string(), b.filters.query_string());
    }

    #[test]
    fn description_names_every_filter() {
        let p = parse("q=copyright&topic=digital-collections&modality=online&free=true").unwrap();
        let v = Vocabulary::builtin();
        let d = p.filters.describe(&v);
        for word in ["copyright", "digital collections", "online", "free only"] {
            assert!(d.contains(word), "{word} missing in {d}");
        }
        assert_eq!(
            p.filters.title(&v),
            "coalesce: free online offerings on digital collections matching \u{201c}copyright\u{201d}"
        );
    }
}
