//! The sweep spec (`docs/sweep.md`): a RON file naming the axes of a design-space sweep, parsed
//! and checked with every problem located in the file, and the canonical enumeration of its points.

use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use octopus_hw::{OverrideError, ParamType, ParamValue, RonLocations};
use ron::error::{Error as RonError, Position};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

/// The version of the spec format and of the results lines it produces. Results lines carry it;
/// a file of another version is refused, never mixed.
pub const SPEC_VERSION: u32 = 1;

/// The fields of a spec, as the unknown-axis diagnostic lists them.
const FIELDS: &[&str] =
    &["name", "workflows", "hardware", "params", "schedulers", "requests", "rates", "loads", "seeds"];

/// The spec as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Sweep")]
struct SpecFile {
    #[serde(default)]
    name: Option<String>,
    workflows: Vec<String>,
    hardware: Vec<String>,
    #[serde(default)]
    params: Option<Vec<(String, Vec<Number>)>>,
    schedulers: Vec<String>,
    #[serde(default)]
    requests: Option<Vec<u64>>,
    #[serde(default)]
    rates: Option<Vec<Number>>,
    #[serde(default)]
    loads: Option<Vec<Number>>,
    #[serde(default)]
    seeds: Option<Vec<u64>>,
}

/// A number as written: whole numbers stay whole (a `u64` parameter refuses `1.5`).
#[derive(Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Real(f64),
}

impl Number {
    fn real(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Real(x) => x,
        }
    }
}

/// How requests arrive at one point: the `requests` and `rates` axes combined. A `loads` axis
/// (fractions of a capacity estimate) will be one more variant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arrivals {
    /// The workflow's own arrivals (neither `requests` nor `rates` given).
    Workflow,
    /// A closed batch of this many requests at time 0.
    Batch(u64),
    /// Open-loop Poisson arrivals at `rate` requests per second; `requests` of them, or the
    /// workflow's request count.
    Poisson {
        /// Requests per second.
        rate: f64,
        /// How many.
        requests: Option<u64>,
    },
}

impl Arrivals {
    /// `SimConfig::requests`.
    pub fn requests(self) -> Option<u64> {
        match self {
            Arrivals::Workflow => None,
            Arrivals::Batch(n) => Some(n),
            Arrivals::Poisson { requests, .. } => requests,
        }
    }

    /// `SimConfig::rate`.
    pub fn rate(self) -> Option<f64> {
        match self {
            Arrivals::Poisson { rate, .. } => Some(rate),
            _ => None,
        }
    }
}

