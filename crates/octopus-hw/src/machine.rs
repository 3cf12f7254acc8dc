//! The flattened, validated topology: every TBU, cluster, die and NoC link with a typed ID.

use octopus_owg::define_index;
use octopus_owg::index::{Idx, IndexVec};
use serde::{Deserialize, Serialize};

use crate::error::HwError;
use crate::load::{Checker, parse_spec};
use crate::spec::{HardwareSpec, TbuKindSpec};

define_index! {
    /// A kind of TBU: an index into [`HardwareSpec::tbu_kinds`].
    pub struct TbuKindId;
}
define_index! {
    /// A Task Block Unit of a [`Machine`].
    pub struct TbuId;
}
define_index! {
    /// A cluster of a [`Machine`] (and its CBU: one per cluster).
    pub struct ClusterId;
}
define_index! {
    /// A die of a [`Machine`].
    pub struct DieId;
}
define_index! {
    /// A directed link of the NoC mesh.
    pub struct LinkId;
}

/// The most TBUs a machine may have: far above any wafer, low enough that every ID fits in `u32`
/// and building the topology stays instant.
pub const MAX_TBUS: u64 = 1 << 24;

/// One TBU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tbu {
    /// The cluster it belongs to.
    pub cluster: ClusterId,
    /// Its kind.
    pub kind: TbuKindId,
}

/// One cluster: its place in the machine-wide mesh and its TBUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// The die it is on.
    pub die: DieId,
    /// Column in the machine-wide mesh of clusters (0 at the west edge).
    pub x: u32,
    /// Row in the machine-wide mesh of clusters (0 at the north edge).
    pub y: u32,
    /// Its first TBU; its TBUs are `first_tbu .. first_tbu + tbu_count`.
    pub first_tbu: TbuId,
    /// How many TBUs it holds.
    pub tbu_count: u32,
}

impl Cluster {
    /// Its TBUs.
    pub fn tbus(&self) -> impl ExactSizeIterator<Item = TbuId> + use<> {
        (self.first_tbu.0..self.first_tbu.0 + self.tbu_count).map(TbuId)
    }
}

/// One die: its place in the grid of dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Die {
    /// Column in the grid of dies.
    pub x: u32,
    /// Row in the grid of dies.
    pub y: u32,
}

/// One directed link between neighbouring clusters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The sending cluster.
    pub from: ClusterId,
    /// The receiving cluster.
    pub to: ClusterId,
    /// Whether it joins two dies (an inter-die link) rather than two clusters of one die.
    pub inter_die: bool,
    /// Bandwidth, in bytes per cycle.
    pub bytes_per_cycle: u32,
    /// Latency of the hop, in cycles.
    pub hop_latency_cycles: u32,
}

/// The hops of a route, split by kind of link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hops {
    /// Hops on a die's NoC.
    pub on_die: u32,
    /// Hops across an inter-die link.
    pub inter_die: u32,
}

impl Hops {
    /// No hops: within one cluster.
    pub const ZERO: Hops = Hops { on_die: 0, inter_die: 0 };

    /// All hops.
    pub fn total(self) -> u32 {
        self.on_die + self.inter_die
    }
}

/// The four neighbours of a cluster in the mesh, in this order in [`Machine::neighbours`].
const DIRS: [(i64, i64); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];

/// A validated machine: the spec and its flattened topology.
///
/// Clusters are numbered row-major over the machine-wide mesh (`id = y * width + x`), TBUs
/// cluster by cluster, and within a cluster in the order of [`crate::ClusterSpec::tbus`].
#[derive(Clone, Debug)]
pub struct Machine {
    /// What it was built from.
    pub spec: HardwareSpec,
    /// The TBU kinds, indexed like `spec.tbu_kinds`.
    pub kinds: IndexVec<TbuKindId, TbuKindSpec>,
    /// Every TBU.
    pub tbus: IndexVec<TbuId, Tbu>,
    /// Every cluster.
    pub clusters: IndexVec<ClusterId, Cluster>,
    /// Every die, row-major.
    pub dies: IndexVec<DieId, Die>,
    /// Every directed mesh link.
    pub links: IndexVec<LinkId, Link>,
    width: u32,
    height: u32,
    out_links: IndexVec<ClusterId, [Option<LinkId>; 4]>,
    fingerprint: u64,
}

