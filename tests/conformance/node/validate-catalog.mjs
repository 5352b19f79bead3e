#!/usr/bin/env node
// Validates Paved's rendered Backstage catalog files with Backstage's own
// validators (@backstage/catalog-model), so a catalog/<service>.yaml that the
// catalog backend would reject fails CI here instead of at ingestion time.
//
// Usage: node validate-catalog.mjs [--workspace DIR] [--external KIND]... FILE...
//
// With --workspace (the folder of the paved.yaml the files were rendered
// from), the files are read as if they sat in DIR/<gitops.path>/catalog/,
// where a platform commits them: `$text` placeholders are resolved the way
// the catalog's placeholder processor does (relative to the catalog file) and
// must name a readable file, `backstage.io/techdocs-ref: dir:` must name a
// folder with an mkdocs.yml or a docs/ folder, and `catalog.groups: external`
// in that paved.yaml makes Group refs external (see --external).
//
// Each YAML document of each file goes through the same steps the catalog
// backend applies on ingestion:
//   1. the default entity policies (envelope schema, default namespace, no
//      foreign root fields, field formats for names/labels/annotations);
//   2. the kind's own JSON-schema validator (spec.owner, spec.type, ...);
//   3. the relation fields must parse as entity refs (the backend's builtin
//      kinds processor throws on e.g. `dependsOn: [foo]`, which has no kind).
// Plus two cross-file rules over the files given (one rendered catalog):
//   - an entity ref (kind:namespace/name) may be defined only once, since the
//     catalog would flag the second as a conflict;
//   - every entity reference (owner, system, domain, dependsOn, dependencyOf,
//     providesApis, consumesApis, subcomponentOf, parent, children, members,
//     memberOf) must name an entity defined in those files: a dangling ref is
//     a broken link in the portal and a relation the catalog never draws.
//     `--external KIND` (repeatable) accepts refs of that kind unresolved, for
//     kinds another ingestion provides (e.g. Group from an identity provider).
//
// Exits 0 when every document is valid, 1 when any is not, 2 on usage errors.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  parseEntityRef,
  resourceEntityV1alpha1Validator,
  stringifyEntityRef,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';

// Paved emits Component, Resource, API, System and Group; the other builtin
// kinds are accepted too because they are valid catalog input, but anything
// else is an error: the stock catalog backend would drop it.
const KIND_VALIDATORS = {
  Component: componentEntityV1alpha1Validator,
  Resource: resourceEntityV1alpha1Validator,
  API: apiEntityV1alpha1Validator,
  System: systemEntityV1alpha1Validator,
  Group: groupEntityV1alpha1Validator,
  Domain: domainEntityV1alpha1Validator,
  User: userEntityV1alpha1Validator,
  Location: locationEntityV1alpha1Validator,
};

// spec fields holding entity refs, with the kind the backend assumes when the
// ref omits one (undefined: the ref must name its kind).
const REF_FIELDS = {
  owner: 'Group',
  system: 'System',
  domain: 'Domain',
  subcomponentOf: 'Component',
  providesApis: 'API',
  consumesApis: 'API',
  dependsOn: undefined,
  dependencyOf: undefined,
  parent: 'Group',
  children: 'Group',
  members: 'User',
  memberOf: 'Group',
};

// Mirrors the catalog backend's default policy chain (without the mutating
// GroupDefaultParentEntityPolicy, which never rejects anything).
const policies = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);

// Every entity ref an entity's spec holds, parsed: [{field, ref}], where ref
// is the full `kind:namespace/name` the catalog backend would resolve.
function checkRefs(entity) {
  const spec = entity.spec ?? {};
  const namespace = entity.metadata?.namespace ?? 'default';
  const out = [];
  for (const [field, defaultKind] of Object.entries(REF_FIELDS)) {
    if (spec[field] === undefined) continue;
    const refs = Array.isArray(spec[field]) ? spec[field] : [spec[field]];
    for (const ref of refs) {
      let parsed;
      try {
        parsed = parseEntityRef(ref, { defaultKind, defaultNamespace: namespace });
      } catch (e) {
        throw new Error(`spec.${field}: ${e.message}`);
      }
      out.push({ field, written: ref, ref: stringifyEntityRef(parsed) });
    }
  }
  return out;
}

// Where the catalog files sit when committed, and what the workspace's
// paved.yaml says about Groups.
function placement(workspace) {
  const config = parseYaml(readFileSync(join(workspace, 'paved.yaml'), 'utf8')) ?? {};
  const spec = config.spec ?? {};
  return {
    catalogDir: resolve(workspace, spec.gitops?.path ?? 'rendered', 'catalog'),
    externalGroups: spec.catalog?.groups === 'external',
  };
}

// Resolves `{$text: PATH}` placeholders in place, as the catalog backend's
// PlaceholderProcessor does: relative to the catalog file, or an absolute
// URL (left to the backend's URL readers: only its form is checked here).
function resolvePlaceholders(value, catalogFile, at = '') {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolvePlaceholders(v, catalogFile, `${at}[${i}]`));
  }
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0].startsWith('$')) {
    const [key] = keys;
    const target = value[key];
    if (key !== '$text') throw new Error(`${at}: placeholder ${key} is not one Paved renders`);
    if (typeof target !== 'string') throw new Error(`${at}: $text needs a string`);
    if (/^https:\/\/[^\s]+$/.test(target)) return `(the text at ${target})`;
    if (catalogFile === undefined) throw new Error(`${at}: a relative $text needs --workspace`);
    const file = resolve(dirname(catalogFile), target);
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`${at}: $text "${target}" does not resolve to a readable file (${file}): ${e.code ?? e.message}`);
    }
  }
  const out = {};
  for (const k of keys) out[k] = resolvePlaceholders(value[k], catalogFile, at ? `${at}.${k}` : k);
  return out;
}

