//! Date templating for the demo fixture sites (`fixtures/sites/`): their dates are written
//! relative to the day they are served, so the demo always shows upcoming offerings. The demo's
//! fixture server and every test that reads those sites fill them with this one function.
//!
//! | placeholder | becomes (today + N days) |
//! |---|---|
//! | `{{DATE+N}}` / `{{DATE-N}}` | `YYYY-MM-DD` |
//! | `{{ICS+N}}` | `YYYYMMDD` |
//! | `{{RFC+N}}` | `Sat, 05 Dec 2026` |

use chrono::{Duration, NaiveDate};

/// `template` with every placeholder filled relative to `today` (passed in, never read from
/// the clock). Anything that is not a well-formed placeholder is left as written.
pub fn fill_dates(template: &str, today: NaiveDate) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let token = &after[..close];
        let filled = token.find(['+', '-']).and_then(|at| {
            let (kind, offset) = token.split_at(at);
            let day = today.checked_add_signed(Duration::days(offset.parse::<i64>().ok()?))?;
            match kind {
                "DATE" => Some(day.format("%Y-%m-%d").to_string()),
                "ICS" => Some(day.format("%Y%m%d").to_string()),
                "RFC" => Some(day.format("%a, %d %b %Y").to_string()),
                _ => None,
            }
        });
        match filled {
            Some(f) => out.push_str(&f),
            None => {
                out.push_str("{{");
                out.push_str(token);
                out.push_str("}}");
            }
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_relative_to_today_and_others_left_alone() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid");
        assert_eq!(
            fill_dates(
                "{{DATE+14}}T14:00 {{ICS-1}} {{RFC+0}} {{NOPE+1}} {{DATE+x}} {{open",
                today
            ),
            "2026-12-05T14:00 20261120 Sat, 21 Nov 2026 {{NOPE+1}} {{DATE+x}} {{open"
        );
    }
}
