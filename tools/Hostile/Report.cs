using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SegServe.Tools.Hostile;

/// <summary>Pass/fail limits of a corpus run.</summary>
public sealed record Criteria(double MaxSeconds, double SecondsPerMegapixel, long MaxRssMb, int MinRequests)
{
    /// <summary>The time a request may take: valid images near the pixel limit get 0.05 s per megapixel (at least the base limit).</summary>
    public double LimitFor(Outcome o) => o.ValidPixels > 0 ? Math.Max(MaxSeconds, SecondsPerMegapixel * o.ValidPixels / 1e6) : MaxSeconds;
}

public sealed record CategorySummary(string Category, int Requests, SortedDictionary<string, int> Statuses, double MaxSeconds);

/// <summary>The server's RSS at a moment of the run (seconds from the start of sampling).</summary>
public sealed record RssPoint(double Seconds, long RssMb);

public sealed record SlowEntry(int Id, string Category, string Name, int Status, double Seconds, double LimitSeconds, double? Megapixels, double? SecondsPerMegapixel);

public sealed record RunSummary(
    string Url, int Seed, int Concurrency, int Requests, double WallSeconds, SortedDictionary<string, int> Statuses,
    List<CategorySummary> Categories, List<Outcome> ServerErrors, List<Outcome> NoResponse, List<SlowEntry> Slowest, List<SlowEntry> OverLimit,
    long PeakRssMb, long HighWaterMarkMb, long RssAtEndMb, bool AliveAfter, bool ReferenceMatches, string ReferenceNote,
    Criteria Criteria, List<string> Failures, List<RssPoint> RssTimeline)
{
    public bool Passed => Failures.Count == 0;
}

