//! `jspec lsp` driven over stdio as an editor would: diagnostics as the text changes,
//! completion, hover, go to definition, symbols, formatting, the did-you-mean quick fix, and a
//! server that survives random edits.

#[path = "support/lsp_client.rs"]
mod client;

use std::path::Path;

use client::Client;
use serde_json::{Value, json};

const LIB: &str = r#"# Connects a user and joins them to a room.
procedure connect_and_join(user, room) {
  connect user
  join user to room as "Nick"
}
"#;

const MAIN: &str = r#"use "lib.jspec"

case C1 "Alice joins" {
  servers a
  user alice on a
  room ops on a

  step "Connect" {
    connect alcie
    connect_and_join(alice, ops)
  }
}
"#;

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn open(client: &mut Client, uri: &str, text: &str) -> Value {
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "jspec", "version": 1, "text": text}}),
    );
    client.notification("textDocument/publishDiagnostics")
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["label"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_session_as_an_editor_runs_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("lib.jspec"), LIB).expect("write lib");
    let main_path = dir.path().join("main.jspec");
    let main = uri(&main_path);
    let mut client = Client::start();

    // The unknown user, with its code, range, severity and the suggestion for the quick fix.
    let published = open(&mut client, &main, MAIN);
    assert_eq!(published["uri"], main);
    let diagnostics = published["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{published}");
    let unknown = &diagnostics[0];
    assert_eq!(unknown["code"], "jspec::unknown_actor");
    assert_eq!(unknown["severity"], 1);
    assert_eq!(
        unknown["range"],
        json!({"start": {"line": 8, "character": 12}, "end": {"line": 8, "character": 17}})
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap_or_default()
            .contains("alcie")
    );

    // The quick fix replaces the name.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": main},
            "range": unknown["range"],
            "context": {"diagnostics": [unknown]},
        }),
    );
    assert_eq!(actions[0]["title"], "did you mean `alice`?");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edit = &actions[0]["edit"]["changes"][&main][0];
    assert_eq!(edit["newText"], "alice");
    assert_eq!(edit["range"], unknown["range"]);

    // Fixing the text clears the diagnostics.
    let fixed = MAIN.replace("alcie", "alice");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let published = client.notification("textDocument/publishDiagnostics");
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    assert_eq!(published["version"], 2);

    // Completion: keywords and procedures at the start of a line, the case's names after one.
    let at_start = client.request("textDocument/completion", at(&main, 9, 4));
    let at_start = labels(&at_start);
    for expected in ["connect", "expect", "step", "connect_and_join"] {
        assert!(at_start.contains(&expected.to_string()), "{at_start:?}");
    }
    let after_connect = client.request("textDocument/completion", at(&main, 8, 12));
    let after_connect = labels(&after_connect);
    for expected in ["alice", "ops", "a"] {
        assert!(
            after_connect.contains(&expected.to_string()),
            "{after_connect:?}"
        );
    }
    assert!(!after_connect.contains(&"step".to_string()));

    // Hover: a keyword's usage line, a procedure's signature and doc comment.
    let hover = client.request("textDocument/hover", at(&main, 8, 6));
    let value = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(value.contains("connect USER [to NODE]"), "{hover}");
    let hover = client.request("textDocument/hover", at(&main, 9, 8));
    let value = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        value.contains("procedure connect_and_join(user, room)"),
        "{hover}"
    );
    assert!(
        value.contains("Connects a user and joins them to a room."),
        "{hover}"
    );

    // Go to definition: the call to the procedure in lib.jspec, the `use` to the file.
    let lib = uri(&dir.path().join("lib.jspec"));
    let definition = client.request("textDocument/definition", at(&main, 9, 8));
    assert_eq!(definition["uri"], lib);
    assert_eq!(
        definition["range"]["start"],
        json!({"line": 1, "character": 10})
    );
    let definition = client.request("textDocument/definition", at(&main, 0, 7));
    assert_eq!(definition["uri"], lib);

    // Symbols: the case with its step.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": main}}),
    );
    assert_eq!(symbols[0]["name"], "C1 Alice joins");
    assert_eq!(symbols[0]["children"][0]["name"], "Connect");

    // Formatting: one edit of the whole text; nothing on a syntax error.
    let messy = fixed.replace("  servers a", "servers   a");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 3}, "contentChanges": [{"text": messy}]}),
    );
    client.notification("textDocument/publishDiagnostics");
    let formatting =
        json!({"textDocument": {"uri": main}, "options": {"tabSize": 2, "insertSpaces": true}});
    let edits = client.request("textDocument/formatting", formatting.clone());
    assert_eq!(edits.as_array().map(Vec::len), Some(1), "{edits}");
    assert_eq!(edits[0]["newText"], fixed);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 4}, "contentChanges": [{"text": "case {"}]}),
    );
    let published = client.notification("textDocument/publishDiagnostics");
    assert_eq!(published["diagnostics"][0]["code"], "jspec::syntax");
    assert_eq!(
        client.request("textDocument/formatting", formatting),
        Value::Null
    );

    assert!(client.stop().success());
}

