//! Every shipped preset loads, and its totals are the ones `docs/hardware.md` states.

use octopus_hw::{ClusterId, Machine, PRESETS};

#[test]
fn presets_load_with_documented_totals() {
    let expect = [
        ("chip", 256, 32, 1),
        ("package", 1024, 128, 4),
        ("wafer", 21_504, 2688, 84),
        ("hetero", 160, 16, 1),
    ];
    assert_eq!(PRESETS.len(), expect.len());
    for (name, tbus, clusters, dies) in expect {
        let m = Machine::preset(name).unwrap();
        assert_eq!((m.tbus.len(), m.clusters.len(), m.dies.len()), (tbus, clusters, dies), "{name}");
        assert_eq!(m.name(), name);
    }
    assert!(Machine::preset("wafer").unwrap().tbus.len() >= 10_000);
}

#[test]
fn xy_routes_are_minimal_and_cross_dies_on_inter_die_links() {
    let m = Machine::preset("package").unwrap();
    let (a, b) = (m.cluster_at(0, 0).unwrap(), m.cluster_at(7, 9).unwrap());
    assert_eq!(m.hops(a, b), 16);
    let route: Vec<_> = m.route(a, b).collect();
    assert_eq!(route.len(), 16);
    assert_eq!(m.links[route[0]].from, a);
    assert_eq!(m.links[*route.last().unwrap()].to, b);
    assert!(route.windows(2).all(|w| m.links[w[0]].to == m.links[w[1]].from));
    // x first: the first 7 links move along x.
    assert!(route[..7].iter().all(|&l| m.clusters[m.links[l].to].y == 0));
    let inter = route.iter().filter(|&&l| m.links[l].inter_die).count() as u32;
    assert_eq!(inter, 2);
    assert_eq!(m.route_hops(a, b).inter_die, 2);
    assert_eq!(m.route_hops(a, b).total(), 16);
    assert_eq!(m.route(a, a).count(), 0);
    assert_eq!(m.neighbours(ClusterId(0)).count(), 2);
    assert_eq!(m.neighbours(m.cluster_at(3, 3).unwrap()).count(), 4);
    assert_eq!(m.diameter(), 22);
}

/// Every route of a multi-die mesh, in all four directions: a chain of links from `a` to `b`, as
/// long as the Manhattan distance (and as [`ExactSizeIterator::len`] says), x moves first.
#[test]
fn every_route_is_a_minimal_x_then_y_chain() {
    let m = Machine::preset("package").unwrap();
    for a in m.clusters.indices() {
        for b in m.clusters.indices() {
            let route = m.route(a, b);
            let len = route.len();
            let links: Vec<_> = route.collect();
            assert_eq!((links.len(), len), (m.hops(a, b) as usize, len), "{a:?} -> {b:?}");
            let mut at = a;
            let mut moved_y = false;
            for &l in &links {
                let link = &m.links[l];
                assert_eq!(link.from, at);
                let (from, to) = (&m.clusters[link.from], &m.clusters[link.to]);
                if from.y != to.y {
                    moved_y = true;
                } else {
                    assert!(!moved_y, "an x move after a y move on {a:?} -> {b:?}");
                }
                at = link.to;
            }
            assert_eq!(at, b);
        }
    }
}

#[test]
fn fingerprints_are_stable_and_distinguish_machines() {
    let chip = Machine::preset("chip").unwrap();
    assert_eq!(chip.fingerprint(), Machine::preset("chip").unwrap().fingerprint());
    assert_ne!(chip.fingerprint(), Machine::preset("package").unwrap().fingerprint());
    let rebuilt = Machine::from_spec(&chip.spec).unwrap();
    assert_eq!(rebuilt.fingerprint(), chip.fingerprint());
}
