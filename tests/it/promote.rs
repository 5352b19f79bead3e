//! `paved promote`: the release of one environment written into another's
//! override as the smallest text edit. Every write case checks the edited
//! file byte for byte against the original with only the promoted value
//! changed or the block inserted (a literal splice of the fixture text).

use std::path::Path;

use crate::support::fixtures::{expect, git, run, stderr, stdout, write};

const PAVED: &str = "apiVersion: paved.dev/v1
kind: Platform
metadata:
  name: acme
spec:
  environments:
    staging:
      cluster: \"https://staging.k8s.example.internal\"
      domain: staging.example.dev
      promote: auto
    production:
      cluster: \"https://prod.k8s.example.internal\"
      domain: example.dev
      promote: manual
  gitops:
    repoURL: \"https://git.example.com/platform/deploy.git\"
  promotion:
    order: [staging, production]
";

/// Block style, comments, quoting: production's image is replaced in place.
const ORDERS: &str = "apiVersion: paved.dev/v1
kind: Application
metadata:
  name: orders
  owner: team-orders
  costCenter: cc-1234
spec:
  image: ghcr.io/acme/orders:1.4.2   # the base image
  ports:
    - {name: http, port: 8080}
  environments:
    staging:
      image: \"ghcr.io/acme/orders:1.5.0\"  # staging tries the next release
    production:
      promote: manual   # a person syncs
      image: ghcr.io/acme/orders:1.4.2
";

/// Flow style: the field is added before the closing brace.
const PAYMENTS: &str = "apiVersion: paved.dev/v1
kind: Application
metadata: {name: payments, owner: team-pay, costCenter: cc-2}
spec:
  image: ghcr.io/acme/payments:2.0.0
  ports: [{name: http, port: 8080}]
  environments: {staging: {image: ghcr.io/acme/payments:2.1.0}, production: {promote: manual}}
";

/// Block style without the field in production.
const BILLING: &str = "apiVersion: paved.dev/v1
kind: Application
metadata:
  name: billing
  owner: team-pay
  costCenter: cc-2
spec:
  image: ghcr.io/acme/billing:1.0.0
  ports:
    - {name: http, port: 8080}
  environments:
    staging:
      image: ghcr.io/acme/billing:1.1.0
    production:
      replicas: 2   # busy
# trailing comment
";

/// No `environments` at all, indented by four.
const SEARCH: &str = "apiVersion: paved.dev/v1
kind: Application
metadata:
    name: search
    owner: team-search
    costCenter: cc-3
spec:
    image: ghcr.io/acme/search:3.0.0
    ports:
        - name: http
          port: 8080
";

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "paved.yaml", PAVED);
    write(dir.path(), "orders/platform.yaml", ORDERS);
    write(dir.path(), "payments/platform.yaml", PAYMENTS);
    write(dir.path(), "billing/platform.yaml", BILLING);
    write(dir.path(), "search/platform.yaml", SEARCH);
    dir
}

fn spec(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name).join("platform.yaml")).unwrap()
}

fn orders_promoted() -> String {
    ORDERS.replacen(
        "      image: ghcr.io/acme/orders:1.4.2\n",
        "      image: ghcr.io/acme/orders:1.5.0\n",
        1,
    )
}

fn payments_promoted() -> String {
    PAYMENTS.replacen(
        "production: {promote: manual}}",
        "production: {promote: manual, image: ghcr.io/acme/payments:2.1.0}}",
        1,
    )
}

fn billing_promoted() -> String {
    BILLING.replacen(
        "      replicas: 2   # busy\n",
        "      replicas: 2   # busy\n      image: ghcr.io/acme/billing:1.1.0\n",
        1,
    )
}

#[test]
fn promote_replaces_a_block_value_keeping_comments_and_quoting() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(spec(dir.path(), "orders"), orders_promoted());
    assert_eq!(spec(dir.path(), "payments"), PAYMENTS);
    let out = stdout(&o);
    assert!(
        out.contains("orders (orders/platform.yaml): image ghcr.io/acme/orders:1.4.2 → ghcr.io/acme/orders:1.5.0"),
        "{out}"
    );
    // The spec diff and the rendered diff with its summary.
    assert!(out.contains("--- a/orders/platform.yaml"), "{out}");
    assert!(
        out.contains("+      image: ghcr.io/acme/orders:1.5.0"),
        "{out}"
    );
    assert!(out.contains("Deployment"), "{out}");
    assert!(out.contains("wrote 1 spec"), "{out}");
}

