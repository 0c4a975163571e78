//! `explain` ranks the identity/storage seed error texts to the right playbook. Which playbook
//! each scenario shows, live and through a snapshot, is held for every group at once by
//! `playbooks_scenarios` (the real binary) and `playbooks::acceptance` (the lib).

use ktriage::playbooks::engine;

#[test]
fn explain_ranks_the_seed_texts() {
    for (text, want) in [
        (
            "x509: certificate signed by unknown authority",
            "kubelet-serving-cert-untrusted",
        ),
        (
            "Error from server: Get \"https://10.0.0.22:10250/containerLogs/shop/web-1/web\": x509: certificate signed by unknown authority",
            "kubelet-serving-cert-untrusted",
        ),
        (
            "tls: failed to find any PEM data in certificate input",
            "invalid-pem-material",
        ),
        (
            "Internal error occurred: failed calling webhook \"x\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block",
            "invalid-pem-material",
        ),
        (
            "Error from server (Forbidden): User \"kubernetes-admin\" cannot list nodes at the cluster scope",
            "rbac-forbidden",
        ),
        (
            "E0115 reflector.go:158] failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User \"system:serviceaccount:kube-system:coredns\" cannot list resource \"endpointslices\"",
            "component-rbac-forbidden",
        ),
        (
            "Normal FailedBinding persistentvolume-controller no persistent volumes available for this claim and no storage class is set",
            "pvc-pending-no-storageclass-or-pv",
        ),
        (
            "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator",
            "pvc-pending-provisioner-missing",
        ),
        (
            "W0329 core.go:105] no cloud provider provided, services of type LoadBalancer will fail",
            "loadbalancer-pending-no-cloud-provider",
        ),
        (
            "0/6 nodes are available: 1 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}",
            "node-uninitialized-cloud-taint",
        ),
        (
            "Warning FailedAttachVolume Multi-Attach error for volume \"pvc-1\" Volume is already used by pod(s) db-0",
            "volume-attach-mount-failure",
        ),
    ] {
        let ranked = engine::rank_symptoms(text);
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(want), "{text}");
    }
}
