//! A synthetic catalog of CE/PD offerings for benches and load tests.
//!
//! Realistic rather than random: titles are built from each topic's own phrases, formats and
//! audiences; providers come in the kinds that publish such offerings (state libraries,
//! regional systems, archives roundtables, museum associations, universities, historical
//! societies, national associations); dates, modality, cost, credits, series and co-marketed
//! duplicates follow the shares seen in real calendars. The same seed and `now` always give
//! the same catalog (own PRNG, so a dependency upgrade cannot change it).

use chrono::{DateTime, Duration, FixedOffset, Offset, Utc};
use coalesce_core::{
    Cost, Credit, CreditUnit, KeyKind, Location, Modality, Occurrence, Offering, Sector, Status,
};

use crate::doc::{AlsoOfferedBy, IndexDoc};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    /// Documents in total, duplicates included.
    pub offerings: usize,
    pub seed: u64,
    /// Dates spread around this instant (mostly the following year).
    pub now: DateTime<Utc>,
}

/// SplitMix64: tiny, fast, and fixed forever.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Topic id, label-ish phrases used in titles, and the sectors it is most common in.
struct TopicWords {
    id: &'static str,
    phrases: &'static [&'static str],
    extra: &'static [&'static str],
}

const TOPICS: &[TopicWords] = &[
    TopicWords {
        id: "digital-collections",
        phrases: &[
            "Digitization Workflows",
            "Building Digital Collections",
            "IIIF for Beginners",
            "Omeka Exhibits",
            "Digital Asset Management",
            "Scanning Standards for Photographs",
            "Digital Humanities Projects",
            "Choosing a DAMS",
        ],
        extra: &[
            "scanning",
            "metadata for digital objects",
            "file formats",
            "online exhibits",
            "CONTENTdm",
            "Islandora",
        ],
    },
    TopicWords {
        id: "disaster-preparedness",
        phrases: &[
            "Disaster Planning",
            "Emergency Preparedness for Cultural Heritage",
            "Salvaging Water-Damaged Collections",
            "Integrated Pest Management",
            "Risk Assessment for Small Institutions",
            "Business Continuity",
        ],
        extra: &[
            "flood response",
            "mold",
            "salvage priorities",
            "pocket response plans",
            "insurance",
        ],
    },
    TopicWords {
        id: "advocacy",
        phrases: &[
            "Library Advocacy",
            "Telling Your Story to Lawmakers",
            "Advocacy Toolkit",
            "Storytelling for Impact",
            "Legislative Day Prep",
        ],
        extra: &[
            "stakeholders",
            "public policy",
            "library funding",
            "talking points",
        ],
    },
    TopicWords {
        id: "project-management",
        phrases: &[
            "Project Management Basics",
            "Agile for Libraries",
            "Managing Grant-Funded Projects",
            "Kanban for Small Teams",
            "Project Planning",
        ],
        extra: &["work plans", "Gantt charts", "scope", "scrum"],
    },
    TopicWords {
        id: "accessibility-inclusion",
        phrases: &[
            "Accessible Programming",
            "Universal Design in Exhibits",
            "WCAG for Web Content",
            "Serving Neurodivergent Patrons",
            "Inclusive Cataloging",
            "Equity in Hiring",
        ],
        extra: &[
            "accessibility",
            "inclusion",
            "disability",
            "DEI",
            "belonging",
        ],
    },
    TopicWords {
        id: "workforce-development",
        phrases: &[
            "Supervising Staff",
            "Mentoring New Professionals",
            "Career Development",
            "Onboarding That Works",
            "Job Search Strategies",
        ],
        extra: &["careers", "recruitment", "retention", "upskilling"],
    },
    TopicWords {
        id: "early-learning",
        phrases: &[
            "Storytime Skills",
            "Early Literacy",
            "STEM for Preschoolers",
            "Family Engagement",
            "Baby Lapsit Programs",
        ],
        extra: &["early childhood", "play", "literacy", "caregivers"],
    },
    TopicWords {
        id: "member-engagement",
        phrases: &[
            "Volunteer Management",
            "Building Membership",
            "Community Engagement",
            "Friends Groups",
            "Member Programs",
        ],
        extra: &["volunteers", "outreach", "community partners"],
    },
    TopicWords {
        id: "open-government",
        phrases: &[
            "Public Records Basics",
            "Open Data for Archivists",
            "Records Retention Schedules",
            "Government Documents",
            "Electronic Records Management",
        ],
        extra: &["records management", "FOIA", "retention", "transparency"],
    },
    TopicWords {
        id: "online-training",
        phrases: &[
            "Designing Online Training",
            "Teaching Online",
            "Instructional Design",
            "Engaging Virtual Audiences",
            "Running Great Webinars",
        ],
        extra: &["e-learning", "training", "online learning"],
    },
    TopicWords {
        id: "preservation",
        phrases: &[
            "Preservation Basics",
            "Collections Care",
            "Caring for Photographs",
            "Book Repair",
            "Environmental Monitoring",
            "Preventive Conservation",
            "Housing and Storage",
        ],
        extra: &[
            "conservation",
            "preservation",
            "storage",
            "handling",
            "relative humidity",
        ],
    },
    TopicWords {
        id: "metadata-cataloging",
        phrases: &[
            "Cataloging Basics",
            "RDA Essentials",
            "Linked Data for Catalogers",
            "Metadata Standards",
            "Authority Control",
            "Archival Description with DACS",
            "Dublin Core",
        ],
        extra: &["metadata", "cataloging", "BIBFRAME", "MARC", "finding aids"],
    },
    TopicWords {
        id: "leadership",
        phrases: &[
            "Leading Through Change",
            "Leadership Institute",
            "Strategic Planning",
            "Managing Difficult Conversations",
            "Board Relations",
        ],
        extra: &["leadership", "strategy", "management", "governance"],
    },
    TopicWords {
        id: "fundraising",
        phrases: &[
            "Grant Writing",
            "Fundraising for Small Museums",
            "Annual Giving",
            "Writing Winning Proposals",
            "Capital Campaigns",
        ],
        extra: &["grants", "donors", "fundraising", "development"],
    },
    TopicWords {
        id: "copyright",
        phrases: &[
            "Copyright Basics",
            "Fair Use in Practice",
            "Orphan Works",
            "Licensing Digital Content",
            "Copyright for Digitization",
        ],
        extra: &["copyright", "fair use", "permissions", "licensing"],
    },
];

