//! Named hardware parameters, set on a [`HardwareSpec`] before it is validated into a
//! [`crate::Machine`]: what a design-space sweep varies (`tbu.reconfig_cycles`,
//! `cluster.tbus_per_kind`, `noc.bytes_per_cycle`, ...).
//!
//! A parameter names one field of the description, or the same field of every TBU kind
//! (`tbu.scratchpad_kib`); a TBU-kind parameter takes a `[KIND]` suffix to set one kind only
//! (`tbu.reconfig_cycles[pea64]`). Setting a value checks only its type and range; the machine
//! built from the changed spec is validated as any description is, so a zero count or an
//! oversized machine gets the usual diagnostics. `docs/sweep.md` lists every parameter.

use miette::Diagnostic;
use thiserror::Error;

use crate::spec::HardwareSpec;

/// A parameter's value as written: a whole number or a real one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamValue {
    /// A whole number (at least 0).
    Int(u64),
    /// A real number.
    Real(f64),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(n) => write!(f, "{n}"),
            ParamValue::Real(x) => write!(f, "{x}"),
        }
    }
}

/// The type a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A whole number that fits in 32 bits.
    U32,
    /// A whole number that fits in 64 bits.
    U64,
    /// A real number.
    Real,
}

/// Where a value goes in the description.
#[derive(Clone, Copy)]
enum Target {
    Clock,
    Kind(fn(&mut crate::spec::TbuKindSpec) -> Slot<'_>),
    TbusPerKind,
    Spec(fn(&mut HardwareSpec) -> Slot<'_>),
}

/// A mutable field of one of the three types.
enum Slot<'a> {
    U32(&'a mut u32),
    U64(&'a mut u64),
    Real(&'a mut f64),
}

/// One named parameter.
#[derive(Clone, Copy)]
pub struct Param {
    /// Its name in a sweep (`tbu.reconfig_cycles`).
    pub name: &'static str,
    /// The field of the description it sets (`tbu_kinds[*].reconfig_cycles`).
    pub field: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// Whether it is a field of every TBU kind (and takes a `[KIND]` suffix).
    pub per_kind: bool,
    target: Target,
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Param").field("name", &self.name).field("field", &self.field).finish()
    }
}

macro_rules! kind_param {
    ($name:literal, $field:ident, $ty:ident, $slot:ident) => {
        Param {
            name: $name,
            field: concat!("tbu_kinds[*].", stringify!($field)),
            ty: ParamType::$ty,
            per_kind: true,
            target: Target::Kind(|k| Slot::$slot(&mut k.$field)),
        }
    };
}

macro_rules! spec_param {
    ($name:literal, $field:literal, $ty:ident, $slot:ident, |$s:ident| $place:expr) => {
        Param {
            name: $name,
            field: $field,
            ty: ParamType::$ty,
            per_kind: false,
            target: Target::Spec(|$s| Slot::$slot(&mut $place)),
        }
    };
}

/// Every parameter, in the order `docs/sweep.md` lists them.
pub const PARAMS: &[Param] = &[
    Param {
        name: "clock_ghz",
        field: "clock_ghz",
        ty: ParamType::Real,
        per_kind: false,
        target: Target::Clock,
    },
    kind_param!("tbu.pea_rows", pea_rows, U32, U32),
    kind_param!("tbu.pea_cols", pea_cols, U32, U32),
    kind_param!("tbu.ops_per_pe_per_cycle", ops_per_pe_per_cycle, U32, U32),
    kind_param!("tbu.scratchpad_kib", scratchpad_kib, U64, U64),
    kind_param!("tbu.config_kib", config_kib, U64, U64),
    kind_param!("tbu.reconfig_cycles", reconfig_cycles, U64, U64),
    kind_param!("tbu.ai_efficiency", ai_efficiency, Real, Real),
    kind_param!("tbu.general_efficiency", general_efficiency, Real, Real),
    kind_param!("tbu.parallel_efficiency", parallel_efficiency, Real, Real),
    Param {
        name: "cluster.tbus_per_kind",
        field: "cluster.tbus[*].1",
        ty: ParamType::U32,
        per_kind: true,
        target: Target::TbusPerKind,
    },
    spec_param!("cluster.control_cycles", "cluster.cbu.control_cycles", U64, U64, |s| s
        .cluster
        .cbu
        .control_cycles),
    spec_param!("die.clusters_x", "die.clusters_x", U32, U32, |s| s.die.clusters_x),
    spec_param!("die.clusters_y", "die.clusters_y", U32, U32, |s| s.die.clusters_y),
    spec_param!("die.memory_bandwidth_gbps", "die.memory_bandwidth_gbps", Real, Real, |s| s
        .die
        .memory_bandwidth_gbps),
    spec_param!("die.memory_capacity_gib", "die.memory_capacity_gib", Real, Real, |s| s
        .die
        .memory_capacity_gib),
    spec_param!("noc.bytes_per_cycle", "die.noc.bytes_per_cycle", U32, U32, |s| s.die.noc.bytes_per_cycle),
    spec_param!("noc.hop_latency_cycles", "die.noc.hop_latency_cycles", U32, U32, |s| s
        .die
        .noc
        .hop_latency_cycles),
    spec_param!("package.dies_x", "package.dies_x", U32, U32, |s| s.package.dies_x),
    spec_param!("package.dies_y", "package.dies_y", U32, U32, |s| s.package.dies_y),
    spec_param!("inter_die.bytes_per_cycle", "package.inter_die.bytes_per_cycle", U32, U32, |s| s
        .package
        .inter_die
        .bytes_per_cycle),
    spec_param!("inter_die.hop_latency_cycles", "package.inter_die.hop_latency_cycles", U32, U32, |s| s
        .package
        .inter_die
        .hop_latency_cycles),
    spec_param!("control.bytes_per_cycle", "control_network.bytes_per_cycle", U32, U32, |s| s
        .control_network
        .bytes_per_cycle),
    spec_param!("control.hop_latency_cycles", "control_network.hop_latency_cycles", U32, U32, |s| s
        .control_network
        .hop_latency_cycles),
];

/// Why a parameter could not be set.
#[derive(Clone, Debug, PartialEq, Error, Diagnostic)]
pub enum OverrideError {
    /// No parameter has this name.
    #[error("unknown hardware parameter `{name}`")]
    #[diagnostic(code(hw::unknown_param), help("valid parameters: {valid}"))]
    UnknownParam {
        /// The name written.
        name: String,
        /// Every parameter's name, comma separated.
        valid: String,
    },
    /// A `[KIND]` suffix on a parameter that is not a field of a TBU kind.
    #[error("`{name}` is not a TBU-kind parameter and takes no `[KIND]`")]
    #[diagnostic(
        code(hw::param_kind),
        help("only `tbu.*` and `cluster.tbus_per_kind` take a `[KIND]` suffix")
    )]
    NotPerKind {
        /// The parameter.
        name: String,
    },
    /// The `[KIND]` suffix names a kind the machine does not have.
    #[error("machine `{machine}` has no TBU kind `{kind}`")]
    #[diagnostic(code(hw::param_kind), help("its kinds: {valid}"))]
    UnknownKind {
        /// The machine.
        machine: String,
        /// The kind written.
        kind: String,
        /// The machine's kinds, comma separated.
        valid: String,
    },
    /// A value of the wrong type or out of the field's range.
    #[error("`{name}` takes {expected}, not {value}")]
    #[diagnostic(code(hw::param_value), help("`docs/sweep.md` lists every parameter with its type"))]
    BadValue {
        /// The parameter.
        name: String,
        /// The value written.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
}

/// A parameter name split into the parameter and its optional `[KIND]`.
fn split_kind(path: &str) -> (&str, Option<&str>) {
    match path.strip_suffix(']').and_then(|p| p.split_once('[')) {
        Some((name, kind)) => (name, Some(kind)),
        None => (path, None),
    }
}

/// The parameter a name (with or without a `[KIND]` suffix) refers to.
pub fn find_param(path: &str) -> Result<&'static Param, OverrideError> {
    let (name, kind) = split_kind(path);
    let param = PARAMS.iter().find(|p| p.name == name).ok_or_else(|| OverrideError::UnknownParam {
        name: path.to_owned(),
        valid: PARAMS.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", "),
    })?;
    if kind.is_some() && !param.per_kind {
        return Err(OverrideError::NotPerKind { name: name.to_owned() });
    }
    Ok(param)
}

