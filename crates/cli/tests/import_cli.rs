//! `coalesce import` / `offerings list` / `clusters explain` as a provider runs them: the real
//! binary, a temp data folder, a fixed `--now`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn coalesce(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coalesce"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("COALESCE_DATA__DIR")
        .output()
        .expect("run coalesce")
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const RSS_HEAD: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://ex.org/</link>"#;

fn rss_items(n: usize) -> String {
    let mut s = RSS_HEAD.to_string();
    for i in 0..n {
        s.push_str(&format!(
            "<item><guid>g{i}</guid><title>Webinar {i}</title><link>https://ex.org/{i}</link></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let feed = fixture("rss/rss2_event_module.xml");
    let first = stdout(&coalesce(
        &data,
        &[
            "import",
            &feed,
            "--provider",
            "nedcc",
            "--now",
            "2026-03-01",
        ],
    ));
    assert!(first.contains(": 3 new, 0 updated, 0 unchanged"), "{first}");
    let listed = stdout(&coalesce(&data, &["offerings", "list"]));
    let again = stdout(&coalesce(
        &data,
        &[
            "import",
            &feed,
            "--provider",
            "nedcc",
            "--now",
            "2026-03-02",
        ],
    ));
    assert!(again.contains(": 0 new, 0 updated, 3 unchanged"), "{again}");
    assert_eq!(stdout(&coalesce(&data, &["offerings", "list"])), listed);
    assert_eq!(listed.lines().count(), 3);
}

#[test]
fn reimporting_a_shrunken_file_removes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let full = write(dir.path(), "events.xml", &rss_items(10));
    let full = full.display().to_string();
    stdout(&coalesce(
        &data,
        &["import", &full, "--provider", "p", "--now", "2026-03-01"],
    ));
    let small = write(dir.path(), "small.xml", &rss_items(1));
    let small = small.display().to_string();
    for day in ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"] {
        let out = coalesce(
            &data,
            &[
                "import",
                &small,
                "--provider",
                "p",
                "--source-name",
                "events",
                "--now",
                day,
            ],
        );
        let text = stdout(&out);
        assert!(text.contains("0 removed"), "{text}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("shrunken_fetch"),
            "anomaly reported"
        );
    }
    let listed = stdout(&coalesce(&data, &["offerings", "list"]));
    assert_eq!(listed.lines().count(), 10);
}

#[test]
fn unreadable_import_fails_and_keeps_offerings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let good = write(dir.path(), "events.xml", &rss_items(2));
    stdout(&coalesce(
        &data,
        &["import", &good.display().to_string(), "--provider", "p"],
    ));
    let bad = write(dir.path(), "broken.xml", "   ");
    let out = coalesce(
        &data,
        &[
            "import",
            &bad.display().to_string(),
            "--provider",
            "p",
            "--source-name",
            "events",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: cannot read"), "{err}");
    assert_eq!(
        stdout(&coalesce(&data, &["offerings", "list"]))
            .lines()
            .count(),
        2
    );
}

#[test]
fn explaining_an_unknown_cluster_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    stdout(&coalesce(
        dir.path(),
        &[
            "import",
            &fixture("import/comarketed_originator.ics"),
            "--provider",
            "atc",
            "--now",
            "2026-03-01",
        ],
    ));
    let out = coalesce(dir.path(), &["clusters", "explain", "c404"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no cluster or offering with id c404"), "{err}");
}

#[test]
fn comarketed_webinar_from_two_providers_is_one_cluster_with_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for (file, provider) in [
        ("import/comarketed_originator.ics", "atc"),
        ("import/comarketed_partner.ics", "midwest"),
    ] {
        stdout(&coalesce(
            &data,
            &[
                "import",
                &fixture(file),
                "--provider",
                provider,
                "--now",
                "2026-03-01",
            ],
        ));
    }
    let grouped = stdout(&coalesce(&data, &["offerings", "list", "--cluster"]));
    // Four records, the co-marketed one shown once; the series' two dates stay apart.
    assert_eq!(
        grouped.lines().filter(|l| !l.starts_with(' ')).count(),
        3,
        "{grouped}"
    );
    let also = grouped
        .lines()
        .find(|l| l.contains("also offered by: midwest"))
        .expect("one cluster");
    let id = also
        .rsplit("[cluster ")
        .next()
        .and_then(|s| s.strip_suffix(']'))
        .expect("cluster id");
    let why = stdout(&coalesce(&data, &["clusters", "explain", id]));
    assert!(why.contains("same start"), "{why}");
    assert!(why.contains("title"), "{why}");
    assert!(
        why.contains("archivaltraining.example/events/email-archiving"),
        "{why}"
    );
    // Importing both again changes nothing, clusters included.
    let again = stdout(&coalesce(
        &data,
        &[
            "import",
            &fixture("import/comarketed_partner.ics"),
            "--provider",
            "midwest",
            "--now",
            "2026-03-02",
        ],
    ));
    assert!(again.contains("0 new, 0 updated, 2 unchanged"), "{again}");
    assert_eq!(
        stdout(&coalesce(&data, &["offerings", "list", "--cluster"])),
        grouped
    );
}
