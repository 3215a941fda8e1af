#!/usr/bin/env bash
# Re-imports the default person models from Google's official MediaPipe npm package:
#   selfie_segmentation.tflite           -> models/selfie/model.onnx            (256x256)
#   selfie_segmentation_landscape.tflite -> models/selfie-landscape/model.onnx  (144x256)
#
# The tarball is checked against the integrity hash pinned below before anything is read from it. The
# extracted package stays in artifacts/selfie-package/ (gitignored), where the reproducibility test finds it.
# The import is deterministic: a model whose bytes did not change is left alone, NOTICE included; a changed
# model is replaced and its NOTICE rewritten with today's date.
#
# Usage: scripts/import-selfie-models.sh               (needs npm, node and the .NET SDK)
#        scripts/import-selfie-models.sh --fetch-only  (only fetch and verify the package into artifacts/,
#                                                       for the reproducibility test; .ci/run does this)
set -euo pipefail

fetch_only=false
if [[ "${1:-}" == "--fetch-only" ]]; then
  fetch_only=true
fi

readonly PACKAGE="@mediapipe/selfie_segmentation"
readonly VERSION="0.1.1675465747"
# From `npm view @mediapipe/selfie_segmentation@0.1.1675465747 dist.integrity`.
readonly INTEGRITY="sha512-IxYxNhwE5VwOm52L1yoFWYLP7q9Pd+NJjzOC5tlepfvEGaY3o9hslhUrx9BgseqdfZtKSDtd/4NfCSMjNzQalA=="

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="$repo_root/artifacts/selfie-package"
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

echo "Fetching $PACKAGE@$VERSION"
(cd "$work_dir" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball="$(find "$work_dir" -maxdepth 1 -name '*.tgz' -print -quit)"
if [[ -z "$tarball" ]]; then
  echo "npm pack produced no tarball" >&2
  exit 1
fi

# npm's integrity string is "sha512-" + base64 of the tarball's SHA-512 digest.
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
  echo "Integrity mismatch for $PACKAGE@$VERSION:" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  actual   $actual" >&2
  exit 1
fi
echo "Integrity OK ($INTEGRITY)"

rm -rf "$cache_dir"
mkdir -p "$cache_dir"
tar -xzf "$tarball" -C "$cache_dir"
cp "$tarball" "$cache_dir/"
if [[ "$fetch_only" == true ]]; then
  echo "Package cached in $cache_dir"
  exit 0
fi

importer_project="$repo_root/tools/SelfieImporter/SegServe.Tools.SelfieImporter.csproj"
dotnet build "$importer_project" -c Release --nologo -v quiet

# import SOURCE_FILE MODEL_NAME
import() {
  local source_file="$1" model_name="$2"
  local model_dir="$repo_root/models/$model_name"
  local candidate="$work_dir/$model_name.onnx"

  dotnet run --project "$importer_project" -c Release --no-build -- \
    --tflite "$cache_dir/package/$source_file" --output "$candidate"

  mkdir -p "$model_dir"
  if [[ -f "$model_dir/model.onnx" ]] && cmp -s "$candidate" "$model_dir/model.onnx"; then
    echo "models/$model_name/model.onnx is unchanged (byte-identical re-import)"
    return
  fi

  mv "$candidate" "$model_dir/model.onnx"
  write_notice "$source_file" "$model_dir/NOTICE"
  echo "models/$model_name/model.onnx updated; review and commit it with its NOTICE"
}

# write_notice SOURCE_FILE PATH
write_notice() {
  local source_file="$1" path="$2"
  local tflite_sha256
  tflite_sha256="$(sha256sum "$cache_dir/package/$source_file" | cut -d' ' -f1)"
  cat >"$path" <<NOTICE
MediaPipe Selfie Segmentation
Copyright The MediaPipe Authors (Google). Licensed under the Apache License, Version 2.0 (see LICENSE beside this file).

This model.onnx is a format conversion of Google's model; the weights are unchanged apart from being
widened from float16 to float32 and re-laid out from NHWC to NCHW.

Source package: npm $PACKAGE@$VERSION (package.json "license": "Apache-2.0"; the package ships no LICENSE file)
Package integrity: $INTEGRITY
Source file: $source_file (sha256 $tflite_sha256)
Converted with: scripts/import-selfie-models.sh, which runs
  dotnet run --project tools/SelfieImporter -- --tflite $source_file --output model.onnx
Date of import: $(date -u +%Y-%m-%d)
NOTICE
}

import selfie_segmentation.tflite selfie
import selfie_segmentation_landscape.tflite selfie-landscape
