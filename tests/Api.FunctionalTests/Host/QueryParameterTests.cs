using System.Net.Http.Json;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>
/// Unknown and misplaced query parameters: a misspelt parameter is a 400 that names it (instead of being ignored),
/// and a parameter of the other task is a 400 that says which task it belongs to. One shape for every bad parameter.
/// </summary>
public sealed class QueryParameterTests(DefaultModelsFactory factory) : IClassFixture<DefaultModelsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v1/models/selfie/segment?treshold=0.5", "treshold")]
    [InlineData("/v1/models/selfie/overlay?colour=red", "colour")]
    [InlineData("/v1/models/selfie/segment?threshold=0.5&Upsampel=nearest", "Upsampel")]
    public async Task UnknownParameters_Are400NamingThemAndWhatTheEndpointTakes(string url, string unknown)
    {
        using HttpResponseMessage response = await _client.PostImageAsync(url, PhotoPath());
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("urn:segserve:problem:invalid-parameter", problem.Type);
        Assert.Equal(unknown, problem.Parameter);
        Assert.Contains($"'{unknown}'", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("takes", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/models?verbose=1")]
    [InlineData("/v1/models/selfie?x=1")]
    [InlineData("/v1/models/selfie/stats?since=yesterday")]
    public async Task GetEndpoints_RefuseUnknownParametersToo(string url)
    {
        using HttpResponseMessage response = await _client.GetAsync(url, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("takes none", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ParameterNames_AreCaseInsensitive_AsQueryBindingIs()
    {
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/selfie/segment?Threshold=0.6&UPSAMPLE=nearest", PhotoPath());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("/v1/models/selfie/segment?scoreThreshold=0.3", "scoreThreshold")]
    [InlineData("/v1/models/selfie/segment?maxInstances=5", "maxInstances")]
    [InlineData("/v1/models/selfie/overlay?classes=person", "classes")]
    public async Task InstanceParameters_OnASemanticModel_Are400SayingWhoTakesThem(string url, string parameter)
    {
        using HttpResponseMessage response = await _client.PostImageAsync(url, PhotoPath());
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal(parameter, problem.Parameter);
        Assert.Contains("applies to instance models; 'selfie' is a semantic model", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/models/selfie/segment?threshold=2", "threshold", "2", "0–1")]
    [InlineData("/v1/models/selfie/segment?upsample=lanczos", "upsample", "lanczos", "'nearest', 'bilinear' or 'bicubic'")]
    [InlineData("/v1/models/selfie/overlay?outline=maybe", "outline", "maybe", "true or false")]
    [InlineData("/v1/models/selfie/overlay?effect=blur&radius=600", "radius", "600", "0.5–500")]
    public async Task BadValues_NameTheParameterTheValueAndWhatIsAllowed(string url, string parameter, string value, string allowed)
    {
        using HttpResponseMessage response = await _client.PostImageAsync(url, PhotoPath());
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("urn:segserve:problem:invalid-parameter", problem.Type);
        Assert.Equal(parameter, problem.Parameter);
        Assert.Equal(value, problem.Value);
        Assert.Contains(allowed, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvaluationRuns_RefuseUnknownParameters()
    {
        using HttpResponseMessage response = await _client.PostAsJsonAsync("/v1/evaluations?dryRun=true", new { task = "semantic", numClasses = 2 }, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("dryRun", problem.Parameter);
    }

    private static string PhotoPath() => Repository.PathOf("docs/examples/camera.png");
}

/// <summary>The same rules on instance models (format fixtures from shared/).</summary>
public sealed class InstanceQueryParameterTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v1/models/detectron2-small/segment?upsample=bicubic", "upsample")]
    [InlineData("/v1/models/detectron2-small/segment?threshold=0.5", "threshold")]
    [InlineData("/v1/models/detectron2-small/overlay?effect=blur", "effect")]
    [InlineData("/v1/models/detectron2-small/overlay?legend=true", "legend")]
    public async Task SemanticParameters_OnAnInstanceModel_Are400SayingWhoTakesThem(string url, string parameter)
    {
        using HttpResponseMessage response = await _client.PostImageAsync(url, SharedData.PathOf("fixtures/formats/images/chelsea.png"));
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal(parameter, problem.Parameter);
        Assert.Contains("applies to semantic models; 'detectron2-small' is an instance model", problem.Detail, StringComparison.Ordinal);
    }
}
