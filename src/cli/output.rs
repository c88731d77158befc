//! How the cluster commands print: aligned tables, `-o json|yaml` documents,
//! kubectl-style ages, and colour only for a person at a terminal.

use std::io::{IsTerminal, Write};

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

pub use skiff_cli::format::Format;

/// The few colours the tables use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Green,
    Yellow,
    Red,
}

impl Colour {
    fn code(self) -> &'static str {
        match self {
            Colour::Green => "\x1b[32m",
            Colour::Yellow => "\x1b[33m",
            Colour::Red => "\x1b[31m",
        }
    }
}

const RESET: &str = "\x1b[0m";

/// Colour is for a person at a terminal: never when stdout is a pipe or a
/// file, nor when `NO_COLOR` is set (https://no-color.org).
pub fn colour_enabled() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The colour of a status word, wherever it appears (sync, health, phase, result).
pub fn status_colour(word: &str) -> Option<Colour> {
    match word {
        "Synced" | "Healthy" | "Succeeded" => Some(Colour::Green),
        "OutOfSync" | "Progressing" | "Running" | "Suspended" | "Missing" => Some(Colour::Yellow),
        "Degraded" | "Failed" | "Error" => Some(Colour::Red),
        _ => None,
    }
}

/// `text` in `colour` when `enabled`.
pub fn paint(text: &str, colour: Option<Colour>, enabled: bool) -> String {
    match colour {
        Some(c) if enabled && !text.is_empty() => format!("{}{text}{RESET}", c.code()),
        _ => text.to_owned(),
    }
}

/// One table cell: its text, and the colour it gets on a terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub colour: Option<Colour>,
}

impl Cell {
    /// A cell coloured by what it says (`Synced` green, `Degraded` red, ...).
    pub fn status(text: impl Into<String>) -> Cell {
        let text = text.into();
        let colour = status_colour(&text);
        Cell { text, colour }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, colour: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_owned())
    }
}

