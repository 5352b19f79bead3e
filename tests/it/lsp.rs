//! `paved lsp`: the built binary driven over stdio by a small scripted
//! client (Content-Length framing written here). Every wait has a timeout,
//! so a server that hangs fails the test instead of stalling the suite.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fixtures::{spec_text, write};

const WAIT: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Messages read while waiting for another one.
    seen: Vec<Value>,
}

fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paved"))
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_frame(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            rx,
            next_id: 1,
            seen: Vec::new(),
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.raw(frame.as_bytes());
    }

    fn request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The first message (read now or earlier) that `want` accepts.
    fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) if want(&v) => return v,
                Ok(v) => self.seen.push(v),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {WAIT:?}; seen: {:#?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the server closed stdout before {what}; seen: {:#?}",
                        self.seen
                    )
                }
            }
        }
    }

    fn response(&mut self, id: i64) -> Value {
        self.wait_for(&format!("response {id}"), |v| v["id"] == json!(id))
    }

    /// The next diagnostics published for `uri` (earlier ones are dropped).
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_for = |v: &Value| {
            v["method"] == "textDocument/publishDiagnostics" && v["params"]["uri"] == uri
        };
        self.seen.retain(|v| !is_for(v));
        let v = self.wait_for(&format!("diagnostics for {uri}"), is_for);
        v["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn initialize(&mut self, root: &Path) -> Value {
        let id = self.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(root), "capabilities": {}}),
        );
        let r = self.response(id);
        self.notify("initialized", json!({}));
        r
    }

    fn open(&mut self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    fn change_all(&mut self, path: &Path, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version},
                   "contentChanges": [{"text": text}]}),
        );
    }

    /// shutdown, then exit: the exit code.
    fn finish(mut self) -> i32 {
        let id = self.request("shutdown", Value::Null);
        let r = self.response(id);
        assert_eq!(r["result"], Value::Null, "{r}");
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    fn wait_exit(mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A workspace: the built-in config as `paved.yaml`, and the given specs.
fn workspace(specs: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "paved.yaml", paved::testing::app::DEFAULT_CONFIG);
    for (rel, text) in specs {
        write(&root, rel, text);
    }
    dir
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

const ORDERS: &str = "services/orders/platform.yaml";
const INVENTORY: &str = "services/inventory/platform.yaml";

#[test]
fn diagnostics_on_open_and_on_change_then_shutdown_exits_0() {
    let good = spec_text("orders", "team-orders", "");
    let bad = good.replace("  ports:", "  replica: 2\n  ports:");
    let dir = workspace(&[(ORDERS, &good)]);
    let root = dir.path().canonicalize().unwrap();
    let spec = root.join(ORDERS);
    let mut c = Client::start(&root);
    let init = c.initialize(&root);
    assert_eq!(init["result"]["serverInfo"]["name"], "paved", "{init}");

    // The buffer, not the file on disk, is what is checked.
    c.open(&spec, &bad);
    let diags = c.diagnostics(&uri(&spec));
    assert_eq!(
        codes(&diags),
        ["paved::schema::unknown-field"],
        "{diags:#?}"
    );
    let d = &diags[0];
    let line = bad.lines().position(|l| l == "  replica: 2").unwrap();
    assert_eq!(
        d["range"],
        json!({"start": {"line": line, "character": 2}, "end": {"line": line, "character": 9}})
    );
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "paved");
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("unknown field `replica`"), "{message}");
    assert!(message.contains("did you mean `replicas`?"), "{message}");
    assert_eq!(d["data"]["explain"]["code"], "paved::schema::unknown-field");
    assert!(d["data"]["explain"]["explanation"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));

    // Fixed in the editor: the list is cleared.
    c.change_all(&spec, 2, &good);
    assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn ranges_count_utf16_code_units() {
    let text = spec_text("orders", "team-orders", "").replace("  ports:", "  x😀: 1\n  ports:");
    let dir = workspace(&[(ORDERS, &text)]);
    let root = dir.path().canonicalize().unwrap();
    let spec = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&spec, &text);
    let diags = c.diagnostics(&uri(&spec));
    assert_eq!(
        codes(&diags),
        ["paved::schema::unknown-field"],
        "{diags:#?}"
    );
    // `x😀` is 2 characters but 3 UTF-16 code units.
    assert_eq!(diags[0]["range"]["start"]["character"], 2);
    assert_eq!(diags[0]["range"]["end"]["character"], 5);
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_dependency_renamed_in_its_buffer_changes_the_dependents_diagnostics() {
    let orders = spec_text(
        "orders",
        "team-orders",
        "  dependsOn: [component:inventory]\n",
    );
    let inventory = spec_text("inventory", "team-orders", "");
    let dir = workspace(&[(ORDERS, &orders), (INVENTORY, &inventory)]);
    let root = dir.path().canonicalize().unwrap();
    let (o, i) = (root.join(ORDERS), root.join(INVENTORY));
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());
    c.open(&i, &inventory);
    assert_eq!(c.diagnostics(&uri(&i)), Vec::<Value>::new());

    // Renamed, unsaved: orders now names a service that does not exist.
    c.change_all(&i, 2, &inventory.replace("name: inventory", "name: stock"));
    let diags = c.diagnostics(&uri(&o));
    assert_eq!(
        codes(&diags),
        ["paved::semantic::unknown-dependency"],
        "{diags:#?}"
    );
    let line = orders
        .lines()
        .position(|l| l.contains("dependsOn"))
        .unwrap();
    assert_eq!(diags[0]["range"]["start"]["line"], line);

    // Renamed back: the dependent's diagnostics go away.
    c.change_all(&i, 3, &inventory);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_new_spec_not_yet_on_disk_is_checked() {
    let dir = workspace(&[(ORDERS, &spec_text("orders", "team-orders", ""))]);
    let root = dir.path().canonicalize().unwrap();
    let new = root.join("services/payments/platform.yaml");
    let mut c = Client::start(&root);
    c.initialize(&root);
    // Same name as an existing service: a cross-file finding.
    c.open(&new, &spec_text("orders", "team-orders", ""));
    let diags = c.diagnostics(&uri(&new));
    assert!(!diags.is_empty());
    assert!(
        codes(&diags).iter().all(|c| c.starts_with("paved::")),
        "{diags:#?}"
    );
    c.change_all(&new, 2, &spec_text("payments", "team-orders", ""));
    assert_eq!(c.diagnostics(&uri(&new)), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn hostile_messages_get_protocol_errors_and_the_server_carries_on() {
    let good = spec_text("orders", "team-orders", "");
    let dir = workspace(&[(ORDERS, &good)]);
    let root = dir.path().canonicalize().unwrap();
    let spec = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);

    // Invalid JSON: a parse error with a null id.
    c.raw(b"Content-Length: 9\r\n\r\n{not json");
    let e = c.wait_for("a parse error", |v| v["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);

    // An unknown request: MethodNotFound; an unknown notification: nothing.
    c.notify("paved/nothing", json!({}));
    let id = c.request("paved/nothing", json!({}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32601, "{r}");

    // A request whose params are wrong: InvalidParams, not a crash.
    let id = c.request("textDocument/hover", json!({"oops": true}));
    let r = c.response(id);
    assert!(r["error"]["code"].is_i64(), "{r}");

    // A frame far larger than any document is refused without reading it into memory.
    c.raw(b"Content-Length: 99999999999999\r\n\r\n");
    let e = c.wait_for("a refused frame", |v| v["error"]["code"] == -32600);
    assert_eq!(e["id"], Value::Null);
    // The stream is not in sync after that; a new server for the rest.
    drop(c);

    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&spec, &good);
    assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new());

    // A change whose range is past the end of the document: clamped to its end.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&spec), "version": 2},
               "contentChanges": [{"range": {"start": {"line": 9999, "character": 5},
                                             "end": {"line": 99999, "character": 0}},
                                   "text": "  bogus: 1\n"}]}),
    );
    let diags = c.diagnostics(&uri(&spec));
    assert_eq!(
        codes(&diags),
        ["paved::schema::unknown-field"],
        "{diags:#?}"
    );
    // A change to a document that is not open is ignored.
    c.change_all(&root.join("elsewhere/platform.yaml"), 2, "x");

    // A 50 MB document: a clear diagnostic, the size limit of any spec.
    let huge = format!("{good}#{}\n", "x".repeat(50 << 20));
    c.change_all(&spec, 3, &huge);
    let diags = c.diagnostics(&uri(&spec));
    assert_eq!(codes(&diags), ["paved::load::too-large"], "{diags:#?}");
    c.change_all(&spec, 4, &good);
    assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn exit_without_shutdown_exits_1() {
    let dir = workspace(&[(ORDERS, &spec_text("orders", "team-orders", ""))]);
    let root = dir.path().canonicalize().unwrap();
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit(), 1);
}

