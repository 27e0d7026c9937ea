//! Liveness, readiness and the metrics scrape.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ManageState;
use super::error::ManageError;

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to serve: started, not draining, and the store answers.
pub async fn readyz(State(state): State<ManageState>) -> Result<Response, ManageError> {
    if !state.inner.ready.load(Ordering::Relaxed) {
        return Err(ManageError::NotReady("starting or shutting down"));
    }
    state.inner.store.watermark().await?;
    Ok((StatusCode::OK, "ready\n").into_response())
}

pub async fn metrics(State(state): State<ManageState>) -> Result<Response, ManageError> {
    let mut out = String::new();
    state.inner.metrics.render(&mut out);
    let sources = state.inner.store.sources().await?;
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    let mut offerings = 0i64;
    for s in &sources {
        let key = if s.enabled {
            s.status.status.clone()
        } else {
            "disabled".to_owned()
        };
        *by_state.entry(key).or_default() += 1;
        offerings += s.status.offerings_count;
    }
    let _ = writeln!(out, "# TYPE coalesce_sources gauge");
    for (st, n) in &by_state {
        let _ = writeln!(out, "coalesce_sources{{state=\"{st}\"}} {n}");
    }
    let _ = writeln!(out, "# TYPE coalesce_offerings gauge");
    let _ = writeln!(out, "coalesce_offerings {offerings}");
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
