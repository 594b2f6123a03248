fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut sources = jspec_lang::span::SourceMap::new();
        let id = sources.add(path.clone(), jspec_lang::span::Origin::Memory, text.clone());
        let parsed = jspec_lang::parse::parse_file(id, &text);
        if std::env::var("DUMP").is_ok() { println!("{:#?}", parsed.tree); }
        print!("{}", jspec_lang::diagnostic::render_all(&parsed.diagnostics, &sources, jspec_lang::diagnostic::RenderOptions::plain()));
        println!("{path}: {}", if parsed.tree.is_some() { "ok" } else { "FAILED" });
    }
}
