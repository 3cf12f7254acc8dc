//! Where values were written in a RON document, for the toolkit's other RON formats (sweep specs):
//! the scanner that locates this crate's own diagnostics, behind a small public face.

use std::ops::Range;

use crate::locate::Locations;

/// Byte spans of the values of a RON document, by path: `workflows[1]`, `params[0].1[2]`,
/// `die.noc.bytes_per_cycle` (fields joined by `.`, list items and tuple elements by index).
#[derive(Debug)]
pub struct RonLocations(Locations);

impl RonLocations {
    /// Scans `text`; meant for text the RON parser has accepted (it never fails, but may locate
    /// less precisely in text that is not RON).
    pub fn scan(text: &str) -> RonLocations {
        RonLocations(Locations::scan(text))
    }

    /// The span of the value at `path`, or of its nearest located ancestor, or of the whole text.
    pub fn value(&self, path: &str) -> Range<usize> {
        self.0.value(path)
    }
}
