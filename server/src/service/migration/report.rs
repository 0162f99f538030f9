//! The run's summary, for an operator (text) and for scripts (`--json`).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::ImportReport;

/// `{"app_id", "dry_run", "imported", "unchanged", "failed": [{"line", "authy_id", "reason"}]}`;
/// with `dry_run`, the counts are what a real run would do.
pub fn report_json(report: &ImportReport) -> Value {
    let failed: Vec<Value> = report
        .failed
        .iter()
        .map(|f| json!({"line": f.line, "authy_id": f.authy_id, "reason": f.reason}))
        .collect();
    json!({
        "app_id": report.app_id,
        "dry_run": report.dry_run,
        "imported": report.imported,
        "unchanged": report.unchanged,
        "failed": failed,
    })
}

pub fn report_text(report: &ImportReport) -> String {
    let mut text = String::new();
    let (imported, note) = match report.dry_run {
        true => ("would import", " (dry run: nothing was written)"),
        false => ("imported", ""),
    };
    let _ = writeln!(text, "app {}{note}", report.app_id);
    let _ = writeln!(text, "{imported}: {}", report.imported);
    let _ = writeln!(text, "unchanged: {}", report.unchanged);
    let _ = writeln!(text, "failed: {}", report.failed.len());
    for failure in &report.failed {
        let _ = writeln!(text, "  line {}: {}", failure.line, failure.reason);
    }
    text
}
