//! Search: request and response types, filters, one collector that does window checks, facet
//! counts, totals and the search_after page in a single pass, and hit rendering.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use coalesce_core::{Cost, Credit, CreditUnit, Modality, Occurrence, Sector, Status};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use crate::cursor::{self, Position};
use crate::doc::{AlsoOfferedBy, IndexDoc, credit_unit_str, status_str};
use crate::filter::{DocBits, FilterQuery};
use crate::query::{self, Builder};
use crate::schema as f;
use crate::table::{FACET_FIELDS, FacetSpace, PROVIDER_FACET, SEVERAL, SegTable, UNDATED};
use crate::{CatalogIndex, IndexError};

/// Hits per page when the request does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Hits per page at most: larger requests are clamped, not refused (HOSTILE D3).
pub const MAX_LIMIT: usize = 100;
/// Values listed per facet.
pub const FACET_LIMIT: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Best match first (ties by start); the default when there is query text.
    Relevance,
    /// Soonest upcoming session first, on-demand offerings last; the default without text.
    Start,
    /// Most recently updated first.
    Updated,
}

impl SortOrder {
    pub fn parse(s: &str) -> Option<SortOrder> {
        match s {
            "relevance" => Some(SortOrder::Relevance),
            "start" => Some(SortOrder::Start),
            "updated" => Some(SortOrder::Updated),
            _ => None,
        }
    }

    fn tag(self) -> u8 {
        match self {
            SortOrder::Relevance => 1,
            SortOrder::Start => 2,
            SortOrder::Updated => 3,
        }
    }
}

/// `credits=`: any credits at all, or a named unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditsFilter {
    Any,
    Unit(CreditUnit),
}

impl CreditsFilter {
    /// `true`/`any`, or a unit name (`ceu`, `contact_hours`, `credit_hours`, `pdu`,
    /// `ce_credits`, `aca_credits`).
    pub fn parse(s: &str) -> Option<CreditsFilter> {
        use CreditUnit as C;
        Some(match s {
            "true" | "any" => CreditsFilter::Any,
            "ceu" => CreditsFilter::Unit(C::Ceu),
            "contact_hours" => CreditsFilter::Unit(C::ContactHours),
            "credit_hours" => CreditsFilter::Unit(C::CreditHours),
            "pdu" => CreditsFilter::Unit(C::Pdu),
            "ce_credits" => CreditsFilter::Unit(C::CeCredits),
            "aca_credits" => CreditsFilter::Unit(C::AcaCredits),
            _ => return None,
        })
    }

    fn term(self) -> &'static str {
        match self {
            CreditsFilter::Any => "any",
            CreditsFilter::Unit(u) => credit_unit_str(u),
        }
    }
}

/// One search. Values inside one filter are alternatives (OR); different filters all apply.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Query text: words, "phrases", -exclusion, OR, parentheses.
    pub q: Option<String>,
    pub topics: Vec<String>,
    pub sectors: Vec<Sector>,
    pub modalities: Vec<Modality>,
    pub providers: Vec<String>,
    /// Sessions ending at or after this instant; `None` means `now` (upcoming only).
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before this instant.
    pub to: Option<DateTime<Utc>>,
    pub free: Option<bool>,
    pub credits: Option<CreditsFilter>,
    pub statuses: Vec<Status>,
    /// Undated (on-demand, self-paced) offerings are listed unless this is false.
    pub include_on_demand: bool,
    /// `None`: relevance with query text, else start.
    pub sort: Option<SortOrder>,
    pub cursor: Option<String>,
    /// 0 means [`DEFAULT_LIMIT`]; clamped to [`MAX_LIMIT`].
    pub limit: usize,
    /// The clock, passed in so searches are reproducible.
    pub now: DateTime<Utc>,
}

impl SearchRequest {
    pub fn new(now: DateTime<Utc>) -> SearchRequest {
        SearchRequest {
            q: None,
            topics: Vec::new(),
            sectors: Vec::new(),
            modalities: Vec::new(),
            providers: Vec::new(),
            from: None,
            to: None,
            free: None,
            credits: None,
            statuses: Vec::new(),
            include_on_demand: true,
            sort: None,
            cursor: None,
            limit: DEFAULT_LIMIT,
            now,
        }
    }

    /// Binds a cursor to its query: everything but the clock, the cursor and the limit.
    fn fingerprint(&self, sort: SortOrder) -> u64 {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
            self.q.as_deref().map(str::trim),
            self.topics,
            self.sectors,
            self.modalities,
            self.providers,
            self.from.map(|t| t.timestamp()),
            self.to.map(|t| t.timestamp()),
            self.free,
            self.credits,
            self.statuses,
            self.include_on_demand,
            sort,
        );
        f::key_of(&text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Hits of the whole result (not the page), one per duplicate cluster.
    pub total: u64,
    pub hits: Vec<SearchHit>,
    pub facets: Facets,
    /// Present when more hits follow.
    pub next_cursor: Option<String>,
    pub sort: SortOrder,
    pub took_ms: u64,
}

/// Facet counts over the whole filtered result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub topic: Vec<FacetCount>,
    pub sector: Vec<FacetCount>,
    pub modality: Vec<FacetCount>,
    pub provider: Vec<FacetCount>,
    /// `YYYY-MM` (UTC) of the first session in the window; on-demand offerings are not counted.
    pub month: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// A hit as the API renders it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    pub snippet: Option<Snippet>,
    /// The first session in the window (upcoming by default); `None` for on-demand.
    pub next_occurrence: Option<Occurrence>,
    pub occurrence_count: usize,
    pub timezone: Option<String>,
    pub provider_id: String,
    pub provider_name: String,
    pub modality: Option<Modality>,
    pub cost: Cost,
    pub credits: Vec<Credit>,
    pub topics: Vec<String>,
    pub sectors: Vec<Sector>,
    pub status: Status,
    pub url: Option<String>,
    pub registration_url: Option<String>,
    pub cluster_id: Option<String>,
    pub also_offered_by: Vec<AlsoOfferedBy>,
    /// Relevance score when sorted by relevance.
    pub score: Option<f32>,
}

