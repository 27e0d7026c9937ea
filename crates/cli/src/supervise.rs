//! Background loops that nobody watched stopped silently on a panic while `/readyz` stayed 200.
//! [`supervise`] runs a loop as its own task, and when the task panics it says so (log and
//! readiness) and starts a fresh one after a backoff that grows to a minute.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Where a supervised loop's health goes; `/readyz` in the service, a recorder in tests.
pub trait Health: Clone + Send + Sync + 'static {
    fn report(&self, name: &'static str, problem: Option<String>);
}

impl Health for coalesce_api::manage::ManageState {
    fn report(&self, name: &'static str, problem: Option<String>) {
        self.set_loop_health(name, problem);
    }
}

/// The first restart waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Runs `start()` as a task until it returns or `cancel` fires. A panic is logged, reported to
/// `health` as the loop's problem, and answered by a fresh `start()` after the backoff; the
/// loop itself reports `None` once it works again.
pub async fn supervise<H, F, Fut>(
    name: &'static str,
    health: H,
    cancel: CancellationToken,
    first_backoff: Duration,
    start: F,
) where
    H: Health,
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = first_backoff;
    loop {
        match tokio::spawn(start()).await {
            Ok(()) => return,
            Err(e) if e.is_panic() => {
                let what = panic_text(e.into_panic());
                tracing::error!(task = name, panic = %what, ?backoff, "background loop panicked; restarting");
                health.report(name, Some(format!("panicked ({what}); restarting")));
            }
            // Aborted from outside: nothing to restart.
            Err(_) => return,
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Option<String>>>>);

    impl Health for Recorder {
        fn report(&self, _name: &'static str, problem: Option<String>) {
            if let Ok(mut v) = self.0.lock() {
                v.push(problem);
            }
        }
    }

    #[tokio::test]
    async fn a_panicking_loop_is_reported_and_restarted_until_it_works() {
        let runs = Arc::new(AtomicUsize::new(0));
        let health = Recorder::default();
        let cancel = CancellationToken::new();
        let started = {
            let runs = Arc::clone(&runs);
            let health = health.clone();
            move || {
                let runs = Arc::clone(&runs);
                let health = health.clone();
                async move {
                    if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                        panic!("boom");
                    }
                    health.report("crawl", None);
                }
            }
        };
        supervise(
            "crawl",
            health.clone(),
            cancel,
            Duration::from_millis(1),
            started,
        )
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let reports = health.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(reports.len(), 3, "{reports:?}");
        assert!(
            reports[0].as_deref().is_some_and(|p| p.contains("boom")),
            "{reports:?}"
        );
        assert_eq!(reports[2], None, "working again clears the problem");
    }

    #[tokio::test]
    async fn cancelling_stops_the_restarts() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        supervise(
            "index",
            Recorder::default(),
            cancel,
            Duration::from_secs(3600),
            move || {
                let counted = Arc::clone(&counted);
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    panic!("always");
                }
            },
        )
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
