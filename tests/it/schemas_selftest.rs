//! Proves the schema harness (`tests/support/schemas.rs`) can fail: valid hand-written documents
//! pass, and a typo, a wrong type, a missing required field and an unknown kind each fail with a
//! message naming the offending path. Runs offline on `tests/external-schemas` only.

use crate::support::schemas::Schemas;
use serde_json::{json, Value};

fn pass(schemas: &Schemas, doc: &Value) {
    if let Err(errors) = schemas.validate(doc) {
        panic!(
            "{} {} should be valid, got:\n  {}",
            doc["apiVersion"],
            doc["kind"],
            errors.join("\n  ")
        );
    }
}

/// Asserts that `doc` is rejected with a message starting with `prefix` (a JSON pointer and a
/// colon, or the whole "no schema" message).
fn fail(schemas: &Schemas, doc: &Value, prefix: &str) -> Vec<String> {
    match schemas.validate(doc) {
        Ok(()) => panic!(
            "{} {} should be invalid ({prefix}), but passed:\n{doc:#}",
            doc["apiVersion"], doc["kind"]
        ),
        Err(errors) => {
            assert!(
                errors.iter().any(|e| e.starts_with(prefix)),
                "expected a message starting with {prefix:?}, got:\n  {}",
                errors.join("\n  ")
            );
            errors
        }
    }
}

/// `doc` with the value at `pointer` (parent must exist) replaced or added.
fn with(mut doc: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let target = doc.pointer_mut(parent).expect("parent exists");
    match target {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().expect("index")] = value,
        _ => panic!("{parent} is not a container"),
    }
    doc
}

/// `doc` without the value at `pointer`.
fn without(mut doc: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let removed = doc
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove(key));
    assert!(removed.is_some(), "{pointer} not in the document");
    doc
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "registry.example.com/web:1.2.3",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"memory": 256}
                        },
                        "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false}
                    }]
                }
            }
        }
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090, "targetPort": 9090}
            ]
        }
    })
}

fn namespace() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"team": "checkout"}}
    })
}

fn network_policy() -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web-ingress", "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}]
            }]
        }
    })
}

fn application() -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop-web", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://git.example.com/platform/rendered.git",
                "path": "prod/shop/web",
                "targetRevision": "main"
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["CreateNamespace=false"]
            }
        }
    })
}

fn external_secret() -> Value {
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "web-db", "namespace": "shop"},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
            "target": {"name": "web-db", "creationPolicy": "Owner"},
            "data": [{"secretKey": "password", "remoteRef": {"key": "shop/web/db", "property": "password"}}]
        }
    })
}

#[test]
fn every_bundled_schema_compiles() {
    let schemas = Schemas::load();
    if let Err(errors) = schemas.compile_all() {
        panic!("{}", errors.join("\n"));
    }
    let kinds = schemas.kinds();
    for expected in [
        "apps/v1 Deployment",
        "v1 Service",
        "v1 ConfigMap",
        "v1 Namespace",
        "autoscaling/v2 HorizontalPodAutoscaler",
        "networking.k8s.io/v1 NetworkPolicy",
        "policy/v1 PodDisruptionBudget",
        "batch/v1 CronJob",
        "argoproj.io/v1alpha1 Application",
        "argoproj.io/v1alpha1 AppProject",
        "external-secrets.io/v1 ExternalSecret",
        "apiextensions.crossplane.io/v2 CompositeResourceDefinition",
        "templates.gatekeeper.sh/v1 ConstraintTemplate",
        "monitoring.coreos.com/v1 PrometheusRule",
        "monitoring.coreos.com/v1 ServiceMonitor",
        "grafana.integreatly.org/v1beta1 GrafanaDashboard",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} missing from {kinds:#?}"
        );
    }
}

#[test]
fn valid_documents_pass() {
    let schemas = Schemas::load();
    for doc in [
        deployment(),
        service(),
        namespace(),
        network_policy(),
        application(),
        external_secret(),
    ] {
        pass(&schemas, &doc);
    }
}