impl Machine {
    /// Parses and validates a hardware description; `origin` names it in diagnostics.
    /// Returns every problem found, each with its location.
    pub fn from_ron(text: &str, origin: &str) -> Result<Machine, Vec<HwError>> {
        let spec = parse_spec(text, origin).map_err(|e| vec![e])?;
        let mut c = Checker::new(text, origin);
        validate(&spec, &mut c);
        if c.errors.is_empty() { Ok(Machine::build(spec)) } else { Err(c.errors) }
    }

    /// Validates a spec built in code (problems are located in its canonical RON text).
    pub fn from_spec(spec: &HardwareSpec) -> Result<Machine, Vec<HwError>> {
        Machine::from_ron(&crate::to_ron(spec), &spec.name)
    }

    /// A shipped preset by name (see [`crate::PRESETS`]).
    #[allow(clippy::result_large_err)] // a cold path; see `parse_spec`
    pub fn preset(name: &str) -> Result<Machine, HwError> {
        let text = crate::preset_text(name).ok_or_else(|| HwError::UnknownPreset {
            name: name.to_owned(),
            known: crate::PRESETS.iter().map(|p| p.0).collect::<Vec<_>>().join(", "),
        })?;
        Ok(Machine::from_ron(text, &format!("{name}.ron"))
            .unwrap_or_else(|e| panic!("preset `{name}` is invalid: {e:?}")))
    }

    fn build(spec: HardwareSpec) -> Machine {
        let kinds: IndexVec<TbuKindId, TbuKindSpec> = spec.tbu_kinds.iter().cloned().collect();
        let kind_of = |name: &str| {
            kinds.iter_enumerated().find(|(_, k)| k.name == name).map(|(id, _)| id).expect("validated")
        };
        let per_cluster: Vec<(TbuKindId, u32)> =
            spec.cluster.tbus.iter().map(|(n, c)| (kind_of(n), *c)).collect();
        let tbus_per_cluster: u32 = per_cluster.iter().map(|p| p.1).sum();
        let (cx, cy) = (spec.die.clusters_x, spec.die.clusters_y);
        let (dx, dy) = (spec.package.dies_x, spec.package.dies_y);
        let (width, height) = (cx * dx, cy * dy);

        let dies = (0..dy).flat_map(|y| (0..dx).map(move |x| Die { x, y })).collect();
        let mut clusters = IndexVec::with_capacity((width * height) as usize);
        let mut tbus = IndexVec::with_capacity((width * height * tbus_per_cluster) as usize);
        for y in 0..height {
            for x in 0..width {
                let die = DieId((y / cy) * dx + x / cx);
                let cluster = clusters.push(Cluster {
                    die,
                    x,
                    y,
                    first_tbu: TbuId::new(tbus.len()),
                    tbu_count: tbus_per_cluster,
                });
                for &(kind, count) in &per_cluster {
                    for _ in 0..count {
                        tbus.push(Tbu { cluster, kind });
                    }
                }
            }
        }

        let mut links = IndexVec::new();
        let mut out_links = IndexVec::from_elem([None; 4], clusters.len());
        for (id, c) in clusters.iter_enumerated() {
            let c: &Cluster = c;
            for (d, (ddx, ddy)) in DIRS.iter().enumerate() {
                let (nx, ny) = (i64::from(c.x) + ddx, i64::from(c.y) + ddy);
                if nx < 0 || ny < 0 || nx >= i64::from(width) || ny >= i64::from(height) {
                    continue;
                }
                let to = ClusterId(ny as u32 * width + nx as u32);
                let inter_die = clusters[to].die != c.die;
                let l = if inter_die { spec.package.inter_die } else { spec.die.noc };
                out_links[id][d] = Some(links.push(Link {
                    from: id,
                    to,
                    inter_die,
                    bytes_per_cycle: l.bytes_per_cycle,
                    hop_latency_cycles: l.hop_latency_cycles,
                }));
            }
        }
        let fingerprint = octopus_owg::hash::ron_fingerprint(&spec);
        Machine { spec, kinds, tbus, clusters, dies, links, width, height, out_links, fingerprint }
    }

