//! Fuzz the paging cursor: any text decodes to a position or an error (never a panic), and a
//! position encoded under a key decodes back to itself under that key and to an error under
//! another.
#![no_main]

use coalesce_index::cursor::{Position, decode, encode};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzzing key, not a secret";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode(text, KEY);
    }
    if data.len() >= 25 {
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let pos = Position {
            sort: data[0],
            primary: word(1),
            key: word(9),
            query_hash: word(17),
        };
        let text = encode(&pos, KEY);
        assert_eq!(decode(&text, KEY).ok(), Some(pos));
        assert!(decode(&text, b"another key").is_err());
    }
});
