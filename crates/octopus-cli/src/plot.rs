//! SVG charts drawn with plotters' SVG backend: text is SVG `<text>` (no fonts are read or
//! embedded), so a chart is a self-contained string to write out or inline into HTML.
//!
//! Categorical x axes (the swept values, evenly spaced, whatever their magnitudes) are an `f64`
//! range with one key point per category, labelled by the formatter.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;

/// The size of every chart, in pixels.
pub const SIZE: (u32, u32) = (840, 440);

/// The width of the legend column right of a chart.
const LEGEND: u32 = 170;

/// Distinct colours for series (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One named series of values, one per category (`None`: no data there).
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// One value per category.
    pub values: Vec<Option<f64>>,
}

/// A chart's title and axis descriptions.
pub struct Labels<'a> {
    /// Above the chart.
    pub title: &'a str,
    /// Under the x axis.
    pub x: &'a str,
    /// Beside the y axis.
    pub y: &'a str,
}

const DRAW: &str = "drawing into a string cannot fail";

fn y_max(series: &[Series]) -> f64 {
    let m = series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0f64, |a, &b| a.max(b));
    if m > 0.0 && m.is_finite() { m * 1.12 } else { 1.0 }
}

/// `n` categories at `0.0, 1.0, ..`, each a unit wide, with a key point (a tick) at each.
struct Categories(usize);

impl Ranged for Categories {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let r = self.range();
        let f = (value - r.start) / (r.end - r.start);
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Every category while they fit, else every k-th.
        let step = self.0.div_ceil(hint.max_num_points().max(1)).max(1);
        (0..self.0).step_by(step).map(|i| i as f64).collect()
    }

    fn range(&self) -> Range<f64> {
        -0.5..self.0.max(1) as f64 - 0.5
    }
}

impl ValueFormatter<f64> for Categories {
    fn format(value: &f64) -> String {
        value.to_string()
    }
}

fn categories(n: usize) -> Categories {
    Categories(n)
}

fn tick<'a>(ticks: &'a [String]) -> impl Fn(&f64) -> String + 'a {
    move |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            ticks.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

fn short(y: &f64) -> String {
    let a = y.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{y:.1e}")
    } else {
        let s = format!("{y:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Lines over categories, one per series, with a marker at each value.
pub fn lines(labels: &Labels<'_>, ticks: &[String], series: &[Series]) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let (area, side) = root.split_horizontally(SIZE.0 - LEGEND);
        let mut chart = ChartBuilder::on(&area)
            .caption(labels.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(categories(ticks.len()), 0.0..y_max(series))
            .expect(DRAW);
        let fmt = tick(ticks);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(labels.x)
            .y_desc(labels.y)
            .x_label_formatter(&fmt)
            .y_label_formatter(&short)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .expect(DRAW);
        for (i, s) in series.iter().enumerate() {
            let c = colour(i);
            let pts: Vec<(f64, f64)> =
                s.values.iter().enumerate().filter_map(|(x, v)| v.map(|v| (x as f64, v))).collect();
            chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2))).expect(DRAW);
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled()))).expect(DRAW);
        }
        legend(&side, &series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), Marker::Line);
        root.present().expect(DRAW);
    }
    out
}

/// How the legend shows a series.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    Line,
    Swatch,
}

/// A legend in the column right of the chart, one entry per series.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    names: &[&str],
    marker: Marker,
) {
    legend_in_order(area, names, &(0..names.len()).collect::<Vec<_>>(), marker);
}

/// [`legend`] with the entries in `order` (indices into `names`), top to bottom.
fn legend_in_order<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    names: &[&str],
    order: &[usize],
    marker: Marker,
) {
    let font = ("sans-serif", 13).into_font();
    for (row, &i) in order.iter().enumerate() {
        let y = 56 + 22 * row as i32;
        let c = colour(i);
        match marker {
            Marker::Line => area.draw(&PathElement::new(vec![(4, y), (24, y)], c.stroke_width(2))),
            Marker::Swatch => area.draw(&Rectangle::new([(8, y - 6), (20, y + 6)], c.filled())),
        }
        .expect(DRAW);
        area.draw(&Text::new(names[i].to_owned(), (30, y - 7), font.clone())).expect(DRAW);
    }
}

/// Bars grouped by category, one bar per series in each group; an optional dashed reference line
/// (e.g. a speedup of 1).
pub fn grouped_bars(
    labels: &Labels<'_>,
    groups: &[String],
    series: &[Series],
    reference: Option<f64>,
) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let (area, side) = root.split_horizontally(SIZE.0 - LEGEND);
        let mut chart = ChartBuilder::on(&area)
            .caption(labels.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(
                categories(groups.len()),
                0.0..y_max(series).max(reference.unwrap_or(0.0) * 1.12),
            )
            .expect(DRAW);
        let fmt = tick(groups);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(labels.x)
            .y_desc(labels.y)
            .x_label_formatter(&fmt)
            .y_label_formatter(&short)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .expect(DRAW);
        let width = 0.8 / series.len().max(1) as f64;
        for (i, s) in series.iter().enumerate() {
            let c = colour(i);
            let bars = s.values.iter().enumerate().filter_map(|(g, v)| {
                v.map(|v| {
                    let x0 = g as f64 - 0.4 + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.92, v)], c.filled())
                })
            });
            chart.draw_series(bars).expect(DRAW);
        }
        if let Some(r) = reference {
            let n = groups.len() as f64;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(-0.5, r), (n - 0.5, r)],
                    6,
                    4,
                    BLACK.mix(0.6).stroke_width(1),
                ))
                .expect(DRAW);
        }
        legend(&side, &series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), Marker::Swatch);
        root.present().expect(DRAW);
    }
    out
}

