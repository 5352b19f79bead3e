//! Application delivery: what the Ingress, HPA, PDB, NetworkPolicy,
//! ExternalSecret, Argo CD and workload blueprints mean, checked on freshly
//! rendered output. The golden tests pin the bytes; these pin the behaviour
//! (who may talk to whom, when a PDB exists, when Argo CD syncs by itself), so
//! a blessed golden can never quietly accept a wrong manifest.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::fixtures::{
    self, golden_case_names, input_specs, paved, paved_yaml, render_fixture, render_specs, root,
    Docs,
};
use serde_json::{json, Value};

/// The documents of `kind`. "Deployment" also finds the Argo Rollouts
/// `Rollout` a service with `rollout` gets in its place (the same pod
/// template, selector and labels).
fn kind<'a>(docs: &'a Docs, kind: &str) -> impl Iterator<Item = &'a (String, Value)> + 'a {
    let kind = kind.to_string();
    docs.iter()
        .filter(move |(_, d)| d["kind"] == kind.as_str() || (kind == "Deployment" && is_rollout(d)))
}

fn is_rollout(d: &Value) -> bool {
    d["kind"] == "Rollout" && d["apiVersion"] == "argoproj.io/v1alpha1"
}

/// The one document of `kind` named `name` in the folder `dir` (e.g. `staging/web`).
fn one<'a>(docs: &'a Docs, dir: &str, kind_: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = kind(docs, kind_)
        .filter(|(p, d)| p.starts_with(&format!("{dir}/")) && d["metadata"]["name"] == name)
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {kind_} `{name}` in {dir}/"
    );
    found[0]
}

fn none_of(docs: &Docs, dir: &str, kind_: &str) {
    let found: Vec<&String> = kind(docs, kind_)
        .filter(|(p, _)| p.starts_with(&format!("{dir}/")))
        .map(|(p, _)| p)
        .collect();
    assert!(found.is_empty(), "expected no {kind_} in {dir}/: {found:?}");
}

/// The environment a rendered file belongs to (`staging/web/x.yaml` → `staging`).
fn env_of(path: &str) -> &str {
    path.split('/').next().unwrap()
}

// ---------------------------------------------------------------------------
// NetworkPolicy semantics, as the Kubernetes API defines them
// ---------------------------------------------------------------------------

/// Something that sends or receives traffic: a pod (namespace + labels) or an
/// address outside the cluster's pods.
#[derive(Debug, Clone)]
enum Endpoint {
    Pod {
        namespace: String,
        labels: BTreeMap<String, String>,
    },
    Ip([u8; 4]),
}

fn pod(namespace: &str, labels: &[(&str, &str)]) -> Endpoint {
    Endpoint::Pod {
        namespace: namespace.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn ip(s: &str) -> Endpoint {
    let parts: Vec<u8> = s.split('.').map(|p| p.parse().unwrap()).collect();
    Endpoint::Ip([parts[0], parts[1], parts[2], parts[3]])
}

#[derive(Clone, Copy)]
enum Direction {
    /// What the sending pod's policies allow out.
    Egress,
    /// What the receiving pod's policies allow in.
    Ingress,
}

/// The NetworkPolicies of one cluster (one environment).
struct Network<'a> {
    policies: Vec<&'a Value>,
}

impl<'a> Network<'a> {
    fn of_environment(docs: &'a Docs, env: &str) -> Network<'a> {
        Network {
            policies: kind(docs, "NetworkPolicy")
                .filter(|(p, _)| env_of(p) == env)
                .map(|(_, d)| d)
                .collect(),
        }
    }

    /// Whether a connection from `from` to `to` on `port`/`protocol` is allowed:
    /// the sender's egress and the receiver's ingress must both allow it.
    fn allows(&self, from: &Endpoint, to: &Endpoint, port: u16, protocol: &str) -> bool {
        self.side(Direction::Egress, from, to, port, protocol)
            && self.side(Direction::Ingress, to, from, port, protocol)
    }

    /// One side of a connection. A pod no policy of this type selects is
    /// unrestricted; a selected pod is allowed what at least one rule of one
    /// selecting policy allows (policies are additive).
    fn side(
        &self,
        dir: Direction,
        subject: &Endpoint,
        peer: &Endpoint,
        port: u16,
        protocol: &str,
    ) -> bool {
        let (policy_type, rules_key, peers_key) = match dir {
            Direction::Egress => ("Egress", "egress", "to"),
            Direction::Ingress => ("Ingress", "ingress", "from"),
        };
        let Endpoint::Pod { namespace, labels } = subject else {
            // Addresses outside the cluster's pods are not policed here.
            return true;
        };
        let selecting: Vec<&&Value> = self
            .policies
            .iter()
            .filter(|p| p["metadata"]["namespace"] == namespace.as_str())
            .filter(|p| selector_matches(&p["spec"]["podSelector"], labels))
            .filter(|p| {
                p["spec"]["policyTypes"]
                    .as_array()
                    .expect("policyTypes is always written")
                    .iter()
                    .any(|t| t == policy_type)
            })
            .collect();
        if selecting.is_empty() {
            return true;
        }
        selecting.iter().any(|p| {
            p["spec"][rules_key]
                .as_array()
                .into_iter()
                .flatten()
                .any(|rule| {
                    peers_match(&rule[peers_key], namespace, peer)
                        && ports_match(&rule["ports"], port, protocol)
                })
        })
    }
}

/// `matchLabels` only: Paved renders no `matchExpressions`, and an evaluator
/// that silently ignored them would over-allow.
fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    assert!(
        selector.get("matchExpressions").is_none(),
        "matchExpressions are not modelled: {selector}"
    );
    selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
}

/// An absent or empty peer list matches everything.
fn peers_match(peers: &Value, policy_namespace: &str, ep: &Endpoint) -> bool {
    match peers.as_array() {
        None => true,
        Some(list) if list.is_empty() => true,
        Some(list) => list.iter().any(|p| peer_matches(p, policy_namespace, ep)),
    }
}

fn peer_matches(peer: &Value, policy_namespace: &str, ep: &Endpoint) -> bool {
    if let Some(block) = peer.get("ipBlock") {
        let Endpoint::Ip(addr) = ep else { return false };
        let excepted = block["except"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| cidr_contains(c.as_str().unwrap(), *addr));
        return cidr_contains(block["cidr"].as_str().unwrap(), *addr) && !excepted;
    }
    let Endpoint::Pod { namespace, labels } = ep else {
        return false;
    };
    let ns_ok = match peer.get("namespaceSelector") {
        // Kubernetes labels every namespace with its own name.
        Some(sel) => selector_matches(
            sel,
            &[("kubernetes.io/metadata.name".to_string(), namespace.clone())]
                .into_iter()
                .collect(),
        ),
        None => namespace == policy_namespace,
    };
    let pod_ok = match peer.get("podSelector") {
        Some(sel) => selector_matches(sel, labels),
        None => true,
    };
    ns_ok && pod_ok
}

fn ports_match(ports: &Value, port: u16, protocol: &str) -> bool {
    match ports.as_array() {
        None => true,
        Some(list) if list.is_empty() => true,
        Some(list) => list.iter().any(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            let from = p["port"]
                .as_u64()
                .unwrap_or_else(|| panic!("Paved renders numeric ports: {p}"));
            let to = p["endPort"].as_u64().unwrap_or(from);
            proto == protocol && (from..=to).contains(&u64::from(port))
        }),
    }
}

fn cidr_contains(cidr: &str, addr: [u8; 4]) -> bool {
    if cidr.contains(':') {
        // An IPv6 network holds no IPv4 address.
        return false;
    }
    let (net, bits) = cidr.split_once('/').unwrap();
    let bits: u32 = bits.parse().unwrap();
    let net: Vec<u8> = net.split('.').map(|p| p.parse().unwrap()).collect();
    let net = u32::from_be_bytes([net[0], net[1], net[2], net[3]]);
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from_be_bytes(addr) & mask) == (net & mask)
}

