//! Names: declaring and resolving block names (statements come in any order), binding a call's
//! arguments to its parameter names, and the "did you mean" suggestions for misspelt ones.

use std::fmt;

use crate::diagnostics::{Kind, diag};
use crate::index::Idx;
use crate::ir::{BlockId, Span};
use crate::parser::{Arg, Args, Name, Stmt};

use super::{Cx, LBlock, LKind, Lowered};

/// What a name stands for.
#[derive(Clone, Copy)]
pub(super) enum Decl {
    Block(BlockId),
    /// Declared twice: reported, and flows naming it are dropped silently.
    Poisoned,
}

impl<'a> Cx<'a, '_> {
    /// Declares the blocks of a task or control statement (an opener and its closer) in `lowered`.
    pub(super) fn declare_blocks(&mut self, stmt: &Stmt<'a>, lowered: &mut Lowered) {
        match stmt {
            Stmt::Task { name, .. } if self.declare(name, &[]) => {
                let id = lowered.blocks.push(LBlock {
                    name: name.text.to_owned(),
                    span: name.span,
                    kind: LKind::Task(None),
                });
                self.names.insert(name.text, (Decl::Block(id), name.span));
            }
            Stmt::Control { kind, name, join, .. } => {
                let ok_opener = self.declare(name, &[]);
                let ok_join = self.declare(join, &[name]);
                if ok_opener && ok_join {
                    let opener = BlockId::new(lowered.blocks.len());
                    let closer = BlockId::new(lowered.blocks.len() + 1);
                    lowered.blocks.push(LBlock {
                        name: name.text.to_owned(),
                        span: name.span,
                        kind: LKind::Opener { kind: *kind, join: closer, count: None },
                    });
                    lowered.blocks.push(LBlock {
                        name: join.text.to_owned(),
                        span: join.span,
                        kind: LKind::Join { opener },
                    });
                    self.names.insert(name.text, (Decl::Block(opener), name.span));
                    self.names.insert(join.text, (Decl::Block(closer), join.span));
                } else {
                    for n in [name, join] {
                        self.names.entry(n.text).or_insert((Decl::Poisoned, n.span));
                    }
                }
            }
            _ => {}
        }
    }

    /// Declares `name` unless taken (also by `also`, names of the same statement); reports duplicates.
    pub(super) fn declare(&mut self, name: &Name<'a>, also: &[&Name<'a>]) -> bool {
        let first = self
            .names
            .get(name.text)
            .map(|(_, s)| *s)
            .or_else(|| also.iter().find(|n| n.text == name.text).map(|n| n.span));
        match first {
            Some(first) => {
                self.push(
                    diag(
                        Kind::DuplicateName,
                        name.span,
                        format!("the name `{}` is declared twice", name.text),
                        "declared again here",
                        "names are unique across tasks, control blocks and closers: rename one of them",
                    )
                    .with(first, "first declared here"),
                );
                false
            }
            None => true,
        }
    }

    /// The block `name` declares; `None` (and `lowered.unresolved` set) when it declares none.
    pub(super) fn resolve(&mut self, name: &Name<'a>, lowered: &mut Lowered) -> Option<BlockId> {
        match self.names.get(name.text) {
            Some((Decl::Block(id), _)) => Some(*id),
            Some((Decl::Poisoned, _)) => {
                lowered.unresolved = true;
                None
            }
            None => {
                lowered.unresolved = true;
                let help = match suggest(name.text, self.names.keys().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "declare it, e.g. `task {} = compute(ops = 1M)`, or fix the spelling",
                        name.text
                    ),
                };
                self.report(
                    Kind::UnknownBlock,
                    name.span,
                    format!("unknown block `{}`", name.text),
                    "not declared",
                    help,
                );
                None
            }
        }
    }

    /// Binds arguments to parameter names: positional ones (at most `positional`) first, then named
    /// ones. Reports misplaced, unknown and duplicate arguments; returns one slot per name.
    pub(super) fn bind<'x, 'y>(
        &mut self,
        args: &'x Args<'y>,
        names: &[&str],
        positional: usize,
        owner: &dyn fmt::Display,
    ) -> (Vec<Option<&'x Arg<'y>>>, bool) {
        let mut slots: Vec<Option<&Arg<'y>>> = vec![None; names.len()];
        let mut rejected = false;
        let mut seen_named = false;
        let mut position = 0;
        for arg in &args.items {
            if let Some(w) = &arg.weight {
                self.report(
                    Kind::BadArgument,
                    w.span(),
                    "a weighted pair `value: weight` outside `choice`".into(),
                    "unexpected weight",
                    "only `choice(v1: w1, v2: w2, ...)` takes weighted values".into(),
                );
                continue;
            }
            let slot = match &arg.name {
                Some(n) => {
                    seen_named = true;
                    match names.iter().position(|p| *p == n.text) {
                        Some(i) => i,
                        None => {
                            let help = match suggest(n.text, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`? {owner} takes {}", list(names)),
                                None if names.is_empty() => format!("{owner} takes no arguments"),
                                None => format!("{owner} takes {}", list(names)),
                            };
                            self.report(
                                Kind::UnknownParam,
                                n.span,
                                format!("unknown argument `{}` of {owner}", n.text),
                                "unknown argument",
                                help,
                            );
                            continue;
                        }
                    }
                }
                None if seen_named => {
                    rejected = true;
                    self.report(
                        Kind::BadArgument,
                        arg.span,
                        format!("a positional argument after a named one, in {owner}"),
                        "positional argument",
                        format!("write positional arguments first, or name this one ({})", list(names)),
                    );
                    continue;
                }
                None if position >= positional.min(names.len()) => {
                    rejected = true;
                    let help = if positional == 0 {
                        format!("{owner} takes named arguments only: {}", list(names))
                    } else {
                        format!("{owner} takes at most {positional} positional arguments: {}", list(names))
                    };
                    self.report(
                        Kind::BadArgument,
                        arg.span,
                        format!("too many positional arguments for {owner}"),
                        "one too many",
                        help,
                    );
                    position += 1;
                    continue;
                }
                None => {
                    position += 1;
                    position - 1
                }
            };
            match slots[slot] {
                Some(first) => {
                    let span = arg.name.map_or(arg.span, |n| n.span);
                    self.push(
                        diag(
                            Kind::DuplicateParam,
                            span,
                            format!("the argument `{}` of {owner} is given twice", names[slot]),
                            "given again here",
                            "give each argument once",
                        )
                        .with(first.span, "first given here"),
                    );
                }
                None => slots[slot] = Some(arg),
            }
        }
        (slots, rejected)
    }

    /// Reports a missing argument, unless `rejected`: an argument was misplaced, and is likely the missing one.
    pub(super) fn missing(
        &mut self,
        rejected: bool,
        at: Span,
        param: &str,
        owner: &dyn fmt::Display,
        doc: &str,
    ) {
        if rejected {
            return;
        }
        self.report(
            Kind::MissingParam,
            at,
            format!("missing argument `{param}` of {owner}"),
            &format!("`{param}` is needed"),
            if doc.is_empty() {
                format!("add `{param} = ...`")
            } else {
                format!("add `{param} = ...` ({doc})")
            },
        );
    }
}

/// "`a`, `b` and `c`".
pub(crate) fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        0 => "nothing".into(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// `prefix` and a quoted name, such as "kernel `gemm`", formatted only when a message needs it.
pub(super) struct Quoted<'s>(pub &'static str, pub &'s str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}`{}`", self.0, self.1)
    }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub(super) fn suggest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    if name.len() > 64 {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .take(10_000)
        .filter(|c| c.len() <= 64)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("thinck", ["think", "answer"].into_iter()), Some("think"));
        assert_eq!(suggest("zzz", ["think", "answer"].into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
