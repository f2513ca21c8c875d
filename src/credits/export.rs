//! Journal export: CSV (for spreadsheets) or JSON lines (for scripts), oldest row first.

use std::io::Write;

use super::{JournalEntry, LedgerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

const CSV_HEADER: &str =
    "seq,at,at_utc,pool,guild,member,actor,kind,amount,released,hold,reason,available_after";

/// Writes `rows` in `format`; returns how many rows were written.
pub(crate) fn write(
    rows: impl Iterator<Item = Result<JournalEntry, LedgerError>>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<usize, LedgerError> {
    let io = |e: std::io::Error| LedgerError::Storage(e.into());
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}").map_err(io)?;
    }
    let mut count = 0;
    for row in rows {
        let row = row?;
        match format {
            ExportFormat::Csv => writeln!(out, "{}", csv_line(&row)).map_err(io)?,
            ExportFormat::Jsonl => {
                let line = serde_json::to_string(&row).expect("journal entries serialise");
                writeln!(out, "{line}").map_err(io)?;
            }
        }
        count += 1;
    }
    out.flush().map_err(io)?;
    Ok(count)
}

fn csv_line(r: &JournalEntry) -> String {
    let fields = [
        r.seq.to_string(),
        r.at.to_string(),
        super::format_utc(r.at),
        r.pool.to_string(),
        r.guild.to_string(),
        r.member.map(|m| m.to_string()).unwrap_or_default(),
        r.actor.to_string(),
        r.kind.to_string(),
        r.amount.to_string(),
        r.released.to_string(),
        csv_text(r.hold.as_deref().unwrap_or("")),
        csv_text(&r.reason),
    ];
    let mut line = fields.join(",");
    line.push(',');
    line.push_str(&r.available_after.to_string());
    line
}

/// Quotes free text for CSV, and defuses a leading `= + - @` so a spreadsheet shows the
/// text instead of evaluating it as a formula.
pub(crate) fn csv_text(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_quotes_and_defuses_formulas() {
        assert_eq!(csv_text("plain"), "plain");
        assert_eq!(csv_text("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_text("=1+1"), "'=1+1");
    }
}