#[test]
fn typos_fail() {
    let schemas = Schemas::load();
    // Strict core schema: a misspelled field anywhere, at the top, in metadata.
    let typo = with(deployment(), "/spec/replica", json!(2));
    let errors = fail(&schemas, &typo, "/spec/replica:");
    assert!(errors[0].contains("unknown field"), "{errors:?}");
    fail(
        &schemas,
        &with(
            deployment(),
            "/spec/template/spec/containers/0/imagePullPolicyy",
            json!("Always"),
        ),
        "/spec/template/spec/containers/0/imagePullPolicyy:",
    );
    fail(&schemas, &with(service(), "/spce", json!({})), "/spce:");
    fail(
        &schemas,
        &with(namespace(), "/metadata/lables", json!({})),
        "/metadata/lables:",
    );
    // CRD schemas are closed where they declare properties (the API server prunes / rejects).
    fail(
        &schemas,
        &with(application(), "/spec/destination/namepsace", json!("shop")),
        "/spec/destination/namepsace:",
    );
    fail(
        &schemas,
        &with(
            external_secret(),
            "/spec/target/creationPolicyy",
            json!("Owner"),
        ),
        "/spec/target/creationPolicyy:",
    );
    fail(
        &schemas,
        &with(application(), "/metadata/annotation", json!({})),
        "/metadata/annotation:",
    );
    fail(
        &schemas,
        &with(application(), "/specs", json!({})),
        "/specs:",
    );
}

#[test]
fn wrong_types_fail() {
    let schemas = Schemas::load();
    fail(
        &schemas,
        &with(deployment(), "/spec/replicas", json!("2")),
        "/spec/replicas:",
    );
    fail(
        &schemas,
        &with(network_policy(), "/spec/policyTypes", json!("Ingress")),
        "/spec/policyTypes:",
    );
    fail(
        &schemas,
        &with(service(), "/spec/ports/0/targetPort", json!(true)),
        "/spec/ports/0/targetPort:",
    );
    fail(
        &schemas,
        &with(namespace(), "/metadata/labels/team", json!(1)),
        "/metadata/labels/team:",
    );
    fail(
        &schemas,
        &with(
            application(),
            "/spec/syncPolicy/automated/prune",
            json!("yes"),
        ),
        "/spec/syncPolicy/automated/prune:",
    );
    fail(
        &schemas,
        &with(
            external_secret(),
            "/spec/secretStoreRef/kind",
            json!("Vault"),
        ),
        "/spec/secretStoreRef/kind:",
    );
}

#[test]
fn missing_required_fields_fail() {
    let schemas = Schemas::load();
    fail(
        &schemas,
        &without(deployment(), "/spec/selector"),
        "/spec/selector:",
    );
    fail(
        &schemas,
        &without(deployment(), "/spec/template/spec/containers/0/name"),
        "/spec/template/spec/containers/0/name:",
    );
    fail(
        &schemas,
        &without(service(), "/spec/ports/0/port"),
        "/spec/ports/0/port:",
    );
    fail(
        &schemas,
        &without(application(), "/spec/destination"),
        "/spec/destination:",
    );
    fail(
        &schemas,
        &without(external_secret(), "/spec/data/0/remoteRef"),
        "/spec/data/0/remoteRef:",
    );
    fail(
        &schemas,
        &without(namespace(), "/metadata/name"),
        "/metadata/name:",
    );
}

#[test]
fn unknown_kinds_fail() {
    let schemas = Schemas::load();
    let errors = fail(
        &schemas,
        &with(deployment(), "/kind", json!("Deploymnt")),
        "no schema for apps/v1 Deploymnt",
    );
    assert_eq!(errors.len(), 1);
    fail(
        &schemas,
        &with(deployment(), "/apiVersion", json!("apps/v1beta2")),
        "no schema for apps/v1beta2 Deployment",
    );
    // v1beta1 is no longer served by External Secrets: not silently accepted.
    fail(
        &schemas,
        &with(
            external_secret(),
            "/apiVersion",
            json!("external-secrets.io/v1beta1"),
        ),
        "no schema for external-secrets.io/v1beta1 ExternalSecret",
    );
    // An XR / Constraint kind nobody registered.
    fail(
        &schemas,
        &json!({"apiVersion": "platform.paved.dev/v1alpha1", "kind": "XApp", "metadata": {"name": "x"}, "spec": {}}),
        "no schema for platform.paved.dev/v1alpha1 XApp",
    );
    fail(
        &schemas,
        &json!({"kind": "Service"}),
        "/: apiVersion and kind",
    );
}

#[test]
fn openapi_conversions() {
    let schemas = Schemas::load();
    // x-kubernetes-int-or-string: both forms, nothing else.
    let monitor = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "endpoints": [{"targetPort": 9090, "interval": "30s"}, {"targetPort": "metrics"}]
        }
    });
    pass(&schemas, &monitor);
    fail(
        &schemas,
        &with(monitor, "/spec/endpoints/1/targetPort", json!(1.5)),
        "/spec/endpoints/1/targetPort:",
    );
    // x-kubernetes-preserve-unknown-fields: free-form Helm values are accepted.
    let helm = with(
        application(),
        "/spec/source/helm",
        json!({"valuesObject": {"anything": {"goes": [1, "two"]}}}),
    );
    pass(&schemas, &helm);
    // nullable: null accepted where the CRD says nullable, rejected elsewhere.
    let es = with(external_secret(), "/status", json!({"refreshTime": null}));
    pass(&schemas, &es);
    fail(
        &schemas,
        &with(external_secret(), "/spec/secretStoreRef/name", Value::Null),
        "/spec/secretStoreRef/name:",
    );
    // PrometheusRule expr is int-or-string.
    let rule = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"groups": [{"name": "web", "rules": [{"alert": "WebDown", "expr": "up{job=\"web\"} == 0", "for": "5m", "labels": {"severity": "page"}}]}]}
    });
    pass(&schemas, &rule);
    fail(
        &schemas,
        &with(rule, "/spec/groups/0/rules/0/severity", json!("page")),
        "/spec/groups/0/rules/0/severity:",
    );
}

