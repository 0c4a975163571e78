//! `healthy`: a kubeadm cluster with 3 control-plane and 3 worker nodes, all well.

use super::Scenario;

pub fn scenario() -> Scenario {
    todo!()
}
