//! Opaque, tamper-evident cursors for search_after paging.
//!
//! A cursor carries the sort key of the last hit shown and a hash of the query and filters it
//! belongs to, signed with HMAC-SHA256 under a key from config. Without the key nobody can forge
//! a position, and a cursor replayed on another query is refused instead of paging nonsense.

use sha2::{Digest, Sha256};

use crate::IndexError;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
const BODY_LEN: usize = 1 + 1 + 8 + 8 + 8;

/// Position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Which sort produced the position (must match the request's).
    pub sort: u8,
    /// The sort value, encoded so that larger means later in the order.
    pub primary: u64,
    /// The id key tie-breaker.
    pub key: u64,
    /// Hash of the query text and filters.
    pub query_hash: u64,
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let ih = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(ih);
    outer.finalize().into()
}

pub fn encode(pos: &Position, key: &[u8]) -> String {
    let mut body = Vec::with_capacity(BODY_LEN + MAC_LEN);
    body.push(VERSION);
    body.push(pos.sort);
    body.extend_from_slice(&pos.primary.to_be_bytes());
    body.extend_from_slice(&pos.key.to_be_bytes());
    body.extend_from_slice(&pos.query_hash.to_be_bytes());
    let mac = hmac_sha256(key, &body);
    body.extend_from_slice(&mac[..MAC_LEN]);
    to_hex(&body)
}

pub fn decode(text: &str, key: &[u8]) -> Result<Position, IndexError> {
    let bad = |why: &str| IndexError::InvalidCursor(why.to_string());
    if text.len() != 2 * (BODY_LEN + MAC_LEN) {
        return Err(bad("cursor has the wrong length"));
    }
    let bytes = from_hex(text).ok_or_else(|| bad("cursor is not hex"))?;
    let (body, mac) = bytes.split_at(BODY_LEN);
    let want = hmac_sha256(key, body);
    // Constant-time compare: a timing oracle would let someone forge a mac byte by byte.
    let diff = want[..MAC_LEN]
        .iter()
        .zip(mac)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(bad("cursor signature does not match"));
    }
    if body[0] != VERSION {
        return Err(bad("cursor is from another version"));
    }
    let u = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&body[i..i + 8]);
        u64::from_be_bytes(b)
    };
    Ok(Position {
        sort: body[1],
        primary: u(2),
        key: u(10),
        query_hash: u(18),
    })
}

fn to_hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(HEX[(x >> 4) as usize] as char);
        s.push(HEX[(x & 15) as usize] as char);
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    let v = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some((v(p[0])? << 4) | v(*p.get(1)?)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn round_trip_and_tamper() {
        let p = Position {
            sort: 2,
            primary: 7,
            key: 9,
            query_hash: 11,
        };
        let c = encode(&p, b"k");
        assert_eq!(decode(&c, b"k").unwrap(), p);
        assert_eq!(decode(&c, b"other").unwrap_err().code(), "invalid_cursor");
        let mut t = c.into_bytes();
        t[10] = if t[10] == b'0' { b'1' } else { b'0' };
        let t = String::from_utf8(t).unwrap();
        assert_eq!(decode(&t, b"k").unwrap_err().code(), "invalid_cursor");
        assert_eq!(decode("zz", b"k").unwrap_err().code(), "invalid_cursor");
        assert_eq!(
            decode(&"é".repeat(42), b"k").unwrap_err().code(),
            "invalid_cursor"
        );
    }
}