/// A fragment of the summary or description with the matched words marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// `summary` or `description`.
    pub field: String,
    pub text: String,
    /// Byte ranges of `text` to highlight.
    pub highlights: Vec<(usize, usize)>,
    /// `text` HTML-escaped with `<mark>` around the highlights.
    pub html: String,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    primary: u64,
    key: u64,
    addr: DocAddress,
    score: Score,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.primary, self.key).cmp(&(o.primary, o.key))
    }
}

/// See [`PageSegment::columns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// In the window, with the start of its first session there (`None`: undated).
    In(Option<u64>),
    Out,
    /// Ask the row.
    Row,
}

/// How [`CatalogIndex::search_with`] visits the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Walk the filter bits when they are the whole query, else collect.
    Auto,
    /// Always through tantivy's collect loop (the reference the walk is tested against).
    #[cfg_attr(not(test), allow(dead_code))]
    Collect,
}

/// Maps a score so that a higher score gives a smaller primary (ascending order everywhere).
fn score_primary(s: Score) -> u64 {
    let bits = s.to_bits();
    let ordered = if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    };
    u64::from(u32::MAX - ordered)
}

struct PageCollector {
    sort: SortOrder,
    from_min: u64,
    to_min: u64,
    include_on_demand: bool,
    after: Option<(u64, u64)>,
    limit: usize,
    deadline: Instant,
    /// The table of every segment, by segment ordinal.
    tables: Vec<Arc<SegTable>>,
    month_days: Arc<MonthDays>,
}

/// Month facet counts: a dense run of months from the window start, a map for the rest (a
/// session that began long before `from`, or one far in the future).
struct MonthCounts {
    days: Arc<MonthDays>,
    dense: Vec<u64>,
    other: HashMap<u32, u64>,
}

/// Months counted densely: ten years from the window start.
const DENSE_MONTHS: usize = 120;

/// The dense month of every day from the first day of the window's month: a hit's month is
/// one table read, not a civil-date computation (which was a sixth of a filter-only search).
struct MonthDays {
    base: u32,
    first_day: u64,
    /// Index into the dense months, by day since `first_day`.
    month: Vec<u8>,
}

impl MonthDays {
    fn new(from_min: u64) -> MonthDays {
        let base = month_of_minutes(from_min);
        let first_day = day_of_month_start(base);
        let mut month = Vec::with_capacity(DENSE_MONTHS * 31);
        for i in 0..DENSE_MONTHS as u32 {
            let days = day_of_month_start(base + i + 1) - day_of_month_start(base + i);
            month.extend(std::iter::repeat_n(i as u8, days as usize));
        }
        MonthDays {
            base,
            first_day,
            month,
        }
    }
}

impl MonthCounts {
    fn new(days: Arc<MonthDays>) -> MonthCounts {
        MonthCounts {
            days,
            dense: vec![0; DENSE_MONTHS],
            other: HashMap::new(),
        }
    }

    /// Counts the month of the session starting at `start` (minutes since the epoch).
    #[inline]
    fn add(&mut self, start: u64) {
        let dense = (start / 1440)
            .checked_sub(self.days.first_day)
            .and_then(|d| self.days.month.get(d as usize));
        match dense.and_then(|&m| self.dense.get_mut(usize::from(m))) {
            Some(c) => *c += 1,
            None => *self.other.entry(month_of_minutes(start)).or_insert(0) += 1,
        }
    }

    fn into_pairs(self) -> impl Iterator<Item = (u32, u64)> {
        let base = self.days.base;
        self.dense
            .into_iter()
            .enumerate()
            .filter(|(_, c)| *c > 0)
            .map(move |(i, c)| (base + i as u32, c))
            .chain(self.other)
    }
}

struct PageSegment {
    seg: SegmentOrdinal,
    sort: SortOrder,
    from_min: u64,
    to_min: u64,
    include_on_demand: bool,
    after: Option<(u64, u64)>,
    limit: usize,
    deadline: Instant,
    table: Arc<SegTable>,
    /// Only read for `sort=updated`.
    updated: Option<Column<i64>>,
    /// Indexed by flat facet id (see [`SegTable::facet_base`]).
    facet_counts: Vec<u64>,
    months: MonthCounts,
    heap: BinaryHeap<Entry>,
    /// Documents waiting for [`PageSegment::flush`].
    batch: Vec<(DocId, Score)>,
    total: u64,
    remaining: u64,
    seen: u64,
    timed_out: bool,
}

struct SegFruit {
    seg: SegmentOrdinal,
    total: u64,
    remaining: u64,
    top: Vec<Entry>,
    /// By flat facet id; named by the segment's table in `search`.
    facet_counts: Vec<u64>,
    months: Vec<(u32, u64)>,
    timed_out: bool,
}

