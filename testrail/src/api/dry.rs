//! `--dry-run`: prints each request (method, URL, JSON body) and answers with placeholders such
//! as `{run_id}`, so the push runs its whole course without the network or the credentials.

use std::io::Write;

use serde_json::{Value, json};

use super::{ApiError, Body, Request, Transport, api_url};

/// Prints requests to a writer instead of sending them.
#[derive(Debug)]
pub struct DryRun<W: Write + Send> {
    base: String,
    out: W,
    /// The project name asked for: the placeholder project of `get_projects` bears it.
    project: String,
}

impl<W: Write + Send> DryRun<W> {
    pub fn new(base: &str, project: &str, out: W) -> Self {
        Self {
            base: base.to_owned(),
            out,
            project: project.to_owned(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn print(&mut self, request: &Request) -> std::io::Result<()> {
        let url = api_url(&self.base, &request.path);
        // The credentials are never printed, not even their user.
        writeln!(self.out, "{} {url}", request.method)?;
        writeln!(self.out, "Authorization: Basic <redacted>")?;
        match &request.body {
            Body::None => {}
            Body::Json(value) => {
                let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
                writeln!(self.out, "{text}")?;
            }
            Body::Attachment(path) => {
                writeln!(self.out, "attachment: {}", path.display())?;
            }
        }
        writeln!(self.out)
    }
}

impl<W: Write + Send> Transport for DryRun<W> {
    fn call(&mut self, request: Request) -> Result<Value, ApiError> {
        self.print(&request).map_err(|e| ApiError::Transport {
            method: request.method,
            url: api_url(&self.base, &request.path),
            message: e.to_string(),
        })?;
        Ok(placeholder(&request, &self.project))
    }
}

/// What the push needs from each answer, with the unknown ids as placeholders.
fn placeholder(request: &Request, project: &str) -> Value {
    let method = request.path.split(['/', '&']).next().unwrap_or_default();
    match method {
        "get_projects" => json!([{ "id": "{project_id}", "name": project }]),
        "get_result_fields" => {
            json!([{ "type_id": 11, "system_name": "custom_step_results", "is_active": true }])
        }
        "add_run" => json!({ "id": "{run_id}" }),
        "get_run" => json!({ "id": "{run_id}", "include_all": true }),
        "add_results_for_cases" => {
            let results = match &request.body {
                Body::Json(body) => body["results"].as_array().cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            Value::Array(
                results
                    .iter()
                    .map(|r| json!({ "id": format!("{{result_id of C{}}}", r["case_id"]) }))
                    .collect(),
            )
        }
        _ => Value::Null,
    }
}
