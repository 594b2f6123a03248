//! Inputs for the formatter tests. In these texts `·` stands for a space that matters (at the
//! end of a line) and `→` for a tab, so that the file itself has neither.

/// Inputs with their expected canonical form.
pub(crate) fn golden() -> Vec<(&'static str, String, String)> {
    super::golden::GOLDEN
        .iter()
        .map(|(name, input, output)| (*name, visible(input), visible(output)))
        .collect()
}

/// Inputs checked for the formatter's promises only.
pub(crate) fn tricky() -> Vec<(&'static str, String)> {
    TRICKY
        .iter()
        .map(|(name, input)| (*name, visible(input)))
        .collect()
}

/// Every input, golden or not.
pub(crate) fn all() -> Vec<(&'static str, String)> {
    let mut inputs: Vec<_> = golden()
        .into_iter()
        .map(|(name, input, _)| (name, input))
        .collect();
    inputs.extend(tricky());
    inputs
}

fn visible(text: &str) -> String {
    text.replace('·', " ").replace('→', "\t")
}

const TRICKY: &[(&str, &str)] = &[
    (
        "deep nesting",
        r#"procedure p() {
  parallel {
    repeat 3 times every 1s {
      parallel {
        chaos seed 42 for 2m {   # rules

          every 10s..30s kill one of c1, c2 for 5s
          # between rules

          every 1m partition {a1, a2} | b for 10s
          every 5s impair link a <-> b lag 1s
          every 5s kill database pg
        }
        repeat 1 times { parallel { wait 1s; wait 2s } }
        p2("a\$b", x)
      }
    }
  }
}
"#,
    ),
    (
        "comments in odd places",
        r#"case "c" {
  step "s" {
    # only comments in this block

    # after a blank
  }
  step "t" {
  }   # trailing after an empty multi-line block
  setup {   # open comment on an otherwise empty block
  }
  teardown { heal }   # after an inline block
  # a "quoted" comment with {braces} and ; semicolons
}
# ""
#
"#,
    ),
    (
        "escapes and spelling",
        r#"case C00042 "esc \q \$ ${a} \\" {
  estimate 0.25h
  step "s" {
    send "tab\there" from alice to ops
    wait 0250ms
    impair link a -> b bandwidth 1.5mbit
    impair link a -> b bandwidth 2gbit drop 0.5%
    chaos seed 007 for 1m { every 1s restart c1 }
  }
}
"#,
    ),
    (
        "no final newline",
        "suite \"S\"\ncase \"c\" {\n  step \"s\" { wait 1s }\n}   # end",
    ),
    ("comment without newline", "suite \"S\"\n# last"),
];