impl Collector for PageCollector {
    type Fruit = SegFruits;
    type Child = PageSegment;

    fn for_segment(
        &self,
        seg: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<PageSegment> {
        let table = self.tables.get(seg as usize).cloned().ok_or_else(|| {
            tantivy::TantivyError::InternalError("no search table for segment".into())
        })?;
        let updated = match self.sort {
            SortOrder::Updated => Some(reader.fast_fields().i64(f::UPDATED)?),
            _ => None,
        };
        let ids = table.facet_base[FACET_FIELDS.len()] as usize;
        Ok(PageSegment {
            seg,
            sort: self.sort,
            from_min: self.from_min,
            to_min: self.to_min,
            include_on_demand: self.include_on_demand,
            after: self.after,
            limit: self.limit,
            deadline: self.deadline,
            table,
            updated,
            facet_counts: vec![0u64; ids],
            months: MonthCounts::new(Arc::clone(&self.month_days)),
            heap: BinaryHeap::with_capacity(self.limit + 1),
            batch: Vec::with_capacity(BATCH),
            total: 0,
            remaining: 0,
            seen: 0,
            timed_out: false,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == SortOrder::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<SegFruit>) -> tantivy::Result<SegFruits> {
        Ok(SegFruits(fruits))
    }
}

/// Tantivy's `Fruit` needs `Send + 'static`; the merge itself happens in `search`.
struct SegFruits(Vec<SegFruit>);

/// Words of filter bits (64 documents each) [`PageSegment::walk`] takes at once: their rows
/// to read are touched together. Divides 64.
const WALK_BLOCK: usize = 16;

/// Matching documents handed to the table at once. Their rows are scattered over tens of
/// megabytes, so each is a cache miss; touching a batch's rows before using them lets those
/// misses overlap instead of being paid one after another.
const BATCH: usize = 64;

impl PageSegment {
    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.table.touch(batch.iter().map(|(d, _)| *d));
        for &(doc, score) in &batch {
            self.one(doc, score);
        }
        self.batch = batch;
        self.batch.clear();
    }

    /// The start of `d`'s first session overlapping the window [from, to), `Some(None)` for an
    /// undated document the request includes, `None` when `d` is not in the window.
    #[inline]
    fn in_window(&self, sessions: &[u32]) -> Option<Option<u64>> {
        // Sessions are in start order, so the first one ending at or after `from` is it,
        // unless it starts at or after `to`.
        for pair in sessions.chunks_exact(2) {
            let (start, end) = (u64::from(pair[0]), u64::from(pair[1]));
            if start >= self.to_min {
                return None;
            }
            if end >= self.from_min {
                return Some(Some(start));
            }
        }
        (sessions.is_empty() && self.include_on_demand).then_some(None)
    }

    /// What the table's columns tell of `doc` and the window, as [`PageSegment::in_window`]
    /// would from its sessions: the first session decides unless it ended before `from`.
    #[inline]
    fn columns(&self, table: &SegTable, doc: DocId) -> Columns {
        match table.first(doc) {
            s if s < SEVERAL => {
                if u64::from(s) >= self.to_min {
                    Columns::Out
                } else if u64::from(table.first_end(doc)) >= self.from_min {
                    Columns::In(Some(u64::from(s)))
                } else {
                    Columns::Row
                }
            }
            UNDATED if self.include_on_demand => Columns::In(None),
            UNDATED => Columns::Out,
            _ => Columns::Row,
        }
    }

    /// Counts one matching document and offers it to the page.
    #[inline]
    fn one(&mut self, doc: DocId, score: Score) {
        let row = self.table.row(doc);
        let Some(first) = self.in_window(row.sessions) else {
            return;
        };
        for &id in row.facets {
            if let Some(c) = self.facet_counts.get_mut(id as usize) {
                *c += 1;
            }
        }
        self.offer(doc, first, score);
    }

    /// Counts a document in the window (its facet values aside) and offers it to the page.
    #[inline]
    fn offer(&mut self, doc: DocId, first: Option<u64>, score: Score) {
        self.total += 1;
        if let Some(start) = first {
            self.months.add(start);
        }
        let primary = match self.sort {
            SortOrder::Relevance => score_primary(score),
            SortOrder::Start => first.unwrap_or(u64::MAX),
            SortOrder::Updated => {
                let u = self
                    .updated
                    .as_ref()
                    .and_then(|c| c.first(doc))
                    .unwrap_or(0);
                // Newest first: invert the order-preserving map of i64 to u64.
                !((u as u64) ^ (1 << 63))
            }
        };
        // The cursor key is another array: read it only where the primary key ties.
        if let Some((after_primary, after_key)) = self.after
            && (primary < after_primary
                || primary == after_primary && self.table.key(doc) <= after_key)
        {
            return;
        }
        self.remaining += 1;
        if self.heap.len() >= self.limit
            && let Some(top) = self.heap.peek()
            && primary > top.primary
        {
            return;
        }
        let key = self.table.key(doc);
        let e = Entry {
            primary,
            key,
            addr: DocAddress::new(self.seg, doc),
            score,
        };
        if self.heap.len() < self.limit {
            self.heap.push(e);
        } else if let Some(top) = self.heap.peek()
            && e < *top
        {
            self.heap.pop();
            self.heap.push(e);
        }
    }

    /// Counts and pages every document of `bits` when they are the whole query (no text):
    /// the same as collecting them one by one, but reading the table's per-document columns
    /// in document order, and counting topics, sectors and modalities as popcounts of the
    /// documents found in the window ANDed with each value's documents. Such a search visits
    /// a sixth of the catalog; through rows and tantivy's collect loop it cost ~27 ns per
    /// document, mostly cache misses.
    fn walk(mut self, mut bits: Vec<u64>, reader: &SegmentReader) -> SegFruit {
        let providers =
            self.table.facet_base[PROVIDER_FACET]..self.table.facet_base[PROVIDER_FACET + 1];
        let table = Arc::clone(&self.table);
        let mut rows: Vec<DocId> = Vec::with_capacity(WALK_BLOCK * 64);
        let (under_way, always) = table.row_words(self.from_min);
        for (block, words) in bits.chunks_mut(WALK_BLOCK).enumerate() {
            if block % (64 / WALK_BLOCK) == 0 && Instant::now() > self.deadline {
                self.timed_out = true;
                break;
            }
            // Series under way and clusters need their rows (scattered cache lines): touch
            // those of the block first so that their misses overlap, as `flush` does.
            rows.clear();
            let at = block * WALK_BLOCK;
            for (j, &word) in words.iter().enumerate() {
                let under_way = under_way.get(at + j).copied().unwrap_or(0);
                let always = always.get(at + j).copied().unwrap_or(0);
                let mut rest = word & (under_way | always);
                while rest != 0 {
                    rows.push(((at + j) * 64) as DocId + rest.trailing_zeros());
                    rest &= rest - 1;
                }
            }
            table.touch(rows.iter().copied());
            for (j, word) in words.iter_mut().enumerate() {
                let i = block * WALK_BLOCK + j;
                let mut rest = *word;
                while rest != 0 {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    let doc = i as DocId * 64 + bit;
                    if reader.is_deleted(doc) {
                        *word &= !(1 << bit);
                        continue;
                    }
                    let first = match self.columns(&table, doc) {
                        Columns::In(first) => first,
                        Columns::Out => {
                            *word &= !(1 << bit);
                            continue;
                        }
                        Columns::Row => match self.in_window(table.row(doc).sessions) {
                            Some(first) => first,
                            None => {
                                *word &= !(1 << bit);
                                continue;
                            }
                        },
                    };
                    match table.provider(doc) {
                        SEVERAL => {
                            for &id in table.row(doc).facets {
                                if providers.contains(&id)
                                    && let Some(c) = self.facet_counts.get_mut(id as usize)
                                {
                                    *c += 1;
                                }
                            }
                        }
                        p => {
                            if let Some(c) = self.facet_counts.get_mut(p as usize) {
                                *c += 1;
                            }
                        }
                    }
                    self.offer(doc, first, 0.0);
                }
            }
        }
        if let Some(value_bits) = table.value_bits() {
            for (c, docs) in self.facet_counts.iter_mut().zip(value_bits) {
                *c += bits
                    .iter()
                    .zip(docs)
                    .map(|(a, b)| u64::from((a & b).count_ones()))
                    .sum::<u64>();
            }
        }
        self.harvest()
    }
}

impl SegmentCollector for PageSegment {
    type Fruit = SegFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.timed_out {
            return;
        }
        self.seen += 1;
        // Checking the clock costs ~20 ns; every 4096 docs keeps it out of the profile while
        // bounding the overrun to well under a millisecond.
        if self.seen.is_multiple_of(4096) && Instant::now() > self.deadline {
            self.timed_out = true;
            self.batch.clear();
            return;
        }
        self.batch.push((doc, score));
        if self.batch.len() == BATCH {
            self.flush();
        }
    }

    fn harvest(mut self) -> SegFruit {
        self.flush();
        SegFruit {
            seg: self.seg,
            total: self.total,
            remaining: self.remaining,
            top: self.heap.into_vec(),
            facet_counts: self.facet_counts,
            months: self.months.into_pairs().collect(),
            timed_out: self.timed_out,
        }
    }
}

/// Year * 12 + month index, from minutes since the epoch (civil-from-days, Hinnant).
fn month_of_minutes(min: u64) -> u32 {
    let days = (min / 1440) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y * 12 + (m - 1)) as u32
}

