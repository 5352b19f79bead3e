//! Writes a realistic fleet of N services and one `paved.yaml`, for benchmarks.
//!
//! ```sh
//! cargo run --release --example gen-fleet -- 1000 /tmp/fleet
//! ```
//!
//! The fleet is varied (services, workers, cronjobs; 1–2 ports; sizes or
//! explicit compute; 0–3 dependencies; resources of every type; ingress on
//! about half the services; secrets; two or three environments with
//! overrides) and deterministic: the same N always gives the same files, so
//! runs are comparable.

use std::fmt::Write as _;
use std::path::Path;

#[path = "../tests/support/rng.rs"]
#[allow(
    unreachable_pub,
    reason = "shared with the test binary, where its items are used across modules"
)]
mod rng;
use rng::Rng;

const PLATFORM: &str = r#"apiVersion: paved.dev/v1
kind: Platform
metadata:
  name: bench
spec:
  environments:
    staging: {cluster: "https://staging.k8s.example.internal", domain: staging.example.dev, class: small}
    production: {cluster: "https://prod.k8s.example.internal", domain: example.dev, class: standard}
    dev: {cluster: "https://dev.k8s.example.internal", domain: dev.example.dev, class: small}
  gitops: {repoURL: "https://git.example.com/platform/deploy.git", targetRevision: main, path: rendered}
  allowedRegistries: [ghcr.io/acme/]
  requiredLabels: [owner, cost-center]
  sizes:
    small: {cpu: 100m, memory: 128Mi}
    medium: {cpu: 250m, memory: 256Mi}
    large: {cpu: "1", memory: 1Gi}
  secretStore: {kind: ClusterSecretStore, name: vault}
  ingressClasses: {internal: nginx-internal, public: nginx-public}
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(dir)) = (
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
        args.get(2),
    ) else {
        eprintln!("usage: gen-fleet N DIR");
        std::process::exit(2);
    };
    if let Err(e) = generate(n, Path::new(dir)) {
        eprintln!("gen-fleet: {e}");
        std::process::exit(2);
    }
}

fn generate(n: usize, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("paved.yaml"), PLATFORM)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let teams = [
        "payments", "orders", "search", "identity", "growth", "platform", "data", "mobile",
    ];
    let mut services: Vec<String> = Vec::new();
    for i in 0..n {
        let name = format!("svc-{i:05}");
        let team = teams[rng.below(teams.len() as u64) as usize];
        let kind = match rng.below(10) {
            0 => "cronjob",
            1 | 2 => "worker",
            _ => "service",
        };
        let mut y = String::new();
        let _ = write!(
            y,
            "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  description: Service number {i} of team {team}\n  owner: team-{team}\n  costCenter: cc-{:04}\n  lifecycle: {}\n  system: {team}\n  tags: [{team}, bench]\nspec:\n  type: {kind}\n  image: ghcr.io/acme/{name}:1.{}.{}\n",
            rng.below(9000) + 1000,
            if rng.chance(70) { "production" } else { "experimental" },
            rng.below(20),
            rng.below(10),
        );
        if kind == "cronjob" {
            let _ = writeln!(y, "  schedule: \"{} */2 * * *\"", rng.below(60));
        }
        if kind == "service" {
            y.push_str("  ports:\n    - {name: http, port: 8080}\n");
            if rng.chance(30) {
                y.push_str("    - {name: grpc, port: 9090}\n");
            }
        }
        if rng.chance(70) {
            let _ = writeln!(
                y,
                "  size: {}",
                ["small", "medium", "large"][rng.below(3) as usize]
            );
        } else {
            let _ = writeln!(
                y,
                "  compute: {{cpu: {}m, memory: {}Mi}}",
                (rng.below(8) + 1) * 100,
                (rng.below(8) + 1) * 128
            );
        }
        if kind == "worker" {
            let _ = writeln!(y, "  replicas: {}", rng.below(3) + 1);
        }
        let mut resources: Vec<(String, &str)> = Vec::new();
        if rng.chance(50) {
            resources.push(("db".into(), "postgresql"));
        }
        if rng.chance(30) {
            resources.push(("cache".into(), "redis"));
        }
        if rng.chance(20) {
            resources.push(("files".into(), "bucket"));
        }
        y.push_str("  env:\n    LOG_LEVEL: info\n    SERVICE_NAME: ${metadata.name}\n");
        for (rname, rtype) in &resources {
            let key = if *rtype == "bucket" {
                "endpoint"
            } else {
                "url"
            };
            let _ = writeln!(
                y,
                "    {}_URL: ${{resources.{rname}.{key}}}",
                rname.to_uppercase()
            );
        }
        if rng.chance(60) {
            let _ = writeln!(
                y,
                "  secrets:\n    - {{env: API_TOKEN, ref: \"{team}/{name}#api-token\"}}"
            );
        }
        if kind == "service" && rng.chance(50) {
            let _ = writeln!(y, "  ingress: {{host: {name}, public: {}}}", rng.chance(40));
        }
        let candidates: Vec<&String> = services.iter().rev().take(50).collect();
        let deps = if kind == "cronjob" {
            0
        } else {
            rng.below(4).min(candidates.len() as u64)
        };
        if deps > 0 {
            let mut chosen: Vec<&String> = Vec::new();
            for _ in 0..deps {
                let c = candidates[rng.below(candidates.len() as u64) as usize];
                if !chosen.contains(&c) {
                    chosen.push(c);
                }
            }
            let list: Vec<String> = chosen.iter().map(|c| format!("component:{c}")).collect();
            let _ = writeln!(y, "  dependsOn: [{}]", list.join(", "));
        }
        if !resources.is_empty() {
            y.push_str("  resources:\n");
            for (rname, rtype) in &resources {
                match *rtype {
                    "postgresql" => {
                        let _ = writeln!(
                            y,
                            "    {rname}: {{type: postgresql, version: \"16\", storageGB: {}}}",
                            (rng.below(10) + 1) * 10
                        );
                    }
                    other => {
                        let _ = writeln!(y, "    {rname}: {{type: {other}}}");
                    }
                }
            }
        }
        if kind == "service" && rng.chance(40) {
            y.push_str("  observability: {slo: {availability: 99.9, latencyP99Ms: 500}}\n");
        }
        y.push_str("  environments:\n    staging: {promote: auto}\n");
        if kind == "service" {
            y.push_str("    production: {promote: manual, autoscaling: {min: 3, max: 20}}\n");
        } else {
            y.push_str("    production: {promote: manual}\n");
        }
        // A third environment for some services; only for those without
        // dependencies, whose dependencies would otherwise be missing there.
        if deps == 0 && rng.chance(15) {
            y.push_str("    dev: {promote: auto}\n");
        }
        let folder = dir.join("services").join(team).join(&name);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join("platform.yaml"), y)?;
        // Only services serve traffic, so only they can be depended on.
        if kind == "service" {
            services.push(name);
        }
    }
    eprintln!("wrote {n} services to {}", dir.display());
    Ok(())
}
