//! Bounded counts: the width of a `map` and the iterations of a `loop`, each with its bound
//! `max`, the workflow-wide budget of bounds, and the warning when a bound cuts off much mass.

use crate::diagnostics::{Kind, diag, num};
use crate::dist::Dist;
use crate::ir::{BoundedCount, CountDist, Dimension, Span};
use crate::parser::{Arg, Args, Name, OpenerKind};

use super::Cx;
use super::names::Quoted;
use super::numbers::Param;

/// The largest `max` of a loop or map: bounded counts keep a probability for each value up to it.
const MAX_BOUND: u64 = 1_000_000;

/// The widest `map`: every copy is a record of the simulator from its opening to its end, and a
/// fan-out wider than this is three times the TBUs of the largest preset (`wafer`, 21,504); wider
/// work is written as a loop of maps. (ours)
pub const MAX_WIDTH: u64 = 1 << 16;

/// The largest sum of the bounds of all loops and maps of a workflow.
const MAX_TOTAL_BOUND: u64 = 10_000_000;

/// A loop or map bound that cuts off more than this share of its count distribution is warned about.
const TRUNCATION_WARNING: f64 = 0.01;

impl Cx<'_, '_> {
    /// Lowers a control statement's arguments: the bounded count of a loop or map.
    pub(super) fn control(
        &mut self,
        kind: OpenerKind,
        name: &Name<'_>,
        args: Option<&Args<'_>>,
    ) -> Option<BoundedCount> {
        let owner = Quoted("", kind.keyword());
        let empty = Args { items: Vec::new() };
        let args = args.unwrap_or(&empty);
        match kind {
            OpenerKind::Branch | OpenerKind::Fork => {
                self.bind(args, &[], 0, &owner);
                None
            }
            OpenerKind::Map => self.map_width(name, args, &owner),
            OpenerKind::Loop => self.loop_count(name, args, &owner),
        }
    }

    /// `map NAME(width = DIST, max = N)`: `max` may be left out when the width is bounded.
    fn map_width(&mut self, name: &Name<'_>, args: &Args<'_>, owner: &Quoted<'_>) -> Option<BoundedCount> {
        let (slots, rejected) = self.bind(args, &["width", "max"], 0, owner);
        let width = match slots[0] {
            Some(a) => self.dist(&a.value, count_param("width")),
            None => {
                self.missing(rejected, name.span, "width", owner, "how many copies of the region run");
                return None;
            }
        };
        let max = match slots[1] {
            Some(a) => Some(self.bound(a)?),
            None => None,
        };
        let width = width?;
        let at = slots[0].map_or(name.span, |a| a.value.span());
        let max = match max {
            Some(m) => m,
            None => self.implicit_width_bound(&width, at, name)?,
        };
        if max > MAX_WIDTH {
            let at = slots[1].map_or(at, |a| a.value.span());
            self.report(
                Kind::BoundTooLarge,
                at,
                format!("map `{}` may open {} copies, above {MAX_WIDTH}", name.text, num(max as f64)),
                "too wide",
                format!(
                    "maps up to {MAX_WIDTH} copies wide are supported; write wider work as a loop of maps"
                ),
            );
            return None;
        }
        self.budget(max, at)?;
        let count = BoundedCount::new(CountDist::Dist(width), max);
        self.truncation(&count, at, "width", name.text);
        Some(count)
    }

    /// The bound of a map without `max`: the largest width it can draw, when there is one.
    fn implicit_width_bound(&mut self, width: &Dist, at: Span, name: &Name<'_>) -> Option<u64> {
        if !width.is_bounded() {
            self.report(
                Kind::MapUnbounded,
                at,
                format!("the width of map `{}` is unbounded and it has no `max`", name.text),
                "unbounded",
                "add a bound, e.g. `max = 64`: draws above it are clamped to it".into(),
            );
            return None;
        }
        let upper = width.upper().round().max(0.0);
        if upper > MAX_BOUND as f64 {
            self.report(
                Kind::BoundTooLarge,
                at,
                format!("the width of map `{}` reaches {}, above {MAX_BOUND}", name.text, num(upper)),
                "too wide",
                format!("widths up to {MAX_BOUND} are supported"),
            );
            return None;
        }
        Some(upper as u64)
    }

