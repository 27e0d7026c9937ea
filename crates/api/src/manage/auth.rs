//! Who is calling: the admin (one token, compared by digest) or a provider (an API key the
//! store knows only by its SHA-256 digest).
//!
//! Keys travel only in `Authorization: Bearer`. A key-looking query parameter is refused
//! before anything else, so a key pasted into a URL is never verified, stored or logged (the
//! request log prints paths only).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use coalesce_store::ProviderId;
use sha2::{Digest, Sha256};

use super::ManageState;
use super::error::ManageError;

/// What every provider key starts with: lets secret scanners and people recognise one.
pub const KEY_PREFIX: &str = "clsc_";
/// Random characters after the prefix (62 symbols each: about 238 bits).
pub const KEY_RANDOM_CHARS: usize = 40;
/// Longer bearer values are refused before any hashing or lookup.
const MAX_BEARER_LEN: usize = 256;

const QUERY_KEY_NAMES: &[&str] = &["api_key", "apikey", "key", "token", "access_token", "auth"];

/// A new provider key: the prefix plus [`KEY_RANDOM_CHARS`] characters from the OS CSPRNG.
pub fn generate_key() -> Result<String, ManageError> {
    random_chars(KEY_RANDOM_CHARS).map(|r| format!("{KEY_PREFIX}{r}"))
}

/// `n` characters of `[A-Za-z0-9]`, by rejection sampling so every symbol is equally likely.
pub fn random_chars(n: usize) -> Result<String, ManageError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf)
            .map_err(|e| ManageError::Internal(format!("no randomness: {e}")))?;
        for b in buf {
            // 248 = 4 * 62: bytes at or above it would bias the first symbols.
            if b < 248 && out.len() < n {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Equal digests, without an early exit (the digests are public-ish, but keep the habit).
pub fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reject_query_keys(parts: &Parts) -> Result<(), ManageError> {
    let Some(query) = parts.uri.query() else {
        return Ok(());
    };
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
        if QUERY_KEY_NAMES.contains(&name.as_str()) {
            return Err(ManageError::KeyInQuery);
        }
    }
    Ok(())
}

fn bearer(parts: &Parts) -> Result<&str, ManageError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(ManageError::Unauthorized)?
        .to_str()
        .map_err(|_| ManageError::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(ManageError::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > MAX_BEARER_LEN {
        return Err(ManageError::Unauthorized);
    }
    Ok(token)
}

/// The operator, proven by the admin token.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<ManageState> for Admin {
    type Rejection = ManageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ManageState,
    ) -> Result<Admin, ManageError> {
        reject_query_keys(parts)?;
        let token = bearer(parts)?;
        if digests_equal(&digest(token), &state.inner.spec.admin_token_digest) {
            Ok(Admin)
        } else {
            Err(ManageError::Unauthorized)
        }
    }
}

/// A provider, proven by one of its live API keys.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub ProviderId);

impl FromRequestParts<ManageState> for Caller {
    type Rejection = ManageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ManageState,
    ) -> Result<Caller, ManageError> {
        reject_query_keys(parts)?;
        let token = bearer(parts)?;
        if !token.starts_with(KEY_PREFIX) {
            return Err(ManageError::Unauthorized);
        }
        let now = state.now();
        let store = &state.inner.store;
        let Some(used) = store.authenticate_api_key(token, now).await? else {
            return Err(ManageError::Unauthorized);
        };
        // `last_used_at` to the hour: at most one write per key and hour, and a failed one
        // (a full disk) never refuses a caller whose key is good.
        if used
            .last_used_at
            .is_none_or(|t| now - t >= chrono::TimeDelta::hours(1))
            && let Err(e) = store.touch_api_key(used.key, now).await
        {
            tracing::warn!(code = e.code(), error = %e, "key use not recorded");
        }
        Ok(Caller(used.provider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_prefix_and_enough_random_alphanumerics() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert!(a.starts_with(KEY_PREFIX));
        let rest = &a[KEY_PREFIX.len()..];
        assert_eq!(rest.len(), KEY_RANDOM_CHARS);
        assert!(rest.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
