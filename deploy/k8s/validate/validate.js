#!/usr/bin/env node
// Validates Kubernetes manifests (a multi-document YAML stream, e.g. the output of `kubectl kustomize`) against the
// Kubernetes API schemas of the pinned kubernetes-models package, offline:
//   kubectl kustomize deploy/k8s/cpu | node deploy/k8s/validate/validate.js
//   node deploy/k8s/validate/validate.js rendered.yaml
//   node deploy/k8s/validate/validate.js --json objects.json rendered.yaml   (also writes the objects as a JSON array)
// Each object is looked up by its apiVersion and kind and checked with that model's validate(). An apiVersion or kind
// the package does not know is an error (a typo, or a kind this validator cannot vouch for), never a pass. Like the API
// server's strict field validation (kubectl apply --validate=strict), a field the schema does not define is an error
// too: the schemas allow extra properties, and a misspelt securityContext field would otherwise be dropped silently.
// Exit status: 0 when every object is valid, 1 when one is not, 2 when the input cannot be read or holds no object.
"use strict";

const fs = require("node:fs");
const YAML = require("yaml");

function main(argv) {
  let json;
  if (argv[0] === "--json") {
    json = argv[1];
    argv = argv.slice(2);
  }

  if (argv.length > 1 || (argv[0] ?? "").startsWith("--") || (json !== undefined && json.length === 0)) {
    console.error("usage: validate.js [--json OUTPUT.json] [FILE | -]");
    return 2;
  }

  const source = argv.length === 0 || argv[0] === "-" ? 0 : argv[0];
  let text;
  try {
    text = fs.readFileSync(source, "utf8");
  } catch (e) {
    console.error(`error: cannot read ${source === 0 ? "standard input" : source}: ${e.message}`);
    return 2;
  }

  const documents = YAML.parseAllDocuments(text);
  const objects = [];
  let failures = 0;
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0) {
      console.error(`error: document ${index + 1} is not valid YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }

    const object = document.toJS();
    if (object === null || object === undefined) {
      continue; // An empty document (a trailing ---).
    }

    objects.push(object);
    const problems = validateObject(object);
    const name = describe(object);
    if (problems.length === 0) {
      console.log(`ok    ${name}`);
    } else {
      failures++;
      console.error(`error ${name}`);
      for (const problem of problems) {
        console.error(`      ${problem}`);
      }
    }
  }

  if (objects.length === 0 && failures === 0) {
    console.error("error: the input holds no Kubernetes object");
    return 2;
  }

  if (json !== undefined) {
    fs.writeFileSync(json, JSON.stringify(objects, null, 2));
  }

  console.log(`${objects.length} object(s), ${failures} invalid`);
  return failures === 0 ? 0 : 1;
}

function describe(object) {
  if (typeof object !== "object" || Array.isArray(object)) {
    return "(not an object)";
  }

  const name = object.metadata && typeof object.metadata === "object" ? object.metadata.name : undefined;
  return `${object.apiVersion ?? "(no apiVersion)"} ${object.kind ?? "(no kind)"} ${name ?? "(no name)"}`;
}

/** The problems of one object: an unknown kind, schema violations, undefined fields; empty when it is valid. */
function validateObject(object) {
  if (typeof object !== "object" || Array.isArray(object)) {
    return ["a manifest must be a mapping with apiVersion, kind and metadata"];
  }

  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return ["apiVersion and kind must both be set (strings)"];
  }

  const Model = modelOf(apiVersion, kind);
  if (typeof Model === "string") {
    return [Model];
  }

  const problems = [];
  if (!object.metadata || typeof object.metadata.name !== "string" || object.metadata.name.length === 0) {
    problems.push("metadata.name is required");
  }

  // The model's own validate(), run on a view of the object that notes which fields the schema looked at.
  const seen = new Map();
  try {
    Model.prototype.validate.call(watch(object, "", seen));
  } catch (e) {
    problems.push(...String(e.message).split(", ").map((m) => m.replace(/^data\//, "/")));
  }

  problems.push(...undefinedFields(object, "", seen));
  return problems;
}

/** The kubernetes-models class of apiVersion/kind, or a message saying why there is none. */
function modelOf(apiVersion, kind) {
  // "v1" is the core group; "apps/v1" is group/version. Anything else cannot name a module of the package.
  if (!/^([a-z0-9][a-z0-9.-]*\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) {
    return `unknown apiVersion "${apiVersion}"`;
  }

  let group;
  try {
    group = require(`kubernetes-models/${apiVersion}`);
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED") {
      return `unknown apiVersion "${apiVersion}": kubernetes-models has no schema for it (a custom resource cannot be validated here)`;
    }

    throw e;
  }

  const Model = Object.prototype.hasOwnProperty.call(group, kind) ? group[kind] : undefined;
  if (typeof Model !== "function" || Model.kind !== kind || Model.apiVersion !== apiVersion) {
    return `unknown kind "${kind}" in ${apiVersion}`;
  }

  return Model;
}

/** A read-only view of value whose property reads are recorded in seen (path → names read). */
function watch(value, path, seen) {
  if (value === null || typeof value !== "object") {
    return value;
  }

  const read = new Set();
  seen.set(path, read);
  const children = new Map();
  return new Proxy(value, {
    get(target, property, receiver) {
      const child = Reflect.get(target, property, receiver);
      if (typeof property !== "string" || !Object.prototype.hasOwnProperty.call(target, property)) {
        return child;
      }

      read.add(property);
      if (!children.has(property)) {
        children.set(property, watch(child, `${path}/${property}`, seen));
      }

      return children.get(property);
    },
    set() {
      throw new TypeError("the manifest under validation is read-only");
    },
  });
}

/** The fields of value that the schema never read: fields the Kubernetes API does not define at that place. */
function undefinedFields(value, path, seen) {
  if (value === null || typeof value !== "object") {
    return [];
  }

  const read = seen.get(path);
  const problems = [];
  for (const key of Object.keys(value)) {
    const childPath = `${path}/${key}`;
    if (!Array.isArray(value) && read !== undefined && !read.has(key)) {
      problems.push(`${childPath}: unknown field "${key}" (the ${path === "" ? "object" : path} schema does not define it)`);
      continue;
    }

    problems.push(...undefinedFields(value[key], childPath, seen));
  }

  return problems;
}

process.exitCode = main(process.argv.slice(2));
