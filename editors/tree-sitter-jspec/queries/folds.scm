; Folds: every braced block, and triple-quoted strings (XML stanzas span many lines).
[
  (case_block)
  (stmt_block)
  (chaos_block)
  (triple_string)
] @fold
