//! coalesce-api: the HTTP face of coalesce.
//!
//! This crate will hold the axum router (`fn router(state) -> Router`): search JSON, offering
//! detail, `/calendar.ics`, `/feed.atom`, `/feed.json`, subscriptions, provider and source
//! management, health and metrics. Handlers only adapt: parse the request, call a library
//! function, map one error enum to a status.
//!
//! Today it holds the pure output writers the calendar and feed routes will call
//! ([`feeds`]): [`feeds::write_calendar`], [`feeds::write_offering_ics`], [`feeds::write_atom`]
//! and [`feeds::write_json_feed`], all taking [`feeds::FeedMeta`] and [`feeds::FeedEntry`]s.
//!
//! [`manage`] holds provider and source management (admin token, API keys, sources, preview,
//! OPML, scorecards), health, metrics and the request limits: [`management_router`].
//!
//! What never happens here: fetching feeds, business rules that belong to core, or reading the
//! clock inside a writer (`generated_at` is passed in, so the same input gives the same bytes
//! and the same ETag).

pub mod feeds;
pub mod manage;

pub use manage::{ManageSpec, ManageState, management_router, with_service_layers};
