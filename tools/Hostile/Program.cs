using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using SegServe.Tools.Hostile;

// Hostile corpus: generate (seeded, in memory) and run against a live server.
//
//   SegServe.Tools.Hostile list [--seed N]
//   SegServe.Tools.Hostile run --url http://127.0.0.1:8097 --pid PID --photo FILE --out DIR
//       [--seed 1] [--concurrency 4] [--max-seconds 2] [--seconds-per-mp 0.05] [--max-rss-mb 1536] [--categories a,b]
//
// Exit code: 0 when every criterion holds, 1 when one fails, 2 on bad arguments.
var options = new Dictionary<string, string>(StringComparer.Ordinal);
string command = args.Length > 0 ? args[0] : "help";
for (int i = 1; i + 1 < args.Length; i += 2)
{
    options[args[i].TrimStart('-')] = args[i + 1];
}

string Option(string name, string fallback) => options.TryGetValue(name, out string? v) ? v : fallback;
int seed = int.Parse(Option("seed", "1"), CultureInfo.InvariantCulture);

if (command == "list")
{
    IReadOnlyList<HostileRequest> corpus = new CorpusGenerator(seed).Generate();
    foreach (IGrouping<string, HostileRequest> group in corpus.GroupBy(r => r.Category))
    {
        Console.WriteLine($"{group.Key,-18} {group.Count(),6} requests {group.Sum(r => (long)r.Body.Length) / 1024,8} KiB");
    }

    Console.WriteLine($"{"total",-18} {corpus.Count,6} requests");
    return 0;
}

if (command != "run" || !options.ContainsKey("url") || !options.ContainsKey("pid") || !options.ContainsKey("photo"))
{
    Console.Error.WriteLine("usage: SegServe.Tools.Hostile run --url URL --pid PID --photo FILE [--out DIR] [--seed N] [--concurrency N] [--max-seconds S] [--seconds-per-mp S] [--max-rss-mb MB] [--categories a,b]");
    Console.Error.WriteLine("       SegServe.Tools.Hostile list [--seed N]");
    return 2;
}

var url = new Uri(Option("url", ""));
int pid = int.Parse(Option("pid", "0"), CultureInfo.InvariantCulture);
int concurrency = int.Parse(Option("concurrency", "4"), CultureInfo.InvariantCulture);
string outDir = Option("out", "artifacts/hostile");
var criteria = new Criteria(
    double.Parse(Option("max-seconds", "2"), CultureInfo.InvariantCulture),
    double.Parse(Option("seconds-per-mp", "0.05"), CultureInfo.InvariantCulture),
    long.Parse(Option("max-rss-mb", "1536"), CultureInfo.InvariantCulture),
    int.Parse(Option("min-requests", "2000"), CultureInfo.InvariantCulture));
string photoPath = Option("photo", "");
byte[] photo = File.ReadAllBytes(photoPath);
string photoType = photoPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? "image/png" : "image/jpeg";
Directory.CreateDirectory(outDir);

Console.WriteLine($"generating the corpus (seed {seed})…");
IReadOnlyList<HostileRequest> all = new CorpusGenerator(seed).Generate();
HashSet<string>? only = options.TryGetValue("categories", out string? list) ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries)] : null;
List<HostileRequest> requests = [.. all.Where(r => only is null || only.Contains(r.Category))];
Console.WriteLine($"{requests.Count} requests; server pid {pid}; {url}");

using var runner = new CorpusRunner(url, concurrency);
await using var rss = new RssSampler(pid);
byte[]? reference = await runner.SegmentPhotoAsync(photo, photoType, CancellationToken.None);
if (reference is null)
{
    Console.Error.WriteLine("the reference photo could not be segmented before the run: is the server ready?");
    return 1;
}

await runner.PrepareAsync(CancellationToken.None);
var clock = Stopwatch.StartNew();
List<Outcome> outcomes = await runner.RunAsync(requests, n => Console.WriteLine($"  {n} done, {clock.Elapsed.TotalSeconds:F0} s, server RSS {rss.LastRssKb / 1024} MB"), CancellationToken.None);
double wall = clock.Elapsed.TotalSeconds;

// afterwards: still alive, ready, and giving the same answer for the same photo
await Task.Delay(TimeSpan.FromSeconds(1));
bool alive = await runner.GetStatusAsync("/health/live", CancellationToken.None) == 200 && await runner.GetStatusAsync("/health/ready", CancellationToken.None) == 200;
byte[]? after = alive ? await runner.SegmentPhotoAsync(photo, photoType, CancellationToken.None) : null;
bool matches = after is not null && after.AsSpan().SequenceEqual(reference);
string note = after is null ? "no 200 after the run" : $"class-map PNG sha256 {Convert.ToHexStringLower(SHA256.HashData(reference))[..16]} before, {Convert.ToHexStringLower(SHA256.HashData(after))[..16]} after";

RunSummary summary = Report.Summarise(url.ToString(), seed, concurrency, wall, outcomes, criteria, rss, alive, matches, note);
await File.WriteAllTextAsync(Path.Combine(outDir, "hostile.json"), Report.ToJson(summary));
string markdown = Report.ToMarkdown(summary);
await File.WriteAllTextAsync(Path.Combine(outDir, "hostile.md"), markdown);
Console.WriteLine(markdown);
return summary.Passed ? 0 : 1;
