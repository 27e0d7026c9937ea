//! Synthetic but realistic documents for benchmarks: the same generator feeds the criterion
//! benches and `examples/benchkit.rs` (which writes them to disk for the Python comparison), so
//! both sides measure identical bytes. Deterministic: a fixed seed, no clock.
#![allow(clippy::write_with_newline)]

use std::fmt::Write;

const TOPICS: &[&str] = &[
    "Digital Preservation Fundamentals",
    "Grant Writing for Small Museums",
    "Metadata and Cataloging with RDA",
    "Disaster Preparedness for Archives",
    "Copyright and Fair Use in Libraries",
    "Leading Through Change",
    "Accessible Programming for All Ages",
    "Early Literacy Storytime Skills",
    "Project Management for Digitization",
    "Volunteer Engagement Strategies",
    "Open Government Records",
    "Designing Effective Online Training",
];

const PROVIDERS: &[&str] = &[
    "State Library Association",
    "Regional Archivists Society",
    "Museum Alliance",
    "Library Consortium",
    "iSchool Continuing Education",
];

const PARAGRAPH: &str = "Join colleagues from archives, libraries and museums for a practical session. \
We will cover planning, tools and workflows, with time for questions and a resource list you can \
take back to your institution. Suitable for staff at every level; no prior experience needed.";

/// A small linear congruential generator: enough variety, fully reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

fn when(i: usize) -> (u32, u32, u32) {
    // Spread over 2027: month, day, hour.
    let month = (i % 12) as u32 + 1;
    let day = (i % 27) as u32 + 1;
    let hour = 13 + (i % 6) as u32;
    (month, day, hour)
}

/// An RSS 2.0 feed with the event module, HTML descriptions, categories and GUIDs.
pub fn rss(items: usize) -> String {
    let mut r = Lcg(7);
    let mut s = String::with_capacity(items * 1_200);
    s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:ev=\"http://purl.org/rss/1.0/modules/event/\">\n<channel><title>CE Calendar</title><link>https://ce.example.org/</link><description>Continuing education</description>\n");
    for i in 0..items {
        let (m, d, h) = when(i);
        let topic = r.pick(TOPICS);
        let _ = write!(
            s,
            "<item><title>{topic} (session {i})</title><link>https://ce.example.org/events/{i}</link>\
<guid isPermaLink=\"false\">ce-{i}</guid><pubDate>Mon, 04 Jan 2027 10:00:00 -0500</pubDate>\
<category>{}</category><category>Webinar</category>\
<description><![CDATA[<p>{PARAGRAPH}</p><p>Cost: $25 members / $50 non-members. Earn 1.5 CEUs. \
Register at <a href=\"/register/{i}\">our site</a>.</p>]]></description>\
<ev:startdate>2027-{m:02}-{d:02}T{h}:00:00-05:00</ev:startdate><ev:enddate>2027-{m:02}-{d:02}T{}:30:00-05:00</ev:enddate>\
<ev:location>Online via Zoom</ev:location><ev:organizer>{}</ev:organizer></item>\n",
            r.pick(&["Preservation", "Leadership", "Cataloging", "Fundraising"]),
            h + 1,
            r.pick(PROVIDERS),
        );
    }
    s.push_str("</channel></rss>\n");
    s
}

/// An Atom 1.0 feed with HTML content.
pub fn atom(items: usize) -> String {
    let mut r = Lcg(11);
    let mut s = String::with_capacity(items * 1_200);
    s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>CE Atom</title><id>urn:ce:atom</id><updated>2027-01-01T00:00:00Z</updated><link href=\"https://ce.example.org/\"/>\n");
    for i in 0..items {
        let topic = r.pick(TOPICS);
        let _ = write!(
            s,
            "<entry><title>{topic} #{i}</title><id>urn:ce:{i}</id><updated>2027-01-0{}T10:00:00Z</updated>\
<link rel=\"alternate\" href=\"https://ce.example.org/e/{i}\"/><category term=\"Workshop\"/>\
<author><name>{}</name></author><content type=\"html\">&lt;p&gt;{PARAGRAPH}&lt;/p&gt;&lt;p&gt;Free for members.&lt;/p&gt;</content></entry>\n",
            i % 9 + 1,
            r.pick(PROVIDERS),
        );
    }
    s.push_str("</feed>\n");
    s
}

