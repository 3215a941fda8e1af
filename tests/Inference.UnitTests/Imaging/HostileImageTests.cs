using Microsoft.Extensions.Time.Testing;
using SegServe.Inference.Imaging;
using SegServe.Tests.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Imaging;

/// <summary>The defects a hostile client found in the decode path, each kept as a regression test.</summary>
public sealed class HostileImageTests
{
    private static readonly string[] s_everyFormat = ["JPEG", "PNG", "WebP", "GIF", "TIFF", "BMP", "TGA", "PBM"];

    [Fact]
    public async Task GifFrameBomb_DecodesOnlyTheFirstFrame_AndReservesOneFrame()
    {
        // 1000×1000 screen, 200 frames of 1×1: every frame used to be decoded at the screen's size (+600 MB).
        var decoder = new ImageDecoder(new ImageLimits { Formats = s_everyFormat });

        using (DecodedImage image = await decoder.DecodeAsync(CraftedImages.GifFrameBomb(), TestContext.Current.CancellationToken))
        {
            Assert.Equal(1, image.Image.Frames.Count);
            Assert.Equal((1000, 1000), (image.Width, image.Height));

            // RGB24 result (3) + the frame's palette indices (1) + the request's planes (8), per pixel of the screen.
            Assert.Equal(1000L * 1000 * (4 + 8), decoder.Admission.BytesInFlight);
        }

        Assert.Equal(0, decoder.Admission.BytesInFlight);
    }

    [Fact]
    public async Task Gif_NotAcceptedByDefault_NamesTheAcceptedFormatsAndTheSetting()
    {
        var decoder = new ImageDecoder(new ImageLimits());

        ImageRejectedException ex = await RejectedAsync(decoder, CraftedImages.GifFrameBomb());

        Assert.Equal(ImageRejection.FormatNotAccepted, ex.Reason);
        Assert.Equal("GIF is not accepted here; accepted: JPEG, PNG, WebP (Inference:Images:Formats).", ex.Message);
    }

    [Theory]
    [InlineData(1, 2_000_000)]
    [InlineData(1, 20_000_000)]
    [InlineData(2_000_000, 1)]
    public async Task ThinImage_RejectedFromTheHeaderAsTooComplex(int width, int height)
    {
        var decoder = new ImageDecoder(new ImageLimits());

        ImageRejectedException ex = await RejectedAsync(decoder, CraftedImages.BlackPng(width, height));

        Assert.Equal(ImageRejection.TooComplex, ex.Reason);
        Assert.Contains("Inference:Images:MaxAspectRatio", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, decoder.Admission.BytesInFlight);
    }

