//! coalesce-api: the HTTP face of coalesce.
//!
//! [`router`] (or [`router_with`], to add the provider, source and health routes behind the
//! same layers) builds the axum router over an [`AppState`]: search JSON
//! (`/api/v1/offerings`), offering detail, topics, providers, `/calendar.ics`, `/feed.atom`,
//! `/feed.json`, one offering as `.ics`, `/api/v1/subscriptions` and `/openapi.json`. The route
//! table in [`openapi`] drives both the router and the OpenAPI document. Handlers only adapt:
//! parse the request ([`params`]), call the index or the store, and map one error enum
//! ([`ApiError`]) to a status and `{"error": {"code", "message"}}`.
//!
//! The pure output writers live in [`feeds`]: [`feeds::write_calendar`],
//! [`feeds::write_offering_ics`], [`feeds::write_atom`] and [`feeds::write_json_feed`].
//!
//! [`manage`] holds provider and source management (admin token, API keys, sources, preview,
//! OPML, scorecards), health, metrics and the request limits: [`management_router`].
//!
//! What never happens here: fetching feeds, business rules that belong to core, or reading the
//! clock anywhere but through [`state::Clock`] (tests fix it; writers get `generated_at`, so the
//! same input gives the same bytes and the same ETag).

mod calendar;
pub mod error;
pub mod feeds;
pub mod openapi;
pub mod params;
mod routes;
pub mod state;

pub use error::ApiError;
pub use routes::{router, router_with, routes};
pub use state::{ApiConfig, AppState, Clock, IndexSlot};
pub mod manage;

pub use manage::{ManageSpec, ManageState, management_router, with_service_layers};
