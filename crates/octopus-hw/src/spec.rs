//! The hardware description as written in RON files: plain serde data, one struct per level of
//! the hierarchy (TBU kind -> cluster -> die -> package/wafer, plus the control network).
//!
//! Every field is documented with its unit here and with its rationale in `docs/hardware.md`.
//! A [`HardwareSpec`] is unchecked; [`crate::Machine::from_spec`] validates it.

use serde::{Deserialize, Serialize};

/// A whole machine, as written in a `.ron` file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareSpec {
    /// The machine's name (presets: `chip`, `package`, `wafer`, ...).
    pub name: String,
    /// One line for `octopus hw list`.
    #[serde(default)]
    pub description: String,
    /// Clock frequency of PEs, routers and CBUs, in GHz (one clock domain).
    pub clock_ghz: f64,
    /// The kinds of TBU the machine has; each cluster names how many of each it holds.
    pub tbu_kinds: Vec<TbuKindSpec>,
    /// One cluster: TBUs, a CBU and a router (every cluster of the machine is alike).
    pub cluster: ClusterSpec,
    /// One die: a 2-D mesh of clusters with its off-chip memory.
    pub die: DieSpec,
    /// The grid of dies: a package (a few dies) or a wafer (many).
    pub package: PackageSpec,
    /// The separate, lightweight network of the decoupled control plane (CBU to CBU).
    pub control_network: LinkSpec,
}

/// One kind of Task Block Unit: a PEA (an array of PEs), a scratchpad and configuration memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TbuKindSpec {
    /// Its name, referred to by [`ClusterSpec::tbus`].
    pub name: String,
    /// Rows of PEs in the PEA.
    pub pea_rows: u32,
    /// Columns of PEs in the PEA.
    pub pea_cols: u32,
    /// Peak operations per PE per cycle (a fused multiply-add counts as 2).
    pub ops_per_pe_per_cycle: u32,
    /// Scratchpad (local SRAM) of the TBU, in KiB.
    pub scratchpad_kib: u64,
    /// Configuration memory, in KiB: one task block's configuration.
    pub config_kib: u64,
    /// Cycles to load another task block's configuration.
    pub reconfig_cycles: u64,
    /// Fraction of peak that AI kernels (GEMM, convolution, attention, LLM, elementwise, reduce) reach, in (0, 1].
    pub ai_efficiency: f64,
    /// Fraction of peak that general `compute` reaches, in (0, 1].
    pub general_efficiency: f64,
    /// Parallel efficiency per doubling of the TBUs one task runs on, in (0, 1]: k TBUs reach
    /// `parallel_efficiency^log2(k)` of k times one TBU's rate.
    pub parallel_efficiency: f64,
}

impl TbuKindSpec {
    /// Peak operations per cycle of one TBU of this kind.
    pub fn peak_ops_per_cycle(&self) -> u64 {
        u64::from(self.pea_rows) * u64::from(self.pea_cols) * u64::from(self.ops_per_pe_per_cycle)
    }

    /// Scratchpad in bytes.
    pub fn scratchpad_bytes(&self) -> u64 {
        self.scratchpad_kib * 1024
    }
}

/// One cluster: N TBUs (of one or more kinds), one CBU and a router.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// `(kind name, count)` pairs: how many TBUs of each kind.
    pub tbus: Vec<(String, u32)>,
    /// The cluster's Control Block Unit.
    pub cbu: CbuSpec,
}

/// A Control Block Unit: runs control blocks and the cluster's local scheduler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CbuSpec {
    /// Cycles to execute one control block (decide a branch, count a loop, fork, join).
    pub control_cycles: u64,
}

/// One die: a `clusters_x` by `clusters_y` mesh of clusters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DieSpec {
    /// Clusters along x.
    pub clusters_x: u32,
    /// Clusters along y.
    pub clusters_y: u32,
    /// Off-chip memory bandwidth of the die, in GB/s (10^9 bytes per second), shared by its TBUs.
    pub memory_bandwidth_gbps: f64,
    /// Off-chip memory capacity of the die, in GiB.
    pub memory_capacity_gib: f64,
    /// The on-die network-on-chip: one link between neighbouring clusters, each direction.
    pub noc: LinkSpec,
}

/// The grid of dies: `dies_x` by `dies_y`, neighbours joined by inter-die links.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// Dies along x.
    pub dies_x: u32,
    /// Dies along y.
    pub dies_y: u32,
    /// One link between the facing edge clusters of neighbouring dies, each direction.
    pub inter_die: LinkSpec,
}

/// A point-to-point link.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Bandwidth, in bytes per cycle.
    pub bytes_per_cycle: u32,
    /// Latency of one hop (router plus wire), in cycles.
    pub hop_latency_cycles: u32,
}
