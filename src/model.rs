//! The typed, defaulted model: what blueprints see.
//!
//! Input files are validated against their schemas before they reach this
//! module, so deserialising them into the types below cannot fail on shape.
//! This module then applies the platform's defaults and each environment's
//! overrides and resolves the dependency graph, producing one [`Instance`] per
//! service per environment. Blueprints receive `Instance`s (and the
//! [`Platform`]), never raw YAML, so a template cannot see a value that was
//! not validated.
//!
//! Every struct a file deserialises into denies unknown fields, and a test
//! (`model/schema_contract.rs`) walks both schemas: each property is a field
//! here and each field a property there, so the two cannot drift apart.
//!
//! Architecture invariant: pure; no IO, no diagnostics about syntax. Semantic
//! findings live in `validate::semantic`, which runs before `resolve`.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::load::Node;
use crate::source::SourceRef;

pub(crate) mod preview;

// ---------------------------------------------------------------------------
// paved.yaml
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PlatformFile {
    /// The schema's `const`s (`paved.dev/v1`, `Platform`), named because the
    /// struct denies unknown fields; optional, so that a test can build a
    /// platform from a bare `{metadata, spec}`.
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    pub metadata: PlatformMeta,
    pub spec: Platform,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlatformMeta {
    pub name: String,
}

/// The platform configuration with every default filled in.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Platform {
    /// `metadata.name`, copied in by `from_json`.
    #[serde(skip_deserializing)]
    pub name: String,
    pub environments: IndexMap<String, EnvironmentConfig>,
    #[serde(default)]
    pub gitops: GitOps,
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    #[serde(default = "default_required_labels")]
    pub required_labels: Vec<String>,
    #[serde(default = "default_sizes")]
    pub sizes: IndexMap<String, Compute>,
    #[serde(default)]
    pub resource_policy: ResourcePolicy,
    #[serde(default)]
    pub autoscaling: AutoscalingDefaults,
    #[serde(default)]
    pub secret_store: SecretStore,
    #[serde(default)]
    pub ingress_classes: IngressClasses,
    #[serde(default)]
    pub ingress: IngressConfig,
    #[serde(default)]
    pub network_policy: NetworkPolicyConfig,
    #[serde(default)]
    pub waivers: WaiverConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub crossplane: CrossplaneConfig,
    #[serde(default)]
    pub observability: ObservabilityConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    /// The teams that own services (docs/access.md), by `metadata.owner`.
    #[serde(default)]
    pub teams: IndexMap<String, TeamConfig>,
    /// How the teams' alerts are grouped, repeated and inhibited
    /// (docs/observability.md, "Alert routing").
    #[serde(default)]
    pub alerting: AlertingConfig,
    #[serde(default)]
    pub limits: Limits,
    /// How `paved diff` judges a change (docs/cli.md, "paved diff").
    #[serde(default)]
    pub review: ReviewConfig,
    /// The price table `paved cost` estimates with (docs/cost.md); without
    /// one there is no cost output.
    #[serde(default)]
    pub cost: Option<CostConfig>,
    /// Monthly budgets, per team (a key of `teams`) and environment, in the
    /// price table's currency (docs/cost.md).
    #[serde(default)]
    pub budgets: IndexMap<String, IndexMap<String, f64>>,
    /// What `paved promote` copies between environments, and in which
    /// order a release must pass them (docs/environments.md).
    #[serde(default)]
    pub promotion: PromotionConfig,
    /// Monthly budgets per service (`metadata.name`) and environment.
    #[serde(default)]
    pub service_budgets: IndexMap<String, IndexMap<String, f64>>,
    /// The severity of `paved::policy::over-budget` (docs/cost.md).
    #[serde(default)]
    pub budget_enforcement: BudgetEnforcement,
    /// The override folder as written in paved.yaml (resolved by `app`).
    #[serde(default)]
    pub blueprints: Option<String>,
    /// Preview environments of `paved render --preview NAME`
    /// (docs/environments.md, "Preview environments").
    #[serde(default)]
    pub previews: Option<PreviewConfig>,
}

/// paved.yaml `previews`: how `paved render --preview NAME` derives a
/// preview environment from an existing one.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PreviewConfig {
    /// The environment a preview starts from: its cluster, domain and the
    /// services' overrides for it.
    #[serde(default = "default_preview_from")]
    pub from: String,
    /// The cluster previews run on; absent: the `from` environment's.
    #[serde(default)]
    pub cluster: Option<String>,
    /// The domain preview hosts are under; absent: the `from` environment's.
    #[serde(default)]
    pub domain: Option<String>,
    /// Put in front of `<NAME>--<service>` in every preview namespace.
    #[serde(default = "default_preview_prefix")]
    pub namespace_prefix: String,
    /// How long a preview may live, e.g. `72h`: an annotation on its Argo CD
    /// Applications for a clean-up job to read.
    #[serde(default = "default_preview_ttl")]
    pub ttl: String,
    /// The infrastructure class of every managed resource in a preview.
    #[serde(default = "default_preview_class")]
    pub class: String,
}

fn default_preview_from() -> String {
    "staging".into()
}

fn default_preview_prefix() -> String {
    "pr-".into()
}

fn default_preview_ttl() -> String {
    "72h".into()
}

fn default_preview_class() -> String {
    "small".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentConfig {
    /// The key it is listed under, copied in by `Platform::from_json`.
    #[serde(skip_deserializing)]
    pub name: String,
    pub cluster: String,
    pub domain: String,
    #[serde(default = "default_class")]
    pub class: String,
    #[serde(default)]
    pub namespace_prefix: String,
    /// `auto` or `manual`: what a service that does not say gets here.
    /// Absent in paved.yaml, `Platform::from_json` fills it in: `auto`, or
    /// `manual` when auto-promotion is not allowed.
    #[serde(default)]
    pub promote: Option<String>,
    /// Whether a service may say `promote: auto` here.
    #[serde(default = "yes")]
    pub allow_auto_promote: bool,
    /// The ClusterRole each owning team's group is bound to, by a
    /// RoleBinding, in its services' namespaces here (docs/access.md).
    /// Absent in paved.yaml, `Platform::from_json` fills it in from
    /// `default_team_role`.
    #[serde(default)]
    pub team_role: Option<String>,
    /// The progressive delivery every service must use here
    /// (docs/resources.md, "Rollout").
    #[serde(default)]
    pub require_rollout: RequireRollout,
    /// Its output folder relative to `DIR`, when not its name: a preview's
    /// `previews/<NAME>` (`model::preview`). Never in paved.yaml.
    #[serde(skip)]
    pub folder: Option<String>,
}

/// paved.yaml `environments.<env>.requireRollout`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RequireRollout {
    #[default]
    None,
    Any,
    Canary,
    BlueGreen,
}

impl RequireRollout {
    /// Whether a service delivering with `strategy` (`None`: a plain
    /// Deployment) meets the requirement.
    pub fn allows(self, strategy: Option<RolloutStrategy>) -> bool {
        match (self, strategy) {
            (RequireRollout::None, _) => true,
            (RequireRollout::Any, s) => s.is_some(),
            (RequireRollout::Canary, s) => s == Some(RolloutStrategy::Canary),
            (RequireRollout::BlueGreen, s) => s == Some(RolloutStrategy::BlueGreen),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequireRollout::None => "none",
            RequireRollout::Any => "any",
            RequireRollout::Canary => "canary",
            RequireRollout::BlueGreen => "blueGreen",
        }
    }
}

impl EnvironmentConfig {
    /// The promotion of a service that does not set `promote` here.
    pub fn default_promote(&self) -> &str {
        match self.promote.as_deref() {
            Some(p) => p,
            None if self.allow_auto_promote => "auto",
            None => "manual",
        }
    }

    /// The ClusterRole teams get here: `teamRole`, else `view` where a
    /// person syncs by default (`promote: manual`) and `edit` where Argo CD
    /// does.
    pub fn team_role(&self) -> &str {
        match self.team_role.as_deref() {
            Some(r) => r,
            None if self.default_promote() == "manual" => "view",
            None => "edit",
        }
    }
}

