//! `coalesce-crawl`: fetching providers' feeds safely and politely, and deciding when to fetch.
//!
//! - [`Fetcher`] is the only way coalesce reaches the network: http(s) only, an SSRF guard
//!   ([`AddressPolicy`], applied to every hop, to every resolved address through
//!   [`GuardedResolver`], and to the peer actually connected), caps on hops, time and
//!   decompressed size, conditional GET plus a content hash, robots.txt, an honest User-Agent.
//! - [`schedule`] is pure: next-due times with per-source jitter, backoff, auto-pause, the
//!   permanent-redirect rule; [`HostGate`] spaces requests to one host.
//! - [`discover`] finds feed and calendar links in a homepage (pure).
//! - [`Crawler`] runs a round over the store: due sources fetched under the [`HostGate`],
//!   parsed by `coalesce-ingest` off the async threads, applied with their schedule in one
//!   transaction each, clusters refreshed ([`recluster`]); [`CrawlConfig`] is the `[crawl]`
//!   config section, validated into [`CrawlSpec`].
//!
//! This crate must never parse feed formats itself (that is `coalesce-ingest`) nor write the
//! search index; a failed fetch never removes an offering. Errors are [`FetchError`] with stable `code()`s.

mod catalog;
mod config;
pub mod discover;
mod error;
mod fetch;
mod gate;
pub mod hints;
pub mod policy;
mod resolve;
mod run;
mod runner;
pub mod schedule;

pub use catalog::{Reclusterer, fetch_result, recluster};
pub use config::{ConfigError, CrawlConfig, CrawlSpec};
pub use discover::{Discovery, FeedKind, FoundLink, discover};
pub use error::FetchError;
pub use fetch::{FetchConfig, FetchResponse, Fetcher, Outcome, Validators, origin};
pub use gate::{GateClosed, HostGate, HostPermit};
pub use policy::AddressPolicy;
pub use resolve::{DialFilter, GuardedResolver, SystemResolver};
pub use run::{Done, Job, fetch_all, fetch_all_until, host_key};
pub use runner::{
    CrawlError, CrawlSummary, Crawler, FETCH_HISTORY_KEPT, OfferingCounts, Progress, Selection,
    check_url, publisher_defaults,
};
pub use schedule::{Change, Failure, ScheduleSpec, SourceStatus};
pub use tokio_util::sync::CancellationToken;