#[test]
fn promote_adds_the_field_in_flow_and_block_style() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "payments",
            "billing",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(spec(dir.path(), "payments"), payments_promoted());
    assert_eq!(spec(dir.path(), "billing"), billing_promoted());
    assert_eq!(spec(dir.path(), "orders"), ORDERS);
}

/// A flow mapping with a trailing comma (`{replicas: 2, }`) gets the field
/// after its last value; the comma and the brace stay.
#[test]
fn promote_adds_the_field_to_a_flow_mapping_with_a_trailing_comma() {
    let dir = workspace();
    let trailing = "apiVersion: paved.dev/v1
kind: Application
metadata: {name: cart, owner: team-pay, costCenter: cc-2}
spec:
  image: ghcr.io/acme/cart:1.0.0
  ports: [{name: http, port: 8080}]
  environments:
    staging: {image: ghcr.io/acme/cart:1.1.0}
    production: {replicas: 2, }   # busy
";
    write(dir.path(), "cart/platform.yaml", trailing);
    let o = run(
        dir.path(),
        &["promote", "cart", "--from", "staging", "--to", "production"],
    );
    expect(&o, 0);
    assert_eq!(
        spec(dir.path(), "cart"),
        trailing.replacen(
            "{replicas: 2, }",
            "{replicas: 2, image: ghcr.io/acme/cart:1.1.0, }",
            1
        )
    );
}

#[test]
fn promote_all_edits_every_service_that_differs() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "--all",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(spec(dir.path(), "orders"), orders_promoted());
    assert_eq!(spec(dir.path(), "payments"), payments_promoted());
    assert_eq!(spec(dir.path(), "billing"), billing_promoted());
    // Already the same release in both: untouched.
    assert_eq!(spec(dir.path(), "search"), SEARCH);
    assert!(stdout(&o).contains("wrote 3 specs"), "{}", stdout(&o));
}

#[test]
fn promote_refuses_to_take_a_service_without_environments_out_of_the_others() {
    // `search` has no `environments` block: it runs in staging and
    // production. An override block naming staging alone would drop it from
    // production (and delete what it has there): refused, nothing written.
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "search",
            "--image",
            "ghcr.io/acme/search:3.1.0",
            "--to",
            "staging",
        ],
    );
    expect(&o, 1);
    assert!(
        stderr(&o).contains("would take `search` out of `production`"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("staging: {}, production: {}"),
        "{}",
        stderr(&o)
    );
    assert_eq!(spec(dir.path(), "search"), SEARCH);
}

#[test]
fn promote_image_takes_one_service() {
    let dir = workspace();
    for args in [
        &[
            "promote",
            "--all",
            "--image",
            "ghcr.io/acme/x:1",
            "--to",
            "staging",
        ][..],
        &[
            "promote",
            "orders",
            "billing",
            "--image",
            "ghcr.io/acme/x:1",
            "--to",
            "staging",
        ][..],
    ] {
        let o = run(dir.path(), args);
        expect(&o, 2);
        assert!(stderr(&o).contains("takes one service"), "{}", stderr(&o));
    }
    assert_eq!(spec(dir.path(), "orders"), ORDERS);
    assert_eq!(spec(dir.path(), "billing"), BILLING);
}

#[test]
fn promote_refuses_an_image_the_previous_environment_does_not_run() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "search",
            "--image",
            "ghcr.io/acme/search:9.9.9",
            "--to",
            "production",
        ],
    );
    expect(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("paved::promote::out-of-order"), "{err}");
    assert!(err.contains("staging"), "{err}");
    assert!(err.contains("production"), "{err}");
    assert!(err.contains("search/platform.yaml:8:12"), "{err}");
    assert_eq!(spec(dir.path(), "search"), SEARCH);
}

