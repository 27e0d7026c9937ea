//! Cross-source deduplication: offerings that are the same real offering become one cluster.
//!
//! The same webinar is co-marketed by several member organizations, each with its own copy, URL,
//! title variant and sometimes a time written in another zone. Dedup works on [`Fingerprint`]s
//! (a compact projection of an offering made by [`Fingerprint::from_item`]) in three steps:
//!
//! 1. **Blocking** ([`block_keys`]) so that only plausible pairs are compared: the first start's
//!    UTC instant in buckets as wide as the tolerance (neighbouring buckets are probed too), the
//!    local day of date-only sessions, the canonical registration URL, and — for undated
//!    (self-paced) records only — their specific links and normalized title.
//! 2. **Scoring** ([`score()`]) a pair inside a block: start instant (zone-aware), normalized title
//!    similarity, canonical registration URL, description similarity. Hard conflicts (same source,
//!    different start, clearly different title) are never merged; see [`DedupConfig`] for the
//!    thresholds.
//! 3. **Clustering**: connected components of accepted pairs, each re-checked with a constrained
//!    merge (strongest pairs first, two groups join only when no member of one conflicts with a
//!    member of the other) so an A~B~C chain cannot put two dates of a series together.
//!
//! [`DedupIndex`] keeps the state between feeds and recomputes only what a change can touch;
//! [`cluster`] is the one-shot form. Everything here is pure: no IO, no clock.

mod fingerprint;
mod score;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use fingerprint::{DedupItem, Fingerprint, TitleKey, When, richness, title_key};
pub use score::{Signal, Verdict, conflicts, description_similarity, score, title_similarity};

use fingerprint::fnv;

/// Thresholds. The defaults were tuned on `fixtures/dedup/labeled.json` and are documented there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Two first starts this close (seconds) are the same start. 15 minutes absorbs a provider
    /// rounding "1:55 pm doors open" to the hour, yet keeps hourly sessions of one day apart.
    pub start_tolerance_secs: i64,
    /// Same start and a title at least this similar: the same offering.
    pub title_accept: f32,
    /// Same start, same registration page (or another shared specific link) and a title at least
    /// this similar: the same offering, even when a co-marketer rewrote the title.
    pub title_with_link: f32,
    /// Same start, similar descriptions and a title at least this similar.
    pub title_with_description: f32,
    /// Description similarity that counts as "similar descriptions".
    pub description_accept: f32,
    /// Description similarity worth listing as a signal in explanations.
    pub description_signal: f32,
    /// Undated records: shared link and a title at least this similar.
    pub undated_title_with_link: f32,
    /// Undated records: similar descriptions and a title at least this similar.
    pub undated_title_with_description: f32,
    /// Titles less similar than this are different offerings whatever else matches (two sessions
    /// of one conference at the same hour share the conference's registration page).
    pub conflict_title_below: f32,
    /// URL and title blocks larger than this are skipped: a link shared by that many records is
    /// a site-wide page, not one offering's, and comparing all its pairs would be quadratic.
    pub max_block_size: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            start_tolerance_secs: 15 * 60,
            title_accept: 0.85,
            title_with_link: 0.65,
            title_with_description: 0.6,
            description_accept: 0.35,
            description_signal: 0.2,
            undated_title_with_link: 0.6,
            undated_title_with_description: 0.9,
            conflict_title_below: 0.3,
            max_block_size: 500,
        }
    }
}