    /// The machine's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Clusters along x and y of the machine-wide mesh.
    pub fn mesh_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The cluster at the middle of a die (rounded towards its far corner): where its decisions
    /// are taken.
    pub fn die_centre(&self, die: DieId) -> ClusterId {
        let (d, (cx, cy)) = (&self.dies[die], (self.spec.die.clusters_x, self.spec.die.clusters_y));
        self.cluster_at(d.x * cx + cx / 2, d.y * cy + cy / 2).expect("a die's middle is on the mesh")
    }

    /// The cluster at mesh position `(x, y)`, if inside the mesh.
    #[inline]
    pub fn cluster_at(&self, x: u32, y: u32) -> Option<ClusterId> {
        (x < self.width && y < self.height).then(|| ClusterId(y * self.width + x))
    }

    /// The cluster of a TBU.
    #[inline]
    pub fn cluster_of(&self, tbu: TbuId) -> ClusterId {
        self.tbus[tbu].cluster
    }

    /// Mesh hops between two clusters (Manhattan distance: XY routing is minimal).
    #[inline]
    pub fn hops(&self, a: ClusterId, b: ClusterId) -> u32 {
        let (a, b) = (&self.clusters[a], &self.clusters[b]);
        a.x.abs_diff(b.x) + a.y.abs_diff(b.y)
    }

    /// Hops between two clusters split into on-die and inter-die hops.
    #[inline]
    pub fn route_hops(&self, a: ClusterId, b: ClusterId) -> Hops {
        let (a, b) = (&self.clusters[a], &self.clusters[b]);
        let (da, db) = (&self.dies[a.die], &self.dies[b.die]);
        let inter = da.x.abs_diff(db.x) + da.y.abs_diff(db.y);
        Hops { on_die: a.x.abs_diff(b.x) + a.y.abs_diff(b.y) - inter, inter_die: inter }
    }