// `dir:` TechDocs refs, resolved like the TechDocs builder does (relative to
// the catalog file): the folder must hold an mkdocs.yml or a docs/ folder.
function checkTechdocs(entity, catalogFile) {
  const ref = entity.metadata?.annotations?.['backstage.io/techdocs-ref'];
  if (ref === undefined) return;
  if (/^url:https:\/\/\S+$/.test(ref)) return;
  const m = /^dir:(.+)$/.exec(ref);
  if (!m) throw new Error(`backstage.io/techdocs-ref "${ref}" is neither dir: nor url:https://`);
  if (catalogFile === undefined) return;
  const dir = resolve(dirname(catalogFile), m[1]);
  const isDir = p => existsSync(p) && statSync(p).isDirectory();
  if (!existsSync(join(dir, 'mkdocs.yml')) && !isDir(join(dir, 'docs'))) {
    throw new Error(`backstage.io/techdocs-ref "${ref}": ${dir} has no mkdocs.yml and no docs/ folder`);
  }
}

async function validateEntity(raw, catalogFile) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('document is not a mapping');
  }
  const doc = resolvePlaceholders(raw, catalogFile);
  checkTechdocs(doc, catalogFile);
  // The policies may return a mutated copy (default namespace filled in).
  const entity = await policies.enforce(structuredClone(doc));
  if (!entity) throw new Error('rejected by the default entity policies');
  const validator = KIND_VALIDATORS[entity.kind];
  if (!validator) {
    throw new Error(
      `unknown kind "${entity.kind}" (expected one of ${Object.keys(KIND_VALIDATORS).join(', ')})`,
    );
  }
  // check() resolves false when the apiVersion/kind pair is not its own
  // (e.g. backstage.io/v2), and rejects with a message when the spec is bad.
  if (!(await validator.check(entity))) {
    throw new Error(`apiVersion "${entity.apiVersion}" is not known for kind ${entity.kind}`);
  }
  return { entity, refs: checkRefs(entity) };
}

async function main(argv) {
  const files = [];
  const external = new Set();
  let placed;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--workspace') {
      if (!argv[i + 1]) {
        console.error('--workspace needs a folder');
        return 2;
      }
      try {
        placed = placement(argv[i + 1]);
      } catch (e) {
        console.error(`--workspace ${argv[i + 1]}: ${e.message}`);
        return 2;
      }
      if (placed.externalGroups) external.add('group');
      i += 1;
    } else if (argv[i] === '--external') {
      const kind = argv[i + 1];
      if (!kind) {
        console.error('--external needs a kind');
        return 2;
      }
      external.add(kind.toLocaleLowerCase('en-US'));
      i += 1;
    } else {
      files.push(argv[i]);
    }
  }
  if (files.length === 0) {
    console.error('usage: validate-catalog.mjs [--workspace DIR] [--external KIND]... FILE...');
    return 2;
  }
  const pending = []; // [{where, what, field, written, ref}] to resolve at the end
  let failures = 0;
  let entities = 0;
  const seen = new Map(); // entity ref -> "file#doc" where it was first defined
  const fail = (where, message) => {
    failures += 1;
    console.error(`FAIL ${where}: ${message}`);
  };

  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      fail(file, `cannot read: ${e.message}`);
      continue;
    }
    const docs = parseAllDocuments(text);
    // parseAllDocuments returns an EmptyStream (not an array) for a file
    // with no documents at all; an empty catalog file is a rendering bug.
    if (!Array.isArray(docs) || docs.length === 0) {
      fail(file, 'no YAML documents');
      continue;
    }
    for (const [i, doc] of docs.entries()) {
      const where = `${file}#${i + 1}`;
      if (doc.errors.length > 0) {
        fail(where, `YAML error: ${doc.errors.map(e => e.message).join('; ')}`);
        continue;
      }
      const value = doc.toJS();
      // An empty document (e.g. after a trailing `---`) carries no entity;
      // the catalog backend skips it too.
      if (value === null || value === undefined) continue;
      try {
        const placedAt = placed && join(placed.catalogDir, basename(file));
        const { entity, refs } = await validateEntity(value, placedAt);
        const ref = stringifyEntityRef(entity);
        for (const r of refs) pending.push({ where, what: ref, ...r });
        if (seen.has(ref)) {
          fail(where, `${ref} is already defined at ${seen.get(ref)}`);
        } else {
          seen.set(ref, where);
          entities += 1;
        }
      } catch (e) {
        const name = value?.metadata?.name ?? '?';
        fail(where, `${value?.kind ?? '?'} "${name}": ${e.message}`);
      }
    }
  }
  // References, once every file is read: a ref may point forward.
  let dangling = 0;
  for (const p of pending) {
    if (seen.has(p.ref)) continue;
    if (external.has(p.ref.split(':')[0])) continue;
    dangling += 1;
    fail(p.where, `${p.what}: spec.${p.field} "${p.written}" refers to ${p.ref}, which no file defines`);
  }
  console.log(
    `backstage catalog: ${entities} valid entities in ${files.length} files, ${failures - dangling} invalid, ` +
      `${pending.length} references, ${dangling} dangling`,
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
