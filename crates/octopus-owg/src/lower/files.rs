//! Files: the columns of the CSV files a source names (for `empirical` distributions and
//! `replay` arrivals), each file read through the [`Loader`](crate::Loader) once.

use std::rc::Rc;

use crate::csv::Table;
use crate::diagnostics::Kind;
use crate::ir::Span;

use super::Cx;
use super::names::{list, suggest};

impl Cx<'_, '_> {
    /// The cells of a CSV column with their line numbers, reading the file through the loader once.
    pub(super) fn column(
        &mut self,
        file: &str,
        file_span: Span,
        column: &str,
        column_span: Span,
    ) -> Option<Vec<(usize, String)>> {
        let table = match self.files.get(file) {
            Some(t) => t.clone(),
            None => {
                let t = self.loader.load(file).and_then(|text| Table::parse(&text)).map(Rc::new);
                self.files.insert(file.to_owned(), t.clone());
                t
            }
        };
        let table = match table {
            Ok(t) => t,
            Err(e) => {
                self.report(
                    Kind::Csv,
                    file_span,
                    format!("cannot read `{file}`: {e}"),
                    "this file",
                    "the path is relative to the `.owg` file; check that it exists and is a CSV file".into(),
                );
                return None;
            }
        };
        match table.column(column) {
            None => {
                let cols: Vec<&str> = table.columns().iter().map(String::as_str).collect();
                let help = match suggest(column, cols.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? columns: {}", list(&cols)),
                    None => format!("columns: {}", list(&cols)),
                };
                self.report(
                    Kind::Csv,
                    column_span,
                    format!("`{file}` has no column `{column}`"),
                    "no such column",
                    help,
                );
                None
            }
            Some(Err(line)) => {
                self.report(
                    Kind::Csv,
                    column_span,
                    format!("`{file}` line {line} has no `{column}` field"),
                    "missing in a row",
                    "every row needs as many fields as the header".into(),
                );
                None
            }
            Some(Ok(cells)) => Some(cells.into_iter().map(|(l, c)| (l, c.to_owned())).collect()),
        }
    }
}