fn default_class() -> String {
    "standard".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct GitOps {
    // camelCase would make it `repoUrl`; paved.yaml spells it `repoURL`.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub path: String,
    pub argocd_namespace: String,
    /// How many times Argo CD retries a failed sync of each Application
    /// (a CRD not there yet, a webhook not ready), with exponential backoff.
    pub retry_limit: u32,
}

impl Default for GitOps {
    fn default() -> Self {
        GitOps {
            repo_url: String::new(),
            target_revision: "main".into(),
            path: "rendered".into(),
            argocd_namespace: "argocd".into(),
            retry_limit: 5,
        }
    }
}

fn default_required_labels() -> Vec<String> {
    vec!["owner".into(), "cost-center".into()]
}

fn default_sizes() -> IndexMap<String, Compute> {
    [
        ("small", "100m", "128Mi"),
        ("medium", "250m", "256Mi"),
        ("large", "1", "1Gi"),
    ]
    .into_iter()
    .map(|(n, c, m)| {
        (
            n.to_string(),
            Compute {
                cpu: Quantity::Str(c.into()),
                memory: m.into(),
            },
        )
    })
    .collect()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ResourcePolicy {
    pub cpu_limit_factor: f64,
    pub memory_limit_factor: f64,
}

impl Default for ResourcePolicy {
    fn default() -> Self {
        ResourcePolicy {
            cpu_limit_factor: 2.0,
            memory_limit_factor: 1.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct AutoscalingDefaults {
    pub min: u32,
    pub max: u32,
    #[serde(rename = "targetCPUUtilization")]
    pub target_cpu_utilization: u32,
}

impl Default for AutoscalingDefaults {
    fn default() -> Self {
        AutoscalingDefaults {
            min: 2,
            max: 10,
            target_cpu_utilization: 70,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct SecretStore {
    pub kind: String,
    pub name: String,
    pub refresh_interval: String,
    /// Where the External Secrets operator runs (exempt from the policies).
    pub operator_namespace: String,
}

impl Default for SecretStore {
    fn default() -> Self {
        SecretStore {
            kind: "ClusterSecretStore".into(),
            name: "vault".into(),
            refresh_interval: "1h".into(),
            operator_namespace: "external-secrets".into(),
        }
    }
}

/// paved.yaml `review`: the risk summary of `paved diff`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ReviewConfig {
    /// The risk categories `paved diff` exits 1 on when `--fail-on` is not given.
    pub fail_on: Vec<String>,
    /// Replicas or requests multiplied by more than this are a cost risk.
    pub cost_factor: f64,
    /// With a price table (`cost`): a rise of a service's monthly estimate
    /// in an environment above this is a cost risk, instead of the factor
    /// rule for workloads (docs/cost.md, "In review"). `None`: no threshold.
    pub cost_threshold: Option<CostThreshold>,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            fail_on: Vec::new(),
            cost_factor: 1.5,
            cost_threshold: None,
        }
    }
}

/// paved.yaml `review.costThreshold`: a rise of a monthly estimate (its
/// maximum) by more than `percent` %, or by more than `monthly` in the
/// price table's currency, is a cost risk. An unset bound does not apply.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CostThreshold {
    #[serde(default)]
    pub percent: Option<f64>,
    #[serde(default)]
    pub monthly: Option<f64>,
}

/// `promotion` in paved.yaml: what a release is, and the order environments
/// receive it in.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PromotionConfig {
    /// The override fields `paved promote` copies from one environment to
    /// the next: `image` (the default), `replicas`, `size`.
    pub release_fields: Vec<String>,
    /// Environment names, earliest first; when set, a release may enter an
    /// environment only once the one before it runs it.
    pub order: Vec<String>,
}

impl Default for PromotionConfig {
    fn default() -> Self {
        PromotionConfig {
            release_fields: vec!["image".into()],
            order: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngressClasses {
    pub internal: String,
    pub public: String,
}

impl Default for IngressClasses {
    fn default() -> Self {
        IngressClasses {
            internal: "nginx-internal".into(),
            public: "nginx-public".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct IngressConfig {
    pub controller_namespace: String,
    pub cluster_issuer: String,
    /// Where cert-manager runs (exempt from the policies).
    pub cert_manager_namespace: String,
    /// cert-manager's HTTP-01 solver image (no tag); empty: DNS-01, no solver pod.
    #[serde(rename = "http01SolverImage")]
    pub http01_solver_image: String,
}

impl Default for IngressConfig {
    fn default() -> Self {
        IngressConfig {
            controller_namespace: "ingress-nginx".into(),
            cluster_issuer: "letsencrypt".into(),
            cert_manager_namespace: "cert-manager".into(),
            http01_solver_image: "quay.io/jetstack/cert-manager-acmesolver".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct NetworkPolicyConfig {
    pub dns_namespace: String,
    /// The DNS pods' labels in `dns_namespace`: DNS egress reaches only them.
    pub dns_pod_labels: BTreeMap<String, String>,
    /// The networks a service's `spec.egress` may name (inside one of them).
    pub allowed_egress_cidrs: Vec<String>,
    pub resources: BTreeMap<String, NetworkAllowance>,
}

impl Default for NetworkPolicyConfig {
    fn default() -> Self {
        NetworkPolicyConfig {
            dns_namespace: "kube-system".into(),
            dns_pod_labels: [("k8s-app".to_string(), "kube-dns".to_string())]
                .into_iter()
                .collect(),
            allowed_egress_cidrs: Vec::new(),
            resources: crate::resource_types::RESOURCE_TYPES
                .iter()
                .map(|t| {
                    let allow = NetworkAllowance {
                        cidrs: t
                            .default_egress_cidrs
                            .iter()
                            .map(|c| c.to_string())
                            .collect(),
                        ports: vec![t.egress_port],
                    };
                    (t.name.to_string(), allow)
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkAllowance {
    pub cidrs: Vec<String>,
    pub ports: Vec<u16>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WaiverConfig {
    pub forbid: Vec<String>,
}

/// How the Gatekeeper policies are enforced (docs/policies.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PolicyConfig {
    pub enforcement_action: String,
    /// Where Gatekeeper runs (exempt from the policies).
    pub gatekeeper_namespace: String,
    /// Namespaces exempt besides the platform components' own
    /// (`Platform::exempt_namespaces` has them all).
    pub excluded_namespaces: Vec<String>,
    /// Every worker must declare `probes.liveness` (docs/policies.md).
    pub require_worker_probes: bool,
    /// Every `metadata.owner` must be a key of `teams` (docs/access.md).
    pub require_declared_teams: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            enforcement_action: "deny".into(),
            gatekeeper_namespace: "gatekeeper-system".into(),
            excluded_namespaces: ["kube-system", "kube-public", "kube-node-lease"]
                .map(String::from)
                .to_vec(),
            require_worker_probes: false,
            require_declared_teams: false,
        }
    }
}

/// One team of `teams` in paved.yaml, as written (docs/access.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TeamConfig {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub alerts: TeamAlerts,
}

/// Where a team's alerts go, by severity.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TeamAlerts {
    #[serde(default)]
    pub page: Option<Receiver>,
    #[serde(default)]
    pub ticket: Option<Receiver>,
}

/// One alert receiver: exactly one of its fields is set (the schema says so).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackReceiver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagerduty: Option<SecretReceiver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailReceiver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<SecretReceiver>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackReceiver {
    pub channel: String,
    /// A secret-store reference (`path#key`) of the webhook URL.
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretReceiver {
    /// A secret-store reference (`path#key`).
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailReceiver {
    pub to: String,
}

/// paved.yaml `alerting`: the platform's Alertmanager routing settings,
/// the same for every team's AlertmanagerConfig.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct AlertingConfig {
    /// Labels that put alerts into one notification.
    pub group_by: Vec<String>,
    /// How long a new group waits for more alerts before its first notification.
    pub group_wait: String,
    /// How long a group waits before notifying of alerts added to it.
    pub group_interval: String,
    /// How long before a still-firing alert is sent again, by severity.
    pub repeat_interval: RepeatIntervals,
    /// The SMTP relay of `email` receivers; `None`: the Alertmanager's
    /// global `smtp_from` and `smtp_smarthost`.
    pub email: Option<EmailSettings>,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            group_by: ["alertname", "service"].map(String::from).to_vec(),
            group_wait: "30s".into(),
            group_interval: "5m".into(),
            repeat_interval: RepeatIntervals::default(),
            email: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RepeatIntervals {
    pub page: String,
    pub ticket: String,
}

impl Default for RepeatIntervals {
    fn default() -> Self {
        RepeatIntervals {
            page: "1h".into(),
            ticket: "24h".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The sender address.
    pub from: String,
    /// The SMTP relay, `host:port`.
    pub smarthost: String,
}

/// A team as blueprints see it: `teams.<name>` with its defaults applied.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedTeam {
    pub name: String,
    /// Declared in paved.yaml `teams` (else every field is a default).
    pub declared: bool,
    /// The SSO group: `teams.<name>.group`, else the team's name.
    pub group: String,
    pub description: String,
    pub alerts: TeamAlerts,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct CrossplaneConfig {
    pub api_group: String,
    /// `none`: the platform team writes the Compositions; `reference`: Paved
    /// renders one per resource type in use, composing an in-cluster backend
    /// (blueprints/platform/crossplane/composition.yaml).
    pub compositions: String,
    /// The registry prefix the reference Compositions pull their images
    /// from (`<prefix>/library/postgres:<version>`, ...).
    pub image_registry: String,
    /// Where Crossplane runs (exempt from the policies).
    pub namespace: String,
}

impl Default for CrossplaneConfig {
    fn default() -> Self {
        CrossplaneConfig {
            api_group: "platform.paved.dev".into(),
            compositions: "none".into(),
            image_registry: "docker.io".into(),
            namespace: "crossplane-system".into(),
        }
    }
}

/// Every resource type's connection Secret keys, by type name: what
/// platform blueprints read as `connection_keys` (the XRD's description of
/// `spec.connectionSecret`). The table is `resource_types`.
pub(crate) fn connection_keys_by_type() -> BTreeMap<&'static str, &'static [&'static str]> {
    crate::resource_types::RESOURCE_TYPES
        .iter()
        .map(|t| (t.name, t.connection_keys))
        .collect()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ObservabilityConfig {
    pub dashboards: String,
    pub grafana_instance_selector: BTreeMap<String, String>,
    pub metrics: MetricNames,
    pub error_rate_threshold: f64,
    pub latency_p99_threshold_ms: u64,
    /// Boundaries of the duration histogram, in seconds, as the platform
    /// declared them; `None` when it relies on the default
    /// (`OTEL_HTTP_BUCKETS`). Read through `latency_buckets()`.
    pub latency_buckets: Option<Vec<f64>>,
    /// Where Prometheus runs: NetworkPolicies let it scrape the metrics port.
    pub prometheus_namespace: String,
    /// Where the Argo Rollouts controller queries Prometheus. Absent in
    /// paved.yaml, `Platform::from_json` fills it in from
    /// `prometheus_namespace`.
    #[serde(rename = "prometheusURL")]
    pub prometheus_url: Option<String>,
    /// Distributed tracing (docs/observability.md): `None`, no
    /// OpenTelemetry environment, collector egress or traces panel.
    pub tracing: Option<TracingConfig>,
    /// The log store the dashboards query: `None`, no logs panels.
    pub logs: Option<LogsConfig>,
}

/// paved.yaml `observability.tracing`: where workloads send their spans.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TracingConfig {
    /// The collector's OTLP address as written (`http://host[:port]`).
    pub endpoint: String,
    /// `grpc` or `http/protobuf` (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    #[serde(default = "default_otlp_protocol")]
    pub protocol: String,
    #[serde(default)]
    pub sampler: SamplerConfig,
    pub collector: CollectorConfig,
    /// The Grafana data source holding the traces; `None`, no traces panel.
    #[serde(default)]
    pub datasource: Option<TraceDatasource>,
    /// The OTLP port: the endpoint's own, else the protocol's (4317 for
    /// gRPC, 4318 for HTTP). Filled in by `Platform::from_json`.
    #[serde(skip_deserializing)]
    pub port: u16,
    /// `endpoint` with the port written out, so the SDK and the
    /// NetworkPolicy agree on it. Filled in by `Platform::from_json`.
    #[serde(skip_deserializing)]
    pub otlp_endpoint: String,
}

fn default_otlp_protocol() -> String {
    "grpc".into()
}

impl TracingConfig {
    /// Splits the endpoint into its address and port, and writes the port
    /// out when the endpoint leaves it to the protocol.
    fn resolve(&mut self) {
        let default = if self.protocol == "http/protobuf" {
            4318
        } else {
            4317
        };
        let trimmed = self.endpoint.trim_end_matches('/');
        let (scheme, rest) = trimmed.split_once("://").unwrap_or(("http", trimmed));
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => match p.parse::<u16>() {
                Ok(n) if n > 0 => (h, n),
                _ => (rest, default),
            },
            None => (rest, default),
        };
        self.port = port;
        self.otlp_endpoint = format!("{scheme}://{host}:{port}");
    }
}

/// `OTEL_TRACES_SAMPLER` and, for the ratio samplers, `OTEL_TRACES_SAMPLER_ARG`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct SamplerConfig {
    #[serde(rename = "type")]
    pub kind: String,
    pub ratio: f64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            kind: "parentbased_traceidratio".into(),
            ratio: 1.0,
        }
    }
}

/// Where the collector's pods run: the egress NetworkPolicies' peer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CollectorConfig {
    pub namespace: String,
    #[serde(default = "default_collector_labels")]
    pub pod_labels: BTreeMap<String, String>,
}

fn default_collector_labels() -> BTreeMap<String, String> {
    [(
        "app.kubernetes.io/name".to_string(),
        "opentelemetry-collector".to_string(),
    )]
    .into_iter()
    .collect()
}

/// A Grafana data source of traces: `tempo` or `jaeger`, by uid.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceDatasource {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

/// paved.yaml `observability.logs`: the Loki data source and the labels its
/// agent gives each log line.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsConfig {
    pub datasource: LogDatasource,
    /// The stream label holding the pod's namespace.
    #[serde(default = "default_namespace_label")]
    pub namespace_label: String,
    /// The stream label holding the container's name (the service's name).
    #[serde(default = "default_container_label")]
    pub container_label: String,
    /// An RE2 expression marking an error line, for the error-log rate panel.
    #[serde(default = "default_error_pattern")]
    pub error_pattern: String,
}

fn default_namespace_label() -> String {
    "namespace".into()
}

fn default_container_label() -> String {
    "container".into()
}

fn default_error_pattern() -> String {
    "(?i)error".into()
}

/// A Grafana data source of logs: `loki`, by uid.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogDatasource {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        ObservabilityConfig {
            dashboards: "configmap".into(),
            grafana_instance_selector: [("dashboards".to_string(), "grafana".to_string())]
                .into_iter()
                .collect(),
            metrics: MetricNames::default(),
            error_rate_threshold: 0.05,
            latency_p99_threshold_ms: 1000,
            latency_buckets: None,
            prometheus_namespace: "monitoring".into(),
            prometheus_url: None,
            tracing: None,
            logs: None,
        }
    }
}

/// OpenTelemetry's semantic conventions for `http.server.request.duration`:
/// the advisory explicit bucket boundaries, in seconds. The default of
/// paved.yaml `observability.latencyBuckets`.
pub(crate) const OTEL_HTTP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

impl ObservabilityConfig {
    /// The duration histogram's bucket boundaries in seconds, and whether
    /// the platform declared them (else they are OpenTelemetry's defaults).
    pub fn latency_buckets(&self) -> (&[f64], bool) {
        match &self.latency_buckets {
            Some(b) => (b, true),
            None => (&OTEL_HTTP_BUCKETS, false),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct MetricNames {
    pub requests: String,
    pub duration: String,
    pub status_label: String,
    pub service_label: String,
}

impl Default for MetricNames {
    fn default() -> Self {
        MetricNames {
            requests: "http_server_request_duration_seconds_count".into(),
            duration: "http_server_request_duration_seconds_bucket".into(),
            status_label: "http_response_status_code".into(),
            service_label: "service_name".into(),
        }
    }
}

/// The Backstage catalog: which platform-wide entities Paved emits and where
/// the specs' repository is (docs/catalog.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct CatalogConfig {
    pub groups: CatalogGroups,
    /// The web address of the repository holding the specs; `None`: the
    /// GitOps repository, with the rendered folder at `gitops.path`.
    #[serde(rename = "sourceURL")]
    pub source_url: Option<String>,
    /// The branch, tag or commit of `source_url` links point at; `None`:
    /// `gitops.targetRevision`.
    pub source_revision: Option<String>,
}

/// Who provides the Group entities that owners refer to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogGroups {
    /// Paved emits one Group per owner team.
    #[default]
    Paved,
    /// Another ingestion (an identity provider) does; Paved emits none.
    External,
}

/// paved.yaml `cost`: the prices of the monthly estimate (docs/cost.md).
/// Prices are read as the shortest decimal of the number YAML gives, so
/// `0.04` is exactly 0.04 in the estimate.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CostConfig {
    pub currency: String,
    pub cpu_per_core_hour: f64,
    #[serde(rename = "memoryPerGiBHour")]
    pub memory_per_gib_hour: f64,
    #[serde(default)]
    pub basis: CostBasis,
    #[serde(default)]
    pub resources: CostResources,
}

/// paved.yaml `budgetEnforcement`: what an estimate over its budget is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetEnforcement {
    /// A warning: the workspace still validates and renders.
    #[default]
    Warn,
    /// An error: the workspace fails.
    Error,
}

impl BudgetEnforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetEnforcement::Warn => "warn",
            BudgetEnforcement::Error => "error",
        }
    }
}

/// What a container is priced by: its requests (what the scheduler
/// reserves) or its limits (what it may use).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CostBasis {
    #[default]
    Requests,
    Limits,
}

impl CostBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            CostBasis::Requests => "requests",
            CostBasis::Limits => "limits",
        }
    }
}