    /// The links of the dimension-ordered (XY) route from `a` to `b`: along x first, then y.
    #[inline]
    pub fn route(&self, a: ClusterId, b: ClusterId) -> Route<'_> {
        let (ca, cb) = (&self.clusters[a], &self.clusters[b]);
        // Cluster IDs are row-major (`y * width + x`), so a step is an addition, not a lookup.
        let (x_dir, x_step) = if cb.x >= ca.x { (0, 1) } else { (1, -1) };
        let (y_dir, y_step) =
            if cb.y >= ca.y { (2, i64::from(self.width)) } else { (3, -i64::from(self.width)) };
        Route {
            out_links: self.out_links.as_slice(),
            at: i64::from(a.0),
            x_left: ca.x.abs_diff(cb.x),
            y_left: ca.y.abs_diff(cb.y),
            x_dir,
            x_step,
            y_dir,
            y_step,
        }
    }

    /// The neighbouring clusters of `c` in the mesh (2 to 4 of them) with the link to each.
    pub fn neighbours(&self, c: ClusterId) -> impl Iterator<Item = (ClusterId, LinkId)> + '_ {
        self.out_links[c].iter().flatten().map(|&l| (self.links[l].to, l))
    }

    /// The diameter of the mesh in hops.
    pub fn diameter(&self) -> u32 {
        self.width - 1 + self.height - 1
    }

    /// A stable hash of the spec: FNV-1a over its canonical RON text. Plans record it, so the
    /// simulator can tell a plan made for other hardware.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The TBUs of one kind, in ID order.
    pub fn tbus_of_kind(&self, kind: TbuKindId) -> impl Iterator<Item = TbuId> + '_ {
        self.tbus.iter_enumerated().filter(move |(_, t)| t.kind == kind).map(|(id, _)| id)
    }

    /// How many TBUs of each kind.
    pub fn kind_counts(&self) -> IndexVec<TbuKindId, u32> {
        let mut n = IndexVec::from_elem(0, self.kinds.len());
        for t in &self.tbus {
            n[t.kind] += 1;
        }
        n
    }

    /// TBUs per die.
    pub fn tbus_per_die(&self) -> u32 {
        self.clusters[ClusterId(0)].tbu_count * self.spec.die.clusters_x * self.spec.die.clusters_y
    }

    /// Totals for `octopus hw show`.
    pub fn summary(&self) -> Summary {
        let s = &self.spec;
        let clock_hz = s.clock_ghz * 1e9;
        let counts = self.kind_counts();
        let dies = self.dies.len() as f64;
        let kinds = self
            .kinds
            .iter_enumerated()
            .map(|(id, k)| KindSummary {
                name: k.name.clone(),
                tbus: counts[id],
                pea: format!("{}x{}", k.pea_rows, k.pea_cols),
                peak_tops: k.peak_ops_per_cycle() as f64 * clock_hz * f64::from(counts[id]) / 1e12,
            })
            .collect();
        let per_tbu_scratch: u64 = self.tbus.iter().map(|t| self.kinds[t.kind].scratchpad_bytes()).sum();
        let gbs = |bpc: u32| f64::from(bpc) * s.clock_ghz;
        Summary {
            name: s.name.clone(),
            description: s.description.clone(),
            clock_ghz: s.clock_ghz,
            dies: self.dies.len() as u32,
            clusters: self.clusters.len() as u32,
            tbus: self.tbus.len() as u32,
            cbus: self.clusters.len() as u32,
            kinds,
            mesh: (self.width, self.height),
            peak_tops: self
                .tbus
                .iter()
                .map(|t| self.kinds[t.kind].peak_ops_per_cycle() as f64 * clock_hz)
                .sum::<f64>()
                / 1e12,
            scratchpad_mib: per_tbu_scratch as f64 / (1024.0 * 1024.0),
            memory_bandwidth_gbps: s.die.memory_bandwidth_gbps * dies,
            memory_capacity_gib: s.die.memory_capacity_gib * dies,
            noc_link_gbps: gbs(s.die.noc.bytes_per_cycle),
            inter_die_link_gbps: gbs(s.package.inter_die.bytes_per_cycle),
            control_link_gbps: gbs(s.control_network.bytes_per_cycle),
            bisection_gbps: self.bisection_bytes_per_cycle() as f64 * s.clock_ghz,
            diameter_hops: self.diameter(),
        }
    }

    /// Bandwidth across the narrower middle cut of the mesh, both directions, in bytes per cycle.
    fn bisection_bytes_per_cycle(&self) -> u64 {
        let cut = |vertical: bool| -> u64 {
            let (len, across) = if vertical { (self.width, self.height) } else { (self.height, self.width) };
            if len < 2 {
                return 0;
            }
            let mid = len / 2;
            (0..across)
                .map(|i| {
                    let (a, b) = if vertical {
                        (self.cluster_at(mid - 1, i), self.cluster_at(mid, i))
                    } else {
                        (self.cluster_at(i, mid - 1), self.cluster_at(i, mid))
                    };
                    let (a, b) = (a.expect("in mesh"), b.expect("in mesh"));
                    let l = self.neighbours(a).find(|n| n.0 == b).expect("mesh neighbours").1;
                    2 * u64::from(self.links[l].bytes_per_cycle)
                })
                .sum()
        };
        match (cut(true), cut(false)) {
            (0, h) => h,
            (v, 0) => v,
            (v, h) => v.min(h),
        }
    }
}

/// The links of an XY route; see [`Machine::route`]. It knows its length
/// ([`ExactSizeIterator`]).
#[derive(Clone, Debug)]
pub struct Route<'m> {
    out_links: &'m [[Option<LinkId>; 4]],
    /// The cluster the next link leaves from.
    at: i64,
    /// Hops left along x, then along y.
    x_left: u32,
    y_left: u32,
    /// The direction (index into a cluster's out links) and cluster-ID step along each axis.
    x_dir: usize,
    x_step: i64,
    y_dir: usize,
    y_step: i64,
}

