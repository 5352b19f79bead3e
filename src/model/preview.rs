//! Preview environments: `paved render --preview NAME` as a model
//! transformation (docs/environments.md, "Preview environments").
//!
//! A preview is one more environment, derived from paved.yaml `previews.from`:
//! named `preview-<NAME>`, on `previews.cluster` (else the `from`
//! environment's), its namespaces `<namespacePrefix><NAME>--<service>` (a
//! preview name never holds `--`, and with previews on neither does a
//! service name: `validate::semantic`), its hosts
//! `<host as one label>--<NAME>.<previews.domain>` ([`host_label`]), every
//! managed resource at
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

/// The name of a preview's environment: this, then the preview's name.
pub(crate) const ENVIRONMENT_PREFIX: &str = "preview-";

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

/// Between the preview's name and the service's in a preview namespace.
/// Neither name may hold it, so a namespace names one (preview, service)
/// and the glob `<prefix>*--<service>` matches one service's namespaces.
pub(crate) const SEPARATOR: &str = "--";

/// Between a preview host's part from the service's host and the preview's
/// name (`checkout--42`). A host label cannot end in `-` and a preview name
/// neither holds `--` nor starts with `-`, so the last `--` of a preview
/// host's first label is always this one: two previews (or two hosts of one
/// preview that differ in more than dots and hyphens) never get the same
/// host. A real host whose first label holds `--` could still equal one;
/// `derive` refuses that preview.
pub(crate) const HOST_SEPARATOR: &str = "--";

