//! A lenient reader of WfFormat JSON (schema versions 1.3 to 1.6) into one normalised [`Trace`].
//!
//! Two layouts exist. From 1.5 on, `workflow.specification` holds the graph (`tasks` with `parents`,
//! `children`, `inputFiles`, `outputFiles` naming file IDs; `files` with sizes) and the optional
//! `workflow.execution` holds what was measured (`tasks` with `runtimeInSeconds`, `makespanInSeconds`,
//! `machines`). Up to 1.4, `workflow.tasks` holds both, with files inline (`files: [{link, name,
//! size}]`), parents named by task name, and the older field names `runtime`, `size`, `makespan`.
//! The layout is chosen by shape, not by `schemaVersion`, so a mislabelled file still reads.
//!
//! Leniency: numbers may be integers or floats (or numeric strings); missing lists are empty; an
//! absent `execution` section leaves every runtime unknown; `machines` may be an array or an object.
//! What cannot be read leniently (a task without an ID, `parents` that is not a list) is an error.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::ImportError;
use crate::locate;

/// A measured runtime, or why there is none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Runtime {
    /// A positive, finite number of seconds.
    Measured(f64),
    /// Recorded as exactly zero.
    Zero,
    /// No record for the task, or no `execution` section.
    Missing,
    /// Negative, not finite, or not a number.
    Invalid,
}

/// One task, from either layout.
#[derive(Clone, Debug)]
pub(crate) struct TraceTask {
    /// Its ID, as references in 1.5+ name it.
    pub id: String,
    /// Its (not necessarily unique) name, as references in 1.3 and 1.4 name it.
    pub name: String,
    /// Other strings references may use for it (the pre-1.5 `id`).
    pub aliases: Vec<String>,
    /// The `category` field, if any.
    pub category: Option<String>,
    /// `command.program`, if any.
    pub program: Option<String>,
    /// Parent references, as written.
    pub parents: Vec<String>,
    /// Child references, as written.
    pub children: Vec<String>,
    /// Keys into [`Trace::files`] of the files it reads.
    pub inputs: Vec<String>,
    /// Keys into [`Trace::files`] of the files it writes.
    pub outputs: Vec<String>,
    /// The measured runtime.
    pub runtime: Runtime,
    /// `coreCount` (or `cores`), if recorded.
    pub cores: Option<f64>,
}

/// A file's size, as far as it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Size {
    /// Bytes.
    Known(u64),
    /// Listed without a usable size.
    Unknown,
}

/// The instance, normalised.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    /// The top-level `name`.
    pub name: Option<String>,
    /// `schemaVersion` as written.
    pub schema_version: Option<String>,
    /// The layout actually read: `"1.5"` (specification/execution) or `"1.3"` (tasks with inline files).
    pub layout: &'static str,
    /// `runtimeSystem` (or `wms`) name and version.
    pub runtime_system: Option<String>,
    /// The tasks, in file order.
    pub tasks: Vec<TraceTask>,
    /// The dotted path of the task list, for messages.
    pub tasks_path: String,
    /// File sizes by key (the ID in 1.5+, `path` + `name` before).
    pub files: HashMap<String, Size>,
    /// Whether the instance lists its files (1.5+ `specification.files`); when it does, a reference
    /// to a file not in the list is an error, and when it does not, every size is unknown.
    pub files_listed: bool,
    /// File references that matched no listed file: (task index, file reference).
    pub unknown_files: Vec<(usize, String)>,
    /// The recorded makespan in seconds.
    pub makespan_s: Option<f64>,
    /// Whether there was an `execution` section (1.5+) or any runtime field (before).
    pub has_execution: bool,
    /// Execution records naming no task of the specification.
    pub orphan_records: usize,
    /// Machine descriptions found.
    pub machines: usize,
}

/// Reads a parsed WfFormat document.
pub(crate) fn read(root: &Value, text: &str) -> Result<Trace, ImportError> {
    let root = root.as_object().ok_or_else(|| ImportError::MissingSection { section: "workflow".into() })?;
    let workflow = match root.get("workflow") {
        Some(Value::Object(w)) => w,
        Some(_) => return Err(bad("workflow", "an object", None)),
        None => return Err(ImportError::MissingSection { section: "workflow".into() }),
    };
    let mut trace = Trace {
        name: root.get("name").and_then(text_of),
        schema_version: root.get("schemaVersion").and_then(text_of),
        runtime_system: root.get("runtimeSystem").or_else(|| root.get("wms")).and_then(runtime_system),
        ..Trace::default()
    };
    if let Some(spec) = workflow.get("specification") {
        let spec = spec.as_object().ok_or_else(|| bad("workflow.specification", "an object", None))?;
        read_v15(&mut trace, workflow, spec, text)?;
    } else if workflow.contains_key("tasks") || workflow.contains_key("jobs") {
        read_v13(&mut trace, workflow, text)?;
    } else {
        return Err(ImportError::MissingSection { section: "workflow.specification.tasks".into() });
    }
    if trace.tasks.is_empty() {
        return Err(ImportError::EmptyWorkflow { section: trace.tasks_path.clone() });
    }
    Ok(trace)
}

