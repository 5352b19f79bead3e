#!/usr/bin/env node
// Validates Paved's rendered Backstage catalog files with Backstage's own
// validators (@backstage/catalog-model), so a catalog/<service>.yaml that the
// catalog backend would reject fails CI here instead of at ingestion time.
//
// Usage: node validate-catalog.mjs FILE...
//
// Each YAML document of each file goes through the same steps the catalog
// backend applies on ingestion:
//   1. the default entity policies (envelope schema, default namespace, no
//      foreign root fields, field formats for names/labels/annotations);
//   2. the kind's own JSON-schema validator (spec.owner, spec.type, ...);
//   3. the relation fields must parse as entity refs (the backend's builtin
//      kinds processor throws on e.g. `dependsOn: [foo]`, which has no kind).
// Plus one cross-file rule: an entity ref (kind:namespace/name) may be
// defined only once, since the catalog would flag the second as a conflict.
//
// Exits 0 when every document is valid, 1 when any is not, 2 on usage errors.

import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
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

function checkRefs(entity) {
  const spec = entity.spec ?? {};
  const namespace = entity.metadata?.namespace ?? 'default';
  for (const [field, defaultKind] of Object.entries(REF_FIELDS)) {
    if (spec[field] === undefined) continue;
    const refs = Array.isArray(spec[field]) ? spec[field] : [spec[field]];
    for (const ref of refs) {
      try {
        parseEntityRef(ref, { defaultKind, defaultNamespace: namespace });
      } catch (e) {
        throw new Error(`spec.${field}: ${e.message}`);
      }
    }
  }
}

async function validateEntity(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('document is not a mapping');
  }
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
  checkRefs(entity);
  return entity;
}

async function main(files) {
  if (files.length === 0) {
    console.error('usage: validate-catalog.mjs FILE...');
    return 2;
  }
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
        const entity = await validateEntity(value);
        const ref = stringifyEntityRef(entity);
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
  console.log(`backstage catalog: ${entities} valid entities in ${files.length} files, ${failures} invalid`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
