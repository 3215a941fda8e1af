using SegServe.Api.FunctionalTests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

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
}