/// WfFormat 1.5 and 1.6: `specification` and `execution`.
fn read_v15(
    trace: &mut Trace,
    workflow: &Map<String, Value>,
    spec: &Map<String, Value>,
    text: &str,
) -> Result<(), ImportError> {
    trace.layout = "1.5";
    trace.tasks_path = "workflow.specification.tasks".into();
    let tasks = match spec.get("tasks") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad(&trace.tasks_path, "a list of tasks", None)),
        None => return Err(ImportError::MissingSection { section: trace.tasks_path.clone() }),
    };

    // Files: by ID, and by name where a name is given and is not some other file's ID.
    let mut aliases: HashMap<String, String> = HashMap::new();
    match spec.get("files") {
        None | Some(Value::Null) => {}
        Some(Value::Array(files)) => {
            trace.files_listed = true;
            for (i, f) in files.iter().enumerate() {
                let path = format!("workflow.specification.files[{i}]");
                let f = f.as_object().ok_or_else(|| bad(&path, "an object", None))?;
                let id = f
                    .get("id")
                    .or_else(|| f.get("name"))
                    .and_then(text_of)
                    .ok_or_else(|| bad(&format!("{path}.id"), "a string", None))?;
                let size = size_of(f);
                if let Some(name) = f.get("name").and_then(text_of)
                    && name != id
                {
                    aliases.entry(name).or_insert_with(|| id.clone());
                }
                trace.files.entry(id).or_insert(size);
            }
        }
        Some(_) => return Err(bad("workflow.specification.files", "a list of files", None)),
    }

    for (i, t) in tasks.iter().enumerate() {
        let path = format!("{}[{i}]", trace.tasks_path);
        let t = t.as_object().ok_or_else(|| bad(&path, "an object", None))?;
        let id = t
            .get("id")
            .or_else(|| t.get("name"))
            .and_then(text_of)
            .ok_or_else(|| bad(&format!("{path}.id"), "a string", None))?;
        let name = t.get("name").and_then(text_of).unwrap_or_else(|| id.clone());
        trace.has_execution |= t.contains_key("runtimeInSeconds") || t.contains_key("runtime");
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for (key, list) in [("inputFiles", &mut inputs), ("outputFiles", &mut outputs)] {
            for r in file_refs(t.get(key), &format!("{path}.{key}"), text, &id)? {
                let file = match r {
                    FileRef::Name(n) => n,
                    FileRef::Inline(n, size) => {
                        trace.files.entry(n.clone()).or_insert(size);
                        n
                    }
                };
                let file = if trace.files.contains_key(&file) {
                    file
                } else if let Some(real) = aliases.get(&file) {
                    real.clone()
                } else {
                    if trace.files_listed {
                        trace.unknown_files.push((trace.tasks.len(), file.clone()));
                    }
                    trace.files.insert(file.clone(), Size::Unknown);
                    file
                };
                if !list.contains(&file) {
                    list.push(file);
                }
            }
        }
        trace.tasks.push(TraceTask {
            parents: refs(t.get("parents"), &format!("{path}.parents"), text, &id)?,
            children: refs(t.get("children"), &format!("{path}.children"), text, &id)?,
            category: t.get("category").and_then(text_of).filter(|c| !c.trim().is_empty()),
            program: program_of(t),
            cores: t.get("coreCount").or_else(|| t.get("cores")).and_then(number_of),
            runtime: t
                .get("runtimeInSeconds")
                .or_else(|| t.get("runtime"))
                .map_or(Runtime::Missing, runtime_of),
            id,
            name,
            aliases: Vec::new(),
            inputs,
            outputs,
        });
    }

    match workflow.get("execution") {
        None | Some(Value::Null) => {}
        Some(Value::Object(exec)) => {
            trace.has_execution = true;
            trace.makespan_s =
                exec.get("makespanInSeconds").or_else(|| exec.get("makespan")).and_then(number_of);
            trace.machines = count_machines(exec.get("machines"));
            let by_id: HashMap<&str, usize> =
                trace.tasks.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).rev().collect();
            let records = match exec.get("tasks") {
                Some(Value::Array(a)) => a.as_slice(),
                Some(Value::Null) | None => &[],
                Some(_) => return Err(bad("workflow.execution.tasks", "a list of task records", None)),
            };
            let mut updates = Vec::new();
            for r in records {
                let Some(r) = r.as_object() else {
                    trace.orphan_records += 1;
                    continue;
                };
                let Some(&i) = r
                    .get("id")
                    .or_else(|| r.get("name"))
                    .and_then(text_of)
                    .and_then(|id| by_id.get(id.as_str()))
                else {
                    trace.orphan_records += 1;
                    continue;
                };
                updates.push((i, r));
            }
            for (i, r) in updates {
                let task = &mut trace.tasks[i];
                if let Some(v) = r.get("runtimeInSeconds").or_else(|| r.get("runtime")) {
                    task.runtime = runtime_of(v);
                }
                if let Some(c) = r.get("coreCount").or_else(|| r.get("cores")).and_then(number_of) {
                    task.cores = Some(c);
                }
                if task.program.is_none() {
                    task.program = program_of(r);
                }
                if task.category.is_none() {
                    task.category = r.get("category").and_then(text_of).filter(|c| !c.trim().is_empty());
                }
            }
        }
        Some(_) => return Err(bad("workflow.execution", "an object", None)),
    }
    // Some writers put the makespan beside the specification.
    if trace.makespan_s.is_none() {
        trace.makespan_s =
            workflow.get("makespanInSeconds").or_else(|| workflow.get("makespan")).and_then(number_of);
    }
    if trace.machines == 0 {
        trace.machines = count_machines(workflow.get("machines"));
    }
    Ok(())
}