fn xrd() -> Value {
    json!({
        "apiVersion": "apiextensions.crossplane.io/v2",
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": "xapps.platform.paved.dev"},
        "spec": {
            "group": "platform.paved.dev",
            "names": {"kind": "XApp", "plural": "xapps"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1alpha1",
                "served": true,
                "referenceable": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["image"],
                            "properties": {
                                "image": {"type": "string"},
                                "replicas": {"type": "integer", "minimum": 1},
                                "port": {"x-kubernetes-int-or-string": true},
                                "env": {"type": "object", "additionalProperties": {"type": "string"}}
                            }
                        },
                        "status": {"type": "object", "properties": {"url": {"type": "string"}}}
                    }
                }}
            }]
        }
    })
}

#[test]
fn xrd_defines_its_xr() {
    let mut schemas = Schemas::load();
    let xrd = xrd();
    pass(&schemas, &xrd);
    schemas.register_rendered(&xrd);
    schemas.register_rendered(&namespace()); // other kinds are ignored
    let xr = json!({
        "apiVersion": "platform.paved.dev/v1alpha1",
        "kind": "XApp",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "image": "registry.example.com/web:1.2.3",
            "replicas": 2,
            "port": "http",
            "env": {"LOG_LEVEL": "info"},
            "crossplane": {"compositionRef": {"name": "app-default"}}
        }
    });
    pass(&schemas, &xr);
    fail(
        &schemas,
        &with(xr.clone(), "/spec/replcas", json!(2)),
        "/spec/replcas:",
    );
    fail(
        &schemas,
        &with(xr.clone(), "/spec/replicas", json!(0)),
        "/spec/replicas:",
    );
    fail(
        &schemas,
        &without(xr.clone(), "/spec/image"),
        "/spec/image:",
    );
    fail(
        &schemas,
        &with(
            xr.clone(),
            "/spec/crossplane/compositionRef/nam",
            json!("x"),
        ),
        "/spec/crossplane/compositionRef/nam:",
    );
    // A v2 XR keeps Crossplane's fields under spec.crossplane, not directly under spec.
    fail(
        &schemas,
        &with(xr, "/spec/compositionRef", json!({"name": "x"})),
        "/spec/compositionRef:",
    );
    // Only served versions become kinds.
    let mut unserved = Schemas::load();
    unserved.register_rendered(&with(xrd, "/spec/versions/0/served", json!(false)));
    assert!(unserved.kinds().iter().all(|k| !k.ends_with(" XApp")));
}

fn constraint_template() -> Value {
    json!({
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {"name": "k8srequiredlabels"},
        "spec": {
            "crd": {"spec": {
                "names": {"kind": "K8sRequiredLabels"},
                "validation": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "labels": {"type": "array", "items": {"type": "string"}},
                        "message": {"type": "string"}
                    }
                }}
            }},
            "targets": [{
                "target": "admission.k8s.gatekeeper.sh",
                "code": [{"engine": "Rego", "source": {"version": "v1", "rego": "package k8srequiredlabels\n\nviolation contains {\"msg\": msg} if {\n  some label in input.parameters.labels\n  not input.review.object.metadata.labels[label]\n  msg := sprintf(\"missing label %v\", [label])\n}\n"}}]
            }]
        }
    })
}