/// The hex digits of the hash that keeps a shortened host label unique.
const HASH_DIGITS: usize = 8;

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
    if name.contains(SEPARATOR) {
        return Err(format!(
            "the preview name `{name}` holds `{SEPARATOR}`, which separates the preview's name from the service's in its namespaces (`<prefix><NAME>{SEPARATOR}<service>`): use single hyphens"
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
        // The Argo CD Application (blueprints/service/argocd/application.yaml).
        let app = format!("{}-{}", s.name(), env.name);
        if app.len() > DNS_LABEL_MAX {
            return Err(format!(
                "the preview's Argo CD Application `{app}` of service `{}` is {} characters, and a name may have {DNS_LABEL_MAX}: use a shorter preview name",
                s.name(),
                app.len()
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
    // Host → the service that has it, so two that come out alike are refused.
    let mut hosts: std::collections::BTreeMap<String, String> = Default::default();
    // Every real environment's hosts: a preview host is never one of them.
    let real: std::collections::BTreeMap<String, (String, String)> = resolve(platform, services)
        .into_iter()
        .filter_map(|i| {
            let host = i.ingress?.host;
            Some((host, (i.name, i.environment.name)))
        })
        .collect();
    for i in &mut instances {
        if let Some(ing) = &mut i.ingress {
            let label = host_label(&ing.host, &[&domain, &from.domain], name).ok_or_else(|| {
                format!(
                    "the preview host of service `{}` (from `{}`) cannot fit DNS's {DNS_LABEL_MAX} characters with the preview name `{name}`: use a shorter preview name",
                    i.name, ing.host
                )
            })?;
            ing.host = format!("{label}.{domain}");
            if let Some((other, env)) = real.get(&ing.host) {
                return Err(format!(
                    "the preview host `{}` of service `{}` is the host of service `{other}` in {env}: give `{other}` a host without `{HOST_SEPARATOR}` before its end, or use another preview name",
                    ing.host, i.name
                ));
            }
            if let Some(other) = hosts.insert(ing.host.clone(), i.name.clone()) {
                return Err(format!(
                    "services `{other}` and `{}` would both get the preview host `{}`: give one of them a host that differs in more than its dots and hyphens",
                    i.name, ing.host
                ));
            }
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
        name: format!("{ENVIRONMENT_PREFIX}{name}"),
        cluster: cfg.cluster.clone().unwrap_or_else(|| from.cluster.clone()),
        domain: cfg.domain.clone().unwrap_or_else(|| from.domain.clone()),
        class: cfg.class.clone(),
        namespace_prefix: format!("{}{name}{SEPARATOR}", cfg.namespace_prefix),
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
/// destination globs (`<namespacePrefix>*--<service>`). As no preview or
/// service name holds `--`, the glob matches this service's preview
/// namespaces and no other service's.
pub(crate) fn namespace_glob(cfg: &PreviewConfig, service: &str) -> String {
    format!("{}*{SEPARATOR}{service}", cfg.namespace_prefix)
}

/// The first label of a preview host: the service's host without the
/// domain it is under (the preview's or the `from` environment's, the first
/// of `domains` that it ends with), its labels joined with `-`, then
/// `--<NAME>` ([`HOST_SEPARATOR`]). `api.shop.example.com` in preview 5
/// gives `api-shop-example-com--5`; `shop.staging.acme.dev` under
/// `staging.acme.dev` gives `shop--5`. Longer than a DNS label allows, the
/// joined part is cut and followed by the first 8 hex digits of the XXH3
/// hash of the whole host, so distinct hosts stay distinct and the same host
/// always gives the same label. `None` when not even that fits.
pub(crate) fn host_label(host: &str, domains: &[&str], name: &str) -> Option<String> {
    let short = domains
        .iter()
        .filter(|d| !d.is_empty())
        .find_map(|d| host.strip_suffix(&format!(".{d}")))
        .unwrap_or(host);
    let joined = short.replace('.', "-");
    let label = format!("{joined}{HOST_SEPARATOR}{name}");
    if label.len() <= DNS_LABEL_MAX {
        return Some(label);
    }
    let hash = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(host.as_bytes()));
    let hash = &hash[..HASH_DIGITS];
    let room = DNS_LABEL_MAX.checked_sub(HASH_DIGITS + name.len() + 1 + HOST_SEPARATOR.len())?;
    let cut = joined
        .get(..room.min(joined.len()))
        .unwrap_or_default()
        .trim_end_matches('-');
    Some(if cut.is_empty() {
        format!("{hash}{HOST_SEPARATOR}{name}")
    } else {
        format!("{cut}-{hash}{HOST_SEPARATOR}{name}")
    })
    .filter(|l| l.len() <= DNS_LABEL_MAX)
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
        assert_eq!(shop.namespace, "pr-7--shop");
        assert_eq!(shop.image, "ghcr.io/a/a:2");
        assert_eq!(shop.environment.name, "preview-7");
        assert_eq!(shop.environment.promote, "auto");
        assert_eq!(shop.environment.folder, "previews/7");
        assert_eq!(shop.ingress.as_ref().unwrap().host, "shop--7.preview.a.dev");
        assert_eq!(shop.resources[0].class, "small");
        assert_eq!(shop.labels[PREVIEW_LABEL], "7");
        assert_eq!(shop.dependencies[0].namespace, "pr-7--stock");
        assert_eq!(pv.instances[1].dependents[0].namespace, "pr-7--shop");
    }

    #[test]
    fn a_namespace_over_63_characters_is_refused() {
        // `preview-` + NAME + `--` + `shop`: 63 characters with a name of 49.
        let p = platform(serde_json::json!({"namespacePrefix": "preview-"}));
        let all = [service("shop", serde_json::json!({}))];
        let err = derive(&p, &all, &names(&["shop"]), &"x".repeat(50)).unwrap_err();
        assert!(err.contains("63"), "{err}");
        let ok = derive(&p, &all, &names(&["shop"]), &"x".repeat(49)).unwrap();
        assert_eq!(ok.instances[0].namespace.len(), 63);
        assert!(derive(&p, &all, &names(&["shop"]), "Bad").is_err());
    }

    /// Argo CD's destination glob: `*` matches any run of characters.
    fn glob_matches(glob: &str, text: &str) -> bool {
        match glob.split_once('*') {
            None => glob == text,
            Some((head, tail)) => {
                let Some(rest) = text.strip_prefix(head) else {
                    return false;
                };
                (0..=rest.len())
                    .filter(|i| rest.is_char_boundary(*i))
                    .any(|i| glob_matches(tail, &rest[i..]))
            }
        }
    }

    #[test]
    fn a_preview_namespace_names_one_preview_and_one_service() {
        let p = platform(serde_json::json!({}));
        let all = [
            service("a-b", serde_json::json!({})),
            service("b", serde_json::json!({})),
        ];
        let one = derive(&p, &all, &names(&["a-b"]), "1").unwrap();
        let other = derive(&p, &all, &names(&["b"]), "1-a").unwrap();
        assert_ne!(
            one.instances[0].namespace, other.instances[0].namespace,
            "`a-b` in preview 1 and `b` in preview 1-a"
        );
        assert_eq!(one.instances[0].namespace, "pr-1--a-b");
        assert_eq!(other.instances[0].namespace, "pr-1-a--b");
        // A preview name with the separator in it is refused.
        let err = derive(&p, &all, &names(&["b"]), "1--a").unwrap_err();
        assert!(err.contains("--"), "{err}");
    }

    #[test]
    fn a_services_preview_glob_matches_no_other_services_preview_namespace() {
        let p = platform(serde_json::json!({}));
        let cfg = p.previews.clone().unwrap();
        let from = &p.environments["staging"];
        // The commerce fixture's services and names built to overlap.
        let services = [
            "checkout",
            "inventory",
            "payments",
            "order-events",
            "nightly-report",
            "events",
            "b",
            "a-b",
            "1-a-b",
            "pr",
            "pr-1",
            "x",
            "events-x",
            "s-events",
        ];
        let previews = [
            "1",
            "42",
            "1-a",
            "a",
            "pr-1",
            "x-events",
            "order",
            &"9".repeat(20),
        ];
        for s in services {
            let glob = namespace_glob(&cfg, s);
            for t in services {
                for pv in previews {
                    let ns = crate::model::namespace_of(&environment(&cfg, from, pv), t);
                    assert_eq!(
                        glob_matches(&glob, &ns),
                        s == t,
                        "glob `{glob}` of `{s}` and `{ns}` (`{t}` in preview `{pv}`)"
                    );
                }
            }
        }
    }

    #[test]
    fn preview_hosts_come_from_the_whole_host_and_stay_unique() {
        let p = platform(serde_json::json!({"domain": "preview.a.dev"}));
        let with_host =
            |name: &str, host: &str| service(name, serde_json::json!({"ingress": {"host": host}}));
        let all = [
            with_host("shop", "api.shop.example.com"),
            with_host("admin", "api.admin.example.com"),
            with_host("web", "web"),
            with_host("long", &format!("{}.example.com", "l".repeat(60))),
            with_host("longer", &format!("{}.example.org", "l".repeat(60))),
        ];
        let pv = derive(
            &p,
            &all,
            &names(&["shop", "admin", "web", "long", "longer"]),
            "5",
        )
        .unwrap();
        let host = |n: &str| {
            pv.instances
                .iter()
                .find(|i| i.name == n)
                .and_then(|i| i.ingress.as_ref())
                .map(|i| i.host.clone())
                .unwrap()
        };
        assert_eq!(host("shop"), "api-shop-example-com--5.preview.a.dev");
        assert_eq!(host("admin"), "api-admin-example-com--5.preview.a.dev");
        // A host under the environment's domain keeps its short form.
        assert_eq!(host("web"), "web--5.preview.a.dev");
        let (long, longer) = (host("long"), host("longer"));
        assert_ne!(long, longer);
        for h in [&long, &longer] {
            let label = h.split('.').next().unwrap();
            assert!(is_dns_label(label), "{h}");
            assert!(label.ends_with("--5"), "{h}");
        }
        // The same input, the same host.
        let again = derive(&p, &all, &names(&["long"]), "5").unwrap();
        assert_eq!(again.instances[0].ingress.as_ref().unwrap().host, long);
        // Two hosts that would come out the same are refused.
        let clash = [
            with_host("one", "a-b.example.com"),
            with_host("two", "a.b-example.com"),
        ];
        let err = derive(&p, &clash, &names(&["one", "two"]), "5").unwrap_err();
        assert!(
            err.contains("a-b-example-com--5.preview.a.dev")
                && err.contains("`one`")
                && err.contains("`two`"),
            "{err}"
        );
    }

    /// The reviewer's two cases: (a) without `previews.domain`, staging's
    /// `checkout-feat` and preview `feat`'s `checkout` on one domain;
    /// (b) two previews whose host and name join alike (`checkout-feat` in
    /// preview `x`, `checkout` in preview `feat-x`).
    #[test]
    fn a_preview_host_is_never_a_real_hosts_nor_another_previews() {
        let with_host =
            |name: &str, host: &str| service(name, serde_json::json!({"ingress": {"host": host}}));
        let all = [
            with_host("checkout", "checkout"),
            with_host("payments", "checkout-feat"),
            with_host("api", "api"),
            with_host("api2", "api-2"),
        ];
        let host_of = |p: &Platform, svc: &str, name: &str| {
            derive(p, &all, &names(&[svc]), name)
                .unwrap()
                .instances
                .iter()
                .find(|i| i.name == svc)
                .and_then(|i| i.ingress.as_ref())
                .map(|i| i.host.clone())
                .unwrap()
        };
        // (a) The preview's domain is staging's: no real host is taken.
        let same = platform(serde_json::json!({"from": "staging"}));
        let real: Vec<String> = resolve(&same, &all)
            .into_iter()
            .filter_map(|i| i.ingress.map(|g| g.host))
            .collect();
        assert!(
            real.contains(&"checkout-feat.staging.a.dev".to_string()),
            "{real:?}"
        );
        for (svc, name) in [("checkout", "feat"), ("api", "2")] {
            let h = host_of(&same, svc, name);
            assert!(
                !real.contains(&h),
                "{svc} in preview {name}: {h} is a real host"
            );
        }
        // (b) Two previews never share a host.
        let pv = platform(serde_json::json!({"from": "staging", "domain": "preview.a.dev"}));
        assert_ne!(
            host_of(&pv, "checkout", "feat-x"),
            host_of(&pv, "payments", "x")
        );
        // A real host that a preview host would equal is refused by name.
        let taken = [
            with_host("checkout", "checkout"),
            with_host("payments", "checkout--feat"),
        ];
        let err = derive(&same, &taken, &names(&["checkout"]), "feat").unwrap_err();
        assert!(
            err.contains("checkout--feat.staging.a.dev") && err.contains("`payments`"),
            "{err}"
        );
    }
}
