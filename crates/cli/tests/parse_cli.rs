//! The `coalesce parse` command as a provider runs it: the real binary on files we write.

use std::process::Command;

fn coalesce() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coalesce"))
}

fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("coalesce-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write fixture");
    path
}

#[test]
fn unreadable_file_prints_one_line_error_and_fails() {
    let path = temp_file("words.txt", b"this is not a feed at all");
    let out = coalesce()
        .arg("parse")
        .arg(&path)
        .output()
        .expect("run coalesce");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: cannot read"), "{stderr}");
    assert!(stderr.contains("cannot tell the format"), "{stderr}");
}

#[test]
fn missing_file_prints_one_line_error_and_fails() {
    let out = coalesce()
        .args(["parse", "/nonexistent/coalesce/feed.xml"])
        .output()
        .expect("run coalesce");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("/nonexistent/coalesce/feed.xml"),
        "{stderr}"
    );
}

#[test]
fn bad_window_and_zone_arguments_are_clear_errors() {
    let path = temp_file("empty.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
    let out = coalesce()
        .arg("parse")
        .arg(&path)
        .args(["--from", "someday"])
        .output()
        .expect("run coalesce");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid date \"someday\""));
    let out = coalesce()
        .arg("parse")
        .arg(&path)
        .args(["--timezone", "Mars/Olympus"])
        .output()
        .expect("run coalesce");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown time zone"));
}

#[test]
fn an_events_api_page_names_its_platform_and_its_unread_next_page_issue_23() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/platforms/tec_rest_page_with_malformed_events.json");
    let out = coalesce()
        .arg("parse")
        .arg(&fixture)
        .args([
            "--base-url",
            "https://riverbend.example.org/wp-json/tribe/events/v1/events?page=1",
            "--timezone",
            "America/Chicago",
        ])
        .output()
        .expect("run coalesce");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6);
    assert!(stderr.contains("platform the-events-calendar"), "{stderr}");
    assert!(
        stderr.contains(
            "next page (not read): https://riverbend.example.org/wp-json/tribe/events/v1/events?page=2"
        ),
        "{stderr}"
    );
}
