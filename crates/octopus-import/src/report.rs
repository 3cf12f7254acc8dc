//! What an import kept, dropped and assumed.

use std::fmt;

/// The summary of one import: the shape of the result and every liberty taken with the input.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportReport {
    /// Where the instance came from, as the caller named it (usually the file name).
    pub source: String,
    /// The name given to the `.owg` workflow.
    pub workflow: String,
    /// The instance's own `name` field.
    pub instance_name: Option<String>,
    /// `schemaVersion` as written.
    pub schema_version: Option<String>,
    /// The workflow system that ran it (`runtimeSystem`), with its version.
    pub runtime_system: Option<String>,
    /// Task blocks written (one per task of the instance).
    pub tasks: usize,
    /// Distinct dependencies declared (the union of `parents` and `children`, or inferred from
    /// files when none are declared).
    pub edges_declared: usize,
    /// Flows written: the dependencies left after transitive reduction.
    pub edges_kept: usize,
    /// The makespan the trace recorded (`execution.makespanInSeconds`), if any.
    pub recorded_makespan_s: Option<f64>,
    /// The longest path through the imported graph, with each task at its imported runtime.
    pub critical_path_s: f64,
    /// The sum of the imported runtimes.
    pub total_runtime_s: f64,
    /// Bytes carried by all flows.
    pub flow_bytes: u64,
    /// Everything dropped or assumed, in a fixed order.
    pub notes: Vec<Note>,
}

impl ImportReport {
    /// Dependencies dropped because another path implies them.
    pub fn edges_dropped(&self) -> usize {
        self.edges_declared - self.edges_kept
    }
}

