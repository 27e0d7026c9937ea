//! The README cannot rot: every shell block marked `<!-- runnable -->` runs, in order and in one
//! shell, against a real `coalesce demo`, with the variables the demo prints. `curl` fails on
//! any HTTP error status. Needs `bash`, `curl` and `jq`; says SKIPPED without them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coalesce_tests::{binary, free_port, repo_root};

/// The runnable blocks of `markdown`, in order.
fn runnable_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "<!-- runnable -->" {
            continue;
        }
        let Some(fence) = lines.next() else { break };
        assert!(
            fence.starts_with("```sh"),
            "a runnable mark must sit right above a ```sh block, found {fence:?}"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        blocks.push(body.join("\n"));
    }
    blocks
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_readme_blocks_find_the_runnable_marks() {
    let md = "x\n<!-- runnable -->\n```sh\necho a\necho b\n```\n```sh\nnot this\n```\n";
    assert_eq!(runnable_blocks(md), vec!["echo a\necho b".to_owned()]);
}

#[test]
fn every_runnable_readme_block_works_against_the_demo() {
    let missing: Vec<&str> = ["bash", "curl", "jq"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!("SKIPPED: needs {missing:?}");
        return;
    }
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = runnable_blocks(&readme);
    assert!(blocks.len() >= 3, "the README lost its runnable blocks");

    let data = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut demo = Command::new(binary())
        .args(["demo", "--listen", &listen, "--data"])
        .arg(data.path())
        .current_dir(&root)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(exports) = line.trim().strip_prefix("export ") {
                let _ = tx.send(exports.to_owned());
            }
        }
    });
    let exports = rx.recv_timeout(Duration::from_secs(180));
    let exports = match exports {
        Ok(e) => e,
        Err(_) => {
            let _ = demo.kill();
            panic!("the demo printed no export line");
        }
    };
    let mut script = String::from("set -euo pipefail\ncurl() { command curl -fsS \"$@\"; }\n");
    script.push_str(&format!("export {exports}\n"));
    for (i, b) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '--- README block {}'\n{b}\n", i + 1));
    }
    let started = Instant::now();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&root)
        .output()
        .unwrap();
    let _ = demo.kill();
    let _ = demo.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a README block failed after {:?}\n--- stdout (tail):\n{}\n--- stderr:\n{stderr}",
        started.elapsed(),
        stdout
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The co-marketed webinar is found (the first block's promise).
    assert!(stdout.contains("Copyright"), "{stdout}");
}