impl DedupConfig {
    /// Checks ranges once, so the scorer never has to.
    pub fn validate(&self) -> Result<(), DedupError> {
        if !(60..=6 * 3600).contains(&self.start_tolerance_secs) {
            return Err(DedupError::InvalidConfig(format!(
                "start_tolerance_secs must be between 60 and 21600, got {}",
                self.start_tolerance_secs
            )));
        }
        for (name, v) in [
            ("title_accept", self.title_accept),
            ("title_with_link", self.title_with_link),
            ("title_with_description", self.title_with_description),
            ("description_accept", self.description_accept),
            ("description_signal", self.description_signal),
            ("undated_title_with_link", self.undated_title_with_link),
            (
                "undated_title_with_description",
                self.undated_title_with_description,
            ),
            ("conflict_title_below", self.conflict_title_below),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(DedupError::InvalidConfig(format!(
                    "{name} must be between 0 and 1, got {v}"
                )));
            }
        }
        if self.max_block_size < 2 {
            return Err(DedupError::InvalidConfig(format!(
                "max_block_size must be at least 2, got {}",
                self.max_block_size
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DedupError {
    #[error("invalid dedup config: {0}")]
    InvalidConfig(String),
    #[error("offering id {0:?} appears more than once in one dedup input")]
    DuplicateId(String),
}

impl DedupError {
    pub fn code(&self) -> &'static str {
        match self {
            DedupError::InvalidConfig(_) => "invalid_dedup_config",
            DedupError::DuplicateId(_) => "duplicate_offering_id",
        }
    }
}

/// A group of records that are one real offering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// The canonical member's id: calendars key their UIDs on it, so it stays while that member
    /// lives (see [`CanonicalReason`]).
    pub id: String,
    /// The member shown to learners.
    pub canonical: String,
    pub canonical_reason: CanonicalReason,
    /// Every member with its provider, sorted by id.
    pub members: Vec<Member>,
}

/// Why the canonical member was chosen. Once chosen it stays while it lives: subscribers' calendars
/// hold its UID and its "offered by", and a co-marketer's copy joining later must change neither.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum CanonicalReason {
    /// It was already shown (a cluster's canonical or a record on its own) before the others
    /// joined.
    Kept,
    /// The member's provider publishes from the host that serves the registration page.
    Originator { host: String },
    /// No originator could be told: the record seen first (unix seconds).
    FirstSeen { first_seen: i64 },
}

/// One member and why it is in the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub provider: String,
    pub source_id: String,
    /// The member it matched most strongly.
    pub matched: String,
    /// The signals of that match, with their scores.
    pub signals: Vec<Signal>,
}

impl Cluster {
    /// Human-readable explanation, one line per member (for `coalesce clusters explain`).
    pub fn explain(&self) -> String {
        let mut out = format!(
            "cluster {} ({} members), canonical {}: {}\n",
            self.id,
            self.members.len(),
            self.canonical,
            match &self.canonical_reason {
                CanonicalReason::Kept =>
                    "kept (already shown before the others joined)".to_string(),
                CanonicalReason::Originator { host } =>
                    format!("originator (its provider hosts the registration page on {host})"),
                CanonicalReason::FirstSeen { first_seen } => format!("first seen ({first_seen})"),
            }
        );
        for m in &self.members {
            let signals: Vec<String> = m.signals.iter().map(describe).collect();
            out.push_str(&format!(
                "  {} [{}] matched {}: {}\n",
                m.id,
                m.provider,
                m.matched,
                signals.join(", ")
            ));
        }
        out
    }
}

fn describe(s: &Signal) -> String {
    match s {
        Signal::StartInstant { delta_seconds } => format!("same start (±{delta_seconds}s)"),
        Signal::SameDay => "same day".to_string(),
        Signal::Title { similarity } => format!("title {similarity:.2}"),
        Signal::RegistrationUrl { url } => format!("same registration URL {url}"),
        Signal::SharedLink { url } => format!("shared link {url}"),
        Signal::Description { similarity } => format!("description {similarity:.2}"),
    }
}

/// What changed in the cluster set after [`DedupIndex::apply`]: the store deletes `removed`
/// and upserts `upserted` (ids in `upserted` may also have existed before, with other content).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterDelta {
    pub removed: Vec<String>,
    pub upserted: Vec<Cluster>,
}

/// A blocking key. Hashes stand for strings: a collision only adds a comparison, never a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum BlockKey {
    /// `floor(start / tolerance)`; a record is also compared with the next and previous bucket.
    Start(i64),
    Day(i32),
    Registration(u64),
    /// A specific link of an undated record.
    Link(u64),
    /// The normalized title of an undated record.
    Title(u64),
}