/// One bar per category, split into stacked parts (one per series, from the bottom).
pub fn stacked_bars(labels: &Labels<'_>, bars: &[String], stacks: &[Series]) -> String {
    let totals: Vec<f64> =
        (0..bars.len()).map(|b| stacks.iter().map(|s| s.values[b].unwrap_or(0.0)).sum()).collect();
    let top = totals.iter().fold(0.0f64, |a, &b| a.max(b));
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let (area, side) = root.split_horizontally(SIZE.0 - LEGEND);
        let mut chart = ChartBuilder::on(&area)
            .caption(labels.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(categories(bars.len()), 0.0..if top > 0.0 { top * 1.05 } else { 1.0 })
            .expect(DRAW);
        let fmt = tick(bars);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(labels.x)
            .y_desc(labels.y)
            .x_label_formatter(&fmt)
            .y_label_formatter(&short)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .expect(DRAW);
        let mut base = vec![0.0; bars.len()];
        for (i, s) in stacks.iter().enumerate() {
            let c = colour(i);
            let rects: Vec<_> = (0..bars.len())
                .map(|b| {
                    let v = s.values[b].unwrap_or(0.0);
                    let r = Rectangle::new(
                        [(b as f64 - 0.35, base[b]), (b as f64 + 0.35, base[b] + v)],
                        c.filled(),
                    );
                    base[b] += v;
                    r
                })
                .collect();
            chart.draw_series(rects).expect(DRAW);
        }
        // Top of the stack first, as the bars read.
        let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        legend_in_order(&side, &names, &(0..names.len()).rev().collect::<Vec<_>>(), Marker::Swatch);
        root.present().expect(DRAW);
    }
    out
}

/// The colour of a fraction in [0, 1]: white to dark blue.
fn shade(u: f64) -> RGBColor {
    let u = u.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * u).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// A heat map: `rows[r][c]` in [0, 1] over `columns` equal bins of `0..x_max` and rows labelled
/// `0..rows.len()` (row 0 at the bottom), with a colour bar.
pub fn heatmap(
    labels: &Labels<'_>,
    x_max: f64,
    rows: &[Vec<f64>],
    row_label: &dyn Fn(usize) -> String,
) -> String {
    let cols = rows.first().map_or(0, Vec::len).max(1);
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).expect(DRAW);
        let (main, bar) = root.split_horizontally(SIZE.0 - 90);
        let n = rows.len().max(1);
        let mut chart = ChartBuilder::on(&main)
            .caption(labels.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0..n as f64)
            .expect(DRAW);
        let ylab = |y: &f64| {
            let i = y.floor();
            if i >= 0.0 && (i as usize) < rows.len() { row_label(i as usize) } else { String::new() }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(labels.x)
            .y_desc(labels.y)
            .y_labels(rows.len().min(16))
            .x_label_formatter(&short)
            .y_label_formatter(&ylab)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .expect(DRAW);
        let w = x_max / cols as f64;
        chart
            .draw_series(rows.iter().enumerate().flat_map(|(r, row)| {
                row.iter().enumerate().map(move |(c, &u)| {
                    Rectangle::new(
                        [(c as f64 * w, r as f64), ((c + 1) as f64 * w, r as f64 + 1.0)],
                        shade(u).filled(),
                    )
                })
            }))
            .expect(DRAW);
        // The colour bar: 0 % at the bottom, 100 % at the top.
        let (top, bottom) = (60i32, SIZE.1 as i32 - 70);
        let steps = 20;
        for k in 0..steps {
            let y0 = bottom - (bottom - top) * k / steps;
            let y1 = bottom - (bottom - top) * (k + 1) / steps;
            let u = (k as f64 + 0.5) / steps as f64;
            bar.draw(&Rectangle::new([(10, y1), (34, y0)], shade(u).filled())).expect(DRAW);
        }
        bar.draw(&Rectangle::new([(10, top), (34, bottom)], BLACK.mix(0.4))).expect(DRAW);
        let style = ("sans-serif", 12).into_font();
        bar.draw(&Text::new("100%", (38, top - 6), style.clone())).expect(DRAW);
        bar.draw(&Text::new("0%", (38, bottom - 6), style.clone())).expect(DRAW);
        bar.draw(&Text::new("busy", (8, top - 26), style)).expect(DRAW);
        root.present().expect(DRAW);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"))
    }

    fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(|t| t.trim().to_owned())
            .collect()
    }

    #[test]
    fn charts_are_svg_with_their_labels_as_text() {
        let labels = Labels { title: "t <&>", x: "rate (requests/s)", y: "p99 latency (s)" };
        let ticks: Vec<String> = ["10", "20", "40"].map(String::from).to_vec();
        let series = vec![
            Series { name: "greedy".into(), values: vec![Some(1.0), Some(2.0), None] },
            Series { name: "octopus".into(), values: vec![Some(0.5), Some(1.0), Some(4.0)] },
        ];
        for svg in [
            lines(&labels, &ticks, &series),
            grouped_bars(&labels, &ticks, &series, Some(1.0)),
            stacked_bars(&labels, &ticks, &series),
            heatmap(&labels, 2.0, &[vec![0.0, 0.5], vec![1.0, 0.25]], &|r| format!("c{r}")),
        ] {
            let doc = parses(&svg);
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let t = texts(&doc);
            for want in ["t <&>", "rate (requests/s)", "p99 latency (s)"] {
                assert!(t.iter().any(|x| x == want), "no `{want}` in {t:?}");
            }
        }
        let t = texts(&parses(&lines(&labels, &ticks, &series)));
        for want in ["10", "20", "40", "greedy", "octopus"] {
            assert!(t.iter().any(|x| x == want), "no `{want}` in {t:?}");
        }
    }
}