/// WfFormat 1.3 and 1.4 (and `jobs`, the 1.2 spelling): one list of tasks with inline files.
fn read_v13(trace: &mut Trace, workflow: &Map<String, Value>, text: &str) -> Result<(), ImportError> {
    trace.layout = "1.3";
    let key = if workflow.contains_key("tasks") { "tasks" } else { "jobs" };
    trace.tasks_path = format!("workflow.{key}");
    let tasks = match workflow.get(key) {
        Some(Value::Array(a)) => a,
        _ => return Err(bad(&trace.tasks_path, "a list of tasks", None)),
    };
    trace.makespan_s =
        workflow.get("makespanInSeconds").or_else(|| workflow.get("makespan")).and_then(number_of);
    trace.machines = count_machines(workflow.get("machines"));
    for (i, t) in tasks.iter().enumerate() {
        let path = format!("{}[{i}]", trace.tasks_path);
        let t = t.as_object().ok_or_else(|| bad(&path, "an object", None))?;
        let name = t
            .get("name")
            .or_else(|| t.get("id"))
            .and_then(text_of)
            .ok_or_else(|| bad(&format!("{path}.name"), "a string", None))?;
        // The ID the 1.5 migration gives the task: its name when that contains the old ID.
        let old_id = t.get("id").and_then(text_of);
        let id = match &old_id {
            Some(old) if !name.contains(old.as_str()) => format!("{name}_{old}"),
            _ => name.clone(),
        };
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        match t.get("files") {
            None | Some(Value::Null) => {}
            Some(Value::Array(files)) => {
                for (j, f) in files.iter().enumerate() {
                    let fpath = format!("{path}.files[{j}]");
                    let f = f.as_object().ok_or_else(|| bad(&fpath, "an object", None))?;
                    let fname = f
                        .get("name")
                        .or_else(|| f.get("id"))
                        .and_then(text_of)
                        .ok_or_else(|| bad(&format!("{fpath}.name"), "a string", None))?;
                    let file = match f.get("path").and_then(text_of) {
                        Some(p) => format!("{p}{fname}"),
                        None => fname,
                    };
                    let size = size_of(f);
                    let slot = trace.files.entry(file.clone()).or_insert(size);
                    if *slot == Size::Unknown {
                        *slot = size;
                    }
                    let is_input = f
                        .get("link")
                        .and_then(Value::as_str)
                        .is_some_and(|l| l.eq_ignore_ascii_case("input"));
                    let list = if is_input { &mut inputs } else { &mut outputs };
                    if !list.contains(&file) {
                        list.push(file);
                    }
                }
            }
            Some(_) => return Err(bad(&format!("{path}.files"), "a list of files", None)),
        }
        let runtime = t.get("runtimeInSeconds").or_else(|| t.get("runtime"));
        trace.has_execution |= runtime.is_some();
        trace.tasks.push(TraceTask {
            parents: refs(t.get("parents"), &format!("{path}.parents"), text, &id)?,
            children: refs(t.get("children"), &format!("{path}.children"), text, &id)?,
            category: t.get("category").and_then(text_of).filter(|c| !c.trim().is_empty()),
            program: program_of(t),
            cores: t.get("cores").or_else(|| t.get("coreCount")).and_then(number_of),
            runtime: runtime.map_or(Runtime::Missing, runtime_of),
            id,
            name,
            aliases: old_id.into_iter().collect(),
            inputs,
            outputs,
        });
    }
    Ok(())
}