#[test]
fn requests_after_shutdown_are_refused() {
    let dir = workspace(&[(ORDERS, &spec_text("orders", "team-orders", ""))]);
    let root = dir.path().canonicalize().unwrap();
    let mut c = Client::start(&root);
    c.initialize(&root);
    let id = c.request("shutdown", Value::Null);
    c.response(id);
    let id = c.request("textDocument/hover", json!({}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32600, "{r}");
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit(), 0);
}

#[test]
fn an_unsaved_paved_yaml_is_the_platform_config_of_the_check() {
    let spec_good = spec_text("orders", "team-orders", "");
    let dir = workspace(&[(ORDERS, &spec_good)]);
    let root = dir.path().canonicalize().unwrap();
    let (config, spec) = (root.join("paved.yaml"), root.join(ORDERS));
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&spec, &spec_good);
    assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new());
    let text = paved::testing::app::DEFAULT_CONFIG;
    c.open(&config, text);
    assert_eq!(c.diagnostics(&uri(&config)), Vec::<Value>::new());
    // A typo in the buffer of paved.yaml, not saved: reported there.
    let broken = text.replacen("\nspec:\n", "\nspec:\n  bogus: 1\n", 1);
    assert_ne!(broken, text);
    c.change_all(&config, 2, &broken);
    let diags = c.diagnostics(&uri(&config));
    assert_eq!(
        codes(&diags),
        ["paved::schema::unknown-field"],
        "{diags:#?}"
    );
    let line = broken.lines().position(|l| l == "  bogus: 1").unwrap();
    assert_eq!(diags[0]["range"]["start"]["line"], line);
    c.change_all(&config, 3, text);
    assert_eq!(c.diagnostics(&uri(&config)), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

// ---- hover, completion, navigation, code actions, symbols ----

/// The LSP position (line, UTF-16 character) of the `nth` match of `needle`
/// in `text`, plus `delta` characters (ASCII text).
fn pos_of(text: &str, needle: &str, delta: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + delta;
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

impl Client {
    fn at(&mut self, method: &str, path: &Path, position: Value) -> Value {
        let id = self.request(
            method,
            json!({"textDocument": {"uri": uri(path)}, "position": position}),
        );
        let r = self.response(id);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    fn labels(&mut self, path: &Path, position: Value) -> Vec<String> {
        let r = self.at("textDocument/completion", path, position);
        let items = r.as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|i| i["label"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn rich_orders() -> String {
    spec_text(
        "orders",
        "team-orders",
        "  size: medium\n  dependsOn:\n    - component:inventory\n  resources:\n    db: {type: postgresql}\n  env:\n    DB_URL: \"${resources.db.url}\"\n",
    )
}

fn inventory_text() -> String {
    spec_text("inventory", "team-stock", "").replace(
        "  costCenter: cc-1\n",
        "  costCenter: cc-1\n  description: Stock levels per warehouse\n",
    )
}

/// A started, initialized server with orders and inventory open.
fn rich_session() -> (tempfile::TempDir, Client, std::path::PathBuf, String) {
    let orders = rich_orders();
    let dir = workspace(&[(ORDERS, &orders), (INVENTORY, &inventory_text())]);
    let root = dir.path().canonicalize().unwrap();
    let o = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());
    (dir, c, o, orders)
}

#[test]
fn initialize_advertises_the_features() {
    let dir = workspace(&[(ORDERS, &spec_text("orders", "team-orders", ""))]);
    let root = dir.path().canonicalize().unwrap();
    let mut c = Client::start(&root);
    let init = c.initialize(&root);
    let caps = &init["result"]["capabilities"];
    for cap in [
        "hoverProvider",
        "completionProvider",
        "definitionProvider",
        "codeActionProvider",
        "documentSymbolProvider",
    ] {
        assert!(!caps[cap].is_null(), "{cap} missing: {caps}");
    }
    assert_eq!(c.finish(), 0);
}

#[test]
fn hover_on_a_key_is_what_explain_prints() {
    let (_dir, mut c, o, orders) = rich_session();
    let h = c.at("textDocument/hover", &o, pos_of(&orders, "  image:", 3));
    let shown = h["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paved"))
        .args(["explain", "spec.image"])
        .output()
        .unwrap();
    let explain = String::from_utf8(out.stdout).unwrap();
    assert!(!explain.is_empty());
    assert!(shown.contains(&explain), "{shown}\n---\n{explain}");
    assert_eq!(c.finish(), 0);
}

#[test]
fn hover_on_a_size_a_dependency_and_a_placeholder() {
    let (_dir, mut c, o, orders) = rich_session();
    let h = c.at("textDocument/hover", &o, pos_of(&orders, "medium", 2));
    let s = h["contents"]["value"].as_str().unwrap_or_default();
    assert!(s.contains("250m") && s.contains("256Mi"), "{h}");

    let h = c.at(
        "textDocument/hover",
        &o,
        pos_of(&orders, "component:inventory", 12),
    );
    let s = h["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        s.contains("team-stock") && s.contains("Stock levels per warehouse"),
        "{h}"
    );

    let h = c.at(
        "textDocument/hover",
        &o,
        pos_of(&orders, "resources.db.url", 13),
    );
    let s = h["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        s.contains("`db-connection`") && s.contains("key `url`"),
        "{h}"
    );
    assert_eq!(c.finish(), 0);
}

#[test]
fn completion_of_fields_values_sizes_environments_components_placeholders_and_registries() {
    let orders = rich_orders();
    let mut config = paved::testing::app::DEFAULT_CONFIG.replace(
        "allowedRegistries: []",
        "allowedRegistries: [ghcr.io/acme, registry.example.com]",
    );
    config = config.replace(
        "    large: {cpu: \"1\", memory: 1Gi}\n",
        "    large: {cpu: \"1\", memory: 1Gi}\n    huge: {cpu: \"4\", memory: 8Gi}\n",
    );
    let dir = workspace(&[(ORDERS, &orders), (INVENTORY, &inventory_text())]);
    let root = dir.path().canonicalize().unwrap();
    write(&root, "paved.yaml", &config);
    let o = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());

    // Field names on an empty line of `spec`; required ones are snippets.
    let typing = format!("{orders}  \n");
    c.change_all(&o, 2, &typing);
    let end = json!({"line": typing.lines().count() - 1, "character": 2});
    let id = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri(&o)}, "position": end}),
    );
    let items = c.response(id)["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    // (those the spec has, `ports` and `dependsOn`, are left out: see below)
    for f in ["replicas", "egress", "environments"] {
        assert!(labels.contains(&f), "{f} not in {labels:?}");
    }
    assert!(!labels.contains(&"owner"), "{labels:?}");
    c.change_all(&o, 3, &orders);

    // Enum values.
    let with_type = orders.replace("  size: medium\n", "  size: medium\n  type: \n");
    c.change_all(&o, 4, &with_type);
    let l = c.labels(&o, pos_of(&with_type, "  type: ", 8));
    assert_eq!(l, ["service", "worker", "cronjob"], "{l:?}");

    // Sizes from paved.yaml.
    let l = c.labels(&o, pos_of(&with_type, "size: medium", 6));
    assert_eq!(l, ["small", "medium", "large", "huge"], "{l:?}");

    // Environments from paved.yaml.
    let envs = format!("{with_type}  environments:\n    \n");
    c.change_all(&o, 5, &envs);
    let at = json!({"line": envs.lines().count() - 1, "character": 4});
    assert_eq!(c.labels(&o, at), ["staging", "production"]);

    // The other services after `component:`.
    let l = c.labels(&o, pos_of(&with_type, "component:inventory", 10));
    assert_eq!(l, ["inventory"], "{l:?}");

    // Resource names and their keys in placeholders.
    let l = c.labels(&o, pos_of(&with_type, "resources.db.url", 10));
    assert_eq!(l, ["db"], "{l:?}");
    let l = c.labels(&o, pos_of(&with_type, "resources.db.url", 13));
    assert_eq!(
        l,
        ["host", "port", "username", "password", "database", "url"],
        "{l:?}"
    );

    // Allowed registries for `image`.
    let l = c.labels(&o, pos_of(&with_type, "ghcr.io/acme/orders", 0));
    assert_eq!(l, ["ghcr.io/acme", "registry.example.com"], "{l:?}");
    assert_eq!(c.finish(), 0);
}

