using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>The selfie model in a folder of its own that a test may change, and an admin key.</summary>
public class ReloadableModelsFactory : DefaultModelsFactory
{
    public const string AdminKey = "reload-admin-key";

    private readonly DirectoryInfo _models = Directory.CreateTempSubdirectory("segserve-reload-");

    public ReloadableModelsFactory()
    {
        string selfie = Directory.CreateDirectory(Path.Combine(_models.FullName, "selfie")).FullName;
        foreach (string file in Directory.GetFiles(Repository.PathOf("models/selfie")))
        {
            File.Copy(file, Path.Combine(selfie, Path.GetFileName(file)));
        }
    }

    public string ModelFile => Path.Combine(_models.FullName, "selfie", "model.onnx");

    public string ManifestFile => Path.Combine(_models.FullName, "selfie", "model.json");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Inference:ModelsDirectory", _models.FullName);
        builder.UseSetting("Authentication:ApiKeys:0:Name", "operator");
        builder.UseSetting("Authentication:ApiKeys:0:Sha256", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))));
        builder.UseSetting("Authentication:ApiKeys:0:Roles:0", "admin");
        builder.UseSetting("RateLimiting:Enabled", "false");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _models.Delete(recursive: true);
    }
}

/// <summary>Reloading a model swaps versions without dropping a request, and a broken new file leaves the old one serving.</summary>
public sealed class ModelReloadTests(ReloadableModelsFactory factory) : IClassFixture<ReloadableModelsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AReloadUnderTraffic_DropsNoRequest_AndABrokenFileKeepsTheOldVersion()
    {
        // Traffic on eight connections while the model is reloaded three times.
        using var stop = new CancellationTokenSource();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        Task[] traffic = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/selfie/segment", Repository.PathOf("docs/examples/camera.png"));
                statuses.Add(response.StatusCode);
            }
        }))];
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage reload = await ReloadAsync();
            Assert.True(reload.StatusCode == HttpStatusCode.OK, await reload.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        await stop.CancelAsync();
        await Task.WhenAll(traffic);
        Assert.NotEmpty(statuses);
        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.OK, s));

        // A broken file: refused with the reason; the version loaded before still serves.
        byte[] good = await File.ReadAllBytesAsync(factory.ModelFile, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(factory.ModelFile, "not an ONNX file", TestContext.Current.CancellationToken);
        try
        {
            using HttpResponseMessage refused = await ReloadAsync();
            ProblemBody problem = await refused.ProblemAsync(422);
            Assert.Equal("urn:segserve:problem:reload-failed", problem.Type);
            Assert.Contains("model.onnx", problem.Detail, StringComparison.Ordinal);
            Assert.Contains("keeps serving", problem.Detail, StringComparison.Ordinal);

            using HttpResponseMessage still = await _client.PostImageAsync("/v1/models/selfie/segment", Repository.PathOf("docs/examples/camera.png"));
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }
        finally
        {
            await File.WriteAllBytesAsync(factory.ModelFile, good, TestContext.Current.CancellationToken);
        }

        using HttpResponseMessage unknown = await ReloadAsync("nope");
        await unknown.ProblemAsync(404);
    }

    private async Task<HttpResponseMessage> ReloadAsync(string model = "selfie")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/models/{model}/reload");
        request.Headers.Add("X-Api-Key", ReloadableModelsFactory.AdminKey);
        return await _client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}

/// <summary>The same folder, watched: a change on disk reloads the model.</summary>
public sealed class WatchedModelsFactory : ReloadableModelsFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Inference:WatchModels", "true");
    }
}

public sealed class ModelWatchTests(WatchedModelsFactory factory) : IClassFixture<WatchedModelsFactory>
{
    [Fact]
    public async Task AChangedManifest_IsServedWithoutARestart()
    {
        using HttpClient client = factory.CreateClient();
        string manifest = await File.ReadAllTextAsync(factory.ManifestFile, TestContext.Current.CancellationToken);
        const string Marker = "Reloaded from disk by the watcher.";
        var json = System.Text.Json.Nodes.JsonNode.Parse(manifest)!;
        json["description"] = Marker;
        await File.WriteAllTextAsync(factory.ManifestFile, json.ToJsonString(), TestContext.Current.CancellationToken);

        string? description = null;
        for (int i = 0; i < 120 && description != Marker; i++)
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            description = (await client.GetJsonAsync<SegServe.Contracts.ModelDescription>("/v1/models/selfie"))!.Description;
        }

        Assert.Equal(Marker, description);
        using HttpResponseMessage segment = await client.PostImageAsync("/v1/models/selfie/segment", Repository.PathOf("docs/examples/camera.png"));
        Assert.Equal(HttpStatusCode.OK, segment.StatusCode);
    }
}