impl BlockKey {
    fn capped(self) -> bool {
        // Time blocks are never skipped: a busy hour is real and its pairs must be compared.
        !matches!(self, BlockKey::Start(_) | BlockKey::Day(_))
    }
}

/// The blocks a record lives in. A DB-backed store can index these to fetch a record's
/// neighbourhood itself; [`probe_keys`] lists the blocks to look in.
pub fn block_keys(fp: &Fingerprint, cfg: &DedupConfig) -> Vec<BlockKey> {
    let mut keys = Vec::with_capacity(4);
    match fp.when {
        When::Instant(t) => keys.push(BlockKey::Start(t.div_euclid(cfg.start_tolerance_secs))),
        When::Day(d) => keys.push(BlockKey::Day(d)),
        When::Undated => {
            keys.extend(fp.links.iter().map(|l| BlockKey::Link(fnv(l))));
            keys.push(BlockKey::Title(fnv(&fp.title.tokens.join(" "))));
        }
    }
    if let Some(r) = &fp.registration_url {
        keys.push(BlockKey::Registration(fnv(r)));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The blocks to search for a record's candidates: its own plus the neighbouring start buckets
/// (a bucket is as wide as the tolerance, so any start within it is in one of the three).
pub fn probe_keys(fp: &Fingerprint, cfg: &DedupConfig) -> Vec<BlockKey> {
    let mut keys = block_keys(fp, cfg);
    if let When::Instant(t) = fp.when {
        let b = t.div_euclid(cfg.start_tolerance_secs);
        keys.push(BlockKey::Start(b - 1));
        keys.push(BlockKey::Start(b + 1));
    }
    keys
}

/// One-shot clustering of a set of fingerprints. Only clusters of two or more are returned,
/// sorted by id.
pub fn cluster(items: Vec<Fingerprint>, cfg: &DedupConfig) -> Result<Vec<Cluster>, DedupError> {
    let index = DedupIndex::build(items, cfg.clone())?;
    Ok(index.clusters.into_values().collect())
}

/// Dedup state between feeds: fingerprints, blocks and clusters. The store builds it once from
/// the stored offerings (or persisted fingerprints) and calls [`DedupIndex::apply`] after each
/// applied feed; the result is exactly what [`cluster`] would give on the whole set.
#[derive(Debug, Clone)]
pub struct DedupIndex {
    cfg: DedupConfig,
    items: HashMap<String, Fingerprint>,
    blocks: HashMap<BlockKey, Vec<String>>,
    /// Connected component (before the chain guard) of each record in one with 2+ members;
    /// kept because a change can re-join pieces the guard split.
    component_of: HashMap<String, String>,
    components: HashMap<String, Vec<String>>,
    cluster_of: HashMap<String, String>,
    clusters: BTreeMap<String, Cluster>,
    /// Records shown under their own id: a cluster's canonical member or a record on its own.
    /// A new cluster keeps one of them as canonical, so no subscriber's UID changes.
    shown: HashSet<String>,
}

struct Edge {
    a: usize,
    b: usize,
    strength: f32,
    signals: Vec<Signal>,
}

impl DedupIndex {
    pub fn new(cfg: DedupConfig) -> Result<DedupIndex, DedupError> {
        cfg.validate()?;
        Ok(DedupIndex {
            cfg,
            items: HashMap::new(),
            blocks: HashMap::new(),
            component_of: HashMap::new(),
            components: HashMap::new(),
            cluster_of: HashMap::new(),
            clusters: BTreeMap::new(),
            shown: HashSet::new(),
        })
    }

    /// Builds the index from every record at once, comparing each candidate pair once. Nothing
    /// was shown before: canonicals are originators, else the first seen.
    pub fn build(items: Vec<Fingerprint>, cfg: DedupConfig) -> Result<DedupIndex, DedupError> {
        DedupIndex::build_with_shown(items, cfg, &HashSet::new())
    }

    /// Builds the index from every record at once, knowing which records were already shown
    /// under their own id (after a restart: the stored clusters' canonicals and every record
    /// outside a cluster), so a rebuild keeps the canonicals subscribers already have.
    pub fn build_with_shown(
        items: Vec<Fingerprint>,
        cfg: DedupConfig,
        shown: &HashSet<String>,
    ) -> Result<DedupIndex, DedupError> {
        let mut index = DedupIndex::new(cfg)?;
        let mut fps = items;
        fps.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = fps.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(DedupError::DuplicateId(w[0].id.clone()));
        }
        // Local integer blocks: strings are only needed in the persistent maps.
        let mut blocks: HashMap<BlockKey, Vec<usize>> = HashMap::new();
        for (i, fp) in fps.iter().enumerate() {
            for k in block_keys(fp, &index.cfg) {
                blocks.entry(k).or_default().push(i);
            }
        }
        let cfg = &index.cfg;
        let mut edges = Vec::new();
        let push = |a: usize, b: usize, edges: &mut Vec<Edge>| {
            if let Verdict::Same { signals, strength } = score(&fps[a], &fps[b], cfg) {
                edges.push(Edge {
                    a: a.min(b),
                    b: a.max(b),
                    strength,
                    signals,
                });
            }
        };
        for (key, members) in &blocks {
            if key.capped() && members.len() > cfg.max_block_size {
                continue;
            }
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    push(a, b, &mut edges);
                }
            }
            if let BlockKey::Start(bucket) = key
                && let Some(next) = blocks.get(&BlockKey::Start(bucket + 1))
            {
                for &a in members {
                    for &b in next {
                        push(a, b, &mut edges);
                    }
                }
            }
        }
        // A pair sharing a time block and a registration block was scored twice.
        edges.sort_by_key(|p| (p.a, p.b));
        edges.dedup_by(|p, q| p.a == q.a && p.b == q.b);
        let refs: Vec<&Fingerprint> = fps.iter().collect();
        let (components, clusters) = group(&refs, edges, &index.cfg, shown);
        for (key, members) in blocks {
            index
                .blocks
                .insert(key, members.iter().map(|&i| fps[i].id.clone()).collect());
        }
        index.items = fps.into_iter().map(|f| (f.id.clone(), f)).collect();
        index.install(components, clusters);
        let ids: Vec<String> = index.items.keys().cloned().collect();
        index.refresh_shown(ids.iter());
        Ok(index)
    }

    /// Every cluster (2+ members), sorted by id.
    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters.values()
    }

    /// The cluster a record belongs to, if any.
    pub fn cluster_of(&self, id: &str) -> Option<&Cluster> {
        self.cluster_of.get(id).and_then(|c| self.clusters.get(c))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Applies added/changed records and removals, recomputing only the components they can
    /// touch: the old components of every changed or removed record, grown along the new accepted
    /// pairs found by probing the changed records' blocks. Pairs of two unchanged records keep
    /// their verdict, so nothing outside that set can change.
    pub fn apply(
        &mut self,
        upserts: Vec<Fingerprint>,
        removed: &[String],
    ) -> Result<ClusterDelta, DedupError> {
        let mut seen = BTreeSet::new();
        for fp in &upserts {
            if !seen.insert(fp.id.clone()) {
                return Err(DedupError::DuplicateId(fp.id.clone()));
            }
        }
        let mut seeds: BTreeSet<String> = seen;
        seeds.extend(removed.iter().cloned());
        // Taken before anything is detached: an edited record keeps its standing, a new one
        // has none yet.
        let shown = self.shown.clone();
        // Everything that shared a component with a seed may regroup.
        let mut start: BTreeSet<String> = BTreeSet::new();
        for s in &seeds {
            match self
                .component_of
                .get(s)
                .and_then(|c| self.components.get(c))
            {
                Some(members) => start.extend(members.iter().cloned()),
                None => {
                    start.insert(s.clone());
                }
            }
        }
        let mut old_clusters: BTreeSet<String> = start
            .iter()
            .filter_map(|id| self.cluster_of.get(id).cloned())
            .collect();
        for id in seeds.iter() {
            self.detach(id);
        }
        for fp in upserts {
            for k in block_keys(&fp, &self.cfg) {
                self.blocks.entry(k).or_default().push(fp.id.clone());
            }
            self.items.insert(fp.id.clone(), fp);
        }
        // Grow along accepted pairs in the new state.
        let mut order: Vec<String> = start
            .into_iter()
            .filter(|id| self.items.contains_key(id))
            .collect();
        let mut pos: HashMap<String, usize> = order
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        let mut edges = Vec::new();
        let mut next = 0;
        while next < order.len() {
            let id = order[next].clone();
            next += 1;
            let Some(fp) = self.items.get(&id) else {
                continue;
            };
            for key in probe_keys(fp, &self.cfg) {
                let Some(members) = self.blocks.get(&key) else {
                    continue;
                };
                if key.capped() && members.len() > self.cfg.max_block_size {
                    continue;
                }
                for other in members {
                    if *other == id {
                        continue;
                    }
                    let Some(ofp) = self.items.get(other) else {
                        continue;
                    };
                    if let Verdict::Same { signals, strength } = score(fp, ofp, &self.cfg) {
                        let j = match pos.get(other) {
                            Some(&j) => j,
                            None => {
                                order.push(other.clone());
                                pos.insert(other.clone(), order.len() - 1);
                                order.len() - 1
                            }
                        };
                        let i = next - 1;
                        edges.push(Edge {
                            a: i.min(j),
                            b: i.max(j),
                            strength,
                            signals,
                        });
                    }
                }
            }
        }
        edges.sort_by_key(|p| (p.a, p.b));
        edges.dedup_by(|p, q| p.a == q.a && p.b == q.b);
        // Members of the touched components that are not seeds still sit in the maps.
        old_clusters.extend(
            order
                .iter()
                .filter_map(|id| self.cluster_of.get(id).cloned()),
        );
        for id in &order {
            self.detach_groups(id);
        }
        let refs: Vec<&Fingerprint> = order.iter().filter_map(|id| self.items.get(id)).collect();
        if refs.len() != order.len() {
            // Unreachable: every id in `order` was looked up in `items` when queued.
            return Ok(ClusterDelta::default());
        }
        let (components, clusters) = group(&refs, edges, &self.cfg, &shown);
        let mut upserted = clusters.clone();
        upserted.sort_by(|a, b| a.id.cmp(&b.id));
        let new_ids: BTreeSet<&String> = upserted.iter().map(|c| &c.id).collect();
        let removed_clusters: Vec<String> = old_clusters
            .iter()
            .filter(|c| !new_ids.contains(c))
            .cloned()
            .collect();
        for c in &old_clusters {
            self.clusters.remove(c);
        }
        self.install(components, clusters);
        self.refresh_shown(order.iter().chain(removed.iter()));
        Ok(ClusterDelta {
            removed: removed_clusters,
            upserted,
        })
    }

    /// Removes a record from items, blocks and group maps.
    fn detach(&mut self, id: &str) {
        if let Some(fp) = self.items.remove(id) {
            for k in block_keys(&fp, &self.cfg) {
                if let Some(v) = self.blocks.get_mut(&k) {
                    v.retain(|x| x != id);
                    if v.is_empty() {
                        self.blocks.remove(&k);
                    }
                }
            }
        }
        self.detach_groups(id);
    }

    fn detach_groups(&mut self, id: &str) {
        if let Some(c) = self.component_of.remove(id) {
            self.components.remove(&c);
        }
        if let Some(c) = self.cluster_of.remove(id) {
            self.clusters.remove(&c);
        }
    }

    fn install(&mut self, components: Vec<Vec<String>>, clusters: Vec<Cluster>) {
        for comp in components {
            let Some(key) = comp.first().cloned() else {
                continue;
            };
            for m in &comp {
                self.component_of.insert(m.clone(), key.clone());
            }
            self.components.insert(key, comp);
        }
        for c in clusters {
            for m in &c.members {
                self.cluster_of.insert(m.id.clone(), c.id.clone());
            }
            self.clusters.insert(c.id.clone(), c);
        }
    }

    /// Updates who is shown among `ids` (records whose grouping may have changed).
    fn refresh_shown<'a>(&mut self, ids: impl Iterator<Item = &'a String>) {
        for id in ids {
            let shown = self.items.contains_key(id)
                && self
                    .cluster_of
                    .get(id)
                    .and_then(|c| self.clusters.get(c))
                    .is_none_or(|c| c.canonical == *id);
            if shown {
                self.shown.insert(id.clone());
            } else {
                self.shown.remove(id);
            }
        }
    }
}