/// Checks a value against a parameter's type without a spec (what a sweep checks up front).
pub fn check_value(path: &str, value: ParamValue) -> Result<(), OverrideError> {
    let param = find_param(path)?;
    let mut sink = (0u32, 0u64, 0f64);
    let slot = match param.ty {
        ParamType::U32 => Slot::U32(&mut sink.0),
        ParamType::U64 => Slot::U64(&mut sink.1),
        ParamType::Real => Slot::Real(&mut sink.2),
    };
    store(param.name, slot, value)
}

/// Sets the parameter `path` (`tbu.reconfig_cycles`, `tbu.reconfig_cycles[pea64]`, ...) of `spec`.
pub fn apply_override(spec: &mut HardwareSpec, path: &str, value: ParamValue) -> Result<(), OverrideError> {
    let param = find_param(path)?;
    let (name, kind) = split_kind(path);
    let kind_index = match kind {
        None => None,
        Some(k) => Some(spec.tbu_kinds.iter().position(|t| t.name == k).ok_or_else(|| {
            OverrideError::UnknownKind {
                machine: spec.name.clone(),
                kind: k.to_owned(),
                valid: spec.tbu_kinds.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", "),
            }
        })?),
    };
    match param.target {
        Target::Clock => store(name, Slot::Real(&mut spec.clock_ghz), value),
        Target::Spec(place) => store(name, place(spec), value),
        Target::Kind(place) => {
            for (i, k) in spec.tbu_kinds.iter_mut().enumerate() {
                if kind_index.is_none_or(|want| want == i) {
                    store(name, place(k), value)?;
                }
            }
            Ok(())
        }
        Target::TbusPerKind => {
            let wanted = kind_index.map(|i| spec.tbu_kinds[i].name.clone());
            for (kind, count) in &mut spec.cluster.tbus {
                if wanted.as_ref().is_none_or(|w| w == kind) {
                    store(name, Slot::U32(count), value)?;
                }
            }
            Ok(())
        }
    }
}

