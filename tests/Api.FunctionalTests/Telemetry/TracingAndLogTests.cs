using System.Diagnostics;
using System.Net;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Inference.Telemetry;

namespace SegServe.Api.FunctionalTests.Telemetry;

/// <summary>
/// One request's trace: ASP.NET Core's request span with a child span per pipeline stage, the inference span naming
/// model, batch size and provider, and the batch's own span linked to the request; and one structured log line per
/// refused request. Requests carry a <c>traceparent</c> of their own, so that only their spans and lines are looked at
/// (other test hosts in this process are traced too).
/// </summary>
public sealed class TracingAndLogTests(TracedFactory factory) : IClassFixture<TracedFactory>
{
    private static readonly string[] s_stages =
    [
        InferenceTelemetry.DecodeSpan,
        InferenceTelemetry.PreprocessSpan,
        InferenceTelemetry.QueueSpan,
        InferenceTelemetry.InferenceSpan,
        InferenceTelemetry.PostprocessSpan,
        InferenceTelemetry.EncodeSpan,
    ];

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Segment_TraceHasAStageSpanPerStageUnderTheRequest_AndTheBatchLinked()
    {
        string photo = SharedData.PathOf("data/photos/astronaut.png");
        ActivityTraceId trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/selfie/segment") { Content = HttpHelpers.ImageForm(photo) };
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using HttpResponseMessage response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The request's span ends (and is exported) once the response is complete, which may be after the client has it.
        List<Activity> spans = await WaitForAsync(trace, s => s.Any(a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == trace));
        Activity server = Assert.Single(spans, a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == trace);
        Assert.Equal("/v1/models/{name}/segment", server.GetTagItem("http.route"));

        foreach (string stage in s_stages)
        {
            Activity span = Assert.Single(spans, a => a.OperationName == stage && a.TraceId == trace);
            Assert.Equal(server.SpanId, span.ParentSpanId);
            Assert.True(span.StartTimeUtc >= server.StartTimeUtc.AddMilliseconds(-1), $"{stage} starts before the request.");
            Assert.True(span.Duration >= TimeSpan.Zero, stage);
        }

        Activity inference = spans.Single(a => a.OperationName == InferenceTelemetry.InferenceSpan && a.TraceId == trace);
        Assert.Equal("selfie", inference.GetTagItem(InferenceTelemetry.ModelTag));
        Assert.True(inference.GetTagItem(InferenceTelemetry.BatchSizeTag) is int size && size >= 1, $"batch size {inference.GetTagItem(InferenceTelemetry.BatchSizeTag)}");
        Assert.True(inference.GetTagItem(InferenceTelemetry.ProviderTag) is "CPU" or "CUDA", $"provider {inference.GetTagItem(InferenceTelemetry.ProviderTag)}");

        // The batch: a span of its own (its own trace), linked to this request's span; the inference span names and links it.
        Activity batch = Assert.Single(spans, a => a.OperationName == InferenceTelemetry.BatchSpan && a.Links.Any(l => l.Context.SpanId == server.SpanId));
        Assert.NotEqual(trace, batch.TraceId);
        Assert.Equal(default, batch.ParentSpanId);
        Assert.Equal("selfie", batch.GetTagItem(InferenceTelemetry.ModelTag));
        Assert.Equal(batch.SpanId.ToHexString(), inference.GetTagItem(InferenceTelemetry.BatchSpanIdTag));
        Assert.Contains(inference.Links, l => l.Context.SpanId == batch.SpanId && l.Context.TraceId == batch.TraceId);
    }

    [Fact]
    public async Task RefusedRequest_WritesOneStructuredLineSayingWhy_WithItsTraceId()
    {
        string photo = SharedData.PathOf("data/photos/astronaut.png");
        ActivityTraceId trace = ActivityTraceId.CreateRandom();
        string lanczos = "lanczos" + new string('x', 5000);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/models/selfie/segment?upsample={lanczos}") { Content = HttpHelpers.ImageForm(photo) };
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using HttpResponseMessage response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        List<CapturedLog> lines = [.. factory.Logs.Records.Where(r => r.Category == "SegServe.Api.Problems" && Equals(r.Scope.GetValueOrDefault("TraceId"), trace.ToHexString()))];
        CapturedLog line = Assert.Single(lines);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, line.Level);
        Assert.Equal("RequestRefused", line.Event.Name);
        Assert.Equal(400, line.Fields["Status"]);
        Assert.Equal("invalid-parameter", line.Fields["Reason"]);
        Assert.Equal("/v1/models/{name}/segment", line.Fields["Route"]);
        Assert.Equal("upsample", line.Fields["Parameter"]);
        Assert.Equal("POST", line.Fields["Method"]);
        Assert.True(line.Scope.ContainsKey("SpanId"));

        // The detail says why, without repeating the 5000-character value.
        string detail = Assert.IsType<string>(line.Fields["Detail"]);
        Assert.Contains("upsample", detail, StringComparison.Ordinal);
        Assert.True(detail.Length <= 300, $"{detail.Length} characters");
    }

    [Fact]
    public async Task RouteWithoutEndpoint_IsLoggedOnceToo()
    {
        ActivityTraceId trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/nothing-here");
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using HttpResponseMessage response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        CapturedLog line = Assert.Single(factory.Logs.Records, r => r.Category == "SegServe.Api.Problems" && Equals(r.Scope.GetValueOrDefault("TraceId"), trace.ToHexString()));
        Assert.Equal(404, line.Fields["Status"]);
        Assert.Equal("not-found", line.Fields["Reason"]);
    }

    private async Task<List<Activity>> WaitForAsync(ActivityTraceId trace, Func<List<Activity>, bool> done)
    {
        for (int i = 0; i < 200; i++)
        {
            List<Activity> spans = factory.Spans.OfTrace(trace);
            if (done(spans))
            {
                return spans;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return factory.Spans.OfTrace(trace);
    }
}
