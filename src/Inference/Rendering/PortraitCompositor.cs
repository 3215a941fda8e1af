using SegServe.Inference.Memory;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Inference.Rendering;

/// <summary>What portrait mode does with the background.</summary>
public enum PortraitEffect
{
    /// <summary>Blur the background; keep the foreground sharp.</summary>
    Blur,

    /// <summary>Cut the foreground out: RGBA with the foreground probability as alpha.</summary>
    Cutout,

    /// <summary>Replace the background by a flat colour.</summary>
    Replace,
}

/// <summary>
/// Portrait mode: the photo composited over a new background with the foreground probability as alpha
/// (<c>out = α·photo + (1 − α)·background</c>), so the edge is feathered where the model is unsure rather than cut
/// hard. Where α is 1 the photo's pixels come through unchanged.
/// </summary>
public static class PortraitCompositor
{
    /// <summary>The smallest blurred image, in pixels on its shorter side, that the blur works on.</summary>
    private const int MinimumWorkingSize = 32;

    /// <summary>The largest standard deviation, in pixels of the image the taps run on, that a blur runs with.</summary>
    private const float ReducedSigma = 2f;

    /// <summary>
    /// The default blur radius for an image: 2% of its shorter side, at least 2 pixels — strong enough to read as
    /// portrait mode at any resolution.
    /// </summary>
    public static float DefaultBlurRadius(int width, int height) => MathF.Max(2f, MathF.Round(Math.Min(width, height) * 0.02f));

    /// <summary>
    /// Blurs the background of <paramref name="image"/> in place with a Gaussian of standard deviation
    /// <paramref name="radius"/> pixels (as CSS <c>blur()</c>), keeping the foreground sharp.
    /// </summary>
    /// <remarks>
    /// The background is blurred as a premultiplied layer whose alpha is the background probability, so the person's
    /// colours do not bleed into the blurred background as a halo (a normalised, masked blur). Large radii are
    /// blurred on a reduced copy — a Gaussian of σ on an image reduced k times, enlarged again, is close to a Gaussian
    /// of kσ on the original, at a k²-th of the cost — with k chosen so that the σ the taps run with is at most
    /// <see cref="ReducedSigma"/> (and more than half of it). So the blur's cost per pixel does not grow with the radius:
    /// a Gaussian's taps grow with σ, and σ never exceeds <see cref="ReducedSigma"/> where the taps run (a 40 MP photo at
    /// radius 7.99 took 7 s when the switch was at 8 px and the reduced σ 4 or more).
    /// </remarks>
    public static void BlurBackground(Image<Rgb24> image, Plane<byte> mask, float radius)
    {
        CheckSizes(image, mask);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(radius);
        int width = image.Width;
        int height = image.Height;

        using var background = new Image<Rgba32>(width, height);
        image.ProcessPixelRows(background, (photo, layer) =>
        {
            for (int y = 0; y < photo.Height; y++)
            {
                ReadOnlySpan<Rgb24> source = photo.GetRowSpan(y);
                Span<Rgba32> destination = layer.GetRowSpan(y);
                ReadOnlySpan<byte> alpha = mask.Row(y);
                for (int x = 0; x < source.Length; x++)
                {
                    Rgb24 p = source[x];
                    destination[x] = new Rgba32(p.R, p.G, p.B, (byte)(255 - alpha[x]));
                }
            }
        });

        int factor = ReductionFactor(radius, width, height);
        if (factor > 1)
        {
            var reduced = new Size(Math.Max(1, width / factor), Math.Max(1, height / factor));
            float sigma = radius * reduced.Width / width;
            background.Mutate(context => context
                .Resize(new ResizeOptions { Size = reduced, Sampler = KnownResamplers.Box, Mode = ResizeMode.Stretch })
                .GaussianBlur(sigma)
                .Resize(new ResizeOptions { Size = new Size(width, height), Sampler = KnownResamplers.Triangle, Mode = ResizeMode.Stretch }));
        }
        else
        {
            background.Mutate(context => context.GaussianBlur(radius));
        }

        image.ProcessPixelRows(background, (photo, layer) =>
        {
            for (int y = 0; y < photo.Height; y++)
            {
                Span<Rgb24> destination = photo.GetRowSpan(y);
                ReadOnlySpan<Rgba32> blurred = layer.GetRowSpan(y);
                ReadOnlySpan<byte> alpha = mask.Row(y);
                for (int x = 0; x < destination.Length; x++)
                {
                    int a = alpha[x];
                    if (a == 255)
                    {
                        continue;
                    }

                    Rgba32 b = blurred[x];
                    ref Rgb24 p = ref destination[x];
                    p.R = Blend(p.R, b.R, a);
                    p.G = Blend(p.G, b.G, a);
                    p.B = Blend(p.B, b.B, a);
                }
            }
        });
    }

    /// <summary>
    /// How many times the background is reduced before a blur of <paramref name="radius"/>: enough that the σ the taps
    /// run with is at most <see cref="ReducedSigma"/>, but never below <see cref="MinimumWorkingSize"/> pixels.
    /// </summary>
    internal static int ReductionFactor(float radius, int width, int height) =>
        Math.Max(1, Math.Min((int)MathF.Ceiling(radius / ReducedSigma), Math.Min(width, height) / MinimumWorkingSize));

    /// <summary>Replaces the background of <paramref name="image"/> in place by <paramref name="color"/>.</summary>
    public static void ReplaceBackground(Image<Rgb24> image, Plane<byte> mask, Rgb24 color)
    {
        CheckSizes(image, mask);
        image.ProcessPixelRows(photo =>
        {
            for (int y = 0; y < photo.Height; y++)
            {
                Span<Rgb24> row = photo.GetRowSpan(y);
                ReadOnlySpan<byte> alpha = mask.Row(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int a = alpha[x];
                    ref Rgb24 p = ref row[x];
                    p.R = Blend(p.R, color.R, a);
                    p.G = Blend(p.G, color.G, a);
                    p.B = Blend(p.B, color.B, a);
                }
            }
        });
    }

    /// <summary>The foreground cut out: the photo's colours with the foreground probability as alpha.</summary>
    public static Image<Rgba32> Cutout(Image<Rgb24> image, Plane<byte> mask)
    {
        CheckSizes(image, mask);
        var cutout = new Image<Rgba32>(image.Width, image.Height);
        image.ProcessPixelRows(cutout, (photo, result) =>
        {
            for (int y = 0; y < photo.Height; y++)
            {
                ReadOnlySpan<Rgb24> source = photo.GetRowSpan(y);
                Span<Rgba32> destination = result.GetRowSpan(y);
                ReadOnlySpan<byte> alpha = mask.Row(y);
                for (int x = 0; x < source.Length; x++)
                {
                    Rgb24 p = source[x];
                    destination[x] = new Rgba32(p.R, p.G, p.B, alpha[x]);
                }
            }
        });
        return cutout;
    }

    /// <summary><c>(α·p + (255 − α)·b) / 255</c>, rounded; exact <c>p</c> at α = 255 and exact <c>b</c> at α = 0.</summary>
    private static byte Blend(byte p, byte b, int alpha) => (byte)(((p * alpha) + (b * (255 - alpha)) + 127) / 255);

    private static void CheckSizes(Image image, Plane<byte> mask)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(mask);
        if (image.Width != mask.Width || image.Height != mask.Height)
        {
            throw new ArgumentException($"The image is {image.Width}×{image.Height} but the mask is {mask.Width}×{mask.Height}.", nameof(mask));
        }
    }
}
