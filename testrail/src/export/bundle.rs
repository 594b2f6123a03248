//! Writing the export zip: built in memory, then written atomically (no half-written bundle).

use std::io::{Cursor, Write};
use std::path::Path;

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::{ExportRun, api_json, cases_entry, cases_of, csv};

/// Why the bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot build the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Writes the bundle of `runs` to `path`; returns the names of its entries.
pub fn write_bundle(runs: &[ExportRun], path: &Path) -> Result<Vec<String>, BundleError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut names = Vec::new();
    let mut add = |zip: &mut ZipWriter<Cursor<Vec<u8>>>, name: String, bytes: &[u8]| {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes).map_err(zip::result::ZipError::Io)?;
        names.push(name);
        Ok::<(), BundleError>(())
    };
    let (cases_name, cases) = cases_entry(&cases_of(runs));
    add(&mut zip, cases_name.to_owned(), &cases)?;
    add(
        &mut zip,
        "runs.csv".to_owned(),
        csv::runs_csv(runs).as_bytes(),
    )?;
    for run in runs {
        let folder = format!("runs/R{}", run.run_id);
        let files = [
            ("get_run.json", api_json::get_run(run)),
            ("get_tests.json", api_json::get_tests(run)),
            (
                "get_results_for_run.json",
                api_json::get_results_for_run(run),
            ),
        ];
        for (name, value) in files {
            let mut bytes = serde_json::to_vec_pretty(&value)?;
            bytes.push(b'\n');
            add(&mut zip, format!("{folder}/{name}"), &bytes)?;
        }
    }
    let bytes = zip.finish()?.into_inner();
    jspec_results::write_atomic(path, &bytes).map_err(|source| BundleError::Write {
        path: path.display().to_string(),
        source,
    })?;
    Ok(names)
}
