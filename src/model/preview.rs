//! Preview environments: `paved render --preview NAME` as a model
//! transformation (docs/environments.md, "Preview environments").
//!
//! A preview is one more environment, derived from paved.yaml `previews.from`:
//! named `preview-<NAME>`, on `previews.cluster` (else the `from`
//! environment's), its namespaces `<namespacePrefix><NAME>-<service>`, its
//! hosts `<host>-<NAME>.<previews.domain>`, every managed resource at
//! `previews.class`, synced automatically, every object labelled
//! `paved.dev/preview: NAME`, written to `DIR/previews/<NAME>/`. It holds the
//! selected services and, as they are in the workspace, every service they
//! depend on (transitively), so the preview's NetworkPolicies, URLs and
//! connection Secrets all stay inside it. Each service keeps its overrides
//! for `from` (image, replicas, size, env, …), except `promote`.
//!
//! Blueprints see an ordinary environment; nothing in them needs to know.
//!
//! Architecture invariant: pure; takes and gives model values, knows no files
//! and no diagnostics (a refusal is a sentence for `app` to report).

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::{resolve, EnvironmentConfig, Instance, Platform, PreviewConfig, PreviewInfo, Service};

/// The top output folder of the previews: `DIR/previews/<NAME>/`.
pub(crate) const PREVIEWS_FOLDER: &str = "previews";

/// The label every object of a preview carries, with the preview's name.
pub(crate) const PREVIEW_LABEL: &str = "paved.dev/preview";

/// The most characters of a Kubernetes name that is a DNS label (a
/// namespace, a label value, a host's first part).
const DNS_LABEL_MAX: usize = 63;

/// A preview, resolved: its platform (one environment), the services in it
/// (selected and their dependencies, by name) and their instances.
#[derive(Debug)]
pub(crate) struct Preview {
    pub name: String,
    /// The output folder, relative to `DIR`: `previews/<NAME>`.
    pub folder: String,
    pub platform: Platform,
    pub services: Vec<Service>,
    pub instances: Vec<Instance>,
}

/// Whether `name` is a DNS label: lower-case letters, digits and `-`,
/// starting and ending with a letter or digit, at most 63 characters.
pub(crate) fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= DNS_LABEL_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Derives the preview `name` of the services named in `selected` (and
/// their dependencies) from the platform and every service of the
/// workspace. `Err` says, in a sentence, why there is no such preview.
pub(crate) fn derive(
    platform: &Platform,
    services: &[Service],
    selected: &BTreeSet<String>,
    name: &str,
) -> Result<Preview, String> {
    if !is_dns_label(name) {
        return Err(format!(
            "the preview name `{}` is not a DNS label: use lower-case letters, digits and '-', starting and ending with a letter or digit, at most {DNS_LABEL_MAX} characters (e.g. the pull request's number)",
            name.escape_debug()
        ));
    }
    let Some(cfg) = &platform.previews else {
        return Err(
            "paved.yaml has no `previews` section: add one (e.g. `previews: {from: staging, domain: preview.example.com}`) to render previews"
                .to_string(),
        );
    };
    let Some(from) = platform.environments.get(&cfg.from) else {
        return Err(format!(
            "paved.yaml `previews.from` names `{}`, which is not an environment",
            cfg.from
        ));
    };
    let env = environment(cfg, from, name);

    // The selection and everything it depends on, in the `from` environment.
    let by_name: std::collections::HashMap<&str, &Service> =
        services.iter().map(|s| (s.name(), s)).collect();
    let mut members: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = selected
        .iter()
        .map(String::as_str)
        .filter(|n| by_name.get(n).is_some_and(|s| s.runs_in(&from.name)))
        .collect();
    if todo.is_empty() {
        return Err(format!(
            "none of the selected services runs in `{}`, the environment previews are derived from",
            from.name
        ));
    }
    while let Some(n) = todo.pop() {
        let Some(s) = by_name.get(n) else { continue };
        if !s.runs_in(&from.name) || !members.insert(s.name()) {
            continue;
        }
        todo.extend(s.dependency_names());
    }
    let members: Vec<Service> = members
        .iter()
        .filter_map(|n| by_name.get(n))
        .map(|s| member(s, &from.name, &env.name))
        .collect();

    for s in &members {
        let ns = super::namespace_of(&env, s.name());
        if ns.len() > DNS_LABEL_MAX {
            return Err(format!(
                "the preview namespace `{ns}` of service `{}` is {} characters, and Kubernetes allows {DNS_LABEL_MAX}: use a shorter preview name or paved.yaml `previews.namespacePrefix`",
                s.name(),
                ns.len()
            ));
        }
    }

    let mut preview_platform = platform.clone();
    preview_platform.environments = [(env.name.clone(), env.clone())].into_iter().collect();
    let mut instances = resolve(&preview_platform, &members);
    let info = PreviewInfo {
        name: name.to_string(),
        ttl: cfg.ttl.clone(),
    };
    let domain = cfg.domain.clone().unwrap_or_else(|| from.domain.clone());
    for i in &mut instances {
        if let Some(ing) = &mut i.ingress {
            let first = ing.host.split('.').next().unwrap_or_default();
            let label = format!("{first}-{name}");
            if label.len() > DNS_LABEL_MAX {
                return Err(format!(
                    "the preview host `{label}.{domain}` of service `{}` has a first part of {} characters, and DNS allows {DNS_LABEL_MAX}: use a shorter preview name",
                    i.name,
                    label.len()
                ));
            }
            ing.host = format!("{label}.{domain}");
        }
        for r in &mut i.resources {
            r.class = cfg.class.clone();
        }
        for labels in [&mut i.labels, &mut i.workload_labels] {
            labels.insert(PREVIEW_LABEL.to_string(), name.to_string());
        }
        i.environment.promote = "auto".to_string();
        i.environment.folder = format!("{PREVIEWS_FOLDER}/{name}");
        i.environment.preview = Some(info.clone());
    }
    Ok(Preview {
        name: name.to_string(),
        folder: format!("{PREVIEWS_FOLDER}/{name}"),
        platform: preview_platform,
        services: members,
        instances,
    })
}

/// The preview's environment: `from`'s, renamed, moved and made automatic.
fn environment(cfg: &PreviewConfig, from: &EnvironmentConfig, name: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        name: format!("preview-{name}"),
        cluster: cfg.cluster.clone().unwrap_or_else(|| from.cluster.clone()),
        domain: cfg.domain.clone().unwrap_or_else(|| from.domain.clone()),
        class: cfg.class.clone(),
        namespace_prefix: format!("{}{name}-", cfg.namespace_prefix),
        promote: Some("auto".to_string()),
        allow_auto_promote: true,
        team_role: from.team_role.clone(),
        require_rollout: from.require_rollout,
        folder: Some(format!("{PREVIEWS_FOLDER}/{name}")),
    }
}