#[test]
fn promote_refuses_a_service_that_does_not_run_in_the_target() {
    let dir = workspace();
    write(
        dir.path(),
        "solo/platform.yaml",
        "apiVersion: paved.dev/v1\nkind: Application\nmetadata: {name: solo, owner: t, costCenter: c}\nspec:\n  image: ghcr.io/acme/solo:1\n  ports: [{name: http, port: 8080}]\n  environments: {staging: {image: ghcr.io/acme/solo:2}}\n",
    );
    let before = spec(dir.path(), "solo");
    let o = run(
        dir.path(),
        &["promote", "solo", "--from", "staging", "--to", "production"],
    );
    expect(&o, 1);
    assert!(
        stderr(&o).contains("paved::promote::not-in-environment"),
        "{}",
        stderr(&o)
    );
    assert_eq!(spec(dir.path(), "solo"), before);
}

#[test]
fn promote_refuses_when_the_edited_workspace_has_errors() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "search",
            "--image",
            "Not An Image",
            "--to",
            "staging",
        ],
    );
    expect(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("paved::schema::pattern"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(spec(dir.path(), "search"), SEARCH);
}

#[test]
fn promote_dry_run_writes_nothing_and_prints_the_same() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
            "--dry-run",
        ],
    );
    expect(&o, 0);
    assert_eq!(spec(dir.path(), "orders"), ORDERS);
    let out = stdout(&o);
    assert!(
        out.contains("+      image: ghcr.io/acme/orders:1.5.0"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing written"), "{out}");
}

#[test]
fn promote_json_report_lists_the_promotions() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["promotions"][0]["service"], "orders");
    assert_eq!(v["promotions"][0]["new"], "ghcr.io/acme/orders:1.5.0");
    assert_eq!(v["written"], 0);
}