const FORMATS: &[&str] = &[
    "Webinar",
    "Workshop",
    "Course",
    "Bootcamp",
    "Roundtable",
    "Masterclass",
    "Lunch & Learn",
    "Institute",
    "Office Hours",
    "Symposium",
];
const AUDIENCES: &[(&str, Option<Sector>)] = &[
    ("Small Museums", Some(Sector::Museums)),
    ("Public Librarians", Some(Sector::Libraries)),
    ("Archivists", Some(Sector::Archives)),
    ("School Librarians", Some(Sector::Libraries)),
    ("Historical Societies", Some(Sector::Museums)),
    ("Academic Libraries", Some(Sector::Libraries)),
    ("Registrars", Some(Sector::Museums)),
    ("Records Managers", Some(Sector::Archives)),
    ("Volunteers", None),
    ("New Managers", None),
    ("Library Staff", Some(Sector::Libraries)),
    ("Museum Educators", Some(Sector::Museums)),
    ("Special Collections", Some(Sector::Archives)),
];
const LEVELS: &[&str] = &["beginner", "intermediate", "advanced", "all levels"];
const STATES: &[(&str, &str, &str, i32)] = &[
    ("Ohio", "OH", "Columbus", -5),
    ("Texas", "TX", "Austin", -6),
    ("California", "CA", "Sacramento", -8),
    ("New York", "NY", "Albany", -5),
    ("Illinois", "IL", "Springfield", -6),
    ("Colorado", "CO", "Denver", -7),
    ("Washington", "WA", "Olympia", -8),
    ("Georgia", "GA", "Atlanta", -5),
    ("Minnesota", "MN", "Saint Paul", -6),
    ("Arizona", "AZ", "Phoenix", -7),
    ("Massachusetts", "MA", "Boston", -5),
    ("Oregon", "OR", "Salem", -8),
    ("Michigan", "MI", "Lansing", -5),
    ("Wisconsin", "WI", "Madison", -6),
    ("Virginia", "VA", "Richmond", -5),
    ("Utah", "UT", "Salt Lake City", -7),
    ("Iowa", "IA", "Des Moines", -6),
    ("Maine", "ME", "Augusta", -5),
];
const REGIONS: &[&str] = &[
    "Northeast",
    "Midwest",
    "Mountain Plains",
    "Pacific Northwest",
    "Southeast",
    "Great Lakes",
    "New England",
    "Mid-Atlantic",
    "Southwest",
    "Upper Midwest",
];
const PROVIDER_KINDS: &[(&str, &[Sector])] = &[
    ("{state} State Library", &[Sector::Libraries]),
    ("{state} Library Association", &[Sector::Libraries]),
    ("{state} Association of Museums", &[Sector::Museums]),
    (
        "{state} Historical Records Advisory Board",
        &[Sector::Archives],
    ),
    ("{region} Archivists Roundtable", &[Sector::Archives]),
    ("{region} Library System", &[Sector::Libraries]),
    ("{region} Museum Association", &[Sector::Museums]),
    (
        "{region} Conservation Center",
        &[Sector::Archives, Sector::Libraries, Sector::Museums],
    ),
    (
        "University of {state} Libraries",
        &[Sector::Libraries, Sector::Archives],
    ),
    ("{city} Public Library", &[Sector::Libraries]),
    (
        "{state} Historical Society",
        &[Sector::Museums, Sector::Archives],
    ),
    ("{region} Library Cooperative", &[Sector::Libraries]),
    (
        "{state} Humanities Council",
        &[Sector::Museums, Sector::Libraries],
    ),
    (
        "{region} Digital Library Network",
        &[Sector::Libraries, Sector::Archives, Sector::Museums],
    ),
];
const SUBTITLES: &[&str] = &[
    "A Practical Introduction",
    "Tools and Techniques",
    "What You Need to Know",
    "Lessons from the Field",
    "Getting Started",
    "Case Studies",
    "Beyond the Basics",
    "A Hands-On Session",
    "Building Capacity",
    "Planning for the Future",
];
const SENTENCES: &[&str] = &[
    "This {format} introduces {topic} for {audience}, with examples you can apply right away.",
    "Participants will learn practical approaches to {extra} and leave with a checklist.",
    "Our presenter, a practitioner with years of experience, shares lessons learned on {extra}.",
    "Bring your questions: the last half hour is an open discussion of {extra}.",
    "No prior experience is required; the session is suitable for {audience}.",
    "We cover planning, budgeting and common pitfalls of {topic}.",
    "Attendees receive slides, a recording and a resource list on {extra}.",
    "The {format} is part of our continuing education program for {audience}.",
    "Small-group exercises focus on {extra} in real institutions.",
    "Learn how peers handle {topic} with limited staff and funding.",
];