/// Connected components of the accepted pairs (2+ members, ids sorted), then the chain-guarded
/// clusters inside each.
fn group(
    fps: &[&Fingerprint],
    mut edges: Vec<Edge>,
    cfg: &DedupConfig,
    shown: &HashSet<String>,
) -> (Vec<Vec<String>>, Vec<Cluster>) {
    let n = fps.len();
    let mut uf = UnionFind::new(n);
    for e in &edges {
        uf.union(e.a, e.b);
    }
    let mut comp_members: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..n {
        comp_members.entry(uf.find(i)).or_default().push(i);
    }
    let mut comp_edges: HashMap<usize, Vec<Edge>> = HashMap::new();
    // Ties broken on the members' ids (not local positions) so a full build and an incremental
    // apply, which number records differently, pick the same edges.
    let id_pair = |e: &Edge| {
        let (x, y) = (&fps[e.a].id, &fps[e.b].id);
        if x <= y { (x, y) } else { (y, x) }
    };
    edges.sort_by(|p, q| {
        q.strength
            .total_cmp(&p.strength)
            .then_with(|| id_pair(p).cmp(&id_pair(q)))
    });
    for e in edges {
        let root = uf.find(e.a);
        comp_edges.entry(root).or_default().push(e);
    }
    let mut components = Vec::new();
    let mut clusters = Vec::new();
    for (root, members) in comp_members {
        if members.len() < 2 {
            continue;
        }
        let mut ids: Vec<String> = members.iter().map(|&i| fps[i].id.clone()).collect();
        ids.sort();
        components.push(ids);
        let edges = comp_edges.remove(&root).unwrap_or_default();
        clusters.extend(guarded_merge(fps, &members, edges, cfg, shown));
    }
    (components, clusters)
}

