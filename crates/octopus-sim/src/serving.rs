//! Evaluating as serving systems are evaluated: the machine's capacity for a workflow (what
//! `--load` is a fraction of), latency objectives ([`Slo`]), and goodput, the highest open-loop
//! arrival rate at which an SLO holds (DistServe, OSDI 2024), found by the search of [`search`].
//! The definitions are in `docs/schedulers.md`, section "Load, SLOs and goodput".

use std::fmt;
use std::str::FromStr;

use octopus_owg::index::IndexVec;
use serde::{Deserialize, Serialize};

use crate::{Inputs, SimConfig, SimError, SimResult};

/// The rate at which the machine's busiest TBU pool saturates for a workflow: each kind's TBUs
/// times the clock, over the TBU-cycles a request occupies on that kind when every execution runs
/// warm on its plan's gang size and every batch is at its design size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// Requests per second at which the busiest pool is busy all the time.
    pub requests_per_second: f64,
    /// The busiest pool's TBU kind.
    pub kind: String,
    /// Its TBUs.
    pub tbus: u32,
    /// TBU-cycles one request occupies on it.
    pub cycles_per_request: f64,
}

/// The capacity of the machine for the workflow (`None` when no task has any work).
///
/// A request occupies, per task block, `visits x shards x share` TBU-cycles of its plan's kind,
/// where `share` is the expected warm gang time of one execution on `shards` TBUs at the block's
/// design batch (`CostModel::expected_share`: its batch steps over the batch; for blocks that do
/// not batch, its warm latency, collectives included). Reconfigurations, transfers and control are
/// left out, so no scheduler sustains more than this: it is an upper bound.
pub fn capacity(inputs: &Inputs<'_>) -> Option<Capacity> {
    let Inputs { workflow, machine, cost, plan, .. } = *inputs;
    let counts = machine.kind_counts();
    let mut occupied = IndexVec::from_elem(0.0f64, counts.len());
    for tp in &plan.tasks {
        let task = workflow.blocks[tp.block].task().expect("plans place task blocks");
        let k = tp.shards.max(1);
        let batch = plan.report.memory.batch_of(tp.block);
        let ring = cost.compact_ring(tp.kind, k);
        occupied[tp.kind] += tp.visits * f64::from(k) * cost.expected_share(task, tp.kind, k, batch, &ring);
    }
    let hz = machine.spec.clock_ghz * 1e9;
    occupied
        .iter_enumerated()
        .filter(|&(k, &c)| c > 0.0 && counts[k] > 0)
        .map(|(k, &c)| Capacity {
            requests_per_second: f64::from(counts[k]) * hz / c,
            kind: machine.kinds[k].name.clone(),
            tbus: counts[k],
            cycles_per_request: c,
        })
        .min_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second))
}

/// A statistic a service-level objective bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloMetric {
    /// Mean request latency (arrival to completion).
    LatencyMean,
    /// Median request latency.
    LatencyP50,
    /// 95th percentile request latency.
    LatencyP95,
    /// 99th percentile request latency.
    LatencyP99,
    /// Mean time to first token over every decode sequence.
    TtftMean,
    /// Median time to first token.
    TtftP50,
    /// 99th percentile time to first token.
    TtftP99,
    /// Mean time per output token.
    TpotMean,
    /// Median time per output token.
    TpotP50,
    /// 99th percentile time per output token.
    TpotP99,
    /// Median slowdown (a request's latency over its critical path; a ratio).
    SlowdownP50,
    /// 90th percentile slowdown.
    SlowdownP90,
    /// 99th percentile slowdown.
    SlowdownP99,
}

impl SloMetric {
    /// Every metric, in the order of their names in errors.
    pub const ALL: [SloMetric; 13] = [
        SloMetric::LatencyMean,
        SloMetric::LatencyP50,
        SloMetric::LatencyP95,
        SloMetric::LatencyP99,
        SloMetric::TtftMean,
        SloMetric::TtftP50,
        SloMetric::TtftP99,
        SloMetric::TpotMean,
        SloMetric::TpotP50,
        SloMetric::TpotP99,
        SloMetric::SlowdownP50,
        SloMetric::SlowdownP90,
        SloMetric::SlowdownP99,
    ];

