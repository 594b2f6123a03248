" Vim syntax file for jspec, the XMPP test scenario language.
" The keyword lists between the GENERATED markers come from lang/src/keywords.rs; refresh them
" with `JSPEC_BLESS=1 cargo test -p jspec-lang --test editors`.
if exists('b:current_syntax')
  finish
endif

" Raw XML inside triple-quoted strings: xml.vim's groups, reachable only from @jspecXml.
syntax include @jspecXml syntax/xml.vim
unlet! b:current_syntax

" Keywords may contain `-` (direct-tls, not-yet-valid), like identifiers.
syntax iskeyword @,48-57,_,192-255,-
syntax case match

" BEGIN GENERATED KEYWORDS
syntax keyword jspecDeclaration suite section use procedure case priority type refs tags estimate
      \ requires preconditions servers databases user room setup step teardown
syntax keyword jspecStatement connect disconnect join leave send wait expect set revoke partition
      \ isolate heal impair flood restore kill stop start restart pause resume chaos every parallel
      \ repeat check skew switch
syntax keyword jspecClause with nodes on to auth abruptly as admin via from receives next delayed
      \ cluster clock strict in order within fails archive of has messages message link
      \ authenticated by over certificate ticket database primary is replicas process reject close
      \ lag jitter drop throttle duplicate reorder tamper bandwidth at without presence resumed
      \ reconnected disconnected seed for one times delivery no loss duplicates
syntax keyword jspecConstant low medium high critical starttls direct-tls scram plain external
      \ gssapi dialback valid expired not-yet-valid revoked wrong-host self-signed none nothing
      \ stanzas split xmpp stream-management carbons
" END GENERATED KEYWORDS

syntax match jspecCaseId /\<C\d\+\>/
" Units after plain numbers: of two matches at one column, the later one wins.
syntax match jspecNumber /\<\d\+\>/
syntax match jspecDuration /\<\d\+\%(\.\d\+\)\=\%(ms\|s\|m\|h\)\>/
syntax match jspecRate /\<\d\+\%(\.\d\+\)\=\%(gbit\|mbit\|kbit\|bit\)\>/
syntax match jspecPercent /\<\d\+\%(\.\d\+\)\=%/
syntax match jspecOperator /<->\|->\|\.\.\||/

syntax match jspecInterpolation /\${\h[[:alnum:]_-]*\%(\.\h[[:alnum:]_-]*\)\=}/ contained containedin=xmlString
syntax match jspecEscape /\\./ contained
syntax region jspecString start=/"/ skip=/\\./ end=/"/ oneline contains=jspecInterpolation,jspecEscape
" Defined after "...": of two items starting at the same column, the later one wins.
syntax region jspecTripleString matchgroup=jspecTripleQuote start=/"""/ end=/"""/ keepend
      \ contains=jspecInterpolation,@jspecXml

syntax match jspecComment /#.*$/ contains=jspecTodo,@Spell
syntax keyword jspecTodo TODO FIXME XXX contained

syntax sync fromstart

highlight default link jspecDeclaration Structure
highlight default link jspecStatement Statement
highlight default link jspecClause Special
highlight default link jspecConstant Constant
highlight default link jspecCaseId Identifier
highlight default link jspecDuration Number
highlight default link jspecRate Number
highlight default link jspecPercent Number
highlight default link jspecNumber Number
highlight default link jspecOperator Operator
highlight default link jspecString String
highlight default link jspecTripleString String
highlight default link jspecTripleQuote String
highlight default link jspecInterpolation PreProc
highlight default link jspecEscape SpecialChar
highlight default link jspecComment Comment
highlight default link jspecTodo Todo

let b:current_syntax = 'jspec'
