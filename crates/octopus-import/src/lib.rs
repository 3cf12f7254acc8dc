//! `octopus-import`: workflows written by others, as `.owg` text.
//!
//! [`wfcommons`] converts a [WfCommons](https://wfcommons.org) instance (WfFormat JSON, schema
//! versions 1.3 to 1.6) into a readable `.owg` workflow: every task becomes a task block that lasts
//! its measured runtime (`delay`), every dependency a flow carrying the bytes of the files passed
//! along it, with transitive dependencies dropped. Real instances deviate from the schema, so the
//! reader is lenient, and the [`ImportReport`] says what was dropped or assumed. `docs/import.md`
//! describes the mapping and every rule.
//!
//! Like the other library crates this one reads no files: it takes the JSON text and returns text.
//! It does not depend on `octopus-owg`; its tests check every output with `octopus_owg::check`.

mod emit;
mod error;
mod graph;
mod locate;
mod report;
mod wfformat;

use std::collections::{BTreeSet, HashMap, HashSet};

pub use error::ImportError;
pub use report::{ImportReport, Note};

use crate::emit::TaskOut;
use crate::error::more_suffix;
use crate::graph::Graph;
use crate::wfformat::{Runtime, Size, Trace};

/// The runtime given to a task that has no positive measured runtime: the validator requires a
/// `delay` to be positive, and 1 ms is far below every measured runtime in the WfCommons traces
/// yet large enough to keep a simulator's event order meaningful.
pub const MIN_RUNTIME_S: f64 = 0.001;

/// A converted instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The `.owg` source.
    pub owg: String,
    /// What the conversion kept, dropped and assumed.
    pub report: ImportReport,
}

/// Converts WfCommons WfFormat JSON into `.owg` text.
///
/// `name_hint` names the source in the output's header and gives the workflow its name (it is
/// usually the file name; an extension `.json` is dropped); when it is empty, the instance's own
/// `name` is used.
///
/// # Errors
/// Malformed or truncated JSON, a document without tasks, a field of an impossible type, duplicate
/// task IDs, a dependency on an unknown task, a reference to a file the instance does not list, or
/// a dependency cycle. Errors carry spans into `json` where the place can be found.
pub fn wfcommons(json: &str, name_hint: &str) -> Result<Imported, ImportError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| json_error(json, &e))?;
    let trace = wfformat::read(&value, json)?;
    drop(value);
    convert(&trace, json, name_hint)
}

fn json_error(json: &str, e: &serde_json::Error) -> ImportError {
    // serde_json's message ends with " at line L column C"; the fields say that.
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    };
    let (span, help) = if e.classify() == serde_json::error::Category::Eof {
        // At an unexpected end, point at the last character: nothing follows it.
        let last = json.char_indices().next_back().map_or((0, 0), |(i, c)| (i, c.len_utf8()));
        (last.into(), "the text ends before the JSON does: is the file complete?".to_owned())
    } else {
        let offset = locate::offset_of(json, e.line(), e.column());
        let len = json[offset..].chars().next().map_or(0, char::len_utf8);
        ((offset, len).into(), "WfCommons instances are JSON documents (WfFormat)".to_owned())
    };
    ImportError::Json { message, help, line: e.line(), column: e.column(), span }
}

