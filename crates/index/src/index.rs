//! The index handle: open, rebuild, upsert, delete, commit with the store watermark.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tantivy::schema::Schema;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::IndexError;
use crate::doc::{Fields, IndexDoc};
use crate::marks::PhraseSet;
use crate::query::Synonyms;
use crate::schema::{
    self as f, ANALYZER, PLAIN_ANALYZER, SCHEMA_VERSION, analyzer, build_schema, index_analyzer,
    plain_analyzer, snippet_analyzer,
};
use crate::table::Tables;

/// Validated settings of an index handle.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// Secret that signs cursors; at least 16 bytes.
    pub cursor_key: Vec<u8>,
    /// Synonym groups (usually [`Synonyms::from_vocabulary`]).
    pub synonyms: Synonyms,
    /// A search taking longer fails with `search_timeout`.
    pub deadline: Duration,
    /// Indexing memory budget of the single writer.
    pub writer_memory_bytes: usize,
    /// Indexing threads (0: tantivy's choice from the core count).
    pub writer_threads: usize,
    /// Threads one search may use, each taking whole segments (1: the calling thread only).
    /// On an idle server a search over several segments answers that many times sooner;
    /// under full load it changes little, as every core is busy anyway.
    pub search_threads: usize,
}

impl IndexConfig {
    pub fn new(cursor_key: Vec<u8>, synonyms: Synonyms) -> Result<IndexConfig, IndexError> {
        if cursor_key.len() < 16 {
            return Err(IndexError::Unavailable(format!(
                "cursor key must be at least 16 bytes, got {}",
                cursor_key.len()
            )));
        }
        Ok(IndexConfig {
            cursor_key,
            synonyms,
            deadline: Duration::from_secs(2),
            writer_memory_bytes: 64 << 20,
            writer_threads: 1,
            search_threads: default_search_threads(),
        })
    }
}

/// Two search threads per core, at most eight. A thread takes whole segments, and segments
/// differ in size (a bulk build left two of a third the size of the others at a million
/// documents): with one thread per core the core with the large segments finishes last;
/// with two the scheduler evens it out (1M mix, 2 cores: p99 32 -> 27 ms, p50 unchanged).
pub fn default_search_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (2 * n.get()).min(8))
}

/// What the commit payload records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Payload {
    schema_version: u32,
    watermark: u64,
    /// [`PhraseSet::fingerprint`] of the phrases the text was marked for.
    #[serde(default)]
    phrases: u64,
}

