//! The shared cross-sector vocabulary: topics and sectors, with the words and provider
//! categories that map to each. Loaded from TOML (`config/topics.toml` is built in).

use std::collections::HashMap;

use serde::Deserialize;

use crate::model::Sector;
use crate::normalize::modality::{TextSignals, signal_words};
use crate::normalize::text::{fold_for_match, fold_into};
use crate::phrases::Phrases;

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
    #[error("cannot build the phrase matcher: {0}")]
    Matcher(String),
}

impl VocabularyError {
    pub fn code(&self) -> &'static str {
        match self {
            VocabularyError::Toml(_) => "vocabulary_toml",
            VocabularyError::BadId(_) => "vocabulary_bad_id",
            VocabularyError::DuplicateId(_) => "vocabulary_duplicate_id",
            VocabularyError::UnknownSector(_) => "vocabulary_unknown_sector",
            VocabularyError::Matcher(_) => "vocabulary_matcher",
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
    /// Phrases that tag only from the title or a category (see `Target::TitleTopic`).
    #[serde(default)]
    title_words: Vec<String>,
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
    /// Groups of equivalent search terms (used by the search layer).
    pub synonyms: Vec<Vec<String>>,
}

/// What a matched phrase or category tags an offering with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Topic(usize),
    /// A topic named by a phrase that is often incidental in a description ("supported by a
    /// grant", "on board"): it counts only in the title or a category, where it heads the item.
    TitleTopic(usize),
    Sector(Sector),
}