impl Iterator for Route<'_> {
    type Item = LinkId;

    #[inline]
    fn next(&mut self) -> Option<LinkId> {
        let (dir, step) = if self.x_left > 0 {
            self.x_left -= 1;
            (self.x_dir, self.x_step)
        } else if self.y_left > 0 {
            self.y_left -= 1;
            (self.y_dir, self.y_step)
        } else {
            return None;
        };
        let link = self.out_links[self.at as usize][dir].expect("a route stays inside the mesh");
        self.at += step;
        Some(link)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.x_left + self.y_left) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Route<'_> {}

/// Per-kind totals in a [`Summary`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindSummary {
    /// The kind's name.
    pub name: String,
    /// TBUs of this kind.
    pub tbus: u32,
    /// PEA shape, `ROWSxCOLS`.
    pub pea: String,
    /// Their peak, in tera-operations per second.
    pub peak_tops: f64,
}

/// Totals of a machine, as `octopus hw show` prints them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The machine's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Clock, GHz.
    pub clock_ghz: f64,
    /// Dies.
    pub dies: u32,
    /// Clusters.
    pub clusters: u32,
    /// TBUs.
    pub tbus: u32,
    /// CBUs (one per cluster).
    pub cbus: u32,
    /// TBUs per kind.
    pub kinds: Vec<KindSummary>,
    /// Clusters along x and y of the whole mesh.
    pub mesh: (u32, u32),
    /// Peak of all TBUs, tera-operations per second.
    pub peak_tops: f64,
    /// Scratchpad of all TBUs, MiB.
    pub scratchpad_mib: f64,
    /// Off-chip memory bandwidth of all dies, GB/s.
    pub memory_bandwidth_gbps: f64,
    /// Off-chip memory of all dies, GiB.
    pub memory_capacity_gib: f64,
    /// One NoC link, one direction, GB/s.
    pub noc_link_gbps: f64,
    /// One inter-die link, one direction, GB/s.
    pub inter_die_link_gbps: f64,
    /// One control-network link, GB/s.
    pub control_link_gbps: f64,
    /// Bisection bandwidth of the mesh (both directions), GB/s.
    pub bisection_gbps: f64,
    /// Diameter of the mesh, hops.
    pub diameter_hops: u32,
}

