//! `coalesce reindex`: rebuild the search index from the store. The index is derived data, so
//! this is always safe; the service also rebuilds by itself when its index is missing or damaged.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use coalesce_core::Vocabulary;
use coalesce_index::store_sync::rebuild_from_store;
use coalesce_index::{IndexConfig, Synonyms};
use coalesce_store::{Store, StoreOptions};

/// Where the index lives inside the data folder (serve opens the same path).
pub const INDEX_DIR: &str = "index";

#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    /// The data folder holding the store (`coalesce.db`) and the index (`index/`).
    #[arg(long, env = "COALESCE_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

pub fn run_reindex(args: ReindexArgs) -> Result<ExitCode> {
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
        let config = IndexConfig::new(
            b"reindex: cursors are not persisted".to_vec(),
            Synonyms::from_vocabulary(&Vocabulary::builtin()),
        )
        .context("invalid index settings")?;
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
