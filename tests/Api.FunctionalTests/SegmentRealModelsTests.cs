using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;

namespace SegServe.Api.FunctionalTests;

/// <summary>Real pretrained models on real photos and on a dataset with ground truth.</summary>
public sealed class SegmentRealModelsTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("astronaut.png", 256, 400)]
    [InlineData("camera.png", 128, 300)]
    public async Task PortraitModel_FindsThePersonInPortraits(string photo, int personX, int personY)
    {
        SegmentationResponse response = await _client.SegmentAsync("sinet-portrait", SharedData.PathOf($"data/photos/{photo}"), "?include=confidence");

        ClassPresence person = Assert.Single(response.Classes, c => c.Name == "person");
        Assert.InRange(person.Fraction, 0.15, 0.85);

        // A point well inside the person's body, and the top corners (sky, wall) as background.
        int[] classes = HttpHelpers.DecodeClassMap(Convert.FromBase64String(response.ClassMap.Data)).Classes;
        Assert.Equal(1, classes[(personY * response.Width) + personX]);
        Assert.Equal(0, classes[(5 * response.Width) + response.Width - 5]);
        Assert.Equal(8, response.Confidence!.BitDepth);
    }

    [Fact]
    public async Task VocModel_FindsThePersonInTheAstronautPhoto()
    {
        SegmentationResponse response = await _client.SegmentAsync("espnetv2-voc", SharedData.PathOf("data/photos/astronaut.png"));
        ClassPresence largestForeground = response.Classes.Where(c => c.Id != 0).MaxBy(c => c.PixelCount)!;
        Assert.Equal("person", largestForeground.Name);
    }

    [Theory]
    [InlineData("rocket.jpg")]
    [InlineData("coffee.png")]
    [InlineData("chelsea.png")]
    public async Task EveryPhoto_SegmentsAtItsOwnSize(string photo)
    {
        string path = SharedData.PathOf($"data/photos/{photo}");
        using var image = SixLabors.ImageSharp.Image.Load(path);
        SegmentationResponse response = await _client.SegmentAsync("espnetv2-voc", path);
        Assert.Equal((image.Width, image.Height), (response.Width, response.Height));
    }

    /// <summary>
    /// ESPNet on the 101 CamVid validation frames, through HTTP, scored against the annotations (void = 11 ignored,
    /// a predicted void counts as a miss). The frames are fed at native size, so the service must reproduce the
    /// reference pixel accuracy of shared/fixtures/real/README.md (0.9268) to within ±0.002.
    /// </summary>
    [Fact]
    public async Task CamVidModel_ReproducesReferencePixelAccuracy()
    {
        string images = SharedData.PathOf("data/camvid-val/images");
        string annotations = SharedData.PathOf("data/camvid-val/annotations");
        const int Void = 11;
        long correct = 0, counted = 0;
        string[] files = Directory.GetFiles(images, "*.png");
        Array.Sort(files, StringComparer.Ordinal);
        Assert.Equal(101, files.Length);

        foreach (string file in files)
        {
            using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnet-camvid/segment", file, accept: "image/png");
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            int[] predicted = HttpHelpers.DecodeClassMap(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Classes;
            int[] truth = HttpHelpers.DecodeClassMap(await File.ReadAllBytesAsync(Path.Combine(annotations, Path.GetFileName(file)), TestContext.Current.CancellationToken)).Classes;
            Assert.Equal(truth.Length, predicted.Length);
            for (int i = 0; i < truth.Length; i++)
            {
                if (truth[i] == Void)
                {
                    continue;
                }

                counted++;
                correct += predicted[i] == truth[i] ? 1 : 0;
            }
        }

        double pixelAccuracy = (double)correct / counted;
        Assert.InRange(pixelAccuracy, 0.9268 - 0.002, 0.9268 + 0.002);
    }
}
