//! `coalesce reindex`: rebuild the search index from the store. The index is derived data, so
//! this is always safe; the service also rebuilds by itself when its index is missing or damaged.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use coalesce_core::Vocabulary;
use coalesce_index::store_sync::rebuild_from_store;
use coalesce_index::{CatalogIndex, IndexConfig, IndexDoc, Synonyms};
use coalesce_store::{Store, StoreOptions};

/// Where the index lives inside the data folder (serve opens the same path).
pub const INDEX_DIR: &str = "index";

#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    /// The data folder holding the store (`coalesce.db`) and the index (`index/`).
    #[arg(long, env = "COALESCE_DATA__DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Index the documents of a `coalesce generate` catalog (JSON Lines) instead of the store,
    /// for load tests: `serve` then searches them, and store changes still apply on top.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
}

pub fn run_reindex(args: ReindexArgs) -> Result<ExitCode> {
    if let Some(catalog) = &args.catalog {
        return reindex_catalog(&args.data_dir, catalog);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let store = Store::open_data_dir(&args.data_dir, StoreOptions::default())
            .await
            .with_context(|| format!("cannot open the store in {}", args.data_dir.display()))?;
        // Cursors are signed by the serving process's key, not stored in the index, so any
        // key of the right length builds the same index.
        let config = index_config()?;
        let path = args.data_dir.join(INDEX_DIR);
        let started = std::time::Instant::now();
        let (index, documents) = rebuild_from_store(&path, config, &store)
            .await
            .with_context(|| format!("cannot rebuild the index in {}", path.display()))?;
        let watermark = index.watermark().context("cannot read the index")?;
        store.close().await;
        println!(
            "indexed {documents} offerings in {:.1}s into {} (store watermark {})",
            started.elapsed().as_secs_f64(),
            path.display(),
            watermark.unwrap_or(0)
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn index_config() -> Result<IndexConfig> {
    IndexConfig::new(
        b"reindex: cursors are not persisted".to_vec(),
        Synonyms::from_vocabulary(&Vocabulary::builtin()),
    )
    .context("invalid index settings")
}

/// Builds `<data_dir>/index` from a generated catalog, streaming it (a million documents do not
/// fit comfortably in memory at once). Watermark 0: the store's whole change log still applies.
fn reindex_catalog(data_dir: &Path, catalog: &Path) -> Result<ExitCode> {
    let file = std::fs::File::open(catalog)
        .with_context(|| format!("cannot open {}", catalog.display()))?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut lines = BufReader::new(file).lines().enumerate();
    let mut failed: Option<anyhow::Error> = None;
    let docs = std::iter::from_fn(|| {
        if failed.is_some() {
            return None;
        }
        let (n, line) = lines.next()?;
        let parsed = line
            .context("cannot read the catalog")
            .and_then(|l| serde_json::from_str::<IndexDoc>(&l).context("not a catalog document"))
            .with_context(|| format!("{} line {}", catalog.display(), n + 1));
        match parsed {
            Ok(d) => Some(d),
            Err(e) => {
                failed = Some(e);
                None
            }
        }
    });
    let path = data_dir.join(INDEX_DIR);
    let started = std::time::Instant::now();
    // A bulk build: the budget of the search benchmark (fewer, larger segments), not the small
    // one the serving process keeps for incremental updates.
    let mut config = index_config()?;
    config.writer_threads = 2;
    config.writer_memory_bytes = 400 << 20;
    let (_, documents) = CatalogIndex::rebuild(&path, config, docs, 0)
        .with_context(|| format!("cannot build the index in {}", path.display()))?;
    if let Some(e) = failed {
        // Do not leave an index of half a catalog behind as if it were whole.
        let _ = std::fs::remove_dir_all(&path);
        return Err(e);
    }
    println!(
        "indexed {documents} catalog documents in {:.1}s into {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
