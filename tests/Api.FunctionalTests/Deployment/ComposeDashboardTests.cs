using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Api.FunctionalTests.Telemetry;
using SegServe.Api.Hosting;
using SegServe.Inference.Telemetry;
using SegServe.Tests.Shared;
using static SegServe.Api.FunctionalTests.Deployment.ComposeFiles;

namespace SegServe.Api.FunctionalTests.Deployment;

/// <summary>
/// The Grafana dashboard's and the alert rules' queries, checked against the real service: every metric they read is
/// one a live <c>/metrics</c> serves (after a segmentation, a refused request and an evaluation run have gone through
/// it), or one the collector derives from the service's spans; and a real Prometheus (Debian's
/// <c>/usr/bin/prometheus</c>, scraping the live host with the job of deploy/prometheus/prometheus.yml and the rules of
/// alerts.yml) parses every query and answers each of those on the service's own metrics with data.
/// </summary>
public sealed partial class ComposeDashboardTests(KestrelFactory factory) : IClassFixture<KestrelFactory>
{

    /// <summary>
    /// The series Prometheus itself records for every target it scrapes: names a query may read that no
    /// <c>/metrics</c> serves.
    /// </summary>
    private static readonly HashSet<string> s_scrapeSeries =
        ["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"];

    /// <summary>The labels every scraped series gets: Prometheus' job and instance, and the stack's service (prometheus.yml's relabeling).</summary>
    private static readonly HashSet<string> s_targetLabels = ["job", "instance", "service"];

    /// <summary>
    /// One query of the dashboard or of the rules: where it is, the PromQL, the label a variable reads, and whether it
    /// must return data (a panel or a variable does; an alert's condition is empty while it does not fire).
    /// </summary>
    public sealed record Query(string Where, string Expression, string? Label = null, bool MustHaveData = true);

    [Fact]
    public void MetricNames_FindsTheMetrics_AndOnlyThem()
    {
        Assert.Equal(
            ["segserve_queue_wait_milliseconds_bucket"],
            ComposePromQl.MetricNames(ComposePromQl.Substitute("histogram_quantile(0.95, sum by (model, le) (rate(segserve_queue_wait_milliseconds_bucket{job=\"segserve\", model=~\"$model\"}[$__rate_interval])))")));
        Assert.Equal(
            ["a_total", "b_count", "up"],
            ComposePromQl.MetricNames("sum(rate(a_total[5m] offset 1h)) by (le) / on (job) group_left (model) sum without (x) (b_count) > bool 0.5e3 and up unless absent(up)"));
        Assert.Equal(
            ["named", "x"],
            ComposePromQl.MetricNames("label_replace(x, \"dst\", \"$1\", \"src\", \"(.*)\") or {__name__=\"named\", le=\"+Inf\"} or topk(5, x) or count_values(\"value\", x) @ start()"));
        Assert.Equal(
            ["sum_total"],
            ComposePromQl.MetricNames("SUM BY (a) (sum_total) + Inf - NaN"));
        Assert.Equal(
            ["a", "b", "c", "job", "le", "model"],
            ComposePromQl.LabelNames("sum by (le, model) (rate(x_bucket{job=\"s\", a!~\"b=c\"}[5m])) / on (b) group_left (c) y"));
    }

    [Fact]
    public void UnknownMetrics_ReportsAMisspelledName()
    {
        // The check the live test applies: a name the service does not export must be reported, whatever surrounds it.
        HashSet<string> exported = ["segserve_queue_wait_milliseconds_bucket", "segserve_queue_items_total"];
        Assert.Empty(ComposePromQl.UnknownMetrics("sum by (model) (rate(segserve_queue_items_total{outcome=\"ok\"}[$__rate_interval]))", exported));
        Assert.Equal(
            ["segserve_queue_wiat_milliseconds_bucket"],
            ComposePromQl.UnknownMetrics("histogram_quantile(0.5, sum by (le) (rate(segserve_queue_wiat_milliseconds_bucket{model=~\"$model\"}[$__rate_interval])))", exported));

        // A label that no metric of the expression has is reported too (what Prometheus would silently match as empty).
        var labels = new Dictionary<string, HashSet<string>> { ["segserve_queue_items_total"] = ["model", "outcome"] };
        HashSet<string> targetLabels = ["job", "service"];
        Assert.Empty(ComposePromQl.UnknownLabels("sum by (model) (rate(segserve_queue_items_total{job=\"segserve\", outcome=\"ok\"}[5m]))", labels, targetLabels));
        Assert.Equal(["outcomes"], ComposePromQl.UnknownLabels("sum by (model, outcomes) (rate(segserve_queue_items_total[5m]))", labels, targetLabels));

        // And in the real dashboard: one name misspelled is one name reported.
        Query target = DashboardQueries().First(q => q.Expression.Contains("segserve_queue_wait_milliseconds_bucket", StringComparison.Ordinal));
        HashSet<string> names = [.. ComposePromQl.MetricNames(ComposePromQl.Substitute(target.Expression))];
        Assert.Equal(
            ["segserve_queue_wait_milisecond_bucket"],
            ComposePromQl.UnknownMetrics(target.Expression.Replace("wait_milliseconds", "wait_milisecond", StringComparison.Ordinal), names));
    }