    /// Its name in `--slo`.
    pub fn name(self) -> &'static str {
        match self {
            SloMetric::LatencyMean => "latency_mean",
            SloMetric::LatencyP50 => "latency_p50",
            SloMetric::LatencyP95 => "latency_p95",
            SloMetric::LatencyP99 => "latency_p99",
            SloMetric::TtftMean => "ttft_mean",
            SloMetric::TtftP50 => "ttft_p50",
            SloMetric::TtftP99 => "ttft_p99",
            SloMetric::TpotMean => "tpot_mean",
            SloMetric::TpotP50 => "tpot_p50",
            SloMetric::TpotP99 => "tpot_p99",
            SloMetric::SlowdownP50 => "slowdown_p50",
            SloMetric::SlowdownP90 => "slowdown_p90",
            SloMetric::SlowdownP99 => "slowdown_p99",
        }
    }

    /// Whether it is a ratio (slowdown), bounded by a scale, not a time.
    pub fn is_ratio(self) -> bool {
        matches!(self, SloMetric::SlowdownP50 | SloMetric::SlowdownP90 | SloMetric::SlowdownP99)
    }

    /// Its value in a result (seconds, or a ratio for slowdowns); `None` for TTFT and TPOT when
    /// the workflow decodes nothing.
    pub fn of(self, r: &SimResult) -> Option<f64> {
        Some(match self {
            SloMetric::LatencyMean => r.latency_mean_s,
            SloMetric::LatencyP50 => r.latency_p50_s,
            SloMetric::LatencyP95 => r.latency_p95_s,
            SloMetric::LatencyP99 => r.latency_p99_s,
            SloMetric::TtftMean => r.ttft?.mean_s,
            SloMetric::TtftP50 => r.ttft?.p50_s,
            SloMetric::TtftP99 => r.ttft?.p99_s,
            SloMetric::TpotMean => r.tpot?.mean_s,
            SloMetric::TpotP50 => r.tpot?.p50_s,
            SloMetric::TpotP99 => r.tpot?.p99_s,
            SloMetric::SlowdownP50 => r.slowdown.p50,
            SloMetric::SlowdownP90 => r.slowdown.p90,
            SloMetric::SlowdownP99 => r.slowdown.p99,
        })
    }
}

/// One bound of an SLO: the metric is at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloBound {
    /// The statistic.
    pub metric: SloMetric,
    /// Its largest allowed value.
    pub max: Limit,
}

/// The largest value a bound allows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Seconds (`2s`, `200ms`, `50us`).
    Seconds(f64),
    /// A ratio (`5x`): for a slowdown, the ratio itself; for a request latency statistic, that
    /// multiple of the same statistic of the requests' critical paths (the latencies they would
    /// have alone on an idle machine). Request latency and slowdown only.
    Scale(f64),
}

impl SloBound {
    /// The bound in seconds for a result (a [`Limit::Scale`] depends on its requests).
    pub fn max_s(&self, r: &SimResult) -> f64 {
        match self.max {
            Limit::Seconds(s) => s,
            Limit::Scale(x) if self.metric.is_ratio() => x,
            Limit::Scale(x) => {
                let cp = &r.request_critical_path;
                x * match self.metric {
                    SloMetric::LatencyMean => cp.mean_s,
                    SloMetric::LatencyP50 => cp.p50_s,
                    // The critical paths' p95 is not kept: their p99 bounds it from above.
                    SloMetric::LatencyP95 | SloMetric::LatencyP99 => cp.p99_s,
                    _ => unreachable!("the parser allows scales on request latency only"),
                }
            }
        }
    }
}

/// A service-level objective: bounds that must all hold, written `latency_p99<2s,ttft_p99<200ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// The bounds, in the order written.
    pub bounds: Vec<SloBound>,
}

impl FromStr for Slo {
    type Err = String;

