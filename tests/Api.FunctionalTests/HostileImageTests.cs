using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Inference.Imaging;
using SegServe.Tests.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.FunctionalTests;

/// <summary>
/// The uploads a hostile client crafted, through the real endpoint: each is a 4xx problem that names the limit and its
/// setting (or an ordinary answer), never a 500, minutes of decoding, or gigabytes.
/// </summary>
public sealed class HostileImageTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private const string Segment = "/v1/models/espnetv2-voc/segment";
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task GifFrameBomb_NotAcceptedByDefault_415NamingTheSetting()
    {
        ProblemBody problem = await PostAsync(CraftedImages.GifFrameBomb(), "bomb.gif", 415);

        Assert.Equal("urn:segserve:problem:unsupported-image-format", problem.Type);
        Assert.Equal("GIF is not accepted here; accepted: JPEG, PNG, WebP (Inference:Images:Formats).", problem.Detail);
    }

    [Fact]
    public async Task ThinPng_422ImageTooComplexNamingTheAspectLimit()
    {
        ProblemBody problem = await PostAsync(CraftedImages.BlackPng(1, 2_000_000), "thin.png", 422);

        Assert.Equal("urn:segserve:problem:image-too-complex", problem.Type);
        Assert.Contains("Inference:Images:MaxAspectRatio", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TallOverlayAskedAsJpeg_IsA4xx()
    {
        // JPEG cannot hold 65,535 rows; the aspect limit refuses the upload before the encoder would.
        using var content = HttpHelpers.ImageForm(CraftedImages.BlackPng(1, 65_535), "tall.png");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/espnetv2-voc/overlay?format=jpeg", content, TestContext.Current.CancellationToken);

        ProblemBody problem = await response.ProblemAsync(422);
        Assert.Contains("Inference:Images:MaxAspectRatio", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PngWithTextBomb_Segmented()
    {
        using var content = HttpHelpers.ImageForm(CraftedImages.PngWithTextBomb(), "text.png");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task JpegWithFlippedFrameMarker_400InvalidImage()
    {
        ProblemBody problem = await PostAsync(CraftedImages.JpegWithFlippedFrameMarker(Jpeg()), "flipped.jpg", 400);

        Assert.Equal("urn:segserve:problem:invalid-image", problem.Type);
    }

    [Fact]
    public async Task JpegWithSelfReferencingExif_SegmentedInDisplayOrientation()
    {
        using var content = HttpHelpers.ImageForm(CraftedImages.JpegWithSelfReferencingExif(Jpeg(), orientation: 6), "loop.jpg");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.True(response.IsSuccessStatusCode, body);
        SegmentationResponse result = JsonSerializer.Deserialize<SegmentationResponse>(body, HttpHelpers.Json)!;
        Assert.Equal((48, 64), (result.Width, result.Height));
    }

    [Fact]
    public async Task DecodeBudgetHeld_429OverloadedWithRetryAfter()
    {
        DecodeAdmission admission = factory.Services.GetRequiredService<ImageDecoder>().Admission;
        using (DecodeReservation all = await admission.ReserveAsync(admission.CapacityBytes, TestContext.Current.CancellationToken))
        {
            using var content = HttpHelpers.ImageForm(Jpeg(), "photo.jpg");
            using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);

            ProblemBody problem = await response.ProblemAsync(429);
            Assert.Equal("urn:segserve:problem:overloaded", problem.Type);
            Assert.Contains("Inference:Images:MaxDecodedBytesInFlight", problem.Detail, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        }

        // The budget is back: the same upload is served.
        using var again = HttpHelpers.ImageForm(Jpeg(), "photo.jpg");
        using HttpResponseMessage served = await _client.PostAsync(Segment, again, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(0, admission.BytesInFlight);
    }

    private async Task<ProblemBody> PostAsync(byte[] bytes, string fileName, int status)
    {
        using var content = HttpHelpers.ImageForm(bytes, fileName);
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);
        return await response.ProblemAsync(status);
    }

    private static byte[] Jpeg()
    {
        using var image = new Image<Rgb24>(64, 48, new Rgb24(90, 120, 150));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }
}

/// <summary>GIF, TIFF, BMP, TGA and PBM where a deployment opts in: the decoders stay covered, bounded as the defaults are.</summary>
public sealed class OptInFormatsTests(AllFormatsFactory factory) : IClassFixture<AllFormatsFactory>
{
    private const string Segment = "/v1/models/espnetv2-voc/segment";
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("no_time_for_that_tiny.gif")]
    [InlineData("chessboard_GRAY_U16.tif")]
    [InlineData("multipage_rgb.tif")]
    public async Task OddFiles_OfOptInFormats_Segmented(string file)
    {
        using HttpResponseMessage response = await _client.PostImageAsync(Segment, SharedData.PathOf($"data/odd/{file}"));

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("bmp")]
    [InlineData("tga")]
    [InlineData("pbm")]
    public async Task OtherOptInFormats_Segmented(string extension)
    {
        SharedData.Require();
        using var image = new Image<Rgb24>(40, 30, new Rgb24(10, 200, 30));
        using var stream = new MemoryStream();
        image.Save(stream, Configuration.Default.ImageFormatsManager.FindEncoder(Configuration.Default.ImageFormatsManager.FindFormatByFileExtension(extension)!)!);
        using var content = HttpHelpers.ImageForm(stream.ToArray(), $"small.{extension}");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task GifFrameBomb_OnlyTheFirstFrameIsDecoded()
    {
        using var content = HttpHelpers.ImageForm(CraftedImages.GifFrameBomb(), "bomb.gif");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.True(response.IsSuccessStatusCode, body);
        SegmentationResponse result = JsonSerializer.Deserialize<SegmentationResponse>(body, HttpHelpers.Json)!;
        Assert.Equal((1000, 1000), (result.Width, result.Height));
    }

    [Fact]
    public async Task PpmWithMaxValueZero_400InvalidImage()
    {
        SharedData.Require();
        using var content = HttpHelpers.ImageForm(CraftedImages.Ppm(2, 2, maxValue: 0), "zero.ppm");
        using HttpResponseMessage response = await _client.PostAsync(Segment, content, TestContext.Current.CancellationToken);

        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Equal("urn:segserve:problem:invalid-image", problem.Type);
    }
}

/// <summary>A format name the service does not read stops it at start, naming the name and the setting.</summary>
public sealed class FormatSettingTests
{
    [Fact]
    public void UnknownFormat_StopsTheServiceAtStart()
    {
        using var factory = new UnknownFormatFactory();

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Inference:Images:Formats lists 'HEIC', which is not a format the service reads", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BudgetSmallerThanOneLargestImage_StopsTheServiceAtStart()
    {
        using var factory = new SmallBudgetFactory();

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        // 40,000,000 pixels × (3 RGB24 + 8 JPEG/WebP working + 8 the request's planes + 3 turned) = 880,000,000 bytes.
        Assert.Contains("880000000 bytes", ex.Message, StringComparison.Ordinal);
    }

    private sealed class UnknownFormatFactory : SegServeFactory
    {
        protected override bool WaitForModels => false;

        protected override void ConfigureSettings(IWebHostBuilder builder)
        {
            builder.UseSetting("Inference:Images:Formats:0", "PNG");
            builder.UseSetting("Inference:Images:Formats:1", "HEIC");
        }
    }

    private sealed class SmallBudgetFactory : SegServeFactory
    {
        protected override bool WaitForModels => false;

        protected override void ConfigureSettings(IWebHostBuilder builder) =>
            builder.UseSetting("Inference:Images:MaxDecodedBytesInFlight", "879999999");
    }
}