fn bad(path: &str, expected: &'static str, span: Option<miette::SourceSpan>) -> ImportError {
    ImportError::BadField { path: path.to_owned(), expected, span }
}

/// A string, or a number written where a string is expected.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number, whether written as an integer, a float, or a numeric string.
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn runtime_of(v: &Value) -> Runtime {
    match number_of(v) {
        Some(0.0) => Runtime::Zero,
        Some(x) if x.is_finite() && x > 0.0 => Runtime::Measured(x),
        Some(_) => Runtime::Invalid,
        None if v.is_null() => Runtime::Missing,
        None => Runtime::Invalid,
    }
}

/// `sizeInBytes` (1.4+) or `size` (1.3).
fn size_of(f: &Map<String, Value>) -> Size {
    match f.get("sizeInBytes").or_else(|| f.get("size")).and_then(number_of) {
        Some(x) if x.is_finite() && x >= 0.0 => Size::Known(x.round().min(u64::MAX as f64) as u64),
        _ => Size::Unknown,
    }
}

/// `command.program`, or a bare `program` string.
fn program_of(t: &Map<String, Value>) -> Option<String> {
    let command = t.get("command")?;
    match command {
        Value::Object(c) => c.get("program").and_then(text_of),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn runtime_system(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    let name = o.get("name").and_then(text_of)?;
    Some(match o.get("version").and_then(text_of) {
        Some(version) => format!("{name} {version}"),
        None => name,
    })
}

fn count_machines(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(o)) if !o.is_empty() => 1,
        _ => 0,
    }
}

/// A list of task references: missing or `null` is empty; entries are strings or numbers.
fn refs(v: Option<&Value>, path: &str, text: &str, task: &str) -> Result<Vec<String>, ImportError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, r)| {
                text_of(r)
                    .ok_or_else(|| bad(&format!("{path}[{i}]"), "a task ID", locate_key(text, task, path)))
            })
            .collect(),
        Some(_) => Err(bad(path, "a list of task IDs", locate_key(text, task, path))),
    }
}

enum FileRef {
    /// By ID (1.5+) or name.
    Name(String),
    /// An object carrying its own size.
    Inline(String, Size),
}

/// A list of file references: strings (IDs, or names in older writers) or objects with `id`/`name`.
fn file_refs(v: Option<&Value>, path: &str, text: &str, task: &str) -> Result<Vec<FileRef>, ImportError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                Value::Object(o) => match o.get("id").or_else(|| o.get("name")).and_then(text_of) {
                    Some(id) if o.contains_key("sizeInBytes") || o.contains_key("size") => {
                        Ok(FileRef::Inline(id, size_of(o)))
                    }
                    Some(id) => Ok(FileRef::Name(id)),
                    None => Err(bad(&format!("{path}[{i}].id"), "a string", None)),
                },
                other => text_of(other)
                    .map(FileRef::Name)
                    .ok_or_else(|| bad(&format!("{path}[{i}]"), "a file ID", locate_key(text, task, path))),
            })
            .collect(),
        Some(_) => Err(bad(path, "a list of file IDs", locate_key(text, task, path))),
    }
}

/// The field named by the last key of a dotted path, searched from the declaration of the task
/// `task`: a hint for the reader, not a proof.
fn locate_key(text: &str, task: &str, path: &str) -> Option<miette::SourceSpan> {
    let key = path.rsplit('.').next()?.split('[').next()?;
    let from = locate::task_decl(text, task).unwrap_or(0);
    locate::literal_from(text, key, from)
}
