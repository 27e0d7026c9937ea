//! coalesce-core: the offering model and the pure rules every other crate shares.
//!
//! What lives here: [`Offering`] and its parts (occurrences, modality, cost, credits, location),
//! the cross-sector [`Vocabulary`] of topics and sectors (loaded from `config/topics.toml`),
//! within-source identity ([`identity`]), cross-source duplicate clusters ([`dedup`]) and the normalizers ([`normalize`]) that turn the loose
//! text providers publish ("$25 members / $50 non-members", "1.5 CEUs", a Zoom link) into fields.
//!
//! What never happens here: IO, async, or reading the clock. Anything time-relative takes `now`
//! as an argument so every rule is testable and deterministic.

pub mod dedup;
pub mod demo_sites;
pub mod identity;
pub mod literals;
pub mod model;
pub mod normalize;
mod phrases;
pub mod vocab;

pub use model::{
    Cost, Credit, CreditUnit, DateSource, Geo, KeyKind, Location, Modality, Occurrence, Offering,
    Sector, Status,
};
pub use vocab::{Vocabulary, VocabularyError};
