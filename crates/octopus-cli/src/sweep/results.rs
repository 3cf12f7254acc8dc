//! Results files: one JSON object per line per finished point (`docs/sweep.md`, "Results"),
//! appended with one `write` and an fsync each, read back with every bad line reported by number.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use octopus_hw::Machine;
use octopus_sim::SimResult;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::spec::{PointInputs, SPEC_VERSION};

/// A results line as written. `result` is the simulator's [`SimResult`], whatever fields it has.
#[derive(Serialize)]
struct LineOut<'a> {
    spec_version: u32,
    /// [`octopus_sim::MODEL_VERSION`]: results of another simulator model are refused.
    model_version: u32,
    key: &'a str,
    point: &'a PointInputs<'a>,
    workflow: WorkflowInfo<'a>,
    machine: MachineInfo<'a>,
    result: &'a SimResult,
}

#[derive(Serialize)]
struct WorkflowInfo<'a> {
    name: &'a str,
    fingerprint: String,
}

#[derive(Serialize)]
struct MachineInfo<'a> {
    name: &'a str,
    fingerprint: String,
    tbus: usize,
    clusters: usize,
    dies: usize,
}

/// A fingerprint as results lines write it: 16 lowercase hex digits.
pub fn hex(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

/// The text of one results line, newline included.
pub fn line_text(
    key: &str,
    point: &PointInputs<'_>,
    workflow: (&str, u64),
    machine: &Machine,
    result: &SimResult,
) -> String {
    let line = LineOut {
        spec_version: SPEC_VERSION,
        model_version: octopus_sim::MODEL_VERSION,
        key,
        point,
        workflow: WorkflowInfo { name: workflow.0, fingerprint: hex(workflow.1) },
        machine: MachineInfo {
            name: machine.name(),
            fingerprint: hex(machine.fingerprint()),
            tbus: machine.tbus.len(),
            clusters: machine.clusters.len(),
            dies: machine.dies.len(),
        },
        result,
    };
    let mut text = serde_json::to_string(&line).expect("results lines serialise");
    text.push('\n');
    text
}

/// A problem with a results file; each names the file and line.
#[derive(Debug, Error, Diagnostic)]
pub enum ResultsError {
    /// The last line does not end in a newline: a run was cut off while writing it.
    #[error("`{file}`:{line}: the last line is cut off (a run was interrupted while writing it)")]
    #[diagnostic(code(sweep::truncated_line))]
    Truncated {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What to do.
        #[help]
        help: String,
    },
    /// A line that is not a results line.
    #[error("`{file}`:{line}: not a results line: {reason}")]
    #[diagnostic(
        code(sweep::invalid_line),
        help("results files are written only by `octopus sweep`; restore this line or remove it")
    )]
    Invalid {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// Why.
        reason: String,
    },
    /// A line of another version of the format.
    #[error(
        "`{file}`:{line}: written for spec version {found}, this octopus reads spec version {SPEC_VERSION} with simulator model {}",
        octopus_sim::MODEL_VERSION
    )]
    #[diagnostic(
        code(sweep::spec_version),
        help(
            "results of different versions are never mixed: rerun the sweep into another results file (`-o`)"
        )
    )]
    Version {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The version found.
        found: String,
    },
    /// A point recorded twice.
    #[error("`{file}`:{line}: point `{key}` is recorded twice (first on line {first})")]
    #[diagnostic(code(sweep::duplicate_point), help("one run per results file; remove one of the lines"))]
    Duplicate {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The first line.
        first: usize,
        /// The point's key.
        key: String,
    },
    /// One point with two different results in the files merged.
    #[error("`{file}`:{line}: point `{key}` has another result in `{other_file}`:{other_line}")]
    #[diagnostic(
        code(sweep::conflicting_point),
        help(
            "two runs of one point differ: the shards ran different versions of octopus or different inputs"
        )
    )]
    Conflict {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The point's key.
        key: String,
        /// The other file.
        other_file: String,
        /// Its line.
        other_line: usize,
    },
    /// Points that no file merged records.
    #[error("{count} of the sweep's {total} points are in none of the files merged (the first: {example})")]
    #[diagnostic(
        code(sweep::missing_points),
        help("merge every shard's file, after every shard has finished; `--partial` merges what there is")
    )]
    Missing {
        /// How many are missing.
        count: usize,
        /// Points in the sweep.
        total: usize,
        /// The first one missing.
        example: String,
    },
    /// A line that is no point of this spec.
    #[error("`{file}`:{line}: point `{key}` is not a point of this sweep")]
    #[diagnostic(
        code(sweep::foreign_point),
        help(
            "the file holds results of another spec (or of this one before it changed); write to another results file (`-o`), or remove the line"
        )
    )]
    Foreign {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The point's key.
        key: String,
    },
    /// A point of another shard.
    #[error("`{file}`:{line}: point `{key}` belongs to shard {owner}, not to this shard {this}")]
    #[diagnostic(code(sweep::other_shard), help("each shard appends to its own results file"))]
    OtherShard {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The point's key.
        key: String,
        /// Its shard.
        owner: String,
        /// This run's shard.
        this: String,
    },
    /// A point run on inputs that have changed since.
    #[error(
        "`{file}`:{line}: {what} `{name}` has changed since this point ran (fingerprint {recorded}, now {now})"
    )]
    #[diagnostic(
        code(sweep::changed_input),
        help(
            "results of different inputs are never mixed: restore the input, or run the sweep into another results file (`-o`)"
        )
    )]
    Changed {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// `workflow` or `machine`.
        what: &'static str,
        /// Its name in the spec.
        name: String,
        /// The recorded fingerprint.
        recorded: String,
        /// The current one.
        now: String,
    },
    /// Shards that ran on different inputs.
    #[error(
        "`{file}`:{line}: {what} `{name}` has fingerprint {found}, but `{other_file}`:{other_line} has {expected}"
    )]
    #[diagnostic(
        code(sweep::inconsistent_inputs),
        help(
            "the shards ran on different inputs (another checkout or edited files); rerun the stale shards"
        )
    )]
    Inconsistent {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// `workflow` or `machine`.
        what: &'static str,
        /// Its name.
        name: String,
        /// Its fingerprint here.
        found: String,
        /// The first file seen with it.
        other_file: String,
        /// Its line there.
        other_line: usize,
        /// Its fingerprint there.
        expected: String,
    },
}