struct Provider {
    id: String,
    name: String,
    host: String,
    sectors: Vec<Sector>,
    state: usize,
}

fn providers(rng: &mut Rng, n: usize) -> Vec<Provider> {
    let mut out: Vec<Provider> = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    let mut i = 0;
    while out.len() < n {
        let (tpl, sectors) = rng.pick(PROVIDER_KINDS);
        let st = rng.below(STATES.len());
        let (state, _, city, _) = STATES[st];
        let region = rng.pick(REGIONS);
        let mut name = tpl
            .replace("{state}", state)
            .replace("{region}", region)
            .replace("{city}", city);
        if !seen.insert(name.clone()) {
            // Many real providers share a pattern; a district number keeps names unique.
            name = format!("{name} District {}", i + 1);
            seen.insert(name.clone());
        }
        let slug: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        out.push(Provider {
            id: format!("prov-{:05}", out.len() + 1),
            host: format!("{}.example.org", slug.replace("--", "-")),
            name,
            sectors: sectors.to_vec(),
            state: st,
        });
        i += 1;
    }
    out
}

/// Streams `spec.offerings` documents. Co-marketed copies follow their canonical member.
pub fn generate(spec: &GenerateSpec) -> impl Iterator<Item = IndexDoc> + use<> {
    let mut rng = Rng::new(spec.seed);
    let provs = providers(&mut rng, (spec.offerings / 500).clamp(40, 5000));
    let now = spec.now;
    let total = spec.offerings;
    let mut queue: std::collections::VecDeque<IndexDoc> = std::collections::VecDeque::new();
    let mut made = 0usize;
    let mut serial = 0usize;
    std::iter::from_fn(move || {
        if made >= total {
            return None;
        }
        if queue.is_empty() {
            let batch = make_group(&mut rng, &provs, now, &mut serial, total - made);
            queue.extend(batch);
        }
        made += 1;
        queue.pop_front()
    })
}

