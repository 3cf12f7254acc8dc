//! `octopus sweep SPEC --slurm`: an sbatch job-array script, one array task per shard, each
//! appending to its own results file (`docs/sweep.md`, "Slurm").

use std::path::Path;

use super::run::{Shard, shard_path};

/// What the script runs.
pub struct Job<'a> {
    /// The sweep's name (the job's name).
    pub name: &'a str,
    /// The `octopus` binary, absolute.
    pub octopus: &'a Path,
    /// The spec, absolute.
    pub spec: &'a Path,
    /// The directory the tasks run in (where relative results paths land).
    pub workdir: &'a Path,
    /// The merged results file; shard `I` of `N` appends to `STEM.shard-I-of-N.EXT`.
    pub out: &'a Path,
    /// Array tasks.
    pub shards: u32,
    /// Points in the sweep.
    pub points: usize,
    /// The script's own path (for its comment).
    pub script: &'a Path,
    /// Extra `#SBATCH` options, e.g. `--partition=debug`, `--time=01:00:00`.
    pub options: &'a [String],
}

/// Quotes a string for a POSIX shell.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The sbatch script.
pub fn script(job: &Job<'_>) -> String {
    let n = job.shards;
    let shard_out = |i: &str| {
        shard_path(job.out, Shard { index: 0, count: n })
            .display()
            .to_string()
            .replace(&format!(".shard-0-of-{n}"), &format!(".shard-{i}-of-{n}"))
    };
    let task_out = shard_out("${SLURM_ARRAY_TASK_ID}");
    let glob = shard_out("*");
    let log = shard_out("%a").replace(".jsonl", "") + ".log";
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# Written by `octopus sweep --slurm`: sweep `{}`, {} points in {n} array tasks (shard I of N runs\n",
        job.name, job.points
    ));
    s.push_str("# every N-th point, from the I-th) appending to its own results file.\n");
    s.push_str(&format!("#   submit:  sbatch {}\n", quote(&job.script.display().to_string())));
    s.push_str(&format!(
        "#   then:    {} sweep merge {} {} -o {}\n",
        quote(&job.octopus.display().to_string()),
        quote(&job.spec.display().to_string()),
        glob,
        quote(&job.out.display().to_string())
    ));
    s.push_str(&format!("#SBATCH --job-name={}\n", sanitize(&format!("octopus-{}", job.name))));
    s.push_str(&format!("#SBATCH --array=0-{}\n", n - 1));
    s.push_str(&format!("#SBATCH --chdir={}\n", job.workdir.display()));
    s.push_str(&format!("#SBATCH --output={log}\n"));
    s.push_str("#SBATCH --cpus-per-task=1\n");
    for o in job.options {
        s.push_str(&format!("#SBATCH {o}\n"));
    }
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "exec {} sweep {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\" -o \"{}\"\n",
        quote(&job.octopus.display().to_string()),
        quote(&job.spec.display().to_string()),
        task_out.replace('"', "\\\"")
    ));
    s
}

/// A job name Slurm takes: letters, digits, `-`, `_` and `.`.
fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_array_task_per_shard_each_with_its_own_file() {
        let job = Job {
            name: "reconfig x",
            octopus: Path::new("/opt/octopus"),
            spec: Path::new("/w/it's.ron"),
            workdir: Path::new("/w"),
            out: Path::new("res.jsonl"),
            shards: 4,
            points: 10,
            script: Path::new("/w/s.sbatch"),
            options: &["--time=00:10:00".to_owned()],
        };
        let s = script(&job);
        assert!(s.contains("#SBATCH --array=0-3\n"), "{s}");
        assert!(s.contains("#SBATCH --job-name=octopus-reconfig_x\n"), "{s}");
        assert!(s.contains("#SBATCH --time=00:10:00\n"), "{s}");
        assert!(s.contains("#SBATCH --output=res.shard-%a-of-4.log\n"), "{s}");
        assert!(
            s.contains(r#"exec '/opt/octopus' sweep '/w/it'\''s.ron' --shard "${SLURM_ARRAY_TASK_ID}/4" --jobs "${SLURM_CPUS_PER_TASK:-1}" -o "res.shard-${SLURM_ARRAY_TASK_ID}-of-4.jsonl""#),
            "{s}"
        );
        assert!(s.contains("sweep merge '/w/it'\\''s.ron' res.shard-*-of-4.jsonl -o 'res.jsonl'"), "{s}");
    }
}