/// A problem with a spec; located variants point into the spec file.
#[derive(Debug, Error, Diagnostic)]
pub enum SpecError {
    /// Not RON, or not the shape of a spec.
    #[error("{message}")]
    #[diagnostic(code(sweep::syntax))]
    Syntax {
        /// What is wrong.
        message: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
        /// What would fix it.
        #[help]
        help: Option<String>,
    },
    /// A field that is not an axis of a spec.
    #[error("unknown axis `{field}`")]
    #[diagnostic(code(sweep::unknown_axis))]
    UnknownAxis {
        /// The field written.
        field: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("not an axis")]
        span: SourceSpan,
        /// The axes.
        #[help]
        help: String,
    },
    /// A required axis is absent.
    #[error("missing axis `{field}`")]
    #[diagnostic(
        code(sweep::missing_axis),
        help("`workflows`, `hardware` and `schedulers` are required; `docs/sweep.md` describes every axis")
    )]
    MissingAxis {
        /// The axis.
        field: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// The spec's closing parenthesis.
        #[label("this needs `{field}: [...]`")]
        span: SourceSpan,
    },
    /// An axis without values.
    #[error("axis `{axis}` is empty")]
    #[diagnostic(
        code(sweep::empty_axis),
        help(
            "a sweep over an empty axis has no points: give it at least one value, or leave an optional axis out"
        )
    )]
    EmptyAxis {
        /// The axis.
        axis: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("no values")]
        span: SourceSpan,
    },
    /// A value written twice in one axis.
    #[error("`{value}` is written twice in `{axis}`")]
    #[diagnostic(code(sweep::duplicate_value), help("each point is run once; remove the repetition"))]
    Duplicate {
        /// The axis.
        axis: String,
        /// The value.
        value: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// The repetition.
        #[label("again")]
        span: SourceSpan,
        /// The first.
        #[label("first")]
        first: SourceSpan,
    },
    /// An axis this version does not support yet.
    #[error("the `{axis}` axis is not supported yet")]
    #[diagnostic(
        code(sweep::not_yet),
        help(
            "loads as fractions of a capacity estimate need the simulator's `--load`, which is not there yet; sweep `rates` (requests per second) for now"
        )
    )]
    NotYet {
        /// The axis.
        axis: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("not yet")]
        span: SourceSpan,
    },
    /// A scheduler name not in the registry.
    #[error("unknown scheduler `{name}`")]
    #[diagnostic(code(sweep::unknown_scheduler))]
    UnknownScheduler {
        /// The name written.
        name: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("not a scheduler")]
        span: SourceSpan,
        /// The schedulers.
        #[help]
        help: String,
    },
    /// A hardware name that is no preset (and no `.ron` path).
    #[error("unknown hardware preset `{name}`")]
    #[diagnostic(code(sweep::unknown_preset))]
    UnknownPreset {
        /// The name written.
        name: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("not a preset")]
        span: SourceSpan,
        /// The presets.
        #[help]
        help: String,
    },
    /// A hardware parameter that cannot be set as written (unknown name, wrong type, no such kind).
    #[error("{message}")]
    #[diagnostic(code(sweep::param))]
    Param {
        /// The override error, rendered.
        message: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("{label}")]
        span: SourceSpan,
        /// What is wrong there.
        label: String,
        /// What would fix it.
        #[help]
        help: String,
    },
    /// A count or rate out of range.
    #[error("{message}")]
    #[diagnostic(code(sweep::bad_value))]
    BadValue {
        /// What is wrong.
        message: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
        /// What would fix it.
        #[help]
        help: String,
    },
    /// A file the spec names could not be read (exit code 2).
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(code(sweep::unreadable), help("paths are relative to the spec's directory"))]
    Unreadable {
        /// The path, resolved.
        path: String,
        /// Why.
        reason: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where it is named.
        #[label("named here")]
        span: SourceSpan,
    },
    /// A workflow or hardware file the spec names is invalid; its own diagnostics are printed.
    #[error("{what} `{name}` is invalid")]
    #[diagnostic(code(sweep::invalid_input), help("its diagnostics are above"))]
    InvalidInput {
        /// `workflow`, `hardware file` or `machine`.
        what: &'static str,
        /// Its name in the spec (with the overrides, for a machine).
        name: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// Where it comes from.
        #[label(collection)]
        spans: Vec<LabeledSpan>,
    },
    /// A scheduler that refuses a workflow of the sweep (e.g. `heft` and control blocks).
    #[error("scheduler `{scheduler}` refuses workflow `{workflow}`: {reason}")]
    #[diagnostic(code(sweep::refused), help("remove the scheduler or the workflow from the sweep"))]
    Refused {
        /// The scheduler.
        scheduler: String,
        /// The workflow, as written.
        workflow: String,
        /// Why.
        reason: String,
        /// The spec.
        #[source_code]
        src: NamedSource<String>,
        /// The scheduler and the workflow.
        #[label(collection)]
        spans: Vec<LabeledSpan>,
    },
}

impl SpecError {
    /// The exit code this error calls for: 2 for a file that cannot be read, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            SpecError::Unreadable { .. } => crate::exit::USAGE,
            _ => crate::exit::INVALID,
        }
    }
}

/// A checked spec.
pub struct Sweep {
    /// Its name (`name:`, or the file's stem).
    pub name: String,
    /// The spec file, as given.
    pub file: PathBuf,
    /// The directory paths in the spec are relative to.
    pub base: PathBuf,
    text: String,
    locs: RonLocations,
    /// Workflow files, as written.
    pub workflows: Vec<String>,
    /// Presets or hardware files, as written.
    pub hardware: Vec<String>,
    /// Hardware parameters and their values (real parameters' values are all `Real`).
    pub params: Vec<(String, Vec<ParamValue>)>,
    /// Scheduler names.
    pub schedulers: Vec<String>,
    /// The arrival axis: `requests` x `rates`.
    pub arrivals: Vec<Arrivals>,
    /// Seeds.
    pub seeds: Vec<u64>,
}