#[test]
fn definition_of_a_dependency_and_of_a_size() {
    let (dir, mut c, o, orders) = rich_session();
    let root = dir.path().canonicalize().unwrap();
    let d = c.at(
        "textDocument/definition",
        &o,
        pos_of(&orders, "component:inventory", 12),
    );
    assert_eq!(d["uri"], uri(&root.join(INVENTORY)), "{d}");
    let name_line = inventory_text()
        .lines()
        .position(|l| l == "  name: inventory")
        .unwrap();
    assert_eq!(d["range"]["start"]["line"], name_line, "{d}");

    let d = c.at("textDocument/definition", &o, pos_of(&orders, "medium", 1));
    assert_eq!(d["uri"], uri(&root.join("paved.yaml")), "{d}");
    let config = paved::testing::app::DEFAULT_CONFIG;
    let line = config
        .lines()
        .position(|l| l.trim_start().starts_with("medium:"))
        .unwrap();
    assert_eq!(d["range"]["start"]["line"], line, "{d}");
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_did_you_mean_finding_has_a_quick_fix() {
    let good = spec_text("orders", "team-orders", "");
    let bad = good.replace("  ports:", "  replica: 2\n  ports:");
    let dir = workspace(&[(ORDERS, &good)]);
    let root = dir.path().canonicalize().unwrap();
    let spec = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&spec, &bad);
    let diags = c.diagnostics(&uri(&spec));
    assert_eq!(codes(&diags), ["paved::schema::unknown-field"]);
    let id = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&spec)}, "range": diags[0]["range"],
               "context": {"diagnostics": diags}}),
    );
    let r = c.response(id);
    let actions = r["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(actions.len(), 1, "{r}");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edits = &actions[0]["edit"]["changes"][uri(&spec)];
    assert_eq!(edits[0]["newText"], "replicas", "{r}");
    assert_eq!(edits[0]["range"], diags[0]["range"]);
    assert_eq!(c.finish(), 0);
}