/// How [`CatalogIndex::open_or_rebuild`] got its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// An existing index with this watermark: catch up from there.
    Existing { watermark: u64 },
    /// Rebuilt from the documents given (missing, damaged or of another schema version).
    Rebuilt {
        documents: u64,
        reason: RebuildReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebuildReason {
    Missing,
    Damaged,
    SchemaChanged,
}

/// A search index with its single writer. Share it behind an `Arc`: searches run concurrently,
/// writes are serialized by the writer lock.
pub struct CatalogIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    writer: Mutex<IndexWriter>,
    pub(crate) fields: Fields,
    pub(crate) analyzer: TextAnalyzer,
    pub(crate) plain_analyzer: TextAnalyzer,
    /// [`analyzer`] with remembered stems, for snippets.
    pub(crate) snippet_analyzer: TextAnalyzer,
    pub(crate) synonyms: Synonyms,
    /// The synonym phrases marked in the text fields (see `marks.rs`).
    pub(crate) marks: Arc<PhraseSet>,
    pub(crate) config: IndexConfig,
    /// Decoded per-segment columns the search collector reads (see `table.rs`).
    pub(crate) tables: Tables,
    /// Build tables at each commit; off for the throwaway handle of a bulk rebuild.
    eager_tables: bool,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for CatalogIndex {
    fn fmt(&self, fm: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fm.debug_struct("CatalogIndex")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl CatalogIndex {
    /// An index in memory, for tests and previews.
    pub fn in_ram(config: IndexConfig) -> Result<CatalogIndex, IndexError> {
        let index = Index::create_in_ram(build_schema());
        let marks = phrase_set(&config.synonyms);
        CatalogIndex::from_index(index, config, marks, None)
    }

    /// Opens an existing index. Fails with `index_unavailable` when it is missing, damaged or
    /// of another schema version, and `index_locked` when another writer holds it.
    pub fn open(path: &Path, config: IndexConfig) -> Result<CatalogIndex, IndexError> {
        // tantivy can panic (not error) on some truncated files; a damaged index must become a
        // rebuild, never a dead process.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            CatalogIndex::open_checked(path, config)
        }))
        .unwrap_or_else(|_| {
            Err(IndexError::Unavailable(format!(
                "index at {} is damaged",
                path.display()
            )))
        })
    }

    fn open_checked(path: &Path, config: IndexConfig) -> Result<CatalogIndex, IndexError> {
        let index = Index::open_in_dir(path)?;
        let payload = read_payload(&index)?;
        let marks = phrase_set(&config.synonyms);
        if payload.map(|p| (p.schema_version, p.phrases))
            != Some((SCHEMA_VERSION, marks.fingerprint()))
            || index.schema() != build_schema()
        {
            return Err(IndexError::Unavailable(format!(
                "index at {} has another schema version",
                path.display()
            )));
        }
        let idx = CatalogIndex::from_index(index, config, marks, Some(path.to_path_buf()))?;
        // Touch every segment's stores so damage shows now, not in the middle of a search.
        let searcher = idx.reader.searcher();
        for seg in searcher.segment_readers() {
            let ff = seg.fast_fields();
            let keys = ff.u64(f::KEY)?;
            let occ = ff.u64(f::OCC)?;
            if seg.max_doc() > 0 {
                let last = seg.max_doc() - 1;
                let _ = keys.first(last);
                let _ = occ.values_for_doc(last).count();
            }
            seg.get_store_reader(0)
                .map_err(|e| IndexError::Unavailable(e.to_string().to_lowercase()))?;
        }
        // Decode the search tables now, so the first searches do not pay for it.
        idx.tables.refresh(&searcher, &idx.fields)?;
        Ok(idx)
    }

    /// Opens the index at `path`, or rebuilds it from `docs` when it is missing, damaged or of
    /// another schema version. The rebuild is written into a sibling directory and swapped in
    /// at the end, so a crash halfway leaves no half index behind.
    pub fn open_or_rebuild<I>(
        path: &Path,
        config: IndexConfig,
        docs: impl FnOnce() -> Result<(I, u64), IndexError>,
    ) -> Result<(CatalogIndex, Opened), IndexError>
    where
        I: IntoIterator<Item = IndexDoc>,
    {
        let reason = if !path.join("meta.json").exists() {
            RebuildReason::Missing
        } else {
            match CatalogIndex::open(path, config.clone()) {
                Ok(idx) => {
                    let watermark = idx.watermark()?.unwrap_or(0);
                    return Ok((idx, Opened::Existing { watermark }));
                }
                Err(IndexError::Locked) => return Err(IndexError::Locked),
                Err(IndexError::Unavailable(m)) if m.contains("schema version") => {
                    RebuildReason::SchemaChanged
                }
                Err(_) => RebuildReason::Damaged,
            }
        };
        let (iter, watermark) = docs()?;
        let (idx, n) = CatalogIndex::rebuild(path, config, iter, watermark)?;
        Ok((
            idx,
            Opened::Rebuilt {
                documents: n,
                reason,
            },
        ))
    }

    /// Builds a fresh index at `path` from `docs`, replacing whatever was there.
    pub fn rebuild(
        path: &Path,
        config: IndexConfig,
        docs: impl IntoIterator<Item = IndexDoc>,
        watermark: u64,
    ) -> Result<(CatalogIndex, u64), IndexError> {
        let io = |e: std::io::Error| IndexError::Unavailable(e.to_string().to_lowercase());
        let tmp = sibling(path, "rebuild");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io)?;
        }
        std::fs::create_dir_all(&tmp).map_err(io)?;
        let n = {
            let index = Index::create_in_dir(&tmp, build_schema())?;
            let marks = phrase_set(&config.synonyms);
            let mut idx =
                CatalogIndex::from_index(index, config.clone(), marks, Some(tmp.clone()))?;
            // Nobody searches this handle; `open` below builds the tables once.
            idx.eager_tables = false;
            let mut n = 0u64;
            for d in docs {
                idx.add(&d)?;
                n += 1;
            }
            idx.commit(watermark)?;
            idx.wait_merging()?;
            n
        };
        if path.exists() {
            let old = sibling(path, "old");
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io)?;
            }
            std::fs::rename(path, &old).map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)?;
            std::fs::remove_dir_all(&old).map_err(io)?;
        } else {
            std::fs::rename(&tmp, path).map_err(io)?;
        }
        Ok((CatalogIndex::open(path, config)?, n))
    }

    /// `marks`: [`phrase_set`] of `config`'s synonyms (`open` has it already for its check).
    fn from_index(
        mut index: Index,
        config: IndexConfig,
        marks: PhraseSet,
        path: Option<PathBuf>,
    ) -> Result<CatalogIndex, IndexError> {
        if config.search_threads > 1 {
            index.set_multithread_executor(config.search_threads)?;
        }
        let marks = Arc::new(marks);
        register(&index, &marks);
        let fields = Fields::new(&index.schema())?;
        let writer: IndexWriter = if config.writer_threads == 0 {
            index.writer(config.writer_memory_bytes)?
        } else {
            index.writer_with_num_threads(config.writer_threads, config.writer_memory_bytes)?
        };
        // Manual reload: a commit is visible to the next search of this process at once, which
        // tests and read-your-writes in the API rely on.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(CatalogIndex {
            synonyms: config.synonyms.clone(),
            marks,
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer: analyzer(),
            plain_analyzer: plain_analyzer(),
            snippet_analyzer: snippet_analyzer(),
            config,
            tables: Tables::default(),
            eager_tables: true,
            path,
        })
    }

    fn writer(&self) -> Result<MutexGuard<'_, IndexWriter>, IndexError> {
        self.writer
            .lock()
            .map_err(|_| IndexError::Unavailable("index writer lock poisoned".into()))
    }

    fn add(&self, d: &IndexDoc) -> Result<(), IndexError> {
        let doc = self.fields.document(d)?;
        self.writer()?.add_document(doc)?;
        Ok(())
    }

    /// Replaces the document with `d.id` (or adds it). Visible after [`Self::commit`].
    pub fn upsert(&self, d: &IndexDoc) -> Result<(), IndexError> {
        let doc: TantivyDocument = self.fields.document(d)?;
        let w = self.writer()?;
        w.delete_term(Term::from_field_text(self.fields.id, &d.id));
        w.add_document(doc)?;
        Ok(())
    }

    /// Removes the document with `id`, if any. Visible after [`Self::commit`].
    pub fn delete(&self, id: &str) -> Result<(), IndexError> {
        self.writer()?
            .delete_term(Term::from_field_text(self.fields.id, id));
        Ok(())
    }

    /// Makes every change so far durable and visible, recording the store watermark they
    /// reach. On restart, [`Self::watermark`] says where to resume the change log.
    pub fn commit(&self, watermark: u64) -> Result<(), IndexError> {
        let payload = serde_json::to_string(&Payload {
            schema_version: SCHEMA_VERSION,
            phrases: self.marks.fingerprint(),
            watermark,
        })
        .map_err(|e| IndexError::Unavailable(e.to_string()))?;
        {
            let mut w = self.writer()?;
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&payload);
            fail::fail_point!("index.commit.before", |_| std::process::abort());
            prepared.commit()?;
            fail::fail_point!("index.commit.after", |_| std::process::abort());
        }
        self.reader.reload()?;
        // New segments get their tables here, off the search path; merged-away ones go. The
        // commit itself has succeeded: a table that fails to build is retried (and its error
        // reported) by the next search.
        if self.eager_tables {
            let _ = self.tables.refresh(&self.reader.searcher(), &self.fields);
        }
        Ok(())
    }

    /// Drops uncommitted changes.
    pub fn rollback(&self) -> Result<(), IndexError> {
        self.writer()?.rollback()?;
        Ok(())
    }

    /// The store watermark of the last commit (`None` for a fresh index).
    pub fn watermark(&self) -> Result<Option<u64>, IndexError> {
        Ok(read_payload(&self.index)?.map(|p| p.watermark))
    }

    /// Documents visible to search (listed or not).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Heap bytes of the decoded per-segment search tables (see `table.rs`).
    pub fn search_table_bytes(&self) -> usize {
        self.tables.heap_bytes()
    }

    /// The stored document of `id`, as last committed.
    pub fn get(&self, id: &str) -> Result<Option<IndexDoc>, IndexError> {
        let searcher = self.reader.searcher();
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let top = searcher.search(
            &q,
            &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
        )?;
        let Some((_, addr)) = top.first() else {
            return Ok(None);
        };
        let stored: TantivyDocument = searcher.doc(*addr)?;
        let json = stored
            .get_first(self.fields.doc)
            .and_then(|v| tantivy::schema::document::Value::as_str(&v))
            .ok_or_else(|| IndexError::Unavailable("stored document missing".into()))?;
        serde_json::from_str(json)
            .map(Some)
            .map_err(|e| IndexError::BadDocument {
                id: id.to_string(),
                reason: e.to_string(),
            })
    }

    /// Waits for background merges (used after bulk builds so segments are few).
    pub fn wait_merging(self) -> Result<(), IndexError> {
        let writer = self
            .writer
            .into_inner()
            .map_err(|_| IndexError::Unavailable("index writer lock poisoned".into()))?;
        writer.wait_merging_threads()?;
        Ok(())
    }

    /// The tantivy document `d` becomes (for the raw-tantivy baseline of the benchmark).
    pub fn tantivy_document(&self, d: &IndexDoc) -> Result<TantivyDocument, IndexError> {
        self.fields.document(d)
    }

    /// Registers this crate's analyzers, as `config` sets them, on a bare tantivy index of
    /// [`build_schema`].
    pub fn register_analyzers(index: &Index, config: &IndexConfig) {
        register(index, &Arc::new(phrase_set(&config.synonyms)));
    }

    /// The schema, for tools that build documents themselves (the raw-tantivy benchmark).
    pub fn schema(&self) -> Schema {
        self.index.schema()
    }
}

/// The synonyms' multi-word phrases, analyzed as queries are.
fn phrase_set(synonyms: &Synonyms) -> PhraseSet {
    let phrases: Vec<String> = synonyms.phrases().collect();
    PhraseSet::new(phrases.iter().map(String::as_str), &mut analyzer())
}

fn register(index: &Index, marks: &Arc<PhraseSet>) {
    index
        .tokenizers()
        .register(ANALYZER, index_analyzer(Arc::clone(marks)));
    index
        .tokenizers()
        .register(PLAIN_ANALYZER, plain_analyzer());
}

fn read_payload(index: &Index) -> Result<Option<Payload>, IndexError> {
    let metas = index.load_metas()?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Payload>(p).ok()))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}