    [Theory]
    [InlineData(64, 1, true)]
    [InlineData(65, 1, false)]
    [InlineData(3, 192, true)]
    [InlineData(3, 193, false)]
    public async Task AspectRatio_LimitIsInclusive(int width, int height, bool accepted)
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxAspectRatio = 64 });
        byte[] png = CraftedImages.BlackPng(width, height);

        if (accepted)
        {
            using DecodedImage image = await decoder.DecodeAsync(png, TestContext.Current.CancellationToken);
            Assert.Equal((width, height), (image.Width, image.Height));
        }
        else
        {
            Assert.Equal(ImageRejection.TooComplex, (await RejectedAsync(decoder, png)).Reason);
        }
    }

    [Fact]
    public async Task PngWithTextBomb_DecodesWithoutInflatingTheText()
    {
        // A 199 KB zTXt chunk of 200 MB took 22 s and 1.5 GB: ImageSharp inflated it, into a List<byte>, twice
        // (identify and decode). With metadata ignored, the chunk is skipped: the decode allocates about the file.
        byte[] png = CraftedImages.PngWithTextBomb();
        var decoder = new ImageDecoder(new ImageLimits());

        long before = GC.GetAllocatedBytesForCurrentThread();
        using DecodedImage image = await decoder.DecodeAsync(png, TestContext.Current.CancellationToken);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal((1, 1), (image.Width, image.Height));
        Assert.True(allocated < 20_000_000, $"decoding allocated {allocated} bytes");
    }

    [Fact]
    public async Task JpegWithFlippedFrameMarker_IsCorruptNotACrash()
    {
        // ImageSharp 2.1 throws NullReferenceException here; it used to escape as a 500.
        ImageRejectedException ex = await RejectedAsync(new ImageDecoder(new ImageLimits()), CraftedImages.JpegWithFlippedFrameMarker(Jpeg(64, 48)));

        Assert.Equal(ImageRejection.Corrupt, ex.Reason);
    }

    [Fact]
    public async Task PpmWithMaxValueZero_IsCorruptNotACrash()
    {
        // ImageSharp 2.1 divides by the maximum value (DivideByZeroException).
        ImageRejectedException ex = await RejectedAsync(new ImageDecoder(new ImageLimits { Formats = ["PBM"] }), CraftedImages.Ppm(2, 2, maxValue: 0));

        Assert.Equal(ImageRejection.Corrupt, ex.Reason);
    }

    [Fact]
    public async Task Ppm_NotAcceptedByDefault()
    {
        ImageRejectedException ex = await RejectedAsync(new ImageDecoder(new ImageLimits()), CraftedImages.Ppm(2, 2, maxValue: 255));

        Assert.Equal(ImageRejection.FormatNotAccepted, ex.Reason);
        Assert.StartsWith("PBM is not accepted here", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JpegWithSelfReferencingExif_IsStillOriented()
    {
        // The directory points at itself (sub-directory and next-directory offsets): ImageSharp's reader failed inside
        // AutoOrient (a 500). The orientation (6: turn clockwise) is read from the first directory alone.
        byte[] jpeg = CraftedImages.JpegWithSelfReferencingExif(Jpeg(64, 48), orientation: 6);

        using DecodedImage image = await new ImageDecoder(new ImageLimits()).DecodeAsync(jpeg, TestContext.Current.CancellationToken);

        Assert.Equal((48, 64), (image.Width, image.Height));
    }

    [Fact]
    public async Task DecodeTimeBudget_Expired_RejectedAsTooComplexNamingTheBudget()
    {
        // Every reading of the clock moves it 6 s on: the first read of the bytes finds the 5 s budget spent.
        var clock = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(6) };
        var decoder = new ImageDecoder(new ImageLimits { MaxDecodeMilliseconds = 5_000 }, clock);

        ImageRejectedException ex = await RejectedAsync(decoder, CraftedImages.BlackPng(8, 8));

        Assert.Equal(ImageRejection.TooComplex, ex.Reason);
        Assert.Equal("Decoding the PNG image took longer than its budget of 5000 ms (Inference:Images:MaxDecodeMilliseconds).", ex.Message);
        Assert.Equal(0, decoder.Admission.BytesInFlight);
    }

    [Fact]
    public async Task DecodeTimeBudget_NotSpent_Decodes()
    {
        // The same clock, moving 4 s a reading, stays within a budget of 10 minutes.
        var clock = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(4) };
        var decoder = new ImageDecoder(new ImageLimits { MaxDecodeMilliseconds = 600_000 }, clock);

        using DecodedImage image = await decoder.DecodeAsync(CraftedImages.BlackPng(8, 8), TestContext.Current.CancellationToken);

        Assert.Equal((8, 8), (image.Width, image.Height));
    }

    [Fact]
    public async Task Reservation_IsTheHeaderSizeTimesTheFormatsWorstCase_HeldUntilDisposed()
    {
        var decoder = new ImageDecoder(new ImageLimits());
        byte[] jpeg = Jpeg(64, 48);

        DecodedImage image = await decoder.DecodeAsync(jpeg, TestContext.Current.CancellationToken);
        Assert.Equal(64L * 48 * (3 + 8 + 8), decoder.Admission.BytesInFlight); // RGB24 + progressive coefficients of 4 components + the request's planes
        DecodedImage turned = await decoder.DecodeAsync(CraftedImages.JpegWithOrientation(jpeg, 8), TestContext.Current.CancellationToken);
        Assert.Equal(64L * 48 * ((3 + 8 + 8) + (3 + 8 + 8 + 3)), decoder.Admission.BytesInFlight); // turning by 90° copies the image
        Assert.Equal((48, 64), (turned.Width, turned.Height));

        image.Dispose();
        turned.Dispose();
        Assert.Equal(0, decoder.Admission.BytesInFlight);
    }

    [Fact]
    public async Task ImageLargerThanTheWholeBudget_IsTooComplexNot429()
    {
        // 64×48 PNG: 3 bytes a pixel of RGB24 + 8 of the request's planes = 33792 bytes; the budget holds 33791.
        var decoder = new ImageDecoder(new ImageLimits { MaxDecodedBytesInFlight = 33791 });

        ImageRejectedException ex = await RejectedAsync(decoder, Png(64, 48));

        Assert.Equal(ImageRejection.TooComplex, ex.Reason);
        Assert.Contains("33792 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Inference:Images:MaxDecodedBytesInFlight (33791 bytes)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BudgetHeldByOthers_Refused429WithRetryAfter()
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxDecodedBytesInFlight = 34_000, AdmissionWaitMilliseconds = 0 });
        using DecodeReservation other = await decoder.Admission.ReserveAsync(1_000, TestContext.Current.CancellationToken);

        DecodeOverloadedException ex = await Assert.ThrowsAsync<DecodeOverloadedException>(
            async () => (await decoder.DecodeAsync(Png(64, 48), TestContext.Current.CancellationToken)).Dispose());

        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
        Assert.Contains("this image needs 33792", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1_000, decoder.Admission.BytesInFlight);
    }

    [Fact]
    public void UnknownFormatName_IsRefusedNamingIt()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new ImageDecoder(new ImageLimits { Formats = ["PNG", "HEIC"] }));

        Assert.StartsWith("Inference:Images:Formats lists 'HEIC', which is not a format the service reads; it reads JPEG, PNG, WebP, GIF, TIFF, BMP, TGA, PBM.", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ImageFormats.Validate([]));
        Assert.Null(ImageFormats.Validate(["jpeg", "webp", "Gif"]));
        Assert.Null(ImageFormats.Validate(null));
    }

    [Fact]
    public void WorstBytesPerPixel_OfTheDefaultFormats_IsJpegOrWebpTurned()
    {
        // RGB24 + the decoder's working memory + the request's planes (8) + a turned copy.
        Assert.Equal(3 + 8 + 8 + 3, ImageFormats.WorstBytesPerPixel(null, transposed: true));
        Assert.Equal(3 + 0 + 8, ImageFormats.WorstBytesPerPixel(["PNG"], transposed: false));
        Assert.Equal(3 + 1 + 8, ImageFormats.WorstBytesPerPixel(["GIF", "PNG"], transposed: false));
    }

    private static async Task<ImageRejectedException> RejectedAsync(ImageDecoder decoder, byte[] bytes) =>
        await Assert.ThrowsAsync<ImageRejectedException>(async () => (await decoder.DecodeAsync(bytes, TestContext.Current.CancellationToken)).Dispose());

    private static byte[] Jpeg(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }

    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(200, 30, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }
}
