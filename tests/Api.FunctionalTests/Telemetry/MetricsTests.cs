using System.Net;
using SegServe.Api.FunctionalTests.Infrastructure;

namespace SegServe.Api.FunctionalTests.Telemetry;

/// <summary><c>/metrics</c> in Prometheus' text exposition format, with the service's own instruments named <c>segserve_*</c>.</summary>
public sealed class MetricsTests(TracedFactory factory) : IClassFixture<TracedFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Metrics_AnswersTextExposition_WithSegServeNames_AndRequestsByRouteAndModel()
    {
        using (HttpResponseMessage segmented = await _client.PostImageAsync("/v1/models/selfie/segment", SharedData.PathOf("data/photos/chelsea.png")))
        {
            Assert.Equal(HttpStatusCode.OK, segmented.StatusCode);
        }

        using (HttpResponseMessage refused = await _client.PostImageAsync("/v1/models/selfie/segment?threshold=7", SharedData.PathOf("data/photos/chelsea.png")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using HttpResponseMessage response = await _client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        string[] lines = text.Split('\n');

        Assert.Contains("# TYPE segserve_batch_size histogram", lines);
        Assert.Contains(lines, l => l.StartsWith("segserve_batch_size_bucket{", StringComparison.Ordinal) && l.Contains("model=\"selfie\"", StringComparison.Ordinal) && l.Contains("le=\"1\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("segserve_batch_duration_milliseconds_bucket{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("segserve_queue_wait_milliseconds_bucket{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("segserve_queue_depth{", StringComparison.Ordinal));
        // Which provider runs each model: the ready selfie model, on the CPU here, reported as 1.
        Assert.Contains(lines, l => l.StartsWith("segserve_model_info{", StringComparison.Ordinal)
            && l.Contains("model=\"selfie\"", StringComparison.Ordinal)
            && l.Contains("provider=\"CPU\"", StringComparison.Ordinal)
            && l.Contains("status=\"ready\"", StringComparison.Ordinal)
            && l.TrimEnd().EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("segserve_queue_items_total{", StringComparison.Ordinal) && l.Contains("outcome=\"ok\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("segserve_requests_rejected_total{", StringComparison.Ordinal)
            && l.Contains("reason=\"invalid-parameter\"", StringComparison.Ordinal)
            && l.Contains("http_route=\"/v1/models/{name}/segment\"", StringComparison.Ordinal));

        // Requests by endpoint and model: ASP.NET Core's histogram, with the model the binding added.
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"/v1/models/{name}/segment\"", StringComparison.Ordinal)
            && l.Contains("model=\"selfie\"", StringComparison.Ordinal)
            && l.Contains("http_response_status_code=\"200\"", StringComparison.Ordinal));

        // Runtime and process.
        Assert.Contains(lines, l => l.StartsWith("dotnet_gc_collections_total", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("process_cpu_time_seconds_total", StringComparison.Ordinal));
    }
}

/// <summary>With <c>Telemetry:Enabled=false</c> there is no <c>/metrics</c> (and no SDK at all).</summary>
public sealed class TelemetryOffTests(TelemetryOffFactory factory) : IClassFixture<TelemetryOffFactory>
{
    [Fact]
    public async Task Metrics_IsNotServed()
    {
        using HttpClient client = factory.CreateClient();
        using HttpResponseMessage response = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        await response.ProblemAsync(404);
        Assert.Null(factory.Services.GetService(typeof(OpenTelemetry.Metrics.MeterProvider)));
    }
}

/// <summary>
/// <c>Telemetry:MetricsPort</c>: Kestrel listens there too, <c>/metrics</c> answers there only and nothing else does;
/// scraping needs no key while the API does.
/// </summary>
public sealed class MetricsPortTests(MetricsPortFactory factory) : IClassFixture<MetricsPortFactory>
{
    [Fact]
    public async Task Metrics_AnswersOnItsOwnPortOnly_WithoutAKey()
    {
        using var main = new HttpClient { BaseAddress = factory.Address };
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{factory.MetricsPort}") };
        CancellationToken cancel = TestContext.Current.CancellationToken;

        using (HttpResponseMessage scrape = await metrics.GetAsync("/metrics", cancel))
        {
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains("segserve_queue_depth", await scrape.Content.ReadAsStringAsync(cancel), StringComparison.Ordinal);
        }

        using (HttpResponseMessage onMain = await main.GetAsync("/metrics", cancel))
        {
            await onMain.ProblemAsync(404);
        }

        using (HttpResponseMessage apiOnMetrics = await metrics.GetAsync("/v1/models", cancel))
        {
            Assert.Equal(HttpStatusCode.NotFound, apiOnMetrics.StatusCode);
        }

        // The API itself wants a key here: /metrics is not under it.
        using (HttpResponseMessage api = await main.GetAsync("/v1/models", cancel))
        {
            await api.ProblemAsync(401);
        }
    }
}

/// <summary><c>Authentication:ProtectMetrics=true</c>: scraping is under the API's own rule (here: a key, as anonymous access is off).</summary>
public sealed class ProtectedMetricsTests(ProtectedMetricsFactory factory) : IClassFixture<ProtectedMetricsFactory>
{
    [Fact]
    public async Task Metrics_NeedsAKey_WhenProtected()
    {
        using HttpClient client = factory.CreateClient();
        CancellationToken cancel = TestContext.Current.CancellationToken;
        using (HttpResponseMessage anonymous = await client.GetAsync("/metrics", cancel))
        {
            await anonymous.ProblemAsync(401);
        }

        // A refusal through the exception handler first: its metric names the exception's type (error.type), which is
        // operators' data on the operators' endpoint, not a leak (the scan of /metrics still looks for paths and traces).
        using (var refused = new HttpRequestMessage(HttpMethod.Post, "/v1/models/selfie/segment") { Content = HttpHelpers.ImageForm("not an image"u8.ToArray(), "note.txt") })
        {
            refused.Headers.Add("X-Api-Key", ProtectedMetricsFactory.Key);
            using HttpResponseMessage answer = await client.SendAsync(refused, cancel);
            await answer.ProblemAsync(415);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Api-Key", ProtectedMetricsFactory.Key);
        using HttpResponseMessage withKey = await client.SendAsync(request, cancel);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Contains("segserve_queue_depth", await withKey.Content.ReadAsStringAsync(cancel), StringComparison.Ordinal);
    }
}
