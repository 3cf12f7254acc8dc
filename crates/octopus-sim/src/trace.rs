//! The execution log of a run and its Chrome trace-event rendering (opens in Perfetto and
//! `chrome://tracing`): one process per cluster, one thread (track) per TBU, plus one track per
//! cluster for the NoC transfers it sends; a complete event (`"ph": "X"`) per execution,
//! load, wait for inputs, collective, batch and transfer, and a counter track (`"ph": "C"`) per
//! batch with its size at every step.

use std::fmt::Write as _;

use octopus_hw::{ClusterId, Machine, TbuId};
use octopus_owg::index::Idx;
use octopus_owg::ir::{BlockId, Workflow};
use serde::Serialize;

use crate::{Cycle, RequestId};

/// What a span of the log is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// A task computing on a TBU.
    Exec,
    /// A TBU loading a configuration and its share of the block's resident bytes.
    Reconfig,
    /// A TBU assigned a task, waiting for its inputs to arrive over the NoC, or for its gang.
    WaitInputs,
    /// The shards of a gang in their collectives (all-reduce, gather).
    Collective,
    /// A TBU serving a batch of an LLM block, from the gang's load to the batch's close.
    Batch,
    /// The sequences in a batch's step, at its start (an instant).
    BatchSize {
        /// The batch (its slot; a slot is reused after the batch closes).
        batch: u32,
        /// Sequences in the step.
        size: u32,
    },
    /// Data crossing the NoC from one cluster to another.
    Transfer {
        /// Sending cluster.
        from: ClusterId,
        /// Receiving cluster.
        to: ClusterId,
        /// Bytes moved.
        bytes: u64,
    },
}

/// One span of the execution log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    /// What happened.
    pub kind: TraceKind,
    /// The TBU it occupied (`None` for transfers and batch sizes).
    pub tbu: Option<TbuId>,
    /// The cluster of the TBU, the sending cluster of a transfer, or a batch's first cluster.
    pub cluster: ClusterId,
    /// Start, cycles.
    pub start: Cycle,
    /// End, cycles.
    pub end: Cycle,
    /// The task block concerned, if any.
    pub block: Option<BlockId>,
    /// The request concerned, if any.
    pub request: Option<RequestId>,
    /// The execution (or batch) the span belongs to, numbered in the order they started: the
    /// spans of one gang's TBUs share it.
    pub exec: Option<u64>,
}

/// Renders a log as Chrome trace-event JSON (timestamps in microseconds).
pub fn chrome_trace(events: &[TraceEvent], machine: &Machine, workflow: &Workflow) -> String {
    let us_per_cycle = 1.0 / (machine.spec.clock_ghz * 1e3);
    let noc_tid = machine.tbus.len();
    let mut out = String::with_capacity(64 + events.len() * 160);
    out.push_str("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push_str(",\n");
        }
        first = false;
    };
    for (c, cluster) in machine.clusters.iter_enumerated() {
        sep(&mut out);
        let _ = write!(
            out,
            r#"{{"ph":"M","name":"process_name","pid":{},"tid":0,"args":{{"name":"cluster {} ({},{})"}}}}"#,
            c.index(),
            c.index(),
            cluster.x,
            cluster.y
        );
        sep(&mut out);
        let _ = write!(
            out,
            r#"{{"ph":"M","name":"process_sort_index","pid":{},"tid":0,"args":{{"sort_index":{}}}}}"#,
            c.index(),
            c.index()
        );
        for t in cluster.tbus() {
            sep(&mut out);
            let _ = write!(
                out,
                r#"{{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":"TBU {}"}}}}"#,
                c.index(),
                t.index(),
                t.index()
            );
        }
        sep(&mut out);
        let _ = write!(
            out,
            r#"{{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":"NoC out"}}}}"#,
            c.index(),
            noc_tid
        );
    }
    let name_of = |b: Option<BlockId>| b.map_or("-", |b| workflow.blocks[b].name.as_str());
    for e in events {
        sep(&mut out);
        let ts = e.start as f64 * us_per_cycle;
        let dur = (e.end - e.start) as f64 * us_per_cycle;
        let tid = e.tbu.map_or(noc_tid, |t| t.index());
        let req = e.request.map_or(-1, |r| i64::from(r.0));
        if let TraceKind::BatchSize { batch, size } = e.kind {
            let name = format!("batch {batch} ({})", name_of(e.block));
            let _ = write!(
                out,
                r#"{{"ph":"C","name":{},"pid":{},"ts":{:.6},"args":{{"sequences":{size}}}}}"#,
                serde_json::to_string(&name).expect("strings serialise"),
                e.cluster.index(),
                ts
            );
            continue;
        }
        let (name, cat, extra) = match e.kind {
            TraceKind::Exec => (name_of(e.block).to_owned(), "exec", String::new()),
            TraceKind::Collective => {
                (format!("collective {}", name_of(e.block)), "collective", String::new())
            }
            TraceKind::Batch => (format!("batch {}", name_of(e.block)), "batch", String::new()),
            TraceKind::BatchSize { .. } => unreachable!("written as a counter above"),
            TraceKind::Reconfig => (format!("reconfig {}", name_of(e.block)), "reconfig", String::new()),
            TraceKind::WaitInputs => (format!("inputs {}", name_of(e.block)), "transfer", String::new()),
            TraceKind::Transfer { from, to, bytes } => (
                format!("{} -> {}", from.index(), to.index()),
                "noc",
                format!(r#","bytes":{bytes},"hops":{}"#, machine.hops(from, to)),
            ),
        };
        let _ = write!(
            out,
            r#"{{"ph":"X","name":{},"cat":"{}","pid":{},"tid":{},"ts":{:.6},"dur":{:.6},"args":{{"request":{}{}}}}}"#,
            serde_json::to_string(&name).expect("strings serialise"),
            cat,
            e.cluster.index(),
            tid,
            ts,
            dur,
            req,
            extra
        );
    }
    out.push_str("\n]}\n");
    out
}