/// Resolves references, checks the graph, reduces it and writes the text.
fn convert(trace: &Trace, json: &str, name_hint: &str) -> Result<Imported, ImportError> {
    let n = trace.tasks.len();

    // Task references: IDs first, then aliases and names where they are unambiguous.
    let mut by_ref: HashMap<&str, u32> = HashMap::with_capacity(n * 2);
    for (i, t) in trace.tasks.iter().enumerate() {
        if by_ref.insert(t.id.as_str(), i as u32).is_some() {
            return Err(ImportError::DuplicateTask {
                id: t.id.clone(),
                span: locate::decl_span(json, &t.id, &["id"], 1),
            });
        }
    }
    let mut name_count: HashMap<&str, usize> = HashMap::new();
    for t in &trace.tasks {
        for alias in t.aliases.iter().chain(std::iter::once(&t.name)) {
            *name_count.entry(alias.as_str()).or_default() += 1;
        }
    }
    for (i, t) in trace.tasks.iter().enumerate() {
        for alias in t.aliases.iter().chain(std::iter::once(&t.name)) {
            if name_count[alias.as_str()] == 1 {
                by_ref.entry(alias.as_str()).or_insert(i as u32);
            }
        }
    }

    let mut from_parents = BTreeSet::new();
    let mut from_children = BTreeSet::new();
    let mut unknown: Vec<(usize, &'static str, &str)> = Vec::new();
    for (i, t) in trace.tasks.iter().enumerate() {
        let i = i as u32;
        for p in &t.parents {
            match by_ref.get(p.as_str()) {
                Some(&j) => {
                    from_parents.insert((j, i));
                }
                None => unknown.push((i as usize, "parent", p)),
            }
        }
        for c in &t.children {
            match by_ref.get(c.as_str()) {
                Some(&j) => {
                    from_children.insert((i, j));
                }
                None => unknown.push((i as usize, "child", c)),
            }
        }
    }
    if let Some(&(i, relation, reference)) = unknown.first() {
        let task = &trace.tasks[i].id;
        let from = locate::task_decl(json, task).unwrap_or(0);
        return Err(ImportError::UnknownTask {
            task: task.clone(),
            relation,
            reference: reference.to_owned(),
            more: more_suffix(unknown.len() - 1, "reference"),
            span: locate::literal_from(json, reference, from),
        });
    }
    if let Some((i, file)) = trace.unknown_files.first() {
        let task = &trace.tasks[*i].id;
        let from = locate::task_decl(json, task).unwrap_or(0);
        return Err(ImportError::UnknownFile {
            task: task.clone(),
            file: file.clone(),
            more: more_suffix(trace.unknown_files.len() - 1, "file reference"),
            span: locate::literal_from(json, file, from),
        });
    }

    let mut notes = Vec::new();
    if !matches!(trace.schema_version.as_deref(), Some("1.3" | "1.4" | "1.5" | "1.6")) {
        notes.push(Note::SchemaVersion { found: trace.schema_version.clone(), layout: trace.layout });
    }

    // Who writes and who reads each file.
    let mut writers: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, t) in trace.tasks.iter().enumerate() {
        for f in &t.outputs {
            writers.entry(f.as_str()).or_default().push(i as u32);
        }
    }
    let mut transfers: HashMap<(u32, u32), u64> = HashMap::new();
    for (c, t) in trace.tasks.iter().enumerate() {
        for f in &t.inputs {
            let size = match trace.files.get(f) {
                Some(Size::Known(b)) => *b,
                _ => 0,
            };
            for &p in writers.get(f.as_str()).map_or(&[][..], Vec::as_slice) {
                if p != c as u32 {
                    let slot = transfers.entry((p, c as u32)).or_default();
                    *slot = slot.saturating_add(size);
                }
            }
        }
    }

    let one_sided = from_parents.symmetric_difference(&from_children).count();
    let mut declared: BTreeSet<(u32, u32)> = from_parents;
    declared.extend(from_children);
    if one_sided > 0 {
        notes.push(Note::OneSidedDependencies { count: one_sided });
    }
    if declared.is_empty() && !transfers.is_empty() {
        declared.extend(transfers.keys().copied());
        notes.push(Note::DependenciesInferredFromFiles { count: declared.len() });
    }

    let graph = Graph::new(n, declared.iter().copied());
    let order = graph.toposort().map_err(|cycle| {
        let tasks: Vec<String> = cycle.iter().map(|&v| trace.tasks[v as usize].id.clone()).collect();
        let span = locate::decl_span(json, &tasks[0], &["id", "name"], 0);
        ImportError::Cycle { tasks, span }
    })?;
    let reduced = graph.transitive_reduction(&order);
    let kept: HashSet<(u32, u32)> =
        reduced.succ.iter().enumerate().flat_map(|(a, s)| s.iter().map(move |&b| (a as u32, b))).collect();

    let (mut dropped_bytes, mut undeclared_pairs, mut undeclared_bytes) = (0u64, 0usize, 0u64);
    for (edge, &bytes) in &transfers {
        if kept.contains(edge) {
            continue;
        }
        if declared.contains(edge) {
            dropped_bytes = dropped_bytes.saturating_add(bytes);
        } else {
            undeclared_pairs += 1;
            undeclared_bytes = undeclared_bytes.saturating_add(bytes);
        }
    }
    let dropped = declared.len() - kept.len();
    if dropped > 0 {
        notes.push(Note::TransitiveDependenciesDropped { count: dropped, bytes: dropped_bytes });
    }
    if undeclared_pairs > 0 {
        notes.push(Note::UndeclaredTransfers { pairs: undeclared_pairs, bytes: undeclared_bytes });
    }

    // Runtimes.
    if !trace.has_execution {
        notes.push(Note::NoExecutionSection);
    }
    let (mut zero, mut missing, mut invalid) = (0, 0, 0);
    let runtimes: Vec<f64> = trace
        .tasks
        .iter()
        .map(|t| match t.runtime {
            Runtime::Measured(x) => x,
            Runtime::Zero => {
                zero += 1;
                MIN_RUNTIME_S
            }
            Runtime::Missing => {
                missing += 1;
                MIN_RUNTIME_S
            }
            Runtime::Invalid => {
                invalid += 1;
                MIN_RUNTIME_S
            }
        })
        .collect();
    if zero + missing + invalid > 0 {
        notes.push(Note::RuntimesFloored { zero, missing, invalid });
    }

    let used_files: HashSet<&str> =
        trace.tasks.iter().flat_map(|t| t.inputs.iter().chain(&t.outputs)).map(String::as_str).collect();
    let unknown_sizes =
        used_files.iter().filter(|f| !matches!(trace.files.get(**f), Some(Size::Known(_)))).count();
    if unknown_sizes > 0 {
        notes.push(Note::UnknownFileSizes { files: unknown_sizes });
    }
    if trace.orphan_records > 0 {
        notes.push(Note::OrphanExecutionRecords { count: trace.orphan_records });
    }
    if trace.machines > 0 {
        notes.push(Note::MachinesIgnored { count: trace.machines });
    }
    let cores: Vec<f64> = trace.tasks.iter().filter_map(|t| t.cores).collect();
    if !cores.is_empty() {
        notes.push(Note::CoreCountsIgnored {
            tasks: cores.len(),
            max: cores.iter().copied().fold(0.0, f64::max),
        });
    }

    // Names.
    let ids: Vec<&str> = trace.tasks.iter().map(|t| t.id.as_str()).collect();
    let names = emit::task_names(&ids);
    let renamed = names.iter().zip(&ids).filter(|(a, b)| a != b).count();
    if renamed > 0 {
        notes.push(Note::TasksRenamed { count: renamed });
    }
    let stem = name_hint.strip_suffix(".json").unwrap_or(name_hint);
    let stem = stem.rsplit(['/', '\\']).next().unwrap_or(stem);
    let workflow = match (stem.is_empty(), &trace.name) {
        (false, _) => emit::identifier(stem, "wf_", "imported"),
        (true, Some(name)) => emit::identifier(name, "wf_", "imported"),
        (true, None) => "imported".to_owned(),
    };

    // Groups, in order of their first task in the topological order.
    let task_names_in_trace: Vec<&str> = trace.tasks.iter().map(|t| t.name.as_str()).collect();
    let name_prefix = emit::common_dotted_prefix(&task_names_in_trace);
    let mut group_index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<TaskOut<'_>>)> = Vec::new();
    for &v in &order {
        let v = v as usize;
        let t = &trace.tasks[v];
        let g = emit::group_of(t.category.as_deref(), t.program.as_deref(), &t.name[name_prefix..]);
        let slot = *group_index.entry(g.clone()).or_insert_with(|| {
            groups.push((g, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(TaskOut {
            name: &names[v],
            original: (names[v] != t.id).then_some(t.id.as_str()),
            runtime_s: runtimes[v],
            assumed: match t.runtime {
                Runtime::Measured(_) => None,
                Runtime::Zero => Some("recorded 0 s"),
                Runtime::Missing => Some("no runtime recorded"),
                Runtime::Invalid => Some("invalid runtime"),
            },
        });
    }

    let mut rank = vec![0usize; n];
    for (i, &v) in order.iter().enumerate() {
        rank[v as usize] = i;
    }
    let mut edges: Vec<(u32, u32)> = kept.iter().copied().collect();
    edges.sort_unstable_by_key(|&(a, b)| (rank[a as usize], rank[b as usize]));
    let mut flow_bytes = 0u64;
    let flows: Vec<(&str, &str, u64)> = edges
        .iter()
        .map(|&(a, b)| {
            let bytes = transfers.get(&(a, b)).copied().unwrap_or(0);
            flow_bytes = flow_bytes.saturating_add(bytes);
            (names[a as usize].as_str(), names[b as usize].as_str(), bytes)
        })
        .collect();

    let report = ImportReport {
        source: if name_hint.is_empty() {
            trace.name.clone().unwrap_or_default()
        } else {
            name_hint.to_owned()
        },
        workflow,
        instance_name: trace.name.clone(),
        schema_version: trace.schema_version.clone(),
        runtime_system: trace.runtime_system.clone(),
        tasks: n,
        edges_declared: declared.len(),
        edges_kept: kept.len(),
        recorded_makespan_s: trace.makespan_s,
        critical_path_s: reduced.longest_path(&order, &runtimes),
        total_runtime_s: runtimes.iter().sum(),
        flow_bytes,
        notes,
    };
    let owg = emit::render(&report, &groups, &flows);
    Ok(Imported { owg, report })
}
