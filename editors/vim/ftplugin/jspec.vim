" jspec: comments start with `#`; `jspec fmt` indents with two spaces.
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s
setlocal comments=:#
setlocal formatoptions-=t formatoptions+=croql
setlocal expandtab shiftwidth=2 softtabstop=2
" Identifiers and keywords may contain `-` (direct-tls, not-yet-valid).
setlocal iskeyword+=-

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< expandtab< shiftwidth< softtabstop< iskeyword<'
