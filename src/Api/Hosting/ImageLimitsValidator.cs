using Microsoft.Extensions.Options;
using SegServe.Inference;
using SegServe.Inference.Imaging;

namespace SegServe.Api.Hosting;

/// <summary>
/// The image settings that depend on each other or name things: <c>Inference:Images:Formats</c> lists only formats the
/// service reads, and <c>MaxDecodedBytesInFlight</c> holds at least one image of <c>MaxPixels</c> at the worst case of
/// the accepted decoders (otherwise the largest images allowed could never be decoded).
/// </summary>
internal sealed class ImageLimitsValidator : IValidateOptions<InferenceOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ImageLimits images = options.Images;
        if (ImageFormats.Validate(images.Formats) is string error)
        {
            return ValidateOptionsResult.Fail(error);
        }

        long worst = images.MaxPixels > long.MaxValue / 16
            ? long.MaxValue
            : images.MaxPixels * ImageFormats.WorstBytesPerPixel(images.Formats, transposed: true);
        return worst > images.MaxDecodedBytesInFlight
            ? ValidateOptionsResult.Fail(
                $"Inference:Images:MaxDecodedBytesInFlight ({images.MaxDecodedBytesInFlight}) is less than one image of MaxPixels "
                + $"({images.MaxPixels}) needs to decode at the accepted formats' worst case ({worst} bytes): raise it, or lower MaxPixels.")
            : ValidateOptionsResult.Success;
    }
}
