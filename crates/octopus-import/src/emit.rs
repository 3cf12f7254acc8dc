//! Writing the `.owg` text: identifiers, groups, header, tasks and flows.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::report::{ImportReport, group_digits, seconds};

/// Words `.owg` reserves: never a name.
const KEYWORDS: [&str; 9] = ["workflow", "arrivals", "task", "branch", "fork", "map", "loop", "join", "flow"];

/// One task as written.
pub(crate) struct TaskOut<'a> {
    /// Its `.owg` name.
    pub name: &'a str,
    /// Its ID in the instance, when the name differs.
    pub original: Option<&'a str>,
    /// Seconds.
    pub runtime_s: f64,
    /// Why the runtime is assumed rather than measured, if it is.
    pub assumed: Option<&'static str>,
}

/// Turns free text into an `.owg` identifier: runs of other characters become one `_`, a leading
/// digit gets `prefix`, a keyword gets a trailing `_`, and nothing at all becomes `fallback`.
pub(crate) fn identifier(text: &str, prefix: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            if gap && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    if out.is_empty() {
        out.push_str(fallback);
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, prefix);
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Unique identifiers for task IDs, in order. A dotted prefix shared by every ID (Nextflow's
/// `NFCORE_SAREK.SAREK.`) is dropped first, since it says nothing about any one task. IDs that are
/// already identifiers keep their name; the others take the next free `NAME`, `NAME_2`, ...
pub(crate) fn task_names(ids: &[&str]) -> Vec<String> {
    let prefix = common_dotted_prefix(ids);
    let bases: Vec<String> = ids.iter().map(|id| identifier(&id[prefix..], "t", "unnamed")).collect();
    let mut used: HashSet<String> = HashSet::with_capacity(ids.len());
    let mut names: Vec<Option<String>> = vec![None; ids.len()];
    for (i, base) in bases.iter().enumerate() {
        if *base == ids[i][prefix..] && used.insert(base.clone()) {
            names[i] = Some(base.clone());
        }
    }
    for (i, base) in bases.iter().enumerate() {
        if names[i].is_some() {
            continue;
        }
        let mut name = base.clone();
        let mut k = 2;
        while !used.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        names[i] = Some(name);
    }
    names.into_iter().map(|n| n.expect("every task named above")).collect()
}

/// The length of the longest prefix ending in `.` that every ID has and extends.
pub(crate) fn common_dotted_prefix(ids: &[&str]) -> usize {
    let Some(first) = ids.first() else { return 0 };
    let mut len = first.rfind('.').map_or(0, |i| i + 1);
    for id in &ids[1..] {
        len = len.min(id.len());
        while len > 0
            && !(id.as_bytes()[..len] == first.as_bytes()[..len] && first.as_bytes()[len - 1] == b'.')
        {
            len = first[..len - 1].rfind('.').map_or(0, |i| i + 1);
        }
        if len == 0 {
            break;
        }
    }
    // Every ID must keep something after the prefix.
    if ids.iter().any(|id| id.len() <= len) { 0 } else { len }
}

/// The group a task is listed under: its category, else its program when that is one word (not a
/// shell script, as Nextflow records), else the first dotted part of its name (a Nextflow
/// subworkflow, once the caller has stripped the prefix all names share), else its name without a
/// trailing task number.
pub(crate) fn group_of(category: Option<&str>, program: Option<&str>, name: &str) -> String {
    if let Some(c) = category {
        return comment_text(c);
    }
    if let Some(p) = program.map(str::trim)
        && !p.is_empty()
        && p.len() <= 64
        && !p.contains(char::is_whitespace)
    {
        return comment_text(p.rsplit('/').next().unwrap_or(p));
    }
    match name.split_once('.') {
        Some((first, _)) if !first.is_empty() => comment_text(first),
        _ => comment_text(name_stem(name)),
    }
}

/// `individuals_ID0000001` -> `individuals`, `cpuhog_chain_00000001` -> `cpuhog_chain`.
fn name_stem(name: &str) -> &str {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if trimmed.len() == name.len() {
        return name;
    }
    let trimmed = trimmed.strip_suffix("ID").unwrap_or(trimmed);
    let stem = trimmed.trim_end_matches(['_', '-', '.']);
    if stem.is_empty() { name } else { stem }
}

/// Text safe inside a `//` comment: one line, printable.
pub(crate) fn comment_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// [`comment_text`], shortened to `max` characters: for labels taken from free text.
fn label_text(s: &str, max: usize) -> String {
    let out = comment_text(s);
    if out.chars().count() > max { out.chars().take(max - 3).collect::<String>() + "..." } else { out }
}

/// The whole `.owg` text.
pub(crate) fn render(
    report: &ImportReport,
    groups: &[(String, Vec<TaskOut<'_>>)],
    flows: &[(&str, &str, u64)],
) -> String {
    let mut s = String::new();
    header(&mut s, report);
    let _ = writeln!(s, "workflow {}", report.workflow);
    let _ = writeln!(s, "arrivals batch(requests = 1)");
    for (group, tasks) in groups {
        let (lo, hi) = tasks
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), t| (lo.min(t.runtime_s), hi.max(t.runtime_s)));
        let _ = writeln!(s);
        let group = label_text(group, 80);
        if tasks.len() == 1 {
            let _ = writeln!(s, "// --- {group}: 1 task ---");
        } else if lo == hi {
            let _ = writeln!(s, "// --- {group}: {} tasks, {} s each ---", tasks.len(), seconds(lo));
        } else {
            let _ = writeln!(
                s,
                "// --- {group}: {} tasks, {} s to {} s ---",
                tasks.len(),
                seconds(lo),
                seconds(hi)
            );
        }
        let width = tasks.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let lines: Vec<String> = tasks
            .iter()
            .map(|t| format!("task {:width$} = delay(time = {} s)", t.name, t.runtime_s))
            .collect();
        let line_width = lines.iter().map(String::len).max().unwrap_or(0);
        for (t, line) in tasks.iter().zip(lines) {
            let remarks: Vec<String> =
                t.original.map(comment_text).into_iter().chain(t.assumed.map(str::to_owned)).collect();
            if remarks.is_empty() {
                let _ = writeln!(s, "{line}");
            } else {
                let _ = writeln!(s, "{line:line_width$}  // {}", remarks.join("; "));
            }
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "// --- dependencies: {} flows ({} declared, transitive ones dropped) ---",
        flows.len(),
        report.edges_declared
    );
    for (from, to, bytes) in flows {
        if *bytes == 0 {
            let _ = writeln!(s, "flow {from} -> {to}");
        } else {
            let _ = writeln!(s, "flow {from} -> {to} [bytes = {} B]", group_digits(*bytes));
        }
    }
    s
}

fn header(s: &mut String, r: &ImportReport) {
    let _ = writeln!(s, "// Imported from the WfCommons instance {}", comment_text(&r.source));
    let mut about = Vec::new();
    if let Some(n) = &r.instance_name {
        about.push(format!("name `{}`", comment_text(n)));
    }
    if let Some(v) = &r.schema_version {
        about.push(format!("WfFormat {}", comment_text(v)));
    }
    if let Some(rs) = &r.runtime_system {
        about.push(format!("run by {}", comment_text(rs)));
    }
    if !about.is_empty() {
        let _ = writeln!(s, "// {}", about.join(", "));
    }
    let _ = writeln!(
        s,
        "// {} tasks, {} flows ({} declared dependencies, {} transitive dropped)",
        r.tasks,
        r.edges_kept,
        r.edges_declared,
        r.edges_dropped()
    );
    match r.recorded_makespan_s {
        Some(m) => {
            let _ = writeln!(
                s,
                "// recorded makespan {} s; critical path of this graph {} s",
                seconds(m),
                seconds(r.critical_path_s)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "// no recorded makespan; critical path of this graph {} s",
                seconds(r.critical_path_s)
            );
        }
    }
    let _ =
        writeln!(s, "// Task times are measured runtimes (`delay`); a flow carries the bytes of the files");
    let _ = writeln!(s, "// its source wrote and its target read.");
    let _ =
        writeln!(s, "// Data: WfCommons WfInstances (https://github.com/wfcommons/WfInstances), LGPL-3.0;");
    let _ = writeln!(s, "// this file is derived from it and keeps that licence.");
    if !r.notes.is_empty() {
        let _ = writeln!(s, "//");
        let _ = writeln!(s, "// Import notes:");
        for note in &r.notes {
            let _ = writeln!(s, "// - {}", comment_text(&note.to_string()));
        }
    }
    let _ = writeln!(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid_and_readable() {
        assert_eq!(identifier("bowtie2-build_ID0000001", "t", "task"), "bowtie2_build_ID0000001");
        assert_eq!(identifier("/b6/e9c..x", "t", "task"), "b6_e9c_x");
        assert_eq!(identifier("1000genome-x", "wf_", "w"), "wf_1000genome_x");
        assert_eq!(identifier("map", "t", "task"), "map_");
        assert_eq!(identifier("é€!", "t", "unnamed"), "unnamed");
        assert_eq!(identifier("", "t", "task"), "task_", "a fallback that is a keyword is fixed too");
        assert_eq!(identifier("a__b", "t", "task"), "a__b");
    }

    #[test]
    fn names_drop_the_shared_dotted_prefix_and_are_unique() {
        let ids = ["NF.WF.FASTQC_2", "NF.WF.SKEWER_3", "NF.WF.FASTQC.2"];
        assert_eq!(task_names(&ids), vec!["FASTQC_2", "SKEWER_3", "FASTQC_2_2"]);
        assert_eq!(task_names(&["a.b", "a.c", "a."]), vec!["a_b", "a_c", "a"]);
        assert_eq!(task_names(&["x-", "x", "x_2", "x.2"]), vec!["x_3", "x", "x_2", "x_2_2"]);
        assert_eq!(common_dotted_prefix(&["ab.c", "a.c"]), 0);
        assert_eq!(common_dotted_prefix(&["p.q.r", "p.q.s", "p.x"]), 2);
    }

    #[test]
    fn groups_prefer_category_then_one_word_program_then_name() {
        assert_eq!(group_of(Some("cat"), Some("prog"), "n_1"), "cat");
        assert_eq!(group_of(None, Some("/usr/bin/bwa"), "n_1"), "bwa");
        assert_eq!(group_of(None, Some("fastqc --quiet x"), "FASTQC"), "FASTQC");
        assert_eq!(group_of(None, Some("a\nb"), "PREPARE.TABIX"), "PREPARE");
        assert_eq!(group_of(None, None, "individuals_ID0000001"), "individuals");
        assert_eq!(group_of(None, None, "cpuhog_chain_00000001"), "cpuhog_chain");
        assert_eq!(group_of(None, None, "12345"), "12345");
        assert_eq!(comment_text("a\nb\tc"), "a b c");
        assert_eq!(label_text("abcdef", 5), "ab...");
    }
}
