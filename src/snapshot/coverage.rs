//! What a snapshot captured: per kind (and per namespace), whether its objects were listed
//! or simply are not in the file. Real captures are partial (a reporter pastes the pods and
//! an event, not the DaemonSets), so "no object of this kind" proves nothing unless the
//! snapshot says the kind was listed: `SnapshotInfo.captured` (written by `ktriage
//! snapshot`, and by the parser for every `*List` document read, even an empty one), or
//! objects of the kind.

use serde_json::Value;

use super::Snapshot;

/// Whether a kind (in a namespace) was captured by a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Listed: what the snapshot holds of it is what the cluster held (possibly nothing).
    Listed,
    /// Some objects of the kind are there (a pasted fragment), but the snapshot does not say
    /// it listed them all: what is there is evidence, what is not proves nothing.
    Partial,
    /// Not in the snapshot: absence proves nothing.
    NotCaptured,
}

impl Snapshot {
    /// Whether objects of `kind` (`Pod`, `DaemonSet`…) were captured, cluster-wide
    /// (`namespace: None`) or in one namespace.
    ///
    /// Listed when `SnapshotInfo.captured` names the kind (a `*List` of the kind read adds it);
    /// for one namespace, also when the snapshot holds an object of the kind there (a pasted
    /// `kubectl get -n NS` holds the whole namespace; a cluster-scoped object answers any
    /// namespace). Cluster-wide, objects without such a declaration are `Partial`.
    pub fn capture_of(&self, kind: &str, namespace: Option<&str>) -> Capture {
        let declared = self
            .info
            .as_ref()
            .is_some_and(|i| i.captured.iter().any(|k| k == kind));
        if declared {
            return Capture::Listed;
        }
        let held = self.objects_of_kind(kind).any(|o| {
            let ns = o.pointer("/metadata/namespace").and_then(Value::as_str);
            match (namespace, ns) {
                (None, _) | (Some(_), None) => true,
                (Some(want), Some(got)) => want == got,
            }
        });
        match (held, namespace) {
            (false, _) => Capture::NotCaptured,
            (true, Some(_)) => Capture::Listed,
            (true, None) => Capture::Partial,
        }
    }

    /// The kinds of Kubernetes objects the snapshot holds or declares listed, sorted.
    pub fn captured_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .objects
            .iter()
            .filter_map(|o| o.get("kind").and_then(Value::as_str))
            .map(str::to_string)
            .chain(self.info.iter().flat_map(|i| i.captured.iter().cloned()))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_without_objects_is_not_captured_unless_declared_or_listed() {
        let s = Snapshot::parse_str(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\n---\n\
             apiVersion: apps/v1\nkind: DaemonSetList\nitems: []\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(s.capture_of("Pod", None), Capture::Partial);
        assert_eq!(s.capture_of("Pod", Some("shop")), Capture::Listed);
        assert_eq!(
            s.capture_of("Pod", Some("kube-system")),
            Capture::NotCaptured
        );
        assert_eq!(s.capture_of("DaemonSet", None), Capture::Listed);
        assert_eq!(s.capture_of("Lease", None), Capture::NotCaptured);

        let declared = Snapshot::parse_str(
            "apiVersion: ktriage/v1\nkind: SnapshotInfo\ncaptured: [Lease]\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(
            declared.capture_of("Lease", Some("kube-system")),
            Capture::Listed
        );
    }
}