/// Days since the epoch of the first day of `month` (year * 12 + month index; days-from-civil,
/// Hinnant). Never before 1970: months come from clamped, non-negative minutes.
fn day_of_month_start(month: u32) -> u64 {
    let (y, m) = (i64::from(month / 12), i64::from(month % 12) + 1);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468).max(0) as u64
}

fn to_minutes(t: DateTime<Utc>) -> u64 {
    t.timestamp().div_euclid(60).clamp(0, u32::MAX as i64) as u64
}

/// A top-level exclusion ("records -retention") costs a seek into the excluded word's postings
/// for every candidate, tens of thousands of them for a broad word. When the excluded
/// documents are fewer than this many times the filtered ones, they are read once and taken
/// out of the filter bits instead, and the query keeps only its positive part.
const EXCLUDE_INTO_FILTER: u64 = 4;

/// Moves the top-level exclusions of `node` into `bits` (see [`EXCLUDE_INTO_FILTER`]) and
/// returns what remains to search: the positive part, with any exclusion too broad to read.
/// `None` when only exclusions were asked for: the filter bits are then the whole query.
fn exclude_into_filter(
    node: query::Node,
    builder: &mut Builder<'_>,
    searcher: &tantivy::Searcher,
    bits: &mut HashMap<SegmentId, Vec<u64>>,
) -> Result<Option<query::Node>, IndexError> {
    use query::Node;
    let items = match node {
        Node::And(items) => items,
        n @ Node::Not(_) => vec![n],
        other => return Ok(Some(other)),
    };
    let filtered: u64 = bits
        .values()
        .map(|w| w.iter().map(|x| u64::from(x.count_ones())).sum::<u64>())
        .sum();
    let mut kept = Vec::with_capacity(items.len());
    let mut positive = false;
    for item in items {
        let Node::Not(inner) = item else {
            positive = true;
            kept.push(item);
            continue;
        };
        let Some(q) = builder.exclusion(&inner)? else {
            continue;
        };
        let weight = q.weight(tantivy::query::EnableScoring::disabled_from_searcher(
            searcher,
        ))?;
        let mut scorers = Vec::with_capacity(searcher.segment_readers().len());
        let mut cost = 0u64;
        for r in searcher.segment_readers() {
            let s = weight.scorer(r, 1.0)?;
            cost += s.cost();
            scorers.push((r.segment_id(), s));
        }
        if cost > EXCLUDE_INTO_FILTER * filtered.max(1) {
            kept.push(Node::Not(inner));
            continue;
        }
        for (id, mut s) in scorers {
            let Some(words) = bits.get_mut(&id) else {
                continue;
            };
            let mut d = s.doc();
            while d != tantivy::TERMINATED {
                if let Some(w) = words.get_mut((d / 64) as usize) {
                    *w &= !(1u64 << (d % 64));
                }
                d = s.advance();
            }
        }
    }
    Ok(match kept.len() {
        0 => None,
        // A lone exclusion too broad to read keeps its own "everything but" form.
        1 if positive => kept.pop(),
        _ => Some(Node::And(kept)),
    })
}

