using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Api.FunctionalTests;

/// <summary>
/// The embedded selfie model with a batch window of 20 ms (its manifest has none: on a CPU it batches only what piles up
/// while both instances run, which depends on timing the tests do not control), so that concurrent requests share runs.
/// </summary>
public sealed class BatchWindowFactory : DefaultModelsFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Inference:Queue:Models:selfie:MaxQueueDelayMs", "20");
    }
}

/// <summary>The embedded selfie model behind its dynamic batcher (max batch 8, a 20 ms window, 2 instances), under concurrency.</summary>
public sealed class BatchingTests(BatchWindowFactory factory) : IClassFixture<BatchWindowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    /// <summary>64 different 512×512 JPEGs: crops of the shared photos at different offsets and scales.</summary>
    private static List<byte[]> SixtyFourPhotos()
    {
        string[] photos = Directory.GetFiles(SharedData.PathOf("data/photos"));
        Array.Sort(photos, StringComparer.Ordinal);
        var uploads = new List<byte[]>();
        var encoder = new JpegEncoder { Quality = 90 };
        for (int i = 0; uploads.Count < 64; i++)
        {
            using Image<Rgb24> image = Image.Load<Rgb24>(photos[i % photos.Length]);
            int variant = i / photos.Length;
            int size = Math.Max(64, Math.Min(image.Width, image.Height) - (variant * 17));
            int x = (variant * 13) % Math.Max(1, image.Width - size + 1);
            int y = (variant * 7) % Math.Max(1, image.Height - size + 1);
            image.Mutate(c => c.Crop(new Rectangle(x, y, size, size)).Resize(512, 512));
            using var stream = new MemoryStream();
            image.Save(stream, encoder);
            uploads.Add(stream.ToArray());
        }

        return uploads;
    }

    private async Task<SegmentationResponse> SegmentAsync(byte[] jpeg)
    {
        using MultipartFormDataContent content = HttpHelpers.ImageForm(jpeg, "photo.jpg");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/selfie/segment?include=confidence", content, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<SegmentationResponse>(body, HttpHelpers.Json)!;
    }

    [Fact]
    public async Task SixtyFourConcurrentRequests_EachGetsItsOwnSingleRequestResult()
    {
        List<byte[]> uploads = SixtyFourPhotos();

        // Alone, one after another: every request runs in a batch of its own.
        var alone = new SegmentationResponse[uploads.Count];
        for (int i = 0; i < uploads.Count; i++)
        {
            alone[i] = await SegmentAsync(uploads[i]);
            Assert.Equal(1, alone[i].BatchSize);
        }

        // All at once: requests share model runs; each answer must still be its own image's.
        SegmentationResponse[] together = await Task.WhenAll(uploads.Select(SegmentAsync));

        for (int i = 0; i < uploads.Count; i++)
        {
            Assert.True(alone[i].ClassMap.Data == together[i].ClassMap.Data, $"request {i}: the class map differs from the single-request result");
            Assert.True(alone[i].Confidence!.Data == together[i].Confidence!.Data, $"request {i}: the confidence map differs from the single-request result");
            Assert.Equal(alone[i].Classes, together[i].Classes);
        }

        int largest = together.Max(r => r.BatchSize);
        Assert.True(largest > 1, "64 concurrent requests never shared a model run: batching did not happen");
        Assert.True(largest <= 8, $"a batch of {largest} exceeds the manifest's maxBatchSize 8");

        QueueStatisticsResponse stats = (await _client.GetJsonAsync<QueueStatisticsResponse>("/v1/models/selfie/stats"))!;
        Assert.True(stats.Outcomes["ok"] >= 128, $"ok = {stats.Outcomes["ok"]}");
        Assert.True(stats.BatchSizes.Keys.Any(k => k != "1"), "the batch-size distribution shows no batch larger than 1");
        Assert.Equal(0, stats.Depth);
    }

    [Fact]
    public async Task Deadline_AlreadyPassed_Is503NamingIt()
    {
        using MultipartFormDataContent content = HttpHelpers.ImageForm(SixtyFourPhotos()[0], "photo.jpg");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/selfie/segment") { Content = content };
        request.Headers.Add("Request-Timeout-Ms", "0.000001");
        using HttpResponseMessage response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(503);
        Assert.Equal("urn:segserve:problem:deadline-exceeded", problem.Type);
        Assert.Contains("deadline", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("0")]
    public async Task Deadline_BadHeader_Is400(string value)
    {
        using MultipartFormDataContent content = HttpHelpers.ImageForm(SixtyFourPhotos()[0], "photo.jpg");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/selfie/segment") { Content = content };
        request.Headers.TryAddWithoutValidation("Request-Timeout-Ms", value);
        using HttpResponseMessage response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("Request-Timeout-Ms", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_UnknownModel_Is404()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v1/models/nope/stats", TestContext.Current.CancellationToken);
        await response.ProblemAsync(404);
    }
}

/// <summary>Admission control and configured batching overrides.</summary>
public sealed class AdmissionTests(TinyQueueFactory factory) : IClassFixture<TinyQueueFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task FullQueue_Rejects429WithRetryAfter_AndAnswersEveryoneElse()
    {
        SharedData.Require();

        // Tiny uploads decode in no time, and the VOC model takes tens of milliseconds a run: with one run at a time
        // and one waiting place, most of 32 simultaneous requests find the queue full.
        byte[] tiny = TinyJpeg();
        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            using MultipartFormDataContent content = HttpHelpers.ImageForm(tiny, "tiny.jpg");
            return await _client.PostAsync("/v1/models/espnetv2-voc/segment", content, TestContext.Current.CancellationToken);
        }));

        int rejected = 0;
        foreach (HttpResponseMessage response in responses)
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    rejected++;
                    ProblemBody problem = await response.ProblemAsync(429);
                    Assert.Equal("urn:segserve:problem:queue-full", problem.Type);
                    Assert.Contains("full", problem.Detail, StringComparison.Ordinal);
                    Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {response.Headers.RetryAfter}");
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            }
        }

        Assert.True(rejected > 0, "no request was rejected by a queue of capacity 1");
        Assert.True(rejected < 32, "every request was rejected");
        QueueStatisticsResponse stats = (await _client.GetJsonAsync<QueueStatisticsResponse>("/v1/models/espnetv2-voc/stats"))!;
        Assert.Equal(rejected, stats.Outcomes["rejected"]);
        Assert.Equal(32 - rejected, stats.Outcomes["ok"]);
    }

    [Fact]
    public async Task Overrides_AreReportedAndInvalidOnesFailTheModel()
    {
        SharedData.Require();
        ModelDescription voc = (await _client.GetJsonAsync<ModelDescription>("/v1/models/espnetv2-voc"))!;
        Assert.Equal(new BatchingDescription(1, 0, 1, 1), voc.Batching);

        ModelDescription sinet = (await _client.GetJsonAsync<ModelDescription>("/v1/models/sinet-portrait"))!;
        Assert.Equal("failed", sinet.Status);
        Assert.Contains("maxBatchSize", sinet.FailureReason, StringComparison.Ordinal);
    }

    private static byte[] TinyJpeg()
    {
        using var image = new Image<Rgb24>(16, 16, new Rgb24(120, 90, 60));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }
}