fn store(name: &str, slot: Slot<'_>, value: ParamValue) -> Result<(), OverrideError> {
    let bad =
        |expected| OverrideError::BadValue { name: name.to_owned(), value: value.to_string(), expected };
    match (slot, value) {
        (Slot::U32(place), ParamValue::Int(n)) => {
            *place = u32::try_from(n).map_err(|_| bad("a whole number below 2^32"))?;
        }
        (Slot::U64(place), ParamValue::Int(n)) => *place = n,
        (Slot::U32(_), ParamValue::Real(_)) => return Err(bad("a whole number below 2^32")),
        (Slot::U64(_), ParamValue::Real(_)) => return Err(bad("a whole number")),
        (Slot::Real(place), v) => {
            let x = match v {
                ParamValue::Int(n) => n as f64,
                ParamValue::Real(x) => x,
            };
            if !x.is_finite() {
                return Err(bad("a finite number"));
            }
            *place = x;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Machine;

    fn spec(name: &str) -> HardwareSpec {
        Machine::preset(name).unwrap().spec
    }

    #[test]
    fn every_parameter_sets_its_field() {
        for p in PARAMS {
            let mut s = spec("hetero");
            let before = crate::to_ron(&s);
            let v = if p.ty == ParamType::Real { ParamValue::Real(0.5) } else { ParamValue::Int(3) };
            apply_override(&mut s, p.name, v).unwrap();
            assert_ne!(before, crate::to_ron(&s), "`{}` changed nothing", p.name);
        }
    }

    #[test]
    fn kind_suffix_sets_one_kind() {
        let mut s = spec("hetero");
        apply_override(&mut s, "tbu.reconfig_cycles[pea16]", ParamValue::Int(7)).unwrap();
        assert_eq!((s.tbu_kinds[0].reconfig_cycles, s.tbu_kinds[1].reconfig_cycles), (8192, 7));
        apply_override(&mut s, "cluster.tbus_per_kind[pea64]", ParamValue::Int(4)).unwrap();
        assert_eq!(s.cluster.tbus, vec![("pea64".to_owned(), 4), ("pea16".to_owned(), 8)]);
        apply_override(&mut s, "tbu.reconfig_cycles", ParamValue::Int(1)).unwrap();
        assert_eq!((s.tbu_kinds[0].reconfig_cycles, s.tbu_kinds[1].reconfig_cycles), (1, 1));
        assert!(Machine::from_spec(&s).is_ok());
    }

    #[test]
    fn bad_names_kinds_and_values_are_errors() {
        let mut s = spec("chip");
        let e = apply_override(&mut s, "tbu.reconfig", ParamValue::Int(1)).unwrap_err();
        assert!(
            matches!(&e, OverrideError::UnknownParam { valid, .. } if valid.contains("`noc.bytes_per_cycle`"))
        );
        let e = apply_override(&mut s, "noc.bytes_per_cycle[pea32]", ParamValue::Int(1)).unwrap_err();
        assert!(matches!(e, OverrideError::NotPerKind { .. }));
        let e = apply_override(&mut s, "tbu.scratchpad_kib[big]", ParamValue::Int(1)).unwrap_err();
        assert!(matches!(&e, OverrideError::UnknownKind { valid, .. } if valid == "`pea32`"));
        let e = apply_override(&mut s, "noc.bytes_per_cycle", ParamValue::Real(1.5)).unwrap_err();
        assert!(matches!(e, OverrideError::BadValue { .. }));
        assert!(apply_override(&mut s, "noc.bytes_per_cycle", ParamValue::Int(1 << 33)).is_err());
        assert!(check_value("die.memory_bandwidth_gbps", ParamValue::Int(100)).is_ok());
        assert!(check_value("die.memory_bandwidth_gbps", ParamValue::Real(f64::NAN)).is_err());
        // A zero count passes the override and fails validation, located in the canonical text.
        apply_override(&mut s, "cluster.tbus_per_kind", ParamValue::Int(0)).unwrap();
        assert!(Machine::from_spec(&s).is_err());
    }
}
