//! coalesce-index: the search side of the catalog, a tantivy index derived from the store.
//!
//! What it does: turns [`IndexDoc`]s (an offering with its store identity, provider and
//! duplicate cluster) into tantivy documents ([`schema`] holds every field name); upserts and
//! deletes them through one writer and commits with the store's change-log watermark
//! ([`CatalogIndex::commit`], [`sync`]); opens or rebuilds an index on start
//! ([`CatalogIndex::open_or_rebuild`]); and answers [`SearchRequest`]s
//! ([`CatalogIndex::search`]) with facets, snippets, one hit per duplicate cluster and signed
//! search_after cursors; [`store_sync`] follows the store's change log (catch-up, rebuild).
//! The user's query text is parsed by [`query`] into a bounded AST before
//! tantivy sees it. [`generate`] makes realistic synthetic catalogs for benches and load tests.
//!
//! What it never does: fetch, parse feeds, write the store, or read the clock (`now` comes in
//! with each request).

pub mod cursor;
pub mod doc;
mod error;
mod filter;
pub mod generate;
mod index;
mod marks;
pub mod query;
pub mod schema;
mod search;
pub mod store_sync;
pub mod sync;
mod table;
mod union;

pub use doc::{AlsoOfferedBy, IndexDoc};
pub use error::IndexError;
pub use index::{CatalogIndex, IndexConfig, Opened, RebuildReason, default_search_threads};
pub use query::Synonyms;
pub use search::{
    CreditsFilter, DEFAULT_LIMIT, FACET_LIMIT, FacetCount, Facets, MAX_LIMIT, SearchHit,
    SearchRequest, SearchResponse, Snippet, SortOrder,
};
pub use sync::{ChangeBatch, ChangeEvent};