/// One valid line of a results file.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The file it was read from.
    pub file: PathBuf,
    /// Its line number, from 1.
    pub line: usize,
    /// The line's text, newline included (copied verbatim into merged files).
    pub text: String,
    /// The parsed line.
    pub value: Value,
    /// Its key.
    pub key: String,
}

impl Entry {
    /// A string field by JSON pointer (`/workflow/fingerprint`).
    pub fn str_at(&self, pointer: &str) -> &str {
        self.value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
    }
}

/// A results file read back.
#[derive(Debug)]
pub struct ResultsFile {
    /// Its complete, valid lines.
    pub entries: Vec<Entry>,
    /// A cut-off last line: its number and the byte offset it starts at.
    pub truncated: Option<(usize, u64)>,
}

/// Parses a results file: every complete line must be a results line of this version with a key
/// not seen before. A cut-off last line is returned apart (the caller refuses or repairs it).
pub fn parse(file: &Path, text: &str) -> Result<ResultsFile, Vec<ResultsError>> {
    let name = file.display().to_string();
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut truncated = None;
    let mut offset = 0usize;
    for (i, chunk) in text.split_inclusive('\n').enumerate() {
        let line = i + 1;
        let start = offset;
        offset += chunk.len();
        if !chunk.ends_with('\n') {
            truncated = Some((line, start as u64));
            break;
        }
        let invalid = |reason: String| ResultsError::Invalid { file: name.clone(), line, reason };
        let value: Value = match serde_json::from_str(chunk) {
            Ok(v) => v,
            Err(e) => {
                errors.push(invalid(e.to_string()));
                continue;
            }
        };
        match value.get("spec_version") {
            Some(v) if v.as_u64() == Some(u64::from(SPEC_VERSION)) => {}
            Some(v) => {
                errors.push(ResultsError::Version { file: name.clone(), line, found: v.to_string() });
                continue;
            }
            None => {
                errors.push(invalid("no `spec_version`".into()));
                continue;
            }
        }
        match value.get("model_version") {
            Some(v) if v.as_u64() == Some(u64::from(octopus_sim::MODEL_VERSION)) => {}
            v => {
                let found = v.map_or("none".to_owned(), |v| format!("model {v}"));
                errors.push(ResultsError::Version { file: name.clone(), line, found });
                continue;
            }
        }
        let missing =
            ["key", "point", "workflow", "machine", "result"].into_iter().find(|f| value.get(f).is_none());
        if let Some(f) = missing {
            errors.push(invalid(format!("no `{f}`")));
            continue;
        }
        let Some(key) = value["key"].as_str().map(str::to_owned) else {
            errors.push(invalid("`key` is not a string".into()));
            continue;
        };
        if let Some(&first) = seen.get(&key) {
            errors.push(ResultsError::Duplicate { file: name.clone(), line, first, key });
            continue;
        }
        seen.insert(key.clone(), line);
        entries.push(Entry { file: file.to_path_buf(), line, text: chunk.to_owned(), value, key });
    }
    if errors.is_empty() { Ok(ResultsFile { entries, truncated }) } else { Err(errors) }
}

