; The body of a triple-quoted string is raw XML when it starts with `<` (stanzas in `send` and
; `expect`); other triple-quoted strings (preconditions) are prose. Interpolations are child
; nodes, so they are left out of the XML text.
((string_content) @injection.content
  (#match? @injection.content "^[ \t\r\n]*<")
  (#set! injection.language "xml"))

((comment) @injection.content
  (#set! injection.language "comment"))