/// Validated vocabulary. Matching works on folded text (see [`fold_for_match`]), phrase by
/// phrase on word boundaries, so "archive" never matches inside "archived" unless listed.
/// All phrases of all topics and sectors are searched in one pass (Aho-Corasick), so the cost
/// of tagging an offering does not grow with the size of the vocabulary.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    topics: Vec<Topic>,
    /// Patterns are the folded phrases padded with one space each side; the haystack is padded
    /// too, so a match is always a whole-word match.
    phrases: Phrases,
    phrase_targets: Vec<Vec<Target>>,
    /// Folded provider category -> what it maps to.
    categories: HashMap<String, Vec<Target>>,
    /// Per pattern: the modality word lists it is on (one bit per list). The modality words
    /// are searched with the phrases, so an item's text is walked once for both.
    phrase_signals: Vec<u8>,
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
        let mut phrase_index: HashMap<String, usize> = HashMap::new();
        let mut phrase_targets: Vec<Vec<Target>> = Vec::new();
        let mut categories: HashMap<String, Vec<Target>> = HashMap::new();
        let mut add_phrase = |phrase: &str, target: Target| {
            let folded = fold_for_match(phrase);
            if folded.is_empty() {
                return;
            }
            let next = phrase_targets.len();
            let i = *phrase_index.entry(folded).or_insert(next);
            if i == next {
                phrase_targets.push(Vec::new());
            }
            if !phrase_targets[i].contains(&target) {
                phrase_targets[i].push(target);
            }
        };
        let mut add_category = |category: &str, target: Target| {
            let folded = fold_for_match(category);
            if folded.is_empty() {
                return;
            }
            let targets = categories.entry(folded).or_default();
            if !targets.contains(&target) {
                targets.push(target);
            }
        };
        for t in raw.topic {
            let valid_id = !t.id.is_empty()
                && t.id.split('-').all(|w| {
                    !w.is_empty()
                        && w.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
            if !valid_id {
                return Err(VocabularyError::BadId(t.id));
            }
            if topics.iter().any(|x| x.id == t.id) {
                return Err(VocabularyError::DuplicateId(t.id));
            }
            let target = Target::Topic(topics.len());
            for w in t.words.iter().chain(std::iter::once(&t.label)) {
                add_phrase(w, target);
            }
            for w in &t.title_words {
                add_phrase(w, Target::TitleTopic(topics.len()));
            }
            for c in t.categories.iter().chain(std::iter::once(&t.label)) {
                add_category(c, target);
            }
            topics.push(Topic {
                id: t.id,
                label: t.label,
                synonyms: t.synonyms,
            });
        }
        for s in raw.sector {
            let sector = Sector::parse(&s.id).ok_or(VocabularyError::UnknownSector(s.id))?;
            for w in &s.words {
                add_phrase(w, Target::Sector(sector));
            }
            for c in &s.categories {
                add_category(c, Target::Sector(sector));
            }
        }
        let mut patterns: Vec<(usize, String)> = phrase_index
            .into_iter()
            .map(|(p, i)| (i, format!(" {p} ")))
            .collect();
        patterns.sort();
        // The modality words join the phrases (an existing phrase keeps its index).
        let mut phrase_signals = vec![0u8; patterns.len()];
        let mut by_text: HashMap<String, usize> =
            patterns.iter().map(|(i, p)| (p.clone(), *i)).collect();
        for (padded, kind) in signal_words() {
            let i = match by_text.get(&padded) {
                Some(i) => *i,
                None => {
                    let i = patterns.len();
                    patterns.push((i, padded.clone()));
                    phrase_targets.push(Vec::new());
                    phrase_signals.push(0);
                    by_text.insert(padded, i);
                    i
                }
            };
            if let Some(bits) = phrase_signals.get_mut(i) {
                *bits |= 1 << kind;
            }
        }
        // A DFA walked by hand when it fits, the general automaton otherwise (see `phrases`).
        let phrases = Phrases::build(patterns.iter().map(|(_, p)| p))
            .map_err(|e| VocabularyError::Matcher(e.to_string()))?;
        Ok(Vocabulary {
            topics,
            phrases,
            phrase_targets,
            categories,
            phrase_signals,
        })
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// Everything `categories` and `text` map to: categories by exact folded name, and phrases
    /// found in the text or inside category names.
    fn targets(&self, categories: &[String], text: &str) -> Vec<Target> {
        self.targets_folded(categories, &fold_for_match(text))
    }

    /// [`Self::targets`] for text that is already folded.
    /// The whole text counts as a title here: callers without a title pass one text.
    fn targets_folded(&self, categories: &[String], folded_text: &str) -> Vec<Target> {
        self.targets_and_signals(categories, folded_text, folded_text.len())
            .0
    }

    /// [`Self::targets_folded`] and the modality words in `" {folded_text} "`, whose first
    /// `title_len` bytes are the folded title (title-only phrases count there and in the
    /// categories, nowhere else).
    fn targets_and_signals(
        &self,
        categories: &[String],
        folded_text: &str,
        title_len: usize,
    ) -> (Vec<Target>, TextSignals) {
        // Sized for what a typical item finds and folds, so neither grows step by step.
        let mut found: Vec<Target> = Vec::with_capacity(16);
        let mut haystack =
            String::with_capacity(categories.iter().map(|c| c.len() + 3).sum::<usize>());
        for c in categories {
            haystack.push(' ');
            let at = haystack.len();
            fold_into(c, &mut haystack);
            if let Some(ts) = self.categories.get(&haystack[at..]) {
                found.extend_from_slice(ts);
            }
            // A separator no phrase contains, so phrases never span two categories.
            haystack.push_str(" |");
        }
        // No phrase spans the separator either, so the matches that end past the categories
        // are exactly those of " {folded_text} ".
        let text_from = haystack.len();
        // A match ends with the space after its last word: past the title, that space is the
        // one after the title (or the closing pad).
        let title_end = text_from + 1 + title_len + 1;
        let mut signals = TextSignals::default();
        // The text is searched where it lies, padded by the pieces around it.
        self.phrases
            .for_each_match_end(&[&haystack, " ", folded_text, " "], |p, end| {
                if let Some(ts) = self.phrase_targets.get(p) {
                    for t in ts {
                        match *t {
                            Target::TitleTopic(i) if end <= title_end => {
                                found.push(Target::Topic(i))
                            }
                            Target::TitleTopic(_) => {}
                            other => found.push(other),
                        }
                    }
                }
                let bits = self.phrase_signals.get(p).copied().unwrap_or(0);
                if bits != 0 && end > text_from {
                    for kind in 0..4 {
                        if bits & (1 << kind) != 0 {
                            signals.add(kind);
                        }
                    }
                }
            });
        (found, signals)
    }

    /// Topics and sectors in one pass over the text (the per-item hot path). `who` is extra
    /// text that only informs sectors: the audience and the organizer ("State Archives").
    pub fn classify(
        &self,
        categories: &[String],
        text: &str,
        who: &str,
    ) -> (Vec<String>, Vec<Sector>) {
        self.classify_folded(categories, &fold_for_match(text), who)
    }

    /// [`Self::classify`] for a caller that already holds `fold_for_match(text)` (the
    /// finishing stage folds title and description once for modality and topics).
    pub fn classify_folded(
        &self,
        categories: &[String],
        folded_text: &str,
        who: &str,
    ) -> (Vec<String>, Vec<Sector>) {
        let targets = self.targets_folded(categories, folded_text);
        self.topics_and_sectors(targets, who)
    }

    /// [`Self::classify_folded`] plus the modality words of `" {folded_text} "`, found in the
    /// same pass, for [`crate::normalize::ModalityInput::folded_signals`]. `folded_text` is
    /// the folded title, a space and the folded description; `title_len` is the folded title's
    /// length, so title-only phrases (`title_words`) count only there.
    pub fn classify_with_signals(
        &self,
        categories: &[String],
        folded_text: &str,
        title_len: usize,
        who: &str,
    ) -> (Vec<String>, Vec<Sector>, TextSignals) {
        let (targets, signals) = self.targets_and_signals(categories, folded_text, title_len);
        let (topics, sectors) = self.topics_and_sectors(targets, who);
        (topics, sectors, signals)
    }

    fn topics_and_sectors(
        &self,
        mut targets: Vec<Target>,
        who: &str,
    ) -> (Vec<String>, Vec<Sector>) {
        if !who.trim().is_empty() {
            // The sectors named in " {who} ", in the order `targets(&[], who)` finds them,
            // added where they go: collecting every target in a vector of its own first was
            // an allocation per item.
            let folded = fold_for_match(who);
            self.phrases
                .for_each_match_end(&[" ", &folded, " "], |p, _| {
                    if let Some(ts) = self.phrase_targets.get(p) {
                        targets.extend(ts.iter().filter(|t| matches!(t, Target::Sector(_))));
                    }
                });
        }
        // Sized once for what was found (growing them step by step reallocated).
        let mut topic_idx: Vec<usize> = Vec::with_capacity(targets.len());
        let mut sectors: Vec<Sector> = Vec::new();
        for t in targets {
            match t {
                Target::Topic(i) | Target::TitleTopic(i) => topic_idx.push(i),
                Target::Sector(s) => sectors.push(s),
            }
        }
        topic_idx.sort_unstable();
        topic_idx.dedup();
        sectors.sort();
        sectors.dedup();
        let topics = topic_idx
            .into_iter()
            .filter_map(|i| self.topics.get(i))
            .map(|t| t.id.clone())
            .collect();
        (topics, sectors)
    }

    /// Topic ids for an offering, from its categories (exact folded match) and its text
    /// (phrase match). Order follows the vocabulary, without repeats.
    pub fn topics_for(&self, categories: &[String], text: &str) -> Vec<String> {
        let mut idx: Vec<usize> = self
            .targets(categories, text)
            .into_iter()
            .filter_map(|t| match t {
                Target::Topic(i) | Target::TitleTopic(i) => Some(i),
                Target::Sector(_) => None,
            })
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter()
            .filter_map(|i| self.topics.get(i))
            .map(|t| t.id.clone())
            .collect()
    }

    /// Sectors named by an offering's categories or text.
    pub fn sectors_for(&self, categories: &[String], text: &str) -> Vec<Sector> {
        let mut out: Vec<Sector> = self
            .targets(categories, text)
            .into_iter()
            .filter_map(|t| match t {
                Target::Sector(s) => Some(s),
                Target::Topic(_) | Target::TitleTopic(_) => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod signal_tests {
    use proptest::prelude::*;

    use super::Vocabulary;
    use crate::normalize::{ModalityInput, infer_modality};

    fn words() -> impl Strategy<Value = Vec<&'static str>> {
        prop::collection::vec(
            prop::sample::select(vec![
                "online",
                "webinar",
                "in",
                "person",
                "and",
                "or",
                "self",
                "paced",
                "on",
                "demand",
                "hybrid",
                "face",
                "to",
                "virtual",
                "zoom",
                "microsoft",
                "teams",
                "recorded",
                "at",
                "your",
                "own",
                "pace",
                "e",
                "course",
                "tutorial",
                "digital",
                "preservation",
                "archives",
                "museum",
                "library",
                "grant",
                "writing",
                "x",
                "é",
                "onsite",
                "remote",
                "live",
                "stream",
            ]),
            0..40,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The modality words found with the topics give the same modality as searching the
        /// folded text again, and the topics are those of `classify_folded`.
        #[test]
        fn signals_found_with_the_topics_equal_a_search_of_their_own(
            text in words(),
            categories in prop::collection::vec(
                prop::sample::select(vec![
                    "Webinar", "In-Person", "person", "Online Learning", "Preservation", "x", "",
                    "Face to face", "and online", "Self-Paced",
                ]),
                0..3,
            ),
            has_occurrences in any::<bool>(),
        ) {
            let vocab = Vocabulary::builtin();
            let folded = text.join(" ");
            let categories: Vec<String> = categories.into_iter().map(str::to_string).collect();
            let (topics, sectors, signals) =
                vocab.classify_with_signals(&categories, &folded, folded.len(), "State Archives");
            prop_assert_eq!(
                (topics, sectors),
                vocab.classify_folded(&categories, &folded, "State Archives")
            );
            let input = ModalityInput {
                folded_title_text: Some(&folded),
                categories: &categories,
                has_occurrences,
                ..ModalityInput::default()
            };
            let with = infer_modality(&ModalityInput { folded_signals: Some(signals), ..input });
            prop_assert_eq!(with, infer_modality(&input), "{:?} {:?}", folded, categories);
        }

        /// The sectors `who` adds are those its text names on its own.
        #[test]
        fn sectors_of_who_are_the_sectors_its_text_names(
            who in prop::collection::vec(
                prop::sample::select(vec![
                    "State", "Archives", "archive", "Museum", "museums", "Alliance", "Library",
                    "libraries", "Public", "\n", " ", "é", "Archivists", "Society", "x", "-",
                ]),
                0..8,
            ),
        ) {
            let vocab = Vocabulary::builtin();
            let who = who.join(" ");
            let (_, sectors) = vocab.classify(&[], "", &who);
            prop_assert_eq!(sectors, vocab.sectors_for(&[], &who), "{:?}", who);
        }
    }
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
        let v = Vocabulary::builtin();
        assert!(
            v.topics_for(&[], "Our digital collections today")
                .contains(&"digital-collections".to_string())
        );
        assert!(v.topics_for(&[], "predigital collections").is_empty());
        assert!(v.sectors_for(&[], "an archived recording").is_empty());
        // Overlapping phrases are all found ("disaster plan" inside "disaster planning").
        assert!(
            v.topics_for(&[], "disaster planning and grant writing")
                .len()
                >= 2
        );
    }

    #[test]
    fn phrases_never_span_two_categories() {
        let v = Vocabulary::builtin();
        // "digital" ending one category and "collections" starting the next is no phrase.
        let t = v.topics_for(&["Digital".to_string(), "Collections".to_string()], "");
        assert!(!t.contains(&"digital-collections".to_string()), "{t:?}");
    }

    #[test]
    fn classify_matches_topics_and_sectors_together() {
        let v = Vocabulary::builtin();
        let (topics, sectors) = v.classify(
            &["Grant Writing".to_string()],
            "Caring for photographs: preservation basics",
            "Museum Alliance",
        );
        assert_eq!(
            topics,
            vec!["preservation".to_string(), "fundraising".to_string()]
        );
        assert_eq!(sectors, vec![Sector::Museums]);
        // Organizer words never become topics ("Leadership Institute" organizes, not teaches).
        let (topics, _) = v.classify(&[], "Quarterly member update", "Leadership Institute");
        assert!(topics.is_empty(), "{topics:?}");
    }

    /// Topics of an item as the finishing stage asks for them: title, then description.
    fn topics_of(
        v: &Vocabulary,
        categories: &[&str],
        title: &str,
        description: &str,
    ) -> Vec<String> {
        let title = fold_for_match(title);
        let text = format!("{title} {}", fold_for_match(description));
        let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
        v.classify_with_signals(&categories, &text, title.len(), "")
            .0
    }

    #[test]
    fn title_words_count_in_the_title_and_categories_only() {
        let v = Vocabulary::from_toml(
            "[[topic]]\nid = \"fundraising\"\nlabel = \"Fundraising\"\ntitle_words = [\"grant\"]\n",
        )
        .unwrap();
        let cases = [
            (
                "in the title",
                vec![],
                "Applying for the Construction Grant",
                "Eligibility rules.",
                true,
            ),
            (
                "last word of the title",
                vec![],
                "Apply for a grant",
                "",
                true,
            ),
            ("in a category", vec!["Grant"], "Scanning day", "", true),
            (
                "only in the description",
                vec![],
                "Digitizing minute books",
                "Supported by a grant.",
                false,
            ),
            (
                "first word of the description",
                vec![],
                "Digitizing",
                "grant-funded work",
                false,
            ),
        ];
        for (name, categories, title, description, want) in cases {
            let got = topics_of(&v, &categories, title, description);
            assert_eq!(
                got == vec!["fundraising".to_string()],
                want,
                "{name}: {got:?}"
            );
        }
    }

    #[test]
    fn builtin_topics_follow_how_the_field_names_them() {
        let v = Vocabulary::builtin();
        let cases: [(&str, &str, &str, &[&str]); 12] = [
            (
                "records retention is open government, not staff retention",
                "Records Retention Schedules",
                "Draft a retention schedule colleagues will follow.",
                &["open-government"],
            ),
            (
                "board members asking for gifts",
                "Board Members as Fundraisers",
                "Role-play the first ask, with a one-page case for support.",
                &["fundraising", "leadership"],
            ),
            (
                "a grant that pays for a free webinar is no fundraising topic",
                "Digitizing Council Minutes",
                "Supported by a $120,000 grant, this webinar covers imaging bound volumes.",
                &["digital-collections", "open-government"],
            ),
            (
                "reference skills are workforce development",
                "The Reference Interview by Chat",
                "Open questions and tone for front-line staff.",
                &["workforce-development"],
            ),
            (
                "verbal description for blind visitors",
                "Verbal Description Tours",
                "Describe objects clearly for visitors who are blind.",
                &["accessibility-inclusion"],
            ),
            (
                "docents in a description do not make it member engagement",
                "Touch Tours",
                "Plan touch tours and train docents.",
                &["accessibility-inclusion"],
            ),
            (
                "climate control is preservation, and 'on a budget' is no leadership",
                "Climate Control on a Budget",
                "Dehumidifiers and silica gel for storerooms.",
                &["preservation"],
            ),
            (
                "hurricanes are disaster preparedness",
                "Hurricane Season Readiness",
                "Update contact trees and agree on salvage priorities.",
                &["disaster-preparedness"],
            ),
            (
                "machine transcription of handwriting",
                "Machine Transcription of Handwritten Records",
                "Handwriting recognition services compared.",
                &["digital-collections", "metadata-cataloging"],
            ),
            (
                "summer reading is early learning",
                "Summer Reading Program Planning",
                "Program manual and a swap table.",
                &["early-learning"],
            ),
            (
                "an annual meeting engages members",
                "Annual General Meeting and Member Forum",
                "Vote on the budget.",
                &["member-engagement"],
            ),
            (
                "release agreements are a rights matter",
                "Oral History Release Agreements",
                "A plain-language consent form.",
                &["copyright"],
            ),
        ];
        for (name, title, description, want) in cases {
            let mut got = topics_of(&v, &[], title, description);
            got.sort();
            let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn sectors_from_text() {
        let v = Vocabulary::builtin();
        let s = v.sectors_for(&[], "A workshop for archivists and museum registrars");
        assert_eq!(s, vec![Sector::Archives, Sector::Museums]);
        // Bilingual providers name sectors in Spanish and French, accents or not.
        let s = v.sectors_for(
            &[],
            "Curso en línea: catalogación descriptiva para bibliotecas",
        );
        assert_eq!(s, vec![Sector::Libraries]);
        let s = v.sectors_for(&[], "Atelier pour les archivistes et les musees du Quebec");
        assert_eq!(s, vec![Sector::Archives, Sector::Museums]);
    }

    #[test]
    fn bad_vocabulary_is_a_clear_error() {
        let err = Vocabulary::from_toml("[[topic]]\nid = \"Bad Id\"\nlabel = \"x\"\n").unwrap_err();
        assert_eq!(err.code(), "vocabulary_bad_id");
        let err =
            Vocabulary::from_toml("[[topic]]\nid = \"a\"\nlabel = \"x\"\nweird = 1\n").unwrap_err();
        assert_eq!(err.code(), "vocabulary_toml");
    }
}