public static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static RunSummary Summarise(string url, int seed, int concurrency, double wallSeconds, List<Outcome> outcomes, Criteria criteria,
        RssSampler rss, bool alive, bool referenceMatches, string referenceNote)
    {
        var statuses = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var categories = new List<CategorySummary>();
        foreach (string category in CorpusGenerator.Categories)
        {
            var histogram = new SortedDictionary<string, int>(StringComparer.Ordinal);
            int count = 0;
            double max = 0;
            foreach (Outcome o in outcomes)
            {
                if (o.Category != category)
                {
                    continue;
                }

                count++;
                max = Math.Max(max, o.Seconds);
                string key = o.Status == 0 ? "none" : o.Status.ToString(CultureInfo.InvariantCulture);
                histogram[key] = histogram.GetValueOrDefault(key) + 1;
                statuses[key] = statuses.GetValueOrDefault(key) + 1;
            }

            categories.Add(new CategorySummary(category, count, histogram, Math.Round(max, 3)));
        }

        SlowEntry Entry(Outcome o) => new(o.Id, o.Category, o.Name, o.Status, Math.Round(o.Seconds, 3), Math.Round(criteria.LimitFor(o), 3),
            o.ValidPixels > 0 ? o.ValidPixels / 1e6 : null, o.ValidPixels > 0 ? Math.Round(o.Seconds / (o.ValidPixels / 1e6), 4) : null);

        List<Outcome> timed = [.. outcomes.Where(o => o.Category != "slow" && o.Status != 0)];
        List<SlowEntry> slowest = [.. timed.OrderByDescending(o => o.Seconds).Take(25).Select(Entry)];
        List<SlowEntry> overLimit = [.. timed.Where(o => o.Seconds > criteria.LimitFor(o)).OrderByDescending(o => o.Seconds).Select(Entry)];
        List<Outcome> serverErrors = [.. outcomes.Where(o => o.Status >= 500 && !o.Expected)];
        List<Outcome> noResponse = [.. outcomes.Where(o => o.Status == 0)];
        long peakMb = rss.PeakRssKb / 1024, hwmMb = rss.HighWaterMarkKb / 1024;

        var failures = new List<string>();
        if (outcomes.Count < criteria.MinRequests)
        {
            failures.Add($"{outcomes.Count} requests, fewer than {criteria.MinRequests}");
        }

        if (serverErrors.Count > 0)
        {
            failures.Add($"{serverErrors.Count} responses 5xx");
        }

        if (overLimit.Count > 0)
        {
            failures.Add($"{overLimit.Count} responses slower than their limit");
        }

        if (Math.Max(peakMb, hwmMb) >= criteria.MaxRssMb)
        {
            failures.Add($"peak RSS {Math.Max(peakMb, hwmMb)} MB, not under {criteria.MaxRssMb} MB");
        }

        if (!alive)
        {
            failures.Add("the server was not alive and ready after the run");
        }

        if (!referenceMatches)
        {
            failures.Add("the photo segmented after the run differs from the reference: " + referenceNote);
        }

        return new RunSummary(url, seed, concurrency, outcomes.Count, Math.Round(wallSeconds, 1), statuses, categories, serverErrors, noResponse, slowest, overLimit,
            peakMb, hwmMb, rss.LastRssKb / 1024, alive, referenceMatches, referenceNote, criteria, failures, [.. rss.Timeline.Select(p => new RssPoint(p.Seconds, p.RssKb / 1024))]);
    }

    public static string ToJson(RunSummary summary) => JsonSerializer.Serialize(summary, Json);

    public static string ToMarkdown(RunSummary s)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Hostile corpus: {(s.Passed ? "PASS" : "FAIL")}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{s.Requests} requests (seed {s.Seed}, concurrency {s.Concurrency}) against {s.Url} in {s.WallSeconds} s.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Statuses: {string.Join(", ", s.Statuses.Select(kv => $"{kv.Key}: {kv.Value}"))}.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Server RSS: peak sampled {s.PeakRssMb} MB, VmHWM {s.HighWaterMarkMb} MB (limit {s.Criteria.MaxRssMb} MB), at the end {s.RssAtEndMb} MB.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Afterwards: ready {(s.AliveAfter ? "yes" : "NO")}; reference photo {(s.ReferenceMatches ? "identical" : "DIFFERENT")} ({s.ReferenceNote}).");
        md.AppendLine();
        if (s.Failures.Count > 0)
        {
            md.AppendLine("Failed criteria:");
            foreach (string f in s.Failures)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {f}");
            }

            md.AppendLine();
        }

        md.AppendLine("| category | requests | statuses | slowest s |");
        md.AppendLine("|---|---|---|---|");
        foreach (CategorySummary c in s.Categories)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {c.Category} | {c.Requests} | {string.Join(", ", c.Statuses.Select(kv => $"{kv.Key}×{kv.Value}"))} | {c.MaxSeconds} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## 5xx ({s.ServerErrors.Count})");
        md.AppendLine();
        foreach (Outcome o in s.ServerErrors.Take(200))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- #{o.Id} {o.Category} / {o.Name}: {o.Status} {Clip(o.Error)}");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Over the time limit ({s.OverLimit.Count})");
        md.AppendLine();
        if (s.OverLimit.Count > 0)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"By category: {string.Join(", ", s.OverLimit.GroupBy(e => e.Category).Select(g => $"{g.Key} {g.Count()}"))}.");
            md.AppendLine();
        }

        foreach (SlowEntry e in s.OverLimit.Take(100))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- #{e.Id} {e.Category} / {e.Name}: {e.Status} in {e.Seconds} s (limit {e.LimitSeconds} s{(e.SecondsPerMegapixel is { } spm ? $", {e.Megapixels} MP, {spm} s/MP" : "")})");
        }

        md.AppendLine();
        md.AppendLine("## Slowest");
        md.AppendLine();
        md.AppendLine("| id | category | request | status | s | limit s | MP (valid image) | s/MP |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (SlowEntry e in s.Slowest)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {e.Id} | {e.Category} | {e.Name.Replace("|", "\\|", StringComparison.Ordinal)} | {e.Status} | {e.Seconds} | {e.LimitSeconds} | {e.Megapixels?.ToString(CultureInfo.InvariantCulture) ?? ""} | {e.SecondsPerMegapixel?.ToString(CultureInfo.InvariantCulture) ?? ""} |");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## No response ({s.NoResponse.Count})");
        md.AppendLine();
        foreach (Outcome o in s.NoResponse.Take(100))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- #{o.Id} {o.Category} / {o.Name}: {Clip(o.Error)}");
        }

        return md.ToString();
    }

    private static string Clip(string? text) =>
        text is null ? "" : (text.Length > 240 ? text[..240] + "…" : text).Replace('\n', ' ').Replace('\r', ' ');
}
