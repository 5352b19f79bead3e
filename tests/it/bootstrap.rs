//! The rendered platform as Argo CD syncs it: the root Applications a
//! platform team applies once (`DIR/platform/bootstrap/`), what each
//! Application points at, the order objects are applied in (sync waves), the
//! objects whose kind may not exist yet when they are first synced, and the
//! retries of every Application. Checked on every golden tree, so a blessed
//! golden cannot quietly lose any of it.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::fixtures::{self, root, Docs};
use crate::support::schemas::Schemas;
use serde_json::Value;

const IN_CLUSTER: &str = "https://kubernetes.default.svc";

struct Case {
    name: String,
    docs: Docs,
    /// Every file path of the expected tree.
    files: BTreeSet<String>,
    paved: Value,
}

impl Case {
    fn gitops(&self, field: &str, default: &str) -> String {
        self.paved["spec"]["gitops"][field]
            .as_str()
            .unwrap_or(default)
            .to_string()
    }

    fn has_gitops(&self) -> bool {
        self.paved["spec"]["gitops"]["repoURL"].is_string()
    }

    /// `environment name → cluster URL` as Argo CD names it.
    fn clusters(&self) -> BTreeMap<String, String> {
        self.paved["spec"]["environments"]
            .as_object()
            .map(|envs| {
                envs.iter()
                    .map(|(name, e)| {
                        let c = e["cluster"].as_str().unwrap_or_default();
                        let c = if c == "in-cluster" { IN_CLUSTER } else { c };
                        (name.clone(), c.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_folder(&self, folder: &str) -> bool {
        self.files
            .iter()
            .any(|f| f.starts_with(&format!("{folder}/")))
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a (String, Value)> + 'a {
        self.docs.iter().filter(move |(_, d)| d["kind"] == kind)
    }
}

fn cases() -> Vec<Case> {
    fixtures::golden_cases()
        .into_iter()
        .map(|dir| {
            let expected = dir.join("expected");
            let paved_file = dir.join("input/paved.yaml");
            let paved: Value = if paved_file.exists() {
                serde_yaml::from_str(&std::fs::read_to_string(&paved_file).unwrap()).unwrap()
            } else {
                serde_yaml::from_str(
                    &std::fs::read_to_string(root().join("src/paved.default.yaml")).unwrap(),
                )
                .unwrap()
            };
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                docs: fixtures::documents(&expected),
                files: fixtures::read_tree(&expected).into_keys().collect(),
                paved,
            }
        })
        .collect()
}

/// A name and which objects belong to it.
type Tier<'a> = (&'a str, &'a dyn Fn(&Value) -> bool);

fn wave(d: &Value) -> i64 {
    match &d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] {
        Value::Null => 0,
        Value::String(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("a sync wave must be an integer: {s:?}")),
        other => panic!("a sync wave must be a string: {other}"),
    }
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(f, _)| f)
}

fn describe(path: &str, d: &Value) -> String {
    format!(
        "{path} ({} wave {})",
        d["kind"].as_str().unwrap_or("?"),
        wave(d)
    )
}

#[test]
fn every_application_retries_a_bounded_number_of_times() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in cases() {
        for (path, app) in case.of_kind("Application") {
            seen += 1;
            let retry = &app["spec"]["syncPolicy"]["retry"];
            let limit = retry["limit"].as_i64().unwrap_or(0);
            let backoff = &retry["backoff"];
            let bounded = (1..=20).contains(&limit)
                && backoff["duration"].is_string()
                && backoff["factor"].as_i64().is_some_and(|f| f >= 1)
                && backoff["maxDuration"].is_string();
            if !bounded {
                failures.push(format!("{}/{path}: retry is {retry}", case.name));
            }
        }
    }
    assert!(seen > 0, "no Application in any golden tree");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_object_of_a_crd_backed_kind_skips_the_dry_run_until_its_crd_exists() {
    let mut failures = Vec::new();
    let mut crd_backed = 0;
    for case in cases() {
        let mut schemas = Schemas::load();
        for (_, d) in &case.docs {
            schemas.register_rendered(d);
        }
        for (path, d) in &case.docs {
            let api = d["apiVersion"].as_str().unwrap_or_default();
            if api.starts_with("kustomize.config.k8s.io/")
                || api.starts_with("backstage.io/")
                || api.starts_with("scaffolder.backstage.io/")
                || schemas.is_builtin(d)
            {
                continue;
            }
            crd_backed += 1;
            let options = d["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
                .as_str()
                .unwrap_or_default();
            if !options
                .split(',')
                .any(|o| o.trim() == "SkipDryRunOnMissingResource=true")
            {
                failures.push(format!("{}/{path}: sync-options {options:?}", case.name));
            }
        }
    }
    assert!(crd_backed > 0, "no CRD-backed object in any golden tree");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sync_waves_apply_namespaces_first_then_dependencies_then_workloads_then_monitoring() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        // The kinds of composite resources: what the rendered XRDs define.
        let xr_groups: BTreeSet<String> = case
            .of_kind("CompositeResourceDefinition")
            .filter_map(|(_, d)| d["spec"]["group"].as_str().map(str::to_string))
            .collect();
        let is_xr = |d: &Value| {
            let api = d["apiVersion"].as_str().unwrap_or_default();
            xr_groups.iter().any(|g| api.starts_with(&format!("{g}/")))
        };
        let mut by_folder: BTreeMap<&str, Vec<&(String, Value)>> = BTreeMap::new();
        for entry in &case.docs {
            by_folder.entry(folder(&entry.0)).or_default().push(entry);
        }
        // Each tier must be applied strictly after the one before.
        let tiers: [Tier; 4] = [
            ("Namespace", &|d| d["kind"] == "Namespace"),
            ("what workloads need", &|d| {
                ["ServiceAccount", "ExternalSecret", "ConfigMap"]
                    .contains(&d["kind"].as_str().unwrap_or_default())
                    || is_xr(d)
            }),
            ("workloads", &|d| {
                ["Deployment", "CronJob"].contains(&d["kind"].as_str().unwrap_or_default())
            }),
            ("monitoring", &|d| {
                ["ServiceMonitor", "PrometheusRule", "GrafanaDashboard"]
                    .contains(&d["kind"].as_str().unwrap_or_default())
            }),
        ];
        for (dir, docs) in &by_folder {
            if !docs.iter().any(|(_, d)| d["kind"] == "Namespace") {
                continue;
            }
            checked += 1;
            for pair in tiers.windows(2) {
                let (earlier, is_earlier) = pair[0];
                let (later, is_later) = pair[1];
                for (pe, de) in docs
                    .iter()
                    .map(|e| (&e.0, &e.1))
                    .filter(|(_, d)| is_earlier(d))
                {
                    for (pl, dl) in docs
                        .iter()
                        .map(|e| (&e.0, &e.1))
                        .filter(|(_, d)| is_later(d))
                    {
                        if wave(de) >= wave(dl) {
                            failures.push(format!(
                                "{}/{dir}: {earlier} {} is not before {later} {}",
                                case.name,
                                describe(pe, de),
                                describe(pl, dl)
                            ));
                        }
                    }
                }
            }
        }
        // A Constraint's kind is created by its template.
        for (pt, t) in case.of_kind("ConstraintTemplate") {
            let kind = t["spec"]["crd"]["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or_default();
            for (pc, c) in case.of_kind(kind) {
                if wave(t) >= wave(c) {
                    failures.push(format!(
                        "{}: {} is not before {}",
                        case.name,
                        describe(pt, t),
                        describe(pc, c)
                    ));
                }
            }
        }
        // Between root Applications: projects and the platform's cluster-wide
        // objects before the environments' services.
        let gitops_path = case.gitops("path", "rendered");
        let roots: Vec<&(String, Value)> = case
            .docs
            .iter()
            .filter(|(p, _)| p.starts_with("platform/bootstrap/"))
            .collect();
        for (pa, a) in roots.iter().map(|e| (&e.0, &e.1)) {
            let target = a["spec"]["source"]["path"].as_str().unwrap_or_default();
            let services = target
                .strip_prefix(&format!("{gitops_path}/"))
                .is_some_and(|t| t.ends_with("/argocd") && !t.starts_with("platform/"));
            if a["kind"] != "Application" || !services {
                continue;
            }
            for (pb, b) in roots.iter().map(|e| (&e.0, &e.1)) {
                let other = b["spec"]["source"]["path"].as_str().unwrap_or_default();
                let platform_wide = b["kind"] == "AppProject"
                    || other
                        .strip_prefix(&format!("{gitops_path}/"))
                        .is_some_and(|t| t == "platform" || t == "platform/argocd");
                if platform_wide && wave(b) >= wave(a) {
                    failures.push(format!(
                        "{}: {} is not before {}",
                        case.name,
                        describe(pb, b),
                        describe(pa, a)
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no service folder in any golden tree");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether an AppProject allows `app` (its repository and destination).
fn project_permits(project: &Value, app: &Value) -> bool {
    let spec = &project["spec"];
    let repo = &app["spec"]["source"]["repoURL"];
    let dest = &app["spec"]["destination"];
    let repo_ok = spec["sourceRepos"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == repo || x == "*"));
    let ns = dest["namespace"].as_str().unwrap_or_default();
    let dest_ok = spec["destinations"].as_array().is_some_and(|ds| {
        ds.iter().any(|d| {
            d["server"] == dest["server"] && (d["namespace"] == "*" || d["namespace"] == ns)
        })
    });
    repo_ok && dest_ok
}

#[test]
fn the_bootstrap_applications_sync_every_folder_to_its_cluster() {
    let mut failures = Vec::new();
    let mut with_gitops = 0;
    for case in cases() {
        if !case.has_gitops() {
            continue;
        }
        with_gitops += 1;
        let name = &case.name;
        let gitops_path = case.gitops("path", "rendered");
        let argocd_ns = case.gitops("argocdNamespace", "argocd");
        let clusters = case.clusters();
        if !case.files.contains("platform/bootstrap/kustomization.yaml") {
            failures.push(format!("{name}: no platform/bootstrap/kustomization.yaml"));
        }
        let projects: BTreeMap<&str, &Value> = case
            .of_kind("AppProject")
            .filter_map(|(_, p)| Some((p["metadata"]["name"].as_str()?, p)))
            .collect();
        // Every Application: a folder of the tree, a cluster and a namespace
        // the config names, and a project that allows both.
        let mut synced: BTreeSet<(String, String)> = BTreeSet::new();
        for (path, app) in case.of_kind("Application") {
            let spec = &app["spec"];
            let source = spec["source"]["path"].as_str().unwrap_or_default();
            let Some(target) = source.strip_prefix(&format!("{gitops_path}/")) else {
                failures.push(format!(
                    "{name}/{path}: source.path {source} is outside {gitops_path}/"
                ));
                continue;
            };
            if !case.is_folder(target) {
                failures.push(format!(
                    "{name}/{path}: source.path {source} is no folder of the tree"
                ));
            } else if !case.files.contains(&format!("{target}/kustomization.yaml"))
                && case.files.iter().any(|f| {
                    f.starts_with(&format!("{target}/")) && f[target.len() + 1..].contains('/')
                })
            {
                failures.push(format!(
                    "{name}/{path}: {target} has sub-folders but no kustomization.yaml saying what to apply"
                ));
            }
            let server = spec["destination"]["server"].as_str().unwrap_or_default();
            if server != IN_CLUSTER && !clusters.values().any(|c| c == server) {
                failures.push(format!(
                    "{name}/{path}: destination {server} is no cluster of paved.yaml"
                ));
            }
            let ns = spec["destination"]["namespace"]
                .as_str()
                .unwrap_or_default();
            let namespaces_there: BTreeSet<&str> = case
                .of_kind("Namespace")
                .filter(|(p, _)| p.starts_with(&format!("{target}/")))
                .filter_map(|(_, d)| d["metadata"]["name"].as_str())
                .collect();
            if !(ns == argocd_ns
                || namespaces_there.contains(ns)
                || (ns.is_empty() && target == "platform"))
            {
                failures.push(format!(
                    "{name}/{path}: destination namespace {ns:?} is neither Argo CD's nor one {target} creates"
                ));
            }
            if (target.ends_with("argocd") || target == "platform/bootstrap")
                && (server != IN_CLUSTER || ns != argocd_ns)
            {
                failures.push(format!(
                    "{name}/{path}: {target} holds Argo CD objects and must go to Argo CD's own cluster and namespace"
                ));
            }
            let project = spec["project"].as_str().unwrap_or_default();
            match projects.get(project) {
                None => failures.push(format!("{name}/{path}: project {project} is not rendered")),
                Some(p) if !project_permits(p, app) => failures.push(format!(
                    "{name}/{path}: project {project} does not allow its source or destination"
                )),
                Some(_) => {}
            }
            synced.insert((target.to_string(), server.to_string()));
        }
        // What must be synced: the bootstrap folder itself, the projects,
        // each environment's Applications, and the cluster-wide platform
        // folders to every environment's cluster.
        let mut wanted: Vec<(String, String)> = vec![
            ("platform/bootstrap".into(), IN_CLUSTER.into()),
            ("platform/argocd".into(), IN_CLUSTER.into()),
        ];
        for (env, cluster) in &clusters {
            if case.is_folder(&format!("{env}/argocd")) {
                wanted.push((format!("{env}/argocd"), IN_CLUSTER.into()));
            }
            wanted.push(("platform".into(), cluster.clone()));
        }
        for w in wanted {
            if !synced.contains(&w) {
                failures.push(format!("{name}: no Application syncs {} to {}", w.0, w.1));
            }
        }
        // The cluster-wide folder: every platform sub-folder but Argo CD's.
        let platform_kustomization = case
            .docs
            .iter()
            .find(|(p, _)| p == "platform/kustomization.yaml")
            .map(|(_, d)| d);
        let listed: BTreeSet<&str> = platform_kustomization
            .and_then(|k| k["resources"].as_array())
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let subs: BTreeSet<&str> = case
            .files
            .iter()
            .filter_map(|f| f.strip_prefix("platform/")?.split_once('/').map(|(s, _)| s))
            .filter(|s| !["argocd", "bootstrap"].contains(s))
            .collect();
        if listed != subs {
            failures.push(format!(
                "{name}: platform/kustomization.yaml lists {listed:?}, the cluster-wide folders are {subs:?}"
            ));
        }
        // Only the platform's own project may create cluster-wide objects
        // other than Namespaces.
        for (path, p) in case.of_kind("AppProject") {
            let wide = p["spec"]["clusterResourceWhitelist"]
                .as_array()
                .is_some_and(|w| w.iter().any(|r| r["kind"] != "Namespace"));
            if wide && !path.starts_with("platform/bootstrap/") {
                failures.push(format!(
                    "{name}/{path}: a team project with cluster-wide rights"
                ));
            }
        }
    }
    assert!(with_gitops > 0, "no golden tree with gitops");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_platform_folder_builds_with_kustomize_as_listed() {
    // `kubectl kustomize` runs on every kustomization in the conformance
    // run; here: each platform folder has one, listing exactly its files.
    let mut failures = Vec::new();
    for case in cases() {
        let mut by_folder: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for f in &case.files {
            if let Some(rest) = f.strip_prefix("platform/") {
                if let Some((sub, file)) = rest.split_once('/') {
                    if !file.contains('/') {
                        by_folder.entry(sub).or_default().insert(file);
                    }
                }
            }
        }
        for (sub, files) in by_folder {
            let k = case
                .docs
                .iter()
                .find(|(p, _)| *p == format!("platform/{sub}/kustomization.yaml"));
            let listed: BTreeSet<&str> = k
                .and_then(|(_, d)| d["resources"].as_array())
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let want: BTreeSet<&str> = files
                .into_iter()
                .filter(|f| *f != "kustomization.yaml")
                .collect();
            if listed != want {
                failures.push(format!(
                    "{}: platform/{sub}/kustomization.yaml lists {listed:?}, the folder holds {want:?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
