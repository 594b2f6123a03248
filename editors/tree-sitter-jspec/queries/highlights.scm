; Highlights for .jspec. Capture names are the common ones of Neovim and Helix; both fall back
; from `keyword.type` to `keyword` when a theme has no colour for the longer name.
; Patterns do not overlap, so the order (first wins in Helix, last in Neovim) does not matter.

; Keywords by role, from lang/src/keywords.rs
; (JSPEC_BLESS=1 cargo test -p jspec-lang --test editors rewrites this block).
; BEGIN GENERATED KEYWORDS
[
  "suite" "section" "use" "procedure" "case" "priority" "type" "refs" "tags" "estimate" "requires"
  "preconditions" "servers" "databases" "user" "room" "setup" "step" "teardown"
] @keyword.type
[
  "connect" "disconnect" "join" "leave" "send" "wait" "expect" "set" "revoke" "partition" "isolate"
  "heal" "impair" "flood" "restore" "kill" "stop" "start" "restart" "pause" "resume" "chaos"
  "every" "parallel" "repeat" "check" "skew" "switch"
] @keyword.control
[
  "with" "nodes" "on" "to" "auth" "abruptly" "as" "admin" "via" "from" "receives" "next" "delayed"
  "cluster" "clock" "strict" "in" "order" "within" "fails" "archive" "of" "has" "messages"
  "message" "link" "authenticated" "by" "over" "certificate" "ticket" "database" "primary" "is"
  "replicas" "process" "reject" "close" "lag" "jitter" "drop" "throttle" "duplicate" "reorder"
  "tamper" "bandwidth" "at" "without" "presence" "resumed" "reconnected" "disconnected" "seed"
  "for" "one" "times" "delivery" "no" "loss" "duplicates"
] @keyword.operator
[
  "low" "medium" "high" "critical" "starttls" "direct-tls" "scram" "plain" "external" "gssapi"
  "dialback" "valid" "expired" "not-yet-valid" "revoked" "wrong-host" "self-signed" "none"
  "nothing" "stanzas" "split" "xmpp" "stream-management" "carbons"
] @constant.builtin
; END GENERATED KEYWORDS

(comment) @comment

[
  (string)
  (triple_string)
] @string

(escape_sequence) @string.escape

(interpolation
  "${" @punctuation.special
  name: (identifier) @variable
  field: (identifier)? @variable.member)

[
  (duration)
  (clock_offset)
  (percent)
  (rate)
  (integer)
] @number

(case_id) @constant

(procedure_decl
  name: (identifier) @function)

(params
  (identifier) @variable.parameter)

(call_stmt
  name: (identifier) @function.call)

[
  "->"
  "<->"
  "|"
  ".."
] @operator

[
  "{"
  "}"
  "("
  ")"
] @punctuation.bracket

[
  ","
  ";"
  ":"
  "."
] @punctuation.delimiter