/// One thing the import dropped or assumed.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// `schemaVersion` is missing or outside 1.3 to 1.6; the layout was recognised by its shape.
    SchemaVersion {
        /// What the file says, if anything.
        found: Option<String>,
        /// The layout read: `1.5` (specification and execution) or `1.3` (tasks with inline files).
        layout: &'static str,
    },
    /// Dependencies implied by longer paths were dropped (transitive reduction).
    TransitiveDependenciesDropped {
        /// How many.
        count: usize,
        /// Bytes of files passed along them, which no flow carries.
        bytes: u64,
    },
    /// Dependencies declared only as a parent, or only as a child, of one of their tasks.
    OneSidedDependencies {
        /// How many.
        count: usize,
    },
    /// No dependencies were declared; they were inferred from files (writer -> reader).
    DependenciesInferredFromFiles {
        /// How many.
        count: usize,
    },
    /// Files written by one task and read by another with no dependency declared between them.
    UndeclaredTransfers {
        /// Writer-reader pairs.
        pairs: usize,
        /// Bytes.
        bytes: u64,
    },
    /// There is no `execution` section: no task has a measured runtime.
    NoExecutionSection,
    /// Tasks without a positive measured runtime run for [`crate::MIN_RUNTIME_S`].
    RuntimesFloored {
        /// Recorded as 0 s.
        zero: usize,
        /// With no record.
        missing: usize,
        /// Negative, not finite, or not a number.
        invalid: usize,
    },
    /// Files with no usable size: they add 0 B to their flows.
    UnknownFileSizes {
        /// Distinct files.
        files: usize,
    },
    /// Execution records that name no task of the specification were ignored.
    OrphanExecutionRecords {
        /// How many.
        count: usize,
    },
    /// Machine descriptions were ignored: the hardware model replaces them.
    MachinesIgnored {
        /// How many.
        count: usize,
    },
    /// Recorded core counts were ignored: a `delay` task lasts its measured runtime on one TBU.
    CoreCountsIgnored {
        /// Tasks with a core count.
        tasks: usize,
        /// The largest count.
        max: f64,
    },
    /// Task IDs that are not `.owg` identifiers were renamed (the original ID follows the task as a comment).
    TasksRenamed {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::SchemaVersion { found: Some(v), layout } => {
                write!(f, "schemaVersion `{v}` is not 1.3 to 1.6; read as the {layout} layout, by its shape")
            }
            Note::SchemaVersion { found: None, layout } => {
                write!(f, "no schemaVersion; read as the {layout} layout, by its shape")
            }
            Note::TransitiveDependenciesDropped { count, bytes } => {
                write!(f, "{} dropped: another path implies each", plural(*count, "transitive dependency"))?;
                if *bytes > 0 {
                    write!(
                        f,
                        " ({} B of files passed along them is carried by no flow)",
                        group_digits(*bytes)
                    )?;
                }
                Ok(())
            }
            Note::OneSidedDependencies { count } => write!(
                f,
                "{} declared on one side only (as a parent or as a child), kept",
                plural(*count, "dependency")
            ),
            Note::DependenciesInferredFromFiles { count } => write!(
                f,
                "no dependencies declared: {} inferred from files (writer -> reader)",
                plural(*count, "dependency")
            ),
            Note::UndeclaredTransfers { pairs, bytes } => write!(
                f,
                "{} B of files pass between {} of tasks with no dependency declared: not turned into flows",
                group_digits(*bytes),
                plural(*pairs, "pair")
            ),
            Note::NoExecutionSection => write!(f, "no `execution` section: no measured runtimes"),
            Note::RuntimesFloored { zero, missing, invalid } => {
                let total = zero + missing + invalid;
                let parts: Vec<String> =
                    [(*zero, "recorded 0 s"), (*missing, "no record"), (*invalid, "invalid")]
                        .into_iter()
                        .filter(|(n, _)| *n > 0)
                        .map(|(n, what)| format!("{n} {what}"))
                        .collect();
                write!(
                    f,
                    "{} without a positive runtime ({}) last {} s, the floor for a `delay`",
                    plural(total, "task"),
                    parts.join(", "),
                    crate::MIN_RUNTIME_S
                )
            }
            Note::UnknownFileSizes { files } => {
                write!(f, "{} without a size: counted as 0 B", plural(*files, "file"))
            }
            Note::OrphanExecutionRecords { count } => {
                write!(f, "{} naming no task ignored", plural(*count, "execution record"))
            }
            Note::MachinesIgnored { count } => write!(
                f,
                "{} ignored: the hardware model replaces them",
                plural(*count, "machine description")
            ),
            Note::CoreCountsIgnored { tasks, max } => write!(
                f,
                "core counts of {} (up to {max}) ignored: a `delay` lasts its measured runtime on one TBU",
                plural(*tasks, "task")
            ),
            Note::TasksRenamed { count } => write!(
                f,
                "{} renamed to `.owg` identifiers (the original ID follows each as a comment)",
                plural(*count, "task ID")
            ),
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported {} as workflow `{}`: {}, {} ({} of {} declared dependencies kept)",
            self.source,
            self.workflow,
            plural(self.tasks, "task"),
            plural(self.edges_kept, "flow"),
            self.edges_kept,
            self.edges_declared
        )?;
        write!(f, "critical path {} s", seconds(self.critical_path_s))?;
        if let Some(m) = self.recorded_makespan_s {
            write!(f, ", recorded makespan {} s", seconds(m))?;
        }
        writeln!(f)?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

/// `n word` or `n words` (`dependency` -> `dependencies`).
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else if let Some(stem) = word.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {word}s")
    }
}

/// `16666667` -> `16_666_667`, as `.owg` numbers allow.
pub(crate) fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// Seconds for people: at most six decimals, trailing zeros trimmed (sums of runtimes carry
/// floating-point noise that the trace never had).
pub(crate) fn seconds(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" { "0".to_owned() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1_000");
        assert_eq!(group_digits(16666667), "16_666_667");
        assert_eq!(seconds(501.90000000000003), "501.9");
        assert_eq!(seconds(661.0), "661");
        assert_eq!(seconds(0.0), "0");
        assert_eq!(plural(1, "dependency"), "1 dependency");
        assert_eq!(plural(2, "transitive dependency"), "2 transitive dependencies");
        assert_eq!(plural(0, "task"), "0 tasks");
    }
}
