//! `jspec testrail push` against a fake TestRail: the exact requests, pagination, retries of 429
//! and 500, refused credentials, and `--dry-run`.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;
use support::fake_testrail::{FakeTestrail, Recorded, Reply, base64};

const USER: &str = "ci@example.com";
const KEY: &str = "s3cr3t-api-key";

/// A run folder with two results (one failed with steps) and a transcript for C1.
fn run_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let results = json!({"results": [
        {"case_id": 1, "status_id": 1, "comment": "", "elapsed": "2s", "version": "0.1.0",
         "custom_step_results": [
             {"content": "Connect", "expected": "", "actual": "as expected", "status_id": 1}]},
        {"case_id": 2, "status_id": 5, "comment": "bob received nothing", "elapsed": "1m 5s",
         "version": "0.1.0", "custom_step_results": [
             {"content": "Send", "expected": "bob receives \"hi\"", "actual": "nothing",
              "status_id": 5},
             {"content": "Later", "expected": "", "actual": "not run", "status_id": 4}]}
    ]});
    std::fs::write(
        dir.path().join("testrail-results.json"),
        serde_json::to_vec_pretty(&results).expect("JSON"),
    )
    .expect("write results");
    let transcripts = dir.path().join("transcripts/C1");
    std::fs::create_dir_all(&transcripts).expect("mkdir");
    std::fs::write(
        transcripts.join("alice.log"),
        "# transcript of alice\n1.000 -> <presence/>\n",
    )
    .expect("write transcript");
    dir
}

async fn jspec(run: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
    command
        .args(["testrail", "push"])
        .arg(run)
        .args(args)
        .env("TESTRAIL_USER", USER)
        .env("TESTRAIL_API_KEY", KEY)
        .env_remove("TESTRAIL_PASSWORD")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env("NO_PROXY", "127.0.0.1");
    tokio::task::spawn_blocking(move || command.output().expect("jspec runs"))
        .await
        .expect("joined")
}

