" jspec: one level more after a line that opens a block, one less on a line that closes one.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal autoindent
setlocal indentexpr=GetJspecIndent(v:lnum)
setlocal indentkeys=0},0),!^F,o,O
let b:undo_indent = 'setlocal autoindent< indentexpr< indentkeys<'

if exists('*GetJspecIndent')
  finish
endif

" The braces of a line that count, outside strings and comments (a `{` in "..." does not).
function! s:Braces(line) abort
  let code = substitute(a:line, '"\%(\\.\|[^"\\]\)*"', '""', 'g')
  let code = substitute(code, '#.*$', '', '')
  return count(code, '{') - count(code, '}')
endfunction

function! GetJspecIndent(lnum) abort
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  " Lines inside a triple-quoted string (raw XML, preconditions) keep their own indentation.
  let group = synIDattr(synID(a:lnum, 1, 1), 'name')
  if group =~# '^jspecTripleString\|^xml'
    return -1
  endif
  let ind = indent(prev)
  let opened = s:Braces(getline(prev))
  if opened > 0
    let ind += shiftwidth()
  endif
  if getline(a:lnum) =~# '^\s*}'
    let ind -= shiftwidth()
  endif
  return ind < 0 ? 0 : ind
endfunction