#[test]
fn document_symbols_are_the_keys_with_their_ranges() {
    let (_dir, mut c, o, orders) = rich_session();
    let id = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri(&o)}}),
    );
    let r = c.response(id);
    let top: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(top, ["apiVersion", "kind", "metadata", "spec"], "{r}");
    let spec = &r["result"][3];
    let spec_line = orders.lines().position(|l| l == "spec:").unwrap();
    assert_eq!(spec["selectionRange"]["start"]["line"], spec_line);
    let kids: Vec<&str> = spec["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        kids.contains(&"image") && kids.contains(&"resources"),
        "{kids:?}"
    );
    assert_eq!(c.finish(), 0);
}

/// Codes, lines and columns of the CLI's `validate --format json` for the
/// given spec, in the CLI's order.
fn cli_findings(root: &Path, rel: &str) -> Vec<(String, u64, u64)> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paved"))
        .args(["validate", "--format", "json"])
        .current_dir(root)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut v: Vec<(String, u64, u64)> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| d["file"].as_str().is_some_and(|f| f.ends_with(rel)))
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

fn lsp_findings(diags: &[Value]) -> Vec<(String, u64, u64)> {
    let mut v: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap() + 1,
                d["range"]["start"]["character"].as_u64().unwrap() + 1,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn incremental_rechecks_agree_with_paved_validate() {
    let orders = rich_orders();
    let inventory = inventory_text();
    let dir = workspace(&[(ORDERS, &orders), (INVENTORY, &inventory)]);
    let root = dir.path().canonicalize().unwrap();
    let (o, i) = (root.join(ORDERS), root.join(INVENTORY));
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());
    c.open(&i, &inventory);
    assert_eq!(c.diagnostics(&uri(&i)), Vec::<Value>::new());
    // Each step edits buffers (and writes the same text for the CLI), then
    // compares orders' published list with `paved validate --format json`.
    let steps: [(&str, String); 5] = [
        (
            ORDERS,
            orders.replace("  size: medium\n", "  size: medium\n  replica: 2\n"),
        ),
        (
            ORDERS,
            orders
                .replace("size: medium", "size: medum")
                .replace("db.url", "db.uri"),
        ),
        (
            INVENTORY,
            inventory.replace("name: inventory", "name: stock"),
        ),
        (INVENTORY, inventory.clone()),
        (ORDERS, orders.clone()),
    ];
    for (n, (rel, text)) in steps.iter().enumerate() {
        c.change_all(&root.join(rel), 2 + n as i64, text);
        write(&root, rel, text);
        let got = c.diagnostics(&uri(&o));
        let want = cli_findings(&root, ORDERS);
        assert_eq!(lsp_findings(&got), want, "step {n}: {got:#?}");
        assert_eq!(want.is_empty(), n == 4, "step {n}: {want:?}");
    }
    assert_eq!(c.finish(), 0);
}

// ---- quick fixes: a literal secret, an unpinned image; completion of present keys ----

/// `text` with LSP text edits applied (ASCII text: a character is a byte).
fn apply_edits(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        (start + p["character"].as_u64().unwrap() as usize).min(text.len())
    };
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (a, b, new) in spans {
        out.replace_range(a..b, &new);
    }
    out
}

impl Client {
    /// The code actions offered for `diags` of the file at `path`.
    fn code_actions(&mut self, path: &Path, diags: &[Value]) -> Vec<Value> {
        let id = self.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(path)}, "range": diags[0]["range"],
                   "context": {"diagnostics": diags}}),
        );
        let r = self.response(id);
        assert!(r.get("error").is_none(), "{r}");
        r["result"].as_array().cloned().unwrap_or_default()
    }
}

#[test]
fn a_literal_secret_moves_to_secrets_and_its_value_is_written_nowhere() {
    // (what the spec adds, the secret, the spec after the fix when pinned)
    let cases: [(&str, &str, Option<&str>); 4] = [
        (
            "  env:\n    LOG_LEVEL: info\n    DB_PASSWORD: hunter2-x9\n",
            "hunter2-x9",
            Some("  env:\n    LOG_LEVEL: info\n  secrets:\n    - {env: DB_PASSWORD, ref: \"orders/db-password#value\"}\n"),
        ),
        (
            "  env:\n    DB_PASSWORD: \"hunter2-x9\"   # for now\n  secrets:\n    - env: STRIPE_KEY\n      ref: payments/stripe#key\n  size: small\n",
            "hunter2-x9",
            Some("  secrets:\n    - env: STRIPE_KEY\n      ref: payments/stripe#key\n    - env: DB_PASSWORD\n      ref: \"orders/db-password#value\"\n  size: small\n"),
        ),
        (
            "  env: {LOG_LEVEL: info, DB_PASSWORD: hunter2-x9}\n  secrets: [{env: STRIPE_KEY, ref: \"payments/stripe#key\"}]\n",
            "hunter2-x9",
            Some("  env: {LOG_LEVEL: info}\n  secrets: [{env: STRIPE_KEY, ref: \"payments/stripe#key\"}, {env: DB_PASSWORD, ref: \"orders/db-password#value\"}]\n"),
        ),
        (
            "  env:\n    LOG_LEVEL: info\n    DATABASE_URL: postgres://app:s3cr3t-pw@db:5432/app\n",
            "s3cr3t-pw",
            None,
        ),
    ];
    let good = spec_text("orders", "team-orders", "");
    let dir = workspace(&[(ORDERS, &good)]);
    let root = dir.path().canonicalize().unwrap();
    let spec = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&spec, &good);
    assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new());
    let mut version = 1;
    for (extra, secret, want) in cases {
        let text = format!("{good}{extra}");
        version += 1;
        c.change_all(&spec, version, &text);
        let diags = c.diagnostics(&uri(&spec));
        assert_eq!(codes(&diags), ["paved::secrets::literal"], "{extra}");
        let actions = c.code_actions(&spec, &diags);
        let all = serde_json::to_string(&actions).unwrap();
        assert!(!all.contains(secret), "the value is in an action: {all}");
        let [action] = actions.as_slice() else {
            panic!("one action for {extra}: {all}")
        };
        assert_eq!(action["kind"], "quickfix");
        let title = action["title"].as_str().unwrap();
        assert!(
            title.contains("secrets:") && title.contains("secret store"),
            "{title}"
        );
        let edits = action["edit"]["changes"][uri(&spec)].as_array().unwrap();
        let fixed = apply_edits(&text, edits);
        assert!(!fixed.contains(secret), "{fixed}");
        if let Some(want) = want {
            assert_eq!(fixed, format!("{good}{want}"));
        }
        version += 1;
        c.change_all(&spec, version, &fixed);
        assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new(), "{fixed}");
    }
    assert_eq!(c.finish(), 0);
}

