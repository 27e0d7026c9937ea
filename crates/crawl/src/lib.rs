//! `coalesce-crawl`: fetching providers' feeds safely and politely, and deciding when to fetch.
//!
//! - [`Fetcher`] is the only way coalesce reaches the network: http(s) only, an SSRF guard
//!   ([`AddressPolicy`], applied to every hop, to every resolved address through
//!   [`GuardedResolver`], and to the peer actually connected), caps on hops, time and
//!   decompressed size, conditional GET plus a content hash, robots.txt, an honest User-Agent.
//! - [`schedule`] is pure: next-due times with per-source jitter, backoff, auto-pause, the
//!   permanent-redirect rule; [`HostGate`] spaces requests to one host.
//! - [`discover`] finds feed and calendar links in a homepage (pure).
//!
//! This crate must never parse feed formats itself (that is `coalesce-ingest`) nor write the
//! search index. Errors are [`FetchError`] with stable `code()`s.

pub mod discover;
mod error;
mod fetch;
mod gate;
pub mod hints;
pub mod policy;
mod resolve;
mod run;
pub mod schedule;

pub use discover::{Discovery, FeedKind, FoundLink, discover};
pub use error::FetchError;
pub use fetch::{FetchConfig, FetchResponse, Fetcher, Outcome, Validators, origin};
pub use gate::{GateClosed, HostGate, HostPermit};
pub use policy::AddressPolicy;
pub use resolve::{DialFilter, GuardedResolver, SystemResolver};
pub use run::{Done, Job, fetch_all, host_key};
pub use schedule::{Change, ScheduleSpec, SourceStatus};