/// Merges groups along edges strongest first; two groups join only if no cross pair conflicts.
/// Components are small (a handful of co-marketers), so the pairwise check is cheap.
fn guarded_merge(
    fps: &[&Fingerprint],
    members: &[usize],
    edges: Vec<Edge>,
    cfg: &DedupConfig,
    shown: &HashSet<String>,
) -> Vec<Cluster> {
    let mut group_of: HashMap<usize, usize> = members.iter().map(|&m| (m, m)).collect();
    let mut groups: HashMap<usize, Vec<usize>> = members.iter().map(|&m| (m, vec![m])).collect();
    let mut kept: Vec<Edge> = Vec::new();
    for e in edges {
        let (ga, gb) = match (group_of.get(&e.a), group_of.get(&e.b)) {
            (Some(&x), Some(&y)) => (x, y),
            _ => continue,
        };
        if ga == gb {
            kept.push(e);
            continue;
        }
        let ok = match (groups.get(&ga), groups.get(&gb)) {
            (Some(xs), Some(ys)) => xs
                .iter()
                .all(|&x| ys.iter().all(|&y| !conflicts(fps[x], fps[y], cfg))),
            _ => false,
        };
        if !ok {
            continue;
        }
        let moved = groups.remove(&gb).unwrap_or_default();
        for &m in &moved {
            group_of.insert(m, ga);
        }
        groups.entry(ga).or_default().extend(moved);
        kept.push(e);
    }
    let mut out = Vec::new();
    for (g, mut ms) in groups {
        if ms.len() < 2 {
            continue;
        }
        ms.sort_by(|x, y| fps[*x].id.cmp(&fps[*y].id));
        let edges: Vec<&Edge> = kept
            .iter()
            .filter(|e| group_of.get(&e.a) == Some(&g) && group_of.get(&e.b) == Some(&g))
            .collect();
        out.push(make_cluster(fps, &ms, &edges, shown));
    }
    out
}