/// A service as the preview resolves it: its overrides for `from` become
/// the preview's (without `promote`: a preview always syncs by itself).
fn member(s: &Service, from: &str, preview_env: &str) -> Service {
    let mut s = s.clone();
    if let Some(envs) = &s.spec.environments {
        let mut ov = envs.get(from).cloned().unwrap_or_default();
        ov.promote = None;
        let mut only = IndexMap::new();
        only.insert(preview_env.to_string(), ov);
        s.spec.environments = Some(only);
    }
    s
}

/// The namespaces a team's services may get in any preview, as Argo CD
/// destination globs (`<namespacePrefix>*-<service>`).
pub(crate) fn namespace_glob(cfg: &PreviewConfig, service: &str) -> String {
    format!("{}*-{service}", cfg.namespace_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(previews: serde_json::Value) -> Platform {
        Platform::from_json(serde_json::json!({
            "apiVersion": "paved.dev/v1", "kind": "Platform", "metadata": {"name": "p"},
            "spec": {
                "environments": {
                    "staging": {"cluster": "in-cluster", "domain": "staging.a.dev", "class": "large", "namespacePrefix": "stg-"},
                    "production": {"cluster": "in-cluster", "domain": "a.dev", "promote": "manual"}
                },
                "previews": previews
            }
        }))
        .unwrap()
    }

    fn service(name: &str, extra: serde_json::Value) -> Service {
        let mut spec = serde_json::json!({"image": "ghcr.io/a/a:1", "ports": [{"name": "http", "port": 8080}]});
        if let (Some(m), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        Service::from_json(
            crate::source::Source::virtual_file("p.yaml", String::new()),
            crate::load::Node {
                span: crate::source::Span::point(0),
                value: crate::load::Value::Null,
            },
            serde_json::json!({
                "apiVersion": "paved.dev/v1", "kind": "Application",
                "metadata": {"name": name, "owner": "team-a"},
                "spec": spec
            }),
            format!("{name}/platform.yaml"),
        )
        .unwrap()
    }

    fn names(set: &[&str]) -> BTreeSet<String> {
        set.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_are_dns_labels() {
        for good in ["42", "pr-42", "a", &"a".repeat(63)] {
            assert!(is_dns_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64), "ä"] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }

    #[test]
    fn a_preview_takes_from_overrides_the_smallest_class_and_its_own_names() {
        let p = platform(
            serde_json::json!({"from": "staging", "domain": "preview.a.dev", "ttl": "24h"}),
        );
        let shop = service(
            "shop",
            serde_json::json!({
                "dependsOn": ["component:stock"],
                "ingress": {"host": "shop"},
                "resources": {"db": {"type": "postgresql", "class": "large"}},
                "environments": {"staging": {"image": "ghcr.io/a/a:2", "promote": "manual"}, "production": {}}
            }),
        );
        let stock = service("stock", serde_json::json!({}));
        let other = service("other", serde_json::json!({}));
        let all = [shop, stock, other];
        let pv = derive(&p, &all, &names(&["shop"]), "7").unwrap();
        let got: Vec<&str> = pv.instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(got, ["shop", "stock"]);
        let shop = &pv.instances[0];
        assert_eq!(shop.namespace, "pr-7-shop");
        assert_eq!(shop.image, "ghcr.io/a/a:2");
        assert_eq!(shop.environment.name, "preview-7");
        assert_eq!(shop.environment.promote, "auto");
        assert_eq!(shop.environment.folder, "previews/7");
        assert_eq!(shop.ingress.as_ref().unwrap().host, "shop-7.preview.a.dev");
        assert_eq!(shop.resources[0].class, "small");
        assert_eq!(shop.labels[PREVIEW_LABEL], "7");
        assert_eq!(shop.dependencies[0].namespace, "pr-7-stock");
        assert_eq!(pv.instances[1].dependents[0].namespace, "pr-7-shop");
    }

    #[test]
    fn a_namespace_over_63_characters_is_refused() {
        let p = platform(serde_json::json!({"namespacePrefix": "preview-"}));
        let all = [service("shop", serde_json::json!({}))];
        let err = derive(&p, &all, &names(&["shop"]), &"x".repeat(51)).unwrap_err();
        assert!(err.contains("63"), "{err}");
        assert!(derive(&p, &all, &names(&["shop"]), &"x".repeat(50)).is_ok());
        assert!(derive(&p, &all, &names(&["shop"]), "Bad").is_err());
    }
}