/// The pods of every workload rendered in `env`, by service name, with the
/// labels their templates really carry.
fn workload_pods(docs: &Docs, env: &str) -> BTreeMap<String, Endpoint> {
    let mut out = BTreeMap::new();
    for (path, d) in docs.iter().filter(|(p, _)| env_of(p) == env) {
        let template = match d["kind"].as_str() {
            Some("Deployment" | "Rollout") => &d["spec"]["template"],
            Some("CronJob") => &d["spec"]["jobTemplate"]["spec"]["template"],
            _ => continue,
        };
        let labels: BTreeMap<String, String> =
            serde_json::from_value(template["metadata"]["labels"].clone()).unwrap();
        let name = labels
            .get("app.kubernetes.io/name")
            .unwrap_or_else(|| panic!("{path}: no app.kubernetes.io/name"))
            .clone();
        let namespace = d["metadata"]["namespace"].as_str().unwrap().to_string();
        out.insert(name, Endpoint::Pod { namespace, labels });
    }
    out
}

fn ports_of(spec: &Value) -> Vec<(u16, String)> {
    spec["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["port"].as_u64().unwrap() as u16,
                p["protocol"].as_str().unwrap_or("TCP").to_string(),
            )
        })
        .collect()
}

fn depends_on(spec: &Value, other: &str) -> bool {
    spec["spec"]["dependsOn"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|d| d.as_str() == Some(&format!("component:{other}")))
}

fn environments_of(docs: &Docs) -> BTreeSet<String> {
    docs.iter()
        .map(|(p, _)| env_of(p).to_string())
        .filter(|e| e != "platform" && e != "catalog")
        .collect()
}

#[test]
fn network_policies_allow_exactly_the_dependency_graph_in_every_fixture() {
    let outsider = pod("somewhere-else", &[("app.kubernetes.io/name", "intruder")]);
    let mut checked = 0;
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        let specs = input_specs(&case);
        for env in environments_of(&docs) {
            let net = Network::of_environment(&docs, &env);
            let pods = workload_pods(&docs, &env);
            for (a, from) in &pods {
                // Cluster DNS is always reachable; the rest of the world is not.
                let dns_ns = dns_namespace(&case);
                let dns = pod(&dns_ns, &[("k8s-app", "kube-dns")]);
                assert!(
                    net.allows(from, &dns, 53, "UDP"),
                    "{case}/{env}: {a} → DNS/UDP"
                );
                assert!(
                    net.allows(from, &dns, 53, "TCP"),
                    "{case}/{env}: {a} → DNS/TCP"
                );
                // ...but only the DNS pods, not the rest of their namespace.
                let bystander = pod(&dns_ns, &[("component", "kube-apiserver")]);
                assert!(
                    !net.allows(from, &bystander, 53, "UDP"),
                    "{case}/{env}: {a} → a non-DNS pod in {dns_ns}"
                );
                assert!(
                    !net.allows(from, &ip("203.0.113.7"), 443, "TCP"),
                    "{case}/{env}: {a} may reach the internet"
                );
                for (b, to) in &pods {
                    if a == b {
                        continue;
                    }
                    let wanted = depends_on(&specs[a], b);
                    for (port, proto) in ports_of(&specs[b]) {
                        assert_eq!(
                            net.allows(from, to, port, &proto),
                            wanted,
                            "{case}/{env}: {a} → {b}:{port}/{proto} should be {}",
                            if wanted { "allowed" } else { "denied" }
                        );
                        checked += 1;
                    }
                    // A port the target does not declare is never open.
                    assert!(
                        !net.allows(from, to, 6553, "TCP"),
                        "{case}/{env}: {a} → {b}:6553"
                    );
                }
            }
            for (b, to) in &pods {
                let spec = &specs[b];
                let ports = ports_of(spec);
                let controller = pod(
                    &controller_namespace(&case),
                    &[("app.kubernetes.io/name", "ingress-nginx")],
                );
                for (i, (port, proto)) in ports.iter().enumerate() {
                    assert!(
                        !net.allows(&outsider, to, *port, proto),
                        "{case}/{env}: an unrelated pod reaches {b}:{port}"
                    );
                    // The controller reaches the routed (first) port, only with an ingress.
                    let routed = i == 0 && spec["spec"].get("ingress").is_some();
                    assert_eq!(
                        net.allows(&controller, to, *port, proto),
                        routed,
                        "{case}/{env}: ingress controller → {b}:{port}"
                    );
                }
            }
        }
    }
    assert!(checked > 20, "too few service pairs checked: {checked}");
}

fn dns_namespace(case: &str) -> String {
    paved_yaml(case)["spec"]["networkPolicy"]["dnsNamespace"]
        .as_str()
        .unwrap_or("kube-system")
        .to_string()
}

fn controller_namespace(case: &str) -> String {
    paved_yaml(case)["spec"]["ingress"]["controllerNamespace"]
        .as_str()
        .unwrap_or("ingress-nginx")
        .to_string()
}

#[test]
fn storefront_traffic_follows_depends_on_one_way() {
    let docs = render_fixture("storefront");
    for (env, prefix) in [("staging", "stg-"), ("production", "")] {
        let net = Network::of_environment(&docs, env);
        let pods = workload_pods(&docs, env);
        let (web, catalog, cart) = (&pods["web"], &pods["catalog"], &pods["cart"]);
        // web dependsOn catalog and cart; cart dependsOn catalog.
        assert!(net.allows(web, catalog, 8080, "TCP"));
        assert!(net.allows(web, catalog, 9090, "TCP"));
        assert!(net.allows(web, cart, 8443, "TCP"));
        assert!(net.allows(cart, catalog, 8080, "TCP"));
        // ...and never the other way round.
        assert!(!net.allows(catalog, web, 8080, "TCP"));
        assert!(!net.allows(cart, web, 8080, "TCP"));
        assert!(!net.allows(catalog, cart, 8443, "TCP"));
        // Ports are matched on protocol too.
        assert!(!net.allows(web, catalog, 8080, "UDP"));
        // The public ingress controller of this platform reaches only web.
        let controller = pod("ingress-external", &[]);
        assert!(net.allows(&controller, web, 8080, "TCP"));
        assert!(!net.allows(&controller, catalog, 8080, "TCP"));
        assert!(!net.allows(&controller, cart, 8443, "TCP"));
        // A pod in the ingress-nginx default namespace is nobody here.
        assert!(!net.allows(&pod("ingress-nginx", &[]), web, 8080, "TCP"));
        // A pod with the right labels in the wrong namespace is not the caller.
        let fake_web = pod(
            &format!("{prefix}catalog"),
            &[
                ("app.kubernetes.io/name", "web"),
                ("paved.dev/service", "web"),
            ],
        );
        assert!(!net.allows(&fake_web, cart, 8443, "TCP"));
        // ...and that is the receiving side's doing, not only the sender's.
        assert!(!net.side(Direction::Ingress, cart, &fake_web, 8443, "TCP"));
        assert!(net.side(Direction::Ingress, cart, web, 8443, "TCP"));
        // Resources: each workload reaches the networks of the types it declares.
        assert!(net.allows(catalog, &ip("10.41.3.4"), 6379, "TCP"));
        assert!(net.allows(catalog, &ip("10.42.0.9"), 6379, "TCP"));
        assert!(!net.allows(catalog, &ip("10.41.3.4"), 6380, "TCP"));
        assert!(!net.allows(catalog, &ip("10.40.1.1"), 5432, "TCP"));
        assert!(net.allows(cart, &ip("10.40.1.1"), 5432, "TCP"));
        assert!(!net.allows(cart, &ip("10.41.3.4"), 6379, "TCP"));
        assert!(!net.allows(web, &ip("10.40.1.1"), 5432, "TCP"));
    }
    // Environments are separate graphs: staging web may not call production catalog.
    let staging_web = &workload_pods(&docs, "staging")["web"];
    let prod_catalog = &workload_pods(&docs, "production")["catalog"];
    let prod = Network::of_environment(&docs, "production");
    assert!(!prod.allows(staging_web, prod_catalog, 8080, "TCP"));
}

