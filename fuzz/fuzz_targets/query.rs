//! Fuzz the search query parser: any text a visitor can type into `q` must parse to a query
//! or a clear error, within the documented limits, and never panic or recurse without bound.
#![no_main]

use coalesce_index::query;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Some(node)) = query::parse(text) {
        // Synonym expansion runs on every parsed query; it must take any tree.
        let synonyms = query::Synonyms::new(&[vec!["preservation".into(), "conservation".into()]]);
        let _ = synonyms.expand(node);
    }
});
