//! Fetching many sources at once under the politeness rules, independent of the store: the
//! caller picks the due sources, this fetches them and streams each result back as it lands.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::FetchError;
use crate::fetch::{FetchResponse, Fetcher, Validators};
use crate::gate::HostGate;
use crate::hints::delta;

/// One source to fetch.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub url: Url,
    pub validators: Validators,
}

/// A finished fetch.
#[derive(Debug)]
pub struct Done {
    pub job: Job,
    /// When the request started, on the caller's clock (`now` plus elapsed time).
    pub at: DateTime<Utc>,
    pub result: Result<FetchResponse, FetchError>,
}

/// The host politeness applies to: the name (or address) without port or scheme, since that
/// is what a provider's server is.
pub fn host_key(url: &Url) -> String {
    url.host_str().unwrap_or("").to_ascii_lowercase()
}

/// Fetch every job, at most one at a time per host with the gate's pause between requests and
/// at most the gate's global limit in flight. Results arrive on the channel in completion
/// order; the channel closes when all jobs are done (or the gate was closed).
///
/// One task per job: a waiting task holds only its job and a gate future (the fetch future is
/// boxed and allocated when the request starts), so 10,000 queued sources stay cheap.
pub fn fetch_all(
    fetcher: Arc<Fetcher>,
    gate: Arc<HostGate>,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
) -> mpsc::Receiver<Done> {
    fetch_all_until(fetcher, gate, jobs, now, CancellationToken::new())
}

/// [`fetch_all`] that stops when `cancel` fires: waiting jobs never start and fetches in flight
/// are dropped mid-request. A cancelled job sends nothing, so the caller cannot mistake a
/// shutdown for the source failing.
pub fn fetch_all_until(
    fetcher: Arc<Fetcher>,
    gate: Arc<HostGate>,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
    cancel: CancellationToken,
) -> mpsc::Receiver<Done> {
    let (tx, rx) = mpsc::channel(256);
    let started = tokio::time::Instant::now();
    for job in jobs {
        let (fetcher, gate, tx) = (Arc::clone(&fetcher), Arc::clone(&gate), tx.clone());
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let work = async {
                let host = host_key(&job.url);
                let Ok(permit) = gate.acquire(&host, fetcher.robots_delay(&job.url)).await else {
                    return None;
                };
                let at = now + delta(started.elapsed());
                let result = Box::pin(fetcher.fetch(&job.url, &job.validators, at)).await;
                drop(permit);
                Some((at, result))
            };
            let finished = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                r = work => r,
            };
            if let Some((at, result)) = finished {
                let _ = tx.send(Done { job, at, result }).await;
            }
        });
    }
    rx
}
