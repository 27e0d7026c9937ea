//! Pure normalizers from provider wording to model fields. No IO, no clock.

pub mod cost;
pub mod credits;
pub mod modality;
pub mod registration;
pub mod text;
pub mod url;

pub use cost::{OfferInput, cost_from_offers, parse_cost_in_description, parse_cost_text};
pub use credits::{parse_credits, parse_credits_lines};
pub use modality::{ModalityInput, TextSignals, infer_modality, is_meeting_url};
pub use registration::{is_registration_url, registration_strength};
pub use text::{
    defang_html, defang_text, fold_for_match, fold_into, squash_whitespace,
    squash_whitespace_owned, summarize, summarize_squashed,
};
pub use url::{canonical_url, safe_http_url, safe_link};