/// Reads and parses a results file; a missing file is an empty one when `missing_ok`.
pub fn read(file: &Path, missing_ok: bool) -> Result<ResultsFile, ReadFailure> {
    let text = match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            ReadFailure::Invalid(vec![ResultsError::Invalid {
                file: file.display().to_string(),
                line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count(),
                reason: "not UTF-8 text".into(),
            }])
        })?,
        Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ReadFailure::Io(format!("cannot read `{}`: {e}", file.display()))),
    };
    parse(file, &text).map_err(ReadFailure::Invalid)
}

/// Why a results file could not be used.
pub enum ReadFailure {
    /// It could not be read (exit code 2).
    Io(String),
    /// It holds bad lines (exit code 1).
    Invalid(Vec<ResultsError>),
}

/// A results file opened for appending, locked against a second concurrent sweep.
pub struct Appender {
    file: File,
    path: PathBuf,
}

impl Appender {
    /// Opens (creating) `path` for appending and takes an exclusive lock on it.
    pub fn open(path: &Path) -> Result<Appender, String> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => {
                format!("`{}` is being written by another `octopus sweep`", path.display())
            }
            std::fs::TryLockError::Error(e) => format!("cannot lock `{}`: {e}", path.display()),
        })?;
        Ok(Appender { file, path: path.to_path_buf() })
    }

    /// Cuts the file back to `len` bytes (drops a cut-off last line).
    pub fn truncate(&mut self, len: u64) -> Result<(), String> {
        self.file.set_len(len).and_then(|()| self.file.sync_all()).map_err(|e| self.error(e))
    }

    /// Appends one whole line with a single `write` (the file is opened `O_APPEND`), then syncs it
    /// to disk: an interruption leaves at most this line cut off.
    pub fn append(&mut self, line: &str) -> Result<(), String> {
        debug_assert!(line.ends_with('\n'));
        let written = self.file.write(line.as_bytes()).map_err(|e| self.error(e))?;
        if written < line.len() {
            // A short write (a full disk, a signal): finish the line so that it is whole.
            self.file.write_all(&line.as_bytes()[written..]).map_err(|e| self.error(e))?;
        }
        self.file.sync_data().map_err(|e| self.error(e))
    }

    fn error(&self, e: std::io::Error) -> String {
        format!("cannot write `{}`: {e}", self.path.display())
    }
}

/// Checks that every line recording the same input has the same fingerprint across `entries`
/// (shards of one sweep must have run on the same inputs).
pub fn check_consistent(entries: &[Entry]) -> Vec<ResultsError> {
    let mut errors = Vec::new();
    let mut seen: HashMap<(&'static str, String), &Entry> = HashMap::new();
    for e in entries {
        let params = e.value.pointer("/point/params").map(Value::to_string).unwrap_or_default();
        for (what, name, pointer) in [
            ("workflow", e.str_at("/point/workflow").to_owned(), "/workflow/fingerprint"),
            ("machine", format!("{} {params}", e.str_at("/point/hardware")), "/machine/fingerprint"),
        ] {
            let first = *seen.entry((what, name.clone())).or_insert(e);
            if first.str_at(pointer) != e.str_at(pointer) {
                errors.push(ResultsError::Inconsistent {
                    file: e.file.display().to_string(),
                    line: e.line,
                    what,
                    name,
                    found: e.str_at(pointer).to_owned(),
                    other_file: first.file.display().to_string(),
                    other_line: first.line,
                    expected: first.str_at(pointer).to_owned(),
                });
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str) -> String {
        format!(
            "{{\"spec_version\":1,\"model_version\":{},\"key\":\"{key}\",\"point\":{{}},\"workflow\":{{}},\"machine\":{{}},\"result\":{{}}}}\n",
            octopus_sim::MODEL_VERSION
        )
    }

    #[test]
    fn good_lines_parse_and_a_cut_last_line_is_set_apart() {
        let text = format!("{}{}{{\"spec_ver", line("a"), line("b"));
        let r = parse(Path::new("r.jsonl"), &text).unwrap();
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.entries[1].line, 2);
        assert_eq!(r.truncated, Some((3, (2 * line("a").len()) as u64)));
        // A complete JSON object without its newline is cut off too.
        let text = format!("{}{}", line("a"), line("b").trim_end());
        assert_eq!(parse(Path::new("r.jsonl"), &text).unwrap().truncated.map(|t| t.0), Some(2));
    }

    #[test]
    fn bad_lines_are_reported_by_number() {
        let text = format!(
            "{}garbage\n{}{}",
            line("a"),
            line("a"),
            line("b").replace("\"spec_version\":1", "\"spec_version\":7")
        );
        let errors = parse(Path::new("r.jsonl"), &text).unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].starts_with("`r.jsonl`:2: not a results line"), "{}", shown[0]);
        assert!(shown[1].contains(":3: point `a` is recorded twice (first on line 1)"), "{}", shown[1]);
        assert!(shown[2].contains(":4: written for spec version 7"), "{}", shown[2]);
    }
}
