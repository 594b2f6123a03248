//! Throughput of loading (pest parse + AST building) and checking a program of ~100,000 lines
//! in 50 files, made of the example cases with unique ids and titles (lang/examples/
//! gen_corpus.rs). Criterion reports elements/s, where an element is a source line.
//!
//!   cargo bench -p jspec-lang --bench check
//!
//! Goal: at least 1,000,000 lines/s on one core for `load+check` (docs/benchmarks.md).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jspec_lang::check::{CheckOptions, check};
use jspec_lang::load::Program;

#[path = "../examples/gen_corpus.rs"]
#[allow(dead_code)] // its `main` is for the example binary
mod gen_corpus;

fn bench_check(c: &mut Criterion) {
    let corpus = gen_corpus::corpus(gen_corpus::DEFAULT_LINES, gen_corpus::DEFAULT_FILES);
    let lines = gen_corpus::count_lines(&corpus);
    let files: Vec<(&str, &str)> = corpus
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    let options = CheckOptions::default();

    // Measure the path of a valid program: a syntax error would also turn on pest's (slower)
    // error tracking for the rest of the process.
    let program = Program::from_texts(&files);
    let report = check(&program, &options);
    assert_eq!(report.errors(), 0, "the benchmark corpus must be valid");
    drop(program);

    let mut group = c.benchmark_group("check");
    group.throughput(Throughput::Elements(lines as u64));
    group.sample_size(10);
    group.bench_function(format!("load+check/{lines}_lines"), |b| {
        b.iter(|| {
            let program = Program::from_texts(black_box(&files));
            let report = check(&program, &options);
            black_box((report.errors(), program))
        })
    });
    group.bench_function(format!("load/{lines}_lines"), |b| {
        b.iter(|| black_box(Program::from_texts(black_box(&files))))
    });
    // Last, because it changes the process: the first syntax error turns on pest's error detail
    // (a global), which every later parse then pays for (an editor or a CLI run over many files).
    group.bench_function(
        format!("load+check_after_a_syntax_error/{lines}_lines"),
        |b| {
            let broken = Program::from_text("broken.jspec", "case C1 \"broken\" {\n  connect\n}\n");
            assert!(check(&broken, &options).errors() > 0);
            b.iter(|| {
                let program = Program::from_texts(black_box(&files));
                let report = check(&program, &options);
                black_box((report.errors(), program))
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
