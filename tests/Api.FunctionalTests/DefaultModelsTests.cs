using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests;

/// <summary>
/// The service exactly as the README's run command starts it: default configuration, the embedded models in
/// <c>models/</c>. Needs nothing from <c>shared/</c>: it runs on a fresh clone too.
/// </summary>
public sealed class DefaultModelsTests(DefaultModelsFactory factory) : IClassFixture<DefaultModelsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("selfie", "[batch,3,256,256]")]
    [InlineData("selfie-landscape", "[batch,3,144,256]")]
    public async Task EmbeddedModels_AreReadyWithTheirProvider(string name, string inputShape)
    {
        ModelDescription model = (await _client.GetJsonAsync<ModelDescription>($"/v1/models/{name}"))!;

        Assert.True(model.Status == "ready", $"{name}: {model.Status} {model.FailureReason}");
        Assert.True(model.ExecutionProvider is "CPU" or "CUDA", model.ExecutionProvider);
        Assert.Equal("sigmoid", model.Output!.Kind);
        Assert.Equal(inputShape, "[" + string.Join(',', model.Signature!.Inputs[0].Shape) + "]");
        Assert.Equal(["background", "person"], model.Classes.Select(c => c.Name));
        Assert.Equal("Apache-2.0", model.Source!["licence"]);
        Assert.NotEmpty(model.Limitations);
    }

    [Fact]
    public async Task Selfie_SegmentsAPortraitMadeOnTheSpot()
    {
        // A synthetic "portrait": a skin-toned ellipse (head) over a dark body shape on a pale wall. Whatever the
        // model makes of it, the response must be well-formed, at the upload's size and with both counts adding up.
        using var image = new Image<Rgb24>(320, 240, new Rgb24(225, 230, 235));
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    double head = Math.Pow((x - 160) / 40.0, 2) + Math.Pow((y - 80) / 50.0, 2);
                    if (head < 1)
                    {
                        row[x] = new Rgb24(224, 172, 140);
                    }
                    else if (y > 125 && Math.Abs(x - 160) < 90 - ((240 - y) / 3))
                    {
                        row[x] = new Rgb24(40, 45, 70);
                    }
                }
            }
        });
        using var stream = new MemoryStream();
        await image.SaveAsJpegAsync(stream, TestContext.Current.CancellationToken);
        using MultipartFormDataContent form = HttpHelpers.ImageForm(stream.ToArray(), "portrait.jpg");

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/selfie/segment?include=confidence", form, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body);
        SegmentationResponse result = System.Text.Json.JsonSerializer.Deserialize<SegmentationResponse>(body, HttpHelpers.Json)!;

        Assert.Equal((320, 240), (result.Width, result.Height));
        Assert.Equal(320L * 240, result.Classes.Sum(c => c.PixelCount));
        (int w, int h, int[] classes) = HttpHelpers.DecodeClassMap(Convert.FromBase64String(result.ClassMap.Data));
        Assert.Equal((320, 240), (w, h));
        Assert.All(classes, c => Assert.InRange(c, 0, 1));
        Assert.NotNull(result.Confidence);
    }

    [Fact]
    public async Task Selfie_FindsThePersonInTheAstronautPhoto()
    {
        SegmentationResponse response = await _client.SegmentAsync("selfie", SharedData.PathOf("data/photos/astronaut.png"));
        ClassPresence person = Assert.Single(response.Classes, c => c.Name == "person");
        Assert.InRange(person.Fraction, 0.35, 0.75);
        int[] classes = HttpHelpers.DecodeClassMap(Convert.FromBase64String(response.ClassMap.Data)).Classes;
        Assert.Equal(1, classes[(400 * 512) + 256]);
    }
}
