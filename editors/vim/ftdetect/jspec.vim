" jspec scenario files.
autocmd BufRead,BufNewFile *.jspec setfiletype jspec