/// paved.yaml `cost.resources`: managed resources' monthly prices by type.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CostResources {
    #[serde(default)]
    pub postgresql: Option<ClassPrices>,
    #[serde(default)]
    pub redis: Option<ClassPrices>,
    #[serde(default)]
    pub bucket: Option<BucketPrices>,
}

impl CostResources {
    /// The prices of a resource type by its name in platform.yaml.
    pub fn classes(&self, kind: &str) -> Option<&ClassPrices> {
        match kind {
            "postgresql" => self.postgresql.as_ref(),
            "redis" => self.redis.as_ref(),
            _ => None,
        }
    }
}

/// A month of a database or cache, by `class`, plus its `storageGB`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClassPrices {
    pub small: f64,
    pub standard: f64,
    pub large: f64,
    /// A month of one GB of `storageGB`, on top of the class price.
    #[serde(rename = "storagePerGBMonth", default)]
    pub storage_per_gb_month: f64,
}

impl ClassPrices {
    pub fn of(&self, class: &str) -> Option<f64> {
        match class {
            "small" => Some(self.small),
            "standard" => Some(self.standard),
            "large" => Some(self.large),
            _ => None,
        }
    }
}

/// A month of a bucket: `assumedGiB` GiB at `perGiBMonth` (a bucket has no size).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BucketPrices {
    #[serde(rename = "perGiBMonth")]
    pub per_gib_month: f64,
    #[serde(rename = "assumedGiB")]
    pub assumed_gib: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Limits {
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 1024 * 1024,
        }
    }
}

impl Platform {
    /// Builds the platform from a validated `paved.yaml` document.
    pub fn from_json(json: serde_json::Value) -> Result<Platform, String> {
        let file: PlatformFile = serde_json::from_value(json).map_err(|e| e.to_string())?;
        let mut p = file.spec;
        p.name = file.metadata.name;
        for (name, env) in p.environments.iter_mut() {
            env.name = name.clone();
            env.promote = Some(env.default_promote().to_string());
            env.team_role = Some(env.team_role().to_string());
        }
        let o = &mut p.observability;
        if o.prometheus_url.is_none() {
            o.prometheus_url = Some(format!(
                "http://prometheus-operated.{}.svc:9090",
                o.prometheus_namespace
            ));
        }
        if let Some(t) = p.observability.tracing.as_mut() {
            t.resolve();
        }
        // A type paved.yaml does not list keeps its default allowance.
        for (name, allow) in NetworkPolicyConfig::default().resources {
            p.network_policy.resources.entry(name).or_insert(allow);
        }
        Ok(p)
    }