    /// Parses comma-separated bounds `METRIC<LIMIT` (`<=` is accepted and means the same): a metric
    /// of [`SloMetric::ALL`] and a finite positive time in `s`, `ms` or `us`, or for request
    /// latency a scale `5x` ([`Limit::Scale`]).
    fn from_str(text: &str) -> Result<Slo, String> {
        let mut bounds: Vec<SloBound> = Vec::new();
        for clause in text.split(',') {
            let clause = clause.trim();
            let Some((name, value)) = clause.split_once('<') else {
                return Err(format!("`{clause}` is not a bound: write METRIC<TIME, e.g. `latency_p99<2s`"));
            };
            let name = name.trim();
            let metric = SloMetric::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| {
                let names: Vec<&str> = SloMetric::ALL.iter().map(|m| m.name()).collect();
                format!("unknown metric `{name}` (use one of {})", names.join(", "))
            })?;
            let value = value.strip_prefix('=').unwrap_or(value).trim();
            let (number, unit) = if let Some(n) = value.strip_suffix("ms") {
                (n, 1e-3)
            } else if let Some(n) = value.strip_suffix("us") {
                (n, 1e-6)
            } else if let Some(n) = value.strip_suffix('s') {
                (n, 1.0)
            } else if let Some(n) = value.strip_suffix('x') {
                (n, 0.0)
            } else {
                return Err(format!("`{value}` needs a unit: s, ms, us, or x for a scale (e.g. `2s`, `5x`)"));
            };
            let n: f64 = number.trim().parse().map_err(|_| format!("`{}` is not a number", number.trim()))?;
            if !n.is_finite() || n <= 0.0 {
                return Err(format!("a bound must be positive and finite, not `{value}`"));
            }
            let latency = matches!(
                metric,
                SloMetric::LatencyMean
                    | SloMetric::LatencyP50
                    | SloMetric::LatencyP95
                    | SloMetric::LatencyP99
            );
            let max = if unit == 0.0 {
                if !latency && !metric.is_ratio() {
                    return Err(format!(
                        "a scale (`{value}`) bounds request latency or slowdown only, not `{name}`"
                    ));
                }
                Limit::Scale(n)
            } else if metric.is_ratio() {
                return Err(format!("`{name}` is a ratio: bound it by a scale, e.g. `{name}<5x`"));
            } else {
                Limit::Seconds(n * unit)
            };
            if bounds.iter().any(|b| b.metric == metric) {
                return Err(format!("`{name}` is bounded twice"));
            }
            bounds.push(SloBound { metric, max });
        }
        Ok(Slo { bounds })
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.bounds.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            match b.max {
                Limit::Seconds(s) => write!(f, "{sep}{}<{s}s", b.metric.name())?,
                Limit::Scale(x) => write!(f, "{sep}{}<{x}x", b.metric.name())?,
            }
        }
        Ok(())
    }
}

impl Slo {
    /// Whether every bound holds in `r` (a statistic at most its bound), or the first metric `r`
    /// does not have (TTFT or TPOT of a workflow without LLM decode blocks).
    pub fn holds(&self, r: &SimResult) -> Result<bool, SimError> {
        let mut all = true;
        for b in &self.bounds {
            let v = b
                .metric
                .of(r)
                .ok_or_else(|| SimError::SloUnavailable { metric: b.metric.name().to_owned() })?;
            all &= v <= b.max_s(r);
        }
        Ok(all)
    }
}

/// The search for goodput: the loads (fractions of [`Capacity`]) scanned upward until the SLO
/// first fails, then `refine` bisections between the last load that held and the first that failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// Loads scanned, ascending.
    pub loads: Vec<f64>,
    /// Bisection steps after the scan.
    pub refine: u32,
}

impl Default for Search {
    /// Loads 0.1, 0.2, ..., 1.5 and 4 bisections: a resolution of 0.1 / 2^4 = 0.00625 of capacity
    /// in at most 19 runs. The scan goes past 1 because the capacity is an estimate.
    fn default() -> Search {
        Search { loads: (1..=15).map(|i| f64::from(i) / 10.0).collect(), refine: 4 }
    }
}

