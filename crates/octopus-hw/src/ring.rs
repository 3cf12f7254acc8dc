//! Collectives between the shards of one execution: a ring over its TBUs on the machine's NoC.
//!
//! The shards of a gang are ordered by TBU ID (the TBUs of one cluster are then neighbours in the
//! ring) and edge `i` joins shard `i` to shard `i + 1` (the last to the first). One ring *step*
//! sends a chunk along every edge at once: an edge inside a cluster crosses its router at NoC
//! bandwidth; an edge between clusters follows the XY route, and a link that `u` edges of the ring
//! cross carries `u` chunks in the step. A step lasts as long as its slowest edge:
//!
//! ```text
//! step(c) = max over edges e of ( ceil(c * max over links l of e (u_l / bw_l)) + sum of e's hop latencies )
//! ```
//!
//! A ring all-reduce of `S` bytes over `n` shards is a reduce-scatter and an all-gather, `2 (n - 1)`
//! steps of chunks of `ceil(S / n)` bytes (Patarasuk and Yuan, JPDC 2009: the bandwidth-optimal
//! all-reduce); a gather of an output of `S` bytes split over the shards is `n - 1` such steps.
//! Bytes times hops count every chunk on every hop it travels. `docs/hardware.md`, "Collectives".

use crate::machine::{ClusterId, LinkId, Machine, TbuId};

/// The ring of one gang: the cost of one step as a function of the chunk size.
#[derive(Clone, Debug, PartialEq)]
pub struct Ring {
    /// Shards in the ring.
    n: u32,
    /// Per kind of edge that may be the slowest: cycles per byte of chunk and latency in cycles
    /// (the upper envelope of the edges' lines; a step is the maximum over them).
    lines: Vec<(f64, u64)>,
    /// Sum over edges of their hops (for bytes x hops).
    hop_sum: u64,
}

/// The time and the NoC traffic of one collective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Collective {
    /// Cycles the shards spend in it (they wait for the slowest edge at every step).
    pub cycles: u64,
    /// Bytes times hops it puts on the NoC.
    pub byte_hops: u128,
}

impl Collective {
    /// `n` collectives of this one, back to back.
    pub fn times(self, n: u64) -> Collective {
        Collective { cycles: self.cycles * n, byte_hops: self.byte_hops * u128::from(n) }
    }
}

impl Ring {
    /// The ring of a gang on `machine`; `tbus` in ring order (callers pass them sorted by ID).
    pub fn new(machine: &Machine, tbus: &[TbuId]) -> Ring {
        let n = tbus.len() as u32;
        if n <= 1 {
            return Ring { n, lines: Vec::new(), hop_sum: 0 };
        }
        let local_bw = f64::from(machine.spec.die.noc.bytes_per_cycle.max(1));
        let clusters: Vec<ClusterId> = tbus.iter().map(|&t| machine.tbus[t].cluster).collect();
        let edge = |i: usize| (clusters[i], clusters[(i + 1) % n as usize]);
        // How many edges of the ring cross each link.
        let mut usage: Vec<(LinkId, u32)> = Vec::new();
        for i in 0..n as usize {
            let (a, b) = edge(i);
            if a != b {
                usage.extend(machine.route(a, b).map(|l| (l, 1)));
            }
        }
        usage.sort_unstable_by_key(|&(l, _)| l);
        usage.dedup_by(|later, first| {
            if later.0 == first.0 {
                first.1 += later.1;
                true
            } else {
                false
            }
        });
        let used = |l: LinkId| usage.binary_search_by_key(&l, |&(x, _)| x).map_or(1, |i| usage[i].1);
        let mut lines: Vec<(f64, u64)> = Vec::new();
        let mut hop_sum = 0u64;
        for i in 0..n as usize {
            let (a, b) = edge(i);
            let line = if a == b {
                (1.0 / local_bw, 0)
            } else {
                let (mut slope, mut lat, mut hops) = (0.0f64, 0u64, 0u64);
                for l in machine.route(a, b) {
                    let link = &machine.links[l];
                    slope = slope.max(f64::from(used(l)) / f64::from(link.bytes_per_cycle.max(1)));
                    lat += u64::from(link.hop_latency_cycles);
                    hops += 1;
                }
                hop_sum += hops;
                (slope, lat)
            };
            lines.push(line);
        }
        // Keep the upper envelope: drop every line another one dominates.
        lines.sort_by(|x, y| y.0.total_cmp(&x.0).then(y.1.cmp(&x.1)));
        let mut envelope: Vec<(f64, u64)> = Vec::new();
        for l in lines {
            if envelope.iter().all(|e| l.1 > e.1) {
                envelope.push(l);
            }
        }
        Ring { n, lines: envelope, hop_sum }
    }

    /// The ring of one shard: no collectives.
    pub fn single() -> Ring {
        Ring { n: 1, lines: Vec::new(), hop_sum: 0 }
    }

    /// Shards in the ring.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Whether the ring has no shards.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Cycles of one step with chunks of `chunk` bytes.
    pub fn step(&self, chunk: u64) -> u64 {
        self.lines.iter().map(|&(slope, lat)| (chunk as f64 * slope).ceil() as u64 + lat).max().unwrap_or(0)
    }

    fn steps(&self, steps: u64, bytes: u64) -> Collective {
        if self.n <= 1 || bytes == 0 {
            return Collective::default();
        }
        let chunk = bytes.div_ceil(u64::from(self.n));
        Collective {
            cycles: steps * self.step(chunk),
            byte_hops: u128::from(steps) * u128::from(chunk) * u128::from(self.hop_sum),
        }
    }

    /// A ring all-reduce of `bytes` (every shard ends with the sum): `2 (n - 1)` steps.
    pub fn all_reduce(&self, bytes: u64) -> Collective {
        self.steps(2 * u64::from(self.n.saturating_sub(1)), bytes)
    }

    /// A gather of an output of `bytes` split evenly over the shards: `n - 1` steps.
    pub fn gather(&self, bytes: u64) -> Collective {
        self.steps(u64::from(self.n.saturating_sub(1)), bytes)
    }
}
