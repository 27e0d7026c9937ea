//! The shared cross-sector vocabulary: topics and sectors, with the words and provider
//! categories that map to each. Loaded from TOML (`config/topics.toml` is built in).

use serde::Deserialize;

use crate::model::Sector;
use crate::normalize::text::fold_for_match;

/// The vocabulary shipped with coalesce.
pub const BUILTIN_TOPICS_TOML: &str = include_str!("../../../config/topics.toml");

#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    #[error("invalid vocabulary toml: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("topic id {0:?} is not lowercase ascii words joined by '-'")]
    BadId(String),
    #[error("topic id {0:?} appears twice")]
    DuplicateId(String),
    #[error("unknown sector {0:?} (expected archives, libraries or museums)")]
    UnknownSector(String),
}

impl VocabularyError {
    pub fn code(&self) -> &'static str {
        match self {
            VocabularyError::Toml(_) => "vocabulary_toml",
            VocabularyError::BadId(_) => "vocabulary_bad_id",
            VocabularyError::DuplicateId(_) => "vocabulary_duplicate_id",
            VocabularyError::UnknownSector(_) => "vocabulary_unknown_sector",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyConfig {
    #[serde(default)]
    topic: Vec<TopicConfig>,
    #[serde(default)]
    sector: Vec<SectorConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicConfig {
    id: String,
    label: String,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    synonyms: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectorConfig {
    id: String,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

/// A topic of the shared vocabulary.
#[derive(Debug, Clone)]
pub struct Topic {
    pub id: String,
    pub label: String,
    /// Folded phrases that, found in an offering's text, tag it with this topic.
    words: Vec<String>,
    /// Folded provider category names that map to this topic.
    categories: Vec<String>,
    /// Groups of equivalent search terms (used by the search layer).
    pub synonyms: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
struct SectorRule {
    sector: Sector,
    words: Vec<String>,
    categories: Vec<String>,
}

/// Validated vocabulary. Matching works on folded text (see [`fold_for_match`]), phrase by
/// phrase on word boundaries, so "archive" never matches inside "archived" unless listed.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    topics: Vec<Topic>,
    sectors: Vec<SectorRule>,
}

impl Vocabulary {
    pub fn builtin() -> Vocabulary {
        // The built-in file is part of the source tree and covered by tests; failing here would
        // be a build defect, not an input error.
        #[allow(clippy::expect_used)]
        Vocabulary::from_toml(BUILTIN_TOPICS_TOML).expect("built-in config/topics.toml is valid")
    }

    pub fn from_toml(text: &str) -> Result<Vocabulary, VocabularyError> {
        let raw: VocabularyConfig = toml::from_str(text)?;
        let mut topics: Vec<Topic> = Vec::with_capacity(raw.topic.len());
        for t in raw.topic {
            let valid_id = !t.id.is_empty()
                && t.id.split('-').all(|w| {
                    !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
            if !valid_id {
                return Err(VocabularyError::BadId(t.id));
            }
            if topics.iter().any(|x| x.id == t.id) {
                return Err(VocabularyError::DuplicateId(t.id));
            }
            let mut words: Vec<String> = t.words.iter().map(|w| fold_for_match(w)).collect();
            words.push(fold_for_match(&t.label));
            words.retain(|w| !w.is_empty());
            words.dedup();
            let mut categories: Vec<String> =
                t.categories.iter().map(|c| fold_for_match(c)).collect();
            categories.push(fold_for_match(&t.label));
            topics.push(Topic {
                id: t.id,
                label: t.label,
                words,
                categories,
                synonyms: t.synonyms,
            });
        }
        let mut sectors = Vec::new();
        for s in raw.sector {
            let sector = Sector::parse(&s.id).ok_or(VocabularyError::UnknownSector(s.id))?;
            sectors.push(SectorRule {
                sector,
                words: s.words.iter().map(|w| fold_for_match(w)).collect(),
                categories: s.categories.iter().map(|c| fold_for_match(c)).collect(),
            });
        }
        Ok(Vocabulary { topics, sectors })
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// Topic ids for an offering, from its categories (exact folded match) and its text
    /// (phrase match). Order follows the vocabulary, without repeats.
    pub fn topics_for(&self, categories: &[String], text: &str) -> Vec<String> {
        let folded_text = padded(text);
        let folded_cats: Vec<String> = categories.iter().map(|c| fold_for_match(c)).collect();
        self.topics
            .iter()
            .filter(|t| {
                folded_cats.iter().any(|c| t.categories.contains(c))
                    || t.words.iter().any(|w| contains_phrase(&folded_text, w))
                    || folded_cats
                        .iter()
                        .any(|c| t.words.iter().any(|w| contains_phrase(&padded_folded(c), w)))
            })
            .map(|t| t.id.clone())
            .collect()
    }

    /// Sectors named by an offering's categories or text.
    pub fn sectors_for(&self, categories: &[String], text: &str) -> Vec<Sector> {
        let folded_text = padded(text);
        let folded_cats: Vec<String> = categories.iter().map(|c| padded(c)).collect();
        let mut out: Vec<Sector> = self
            .sectors
            .iter()
            .filter(|s| {
                folded_cats
                    .iter()
                    .any(|c| s.categories.iter().any(|x| c.trim() == x))
                    || s.words.iter().any(|w| {
                        contains_phrase(&folded_text, w)
                            || folded_cats.iter().any(|c| contains_phrase(c, w))
                    })
            })
            .map(|s| s.sector)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

fn padded(text: &str) -> String {
    padded_folded(&fold_for_match(text))
}

fn padded_folded(folded: &str) -> String {
    let mut s = String::with_capacity(folded.len() + 2);
    s.push(' ');
    s.push_str(folded);
    s.push(' ');
    s
}

/// `haystack` is folded and padded with spaces; `phrase` is folded.
fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    // Search " phrase " without allocating per call: find each occurrence and check edges.
    let bytes = haystack.as_bytes();
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(phrase) {
        let start = from + pos;
        let end = start + phrase.len();
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(end).copied();
        if before == Some(b' ') && after == Some(b' ') {
            return true;
        }
        from = start + 1;
        while !haystack.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_vocabulary_has_the_agreed_topics() {
        let v = Vocabulary::builtin();
        for id in [
            "digital-collections",
            "disaster-preparedness",
            "advocacy",
            "project-management",
            "accessibility-inclusion",
            "workforce-development",
            "early-learning",
            "member-engagement",
            "open-government",
            "online-training",
            "preservation",
            "metadata-cataloging",
            "leadership",
            "fundraising",
            "copyright",
        ] {
            assert!(v.topic(id).is_some(), "missing topic {id}");
        }
    }

    #[test]
    fn topics_come_from_text_and_categories() {
        let v = Vocabulary::builtin();
        let t = v.topics_for(
            &["Grant Writing".to_string()],
            "Caring for photographs: preservation basics for small museums",
        );
        assert!(t.contains(&"preservation".to_string()), "{t:?}");
        assert!(t.contains(&"fundraising".to_string()), "{t:?}");
        assert!(!t.contains(&"copyright".to_string()));
    }

    #[test]
    fn phrase_match_respects_word_boundaries() {
        assert!(contains_phrase(" digital collections today ", "digital collections"));
        assert!(!contains_phrase(" predigital collections ", "digital collections"));
        assert!(!contains_phrase(" archived ", "archive"));
    }

    #[test]
    fn sectors_from_text() {
        let v = Vocabulary::builtin();
        let s = v.sectors_for(&[], "A workshop for archivists and museum registrars");
        assert_eq!(s, vec![Sector::Archives, Sector::Museums]);
    }

    #[test]
    fn bad_vocabulary_is_a_clear_error() {
        let err = Vocabulary::from_toml("[[topic]]\nid = \"Bad Id\"\nlabel = \"x\"\n").unwrap_err();
        assert_eq!(err.code(), "vocabulary_bad_id");
        let err = Vocabulary::from_toml("[[topic]]\nid = \"a\"\nlabel = \"x\"\nweird = 1\n")
            .unwrap_err();
        assert_eq!(err.code(), "vocabulary_toml");
    }
}