/// The request's filters ANDed into one bitset per segment: documents that can overlap the
/// window, listed ones, then for each filter the union of its values.
fn filter_bits(
    readers: &[SegmentReader],
    tables: &[Arc<SegTable>],
    filters: &[(Field, &[&str])],
    from_min: u64,
    to_min: Option<u64>,
    include_on_demand: bool,
) -> Result<HashMap<SegmentId, Vec<u64>>, IndexError> {
    let mut out = HashMap::with_capacity(readers.len());
    for (reader, table) in readers.iter().zip(tables) {
        let mut words = table.window_words(from_min, to_min, include_on_demand);
        words
            .iter_mut()
            .zip(table.listed_words())
            .for_each(|(w, l)| *w &= l);
        for (field, values) in filters {
            if let [one] = values {
                let b = table.term_bits(reader, &Term::from_field_text(*field, one))?;
                words.iter_mut().zip(b.iter()).for_each(|(w, b)| *w &= b);
                continue;
            }
            let mut any = vec![0u64; words.len()];
            for v in values.iter() {
                let b = table.term_bits(reader, &Term::from_field_text(*field, v))?;
                any.iter_mut().zip(b.iter()).for_each(|(a, b)| *a |= b);
            }
            words.iter_mut().zip(&any).for_each(|(w, a)| *w &= a);
        }
        out.insert(reader.segment_id(), words);
    }
    Ok(out)
}