fn make_group(
    rng: &mut Rng,
    provs: &[Provider],
    now: DateTime<Utc>,
    serial: &mut usize,
    room: usize,
) -> Vec<IndexDoc> {
    *serial += 1;
    let id = format!("off-{:08}", *serial);
    let p = rng.pick(provs);
    let topic = rng.pick(TOPICS);
    let (audience, aud_sector) = *rng.pick(AUDIENCES);
    let format = *rng.pick(FORMATS);
    let phrase = *rng.pick(topic.phrases);
    let title = match rng.below(7) {
        0 => format!("{phrase}: {}", rng.pick(SUBTITLES)),
        1 => format!("{phrase} for {audience}"),
        2 => format!("{format}: {phrase}"),
        3 => format!("Introduction to {phrase}"),
        4 => format!("{phrase} 101"),
        5 => format!("{phrase} {format}"),
        _ => format!("{phrase}: {} for {audience}", rng.pick(SUBTITLES)),
    };
    let sentence = |rng: &mut Rng| {
        rng.pick(SENTENCES)
            .replace("{format}", &format.to_lowercase())
            .replace("{topic}", &phrase.to_lowercase())
            .replace("{audience}", &audience.to_lowercase())
            .replace("{extra}", rng.pick::<&str>(topic.extra))
    };
    let summary = format!("{} {}", sentence(rng), sentence(rng));
    let mut desc = String::new();
    for _ in 0..2 + rng.below(3) {
        desc.push_str("<p>");
        desc.push_str(&sentence(rng));
        desc.push(' ');
        desc.push_str(&sentence(rng));
        desc.push_str("</p>");
    }
    let mut topics = vec![topic.id.to_string()];
    if rng.chance(0.25) {
        let other = rng.pick(TOPICS).id.to_string();
        if other != topics[0] {
            topics.push(other);
        }
    }
    let mut sectors = p.sectors.clone();
    if let Some(s) = aud_sector
        && !sectors.contains(&s)
    {
        sectors.push(s);
    }
    sectors.sort();

    let (state, abbr, city, offset_h) = STATES[p.state];
    // Offsets from the table are whole hours within ±12 h, always valid; UTC is the fallback.
    let tz = FixedOffset::east_opt(offset_h * 3600).unwrap_or(Utc.fix());
    let on_demand = rng.chance(0.12);
    let mut occurrences = Vec::new();
    let modality;
    if on_demand {
        modality = Modality::SelfPaced;
    } else {
        modality = match rng.below(20) {
            0..=10 => Modality::Online,
            11..=15 => Modality::InPerson,
            _ => Modality::Hybrid,
        };
        // Most dates in the coming months, a tail a year out, some in the recent past.
        let u = rng.unit();
        let day = if rng.chance(0.12) {
            -(rng.below(60) as i64) - 1
        } else {
            (u * u * 365.0) as i64
        };
        let hour = 9 + rng.below(8) as i64;
        let minute = [0, 0, 0, 30][rng.below(4)];
        let local_midnight = (now + Duration::days(day))
            .with_timezone(&tz)
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let start_local = local_midnight + Duration::hours(hour) + Duration::minutes(minute);
        let start = start_local
            .and_local_timezone(tz)
            .single()
            .unwrap_or_else(|| now.with_timezone(&tz));
        let length = match format {
            "Workshop" | "Institute" | "Bootcamp" | "Symposium" => Duration::hours(6),
            "Course" => Duration::minutes(90),
            _ => Duration::minutes(*rng.pick(&[60i64, 60, 90, 45, 120])),
        };
        let sessions = if format == "Course" || rng.chance(0.08) {
            3 + rng.below(6)
        } else {
            1
        };
        for k in 0..sessions {
            let s = start + Duration::weeks(k as i64);
            occurrences.push(Occurrence {
                start: s,
                end: Some(s + length),
                all_day: false,
                cancelled: sessions > 1 && rng.chance(0.03),
                date_source: coalesce_core::DateSource::Structured,
                recurrence_id: None,
            });
        }
    }
    let location = matches!(modality, Modality::InPerson | Modality::Hybrid).then(|| Location {
        name: Some(format!("{city} Central Library")),
        address: Some(format!("{} Main Street", 100 + rng.below(900))),
        locality: Some(city.to_string()),
        region: Some(abbr.to_string()),
        country: Some("US".to_string()),
        geo: None,
    });
    let cost = match rng.below(20) {
        0..=8 => Cost {
            free: Some(true),
            min_amount: Some(0.0),
            max_amount: Some(0.0),
            currency: Some("USD".into()),
            text: Some("Free".into()),
        },
        9..=16 => {
            let member = (1 + rng.below(12)) as f64 * 10.0;
            Cost {
                free: Some(false),
                min_amount: Some(member),
                max_amount: Some(member * 2.0),
                currency: Some("USD".into()),
                text: Some(format!(
                    "${member:.0} members / ${:.0} non-members",
                    member * 2.0
                )),
            }
        }
        _ => Cost::default(),
    };
    let credits = if rng.chance(0.3) {
        let unit = match rng.below(6) {
            0 | 1 => CreditUnit::Ceu,
            2 | 3 => CreditUnit::ContactHours,
            4 if sectors.contains(&Sector::Archives) => CreditUnit::AcaCredits,
            4 => CreditUnit::CeCredits,
            _ => CreditUnit::Pdu,
        };
        let amount = match unit {
            CreditUnit::Ceu => [0.1, 0.15, 0.2, 0.6, 1.2][rng.below(5)],
            CreditUnit::AcaCredits => 5.0,
            _ => (1 + rng.below(6)) as f64,
        };
        vec![Credit { amount, unit }]
    } else {
        Vec::new()
    };
    let status = match rng.below(50) {
        0 | 1 => Status::Cancelled,
        2 => Status::Postponed,
        _ => Status::Scheduled,
    };
    let slug: String = title
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c)
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect();
    let url = format!("https://{}/events/{}-{}", p.host, slug, *serial);
    let offering = Offering {
        source_key: url.clone(),
        key_kind: KeyKind::Url,
        title: title.clone(),
        summary: Some(summary),
        description_html: Some(desc),
        language: Some("en".into()),
        recurring: occurrences.len() > 1,
        occurrences,
        timezone: Some(format!("Etc/GMT{:+}", -offset_h)),
        modality: Some(modality),
        location,
        online_url: None,
        url: Some(url.clone()),
        registration_url: Some(format!("{url}/register")),
        image_url: None,
        cost,
        credits,
        sectors,
        audience_level: Some(rng.pick(LEVELS).to_string()),
        topics,
        categories: vec![format!("{state} {format}s")],
        organizer: Some(p.name.clone()),
        status,
        source_sequence: 0,
        updated_at: Some(now - Duration::minutes(rng.below(60 * 24 * 90) as i64)),
        published_at: None,
    };
    let mut group = vec![IndexDoc {
        id,
        provider_id: p.id.clone(),
        provider_name: p.name.clone(),
        cluster_id: None,
        is_canonical: true,
        also_offered_by: Vec::new(),
        offering,
    }];
    // Co-marketing: a partner republishes the same session on its own calendar.
    if !on_demand && room > 1 && rng.chance(0.06) {
        let copies = (1 + rng.below(3)).min(room - 1);
        let cluster = group[0].id.clone();
        for _ in 0..copies {
            *serial += 1;
            let partner = rng.pick(provs);
            let mut o = group[0].offering.clone();
            o.title = match rng.below(3) {
                0 => format!("Webinar: {}", o.title),
                1 => format!("{} (co-hosted with {})", o.title, p.name),
                _ => o.title.clone(),
            };
            let url = format!("https://{}/calendar/{}", partner.host, *serial);
            o.source_key = url.clone();
            o.url = Some(url);
            o.organizer = Some(partner.name.clone());
            let copy = IndexDoc {
                id: format!("off-{:08}", *serial),
                provider_id: partner.id.clone(),
                provider_name: partner.name.clone(),
                cluster_id: Some(cluster.clone()),
                is_canonical: false,
                also_offered_by: Vec::new(),
                offering: o,
            };
            group[0].also_offered_by.push(AlsoOfferedBy {
                offering_id: copy.id.clone(),
                provider_id: copy.provider_id.clone(),
                provider_name: copy.provider_name.clone(),
                url: copy.offering.url.clone(),
                registration_url: copy.offering.registration_url.clone(),
            });
            group.push(copy);
        }
        group[0].cluster_id = Some(cluster);
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spec(n: usize) -> GenerateSpec {
        GenerateSpec {
            offerings: n,
            seed: 7,
            now: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        }
    }

    #[test]
    fn same_seed_same_catalog() {
        let a: Vec<IndexDoc> = generate(&spec(300)).collect();
        let b: Vec<IndexDoc> = generate(&spec(300)).collect();
        assert_eq!(a.len(), 300);
        assert_eq!(a, b);
        let ids: std::collections::HashSet<&str> = a.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), 300);
    }

    #[test]
    fn catalog_has_the_expected_mix() {
        let docs: Vec<IndexDoc> = generate(&spec(5000)).collect();
        let share = |f: &dyn Fn(&IndexDoc) -> bool| {
            docs.iter().filter(|d| f(d)).count() as f64 / docs.len() as f64
        };
        let undated = share(&|d| d.offering.occurrences.is_empty());
        assert!((0.07..0.2).contains(&undated), "undated {undated}");
        let free = share(&|d| d.offering.cost.free == Some(true));
        assert!((0.3..0.6).contains(&free), "free {free}");
        let dup = share(&|d| !d.is_canonical);
        assert!((0.02..0.2).contains(&dup), "duplicates {dup}");
        let series = share(&|d| d.offering.occurrences.len() > 1);
        assert!(series > 0.05, "series {series}");
        // Every copy points at a canonical that lists it.
        for d in docs.iter().filter(|d| !d.is_canonical) {
            let c = docs
                .iter()
                .find(|x| Some(&x.id) == d.cluster_id.as_ref())
                .unwrap();
            assert!(c.also_offered_by.iter().any(|m| m.offering_id == d.id));
        }
    }
}