#[test]
fn every_namespace_starts_from_default_deny() {
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        for (path, ns) in kind(&docs, "Namespace") {
            let name = ns["metadata"]["name"].as_str().unwrap();
            let dir = path.rsplit_once('/').unwrap().0;
            let deny = one(&docs, dir, "NetworkPolicy", "default-deny");
            assert_eq!(deny["metadata"]["namespace"], name, "{case}/{path}");
            assert_eq!(deny["spec"]["podSelector"], json!({}), "{case}/{path}");
            assert_eq!(
                deny["spec"]["policyTypes"],
                json!(["Ingress", "Egress"]),
                "{case}/{path}"
            );
            assert!(deny["spec"].get("ingress").is_none() && deny["spec"].get("egress").is_none());
        }
    }
}

// ---------------------------------------------------------------------------
// PodDisruptionBudget and rollout
// ---------------------------------------------------------------------------

fn app(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  owner: team-a\n  costCenter: cc-1\nspec:\n{spec}"
    )
}

#[test]
fn a_pdb_exists_only_when_two_replicas_are_always_wanted() {
    let service = |extra: &str| {
        format!(
            "  image: ghcr.io/acme/x:1.0.0\n  ports:\n    - {{name: http, port: 8080}}\n{extra}"
        )
    };
    let worker = |extra: &str| format!("  type: worker\n  image: ghcr.io/acme/x:1.0.0\n{extra}");
    let specs = [
        (
            "auto-one",
            app(
                "auto-one",
                &service("  replicas: auto\n  autoscaling: {min: 1, max: 4}\n"),
            ),
        ),
        // The platform's default autoscaling minimum is 2.
        ("auto-default", app("auto-default", &service(""))),
        ("fixed-three", app("fixed-three", &worker("  replicas: 3\n"))),
        ("fixed-one", app("fixed-one", &worker("  replicas: 1\n"))),
        ("scaled-zero", app("scaled-zero", &worker("  replicas: 0\n"))),
        ("default-worker", app("default-worker", &worker(""))),
        (
            "batch",
            app(
                "batch",
                "  type: cronjob\n  schedule: \"0 * * * *\"\n  image: ghcr.io/acme/x:1.0.0\n",
            ),
        ),
        (
            "per-env",
            app(
                "per-env",
                &worker("  replicas: 3\n  environments:\n    staging: {replicas: 1}\n    production: {}\n"),
            ),
        ),
    ];
    let specs: Vec<(&str, &str)> = specs.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let docs = render_specs(None, &specs);

    for env in ["staging", "production"] {
        for name in [
            "auto-one",
            "fixed-one",
            "scaled-zero",
            "default-worker",
            "batch",
        ] {
            none_of(&docs, &format!("{env}/{name}"), "PodDisruptionBudget");
        }
        for name in ["auto-default", "fixed-three"] {
            assert_pdb(&docs, &format!("{env}/{name}"), name);
        }
    }
    none_of(&docs, "staging/per-env", "PodDisruptionBudget");
    assert_pdb(&docs, "production/per-env", "per-env");

    // The HPA of `auto-one` may go down to one pod: the reason it has no PDB.
    let hpa = one(
        &docs,
        "staging/auto-one",
        "HorizontalPodAutoscaler",
        "auto-one",
    );
    assert_eq!(hpa["spec"]["minReplicas"], 1);
}

fn assert_pdb(docs: &Docs, dir: &str, name: &str) {
    let pdb = one(docs, dir, "PodDisruptionBudget", name);
    let deploy = one(docs, dir, "Deployment", name);
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1, "{dir}");
    assert!(pdb["spec"].get("minAvailable").is_none(), "{dir}");
    assert_eq!(pdb["spec"]["unhealthyPodEvictionPolicy"], "AlwaysAllow");
    assert_eq!(pdb["spec"]["selector"], deploy["spec"]["selector"], "{dir}");
}

