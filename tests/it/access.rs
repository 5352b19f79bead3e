//! Team access (docs/access.md): what each team's SSO group may do, checked
//! on freshly rendered output of every golden fixture. The golden tests pin
//! the bytes; these pin the meaning: in each service namespace one
//! RoleBinding of the owning team's group to the environment's ClusterRole,
//! nothing cluster-wide for a team, and Argo CD project roles under which
//! each team's group can view and sync exactly its own Applications.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::fixtures::{self, golden_case_names, paved_yaml, render_fixture, Docs};
use crate::support::schemas::Schemas;
use serde_json::Value;

/// Service name → owner, from the fixture's specs.
fn owners(case: &str) -> BTreeMap<String, String> {
    fixtures::input_specs(case)
        .into_iter()
        .map(|(name, v)| (name, v["metadata"]["owner"].as_str().unwrap().to_string()))
        .collect()
}

/// A team's SSO group: `teams.<name>.group`, else its name (docs/access.md).
fn group_of(paved: &Value, team: &str) -> String {
    paved["spec"]["teams"][team]["group"]
        .as_str()
        .unwrap_or(team)
        .to_string()
}

/// The ClusterRole a team gets in `env`: `teamRole`, else `view` where the
/// environment's default promotion is manual and `edit` where it is auto.
fn team_role(paved: &Value, env: &str) -> String {
    let e = &paved["spec"]["environments"][env];
    if let Some(r) = e["teamRole"].as_str() {
        return r.to_string();
    }
    let promote = match e["promote"].as_str() {
        Some(p) => p,
        None if e["allowAutoPromote"] == Value::Bool(false) => "manual",
        None => "auto",
    };
    if promote == "manual" { "view" } else { "edit" }.to_string()
}

fn kind<'a>(docs: &'a Docs, kind: &str) -> Vec<&'a (String, Value)> {
    docs.iter().filter(|(_, d)| d["kind"] == kind).collect()
}

#[test]
fn every_service_namespace_binds_its_team_group_to_the_environment_role_and_nothing_more() {
    let mut checked = 0;
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        let paved = paved_yaml(&case);
        let owners = owners(&case);
        // Nothing cluster-wide is ever rendered for a team: no ClusterRole,
        // no ClusterRoleBinding, and no namespaced Role of its own either.
        for k in ["ClusterRoleBinding", "ClusterRole", "Role"] {
            let found: Vec<&String> = kind(&docs, k).iter().map(|(p, _)| p).collect();
            assert!(found.is_empty(), "{case}: a {k} is rendered: {found:?}");
        }
        // The service folders: `<env>/<service>/` holding the service's Namespace.
        let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
        for (path, ns) in kind(&docs, "Namespace") {
            let dir = path.rsplit_once('/').unwrap().0.to_string();
            namespaces.insert(dir, ns["metadata"]["name"].as_str().unwrap().to_string());
        }
        let mut bound: BTreeSet<String> = BTreeSet::new();
        for (path, rb) in kind(&docs, "RoleBinding") {
            let dir = path.rsplit_once('/').unwrap().0;
            let ns = namespaces
                .get(dir)
                .unwrap_or_else(|| panic!("{case}: {path} is not in a service folder"));
            assert_eq!(
                rb["metadata"]["namespace"].as_str(),
                Some(ns.as_str()),
                "{case}: {path} is not in its service's namespace"
            );
            let (env, service) = dir.split_once('/').unwrap();
            let owner = &owners[service];
            let group = group_of(&paved, owner);
            assert_eq!(
                rb["subjects"],
                serde_json::json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group}]),
                "{case}: {path} must bind exactly the group of {owner}"
            );
            assert_eq!(
                rb["roleRef"],
                serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": team_role(&paved, env)}),
                "{case}: {path} must refer to {env}'s team role"
            );
            assert_ne!(
                rb["roleRef"]["name"], "cluster-admin",
                "{case}: {path} grants cluster-admin"
            );
            assert!(
                bound.insert(dir.to_string()),
                "{case}: {dir} has more than one RoleBinding"
            );
            checked += 1;
        }
        let unbound: Vec<&String> = namespaces.keys().filter(|d| !bound.contains(*d)).collect();
        assert!(
            unbound.is_empty(),
            "{case}: service namespaces without their team's RoleBinding: {unbound:?}"
        );
    }
    assert!(checked > 10, "too few RoleBindings checked: {checked}");
}

/// Argo CD's glob (`*` matches any text, `/` included; `?` one character).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// One line of a project role's policy, as Argo CD reads it:
/// `p, proj:<project>:<role>, <resource>, <action>, <object>, <allow|deny>`.
struct Rule {
    groups: Vec<String>,
    resource: String,
    action: String,
    object: String,
    allow: bool,
}