fn validate(spec: &HardwareSpec, c: &mut Checker<'_>) {
    c.positive_real("clock_ghz", spec.clock_ghz, "the clock frequency converts cycles to seconds");
    if spec.tbu_kinds.is_empty() {
        c.inconsistent(
            "tbu_kinds",
            "`tbu_kinds` is empty".into(),
            "define at least one kind, e.g. `TbuKindSpec(name: \"std\", ...)`".into(),
        );
    }
    for (i, k) in spec.tbu_kinds.iter().enumerate() {
        let p = |f: &str| format!("tbu_kinds[{i}].{f}");
        c.positive_int(&p("pea_rows"), k.pea_rows.into(), "a PEA has at least one row of PEs");
        c.positive_int(&p("pea_cols"), k.pea_cols.into(), "a PEA has at least one column of PEs");
        c.positive_int(&p("ops_per_pe_per_cycle"), k.ops_per_pe_per_cycle.into(), "a PE must do some work");
        c.positive_int(&p("scratchpad_kib"), k.scratchpad_kib, "a TBU needs a scratchpad for its operands");
        c.positive_int(&p("config_kib"), k.config_kib, "a TBU holds one task block's configuration");
        c.fraction(&p("ai_efficiency"), k.ai_efficiency);
        c.fraction(&p("general_efficiency"), k.general_efficiency);
        c.fraction(&p("parallel_efficiency"), k.parallel_efficiency);
        if k.name.is_empty() {
            c.inconsistent(
                &p("name"),
                "a TBU kind has an empty name".into(),
                "name it, e.g. `\"std\"`".into(),
            );
        }
        if let Some(j) = spec.tbu_kinds[..i].iter().position(|o| o.name == k.name) {
            let (span, first) = (c.span(&p("name")), c.span(&format!("tbu_kinds[{j}].name")));
            let src = c.src();
            c.errors.push(HwError::DuplicateKind { kind: k.name.clone(), src, span, first });
        }
    }
    let known = || spec.tbu_kinds.iter().map(|k| format!("`{}`", k.name)).collect::<Vec<_>>().join(", ");
    if spec.cluster.tbus.is_empty() {
        c.inconsistent(
            "cluster.tbus",
            "a cluster without TBUs".into(),
            "list `(kind, count)` pairs, e.g. `[(\"std\", 8)]`".into(),
        );
    }
    for (i, (kind, count)) in spec.cluster.tbus.iter().enumerate() {
        c.positive_int(&format!("cluster.tbus[{i}].1"), (*count).into(), "list only kinds the cluster holds");
        if !spec.tbu_kinds.iter().any(|k| &k.name == kind) {
            let span = c.span(&format!("cluster.tbus[{i}].0"));
            let src = c.src();
            c.errors.push(HwError::UnknownKind {
                kind: kind.clone(),
                src,
                span,
                help: format!("kinds defined in `tbu_kinds`: {}", known()),
            });
        }
        if spec.cluster.tbus[..i].iter().any(|o| &o.0 == kind) {
            c.inconsistent(
                &format!("cluster.tbus[{i}]"),
                format!("TBU kind `{kind}` is listed twice in `cluster.tbus`"),
                "merge the two counts".into(),
            );
        }
    }
    for (i, k) in spec.tbu_kinds.iter().enumerate() {
        if !spec.cluster.tbus.iter().any(|t| t.0 == k.name) {
            c.inconsistent(
                &format!("tbu_kinds[{i}]"),
                format!("TBU kind `{}` is not used by any cluster", k.name),
                "add it to `cluster.tbus` or remove it".into(),
            );
        }
    }
    c.positive_int(
        "cluster.cbu.control_cycles",
        spec.cluster.cbu.control_cycles,
        "a control block takes time",
    );
    let d = &spec.die;
    c.positive_int("die.clusters_x", d.clusters_x.into(), "a die has at least one cluster");
    c.positive_int("die.clusters_y", d.clusters_y.into(), "a die has at least one cluster");
    c.positive_real(
        "die.memory_bandwidth_gbps",
        d.memory_bandwidth_gbps,
        "TBUs load their operands from memory",
    );
    c.positive_real("die.memory_capacity_gib", d.memory_capacity_gib, "weights and tensors live in memory");
    c.positive_int("package.dies_x", spec.package.dies_x.into(), "one die is `dies_x: 1, dies_y: 1`");
    c.positive_int("package.dies_y", spec.package.dies_y.into(), "one die is `dies_x: 1, dies_y: 1`");
    for (path, l) in [
        ("die.noc", d.noc),
        ("package.inter_die", spec.package.inter_die),
        ("control_network", spec.control_network),
    ] {
        c.positive_int(
            &format!("{path}.bytes_per_cycle"),
            l.bytes_per_cycle.into(),
            "a link must carry data",
        );
        c.positive_int(
            &format!("{path}.hop_latency_cycles"),
            l.hop_latency_cycles.into(),
            "a hop through a router takes at least one cycle",
        );
    }
    let per_cluster: u64 = spec.cluster.tbus.iter().map(|t| u64::from(t.1)).sum();
    let clusters = u64::from(d.clusters_x)
        * u64::from(d.clusters_y)
        * u64::from(spec.package.dies_x)
        * u64::from(spec.package.dies_y);
    let total = per_cluster.saturating_mul(clusters);
    if total > MAX_TBUS {
        c.inconsistent(
            "package",
            format!("the machine has {total} TBUs, more than the {MAX_TBUS} supported"),
            "use fewer dies, clusters or TBUs per cluster".into(),
        );
    }
}
