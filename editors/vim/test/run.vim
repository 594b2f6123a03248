" Headless checks of the Vim support (syntax groups, ftplugin options, indentation), run by
" scripts/editor-tests.sh as: vim -Nu NONE -i NONE -es -S editors/vim/test/run.vim
" Failures go to stderr and Vim exits 1.
let s:root = fnamemodify(expand('<sfile>:p'), ':h:h:h:h')
execute 'set runtimepath^=' . fnameescape(s:root . '/editors/vim')
filetype plugin indent on
syntax on

let s:failures = []
let s:checks = 0

function! s:Fail(message) abort
  call add(s:failures, a:message)
endfunction

"" The syntax group at the first match of `text` (very nomagic; `\zs` marks the character).
function! s:GroupAt(text) abort
  call cursor(1, 1)
  let [line, col] = searchpos('\V' . a:text, 'cW')
  if line == 0
    return '(text not found)'
  endif
  return synIDattr(synID(line, col, 1), 'name')
endfunction

function! s:Expect(text, group) abort
  let s:checks += 1
  let got = s:GroupAt(a:text)
  if got !=# a:group
    call s:Fail(printf('%s: %s is %s, expected %s', expand('%:t'), string(a:text), got, a:group))
  endif
endfunction

function! s:Example(name) abort
  execute 'edit! ' . fnameescape(s:root . '/tests/examples/' . a:name)
endfunction

" Syntax groups in the contract examples.
call s:Example('smoke.jspec')
call s:Expect('# Smallest', 'jspecComment')
call s:Expect('\zssuite "', 'jspecDeclaration')
call s:Expect('"JChat', 'jspecString')
call s:Expect('C1001', 'jspecCaseId')
call s:Expect('medium', 'jspecConstant')
call s:Expect('connect alice', 'jspecStatement')
call s:Expect('to lobby', 'jspecClause')
call s:Expect('"""<presence', 'jspecTripleQuote')
call s:Expect('presence from', 'xmlTagName')
call s:Expect('from="', 'xmlAttrib')
call s:Expect('${lobby.jid}', 'jspecInterpolation')
call s:Expect('5s', 'jspecDuration')

call s:Example('pki-expired.jspec')
call s:Expect('Server b presents', 'jspecTripleString')
call s:Expect('to \zsexpired', 'jspecConstant')
call s:Expect('"error"', 'xmlString')

call s:Example('chaos-cluster.jspec')
call s:Expect('500ms', 'jspecDuration')
call s:Expect('${i}', 'jspecInterpolation')
call s:Expect('60 times', 'jspecNumber')
call s:Expect('5s..10s', 'jspecDuration')
call s:Expect('5s\zs..10s', 'jspecOperator')
call s:Expect('of \zsc1', '')
call s:Expect('no loss', 'jspecClause')

" Values the examples do not show.
enew!
setfiletype jspec
call setline(1, ['impair link a <-> b drop 10% bandwidth 64kbit', 'send "a \"q\" # b" from x to y',
      \ 'set certificate of a to not-yet-valid'])
call s:Expect('10%', 'jspecPercent')
call s:Expect('64kbit', 'jspecRate')
call s:Expect('<->', 'jspecOperator')
call s:Expect('\\"q', 'jspecEscape')
call s:Expect('# b', 'jspecString')
call s:Expect('yet', 'jspecConstant')

" ftplugin options.
let s:checks += 1
if &l:commentstring !=# '# %s' || &l:shiftwidth != 2 || !&l:expandtab || !exists('b:undo_ftplugin')
  call s:Fail(printf('ftplugin: commentstring=%s shiftwidth=%d expandtab=%d',
        \ &l:commentstring, &l:shiftwidth, &l:expandtab))
endif

" Indentation: a flattened example re-indents to the original.
call s:Example('chaos-cluster.jspec')
let s:expected = getline(1, '$')
silent %left
silent normal! gg=G
let s:checks += 1
if getline(1, '$') !=# s:expected
  let s:diff = filter(range(len(s:expected)), 'getline(v:val + 1) !=# s:expected[v:val]')
  call s:Fail(printf('indent: chaos-cluster.jspec line %d is %s, expected %s', s:diff[0] + 1,
        \ string(getline(s:diff[0] + 1)), string(s:expected[s:diff[0]])))
endif

if empty(s:failures)
  qall!
endif
call writefile(['vim: ' . len(s:failures) . ' of ' . s:checks . ' checks failed:'] + s:failures,
      \ '/dev/stderr')
cquit 1