    /// `loop NAME(count = DIST, max = N)` or `loop NAME(continue = P, max = N)`: a loop that can
    /// end by its own count.
    fn loop_count(&mut self, name: &Name<'_>, args: &Args<'_>, owner: &Quoted<'_>) -> Option<BoundedCount> {
        let (slots, rejected) = self.bind(args, &["count", "continue", "max"], 0, owner);
        let max = match slots[2] {
            Some(a) => self.bound(a),
            None => {
                self.report(
                    Kind::LoopUnbounded,
                    name.span,
                    format!("loop `{}` has no bound `max`", name.text),
                    "no `max`",
                    "every loop needs a bound, e.g. `max = 10`: the count is clamped to it".into(),
                );
                None
            }
        };
        let dist = match (slots[0], slots[1]) {
            (Some(a), Some(b)) => {
                self.push(
                    diag(
                        Kind::BadArgument,
                        b.span,
                        format!("loop `{}` gives both `count` and `continue`", name.text),
                        "second way to count",
                        "give either `count = DIST` or `continue = P`",
                    )
                    .with(a.span, "`count` given here"),
                );
                None
            }
            (None, None) => {
                self.missing(
                    rejected,
                    name.span,
                    "count",
                    owner,
                    "a distribution of iterations, or `continue = P` instead",
                );
                None
            }
            (Some(a), None) => self.dist(&a.value, count_param("count")).map(|d| (CountDist::Dist(d), a)),
            (None, Some(a)) => self.probability(&a.value, &"`continue`").map(|p| (CountDist::Continue(p), a)),
        };
        let (max, (dist, arg)) = (max?, dist?);
        let at = arg.value.span();
        self.terminates(&dist, max, at, name)?;
        self.budget(max, at)?;
        let count = BoundedCount::new(dist, max);
        self.truncation(&count, at, "count", name.text);
        Some(count)
    }

    /// Reports a loop that only its bound can end (it always continues, or every count exceeds `max`).
    fn terminates(&mut self, dist: &CountDist, max: u64, at: Span, name: &Name<'_>) -> Option<()> {
        let cannot = match dist {
            CountDist::Continue(p) if *p >= 1.0 => {
                Some(format!("loop `{}` always continues: only its bound {max} ends it", name.text))
            }
            CountDist::Dist(d) if d.cdf_rounded(max as f64) <= 0.0 => Some(format!(
                "every count of loop `{}` exceeds its bound {max}: only the bound ends it",
                name.text
            )),
            _ => None,
        };
        let Some(message) = cannot else { return Some(()) };
        self.report(
            Kind::LoopCannotTerminate,
            at,
            message,
            "never stops by itself",
            "a loop must end by its own count: lower the count or `continue`, or raise `max`".into(),
        );
        None
    }

    /// Counts a bound against [`MAX_TOTAL_BOUND`]; reports when the workflow's bounds exceed it.
    fn budget(&mut self, max: u64, at: Span) -> Option<()> {
        self.bounds += max;
        if self.bounds > MAX_TOTAL_BOUND {
            self.report(
                Kind::BoundTooLarge,
                at,
                format!(
                    "the bounds of the loops and maps so far add up to {}, above {MAX_TOTAL_BOUND}",
                    self.bounds
                ),
                "one bound too many",
                "the analysis keeps a probability for every count up to each bound: lower the bounds".into(),
            );
            return None;
        }
        Some(())
    }

    /// Warns when a bound cuts off more than [`TRUNCATION_WARNING`] of a count's mass.
    fn truncation(&mut self, count: &BoundedCount, at: Span, what: &str, block: &str) {
        let cut = match &count.dist {
            CountDist::Continue(p) => p.powf(count.max as f64),
            CountDist::Dist(d) => 1.0 - d.cdf_rounded(count.max as f64),
        };
        if cut > TRUNCATION_WARNING {
            self.report(
                Kind::LoopBoundTruncates,
                at,
                format!(
                    "the bound {} of `{block}` cuts off {}% of its {what} distribution",
                    count.max,
                    num((cut * 1000.0).round() / 10.0)
                ),
                "often above the bound",
                "draws above `max` are clamped to it; raise `max` if that is not intended".into(),
            );
        }
    }

    /// A `max = N`: a constant whole number from 1 to [`MAX_BOUND`].
    fn bound(&mut self, arg: &Arg<'_>) -> Option<u64> {
        let v = self.whole(&arg.value, &"`max`")?;
        if v < 1.0 {
            self.report(
                Kind::NonPositive,
                arg.value.span(),
                format!("`max` must be at least 1, found {}", num(v)),
                "not positive",
                "a bound of 0 would never run the region".into(),
            );
            return None;
        }
        if v > MAX_BOUND as f64 {
            self.report(
                Kind::BoundTooLarge,
                arg.value.span(),
                format!("`max` is {}, above the largest supported bound {MAX_BOUND}", num(v)),
                "too large",
                format!("bounds up to {MAX_BOUND} are supported"),
            );
            return None;
        }
        Some(v as u64)
    }
}

/// A count parameter (`width`, `count`): whole numbers, 0 allowed, a distribution allowed.
fn count_param(name: &str) -> Param<'_> {
    Param { name, dimension: Dimension::Count, integer: true, allow_zero: true, constant: false }
}