/// An iCalendar feed: a VTIMEZONE, single events and (every fifth) weekly series with an EXDATE.
pub fn ics(events: usize) -> String {
    let mut r = Lcg(13);
    let mut s = String::with_capacity(events * 700);
    s.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//coalesce//bench//EN\r\nX-WR-CALNAME:CE Calendar\r\nX-WR-TIMEZONE:America/New_York\r\n\
BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n");
    for i in 0..events {
        let (m, d, h) = when(i);
        let topic = r.pick(TOPICS);
        let _ = write!(
            s,
            "BEGIN:VEVENT\r\nUID:ev-{i}@ce.example.org\r\nDTSTAMP:20270101T000000Z\r\nSEQUENCE:{}\r\n\
DTSTART;TZID=America/New_York:2027{m:02}{d:02}T{h}0000\r\nDTEND;TZID=America/New_York:2027{m:02}{d:02}T{}0000\r\n\
SUMMARY:{topic} ({i})\r\nDESCRIPTION:Join colleagues for a practical session\\, with Q&A.\\nCost: Free. 2 contact hours.\r\n\
LOCATION:Main Library\\, 100 Elm St\\, Springfield\r\nCATEGORIES:Workshop,Preservation\r\nURL:https://ce.example.org/ics/{i}\r\n",
            i % 3,
            h + 2,
        );
        if i % 5 == 0 {
            // Skip the second week of the series.
            let skipped = chrono::NaiveDate::from_ymd_opt(2027, m, d)
                .map(|x| x + chrono::Duration::days(7))
                .map(|x| x.format("%Y%m%d").to_string())
                .unwrap_or_default();
            let _ = write!(
                s,
                "RRULE:FREQ=WEEKLY;COUNT=8\r\nEXDATE;TZID=America/New_York:{skipped}T{h}0000\r\n"
            );
        }
        s.push_str("END:VEVENT\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// Occurrences in [`ics`]'s output: single events count 1, series 8 minus one EXDATE.
#[allow(dead_code)]
pub fn ics_occurrences(events: usize) -> usize {
    (0..events).map(|i| if i % 5 == 0 { 7 } else { 1 }).sum()
}

/// An HTML events page with one JSON-LD block per event, as The Events Calendar emits.
pub fn html(events: usize) -> String {
    let mut r = Lcg(17);
    let mut s = String::with_capacity(events * 1_500);
    s.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Upcoming workshops</title></head><body><main><h1>Upcoming workshops</h1>\n");
    for i in 0..events {
        let (m, d, h) = when(i);
        let topic = r.pick(TOPICS);
        let _ = write!(
            s,
            "<article class=\"event\"><h2><a href=\"/events/{i}\">{topic}</a></h2><p class=\"when\">2027-{m:02}-{d:02} {h}:00</p><p>{PARAGRAPH}</p></article>\n\
<script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\"@type\":\"EducationEvent\",\"name\":\"{topic} {i}\",\
\"startDate\":\"2027-{m:02}-{d:02}T{h}:00:00-05:00\",\"endDate\":\"2027-{m:02}-{d:02}T{}:00:00-05:00\",\
\"eventAttendanceMode\":\"https://schema.org/OnlineEventAttendanceMode\",\"eventStatus\":\"https://schema.org/EventScheduled\",\
\"location\":{{\"@type\":\"VirtualLocation\",\"url\":\"https://zoom.us/j/{i}\"}},\"url\":\"https://ce.example.org/events/{i}\",\
\"description\":\"{PARAGRAPH}\",\"organizer\":{{\"@type\":\"Organization\",\"name\":\"{}\"}},\
\"offers\":[{{\"@type\":\"Offer\",\"price\":\"25\",\"priceCurrency\":\"USD\"}},{{\"@type\":\"Offer\",\"price\":\"50\",\"priceCurrency\":\"USD\"}}]}}</script>\n",
            h + 1,
            r.pick(PROVIDERS),
        );
    }
    s.push_str("</main></body></html>\n");
    s
}