fn make_cluster(
    fps: &[&Fingerprint],
    members: &[usize],
    edges: &[&Edge],
    shown: &HashSet<String>,
) -> Cluster {
    let mut out_members = Vec::with_capacity(members.len());
    for &m in members {
        // `edges` are sorted strongest first, so the first one touching m is its best match.
        let best = edges.iter().find(|e| e.a == m || e.b == m);
        let (matched, signals) = match best {
            Some(e) => {
                let other = if e.a == m { e.b } else { e.a };
                (fps[other].id.clone(), e.signals.clone())
            }
            None => (String::new(), Vec::new()),
        };
        out_members.push(Member {
            id: fps[m].id.clone(),
            provider: fps[m].provider.clone(),
            source_id: fps[m].source_id.clone(),
            matched,
            signals,
        });
    }
    let (canonical, canonical_reason) = pick_canonical(fps, members, shown);
    Cluster {
        id: canonical.clone(),
        canonical,
        canonical_reason,
        members: out_members,
    }
}

/// The canonical member, in this order: a member already shown under its own id (so a copy
/// joining never renames what subscribers have; when several were, they compete below); the
/// originator, whose provider publishes from the host of the cluster's registration page (the
/// most common one when members disagree), told by its provider's known domains first, else by
/// its own page's host; else the member seen first. Remaining ties go to the smallest id: never
/// a hash, so the choice does not move when an unrelated member comes or goes.
fn pick_canonical(
    fps: &[&Fingerprint],
    members: &[usize],
    shown: &HashSet<String>,
) -> (String, CanonicalReason) {
    let earliest = |cands: &[usize]| -> Option<usize> {
        cands
            .iter()
            .copied()
            .min_by(|&x, &y| (fps[x].first_seen, &fps[x].id).cmp(&(fps[y].first_seen, &fps[y].id)))
    };
    let kept: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&m| shown.contains(&fps[m].id))
        .collect();
    let pool: &[usize] = if kept.is_empty() { members } else { &kept };
    let originator = originators(fps, members, pool);
    let (pick, reason) = match (kept.len(), originator) {
        (1, _) => (earliest(&kept), CanonicalReason::Kept),
        (_, Some((cands, host))) => (earliest(&cands), CanonicalReason::Originator { host }),
        (0, None) => {
            let m = earliest(members);
            let first_seen = m.map_or(0, |m| fps[m].first_seen);
            (m, CanonicalReason::FirstSeen { first_seen })
        }
        (_, None) => (earliest(&kept), CanonicalReason::Kept),
    };
    match pick {
        Some(m) => (fps[m].id.clone(), reason),
        None => (String::new(), CanonicalReason::FirstSeen { first_seen: 0 }),
    }
}

/// The members of `pool` that originate the cluster, with the registration host they own.
fn originators(
    fps: &[&Fingerprint],
    members: &[usize],
    pool: &[usize],
) -> Option<(Vec<usize>, String)> {
    let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
    for &m in members {
        if let Some(r) = &fps[m].registration_url {
            *hosts.entry(fingerprint::host_of(r)).or_default() += 1;
        }
    }
    // Most common host; equal counts go to the alphabetically first, a fixed rule.
    let host = hosts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(h, _)| h.clone())?;
    let on_host = |d: &str| host == d || host.ends_with(&format!(".{d}"));
    let by_domain: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|&m| fps[m].provider_domains.iter().any(|d| on_host(d)))
        .collect();
    let cands = if by_domain.is_empty() {
        pool.iter()
            .copied()
            .filter(|&m| fps[m].page_host.as_deref().is_some_and(on_host))
            .collect()
    } else {
        by_domain
    };
    (!cands.is_empty()).then_some((cands, host))
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller index wins so roots do not depend on edge order.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}