#[test]
fn an_environments_literal_secret_has_no_quick_fix() {
    // An environment has no `secrets`: moving its literal to `spec.secrets`
    // would give every environment the secret, and clash with a `spec.env`
    // entry of the same name (`paved::semantic::duplicate-env`). Nor does a
    // `spec.env` literal move when an environment overrides it.
    let cases = [
        "  resources:\n    db: {type: postgresql, version: \"16\"}\n  env:\n    DB_PASSWORD: ${resources.db.password}\n  environments:\n    production:\n      env:\n        DB_PASSWORD: hunter2-x9\n",
        "  environments:\n    staging: {}\n    production:\n      env:\n        DB_PASSWORD: hunter2-x9\n",
        "  env:\n    DB_PASSWORD: hunter2-x8\n  environments:\n    production: {env: {DB_PASSWORD: hunter2-x9}}\n",
    ];
    let good = spec_text("orders", "team-orders", "");
    let dir = workspace(&[(ORDERS, &good)]);
    let root = dir.path().canonicalize().unwrap();
    let spec = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&spec, &good);
    assert_eq!(c.diagnostics(&uri(&spec)), Vec::<Value>::new());
    for (i, extra) in cases.iter().enumerate() {
        c.change_all(&spec, i as i64 + 2, &format!("{good}{extra}"));
        let diags = c.diagnostics(&uri(&spec));
        assert!(!diags.is_empty(), "{extra}");
        for d in &diags {
            assert_eq!(d["code"], "paved::secrets::literal", "{extra}");
            assert!(d["data"]["fields"].get("fix").is_none(), "{d}");
            let actions = c.code_actions(&spec, std::slice::from_ref(d));
            assert_eq!(actions, Vec::<Value>::new(), "{extra}");
        }
    }
    assert_eq!(c.finish(), 0);
}

