//! The store suite: every case is a generic fn over [`Backend`], instantiated once per backend by
//! `suite!`. PostgreSQL joins with one more `suite!` line and a `Backend` impl.

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use coalesce_core::{Cost, KeyKind, Occurrence, Offering, Sector, Status};
use coalesce_store::*;

/// What a case needs from a backend: a fresh store, and the same database opened again.
trait Backend: Sized {
    async fn open(options: StoreOptions) -> Self;
    fn store(&self) -> &Store;
    async fn reopen(&mut self);
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
    options: StoreOptions,
    store: Store,
}

impl Backend for Sqlite {
    async fn open(options: StoreOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coalesce.db");
        let store = Store::open_sqlite(&path, options.clone()).await.unwrap();
        Sqlite {
            _dir: dir,
            path,
            options,
            store,
        }
    }
    fn store(&self) -> &Store {
        &self.store
    }
    async fn reopen(&mut self) {
        self.store.close().await;
        self.store = Store::open_sqlite(&self.path, self.options.clone())
            .await
            .unwrap();
    }
}

macro_rules! suite {
    ($backend:ident: $ty:ty; $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case::<$ty>().await;
                }
            )*
        }
    };
}

suite!(sqlite: super::Sqlite;
    new_items_are_created_at_sequence_zero_and_logged,
    unchanged_reapply_writes_nothing,
    edit_bumps_sequence_and_updated_at,
    source_restamping_alone_is_not_an_edit,
    missing_item_is_removed_only_after_k_healthy_absences,
    removal_threshold_is_configurable,
    item_back_before_k_is_not_removed,
    tombstone_comes_back_to_life_with_a_new_sequence,
    failed_fetch_removes_nothing_and_counts_failures,
    empty_fetch_removes_nothing_and_records_an_anomaly,
    shrunken_fetch_removes_nothing_and_records_an_anomaly,
    not_modified_before_any_success_is_an_error,
    not_modified_after_success_keeps_everything,
    reused_keys_of_another_provider_never_overwrite_it,
    repeated_key_in_one_document_is_collapsed,
    churning_feed_is_capped_per_fetch,
    change_log_is_monotonic_and_resumable,
    concurrent_writers_never_see_busy,
    migrations_are_idempotent_on_reopen,
    api_keys_verify_by_digest_and_revoke,
    clusters_replace_and_log_only_moves,
    block_candidates_by_start_window,
    source_status_is_plain_data,
    paused_source_is_never_due_until_resumed,
    confirmed_redirect_moves_the_url_in_the_same_transaction,
    fetch_history_keeps_the_newest_and_survives_reopen,
    provider_sees_and_revokes_only_its_own_keys,
    refresh_requested_during_a_fetch_outlives_it,
    missing_upcoming_item_stays_until_its_sessions_are_over,
    provider_removes_one_offering_of_its_source,
    provider_declares_sectors_and_audience,
    changed_provider_defaults_make_the_next_fetch_parse_again,
    changed_source_settings_make_the_next_fetch_parse_again,
);

fn t(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::hours(hours)
}

/// When the helper's offerings take place: before every `t(..)`, so their sessions are over
/// and the K-absence rule alone decides removal (upcoming items are tested separately).
fn session_day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
}

fn offering(key: &str, title: &str) -> Offering {
    let start = (session_day() + Duration::hours(15)).fixed_offset();
    Offering {
        source_key: key.to_string(),
        key_kind: KeyKind::Guid,
        title: title.to_string(),
        summary: Some(format!("about {title}")),
        description_html: None,
        language: Some("en".into()),
        occurrences: vec![Occurrence {
            start,
            end: Some(start + Duration::hours(1)),
            all_day: false,
            cancelled: false,
            date_source: coalesce_core::DateSource::Structured,
            recurrence_id: None,
        }],
        recurring: false,
        timezone: Some("America/New_York".into()),
        modality: None,
        location: None,
        online_url: None,
        url: Some(format!("https://example.org/{key}")),
        registration_url: None,
        image_url: None,
        cost: Cost::default(),
        credits: Vec::new(),
        sectors: Vec::new(),
        audience_level: None,
        topics: Vec::new(),
        categories: Vec::new(),
        organizer: None,
        status: Status::Scheduled,
        source_sequence: 0,
        updated_at: None,
        published_at: None,
    }
}

fn feed(keys: std::ops::Range<usize>) -> Vec<Offering> {
    keys.map(|i| offering(&format!("k{i}"), &format!("Webinar {i}")))
        .collect()
}

fn fetched(offerings: Vec<Offering>) -> FetchResult {
    FetchResult::Fetched(Snapshot::new(offerings, 0))
}

async fn source(store: &Store, provider: &str, name: &str) -> SourceId {
    let p = store.ensure_provider(provider, None, t(0)).await.unwrap();
    store
        .upsert_source(
            &NewSource {
                provider_id: p.id,
                name: name.to_string(),
                url: format!("https://{provider}.example/{name}.xml"),
                kind: Some("rss".into()),
                settings: serde_json::json!({"timezone": "America/Chicago"}),
            },
            t(0),
        )
        .await
        .unwrap()
}

async fn all(store: &Store, source: SourceId) -> Vec<StoredOffering> {
    store
        .offerings(&OfferingFilter {
            source_id: Some(source),
            include_removed: true,
            ..OfferingFilter::default()
        })
        .await
        .unwrap()
}

async fn by_key(store: &Store, source: SourceId, key: &str) -> StoredOffering {
    all(store, source)
        .await
        .into_iter()
        .find(|o| o.offering.source_key == key)
        .unwrap()
}

mod cases {
    use super::*;