    [Fact]
    public async Task DashboardAndAlertQueries_ReadExportedMetrics_AndARealPrometheusAnswersThem()
    {
        if (!File.Exists(PrometheusProcess.Binary))
        {
            Assert.Skip($"{PrometheusProcess.Binary} is not installed (apt-get install prometheus; .ci/setup.d/10-prometheus.sh does it): the dashboard's queries are not put to a real Prometheus here.");
        }

        CancellationToken cancel = TestContext.Current.CancellationToken;
        using var client = new HttpClient { BaseAddress = factory.Address };

        // Traffic that makes every instrument the dashboard reads report: segmentations (queue, batches, requests by
        // model), a refused request (problems by reason), an evaluation run (a route without a model).
        string photo = Repository.PathOf("docs/examples/camera.png");
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage segmented = await client.PostImageAsync("/v1/models/selfie/segment", photo);
            Assert.Equal(HttpStatusCode.OK, segmented.StatusCode);
        }

        using (HttpResponseMessage refused = await client.PostImageAsync("/v1/models/selfie/segment?threshold=7", photo))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using (HttpResponseMessage run = await client.PostAsJsonAsync("/v1/evaluations/", new { task = "semantic", numClasses = 2 }, cancel))
        {
            Assert.Equal(HttpStatusCode.Created, run.StatusCode);
        }

        string exposition = await client.GetStringAsync(TelemetryOptions.MetricsPath, cancel);
        HashSet<string> exported = ComposePromQl.SampleNames(exposition);
        Dictionary<string, HashSet<string>> labelsByMetric = ComposePromQl.SampleLabels(exposition);
        Dictionary<string, HashSet<string>> spanMetrics = SpanMetrics();
        HashSet<string> fromSpans = [.. spanMetrics.Keys];
        foreach ((string name, HashSet<string> labels) in spanMetrics)
        {
            labelsByMetric[name] = labels;
        }

        // Every metric named is exported by the service, or derived by the collector from its spans.
        List<Query> queries = [.. DashboardQueries(), .. AlertQueries()];
        Assert.True(queries.Count >= 15, $"only {queries.Count} queries found");
        var unknown = queries.Select(q => (q.Where, Names: ComposePromQl.UnknownMetrics(q.Expression, exported, s_scrapeSeries, fromSpans))).Where(u => u.Names.Count > 0).ToList();
        Assert.True(unknown.Count == 0, "Metrics the service does not export: " + string.Join("; ", unknown.Select(u => $"{u.Where}: {string.Join(", ", u.Names)}")));

        // Every label matched on or grouped by is one of those metrics' labels, or one the scrape adds.
        var unknownLabels = queries.Select(q => (q.Where, Names: ComposePromQl.UnknownLabels(q.Expression, labelsByMetric, s_targetLabels))).Where(u => u.Names.Count > 0).ToList();
        Assert.True(unknownLabels.Count == 0, "Labels the metrics do not have: " + string.Join("; ", unknownLabels.Select(u => $"{u.Where}: {string.Join(", ", u.Names)}")));