/// One point of a sweep: an index into each axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// Its place in the canonical order.
    pub index: usize,
    /// Into [`Sweep::workflows`].
    pub workflow: usize,
    /// Into [`Sweep::hardware`].
    pub hardware: usize,
    /// Into [`Sweep::combos`].
    pub combo: usize,
    /// Into [`Sweep::schedulers`].
    pub scheduler: usize,
    /// Into [`Sweep::arrivals`].
    pub arrivals: usize,
    /// Into [`Sweep::seeds`].
    pub seed: usize,
}

/// A point's inputs as recorded in a results line and hashed into its key. Optional fields are
/// omitted when absent, so a new kind of arrivals adds a field without changing existing keys.
#[derive(Serialize)]
pub struct PointInputs<'a> {
    /// The workflow file, as written in the spec.
    pub workflow: &'a str,
    /// The preset or hardware file, as written.
    pub hardware: &'a str,
    /// The hardware parameters set, in the spec's order.
    pub params: Params<'a>,
    /// The scheduler.
    pub scheduler: &'a str,
    /// `SimConfig::requests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// `SimConfig::rate`, requests per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// The seed.
    pub seed: u64,
}

/// Parameter settings, serialised as a JSON object in the spec's order.
pub struct Params<'a>(pub Vec<(&'a str, ParamValue)>);

impl Serialize for Params<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            match value {
                ParamValue::Int(n) => map.serialize_entry(name, n)?,
                ParamValue::Real(x) => map.serialize_entry(name, x)?,
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct KeyInput<'a> {
    spec_version: u32,
    point: &'a PointInputs<'a>,
}

/// The key of a point: FNV-1a (64-bit) of the compact JSON `{"spec_version":1,"point":{...}}`, as
/// 16 lowercase hex digits.
pub fn key_of(inputs: &PointInputs<'_>) -> String {
    let json = serde_json::to_string(&KeyInput { spec_version: SPEC_VERSION, point: inputs })
        .expect("point inputs serialise");
    format!("{:016x}", octopus_owg::hash::fnv1a64(json.as_bytes()))
}

impl Sweep {
    /// Parses and checks a spec; `file` names it in diagnostics and anchors its relative paths.
    /// Returns every problem found (a structural RON problem stops at the first).
    pub fn parse(text: &str, file: &Path) -> Result<Sweep, Vec<SpecError>> {
        let origin = file.display().to_string();
        // Optional axes are written bare (`seeds: [1, 2]`), not as `Some([1, 2])`.
        let raw: SpecFile = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
            .map_err(|e| vec![ron_error(text, &origin, e.code, e.position)])?;
        let mut sweep = Sweep {
            name: raw.name.clone().unwrap_or_else(|| crate::io::stem(file)),
            file: file.to_path_buf(),
            base: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            text: text.to_owned(),
            locs: RonLocations::scan(text),
            workflows: raw.workflows.clone(),
            hardware: raw.hardware.clone(),
            params: Vec::new(),
            schedulers: raw.schedulers.clone(),
            arrivals: Vec::new(),
            seeds: raw.seeds.clone().unwrap_or_else(|| vec![0]),
        };
        let mut errors = Vec::new();
        sweep.check(&raw, &mut errors);
        if errors.is_empty() { Ok(sweep) } else { Err(errors) }
    }