    pub async fn new_items_are_created_at_sequence_zero_and_logged<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let sum = s.apply(src, &fetched(feed(0..3)), t(1)).await.unwrap();
        assert_eq!((sum.new, sum.updated, sum.unchanged), (3, 0, 0));
        assert_eq!(sum.anomaly, None);
        assert_eq!(sum.changed.len(), 3);
        let rows = all(s, src).await;
        assert_eq!(rows.len(), 3);
        for r in &rows {
            assert_eq!(r.sequence, 0);
            assert_eq!(r.first_seen, t(1));
            assert_eq!(r.updated_at, t(1));
            assert_eq!(r.provider, "nedcc");
            assert_eq!(r.removed_at, None);
        }
        let changes = s.changes_since(0, 100).await.unwrap();
        assert_eq!(changes.len(), 3);
        assert!(changes.iter().all(|c| c.kind == ChangeKind::Created));
        let round_trip = s.offering(&rows[0].id).await.unwrap().unwrap();
        assert_eq!(round_trip, rows[0]);
    }

    pub async fn unchanged_reapply_writes_nothing<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..50)), t(1)).await.unwrap();
        let before = all(s, src).await;
        let mark = s.watermark().await.unwrap();
        let sum = s.apply(src, &fetched(feed(0..50)), t(2)).await.unwrap();
        assert_eq!((sum.new, sum.updated, sum.unchanged), (0, 0, 50));
        assert!(sum.changed.is_empty());
        assert_eq!(s.watermark().await.unwrap(), mark, "no change-log rows");
        let after = all(s, src).await;
        for (a, b) in before.iter().zip(&after) {
            assert_eq!(a.sequence, b.sequence);
            assert_eq!(a.updated_at, b.updated_at);
            assert_eq!(a.content_hash, b.content_hash);
            assert_eq!(a.offering, b.offering);
            // Seen again, though no row was rewritten.
            assert_eq!(b.last_seen, t(2));
        }
    }

    pub async fn edit_bumps_sequence_and_updated_at<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..3)), t(1)).await.unwrap();
        let mut edited = feed(0..3);
        edited[1].title = "Webinar 1 (new date)".into();
        edited[1].occurrences[0].start += Duration::days(7);
        let sum = s.apply(src, &fetched(edited.clone()), t(2)).await.unwrap();
        assert_eq!((sum.updated, sum.unchanged), (1, 2));
        let row = by_key(s, src, "k1").await;
        assert_eq!(row.sequence, 1);
        assert_eq!(row.updated_at, t(2));
        assert_eq!(row.first_seen, t(1));
        assert_eq!(row.offering.title, "Webinar 1 (new date)");
        edited[1].title = "Webinar 1 (third title)".into();
        s.apply(src, &fetched(edited), t(3)).await.unwrap();
        assert_eq!(by_key(s, src, "k1").await.sequence, 2);
        assert_eq!(by_key(s, src, "k0").await.sequence, 0);
        let kinds: Vec<ChangeKind> = s
            .changes_since(3, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(kinds, vec![ChangeKind::Updated, ChangeKind::Updated]);
    }

    pub async fn source_restamping_alone_is_not_an_edit<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..2)), t(1)).await.unwrap();
        let mut restamped = feed(0..2);
        for o in &mut restamped {
            o.updated_at = Some(t(2));
            o.source_sequence = 4;
        }
        let sum = s.apply(src, &fetched(restamped), t(2)).await.unwrap();
        assert_eq!((sum.updated, sum.unchanged), (0, 2));
    }

    pub async fn missing_item_is_removed_only_after_k_healthy_absences<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..10)), t(1)).await.unwrap();
        for (i, hour) in [2, 3].into_iter().enumerate() {
            let sum = s.apply(src, &fetched(feed(0..9)), t(hour)).await.unwrap();
            assert_eq!((sum.absent, sum.removed), (1, 0), "fetch {i}");
            let row = by_key(s, src, "k9").await;
            assert_eq!(row.removed_at, None);
            assert_eq!(row.absent_count, i as i64 + 1);
            // Last seen in the first fetch, not at the later ones it was missing from.
            assert_eq!(row.last_seen, t(1));
        }
        // A failure between healthy fetches does not count as an absence.
        s.apply(src, &FetchResult::Failed(failure()), t(4))
            .await
            .unwrap();
        assert_eq!(by_key(s, src, "k9").await.absent_count, 2);
        let sum = s.apply(src, &fetched(feed(0..9)), t(5)).await.unwrap();
        assert_eq!((sum.absent, sum.removed), (0, 1));
        let row = by_key(s, src, "k9").await;
        assert_eq!(row.removed_at, Some(t(5)));
        assert_eq!(sum.changed, vec![row.id.clone()]);
        let live = s
            .offerings(&OfferingFilter {
                source_id: Some(src),
                ..OfferingFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(live.len(), 9, "tombstones are hidden from live listings");
        let last = s.changes_since(0, 1000).await.unwrap();
        assert_eq!(last.last().map(|c| c.kind), Some(ChangeKind::Removed));
    }

    pub async fn missing_upcoming_item_stays_until_its_sessions_are_over<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let mut items = feed(0..10);
        // k9 takes place at t(100)..t(101); k8 is on demand (no sessions).
        let at = (t(100)).fixed_offset();
        items[9].occurrences = vec![Occurrence {
            start: at,
            end: Some(at + Duration::hours(1)),
            all_day: false,
            cancelled: false,
            date_source: coalesce_core::DateSource::Structured,
            recurrence_id: None,
        }];
        items[8].occurrences.clear();
        s.apply(src, &fetched(items), t(1)).await.unwrap();
        // Both go missing for far more than K healthy fetches before k9's session.
        for hour in 2..8 {
            s.apply(src, &fetched(feed(0..8)), t(hour)).await.unwrap();
        }
        assert!(
            by_key(s, src, "k9").await.removed_at.is_none(),
            "an upcoming item was removed for being missing"
        );
        assert!(by_key(s, src, "k9").await.absent_count >= 3);
        // The undated one had no session to wait for.
        assert_eq!(by_key(s, src, "k8").await.removed_at, Some(t(4)));
        // Still missing once its session is over: removed at the next healthy fetch.
        let sum = s.apply(src, &fetched(feed(0..8)), t(102)).await.unwrap();
        assert_eq!(sum.removed, 1);
        assert_eq!(by_key(s, src, "k9").await.removed_at, Some(t(102)));
    }

    pub async fn provider_removes_one_offering_of_its_source<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let other = source(s, "saa", "webinars").await;
        s.apply(src, &fetched(feed(0..3)), t(1)).await.unwrap();
        let id = by_key(s, src, "k1").await.id;
        let before = s.watermark().await.unwrap();
        // Through another source: nothing happens.
        assert!(!s.remove_offering(other, &id, t(2)).await.unwrap());
        assert!(s.remove_offering(src, &id, t(2)).await.unwrap());
        assert!(
            !s.remove_offering(src, &id, t(3)).await.unwrap(),
            "already removed"
        );
        assert_eq!(by_key(s, src, "k1").await.removed_at, Some(t(2)));
        let log = s.changes_since(before, 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(
            (&log[0].offering_id, log[0].kind),
            (&id, ChangeKind::Removed)
        );
        // Gone from the feed too, it stays removed; listed again, it comes back.
        s.apply(
            src,
            &fetched(vec![
                offering("k0", "Webinar 0"),
                offering("k2", "Webinar 2"),
            ]),
            t(4),
        )
        .await
        .unwrap();
        assert!(by_key(s, src, "k1").await.removed_at.is_some());
        s.apply(src, &fetched(feed(0..3)), t(5)).await.unwrap();
        assert!(by_key(s, src, "k1").await.removed_at.is_none());
    }

    pub async fn removal_threshold_is_configurable<B: Backend>() {
        let options = StoreOptions {
            policy: ApplyPolicy {
                removal_after_absences: 1,
                ..ApplyPolicy::default()
            },
            ..StoreOptions::default()
        };
        let b = B::open(options).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..10)), t(1)).await.unwrap();
        let sum = s.apply(src, &fetched(feed(0..9)), t(2)).await.unwrap();
        assert_eq!(sum.removed, 1);
    }

    pub async fn item_back_before_k_is_not_removed<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..10)), t(1)).await.unwrap();
        s.apply(src, &fetched(feed(0..9)), t(2)).await.unwrap();
        s.apply(src, &fetched(feed(0..9)), t(3)).await.unwrap();
        let mark = s.watermark().await.unwrap();
        let sum = s.apply(src, &fetched(feed(0..10)), t(4)).await.unwrap();
        assert_eq!((sum.unchanged, sum.removed), (10, 0));
        assert_eq!(s.watermark().await.unwrap(), mark);
        let row = by_key(s, src, "k9").await;
        assert_eq!((row.absent_count, row.last_seen), (0, t(4)));
        // The count starts over: two more absences do not remove it.
        s.apply(src, &fetched(feed(0..9)), t(5)).await.unwrap();
        s.apply(src, &fetched(feed(0..9)), t(6)).await.unwrap();
        assert_eq!(by_key(s, src, "k9").await.removed_at, None);
    }

    pub async fn tombstone_comes_back_to_life_with_a_new_sequence<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..10)), t(1)).await.unwrap();
        for h in 2..5 {
            s.apply(src, &fetched(feed(0..9)), t(h)).await.unwrap();
        }
        let dead = by_key(s, src, "k9").await;
        assert!(dead.removed_at.is_some());
        let sum = s.apply(src, &fetched(feed(0..10)), t(5)).await.unwrap();
        assert_eq!((sum.restored, sum.new), (1, 0));
        let alive = by_key(s, src, "k9").await;
        assert_eq!(alive.id, dead.id, "same record, not a new one");
        assert_eq!(alive.removed_at, None);
        assert_eq!(alive.sequence, dead.sequence + 1);
        assert_eq!(alive.first_seen, t(1));
        let last = s.changes_since(0, 1000).await.unwrap();
        assert_eq!(last.last().map(|c| c.kind), Some(ChangeKind::Restored));
    }

    fn failure() -> FetchFailure {
        FetchFailure {
            code: "http_status".into(),
            message: "server answered 503".into(),
            http_status: Some(503),
        }
    }

    pub async fn failed_fetch_removes_nothing_and_counts_failures<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..5)), t(1)).await.unwrap();
        let mark = s.watermark().await.unwrap();
        for h in 2..7 {
            let sum = s
                .apply(src, &FetchResult::Failed(failure()), t(h))
                .await
                .unwrap();
            assert_eq!(
                sum.anomaly,
                Some(Anomaly::FetchFailed {
                    error_code: "http_status".into()
                })
            );
        }
        assert_eq!(s.watermark().await.unwrap(), mark);
        assert!(all(s, src).await.iter().all(|o| o.removed_at.is_none()));
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.status, "failed");
        assert_eq!(st.consecutive_failures, 5);
        assert_eq!(st.last_error_code.as_deref(), Some("http_status"));
        assert_eq!(st.http_status, Some(503));
        assert_eq!(st.last_success_at, Some(t(1)));
        assert_eq!(st.last_attempt_at, Some(t(6)));
        s.apply(src, &fetched(feed(0..5)), t(7)).await.unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!((st.status.as_str(), st.consecutive_failures), ("ok", 0));
    }

    pub async fn empty_fetch_removes_nothing_and_records_an_anomaly<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..5)), t(1)).await.unwrap();
        for h in 2..8 {
            let sum = s.apply(src, &fetched(Vec::new()), t(h)).await.unwrap();
            assert_eq!(sum.anomaly, Some(Anomaly::Empty { previously_live: 5 }));
            assert_eq!((sum.removed, sum.absent), (0, 0));
        }
        let rows = all(s, src).await;
        assert!(
            rows.iter()
                .all(|o| o.removed_at.is_none() && o.absent_count == 0)
        );
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.status, "anomaly");
        assert_eq!(st.last_anomaly_code.as_deref(), Some("empty_fetch"));
        assert_eq!(st.offerings_count, 5);
    }

    pub async fn shrunken_fetch_removes_nothing_and_records_an_anomaly<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..200)), t(1)).await.unwrap();
        for h in 2..6 {
            let sum = s.apply(src, &fetched(feed(0..2)), t(h)).await.unwrap();
            assert_eq!(
                sum.anomaly,
                Some(Anomaly::Shrunk {
                    previously_live: 200,
                    missing: 198
                })
            );
            assert_eq!((sum.removed, sum.absent, sum.unchanged), (0, 0, 2));
        }
        assert_eq!(
            all(s, src)
                .await
                .iter()
                .filter(|o| o.removed_at.is_none())
                .count(),
            200
        );
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.last_anomaly_code.as_deref(), Some("shrunken_fetch"));
        // An ordinary loss (half the items) is healthy and starts counting absences.
        let sum = s.apply(src, &fetched(feed(0..100)), t(7)).await.unwrap();
        assert_eq!((sum.anomaly, sum.absent), (None, 100));
    }

    pub async fn not_modified_before_any_success_is_an_error<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let sum = s
            .apply(
                src,
                &FetchResult::NotModified {
                    http_status: Some(304),
                },
                t(1),
            )
            .await
            .unwrap();
        assert_eq!(sum.anomaly, Some(Anomaly::UnexpectedNotModified));
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.status, "failed");
        assert_eq!(
            st.last_error_code.as_deref(),
            Some("unexpected_not_modified")
        );
    }

    pub async fn not_modified_after_success_keeps_everything<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..4)), t(1)).await.unwrap();
        let mark = s.watermark().await.unwrap();
        let sum = s
            .apply(
                src,
                &FetchResult::NotModified {
                    http_status: Some(304),
                },
                t(2),
            )
            .await
            .unwrap();
        assert_eq!(sum, ApplySummary::default());
        assert_eq!(s.watermark().await.unwrap(), mark);
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(
            (st.status.as_str(), st.last_success_at),
            ("not_modified", Some(t(2)))
        );
        assert!(all(s, src).await.iter().all(|o| o.last_seen == t(2)));
    }

    pub async fn reused_keys_of_another_provider_never_overwrite_it<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let a = source(s, "saa", "events").await;
        let m = source(s, "mallory", "events").await;
        s.apply(a, &fetched(feed(0..3)), t(1)).await.unwrap();
        let mut hostile = feed(0..3);
        for o in &mut hostile {
            o.title = "Buy cheap watches".into();
        }
        let sum = s.apply(m, &fetched(hostile), t(2)).await.unwrap();
        assert_eq!(sum.new, 3, "own rows, not updates of the other provider's");
        let theirs = all(s, a).await;
        assert!(
            theirs
                .iter()
                .all(|o| o.offering.title.starts_with("Webinar"))
        );
        assert!(
            theirs
                .iter()
                .all(|o| o.sequence == 0 && o.provider == "saa")
        );
        let mine = all(s, m).await;
        let ids: HashSet<_> = theirs.iter().chain(&mine).map(|o| o.id.clone()).collect();
        assert_eq!(ids.len(), 6);
        // And the other provider's next fetch still sees its own items unchanged.
        let sum = s.apply(a, &fetched(feed(0..3)), t(3)).await.unwrap();
        assert_eq!(sum.unchanged, 3);
    }

    pub async fn repeated_key_in_one_document_is_collapsed<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let doc: Vec<Offering> = (0..1000)
            .map(|i| offering("same-guid", &format!("Copy {i}")))
            .collect();
        let sum = s.apply(src, &fetched(doc), t(1)).await.unwrap();
        assert_eq!((sum.new, sum.duplicate_keys), (1, 999));
        assert_eq!(by_key(s, src, "same-guid").await.offering.title, "Copy 999");
    }

    pub async fn churning_feed_is_capped_per_fetch<B: Backend>() {
        let options = StoreOptions {
            policy: ApplyPolicy {
                max_new_per_fetch: 20,
                ..ApplyPolicy::default()
            },
            ..StoreOptions::default()
        };
        let b = B::open(options).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        // The first fetch of a source is not capped: a big catalog is not churn.
        assert_eq!(
            s.apply(src, &fetched(feed(0..100)), t(1))
                .await
                .unwrap()
                .new,
            100
        );
        let sum = s.apply(src, &fetched(feed(0..200)), t(2)).await.unwrap();
        assert_eq!(sum.new, 20);
        assert_eq!(
            sum.anomaly,
            Some(Anomaly::TooManyNew {
                offered: 100,
                accepted: 20
            })
        );
    }

    pub async fn change_log_is_monotonic_and_resumable<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..30)), t(1)).await.unwrap();
        let mut edited = feed(0..30);
        edited[3].title = "changed".into();
        s.apply(src, &fetched(edited), t(2)).await.unwrap();
        let everything = s.changes_since(0, 1000).await.unwrap();
        assert_eq!(everything.len(), 31);
        assert!(everything.windows(2).all(|w| w[0].seq < w[1].seq));
        // A follower reading in pages of 7 sees exactly the same sequence.
        let mut mark = 0;
        let mut paged = Vec::new();
        loop {
            let page = s.changes_since(mark, 7).await.unwrap();
            let Some(last) = page.last() else { break };
            mark = last.seq;
            paged.extend(page);
        }
        assert_eq!(paged, everything);
        assert_eq!(s.watermark().await.unwrap(), mark);
    }

    pub async fn concurrent_writers_never_see_busy<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store().clone();
        let mut sources = Vec::new();
        for i in 0..16 {
            sources.push(source(&s, &format!("p{i}"), "events").await);
        }
        let mut tasks = Vec::new();
        for (i, src) in sources.iter().copied().enumerate() {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..5_i64 {
                    let mut items = feed(0..100);
                    items[round as usize].title = format!("edit {round}");
                    s.apply(src, &fetched(items), t(round)).await?;
                }
                let _ = i;
                Ok::<_, StoreError>(())
            }));
        }
        // A reader running alongside must not block the writers either (WAL).
        let reader = {
            let s = s.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    s.offerings(&OfferingFilter::default()).await?;
                }
                Ok::<_, StoreError>(())
            })
        };
        for task in tasks {
            let r = task.await.unwrap();
            assert!(r.is_ok(), "writer failed: {:?}", r.err().map(|e| e.code()));
        }
        reader.await.unwrap().unwrap();
        let live = s.offerings(&OfferingFilter::default()).await.unwrap();
        assert_eq!(live.len(), 1600);
        let changes = s.changes_since(0, 100_000).await.unwrap();
        assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    }

    pub async fn migrations_are_idempotent_on_reopen<B: Backend>() {
        let mut b = B::open(StoreOptions::default()).await;
        let src = source(b.store(), "nedcc", "events").await;
        b.store()
            .apply(src, &fetched(feed(0..5)), t(1))
            .await
            .unwrap();
        let before = all(b.store(), src).await;
        b.reopen().await;
        b.reopen().await;
        let s = b.store();
        assert_eq!(all(s, src).await, before, "ids and rows survive restarts");
        let sum = s.apply(src, &fetched(feed(0..5)), t(2)).await.unwrap();
        assert_eq!(sum.unchanged, 5);
        // Registering the same source again updates it rather than making a second one.
        assert_eq!(source(s, "nedcc", "events").await, src);
        assert_eq!(s.sources().await.unwrap().len(), 1);
    }

    pub async fn api_keys_verify_by_digest_and_revoke<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let p = s
            .ensure_provider("nedcc", Some("NEDCC"), t(0))
            .await
            .unwrap();
        let key = s
            .add_api_key(p.id, "ck_live_secret_1", Some("ci"), None, t(0))
            .await
            .unwrap();
        assert_eq!(
            s.authenticate_api_key("ck_live_secret_1", t(2))
                .await
                .unwrap()
                .map(|u| u.provider),
            Some(p.id)
        );
        assert_eq!(
            s.authenticate_api_key("ck_live_secret_2", t(2))
                .await
                .unwrap()
                .map(|u| u.provider),
            None
        );
        assert!(s.revoke_api_key(key, t(1)).await.unwrap());
        assert_eq!(
            s.authenticate_api_key("ck_live_secret_1", t(2))
                .await
                .unwrap()
                .map(|u| u.provider),
            None
        );
        let err = s
            .add_api_key(ProviderId(999), "x", None, None, t(0))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "unknown_provider");
    }

    pub async fn fetch_history_keeps_the_newest_and_survives_reopen<B: Backend>() {
        let mut b = B::open(StoreOptions::default()).await;
        let src = source(b.store(), "nedcc", "events").await;
        let other = source(b.store(), "saa", "webinars").await;
        for i in 0..7u64 {
            let log = FetchLog {
                at: t(i as i64),
                outcome: if i % 2 == 0 { "fresh" } else { "http_status" }.to_owned(),
                http_status: Some(if i % 2 == 0 { 200 } else { 503 }),
                message: (i % 2 == 1).then(|| format!("server said 503 ({i})")),
                offerings: i,
                new: i,
                updated: 0,
                removed: 0,
                warnings: [("missing_start".to_owned(), i)].into_iter().collect(),
            };
            b.store().record_fetch(src, &log, 5).await.unwrap();
        }
        let one = FetchLog {
            at: t(0),
            outcome: "timeout".to_owned(),
            ..FetchLog::default()
        };
        b.store().record_fetch(other, &one, 5).await.unwrap();
        b.reopen().await;
        let s = b.store();
        let h = s.fetch_history(src, 100).await.unwrap();
        // Pruned to the newest five, newest first, every field round-tripped.
        assert_eq!(
            h.iter().map(|l| l.offerings).collect::<Vec<_>>(),
            vec![6, 5, 4, 3, 2]
        );
        assert_eq!(h[0].at, t(6));
        assert_eq!(h[1].outcome, "http_status");
        assert_eq!(h[1].http_status, Some(503));
        assert_eq!(h[1].message.as_deref(), Some("server said 503 (5)"));
        assert_eq!(h[0].warnings.get("missing_start"), Some(&6));
        assert_eq!(s.fetch_history(src, 2).await.unwrap().len(), 2);
        // Another source's history is its own.
        assert_eq!(s.fetch_history(other, 100).await.unwrap(), vec![one]);
        // A deleted source takes its history with it, and a late report is no error.
        s.delete_source(other, t(8)).await.unwrap();
        s.record_fetch(other, &FetchLog::default(), 5)
            .await
            .unwrap();
        assert!(s.fetch_history(other, 100).await.unwrap().is_empty());
    }

    pub async fn provider_sees_and_revokes_only_its_own_keys<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let a = s.ensure_provider("nedcc", None, t(0)).await.unwrap();
        let z = s.ensure_provider("saa", None, t(0)).await.unwrap();
        let a1 = s
            .add_api_key(a.id, "ck_a1", Some("laptop"), None, t(0))
            .await
            .unwrap();
        let a2 = s
            .add_api_key(a.id, "ck_a2", None, None, t(1))
            .await
            .unwrap();
        let z1 = s
            .add_api_key(z.id, "ck_z1", None, None, t(1))
            .await
            .unwrap();
        let keys = s.api_keys(a.id).await.unwrap();
        assert_eq!(keys.iter().map(|k| k.id).collect::<Vec<_>>(), vec![a2, a1]);
        assert_eq!(keys[1].label.as_deref(), Some("laptop"));
        // Another provider's key cannot be revoked through this provider.
        assert!(!s.revoke_own_api_key(a.id, z1, t(2)).await.unwrap());
        assert_eq!(
            s.authenticate_api_key("ck_z1", t(2))
                .await
                .unwrap()
                .map(|u| u.provider),
            Some(z.id)
        );
        assert!(s.revoke_own_api_key(a.id, a1, t(2)).await.unwrap());
        // Twice is a no-op.
        assert!(!s.revoke_own_api_key(a.id, a1, t(3)).await.unwrap());
        assert_eq!(
            s.authenticate_api_key("ck_a1", t(2))
                .await
                .unwrap()
                .map(|u| u.provider),
            None
        );
        assert_eq!(
            s.authenticate_api_key("ck_a2", t(2))
                .await
                .unwrap()
                .map(|u| u.provider),
            Some(a.id)
        );
        let keys = s.api_keys(a.id).await.unwrap();
        assert_eq!(keys[1].revoked_at, Some(t(2)));
        assert_eq!(keys[0].revoked_at, None);
    }

    fn cluster(id: &str, members: &[&OfferingId]) -> Cluster {
        Cluster {
            id: ClusterId(id.into()),
            canonical: members[0].clone(),
            members: members
                .iter()
                .map(|m| ClusterMember {
                    offering_id: (*m).clone(),
                    explanation: serde_json::json!({"signals": ["start", "title"]}),
                })
                .collect(),
            explanation: serde_json::json!({"rule": "test"}),
        }
    }

    pub async fn clusters_replace_and_log_only_moves<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let a = source(s, "saa", "events").await;
        let c = source(s, "lyrasis", "events").await;
        s.apply(a, &fetched(feed(0..2)), t(1)).await.unwrap();
        s.apply(c, &fetched(feed(0..2)), t(1)).await.unwrap();
        let a0 = by_key(s, a, "k0").await.id;
        let c0 = by_key(s, c, "k0").await.id;
        let c1 = by_key(s, c, "k1").await.id;
        let mark = s.watermark().await.unwrap();
        let first = [cluster("c1", &[&a0, &c0])];
        assert_eq!(
            s.replace_clusters(std::slice::from_ref(&a0), &first, t(2))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            by_key(s, a, "k0").await.cluster_id,
            Some(ClusterId("c1".into()))
        );
        // The same answer again logs nothing.
        assert_eq!(
            s.replace_clusters(std::slice::from_ref(&a0), &first, t(3))
                .await
                .unwrap(),
            0
        );
        assert_eq!(s.watermark().await.unwrap(), mark + 2);
        // c0 leaves, c1 joins: c0 and c1 move, a0 stays where it was.
        let second = [cluster("c1", &[&a0, &c1])];
        assert_eq!(
            s.replace_clusters(std::slice::from_ref(&c0), &second, t(4))
                .await
                .unwrap(),
            2
        );
        let got = s.cluster(&ClusterId("c1".into())).await.unwrap().unwrap();
        let mut members: Vec<_> = got.members.iter().map(|m| m.offering_id.clone()).collect();
        members.sort();
        let mut want = vec![a0.clone(), c1.clone()];
        want.sort();
        assert_eq!(members, want);
        assert_eq!(got.members[0].explanation["signals"][0], "start");
        assert_eq!(by_key(s, c, "k0").await.cluster_id, None);
        assert_eq!(s.clusters().await.unwrap().len(), 1);
        // Dissolving: no clusters for the affected offerings.
        s.replace_clusters(std::slice::from_ref(&a0), &[], t(5))
            .await
            .unwrap();
        assert!(s.clusters().await.unwrap().is_empty());
        let bad = [cluster("c9", &[&a0, &OfferingId("nope".into())])];
        let err = s.replace_clusters(&[], &bad, t(6)).await.unwrap_err();
        assert_eq!(err.code(), "cluster_member_missing");
    }

    pub async fn block_candidates_by_start_window<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let mut items = feed(0..3);
        items[2].occurrences[0].start += Duration::days(30);
        s.apply(src, &fetched(items), t(1)).await.unwrap();
        let day = session_day();
        let hits = s
            .offerings_starting_between(day, day + Duration::days(1))
            .await
            .unwrap();
        let keys: Vec<_> = hits
            .iter()
            .map(|o| o.offering.source_key.as_str())
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(!keys.contains(&"k2"));
        let ids: Vec<OfferingId> = hits.iter().map(|o| o.id.clone()).collect();
        assert_eq!(s.offerings_by_ids(&ids).await.unwrap().len(), 2);
    }

    pub async fn source_status_is_plain_data<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let fresh = s.source(src).await.unwrap().unwrap();
        assert_eq!(fresh.status.status, "never");
        assert_eq!(fresh.settings["timezone"], "America/Chicago");
        assert_eq!(s.due_sources(t(0), 10).await.unwrap(), vec![src]);
        let snap = Snapshot {
            offerings: feed(0..3),
            warnings: 2,
            http_status: Some(200),
            etag: Some("\"v1\"".into()),
            last_modified: Some("Sun, 01 Mar 2026 11:00:00 GMT".into()),
            content_hash: Some("sha256:abc".into()),
            platform: Some("libcal".into()),
        };
        s.apply(src, &FetchResult::Fetched(snap), t(1))
            .await
            .unwrap();
        s.set_next_due(src, t(3)).await.unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.etag.as_deref(), Some("\"v1\""));
        assert_eq!(st.content_hash.as_deref(), Some("sha256:abc"));
        assert_eq!((st.offerings_count, st.warnings_count), (3, 2));
        assert_eq!(st.http_status, Some(200));
        assert_eq!(st.platform.as_deref(), Some("libcal"));
        assert_eq!(st.next_due_at, Some(t(3)));
        assert!(s.due_sources(t(2), 10).await.unwrap().is_empty());
        assert_eq!(s.due_sources(t(3), 10).await.unwrap(), vec![src]);
        let err = s
            .apply(SourceId(999), &fetched(Vec::new()), t(1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "unknown_source");
    }

    pub async fn provider_declares_sectors_and_audience<B: Backend>() {
        let mut b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let p = s.ensure_provider("ihma", Some("IHMA"), t(0)).await.unwrap();
        assert!(
            p.sectors.is_empty(),
            "none declared until the provider says"
        );
        assert_eq!(p.audience, None);
        let patch = ProviderPatch {
            sectors: Some(vec![Sector::Museums, Sector::Archives, Sector::Museums]),
            audience: Some(Some("staff of small museums".into())),
        };
        let p = s.update_provider("ihma", &patch).await.unwrap().unwrap();
        assert_eq!(
            p.sectors,
            vec![Sector::Archives, Sector::Museums],
            "sorted, no repeats"
        );
        assert_eq!(p.audience.as_deref(), Some("staff of small museums"));
        // A patch that names only the audience keeps the sectors; clearing it is explicit.
        let only_audience = ProviderPatch {
            audience: Some(None),
            ..ProviderPatch::default()
        };
        let p = s
            .update_provider("ihma", &only_audience)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.sectors, vec![Sector::Archives, Sector::Museums]);
        assert_eq!(p.audience, None);
        assert!(s.update_provider("nobody", &patch).await.unwrap().is_none());
        // Listed, found by name, carried with its sources, and kept across a reopen.
        let src = source(s, "ihma", "programs").await;
        b.reopen().await;
        let s = b.store();
        let listed = s.providers().await.unwrap();
        assert_eq!(listed[0].sectors, vec![Sector::Archives, Sector::Museums]);
        let by_name = s.provider_by_name("ihma").await.unwrap().unwrap();
        assert_eq!(by_name, listed[0]);
        let source = s.source(src).await.unwrap().unwrap();
        assert_eq!(
            source.provider_sectors,
            vec![Sector::Archives, Sector::Museums]
        );
        assert_eq!(source.provider_audience, None);
    }

    fn validated(offerings: Vec<Offering>) -> FetchResult {
        FetchResult::Fetched(Snapshot {
            offerings,
            warnings: 0,
            http_status: Some(200),
            etag: Some("\"v1\"".into()),
            last_modified: Some("Sun, 01 Mar 2026 11:00:00 GMT".into()),
            content_hash: Some("sha256:abc".into()),
            platform: None,
        })
    }

    pub async fn changed_provider_defaults_make_the_next_fetch_parse_again<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "mac", "events").await;
        let other = source(s, "tars", "events").await;
        s.apply(src, &validated(feed(0..2)), t(1)).await.unwrap();
        s.apply(other, &validated(feed(0..2)), t(1)).await.unwrap();
        let archives = ProviderPatch {
            sectors: Some(vec![Sector::Archives]),
            ..ProviderPatch::default()
        };
        s.update_provider("mac", &archives).await.unwrap();
        // The unchanged document would stop at "not modified" and keep the old sectors.
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(
            (st.etag, st.last_modified, st.content_hash),
            (None, None, None)
        );
        let untouched = s.source(other).await.unwrap().unwrap().status;
        assert_eq!(untouched.content_hash.as_deref(), Some("sha256:abc"));
        // The same patch again changes nothing, so it forgets nothing.
        s.apply(src, &validated(feed(0..2)), t(2)).await.unwrap();
        s.update_provider("mac", &archives).await.unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.content_hash.as_deref(), Some("sha256:abc"));
    }

    pub async fn changed_source_settings_make_the_next_fetch_parse_again<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "mac", "events").await;
        s.apply(src, &validated(feed(0..2)), t(1)).await.unwrap();
        let before = s.source(src).await.unwrap().unwrap();
        let again = NewSource {
            provider_id: before.provider_id,
            name: before.name.clone(),
            url: before.url.clone(),
            kind: before.kind.clone(),
            settings: before.settings.clone(),
        };
        s.upsert_source(&again, t(2)).await.unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(
            st.etag.as_deref(),
            Some("\"v1\""),
            "same settings keep the validators"
        );
        let moved = NewSource {
            settings: serde_json::json!({"timezone": "America/Halifax", "sectors": ["archives"]}),
            ..again
        };
        s.upsert_source(&moved, t(3)).await.unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(
            (st.etag, st.last_modified, st.content_hash),
            (None, None, None)
        );
    }

    pub async fn paused_source_is_never_due_until_resumed<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        s.apply(src, &fetched(feed(0..3)), t(1)).await.unwrap();
        let pause = Schedule {
            next_due_at: Some(t(2)),
            pause: true,
            ..Schedule::default()
        };
        let sum = s
            .apply_scheduled(src, &FetchResult::Failed(failure()), &pause, t(2))
            .await
            .unwrap();
        assert_eq!(sum.removed, 0);
        let st = s.source(src).await.unwrap().unwrap().status;
        assert!(st.paused);
        assert_eq!(st.paused_at, Some(t(2)));
        assert_eq!(st.consecutive_failures, 1);
        assert!(s.due_sources(t(1000), 10).await.unwrap().is_empty());
        // A later schedule without a pause does not lift it: only a resume does.
        let later = Schedule {
            next_due_at: Some(t(3)),
            ..Schedule::default()
        };
        s.apply_scheduled(src, &FetchResult::Failed(failure()), &later, t(3))
            .await
            .unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert!(st.paused);
        assert_eq!(st.paused_at, Some(t(2)), "first pause time kept");
        s.resume_source(src, t(4)).await.unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert!(!st.paused);
        assert_eq!((st.consecutive_failures, st.next_due_at), (0, Some(t(4))));
        assert_eq!(s.due_sources(t(4), 10).await.unwrap(), vec![src]);
        assert_eq!(all(s, src).await.len(), 3, "a pause keeps every offering");
        assert_eq!(
            s.resume_source(SourceId(999), t(4))
                .await
                .unwrap_err()
                .code(),
            "unknown_source"
        );
    }

    pub async fn refresh_requested_during_a_fetch_outlives_it<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let next = Schedule {
            next_due_at: Some(t(10)),
            ..Schedule::default()
        };
        // A refresh before the fetch started is served by that fetch.
        s.request_refresh(src, t(1)).await.unwrap();
        s.apply_scheduled(src, &fetched(feed(0..2)), &next, t(2))
            .await
            .unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.next_due_at, Some(t(10)));
        // A refresh while a fetch (started at t(3)) is under way: the fetch's schedule must
        // not swallow it; the source stays due.
        let during = t(3) + chrono::Duration::milliseconds(400);
        s.request_refresh(src, during).await.unwrap();
        s.apply_scheduled(src, &fetched(feed(0..2)), &next, t(3))
            .await
            .unwrap();
        assert_eq!(s.due_sources(during, 10).await.unwrap(), vec![src]);
        // The next fetch (started after the request) serves it and schedules normally.
        s.apply_scheduled(src, &fetched(feed(0..2)), &next, t(4))
            .await
            .unwrap();
        let st = s.source(src).await.unwrap().unwrap().status;
        assert_eq!(st.next_due_at, Some(t(10)));
        assert!(s.due_sources(t(5), 10).await.unwrap().is_empty());
    }

    pub async fn confirmed_redirect_moves_the_url_in_the_same_transaction<B: Backend>() {
        let b = B::open(StoreOptions::default()).await;
        let s = b.store();
        let src = source(s, "nedcc", "events").await;
        let before = s.source(src).await.unwrap().unwrap().url;
        let pending = Schedule {
            next_due_at: Some(t(2)),
            redirect_to: Some("https://new.example/feed".into()),
            redirect_seen: 2,
            ..Schedule::default()
        };
        s.apply_scheduled(src, &fetched(feed(0..2)), &pending, t(1))
            .await
            .unwrap();
        let got = s.source(src).await.unwrap().unwrap();
        assert_eq!(got.url, before, "a pending redirect is shown, not applied");
        assert_eq!(
            got.status.redirect_to.as_deref(),
            Some("https://new.example/feed")
        );
        assert_eq!(got.status.redirect_seen, 2);
        assert_eq!(got.status.next_due_at, Some(t(2)));
        let moved = Schedule {
            next_due_at: Some(t(3)),
            move_to: Some("https://new.example/feed".into()),
            ..Schedule::default()
        };
        s.apply_scheduled(
            src,
            &FetchResult::NotModified {
                http_status: Some(304),
            },
            &moved,
            t(2),
        )
        .await
        .unwrap();
        let got = s.source(src).await.unwrap().unwrap();
        assert_eq!(got.url, "https://new.example/feed");
        assert_eq!(
            (got.status.redirect_to, got.status.redirect_seen),
            (None, 0)
        );
    }
}

