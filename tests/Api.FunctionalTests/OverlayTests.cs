using SegServe.Api.FunctionalTests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Api.FunctionalTests;

public sealed class OverlayTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Overlay_TintsThePersonAndLeavesTheBackgroundAlone()
    {
        string path = SharedData.PathOf("data/photos/camera.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/sinet-portrait/overlay?alpha=0.5", path);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);

        using Image<Rgb24> overlay = Image.Load<Rgb24>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using Image<Rgb24> original = Image.Load<Rgb24>(path);
        Assert.Equal((original.Width, original.Height), (overlay.Width, overlay.Height));

        // Inside the person (#ff4d4d at alpha 0.5): red rises, green and blue fall, on a grey photo.
        Rgb24 person = overlay[128, 300];
        Rgb24 before = original[128, 300];
        Assert.True(person.R > person.G + 40, $"person pixel {person} (was {before}) is not tinted red");
        Assert.Equal(before.R + ((255 - before.R) * 128 >> 8), person.R);

        // Background is untinted: identical to the photo.
        Assert.Equal(original[500, 5], overlay[500, 5]);
    }

    [Fact]
    public async Task Overlay_AlphaZeroWithoutExtrasReturnsThePhotoUnchanged()
    {
        string path = SharedData.PathOf("data/photos/chelsea.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnetv2-voc/overlay?alpha=0", path);
        using Image<Rgb24> overlay = Image.Load<Rgb24>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using Image<Rgb24> original = Image.Load<Rgb24>(path);
        for (int y = 0; y < original.Height; y += 7)
        {
            for (int x = 0; x < original.Width; x += 7)
            {
                Assert.Equal(original[x, y], overlay[x, y]);
            }
        }
    }

    [Theory]
    [InlineData("?format=jpeg", null, "image/jpeg")]
    [InlineData("", "image/jpeg", "image/jpeg")]
    [InlineData("", "image/png", "image/png")]
    [InlineData("?format=png&outline=true&legend=true", "image/jpeg", "image/png")]
    public async Task Overlay_FormatFollowsParameterThenAccept(string query, string? accept, string expected)
    {
        string path = SharedData.PathOf("data/photos/rocket.jpg");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnetv2-voc/overlay" + query, path, accept);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
        using Image image = Image.Load(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal((640, 427), (image.Width, image.Height));
    }

    [Fact]
    public async Task Overlay_LegendAndOutlineDrawOnTheImage()
    {
        string path = SharedData.PathOf("data/photos/astronaut.png");
        using HttpResponseMessage plain = await _client.PostImageAsync("/v1/models/sinet-portrait/overlay", path);
        using HttpResponseMessage extras = await _client.PostImageAsync("/v1/models/sinet-portrait/overlay?legend=true&outline=true", path);
        using Image<Rgb24> a = Image.Load<Rgb24>(await plain.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using Image<Rgb24> b = Image.Load<Rgb24>(await extras.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));

        // The legend panel darkens the top-left corner; the outline adds white pixels.
        Assert.True(b[2, 2].R < a[2, 2].R || a[2, 2].R < 20);
        int white = 0;
        for (int y = 0; y < b.Height; y++)
        {
            for (int x = 0; x < b.Width; x++)
            {
                white += b[x, y] == new Rgb24(255, 255, 255) && a[x, y] != b[x, y] ? 1 : 0;
            }
        }

        Assert.True(white > 200, $"only {white} outline pixels");
    }

    [Fact]
    public async Task PortraitBlur_MultiClassModel_KeepsItsPersonClass()
    {
        // espnetv2-voc has 21 classes, 'person' among them: the default foreground. Pixels it is sure are person stay.
        string path = SharedData.PathOf("data/photos/astronaut.png");
        using HttpResponseMessage cutoutResponse = await _client.PostImageAsync("/v1/models/espnetv2-voc/overlay?effect=cutout", path);
        using HttpResponseMessage blurResponse = await _client.PostImageAsync("/v1/models/espnetv2-voc/overlay?effect=blur", path);
        Assert.True(blurResponse.IsSuccessStatusCode, await blurResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using Image<Rgba32> cutout = Image.Load<Rgba32>(await cutoutResponse.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using Image<Rgb24> blurred = Image.Load<Rgb24>(await blurResponse.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using Image<Rgb24> original = Image.Load<Rgb24>(path);
        int certain = 0;
        int changed = 0;
        for (int y = 0; y < original.Height; y += 2)
        {
            for (int x = 0; x < original.Width; x += 2)
            {
                if (cutout[x, y].A == 255)
                {
                    certain++;
                    Assert.Equal(original[x, y], blurred[x, y]);
                }
                else if (cutout[x, y].A == 0 && !original[x, y].Equals(blurred[x, y]))
                {
                    changed++;
                }
            }
        }

        Assert.True(certain > 500, $"only {certain} sampled pixels are surely person");
        Assert.True(changed > 2000, $"only {changed} sampled background pixels changed");
    }

    [Fact]
    public async Task PortraitEffect_ModelWithoutPerson_NeedsAForegroundClass()
    {
        string path = SharedData.PathOf("data/photos/rocket.jpg");
        using HttpResponseMessage missing = await _client.PostImageAsync("/v1/models/espnet-camvid/overlay?effect=replace", path);
        ProblemBody problem = await missing.ProblemAsync(400);
        Assert.Contains("foreground", problem.Detail, StringComparison.Ordinal);

        using HttpResponseMessage chosen = await _client.PostImageAsync("/v1/models/espnet-camvid/overlay?effect=replace&foreground=Sky&background=black", path);
        Assert.True(chosen.IsSuccessStatusCode, await chosen.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PortraitEffect_ClassIndexModel_UsesItsMaskAsAlpha()
    {
        // Class-index outputs (argmax inside the graph) have no probabilities: the 0/1 mask is upsampled bilinearly.
        // chelsea.png enlarged to 902×600, so the model's 770×512 output is upsampled on the way back (the case where
        // nearest reads one of the bilinear taps, which the checks below rely on).
        using Image<Rgb24> enlarged = Image.Load<Rgb24>(SharedData.PathOf("data/photos/chelsea.png"));
        enlarged.Mutate(c => c.Resize(enlarged.Width * 2, enlarged.Height * 2));
        string path = Path.Combine(Path.GetTempPath(), $"segserve-chelsea2x-{Guid.NewGuid():N}.png");
        await enlarged.SaveAsPngAsync(path, TestContext.Current.CancellationToken);
        using var cleanup = new TemporaryFile(path);
        SegServe.Contracts.SegmentationResponse segmentation = await _client.SegmentAsync("lraspp-argmax-mmdeploy", path);
        SegServe.Contracts.ClassPresence largest = segmentation.Classes.MaxBy(c => c.PixelCount)!;
        using HttpResponseMessage response = await _client.PostImageAsync($"/v1/models/lraspp-argmax-mmdeploy/overlay?effect=cutout&foreground={largest.Id}", path);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using Image<Rgba32> cutout = Image.Load<Rgba32>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        (int width, int height, int[] classes) = HttpHelpers.DecodeClassMap(Convert.FromBase64String(segmentation.ClassMap.Data));
        Assert.Equal((width, height), (cutout.Width, cutout.Height));

        // Alpha is mostly 0 or 255 (soft only along class edges). Nearest placement reads one of the two bilinear taps
        // on each axis, so alpha 255 (all taps the class) means the class map has the class, and alpha 0 that it has not
        // (bar taps of weight zero, where the two can differ).
        long hard = 0, contradictions = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte alpha = cutout[x, y].A;
                bool inClass = classes[(y * width) + x] == largest.Id;
                hard += alpha is 0 or 255 ? 1 : 0;
                contradictions += (alpha == 255 && !inClass) || (alpha == 0 && inClass) ? 1 : 0;
            }
        }

        long total = (long)width * height;
        Assert.True(hard > total / 2, $"only {hard} of {total} alpha values are hard 0/255");
        Assert.True(contradictions < total / 200, $"alpha contradicts the class map on {contradictions} of {total} pixels");
    }
}

/// <summary>Deletes a file when disposed.</summary>
internal sealed class TemporaryFile(string path) : IDisposable
{
    public void Dispose() => File.Delete(path);
}