#[test]
fn completion_in_context() {
    let mut client = Client::start();
    let text = "case C2 \"Certs\" {\n  requires \n  servers a\n  user bob on a\n  step \"s\" {\n    set certificate of a to \n    expect connect bob fails with \"\n  }\n}\n";
    let doc = "untitled:certs";
    open(&mut client, doc, text);
    let requires = labels(&client.request("textDocument/completion", at(doc, 1, 11)));
    assert!(requires.contains(&"fmuc".to_string()), "{requires:?}");
    let states = labels(&client.request("textDocument/completion", at(doc, 5, 28)));
    assert!(states.contains(&"self-signed".to_string()), "{states:?}");
    let reasons = labels(&client.request("textDocument/completion", at(doc, 6, 36)));
    assert!(
        !reasons.is_empty() && !reasons.contains(&"bob".to_string()),
        "{reasons:?}"
    );
    assert!(client.stop().success());
}

#[test]
fn positions_count_utf16_units() {
    let mut client = Client::start();
    // `é` is one UTF-16 unit and two bytes, `😀` two units and four: `bob` starts at unit 23,
    // byte 26.
    let text =
        "case C3 \"é😀\" {\n  servers a\n  user alice on a\n  step \"é😀\" { connect bob }\n}\n";
    let published = open(&mut client, "untitled:utf16", text);
    let range = &published["diagnostics"][0]["range"];
    assert_eq!(
        *range,
        json!({"start": {"line": 3, "character": 23}, "end": {"line": 3, "character": 26}}),
        "{published}"
    );
    assert!(client.stop().success());
}

#[test]
fn random_edits_never_stop_the_server() {
    let mut client = Client::start();
    let doc = "untitled:fuzz";
    let mut text = MAIN.to_string();
    open(&mut client, doc, &text);
    let mut rng = fastrand::Rng::with_seed(7);
    let pieces = [
        "{", "}", "\"", "(", "é", "😀", "\n", "connect ", "case C9 ", "\"\"\"", "${", " ",
    ];
    for version in 2..200 {
        // Cut a random range and paste a random piece at a char boundary.
        let chars: Vec<char> = text.chars().collect();
        let start = rng.usize(0..=chars.len());
        let end = (start + rng.usize(0..4)).min(chars.len());
        let piece = pieces[rng.usize(0..pieces.len())];
        text = chars[..start]
            .iter()
            .chain(piece.chars().collect::<Vec<_>>().iter())
            .chain(&chars[end..])
            .collect();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": doc, "version": version}, "contentChanges": [{"text": text}]}),
        );
        client.notification("textDocument/publishDiagnostics");
        let line = rng.u32(0..20);
        let character = rng.u32(0..40);
        for method in [
            "textDocument/completion",
            "textDocument/hover",
            "textDocument/definition",
        ] {
            let response = client.request_raw(method, at(doc, line, character));
            assert!(response.get("error").is_none(), "{method}: {response}");
        }
        let response = client.request_raw(
            "textDocument/formatting",
            json!({"textDocument": {"uri": doc}, "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        assert!(response.get("error").is_none(), "{response}");
    }
    // Garbage parameters get an error reply, and the server still answers afterwards.
    let bad = client.request_raw("textDocument/hover", json!({"nonsense": true}));
    assert!(bad.get("error").is_some(), "{bad}");
    client.notify("textDocument/didChange", json!(42));
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": doc}}),
    );
    assert!(symbols.is_array() || symbols.is_null());
    assert!(client.stop().success());
}

#[test]
fn an_open_used_file_wins_over_the_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("lib.jspec"), LIB).expect("write lib");
    let main = uri(&dir.path().join("main.jspec"));
    let lib = uri(&dir.path().join("lib.jspec"));
    let mut client = Client::start();
    let published = open(&mut client, &main, &MAIN.replace("alcie", "alice"));
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    // Renaming the procedure in the unsaved lib.jspec breaks the call in main.jspec.
    let renamed = LIB.replace("connect_and_join", "connect_join");
    let published = open(&mut client, &lib, &renamed);
    assert_eq!(published["uri"], lib);
    let published = client.notification("textDocument/publishDiagnostics");
    assert_eq!(published["uri"], main);
    assert_eq!(
        published["diagnostics"][0]["code"], "jspec::undefined_procedure",
        "{published}"
    );
    // Closing it without saving: main.jspec reads lib.jspec from disk again.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": lib}}),
    );
    let published = client.notification("textDocument/publishDiagnostics");
    assert_eq!(
        (&published["uri"], &published["diagnostics"]),
        (&json!(lib), &json!([]))
    );
    let published = client.notification("textDocument/publishDiagnostics");
    assert_eq!(
        (&published["uri"], &published["diagnostics"]),
        (&json!(main), &json!([]))
    );
    assert!(client.stop().success());
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let mut client = Client::start();
    client.notify("exit", Value::Null);
    assert!(!client.wait().success());
}

#[test]
fn the_stdio_flag_of_vscode_languageclient_is_accepted() {
    // editors/vscode asks for TransportKind.stdio, which appends `--stdio` to the arguments.
    let client = Client::start_with(&["lsp", "--stdio"]);
    assert!(client.stop().success());
}