/// SQLite only: the secret of an API key never reaches the database file.
#[tokio::test]
async fn sqlite_file_holds_only_the_key_digest() {
    let b = Sqlite::open(StoreOptions::default()).await;
    let p = b.store.ensure_provider("nedcc", None, t(0)).await.unwrap();
    b.store
        .add_api_key(p.id, "ck_live_plaintext_marker", None, None, t(0))
        .await
        .unwrap();
    b.store.checkpoint().await.unwrap();
    let bytes = std::fs::read(&b.path).unwrap();
    let needle = b"ck_live_plaintext_marker";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
}

/// SQLite only: the WAL stays bounded after a burst of writes once checkpointed (HOSTILE E9).
#[tokio::test]
async fn sqlite_wal_is_bounded_after_checkpoint() {
    let b = Sqlite::open(StoreOptions::default()).await;
    let src = source(&b.store, "nedcc", "events").await;
    for h in 0..5 {
        let mut items = feed(0..500);
        for o in &mut items {
            o.title = format!("{} r{h}", o.title);
        }
        b.store.apply(src, &fetched(items), t(h)).await.unwrap();
    }
    b.store.checkpoint().await.unwrap();
    let wal = b.path.with_extension("db-wal");
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(size < 1024 * 1024, "wal is {size} bytes after checkpoint");
}

