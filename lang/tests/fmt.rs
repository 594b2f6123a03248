//! The canonical formatter: idempotent, meaning-preserving, comment-preserving, and the
//! contract examples are already in canonical form.

use jspec_lang::fmt::format_text;
use jspec_lang::parse::parse_file;
use jspec_lang::span::SourceId;

#[path = "fmt/golden.rs"]
mod golden;
#[path = "fmt/inputs.rs"]
mod inputs;
#[path = "fmt/support.rs"]
mod support;

use support::{comments, properties, shape};

fn examples() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["tests/examples", "stdlib"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("example directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "jspec"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("example file");
            files.push((path.display().to_string(), text));
        }
    }
    assert!(files.len() >= 6, "the contract examples are missing");
    files
}

#[test]
fn examples_are_canonical() {
    for (name, text) in examples() {
        let formatted = format_text(&text).unwrap_or_else(|| panic!("{name} does not parse"));
        assert_eq!(formatted, text, "{name} is not in canonical form");
    }
}

#[test]
fn examples_keep_their_properties() {
    for (name, text) in examples() {
        properties(&name, &text);
    }
}

#[test]
fn tricky_inputs_keep_their_properties() {
    for (name, text) in inputs::tricky() {
        properties(name, &text);
    }
}

#[test]
fn tricky_inputs_format_as_expected() {
    for (name, input, expected) in inputs::golden() {
        let formatted = format_text(&input).unwrap_or_else(|| panic!("{name} does not parse"));
        assert_eq!(formatted, expected, "{name}");
        properties(name, &input);
    }
}

#[test]
fn crlf_becomes_lf() {
    for (name, text) in inputs::all() {
        let crlf = text.replace('\n', "\r\n");
        let formatted =
            format_text(&crlf).unwrap_or_else(|| panic!("{name} with CRLF does not parse"));
        assert_eq!(Some(formatted), format_text(&text), "{name} with CRLF");
        properties(name, &crlf);
    }
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(format_text("").as_deref(), Some(""));
    assert_eq!(format_text("\n\n  \n").as_deref(), Some(""));
    assert_eq!(
        format_text("  # only a comment   ").as_deref(),
        Some("# only a comment\n")
    );
    assert_eq!(
        format_text("\n\n# a\n\n\n# b\n\n").as_deref(),
        Some("# a\n\n# b\n")
    );
    assert_eq!(
        format_text("\u{FEFF}suite \"S\"\n").as_deref(),
        Some("suite \"S\"\n")
    );
}

#[test]
fn syntax_errors_give_none() {
    assert_eq!(format_text("case \"x\" {\n  connect\n}\n"), None);
    assert_eq!(format_text("suite"), None);
}

#[test]
fn formatting_ignores_whitespace_noise() {
    let mut rng = fastrand::Rng::with_seed(20_261_125);
    let mut texts: Vec<(String, String)> = examples();
    texts.extend(
        inputs::all()
            .into_iter()
            .map(|(name, text)| (name.to_string(), text)),
    );
    for (name, text) in texts {
        let canonical = format_text(&text).unwrap_or_else(|| panic!("{name} does not parse"));
        for round in 0..20 {
            let noisy = support::add_noise(&mut rng, &canonical);
            let formatted = format_text(&noisy)
                .unwrap_or_else(|| panic!("{name} round {round}: noise broke\n{noisy}"));
            assert_eq!(
                formatted, canonical,
                "{name} round {round}, noisy input:\n{noisy}"
            );
            assert_eq!(
                shape(&noisy),
                shape(&canonical),
                "{name} round {round}: meaning changed"
            );
            assert_eq!(
                comments(&noisy),
                comments(&canonical),
                "{name} round {round}: comments"
            );
        }
    }
}

#[test]
fn the_shape_helper_sees_changes() {
    // The meaning check must not be vacuous: a different word, string or comment shows.
    let base = "case \"c\" {\n  step \"s\" {\n    wait 1s # x\n  }\n}\n";
    assert_eq!(
        shape(base),
        shape("case \"c\" {\n  step \"s\" {  \n\twait  1s   # x\n  }\n}")
    );
    assert_ne!(shape(base), shape(&base.replace("1s", "2s")));
    assert_ne!(shape(base), shape(&base.replace("\"s\"", "\"t\"")));
    assert_ne!(shape(base), shape(&base.replace("# x", "# y")));
    assert_ne!(comments(base), comments(&base.replace("# x", "# y")));
    assert!(parse_file(SourceId(0), base).tree.is_some());
}

#[test]
fn a_tree_printed_without_its_source_still_parses() {
    // Spans that do not point into the text (a tree built by hand) fall back to the values.
    for (name, text) in inputs::all() {
        let tree = parse_file(SourceId(0), &text).tree.expect("parses");
        let printed = jspec_lang::fmt::format_file(&tree, "");
        assert!(
            format_text(&printed).is_some(),
            "{name}: printed without source:\n{printed}"
        );
    }
}