impl CatalogIndex {
    /// Runs one search. See [`SearchRequest`] for the defaults.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, IndexError> {
        self.search_with(req, Plan::Auto)
    }

    pub(crate) fn search_with(
        &self,
        req: &SearchRequest,
        plan: Plan,
    ) -> Result<SearchResponse, IndexError> {
        let started = Instant::now();
        let deadline = started + self.config.deadline;
        let text = req.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let ast = match text {
            Some(t) => query::parse(t)?.map(|n| self.synonyms.expand(n)),
            None => None,
        };
        let sort = req.sort.unwrap_or(if ast.is_some() {
            SortOrder::Relevance
        } else {
            SortOrder::Start
        });
        let from = req.from.unwrap_or(req.now);
        if let Some(to) = req.to
            && to <= from
        {
            return Err(IndexError::InvalidQuery(format!(
                "to ({}) must be after from ({})",
                to.to_rfc3339(),
                from.to_rfc3339()
            )));
        }
        let limit = match req.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        };
        let fingerprint = req.fingerprint(sort);
        let after = match &req.cursor {
            None => None,
            Some(c) => {
                let p = cursor::decode(c, &self.config.cursor_key)?;
                if p.sort != sort.tag() || p.query_hash != fingerprint {
                    return Err(IndexError::InvalidCursor(
                        "cursor belongs to another query".to_string(),
                    ));
                }
                Some((p.primary, p.key))
            }
        };

        let searcher = self.reader.searcher();
        let fl = &self.fields;
        let sectors: Vec<&str> = req.sectors.iter().map(|s| s.as_str()).collect();
        let modalities: Vec<&str> = req.modalities.iter().map(|m| m.as_str()).collect();
        let topics: Vec<&str> = req.topics.iter().map(String::as_str).collect();
        let providers: Vec<&str> = req.providers.iter().map(String::as_str).collect();
        let statuses: Vec<&str> = req.statuses.iter().map(|s| status_str(*s)).collect();
        let cost: Vec<&str> = match req.free {
            Some(true) => vec!["free"],
            Some(false) => vec!["paid"],
            None => vec![],
        };
        let credits: Vec<&str> = req.credits.map(|c| c.term()).into_iter().collect();
        let filters: Vec<(Field, &[&str])> = [
            (fl.topic, &topics),
            (fl.sector, &sectors),
            (fl.modality, &modalities),
            (fl.provider, &providers),
            (fl.status, &statuses),
            (fl.cost, &cost),
            (fl.credit, &credits),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| (f, v.as_slice()))
        .collect();
        let tables = searcher
            .segment_readers()
            .iter()
            .map(|r| self.tables.get(r, fl))
            .collect::<Result<Vec<_>, _>>()?;
        let mut bits = filter_bits(
            searcher.segment_readers(),
            &tables,
            &filters,
            to_minutes(from),
            req.to.map(to_minutes),
            req.include_on_demand,
        )?;
        let mut builder = Builder {
            searcher: &searcher,
            fields: fl,
            analyzer: self.analyzer.clone(),
            plain: self.plain_analyzer.clone(),
            synonyms: &self.synonyms,
            marks: &self.marks,
            fuzzy_left: query::MAX_FUZZY_WORDS,
            highlight: BTreeMap::new(),
            filter: None,
        };
        let positive = match ast {
            Some(n) => exclude_into_filter(n, &mut builder, &searcher, &mut bits)?,
            None => None,
        };
        let filter = FilterQuery::new(
            bits.into_iter()
                .map(|(id, words)| (id, Arc::new(DocBits::new(words))))
                .collect(),
        );
        builder.filter = Some(filter.clone());
        let text_query = match &positive {
            Some(n) => builder.build(n)?,
            None => None,
        };
        let highlight = std::mem::take(&mut builder.highlight);
        let has_text = text_query.is_some();
        let collector = PageCollector {
            sort,
            from_min: to_minutes(from),
            to_min: req.to.map_or(u64::MAX, to_minutes),
            include_on_demand: req.include_on_demand,
            after,
            limit,
            deadline,
            tables: tables.clone(),
            month_days: Arc::new(MonthDays::new(to_minutes(from))),
        };
        let walk = plan == Plan::Auto
            && !has_text
            && sort == SortOrder::Start
            && tables.iter().all(|t| t.value_bits().is_some());
        let fruits = if walk {
            // Without text the filter bits are the whole query: walk them (`PageSegment::walk`).
            let readers = searcher.segment_readers();
            searcher.index().search_executor().map(
                |(ord, reader): (usize, &SegmentReader)| {
                    let words = filter.words(reader.segment_id()).ok_or_else(|| {
                        tantivy::TantivyError::InternalError(
                            "no filter bits for this segment".into(),
                        )
                    })?;
                    Ok(collector
                        .for_segment(ord as SegmentOrdinal, reader)?
                        .walk(words.to_vec(), reader))
                },
                readers.iter().enumerate(),
            )?
        } else {
            // With text the builder has put the filter bits into every positive leaf (and
            // under exclusions), so the text query matches only documents that pass them.
            // Filters decide membership, never score.
            let full: Box<dyn Query> = match text_query {
                Some(t) => t,
                None => Box::new(filter),
            };
            searcher.search(full.as_ref(), &collector)?.0
        };

        let mut total = 0;
        let mut remaining = 0;
        let mut top: Vec<Entry> = Vec::new();
        let space = self.tables.space(
            searcher
                .segment_readers()
                .iter()
                .map(|r| r.segment_id())
                .collect(),
            &tables,
        );
        let mut counts = vec![0u64; space.names.len()];
        let mut months: HashMap<u32, u64> = HashMap::new();
        for fr in fruits {
            if fr.timed_out {
                return Err(IndexError::Timeout(self.config.deadline.as_millis() as u64));
            }
            total += fr.total;
            remaining += fr.remaining;
            top.extend(fr.top);
            if let Some(global) = space.global.get(fr.seg as usize) {
                for (&c, &g) in fr.facet_counts.iter().zip(global) {
                    if c > 0
                        && let Some(n) = counts.get_mut(g as usize)
                    {
                        *n += c;
                    }
                }
            }
            for (m, c) in fr.months {
                *months.entry(m).or_insert(0) += c;
            }
        }
        top.sort();
        top.truncate(limit);
        let next_cursor = match top.last() {
            Some(last) if remaining > limit as u64 => Some(cursor::encode(
                &Position {
                    sort: sort.tag(),
                    primary: last.primary,
                    key: last.key,
                    query_hash: fingerprint,
                },
                &self.config.cursor_key,
            )),
            _ => None,
        };

        let snippets = (has_text && !highlight.is_empty())
            .then(|| SnippetGenerator::new(highlight, self.snippet_analyzer.clone(), fl.body, 200));
        // The page's documents are loaded and their snippets made on the search threads too:
        // a page is a tenth of a small search's time.
        let render = |e: &Entry| -> tantivy::Result<Result<SearchHit, IndexError>> {
            let stored: TantivyDocument = searcher.doc(e.addr)?;
            let Some(json) = stored
                .get_first(fl.doc)
                .and_then(|v| tantivy::schema::document::Value::as_str(&v))
            else {
                return Ok(Err(IndexError::Unavailable(
                    "stored document missing".into(),
                )));
            };
            let d: IndexDoc = match serde_json::from_str(json) {
                Ok(d) => d,
                Err(err) => {
                    return Ok(Err(IndexError::BadDocument {
                        id: String::new(),
                        reason: err.to_string(),
                    }));
                }
            };
            let snippet = snippets.as_ref().and_then(|g| render_snippet(&d, g));
            Ok(Ok(render_hit(d, from, req.to, snippet, sort, e.score)))
        };
        let hits = searcher
            .index()
            .search_executor()
            .map(render, top.iter())?
            .into_iter()
            .collect::<Result<Vec<SearchHit>, IndexError>>()?;

        let facets = Facets {
            topic: top_counts(&space, &counts, 0),
            sector: top_counts(&space, &counts, 1),
            modality: top_counts(&space, &counts, 2),
            provider: top_counts(&space, &counts, 3),
            month: {
                let mut v: Vec<(u32, u64)> = months.into_iter().collect();
                v.sort();
                v.into_iter()
                    .map(|(m, count)| FacetCount {
                        value: format!("{:04}-{:02}", m / 12, m % 12 + 1),
                        count,
                    })
                    .collect()
            },
        };
        Ok(SearchResponse {
            total,
            hits,
            facets,
            next_cursor,
            sort,
            took_ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// The values of facet field `field` with their counts: most frequent first, ties by value
/// (global ids are in value order), at most [`FACET_LIMIT`].
fn top_counts(space: &FacetSpace, counts: &[u64], field: usize) -> Vec<FacetCount> {
    let ids = space.base[field] as usize..space.base[field + 1] as usize;
    let mut v: Vec<(u64, usize)> = counts
        .get(ids.clone())
        .unwrap_or(&[])
        .iter()
        .zip(ids)
        .filter(|(c, _)| **c > 0)
        .map(|(c, id)| (*c, id))
        .collect();
    let order = |a: &(u64, usize), b: &(u64, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
    if v.len() > FACET_LIMIT {
        v.select_nth_unstable_by(FACET_LIMIT - 1, order);
        v.truncate(FACET_LIMIT);
    }
    v.sort_unstable_by(order);
    v.into_iter()
        .map(|(count, id)| FacetCount {
            value: space.names.get(id).cloned().unwrap_or_default(),
            count,
        })
        .collect()
}

/// A fragment of the summary, or else of the description, with the query's words marked.
fn render_snippet(d: &IndexDoc, generator: &SnippetGenerator) -> Option<Snippet> {
    let make = |field: &str, s: tantivy::snippet::Snippet| -> Option<Snippet> {
        if s.highlighted().is_empty() {
            return None;
        }
        let text = s.fragment().to_string();
        let highlights: Vec<(usize, usize)> =
            s.highlighted().iter().map(|r| (r.start, r.end)).collect();
        let mut html = String::with_capacity(text.len() + 16 * highlights.len());
        let mut at = 0;
        for (a, b) in &highlights {
            html.push_str(&escape(text.get(at..*a).unwrap_or("")));
            html.push_str("<mark>");
            html.push_str(&escape(text.get(*a..*b).unwrap_or("")));
            html.push_str("</mark>");
            at = *b;
        }
        html.push_str(&escape(text.get(at..).unwrap_or("")));
        Some(Snippet {
            field: field.to_string(),
            text,
            highlights,
            html,
        })
    };
    if let Some(s) = &d.offering.summary
        && let Some(sn) = make("summary", generator.snippet(s))
    {
        return Some(sn);
    }
    let desc = d
        .offering
        .description_html
        .as_deref()
        .map(crate::doc::html_to_text)?;
    make("description", generator.snippet(&desc))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render_hit(
    d: IndexDoc,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    snippet: Option<Snippet>,
    sort: SortOrder,
    score: Score,
) -> SearchHit {
    let o = d.offering;
    let from_min = to_minutes(from);
    let to_min = to.map_or(u64::MAX, to_minutes);
    // The same rule as the collector, on minutes, so the shown session is the one sorted by.
    let next_occurrence = o
        .occurrences
        .iter()
        .filter(|x| !x.cancelled)
        .filter(|x| {
            let s = to_minutes(x.start.with_timezone(&Utc));
            let e = x
                .end
                .map_or(s, |e| to_minutes(e.with_timezone(&Utc)))
                .max(s);
            e >= from_min && s < to_min
        })
        .min_by_key(|x| x.start)
        .cloned();
    SearchHit {
        id: d.id,
        title: o.title,
        snippet,
        next_occurrence,
        occurrence_count: o.occurrences.len(),
        timezone: o.timezone,
        provider_id: d.provider_id,
        provider_name: d.provider_name,
        modality: o.modality,
        cost: o.cost,
        credits: o.credits,
        topics: o.topics,
        sectors: o.sectors,
        status: o.status,
        url: o.url,
        registration_url: o.registration_url,
        cluster_id: d.cluster_id,
        also_offered_by: d.also_offered_by,
        score: (sort == SortOrder::Relevance).then_some(score),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn months_from_minutes() {
        // 2026-03-01T00:00Z
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(month_of_minutes(to_minutes(t)), 2026 * 12 + 2);
        let t = Utc.with_ymd_and_hms(2026, 2, 28, 23, 59, 0).unwrap();
        assert_eq!(month_of_minutes(to_minutes(t)), 2026 * 12 + 1);
        let t = Utc.with_ymd_and_hms(2025, 12, 31, 12, 0, 0).unwrap();
        assert_eq!(month_of_minutes(to_minutes(t)), 2025 * 12 + 11);
    }

    #[test]
    fn the_month_table_agrees_with_the_calendar() {
        // From a mid-month window start across leap years, a century rule (2100) and past the
        // table's end, every 7 hours: the counted month is the civil month.
        let from = to_minutes(Utc.with_ymd_and_hms(2095, 2, 17, 9, 30, 0).unwrap());
        let days = Arc::new(MonthDays::new(from));
        assert_eq!(days.base, 2095 * 12 + 1);
        assert_eq!(day_of_month_start(1970 * 12), 0);
        let mut counts = MonthCounts::new(Arc::clone(&days));
        let mut expected: HashMap<u32, u64> = HashMap::new();
        let start = from - 40 * 1440;
        for i in 0..(12 * 366 * 24 / 7) {
            let min = start + i * 7 * 60;
            counts.add(min);
            *expected.entry(month_of_minutes(min)).or_insert(0) += 1;
        }
        let got: HashMap<u32, u64> = counts.into_pairs().collect();
        assert_eq!(got, expected);
        assert!(got.contains_key(&(2100 * 12 + 1)) && got.contains_key(&(2106 * 12 + 5)));
    }

    #[test]
    fn score_order_is_descending() {
        assert!(score_primary(2.0) < score_primary(1.0));
        assert!(score_primary(0.0) < score_primary(-1.0));
    }
}

/// The walk over the filter bits gives what tantivy's collect loop gives, page by page.
#[cfg(test)]
mod walk_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::generate::{GenerateSpec, generate};
    use crate::{IndexConfig, Synonyms};
    use chrono::{Duration, TimeZone};
    use coalesce_core::{Occurrence, Vocabulary};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    /// Three segments, deleted and replaced documents, and series with a gap between
    /// sessions (a window can fall into it: the bits let such a document through, the
    /// sessions must not).
    fn catalog() -> (CatalogIndex, Vec<String>) {
        let config = IndexConfig::new(
            b"walk-test-cursor-key-0123".to_vec(),
            Synonyms::from_vocabulary(&Vocabulary::builtin()),
        )
        .unwrap();
        let idx = CatalogIndex::in_ram(config).unwrap();
        let mut docs: Vec<IndexDoc> = generate(&GenerateSpec {
            offerings: 2400,
            seed: 7,
            now: now(),
        })
        .collect();
        for (i, d) in docs.iter_mut().enumerate().filter(|(i, _)| i % 37 == 0) {
            let s = (now() + Duration::days(i as i64 % 50 - 10)).fixed_offset();
            d.offering.occurrences = [0, 40, 41]
                .into_iter()
                .map(|k| Occurrence {
                    start: s + Duration::days(k),
                    end: Some(s + Duration::days(k) + Duration::hours(2)),
                    all_day: false,
                    cancelled: false,
                    date_source: coalesce_core::DateSource::Structured,
                    recurrence_id: None,
                })
                .collect();
        }
        for (i, part) in docs.chunks(800).enumerate() {
            for d in part {
                idx.upsert(d).unwrap();
            }
            idx.commit(i as u64 + 1).unwrap();
        }
        for d in docs.iter().step_by(11) {
            idx.delete(&d.id).unwrap();
        }
        for d in docs.iter_mut().skip(5).step_by(13) {
            d.offering.sectors.reverse();
            idx.upsert(d).unwrap();
        }
        idx.commit(9).unwrap();
        let providers = docs.iter().map(|d| d.provider_id.clone()).collect();
        (idx, providers)
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn walking_the_filter_bits_pages_and_counts_like_collecting() {
        let (idx, providers) = catalog();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut walked = 0;
        for round in 0..250 {
            let mut r = SearchRequest::new(now());
            let from = now() + Duration::days(rng.below(120) as i64 - 20);
            r.from = (rng.below(4) > 0).then_some(from);
            let start = r.from.unwrap_or(now());
            r.to = (rng.below(2) == 0).then(|| start + Duration::days(1 + rng.below(60) as i64));
            r.include_on_demand = rng.below(3) > 0;
            r.limit = 1 + rng.below(30) as usize;
            if rng.below(3) == 0 {
                r.sectors = vec![
                    [Sector::Libraries, Sector::Museums, Sector::Archives][rng.below(3) as usize],
                ];
            }
            if rng.below(3) == 0 {
                r.modalities = vec![Modality::Online, Modality::InPerson];
            }
            if rng.below(4) == 0 {
                r.topics = vec!["preservation".into()];
            }
            if rng.below(4) == 0 {
                r.free = Some(rng.below(2) == 0);
            }
            if rng.below(5) == 0 {
                r.credits = Some(CreditsFilter::Any);
            }
            if rng.below(6) == 0 {
                r.providers = vec![providers[rng.below(providers.len() as u64) as usize].clone()];
            }
            if rng.below(6) == 0 {
                // Only an exclusion: read into the filter bits, nothing left to match.
                r.q = Some("-retention".into());
                r.sort = Some(SortOrder::Start);
            }
            for page in 0..3 {
                let mut a = idx.search_with(&r, Plan::Auto).unwrap();
                let mut b = idx.search_with(&r, Plan::Collect).unwrap();
                (a.took_ms, b.took_ms) = (0, 0);
                assert_eq!(a, b, "round {round}, page {page}: {r:?}");
                walked += a.total;
                match a.next_cursor {
                    Some(c) => r.cursor = Some(c),
                    None => break,
                }
            }
        }
        assert!(walked > 50_000, "the requests matched too little: {walked}");
    }
}
