using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests;

/// <summary>
/// A zip of images (not predictions) added to a run with a model: the model predicts each image. Once broken — every
/// image was read as an empty prediction ("prediction is not a PNG file") — and found by the web page's test.
/// </summary>
public sealed class EvaluationArchiveImagesTests(DefaultModelsFactory factory) : IClassFixture<DefaultModelsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ZipOfImages_WithTheModelsOwnClassMapAsGroundTruth_ScoresPerfectly()
    {
        string photo = Repository.PathOf("docs/examples/camera.png");
        using HttpResponseMessage segmented = await _client.PostImageAsync("/v1/models/selfie/segment", photo, accept: "image/png");
        Assert.Equal(HttpStatusCode.OK, segmented.StatusCode);
        byte[] classMap = await segmented.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);

        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            archive.CreateEntryFromFile(photo, "images/camera.png");
            await using Stream truth = await archive.CreateEntry("groundTruth/camera.png").OpenAsync(TestContext.Current.CancellationToken);
            await truth.WriteAsync(classMap, TestContext.Current.CancellationToken);
        }

        using HttpResponseMessage created = await _client.PostAsJsonAsync("/v1/evaluations", new { task = "semantic", model = "selfie" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        EvaluationRunResponse run = (await created.Content.ReadFromJsonAsync<EvaluationRunResponse>(TestContext.Current.CancellationToken))!;
        using var form = new MultipartFormDataContent { { new ByteArrayContent(zip.ToArray()), "archive", "pairs.zip" } };
        using HttpResponseMessage added = await _client.PostAsync($"/v1/evaluations/{run.Id}/samples", form, TestContext.Current.CancellationToken);
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        EvaluationRunResponse scored = (await _client.GetJsonAsync<EvaluationRunResponse>($"/v1/evaluations/{run.Id}"))!;
        Assert.Equal(1, scored.SampleCount);
        Assert.Equal(1.0, scored.Scores!.PixelAccuracy);
        Assert.Equal(1.0, scored.Scores.MeanIou);
    }
}
