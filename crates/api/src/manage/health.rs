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

/// Ready to serve: started, not draining, every background loop working (the index open), the
/// store answers, and it can write. After a failed write (a full disk) one probe write per
/// check tells when writing works again.
pub async fn readyz(State(state): State<ManageState>) -> Result<Response, ManageError> {
    if !state.inner.ready.load(Ordering::Relaxed) {
        return Err(ManageError::NotReady("starting or shutting down".into()));
    }
    let problems = state.loop_problems();
    if !problems.is_empty() {
        return Err(ManageError::NotReady(problems.join("; ")));
    }
    let store = &state.inner.store;
    store.watermark().await?;
    if store.write_fault().is_some() && store.probe_write().await.is_err() {
        let reason = store
            .write_fault()
            .map_or_else(String::new, |f| format!(": {} ({})", f.code, f.message));
        return Err(ManageError::NotReady(format!(
            "the store cannot write{reason}"
        )));
    }
    Ok((StatusCode::OK, "ready\n").into_response())
}

pub async fn metrics(
    State(state): State<ManageState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ManageError> {
    if let Some(want) = &state.inner.spec.metrics_token_digest {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(super::auth::digest);
        if !given.is_some_and(|g| super::auth::digests_equal(&g, want)) {
            return Err(ManageError::Unauthorized);
        }
    }
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
    let _ = writeln!(
        out,
        "# HELP coalesce_sources Registered sources by fetch state (disabled ones apart)."
    );
    let _ = writeln!(out, "# TYPE coalesce_sources gauge");
    for (st, n) in &by_state {
        let _ = writeln!(out, "coalesce_sources{{state=\"{st}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP coalesce_offerings Offerings the sources held at their last fetch."
    );
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
