//! Loading what a sweep names: its workflows and its machines (each hardware description with
//! each combination of parameter values), checked before any point runs.

use std::path::PathBuf;

use miette::{LabeledSpan, Report};
use octopus_hw::Machine;
use octopus_owg::Module;
use octopus_owg::ir::Workflow;

use super::spec::{SpecError, Sweep, is_path};
use crate::commands::check::{check_file, print_diagnostics};
use crate::io::{self, ReadError};

/// The fingerprint results lines record for a workflow (the one plans carry). The only call, so
/// that moving it (to `octopus_owg`) is a one-line change.
pub fn workflow_fingerprint(workflow: &Workflow) -> u64 {
    octopus_owg::fingerprint(workflow)
}

/// A workflow of the sweep, validated.
pub struct LoadedWorkflow {
    /// The file, resolved against the spec's directory.
    pub path: PathBuf,
    /// Its text.
    pub source: String,
    /// The validated workflow.
    pub module: Module,
    /// [`workflow_fingerprint`].
    pub fingerprint: u64,
}

/// Everything a sweep's points run on.
pub struct Inputs {
    /// Indexed like [`Sweep::workflows`].
    pub workflows: Vec<LoadedWorkflow>,
    /// One per hardware entry and parameter combination: `hardware * combos + combo`.
    pub machines: Vec<Machine>,
}

/// Loads and checks every input; prints the inputs' own diagnostics (a workflow's, a machine's) as
/// it goes and returns located errors in the spec for each input that failed.
pub fn load(sweep: &Sweep) -> Result<Inputs, Vec<SpecError>> {
    let mut errors = Vec::new();
    let mut workflows = Vec::new();
    for (i, w) in sweep.workflows.iter().enumerate() {
        let at = format!("workflows[{i}]");
        let path = sweep.resolve(w);
        let source = match io::read_source(&path) {
            Ok(s) => s,
            Err(ReadError::Io(reason) | ReadError::NotText(reason)) => {
                let reason = reason.rsplit(": ").next().unwrap_or(&reason).to_owned();
                errors.push(SpecError::Unreadable {
                    path: path.display().to_string(),
                    reason,
                    src: sweep.src(),
                    span: sweep.span(&at),
                });
                continue;
            }
        };
        let checked = check_file(&path, &source);
        print_diagnostics(&path, &source, &checked.diagnostics);
        match checked.module {
            Some(module) => {
                let fingerprint = workflow_fingerprint(&module.workflow);
                workflows.push(LoadedWorkflow { path, source, module, fingerprint });
            }
            None => errors.push(SpecError::InvalidInput {
                what: "workflow",
                name: w.clone(),
                src: sweep.src(),
                spans: vec![LabeledSpan::new_with_span(Some("this workflow".into()), sweep.span(&at))],
            }),
        }
    }
    let combos = sweep.combos();
    let mut machines = Vec::new();
    for (h, hw) in sweep.hardware.iter().enumerate() {
        let at = format!("hardware[{h}]");
        let base = if is_path(hw) {
            let path = sweep.resolve(hw);
            match io::read_source(&path) {
                Ok(text) => match Machine::from_ron(&text, &path.display().to_string()) {
                    Ok(m) => Some(m),
                    Err(hw_errors) => {
                        for e in hw_errors {
                            eprintln!("{:?}", Report::new(e));
                        }
                        errors.push(SpecError::InvalidInput {
                            what: "hardware file",
                            name: hw.clone(),
                            src: sweep.src(),
                            spans: vec![LabeledSpan::new_with_span(
                                Some("this file".into()),
                                sweep.span(&at),
                            )],
                        });
                        None
                    }
                },
                Err(ReadError::Io(reason) | ReadError::NotText(reason)) => {
                    let reason = reason.rsplit(": ").next().unwrap_or(&reason).to_owned();
                    errors.push(SpecError::Unreadable {
                        path: path.display().to_string(),
                        reason,
                        src: sweep.src(),
                        span: sweep.span(&at),
                    });
                    None
                }
            }
        } else {
            // The spec's check has already refused unknown presets.
            Machine::preset(hw).ok()
        };
        let Some(base) = base else { continue };
        for combo in &combos {
            if combo.is_empty() {
                machines.push(base.clone());
                continue;
            }
            match overridden(sweep, &base, combo, &at, &mut errors) {
                Some(m) => machines.push(m),
                None => machines.push(base.clone()), // never run: `errors` is not empty
            }
        }
    }
    if errors.is_empty() {
        check_schedulers(sweep, &workflows, &machines, &mut errors);
    }
    if errors.is_empty() { Ok(Inputs { workflows, machines }) } else { Err(errors) }
}

/// The machine `base` with one combination of parameter values, validated.
fn overridden(
    sweep: &Sweep,
    base: &Machine,
    combo: &[usize],
    at: &str,
    errors: &mut Vec<SpecError>,
) -> Option<Machine> {
    let mut spec = base.spec.clone();
    for (i, ((name, values), &j)) in sweep.params.iter().zip(combo).enumerate() {
        if let Err(e) = octopus_hw::apply_override(&mut spec, name, values[j]) {
            // Report a parameter that does not fit a machine once, not once per combination.
            let err = sweep.param_error(&format!("params[{i}].0"), &e);
            if !errors.iter().any(|x| x.to_string() == err.to_string()) {
                errors.push(err);
            }
            return None;
        }
    }
    let settings: Vec<String> = sweep.combo_params(combo).iter().map(|(n, v)| format!("{n} = {v}")).collect();
    let origin = format!("{} with {}", base.name(), settings.join(", "));
    match Machine::from_ron(&octopus_hw::to_ron(&spec), &origin) {
        Ok(m) => Some(m),
        Err(hw_errors) => {
            for e in hw_errors {
                eprintln!("{:?}", Report::new(e));
            }
            let mut spans = vec![LabeledSpan::new_with_span(Some("this hardware".into()), sweep.span(at))];
            for (i, &j) in combo.iter().enumerate() {
                spans.push(LabeledSpan::new_with_span(
                    Some("with this value".into()),
                    sweep.span(&format!("params[{i}].1[{j}]")),
                ));
            }
            errors.push(SpecError::InvalidInput { what: "machine", name: origin, src: sweep.src(), spans });
            None
        }
    }
}

/// Every scheduler must accept every workflow on every machine (e.g. `heft` refuses control blocks).
fn check_schedulers(
    sweep: &Sweep,
    workflows: &[LoadedWorkflow],
    machines: &[Machine],
    errors: &mut Vec<SpecError>,
) {
    for (s, name) in sweep.schedulers.iter().enumerate() {
        let sched = octopus_sim::make_scheduler(name).expect("the spec's check knows every scheduler");
        for (w, wf) in workflows.iter().enumerate() {
            let refused = machines.iter().find_map(|m| {
                // A plan that does not compile is reported when the point runs.
                let plan = octopus_compiler::compile(&wf.module, m).ok()?;
                sched.accepts(&wf.module.workflow, m, &plan).err()
            });
            if let Some(reason) = refused {
                errors.push(SpecError::Refused {
                    scheduler: name.clone(),
                    workflow: sweep.workflows[w].clone(),
                    reason,
                    src: sweep.src(),
                    spans: vec![
                        LabeledSpan::new_with_span(
                            Some("this scheduler".into()),
                            sweep.span(&format!("schedulers[{s}]")),
                        ),
                        LabeledSpan::new_with_span(
                            Some("this workflow".into()),
                            sweep.span(&format!("workflows[{w}]")),
                        ),
                    ],
                });
            }
        }
    }
}