#[test]
fn validate_json_carries_the_fixes_and_not_the_secret() {
    let text = spec_text(
        "orders",
        "team-orders",
        "  env:\n    DB_PASSWORD: hunter2-x9\n",
    );
    let dir = workspace(&[(ORDERS, &text)]);
    let root = dir.path().canonicalize().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paved"))
        .args(["validate", "--format", "json"])
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let found: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(
        found[0]["fix"],
        json!({"action": "move-to-secrets", "env": "DB_PASSWORD",
               "ref": "orders/db-password#value", "from": "/spec/env/DB_PASSWORD"}),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2-x9"), "{stdout}");

    // An unpinned image: the tags of the same repository in the workspace.
    write(
        &root,
        ORDERS,
        &spec_text("orders", "team-orders", "").replace("orders:1.0.0", "orders:latest"),
    );
    write(
        &root,
        INVENTORY,
        &spec_text("inventory", "team-orders", "").replace("inventory:1.0.0", "orders:2.1.0"),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paved"))
        .args(["validate", "--format", "json"])
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let found: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(
        found[0]["fix"],
        json!({"action": "pin-tag", "repository": "ghcr.io/acme/orders",
               "tag": "latest", "tags": ["2.1.0"]}),
        "{stdout}"
    );
}

#[test]
fn an_unpinned_image_offers_the_tags_the_workspace_uses() {
    let image = |name: &str, img: &str| {
        spec_text(name, "team-orders", "").replace(&format!("ghcr.io/acme/{name}:1.0.0"), img)
    };
    let orders = image("orders", "ghcr.io/acme/orders:latest")
        + "  environments:\n    staging: {}\n    production:\n      image: ghcr.io/acme/orders:1.4.2\n";
    let dir = workspace(&[
        (ORDERS, &orders),
        (
            "services/orders-admin/platform.yaml",
            &image("orders-admin", "ghcr.io/acme/orders:1.3.0"),
        ),
        (
            "services/billing/platform.yaml",
            &image("billing", "ghcr.io/acme/orders:1.2.0"),
        ),
        (
            "services/other/platform.yaml",
            &image("other", "ghcr.io/acme/ordersx:9.9.9"),
        ),
        (
            "services/old/platform.yaml",
            &image("old", "ghcr.io/acme/orders:1.4.2"),
        ),
        (
            "services/lonely/platform.yaml",
            &image("lonely", "ghcr.io/acme/lonely:latest"),
        ),
    ]);
    let root = dir.path().canonicalize().unwrap();
    let o = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    let diags = c.diagnostics(&uri(&o));
    assert_eq!(
        codes(&diags),
        ["paved::policy::no-latest-tag"],
        "{diags:#?}"
    );
    let actions = c.code_actions(&o, &diags);
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "Pin `ghcr.io/acme/orders` to `1.4.2`",
            "Pin `ghcr.io/acme/orders` to `1.2.0`",
            "Pin `ghcr.io/acme/orders` to `1.3.0`"
        ],
        "{actions:#?}"
    );
    // Only the tag's text is replaced.
    let edits = actions[0]["edit"]["changes"][uri(&o)].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["range"]["start"], pos_of(&orders, "latest", 0));
    assert_eq!(edits[0]["range"]["end"], pos_of(&orders, "latest", 6));
    let fixed = apply_edits(&orders, edits);
    assert!(
        fixed.contains("  image: ghcr.io/acme/orders:1.4.2\n  ports:"),
        "{fixed}"
    );
    c.change_all(&o, 2, &fixed);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());

    // No tag at all: the tag is added after the repository.
    let untagged = orders.replace("orders:latest", "orders");
    c.change_all(&o, 3, &untagged);
    let diags = c.diagnostics(&uri(&o));
    assert_eq!(
        codes(&diags),
        ["paved::policy::no-latest-tag"],
        "{diags:#?}"
    );
    let actions = c.code_actions(&o, &diags);
    assert_eq!(actions.len(), 3, "{actions:#?}");
    let edits = actions[1]["edit"]["changes"][uri(&o)].as_array().unwrap();
    let fixed = apply_edits(&untagged, edits);
    assert!(
        fixed.contains("  image: ghcr.io/acme/orders:1.2.0\n"),
        "{fixed}"
    );
    c.change_all(&o, 4, &fixed);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());

    // A repository no other image uses: no action.
    let l = root.join("services/lonely/platform.yaml");
    let lonely = image("lonely", "ghcr.io/acme/lonely:latest");
    c.open(&l, &lonely);
    let diags = c.diagnostics(&uri(&l));
    assert_eq!(
        codes(&diags),
        ["paved::policy::no-latest-tag"],
        "{diags:#?}"
    );
    assert_eq!(c.code_actions(&l, &diags), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

// ---- what a keystroke re-reads: the disk at save and watched-file events ----

impl Client {
    /// `initialize` from a client that can watch files for the server
    /// (dynamic registration of `workspace/didChangeWatchedFiles`).
    fn initialize_watching(&mut self, root: &Path) {
        let id = self.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(root), "capabilities": {
                "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}}),
        );
        self.response(id);
        self.notify("initialized", json!({}));
    }

    /// Waits until every check the messages sent so far cause has run and
    /// published (a request is answered after the check it waits for),
    /// then records the last list published for each file in `lists`.
    fn settle(
        &mut self,
        lists: &mut std::collections::BTreeMap<String, Vec<Value>>,
        any_open: &Path,
    ) {
        let id = self.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri(any_open)}}),
        );
        self.response(id);
        let seen = std::mem::take(&mut self.seen);
        for v in seen {
            if v["method"] == "textDocument/publishDiagnostics" {
                let list = v["params"]["diagnostics"].as_array().unwrap().clone();
                lists.insert(v["params"]["uri"].as_str().unwrap().to_string(), list);
            } else {
                self.seen.push(v);
            }
        }
    }

    fn watched(&mut self, changes: &[(&Path, u8)]) {
        let changes: Vec<Value> = changes
            .iter()
            .map(|(p, t)| json!({"uri": uri(p), "type": t}))
            .collect();
        self.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": changes}),
        );
    }

    fn saved(&mut self, path: &Path) {
        self.notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": uri(path)}}),
        );
    }
}

/// A diagnostic as compared: code, range (0-based line and column, start
/// and end), severity (1 error, 2 warning), message as the editor shows it.
type Finding = (String, [u64; 4], u64, String);

