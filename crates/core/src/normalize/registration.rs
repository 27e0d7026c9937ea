//! Which link of an item is the way to sign up: its wording ("Register", "Book your place",
//! "Get tickets") or where it goes (a `/register` page, Eventbrite, a Zoom webinar
//! registration, a LibCal event, a form).

/// Words of a link's text that say it is the way to sign up, as found in ASCII-lowercased
/// text. Substrings: "regist" is "register", "registration", "registrar" is rare in a link.
pub const REGISTER_WORDS: [&str; 15] = [
    "regist",
    "sign up",
    "signup",
    "sign-up",
    "rsvp",
    "enrol",
    "book now",
    "book your",
    "book a place",
    "book a seat",
    "booking",
    "tickets",
    "reserve your",
    "reserve a ",
    "inscri",
];

/// Hosts (a domain and every domain under it) whose pages are sign-up pages.
const REGISTRATION_HOSTS: &[&str] = &[
    "eventbrite.com",
    "eventbrite.ca",
    "eventbrite.co.uk",
    "eventbrite.com.au",
    "tickettailor.com",
    "humanitix.com",
    "forms.gle",
    "forms.office.com",
    "forms.microsoft.com",
    "events.teams.microsoft.com",
    "cvent.com",
    "ti.to",
    "universe.com",
    "ticketleap.com",
    "ticketleap.events",
    "brownpapertickets.com",
    "eventzilla.net",
    "splashthat.com",
    "lu.ma",
    "jotform.com",
    "wufoo.com",
    "surveymonkey.com",
    "regfox.com",
];

/// A host (any domain under the first part) with a path that starts the second part:
/// registration pages of services that also host other pages.
const REGISTRATION_PATHS: &[(&str, &str)] = &[
    ("docs.google.com", "/forms/"),
    ("zoom.us", "/webinar/register"),
    ("zoom.us", "/meeting/register"),
    ("zoomgov.com", "/webinar/register"),
    ("zoomgov.com", "/meeting/register"),
];

/// Whole path segments that name a sign-up page.
const REGISTRATION_SEGMENTS: &[&str] = &[
    "register",
    "registration",
    "registrations",
    "signup",
    "sign-up",
    "rsvp",
    "tickets",
    "booking",
    "bookings",
    "enroll",
    "enrol",
    "inscripcion",
    "inscripción",
];

/// Whether `url` (absolute http(s)) is a sign-up page by where it goes: a known registration
/// service, a Zoom webinar registration, a LibCal event (LibCal's event page is its
/// registration form), or a path segment that says so (`/register`, `/booking/...`).
/// An event page of the provider's own site is not one: its slug may name anything.
pub fn is_registration_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    let under = |domain: &str| {
        host == domain
            || host
                .strip_suffix(domain)
                .is_some_and(|head| head.ends_with('.'))
    };
    if REGISTRATION_HOSTS.iter().any(|d| under(d)) {
        return true;
    }
    if REGISTRATION_PATHS
        .iter()
        .any(|(d, p)| under(d) && path.starts_with(p))
    {
        return true;
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    // LibCal sites live on `<name>.libcal.com` (or a library's own name for it).
    let libcal = host.split('.').any(|label| label == "libcal");
    if libcal && (path.starts_with("/event/") || path.starts_with("/calendar/")) {
        return true;
    }
    path.split('/')
        .any(|seg| REGISTRATION_SEGMENTS.contains(&seg))
}

/// How strongly a link (its text and target) says it is the way to sign up: 2 when its text
/// says so, 1 when only its target does, 0 otherwise. `says_register` answers whether a text
/// holds one of [`REGISTER_WORDS`] (the caller's fast search).
pub fn registration_strength(label: &str, href: &str, says_register: impl Fn(&str) -> bool) -> u8 {
    if says_register(label) {
        2
    } else if says_register(href) || is_registration_url(href) {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(s: &str) -> bool {
        let lower = s.to_ascii_lowercase();
        REGISTER_WORDS.iter().any(|w| lower.contains(w))
    }

    #[test]
    fn registration_urls_by_where_they_go() {
        for (url, want) in [
            (
                "https://www.eventbrite.com/e/archives-101-tickets-123",
                true,
            ),
            ("https://www.eventbrite.ca/e/123", true),
            ("https://us02web.zoom.us/webinar/register/WN_abc", true),
            ("https://us02web.zoom.us/j/123", false),
            ("https://crossroads.libcal.com/event/13240052", true),
            ("https://crossroads.libcal.com/", false),
            ("https://forms.gle/abc", true),
            ("https://docs.google.com/forms/d/e/x/viewform", true),
            ("https://docs.google.com/document/d/x", false),
            ("https://forms.office.com/r/abc", true),
            ("https://events.teams.microsoft.com/event/abc", true),
            ("https://www.tickettailor.com/events/tars/1", true),
            ("https://events.humanitix.com/archives-101", true),
            ("https://www.example.org/booking/tars-2027-002", true),
            ("https://www.example.org/events/x/register/", true),
            (
                "https://www.example.org/cursos/x/inscripcion?seccion=1",
                true,
            ),
            (
                "https://www.example.org/events/museum-registration-methods",
                false,
            ),
            ("https://www.example.org/events/heritage-grant/", false),
            ("https://noteventbrite.com/e/1", false),
            ("mailto:events@example.org", false),
        ] {
            assert_eq!(is_registration_url(url), want, "{url}");
        }
    }

    #[test]
    fn the_text_of_a_link_outweighs_its_target() {
        for (label, href, want) in [
            ("Book your place", "../../booking/tars-2027-002", 2),
            ("Register online", "https://www.example.org/events/x/", 2),
            ("Get tickets", "https://www.example.org/e/1", 2),
            ("RSVP", "https://www.example.org/e/1", 2),
            ("Inscripción", "https://www.example.org/c/1", 2),
            ("Details", "https://x.example/register/1", 1),
            ("Details", "https://www.eventbrite.com/e/1", 1),
            ("About us", "https://www.example.org/about", 0),
            ("Facebook", "https://facebook.com/x", 0),
        ] {
            assert_eq!(
                registration_strength(label, href, says),
                want,
                "{label} {href}"
            );
        }
    }
}