/// A TestRail with projects on two pages, a step field under a custom name, run 9.
fn testrail(request: &Recorded, _before: &[Recorded]) -> Reply {
    match request.api.as_str() {
        "get_projects" => Reply::json(json!({
            "offset": 0, "limit": 1, "size": 1,
            "_links": {"next": "/api/v2/get_projects&limit=1&offset=1", "prev": null},
            "projects": [{"id": 3, "name": "Other"}]})),
        "get_projects&limit=1&offset=1" => Reply::json(json!({
            "offset": 1, "limit": 1, "size": 1, "_links": {"next": null, "prev": null},
            "projects": [{"id": 5, "name": "XMPP"}]})),
        "get_result_fields" => Reply::json(json!([
            {"id": 1, "type_id": 1, "system_name": "custom_notes", "is_active": true},
            {"id": 2, "type_id": 11, "system_name": "custom_step_res", "is_active": true}])),
        "add_run/5" => Reply::json(json!({"id": 9})),
        "add_results_for_cases/9" => Reply::json(json!([{"id": 101}, {"id": 102}])),
        "add_attachment_to_result/101" => Reply::json(json!({"attachment_id": 7})),
        "close_run/9" => Reply::json(json!({"id": 9, "is_completed": true})),
        other => Reply::status(400, &format!("{{\"error\": \"unexpected {other}\"}}")),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_push_makes_exactly_the_expected_requests() {
    let fake = FakeTestrail::start(testrail).await;
    let run = run_folder();
    let out = jspec(
        run.path(),
        &[
            "--url",
            &fake.url,
            "--project",
            "XMPP",
            "--suite",
            "S1",
            "--run-name",
            "Nightly",
            "--close",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("pushed 2 result(s) and 1 attachment(s) to run R9"));

    let requests = fake.requests();
    let calls: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.api.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "get_projects"),
            ("GET", "get_projects&limit=1&offset=1"),
            ("GET", "get_result_fields"),
            ("POST", "add_run/5"),
            ("POST", "add_results_for_cases/9"),
            ("POST", "add_attachment_to_result/101"),
            ("POST", "close_run/9"),
        ]
    );
    let basic = format!("Basic {}", base64(format!("{USER}:{KEY}").as_bytes()));
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(basic.as_str()))
    );
    assert_eq!(
        requests[3].json(),
        json!({"suite_id": 1, "name": "Nightly", "include_all": false, "case_ids": [1, 2]})
    );
    let results = requests[4].json();
    assert_eq!(
        results,
        json!({"results": [
            {"case_id": 1, "status_id": 1, "elapsed": "2s", "version": "0.1.0",
             "custom_step_res": [
                 {"content": "Connect", "expected": "", "actual": "as expected", "status_id": 1}]},
            {"case_id": 2, "status_id": 5, "comment": "bob received nothing", "elapsed": "1m 5s",
             "version": "0.1.0", "custom_step_res": [
                 {"content": "Send", "expected": "bob receives \"hi\"", "actual": "nothing",
                  "status_id": 5},
                 {"content": "Later", "expected": "", "actual": "not run", "status_id": 4}]}
        ]})
    );
    let attachment = &requests[5];
    assert!(
        attachment
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("multipart/form-data; boundary="))
    );
    let body = attachment.text();
    assert!(
        body.contains("name=\"attachment\"; filename=\"alice.log\""),
        "{body}"
    );
    assert!(body.contains("1.000 -> <presence/>"));
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_a_500_backs_off() {
    let fake = FakeTestrail::start(|request, before| {
        let seen = before.iter().filter(|r| r.api == request.api).count();
        match (request.api.as_str(), seen) {
            ("add_run/5", 0) => {
                Reply::status(429, "{\"error\": \"slow down\"}").header("Retry-After", "1")
            }
            ("add_results_for_cases/9", 0) => Reply::status(500, "{\"error\": \"oops\"}"),
            _ => testrail(request, before),
        }
    })
    .await;
    let run = run_folder();
    let started = Instant::now();
    let out = jspec(
        run.path(),
        &["--url", &fake.url, "--project", "5", "--suite", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    // Retry-After: 1, then the first backoff (1s).
    assert!(started.elapsed() >= Duration::from_secs(2));
    let calls: Vec<String> = fake.requests().iter().map(|r| r.api.clone()).collect();
    assert_eq!(
        calls,
        [
            "get_result_fields",
            "add_run/5",
            "add_run/5",
            "add_results_for_cases/9",
            "add_results_for_cases/9",
            "add_attachment_to_result/101",
        ]
    );
    // Given by id, the project is not looked up; the default name is the run folder's.
    let name = fake.requests()[2].json()["name"]
        .as_str()
        .map(str::to_owned);
    assert!(name.is_some_and(|n| n.starts_with("jspec ")));
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_gives_up_at_once() {
    let fake = FakeTestrail::start(|_, _| {
        Reply::status(429, "{\"error\": \"busy\"}").header("Retry-After", "120")
    })
    .await;
    let run = run_folder();
    let started = Instant::now();
    let out = jspec(
        run.path(),
        &[
            "--url",
            &fake.url,
            "--project",
            "5",
            "--suite",
            "1",
            "--deadline",
            "5s",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting past the deadline"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the push deadline of 5s is reached (HTTP 429"),
        "{stderr}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn refused_credentials_stop_with_a_clear_error_and_write_nothing() {
    let fake =
        FakeTestrail::start(|_, _| Reply::status(401, "{\"error\": \"Authentication failed\"}"))
            .await;
    let run = run_folder();
    let before = listing(run.path());
    let out = jspec(
        run.path(),
        &["--url", &fake.url, "--project", "XMPP", "--suite", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "TestRail refused the credentials of TESTRAIL_USER at {} (401)",
            fake.url
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY) && !text(&out.stdout).contains(KEY));
    assert_eq!(fake.requests().len(), 1, "no retry after a 401");
    assert_eq!(listing(run.path()), before, "the run folder is untouched");
}

#[tokio::test]
async fn an_existing_run_gets_its_missing_cases_added_not_replaced() {
    let fake = FakeTestrail::start(|request, before| match request.api.as_str() {
        "get_run/9" => Reply::json(json!({"id": 9, "include_all": false})),
        "get_tests/9" => Reply::json(json!({"_links": {"next": null},
            "tests": [{"id": 50, "case_id": 1}, {"id": 51, "case_id": 77}]})),
        "update_run/9" => Reply::json(json!({"id": 9})),
        _ => testrail(request, before),
    })
    .await;
    let run = run_folder();
    let out = jspec(
        run.path(),
        &[
            "--url",
            &fake.url,
            "--project",
            "5",
            "--suite",
            "1",
            "--run-id",
            "R9",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let requests = fake.requests();
    let update = requests
        .iter()
        .find(|r| r.api == "update_run/9")
        .expect("update_run");
    assert_eq!(
        update.json(),
        json!({"include_all": false, "case_ids": [1, 2, 77]})
    );
    assert!(requests.iter().all(|r| !r.api.starts_with("add_run")));
}

#[tokio::test]
async fn a_dry_run_prints_the_requests_and_sends_nothing() {
    let run = run_folder();
    let out = jspec(
        run.path(),
        &[
            "--url",
            "https://testrail.invalid",
            "--project",
            "XMPP",
            "--suite",
            "1",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("GET https://testrail.invalid/index.php?/api/v2/get_projects\n"));
    assert!(
        stdout.contains("POST https://testrail.invalid/index.php?/api/v2/add_run/{project_id}\n")
    );
    assert!(stdout.contains("\"case_ids\": [\n    1,\n    2\n  ]"));
    assert!(stdout.contains("add_results_for_cases/{run_id}"));
    assert!(stdout.contains("add_attachment_to_result/{result_id of C1}"));
    assert!(stdout.contains("Authorization: Basic <redacted>"));
    assert!(!stdout.contains(KEY) && !stdout.contains(USER));
}

fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let size = std::fs::metadata(&path).expect("metadata").len();
                files.push((path.display().to_string(), size));
            }
        }
    }
    files.sort();
    files
}
