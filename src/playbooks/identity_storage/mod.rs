//! Playbooks of the `identity_storage` group (see shared/PLAYBOOKS.md): kubelet and webhook
//! certificates, RBAC and node bootstrap, volumes, and the cloud provider. One file per
//! playbook; add it to `PLAYBOOKS` below.

mod common;
pub use common::{Denial, denials};
pub mod component_rbac_forbidden;
pub mod csr_pending_node_cannot_join;
pub mod invalid_pem_material;
pub mod kubelet_serving_cert_untrusted;
pub mod loadbalancer_pending_no_cloud_provider;
pub mod node_uninitialized_cloud_taint;
pub mod pvc_pending_no_storageclass_or_pv;
pub mod pvc_pending_provisioner_missing;
pub mod rbac_forbidden;
mod storage;
pub mod volume_attach_mount_failure;

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &kubelet_serving_cert_untrusted::PLAYBOOK,
    &invalid_pem_material::PLAYBOOK,
    &rbac_forbidden::PLAYBOOK,
    &component_rbac_forbidden::PLAYBOOK,
    &csr_pending_node_cannot_join::PLAYBOOK,
    &pvc_pending_no_storageclass_or_pv::PLAYBOOK,
    &pvc_pending_provisioner_missing::PLAYBOOK,
    &loadbalancer_pending_no_cloud_provider::PLAYBOOK,
    &node_uninitialized_cloud_taint::PLAYBOOK,
    &volume_attach_mount_failure::PLAYBOOK,
];