    /// The namespaces of the platform's own components, each with what runs
    /// there and the paved.yaml setting that names it, in a fixed order.
    pub fn component_namespaces(&self) -> Vec<(&str, &'static str, &'static str)> {
        let mut out = vec![
            (
                self.gitops.argocd_namespace.as_str(),
                "Argo CD's namespace",
                "gitops.argocdNamespace",
            ),
            (
                self.observability.prometheus_namespace.as_str(),
                "Prometheus's namespace",
                "observability.prometheusNamespace",
            ),
            (
                self.ingress.controller_namespace.as_str(),
                "the ingress controller's namespace",
                "ingress.controllerNamespace",
            ),
            (
                self.ingress.cert_manager_namespace.as_str(),
                "cert-manager's namespace",
                "ingress.certManagerNamespace",
            ),
            (
                self.network_policy.dns_namespace.as_str(),
                "the cluster DNS's namespace",
                "networkPolicy.dnsNamespace",
            ),
            (
                self.secret_store.operator_namespace.as_str(),
                "the External Secrets operator's namespace",
                "secretStore.operatorNamespace",
            ),
            (
                self.crossplane.namespace.as_str(),
                "Crossplane's namespace",
                "crossplane.namespace",
            ),
            (
                self.policy.gatekeeper_namespace.as_str(),
                "the policy engine's (Gatekeeper's) namespace",
                "policy.gatekeeperNamespace",
            ),
        ];
        if let Some(t) = &self.observability.tracing {
            out.push((
                t.collector.namespace.as_str(),
                "the OpenTelemetry collector's namespace",
                "observability.tracing.collector.namespace",
            ));
        }
        out
    }

    /// Every namespace the platform's policies do not apply in, sorted and
    /// without repeats, each with the paved.yaml settings that name it: the
    /// platform components' namespaces and `policy.excludedNamespaces`
    /// (which may hold `*` patterns). The one list the Constraints'
    /// `excludedNamespaces`, the compile-time policy check, `paved policy`
    /// and the reserved-name rule use.
    pub fn exempt_namespaces(&self) -> BTreeMap<String, Vec<&'static str>> {
        let mut out: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        let components = self
            .component_namespaces()
            .into_iter()
            .map(|(ns, _, field)| (ns, field));
        let extra = self
            .policy
            .excluded_namespaces
            .iter()
            .map(|ns| (ns.as_str(), "policy.excludedNamespaces"));
        for (ns, field) in components.into_iter().chain(extra) {
            if ns.is_empty() {
                continue;
            }
            let fields = out.entry(ns.to_string()).or_default();
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        out
    }

    /// The team `name` (a `metadata.owner`) with its defaults applied.
    pub fn team(&self, name: &str) -> ResolvedTeam {
        let config = self.teams.get(name);
        let c = config.cloned().unwrap_or_default();
        ResolvedTeam {
            name: name.to_string(),
            declared: config.is_some(),
            group: c.group.unwrap_or_else(|| name.to_string()),
            description: c.description,
            alerts: c.alerts,
        }
    }

    /// The size used when a service sets neither `size` nor `compute`.
    pub fn default_size(&self) -> Option<&str> {
        if self.sizes.contains_key("small") {
            Some("small")
        } else {
            self.sizes.keys().next().map(String::as_str)
        }
    }
}

// ---------------------------------------------------------------------------
// platform.yaml
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AppFile {
    /// `paved.dev/v1` and `Application`, as for [`PlatformFile`].
    #[allow(
        dead_code,
        reason = "read by serde so that the model takes every schema property; the schema checks the values"
    )]
    #[serde(default)]
    pub api_version: String,
    #[allow(dead_code, reason = "as `api_version`")]
    #[serde(default)]
    pub kind: String,
    pub metadata: AppMeta,
    pub spec: AppSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub owner: String,
    #[serde(default)]
    pub cost_center: Option<String>,
    #[serde(default = "default_lifecycle")]
    pub lifecycle: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub links: Vec<Link>,
}

fn default_lifecycle() -> String {
    "experimental".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub title: String,
    pub url: String,
    #[serde(default)]
    pub icon: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Service,
    Worker,
    Cronjob,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Service => "service",
            ServiceType::Worker => "worker",
            ServiceType::Cronjob => "cronjob",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppSpec {
    #[serde(rename = "type", default = "default_type")]
    pub kind: ServiceType,
    pub image: String,
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default)]
    pub replicas: Option<Replicas>,
    #[serde(default)]
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub compute: Option<Compute>,
    #[serde(default)]
    pub probes: Option<ProbesSpec>,
    #[serde(default)]
    pub env: IndexMap<String, EnvValue>,
    #[serde(default)]
    pub secrets: Vec<SecretSpec>,
    #[serde(default)]
    pub ingress: Option<IngressSpec>,
    #[serde(default)]
    pub provides_apis: Vec<String>,
    #[serde(default)]
    pub apis: Vec<ApiSpec>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub egress: Vec<EgressRule>,
    #[serde(default)]
    pub resources: IndexMap<String, ResourceSpec>,
    #[serde(default)]
    pub observability: Option<ObservabilitySpec>,
    #[serde(default)]
    pub security: Option<SecuritySpec>,
    #[serde(default)]
    pub rollout: Option<RolloutSpec>,
    #[serde(default)]
    pub environments: Option<IndexMap<String, EnvOverride>>,
}

/// `spec.rollout`: progressive delivery with Argo Rollouts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RolloutSpec {
    pub strategy: RolloutStrategy,
    #[serde(default)]
    pub steps: Option<Vec<u32>>,
    #[serde(default = "default_pause")]
    pub pause: String,
}

fn default_pause() -> String {
    "5m".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RolloutStrategy {
    Canary,
    BlueGreen,
}

impl RolloutStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStrategy::Canary => "canary",
            RolloutStrategy::BlueGreen => "blueGreen",
        }
    }
}

/// The rollout of one instance (`service.rollout` in blueprints).
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedRollout {
    /// `canary` or `blueGreen`.
    pub strategy: &'static str,
    /// Canary weights in order (empty for blue-green).
    pub steps: Vec<u32>,
    /// As written, e.g. `5m`.
    pub pause: String,
    /// The pause in seconds.
    pub pause_seconds: u64,
}

/// Seconds of a `pause` the schema accepted (`30s`, `5m`, `1h`).
fn pause_seconds(pause: &str) -> u64 {
    let (n, unit) = pause.split_at(pause.len().saturating_sub(1));
    let n: u64 = n.parse().unwrap_or(0);
    n * match unit {
        "h" => 3600,
        "m" => 60,
        _ => 1,
    }
}

fn resolve_rollout(r: &RolloutSpec) -> ResolvedRollout {
    ResolvedRollout {
        strategy: r.strategy.as_str(),
        steps: match r.strategy {
            RolloutStrategy::Canary => r.steps.clone().unwrap_or_else(|| vec![20, 50, 100]),
            RolloutStrategy::BlueGreen => Vec::new(),
        },
        pause: r.pause.clone(),
        pause_seconds: pause_seconds(&r.pause),
    }
}

impl AppSpec {
    /// The rollout of one environment: its override, else `spec.rollout`.
    pub fn rollout_in(&self, env: &str) -> Option<&RolloutSpec> {
        self.environments
            .as_ref()
            .and_then(|e| e.get(env))
            .and_then(|o| o.rollout.as_ref())
            .or(self.rollout.as_ref())
    }
}

/// An API the service provides, with its definition (docs/spec.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// A file relative to the spec's folder.
    #[serde(default)]
    pub definition: Option<String>,
}

fn default_type() -> ServiceType {
    ServiceType::Service
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub name: String,
    pub port: u16,
    #[serde(default = "default_protocol")]
    pub protocol: String,
}