        DirectoryInfo data = Directory.CreateTempSubdirectory("segserve-compose-prometheus-");
        try
        {
            int port = KestrelFactory.FreePort();
            await File.WriteAllTextAsync(Path.Combine(data.FullName, "prometheus.yml"), PrometheusConfigFor(factory.Address, Path.Combine(data.FullName, "alerts.yml")), cancel);
            File.Copy(Repository.PathOf(AlertRules), Path.Combine(data.FullName, "alerts.yml"));
            using Process prometheus = StartPrometheus(data.FullName, port);
            try
            {
                using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                foreach (Query query in queries)
                {
                    // The spans' metrics come from the collector, which does not run here: Prometheus parses the query only.
                    bool ours = ComposePromQl.MetricNames(ComposePromQl.Substitute(query.Expression)).All(n => exported.Contains(n) || s_scrapeSeries.Contains(n));
                    await AnswerAsync(api, query, ours && query.MustHaveData, prometheus, cancel);
                }

                await RulesEvaluatedAsync(api, prometheus, cancel);
            }
            finally
            {
                if (!prometheus.HasExited)
                {
                    prometheus.Kill(entireProcessTree: true);
                    await prometheus.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    /// <summary>Every Prometheus query of the dashboard: panel targets, and the variables' <c>label_values(query, label)</c>.</summary>
    public static List<Query> DashboardQueries()
    {
        using JsonDocument dashboard = Json(Dashboard);
        var queries = new List<Query>();
        foreach (JsonElement panel in ComposeStackTests.Descendants(dashboard.RootElement.GetProperty("panels")))
        {
            if (panel.ValueKind != JsonValueKind.Object || !panel.TryGetProperty("targets", out JsonElement targets))
            {
                continue;
            }

            foreach (JsonElement target in targets.EnumerateArray())
            {
                bool prometheus = target.GetProperty("datasource").GetProperty("type").GetString() == "prometheus";
                Assert.Equal(prometheus, target.TryGetProperty("expr", out JsonElement expr));
                if (prometheus)
                {
                    queries.Add(new Query($"panel \"{panel.GetProperty("title").GetString()}\" {target.GetProperty("refId").GetString()}", expr.GetString()!));
                }
            }
        }

        foreach (JsonElement variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            JsonElement query = variable.GetProperty("query");
            string text = query.ValueKind == JsonValueKind.String ? query.GetString()! : query.GetProperty("query").GetString()!;
            Match labelValues = LabelValues().Match(text);
            Assert.True(labelValues.Success, $"variable {variable.GetProperty("name").GetString()}: {text} is not label_values(query, label)");
            queries.Add(new Query($"variable {variable.GetProperty("name").GetString()}", labelValues.Groups[1].Value, labelValues.Groups[2].Value));
        }

        return queries;
    }

    /// <summary>Every alert rule's expression.</summary>
    public static List<Query> AlertQueries() =>
        [.. List(At(Yaml(AlertRules), "groups"), "groups")
            .SelectMany(g => List(At(Map(g, "group"), "rules"), "rules"))
            .Select(r => Map(r, "rule"))
            .Select(r => new Query($"alert {At(r, "alert")}", Text(At(r, "expr"), "expr"), MustHaveData: false))];

    /// <summary>
    /// What the collector's spanmetrics connector exports to Prometheus (deploy/otel-collector/config.yaml), with their
    /// labels: its namespace's calls counter and duration histogram, by the connector's fixed dimensions and the
    /// configured ones, which must be tags the service's spans carry.
    /// </summary>
    private static Dictionary<string, HashSet<string>> SpanMetrics()
    {
        Dictionary<object, object?> spanMetrics = MapAt(Yaml(CollectorConfig), "connectors", "spanmetrics");
        string ns = Text(At(spanMetrics, "namespace"), "spanmetrics.namespace").Replace('.', '_');
        string unit = Text(At(spanMetrics, "histogram", "unit"), "spanmetrics.histogram.unit") == "ms" ? "milliseconds" : "seconds";
        List<string> dimensions = [.. List(At(spanMetrics, "dimensions"), "dimensions").Select(d => Text(At(Map(d, "dimension"), "name"), "dimension name"))];
        Assert.Equal([InferenceTelemetry.ModelTag, InferenceTelemetry.ProviderTag], dimensions);

        HashSet<string> labels = ["service_name", "span_name", "span_kind", "status_code", .. dimensions.Select(d => d.Replace('.', '_'))];
        return new Dictionary<string, HashSet<string>>(StringComparer.Ordinal)
        {
            [$"{ns}_calls_total"] = labels,
            [$"{ns}_duration_{unit}_bucket"] = [.. labels, "le"],
            [$"{ns}_duration_{unit}_sum"] = labels,
            [$"{ns}_duration_{unit}_count"] = labels,
        };
    }

    /// <summary>
    /// deploy/prometheus/prometheus.yml with the segserve job pointed at the live host (a static target labelled as DNS
    /// discovery labels it in the stack), every second, with the stack's rule file; the other jobs' targets are not here.
    /// </summary>
    private static string PrometheusConfigFor(Uri service, string rules)
    {
        Dictionary<object, object?> config = Yaml(PrometheusConfig);
        Dictionary<object, object?> job = ComposeStackTests.ScrapeJob(config, "segserve");
        job.Remove("dns_sd_configs");
        job.Remove("relabel_configs");
        job["scrape_interval"] = "1s";
        job["scrape_timeout"] = "1s";
        job["static_configs"] = new List<object?>
        {
            new Dictionary<object, object?> { ["targets"] = new List<object?> { service.Authority }, ["labels"] = new Dictionary<object, object?> { ["service"] = "segserve" } },
        };
        config["scrape_configs"] = new List<object?> { job };
        config["rule_files"] = new List<object?> { rules };
        MapAt(config, "global")["evaluation_interval"] = "1s";
        return ToYaml(config);
    }

    private static Process StartPrometheus(string data, int port) =>
        PrometheusProcess.Start(Path.Combine(data, "prometheus.yml"), Path.Combine(data, "tsdb"), port);

    /// <summary>
    /// Puts a query to Prometheus: a syntax error fails at once; with <paramref name="mustHaveData"/>, asks again (a scrape
    /// a second) until a series comes back, with <see cref="Query.Label"/> on it where one is named, for up to 60 s.
    /// </summary>
    private static async Task AnswerAsync(HttpClient api, Query query, bool mustHaveData, Process prometheus, CancellationToken cancel)
    {
        string expression = ComposePromQl.Substitute(query.Expression);
        string body = "";
        for (int attempt = 0; attempt < 120; attempt++)
        {
            Assert.False(prometheus.HasExited, $"Prometheus exited with {(prometheus.HasExited ? prometheus.ExitCode : 0)}.");
            HttpResponseMessage response;
            try
            {
                response = await api.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(expression)}", cancel);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(500, cancel);
                continue;
            }

            using (response)
            {
                body = await response.Content.ReadAsStringAsync(cancel);
                using JsonDocument answer = JsonDocument.Parse(body);
                Assert.True(response.IsSuccessStatusCode, $"{query.Where}: Prometheus refuses {expression}: {body}");
                JsonElement result = answer.RootElement.GetProperty("data").GetProperty("result");
                bool labelled = query.Label is null || result.EnumerateArray().Any(r => r.GetProperty("metric").TryGetProperty(query.Label, out _));
                if (!mustHaveData || (result.GetArrayLength() > 0 && labelled))
                {
                    return;
                }
            }

            await Task.Delay(500, cancel);
        }

        Assert.Fail($"{query.Where}: no series{(query.Label is null ? "" : $" with label {query.Label}")} after 60 s for {expression}. Last answer: {body}");
    }

    /// <summary>Every alert rule has been evaluated, without error, on the scraped metrics.</summary>
    private static async Task RulesEvaluatedAsync(HttpClient api, Process prometheus, CancellationToken cancel)
    {
        string body = "";
        for (int attempt = 0; attempt < 60; attempt++)
        {
            Assert.False(prometheus.HasExited, "Prometheus exited.");
            body = await api.GetStringAsync("/api/v1/rules", cancel);
            using JsonDocument answer = JsonDocument.Parse(body);
            List<JsonElement> rules = [.. answer.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray())];
            Assert.Equal(AlertQueries().Count, rules.Count);
            List<JsonElement> failing = [.. rules.Where(r => r.GetProperty("health").GetString() == "err")];
            Assert.True(failing.Count == 0, "Rules that fail to evaluate: " + string.Join("; ", failing.Select(r => $"{r.GetProperty("name")}: {r.GetProperty("lastError")}")));
            if (rules.All(r => r.GetProperty("health").GetString() == "ok"))
            {
                return;
            }

            await Task.Delay(500, cancel);
        }

        Assert.Fail($"The alert rules were not all evaluated within 30 s: {body}");
    }

    [GeneratedRegex(@"^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", RegexOptions.Singleline)]
    private static partial Regex LabelValues();
}
