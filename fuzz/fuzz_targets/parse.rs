//! Fuzz `coalesce_ingest::parse`: any bytes, any format forced or sniffed, must return
//! `Ok` or `Err` and never panic, abort, or hang.
//!
//! Run with `cargo +nightly fuzz run parse` from the repository root (see README).
#![no_main]

use chrono::{TimeZone, Utc};
use coalesce_ingest::{Kind, ParseHints, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(now) = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).single() else {
        return;
    };
    let mut hints = ParseHints::new(now);
    // The first byte picks the format so the fuzzer reaches every adapter, not only sniffing.
    let (selector, body) = data.split_first().unwrap_or((&0, data));
    hints.kind = match selector % 6 {
        0 => None,
        1 => Some(Kind::Rss),
        2 => Some(Kind::Atom),
        3 => Some(Kind::JsonFeed),
        4 => Some(Kind::Ics),
        _ => Some(Kind::Html),
    };
    let _ = parse(body, &hints);
});
