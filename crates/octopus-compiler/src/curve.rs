//! A space-filling order of the cluster mesh: the generalized Hilbert curve ("gilbert", Jakub
//! Červený's algorithm) for rectangles of any size. Consecutive positions are mesh neighbours, and
//! any run of consecutive positions stays compact, so tasks placed consecutively land close.

/// The cells of a `width x height` grid in generalized Hilbert order.
pub(crate) fn gilbert(width: u32, height: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity((width * height) as usize);
    let (w, h) = (i64::from(width), i64::from(height));
    if w >= h {
        generate(&mut out, 0, 0, w, 0, 0, h);
    } else {
        generate(&mut out, 0, 0, 0, h, w, 0);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn generate(out: &mut Vec<(u32, u32)>, x: i64, y: i64, ax: i64, ay: i64, bx: i64, by: i64) {
    let w = (ax + ay).abs();
    let h = (bx + by).abs();
    let (dax, day) = (ax.signum(), ay.signum());
    let (dbx, dby) = (bx.signum(), by.signum());
    let push = |out: &mut Vec<(u32, u32)>, x: i64, y: i64| out.push((x as u32, y as u32));
    if h == 1 {
        for i in 0..w {
            push(out, x + i * dax, y + i * day);
        }
        return;
    }
    if w == 1 {
        for i in 0..h {
            push(out, x + i * dbx, y + i * dby);
        }
        return;
    }
    let (mut ax2, mut ay2) = (ax.div_euclid(2), ay.div_euclid(2));
    let (mut bx2, mut by2) = (bx.div_euclid(2), by.div_euclid(2));
    let w2 = (ax2 + ay2).abs();
    let h2 = (bx2 + by2).abs();
    if 2 * w > 3 * h {
        if w2 % 2 != 0 && w > 2 {
            ax2 += dax;
            ay2 += day;
        }
        generate(out, x, y, ax2, ay2, bx, by);
        generate(out, x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by);
    } else {
        if h2 % 2 != 0 && h > 2 {
            bx2 += dbx;
            by2 += dby;
        }
        generate(out, x, y, bx2, by2, ax2, ay2);
        generate(out, x + bx2, y + by2, ax, ay, bx - bx2, by - by2);
        generate(
            out,
            x + (ax - dax) + (bx2 - dbx),
            y + (ay - day) + (by2 - dby),
            -bx2,
            -by2,
            -(ax - ax2),
            -(ay - ay2),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_every_cell_once_in_neighbour_steps() {
        for (w, h) in [(1, 1), (4, 4), (28, 48), (7, 3), (5, 12), (2, 9), (16, 1)] {
            let cells = gilbert(w, h);
            let mut seen = std::collections::HashSet::new();
            assert!(cells.iter().all(|c| c.0 < w && c.1 < h && seen.insert(*c)), "{w}x{h}");
            assert_eq!(seen.len(), (w * h) as usize);
            // Odd-by-odd rectangles force one diagonal step at most; everything else is a neighbour step.
            let far =
                cells.windows(2).filter(|p| p[0].0.abs_diff(p[1].0) + p[0].1.abs_diff(p[1].1) > 1).count();
            assert!(far <= 1, "{w}x{h}: {far} non-neighbour steps");
        }
    }
}