#[test]
fn constraint_template_defines_its_constraint() {
    let mut schemas = Schemas::load();
    let template = constraint_template();
    pass(&schemas, &template);
    schemas.register_rendered(&template);
    let constraint = json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": "K8sRequiredLabels",
        "metadata": {"name": "namespaces-need-owner"},
        "spec": {
            "enforcementAction": "deny",
            "match": {
                "kinds": [{"apiGroups": [""], "kinds": ["Namespace"]}],
                "excludedNamespaces": ["kube-*"],
                "labelSelector": {"matchExpressions": [{"key": "paved.dev/managed", "operator": "Exists"}]}
            },
            "parameters": {"labels": ["owner"], "message": "every namespace needs an owner"}
        }
    });
    pass(&schemas, &constraint);
    fail(
        &schemas,
        &with(
            constraint.clone(),
            "/spec/parameters/lables",
            json!(["owner"]),
        ),
        "/spec/parameters/lables:",
    );
    fail(
        &schemas,
        &with(
            constraint.clone(),
            "/spec/parameters/labels",
            json!("owner"),
        ),
        "/spec/parameters/labels:",
    );
    fail(
        &schemas,
        &with(constraint.clone(), "/spec/enforcementAction", json!(true)),
        "/spec/enforcementAction:",
    );
    fail(
        &schemas,
        &with(constraint.clone(), "/spec/match/kind", json!([])),
        "/spec/match/kind:",
    );
    fail(
        &schemas,
        &with(constraint.clone(), "/spec/parameter", json!({})),
        "/spec/parameter:",
    );
    // Another kind of constraint is still unknown.
    fail(
        &schemas,
        &with(constraint, "/kind", json!("K8sRequiredLabel")),
        "no schema for constraints.gatekeeper.sh/v1beta1 K8sRequiredLabel",
    );
}

#[test]
fn legacy_constraint_template_checks_types_only() {
    // templates.gatekeeper.sh/v1beta1 defaults legacySchema to true: Gatekeeper keeps unknown
    // parameters, but the declared ones keep their types.
    let mut schemas = Schemas::load();
    let template = with(
        constraint_template(),
        "/apiVersion",
        json!("templates.gatekeeper.sh/v1beta1"),
    );
    schemas.register_rendered(&template);
    let constraint = json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": "K8sRequiredLabels",
        "metadata": {"name": "owner"},
        "spec": {"parameters": {"labels": ["owner"], "extra": 1}}
    });
    pass(&schemas, &constraint);
    fail(
        &schemas,
        &with(constraint, "/spec/parameters/labels", json!([1])),
        "/spec/parameters/labels/0:",
    );
}

#[test]
fn rendered_crd_defines_its_kind() {
    let mut schemas = Schemas::load();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {"type": "object", "properties": {
                        "size": {"type": "integer", "nullable": true},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}
                    }}}
                }}},
                {"name": "v0", "served": false, "storage": false, "schema": {"openAPIV3Schema": {"type": "object"}}}
            ]
        }
    });
    schemas.register_rendered(&crd);
    let widget = json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": null, "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}}
    });
    pass(&schemas, &widget);
    fail(
        &schemas,
        &with(widget.clone(), "/spec/sise", json!(1)),
        "/spec/sise:",
    );
    fail(
        &schemas,
        &without(widget.clone(), "/spec/template/kind"),
        "/spec/template/kind:",
    );
    fail(
        &schemas,
        &with(widget.clone(), "/spec/template/metadata/nam", json!("c")),
        "/spec/template/metadata/nam:",
    );
    fail(
        &schemas,
        &with(widget, "/apiVersion", json!("example.com/v0")),
        "no schema for example.com/v0 Widget",
    );
}

#[test]
fn alertmanager_config_follows_the_upstream_crd() {
    let schemas = Schemas::load();
    let config = json!({
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "route": {
                "receiver": "ticket",
                "groupBy": ["alertname"],
                "groupWait": "30s",
                "matchers": [{"name": "service", "value": "web", "matchType": "="}],
                "routes": [{"receiver": "page", "matchers": [{"name": "severity", "value": "page"}]}]
            },
            "receivers": [
                {"name": "page", "pagerdutyConfigs": [{"routingKey": {"name": "web-alerting", "key": "page"}}]},
                {"name": "ticket", "slackConfigs": [{"apiURL": {"name": "web-alerting", "key": "ticket"}, "channel": "#web"}]}
            ],
            "inhibitRules": [{
                "sourceMatch": [{"name": "severity", "value": "page", "matchType": "="}],
                "targetMatch": [{"name": "severity", "value": "ticket", "matchType": "="}],
                "equal": ["alertname"]
            }]
        }
    });
    pass(&schemas, &config);
    fail(
        &schemas,
        &with(config.clone(), "/spec/route/groupWait", json!("30 seconds")),
        "/spec/route/groupWait:",
    );
    fail(
        &schemas,
        &with(
            config.clone(),
            "/spec/inhibitRules/0/sourceMatch/0/matchType",
            json!("=="),
        ),
        "/spec/inhibitRules/0/sourceMatch/0/matchType:",
    );
    // A credential is a Secret reference, never a literal.
    fail(
        &schemas,
        &with(
            config,
            "/spec/receivers/1/slackConfigs/0/apiURL",
            json!("https://hooks.slack.com/services/T0/B0/x"),
        ),
        "/spec/receivers/1/slackConfigs/0/apiURL:",
    );
}
