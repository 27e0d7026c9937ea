//! HOSTILE E6: SIGKILL the service while it ingests a large feed, restart it on the same data
//! folder, and check that the store holds whole fetches only, that the index opens at its last
//! commit and catches up with the store's change log, and that nothing committed is lost.
//!
//! The index follows the store every `index.sync_interval_ms`; a long interval here opens a
//! window between the store's commit and the index's, so one kill lands exactly there. Other
//! kills land at several points after the feed was served (parsing, the store transaction, the
//! index commit): whichever it hits, the assertions are the same.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use coalesce_tests::{Server, Sites, render};
use serde_json::{Value, json};

const PATH: &str = "/bulk/events.xml";

/// A feed of `n` dated webinars (at most 2,000: the parser's default item limit); `edition`
/// goes into every title, so an edited feed is visible in search.
fn feed(n: usize, edition: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:ev=\"http://purl.org/rss/1.0/modules/event/\">\n<channel>\n\
         <title>Bulk CE calendar</title><link>https://bulk.example.org/</link>\n\
         <description>Many webinars</description>\n",
    );
    for i in 0..n {
        let day = 2 + i % 300;
        out.push_str(&format!(
            "<item><title>Records session {i} ({edition})</title>\
             <link>https://bulk.example.org/ce/{i}</link>\
             <guid isPermaLink=\"false\">bulk-{i}</guid>\
             <description>Session {i} on records management and digital preservation for \
             archives staff. Free. Online via Zoom.</description>\
             <ev:startdate>{{{{DATE+{day}}}}}T15:00:00Z</ev:startdate>\
             <ev:enddate>{{{{DATE+{day}}}}}T16:00:00Z</ev:enddate></item>\n"
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    render(&out, chrono::Utc::now().date_naive())
}

fn env(sites: &Sites) -> Vec<(&'static str, String)> {
    vec![
        ("COALESCE_CRAWL__ALLOW", format!("[\"{}\"]", sites.addr)),
        ("COALESCE_CRAWL__TICK_SECS", "1".into()),
        // The index commits at most every 3 s: a kill right after the store's commit finds
        // the index behind.
        ("COALESCE_INDEX__SYNC_INTERVAL_MS", "3000".into()),
    ]
}

/// Live offerings of the source according to the store.
fn stored(s: &Server, key: &str, id: i64) -> i64 {
    let (_, v) = s.json("GET", &format!("/api/v1/sources/{id}"), Some(key), None);
    v["status"]["offerings_count"].as_i64().unwrap_or(-1)
}

/// Hits for the provider according to the index (None while it is still opening).
fn indexed(s: &Server, query: &str) -> Option<u64> {
    let (st, v) = s.json(
        "GET",
        &format!("/api/v1/offerings?provider=bulk&limit=1{query}"),
        None,
        None,
    );
    (st == 200).then(|| v["total"].as_u64().unwrap_or(0))
}

fn onboard(s: &Server, sites: &Sites) -> (String, i64) {
    let (st, _) = s.json(
        "POST",
        "/api/v1/admin/providers",
        Some(&s.admin),
        Some(r#"{"name":"bulk"}"#),
    );
    assert_eq!(st, 201);
    let (_, k) = s.json(
        "POST",
        "/api/v1/admin/providers/bulk/keys",
        Some(&s.admin),
        None,
    );
    let key = k["key"].as_str().unwrap().to_owned();
    let url = format!("http://{}{PATH}", sites.addr);
    let (st, src) = s.json(
        "POST",
        "/api/v1/sources",
        Some(&key),
        Some(&json!({"name": "events", "url": url}).to_string()),
    );
    assert_eq!(st, 201, "{src}");
    (key, src["id"].as_i64().unwrap())
}

/// After a restart: the index comes back, and store and index agree on `want` offerings,
/// with `edition` in the titles the index serves.
fn converges(s: &Server, key: &str, id: i64, want: i64, edition: &str) {
    let mut last = (0, None, None);
    let ok = s.wait_until(120, || {
        let phrase = format!("&q=%22{edition}%22");
        last = (stored(s, key, id), indexed(s, ""), indexed(s, &phrase));
        last.0 == want && last.1 == Some(want as u64) && last.2 == Some(want as u64)
    });
    assert!(
        ok,
        "store and index did not converge on {want} offerings of edition {edition}: \
         (store, index, index with the edition) = {last:?}"
    );
}

#[test]
fn sigkill_mid_ingest_loses_nothing_committed_and_the_index_catches_up() {
    let sites = Sites::start();
    sites.put(PATH, feed(1500, "alpha"));
    let env = env(&sites);
    let s = Server::start(&env);
    let (key, id) = onboard(&s, &sites);
    converges(&s, &key, id, 1500, "alpha");

    // 1. Killed between the store's commit and the index's: the store has the new edition,
    //    the index (committing every 3 s) not yet. Should the index's tick fall into the few
    //    milliseconds between the commit and the kill, the case is run again with another
    //    edition: it must be exercised, not assumed.
    let refresh = format!("/api/v1/sources/{id}/refresh");
    let mut s = s;
    let mut sizes = vec![1500];
    let mut exercised = false;
    for (size, edition) in [(1800, "bravo"), (1810, "kilo"), (1820, "lima")] {
        sizes.push(size);
        sites.put(PATH, feed(size as usize, edition));
        assert_eq!(s.call("POST", &refresh, Some(&key), None).status, 202);
        assert!(
            s.wait_until(120, || stored(&s, &key, id) == size),
            "edition {edition} was not stored: {}",
            s.call("GET", &format!("/api/v1/sources/{id}"), Some(&key), None)
                .body
        );
        let lagging = indexed(&s, &format!("&q=%22{edition}%22")) != Some(size as u64);
        let data = s.kill();
        s = Server::start_in(data, &env);
        converges(&s, &key, id, size, edition);
        if lagging {
            exercised = true;
            break;
        }
    }
    assert!(exercised, "the index was never behind the store at a kill");

    // 2. Killed at several points while a new edition is parsed, stored and indexed. The
    //    editions differ in size, so a count that is none of theirs would be a partial fetch.
    //    After each restart the crawl may finish the interrupted edition or not yet; the store
    //    holds one whole edition either way.
    let editions = ["charlie", "delta", "echo", "foxtrot"];
    for (k, delay_ms) in [0u64, 150, 400, 900].into_iter().enumerate() {
        let size = 1850 + 50 * k as i64;
        sizes.push(size);
        sites.put(PATH, feed(size as usize, editions[k]));
        let before = sites.hits(PATH);
        assert_eq!(s.call("POST", &refresh, Some(&key), None).status, 202);
        assert!(
            s.wait_until(60, || sites.hits(PATH) > before),
            "the feed was not fetched (kill {k}): {}",
            s.call("GET", &format!("/api/v1/sources/{id}"), Some(&key), None)
                .body
        );
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let data = s.kill();
        s = Server::start_in(data, &env);
        let after = stored(&s, &key, id);
        assert!(
            sizes.contains(&after),
            "the store holds a partial fetch after a kill {delay_ms} ms in: {after} offerings, \
             editions had {sizes:?}"
        );
        // The index opens at its last commit (the writer lock of the killed process does not
        // block it) and answers at once.
        assert!(
            s.wait_until(60, || indexed(&s, "").is_some()),
            "search did not come back"
        );
    }
    // The last edition is still due (or already stored): the restarted crawler finishes it.
    converges(&s, &key, id, 2000, "foxtrot");
    let (_, v) = s.json("GET", &format!("/api/v1/sources/{id}"), Some(&key), None);
    // The history survived the kills (it is in the store, not in the process).
    let history: &Vec<Value> = v["history"].as_array().unwrap();
    assert!(history.len() >= 3, "{v}");
}