/// One run of the search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchRun {
    /// The load, a fraction of the capacity.
    pub load: f64,
    /// The arrival rate, requests per second.
    pub rate_rps: f64,
    /// Whether the SLO held.
    pub holds: bool,
    /// The value of each bound's metric, seconds, in the SLO's order.
    pub values_s: Vec<f64>,
}

/// Goodput at an SLO: the highest rate of the search at which the SLO held, and every run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goodput {
    /// The SLO, as written canonically.
    pub slo: String,
    /// The capacity the loads are fractions of, requests per second.
    pub capacity_rps: f64,
    /// The highest rate at which the SLO held (0 if it held at none), requests per second.
    pub goodput_rps: f64,
    /// The same as a fraction of the capacity.
    pub goodput_load: f64,
    /// The SLO held at the highest load scanned: goodput is at least this, not found.
    pub censored: bool,
    /// The runs, in the order made.
    pub runs: Vec<SearchRun>,
}

/// The search over loads for one SLO, with `run(load)` simulating at `load x capacity_rps`.
/// Returns the goodput and the result of the run at it (`None` if the SLO held at no load).
///
/// Deterministic: the runs are a function of the SLO's outcomes alone. Monotone in the SLO: every
/// run that holds under an SLO holds under a looser one, so the looser one's scan stops no earlier
/// and its bisection ends no lower.
pub fn search(
    slo: &Slo,
    capacity_rps: f64,
    params: &Search,
    run: &mut dyn FnMut(f64) -> Result<SimResult, SimError>,
) -> Result<(Goodput, Option<SimResult>), SimError> {
    let mut runs = Vec::new();
    let mut best: Option<(f64, SimResult)> = None;
    let mut probe = |load: f64, runs: &mut Vec<SearchRun>| -> Result<(bool, SimResult), SimError> {
        let r = run(load)?;
        let holds = slo.holds(&r)?;
        let values_s = slo.bounds.iter().map(|b| b.metric.of(&r).unwrap_or(f64::NAN)).collect();
        runs.push(SearchRun { load, rate_rps: load * capacity_rps, holds, values_s });
        Ok((holds, r))
    };
    let mut failed = None;
    for &load in &params.loads {
        let (holds, r) = probe(load, &mut runs)?;
        if !holds {
            failed = Some(load);
            break;
        }
        best = Some((load, r));
    }
    let censored = failed.is_none() && best.is_some();
    if let Some(mut hi) = failed {
        let mut lo = best.as_ref().map_or(0.0, |b| b.0);
        for _ in 0..params.refine {
            let mid = (lo + hi) / 2.0;
            let (holds, r) = probe(mid, &mut runs)?;
            if holds {
                lo = mid;
                best = Some((mid, r));
            } else {
                hi = mid;
            }
        }
    }
    let load = best.as_ref().map_or(0.0, |b| b.0);
    let goodput = Goodput {
        slo: slo.to_string(),
        capacity_rps,
        goodput_rps: load * capacity_rps,
        goodput_load: load,
        censored,
        runs,
    };
    Ok((goodput, best.map(|b| b.1)))
}

