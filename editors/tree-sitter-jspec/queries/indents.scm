; Indentation: one level inside braces, back out on the closing brace, and lines inside
; triple-quoted strings keep the indentation they have. Only block braces count: the `}` of
; `${name}` sits inside a line.

; Neovim (nvim-treesitter captures)
[
  (case_block)
  (stmt_block)
  (chaos_block)
] @indent.begin

(case_block "}" @indent.branch @indent.end)
(stmt_block "}" @indent.branch @indent.end)
(chaos_block "}" @indent.branch @indent.end)

(triple_string) @indent.ignore

(comment) @indent.auto

; Helix captures
[
  (case_block)
  (stmt_block)
  (chaos_block)
] @indent

(case_block "}" @outdent)
(stmt_block "}" @outdent)
(chaos_block "}" @outdent)
