#!/usr/bin/env bash
# Fuzzes one target with AFL++ for a bounded time: fuzz/run.sh decode|coco|zip SECONDS
#   Builds fuzz/SegServe.Fuzz (Release) into fuzz/out/TARGET/bin, instruments SegServe.Inference.dll and
#   SixLabors.ImageSharp.dll with SharpFuzz, runs afl-fuzz from fuzz/corpus/TARGET, then copies crashes and hangs to
#   fuzz/crashers/TARGET/ and the new queue entries to fuzz/out/TARGET/queue (see docs/reliability.md).
# Needs: afl++ (apt-get install afl++) and the SharpFuzz tool (dotnet tool install -g SharpFuzz.CommandLine --version 2.3.0).
# FUZZ_CMIN=1 also minimises corpus+queue with afl-cmin into fuzz/out/TARGET/cmin (to refresh fuzz/corpus/TARGET).
set -euo pipefail
target="${1:?usage: fuzz/run.sh decode|coco|zip SECONDS}"
seconds="${2:?usage: fuzz/run.sh decode|coco|zip SECONDS}"
case "$target" in decode|coco|zip) ;; *) echo "unknown target '$target' (decode, coco, zip)" >&2; exit 2 ;; esac

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/fuzz/out/$target"
bin="$out/bin"
sharpfuzz="$(command -v sharpfuzz || echo "$HOME/.dotnet/tools/sharpfuzz")"

rm -rf "$bin"
dotnet build "$root/fuzz/SegServe.Fuzz/SegServe.Fuzz.csproj" -c Release -o "$bin" -warnaserror --nologo -v quiet
for dll in SegServe.Inference.dll SixLabors.ImageSharp.dll; do
  "$sharpfuzz" "$bin/$dll"
done

corpus="$root/fuzz/corpus/$target"
if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
  dotnet "$bin/SegServe.Fuzz.dll" seed "$root/fuzz/corpus"
fi

export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
rm -rf "$out/findings"
afl-fuzz -i "$corpus" -o "$out/findings" -V "$seconds" -t 10000 -m none -- dotnet "$bin/SegServe.Fuzz.dll" "$target" || true

found="$out/findings/default"
mkdir -p "$root/fuzz/crashers/$target" "$out/queue"
for kind in crashes hangs; do
  for file in "$found/$kind"/id:*; do
    [ -e "$file" ] || continue
    cp "$file" "$root/fuzz/crashers/$target/$kind-$(sha1sum "$file" | cut -c1-12)"
  done
done
cp "$found"/queue/id:* "$out/queue/" 2>/dev/null || true
if [ "${FUZZ_CMIN:-0}" = 1 ]; then
  rm -rf "$out/cmin" "$out/all" && mkdir -p "$out/all"
  cp "$corpus"/* "$out/queue"/* "$out/all/"
  afl-cmin -i "$out/all" -o "$out/cmin" -t 10000 -m none -- "$(command -v dotnet)" "$bin/SegServe.Fuzz.dll" "$target" || true
fi
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg)' "$found/fuzzer_stats" || true
