using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>
/// Nothing internal leaks. Every response of the functional suite passes through <see cref="LeakScan"/>; these tests
/// provoke the responses most likely to carry a path or an exception, and check the scan itself.
/// </summary>
public sealed class NoLeakTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task FailedModels_SayWhyWithoutTheServersPaths()
    {
        ModelList list = (await _client.GetJsonAsync<ModelList>("/v1/models"))!;
        ModelDescription notOnnx = Assert.Single(list.Models, static m => m.Name == "not-onnx");
        Assert.Equal("failed", notOnnx.Status);
        Assert.Contains("model.onnx", notOnnx.FailureReason, StringComparison.Ordinal);
        Assert.DoesNotContain(factory.ModelsDirectory, notOnnx.FailureReason, StringComparison.Ordinal);
        Assert.Null(LeakScan.Find(notOnnx.FailureReason!));
        foreach (ModelDescription model in list.Models)
        {
            Assert.Null(LeakScan.Find(model.ExecutionProviderNote ?? ""));
        }
    }

    [Fact]
    public async Task AnUnreadableJsonBody_IsNamedWithoutTypeNames()
    {
        using var content = new StringContent("""{"task":"semantic","numClasses":"many"}""", System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync("/v1/evaluations", content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("urn:segserve:problem:invalid-body", problem.Type);
        Assert.Contains("$.numClasses", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("SegServe.", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOpenApiDocument_IsClean()
    {
        using HttpResponseMessage response = await _client.GetAsync("/swagger/v1/swagger.json", TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode);
        Assert.Null(LeakScan.Find(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
    }

    [Theory]
    [InlineData("Load model from /tmp/segserve-models-x/m/model.onnx failed")]
    [InlineData("   at SegServe.Inference.Models.ModelOpener.Open(String directory)")]
    [InlineData("System.InvalidOperationException: boom")]
    [InlineData("--- End of stack trace from previous location ---")]
    [InlineData("ModelOpener.cs:line 42")]
    [InlineData(@"C:\models\selfie\model.onnx")]
    public void TheScan_FindsPathsAndStackTraces(string text) => Assert.NotNull(LeakScan.Find(text));

    [Theory]
    [InlineData("There is no model named 'nope'. GET /v1/models lists the models.")]
    [InlineData("Location: /v1/evaluations/0123abcd")]
    [InlineData("model.onnx could not be opened by ONNX Runtime: Load model from model.onnx failed: Protobuf parsing failed.")]
    public void TheScan_LeavesOrdinaryTextAlone(string text) => Assert.Null(LeakScan.Find(text));

    [Fact]
    public void TheMetricsScan_IgnoresOnlyExceptionTypeLabels()
    {
        // The exception-handler metric names the handled exception's type by design (OpenTelemetry's error.type)...
        const string Handled = "aspnetcore_diagnostics_exceptions_total{aspnetcore_diagnostics_handler_type=\"SegServe.Api.Problems.ProblemExceptionHandler\",error_type=\"SegServe.Inference.Imaging.ImageRejectedException\"} 1";
        Assert.NotNull(LeakScan.Find(Handled));
        Assert.Null(LeakScan.Find(LeakScan.WithoutExceptionTypeLabels(Handled)));

        // ...but a path or a stack trace elsewhere in the exposition is still a leak.
        Assert.NotNull(LeakScan.Find(LeakScan.WithoutExceptionTypeLabels("# HELP x /work/segserve/models/selfie/model.onnx\n" + Handled)));
        Assert.NotNull(LeakScan.Find(LeakScan.WithoutExceptionTypeLabels("x{detail=\"System.InvalidOperationException: boom\"} 1")));
    }

    [Fact]
    public async Task NoResponseSoFar_HasLeaked()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v1/models/nope", TestContext.Current.CancellationToken);
        await response.ProblemAsync(404);
        Assert.Empty(LeakScan.Findings);
    }
}
