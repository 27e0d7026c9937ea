//! The demo fixture sites (`fixtures/sites/`) read end to end: every provider's document parses
//! without warnings we did not plant, and cross-provider dedup finds exactly the co-marketed
//! offerings the sites were written with — no more, no fewer.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use coalesce_core::dedup::{DedupConfig, DedupItem, Fingerprint, cluster};
use coalesce_core::demo_sites::fill_dates as render;
use coalesce_core::{Offering, Status};
use coalesce_ingest::{ParseHints, parse};

struct Site {
    provider: &'static str,
    file: &'static str,
    domain: &'static str,
}

const SITES: &[Site] = &[
    Site {
        provider: "Mountain Plains Library Association",
        file: "library-association/events.xml",
        domain: "mpla.example.org",
    },
    Site {
        provider: "Society of Regional Archivists",
        file: "archivists-society/calendar.ics",
        domain: "regionalarchivists.example.org",
    },
    Site {
        provider: "Heritage Museum Alliance",
        file: "museum-alliance/events.html",
        domain: "heritagemuseums.example.org",
    },
    Site {
        provider: "State Library of Examplia",
        file: "state-library/learning.atom",
        domain: "statelibrary.example.gov",
    },
    Site {
        provider: "Tri-County Library Consortium",
        file: "consortium/calendar.ics",
        domain: "tclc.example.org",
    },
    Site {
        provider: "Northern iSchool",
        file: "ischool/courses.html",
        domain: "ischool.example.edu",
    },
];

fn read_sites(today: NaiveDate) -> Vec<(usize, Offering)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sites");
    let now = Utc.from_utc_datetime(&today.and_hms_opt(12, 0, 0).expect("valid"));
    let mut all = Vec::new();
    for (i, site) in SITES.iter().enumerate() {
        let text = std::fs::read_to_string(root.join(site.file)).expect("fixture exists");
        let mut hints = ParseHints::new(now);
        hints.base_url = url::Url::parse(&format!("https://{}/", site.domain)).ok();
        let parsed = parse(render(&text, today).as_bytes(), &hints)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", site.file));
        // The iSchool page carries one deliberately broken JSON-LD block; nothing else warns.
        let expected_warnings = usize::from(site.file.starts_with("ischool"));
        assert_eq!(
            parsed.warnings.len(),
            expected_warnings,
            "{}: {:?}",
            site.file,
            parsed.warnings
        );
        all.extend(parsed.offerings.into_iter().map(|o| (i, o)));
    }
    all
}

#[test]
fn every_site_yields_its_offerings_with_dates_in_the_future() {
    for today in [
        NaiveDate::from_ymd_opt(2026, 11, 21),
        NaiveDate::from_ymd_opt(2027, 6, 30),
    ] {
        let today = today.expect("valid date");
        let all = read_sites(today);
        // 22 since issue 16: the iSchool course's two runs are an offering each.
        assert_eq!(all.len(), 22);
        let now = Utc.from_utc_datetime(&today.and_hms_opt(0, 0, 0).expect("valid"));
        for (_, o) in &all {
            for occ in &o.occurrences {
                assert!(occ.start > now, "{} starts in the past", o.title);
            }
        }
        let cancelled: Vec<&str> = all
            .iter()
            .filter(|(_, o)| o.status == Status::Cancelled)
            .map(|(_, o)| o.title.as_str())
            .collect();
        assert_eq!(cancelled.len(), 2, "{cancelled:?}");
    }
}

#[test]
fn dedup_finds_exactly_the_co_marketed_offerings() {
    // Summer and winter: the co-marketed copies are written with fixed offsets and in UTC,
    // so daylight saving time must not split them.
    for today in [
        NaiveDate::from_ymd_opt(2026, 11, 21),
        NaiveDate::from_ymd_opt(2027, 6, 30),
    ] {
        let all = read_sites(today.expect("valid date"));
        let ids: Vec<String> = (0..all.len()).map(|i| format!("o{i:02}")).collect();
        let source_ids: Vec<String> = all.iter().map(|(site, _)| format!("s{site}")).collect();
        let domains: Vec<Vec<String>> = all
            .iter()
            .map(|(site, _)| vec![SITES[*site].domain.to_string()])
            .collect();
        let fps: Vec<Fingerprint> = all
            .iter()
            .enumerate()
            .map(|(i, (site, o))| {
                Fingerprint::from_item(&DedupItem {
                    id: &ids[i],
                    source_id: &source_ids[i],
                    provider: SITES[*site].provider,
                    provider_domains: &domains[i],
                    offering: o,
                })
            })
            .collect();
        let clusters = cluster(fps, &DedupConfig::default()).expect("valid config");
        let mut groups: Vec<Vec<String>> = clusters
            .iter()
            .map(|c| {
                let mut providers: Vec<String> =
                    c.members.iter().map(|m| m.provider.clone()).collect();
                providers.sort();
                providers
            })
            .collect();
        groups.sort();
        assert_eq!(
            groups,
            vec![
                vec![
                    "Heritage Museum Alliance".to_string(),
                    "Mountain Plains Library Association".to_string(),
                    "Society of Regional Archivists".to_string(),
                    "Tri-County Library Consortium".to_string(),
                ],
                vec![
                    "Heritage Museum Alliance".to_string(),
                    "State Library of Examplia".to_string()
                ],
            ],
            "{clusters:#?}"
        );
        let copyright = clusters
            .iter()
            .find(|c| c.members.len() == 4)
            .expect("copyright cluster");
        let canonical = copyright
            .members
            .iter()
            .find(|m| m.id == copyright.canonical)
            .expect("canonical member");
        assert_eq!(
            canonical.provider,
            "Mountain Plains Library Association",
            "{}",
            copyright.explain()
        );
    }
}