/// Every project role rule of every rendered AppProject, checked the way Argo
/// CD validates a project role (subject and object inside the project).
fn project_rules(case: &str, docs: &Docs) -> Vec<Rule> {
    let mut out = Vec::new();
    for (path, proj) in kind(docs, "AppProject") {
        let name = proj["metadata"]["name"].as_str().unwrap();
        for role in proj["spec"]["roles"].as_array().into_iter().flatten() {
            let role_name = role["name"].as_str().unwrap();
            let groups: Vec<String> = role["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g.as_str().unwrap().to_string())
                .collect();
            for line in role["policies"].as_array().into_iter().flatten() {
                let line = line.as_str().unwrap();
                let f: Vec<&str> = line.split(',').map(str::trim).collect();
                assert_eq!(f.len(), 6, "{case}: {path}: `{line}`");
                assert_eq!(f[0], "p", "{case}: {path}: `{line}`");
                assert_eq!(
                    f[1],
                    format!("proj:{name}:{role_name}"),
                    "{case}: {path}: Argo CD refuses a subject outside the role"
                );
                assert_eq!(
                    f[4].split('/').next(),
                    Some(name),
                    "{case}: {path}: Argo CD refuses an object outside the project: `{line}`"
                );
                assert!(matches!(f[5], "allow" | "deny"), "{case}: {path}: `{line}`");
                out.push(Rule {
                    groups: groups.clone(),
                    resource: f[2].to_string(),
                    action: f[3].to_string(),
                    object: f[4].to_string(),
                    allow: f[5] == "allow",
                });
            }
        }
    }
    out
}

/// Whether `group` may `action` the `resource` `object` (a deny wins).
fn can(rules: &[Rule], group: &str, resource: &str, action: &str, object: &str) -> bool {
    let hits: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.groups.iter().any(|g| g == group))
        .filter(|r| glob(&r.resource, resource) && glob(&r.action, action))
        .filter(|r| glob(&r.object, object))
        .collect();
    hits.iter().any(|r| r.allow) && !hits.iter().any(|r| !r.allow)
}

#[test]
fn each_team_group_can_view_and_sync_exactly_its_own_applications() {
    let mut checked = 0;
    for case in golden_case_names() {
        let docs = render_fixture(&case);
        let paved = paved_yaml(&case);
        let owners = owners(&case);
        let rules = project_rules(&case, &docs);
        // A team is given these and nothing else.
        for r in &rules {
            assert!(
                matches!(
                    (r.resource.as_str(), r.action.as_str()),
                    ("applications", "get")
                        | ("applications", "sync")
                        | ("applications", "action/argoproj.io/Rollout/*")
                        | ("logs", "get")
                ),
                "{case}: a project role grants `{}, {}` on {}",
                r.resource,
                r.action,
                r.object
            );
        }
        let mut groups: BTreeSet<String> = owners.values().map(|o| group_of(&paved, o)).collect();
        if let Some(teams) = paved["spec"]["teams"].as_object() {
            groups.extend(teams.keys().map(|t| group_of(&paved, t)));
        }
        for (path, app) in kind(&docs, "Application") {
            let object = format!(
                "{}/{}",
                app["spec"]["project"].as_str().unwrap(),
                app["metadata"]["name"].as_str().unwrap()
            );
            // The group of the team owning the service (none for the root Applications).
            let owning = app["metadata"]["labels"]["paved.dev/service"]
                .as_str()
                .map(|s| group_of(&paved, &owners[s]));
            for g in &groups {
                let own = owning.as_deref() == Some(g.as_str());
                // Including the Argo Rollouts actions (resume, abort, retry,
                // promote-full) on its own Rollouts, and no other action.
                for (resource, action) in [
                    ("applications", "sync"),
                    ("applications", "get"),
                    ("logs", "get"),
                    ("applications", "action/argoproj.io/Rollout/resume"),
                    ("applications", "action/argoproj.io/Rollout/abort"),
                ] {
                    assert_eq!(
                        can(&rules, g, resource, action, &object),
                        own,
                        "{case}: {path}: group `{g}` {} `{resource}, {action}` {object}",
                        if own {
                            "must be allowed"
                        } else {
                            "must not be allowed"
                        }
                    );
                }
                assert!(
                    !can(
                        &rules,
                        g,
                        "applications",
                        "action/apps/Deployment/restart",
                        &object
                    ),
                    "{case}: {path}: group `{g}` may run a Deployment action on {object}"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 20,
        "too few group/Application pairs checked: {checked}"
    );
}

#[test]
fn the_glob_is_argo_cds() {
    assert!(glob("team-a/*", "team-a/orders-staging"));
    assert!(glob("team-a/*", "team-a/apps/orders-staging"));
    assert!(!glob("team-a/*", "team-ab/orders"));
    assert!(!glob("team-a/*", "team-b/orders"));
    assert!(glob("*", ""));
    assert!(glob("a?c", "abc"));
    assert!(!glob("a?c", "ac"));
}

#[test]
fn rolebindings_and_project_roles_are_held_to_their_upstream_schemas() {
    let docs = render_fixture("commerce");
    let schemas = Schemas::load();
    let rb = &kind(&docs, "RoleBinding")[0].1;
    let proj = kind(&docs, "AppProject")
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["spec"]["roles"].is_array())
        .expect("a team's AppProject with roles");
    for doc in [rb, proj] {
        assert_eq!(schemas.validate(doc), Ok(()), "{doc}");
    }
    // The schemas in use are strict about these kinds: a stray field in a
    // roleRef, or groups that are not a list, are refused.
    let mut bad = rb.clone();
    bad["roleRef"]["namespace"] = "checkout".into();
    assert!(schemas.validate(&bad).is_err(), "{bad}");
    let mut bad = proj.clone();
    bad["spec"]["roles"][0]["groups"] = "sso:checkout-devs".into();
    assert!(schemas.validate(&bad).is_err(), "{bad}");
}
