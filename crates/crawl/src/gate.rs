//! Politeness: one request at a time per host, with a minimum pause between two of them, plus
//! a global limit on requests in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Hands out permits to fetch from a host. Waiters on one host are served in arrival order
/// (tokio's mutex is fair), so no source of a busy host starves.
pub struct HostGate {
    min_delay: Duration,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
    global: Arc<Semaphore>,
}

/// Held for the duration of one fetch; dropping it starts the host's pause.
pub struct HostPermit {
    last: OwnedMutexGuard<Option<Instant>>,
    _global: OwnedSemaphorePermit,
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        // The pause counts from the end of a request, so a slow server also gets its breather.
        *self.last = Some(Instant::now());
    }
}

impl HostGate {
    pub fn new(concurrency: usize, min_delay: Duration) -> HostGate {
        HostGate {
            min_delay,
            hosts: Mutex::new(HashMap::new()),
            global: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Wait for the host to be free and its pause over (at least `min_delay`, or `extra`
    /// such as a robots.txt crawl-delay if longer), then for a global slot.
    pub async fn acquire(
        &self,
        host: &str,
        extra: Option<Duration>,
    ) -> Result<HostPermit, GateClosed> {
        let slot = {
            let mut hosts = match self.hosts.lock() {
                Ok(h) => h,
                Err(poisoned) => poisoned.into_inner(),
            };
            Arc::clone(hosts.entry(host.to_owned()).or_default())
        };
        let last = slot.lock_owned().await;
        let delay = self.min_delay.max(extra.unwrap_or_default());
        if let Some(prev) = *last {
            tokio::time::sleep_until(prev + delay).await;
        }
        // The host slot is taken first so waiting for politeness never holds a global slot.
        let global = Arc::clone(&self.global)
            .acquire_owned()
            .await
            .map_err(|_| GateClosed)?;
        Ok(HostPermit {
            last,
            _global: global,
        })
    }

    /// Shutting down: every waiter, present and future, gets `GateClosed` and should stop
    /// claiming work; fetches already holding a permit finish.
    pub fn close(&self) {
        self.global.close();
    }
}

/// The gate was closed for shutdown.
#[derive(Debug, thiserror::Error)]
#[error("crawl is shutting down")]
pub struct GateClosed;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_serial_and_spaced() {
        let gate = Arc::new(HostGate::new(8, Duration::from_millis(100)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let g = Arc::clone(&gate);
            tasks.push(tokio::spawn(async move {
                let _p = g.acquire("a.example", None).await.unwrap();
                let t = Instant::now();
                tokio::time::sleep(Duration::from_millis(50)).await;
                t
            }));
        }
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap() - start);
        }
        starts.sort();
        assert_eq!(starts[0], Duration::ZERO);
        assert_eq!(starts[1], Duration::from_millis(150));
        assert_eq!(starts[2], Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn different_hosts_proceed_in_parallel_up_to_the_global_limit() {
        let gate = Arc::new(HostGate::new(2, Duration::from_millis(100)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for h in ["a", "b", "c"] {
            let g = Arc::clone(&gate);
            tasks.push(tokio::spawn(async move {
                let _p = g.acquire(h, None).await.unwrap();
                let t = Instant::now();
                tokio::time::sleep(Duration::from_millis(50)).await;
                t
            }));
        }
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap() - start);
        }
        starts.sort();
        assert_eq!(
            starts,
            [Duration::ZERO, Duration::ZERO, Duration::from_millis(50)]
        );
    }
}
