//! Builds kubeadm-style clusters as snapshot objects, for scenarios.
