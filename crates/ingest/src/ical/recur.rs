//! RRULE expansion, bounded.
//!
//! Rules are expanded in wall-clock time (the `rrule` crate is handed the local time as if it
//! were UTC) and only then placed in the event's zone. That is what RFC 5545 means by a rule
//! (a weekly 09:00 stays at 09:00 across DST), it sidesteps `rrule`'s habit of dropping or
//! repeating instances around a DST gap, and it makes every instance land exactly once.
//!
//! The work is bounded three ways: rules denser than `MAX_TIMES_PER_DAY` (SECONDLY, MINUTELY,
//! huge BYSECOND/BYMINUTE lists) are refused; rules without COUNT that start long before the
//! window are fast-forwarded by whole periods; and the iterator is stopped after
//! `MAX_STEPS` instances or once the window's end is passed.

use chrono::{Duration, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use rrule::{RRule, RRuleSet, Unvalidated};

use super::time::{Raw, parse_value};

/// Instances a rule may produce (before or inside the window) before we stop looking.
const MAX_STEPS: usize = 100_000;
/// Denser rules are not offerings anyone attends; they are refused, not expanded.
const MAX_TIMES_PER_DAY: usize = 96;

/// How expanding one rule went.
#[derive(Debug, Default)]
pub(crate) struct Expansion {
    /// Wall-clock starts, in order, from `from` on (a little before the window, for overlap).
    pub starts: Vec<NaiveDateTime>,
    /// Stopped early (too many instances, or too much work).
    pub capped: bool,
}

/// Why a rule was not expanded.
#[derive(Debug)]
pub(crate) enum RuleError {
    /// The rule could not be read.
    Bad(String),
    /// The rule is valid but too dense to expand.
    Refused(String),
}

/// Expands `rule` (an RRULE or EXRULE value) from `dtstart` (wall clock in `zone`), keeping
/// starts in `[from, to)` (wall clock), at most `max` of them.
pub(crate) fn expand(
    rule: &str,
    dtstart: NaiveDateTime,
    zone: Tz,
    from: NaiveDateTime,
    to: NaiveDateTime,
    max: usize,
) -> Result<Expansion, RuleError> {
    let parts = RuleParts::read(rule)?;
    let dense = parts.times_per_day();
    if dense > MAX_TIMES_PER_DAY {
        return Err(RuleError::Refused(format!(
            "rule {} repeats about {dense} times a day; only the first occurrence was kept",
            parts.freq.to_ascii_lowercase()
        )));
    }
    let until = match parts.until.as_deref() {
        None => None,
        Some(u) => Some(match parse_value(u, None) {
            Some(Raw::Utc(n)) => zone.from_utc_datetime(&n).naive_local(),
            Some(Raw::Local(n)) => n,
            // A date UNTIL is read as that day's midnight, as dateutil and ical.js do: it ends
            // a whole-day series on that day and a timed one the day before.
            Some(Raw::Date(d)) => d.and_time(chrono::NaiveTime::MIN),
            None => {
                return Err(RuleError::Bad(format!(
                    "until {:?} is not a date",
                    short(u)
                )));
            }
        }),
    };
    let start = fast_forward(&parts, dtstart, from);
    // An UNTIL before the start leaves only DTSTART itself, which the caller always keeps.
    if until.is_some_and(|u| u < start) {
        return Ok(Expansion::default());
    }
    let unvalidated: RRule<Unvalidated> = parts
        .cleaned
        .parse()
        .map_err(|e| RuleError::Bad(format!("{:?}: {e}", short(rule))))?;
    let unvalidated = match until {
        Some(u) => unvalidated.until(rrule::Tz::UTC.from_utc_datetime(&u)),
        None => unvalidated,
    };
    let start_utc = rrule::Tz::UTC.from_utc_datetime(&start);
    let validated = unvalidated
        .validate(start_utc)
        .map_err(|e| RuleError::Bad(format!("{:?}: {e}", short(rule))))?;
    let set = RRuleSet::new(start_utc).rrule(validated).limit();
    let mut out = Expansion::default();
    for (step, dt) in set.into_iter().enumerate() {
        let n = dt.naive_utc();
        if n >= to {
            break;
        }
        if step >= MAX_STEPS || out.starts.len() >= max {
            out.capped = true;
            break;
        }
        if n >= from {
            out.starts.push(n);
        }
    }
    Ok(out)
}

/// The parts of a rule we look at ourselves; `cleaned` is what `rrule` is given.
struct RuleParts {
    freq: String,
    interval: i64,
    count: bool,
    until: Option<String>,
    by_set_pos: bool,
    by_hour: usize,
    by_minute: usize,
    by_second: usize,
    cleaned: String,
}

impl RuleParts {
    fn read(rule: &str) -> Result<RuleParts, RuleError> {
        let rule = rule
            .trim()
            .trim_start_matches("RRULE:")
            .trim_start_matches("EXRULE:");
        if rule.len() > 2_000 {
            return Err(RuleError::Bad("rule is longer than 2000 characters".into()));
        }
        let mut parts = RuleParts {
            freq: String::new(),
            interval: 1,
            count: false,
            until: None,
            by_set_pos: false,
            by_hour: 0,
            by_minute: 0,
            by_second: 0,
            cleaned: String::new(),
        };
        let mut kept: Vec<String> = Vec::new();
        for part in rule.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            // A stray word ("RRULE:RRULE:AnythingRandom;FREQ=WEEKLY") carries no rule part;
            // the parts around it still do, as other readers agree.
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            let k = k.trim().to_ascii_uppercase();
            // Trailing commas ("BYDAY=MO,TU,") are common and harmless.
            let v = v.trim().trim_matches(',').to_ascii_uppercase();
            let list_len = v.split(',').filter(|x| !x.is_empty()).count();
            match k.as_str() {
                "FREQ" => parts.freq = v.clone(),
                "INTERVAL" => {
                    parts.interval = v.parse::<i64>().map_err(|_| {
                        RuleError::Bad(format!("interval {:?} is not a number", short(&v)))
                    })?;
                    if parts.interval < 1 {
                        return Err(RuleError::Bad(format!(
                            "interval {} is not positive",
                            parts.interval
                        )));
                    }
                }
                "COUNT" => parts.count = true,
                "UNTIL" => {
                    parts.until = Some(v);
                    continue;
                }
                "BYSETPOS" => parts.by_set_pos = true,
                "BYHOUR" => parts.by_hour = list_len,
                "BYMINUTE" => parts.by_minute = list_len,
                "BYSECOND" => parts.by_second = list_len,
                // Vendor extensions mean nothing to the expansion.
                k if k.starts_with("X-") => continue,
                _ => {}
            }
            kept.push(format!("{k}={v}"));
        }
        if parts.freq.is_empty() {
            return Err(RuleError::Bad("rule has no freq".into()));
        }
        parts.cleaned = kept.join(";");
        Ok(parts)
    }

    /// Roughly how many instances one day of this rule holds.
    fn times_per_day(&self) -> usize {
        let per_day_from_freq = match self.freq.as_str() {
            "SECONDLY" => 86_400,
            "MINUTELY" => 1_440,
            "HOURLY" => 24,
            _ => 1,
        };
        let by = self.by_hour.max(1) * self.by_minute.max(1) * self.by_second.max(1);
        let interval = usize::try_from(self.interval).unwrap_or(1).max(1);
        (per_day_from_freq / interval).max(1).max(by)
    }
}