/// Columns separated by three spaces, each as wide as its widest cell; the
/// last column is not padded, so lines carry no trailing blanks.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Table {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra ones are dropped.
    pub fn row(&mut self, cells: impl IntoIterator<Item = Cell>) {
        let mut cells: Vec<Cell> = cells.into_iter().collect();
        cells.resize(self.headers.len(), Cell::from(""));
        self.rows.push(cells);
    }

    /// The table as text, one line per row after the header line.
    pub fn render(&self, colour: bool) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell.text));
            }
        }
        let header: Vec<Cell> = self
            .headers
            .iter()
            .map(|h| Cell::from(h.as_str()))
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let last = row.len().saturating_sub(1);
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                line.push_str(&paint(&cell.text, cell.colour, colour));
                if i < last {
                    // Padding is computed on the plain text: escape codes take no columns.
                    line.push_str(&" ".repeat(w - width(&cell.text) + 3));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Display width in columns; our cells are text without wide characters.
fn width(text: &str) -> usize {
    text.chars().count()
}

/// `key: value` lines with the values aligned, as `kubectl describe` prints.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    lines: Vec<(String, String)>,
}

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    pub fn add(&mut self, key: &str, value: impl Into<String>) -> &mut Fields {
        self.lines.push((key.to_owned(), value.into()));
        self
    }

    /// The lines, each indented by `indent` spaces.
    pub fn render(&self, indent: usize) -> String {
        let key_width = self.lines.iter().map(|(k, _)| width(k) + 1).max();
        let mut out = String::new();
        for (key, value) in &self.lines {
            let pad = key_width.unwrap_or(0) - width(key) - 1;
            let line = format!("{}{key}:{} {value}", " ".repeat(indent), " ".repeat(pad));
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// How long ago, as kubectl prints ages: `45s`, `3m20s`, `5m`, `2h30m`, `5h`,
/// `3d4h`, `12d`, `2y10d`; two units while the smaller still matters, then one.
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let seconds = now.as_second() - since.as_second();
    if seconds < -1 {
        // The other clock is ahead of ours by more than rounding explains.
        return "<invalid>".to_owned();
    }
    let s = seconds.max(0);
    let (minutes, hours, days) = (s / 60, s / 3600, s / 86_400);
    let pair = |big: i64, big_unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    if minutes < 2 {
        format!("{s}s")
    } else if minutes < 10 {
        pair(minutes, "m", s % 60, "s")
    } else if hours < 3 {
        format!("{minutes}m")
    } else if hours < 8 {
        pair(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if days < 8 {
        pair(days, "d", hours % 24, "h")
    } else if days < 365 * 2 {
        format!("{days}d")
    } else if days < 365 * 8 {
        pair(days / 365, "y", days % 365, "d")
    } else {
        format!("{}y", days / 365)
    }
}

/// A time as RFC 3339 to the second, in UTC.
pub fn timestamp(t: Timestamp) -> String {
    format!("{:.0}", t)
}

/// A commit SHA cut to 12 characters for tables; tags, branches and chart
/// versions are kept whole, since a prefix of them means nothing.
pub fn short_revision(revision: &str) -> String {
    const SHORT: usize = 12;
    if revision.len() > SHORT && revision.chars().all(|c| c.is_ascii_hexdigit()) {
        revision[..SHORT].to_owned()
    } else {
        revision.to_owned()
    }
}

/// One line of at most `max` characters, ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line = single_line(text);
    if width(&one_line) <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Newlines and runs of blanks become one space, so a message keeps its row.
pub fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `value` as pretty JSON (keys sorted, so the output is stable) or YAML.
pub fn document(value: &impl Serialize, format: Format) -> Result<String, String> {
    let value = serde_json::to_value(value).map_err(|e| format!("encoding the output: {e}"))?;
    match format {
        Format::Yaml => {
            serde_saphyr::to_string(&value).map_err(|e| format!("encoding the output: {e}"))
        }
        _ => serde_json::to_string_pretty(&value)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| format!("encoding the output: {e}")),
    }
}

pub fn print(text: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing the output: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).expect("valid")
    }

    fn ago(seconds: i64) -> String {
        let now = 2_000_000_000;
        age(at(now - seconds), at(now))
    }

    #[test]
    fn ages_read_like_kubectl() {
        let day = 86_400;
        let cases = [
            (-1, "0s"),
            (-5, "<invalid>"),
            (0, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 30 * 60, "5h30m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (2 * day, "2d"),
            (3 * day + 4 * 3600, "3d4h"),
            (8 * day, "8d"),
            (729 * day, "729d"),
            (730 * day, "2y"),
            (740 * day, "2y10d"),
            (8 * 365 * day + day, "8y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(ago(seconds), want, "{seconds}s ago");
        }
    }

    #[test]
    fn table_columns_are_aligned_without_trailing_blanks() {
        let mut table = Table::new(["NAME", "SYNC", "MESSAGE"]);
        table.row([Cell::from("web"), Cell::status("Synced"), Cell::from("")]);
        table.row([
            Cell::from("payments-api"),
            Cell::status("OutOfSync"),
            Cell::from("one object differs"),
        ]);
        table.row([Cell::from("x")]);
        assert_eq!(
            table.render(false),
            "NAME           SYNC        MESSAGE\n\
             web            Synced\n\
             payments-api   OutOfSync   one object differs\n\
             x\n"
        );
    }

    #[test]
    fn colour_does_not_shift_the_columns() {
        let mut table = Table::new(["SYNC", "HEALTH"]);
        table.row([Cell::status("Synced"), Cell::status("Degraded")]);
        table.row([Cell::status("OutOfSync"), Cell::status("Healthy")]);
        let coloured = table.render(true);
        assert!(coloured.contains("\x1b[32mSynced\x1b[0m"), "{coloured:?}");
        assert!(coloured.contains("\x1b[31mDegraded\x1b[0m"), "{coloured:?}");
        let plain: String = coloured
            .replace("\x1b[32m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[31m", "")
            .replace(RESET, "");
        assert_eq!(plain, table.render(false));
        assert!(!table.render(false).contains('\x1b'));
    }

    #[test]
    fn fields_align_their_values() {
        let mut fields = Fields::new();
        fields.add("Repo", "https://example.com/fleet.git");
        fields.add("Target", "main").add("Empty", "");
        assert_eq!(
            fields.render(2),
            "  Repo:   https://example.com/fleet.git\n  Target: main\n  Empty:\n"
        );
    }

    #[test]
    fn shortening_keeps_non_hashes_whole() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(short_revision(sha), "0123456789ab");
        assert_eq!(short_revision("1.2.3-rc.1+build.5"), "1.2.3-rc.1+build.5");
        assert_eq!(short_revision("main"), "main");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a  long\nmessage here", 10), "a long me…");
        assert_eq!(truncate("ééééééééééé", 5), "éééé…");
    }

    #[test]
    fn timestamps_are_rfc3339_to_the_second() {
        let t: Timestamp = "2026-11-25T23:32:36.123456789Z".parse().expect("time");
        assert_eq!(timestamp(t), "2026-11-25T23:32:36Z");
    }
}