/// Across every fixture: a PDB guards exactly the Deployments that can never
/// run fewer than two pods, and no rollout ever goes below the desired count.
#[test]
fn pdbs_and_rollouts_never_block_a_drain_in_any_fixture() {
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        for (path, d) in kind(&docs, "Deployment") {
            let dir = path.rsplit_once('/').unwrap().0;
            let name = d["metadata"]["name"].as_str().unwrap();
            let hpa = kind(&docs, "HorizontalPodAutoscaler")
                .find(|(p, h)| p.starts_with(&format!("{dir}/")) && h["metadata"]["name"] == name);
            let min = match hpa {
                Some((_, h)) => {
                    assert!(
                        d["spec"].get("replicas").is_none(),
                        "{case}/{path}: both `replicas` and an HPA own the count"
                    );
                    assert_eq!(h["spec"]["scaleTargetRef"]["name"], name);
                    assert_eq!(h["spec"]["scaleTargetRef"]["kind"], d["kind"]);
                    assert_eq!(h["spec"]["scaleTargetRef"]["apiVersion"], d["apiVersion"]);
                    h["spec"]["minReplicas"].as_u64().unwrap()
                }
                None => d["spec"]["replicas"].as_u64().unwrap(),
            };
            let pdbs: Vec<&Value> = kind(&docs, "PodDisruptionBudget")
                .filter(|(p, _)| p.starts_with(&format!("{dir}/")))
                .map(|(_, p)| p)
                .collect();
            assert_eq!(
                pdbs.len(),
                usize::from(min >= 2),
                "{case}/{path}: minimum {min} replicas"
            );
            if min >= 2 {
                assert_pdb(&docs, dir, name);
            }
            // A Deployment rolls; a canary Rollout surges the same way (a
            // blue-green one brings the whole new set up before switching).
            let strategy = &d["spec"]["strategy"];
            let rolling = if is_rollout(d) {
                &strategy["canary"]
            } else {
                &strategy["rollingUpdate"]
            };
            if !(is_rollout(d) && strategy.get("blueGreen").is_some()) {
                assert_eq!(rolling["maxUnavailable"], 0, "{case}/{path}");
                assert_eq!(rolling["maxSurge"], 1, "{case}/{path}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Ingress, HPA, probes
// ---------------------------------------------------------------------------

#[test]
fn ingress_host_class_and_tls_come_from_the_spec_and_platform() {
    let docs = render_fixture("storefront");
    for (env, host) in [
        ("staging", "shop.staging.acme-shop.dev"),
        ("production", "www.acme-shop.com"),
    ] {
        let ing = one(&docs, &format!("{env}/web"), "Ingress", "web");
        assert_eq!(
            ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
            "letsencrypt-prod"
        );
        assert_eq!(ing["spec"]["ingressClassName"], "nginx-external");
        assert_eq!(
            ing["spec"]["tls"],
            json!([{"hosts": [host], "secretName": "web-tls"}])
        );
        let rule = &ing["spec"]["rules"][0];
        assert_eq!(rule["host"], host);
        let path = &rule["http"]["paths"][0];
        assert_eq!(path["path"], "/");
        assert_eq!(path["pathType"], "Prefix");
        assert_eq!(path["backend"]["service"]["name"], "web");
        let svc = one(&docs, &format!("{env}/web"), "Service", "web");
        assert_eq!(
            path["backend"]["service"]["port"]["name"],
            svc["spec"]["ports"][0]["name"]
        );
        for other in ["catalog", "cart"] {
            none_of(&docs, &format!("{env}/{other}"), "Ingress");
        }
    }

    // An internal ingress: the internal class, the environment domain, a sub-path.
    let docs = render_fixture("secrets-and-placeholders");
    let ing = one(&docs, "staging/order-api", "Ingress", "order-api");
    assert_eq!(ing["spec"]["ingressClassName"], "nginx-internal");
    assert_eq!(
        ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "letsencrypt"
    );
    assert_eq!(
        ing["spec"]["rules"][0]["host"],
        "orders.staging.example.dev"
    );
    assert_eq!(ing["spec"]["rules"][0]["http"]["paths"][0]["path"], "/api");
}

#[test]
fn hpa_bounds_follow_spec_overrides_and_platform_defaults() {
    let docs = render_fixture("storefront");
    let hpa = |env: &str| {
        one(
            &docs,
            &format!("{env}/web"),
            "HorizontalPodAutoscaler",
            "web",
        )
    };
    let metric = json!([{"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 75}}}]);
    assert_eq!(hpa("production")["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa("production")["spec"]["minReplicas"], 3);
    assert_eq!(hpa("production")["spec"]["maxReplicas"], 12);
    assert_eq!(hpa("production")["spec"]["metrics"], metric);
    assert_eq!(hpa("staging")["spec"]["minReplicas"], 1);
    assert_eq!(hpa("staging")["spec"]["maxReplicas"], 3);
    // Fixed replicas: no HPA, the count is on the Deployment.
    none_of(&docs, "production/catalog", "HorizontalPodAutoscaler");
    let catalog = one(&docs, "production/catalog", "Deployment", "catalog");
    assert_eq!(catalog["spec"]["replicas"], 4);
}

/// Every service keeps both probes unless its platform.yaml turns one off by
/// name; a worker has them when its spec gives a liveness check (readiness
/// defaults to the same check).
#[test]
fn every_service_has_probes_unless_its_spec_turns_them_off() {
    let mut services = 0;
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        let specs = input_specs(&case);
        for (path, d) in kind(&docs, "Deployment") {
            let name = d["metadata"]["name"].as_str().unwrap();
            let spec = &specs[name]["spec"];
            let container = &d["spec"]["template"]["spec"]["containers"][0];
            let is_service = spec["type"].as_str().unwrap_or("service") == "service";
            for (probe, field) in [
                ("liveness", "livenessProbe"),
                ("readiness", "readinessProbe"),
            ] {
                let off = spec["probes"][probe] == json!(false);
                let worker_has = spec["probes"]["liveness"].is_object();
                assert_eq!(
                    container.get(field).is_some(),
                    (is_service || worker_has) && !off,
                    "{case}/{path}: {field}"
                );
            }
            services += usize::from(is_service);
        }
    }
    assert!(services > 5);
}

/// `exec` and `tcpPort` checks render as Kubernetes' `exec` and `tcpSocket`
/// probes, on workers and cronjobs too; a worker's readiness is its liveness
/// check, and a cronjob has no readiness (a job takes no traffic).
#[test]
fn workers_and_cronjobs_get_exec_and_tcp_probes() {
    let docs = render_fixture("worker");
    let worker = one(
        &docs,
        "production/invoice-worker",
        "Deployment",
        "invoice-worker",
    );
    let c = &worker["spec"]["template"]["spec"]["containers"][0];
    let exec = json!({"command": ["/app/worker", "--healthcheck"]});
    assert_eq!(c["livenessProbe"]["exec"], exec, "{c}");
    assert_eq!(c["startupProbe"]["exec"], exec, "{c}");
    assert_eq!(c["readinessProbe"]["exec"], exec, "{c}");
    assert!(c["livenessProbe"].get("httpGet").is_none());

    let docs = render_fixture("commerce");
    let worker = one(&docs, "staging/order-events", "Deployment", "order-events");
    let c = &worker["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["livenessProbe"]["tcpSocket"],
        json!({"port": 9090}),
        "{c}"
    );
    assert_eq!(c["livenessProbe"]["initialDelaySeconds"], 10);
    assert_eq!(
        c["readinessProbe"]["tcpSocket"],
        json!({"port": 9090}),
        "{c}"
    );

    let docs = render_fixture("cronjob");
    let job = one(&docs, "production/sales-report", "CronJob", "sales-report");
    let c = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["livenessProbe"]["exec"],
        json!({"command": ["/app/report", "--alive"]}),
        "{c}"
    );
    assert!(
        c.get("readinessProbe").is_none() && c.get("startupProbe").is_some(),
        "{c}"
    );
}

// ---------------------------------------------------------------------------
// Argo CD
// ---------------------------------------------------------------------------

#[test]
fn argo_cd_syncs_automatically_only_where_promote_is_auto() {
    let docs = render_fixture("storefront");
    let app = |env: &str, svc: &str| {
        one(
            &docs,
            &format!("{env}/argocd"),
            "Application",
            &format!("{svc}-{env}"),
        )
    };

    let staging = app("staging", "web");
    assert_eq!(
        staging["spec"]["syncPolicy"]["automated"],
        json!({"prune": true, "selfHeal": true})
    );
    let production = app("production", "web");
    assert!(production["spec"]["syncPolicy"].get("automated").is_none());
    assert_eq!(production["metadata"]["namespace"], "argocd");
    assert_eq!(
        production["metadata"]["finalizers"],
        json!(["resources-finalizer.argocd.argoproj.io"])
    );
    assert_eq!(production["spec"]["project"], "team-storefront");
    assert_eq!(
        production["spec"]["source"],
        json!({"repoURL": "https://github.com/acme/deploy.git", "targetRevision": "main",
               "path": "clusters/production/web"})
    );
    assert_eq!(
        production["spec"]["destination"],
        json!({"server": "https://prod.k8s.acme.internal", "namespace": "web"})
    );
    assert_eq!(
        staging["spec"]["destination"],
        json!({"server": "https://staging.k8s.acme.internal", "namespace": "stg-web"})
    );

    // Generally: `automated` iff promote is auto, in every fixture; a service
    // that does not say gets its environment's default from paved.yaml
    // (`auto` unless the environment says otherwise or forbids it).
    for case in golden_case_names() {
        let config = paved_yaml(&case);
        let docs = render_fixture(&case);
        let specs = input_specs(&case);
        // The root Applications of `platform/bootstrap/` are checked in bootstrap.rs.
        for (path, a) in
            kind(&docs, "Application").filter(|(p, _)| !p.starts_with("platform/bootstrap/"))
        {
            let env = env_of(path);
            let svc = a["metadata"]["labels"]["app.kubernetes.io/name"]
                .as_str()
                .unwrap();
            let platform_env = &config["spec"]["environments"][env];
            let default = match platform_env["promote"].as_str() {
                Some(p) => p,
                None if platform_env["allowAutoPromote"] == json!(false) => "manual",
                None => "auto",
            };
            let promote = specs[svc]["spec"]["environments"][env]["promote"]
                .as_str()
                .unwrap_or(default);
            assert_eq!(
                a["spec"]["syncPolicy"].get("automated").is_some(),
                promote == "auto",
                "{case}/{path}"
            );
            assert_eq!(
                a["spec"]["source"]["path"].as_str().unwrap(),
                format!(
                    "{}/{env}/{svc}",
                    paved_yaml(&case)["spec"]["gitops"]["path"]
                        .as_str()
                        .unwrap_or("rendered")
                ),
                "{case}/{path}: the path must be the service's own rendered folder"
            );
            assert!(path.starts_with(&format!("{env}/argocd/")), "{case}/{path}");
        }
    }
}

#[test]
fn app_projects_confine_each_team_to_its_own_namespaces() {
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        // The platform's own project and root Applications, in
        // `platform/bootstrap/`, are checked in bootstrap.rs.
        let teams = |(p, _): &&(String, Value)| !p.starts_with("platform/bootstrap/");
        let projects: BTreeMap<&str, &Value> = kind(&docs, "AppProject")
            .filter(teams)
            .map(|(p, d)| {
                assert!(p.starts_with("platform/argocd/"), "{case}/{p}");
                (d["metadata"]["name"].as_str().unwrap(), d)
            })
            .collect();
        let mut wanted: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
        for (path, a) in kind(&docs, "Application").filter(teams) {
            let project = a["spec"]["project"].as_str().unwrap();
            let p = projects
                .get(project)
                .unwrap_or_else(|| panic!("{case}/{path}: no AppProject `{project}`"));
            // Argo CD refuses an Application outside its project's repos and destinations.
            assert!(p["spec"]["sourceRepos"]
                .as_array()
                .unwrap()
                .contains(&a["spec"]["source"]["repoURL"]));
            let dest = &a["spec"]["destination"];
            wanted.entry(project).or_default().insert((
                dest["server"].as_str().unwrap().into(),
                dest["namespace"].as_str().unwrap().into(),
            ));
            assert_eq!(a["metadata"]["labels"]["owner"], project, "{case}/{path}");
        }
        assert_eq!(
            projects.keys().copied().collect::<BTreeSet<_>>(),
            wanted.keys().copied().collect::<BTreeSet<_>>(),
            "{case}: one AppProject per owner team"
        );
        for (team, p) in &projects {
            let got: BTreeSet<(String, String)> = p["spec"]["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["server"].as_str().unwrap().into(),
                        d["namespace"].as_str().unwrap().into(),
                    )
                })
                .collect();
            // Preview namespaces (`<prefix>*--<service>`, paved.yaml
            // `previews`) are admitted for the team's own services only.
            let (previews, got): (BTreeSet<_>, BTreeSet<_>) =
                got.into_iter().partition(|(_, ns)| ns.contains('*'));
            for (server, ns) in &previews {
                let service = ns.split_once("*--").map(|(_, s)| s).unwrap_or_default();
                assert!(
                    wanted[team].iter().any(|(_, n)| n == service),
                    "{case}: {team} admits the preview namespace {ns} on {server} of a service it does not own"
                );
            }
            assert_eq!(&got, &wanted[team], "{case}: destinations of {team}");
            assert_eq!(p["spec"]["sourceRepos"].as_array().unwrap().len(), 1);
            assert_eq!(
                p["spec"]["clusterResourceWhitelist"],
                json!([{"group": "", "kind": "Namespace"}]),
                "{case}: {team} may create no cluster-scoped kind but Namespace"
            );
        }
    }

    // `in-cluster` is Argo CD's own cluster.
    let docs = render_fixture("cronjob");
    let a = one(
        &docs,
        "production/argocd",
        "Application",
        "sales-report-production",
    );
    assert_eq!(
        a["spec"]["destination"]["server"],
        "https://kubernetes.default.svc"
    );
    assert_eq!(a["metadata"]["namespace"], "gitops");
    assert_eq!(
        a["spec"]["source"]["repoURL"],
        "git@github.com:acme/analytics-deploy.git"
    );
    assert_eq!(a["spec"]["source"]["targetRevision"], "release");
}

#[test]
fn without_a_gitops_repository_no_argo_cd_objects_are_rendered() {
    let docs = render_fixture("worker");
    let argo: Vec<&String> = docs
        .iter()
        .filter(|(_, d)| {
            d["apiVersion"]
                .as_str()
                .unwrap()
                .starts_with("argoproj.io/")
        })
        .map(|(p, _)| p)
        .collect();
    assert!(argo.is_empty(), "{argo:?}");
}

// ---------------------------------------------------------------------------
// Secrets and placeholders
// ---------------------------------------------------------------------------

fn env_map(container: &Value) -> BTreeMap<String, Value> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

fn secret_ref(name: &str, key: &str) -> Value {
    json!({"secretKeyRef": {"name": name, "key": key}})
}

#[test]
fn secrets_become_one_external_secret_read_through_secret_key_refs() {
    let docs = render_fixture("secrets-and-placeholders");
    for env in ["staging", "production"] {
        let dir = format!("{env}/order-api");
        let es = one(&docs, &dir, "ExternalSecret", "order-api-secrets");
        assert_eq!(es["apiVersion"], "external-secrets.io/v1");
        assert_eq!(es["metadata"]["namespace"], "order-api");
        assert_eq!(es["metadata"]["labels"]["owner"], "team-orders");
        assert_eq!(
            es["spec"]["secretStoreRef"],
            json!({"kind": "ClusterSecretStore", "name": "vault"})
        );
        assert_eq!(es["spec"]["refreshInterval"], "1h");
        assert_eq!(es["spec"]["target"]["name"], "order-api-secrets");
        assert_eq!(
            es["spec"]["data"],
            json!([
                {"secretKey": "STRIPE_API_KEY", "remoteRef": {"key": "orders/stripe", "property": "api-key"}},
                {"secretKey": "STRIPE_WEBHOOK_SECRET", "remoteRef": {"key": "orders/stripe", "property": "webhook-secret"}},
                {"secretKey": "JWT_SIGNING_KEY", "remoteRef": {"key": "shared/auth", "property": "jwt-signing-key"}},
            ])
        );

        let deploy = one(&docs, &dir, "Deployment", "order-api");
        let env_vars = env_map(&deploy["spec"]["template"]["spec"]["containers"][0]);
        for key in ["STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_SIGNING_KEY"] {
            assert_eq!(
                env_vars[key]["valueFrom"],
                secret_ref("order-api-secrets", key)
            );
        }
        // Resource placeholders read the connection secret Crossplane writes.
        for (var, key) in [
            ("DATABASE_URL", "url"),
            ("DB_HOST", "host"),
            ("DB_PORT", "port"),
            ("DB_USER", "username"),
            ("DB_PASSWORD", "password"),
            ("DB_NAME", "database"),
        ] {
            assert_eq!(
                env_vars[var]["valueFrom"],
                secret_ref("orders-db-connection", key),
                "{var}"
            );
            assert!(env_vars[var].get("value").is_none());
        }
        // Other placeholders are resolved in place; `$${` is a literal `${`.
        let value = |k: &str| env_vars[k]["value"].as_str().unwrap().to_string();
        assert_eq!(value("OTEL_SERVICE_NAME"), format!("order-api-{env}"));
        let domain = if env == "staging" {
            "staging.example.dev"
        } else {
            "example.dev"
        };
        assert_eq!(
            value("CALLBACK_URL"),
            format!("https://orders.{domain}/callback")
        );
        assert_eq!(value("TEMPLATE"), "Hello ${name}");
        assert_eq!(value("FEATURE_FLAGS"), "no");
        assert_eq!(value("CACHE_TTL_SECONDS"), "300");
    }
}

/// Over every fixture: each `secretKeyRef` names a key that something will
/// write: the service's ExternalSecret, or a declared resource's connection
/// secret with a key of that resource type. And no Secret is ever rendered.
#[test]
fn every_secret_key_ref_is_backed_and_no_secret_is_rendered() {
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        let specs = input_specs(&case);
        assert_eq!(
            kind(&docs, "Secret").count(),
            0,
            "{case}: a Secret was rendered"
        );
        for (path, d) in docs.iter() {
            let containers = match d["kind"].as_str() {
                Some("Deployment" | "Rollout") => &d["spec"]["template"]["spec"]["containers"],
                Some("CronJob") => {
                    &d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
                }
                _ => continue,
            };
            let dir = path.rsplit_once('/').unwrap().0;
            let svc = d["metadata"]["name"].as_str().unwrap();
            for (var, e) in env_map(&containers[0]) {
                let Some(r) = e["valueFrom"].get("secretKeyRef") else {
                    continue;
                };
                let (name, key) = (r["name"].as_str().unwrap(), r["key"].as_str().unwrap());
                if name == format!("{svc}-secrets") {
                    let es = one(&docs, dir, "ExternalSecret", name);
                    assert!(
                        es["spec"]["data"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|d| d["secretKey"] == key),
                        "{case}/{path}: {var} reads `{key}`, which {name} does not write"
                    );
                } else {
                    let resource = name.strip_suffix("-connection").unwrap_or_else(|| {
                        panic!("{case}/{path}: {var} reads unknown secret {name}")
                    });
                    let rtype = specs[svc]["spec"]["resources"][resource]["type"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{case}/{path}: {resource} is not declared"));
                    assert!(
                        paved::testing::placeholder::connection_keys(rtype).contains(&key),
                        "{case}/{path}: a {rtype} has no key {key}"
                    );
                }
            }
        }
    }
}

#[test]
fn literal_secrets_are_refused_with_the_secrets_form_as_help() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("platform.yaml"),
        app(
            "orders",
            "  image: ghcr.io/acme/orders:1.0.0\n  ports:\n    - {name: http, port: 8080}\n  env:\n    DB_PASSWORD: hunter2\n",
        ),
    )
    .unwrap();
    let out = paved()
        .current_dir(dir.path())
        .args(["validate", ".", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let d: Value =
        serde_json::from_str(stdout.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(d["code"], "paved::secrets::literal");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(12), Some(18))
    );
    let help = d["help"].as_str().unwrap();
    assert!(
        help.contains("secrets:\n    - {env: DB_PASSWORD, ref: \"orders/db-password#value\"}"),
        "{help}"
    );
    // The value itself is never echoed back in the message or help.
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

// ---------------------------------------------------------------------------
// Waivers
// ---------------------------------------------------------------------------

fn annotations(d: &Value) -> BTreeMap<String, String> {
    d["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn waivers_are_annotated_on_the_workload_and_applied() {
    let docs = render_fixture("waivers");
    let reason = "the vendor image writes its cache to /var/cache/reports and runs as uid 1001";
    let d = one(
        &docs,
        "production/legacy-reports",
        "Deployment",
        "legacy-reports",
    );
    assert_eq!(
        annotations(d),
        [
            (
                "paved.dev/waiver-readonlyrootfilesystem",
                format!("false ({reason})")
            ),
            ("paved.dev/waiver-runasuser", format!("1001 ({reason})")),
            (
                "checkov.io/skip-ckv-k8s-22",
                "CKV_K8S_22=waived in platform.yaml, see paved.dev/waiver-readonlyrootfilesystem"
                    .into(),
            ),
            (
                "checkov.io/skip-ckv-k8s-40",
                "CKV_K8S_40=waived in platform.yaml, see paved.dev/waiver-runasuser".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    );
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsUser"], 1001);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0]["securityContext"];
    assert_eq!(c["readOnlyRootFilesystem"], false);
    // Only the waived fields move; the rest of the hardening stays.
    assert_eq!(c["allowPrivilegeEscalation"], false);
    assert_eq!(c["capabilities"], json!({"drop": ["ALL"]}));

    let d = one(&docs, "staging/mail-relay", "Deployment", "mail-relay");
    let a = annotations(d);
    assert!(a["paved.dev/waiver-runasnonroot"].starts_with("false ("));
    assert_eq!(
        a.keys()
            .filter(|k| k.starts_with("checkov.io/"))
            .collect::<Vec<_>>(),
        ["checkov.io/skip-ckv-k8s-23", "checkov.io/skip-ckv-k8s-40"]
    );
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], false);
    // The image's own user applies: no fixed UID overrides the waiver.
    assert!(pod["securityContext"].get("runAsUser").is_none());
    assert_eq!(
        pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        true
    );

    // Without waivers, no workload carries waiver or scanner annotations.
    for case in golden_case_names().into_iter().filter(|c| c != "waivers") {
        let docs = render_fixture(&case);
        for (path, d) in &docs {
            let a = annotations(d);
            assert!(
                !a.keys()
                    .any(|k| k.starts_with("paved.dev/waiver-") || k.starts_with("checkov.io/")),
                "{case}/{path}: {a:?}"
            );
        }
    }
}

#[test]
fn validate_verbose_lists_every_waiver() {
    let out = paved()
        .args(["validate", "--verbose"])
        .arg(root().join("fixtures/waivers/input"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let waivers: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("waiver:"))
        .collect();
    assert_eq!(
        waivers,
        [
            "waiver: legacy-reports relaxes `readOnlyRootFilesystem`: the vendor image writes its cache to /var/cache/reports and runs as uid 1001",
            "waiver: legacy-reports relaxes `runAsUser`: the vendor image writes its cache to /var/cache/reports and runs as uid 1001",
            "waiver: mail-relay relaxes `runAsNonRoot`: the vendor image only runs as root and has no non-root build; replacement tracked in FIN-212",
        ]
    );
}

#[test]
fn a_forbidden_waiver_is_an_error_but_restating_a_default_is_not() {
    let paved_yaml = "apiVersion: paved.dev/v1\nkind: Platform\nmetadata:\n  name: strict\nspec:\n  environments:\n    production: {cluster: \"https://k.example\", domain: example.dev}\n  waivers:\n    forbid: [readOnlyRootFilesystem]\n";
    let spec = |security: &str| {
        app(
            "orders",
            &format!("  image: ghcr.io/acme/orders:1.0.0\n  ports:\n    - {{name: http, port: 8080}}\n  security:\n{security}    reason: legacy image\n"),
        )
    };
    let run = |security: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("paved.yaml"), paved_yaml).unwrap();
        std::fs::write(dir.path().join("platform.yaml"), spec(security)).unwrap();
        let out = paved()
            .current_dir(dir.path())
            .args(["validate", ".", "--format", "json"])
            .output()
            .unwrap();
        let codes: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["code"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        (out.status.code(), codes)
    };
    assert_eq!(
        run("    readOnlyRootFilesystem: false\n"),
        (Some(1), vec!["paved::policy::waiver-forbidden".to_string()])
    );
    assert_eq!(
        run("    readOnlyRootFilesystem: true\n    runAsUser: 20000\n"),
        (Some(0), vec![])
    );
}

// ---------------------------------------------------------------------------
// Docs
// ---------------------------------------------------------------------------

/// docs/resources.md names every delivery kind Paved renders and the keys of
/// every connection secret, as the code has them.
#[test]
fn the_resources_page_covers_every_kind_and_connection_key() {
    let page = std::fs::read_to_string(root().join("docs/resources.md")).unwrap();
    let delivery_groups = [
        "v1",
        "apps/v1",
        "batch/v1",
        "networking.k8s.io/v1",
        "policy/v1",
        "autoscaling/v2",
        "external-secrets.io/v1",
        "argoproj.io/v1alpha1",
    ];
    let mut kinds = BTreeSet::new();
    for case in golden_case_names() {
        for (_, d) in render_fixture(&case) {
            if delivery_groups.contains(&d["apiVersion"].as_str().unwrap()) {
                kinds.insert(d["kind"].as_str().unwrap().to_string());
            }
        }
    }
    for k in &kinds {
        assert!(
            page.contains(&format!("`{k}`")),
            "docs/resources.md does not mention `{k}`"
        );
    }
    for t in ["postgresql", "redis", "bucket"] {
        let keys = paved::testing::placeholder::connection_keys(t)
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            page.contains(&format!("| {t} | {keys} |")),
            "docs/resources.md must list the {t} keys as `| {t} | {keys} |`"
        );
    }
}

/// Namespaces enforce Pod Security Admission `restricted`, which the pod
/// template meets; a `runAsNonRoot: false` waiver lowers its own namespace
/// to `baseline` and keeps a `restricted` warning there, and nothing else.
#[test]
fn namespaces_enforce_the_restricted_pod_security_profile_unless_waived() {
    let docs = render_fixture("waivers");
    let labels = |folder: &str, name: &str| {
        let ns = one(&docs, folder, "Namespace", name);
        let labels = ns["metadata"]["labels"].as_object().unwrap().clone();
        labels
            .into_iter()
            .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
            .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
            .collect::<Vec<_>>()
    };
    let pair = |k: &str, v: &str| (format!("pod-security.kubernetes.io/{k}"), v.to_string());
    // A writable root filesystem and a fixed UID are within `restricted`.
    assert_eq!(
        labels("production/legacy-reports", "legacy-reports"),
        [
            pair("enforce", "restricted"),
            pair("enforce-version", "latest")
        ]
    );
    // Running as root is not.
    assert_eq!(
        labels("production/mail-relay", "mail-relay"),
        [
            pair("enforce", "baseline"),
            pair("enforce-version", "latest"),
            pair("warn", "restricted"),
            pair("warn-version", "latest"),
        ]
    );
    for (path, doc) in render_fixture("quickstart") {
        if doc["kind"] == "Namespace" {
            assert_eq!(
                doc["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted",
                "{path}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Selectors that survive Argo CD label tracking
// ---------------------------------------------------------------------------

/// The label Argo CD's label tracking (its default before 3.0) rewrites on
/// the top-level metadata of every object it applies.
const TRACKING_LABEL: &str = "app.kubernetes.io/instance";

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// `k=v,k2=v2` (a Backstage or Argo CD label-selector annotation) as labels.
fn parse_selector(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("not k=v: {text}"));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

/// Every `matchLabels` in a document, with its JSON pointer.
fn match_labels(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let here = format!("{at}/{k}");
                if k == "matchLabels" {
                    out.push((here.clone(), child.clone()));
                }
                match_labels(child, here, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                match_labels(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The documents of a committed golden tree, with the labels Argo CD's label
/// tracking leaves on each: under `<env>/<service>/` the Application's name
/// (`<service>-<env>`), under `<env>/argocd/` a root Application's name.
fn tracked(docs: &Docs) -> Vec<(String, Value)> {
    docs.iter()
        .map(|(path, d)| {
            let mut d = d.clone();
            let parts: Vec<&str> = path.split('/').collect();
            let app = match parts.as_slice() {
                [_, "argocd", _] => Some("root-app".to_string()),
                [env, service, _] if *env != "platform" && *env != "catalog" => {
                    Some(format!("{service}-{env}"))
                }
                _ => None,
            };
            if let (Some(app), Some(meta)) = (app, d.get_mut("metadata")) {
                meta["labels"][TRACKING_LABEL] = json!(app);
            }
            (path.clone(), d)
        })
        .collect()
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn pod_template(d: &Value) -> Option<&Value> {
    match d["kind"].as_str() {
        Some("Deployment" | "Rollout") => Some(&d["spec"]["template"]),
        Some("CronJob") => Some(&d["spec"]["jobTemplate"]["spec"]["template"]),
        _ => None,
    }
}

fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// No selector anywhere in the output uses the label Argo CD rewrites, and
/// every selector still selects what it is for once Argo CD has rewritten it:
/// workload, Service, ServiceMonitor, PDB, NetworkPolicy and spread
/// selectors the pods (or the Service), and the catalog's annotations the
/// service's objects and Applications.
#[test]
fn every_selector_survives_argo_cd_label_tracking_in_every_golden() {
    let mut checked = 0;
    for case in fixtures::golden_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let docs = tracked(&fixtures::documents(&case.join("expected")));
        for (path, d) in &docs {
            let mut selectors = Vec::new();
            match_labels(d, String::new(), &mut selectors);
            if d["kind"] == "Service" {
                selectors.push(("/spec/selector".into(), d["spec"]["selector"].clone()));
            }
            for (at, sel) in &selectors {
                assert!(
                    sel.get(TRACKING_LABEL).is_none(),
                    "{name}/{path}{at} selects on {TRACKING_LABEL}: {sel}"
                );
            }
            for key in [
                "argocd/app-selector",
                "backstage.io/kubernetes-label-selector",
            ] {
                if let Some(text) = d["metadata"]["annotations"][key].as_str() {
                    assert!(
                        !parse_selector(text).contains_key(TRACKING_LABEL),
                        "{name}/{path}: {key} selects on {TRACKING_LABEL}: {text}"
                    );
                }
            }
        }
        // Within one service folder: who must select whom.
        for (path, d) in &docs {
            let dir = folder(path);
            let pods: Vec<BTreeMap<String, String>> = docs
                .iter()
                .filter(|(p, _)| folder(p) == dir)
                .filter_map(|(_, w)| pod_template(w))
                .map(|t| labels_of(&t["metadata"]["labels"]))
                .collect();
            let must_select_pods = |sel: &Value, what: &str| {
                let sel = labels_of(sel);
                assert!(
                    !pods.is_empty() && pods.iter().all(|p| selects(&sel, p)),
                    "{name}/{path}: {what} {sel:?} does not select the pods {pods:?}"
                );
            };
            match d["kind"].as_str().unwrap_or("") {
                "Deployment" | "Rollout" => {
                    must_select_pods(&d["spec"]["selector"]["matchLabels"], "selector");
                    for c in d["spec"]["template"]["spec"]["topologySpreadConstraints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        must_select_pods(&c["labelSelector"]["matchLabels"], "spread");
                    }
                }
                "Service" => must_select_pods(&d["spec"]["selector"], "selector"),
                "PodDisruptionBudget" => {
                    must_select_pods(&d["spec"]["selector"]["matchLabels"], "selector")
                }
                "NetworkPolicy" => {
                    // The service's own pods (the cert-manager solver's
                    // policy selects the solver's pods instead).
                    let own = &d["spec"]["podSelector"];
                    if own["matchLabels"].get("app.kubernetes.io/name").is_some() {
                        must_select_pods(&own["matchLabels"], "podSelector");
                    }
                }
                "ServiceMonitor" => {
                    let sel = labels_of(&d["spec"]["selector"]["matchLabels"]);
                    // A blue-green Rollout's preview Service is left out on
                    // purpose: its pods are scraped once, through the active one.
                    let services: Vec<BTreeMap<String, String>> = docs
                        .iter()
                        .filter(|(p, s)| folder(p) == dir && s["kind"] == "Service")
                        .filter(|(_, s)| {
                            !s["metadata"]["name"]
                                .as_str()
                                .is_some_and(|n| n.ends_with("-preview"))
                        })
                        .map(|(_, s)| labels_of(&s["metadata"]["labels"]))
                        .collect();
                    assert!(
                        !services.is_empty() && services.iter().all(|s| selects(&sel, s)),
                        "{name}/{path}: ServiceMonitor selector {sel:?} misses the tracked Service labels {services:?}"
                    );
                }
                "HorizontalPodAutoscaler" => {
                    let target = &d["spec"]["scaleTargetRef"];
                    assert!(
                        docs.iter().any(|(p, w)| folder(p) == dir
                            && w["kind"] == target["kind"]
                            && w["metadata"]["name"] == target["name"]),
                        "{name}/{path}: scaleTargetRef {target} names no workload"
                    );
                }
                _ => continue,
            }
            checked += 1;
        }
        // NetworkPolicy peers select the workload pods of the peer's namespace
        // (the OpenTelemetry collector's pods are the platform's, not Paved's).
        let collector_ns = paved_yaml(&name)["spec"]["observability"]["tracing"]["collector"]
            ["namespace"]
            .as_str()
            .map(str::to_string);
        for (path, d) in docs.iter().filter(|(_, d)| d["kind"] == "NetworkPolicy") {
            for rule in ["ingress", "egress"] {
                for r in d["spec"][rule].as_array().into_iter().flatten() {
                    for peer in r["from"]
                        .as_array()
                        .or(r["to"].as_array())
                        .into_iter()
                        .flatten()
                    {
                        let (Some(ns), Some(sel)) = (
                            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                                .as_str(),
                            peer["podSelector"].get("matchLabels"),
                        ) else {
                            continue;
                        };
                        if collector_ns.as_deref() == Some(ns) {
                            continue;
                        }
                        let sel = labels_of(sel);
                        let env = env_of(path);
                        let hit = docs.iter().any(|(p, w)| {
                            env_of(p) == env
                                && w["metadata"]["namespace"] == ns
                                && pod_template(w).is_some_and(|t| {
                                    selects(&sel, &labels_of(&t["metadata"]["labels"]))
                                })
                        });
                        if sel.contains_key("app.kubernetes.io/name") {
                            assert!(
                                hit,
                                "{name}/{path}: peer {sel:?} in {ns} selects no workload pod"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        // The catalog's selectors find the service's Applications and objects.
        for (path, d) in docs
            .iter()
            .filter(|(p, d)| p.starts_with("catalog/") && d["kind"] == "Component")
        {
            let service = d["metadata"]["name"].as_str().unwrap();
            let annotations = &d["metadata"]["annotations"];
            if let Some(text) = annotations["argocd/app-selector"].as_str() {
                let sel = parse_selector(text);
                let apps: Vec<&String> = docs
                    .iter()
                    .filter(|(_, a)| a["kind"] == "Application")
                    .filter(|(_, a)| selects(&sel, &labels_of(&a["metadata"]["labels"])))
                    .map(|(p, _)| p)
                    .collect();
                let own: Vec<&String> = docs
                    .iter()
                    .filter(|(p, a)| {
                        a["kind"] == "Application"
                            && p.ends_with(&format!("/application-{service}-{}.yaml", env_of(p)))
                    })
                    .map(|(p, _)| p)
                    .collect();
                assert!(
                    !own.is_empty(),
                    "{name}/{path}: {service} has no Application"
                );
                assert_eq!(apps, own, "{name}/{path}: argocd/app-selector {text}");
                checked += 1;
            }
            if let Some(text) = annotations["backstage.io/kubernetes-label-selector"].as_str() {
                let sel = parse_selector(text);
                let workloads: Vec<&Value> = docs
                    .iter()
                    .filter(|(p, w)| {
                        pod_template(w).is_some() && p.split('/').nth(1) == Some(service)
                    })
                    .map(|(_, w)| w)
                    .collect();
                assert!(
                    !workloads.is_empty()
                        && workloads
                            .iter()
                            .all(|w| selects(&sel, &labels_of(&w["metadata"]["labels"]))),
                    "{name}/{path}: {text} misses {service}'s workloads"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "too few selectors checked: {checked}");
}

/// `spec.egress` opens exactly the declared networks, ports and protocol.
#[test]
fn declared_egress_opens_exactly_its_networks_and_ports() {
    let docs = render_fixture("waivers");
    for env in ["staging", "production"] {
        let net = Network::of_environment(&docs, env);
        let pods = workload_pods(&docs, env);
        let (relay, reports) = (&pods["mail-relay"], &pods["legacy-reports"]);
        assert!(net.allows(relay, &ip("203.0.113.25"), 587, "TCP"));
        assert!(net.allows(relay, &ip("203.0.113.25"), 465, "TCP"));
        assert!(!net.allows(relay, &ip("203.0.113.25"), 587, "UDP"));
        assert!(!net.allows(relay, &ip("203.0.113.26"), 587, "TCP"));
        assert!(!net.allows(relay, &ip("203.0.113.25"), 25, "TCP"));
        // Another service of the same namespace-free platform gets none of it.
        assert!(!net.allows(reports, &ip("203.0.113.25"), 587, "TCP"));
    }
}

/// An image bump changes only what runs the image: the workload of the bumped
/// service (Deployment, Rollout or CronJob), once per environment, which
/// carries the new `app.kubernetes.io/version` on itself and its pod template.
/// Every other object (Service, NetworkPolicies, XRs, alerts, catalog, ...)
/// keeps its bytes, so a version bump reads as one change per environment.
#[test]
fn an_image_bump_changes_only_the_workloads_of_that_service() {
    const WORKLOADS: [&str; 3] = ["Deployment", "Rollout", "CronJob"];
    for (case, service, old_tag, new_tag) in [
        ("commerce", "checkout", "3.2.0", "3.2.1"),
        ("commerce", "nightly-report", "2024.6.1", "2024.7.0"),
        ("storefront", "web", "3.2.0", "3.3.0"),
        ("storefront", "catalog", "1.9.4", "1.9.5"),
    ] {
        let input = fixtures::copy_case(&root().join("fixtures").join(case).join("input"));
        let before = fixtures::render(input.path());
        let spec_path = input.path().join(service).join("platform.yaml");
        let spec = std::fs::read_to_string(&spec_path).unwrap();
        let old_image = format!("/{service}:{old_tag}");
        assert_eq!(
            spec.matches(&old_image).count(),
            1,
            "{case}/{service}: {spec}"
        );
        std::fs::write(
            &spec_path,
            spec.replace(&old_image, &format!("/{service}:{new_tag}")),
        )
        .unwrap();
        let after = fixtures::render(input.path());

        let (old, new) = (
            fixtures::read_tree(before.path()),
            fixtures::read_tree(after.path()),
        );
        assert_eq!(
            old.keys().collect::<Vec<_>>(),
            new.keys().collect::<Vec<_>>(),
            "{case}/{service}: an image bump adds or removes files"
        );
        let changed: BTreeSet<&String> = old
            .iter()
            .filter(|(path, bytes)| new[*path] != **bytes)
            .map(|(path, _)| path)
            .collect();

        let docs = fixtures::documents(after.path());
        let workloads: Vec<&(String, Value)> = docs
            .iter()
            .filter(|(_, d)| {
                WORKLOADS.contains(&d["kind"].as_str().unwrap_or_default())
                    && d["metadata"]["labels"]["paved.dev/service"] == service
            })
            .collect();
        let environments: BTreeSet<&str> = workloads.iter().map(|(p, _)| env_of(p)).collect();
        assert_eq!(
            workloads.len(),
            environments.len(),
            "{case}/{service}: one workload per environment"
        );
        assert!(
            !workloads.is_empty(),
            "{case}/{service}: no workload rendered"
        );
        let expected: BTreeSet<&String> = workloads.iter().map(|(p, _)| p).collect();
        assert_eq!(
            changed, expected,
            "{case}/{service}: an image bump must change exactly its workloads"
        );
        for (path, d) in &workloads {
            let template = if d["kind"] == "CronJob" {
                &d["spec"]["jobTemplate"]["spec"]["template"]
            } else {
                &d["spec"]["template"]
            };
            for labels in [&d["metadata"]["labels"], &template["metadata"]["labels"]] {
                assert_eq!(
                    labels["app.kubernetes.io/version"], new_tag,
                    "{path}: the workload and its pods show the version they run"
                );
            }
        }
    }
}
