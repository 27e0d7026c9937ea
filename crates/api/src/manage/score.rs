//! The data-quality scorecard of a source: what share of its live offerings lack a start, an
//! end, a time zone, a registration link, a cost or a topic, and its parse warnings by kind,
//! so a provider knows what to fix in its feed.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use coalesce_core::{Modality, Offering};
use coalesce_store::OfferingFilter;
use serde::Serialize;

use super::ManageState;
use super::auth::Caller;
use super::error::ManageError;
use super::sources::owned;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Missing {
    pub count: usize,
    /// `count / offerings`, 0 when there are none.
    pub share: f64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Scorecard {
    pub source_id: i64,
    /// The calendar platform the source's feed was last read as (`libcal`, `trumba`, ...),
    /// so a provider sees coalesce understood it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub offerings: usize,
    pub missing_start: Missing,
    pub missing_end: Missing,
    pub missing_timezone: Missing,
    pub missing_registration_url: Missing,
    pub missing_cost: Missing,
    pub missing_topic: Missing,
    /// Occurrences by where their dates came from (`structured`, `text`, `published`): a
    /// source read mostly from text is one to ask for structured dates.
    pub occurrences_by_date_source: BTreeMap<String, usize>,
    /// From the latest fetch this process made (empty until then).
    pub warnings_by_kind: BTreeMap<String, u64>,
    /// What to fix first, in plain words.
    pub advice: Vec<String>,
}

/// Counts what each offering lacks. Self-paced offerings have no dates by nature, so they do
/// not count as missing a start or an end.
pub fn score(offerings: &[&Offering]) -> Scorecard {
    let n = offerings.len();
    let mut c = [0usize; 6];
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for o in offerings {
        for x in &o.occurrences {
            *by_source
                .entry(x.date_source.as_str().to_string())
                .or_default() += 1;
        }
        let dated = o.modality != Some(Modality::SelfPaced);
        if dated && o.occurrences.is_empty() {
            c[0] += 1;
        }
        if dated && (o.occurrences.is_empty() || o.occurrences.iter().any(|x| x.end.is_none())) {
            c[1] += 1;
        }
        // A whole day is the same day in any zone: no zone is needed to show it.
        let timed = o.occurrences.iter().any(|x| !x.all_day);
        if dated && timed && o.timezone.is_none() {
            c[2] += 1;
        }
        if o.registration_url.is_none() {
            c[3] += 1;
        }
        if o.cost.free.is_none() && o.cost.min_amount.is_none() {
            c[4] += 1;
        }
        if o.topics.is_empty() {
            c[5] += 1;
        }
    }
    let m = |count: usize| Missing {
        count,
        share: if n == 0 { 0.0 } else { count as f64 / n as f64 },
    };
    let mut advice = Vec::new();
    let tips = [
        "give every event a start date and time",
        "give every session an end time",
        "say which time zone times are in (an offset, TZID or the source's timezone setting)",
        "link each offering to its registration page",
        "say what it costs, or that it is free",
        "use words from the topic vocabulary in titles or categories",
    ];
    for (count, tip) in c.iter().zip(tips) {
        if n > 0 && *count * 5 > n {
            advice.push(format!("{tip} ({count} of {n} lack it)"));
        }
    }
    Scorecard {
        offerings: n,
        missing_start: m(c[0]),
        missing_end: m(c[1]),
        missing_timezone: m(c[2]),
        missing_registration_url: m(c[3]),
        missing_cost: m(c[4]),
        missing_topic: m(c[5]),
        occurrences_by_date_source: by_source,
        advice,
        ..Scorecard::default()
    }
}

pub async fn scorecard(
    caller: Caller,
    State(state): State<ManageState>,
    Path(id): Path<String>,
) -> Result<Json<Scorecard>, ManageError> {
    let source = owned(&state, caller, &id).await?;
    let stored = state
        .store()
        .offerings(&OfferingFilter {
            source_id: Some(source.id),
            ..OfferingFilter::default()
        })
        .await?;
    let offerings: Vec<&Offering> = stored.iter().map(|s| &s.offering).collect();
    let mut card = score(&offerings);
    card.source_id = source.id.0;
    card.platform = source.status.platform.clone();
    // Warnings come with parsing, so only a fresh fetch has them.
    if let Some(latest) = state
        .history(source.id)
        .await?
        .into_iter()
        .find(|r| r.outcome == "fetched")
    {
        card.warnings_by_kind = latest.warnings;
    }
    Ok(Json(card))
}