/// Moves a rule without COUNT that starts long before the window forward by whole periods, so
/// a daily rule from 1970 does not walk through fifty years to reach the window. Rules whose
/// periods are not a fixed length (monthly, yearly) or that pick by position are left alone;
/// those have few periods per year anyway.
fn fast_forward(parts: &RuleParts, dtstart: NaiveDateTime, from: NaiveDateTime) -> NaiveDateTime {
    if parts.count || parts.by_set_pos || dtstart >= from {
        return dtstart;
    }
    let period = match parts.freq.as_str() {
        "HOURLY" => Duration::hours(parts.interval),
        "DAILY" => Duration::days(parts.interval),
        "WEEKLY" => Duration::weeks(parts.interval),
        _ => return dtstart,
    };
    let gap = from - dtstart;
    let periods = gap.num_seconds() / period.num_seconds().max(1);
    // Stay a couple of periods short, so a rule that picks days inside its period (WEEKLY
    // BYDAY) still yields every instance from `from` on.
    let skip = periods - 2;
    if skip <= 0 {
        return dtstart;
    }
    period
        .checked_mul(i32::try_from(skip).unwrap_or(0))
        .and_then(|d| dtstart.checked_add_signed(d))
        .unwrap_or(dtstart)
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("time")
    }

    #[test]
    fn weekly_rule_from_long_ago_is_fast_forwarded_to_the_same_weekdays() {
        let got = expand(
            "FREQ=WEEKLY;BYDAY=MO,WE",
            at("1971-01-04T09:00"),
            Tz::UTC,
            at("2026-01-01T00:00"),
            at("2026-01-15T00:00"),
            100,
        )
        .expect("rule");
        let want: Vec<NaiveDateTime> = [
            "2026-01-05T09:00",
            "2026-01-07T09:00",
            "2026-01-12T09:00",
            "2026-01-14T09:00",
        ]
        .into_iter()
        .map(at)
        .collect();
        assert_eq!(got.starts, want);
    }

    #[test]
    fn dense_rules_are_refused() {
        for rule in [
            "FREQ=SECONDLY",
            "FREQ=MINUTELY;INTERVAL=5",
            "FREQ=DAILY;BYMINUTE=0,1,2,3,4,5,6,7,8,9;BYHOUR=1,2,3,4,5,6,7,8,9,10",
        ] {
            let got = expand(
                rule,
                at("2026-01-01T00:00"),
                Tz::UTC,
                at("2026-01-01T00:00"),
                at("2027-01-01T00:00"),
                1000,
            );
            assert!(matches!(got, Err(RuleError::Refused(_))), "{rule}");
        }
    }

    #[test]
    fn unreadable_rules_are_bad() {
        for rule in [
            "FREQ=SECONDLY;INTERVAL=0",
            "FREQ=MHNTHLY",
            "BYDAY=MO",
            "FREQ=DAILY;UNTIL=tomorrow",
        ] {
            let got = expand(
                rule,
                at("2026-01-01T00:00"),
                Tz::UTC,
                at("2026-01-01T00:00"),
                at("2027-01-01T00:00"),
                1000,
            );
            assert!(matches!(got, Err(RuleError::Bad(_))), "{rule}: {got:?}");
        }
    }
}
