using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using SegServe.Api.FunctionalTests.Infrastructure;

namespace SegServe.Api.FunctionalTests.Telemetry;

/// <summary>
/// A real Prometheus (the Debian package's <c>/usr/bin/prometheus</c>; <c>.ci/run</c> installs it) scrapes the service on
/// a loopback port every second; the batch-size histogram and the request counts are read back through its HTTP API.
/// Skips, saying so, where Prometheus is not installed.
/// </summary>
public sealed class PrometheusScrapeTests(KestrelFactory factory) : IClassFixture<KestrelFactory>
{
    private const int Requests = 6;

    [Fact]
    public async Task Prometheus_ScrapesBatchSizesAndRequestCounts()
    {
        if (!File.Exists(PrometheusProcess.Binary))
        {
            Assert.Skip($"{PrometheusProcess.Binary} is not installed (apt-get install prometheus; .ci/run does it): the scrape by a real Prometheus is not tested here.");
        }

        CancellationToken cancel = TestContext.Current.CancellationToken;
        Uri service = factory.Address;
        string[] photos = [SharedData.PathOf("data/photos/astronaut.png"), SharedData.PathOf("data/photos/chelsea.png"), SharedData.PathOf("data/photos/coffee.png")];

        DirectoryInfo data = Directory.CreateTempSubdirectory("segserve-prometheus-");
        int port = KestrelFactory.FreePort();
        string config = Path.Combine(data.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: segserve
                metrics_path: /metrics
                static_configs:
                  - targets: ['{service.Authority}']
            """, cancel);

        using Process prometheus = PrometheusProcess.Start(config, Path.Combine(data.FullName, "tsdb"), port);
        try
        {
            using var client = new HttpClient { BaseAddress = service };
            for (int i = 0; i < Requests; i++)
            {
                using HttpResponseMessage response = await client.PostImageAsync("/v1/models/selfie/segment", photos[i % photos.Length]);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

            // Other hosts in this test process may add to the same instruments: at least ours must be there.
            double batches = await QueryUntilAsync(api, "sum(segserve_batch_size_count{model=\"selfie\"})", 1, prometheus, cancel);
            double items = await QueryUntilAsync(api, "sum(segserve_batch_size_sum{model=\"selfie\"})", Requests, prometheus, cancel);
            // (Scraped as OpenMetrics, the bound reads "1.0"; as plain text "1".)
            double upToOne = await QueryUntilAsync(api, "sum(segserve_batch_size_bucket{model=\"selfie\",le=~\"1|1\\\\.0\"})", 1, prometheus, cancel);
            double all = await QueryUntilAsync(api, "sum(segserve_batch_size_bucket{model=\"selfie\",le=\"+Inf\"})", 1, prometheus, cancel);
            double served = await QueryUntilAsync(
                api,
                "sum(http_server_request_duration_seconds_count{http_route=\"/v1/models/{name}/segment\",model=\"selfie\",http_response_status_code=\"200\"})",
                Requests,
                prometheus,
                cancel);

            Assert.True(batches >= 1 && items >= Requests && upToOne <= all, $"batches {batches} ({all} in +Inf), items {items}, batches of 1 {upToOne}");
            Assert.True(served >= Requests, $"served {served}");
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill(entireProcessTree: true);
                await prometheus.WaitForExitAsync(CancellationToken.None);
            }

            data.Delete(recursive: true);
        }
    }

    /// <summary>Runs an instant query until its single value reaches <paramref name="atLeast"/> (each scrape is 1 s apart; up to 60 s).</summary>
    private static async Task<double> QueryUntilAsync(HttpClient api, string query, double atLeast, Process prometheus, CancellationToken cancel)
    {
        double last = double.NaN;
        string body = "";
        for (int i = 0; i < 120; i++)
        {
            Assert.False(prometheus.HasExited, $"Prometheus exited with {(prometheus.HasExited ? prometheus.ExitCode : 0)}.");
            try
            {
                body = await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}", cancel);
                using JsonDocument document = JsonDocument.Parse(body);
                JsonElement result = document.RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() == 1)
                {
                    last = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                    if (last >= atLeast)
                    {
                        return last;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting.
            }

            await Task.Delay(500, cancel);
        }

        Assert.Fail($"{query}: {last} after 60 s, expected at least {atLeast}. Last answer: {body}");
        return last;
    }
}
