#!/usr/bin/env node
// Prints one YAML document (e.g. a Helm values file) as JSON, for tests that read YAML without a YAML library:
//   node deploy/k8s/validate/yaml-to-json.js deploy/k8s/gpu/prometheus-adapter-values.yaml
"use strict";

const fs = require("node:fs");
const YAML = require("yaml");

if (process.argv.length !== 3) {
  console.error("usage: yaml-to-json.js FILE");
  process.exit(2);
}

const document = YAML.parseDocument(fs.readFileSync(process.argv[2], "utf8"));
if (document.errors.length > 0) {
  console.error(`error: ${process.argv[2]} is not valid YAML: ${document.errors.map((e) => e.message).join("; ")}`);
  process.exit(1);
}

process.stdout.write(JSON.stringify(document.toJS()));