/// SQLite only: several stores on one file (as a `crawl` and a `serve` process would be) contend
/// through SQLite's own lock; BEGIN IMMEDIATE plus the busy timeout keeps SQLITE_BUSY away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_separate_handles_on_one_file_never_see_busy() {
    let b = Sqlite::open(StoreOptions::default()).await;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let other = Store::open_sqlite(&b.path, StoreOptions::default())
            .await
            .unwrap();
        let src = source(&other, &format!("p{i}"), "events").await;
        tasks.push(tokio::spawn(async move {
            for round in 0..4_i64 {
                let mut items = feed(0..200);
                items[0].title = format!("edit {round}");
                other.apply(src, &fetched(items), t(round)).await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        let r = task.await.unwrap();
        assert!(r.is_ok(), "writer failed: {:?}", r.err().map(|e| e.code()));
    }
    let live = b.store.offerings(&OfferingFilter::default()).await.unwrap();
    assert_eq!(live.len(), 800);
}

#[tokio::test]
async fn keys_expire_at_their_time_and_remember_their_last_use() {
    let b = <Sqlite as Backend>::open(StoreOptions::default()).await;
    let s = b.store();
    let p = s.ensure_provider("acme", None, t(0)).await.unwrap();
    let k = s
        .add_api_key(p.id, "ck_expiring", None, Some(t(24)), t(0))
        .await
        .unwrap();
    let used = s
        .authenticate_api_key("ck_expiring", t(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (used.key, used.provider, used.last_used_at),
        (k, p.id, None)
    );
    s.touch_api_key(k, t(1)).await.unwrap();
    let used = s
        .authenticate_api_key("ck_expiring", t(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.last_used_at, Some(t(1)));
    assert!(
        s.authenticate_api_key("ck_expiring", t(24))
            .await
            .unwrap()
            .is_none(),
        "a key stops working at its expiry"
    );
    assert!(
        s.authenticate_api_key("ck_other", t(1))
            .await
            .unwrap()
            .is_none()
    );
    let listed = s.api_keys(p.id).await.unwrap();
    assert_eq!(
        (listed[0].last_used_at, listed[0].expires_at),
        (Some(t(1)), Some(t(24)))
    );
}

#[tokio::test]
async fn a_deleted_source_id_is_never_given_to_a_new_source() {
    let mut b = <Sqlite as Backend>::open(StoreOptions::default()).await;
    let first = source(b.store(), "acme", "one").await;
    let last = source(b.store(), "acme", "two").await;
    b.store().delete_source(last, t(1)).await.unwrap();
    let next = source(b.store(), "acme", "three").await;
    assert!(next.0 > last.0, "{next:?} reuses the deleted {last:?}");
    // Across a restart too, and re-registering an existing name keeps its id.
    b.store().delete_source(next, t(2)).await.unwrap();
    b.reopen().await;
    let after = source(b.store(), "acme", "four").await;
    assert!(after.0 > next.0, "{after:?} reuses the deleted {next:?}");
    assert_eq!(source(b.store(), "acme", "one").await, first);
}
