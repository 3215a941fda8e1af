#!/usr/bin/env bash
# Replaces fuzz/corpus/TARGET with the afl-cmin result of the last `FUZZ_CMIN=1 fuzz/run.sh TARGET …`, the files
# named by content (seed-* names kept) so that the names are portable.
set -euo pipefail
target="${1:?usage: fuzz/keep-corpus.sh decode|coco|zip}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cmin="$root/fuzz/out/$target/cmin"
[ -d "$cmin" ] || { echo "no $cmin: run FUZZ_CMIN=1 fuzz/run.sh $target SECONDS first" >&2; exit 1; }
rm -rf "$root/fuzz/corpus/$target" && mkdir -p "$root/fuzz/corpus/$target"
for file in "$cmin"/*; do
  name="$(basename "$file")"
  case "$name" in
    *orig:*) cp "$file" "$root/fuzz/corpus/$target/${name##*orig:}" ;;
    *) cp "$file" "$root/fuzz/corpus/$target/q-$(sha1sum "$file" | cut -c1-12)" ;;
  esac
done
echo "$(ls "$root/fuzz/corpus/$target" | wc -l) files, $(du -sb "$root/fuzz/corpus/$target" | cut -f1) bytes in fuzz/corpus/$target"
