using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>Two copies of <see cref="FaultyModel"/>: one batching up to 8 requests, one whose circuit opens after 2 runs at a failure ratio of 0.5.</summary>
public sealed class FaultyModelFactory : SegServeFactory
{
    public const string Batching = "faulty";
    public const string Fragile = "faulty-fragile";

    public FaultyModelFactory()
    {
        FaultyModel.Write(Directory.CreateDirectory(Path.Combine(ModelsDirectory, Batching)).FullName, maxBatchSize: 8, maxQueueDelayMs: 300);
        FaultyModel.Write(Directory.CreateDirectory(Path.Combine(ModelsDirectory, Fragile)).FullName, maxBatchSize: 1, maxQueueDelayMs: 0);
    }

    protected override void ConfigureSettings(IWebHostBuilder builder)
    {
        builder.UseSetting($"Inference:Resilience:Models:{Fragile}:MinimumThroughput", "2");
        builder.UseSetting($"Inference:Resilience:Models:{Fragile}:BreakDurationMs", "60000");
    }
}

/// <summary>
/// A real model that ONNX Runtime refuses to run on bright images: the image that fails is answered as a model fault
/// with ONNX Runtime's reason, the images batched with it are answered normally, and only a model that keeps failing is
/// suspended.
/// </summary>
public sealed class ModelFaultTests(FaultyModelFactory factory) : IClassFixture<FaultyModelFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task TheImageTheModelCannotRun_FailsAlone_AndTheImagesBatchedWithItAreAnswered()
    {
        // Seven dark images and one bright one, sent together into a queue that waits 300 ms to fill a batch of 8.
        var posts = new List<Task<HttpResponseMessage>>();
        for (int i = 0; i < 8; i++)
        {
            posts.Add(PostAsync(FaultyModelFactory.Batching, Solid(i == 3 ? (byte)200 : (byte)(40 + i))));
        }

        HttpResponseMessage[] responses = await Task.WhenAll(posts);
        try
        {
            for (int i = 0; i < responses.Length; i++)
            {
                if (i == 3)
                {
                    ProblemBody fault = await responses[i].ProblemAsync(500);
                    Assert.Equal("urn:segserve:problem:model-fault", fault.Type);
                    Assert.Contains("Gather", fault.Detail, StringComparison.Ordinal);
                    continue;
                }

                Assert.Equal(System.Net.HttpStatusCode.OK, responses[i].StatusCode);
                SegmentationResponse body = (await responses[i].Content.ReadFromJsonAsync<SegmentationResponse>(HttpHelpers.Json, TestContext.Current.CancellationToken))!;

                // Red (40 + i) over green 0: class "red" everywhere.
                ClassPresence only = Assert.Single(body.Classes);
                Assert.Equal("red", only.Name);
            }
        }
        finally
        {
            foreach (HttpResponseMessage response in responses)
            {
                response.Dispose();
            }
        }

        // One failed run of a single image does not suspend the model (5 failures are needed, at a ratio of 0.5).
        ModelDescription model = (await _client.GetJsonAsync<ModelDescription>($"/v1/models/{FaultyModelFactory.Batching}"))!;
        Assert.Equal("closed", model.Circuit!.State);
        Assert.Contains("out of data bounds", model.Circuit.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AModelThatKeepsFailing_IsSuspended_WithTheReason_WhileDarkImagesHadRun()
    {
        using (HttpResponseMessage dark = await PostAsync(FaultyModelFactory.Fragile, Solid(10)))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, dark.StatusCode);
        }

        using (HttpResponseMessage bright = await PostAsync(FaultyModelFactory.Fragile, Solid(255)))
        {
            Assert.Equal("urn:segserve:problem:model-fault", (await bright.ProblemAsync(500)).Type);
        }

        // 1 of 2 runs failed: the failure ratio of 0.5 at the minimum throughput of 2 opens the circuit. Even a dark image is refused now, at once, saying why and when to retry.
        using HttpResponseMessage refused = await PostAsync(FaultyModelFactory.Fragile, Solid(10));
        ProblemBody suspended = await refused.ProblemAsync(503);
        Assert.Equal("urn:segserve:problem:model-suspended", suspended.Type);
        Assert.Contains("out of data bounds", suspended.Detail, StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);

        ModelDescription model = (await _client.GetJsonAsync<ModelDescription>($"/v1/models/{FaultyModelFactory.Fragile}"))!;
        Assert.Equal("open", model.Circuit!.State);
    }

    private async Task<HttpResponseMessage> PostAsync(string model, byte[] png)
    {
        using var content = HttpHelpers.ImageForm(png, "solid.png");
        return await _client.PostAsync($"/v1/models/{model}/segment", content, TestContext.Current.CancellationToken);
    }

    /// <summary>A 32×32 PNG of one colour: red <paramref name="red"/>, no green or blue.</summary>
    private static byte[] Solid(byte red)
    {
        using var image = new Image<Rgb24>(FaultyModel.Size, FaultyModel.Size, new Rgb24(red, 0, 0));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