fn lsp_finding(d: &Value) -> Finding {
    let r = &d["range"];
    let n = |v: &Value| v.as_u64().unwrap();
    (
        d["code"].as_str().unwrap().to_string(),
        [
            n(&r["start"]["line"]),
            n(&r["start"]["character"]),
            n(&r["end"]["line"]),
            n(&r["end"]["character"]),
        ],
        n(&d["severity"]),
        d["message"].as_str().unwrap().to_string(),
    )
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// What `paved validate --format json` finds in each of `open` (paths
/// relative to the root) on a copy of the workspace whose open files hold
/// the editor's texts, in the editor's form (ASCII texts: columns are
/// characters in both).
fn oracle(root: &Path, open: &[(&str, &str)]) -> Vec<Vec<Finding>> {
    let copy = tempfile::tempdir().unwrap();
    let at = copy.path().canonicalize().unwrap();
    copy_tree(root, &at);
    for (rel, text) in open {
        write(&at, rel, text);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paved"))
        .args(["validate", "--format", "json"])
        .current_dir(&at)
        .output()
        .unwrap();
    let all: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    open.iter()
        .map(|(rel, _)| {
            let mut v: Vec<Finding> = all
                .iter()
                .filter(|d| d["file"] == *rel)
                .map(|d| {
                    let n = |k: &str| d[k].as_u64().unwrap() - 1;
                    let mut message = d["message"].as_str().unwrap().to_string();
                    if let Some(label) = d["label"]
                        .as_str()
                        .filter(|l| !l.is_empty() && !message.contains(l))
                    {
                        message.push_str(&format!(" ({label})"));
                    }
                    if let Some(help) = d["help"].as_str() {
                        message.push_str(&format!("\nhelp: {help}"));
                    }
                    let severity = if d["severity"] == "error" { 1 } else { 2 };
                    (
                        d["code"].as_str().unwrap().to_string(),
                        [n("line"), n("column"), n("endLine"), n("endColumn")],
                        severity,
                        message,
                    )
                })
                .collect();
            v.sort();
            v
        })
        .collect()
}

#[test]
fn every_step_of_a_session_publishes_what_paved_validate_finds() {
    const DUP: &str = "services/dup/platform.yaml";
    const BROKEN: &str = "services/broken/platform.yaml";
    const EXTRA: &str = "services/extra/platform.yaml";
    let orders = spec_text(
        "orders",
        "team-orders",
        "  dependsOn: [component:payments]\n",
    );
    let inventory = spec_text("inventory", "team-orders", "");
    let broken_good = spec_text("broken", "team-orders", "");
    let broken_bad = broken_good.replace("  ports:", "  replica: 2\n  ports:");
    let dir = workspace(&[
        (ORDERS, &orders),
        (INVENTORY, &inventory),
        // The same name twice, and a spec that does not pass its schema.
        (DUP, &spec_text("inventory", "team-orders", "")),
        (BROKEN, &broken_bad),
    ]);
    let root = dir.path().canonicalize().unwrap();
    let (o, i) = (root.join(ORDERS), root.join(INVENTORY));
    let mut c = Client::start(&root);
    c.initialize_watching(&root);
    let mut lists = std::collections::BTreeMap::new();
    let mut texts = [orders.clone(), inventory.clone()];
    c.open(&o, &texts[0]);
    c.open(&i, &texts[1]);
    let on_disk = |root: &Path, rel: &str, text: Option<&str>| match text {
        Some(t) => write(root, rel, t),
        None => std::fs::remove_dir_all(root.join(rel).parent().unwrap()).unwrap(),
    };
    let mut seen_codes = std::collections::BTreeSet::new();
    for step in 0..8 {
        match step {
            0 => {}
            // The open spec: a dependency on a spec with errors.
            1 => {
                texts[0] = orders.replace(
                    "[component:payments]",
                    "[component:payments, component:broken]",
                );
                c.change_all(&o, 2, &texts[0]);
            }
            // Another open spec renamed: orders' `payments` now exists, and
            // the duplicate name is gone.
            2 => {
                texts[1] = inventory.replace("name: inventory", "name: payments");
                c.change_all(&i, 2, &texts[1]);
            }
            // A closed spec fixed on disk, then the watched-files event.
            3 => {
                on_disk(&root, BROKEN, Some(&broken_good));
                c.watched(&[(&root.join(BROKEN), 2)]);
            }
            // A spec created on disk: a second `payments`.
            4 => {
                on_disk(
                    &root,
                    EXTRA,
                    Some(&spec_text("payments", "team-orders", "")),
                );
                c.watched(&[(&root.join(EXTRA), 1)]);
            }
            // Changed on disk, then a save of an open file.
            5 => {
                on_disk(
                    &root,
                    EXTRA,
                    Some(&spec_text(
                        "extra",
                        "team-orders",
                        "  dependsOn: [component:nowhere]\n",
                    )),
                );
                c.saved(&o);
            }
            // Deleted on disk: inventory's twin is gone.
            6 => {
                on_disk(&root, DUP, None);
                c.watched(&[(&root.join(DUP), 3)]);
            }
            // A schema error in the other open spec: orders' dependency
            // on it now has errors.
            _ => {
                texts[1] = texts[1].replace("  ports:", "  replica: 2\n  ports:");
                c.change_all(&i, 3, &texts[1]);
            }
        }
        c.settle(&mut lists, &o);
        let want = oracle(&root, &[(ORDERS, &texts[0]), (INVENTORY, &texts[1])]);
        seen_codes.extend(want.iter().flatten().map(|f| f.0.clone()));
        for (k, path) in [&o, &i].iter().enumerate() {
            let mut got: Vec<Finding> = lists
                .get(&uri(path))
                .unwrap_or_else(|| panic!("step {step}: nothing published for {}", path.display()))
                .iter()
                .map(lsp_finding)
                .collect();
            got.sort();
            assert_eq!(got, want[k], "step {step}, {}", path.display());
        }
    }
    // The session went through findings of every kind it meant to.
    for code in [
        "paved::semantic::duplicate-service",
        "paved::semantic::unknown-dependency",
        "paved::semantic::dependency-has-errors",
        "paved::schema::unknown-field",
    ] {
        assert!(
            seen_codes.contains(code),
            "{code} never found: {seen_codes:?}"
        );
    }
    assert_eq!(c.finish(), 0);
}

#[test]
fn completion_leaves_out_the_keys_already_in_the_mapping() {
    let orders = spec_text("orders", "team-orders", "");
    let dir = workspace(&[(ORDERS, &orders)]);
    let root = dir.path().canonicalize().unwrap();
    let o = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());

    // In `spec`: `image` and `ports` are there already.
    let text = format!("{orders}  \n");
    c.change_all(&o, 2, &text);
    let end = json!({"line": text.lines().count() - 1, "character": 2});
    let l = c.labels(&o, end);
    assert!(l.contains(&"replicas".to_string()), "{l:?}");
    assert!(
        !l.contains(&"image".to_string()) && !l.contains(&"ports".to_string()),
        "{l:?}"
    );

    // In `metadata`, without `owner`: `name` is left out, the required
    // `owner` is still a snippet.
    let text = orders.replace("  owner: team-orders\n", "  \n");
    c.change_all(&o, 3, &text);
    let at = pos_of(&text, "  \n", 2);
    let id = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri(&o)}, "position": at}),
    );
    let items = c.response(id)["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(
        !labels.contains(&"name") && !labels.contains(&"costCenter"),
        "{labels:?}"
    );
    let owner = items.iter().find(|i| i["label"] == "owner").unwrap();
    assert_eq!(owner["insertTextFormat"], 2, "{owner}");

    // A list item: only its own keys count; a new item offers them all.
    let text = orders.replace(
        "    - {name: http, port: 8080}\n",
        "    - {name: http, port: 8080}\n    - name: grpc\n      \n",
    );
    c.change_all(&o, 4, &text);
    let l = c.labels(&o, pos_of(&text, "grpc\n      \n", 11));
    assert!(
        l.contains(&"port".to_string()) && !l.contains(&"name".to_string()),
        "{l:?}"
    );
    let text = orders.replace(
        "    - {name: http, port: 8080}\n",
        "    - name: grpc\n      port: 9090\n    - \n",
    );
    c.change_all(&o, 5, &text);
    let l = c.labels(&o, pos_of(&text, "    - \n", 6));
    assert!(
        l.contains(&"port".to_string()) && l.contains(&"name".to_string()),
        "{l:?}"
    );

    // Environments under `environments:`: those not there yet.
    let text = format!("{orders}  environments:\n    staging: {{}}\n    \n");
    c.change_all(&o, 6, &text);
    let at = json!({"line": text.lines().count() - 1, "character": 4});
    assert_eq!(c.labels(&o, at), ["production"]);
    assert_eq!(c.finish(), 0);
}