#[test]
fn promote_usage_errors_exit_2() {
    let dir = workspace();
    let same = run(
        dir.path(),
        &["promote", "orders", "--from", "staging", "--to", "staging"],
    );
    expect(&same, 2);
    let typo = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "productoin",
        ],
    );
    expect(&typo, 2);
    assert!(
        stderr(&typo).contains("did you mean `production`?"),
        "{}",
        stderr(&typo)
    );
    let unknown = run(
        dir.path(),
        &[
            "promote",
            "ordrs",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&unknown, 2);
    assert!(
        stderr(&unknown).contains("did you mean `orders`?"),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(spec(dir.path(), "orders"), ORDERS);
}

#[test]
fn promote_list_shows_what_differs_between_environments() {
    let dir = workspace();
    let o = run(dir.path(), &["promote", "--list"]);
    expect(&o, 0);
    assert_eq!(
        stdout(&o),
        "SERVICE   FIELD  staging                      production
billing   image  ghcr.io/acme/billing:1.1.0   ghcr.io/acme/billing:1.0.0
orders    image  ghcr.io/acme/orders:1.5.0    ghcr.io/acme/orders:1.4.2
payments  image  ghcr.io/acme/payments:2.1.0  ghcr.io/acme/payments:2.0.0
"
    );
    let j = run(dir.path(), &["promote", "--list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&j)).unwrap();
    assert_eq!(
        v["differences"][0]["values"]["production"],
        "ghcr.io/acme/billing:1.0.0"
    );
}

#[test]
fn diff_names_a_promotion_grouped_per_release() {
    let dir = workspace();
    expect(&run(dir.path(), &["render", "--out", "old"]), 0);
    expect(
        &run(
            dir.path(),
            &[
                "promote",
                "--all",
                "--from",
                "staging",
                "--to",
                "production",
            ],
        ),
        0,
    );
    expect(&run(dir.path(), &["render", "--out", "new"]), 0);
    let o = run(dir.path(), &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["promotions"],
        serde_json::json!([
            {"image": "ghcr.io/acme/billing:1.1.0", "from": ["staging"], "to": "production", "services": ["billing"], "rollback": false},
            {"image": "ghcr.io/acme/orders:1.5.0", "from": ["staging"], "to": "production", "services": ["orders"], "rollback": false},
            {"image": "ghcr.io/acme/payments:2.1.0", "from": ["staging"], "to": "production", "services": ["payments"], "rollback": false},
        ]),
        "{}",
        stdout(&o)
    );
    let text = stdout(&run(dir.path(), &["diff", "old", "new"]));
    assert!(
        text.contains("promotes `ghcr.io/acme/orders:1.5.0` from staging to production: 1 service"),
        "{text}"
    );
    let md = stdout(&run(
        dir.path(),
        &["diff", "old", "new", "--format", "markdown"],
    ));
    assert!(
        md.contains("promotes `ghcr.io/acme/orders:1.5.0` from staging to production: 1 service"),
        "{md}"
    );
}

/// A service that skips an environment of `promotion.order`: `promote`
/// takes dev's release to production (dev is the environment before
/// production that it runs in), and `diff --base` names that promotion.
#[test]
fn diff_base_names_the_promotion_promote_made_past_a_skipped_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let paved = PAVED
        .replace(
            "  environments:\n",
            "  environments:\n    dev:\n      cluster: \"https://dev.k8s.example.internal\"\n      domain: dev.example.dev\n      promote: auto\n",
        )
        .replace("order: [staging, production]", "order: [dev, staging, production]");
    write(d, "paved.yaml", &paved);
    let inventory = "apiVersion: paved.dev/v1
kind: Application
metadata: {name: inventory, owner: team-inv, costCenter: cc-4}
spec:
  image: ghcr.io/acme/inventory:1.0.0
  ports: [{name: http, port: 8080}]
  environments:
    dev:
      image: ghcr.io/acme/inventory:3.0.0
    production:
      image: ghcr.io/acme/inventory:1.0.0
";
    write(d, "inventory/platform.yaml", inventory);
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    expect(
        &run(
            d,
            &[
                "promote",
                "inventory",
                "--from",
                "dev",
                "--to",
                "production",
                "-q",
            ],
        ),
        0,
    );
    assert_eq!(
        std::fs::read_to_string(d.join("inventory/platform.yaml")).unwrap(),
        inventory.replacen(
            "      image: ghcr.io/acme/inventory:1.0.0\n",
            "      image: ghcr.io/acme/inventory:3.0.0\n",
            1
        )
    );
    let o = run(d, &["diff", "--base", "main", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["promotions"],
        serde_json::json!([
            {"image": "ghcr.io/acme/inventory:3.0.0", "from": ["dev"], "to": "production", "services": ["inventory"], "rollback": false},
        ]),
        "{}",
        stdout(&o)
    );
    let text = stdout(&run(d, &["diff", "--base", "main"]));
    assert!(
        text.contains("promotes `ghcr.io/acme/inventory:3.0.0` from dev to production: 1 service"),
        "{text}"
    );
}

#[test]
fn diff_does_not_call_a_new_image_a_promotion() {
    let dir = workspace();
    expect(&run(dir.path(), &["render", "--out", "old"]), 0);
    expect(
        &run(
            dir.path(),
            &[
                "promote",
                "orders",
                "--image",
                "ghcr.io/acme/orders:9.9.9",
                "--to",
                "staging",
            ],
        ),
        0,
    );
    expect(&run(dir.path(), &["render", "--out", "new"]), 0);
    let o = run(dir.path(), &["diff", "old", "new", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["promotions"], serde_json::json!([]), "{}", stdout(&o));
}

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[test]
fn promote_keeps_crlf_line_endings() {
    // An in-place value (orders) and an inserted line (billing), both in a
    // file whose lines end with CRLF.
    let dir = workspace();
    write(dir.path(), "orders/platform.yaml", &crlf(ORDERS));
    write(dir.path(), "billing/platform.yaml", &crlf(BILLING));
    write(dir.path(), "search/platform.yaml", &crlf(SEARCH));
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "billing",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(spec(dir.path(), "orders"), crlf(&orders_promoted()));
    assert_eq!(spec(dir.path(), "billing"), crlf(&billing_promoted()));
    // An inserted block: the whole `environments:` of a CRLF file.
    write(
        dir.path(),
        "search/platform.yaml",
        &crlf(&SEARCH.replace(
            "    image: ghcr.io/acme/search:3.0.0\n",
            "    image: ghcr.io/acme/search:3.0.0\n    environments: {staging: {}}\n",
        )),
    );
    let before = spec(dir.path(), "search");
    let o = run(
        dir.path(),
        &[
            "promote",
            "search",
            "--image",
            "ghcr.io/acme/search:3.1.0",
            "--to",
            "staging",
        ],
    );
    expect(&o, 0);
    assert_eq!(
        spec(dir.path(), "search"),
        before.replace(
            "{staging: {}}",
            "{staging: {image: ghcr.io/acme/search:3.1.0}}"
        )
    );
    // The last line has no line break: the inserted line gets the file's.
    let unended = "apiVersion: paved.dev/v1\r\nkind: Application\r\nmetadata:\r\n  name: solo\r\n  owner: t\r\n  costCenter: c\r\nspec:\r\n  image: ghcr.io/acme/solo:1\r\n  ports: [{name: http, port: 8080}]\r\n  environments:\r\n    production: {}\r\n    staging:\r\n      replicas: 2";
    write(dir.path(), "solo/platform.yaml", unended);
    let o = run(
        dir.path(),
        &[
            "promote",
            "solo",
            "--image",
            "ghcr.io/acme/solo:2",
            "--to",
            "staging",
        ],
    );
    expect(&o, 0);
    assert_eq!(
        spec(dir.path(), "solo"),
        format!("{unended}\r\n      image: ghcr.io/acme/solo:2")
    );
}

#[test]
fn promote_keeps_a_byte_order_mark() {
    let dir = workspace();
    write(
        dir.path(),
        "orders/platform.yaml",
        &format!("\u{feff}{ORDERS}"),
    );
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(
        spec(dir.path(), "orders"),
        format!("\u{feff}{}", orders_promoted())
    );
}

#[cfg(unix)]
#[test]
fn promote_keeps_the_file_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = workspace();
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name).join("platform.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    let set = |name: &str, m: u32| {
        std::fs::set_permissions(
            dir.path().join(name).join("platform.yaml"),
            std::fs::Permissions::from_mode(m),
        )
        .unwrap()
    };
    set("orders", 0o600);
    set("billing", 0o755);
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "billing",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(spec(dir.path(), "orders"), orders_promoted());
    assert_eq!(mode("orders"), 0o600);
    assert_eq!(mode("billing"), 0o755);
}

#[test]
fn promote_inserts_after_a_block_scalar_ending_the_override() {
    let dir = workspace();
    let text = BILLING.replace(
        "      replicas: 2   # busy\n",
        "      replicas: 2   # busy\n      env:\n        BANNER: |\n          Billing, production\n\n            (indented line)\n    # about staging\n",
    );
    // Staging after production, so the block scalar is followed by a key
    // less indented than its own.
    let text = text.replace(
        "    staging:\n      image: ghcr.io/acme/billing:1.1.0\n    production:\n",
        "    production:\n",
    );
    let text = text.replace(
        "    # about staging\n",
        "    # about staging\n    staging:\n      image: ghcr.io/acme/billing:1.1.0\n",
    );
    write(dir.path(), "billing/platform.yaml", &text);
    let o = run(
        dir.path(),
        &[
            "promote",
            "billing",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(
        spec(dir.path(), "billing"),
        text.replace(
            "            (indented line)\n",
            "            (indented line)\n      image: ghcr.io/acme/billing:1.1.0\n"
        )
    );
}

#[test]
fn promote_replaces_an_alias_with_the_value() {
    let dir = workspace();
    let text = ORDERS
        .replace(
            "  image: ghcr.io/acme/orders:1.4.2   # the base image\n",
            "  image: &base ghcr.io/acme/orders:1.4.2   # the base image\n",
        )
        .replace(
            "      image: ghcr.io/acme/orders:1.4.2\n",
            "      image: *base   # as the base\n",
        );
    write(dir.path(), "orders/platform.yaml", &text);
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(
        spec(dir.path(), "orders"),
        text.replace(
            "*base   # as the base",
            "ghcr.io/acme/orders:1.5.0   # as the base"
        )
    );
}

#[test]
fn promote_refuses_to_change_an_anchored_value_an_alias_repeats() {
    let dir = workspace();
    // Production's image is anchored and the base image repeats it: changing
    // it in place would change the base image too (and with it every other
    // environment's).
    let text = "apiVersion: paved.dev/v1
kind: Application
metadata: {name: orders, owner: team-orders, costCenter: cc-1234}
spec:
  ports: [{name: http, port: 8080}]
  environments:
    staging:
      image: ghcr.io/acme/orders:1.5.0
    production:
      image: &release ghcr.io/acme/orders:1.4.2
  image: *release
";
    write(dir.path(), "orders/platform.yaml", text);
    let o = run(
        dir.path(),
        &[
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("paved::promote::cannot-edit"), "{err}");
    assert!(err.contains("orders/platform.yaml:10:14"), "{err}");
    assert!(err.contains("`*release` at line 11"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(spec(dir.path(), "orders"), text);
}

#[test]
fn promote_quiet_prints_only_errors() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "-q",
            "promote",
            "orders",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 0);
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    assert_eq!(spec(dir.path(), "orders"), orders_promoted());
    // A machine format is printed whole: a program reads it.
    let o = run(
        dir.path(),
        &[
            "-q",
            "promote",
            "billing",
            "--from",
            "staging",
            "--to",
            "production",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["promotions"][0]["service"], "billing");
    // A refusal is an error: still printed.
    let o = run(
        dir.path(),
        &[
            "promote",
            "search",
            "--image",
            "ghcr.io/acme/search:9.9.9",
            "--to",
            "production",
            "--quiet",
        ],
    );
    expect(&o, 1);
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("paved::promote::out-of-order"),
        "{}",
        stderr(&o)
    );
}

/// A folder chain whose `platform.yaml` can be read and replaced, but in
/// which no longer file name fits: the path of any file there beside it
/// other than a short one exceeds the system's limit (4095 bytes), so the
/// temporary file a write goes through cannot be created, whoever runs the
/// test (root included).
#[cfg(target_os = "linux")]
fn at_the_path_limit(root: &Path) -> std::path::PathBuf {
    // The folder's path: 4070 bytes, so `…/platform.yaml` is 4084 and a
    // temporary `…/.paved-tmp-<pid>-<16 hex>-platform.yaml` at least 4114.
    let mut dir = root.to_path_buf();
    let mut left = 4070 - root.as_os_str().len();
    while left > 0 {
        let name = "d".repeat(if left > 250 { 199 } else { left - 1 });
        left -= name.len() + 1;
        dir.push(name);
    }
    assert_eq!(dir.as_os_str().len(), 4070);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(target_os = "linux")]
#[test]
fn promote_restores_every_spec_written_when_a_later_write_fails() {
    let dir = workspace();
    // Four specs to edit, in name order: billing, cart, orders, payments.
    // The third cannot be written.
    std::fs::remove_dir_all(dir.path().join("orders")).unwrap();
    let deep = at_the_path_limit(&dir.path().canonicalize().unwrap().join("orders"));
    std::fs::write(deep.join("platform.yaml"), ORDERS).unwrap();
    let cart = BILLING.replace("billing", "cart");
    write(dir.path(), "cart/platform.yaml", &cart);
    let o = run(
        dir.path(),
        &[
            "promote",
            "--all",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    expect(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("cannot write `orders/ddd"), "{err}");
    assert!(
        err.contains("2 specs written before it were restored"),
        "{err}"
    );
    assert_eq!(spec(dir.path(), "billing"), BILLING);
    assert_eq!(spec(dir.path(), "cart"), cart);
    assert_eq!(
        std::fs::read_to_string(deep.join("platform.yaml")).unwrap(),
        ORDERS
    );
    assert_eq!(spec(dir.path(), "payments"), PAYMENTS);
    // No temporary file left behind.
    for name in ["billing", "cart", "payments"] {
        let left: Vec<_> = std::fs::read_dir(dir.path().join(name))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("platform.yaml")]);
    }
}

/// The same with a read-only folder, where the permissions hold (not for
/// root, who may write anywhere: the test then has nothing to show and says so).
#[cfg(unix)]
#[test]
fn promote_restores_every_spec_written_when_a_folder_is_read_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = workspace();
    let locked = dir.path().join("orders");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = locked.join("probe");
    if std::fs::write(&probe, "").is_ok() {
        let _ = std::fs::remove_file(&probe);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: this user writes into read-only folders (root); promote_restores_every_spec_written_when_a_later_write_fails covers the rollback");
        return;
    }
    let o = run(
        dir.path(),
        &[
            "promote",
            "--all",
            "--from",
            "staging",
            "--to",
            "production",
        ],
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    expect(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("cannot write `orders/platform.yaml`"), "{err}");
    assert_eq!(spec(dir.path(), "billing"), BILLING);
    assert_eq!(spec(dir.path(), "orders"), ORDERS);
    assert_eq!(spec(dir.path(), "payments"), PAYMENTS);
}
