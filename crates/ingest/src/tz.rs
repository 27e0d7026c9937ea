//! Time-zone names as providers write them: IANA ids, Windows names (Outlook, Exchange),
//! Outlook display names ("(UTC-05:00) Eastern Time (US & Canada)"), vendor-prefixed TZIDs
//! ("/mozilla.org/20050126_1/America/New_York", "/citadel.org/.../America/Chicago") and a few
//! common abbreviations.

use chrono_tz::Tz;

/// The IANA zone a TZID names, or `None` when it names nothing we know.
pub fn resolve(name: &str) -> Option<Tz> {
    let name = name.trim().trim_matches('"');
    if name.is_empty() {
        return None;
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    if let Some(iana) = localzone::win_zone_to_iana(name, None)
        && let Ok(tz) = iana.parse::<Tz>()
    {
        return Some(tz);
    }
    // Vendor prefixes: take the longest tail of path segments that is an IANA id.
    if name.contains('/') {
        let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
        for start in 0..parts.len() {
            if let Ok(tz) = parts[start..].join("/").parse::<Tz>() {
                return Some(tz);
            }
        }
    }
    // Outlook display names: "(UTC-05:00) Eastern Time (US & Canada)".
    if let Some(rest) = name.strip_prefix('(')
        && let Some((_, display)) = rest.split_once(')')
        && let Some(tz) = display_name(display.trim())
    {
        return Some(tz);
    }
    if let Some(tz) = display_name(name) {
        return Some(tz);
    }
    let iana = match name.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "UT" | "ZULU" | "ETC/UTC" => "UTC",
        "EST" | "EDT" | "EASTERN" => "America/New_York",
        "CST" | "CDT" | "CENTRAL" => "America/Chicago",
        "MST" | "MDT" | "MOUNTAIN" => "America/Denver",
        "PST" | "PDT" | "PACIFIC" => "America/Los_Angeles",
        "AKST" | "AKDT" => "America/Anchorage",
        "HST" => "Pacific/Honolulu",
        "CET" | "CEST" => "Europe/Paris",
        "BST" => "Europe/London",
        _ => return None,
    };
    iana.parse().ok()
}

fn display_name(display: &str) -> Option<Tz> {
    let iana = match display {
        "Eastern Time (US & Canada)" => "America/New_York",
        "Central Time (US & Canada)" => "America/Chicago",
        "Mountain Time (US & Canada)" => "America/Denver",
        "Pacific Time (US & Canada)" => "America/Los_Angeles",
        "Alaska" => "America/Anchorage",
        "Hawaii" => "Pacific/Honolulu",
        "Arizona" => "America/Phoenix",
        "Atlantic Time (Canada)" => "America/Halifax",
        "Newfoundland" => "America/St_Johns",
        "Dublin, Edinburgh, Lisbon, London" => "Europe/London",
        "Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna" => "Europe/Berlin",
        "Brussels, Copenhagen, Madrid, Paris" => "Europe/Paris",
        "Coordinated Universal Time" => "UTC",
        "Canberra, Melbourne, Sydney" => "Australia/Sydney",
        _ => return None,
    };
    iana.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tzid_table() {
        let cases = [
            ("America/New_York", Some("America/New_York")),
            ("Eastern Standard Time", Some("America/New_York")),
            ("Pacific Standard Time", Some("America/Los_Angeles")),
            ("W. Europe Standard Time", Some("Europe/Berlin")),
            ("/mozilla.org/20050126_1/America/Chicago", Some("America/Chicago")),
            ("(UTC-05:00) Eastern Time (US & Canada)", Some("America/New_York")),
            ("\"Europe/London\"", Some("Europe/London")),
            ("GMT", Some("GMT")),
            ("Z", Some("UTC")),
            ("Mars/Olympus_Mons", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(resolve(name).map(|t| t.name()), want, "{name}");
        }
    }
}
