//! Alert routing as a system (docs/observability.md, "Alert routing"): over
//! every golden tree, every alert carries a `severity` of `page` or `ticket`
//! and its namespace; each service whose team declares a receiver gets an
//! `AlertmanagerConfig` in its namespace that sends page alerts to the
//! paging receiver and ticket alerts to the other (a missing one falls back
//! to the other); and every Secret such a config reads is produced by an
//! ExternalSecret in the same namespace, with the key it reads.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::fixtures::{self, golden_cases, render_specs, Docs};

fn of_kind<'a>(docs: &'a Docs, kind: &str) -> Vec<(&'a str, &'a Value)> {
    docs.iter()
        .filter(|(_, d)| d["kind"] == kind)
        .map(|(p, d)| (p.as_str(), d))
        .collect()
}

fn namespace(d: &Value) -> &str {
    d["metadata"]["namespace"].as_str().unwrap_or("")
}

/// The alerting rules of a PrometheusRule.
fn alerts(rule: &Value) -> Vec<&Value> {
    rule["spec"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter(|r| r.get("alert").is_some())
        .collect()
}

#[test]
fn every_alert_is_page_or_ticket_and_names_its_namespace() {
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for case in golden_cases() {
        let docs = fixtures::documents(&case.join("expected"));
        for (path, rule) in of_kind(&docs, "PrometheusRule") {
            for a in alerts(rule) {
                let name = a["alert"].as_str().unwrap();
                let labels = &a["labels"];
                let severity = labels["severity"].as_str().unwrap_or("");
                // Fast burns (14.4x and 6x) and crash loops wake someone up.
                let expr = a["expr"].as_str().unwrap_or("");
                let want = if name == "CrashLooping" || expr.contains("(14.4 * ") {
                    "page"
                } else {
                    "ticket"
                };
                if severity != want {
                    failures.push(format!(
                        "{}: {path}: {name} has severity {severity:?}, not {want}",
                        case.display()
                    ));
                }
                seen.insert(severity.to_string());
                // The Prometheus Operator matches an AlertmanagerConfig's
                // routes on the alert's `namespace` label; aggregations drop it.
                if labels["namespace"] != namespace(rule) {
                    failures.push(format!(
                        "{}: {path}: {name} has namespace label {}, not {}",
                        case.display(),
                        labels["namespace"],
                        namespace(rule)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        seen,
        BTreeSet::from(["page".to_string(), "ticket".to_string()]),
        "the golden trees must hold alerts of both severities"
    );
}

/// The receiver kind a paved.yaml receiver names (`slack`, `pagerduty`, ...).
fn receiver_kind(receiver: &Value) -> Option<&str> {
    receiver.as_object()?.keys().next().map(String::as_str)
}

/// The AlertmanagerConfig receiver kind of a `receivers` item.
fn config_kind(receiver: &Value) -> Vec<&'static str> {
    [
        ("slackConfigs", "slack"),
        ("pagerdutyConfigs", "pagerduty"),
        ("emailConfigs", "email"),
        ("webhookConfigs", "webhook"),
    ]
    .into_iter()
    .filter(|(field, _)| receiver.get(*field).is_some())
    .map(|(_, kind)| kind)
    .collect()
}

/// The receiver a route sends alerts of `severity` to: the child route whose
/// matchers select exactly that severity.
fn route_for<'a>(config: &'a Value, severity: &str) -> Option<&'a str> {
    let children = config["spec"]["route"]["routes"].as_array()?;
    let hits: Vec<&str> = children
        .iter()
        .filter(|r| {
            r["matchers"].as_array().is_some_and(|m| {
                m.iter().any(|m| {
                    m["name"] == "severity" && m["value"] == severity && m["matchType"] == "="
                })
            })
        })
        .filter_map(|r| r["receiver"].as_str())
        .collect();
    (hits.len() == 1).then(|| hits[0])
}

#[test]
fn alerts_route_by_severity_to_the_team_receivers() {
    let mut failures = Vec::new();
    let mut kinds: BTreeSet<String> = BTreeSet::new();
    for case in golden_cases() {
        let config: Value = std::fs::read_to_string(case.join("input/paved.yaml"))
            .ok()
            .map(|t| serde_yaml::from_str(&t).unwrap())
            .unwrap_or(Value::Null);
        let teams = &config["spec"]["teams"];
        let docs = fixtures::documents(&case.join("expected"));
        let configs: BTreeMap<&str, &Value> = of_kind(&docs, "AlertmanagerConfig")
            .into_iter()
            .map(|(_, d)| (namespace(d), d))
            .collect();
        for (path, rule) in of_kind(&docs, "PrometheusRule") {
            let owner = rule["metadata"]["labels"]["owner"].as_str().unwrap();
            let alerts = &teams[owner]["alerts"];
            let page = alerts.get("page").filter(|v| !v.is_null());
            let ticket = alerts.get("ticket").filter(|v| !v.is_null());
            let where_ = format!("{}: {path} (team {owner})", case.display());
            let Some(am) = configs.get(namespace(rule)) else {
                if page.is_some() || ticket.is_some() {
                    failures.push(format!("{where_}: no AlertmanagerConfig"));
                }
                continue;
            };
            if page.is_none() && ticket.is_none() {
                failures.push(format!(
                    "{where_}: an AlertmanagerConfig for a team without receivers"
                ));
                continue;
            }
            let receivers: BTreeMap<&str, &Value> = am["spec"]["receivers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["name"].as_str().unwrap(), r))
                .collect();
            for (severity, want) in [("page", page.or(ticket)), ("ticket", ticket.or(page))] {
                let want = want.and_then(receiver_kind).unwrap();
                let got = route_for(am, severity)
                    .and_then(|name| receivers.get(name))
                    .map(|r| config_kind(r));
                if got != Some(vec![want]) {
                    failures.push(format!(
                        "{where_}: {severity} alerts go to {got:?}, not [{want}]"
                    ));
                }
                kinds.insert(want.to_string());
            }
            // The route is the service's: its alerts carry these labels.
            let matchers = &am["spec"]["route"]["matchers"];
            let service = alerts_of(rule, "service");
            if !matchers.as_array().is_some_and(|m| {
                m.iter()
                    .any(|m| m["name"] == "service" && m["value"] == service.as_str())
            }) {
                failures.push(format!(
                    "{where_}: the route does not match service={service}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        kinds,
        ["email", "pagerduty", "slack", "webhook"]
            .map(String::from)
            .into(),
        "the golden trees must route to every receiver kind"
    );
}

/// The one value every alert of a PrometheusRule gives the label `name`.
fn alerts_of(rule: &Value, name: &str) -> String {
    let values: BTreeSet<&str> = alerts(rule)
        .iter()
        .filter_map(|a| a["labels"][name].as_str())
        .collect();
    assert_eq!(values.len(), 1, "label {name}: {values:?}");
    values.into_iter().next().unwrap().to_string()
}

/// Every `{name, key}` secret selector under `value`, with its JSON path.
fn secret_selectors<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.get("key").is_some_and(Value::is_string)
                && map.get("name").is_some_and(Value::is_string)
            {
                out.push((at, value));
                return;
            }
            for (k, v) in map {
                secret_selectors(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                secret_selectors(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_secret_an_alertmanager_config_reads_has_a_producer() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in golden_cases() {
        let docs = fixtures::documents(&case.join("expected"));
        // (namespace, Secret) → the keys ExternalSecrets write into it.
        let mut produced: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for (_, es) in of_kind(&docs, "ExternalSecret") {
            let target = es["spec"]["target"]["name"]
                .as_str()
                .or(es["metadata"]["name"].as_str())
                .unwrap();
            let keys = produced.entry((namespace(es), target)).or_default();
            for d in es["spec"]["data"].as_array().into_iter().flatten() {
                keys.insert(d["secretKey"].as_str().unwrap());
            }
        }
        for (path, am) in of_kind(&docs, "AlertmanagerConfig") {
            let mut refs = Vec::new();
            secret_selectors(
                &am["spec"]["receivers"],
                "/spec/receivers".into(),
                &mut refs,
            );
            for (at, r) in refs {
                seen += 1;
                let (name, key) = (r["name"].as_str().unwrap(), r["key"].as_str().unwrap());
                let ok = produced
                    .get(&(namespace(am), name))
                    .is_some_and(|keys| keys.contains(key));
                if !ok {
                    failures.push(format!(
                        "{}: {path}{at} reads key {key} of Secret {name}, which no ExternalSecret in {} produces",
                        case.display(),
                        namespace(am)
                    ));
                }
            }
        }
    }
    assert!(
        seen > 0,
        "no AlertmanagerConfig reads a Secret in any golden tree"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const PLATFORM: &str = r##"apiVersion: paved.dev/v1
kind: Platform
metadata: {name: acme}
spec:
  environments:
    staging: {cluster: "https://staging.example", domain: staging.acme.dev}
  teams:
    team-orders:
      alerts:
        page: {slack: {channel: "#orders-page", secret: "orders/slack#page-url"}}
        ticket: {email: {to: orders@acme.dev}}
ALERTING"##;

const SPEC: &str = r#"apiVersion: paved.dev/v1
kind: Application
metadata: {name: orders, owner: team-orders, costCenter: cc-1}
spec:
  image: ghcr.io/acme/orders:1.4.2
  ports: [{name: http, port: 8080}]
"#;

fn alertmanager_config(alerting: &str) -> Value {
    let docs = render_specs(
        Some(&PLATFORM.replace("ALERTING", alerting)),
        &[("orders", SPEC)],
    );
    let configs = of_kind(&docs, "AlertmanagerConfig");
    assert_eq!(configs.len(), 1, "{configs:?}");
    configs[0].1.clone()
}

#[test]
fn grouping_repeats_and_inhibition_are_the_platforms() {
    let am = alertmanager_config("");
    let route = &am["spec"]["route"];
    assert_eq!(
        route["groupBy"],
        serde_json::json!(["alertname", "service"])
    );
    assert_eq!(route["groupWait"], "30s");
    assert_eq!(route["groupInterval"], "5m");
    let repeat = |am: &Value, severity: &str| -> String {
        am["spec"]["route"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["matchers"][0]["value"] == severity)
            .map(|r| r["repeatInterval"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(repeat(&am, "page"), "1h");
    assert_eq!(repeat(&am, "ticket"), "24h");
    // A page silences its ticket twin: same alert, same service.
    assert_eq!(
        am["spec"]["inhibitRules"],
        serde_json::json!([{
            "sourceMatch": [{"name": "severity", "value": "page", "matchType": "="}],
            "targetMatch": [{"name": "severity", "value": "ticket", "matchType": "="}],
            "equal": ["alertname", "service"],
        }])
    );
    // Without platform SMTP settings, the Alertmanager's global ones apply.
    let email = &am["spec"]["receivers"][1]["emailConfigs"][0];
    assert_eq!(email["to"], "orders@acme.dev");
    assert!(email.get("smarthost").is_none(), "{email}");

    let am = alertmanager_config(
        "  alerting:\n    groupBy: [alertname, slo]\n    groupWait: 1m\n    groupInterval: 10m\n    repeatInterval: {page: 30m, ticket: 3d}\n    email: {from: alerts@acme.dev, smarthost: \"smtp.acme.dev:587\"}\n",
    );
    let route = &am["spec"]["route"];
    assert_eq!(route["groupBy"], serde_json::json!(["alertname", "slo"]));
    assert_eq!(route["groupWait"], "1m");
    assert_eq!(route["groupInterval"], "10m");
    assert_eq!(repeat(&am, "page"), "30m");
    assert_eq!(repeat(&am, "ticket"), "3d");
    let email = &am["spec"]["receivers"][1]["emailConfigs"][0];
    assert_eq!(email["from"], "alerts@acme.dev");
    assert_eq!(email["smarthost"], "smtp.acme.dev:587");
}

#[test]
fn a_team_without_receivers_gets_no_alertmanager_config() {
    let platform = PLATFORM
        .replace("ALERTING", "")
        .replace("team-orders:\n", "team-orders:\n      group: sso:orders\n")
        .lines()
        .filter(|l| !l.contains("alerts:") && !l.contains("page:") && !l.contains("ticket:"))
        .collect::<Vec<_>>()
        .join("\n");
    let docs = render_specs(Some(&platform), &[("orders", SPEC)]);
    assert!(!of_kind(&docs, "PrometheusRule").is_empty());
    assert!(of_kind(&docs, "AlertmanagerConfig").is_empty());
}
