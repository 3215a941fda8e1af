using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Api.FunctionalTests;

/// <summary>
/// Portrait mode with the embedded selfie model, exactly as the README's run command serves it, on real photos.
/// </summary>
public sealed class PortraitModeTests(DefaultModelsFactory factory) : IClassFixture<DefaultModelsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("astronaut.png")]
    [InlineData("camera.png")]
    public async Task Blur_LeavesThePersonUnchangedAndChangesTheBackground(string photo)
    {
        string path = SharedData.PathOf("data/photos/" + photo);
        using Image<Rgba32> cutout = await PostAsync<Rgba32>("/v1/models/selfie/overlay?effect=cutout", path);
        using Image<Rgb24> blurred = await PostAsync<Rgb24>("/v1/models/selfie/overlay?effect=blur&radius=6", path);
        using Image<Rgb24> original = Image.Load<Rgb24>(path);
        Assert.Equal((original.Width, original.Height), (blurred.Width, blurred.Height));

        long inside = 0, background = 0, backgroundChanged = 0;
        for (int y = 0; y < original.Height; y++)
        {
            for (int x = 0; x < original.Width; x++)
            {
                byte alpha = cutout[x, y].A;
                if (alpha == 255)
                {
                    inside++;
                    Assert.Equal(original[x, y], blurred[x, y]);
                }
                else if (alpha == 0)
                {
                    background++;
                    if (!original[x, y].Equals(blurred[x, y]))
                    {
                        backgroundChanged++;
                    }
                }
            }
        }

        long total = (long)original.Width * original.Height;
        Assert.True(inside > total / 20, $"only {inside} of {total} pixels are surely person: the photo does not exercise the test");
        Assert.True(background > total / 20, $"only {background} of {total} pixels are surely background");
        Assert.True(backgroundChanged > background * 0.6, $"only {backgroundChanged} of {background} background pixels changed");
    }

    [Theory]
    [InlineData("astronaut.png")]
    [InlineData("camera.png")]
    public async Task Cutout_AlphaIsTheUpsampledPersonProbability(string photo)
    {
        string path = SharedData.PathOf("data/photos/" + photo);
        using Image<Rgba32> cutout = await PostAsync<Rgba32>("/v1/models/selfie/overlay?effect=cutout", path);
        SegmentationResponse segmentation = await _client.SegmentAsync("selfie", path, "?include=confidence");
        (int width, int height, int[] classes) = HttpHelpers.DecodeClassMap(Convert.FromBase64String(segmentation.ClassMap.Data));
        using Image<L8> confidence = Image.Load<L8>(Convert.FromBase64String(segmentation.Confidence!.Data));
        using Image<Rgb24> original = Image.Load<Rgb24>(path);
        Assert.Equal((width, height), (cutout.Width, cutout.Height));

        // The segment endpoint reports the probability of the chosen class; the person probability follows from it.
        int worst = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int probability = classes[(y * width) + x] == 1 ? confidence[x, y].PackedValue : 255 - confidence[x, y].PackedValue;
                Rgba32 pixel = cutout[x, y];
                worst = Math.Max(worst, Math.Abs(pixel.A - probability));
                Assert.Equal(original[x, y], pixel.Rgb);
            }
        }

        Assert.True(worst <= 1, $"cutout alpha differs from the probability map by up to {worst}/255");
    }

    [Fact]
    public async Task Replace_PutsThePersonOnTheColour()
    {
        string path = SharedData.PathOf("data/photos/astronaut.png");
        using Image<Rgba32> cutout = await PostAsync<Rgba32>("/v1/models/selfie/overlay?effect=cutout", path);
        using Image<Rgb24> replaced = await PostAsync<Rgb24>("/v1/models/selfie/overlay?effect=replace&background=%2300ff00", path);
        using Image<Rgb24> original = Image.Load<Rgb24>(path);
        var green = new Rgb24(0, 255, 0);
        for (int y = 0; y < original.Height; y += 3)
        {
            for (int x = 0; x < original.Width; x += 3)
            {
                byte alpha = cutout[x, y].A;
                Rgb24 expected = alpha == 255 ? original[x, y] : alpha == 0 ? green : replaced[x, y];
                Assert.Equal(expected, replaced[x, y]);
            }
        }
    }

    [Fact]
    public async Task Blur_FollowsExifOrientationAndKeepsTheOrientedSize()
    {
        // camera.png (512×512) cropped to 512×300 and saved as a JPEG whose EXIF says "rotate 90° clockwise".
        string path = SharedData.PathOf("data/photos/camera.png");
        using Image<Rgb24> source = Image.Load<Rgb24>(path);
        source.Mutate(c => c.Crop(new Rectangle(0, 0, 512, 300)));
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var jpeg = new MemoryStream();
        source.Save(jpeg, new JpegEncoder { Quality = 95 });
        string file = Path.Combine(Path.GetTempPath(), $"segserve-oriented-{Guid.NewGuid():N}.jpg");
        await File.WriteAllBytesAsync(file, jpeg.ToArray(), TestContext.Current.CancellationToken);
        try
        {
            using Image<Rgb24> blurred = await PostAsync<Rgb24>("/v1/models/selfie/overlay?effect=blur&format=png", file);
            using Image<Rgba32> cutout = await PostAsync<Rgba32>("/v1/models/selfie/overlay?effect=cutout", file);
            Assert.Equal((300, 512), (blurred.Width, blurred.Height));

            // The upright photo, as the service decodes it: wherever the person is certain, the output is that photo.
            using Image<Rgb24> upright = Image.Load<Rgb24>(file);
            upright.Mutate(c => c.AutoOrient());
            Assert.Equal((300, 512), (upright.Width, upright.Height));
            int certain = 0;
            for (int y = 0; y < upright.Height; y++)
            {
                for (int x = 0; x < upright.Width; x++)
                {
                    if (cutout[x, y].A == 255)
                    {
                        certain++;
                        Assert.Equal(upright[x, y], blurred[x, y]);
                    }
                }
            }

            Assert.True(certain > 1000, $"only {certain} pixels are surely person");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Blur_AsJpeg()
    {
        string path = SharedData.PathOf("data/photos/camera.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/selfie/overlay?effect=blur", path, "image/jpeg");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("postprocess;dur=", response.Headers.GetValues("Server-Timing").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?effect=sparkle", "effect")]
    [InlineData("?effect=blur&radius=0", "radius")]
    [InlineData("?effect=blur&radius=abc", "radius")]
    [InlineData("?effect=blur&radius=501", "radius")]
    [InlineData("?effect=replace&radius=5", "radius")]
    [InlineData("?effect=replace&background=notacolour", "background")]
    [InlineData("?effect=blur&background=red", "background")]
    [InlineData("?effect=blur&alpha=0.5", "alpha")]
    [InlineData("?effect=cutout&legend=true", "legend")]
    [InlineData("?effect=cutout&format=jpeg", "format")]
    [InlineData("?effect=blur&foreground=cat", "foreground")]
    [InlineData("?effect=blur&foreground=2", "foreground")]
    [InlineData("?foreground=person", "foreground")]
    public async Task BadPortraitParameters_Are400NamingTheParameter(string query, string parameter)
    {
        using var content = HttpHelpers.ImageForm(MakeJpeg(), "small.jpg");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/selfie/overlay" + query, content, TestContext.Current.CancellationToken);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains(parameter, problem.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Cutout_WhenOnlyJpegIsAcceptable_Is406()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/selfie/overlay?effect=cutout") { Content = HttpHelpers.ImageForm(MakeJpeg(), "small.jpg") };
        request.Headers.Accept.ParseAdd("image/jpeg");
        using HttpResponseMessage response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        await response.ProblemAsync(406);
    }

    [Theory]
    [InlineData("?effect=cutout&foreground=person")]
    [InlineData("?effect=cutout&foreground=1")]
    [InlineData("?effect=cutout&foreground=PERSON")]
    public async Task Foreground_ByNameOrId(string query)
    {
        using var content = HttpHelpers.ImageForm(MakeJpeg(), "small.jpg");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/selfie/overlay" + query, content, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Foreground_Background_InvertsTheCutout()
    {
        using var person = await PostBytesAsync<Rgba32>("/v1/models/selfie/overlay?effect=cutout", MakeJpeg());
        using var background = await PostBytesAsync<Rgba32>("/v1/models/selfie/overlay?effect=cutout&foreground=background", MakeJpeg());
        for (int y = 0; y < person.Height; y++)
        {
            for (int x = 0; x < person.Width; x++)
            {
                Assert.InRange(person[x, y].A + background[x, y].A, 254, 256);
            }
        }
    }

    private async Task<Image<TPixel>> PostAsync<TPixel>(string url, string path)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using HttpResponseMessage response = await _client.PostImageAsync(url, path);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return Image.Load<TPixel>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    private async Task<Image<TPixel>> PostBytesAsync<TPixel>(string url, byte[] bytes)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var content = HttpHelpers.ImageForm(bytes, "small.jpg");
        using HttpResponseMessage response = await _client.PostAsync(url, content, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return Image.Load<TPixel>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>A small synthetic photo (needs nothing from shared/): a skin-toned disc on a pale wall.</summary>
    private static byte[] MakeJpeg()
    {
        using var image = new Image<Rgb24>(96, 64, new Rgb24(220, 225, 230));
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    if (((x - 48) * (x - 48)) + ((y - 28) * (y - 28)) < 400)
                    {
                        row[x] = new Rgb24(224, 172, 140);
                    }
                }
            }
        });
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }
}