fn default_protocol() -> String {
    "TCP".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Replicas {
    Fixed(u32),
    Auto(String),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscalingSpec {
    pub min: Option<u32>,
    pub max: Option<u32>,
    #[serde(rename = "targetCPUUtilization")]
    pub target_cpu_utilization: Option<u32>,
}

/// A CPU quantity may be written as a number (`cpu: 1`) or a string (`500m`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Quantity {
    Int(u64),
    Float(f64),
    Str(String),
}

impl Quantity {
    pub fn as_string(&self) -> String {
        match self {
            Quantity::Int(i) => i.to_string(),
            Quantity::Float(f) => format!("{}m", (f * 1000.0).round() as u64),
            Quantity::Str(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Compute {
    pub cpu: Quantity,
    pub memory: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesSpec {
    #[serde(default)]
    pub liveness: Option<ProbeOrOff>,
    #[serde(default)]
    pub readiness: Option<ProbeOrOff>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ProbeOrOff {
    Off(bool),
    Probe(ProbeSpec),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbeSpec {
    #[serde(default)]
    pub path: Option<String>,
    /// A command run in the container; healthy when it exits 0.
    #[serde(default)]
    pub exec: Option<Vec<String>>,
    /// A port the container listens on; healthy when it accepts a connection.
    #[serde(default)]
    pub tcp_port: Option<PortRef>,
    #[serde(default)]
    pub port: Option<PortRef>,
    #[serde(default)]
    pub initial_delay_seconds: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl EnvValue {
    pub fn as_string(&self) -> String {
        match self {
            EnvValue::Bool(b) => b.to_string(),
            EnvValue::Int(i) => i.to_string(),
            EnvValue::Float(f) => f.to_string(),
            EnvValue::Str(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    pub env: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressSpec {
    pub host: String,
    #[serde(default = "default_path")]
    pub path: String,
    #[serde(default)]
    pub public: bool,
}

fn default_path() -> String {
    "/".into()
}

/// One `spec.egress` entry: connections to a network outside the cluster.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    pub cidr: String,
    pub ports: Vec<u16>,
    #[serde(default = "default_protocol")]
    pub protocol: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceSpec {
    /// One of `resource_types::RESOURCE_TYPES`; the others are its parameters.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(rename = "storageGB", default)]
    pub storage_gb: Option<u32>,
    #[serde(default)]
    pub class: Option<String>,
}

impl ResourceSpec {
    /// The parameters this entry sets, by their names in platform.yaml
    /// (`resource_types` says which of them its type takes).
    pub fn parameters_set(&self) -> impl Iterator<Item = &'static str> {
        [
            ("version", self.version.is_some()),
            ("storageGB", self.storage_gb.is_some()),
            ("class", self.class.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObservabilitySpec {
    #[serde(default = "default_dashboard")]
    pub dashboard: String,
    #[serde(default = "yes")]
    pub alerts: bool,
    #[serde(default)]
    pub slo: Option<Slo>,
}

impl Default for ObservabilitySpec {
    fn default() -> Self {
        ObservabilitySpec {
            dashboard: default_dashboard(),
            alerts: true,
            slo: None,
        }
    }
}

fn default_dashboard() -> String {
    "standard".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Slo {
    #[serde(default)]
    pub availability: Option<f64>,
    #[serde(rename = "latencyP99Ms", default)]
    pub latency_p99_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecuritySpec {
    #[serde(default)]
    pub read_only_root_filesystem: Option<bool>,
    #[serde(default)]
    pub run_as_non_root: Option<bool>,
    #[serde(default)]
    pub run_as_user: Option<u32>,
    #[serde(default)]
    pub reason: String,
}

impl SecuritySpec {
    /// The `spec.security` fields that relax a hardening default: the waivers.
    /// Restating a default (`readOnlyRootFilesystem: true`) relaxes nothing.
    /// One rule for the model, `validate::semantic` and `paved validate --verbose`.
    pub fn relaxed_fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.read_only_root_filesystem == Some(false) {
            out.push("readOnlyRootFilesystem");
        }
        if self.run_as_non_root == Some(false) {
            out.push("runAsNonRoot");
        }
        if self.run_as_user.is_some() {
            out.push("runAsUser");
        }
        out
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvOverride {
    #[serde(default)]
    pub promote: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub replicas: Option<Replicas>,
    #[serde(default)]
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub compute: Option<Compute>,
    #[serde(default)]
    pub env: IndexMap<String, EnvValue>,
    #[serde(default)]
    pub ingress: Option<HostOverride>,
    #[serde(default)]
    pub resources: IndexMap<String, StorageOverride>,
    #[serde(default)]
    pub rollout: Option<RolloutSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostOverride {
    pub host: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageOverride {
    #[serde(rename = "storageGB")]
    pub storage_gb: u32,
}

/// One validated `platform.yaml`, with its source and tree kept for diagnostics.
#[derive(Debug, Clone)]
pub struct Service {
    pub source: SourceRef,
    /// The spec's path relative to the project root: what generated headers name.
    pub origin: String,
    pub doc: Node,
    pub meta: AppMeta,
    pub spec: AppSpec,
    /// What the workspace holds beside the spec (filled in by `app`).
    pub beside: Beside,
}

/// Files next to a spec that the catalog links to, as the workspace scan
/// found them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Beside {
    /// A `docs/` folder or an `mkdocs.yml` sits in the spec's folder.
    pub techdocs: bool,
    /// The `spec.apis` definitions that exist as regular files, by their
    /// root-relative path ([`definition_path`]).
    pub definitions: std::collections::BTreeSet<String>,
}

/// The folder of a spec, from its root-relative path (`orders/platform.yaml`
/// → `orders`; a spec at the root → ``).
pub(crate) fn spec_folder(origin: &str) -> &str {
    origin.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// A `spec.apis` definition's path relative to the workspace root, from the
/// spec's root-relative path and the path written relative to its folder;
/// `None` when it is absolute or climbs out of the root, or names no file.
pub(crate) fn definition_path(origin: &str, definition: &str) -> Option<String> {
    if definition.starts_with('/') || definition.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = spec_folder(origin)
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    for seg in definition.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty() && !definition.ends_with('/')).then(|| parts.join("/"))
}

impl Service {
    pub fn from_json(
        source: SourceRef,
        doc: Node,
        json: serde_json::Value,
        origin: String,
    ) -> Result<Service, String> {
        let file: AppFile = serde_json::from_value(json).map_err(|e| e.to_string())?;
        Ok(Service {
            source,
            origin,
            doc,
            meta: file.metadata,
            spec: file.spec,
            beside: Beside::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// The environments this service runs in, in the platform's order.
    pub fn environments<'p>(&self, platform: &'p Platform) -> Vec<&'p EnvironmentConfig> {
        platform
            .environments
            .values()
            .filter(|e| match &self.spec.environments {
                None => true,
                Some(envs) => envs.contains_key(&e.name),
            })
            .collect()
    }

    /// Whether this service runs in the platform environment `env`.
    pub fn runs_in(&self, env: &str) -> bool {
        self.spec
            .environments
            .as_ref()
            .is_none_or(|envs| envs.contains_key(env))
    }

    /// `component:NAME` entries of `dependsOn`, as names.
    pub fn dependency_names(&self) -> impl Iterator<Item = &str> {
        self.spec
            .depends_on
            .iter()
            .filter_map(|d| d.strip_prefix("component:"))
    }
}

// ---------------------------------------------------------------------------
// Resolution: one Instance per service per environment
// ---------------------------------------------------------------------------

/// Everything a blueprint needs to render one service in one environment.
/// Field names are the template API (`service.namespace`, `service.ports`...);
/// docs/blueprints.md lists them.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub name: String,
    pub namespace: String,
    pub description: String,
    pub owner: String,
    /// The owning team (`teams.<owner>` in paved.yaml, with defaults).
    pub team: ResolvedTeam,
    pub cost_center: Option<String>,
    pub lifecycle: String,
    pub system: Option<String>,
    pub tags: Vec<String>,
    pub links: Vec<Link>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub image: String,
    pub schedule: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub ports: Vec<Port>,
    /// A fixed replica count; `None` when an HPA owns it (and for cronjobs).
    pub replicas: Option<u32>,
    pub autoscaling: Option<ResolvedAutoscaling>,
    /// The fewest pods that can be running by design (drives the PDB rule).
    pub min_replicas: u32,
    pub compute: ResolvedCompute,
    pub probes: ResolvedProbes,
    pub env: Vec<EnvVar>,
    pub secrets: Vec<ResolvedSecret>,
    pub secret_name: String,
    pub ingress: Option<ResolvedIngress>,
    pub provides_apis: Vec<String>,
    pub dependencies: Vec<Peer>,
    pub dependents: Vec<Peer>,
    /// `spec.egress`, as written (validated against the platform's networks).
    pub egress: Vec<EgressRule>,
    pub resources: Vec<ResolvedResource>,
    pub observability: ObservabilitySpec,
    pub security: ResolvedSecurity,
    /// Progressive delivery: a Rollout replaces the Deployment.
    pub rollout: Option<ResolvedRollout>,
    pub environment: ResolvedEnvironment,
    /// Labels for every object of this instance (recommended + platform
    /// labels), without the version: an image bump leaves these objects alone.
    pub labels: IndexMap<String, String>,
    /// Labels for what runs the image (the workload controller and its pod
    /// template): `labels` plus `app.kubernetes.io/version`, when the image
    /// has a tag that is a valid label value.
    pub workload_labels: IndexMap<String, String>,
    /// The subset of labels that selects this instance's pods; stable across versions.
    pub selector: IndexMap<String, String>,
    /// The spec file, relative to the folder Paved was given.
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedAutoscaling {
    pub min: u32,
    pub max: u32,
    pub target_cpu_utilization: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    pub cpu: String,
    pub memory: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedCompute {
    pub requests: Resources,
    pub limits: Resources,
    /// The platform size it came from, if any.
    pub size: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedProbe {
    /// The HTTP path, for an HTTP check (`port` is then its port).
    pub path: Option<String>,
    /// The command of an `exec` check.
    pub exec: Option<Vec<String>>,
    /// The port of a TCP check, a name or number.
    pub tcp_port: Option<serde_json::Value>,
    /// A port name or number, as Kubernetes accepts either (HTTP checks).
    pub port: serde_json::Value,
    pub initial_delay_seconds: u32,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ResolvedProbes {
    pub liveness: Option<ResolvedProbe>,
    pub readiness: Option<ResolvedProbe>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// One container environment variable: a literal `value` or a `secret` reference.
#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
    pub secret: Option<SecretKeyRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedSecret {
    pub env: String,
    /// The secret-store path (`payments/stripe`): remoteRef.key.
    pub path: String,
    /// The key inside it (`api-key`): remoteRef.property.
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedIngress {
    pub host: String,
    pub path: String,
    pub public: bool,
    pub class: String,
    pub tls_secret: String,
}

/// Another service this one talks to, or that talks to it, in the same environment.
#[derive(Debug, Clone, Serialize)]
pub struct Peer {
    pub name: String,
    pub namespace: String,
    pub ports: Vec<Port>,
    pub selector: IndexMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedResource {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: Option<String>,
    pub storage_gb: Option<u32>,
    pub class: String,
    /// The connection Secret the composition writes, and its keys.
    pub secret: String,
    pub keys: Vec<&'static str>,
    pub network: NetworkAllowance,
}

#[derive(Debug, Clone, Serialize)]
pub struct Waiver {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedSecurity {
    pub read_only_root_filesystem: bool,
    pub run_as_non_root: bool,
    pub run_as_user: Option<u32>,
    pub waivers: Vec<Waiver>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedEnvironment {
    pub name: String,
    /// Its output folder relative to `DIR` and to `gitops.path`: the name,
    /// or a preview's `previews/<NAME>`.
    pub folder: String,
    /// Set in a preview environment (`paved render --preview`).
    pub preview: Option<PreviewInfo>,
    pub cluster: String,
    pub domain: String,
    pub class: String,
    pub promote: String,
    /// The ClusterRole the owning team's group gets in the namespace.
    pub team_role: String,
}

/// What blueprints see of a preview as `environment.preview`.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewInfo {
    /// The preview's name (`--preview NAME`).
    pub name: String,
    /// paved.yaml `previews.ttl`, e.g. `72h`.
    pub ttl: String,
}

/// Resolves every service in every environment it runs in, in a stable order:
/// environments as the platform lists them, services by name.
pub(crate) fn resolve(platform: &Platform, services: &[Service]) -> Vec<Instance> {
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| a.name().cmp(b.name()));
    // The dependency graph both ways, indexed once: resolving stays linear in
    // the fleet size (thousands of services).
    let mut graph = Graph::default();
    for s in &sorted {
        graph.by_name.insert(s.name(), s);
        for d in s.dependency_names() {
            if d != s.name() {
                graph.dependents.entry(d).or_default().push(s);
            }
        }
    }
    let mut out = Vec::new();
    for env in platform.environments.values() {
        for s in sorted.iter().filter(|s| s.runs_in(&env.name)) {
            out.push(instance(platform, env, s, &graph));
        }
    }
    out
}

/// Services by name, and who depends on whom, for one resolution.
#[derive(Default)]
struct Graph<'a> {
    by_name: std::collections::HashMap<&'a str, &'a Service>,
    /// Service name → the services that list it in `dependsOn`, in name order.
    dependents: std::collections::HashMap<&'a str, Vec<&'a Service>>,
}

pub(crate) fn namespace_of(env: &EnvironmentConfig, service: &str) -> String {
    format!("{}{service}", env.namespace_prefix)
}

/// The labels that select a service's pods, Service and Applications:
/// labels Argo CD never rewrites. With label tracking (Argo CD's default
/// before 3.0) Argo CD sets `app.kubernetes.io/instance` on every object it
/// applies to the Application's name, so nothing selects on that label
/// (docs/resources.md, "Argo CD and selectors").
pub(crate) const SERVICE_LABEL: &str = "paved.dev/service";

fn selector_of(name: &str) -> IndexMap<String, String> {
    [
        ("app.kubernetes.io/name".to_string(), name.to_string()),
        (SERVICE_LABEL.to_string(), name.to_string()),
    ]
    .into_iter()
    .collect()
}

/// `app.kubernetes.io/instance`: the name of the Argo CD Application that
/// deploys the instance (`<service>-<environment>`), which is the value label
/// tracking writes, so the label never shows as a diff. A name longer than a
/// label value may be (63 characters) is left out: label tracking cannot
/// carry it either, and annotation tracking does not need it.
fn instance_label(name: &str, env: &str) -> Option<String> {
    let app = format!("{name}-{env}");
    (app.len() <= 63).then_some(app)
}

fn peer(env: &EnvironmentConfig, s: &Service) -> Peer {
    Peer {
        name: s.name().to_string(),
        namespace: namespace_of(env, s.name()),
        ports: s.spec.ports.clone(),
        selector: selector_of(s.name()),
    }
}

/// What a service runs and holds in one environment, the part of an
/// [`Instance`] the cost estimate reads (`cost::estimate_sizing`): its
/// compute, replica count or autoscaler range, and each managed resource's
/// class and storage. [`instance`] takes these from [`sizing`] too, so a
/// budget check that resolves only this agrees with the full instance.
#[derive(Debug, Clone)]
pub(crate) struct Sizing<'a> {
    pub kind: &'static str,
    pub compute: ResolvedCompute,
    pub replicas: Option<u32>,
    pub autoscaling: Option<ResolvedAutoscaling>,
    pub min_replicas: u32,
    pub resources: Vec<SizedResource<'a>>,
}

/// A managed resource as [`Sizing`] sees it.
#[derive(Debug, Clone)]
pub(crate) struct SizedResource<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub class: &'a str,
    pub storage_gb: Option<u32>,
}

/// The environment's override of a service, if it has one.
fn override_of<'a>(s: &'a Service, env: &EnvironmentConfig) -> Option<&'a EnvOverride> {
    s.spec.environments.as_ref().and_then(|e| e.get(&env.name))
}

/// The [`Sizing`] of `s` in `env`: what [`instance`] resolves of it,
/// without the rest (names, labels, env vars, the dependency graph).
pub(crate) fn sizing<'a>(
    platform: &Platform,
    env: &'a EnvironmentConfig,
    s: &'a Service,
) -> Sizing<'a> {
    let spec = &s.spec;
    let none;
    let ov = match override_of(s, env) {
        Some(o) => o,
        None => {
            none = EnvOverride::default();
            &none
        }
    };

    // Replicas: an override of either replicas or autoscaling replaces the base.
    let replicas_spec = ov.replicas.as_ref().or(spec.replicas.as_ref());
    let auto = match (spec.kind, replicas_spec) {
        (ServiceType::Cronjob, _) => false,
        (_, Some(Replicas::Auto(_))) => true,
        (_, Some(Replicas::Fixed(_))) => false,
        (ServiceType::Service, None) => true,
        (ServiceType::Worker, None) => false,
    };
    let autoscaling = auto.then(|| {
        let base = spec.autoscaling.as_ref();
        let o = ov.autoscaling.as_ref();
        let d = &platform.autoscaling;
        let min = o
            .and_then(|o| o.min)
            .or(base.and_then(|b| b.min))
            .unwrap_or(d.min);
        ResolvedAutoscaling {
            min,
            max: o
                .and_then(|o| o.max)
                .or(base.and_then(|b| b.max))
                .unwrap_or(d.max)
                .max(min),
            target_cpu_utilization: o
                .and_then(|o| o.target_cpu_utilization)
                .or(base.and_then(|b| b.target_cpu_utilization))
                .unwrap_or(d.target_cpu_utilization),
        }
    });
    let replicas = match (spec.kind, replicas_spec, auto) {
        (ServiceType::Cronjob, _, _) | (_, _, true) => None,
        (_, Some(Replicas::Fixed(n)), _) => Some(*n),
        _ => Some(1),
    };
    let min_replicas = match (&autoscaling, replicas) {
        (Some(a), _) => a.min,
        (None, Some(n)) => n,
        (None, None) => 1,
    };
    let resources = spec
        .resources
        .iter()
        .map(|(rname, r)| SizedResource {
            name: rname,
            kind: &r.kind,
            storage_gb: ov
                .resources
                .get(rname)
                .map(|o| o.storage_gb)
                .or(r.storage_gb),
            class: r.class.as_deref().unwrap_or(&env.class),
        })
        .collect();
    Sizing {
        kind: spec.kind.as_str(),
        compute: resolve_compute(platform, spec, ov),
        replicas,
        autoscaling,
        min_replicas,
        resources,
    }
}

fn instance(platform: &Platform, env: &EnvironmentConfig, s: &Service, graph: &Graph) -> Instance {
    let spec = &s.spec;
    let sized = sizing(platform, env, s);
    let none;
    let ov = match override_of(s, env) {
        Some(o) => o,
        None => {
            none = EnvOverride::default();
            &none
        }
    };
    let name = s.name().to_string();
    let namespace = namespace_of(env, &name);
    let image = ov.image.clone().unwrap_or_else(|| spec.image.clone());
    let Sizing {
        compute,
        replicas,
        autoscaling,
        min_replicas,
        resources: sized_resources,
        ..
    } = sized;
    let probes = resolve_probes(spec);

    // env: base then overrides merged per key, in first-seen order.
    let mut env_map: IndexMap<String, EnvValue> = spec.env.clone();
    for (k, v) in &ov.env {
        env_map.insert(k.clone(), v.clone());
    }
    let mut env_vars: Vec<EnvVar> = env_map
        .iter()
        .map(|(k, v)| resolve_env(k, &v.as_string(), &name, env, spec))
        .collect();
    let secret_name = format!("{name}-secrets");
    let secrets: Vec<ResolvedSecret> = spec
        .secrets
        .iter()
        .map(|sec| {
            let (path, key) = sec
                .reference
                .split_once('#')
                .unwrap_or((&sec.reference, ""));
            ResolvedSecret {
                env: sec.env.clone(),
                path: path.to_string(),
                key: key.to_string(),
            }
        })
        .collect();
    for sec in &secrets {
        env_vars.push(EnvVar {
            name: sec.env.clone(),
            value: None,
            secret: Some(SecretKeyRef {
                name: secret_name.clone(),
                key: sec.env.clone(),
            }),
        });
    }
    // The OpenTelemetry SDK environment, under the spec's own keys: a key
    // the spec sets (env or secrets) keeps the spec's value.
    if let Some(t) = &platform.observability.tracing {
        for (k, v) in otel_env(t, &name, &namespace, &env.name, &s.meta.owner, &image) {
            if !env_vars.iter().any(|e| e.name == k) {
                env_vars.push(EnvVar {
                    name: k.to_string(),
                    value: Some(v),
                    secret: None,
                });
            }
        }
    }

    let ingress = spec.ingress.as_ref().map(|i| {
        let host = ov
            .ingress
            .as_ref()
            .map(|h| h.host.clone())
            .unwrap_or_else(|| i.host.clone());
        let host = if host.contains('.') {
            host
        } else {
            format!("{host}.{}", env.domain)
        };
        ResolvedIngress {
            host,
            path: i.path.clone(),
            public: i.public,
            class: if i.public {
                platform.ingress_classes.public.clone()
            } else {
                platform.ingress_classes.internal.clone()
            },
            tls_secret: format!("{name}-tls"),
        }
    });

    let dependencies: Vec<Peer> = s
        .dependency_names()
        .filter_map(|d| graph.by_name.get(d))
        .filter(|o| o.runs_in(&env.name))
        .map(|o| peer(env, o))
        .collect();
    let mut dependents: Vec<Peer> = graph
        .dependents
        .get(name.as_str())
        .map(|v| v.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|o| o.runs_in(&env.name))
        .map(|o| peer(env, o))
        .collect();
    // Listed once even when a service names this one twice.
    dependents.dedup_by(|a, b| a.name == b.name);

    let resources = spec
        .resources
        .iter()
        .zip(&sized_resources)
        .map(|((rname, r), sz)| ResolvedResource {
            name: rname.clone(),
            kind: r.kind.clone(),
            version: r.version.clone(),
            storage_gb: sz.storage_gb,
            class: sz.class.to_string(),
            secret: crate::placeholder::connection_secret(rname),
            keys: crate::resource_types::connection_keys(&r.kind).to_vec(),
            network: platform
                .network_policy
                .resources
                .get(&r.kind)
                .cloned()
                .unwrap_or_default(),
        })
        .collect();

    let security = resolve_security(spec);

    let mut labels: IndexMap<String, String> = IndexMap::new();
    labels.insert("app.kubernetes.io/name".into(), name.clone());
    if let Some(app) = instance_label(&name, &env.name) {
        labels.insert("app.kubernetes.io/instance".into(), app);
    }
    if let Some(v) = image_tag(&image).filter(|t| is_label_value(t)) {
        labels.insert("app.kubernetes.io/version".into(), v.to_string());
    }
    labels.insert(
        "app.kubernetes.io/component".into(),
        spec.kind.as_str().into(),
    );
    if let Some(sys) = &s.meta.system {
        labels.insert("app.kubernetes.io/part-of".into(), sys.clone());
    }
    labels.insert("app.kubernetes.io/managed-by".into(), "paved".into());
    labels.insert("owner".into(), s.meta.owner.clone());
    if let Some(cc) = &s.meta.cost_center {
        labels.insert("cost-center".into(), cc.clone());
    }
    labels.insert("paved.dev/environment".into(), env.name.clone());
    labels.insert(SERVICE_LABEL.into(), name.clone());
    // The version only where it runs: every other object keeps its bytes
    // across an image bump (docs/resources.md, "Labels").
    let workload_labels = labels.clone();
    labels.shift_remove("app.kubernetes.io/version");

    Instance {
        name: name.clone(),
        namespace,
        description: s.meta.description.clone(),
        owner: s.meta.owner.clone(),
        team: platform.team(&s.meta.owner),
        cost_center: s.meta.cost_center.clone(),
        lifecycle: s.meta.lifecycle.clone(),
        system: s.meta.system.clone(),
        tags: s.meta.tags.clone(),
        links: s.meta.links.clone(),
        kind: spec.kind.as_str(),
        image,
        schedule: spec.schedule.clone(),
        command: spec.command.clone(),
        args: spec.args.clone(),
        ports: spec.ports.clone(),
        replicas,
        autoscaling,
        min_replicas,
        compute,
        probes,
        env: env_vars,
        secrets,
        secret_name,
        ingress,
        provides_apis: spec.provides_apis.clone(),
        dependencies,
        dependents,
        egress: spec.egress.clone(),
        resources,
        observability: spec.observability.clone().unwrap_or_default(),
        security,
        rollout: match spec.kind {
            ServiceType::Service => spec.rollout_in(&env.name).map(resolve_rollout),
            _ => None,
        },
        environment: ResolvedEnvironment {
            name: env.name.clone(),
            folder: env.folder.clone().unwrap_or_else(|| env.name.clone()),
            preview: None,
            cluster: env.cluster.clone(),
            domain: env.domain.clone(),
            class: env.class.clone(),
            promote: ov
                .promote
                .clone()
                .unwrap_or_else(|| env.default_promote().to_string()),
            team_role: env.team_role().to_string(),
        },
        selector: selector_of(&name),
        labels,
        workload_labels,
        source: s.origin.clone(),
    }
}

fn resolve_compute(platform: &Platform, spec: &AppSpec, ov: &EnvOverride) -> ResolvedCompute {
    // An override of size or compute replaces both of the base's.
    let (size, compute) = if ov.size.is_some() || ov.compute.is_some() {
        (ov.size.clone(), ov.compute.clone())
    } else {
        (spec.size.clone(), spec.compute.clone())
    };
    let (size, requests) = match (size, compute) {
        (_, Some(c)) => (None, c),
        (Some(s), None) => {
            let c = platform.sizes.get(&s).cloned();
            (Some(s), c.unwrap_or_else(fallback_compute))
        }
        (None, None) => {
            let s = platform.default_size().map(str::to_string);
            let c = s.as_ref().and_then(|s| platform.sizes.get(s)).cloned();
            (s, c.unwrap_or_else(fallback_compute))
        }
    };
    let cpu = requests.cpu.as_string();
    let policy = &platform.resource_policy;
    ResolvedCompute {
        limits: Resources {
            cpu: scale_cpu(&cpu, policy.cpu_limit_factor),
            memory: scale_memory(&requests.memory, policy.memory_limit_factor),
        },
        requests: Resources {
            cpu,
            memory: requests.memory.clone(),
        },
        size,
    }
}

fn fallback_compute() -> Compute {
    Compute {
        cpu: Quantity::Str("100m".into()),
        memory: "128Mi".into(),
    }
}

/// `250m` × 2 → `500m`; `1` × 2 → `2`.
pub(crate) fn scale_cpu(cpu: &str, factor: f64) -> String {
    let milli = match cpu.strip_suffix('m') {
        Some(m) => m.parse::<f64>().unwrap_or(0.0),
        None => cpu.parse::<f64>().unwrap_or(0.0) * 1000.0,
    };
    let limit = (milli * factor).round() as u64;
    if limit.is_multiple_of(1000) {
        (limit / 1000).to_string()
    } else {
        format!("{limit}m")
    }
}

/// `256Mi` × 1 → `256Mi`; `256Mi` × 1.5 → `384Mi`.
pub(crate) fn scale_memory(mem: &str, factor: f64) -> String {
    if (factor - 1.0).abs() < f64::EPSILON {
        return mem.to_string();
    }
    const UNITS: [(&str, u64); 8] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("K", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    let (num, mult) = UNITS
        .iter()
        .find_map(|(u, m)| mem.strip_suffix(u).map(|n| (n, *m)))
        .unwrap_or((mem, 1));
    let bytes = (num.parse::<f64>().unwrap_or(0.0) * mult as f64 * factor).round() as u64;
    for (u, m) in [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if bytes >= m && bytes.is_multiple_of(m) {
            return format!("{}{u}", bytes / m);
        }
    }
    bytes.to_string()
}

fn resolve_probes(spec: &AppSpec) -> ResolvedProbes {
    let port_value = |p: &PortRef| match p {
        PortRef::Number(n) => serde_json::Value::from(*n),
        PortRef::Name(n) => serde_json::Value::String(n.clone()),
    };
    let probes = spec.probes.clone().unwrap_or_default();
    let explicit = |p: &ProbeSpec, default_path: Option<&str>, first: &serde_json::Value| {
        let (path, exec, tcp_port) = match (&p.exec, &p.tcp_port) {
            (Some(cmd), _) => (None, Some(cmd.clone()), None),
            (None, Some(port)) => (None, None, Some(port_value(port))),
            (None, None) => (
                p.path.clone().or(default_path.map(String::from)),
                None,
                None,
            ),
        };
        ResolvedProbe {
            port: if path.is_some() {
                p.port
                    .as_ref()
                    .map(port_value)
                    .unwrap_or_else(|| first.clone())
            } else {
                serde_json::Value::Null
            },
            path,
            exec,
            tcp_port,
            initial_delay_seconds: p.initial_delay_seconds.unwrap_or(0),
        }
    };
    if spec.kind != ServiceType::Service {
        // No HTTP port to default to: only the checks the spec gives. A
        // worker's readiness (which paces its rolling updates) is its
        // liveness check unless it says otherwise; a job takes no traffic,
        // so a cronjob has none (`validate` refuses one).
        let none = serde_json::Value::Null;
        let liveness = match &probes.liveness {
            Some(ProbeOrOff::Probe(p)) => Some(explicit(p, None, &none)),
            _ => None,
        };
        let readiness = match (&probes.readiness, spec.kind) {
            (_, ServiceType::Cronjob) | (Some(ProbeOrOff::Off(_)), _) => None,
            (Some(ProbeOrOff::Probe(p)), _) => Some(explicit(p, None, &none)),
            (None, _) => liveness.clone(),
        };
        return ResolvedProbes {
            liveness: liveness
                .filter(|p| p.path.is_some() || p.exec.is_some() || p.tcp_port.is_some()),
            readiness: readiness
                .filter(|p| p.path.is_some() || p.exec.is_some() || p.tcp_port.is_some()),
        };
    }
    if spec.ports.is_empty() {
        return ResolvedProbes::default();
    }
    let first = serde_json::Value::String(spec.ports[0].name.clone());
    let one = |p: &Option<ProbeOrOff>, default_path: &str| -> Option<ResolvedProbe> {
        match p {
            Some(ProbeOrOff::Off(_)) => None,
            Some(ProbeOrOff::Probe(p)) => Some(explicit(p, Some(default_path), &first)),
            None => Some(ResolvedProbe {
                path: Some(default_path.to_string()),
                exec: None,
                tcp_port: None,
                port: first.clone(),
                initial_delay_seconds: 0,
            }),
        }
    };
    ResolvedProbes {
        liveness: one(&probes.liveness, "/healthz"),
        readiness: one(&probes.readiness, "/ready"),
    }
}

/// The OpenTelemetry environment of a workload (docs/observability.md,
/// "Tracing and logs"), in a fixed order.
fn otel_env(
    t: &TracingConfig,
    service: &str,
    namespace: &str,
    environment: &str,
    owner: &str,
    image: &str,
) -> Vec<(&'static str, String)> {
    let mut attrs = vec![("service.name", service.to_string())];
    // A digest alone is no version.
    if let Some(v) = image_tag(image).filter(|t| !t.is_empty()) {
        attrs.push(("service.version", v.to_string()));
    }
    attrs.extend([
        ("deployment.environment.name", environment.to_string()),
        // The name before semantic conventions 1.27, which many backends still read.
        ("deployment.environment", environment.to_string()),
        ("k8s.namespace.name", namespace.to_string()),
        ("team", owner.to_string()),
    ]);
    let attrs = attrs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = vec![
        ("OTEL_SERVICE_NAME", service.to_string()),
        ("OTEL_RESOURCE_ATTRIBUTES", attrs),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", t.otlp_endpoint.clone()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", t.protocol.clone()),
        ("OTEL_TRACES_SAMPLER", t.sampler.kind.clone()),
    ];
    if t.sampler.kind.ends_with("traceidratio") {
        out.push(("OTEL_TRACES_SAMPLER_ARG", t.sampler.ratio.to_string()));
    }
    out
}

/// W3C Baggage-style percent-encoding of a resource attribute value, as
/// `OTEL_RESOURCE_ATTRIBUTES` requires for `,`, `=`, `%` and the like.
fn percent_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Turns one `env` entry into a literal or a secret reference. Placeholders
/// were checked by `validate::semantic`; anything unresolvable here is left
/// as written.
fn resolve_env(
    name: &str,
    raw: &str,
    service: &str,
    env: &EnvironmentConfig,
    spec: &AppSpec,
) -> EnvVar {
    use crate::placeholder::{parse, Piece};
    let Ok(pieces) = parse(raw) else {
        return EnvVar {
            name: name.into(),
            value: Some(raw.into()),
            secret: None,
        };
    };
    if let [Piece::Ref { path, .. }] = pieces.as_slice() {
        if path.len() == 3 && path[0] == "resources" && spec.resources.contains_key(&path[1]) {
            return EnvVar {
                name: name.into(),
                value: None,
                secret: Some(SecretKeyRef {
                    name: crate::placeholder::connection_secret(&path[1]),
                    key: path[2].clone(),
                }),
            };
        }
    }
    let mut value = String::new();
    for p in &pieces {
        match p {
            Piece::Text(t) => value.push_str(t),
            Piece::Ref { path, start, end } => match path
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["metadata", "name"] => value.push_str(service),
                ["environment", "name"] => value.push_str(&env.name),
                ["environment", "domain"] => value.push_str(&env.domain),
                _ => value.push_str(&raw[*start..*end]),
            },
        }
    }
    EnvVar {
        name: name.into(),
        value: Some(value),
        secret: None,
    }
}

fn resolve_security(spec: &AppSpec) -> ResolvedSecurity {
    let sec = spec.security.clone().unwrap_or_default();
    let waivers = sec
        .relaxed_fields()
        .into_iter()
        .map(|field| Waiver {
            field,
            value: match (field, sec.run_as_user) {
                ("runAsUser", Some(u)) => u.to_string(),
                _ => "false".into(),
            },
            reason: sec.reason.clone(),
        })
        .collect();
    ResolvedSecurity {
        read_only_root_filesystem: sec.read_only_root_filesystem.unwrap_or(true),
        run_as_non_root: sec.run_as_non_root.unwrap_or(true),
        run_as_user: sec.run_as_user,
        waivers,
    }
}

/// The tag of an image reference (`ghcr.io/a/b:1.2` → `1.2`), if it has one.
pub(crate) fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t)
}

/// A valid Kubernetes label value: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
pub(crate) fn is_label_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && v.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && v.chars().last().is_none_or(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod schema_contract;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_policy_scales_limits() {
        assert_eq!(scale_cpu("250m", 2.0), "500m");
        assert_eq!(scale_cpu("1", 2.0), "2");
        assert_eq!(scale_cpu("1.5", 1.0), "1500m");
        assert_eq!(scale_memory("256Mi", 1.0), "256Mi");
        assert_eq!(scale_memory("256Mi", 1.5), "384Mi");
        assert_eq!(scale_memory("1Gi", 2.0), "2Gi");
    }

    fn platform(spec: serde_json::Value) -> Platform {
        let mut full = serde_json::json!({
            "environments": {"staging": {"cluster": "in-cluster", "domain": "a.dev"}}
        });
        for (k, v) in spec.as_object().into_iter().flatten() {
            full[k] = v.clone();
        }
        Platform::from_json(serde_json::json!({"metadata": {"name": "t"}, "spec": full})).unwrap()
    }

    #[test]
    fn every_component_namespace_is_exempt_with_the_extra_list() {
        let p = platform(serde_json::json!({}));
        let exempt: Vec<String> = p.exempt_namespaces().into_keys().collect();
        assert_eq!(
            exempt,
            [
                "argocd",
                "cert-manager",
                "crossplane-system",
                "external-secrets",
                "gatekeeper-system",
                "ingress-nginx",
                "kube-node-lease",
                "kube-public",
                "kube-system",
                "monitoring",
            ]
        );
        // kube-system is both the DNS's namespace and an extra entry.
        assert_eq!(
            p.exempt_namespaces()["kube-system"],
            ["networkPolicy.dnsNamespace", "policy.excludedNamespaces"]
        );
    }

    #[test]
    fn renamed_components_move_their_exemption_and_old_lists_still_work() {
        let p = platform(serde_json::json!({
            "gitops": {"argocdNamespace": "gitops"},
            "secretStore": {"name": "vault", "operatorNamespace": "eso"},
            "crossplane": {"namespace": "xp"},
            "ingress": {"certManagerNamespace": "certs"},
            "policy": {
                "gatekeeperNamespace": "opa",
                "excludedNamespaces": ["gatekeeper-system", "kube-*", "gatekeeper-system"]
            }
        }));
        let exempt = p.exempt_namespaces();
        for ns in [
            "gitops",
            "eso",
            "xp",
            "certs",
            "opa",
            "gatekeeper-system",
            "kube-*",
        ] {
            assert!(exempt.contains_key(ns), "{ns}: {exempt:?}");
        }
        for ns in [
            "argocd",
            "external-secrets",
            "crossplane-system",
            "cert-manager",
        ] {
            assert!(!exempt.contains_key(ns), "{ns}: {exempt:?}");
        }
        assert_eq!(exempt["gatekeeper-system"], ["policy.excludedNamespaces"]);
        let keys: Vec<&String> = exempt.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn promotion_defaults_follow_the_environment() {
        let p = platform(serde_json::json!({"environments": {
            "dev": {"cluster": "in-cluster", "domain": "a.dev"},
            "staging": {"cluster": "in-cluster", "domain": "a.dev", "promote": "manual"},
            "production": {"cluster": "in-cluster", "domain": "a.dev", "allowAutoPromote": false}
        }}));
        let got: Vec<(&str, &str)> = p
            .environments
            .values()
            .map(|e| (e.name.as_str(), e.default_promote()))
            .collect();
        assert_eq!(
            got,
            [
                ("dev", "auto"),
                ("staging", "manual"),
                ("production", "manual")
            ]
        );
    }

    #[test]
    fn team_roles_follow_the_default_promotion_unless_set() {
        let p = platform(serde_json::json!({"environments": {
            "dev": {"cluster": "in-cluster", "domain": "a.dev"},
            "staging": {"cluster": "in-cluster", "domain": "a.dev", "promote": "manual"},
            "production": {"cluster": "in-cluster", "domain": "a.dev", "allowAutoPromote": false},
            "sandbox": {"cluster": "in-cluster", "domain": "a.dev", "promote": "manual", "teamRole": "admin"},
            "preview": {"cluster": "in-cluster", "domain": "a.dev", "teamRole": "view"}
        }}));
        let got: Vec<(&str, &str)> = p
            .environments
            .values()
            .map(|e| (e.name.as_str(), e.team_role()))
            .collect();
        assert_eq!(
            got,
            [
                ("dev", "edit"),
                ("staging", "view"),
                ("production", "view"),
                ("sandbox", "admin"),
                ("preview", "view")
            ]
        );
    }

    #[test]
    fn a_service_that_says_promote_keeps_it_whatever_the_default() {
        let p = platform(serde_json::json!({"environments": {
            "staging": {"cluster": "in-cluster", "domain": "a.dev"},
            "production": {"cluster": "in-cluster", "domain": "a.dev", "promote": "manual"}
        }}));
        let spec = |envs: serde_json::Value| {
            let json = serde_json::json!({
                "apiVersion": "paved.dev/v1", "kind": "Application",
                "metadata": {"name": "a", "owner": "t"},
                "spec": {"image": "ghcr.io/a/a:1", "environments": envs}
            });
            let src = crate::source::Source::virtual_file("a/platform.yaml", String::new());
            let doc = crate::load::Node {
                span: crate::source::Span::point(0),
                value: crate::load::Value::Null,
            };
            Service::from_json(src, doc, json, "a/platform.yaml".into()).unwrap()
        };
        let promote = |s: &Service| -> Vec<String> {
            resolve(&p, std::slice::from_ref(s))
                .iter()
                .map(|i| format!("{}={}", i.environment.name, i.environment.promote))
                .collect()
        };
        let said = spec(serde_json::json!({
            "staging": {"promote": "manual"}, "production": {"promote": "auto"}
        }));
        assert_eq!(promote(&said), ["staging=manual", "production=auto"]);
        let silent = spec(serde_json::json!({"staging": {}, "production": {}}));
        assert_eq!(promote(&silent), ["staging=auto", "production=manual"]);
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("ghcr.io/acme/a:1.4.2"), Some("1.4.2"));
        assert_eq!(image_tag("localhost:5000/a"), None);
        assert_eq!(image_tag("ghcr.io/a@sha256:abc"), None);
        assert_eq!(image_tag("ghcr.io/a:1@sha256:abc"), Some("1"));
    }
}
