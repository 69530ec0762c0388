//! Rendering postmortems through Tera templates users can edit or replace. Templates load once at
//! start-up and are test-rendered then, so a broken template is an error at start-up, not at the
//! first draft.

use std::collections::HashMap;
use std::path::Path;

use tera::{Tera, Value};

use crate::domain::Postmortem;
use crate::domain::fmt_minutes;
use crate::domain::report::{Charts, Report};

pub const MARKDOWN: &str = "postmortem.md.tera";
pub const HTML: &str = "postmortem.html.tera";
pub const REPORT_MARKDOWN: &str = "report.md.tera";
pub const REPORT_HTML: &str = "report.html.tera";

const BUILTIN: &[(&str, &str)] = &[
    (MARKDOWN, include_str!("../../templates/postmortem.md.tera")),
    (HTML, include_str!("../../templates/postmortem.html.tera")),
    (
        REPORT_MARKDOWN,
        include_str!("../../templates/report.md.tera"),
    ),
    (
        REPORT_HTML,
        include_str!("../../templates/report.html.tera"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Loaded, validated templates.
#[derive(Clone)]
pub struct Templates {
    tera: Tera,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

/// A template's text: the file `name` in `dir` when there is one, else the built-in text.
pub(crate) fn source(
    dir: Option<&Path>,
    name: &str,
    builtin: &str,
) -> Result<String, TemplateError> {
    match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
        Some(path) => std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        }),
        None => Ok(builtin.to_string()),
    }
}

pub(crate) fn error_chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

impl Templates {
    /// The built-in templates, each replaced by a file of the same name in `dir` when present.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html.tera", ".html"]);
        tera.register_filter("cite", cite);
        tera.register_filter("md_cell", md_cell);
        tera.register_filter("minutes", minutes);
        tera.register_filter("percent", percent);
        for (name, builtin) in BUILTIN {
            let text = source(dir, name, builtin)?;
            tera.add_raw_template(name, &text)
                .map_err(|e| TemplateError::Invalid {
                    name: name.to_string(),
                    message: error_chain(&e),
                })?;
        }
        let t = Self { tera };
        // Render a complete sample so undefined variables and bad filters fail now.
        let sample: Postmortem = serde_json::from_str(include_str!("sample_postmortem.json"))
            .expect("the bundled sample postmortem parses");
        for name in [MARKDOWN, HTML] {
            t.render(name, &sample)?;
        }
        let mut report: Report = serde_json::from_str(include_str!("sample_report.json"))
            .expect("the bundled sample report parses");
        // The page draws the charts `patterns::report` attaches; any SVG checks the template.
        let svg = || "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".to_string();
        report.charts = Some(Charts {
            resolve_trend: svg(),
            families_per_month: svg(),
            heatmap: svg(),
        });
        t.report_markdown(&report)?;
        t.report_html(&report)?;
        Ok(t)
    }

    pub fn render(&self, name: &str, p: &Postmortem) -> Result<String, TemplateError> {
        let ctx = tera::Context::from_serialize(p).map_err(|e| TemplateError::Invalid {
            name: name.into(),
            message: error_chain(&e),
        })?;
        self.tera
            .render(name, &ctx)
            .map_err(|e| TemplateError::Invalid {
                name: name.into(),
                message: error_chain(&e),
            })
    }

    pub fn markdown(&self, p: &Postmortem) -> Result<String, TemplateError> {
        self.render(MARKDOWN, p)
    }

    pub fn html(&self, p: &Postmortem) -> Result<String, TemplateError> {
        self.render(HTML, p)
    }

    fn render_any(&self, name: &str, v: &impl serde::Serialize) -> Result<String, TemplateError> {
        let invalid = |e: tera::Error| TemplateError::Invalid {
            name: name.into(),
            message: error_chain(&e),
        };
        let ctx = tera::Context::from_serialize(v).map_err(invalid)?;
        self.tera.render(name, &ctx).map_err(invalid)
    }

    /// The monthly report as Markdown (for Slack and files).
    pub fn report_markdown(&self, r: &Report) -> Result<String, TemplateError> {
        self.render_any(REPORT_MARKDOWN, r)
    }

    /// The monthly report as a page; its charts (`patterns::report::with_charts`) are drawn when
    /// the report carries them.
    pub fn report_html(&self, r: &Report) -> Result<String, TemplateError> {
        self.render_any(REPORT_HTML, r)
    }
}

/// Text made safe inside XML and HTML (SVG charts, attributes): `&`, `<`, `>`, `"` and `'`.
pub fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `ids | cite` → ` [a, b]` (nothing for an empty list).
fn cite(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let ids: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(|s| format!("`{s}`")))
                .collect()
        })
        .unwrap_or_default();
    Ok(Value::String(if ids.is_empty() {
        String::new()
    } else {
        format!(" [{}]", ids.join(", "))
    }))
}

/// Makes text safe inside a Markdown table cell.
fn md_cell(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = v.as_str().unwrap_or_default();
    Ok(Value::String(
        s.replace('\\', "\\\\")
            .replace('|', "\\|")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    ))
}

/// Minutes as "45 min" / "2 h 5 min"; null as "unknown".
fn minutes(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(match v.as_f64() {
        Some(m) => fmt_minutes(m),
        None => "unknown".into(),
    }))
}

/// `12.34 | percent` → `12%` (signed values keep their sign).
fn percent(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(match v.as_f64() {
        Some(p) => format!("{p:.0}%"),
        None => "n/a".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_user_template_is_an_error_at_load_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKDOWN), "{% for x in %}").unwrap();
        let e = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains(MARKDOWN), "{e}");
        std::fs::write(dir.path().join(MARKDOWN), "{{ no_such_field.deeper }}").unwrap();
        assert!(
            Templates::load(Some(dir.path())).is_err(),
            "undefined variables fail at load"
        );
        std::fs::write(dir.path().join(MARKDOWN), "# {{ title }} by {{ drafter }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let sample: Postmortem =
            serde_json::from_str(include_str!("sample_postmortem.json")).unwrap();
        assert!(t.markdown(&sample).unwrap().starts_with("# "));
    }

    #[test]
    fn html_escapes_what_people_wrote() {
        let t = Templates::load(None).unwrap();
        let mut p: Postmortem =
            serde_json::from_str(include_str!("sample_postmortem.json")).unwrap();
        p.title = "<script>alert(1)</script>".into();
        let html = t.html(&p).unwrap();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
