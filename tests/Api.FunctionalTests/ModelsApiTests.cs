using System.Net;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests;

public sealed class ModelsApiTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ListModels_ReportsStatusAndProviderOfEveryModel()
    {
        ModelList list = (await _client.GetJsonAsync<ModelList>("/v1/models"))!;

        ModelDescription broken = Assert.Single(list.Models, m => m.Name == "broken-manifest");
        Assert.Equal("failed", broken.Status);
        Assert.Contains("model.json is invalid", broken.FailureReason, StringComparison.Ordinal);
        Assert.Null(broken.ExecutionProvider);

        ModelDescription notOnnx = Assert.Single(list.Models, m => m.Name == "not-onnx");
        Assert.Equal("failed", notOnnx.Status);
        Assert.Contains("could not be opened by ONNX Runtime", notOnnx.FailureReason, StringComparison.Ordinal);

        SharedData.Require();
        foreach (string name in SegServeFactory.SharedModels.Keys)
        {
            ModelDescription model = Assert.Single(list.Models, m => m.Name == name);
            Assert.True(model.Status == "ready", $"{name}: {model.Status} {model.FailureReason}");
            Assert.Equal("CPU", model.ExecutionProvider);
            Assert.False(string.IsNullOrEmpty(model.ExecutionProviderNote));
            Assert.NotNull(model.Signature);
            Assert.NotEmpty(model.Classes);
        }

        ModelDescription mismatch = Assert.Single(list.Models, m => m.Name == "wrong-class-count");
        Assert.Equal("failed", mismatch.Status);
        Assert.Contains("21 channel(s)", mismatch.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetModel_DescribesManifestAndSignature()
    {
        SharedData.Require();
        ModelDescription model = (await _client.GetJsonAsync<ModelDescription>("/v1/models/sinet-portrait"))!;

        Assert.Equal("ready", model.Status);
        Assert.Equal("semantic", model.Task);
        Assert.Equal("BGR", model.Input!.Color);
        Assert.Equal("stretch", model.Input.Resize);
        Assert.Equal("probabilities", model.Output!.Kind);
        Assert.Equal("Softmax/1", model.Output.Name);
        Assert.Equal(["1", "3", "320", "320"], model.Signature!.Inputs[0].Shape);

        // The file lists its initialisers as inputs (an older exporter's habit); only the image input is reported.
        Assert.Single(model.Signature.Inputs);
        Assert.Equal(["background", "person"], model.Classes.Select(c => c.Name));
        Assert.Equal("#ff4d4d", model.Classes[1].Color);
    }

    [Fact]
    public async Task GetModel_Unknown_Returns404Problem()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v1/models/no-such-model", TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(404);
        Assert.Contains("no-such-model", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_ReadyOnceModelsAreLoaded()
    {
        using HttpResponseMessage live = await _client.GetAsync("/health/live", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        SharedData.Require();
        using HttpResponseMessage ready = await _client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Swagger_DocumentsMultipartUploadAndEveryEndpoint()
    {
        string json = await _client.GetStringAsync("/swagger/v1/swagger.json", TestContext.Current.CancellationToken);

        Assert.Contains("/v1/models/{name}/segment", json, StringComparison.Ordinal);
        Assert.Contains("/v1/models/{name}/overlay", json, StringComparison.Ordinal);
        Assert.Contains("multipart/form-data", json, StringComparison.Ordinal);
        Assert.Contains("\"binary\"", json, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", json, StringComparison.Ordinal);

        using HttpResponseMessage ui = await _client.GetAsync("/swagger/index.html", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
    }
}
