//! The objects this group's scenarios add are well-formed Kubernetes objects (they decode
//! into their k8s-openapi types and back). Which playbook each scenario shows is held for
//! every group at once by `playbooks::acceptance`.

fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Decodes into the k8s-openapi type and back: a wrongly typed field fails, a misspelt one
/// is dropped and the round trip differs.
fn round_trip<K: serde::de::DeserializeOwned + serde::Serialize>(
    o: &serde_json::Value,
) -> Result<(), String> {
    let typed: K = serde_json::from_value(o.clone()).map_err(|e| e.to_string())?;
    let mut back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let mut want = o.clone();
    strip_nulls(&mut want);
    strip_nulls(&mut back);
    if back == want {
        Ok(())
    } else {
        Err(format!("round trip differs:\n{want}\n---\n{back}"))
    }
}

#[test]
fn this_groups_objects_are_well_formed_kubernetes_objects() {
    use k8s_openapi::api::{
        apps::v1 as apps, core::v1 as core, discovery::v1 as disc, networking::v1 as net,
    };
    use std::collections::HashSet;
    let mut failures = Vec::new();
    for (id, build) in crate::scenarios::network_b::SCENARIOS {
        let sc = build();
        let mut keys = HashSet::new();
        let mut uids = HashSet::new();
        for o in &sc.snapshot.objects {
            let kind = o["kind"].as_str().unwrap_or_default();
            let name = o["metadata"]["name"].as_str().unwrap_or_default();
            let ns = o["metadata"]["namespace"].as_str();
            assert_eq!(
                ns.is_some(),
                crate::scenarios::builder::is_namespaced(kind),
                "{id}: {kind} {name}"
            );
            assert!(
                keys.insert((kind.to_string(), ns.map(str::to_string), name.to_string())),
                "{id}: duplicate {kind} {ns:?}/{name}"
            );
            let uid = o["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(uids.insert(uid.clone()), "{id}: duplicate uid {uid}");
            assert!(o["metadata"]["resourceVersion"].is_string());
            let r = match kind {
                "Pod" => round_trip::<core::Pod>(o),
                "Service" => round_trip::<core::Service>(o),
                "Endpoints" => round_trip::<core::Endpoints>(o),
                "Event" => round_trip::<core::Event>(o),
                "Node" => round_trip::<core::Node>(o),
                "Namespace" => round_trip::<core::Namespace>(o),
                "EndpointSlice" => round_trip::<disc::EndpointSlice>(o),
                "Deployment" => round_trip::<apps::Deployment>(o),
                "ReplicaSet" => round_trip::<apps::ReplicaSet>(o),
                "DaemonSet" => round_trip::<apps::DaemonSet>(o),
                "Ingress" => round_trip::<net::Ingress>(o),
                _ => Ok(()),
            };
            if let Err(e) = r {
                failures.push(format!("{id} {kind}/{name}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
