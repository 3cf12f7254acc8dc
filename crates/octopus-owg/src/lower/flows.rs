//! Flows: a `flow a -> b -> c [bytes = SIZE, p = P]` statement becomes one flow per arrow, each
//! declared once, with its bytes and branch probability.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::diagnostics::{Kind, diag};
use crate::dist::Dist;
use crate::ir::{BlockId, Dimension, FlowId, Span};
use crate::parser::{Args, Name};

use super::numbers::Param;
use super::{Cx, LFlow, Lowered};

impl<'a> Cx<'a, '_> {
    /// Lowers a flow statement into `lowered`; `flow_ids` holds the flows declared so far.
    pub(super) fn flow(
        &mut self,
        chain: &[Name<'a>],
        attrs: Option<&Args<'_>>,
        lowered: &mut Lowered,
        flow_ids: &mut HashMap<(BlockId, BlockId), FlowId>,
    ) {
        let (bytes, p) = match attrs {
            Some(a) => self.flow_attrs(a),
            None => (Some(Dist::Const(0.0)), None),
        };
        let ids: Vec<Option<BlockId>> = chain.iter().map(|n| self.resolve(n, lowered)).collect();
        for (i, pair) in chain.windows(2).enumerate() {
            let span = pair[0].span.to(pair[1].span);
            let (Some(from), Some(to)) = (ids[i], ids[i + 1]) else {
                if let Some(from) = ids[i] {
                    lowered.tainted.push(from);
                }
                continue;
            };
            match flow_ids.entry((from, to)) {
                Entry::Occupied(e) => {
                    let first = lowered.flows[*e.get()].span;
                    self.push(
                        diag(
                            Kind::DuplicateFlow,
                            span,
                            format!("the flow `{}` -> `{}` is declared twice", pair[0].text, pair[1].text),
                            "declared again here",
                            "declare each flow once; give it all its attributes there",
                        )
                        .with(first, "first declared here"),
                    );
                }
                Entry::Vacant(e) => {
                    let id = lowered.flows.push(LFlow {
                        from,
                        to,
                        bytes: bytes.clone(),
                        probability: p.map(|(p, _)| p),
                        p_span: p.map(|(_, s)| s),
                        span,
                    });
                    e.insert(id);
                }
            }
        }
    }

    /// `[bytes = SIZE, p = P]`: the bytes (`None` after an error) and the probability with its span.
    fn flow_attrs(&mut self, attrs: &Args<'_>) -> (Option<Dist>, Option<(f64, Span)>) {
        let (slots, _) = self.bind(attrs, &["bytes", "p"], 0, &"a flow");
        let bytes = match slots[0] {
            Some(a) => self.dist(
                &a.value,
                Param {
                    name: "bytes",
                    dimension: Dimension::Bytes,
                    integer: false,
                    allow_zero: true,
                    constant: false,
                },
            ),
            None => Some(Dist::Const(0.0)),
        };
        // A bad probability was reported; keep the flow marked as carrying one.
        let p = slots[1].map(|a| (self.probability(&a.value, &"`p`").unwrap_or(f64::NAN), a.span));
        (bytes, p)
    }
}
