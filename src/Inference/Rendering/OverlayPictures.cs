using SegServe.Inference.Encoding;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>How the class-colour overlay is drawn.</summary>
/// <param name="Alpha">Opacity of the class colours, 0–1.</param>
/// <param name="Outline">Outline class boundaries in white.</param>
/// <param name="Legend">Draw a legend of the classes present.</param>
public sealed record ClassOverlayOptions(float Alpha = 0.5f, bool Outline = false, bool Legend = false);

/// <summary>
/// Where a result becomes a picture: drawn over the request's own decoded photo (in place — it is not needed after)
/// and encoded. Drawing is timed as post-processing, encoding as encoding.
/// </summary>
public static class OverlayPictures
{
    private static readonly Rgb24 s_outline = new(255, 255, 255);

    /// <summary>The photo with each class's colour blended in (the background class left untinted).</summary>
    public static byte[] ClassColours(SemanticSegmentation result, SegmentationModel model, ClassOverlayOptions options, PictureFormat format)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        result.Timer.Restart();
        var overlay = new OverlayOptions(options.Alpha, options.Outline, options.Legend, s_outline);
        OverlayRenderer.Render(result.Image.Image, result.Map, new ClassPalette(model.Manifest!.Classes), model.ClassNames, overlay);
        result.Timer.EndPostprocess();
        byte[] picture = PictureEncoder.Encode(result.Image.Image, format);
        result.Timer.EndEncode();
        return picture;
    }

    /// <summary>Portrait mode: the background blurred or replaced, or the foreground cut out (always PNG, with alpha).</summary>
    public static byte[] Portrait(SemanticSegmentation result, PortraitOptions options, PictureFormat format)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var mask = result.Foreground ?? throw new InvalidOperationException("The pipeline did not compute the foreground probability.");
        Image<Rgb24> image = result.Image.Image;
        result.Timer.Restart();
        byte[] picture;
        if (options.Effect == PortraitEffect.Cutout)
        {
            using Image<Rgba32> cutout = PortraitCompositor.Cutout(image, mask);
            result.Timer.EndPostprocess();
            picture = PictureEncoder.EncodePng(cutout);
        }
        else
        {
            if (options.Effect == PortraitEffect.Blur)
            {
                PortraitCompositor.BlurBackground(image, mask, options.Radius ?? PortraitCompositor.DefaultBlurRadius(image.Width, image.Height));
            }
            else
            {
                PortraitCompositor.ReplaceBackground(image, mask, options.Background);
            }

            result.Timer.EndPostprocess();
            picture = PictureEncoder.Encode(image, format);
        }

        result.Timer.EndEncode();
        return picture;
    }

    /// <summary>The instances drawn over the photo: tinted masks with contours, boxes and "class score" labels.</summary>
    public static byte[] Instances(InstanceSegmentation result, SegmentationModel model, float alpha, PictureFormat format)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(model);
        result.Timer.Restart();
        InstanceOverlayRenderer.Render(result.Image.Image, result.Objects, model.ClassNames, alpha);
        result.Timer.EndPostprocess();
        byte[] picture = PictureEncoder.Encode(result.Image.Image, format);
        result.Timer.EndEncode();
        return picture;
    }
}