/// Goodput of one configuration: [`search`] with open-loop Poisson arrivals at each load times
/// the capacity, `config`'s requests and seed. The output is the run at the goodput, with
/// [`SimResult::goodput`] set; with no load holding, the run at the lowest load.
pub fn goodput(
    inputs: &Inputs<'_>,
    config: &SimConfig,
    slo: &Slo,
    capacity_rps: f64,
    params: &Search,
) -> Result<SimResult, SimError> {
    let mut first: Option<SimResult> = None;
    let mut run = |load: f64| {
        let c = SimConfig { rate: Some(load * capacity_rps), trace: false, ..config.clone() };
        let r = crate::simulate(inputs, &c)?.result;
        if first.is_none() {
            first = Some(r.clone());
        }
        Ok(r)
    };
    let (g, at) = search(slo, capacity_rps, params, &mut run)?;
    let mut r = at.or(first).expect("the search runs at least once");
    r.goodput = Some(g);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slo_parses_bounds_units_and_rejects_bad_ones() {
        let s: Slo = "latency_p99<2s, ttft_p99<=200ms,tpot_p50<50us".parse().unwrap();
        assert_eq!(s.bounds.len(), 3);
        assert_eq!(s.bounds[0], SloBound { metric: SloMetric::LatencyP99, max: Limit::Seconds(2.0) });
        assert_eq!(s.bounds[1], SloBound { metric: SloMetric::TtftP99, max: Limit::Seconds(0.2) });
        assert!(matches!(s.bounds[2].max, Limit::Seconds(x) if (x - 50e-6).abs() < 1e-18));
        assert_eq!(s.to_string().parse::<Slo>().unwrap(), s);
        let s: Slo = "latency_p99<5x".parse().unwrap();
        assert_eq!(s.bounds, [SloBound { metric: SloMetric::LatencyP99, max: Limit::Scale(5.0) }]);
        let mut r = SimResult::default();
        r.request_critical_path.p99_s = 0.3;
        assert_eq!(s.bounds[0].max_s(&r), 1.5);
        assert_eq!(s.to_string(), "latency_p99<5x");
        let s: Slo = "slowdown_p90<5x".parse().unwrap();
        r.slowdown.p90 = 4.0;
        assert_eq!((s.bounds[0].max_s(&r), s.holds(&r).unwrap()), (5.0, true));
        r.slowdown.p90 = 6.0;
        assert!(!s.holds(&r).unwrap());
        for (bad, says) in [
            ("latency_p99", "not a bound"),
            ("latency_p98<2s", "unknown metric `latency_p98`"),
            ("latency_p99<2", "needs a unit"),
            ("ttft_p99<5x", "request latency or slowdown only"),
            ("slowdown_p90<5s", "a ratio"),
            ("latency_p99<-2s", "positive"),
            ("latency_p99<0s", "positive"),
            ("latency_p99<inf s", "finite"),
            ("latency_p99<xs", "not a number"),
            ("latency_p99<1s,latency_p99<2s", "bounded twice"),
        ] {
            let e = bad.parse::<Slo>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    /// A synthetic system: p99 latency grows without bound as the load nears 0.8.
    fn fake(load: f64) -> SimResult {
        let latency_p99_s = if load < 0.8 { 0.1 / (0.8 - load) } else { f64::INFINITY };
        SimResult { latency_p99_s, ..SimResult::default() }
    }

    fn slo(p99: f64) -> Slo {
        Slo { bounds: vec![SloBound { metric: SloMetric::LatencyP99, max: Limit::Seconds(p99) }] }
    }

    #[test]
    fn search_finds_the_knee_to_its_resolution_and_is_monotone_in_the_slo() {
        let params = Search::default();
        // 0.1 / (0.8 - x) <= 1 holds up to x = 0.7 exactly.
        let (g, at) = search(&slo(1.0), 100.0, &params, &mut |l| Ok(fake(l))).unwrap();
        assert!(g.goodput_load <= 0.7 + 1e-12 && g.goodput_load > 0.7 - 0.1 / 16.0, "{g:?}");
        assert!(!g.censored);
        assert_eq!(at.unwrap().latency_p99_s, fake(g.goodput_load).latency_p99_s);
        assert!((g.goodput_rps - 100.0 * g.goodput_load).abs() < 1e-9);
        // Looser SLOs never give less goodput.
        let mut last = 0.0;
        for p99 in [0.05, 0.12, 0.2, 0.5, 1.0, 2.0, 10.0, 1e9] {
            let (g, _) = search(&slo(p99), 100.0, &params, &mut |l| Ok(fake(l))).unwrap();
            assert!(g.goodput_load >= last, "{p99}: {} < {last}", g.goodput_load);
            last = g.goodput_load;
        }
        // Nothing holds: goodput 0, not censored; everything holds: censored at the top load.
        let (g, at) = search(&slo(0.01), 100.0, &params, &mut |l| Ok(fake(l))).unwrap();
        assert_eq!((g.goodput_load, g.censored, at.is_none()), (0.0, false, true));
        let (g, _) = search(&slo(1.0), 100.0, &params, &mut |_| Ok(fake(0.0))).unwrap();
        assert_eq!((g.goodput_load, g.censored, g.runs.len()), (1.5, true, 15));
    }
}
