using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Inference.Models;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>Holds one model's warm-up until the test lets it go: the loading state, observed for as long as needed.</summary>
public sealed class WarmUpGate(string gatedModel) : IModelLoadObserver
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the model's warm-up has started and is held.</summary>
    public Task Reached => _reached.Task;

    public void Open() => _open.TrySetResult();

    public async ValueTask BeforeWarmUpRunAsync(SegmentationModel model, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Name == gatedModel && batchSize == 1)
        {
            _reached.TrySetResult();
            await _open.Task.WaitAsync(cancellationToken);
        }
    }
}

/// <summary>The repository's default models, with one model's warm-up held at a gate; the host does not wait for the models.</summary>
public class GatedWarmUpFactory : DefaultModelsFactory
{
    private WarmUpGate? _gate;

    public WarmUpGate Gate => _gate ??= new WarmUpGate(GatedModel);

    public virtual string GatedModel => "selfie";

    protected override bool WaitForModels => false;

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<IModelLoadObserver>(Gate);
    }
}

/// <summary>The landscape model held; readiness requires only <c>selfie</c>.</summary>
public sealed class RequiredModelsFactory : GatedWarmUpFactory
{
    public override string GatedModel => "selfie-landscape";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Health:RequiredModels:0", "selfie");
    }
}

/// <summary>
/// Readiness that can be observed: the host listens while models load; a loading model is 503 with Retry-After and
/// its progress; readiness is 503 with each model's state until every required model is ready.
/// </summary>
public sealed class ModelLoadingTests(GatedWarmUpFactory factory) : IClassFixture<GatedWarmUpFactory>
{
    [Fact]
    public async Task ALoadingModel_IsObservedLoading_ThenReady()
    {
        using HttpClient client = factory.CreateClient();
        await factory.Gate.Reached.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        using (HttpResponseMessage live = await client.GetAsync("/health/live", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        HealthReport notReady = await ReadinessAsync(client, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("not-ready", notReady.Status);
        ModelHealth selfie = Assert.Single(notReady.Models, static m => m.Name == "selfie");
        Assert.Equal("loading", selfie.Status);
        Assert.True(selfie.Required);
        Assert.Equal("warming-up", selfie.Loading!.Stage);
        Assert.Equal(0, selfie.Loading.WarmUpRunsCompleted);
        Assert.True(selfie.Loading.WarmUpRuns >= 2, $"{selfie.Loading.WarmUpRuns} warm-up runs");
        Assert.Equal("queued", Assert.Single(notReady.Models, static m => m.Name == "selfie-landscape").Loading!.Stage);

        using (HttpResponseMessage segment = await client.PostImageAsync("/v1/models/selfie/segment", Repository.PathOf("docs/examples/camera.png")))
        {
            ProblemBody problem = await segment.ProblemAsync(503);
            Assert.Equal("urn:segserve:problem:model-loading", problem.Type);
            Assert.Contains("warming up", problem.Detail, StringComparison.Ordinal);
            Assert.Equal("5", segment.Headers.RetryAfter?.ToString());
        }

        ModelDescription described = (await client.GetJsonAsync<ModelDescription>("/v1/models/selfie"))!;
        Assert.Equal("loading", described.Status);
        Assert.Equal("warming-up", described.Loading!.Stage);

        factory.Gate.Open();
        HealthReport ready = await WaitForReadyAsync(client);
        Assert.All(ready.Models, static m => Assert.Equal("ready", m.Status));
        Assert.Null((await client.GetJsonAsync<ModelDescription>("/v1/models/selfie"))!.Loading);
        SegmentationResponse result = await client.SegmentAsync("selfie", Repository.PathOf("docs/examples/camera.png"));
        Assert.Equal("selfie", result.Model);
    }

    internal static async Task<HealthReport> ReadinessAsync(HttpClient client, HttpStatusCode expected)
    {
        using HttpResponseMessage response = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<HealthReport>(body, HttpHelpers.Json)!;
    }

    internal static async Task<HealthReport> WaitForReadyAsync(HttpClient client)
    {
        for (int attempt = 0; attempt < 600; attempt++)
        {
            using HttpResponseMessage response = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return JsonSerializer.Deserialize<HealthReport>(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), HttpHelpers.Json)!;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("The service did not become ready within a minute of the warm-up gate opening.");
    }
}

/// <summary>Which models readiness waits for is configurable.</summary>
public sealed class RequiredModelsTests(RequiredModelsFactory factory) : IClassFixture<RequiredModelsFactory>
{
    [Fact]
    public async Task OnlyTheRequiredModels_HoldReadiness()
    {
        using HttpClient client = factory.CreateClient();
        await factory.Gate.Reached.WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        // selfie (required) loads first and is ready; selfie-landscape (not required) is held in its warm-up.
        HealthReport ready = await ModelLoadingTests.WaitForReadyAsync(client);
        Assert.True(Assert.Single(ready.Models, static m => m.Name == "selfie").Required);
        ModelHealth landscape = Assert.Single(ready.Models, static m => m.Name == "selfie-landscape");
        Assert.Equal("loading", landscape.Status);
        Assert.False(landscape.Required);
        factory.Gate.Open();
    }
}