    fn check(&mut self, raw: &SpecFile, errors: &mut Vec<SpecError>) {
        for (axis, len) in [
            ("workflows", Some(raw.workflows.len())),
            ("hardware", Some(raw.hardware.len())),
            ("params", raw.params.as_ref().map(Vec::len)),
            ("schedulers", Some(raw.schedulers.len())),
            ("requests", raw.requests.as_ref().map(Vec::len)),
            ("rates", raw.rates.as_ref().map(Vec::len)),
            ("seeds", raw.seeds.as_ref().map(Vec::len)),
        ] {
            if len == Some(0) {
                errors.push(SpecError::EmptyAxis {
                    axis: axis.into(),
                    src: self.src(),
                    span: self.span(axis),
                });
            }
        }
        if raw.loads.is_some() {
            errors.push(SpecError::NotYet {
                axis: "loads".into(),
                src: self.src(),
                span: self.span("loads"),
            });
        }
        self.duplicates("workflows", &raw.workflows, errors);
        self.duplicates("hardware", &raw.hardware, errors);
        self.duplicates("schedulers", &raw.schedulers, errors);
        if let Some(r) = &raw.requests {
            self.duplicates("requests", r, errors);
        }
        if let Some(r) = &raw.rates {
            let shown: Vec<String> = r.iter().map(|x| x.real().to_string()).collect();
            self.duplicates("rates", &shown, errors);
        }
        self.duplicates("seeds", &self.seeds.clone(), errors);
        for (i, h) in raw.hardware.iter().enumerate() {
            if !is_path(h) && octopus_hw::preset_text(h).is_none() {
                errors.push(SpecError::UnknownPreset {
                    name: h.clone(),
                    src: self.src(),
                    span: self.span(&format!("hardware[{i}]")),
                    help: format!(
                        "presets: {}; a hardware file ends in `.ron`",
                        octopus_hw::PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        for (i, s) in raw.schedulers.iter().enumerate() {
            if let Err(octopus_sim::SimError::UnknownScheduler { valid, .. }) = octopus_sim::make_scheduler(s)
            {
                errors.push(SpecError::UnknownScheduler {
                    name: s.clone(),
                    src: self.src(),
                    span: self.span(&format!("schedulers[{i}]")),
                    help: format!("valid schedulers: {valid}"),
                });
            }
        }
        for (i, &n) in raw.requests.iter().flatten().enumerate() {
            if n == 0 {
                errors.push(self.bad_value(
                    &format!("requests[{i}]"),
                    "zero requests to simulate".into(),
                    "a point runs at least one request",
                ));
            }
        }
        let mut rates = Vec::new();
        for (i, r) in raw.rates.iter().flatten().enumerate() {
            let x = r.real();
            if !(x.is_finite() && x > 0.0) {
                errors.push(self.bad_value(
                    &format!("rates[{i}]"),
                    format!("a rate must be positive and finite, not {x}"),
                    "rates are requests per second of open-loop Poisson arrivals",
                ));
            }
            rates.push(x);
        }
        self.arrivals = match (&raw.requests, raw.rates.is_some()) {
            (None, false) => vec![Arrivals::Workflow],
            (Some(ns), false) => ns.iter().map(|&n| Arrivals::Batch(n)).collect(),
            (None, true) => rates.iter().map(|&rate| Arrivals::Poisson { rate, requests: None }).collect(),
            (Some(ns), true) => ns
                .iter()
                .flat_map(|&n| rates.iter().map(move |&rate| Arrivals::Poisson { rate, requests: Some(n) }))
                .collect(),
        };
        self.check_params(raw.params.as_deref().unwrap_or_default(), errors);
    }

    fn check_params(&mut self, params: &[(String, Vec<Number>)], errors: &mut Vec<SpecError>) {
        let names: Vec<String> = params.iter().map(|p| p.0.clone()).collect();
        self.duplicates_at("params", &names, |i| format!("params[{i}].0"), errors);
        for (i, (name, values)) in params.iter().enumerate() {
            let param = match octopus_hw::find_param(name) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(self.param_error(&format!("params[{i}].0"), &e));
                    continue;
                }
            };
            let at = |j: usize| format!("params[{i}].1[{j}]");
            if values.is_empty() {
                errors.push(SpecError::EmptyAxis {
                    axis: format!("params: {name}"),
                    src: self.src(),
                    span: self.span(&format!("params[{i}].1")),
                });
            }
            let mut checked = Vec::new();
            for (j, v) in values.iter().enumerate() {
                let value = match (param.ty, *v) {
                    (ParamType::Real, n) => ParamValue::Real(n.real()),
                    (_, Number::Int(n)) => ParamValue::Int(n),
                    (_, Number::Real(x)) => ParamValue::Real(x),
                };
                match octopus_hw::check_value(name, value) {
                    Ok(()) => checked.push(value),
                    Err(e) => errors.push(self.param_error(&at(j), &e)),
                }
            }
            let shown: Vec<String> = checked.iter().map(ToString::to_string).collect();
            self.duplicates_at(&format!("params: {name}"), &shown, at, errors);
            self.params.push((name.clone(), checked));
        }
    }

    /// A located diagnostic for an override error at `path` of the spec.
    pub fn param_error(&self, path: &str, e: &OverrideError) -> SpecError {
        let (label, help) = match e {
            OverrideError::UnknownParam { valid, .. } => {
                ("not a parameter", format!("valid parameters: {valid}"))
            }
            OverrideError::NotPerKind { .. } => {
                ("no `[KIND]` here", "only `tbu.*` and `cluster.tbus_per_kind` take a `[KIND]` suffix".into())
            }
            OverrideError::UnknownKind { valid, .. } => ("no such TBU kind", format!("its kinds: {valid}")),
            OverrideError::BadValue { .. } => {
                ("wrong value", "`docs/sweep.md` lists every parameter with its type".into())
            }
        };
        SpecError::Param {
            message: e.to_string(),
            src: self.src(),
            span: self.span(path),
            label: label.into(),
            help,
        }
    }

    fn bad_value(&self, path: &str, message: String, help: &str) -> SpecError {
        SpecError::BadValue { message, src: self.src(), span: self.span(path), help: help.into() }
    }

    fn duplicates<T: ToString + PartialEq>(&self, axis: &str, values: &[T], errors: &mut Vec<SpecError>) {
        self.duplicates_at(axis, values, |i| format!("{axis}[{i}]"), errors);
    }

    fn duplicates_at<T: ToString + PartialEq>(
        &self,
        axis: &str,
        values: &[T],
        path: impl Fn(usize) -> String,
        errors: &mut Vec<SpecError>,
    ) {
        for (i, v) in values.iter().enumerate() {
            if let Some(first) = values[..i].iter().position(|w| w == v) {
                errors.push(SpecError::Duplicate {
                    axis: axis.into(),
                    value: v.to_string(),
                    src: self.src(),
                    span: self.span(&path(i)),
                    first: self.span(&path(first)),
                });
            }
        }
    }

    /// The spec's text for diagnostics.
    pub fn src(&self) -> NamedSource<String> {
        NamedSource::new(self.file.display().to_string(), self.text.clone())
    }

    /// The span of the value at `path` (`workflows[1]`, `params[0].1[2]`).
    pub fn span(&self, path: &str) -> SourceSpan {
        let r = self.locs.value(path);
        (r.start, r.end - r.start).into()
    }

    /// A file the spec names, resolved against the spec's directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }

    /// Every combination of parameter values (indices into each parameter's values), the first
    /// parameter varying slowest; one empty combination when no parameter is swept.
    pub fn combos(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new()];
        for (_, values) in &self.params {
            out = out
                .into_iter()
                .flat_map(|c| (0..values.len()).map(move |j| [c.clone(), vec![j]].concat()))
                .collect();
        }
        out
    }

    /// The settings of one combination.
    pub fn combo_params(&self, combo: &[usize]) -> Vec<(&str, ParamValue)> {
        self.params.iter().zip(combo).map(|((name, values), &j)| (name.as_str(), values[j])).collect()
    }

    /// Every point, in the canonical order: workflows, then hardware, parameter combinations,
    /// schedulers, arrivals and seeds, the last varying fastest.
    pub fn points(&self) -> Vec<Point> {
        let combos = self.combos().len();
        let mut out = Vec::new();
        for workflow in 0..self.workflows.len() {
            for hardware in 0..self.hardware.len() {
                for combo in 0..combos {
                    for scheduler in 0..self.schedulers.len() {
                        for arrivals in 0..self.arrivals.len() {
                            for seed in 0..self.seeds.len() {
                                let index = out.len();
                                out.push(Point {
                                    index,
                                    workflow,
                                    hardware,
                                    combo,
                                    scheduler,
                                    arrivals,
                                    seed,
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The index of a point's machine among the sweep's machines (one per hardware entry and
    /// parameter combination): `hardware * combos + combo`.
    pub fn machine_index(&self, p: &Point, combos: usize) -> usize {
        p.hardware * combos + p.combo
    }

    /// A point's recorded inputs.
    pub fn inputs<'a>(&'a self, p: &Point, combos: &[Vec<usize>]) -> PointInputs<'a> {
        let a = self.arrivals[p.arrivals];
        PointInputs {
            workflow: &self.workflows[p.workflow],
            hardware: &self.hardware[p.hardware],
            params: Params(self.combo_params(&combos[p.combo])),
            scheduler: &self.schedulers[p.scheduler],
            requests: a.requests(),
            rate: a.rate(),
            seed: self.seeds[p.seed],
        }
    }

    /// One line describing a point, for listings and messages.
    pub fn describe(&self, p: &Point, combos: &[Vec<usize>]) -> String {
        let mut parts = vec![self.workflows[p.workflow].clone(), self.hardware[p.hardware].clone()];
        parts.extend(self.combo_params(&combos[p.combo]).iter().map(|(n, v)| format!("{n}={v}")));
        parts.push(self.schedulers[p.scheduler].clone());
        match self.arrivals[p.arrivals] {
            Arrivals::Workflow => parts.push("workflow arrivals".into()),
            Arrivals::Batch(n) => parts.push(format!("batch of {n}")),
            Arrivals::Poisson { rate, requests } => {
                parts.push(format!("{rate}/s"));
                if let Some(n) = requests {
                    parts.push(format!("{n} requests"));
                }
            }
        }
        parts.push(format!("seed {}", self.seeds[p.seed]));
        parts.join(" · ")
    }
}

/// Whether `--hw`-style text names a file rather than a preset (the rule of `octopus hw`).
pub fn is_path(hw: &str) -> bool {
    hw.ends_with(".ron") || hw.contains('/') || hw.contains(std::path::MAIN_SEPARATOR)
}

/// The byte offset of a RON error position (1-based line and column, columns in characters).
fn offset_of(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 1..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    start + line.char_indices().nth(pos.col.saturating_sub(1)).map_or(line.len(), |(i, _)| i)
}

/// The span of the word around `offset` (or one character).
fn token_at(text: &str, offset: usize) -> SourceSpan {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || b"_.-".contains(&c);
    let mut start = offset.min(b.len());
    while start > 0 && word(b[start - 1]) {
        start -= 1;
    }
    let mut end = start;
    while end < b.len() && word(b[end]) {
        end += 1;
    }
    if end == start {
        end = (start + 1).min(b.len());
    }
    (start, end - start).into()
}

/// The last whole-word occurrence of `name` before `before`.
fn last_word(text: &str, name: &str, before: usize) -> Option<SourceSpan> {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut end = before.min(text.len());
    while let Some(i) = text[..end].rfind(name) {
        let after = i + name.len();
        if (i == 0 || !ident(b[i - 1])) && (after >= b.len() || !ident(b[after])) {
            return Some((i, name.len()).into());
        }
        end = i;
    }
    None
}

fn ron_error(text: &str, origin: &str, code: RonError, pos: Position) -> SpecError {
    let offset = offset_of(text, pos);
    let src = NamedSource::new(origin, text.to_owned());
    let axes = || FIELDS.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
    match code {
        RonError::NoSuchStructField { found, .. } => SpecError::UnknownAxis {
            span: last_word(text, &found, offset + 1).unwrap_or_else(|| token_at(text, offset)),
            help: format!("a spec has {}", axes()),
            field: found,
            src,
        },
        RonError::MissingStructField { field, .. } => {
            let at = text[..offset.min(text.len())].rfind(')').unwrap_or(offset);
            SpecError::MissingAxis { field: field.to_owned(), src, span: (at, 1).into() }
        }
        RonError::DuplicateStructField { field, .. } => SpecError::Syntax {
            message: format!("axis `{field}` is written twice"),
            span: last_word(text, field, offset + 1).unwrap_or_else(|| token_at(text, offset)),
            help: Some("keep one of them".into()),
            src,
        },
        RonError::IntegerOutOfBounds | RonError::ExpectedInteger => SpecError::Syntax {
            message: "expected a whole number at least 0".into(),
            span: token_at(text, offset),
            help: Some("requests and seeds are whole numbers".into()),
            src,
        },
        RonError::ExpectedDifferentStructName { found, .. } => SpecError::Syntax {
            message: format!("expected a `Sweep(...)`, found `{found}(...)`"),
            span: token_at(text, offset),
            help: Some("a spec is `Sweep(workflows: [...], hardware: [...], schedulers: [...], ...)`".into()),
            src,
        },
        other => {
            let message = other.to_string();
            let mut c = message.chars();
            let message: String = c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default();
            let help =
                message.contains("untagged").then(|| "parameter values and rates are numbers".to_owned());
            SpecError::Syntax { message, span: token_at(text, offset), help, src }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Sweep {
        Sweep::parse(text, Path::new("dir/s.ron")).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn points_enumerate_in_canonical_order() {
        let s = parse(
            r#"Sweep(workflows: ["a.owg", "b.owg"], hardware: ["chip"], schedulers: ["static", "greedy"],
                params: [("tbu.reconfig_cycles", [0, 512]), ("die.memory_bandwidth_gbps", [100, 200.5])],
                requests: [5], rates: [10, 20.5], seeds: [1, 2])"#,
        );
        assert_eq!(s.name, "s");
        assert_eq!(s.base, Path::new("dir"));
        let combos = s.combos();
        assert_eq!(combos, vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]);
        let points = s.points();
        assert_eq!(points.len(), 2 * 4 * 2 * 2 * 2);
        assert!(points.iter().enumerate().all(|(i, p)| p.index == i));
        assert_eq!((points[1].seed, points[2].arrivals, points[4].scheduler, points[8].combo), (1, 1, 1, 1));
        assert_eq!(points[32].workflow, 1);
        assert_eq!(s.arrivals[1], Arrivals::Poisson { rate: 20.5, requests: Some(5) });
        // A real parameter written as a whole number is a real: one key for `100` and `100.0`.
        assert_eq!(s.params[1].1[0], ParamValue::Real(100.0));
        let json = serde_json::to_string(&s.inputs(&points[3], &combos)).unwrap();
        assert_eq!(
            json,
            r#"{"workflow":"a.owg","hardware":"chip","params":{"tbu.reconfig_cycles":0,"die.memory_bandwidth_gbps":100.0},"scheduler":"static","requests":5,"rate":20.5,"seed":2}"#
        );
        let keys: std::collections::BTreeSet<String> =
            points.iter().map(|p| key_of(&s.inputs(p, &combos))).collect();
        assert_eq!(keys.len(), points.len(), "keys are distinct");
    }

    #[test]
    fn optional_axes_default() {
        let s = parse(r#"(workflows: ["a.owg"], hardware: ["chip"], schedulers: ["static"])"#);
        assert_eq!(
            (s.arrivals.clone(), s.seeds.clone(), s.combos().len()),
            (vec![Arrivals::Workflow], vec![0], 1)
        );
        let p = s.points()[0];
        let json = serde_json::to_string(&s.inputs(&p, &s.combos())).unwrap();
        assert_eq!(
            json,
            r#"{"workflow":"a.owg","hardware":"chip","params":{},"scheduler":"static","seed":0}"#
        );
        // The key is FNV-1a 64 of the documented JSON.
        let expected =
            octopus_owg::hash::fnv1a64(format!(r#"{{"spec_version":1,"point":{json}}}"#).as_bytes());
        assert_eq!(key_of(&s.inputs(&p, &s.combos())), format!("{expected:016x}"));
        let s =
            parse(r#"(workflows: ["a.owg"], hardware: ["chip"], schedulers: ["static"], requests: [3, 4])"#);
        assert_eq!(s.arrivals, vec![Arrivals::Batch(3), Arrivals::Batch(4)]);
    }
}
