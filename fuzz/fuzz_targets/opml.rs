//! Fuzz OPML import: any upload gives source candidates or a clear error, never a panic, and
//! never more than one past the cap (so the caller can tell "too many" apart).
#![no_main]

use coalesce_api::manage::opml::parse_outlines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sources) = parse_outlines(data, 8) {
        assert!(sources.len() <= 9);
    }
});