#[test]
fn an_unpinned_override_image_offers_the_specs_own_tag() {
    let orders = spec_text("orders", "team-orders", "").replace("orders:1.0.0", "orders:1.4.2")
        + "  environments:\n    staging:\n      image: \"ghcr.io/acme/orders:latest\"\n    production: {}\n";
    let dir = workspace(&[(ORDERS, &orders)]);
    let root = dir.path().canonicalize().unwrap();
    let o = root.join(ORDERS);
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&o, &orders);
    let diags = c.diagnostics(&uri(&o));
    assert_eq!(
        codes(&diags),
        ["paved::policy::no-latest-tag"],
        "{diags:#?}"
    );
    let actions = c.code_actions(&o, &diags);
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(
        titles,
        ["Pin `ghcr.io/acme/orders` to `1.4.2`"],
        "{actions:#?}"
    );
    let edits = actions[0]["edit"]["changes"][uri(&o)].as_array().unwrap();
    let fixed = apply_edits(&orders, edits);
    assert!(
        fixed.contains("      image: \"ghcr.io/acme/orders:1.4.2\"\n"),
        "{fixed}"
    );
    c.change_all(&o, 2, &fixed);
    assert_eq!(c.diagnostics(&uri(&o)), Vec::<Value>::new());
    assert_eq!(c.finish(), 0);
}

#[test]
fn a_change_on_disk_is_seen_at_the_next_save_or_watched_files_event() {
    let orders = spec_text(
        "orders",
        "team-orders",
        "  dependsOn: [component:payments]\n",
    );
    let dir = workspace(&[(ORDERS, &orders)]);
    let root = dir.path().canonicalize().unwrap();
    let o = root.join(ORDERS);
    let payments = root.join("services/payments/platform.yaml");
    let mut c = Client::start(&root);
    c.initialize_watching(&root);
    // The server asks to be told of changes to specs, paved.yaml and blueprints.
    let reg = c.wait_for("client/registerCapability", |v| {
        v["method"] == "client/registerCapability"
    });
    let watchers = &reg["params"]["registrations"][0];
    assert_eq!(
        watchers["method"], "workspace/didChangeWatchedFiles",
        "{reg}"
    );
    let globs: Vec<&str> = watchers["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["globPattern"].as_str())
        .collect();
    assert!(
        globs.contains(&"**/platform.yaml") && globs.contains(&"**/paved.yaml"),
        "{globs:?}"
    );
    c.send(json!({"jsonrpc": "2.0", "id": reg["id"], "result": null}));
    let mut lists = std::collections::BTreeMap::new();
    let unknown = |lists: &std::collections::BTreeMap<String, Vec<Value>>| codes(&lists[&uri(&o)]);
    c.open(&o, &orders);
    c.settle(&mut lists, &o);
    assert_eq!(unknown(&lists), ["paved::semantic::unknown-dependency"]);

    // Written on disk with no event: a keystroke checks against the files
    // as last seen.
    write(
        &root,
        "services/payments/platform.yaml",
        &spec_text("payments", "team-orders", ""),
    );
    c.change_all(&o, 2, &format!("{orders}# a comment\n"));
    c.settle(&mut lists, &o);
    assert_eq!(unknown(&lists), ["paved::semantic::unknown-dependency"]);
    // A save reads the disk again.
    c.saved(&o);
    c.settle(&mut lists, &o);
    assert_eq!(unknown(&lists), Vec::<String>::new());

    // Deleted with no event, then the watched-files event.
    std::fs::remove_file(&payments).unwrap();
    c.change_all(&o, 3, &orders);
    c.settle(&mut lists, &o);
    assert_eq!(unknown(&lists), Vec::<String>::new());
    c.watched(&[(&payments, 3)]);
    c.settle(&mut lists, &o);
    assert_eq!(unknown(&lists), ["paved::semantic::unknown-dependency"]);
    assert_eq!(c.finish(), 0);
}

/// A spec the server knew only from its buffer (written to disk with no
/// event to say so), or one deleted on disk while open: after its buffer
/// closes, the workspace is what `paved validate` reads.
#[test]
fn a_closed_buffer_leaves_the_workspace_as_validate_reads_it() {
    const NEW: &str = "services/newsvc/platform.yaml";
    let orders = spec_text(
        "orders",
        "team-orders",
        "  dependsOn: [component:inventory, component:newsvc]\n",
    );
    let inventory = spec_text("inventory", "team-orders", "");
    let newsvc = spec_text("newsvc", "team-orders", "");
    let dir = workspace(&[(ORDERS, &orders), (INVENTORY, &inventory)]);
    let root = dir.path().canonicalize().unwrap();
    let mut c = Client::start(&root);
    c.initialize(&root);
    c.open(&root.join(ORDERS), &orders);
    let mut lists = std::collections::BTreeMap::new();
    let orders_uri = uri(&root.join(ORDERS));
    let step =
        |c: &mut Client, what: &str, lists: &mut std::collections::BTreeMap<String, Vec<Value>>| {
            c.settle(lists, &root.join(ORDERS));
            let mut got: Vec<Finding> = lists[&orders_uri].iter().map(lsp_finding).collect();
            got.sort();
            let want = oracle(&root, &[(ORDERS, orders.as_str())]).remove(0);
            assert_eq!(got, want, "{what}");
            got.len()
        };
    assert_eq!(step(&mut c, "newsvc missing", &mut lists), 1);
    // newsvc written to disk behind the server's back, opened, closed.
    write(&root, NEW, &newsvc);
    c.open(&root.join(NEW), &newsvc);
    assert_eq!(step(&mut c, "newsvc open", &mut lists), 0);
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&root.join(NEW))}}),
    );
    assert_eq!(step(&mut c, "newsvc closed", &mut lists), 0);
    // inventory open, its folder deleted on disk, then closed.
    c.open(&root.join(INVENTORY), &inventory);
    assert_eq!(step(&mut c, "inventory open", &mut lists), 0);
    std::fs::remove_dir_all(root.join("services/inventory")).unwrap();
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&root.join(INVENTORY))}}),
    );
    assert_eq!(step(&mut c, "inventory deleted and closed", &mut lists), 1);
    assert_eq!(c.finish(), 0);
}
