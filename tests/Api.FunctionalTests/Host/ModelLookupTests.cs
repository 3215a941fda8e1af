using System.Diagnostics.CodeAnalysis;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Inference.Models;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>The real repository behind a registry that counts lookups (and fails one name on purpose).</summary>
public sealed class CountingRegistry(ModelRepository repository) : IModelRegistry
{
    /// <summary>Looking this name up throws, as a bug deep in the service would.</summary>
    public const string ExplodingName = "explode";

    private int _lookups;

    public int Lookups => Volatile.Read(ref _lookups);

    public IReadOnlyCollection<SegmentationModel> Models => repository.Models;

    public void Reset() => Interlocked.Exchange(ref _lookups, 0);

    public bool TryGet(string name, [MaybeNullWhen(false)] out SegmentationModel model)
    {
        Interlocked.Increment(ref _lookups);
        return name == ExplodingName
            ? throw new InvalidOperationException($"Registry corrupt at {Path.Combine(AppContext.BaseDirectory, "models", name)}")
            : repository.TryGet(name, out model);
    }
}

public sealed class CountingRegistryFactory : DefaultModelsFactory
{
    /// <summary>The host's registry (resolved from the started host, so it exists before the first request).</summary>
    public CountingRegistry Registry => (CountingRegistry)Services.GetRequiredService<IModelRegistry>();

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.AddSingleton<IModelRegistry>(static sp => new CountingRegistry(sp.GetRequiredService<ModelRepository>()));
    }
}

/// <summary>A request looks its model up once, whatever it does with it.</summary>
public sealed class ModelLookupTests(CountingRegistryFactory factory) : IClassFixture<CountingRegistryFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v1/models/selfie/segment")]
    [InlineData("/v1/models/selfie/segment?include=confidence")]
    [InlineData("/v1/models/selfie/overlay")]
    [InlineData("/v1/models/selfie/overlay?effect=blur")]
    [InlineData("/v1/models/selfie/overlay?effect=cutout&foreground=person")]
    public async Task ASegmentOrOverlayRequest_LooksTheModelUpOnce(string url)
    {
        factory.Registry.Reset();
        using HttpResponseMessage response = await _client.PostImageAsync(url, Repository.PathOf("docs/examples/camera.png"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, factory.Registry.Lookups);
    }

    [Theory]
    [InlineData("/v1/models/selfie")]
    [InlineData("/v1/models/selfie/stats")]
    public async Task DescribingAModel_LooksItUpOnce(string url)
    {
        factory.Registry.Reset();
        using HttpResponseMessage response = await _client.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, factory.Registry.Lookups);
    }

    [Fact]
    public async Task AnEvaluationRunWithAModel_LooksItUpOncePerRequest()
    {
        factory.Registry.Reset();
        using HttpResponseMessage created = await _client.PostAsJsonAsync("/v1/evaluations", new { task = "semantic", model = "selfie" }, TestContext.Current.CancellationToken);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, factory.Registry.Lookups);
    }

    [Fact]
    public async Task AnUnexpectedFailure_Is500WithoutInternals()
    {
        using HttpResponseMessage response = await _client.GetAsync($"/v1/models/{CountingRegistry.ExplodingName}", TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(500);
        Assert.Equal("urn:segserve:problem:internal-error", problem.Type);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Null(LeakScan.Find(body));
        Assert.DoesNotContain("Registry corrupt", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperation", body, StringComparison.Ordinal);
        Assert.Contains("traceId", body, StringComparison.Ordinal);
    }
}
