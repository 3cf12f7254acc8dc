//! Stable fingerprints: FNV-1a (64-bit) over the compact RON text of plain serde data, the same
//! on every run and platform (unlike std's hasher), and the workflow fingerprint that plans
//! record so the simulator can refuse a plan compiled for another workflow.
//!
//! The generic helpers live here, at the bottom of the pipeline, so that `octopus-hw` hashes its
//! hardware descriptions with the same function.

use serde::Serialize;

use crate::ir::Workflow;

/// The version of the IR's meaning, mixed into [`fingerprint`].
///
/// A change to the IR's serde form already changes every fingerprint. Bump this when the
/// meaning of an unchanged IR changes instead (a kernel's operation count, a distribution's
/// parameters, the rules of bounded counts, what the analysis derives), so that plans compiled
/// before the change are refused rather than silently reused.
pub const IR_VERSION: u32 = 1;

/// FNV-1a (64-bit) of bytes.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The fingerprint of a value: [`fnv1a64`] of its compact RON text.
pub fn ron_fingerprint<T: Serialize>(value: &T) -> u64 {
    fnv1a64(ron::to_string(value).expect("plain data always serialises to RON").as_bytes())
}

/// The fingerprint of a workflow's IR: [`ron_fingerprint`] of the pair `(IR_VERSION, workflow)`.
pub fn fingerprint(workflow: &Workflow) -> u64 {
    ron_fingerprint(&(IR_VERSION, workflow))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoFiles;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference: the empty string and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_workflow_fingerprint_mixes_in_the_ir_version() {
        let module = crate::check("task a = reduce(elems = 1K)", "t", &NoFiles).module.unwrap();
        let wf = &module.workflow;
        assert_eq!(fingerprint(wf), ron_fingerprint(&(IR_VERSION, wf)));
        assert_ne!(fingerprint(wf), ron_fingerprint(&(IR_VERSION + 1, wf)));
        assert_ne!(fingerprint(wf), ron_fingerprint(wf));
        let mut renamed = wf.clone();
        renamed.name = "u".into();
        assert_ne!(fingerprint(wf), fingerprint(&renamed));
    }
}
